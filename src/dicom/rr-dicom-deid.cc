/* rr-dicom-deid.cc: PS3.15 Annex E de-identification over dcmtk's dataset
 * API: the actions of Table E.1-1 (rr-dicom-deid-table.c) in every item. */
#include "rr-dicom-deid.h"
#include "rr-dicom-deid-table.h"
#include "rr-dicom-deid-private.h"
#include "rr-dicom-private.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dctk.h>
#include <dcmtk/dcmdata/dcostrmb.h>
#include <dcmtk/dcmdata/dcwcache.h>

#include <glib/gstdio.h>

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <string.h>
#include <sys/stat.h>
#include <algorithm>
#include <memory>
#include <new>
#include <string>
#include <unordered_set>
#include <vector>

/* Sequences nested deeper than this are not real data. */
#define MAX_DEPTH 32
/* Text values longer than this are removed rather than cleaned. */
#define MAX_CLEAN_BYTES ((gsize) 1 << 20)
/* Identifying values remembered per file for cleaning descriptors. */
#define MAX_TOKENS 4096
/* Tokens shorter than this (initials, "DR") would blank ordinary words. */
#define MIN_TOKEN 3
/* dcmtk's lengths are 32-bit; bigger files are not DICOM we can write. */
#define MAX_FILE_BYTES ((goffset) G_MAXUINT32)
/* A header bigger than this is written by dcmtk straight to the file
 * rather than built in memory first. */
#define MAX_HEADER_BYTES ((goffset) 64 << 20)

/* Dates move back by at least a year and at most ten. */
#define SHIFT_MIN_DAYS 365
#define SHIFT_MAX_DAYS 3652

typedef enum
{
  ACT_KEEP,
  ACT_REMOVE,
  ACT_EMPTY,
  ACT_REMOVE_OR_EMPTY,  /* X/Z */
  ACT_DUMMY,
  ACT_UID,
  ACT_CLEAN,
} Act;

/* What a sequence's action asks of the items under it, for the elements
 * that no row names: nothing, Clean (C on the sequence) or a dummy (D on
 * the sequence: an institution's code is the institution). */
typedef enum
{
  MODE_NORMAL,
  MODE_CLEAN,
  MODE_DUMMY,
} Mode;

struct _RrDeid
{
  guint8 *key;
  gsize key_len;
  char *subject;
  gboolean retain_dates;
  int shift_days;
  Act *acts;            /* per rr_deid_rules row, options resolved */
  Act *local_acts;
  GMutex lock;
  GHashTable *uids;     /* old UID -> new UID */
  GPtrArray *pool;      /* identifying values learnt from every file */
  GHashTable *pool_seen; /* the same, lowercased */
};

/* ---- the table ---- */

static gboolean
has_action (const char *s, char a)
{
  return s != NULL && strchr (s, a) != NULL;
}

/* Rows whose Basic Profile action lets Z stand in for D ("Z/D", "X/Z/D")
 * although the attribute is Type 1 in some IOD, where only D keeps the IOD
 * valid (PS3.15 E.1-1: "Z unless D is required to maintain IOD
 * conformance"): Content Date and Time in the Multi-frame Functional Groups
 * Module, Device Serial Number in the Enhanced General Equipment Module,
 * Referenced Performed Procedure Step Sequence (1C) in the Enhanced Series
 * Module, whose items keep their mapped UIDs. */
static gboolean
dummy_required (guint32 tag)
{
  return tag == 0x00080023 || tag == 0x00080033 || tag == 0x00081111 || tag == 0x00181000;
}

/* An option's action, when the option is on and says something, supersedes
 * the Basic Profile's (PS3.15 E.3). Where two options disagree (K and C),
 * cleaning wins: it keeps the value and still takes identifiers out. Among
 * the Basic Profile's alternatives Readroom takes the one that keeps every
 * IOD valid without knowing the attribute's type: Z where the row allows
 * it (an empty value is valid for Type 2 and 3 and says nothing, where a
 * dummy such as a made-up institution looks like a value to anyone who
 * checks the output), D where the row allows only D or X besides, or where
 * the attribute is Type 1 somewhere (dummy_required), Z over X, and U*
 * (keep the sequence, replace its UIDs) so that references stay whole. */
static Act
resolve (const RrDeidRule *r, gboolean retain_dates)
{
  const char *opts[3] = { r->rpc, retain_dates ? r->rlmd : NULL, r->cd };
  gboolean any = FALSE, clean = FALSE;
  for (int i = 0; i < 3; i++)
    if (opts[i] != NULL)
      {
        any = TRUE;
        clean |= has_action (opts[i], 'C');
      }
  if (any)
    return clean ? ACT_CLEAN : ACT_KEEP;
  if (has_action (r->basic, 'U'))
    return ACT_UID;
  if (has_action (r->basic, 'D') && (!has_action (r->basic, 'Z') || dummy_required (r->tag)))
    return ACT_DUMMY;
  if (has_action (r->basic, 'Z'))
    return has_action (r->basic, 'X') ? ACT_REMOVE_OR_EMPTY : ACT_EMPTY;
  if (has_action (r->basic, 'X'))
    return ACT_REMOVE;
  return ACT_KEEP;
}

/* The action for @tag, or -1 when no row names it. */
static int
lookup_act (const RrDeid *d, guint32 tag)
{
  gssize i = rr_deid_rule_index (tag);
  if (i >= 0)
    return d->acts[i];
  i = rr_deid_local_rule_index (tag);
  return i >= 0 ? d->local_acts[i] : -1;
}

/* UIDs that name classes, syntaxes and coding schemes rather than
 * instances: never identifying, and replacing them would break the file. */
