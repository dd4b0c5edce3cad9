/* rr-upload-staging.c: the staging folder keyed by the source files, and
 * the note it keeps of what it was made for (see rr-upload-staging.h).
 * The walk is de-identification's own, stat(2) only: the digest must cost
 * little next to the de-identification it saves on a rerun. */
#include "rr-upload-staging.h"
#include "rr-sync-upload.h"
#include "rr-dicom-deid.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>

#define MANIFEST "upload.ini"
#define FINISHED "upload.finished"
#define GROUP "upload"
/* Hex digits of the digest in the folder's name: 80 bits. */
#define DIGEST_CHARS 20
/* A staging folder's depth under the cache's upload folder:
 * TRIAL/SUBJECT/LABEL/src-X, or TRIAL/SUBJECT/LABEL/query/Q/src-X. */
#define MAX_STAGING_DEPTH 6
/* upload.ini is a few names; anything larger is not ours. */
#define MAX_MANIFEST_BYTES 65536

void
rr_upload_staged_free (RrUploadStaged *s)
{
  if (s == NULL)
    return;
  g_free (s->staging);
  g_free (s->source);
  g_free (s->trial);
  g_free (s->subject);
  g_free (s->label);
  g_free (s->query);
  g_free (s->visit);
  g_free (s);
}

/* One file: its name with the NUL after it (a name cannot fake the
 * numbers), then its size and modification time. */
static void
add_file (GChecksum *sum, const char *name, const GStatBuf *sb)
{
  g_autofree char *numbers = g_strdup_printf ("%" G_GINT64_FORMAT " %" G_GINT64_FORMAT ".%09ld\n",
                                              (gint64) sb->st_size, (gint64) sb->st_mtim.tv_sec,
                                              (long) sb->st_mtim.tv_nsec);
  g_checksum_update (sum, (const guchar *) name, (gssize) strlen (name) + 1);
  g_checksum_update (sum, (const guchar *) numbers, -1);
}

char *
rr_upload_source_digest (const char *source, GError **error)
{
  g_autoptr (GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
  g_autoptr (GPtrArray) files = NULL;
  g_autofree char *dir = NULL;
  GStatBuf sb;

  if (source == NULL || g_stat (source, &sb) != 0)
    {
      int saved = errno;
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved), "%s: %s",
                   source ? source : "(none)", g_strerror (saved));
      return NULL;
    }
  /* The very list de-identification reads (links to folders followed,
   * unreadable folders left out): a key from another walk could give two
   * different sources the same staging folder. */
  files = rr_deid_source_files (source, RR_UPLOAD_MAX_SOURCE_FILES, error);
  if (files == NULL)
    return NULL;
  dir = S_ISDIR (sb.st_mode) ? g_strdup (source) : g_path_get_dirname (source);
  for (guint i = 0; i < files->len; i++)
    {
      const char *path = files->pdata[i];
      gsize n = strlen (dir);
      g_autofree char *base = NULL;
      GStatBuf fsb;
      if (g_stat (path, &fsb) != 0)
        continue;
      if (strncmp (path, dir, n) == 0 && path[n] == G_DIR_SEPARATOR)
        add_file (sum, path + n + 1, &fsb);
      else
        add_file (sum, (base = g_path_get_basename (path)), &fsb);
    }
  return g_strdup (g_checksum_get_string (sum));
}

char *
rr_upload_source_staging_dir (const char *base, const char *source, GError **error)
{
  g_autofree char *digest = rr_upload_source_digest (source, error);
  g_autofree char *name = NULL;

  if (digest == NULL)
    return NULL;
  name = g_strdup_printf ("src-%.*s", DIGEST_CHARS, digest);
  return g_build_filename (base, name, NULL);
}

gboolean
rr_upload_staged_save (const RrUploadStaged *s, GError **error)
{
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_autofree char *path = g_build_filename (s->staging, MANIFEST, NULL);
  g_autofree char *data = NULL;
  gsize len = 0;

  g_key_file_set_string (kf, GROUP, "source", s->source);
  g_key_file_set_string (kf, GROUP, "trial", s->trial);
  g_key_file_set_string (kf, GROUP, "subject", s->subject);
  g_key_file_set_string (kf, GROUP, "timepoint", s->label);
  g_key_file_set_integer (kf, GROUP, "day", s->day);
  if (s->query)
    g_key_file_set_string (kf, GROUP, "query", s->query);
  if (s->visit && *s->visit)
    g_key_file_set_string (kf, GROUP, "visit", s->visit);
  data = g_key_file_to_data (kf, &len, NULL);
  return g_file_set_contents_full (path, data, (gssize) len, G_FILE_SET_CONTENTS_CONSISTENT,
                                   0600, error);
}

/* A staging folder's own name, "src-" and the digest's hex digits: a
 * subject or timepoint labelled "src-..." is not one. */
static gboolean
is_staging_name (const char *name)
{
  if (!g_str_has_prefix (name, "src-") || strlen (name) != 4 + DIGEST_CHARS)
    return FALSE;
  for (const char *c = name + 4; *c; c++)
    if (!g_ascii_isxdigit (*c))
      return FALSE;
  return TRUE;
}

