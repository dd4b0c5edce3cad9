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

/* Where private.dic is, while only the public dictionary is loaded. */
static char *private_path;
static GMutex private_lock;
static gint private_pending;

void
rr_deid_use_public_dictionary (void)
{
#ifdef DCM_DICT_DEFAULT_PATH
  /* The user's choice of dictionaries is theirs. */
  if (g_getenv ("DCMDICTPATH") != NULL || private_path != NULL)
    return;
  g_auto (GStrv) parts = g_strsplit (DCM_DICT_DEFAULT_PATH, G_SEARCHPATH_SEPARATOR_S, -1);
  g_autoptr (GString) pub = g_string_new (NULL);
  g_autofree char *priv = NULL;
  for (guint i = 0; parts[i] != NULL; i++)
    {
      g_autofree char *base = g_path_get_basename (parts[i]);
      if (priv == NULL && g_str_equal (base, "private.dic"))
        priv = g_strdup (parts[i]);
      else if (parts[i][0] != '\0')
        g_string_append_printf (pub, "%s%s", pub->len ? G_SEARCHPATH_SEPARATOR_S : "",
                                parts[i]);
    }
  if (priv == NULL || pub->len == 0)
    return;
  /* dcmtk reads DCMDICTPATH when the dictionary is first used, which
   * rr_dicom_init does; no thread runs yet. Unset again so that nothing
   * this process starts inherits it. */
  g_setenv ("DCMDICTPATH", pub->str, TRUE);
  rr_dicom_init ();
  g_unsetenv ("DCMDICTPATH");
  private_path = g_steal_pointer (&priv);
  g_atomic_int_set (&private_pending, 1);
#endif
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
      g_atomic_int_set (&private_pending, 0);
    }
  g_mutex_unlock (&private_lock);
}