static gboolean
is_class_uid_tag (guint32 tag)
{
  static const guint32 tags[] = {
    0x00020002, 0x00020010, 0x00020012, /* meta: class, syntax, implementation */
    0x00041510, 0x00041512,             /* DICOMDIR referenced class, syntax */
    0x00080016, 0x0008001A, 0x0008001B, /* SOP Class, related, original class */
    0x00080062, 0x0008010C, 0x00080118, /* classes in study, coding scheme, mapping */
    0x00081150, 0x0008114A,             /* referenced SOP class, instance type */
    0x0018100B,                         /* manufacturer's device class */
    0x04000010,                         /* MAC calculation transfer syntax */
  };
  for (guint i = 0; i < G_N_ELEMENTS (tags); i++)
    if (tags[i] == tag)
      return TRUE;
  return FALSE;
}

/* Sequences whose X/Z becomes Z: Type 2 in the IODs that carry them (an
 * empty Type 3 sequence is invalid, a missing Type 2 one too). */
static gboolean
is_type2_sequence (guint32 tag)
{
  return tag == 0x00400555; /* Acquisition Context Sequence */
}

/* ---- keys, UIDs and dates ---- */

static void
hmac (const RrDeid *d, const void *data, gsize len, guint8 out[32])
{
  GHmac *h = g_hmac_new (G_CHECKSUM_SHA256, d->key, d->key_len);
  gsize n = 32;
  g_hmac_update (h, (const guchar *) data, len);
  g_hmac_get_digest (h, out, &n);
  g_hmac_unref (h);
}

/* A UUID (RFC 9562 version 8: the bits our own hash chose) from the first
 * 16 bytes of HMAC(key, subject ID NUL old UID), written as the 2.25 UID of
 * PS3.5 B.2: "2.25." and at most 39 digits, 44 characters in all. The
 * subject is in it so that one source study sent under two subjects (a
 * site's wrong first choice, then the right one) gives two studies, not
 * the same UIDs under two patients that the server must refuse; within a
 * subject every run still gives the same UIDs, so references stay whole
 * and an upload resumes. */
static char *
derive_uid (const RrDeid *d, const char *uid)
{
  guint8 mac[32];
  std::string msg = std::string (d->subject) + '\0' + uid;
  hmac (d, msg.data (), msg.size (), mac);
  mac[6] = (guint8) ((mac[6] & 0x0F) | 0x80);
  mac[8] = (guint8) ((mac[8] & 0x3F) | 0x80);
  unsigned __int128 v = 0;
  for (int i = 0; i < 16; i++)
    v = (v << 8) | mac[i];
  char digits[48];
  int n = 0;
  do
    {
      digits[n++] = (char) ('0' + (int) (v % 10));
      v /= 10;
    }
  while (v != 0);
  GString *s = g_string_new ("2.25.");
  while (n > 0)
    g_string_append_c (s, digits[--n]);
  return g_string_free (s, FALSE);
}

extern "C" char *
rr_deid_map_uid (RrDeid     *deid,
                 const char *uid)
{
  g_mutex_lock (&deid->lock);
  const char *known = (const char *) g_hash_table_lookup (deid->uids, uid);
  char *out = known ? g_strdup (known) : NULL;
  g_mutex_unlock (&deid->lock);
  if (out)
    return out;
  out = derive_uid (deid, uid);
  g_mutex_lock (&deid->lock);
  if (!g_hash_table_contains (deid->uids, uid))
    g_hash_table_insert (deid->uids, g_strdup (uid), g_strdup (out));
  g_mutex_unlock (&deid->lock);
  return out;
}

extern "C" int
rr_deid_date_shift_days (RrDeid *deid)
{
  return deid->shift_days;
}

extern "C" guint
rr_deid_n_uids (RrDeid *deid)
{
  g_mutex_lock (&deid->lock);
  guint n = g_hash_table_size (deid->uids);
  g_mutex_unlock (&deid->lock);
  return n;
}

/* Shifts "YYYY", "YYYYMM" or "YYYYMMDD" at the start of @s (a DA, or the
 * date part of a DT) by @days, keeping its precision and whatever follows. */
static gboolean
shift_date_prefix (std::string &s, int days)
{
  gsize p = 0;
  while (p < s.size () && p < 8 && g_ascii_isdigit (s[p]))
    p++;
  if (p != 4 && p != 6 && p != 8)
    return FALSE;
  int y = atoi (s.substr (0, 4).c_str ());
  int m = p >= 6 ? atoi (s.substr (4, 2).c_str ()) : 1;
  int dd = p >= 8 ? atoi (s.substr (6, 2).c_str ()) : 1;
  if (!g_date_valid_dmy ((GDateDay) dd, (GDateMonth) m, (GDateYear) y))
    return FALSE;
  GDate date;
  g_date_clear (&date, 1);
  g_date_set_dmy (&date, (GDateDay) dd, (GDateMonth) m, (GDateYear) y);
  /* GDate ends at year 1 and DICOM dates at 9999. */
  if ((days < 0 && g_date_get_julian (&date) <= (guint32) -days) ||
      (days > 0 && y + days / 365 + 1 > 9999))
    return FALSE;
  if (days < 0)
    g_date_subtract_days (&date, (guint) -days);
  else
    g_date_add_days (&date, (guint) days);
  char buf[16];
  g_snprintf (buf, sizeof buf, "%04u%02u%02u", g_date_get_year (&date),
              (unsigned) g_date_get_month (&date), g_date_get_day (&date));
  s = std::string (buf, p) + s.substr (p);
  return TRUE;
}

/* Every value of a DA (ranges "A-B" included) or a DT (whose dash is
 * a UTC offset's sign in stored data, not a range). */
