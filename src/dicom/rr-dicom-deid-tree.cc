/* rr-dicom-deid-tree.cc: de-identification of every file under a path
 * (rr_deid_tree): the walk, the two passes over the files, the result. */
#include "rr-dicom-deid.h"
#include "rr-dicom-deid-private.h"
#include "rr-dicom-private.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcdeftag.h>

#include <glib/gstdio.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <atomic>

/* Headers kept from the learning pass for the de-identification, so that
 * each is parsed once (parsing twice was a tenth of the run's CPU time):
 * about this much memory of them, the rest read again. dcmtk's objects for
 * a CT header of 1.6 KB took 18 KB: a header costs 4 KiB and 8 times its
 * encoded size. */
#define KEEP_HEADER_MEMORY ((gint64) 64 << 20)
#define HEADER_COST(bytes) (4096 + 8 * (gint64) (bytes))

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

static void
warning_free (gpointer p)
{
  RrDeidWarning *w = (RrDeidWarning *) p;
  g_free (w->path);
  g_free (w->code);
  g_free (w->message);
  g_free (w);
}

static void
failure_free (gpointer p)
{
  RrDeidFailure *x = (RrDeidFailure *) p;
  g_free (x->path);
  g_free (x->message);
  g_free (x);
}

static void
failure_add (GPtrArray *arr, const char *path, const char *message)
{
  RrDeidFailure *x = g_new0 (RrDeidFailure, 1);
  x->path = g_strdup (path);
  x->message = g_strdup (message);
  g_ptr_array_add (arr, x);
}

extern "C" void
rr_deid_result_free (RrDeidResult *result)
{
  if (result == NULL)
    return;
  g_ptr_array_unref (result->warnings);
  g_ptr_array_unref (result->failures);
  g_free (result);
}

struct Walk
{
  GPtrArray *files;
  GPtrArray *failures;
  dev_t out_dev;
  ino_t out_ino;
  guint max_files;  /* 0: no limit */
};

/* The output folder may sit inside the input: never read it back. */
static gboolean
tree_folder (const char *path, const GStatBuf *st, gpointer data)
{
  Walk *w = (Walk *) data;
  return !(st->st_dev == w->out_dev && st->st_ino == w->out_ino);
}

/* A DICOMDIR indexes the files beside it; it is not an instance and its
 * records name the patient, so it is neither read nor copied. */
static gboolean
tree_file (const char *path, gpointer data)
{
  Walk *w = (Walk *) data;
  g_autofree char *base = g_path_get_basename (path);
  if (g_ascii_strcasecmp (base, "DICOMDIR") != 0)
    {
      if (w->max_files > 0 && w->files->len >= w->max_files)
        return FALSE;
      g_ptr_array_add (w->files, g_strdup (path));
    }
  return TRUE;
}

static void
tree_problem (const char *path, const char *message, gpointer data);

/* The files under @in that de-identification reads, in its order: a
 * DICOMDIR stands for its folder, another single file for itself. FALSE
 * when the walk was ended (more than w->max_files, or cancelled). */
static gboolean
tree_collect (Walk *w, const char *in, const GStatBuf *st, GCancellable *cancellable)
{
  RrDicomWalk walk = { tree_folder, tree_file, tree_problem, w, cancellable, NULL };
  g_autofree char *base = g_path_get_basename (in);
  gboolean whole = TRUE;

  if (S_ISREG (st->st_mode) && g_ascii_strcasecmp (base, "DICOMDIR") == 0)
    {
      g_autofree char *dir = g_path_get_dirname (in);
      whole = rr_dicom_walk (&walk, dir);
    }
  else if (S_ISREG (st->st_mode))
    g_ptr_array_add (w->files, g_strdup (in));
  else
    whole = rr_dicom_walk (&walk, in);
  rr_dicom_walk_clear (&walk);
  return whole;
}

static void
tree_problem (const char *path, const char *message, gpointer data)
{
  failure_add (((Walk *) data)->failures, path, message);
}

struct TreeCtx
{
  RrDeid *deid;
  const char *out_dir;
  GPtrArray *files;
  GPtrArray **warnings;   /* per file */
  char **errors;          /* per file */
  gboolean *written;
  GCancellable *cancellable;
  DcmFileFormat **headers; /* per file, kept from the learning pass */
  goffset *sizes;
  char **sops;            /* per file, its SOP Instance UID as read */
  gint *first;            /* per file, the earlier file of its SOP Instance UID, or -1 */
  std::atomic<gint64> budget;
};