static RrUploadStaged *staged_load (const char *staging);

gboolean
rr_upload_mark_finished (const char *staging, GError **error)
{
  g_autofree char *path = g_build_filename (staging, FINISHED, NULL);
  g_autofree char *parent = g_path_get_dirname (staging);
  g_autofree char *own = g_path_get_basename (staging);
  g_autoptr (RrUploadStaged) done = staged_load (staging);
  g_autoptr (GDir) d = NULL;
  const char *name;

  if (!g_file_set_contents_full (path, "", 0, G_FILE_SET_CONTENTS_CONSISTENT, 0600, error))
    return FALSE;
  /* The same source whose files changed since (new modification times) was
   * staged again beside it: the older folder's upload is superseded by this
   * one, and would otherwise be offered for resuming forever. */
  if (done == NULL || !(d = g_dir_open (parent, 0, NULL)))
    return TRUE;
  while ((name = g_dir_read_name (d)))
    {
      g_autofree char *other = NULL;
      g_autoptr (RrUploadStaged) s = NULL;
      if (!is_staging_name (name) || strcmp (name, own) == 0)
        continue;
      other = g_build_filename (parent, name, NULL);
      s = staged_load (other);
      if (s && strcmp (s->source, done->source) == 0 && strcmp (s->trial, done->trial) == 0 &&
          strcmp (s->subject, done->subject) == 0 && strcmp (s->label, done->label) == 0)
        {
          g_autofree char *marker = g_build_filename (other, FINISHED, NULL);
          if (!g_file_set_contents_full (marker, "", 0, G_FILE_SET_CONTENTS_CONSISTENT, 0600,
                                         error))
            return FALSE;
        }
    }
  return TRUE;
}

static RrUploadStaged *
staged_load (const char *staging)
{
  g_autofree char *path = g_build_filename (staging, MANIFEST, NULL);
  g_autofree char *done = g_build_filename (staging, FINISHED, NULL);
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_autoptr (RrUploadStaged) s = NULL;
  g_autoptr (RrUploadJournal) journal = NULL;
  g_autoptr (GPtrArray) names = NULL;
  GStatBuf sb;

  if (g_stat (path, &sb) != 0 || sb.st_size > MAX_MANIFEST_BYTES ||
      g_file_test (done, G_FILE_TEST_EXISTS) ||
      !g_key_file_load_from_file (kf, path, G_KEY_FILE_NONE, NULL))
    return NULL;
  s = g_new0 (RrUploadStaged, 1);
  s->staging = g_strdup (staging);
  s->source = g_key_file_get_string (kf, GROUP, "source", NULL);
  s->trial = g_key_file_get_string (kf, GROUP, "trial", NULL);
  s->subject = g_key_file_get_string (kf, GROUP, "subject", NULL);
  s->label = g_key_file_get_string (kf, GROUP, "timepoint", NULL);
  s->query = g_key_file_get_string (kf, GROUP, "query", NULL);
  s->visit = g_key_file_get_string (kf, GROUP, "visit", NULL);
  s->day = g_key_file_get_integer (kf, GROUP, "day", NULL);
  if (!s->source || !s->trial || !s->subject || !s->label)
    return NULL;
  names = rr_upload_staged_files (staging, NULL);
  journal = rr_upload_journal_load (staging, NULL);
  s->n_staged = names ? names->len : 0;
  s->n_sent = journal ? rr_upload_journal_count (journal) : 0;
  return g_steal_pointer (&s);
}

static void
find_unfinished (const char *dir, guint depth, GPtrArray *out)
{
  g_autoptr (GDir) d = depth <= MAX_STAGING_DEPTH ? g_dir_open (dir, 0, NULL) : NULL;
  const char *name;

  if (d == NULL)
    return;
  while ((name = g_dir_read_name (d)))
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);
      GStatBuf sb;
      if (g_lstat (path, &sb) != 0 || !S_ISDIR (sb.st_mode))
        continue;
      if (is_staging_name (name))
        {
          RrUploadStaged *s = staged_load (path);
          if (s)
            g_ptr_array_add (out, s);
        }
      else
        find_unfinished (path, depth + 1, out);
    }
}

static gint
newest_first (gconstpointer a, gconstpointer b)
{
  const RrUploadStaged *x = *(RrUploadStaged * const *) a, *y = *(RrUploadStaged * const *) b;
  g_autofree char *px = g_build_filename (x->staging, MANIFEST, NULL);
  g_autofree char *py = g_build_filename (y->staging, MANIFEST, NULL);
  GStatBuf sx = { 0 }, sy = { 0 };
  g_stat (px, &sx);
  g_stat (py, &sy);
  return sx.st_mtime < sy.st_mtime ? 1 : sx.st_mtime > sy.st_mtime ? -1
                                        : g_strcmp0 (x->staging, y->staging);
}

GPtrArray *
rr_upload_unfinished (void)
{
  g_autofree char *root = g_build_filename (g_get_user_cache_dir (), "readroom", "upload", NULL);
  GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify) rr_upload_staged_free);
  find_unfinished (root, 0, out);
  g_ptr_array_sort (out, newest_first);
  return out;
}