static gboolean
shift_dates (std::string &value, int days, gboolean is_da)
{
  std::string out;
  gsize start = 0;
  for (;;)
    {
      gsize end = value.find ('\\', start);
      std::string v = value.substr (start, end == std::string::npos ? std::string::npos
                                                                   : end - start);
      gsize dash = is_da ? v.find ('-') : std::string::npos;
      if (dash == std::string::npos)
        {
          if (!v.empty () && !shift_date_prefix (v, days))
            return FALSE;
          out += v;
        }
      else
        {
          std::string a = v.substr (0, dash), b = v.substr (dash + 1);
          if ((!a.empty () && !shift_date_prefix (a, days)) ||
              (!b.empty () && !shift_date_prefix (b, days)))
            return FALSE;
          out += a + "-" + b;
        }
      if (end == std::string::npos)
        break;
      out += '\\';
      start = end + 1;
    }
  value = out;
  return TRUE;
}

/* ---- cleaning text ---- */

static gboolean
is_text_vr (DcmEVR vr)
{
  switch (vr)
    {
    case EVR_AE: case EVR_AS: case EVR_CS: case EVR_DA: case EVR_DS: case EVR_DT:
    case EVR_IS: case EVR_LO: case EVR_LT: case EVR_PN: case EVR_SH: case EVR_ST:
    case EVR_TM: case EVR_UC: case EVR_UI: case EVR_UR: case EVR_UT:
      return TRUE;
    default:
      return FALSE;
    }
}

static gboolean
is_word_char (char c)
{
  return g_ascii_isalnum (c) || (c & 0x80) != 0;
}

struct FileCtx
{
  RrDeid *deid;
  std::vector<std::string> tokens;   /* identifying values, longest first */
  std::unordered_set<std::string> seen; /* the same, lowercased */
  GError **error;
};

static std::string
lower (const std::string &s)
{
  std::string l = s;
  for (char &c : l)
    c = g_ascii_tolower (c);
  return l;
}

static void
add_token (FileCtx &f, std::string t)
{
  while (!t.empty () && (t.back () == ' ' || t.back () == '\0'))
    t.pop_back ();
  gsize s = 0;
  while (s < t.size () && t[s] == ' ')
    s++;
  t = t.substr (s);
  if (t.size () < MIN_TOKEN || f.tokens.size () >= MAX_TOKENS || !f.seen.insert (lower (t)).second)
    return;
  f.tokens.push_back (t);
}

/* A value's pieces that could name the patient or a place: the whole
 * value, each of its values, and for names each component and word. */
static void
add_tokens_of (FileCtx &f, DcmEVR vr, const OFString &value)
{
  std::string v (value.c_str (), value.length ());
  add_token (f, v);
  const char *seps = vr == EVR_PN ? "\\^= ," : "\\";
  gsize start = 0;
  for (gsize i = 0; i <= v.size (); i++)
    if (i == v.size () || strchr (seps, v[i]) != NULL)
      {
        if (i > start)
          add_token (f, v.substr (start, i - start));
        start = i + 1;
      }
}

/* Blanks every identifying value of this file that stands as a word of
 * @v (case-insensitive); the rest of the descriptor stays. */
static std::string
scrub (const FileCtx &f, const std::string &v)
{
  std::string out = v;
  for (const std::string &t : f.tokens)
    {
      gsize pos = 0;
      while (pos + t.size () <= out.size ())
        {
          if (g_ascii_strncasecmp (out.c_str () + pos, t.c_str (), t.size ()) == 0 &&
              (pos == 0 || !is_word_char (out[pos - 1])) &&
              (pos + t.size () == out.size () || !is_word_char (out[pos + t.size ()])))
            {
              out.erase (pos, t.size ());
              continue;
            }
          pos++;
        }
    }
  /* What blanking leaves at the ends is noise. */
  gsize a = 0, b = out.size ();
  while (a < b && (out[a] == ' ' || out[a] == ',' || out[a] == '^'))
    a++;
  while (b > a && (out[b - 1] == ' ' || out[b - 1] == ','))
    b--;
  return out.substr (a, b - a);
}

static guint32
tag_of (DcmObject *o)
{
  const DcmTag &t = o->getTag ();
  return ((guint32) t.getGTag () << 16) | t.getETag ();
}

static gboolean
is_private (guint32 tag)
{
  return ((tag >> 16) & 1) != 0;
}

/* A public attribute that neither the table nor the data dictionary knows
 * (a newer one, or a tag a damaged file made up) cannot be judged: it goes.
 * Group lengths are rewritten by dcmtk. */
static gboolean
is_known (guint32 tag)
{
  if ((tag & 0xFFFF) == 0)
    return TRUE;
  /* Every file of a series asks about the same seventy or so tags, and
   * each question took the dictionary's lock, which the threads share (a
   * cache line going from core to core): the answers are kept per thread,
   * for as long as the dictionary stays as it is. */
  struct Slot
  {
    guint32 tag;
    guint32 generation; /* 0: empty */
    gboolean known;
  };
  static thread_local Slot cache[512];
  guint32 generation = rr_deid_dictionary_generation ();
  Slot &slot = cache[(tag * 2654435761u) >> 23];
  if (slot.generation == generation && slot.tag == tag)
    return slot.known;
  const DcmDataDictionary &dict = dcmDataDict.rdlock ();
  const DcmDictEntry *entry = dict.findEntry (DcmTagKey ((Uint16) (tag >> 16),
                                                         (Uint16) (tag & 0xFFFF)), NULL);
  dcmDataDict.rdunlock ();
  slot = Slot { tag, generation, entry != NULL };
  return entry != NULL;
}

static gboolean
fail (GError **error, RrDicomError code, const char *fmt, ...) G_GNUC_PRINTF (3, 4);

static gboolean
fail (GError **error, RrDicomError code, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  g_autofree char *msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  g_set_error_literal (error, RR_DICOM_ERROR, code, msg);
  return FALSE;
}

/* Remembers what the file says about the patient and the visit, from
 * every attribute the profile removes, empties or replaces. */
