/* rr-dicom-deid-dict.cc: `deid` starts with dcmtk's public data dictionary
 * alone. Parsing private.dic (176 KB of text) took a quarter of the CPU
 * time of de-identifying one file, and every private attribute is removed
 * anyway. The private dictionary can change how a header parses only in
 * private elements whose VR the file does not give (implicit VR, or UN):
 * for such a file it is loaded then and the file read again, so that what
 * is learned inside a private sequence (identifying values that Clean
 * Descriptors blanks) is the same as with the full dictionary. */
#include "rr-dicom-deid-private.h"
#include "rr-dicom.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dctk.h>

#include <string.h>
#include <vector>

/* Where private.dic is, while only the public dictionary is loaded. */
static char *private_path;
/* The text of the public dictionaries that their entries point into. */
static GPtrArray *public_texts;
static GMutex private_lock;
static gint private_pending;
static gint dictionary_generation = 1;

/* ---- reading dicom.dic without sscanf ----
 *
 * dcmtk's loadDictionary reads each line with sscanf (up to six calls a
 * field), copies every string and looks the VR up by name: two thirds of
 * the 7 to 10 ms that loading dicom.dic took, all of it before the first
 * file could be read. This reads the same file into one buffer that the
 * entries point into (kept for the life of the process, as the entries
 * are), with the rules of dcmtk 3.6's parser for the forms dicom.dic uses:
 * fields split at tabs, whitespace stripped, tags "(gggg,eeee)" with
 * ranges "xxxx-yyyy" (even by default) or "xxxx-r-yyyy" (o, e or u), VMs
 * "n", "2", "1-3", "1-n", "2-2n". Anything else (a private creator, a
 * malformed line, a long line, a line ending in a tab) makes the whole
 * file dcmtk's to read: the dictionary is then exactly what dcmtk makes
 * of it. */

/* dcmtk reads lines of at most this many bytes (DCM_MAXDICTLINESIZE). */
#define MAX_DICT_LINE 2048
/* dicom.dic is 251 KB; a file far bigger is not the one we know. */
#define MAX_DICT_BYTES ((gsize) 16 << 20)

/* dcmtk's whitespace: isspace () in the C locale, vertical tab included
 * (g_ascii_isspace leaves it out: "DICOM\v" stayed a version of its own). */