/* Whether files @a and @b hold the same bytes (read a chunk at a time). */
static gboolean
same_bytes (const char *a, const char *b)
{
  GStatBuf sa, sb;
  if (g_stat (a, &sa) != 0 || g_stat (b, &sb) != 0 || sa.st_size != sb.st_size)
    return FALSE;
  FILE *fa = fopen (a, "rb"), *fb = fopen (b, "rb");
  gboolean same = fa != NULL && fb != NULL;
  const size_t chunk = 64 * 1024;
  g_autofree char *ba = (char *) g_malloc (chunk), *bb = (char *) g_malloc (chunk);
  while (same)
    {
      size_t na = fread (ba, 1, chunk, fa), nb = fread (bb, 1, chunk, fb);
      if (na != nb || memcmp (ba, bb, na) != 0)
        same = FALSE;
      if (na < chunk)
        break;
    }
  if (same && (ferror (fa) || ferror (fb)))
    same = FALSE;
  if (fa)
    fclose (fa);
  if (fb)
    fclose (fb);
  return same;
}

static void
tree_learn (guint i, gpointer data)
{
  TreeCtx *t = (TreeCtx *) data;
  if (g_cancellable_is_cancelled (t->cancellable))
    return;
  gsize bytes = 0;
  DcmFileFormat *ff = rr_deid_read_header ((const char *) t->files->pdata[i], &t->sizes[i],
                                           &bytes);
  if (ff == NULL)
    return;
  OFString sop;
  if (ff->getDataset ()->findAndGetOFString (DCM_SOPInstanceUID, sop).good () && !sop.empty ())
    t->sops[i] = g_strdup (sop.c_str ());
  rr_deid_learn_header (t->deid, ff);
  gint64 cost = HEADER_COST (bytes);
  if (t->budget.fetch_sub (cost) >= cost)
    t->headers[i] = ff;
  else
    delete ff;
}

static void
tree_one (guint i, gpointer data)
{
  TreeCtx *t = (TreeCtx *) data;
  const char *path = (const char *) t->files->pdata[i];
  if (g_cancellable_is_cancelled (t->cancellable))
    {
      t->errors[i] = g_strdup ("cancelled");
      return;
    }
  g_autoptr (GError) error = NULL;
  t->warnings[i] = g_ptr_array_new_with_free_func (warning_free);
  DcmFileFormat *ff = t->headers[i];
  t->headers[i] = NULL;
  if (t->first[i] >= 0)
    {
      /* Another file of this SOP Instance UID came first: it has the
       * output's name, which this one would replace. */
      const char *first = (const char *) t->files->pdata[t->first[i]];
      delete ff;
      if (same_bytes (first, path))
        {
          RrDeidWarning *w = g_new0 (RrDeidWarning, 1);
          w->path = g_strdup (path);
          w->code = g_strdup ("duplicate_instance");
          w->message = g_strdup_printf ("the same file as %s: written once", first);
          g_ptr_array_add (t->warnings[i], w);
        }
      else
        t->errors[i] = g_strdup_printf ("%s has the same SOP Instance UID and other content: "
                                        "this file is not written, that one is", first);
      return;
    }
  g_autofree char *out = rr_deid_file_header (t->deid, path, ff, t->sizes[i], t->out_dir,
                                              t->warnings[i], &error);
  if (out == NULL)
    t->errors[i] = g_strdup (error->message);
  else
    t->written[i] = TRUE;
}

extern "C" GPtrArray *
rr_deid_source_files (const char  *in,
                      guint        max_files,
                      GError     **error)
{
  GStatBuf st;
  if (g_stat (in, &st) != 0)
    {
      fail (error, RR_DICOM_ERROR_READ, "%s: %s", in, g_strerror (errno));
      return NULL;
    }
  g_autoptr (GPtrArray) files = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) failures = g_ptr_array_new_with_free_func (failure_free);
  /* No output folder yet: the staging folder is named after this list. */
  Walk w = { files, failures, 0, 0, max_files };
  if (!tree_collect (&w, in, &st, NULL))
    {
      fail (error, RR_DICOM_ERROR_READ, "%s: more than %u files", in, max_files);
      return NULL;
    }
  return g_steal_pointer (&files);
}