static gboolean
collect_tokens (FileCtx &f, DcmItem *item, int depth, gboolean all = FALSE)
{
  if (depth > MAX_DEPTH)
    return fail (f.error, RR_DICOM_ERROR_TOO_LARGE, "sequences nested deeper than %d",
                 MAX_DEPTH);
  for (DcmObject *o = item->nextInContainer (NULL); o != NULL; o = item->nextInContainer (o))
    {
      guint32 tag = tag_of (o);
      DcmEVR vr = o->ident ();
      if (vr == EVR_SQ)
        {
          DcmSequenceOfItems *sq = OFstatic_cast (DcmSequenceOfItems *, o);
          /* Every value under a D sequence is replaced: all of it counts. */
          gboolean sub = all || lookup_act (f.deid, tag) == ACT_DUMMY;
          for (unsigned long i = 0; i < sq->card (); i++)
            if (!collect_tokens (f, sq->getItem (i), depth + 1, sub))
              return FALSE;
          continue;
        }
      if (is_private (tag) || !is_text_vr (vr) || vr == EVR_UI)
        continue;
      int act = lookup_act (f.deid, tag);
      gboolean taken = act == ACT_REMOVE || act == ACT_EMPTY || act == ACT_REMOVE_OR_EMPTY ||
                       act == ACT_DUMMY;
      if (all && act < 0)
        taken = vr != EVR_CS && vr != EVR_AS && vr != EVR_DS && vr != EVR_IS && vr != EVR_UR;
      if (!taken)
        continue;
      DcmElement *e = OFstatic_cast (DcmElement *, o);
      if (e->getLength () > MAX_CLEAN_BYTES)
        continue;
      OFString value;
      if (e->getOFStringArray (value).good () && !value.empty ())
        add_tokens_of (f, vr, value);
    }
  return TRUE;
}

/* A short value (UIDs, codes) read only when its length says it is one:
 * a file may claim anything. */
static gboolean
short_string (DcmItem *item, const DcmTagKey &tag, OFString &value)
{
  DcmElement *e = NULL;
  value.clear ();
  if (item->findAndGetElement (tag, e, OFFalse).bad () || e == NULL || e->getLength () > 1024)
    return FALSE;
  return e->getOFStringArray (value).good ();
}

/* ---- the actions ---- */

static const char *
dummy_for (DcmEVR vr)
{
  switch (vr)
    {
    case EVR_DA: return "19000101";
    case EVR_TM: return "000000";
    case EVR_DT: return "19000101000000";
    case EVR_DS: case EVR_IS: return "0";
    case EVR_AS: return "000D";
    case EVR_UR: return NULL;
    default: return is_text_vr (vr) ? RR_QC_DEID_DUMMY_TEXT : NULL;
    }
}

static gboolean
put (DcmElement *e, const std::string &v, GError **error)
{
  OFCondition c = e->putOFStringArray (OFString (v.c_str (), v.size ()));
  if (c.bad ())
    return fail (error, RR_DICOM_ERROR_FORMAT, "(%04x,%04x): %s", e->getGTag (), e->getETag (),
                 c.text ());
  return TRUE;
}

/* Replaces every value of a UI element through the key. */
static gboolean
map_uids (FileCtx &f, DcmElement *e)
{
  OFString value;
  if (e->getOFStringArray (value).bad () || value.empty ())
    return TRUE;
  std::string in (value.c_str ()), out;
  gsize start = 0;
  for (;;)
    {
      gsize end = in.find ('\\', start);
      std::string one = in.substr (start, end == std::string::npos ? std::string::npos
                                                                   : end - start);
      while (!one.empty () && (one.back () == ' ' || one.back () == '\0'))
        one.pop_back ();
      if (!one.empty ())
        {
          g_autofree char *mapped = rr_deid_map_uid (f.deid, one.c_str ());
          out += mapped;
        }
      if (end == std::string::npos)
        break;
      out += '\\';
      start = end + 1;
    }
  return put (e, out, f.error);
}

static gboolean apply_item (FileCtx &f, DcmItem *item, Mode mode, int depth);

static gboolean
apply_sequence (FileCtx &f, DcmSequenceOfItems *sq, Mode mode, int depth)
{
  for (unsigned long i = 0; i < sq->card (); i++)
    if (!apply_item (f, sq->getItem (i), mode, depth + 1))
      return FALSE;
  return TRUE;
}

static gboolean
clean_text (FileCtx &f, DcmElement *e, gboolean *remove)
{
  OFString value;
  if (e->getLength () > MAX_CLEAN_BYTES)
    {
      *remove = TRUE;
      return TRUE;
    }
  if (e->getOFStringArray (value).bad () || value.empty ())
    return TRUE;
  std::string v (value.c_str (), value.length ());
  std::string s = scrub (f, v);
  /* A label that was all identifier still needs a value where it is
   * required (Type 1): the profile's dummy. */
  if (s.empty () && dummy_for (e->ident ()) != NULL)
    s = dummy_for (e->ident ());
  return s == v ? TRUE : put (e, s, f.error);
}

