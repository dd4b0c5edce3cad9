/* rr-dicom-deid-preview.cc: what de-identification changes in one file,
 * attribute by attribute, for the site's upload page to show before
 * anything is sent. The file is de-identified for real (into a temporary
 * folder) and both datasets are compared, so the preview is what the
 * upload sends, not a guess. */
#include "rr-dicom-deid.h"
#include "rr-dicom.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dctk.h>

#include <glib/gstdio.h>

#include <new>

/* Values longer than this are shown cut: a preview is read, not parsed. */
#define MAX_SHOWN 80
/* A crafted file may hold thousands of attributes; the page shows these. */
#define MAX_CHANGES 500

static char *
shown (DcmElement *e)
{
  OFString v;
  DcmEVR vr = e->ident ();
  if (vr == EVR_SQ)
    {
      unsigned long n = ((DcmSequenceOfItems *) e)->card ();
      return g_strdup_printf (n == 1 ? "(1 item)" : "(%lu items)", n);
    }
  if (vr == EVR_OB || vr == EVR_OW || vr == EVR_UN || vr == EVR_OF || vr == EVR_OD ||
      vr == EVR_OL || vr == EVR_OV || vr == EVR_pixelSQ)
    return g_strdup_printf ("(%lu bytes)", (unsigned long) e->getLength ());
  if (e->getLength () == 0)
    return g_strdup ("");
  if (e->getLength () > 4096 || e->getOFStringArray (v).bad ())
    return g_strdup_printf ("(%lu bytes)", (unsigned long) e->getLength ());
  {
    g_autofree char *valid = g_utf8_make_valid (v.c_str (), -1);
    if (g_utf8_strlen (valid, -1) > MAX_SHOWN)
      {
        g_autofree char *cut = g_utf8_substring (valid, 0, MAX_SHOWN);
        return g_strconcat (cut, "…", NULL);
      }
    return g_steal_pointer (&valid);
  }
}

static char *
name_of (const DcmTagKey &key)
{
  DcmTag tag (key);
  const char *name = tag.getTagName ();
  if (key.getGroup () & 1)
    return g_strdup ("Private attribute");
  return g_strdup (name && *name && g_strcmp0 (name, DcmTag_ERROR_TagName) != 0 ? name
                                                                                : "Unknown");
}

static void
add_change (GPtrArray *changes, const DcmTagKey &key, char *before, char *after)
{
  RrDeidChange *c;
  if (changes->len >= MAX_CHANGES)
    {
      g_free (before);
      g_free (after);
      return;
    }
  c = g_new0 (RrDeidChange, 1);
  c->tag = ((guint32) key.getGroup () << 16) | key.getElement ();
  c->name = name_of (key);
  c->before = before;
  c->after = after;
  g_ptr_array_add (changes, c);
}

void
rr_deid_change_free (gpointer change)
{
  RrDeidChange *c = (RrDeidChange *) change;
  if (c == NULL)
    return;
  g_free (c->name);
  g_free (c->before);
  g_free (c->after);
  g_free (c);
}

static GPtrArray *
compare (DcmDataset *in, DcmDataset *out)
{
  GPtrArray *changes = g_ptr_array_new_with_free_func (rr_deid_change_free);
  /* What changed or went, in the input's order... */
  for (unsigned long i = 0; i < in->card (); i++)
    {
      DcmElement *a = in->getElement (i);
      DcmElement *b = NULL;
      DcmTagKey key = a->getTag ().getXTag ();
      g_autofree char *before = NULL, *after = NULL;
      if (key == DCM_PixelData)
        continue;
      before = shown (a);
      if (out->findAndGetElement (key, b, OFFalse).bad () || b == NULL)
        {
          add_change (changes, key, g_steal_pointer (&before), NULL);
          continue;
        }
      after = shown (b);
      /* A sequence is changed when its items are: compared by their
       * bytes, as the items' own attributes are not listed one by one. */
      if (a->ident () == EVR_SQ)
        {
          DcmSequenceOfItems *sa = (DcmSequenceOfItems *) a, *sb = (DcmSequenceOfItems *) b;
          gboolean same = sa->card () == sb->card ();
          for (unsigned long k = 0; same && k < sa->card (); k++)
            {
              DcmItem *ia = sa->getItem (k), *ib = sb->getItem (k);
              same = ia->card () == ib->card ();
              for (unsigned long m = 0; same && m < ia->card (); m++)
                {
                  g_autofree char *va = shown (ia->getElement (m));
                  g_autofree char *vb = shown (ib->getElement (m));
                  same = ia->getElement (m)->getTag () == ib->getElement (m)->getTag () &&
                         g_strcmp0 (va, vb) == 0;
                }
            }
          if (same)
            continue;
          {
            char *marked = g_strdup_printf ("%s, changed", after);
            g_free (after);
            after = marked;
          }
        }
      else if (g_strcmp0 (before, after) == 0)
        continue;
      add_change (changes, key, g_steal_pointer (&before), g_steal_pointer (&after));
    }
  /* ...then what de-identification added. */
  for (unsigned long i = 0; i < out->card (); i++)
    {
      DcmElement *b = out->getElement (i);
      DcmElement *a = NULL;
      DcmTagKey key = b->getTag ().getXTag ();
      if (in->findAndGetElement (key, a, OFFalse).good () && a != NULL)
        continue;
      add_change (changes, key, NULL, shown (b));
    }
  return changes;
}

GPtrArray *
rr_deid_preview (RrDeid      *deid,
                 const char  *path,
                 GPtrArray   *warnings,
                 GError     **error)
{
  g_autofree char *tmp = g_dir_make_tmp ("readroom-preview-XXXXXX", error);
  g_autofree char *out_path = NULL;
  GPtrArray *changes = NULL;

  if (tmp == NULL)
    return NULL;
  out_path = rr_deid_file (deid, path, tmp, warnings, error);
  if (out_path != NULL)
    {
      try
        {
          DcmFileFormat a, b;
          if (a.loadFile (path, EXS_Unknown, EGL_noChange, 64 * 1024).bad () ||
              b.loadFile (out_path, EXS_Unknown, EGL_noChange, 64 * 1024).bad ())
            g_set_error (error, RR_DICOM_ERROR, RR_DICOM_ERROR_READ, "%s: cannot be read", path);
          else
            changes = compare (a.getDataset (), b.getDataset ());
        }
      catch (const std::bad_alloc &)
        {
          g_set_error (error, RR_DICOM_ERROR, RR_DICOM_ERROR_TOO_LARGE, "out of memory");
        }
      g_unlink (out_path);
    }
  g_rmdir (tmp);
  return changes;
}