extern "C" RrDeidResult *
rr_deid_tree (RrDeid        *deid,
              const char    *in,
              const char    *out_dir,
              guint          n_threads,
              GCancellable  *cancellable,
              GError       **error)
{
  rr_dicom_init ();
  GStatBuf st;
  if (g_stat (in, &st) != 0)
    {
      fail (error, RR_DICOM_ERROR_READ, "%s: %s", in, g_strerror (errno));
      return NULL;
    }
  if (g_mkdir_with_parents (out_dir, 0755) != 0)
    {
      fail (error, RR_DICOM_ERROR_WRITE, "%s: %s", out_dir, g_strerror (errno));
      return NULL;
    }
  GStatBuf ost;
  if (g_stat (out_dir, &ost) != 0 || !S_ISDIR (ost.st_mode))
    {
      fail (error, RR_DICOM_ERROR_WRITE, "%s: not a folder", out_dir);
      return NULL;
    }

  g_autoptr (RrDeidResult) r = g_new0 (RrDeidResult, 1);
  r->warnings = g_ptr_array_new_with_free_func (warning_free);
  r->failures = g_ptr_array_new_with_free_func (failure_free);
  g_autoptr (GPtrArray) files = g_ptr_array_new_with_free_func (g_free);
  Walk w = { files, r->failures, ost.st_dev, ost.st_ino, 0 };
  tree_collect (&w, in, &st, cancellable);

  guint n = files->len;
  g_autofree GPtrArray **warnings = g_new0 (GPtrArray *, MAX (n, 1));
  g_autofree char **errors = g_new0 (char *, MAX (n, 1));
  g_autofree gboolean *written = g_new0 (gboolean, MAX (n, 1));
  g_autofree DcmFileFormat **headers = g_new0 (DcmFileFormat *, MAX (n, 1));
  g_autofree goffset *sizes = g_new0 (goffset, MAX (n, 1));
  TreeCtx t;
  t.deid = deid;
  t.out_dir = out_dir;
  t.files = files;
  t.warnings = warnings;
  t.errors = errors;
  t.written = written;
  t.cancellable = cancellable;
  t.headers = headers;
  t.sizes = sizes;
  g_autofree char **sops = g_new0 (char *, MAX (n, 1));
  g_autofree gint *first = g_new (gint, MAX (n, 1));
  t.sops = sops;
  t.first = first;
  t.budget = KEEP_HEADER_MEMORY;
  rr_parallel_for (n, n_threads, tree_learn, &t);
  /* Two inputs, one instance: outputs are named by the new SOP Instance
   * UID, and the later file would silently replace the earlier one. The
   * first in the walk's order is written, whatever the threads; a copy of
   * it (a file both loose and under a DICOMDIR) is said and not written
   * again; other content under its UID is that file's failure. */
  {
    g_autoptr (GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
    for (guint i = 0; i < n; i++)
      {
        gpointer at;
        first[i] = -1;
        if (sops[i] == NULL)
          continue;
        if (g_hash_table_lookup_extended (seen, sops[i], NULL, &at))
          first[i] = GPOINTER_TO_INT (at);
        else
          g_hash_table_insert (seen, sops[i], GINT_TO_POINTER ((gint) i));
      }
  }
  rr_parallel_for (n, n_threads, tree_one, &t);
  for (guint i = 0; i < n; i++)
    g_free (sops[i]);
  /* Cancelled before its turn: a kept header is still there. */
  for (guint i = 0; i < n; i++)
    delete headers[i];

  r->n_files = n;
  for (guint i = 0; i < n; i++)
    {
      if (written[i])
        r->n_written++;
      if (errors[i])
        failure_add (r->failures, (const char *) files->pdata[i], errors[i]);
      g_free (errors[i]);
      if (warnings[i])
        {
          for (guint k = 0; k < warnings[i]->len; k++)
            g_ptr_array_add (r->warnings, g_steal_pointer (&warnings[i]->pdata[k]));
          g_ptr_array_set_free_func (warnings[i], NULL);
          g_ptr_array_unref (warnings[i]);
        }
    }
  r->n_uids = rr_deid_n_uids (deid);
  return g_steal_pointer (&r);
}