static gboolean
dict_space (char c)
{
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

static void
strip_all_space (char *s)
{
  char *p = s;
  for (char *t = s; *t != '\0'; t++)
    if (!dict_space (*t))
      *p++ = *t;
  *p = '\0';
}

static gboolean
parse_hex (const char *s, gsize n, guint16 *v)
{
  if (n == 0 || n > 4)
    return FALSE;
  guint x = 0;
  for (gsize i = 0; i < n; i++)
    {
      int d = g_ascii_xdigit_value (s[i]);
      if (d < 0)
        return FALSE;
      x = x << 4 | (guint) d;
    }
  *v = (guint16) x;
  return TRUE;
}

/* "xxxx", "xxxx-yyyy" or "xxxx-r-yyyy", whitespace already stripped. */
static gboolean
parse_tag_part (const char *s, guint16 *lo, guint16 *hi, DcmDictRangeRestriction *r)
{
  const char *dash = strchr (s, '-');
  *r = DcmDictRange_Unspecified;
  if (dash == NULL)
    return parse_hex (s, strlen (s), lo) && (*hi = *lo, TRUE);
  if (!parse_hex (s, (gsize) (dash - s), lo))
    return FALSE;
  const char *rest = dash + 1;
  if (rest[0] != '\0' && rest[1] == '-')
    {
      switch (rest[0])
        {
        case 'o': case 'O': *r = DcmDictRange_Odd; break;
        case 'e': case 'E': *r = DcmDictRange_Even; break;
        case 'u': case 'U': *r = DcmDictRange_Unspecified; break;
        default: return FALSE;
        }
      rest += 2;
    }
  else
    *r = DcmDictRange_Even;
  return parse_hex (rest, strlen (rest), hi);
}

/* "(gggg,eeee)" with ranges; no private creator. */
static gboolean
parse_tag_field (char *s, guint16 k[4], DcmDictRangeRestriction rr[2])
{
  while (dict_space (*s))
    s++;
  gsize n = strlen (s);
  while (n > 0 && dict_space (s[n - 1]))
    s[--n] = '\0';
  if (n < 5 || s[0] != '(' || s[n - 1] != ')' || strchr (s, '"') != NULL)
    return FALSE;
  s[n - 1] = '\0';
  char *comma = strchr (s + 1, ',');
  if (comma == NULL)
    return FALSE;
  *comma = '\0';
  char *g = s + 1, *e = comma + 1;
  strip_all_space (g);
  strip_all_space (e);
  return parse_tag_part (g, &k[0], &k[2], &rr[0]) && parse_tag_part (e, &k[1], &k[3], &rr[1]);
}

/* dcmtk's VM forms: "n" (1-n), "A", "A-B", "A-n", "An", "A-Bn" (A-n). */
static gboolean
parse_vm (char *s, int *lo, int *hi)
{
  strip_all_space (s);
  if ((s[0] == 'n' || s[0] == 'N') && s[1] == '\0')
    {
      *lo = 1;
      *hi = DcmVariableVM;
      return TRUE;
    }
  char *end = NULL;
  if (!g_ascii_isdigit (s[0]))
    return FALSE;
  long a = strtol (s, &end, 10);
  if (a > 9999)
    return FALSE;
  *lo = (int) a;
  if (*end == '\0')
    {
      *hi = *lo;
      return TRUE;
    }
  if ((*end == 'n' || *end == 'N') && end[1] == '\0')
    {
      *hi = DcmVariableVM;
      return TRUE;
    }
  if (*end != '-')
    return FALSE;
  end++;
  if ((*end == 'n' || *end == 'N') && end[1] == '\0')
    {
      *hi = DcmVariableVM;
      return TRUE;
    }
  if (!g_ascii_isdigit (*end))
    return FALSE;
  long b = strtol (end, &end, 10);
  if (b > 9999)
    return FALSE;
  if (*end == '\0')
    {
      *hi = (int) b;
      return TRUE;
    }
  if ((*end == 'n' || *end == 'N') && end[1] == '\0')
    {
      *hi = DcmVariableVM;
      return TRUE;
    }
  return FALSE;
}

gboolean
rr_deid_parse_dictionary (char                        *text,
                          std::vector<DcmDictEntry *> &entries)
{
  std::vector<DcmDictEntry *> out;
  gboolean ok = TRUE;
  for (char *line = text; ok && line != NULL && *line != '\0';)
    {
      char *nl = strchr (line, '\n');
      if (nl != NULL)
        *nl = '\0';
      char *next = nl != NULL ? nl + 1 : NULL;
      gsize len = strlen (line);
      if (len >= MAX_DICT_LINE - 1)
        {
          ok = FALSE;
          break;
        }
      /* A tab at the end of a line is a separator before an empty field
       * or whitespace, depending on how the reader strips it: dcmtk's
       * says which, so such a file is dcmtk's to read. */
      gboolean tab_at_end = FALSE;
      while (len > 0 && dict_space (line[len - 1]))
        {
          tab_at_end |= line[len - 1] == '\t';
          line[--len] = '\0';
        }
      char *first = line;
      while (dict_space (*first))
        first++;
      if (*first == '\0' || *first == '#')
        {
          line = next;
          continue;
        }
      if (tab_at_end)
        {
          ok = FALSE;
          break;
        }
      char *f[5];
      int nf = 0;
      for (char *p = line;;)
        {
          if (nf == 5)
            {
              ok = FALSE;
              break;
            }
          f[nf++] = p;
          char *tab = strchr (p, '\t');
          if (tab == NULL)
            break;
          *tab = '\0';
          p = tab + 1;
        }
      if (!ok || nf < 3)
        {
          ok = FALSE;
          break;
        }
      int vm_lo = 1, vm_hi = 1;
      const char *version = "DICOM";
      if (nf == 5)
        {
          strip_all_space (f[4]);
          version = f[4];
        }
      guint16 k[4];
      DcmDictRangeRestriction rr[2];
      if ((nf >= 4 && !parse_vm (f[3], &vm_lo, &vm_hi)) ||
          !parse_tag_field (f[0], k, rr))
        {
          ok = FALSE;
          break;
        }
      strip_all_space (f[1]);
      strip_all_space (f[2]);
      DcmVR vr;
      vr.setVR (f[1]);
      if (vr.getEVR () == EVR_UNKNOWN)
        {
          ok = FALSE;
          break;
        }
      /* Not copied: the strings live in @text, which outlives them. */
      DcmDictEntry *e = new DcmDictEntry (k[0], k[1], k[2], k[3], vr, f[2], vm_lo, vm_hi,
                                          version, OFFalse, NULL);
      e->setGroupRangeRestriction (rr[0]);
      e->setElementRangeRestriction (rr[1]);
      out.push_back (e);
      line = next;
    }
  if (!ok)
    {
      for (DcmDictEntry *e : out)
        delete e;
      return FALSE;
    }
  entries.insert (entries.end (), out.begin (), out.end ());
  return TRUE;
}

/* The public dictionaries' entries, read by rr_deid_parse_dictionary, or
 * FALSE when one of them is dcmtk's to read. */
static gboolean
read_public (GStrv paths, std::vector<DcmDictEntry *> &entries)
{
  for (guint i = 0; paths[i] != NULL; i++)
    {
      char *text = NULL;
      gsize len = 0;
      if (!g_file_get_contents (paths[i], &text, &len, NULL) || len > MAX_DICT_BYTES ||
          memchr (text, '\0', len) != NULL || !rr_deid_parse_dictionary (text, entries))
        {
          g_free (text);
          for (DcmDictEntry *e : entries)
            delete e;
          entries.clear ();
          return FALSE;
        }
      /* The entries point into it until the process ends. */
      if (public_texts == NULL)
        public_texts = g_ptr_array_new ();
      g_ptr_array_add (public_texts, text);
    }
  return TRUE;
}

void
rr_deid_use_public_dictionary (void)
{
#ifdef DCM_DICT_DEFAULT_PATH
  /* The user's choice of dictionaries is theirs. */
  if (g_getenv ("DCMDICTPATH") != NULL || private_path != NULL)
    return;
  g_auto (GStrv) parts = g_strsplit (DCM_DICT_DEFAULT_PATH, G_SEARCHPATH_SEPARATOR_S, -1);
  g_autoptr (GPtrArray) pub = g_ptr_array_new ();
  g_autofree char *priv = NULL;
  for (guint i = 0; parts[i] != NULL; i++)
    {
      g_autofree char *base = g_path_get_basename (parts[i]);
      if (priv == NULL && g_str_equal (base, "private.dic"))
        priv = g_strdup (parts[i]);
      else if (parts[i][0] != '\0')
        g_ptr_array_add (pub, parts[i]);
    }
  if (priv == NULL || pub->len == 0)
    return;
  g_ptr_array_add (pub, NULL);
  std::vector<DcmDictEntry *> entries;
  gboolean ours = read_public ((GStrv) pub->pdata, entries);
  g_autofree char *pub_path = g_strjoinv (G_SEARCHPATH_SEPARATOR_S, (GStrv) pub->pdata);
  /* dcmtk reads DCMDICTPATH when the dictionary is first used, which
   * rr_dicom_init does; no thread runs yet. With the entries read here it
   * reads an empty file (its skeleton entries stay), and they go in after
   * in the file's order, as its own reader would add them. Unset again so
   * that nothing this process starts inherits it. */
  g_setenv ("DCMDICTPATH", ours ? "/dev/null" : pub_path, TRUE);
  rr_dicom_init ();
  g_unsetenv ("DCMDICTPATH");
  if (ours)
    {
      DcmDataDictionary &dict = dcmDataDict.wrlock ();
      for (DcmDictEntry *e : entries)
        dict.addEntry (e);
      dcmDataDict.wrunlock ();
    }
  private_path = g_steal_pointer (&priv);
  g_atomic_int_set (&private_pending, 1);
#endif
}

guint32
rr_deid_dictionary_generation (void)
{
  return (guint32) g_atomic_int_get (&dictionary_generation);
}

gboolean
rr_deid_private_dictionary_pending (void)
{
  return g_atomic_int_get (&private_pending) != 0;
}

/* Whether any private element of @item (or its items) took its VR from
 * the dictionary: every one in an implicit VR dataset, UN ones anywhere. */
static gboolean
private_vr_from_dictionary (DcmItem *item,
                            gboolean implicit,
                            int      depth)
{
  if (depth > 64)
    return TRUE;
  for (DcmObject *o = item->nextInContainer (NULL); o != NULL; o = item->nextInContainer (o))
    {
      DcmEVR vr = o->ident ();
      if ((o->getGTag () & 1) != 0 &&
          (implicit || vr == EVR_UN || vr == EVR_UNKNOWN || vr == EVR_UNKNOWN2B))
        return TRUE;
      if (vr == EVR_SQ)
        {
          DcmSequenceOfItems *sq = OFstatic_cast (DcmSequenceOfItems *, o);
          for (unsigned long i = 0; i < sq->card (); i++)
            if (private_vr_from_dictionary (sq->getItem (i), implicit, depth + 1))
              return TRUE;
        }
    }
  return FALSE;
}

gboolean
rr_deid_needs_private_dictionary (DcmFileFormat *ff)
{
  DcmDataset *ds = ff->getDataset ();
  if (ds == NULL)
    return FALSE;
  return private_vr_from_dictionary (ds, DcmXfer (ds->getOriginalXfer ()).isImplicitVR (), 0);
}

void
rr_deid_load_private_dictionary (void)
{
  g_mutex_lock (&private_lock);
  if (g_atomic_int_get (&private_pending))
    {
      /* The dictionary's own lock keeps readers on other threads out
       * while the entries go in. */
      DcmDataDictionary &dict = dcmDataDict.wrlock ();
      if (!dict.loadDictionary (private_path, OFFalse))
        g_warning ("the private DICOM dictionary %s could not be loaded", private_path);
      dcmDataDict.wrunlock ();
      g_atomic_int_inc (&dictionary_generation);
      g_atomic_int_set (&private_pending, 0);
    }
  g_mutex_unlock (&private_lock);
}