/* One element under its action; *remove asks the caller to take it out. */
static gboolean
apply_element (FileCtx &f, DcmObject *o, int act, Mode mode, int depth,
               gboolean *remove)
{
  guint32 tag = tag_of (o);
  DcmEVR vr = o->ident ();
  *remove = FALSE;

  if (vr == EVR_SQ)
    {
      DcmSequenceOfItems *sq = OFstatic_cast (DcmSequenceOfItems *, o);
      switch (act)
        {
        case ACT_REMOVE:
          *remove = TRUE;
          return TRUE;
        case ACT_REMOVE_OR_EMPTY:
          /* A sequence without items is valid only where it is Type 2. */
          if (!is_type2_sequence (tag))
            {
              *remove = TRUE;
              return TRUE;
            }
          sq->clear ();
          return TRUE;
        case ACT_EMPTY:
          sq->clear ();
          return TRUE;
        case ACT_CLEAN:
          return apply_sequence (f, sq, mode == MODE_DUMMY ? MODE_DUMMY : MODE_CLEAN, depth);
        case ACT_DUMMY:
          return apply_sequence (f, sq, MODE_DUMMY, depth);
        default:
          return apply_sequence (f, sq, mode, depth);
        }
    }

  DcmElement *e = OFstatic_cast (DcmElement *, o);
  gboolean text = is_text_vr (vr);

  /* A text value this long is no name, date or UID: what would have to be
   * read (to map, shift or clean it) is removed unread. */
  gboolean reads = act == ACT_UID || act == ACT_CLEAN || (act == ACT_DUMMY && vr == EVR_UI) ||
                   (act < 0 && (vr == EVR_UI || mode == MODE_CLEAN));
  if (text && reads && e->getLength () > MAX_CLEAN_BYTES)
    {
      *remove = TRUE;
      return TRUE;
    }

  if (act < 0)
    {
      /* Not in the table: instance UIDs are replaced wherever they are, so
       * that references the table does not name stay whole too. */
      if (vr == EVR_UI && !is_class_uid_tag (tag))
        {
          OFString value;
          if (e->getOFStringArray (value).good () && !value.empty () &&
              strncmp (value.c_str (), "1.2.840.10008.", 14) != 0)
            return map_uids (f, e);
          return TRUE;
        }
      if (text && mode == MODE_CLEAN)
        act = ACT_CLEAN;
      else if (text && mode == MODE_DUMMY)
        act = ACT_DUMMY;
      else
        act = ACT_KEEP;
    }

  switch (act)
    {
    case ACT_KEEP:
      return TRUE;
    case ACT_REMOVE:
      *remove = TRUE;
      return TRUE;
    case ACT_EMPTY:
    case ACT_REMOVE_OR_EMPTY:
      /* An empty value is valid for Type 2 and Type 3 alike. */
      e->clear ();
      return TRUE;
    case ACT_UID:
      if (vr == EVR_UI)
        return map_uids (f, e);
      /* A UID stored under another VR (UN from an implicit file whose tag
       * the dictionary lacks) cannot be mapped safely. */
      if (!text)
        {
          *remove = TRUE;
          return TRUE;
        }
      /* fall through */
    case ACT_DUMMY:
      {
        if (vr == EVR_UI)
          return map_uids (f, e);
        const char *dummy = dummy_for (vr);
        if (dummy == NULL)
          {
            e->clear ();
            return TRUE;
          }
        return put (e, dummy, f.error);
      }
    case ACT_CLEAN:
      if (vr == EVR_DA || vr == EVR_DT)
        {
          OFString value;
          if (!f.deid->retain_dates)
            return put (e, dummy_for (vr), f.error);
          if (e->getOFStringArray (value).bad () || value.empty ())
            return TRUE;
          std::string v (value.c_str (), value.length ());
          if (!shift_dates (v, f.deid->shift_days, vr == EVR_DA))
            {
              /* A date we cannot read is one we cannot shift: empty it. */
              e->clear ();
              return TRUE;
            }
          return put (e, v, f.error);
        }
      if (vr == EVR_TM)
        return TRUE;
      if (vr == EVR_UI)
        return map_uids (f, e);
      if (!text)
        {
          /* Binary values can't be cleaned, only dropped. */
          *remove = TRUE;
          return TRUE;
        }
      return clean_text (f, e, remove);
    default:
      return TRUE;
    }
}

static gboolean
apply_item (FileCtx &f, DcmItem *item, Mode mode, int depth)
{
  if (depth > MAX_DEPTH)
    return fail (f.error, RR_DICOM_ERROR_TOO_LARGE, "sequences nested deeper than %d",
                 MAX_DEPTH);
  DcmObject *o = item->nextInContainer (NULL);
  while (o != NULL)
    {
      DcmObject *next = item->nextInContainer (o);
      guint32 tag = tag_of (o);
      int act = lookup_act (f.deid, tag);
      gboolean remove = is_private (tag) || (act < 0 && !is_known (tag));
      if (!remove && !apply_element (f, o, act, mode, depth, &remove))
        return FALSE;
      if (remove)
        delete item->remove (o);
      o = next;
    }
  return TRUE;
}

/* ---- one file ---- */

static void
warning_add (GPtrArray *warnings, const char *path, const char *code, char *message)
{
  if (warnings == NULL)
    {
      g_free (message);
      return;
    }
  RrDeidWarning *w = g_new0 (RrDeidWarning, 1);
  w->path = g_strdup (path);
  w->code = g_strdup (code);
  w->message = message;
  g_ptr_array_add (warnings, w);
}

static void
check_burned_in (DcmDataset *ds, const char *path, GPtrArray *warnings)
{
  OFString bia, modality;
  short_string (ds, DCM_BurnedInAnnotation, bia);
  short_string (ds, DCM_Modality, modality);
  if (bia == "YES")
    warning_add (warnings, path, "burned_in_annotation",
                 g_strdup ("Burned In Annotation is YES: the pixels may show identifying "
                           "text, which de-identification does not remove"));
  else if (bia != "NO" && (modality == "US" || modality == "SC" || modality == "XC" ||
                           modality == "OT"))
    warning_add (warnings, path, "burned_in_likely",
                 g_strdup_printf ("modality %s often has text burned into the pixels and "
                                  "Burned In Annotation is not NO",
                                  modality.c_str ()));
}

static gboolean
mark_deidentified (RrDeid *d, DcmDataset *ds, GError **error)
{
  static const struct
  {
    const char *code, *meaning;
  } codes[] = {
    { "113100", "Basic Application Confidentiality Profile" },
    { "113105", "Clean Descriptors Option" },
    { "113108", "Retain Patient Characteristics Option" },
    { "113107", "Retain Longitudinal Temporal Information Modified Dates Option" },
  };
  guint n_codes = d->retain_dates ? 4 : 3;
  OFCondition c = ds->putAndInsertString (DCM_PatientName, d->subject);
  if (c.good ())
    c = ds->putAndInsertString (DCM_PatientID, d->subject);
  if (c.good ())
    c = ds->putAndInsertString (DCM_PatientIdentityRemoved, "YES");
  if (c.good ())
    {
      /* LO holds 64 characters a value: one value per profile or option. */
      std::string method = "DICOM PS3.15 Annex E (readroom-cli deid)";
      for (guint i = 0; i < n_codes; i++)
        method += std::string ("\\") + codes[i].meaning;
      c = ds->putAndInsertOFStringArray (DCM_DeidentificationMethod, method.c_str ());
    }
  if (c.good ())
    {
      delete ds->remove (DCM_DeidentificationMethodCodeSequence);
      for (guint i = 0; i < n_codes && c.good (); i++)
        {
          DcmItem *it = NULL;
          c = ds->findOrCreateSequenceItem (DCM_DeidentificationMethodCodeSequence, it, -2);
          if (c.good ())
            c = it->putAndInsertString (DCM_CodeValue, codes[i].code);
          if (c.good ())
            c = it->putAndInsertString (DCM_CodingSchemeDesignator, "DCM");
          if (c.good ())
            c = it->putAndInsertString (DCM_CodeMeaning, codes[i].meaning);
        }
    }
  if (c.good ())
    c = ds->putAndInsertString (DCM_LongitudinalTemporalInformationModified,
                                d->retain_dates ? "MODIFIED" : "REMOVED");
  if (c.bad ())
    return fail (error, RR_DICOM_ERROR_WRITE, "cannot mark the file de-identified (%s)",
                 c.text ());
  return TRUE;
}

/* Reads a file's header: values over 4 KiB (pixel data) stay on disk and
 * are copied from the input file as they are when the output is written.
 * @size gets the file's size. */
static DcmFileFormat *
load_header (const char *path, goffset *size, GError **error)
{
  GStatBuf st;
  if (g_stat (path, &st) != 0)
    {
      fail (error, RR_DICOM_ERROR_READ, "%s", g_strerror (errno));
      return NULL;
    }
  if (!S_ISREG (st.st_mode) || st.st_size < 8)
    {
      fail (error, RR_DICOM_ERROR_READ, "not a DICOM file (too small)");
      return NULL;
    }
  if ((goffset) st.st_size > MAX_FILE_BYTES)
    {
      fail (error, RR_DICOM_ERROR_TOO_LARGE, "file larger than 4 GiB");
      return NULL;
    }
  gboolean public_only = rr_deid_private_dictionary_pending ();
  std::unique_ptr<DcmFileFormat> ff (new DcmFileFormat ());
  OFCondition c = ff->loadFile (path, EXS_Unknown, EGL_noChange, 4096, ERM_autoDetect);
  /* Read without the private dictionary: again with it wherever it could
   * have made a difference, a file that did not parse included. */
  if (public_only && (c.bad () || rr_deid_needs_private_dictionary (ff.get ())))
    {
      rr_deid_load_private_dictionary ();
      ff.reset (new DcmFileFormat ());
      c = ff->loadFile (path, EXS_Unknown, EGL_noChange, 4096, ERM_autoDetect);
    }
  if (c.bad ())
    {
      fail (error, RR_DICOM_ERROR_READ, "not readable as DICOM (%s)", c.text ());
      return NULL;
    }
  *size = st.st_size;
  return ff.release ();
}

/* The header of a file, meta information and dataset without its Pixel
 * Data, encoded in memory so that it goes out in one write. */
static OFCondition
encode_header (DcmFileFormat &ff, E_TransferSyntax xfer, std::string &out)
{
  static const offile_off_t CHUNK = 1 << 17;
  std::unique_ptr<char[]> buf (new char[CHUNK]);
  DcmOutputBufferStream os (buf.get (), CHUNK);
  DcmWriteCache wcache;
  OFCondition c;
  void *p = NULL;
  offile_off_t n = 0;
  ff.transferInit ();
  for (;;)
    {
      c = ff.write (os, xfer, EET_ExplicitLength, &wcache, EGL_recalcGL, EPD_noChange, 0, 0,
                    0, EWM_createNewMeta);
      if (c != EC_StreamNotifyClient)
        break;
      os.flushBuffer (p, n);
      out.append ((const char *) p, (size_t) n);
    }
  ff.transferEnd ();
  if (c.good ())
    {
      os.flush ();
      os.flushBuffer (p, n);
      out.append ((const char *) p, (size_t) n);
    }
  return c;
}


/* De-identifies the file at @in_path whose header @ff_in holds (taken;
 * NULL: read it here) into @out_dir. */
static char *
deid_file (RrDeid *d, const char *in_path, DcmFileFormat *ff_in, goffset size,
           const char *out_dir, GPtrArray *warnings, GError **error)
{
  std::unique_ptr<DcmFileFormat> ff (ff_in);
  if (!ff)
    {
      ff.reset (load_header (in_path, &size, error));
      if (!ff)
        return NULL;
    }
  DcmDataset *ds = ff->getDataset ();
  E_TransferSyntax xfer = ds->getOriginalXfer ();
  OFString sop, cls;
  if (!short_string (ds, DCM_SOPInstanceUID, sop) || sop.empty () ||
      !short_string (ds, DCM_SOPClassUID, cls) || cls.empty ())
    {
      fail (error, RR_DICOM_ERROR_FORMAT,
            "not a DICOM instance (no SOP Instance or SOP Class UID; truncated?)");
      return NULL;
    }
  if (xfer == EXS_Unknown)
    {
      fail (error, RR_DICOM_ERROR_UNSUPPORTED, "unknown transfer syntax");
      return NULL;
    }

  check_burned_in (ds, in_path, warnings);

  FileCtx f;
  f.deid = d;
  f.error = error;
  if (!collect_tokens (f, ds, 0))
    return NULL;
  /* What the other files of the subject said counts too: a descriptor may
   * name what only another file's header holds. */
  g_mutex_lock (&d->lock);
  for (guint i = 0; i < d->pool->len; i++)
    add_token (f, (const char *) d->pool->pdata[i]);
  g_mutex_unlock (&d->lock);
  /* Longest first, so that a full name goes before its parts. */
  std::sort (f.tokens.begin (), f.tokens.end (),
             [] (const std::string &a, const std::string &b) { return a.size () > b.size (); });
  if (!apply_item (f, ds, MODE_NORMAL, 0) || !mark_deidentified (d, ds, error))
    return NULL;

  /* A SOP Instance UID stored as UN cannot be read as a UID, so it was
   * removed unmapped: the output would be no instance, named ".dcm" under
   * a random media storage UID, and two such files would overwrite each
   * other. */
  OFString new_sop;
  if (!short_string (ds, DCM_SOPInstanceUID, new_sop) || new_sop.empty ())
    {
      fail (error, RR_DICOM_ERROR_FORMAT,
            "SOP Instance UID not stored as a UI (UN?): it cannot be mapped");
      return NULL;
    }
  g_autofree char *name = g_strdup_printf ("%s.dcm", new_sop.c_str ());
  g_autofree char *out_path = g_build_filename (out_dir, name, NULL);
  g_autofree char *tmp_name = g_strdup_printf (".%s.%08x.tmp", name, g_random_int ());
  g_autofree char *tmp_path = g_build_filename (out_dir, tmp_name, NULL);

  /* The usual file ends with its pixels: the header is encoded in memory
   * and written at once, and the pixel element copied after it as it is,
   * in the kernel, without passing a series' pixels through memory. No
   * fsync: a de-identified folder is a copy made again from its source by
   * the same key, not data to keep through a power cut (docs/deid.md). */
  int in_fd = g_open (in_path, O_RDONLY | O_CLOEXEC, 0);
  goffset pixel_start = 0;
  gboolean raw = in_fd >= 0 && rr_deid_raw_pixel_tail (ds, xfer, in_fd, size, &pixel_start) &&
                 pixel_start <= MAX_HEADER_BYTES;
  const char *why = NULL;
  int e = 0;
  if (raw)
    {
      delete ds->remove (DCM_PixelData);
      /* A new file format around the same dataset: its meta information
       * and its preamble (128 zero bytes) are made anew, nothing of the
       * input's. */
      DcmFileFormat out (ff->getAndRemoveDataset (), OFFalse);
      std::string header;
      OFCondition c = encode_header (out, xfer, header);
      if (c.bad ())
        why = c.text ();
      else
        {
          int out_fd = g_open (tmp_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
          gboolean ok = out_fd >= 0 && rr_deid_write_with_pixels (in_fd, pixel_start, out_fd, header,
                                                           size - pixel_start);
          e = errno;
          if (out_fd >= 0 && close (out_fd) != 0 && ok)
            ok = FALSE, e = errno;
          if (!ok)
            why = e ? g_strerror (e) : "the pixel data could not be copied";
        }
    }
  else
    {
      DcmFileFormat out (ff->getAndRemoveDataset (), OFFalse);
      OFCondition c = out.saveFile (tmp_path, xfer, EET_ExplicitLength, EGL_recalcGL,
                                    EPD_noChange, 0, 0, EWM_createNewMeta);
      if (c.bad ())
        why = c.text ();
    }
  if (in_fd >= 0)
    close (in_fd);
  if (why != NULL)
    {
      g_unlink (tmp_path);
      fail (error, RR_DICOM_ERROR_WRITE, "cannot write %s (%s)", out_path, why);
      return NULL;
    }
  if (g_rename (tmp_path, out_path) != 0)
    {
      e = errno;
      g_unlink (tmp_path);
      fail (error, RR_DICOM_ERROR_WRITE, "cannot write %s (%s)", out_path, g_strerror (e));
      return NULL;
    }
  return g_steal_pointer (&out_path);
}

static void
learn_header (RrDeid *d, DcmFileFormat *ff)
{
  FileCtx f;
  f.deid = d;
  f.error = NULL;
  if (!collect_tokens (f, ff->getDataset (), 0))
    return;
  g_mutex_lock (&d->lock);
  for (const std::string &t : f.tokens)
    {
      if (d->pool->len >= MAX_TOKENS)
        break;
      std::string l = lower (t);
      if (!g_hash_table_contains (d->pool_seen, l.c_str ()))
        {
          g_hash_table_add (d->pool_seen, g_strdup (l.c_str ()));
          g_ptr_array_add (d->pool, g_strdup (t.c_str ()));
        }
    }
  g_mutex_unlock (&d->lock);
}

DcmFileFormat *
rr_deid_read_header (const char *path,
                     goffset    *size,
                     gsize      *bytes)
{
  rr_dicom_init ();
  try
    {
      std::unique_ptr<DcmFileFormat> ff (load_header (path, size, NULL));
      if (!ff)
        return NULL;
      /* What the header holds in memory is about its encoded size: the
       * file less the pixel values left on disk. */
      DcmElement *px = NULL;
      goffset left = 0;
      if (ff->getDataset ()->findAndGetElement (DCM_PixelData, px, OFFalse).good () &&
          px != NULL && !px->valueLoaded () && px->getLength () != DCM_UndefinedLength)
        left = px->getLength ();
      *bytes = (gsize) MAX (*size - left, 0);
      return ff.release ();
    }
  catch (...)
    {
      /* A file that cannot be read teaches nothing; rr_deid_file says why. */
      return NULL;
    }
}

void
rr_deid_learn_header (RrDeid        *deid,
                      DcmFileFormat *ff)
{
  try
    {
      learn_header (deid, ff);
    }
  catch (...)
    {
      /* Out of memory while learning: the file still gets the profile. */
    }
}

char *
rr_deid_file_header (RrDeid         *deid,
                     const char     *in_path,
                     DcmFileFormat  *ff,
                     goffset         size,
                     const char     *out_dir,
                     GPtrArray      *warnings,
                     GError        **error)
{
  rr_dicom_init ();
  try
    {
      return deid_file (deid, in_path, ff, size, out_dir, warnings, error);
    }
  catch (const std::bad_alloc &)
    {
      fail (error, RR_DICOM_ERROR_TOO_LARGE, "out of memory");
      return NULL;
    }
  catch (...)
    {
      fail (error, RR_DICOM_ERROR_READ, "unexpected error while de-identifying");
      return NULL;
    }
}

extern "C" void
rr_deid_learn (RrDeid     *deid,
               const char *path)
{
  goffset size = 0;
  gsize bytes = 0;
  std::unique_ptr<DcmFileFormat> ff (rr_deid_read_header (path, &size, &bytes));
  if (ff)
    rr_deid_learn_header (deid, ff.get ());
}

extern "C" char *
rr_deid_file (RrDeid       *deid,
              const char   *in_path,
              const char   *out_dir,
              GPtrArray    *warnings,
              GError      **error)
{
  return rr_deid_file_header (deid, in_path, NULL, 0, out_dir, warnings, error);
}

/* ---- the object ---- */

extern "C" RrDeid *
rr_deid_new (const guint8  *key,
             gsize          key_len,
             const char    *subject,
             gboolean       retain_dates,
             GError       **error)
{
  if (key_len < RR_DEID_MIN_KEY_BYTES)
    {
      fail (error, RR_DICOM_ERROR_FORMAT, "the key holds %" G_GSIZE_FORMAT
            " bytes; at least %d are needed", key_len, RR_DEID_MIN_KEY_BYTES);
      return NULL;
    }
  gsize n = subject ? strlen (subject) : 0;
  if (n == 0 || n > RR_DEID_MAX_SUBJECT)
    {
      fail (error, RR_DICOM_ERROR_FORMAT, "the subject ID must hold 1 to %d characters",
            RR_DEID_MAX_SUBJECT);
      return NULL;
    }
  /* It becomes a Patient ID (LO) and a Patient Name (PN): printable ASCII
   * without the value and component separators. */
  for (gsize i = 0; i < n; i++)
    if (!g_ascii_isprint (subject[i]) || subject[i] == '\\' || subject[i] == '^' ||
        subject[i] == '=')
      {
        fail (error, RR_DICOM_ERROR_FORMAT,
              "the subject ID may hold printable ASCII characters other than \\ ^ =");
        return NULL;
      }

  RrDeid *d = g_new0 (RrDeid, 1);
  d->key = (guint8 *) g_memdup2 (key, key_len);
  d->key_len = key_len;
  d->subject = g_strdup (subject);
  d->retain_dates = retain_dates;
  g_mutex_init (&d->lock);
  d->uids = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  d->pool = g_ptr_array_new_with_free_func (g_free);
  d->pool_seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  d->acts = g_new (Act, rr_deid_n_rules);
  for (gsize i = 0; i < rr_deid_n_rules; i++)
    d->acts[i] = resolve (&rr_deid_rules[i], retain_dates);
  d->local_acts = g_new (Act, rr_deid_n_local_rules);
  for (gsize i = 0; i < rr_deid_n_local_rules; i++)
    d->local_acts[i] = resolve (&rr_deid_local_rules[i], retain_dates);

  /* One offset per subject and key; a domain prefix keeps it apart from
   * the UID hashes. */
  std::string msg = std::string ("readroom-deid-date-shift") + '\0' + subject;
  guint8 mac[32];
  hmac (d, msg.data (), msg.size (), mac);
  guint64 h = 0;
  for (int i = 0; i < 8; i++)
    h = (h << 8) | mac[i];
  d->shift_days = -(int) (SHIFT_MIN_DAYS + h % (SHIFT_MAX_DAYS - SHIFT_MIN_DAYS + 1));
  return d;
}

extern "C" void
rr_deid_free (RrDeid *deid)
{
  if (deid == NULL)
    return;
  memset (deid->key, 0, deid->key_len);
  g_free (deid->key);
  g_free (deid->subject);
  g_free (deid->acts);
  g_free (deid->local_acts);
  g_hash_table_unref (deid->uids);
  g_ptr_array_unref (deid->pool);
  g_hash_table_unref (deid->pool_seen);
  g_mutex_clear (&deid->lock);
  g_free (deid);
}

extern "C" GBytes *
rr_deid_read_key (const char  *path,
                  GError     **error)
{
  GStatBuf st;
  if (g_stat (path, &st) != 0)
    {
      fail (error, RR_DICOM_ERROR_READ, "%s: %s", path, g_strerror (errno));
      return NULL;
    }
  if (!S_ISREG (st.st_mode) || st.st_size > RR_DEID_MAX_KEY_BYTES)
    {
      fail (error, RR_DICOM_ERROR_FORMAT, "%s: not a key file (a key is a file of %d to %d "
            "bytes)", path, RR_DEID_MIN_KEY_BYTES, RR_DEID_MAX_KEY_BYTES);
      return NULL;
    }
  char *data = NULL;
  gsize len = 0;
  g_autoptr (GError) e = NULL;
  if (!g_file_get_contents (path, &data, &len, &e))
    {
      fail (error, RR_DICOM_ERROR_READ, "%s: %s", path, e->message);
      return NULL;
    }
  if (len < RR_DEID_MIN_KEY_BYTES || len > RR_DEID_MAX_KEY_BYTES)
    {
      memset (data, 0, len);
      g_free (data);
      fail (error, RR_DICOM_ERROR_FORMAT, "%s: the key holds %" G_GSIZE_FORMAT
            " bytes; at least %d are needed", path, len, RR_DEID_MIN_KEY_BYTES);
      return NULL;
    }
  return g_bytes_new_take (data, len);
}
