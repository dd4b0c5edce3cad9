/* test-upload-staging.c: which staging folders the app offers for
 * resuming (rr_upload_unfinished) on a real cache folder. A subject or a
 * timepoint labelled "src-..." is a folder to look into, not a staging
 * folder (before, the search stopped there and hid the uploads below it);
 * and finishing an upload also finishes the folders staged before from the
 * same source (its files changed since), which were otherwise offered
 * forever. */
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>

#include "rr-upload-staging.h"

static char *cache;

static char *
stage (const char *trial, const char *subject, const char *label, const char *name,
       const char *source)
{
  char *dir = g_build_filename (cache, "readroom", "upload", trial, subject, label, name, NULL);
  g_autoptr (GError) error = NULL;
  RrUploadStaged s = { dir, (char *) source, (char *) trial, (char *) subject, (char *) label,
                       NULL, NULL, 0, 0, 0 };
  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  g_assert_true (rr_upload_staged_save (&s, &error));
  g_assert_no_error (error);
  return dir;
}

static gboolean
listed (GPtrArray *unfinished, const char *staging)
{
  for (guint i = 0; i < unfinished->len; i++)
    if (strcmp (((RrUploadStaged *) unfinished->pdata[i])->staging, staging) == 0)
      return TRUE;
  return FALSE;
}

static void
test_subject_named_like_a_staging_folder (void)
{
  g_autofree char *a = stage ("T1", "src-7", "Baseline", "src-0123456789abcdef0123", "/v/a");
  g_autofree char *b = stage ("T1", "P2", "src-week", "src-fedcba9876543210fedc", "/v/b");
  g_autoptr (GPtrArray) unfinished = rr_upload_unfinished ();
  g_assert_true (listed (unfinished, a));
  g_assert_true (listed (unfinished, b));
}

static void
test_finishing_supersedes_the_same_source (void)
{
  g_autofree char *old = stage ("T2", "P1", "Baseline", "src-00000000000000000001", "/v/p1");
  g_autofree char *other = stage ("T2", "P1", "Baseline", "src-00000000000000000002", "/v/x");
  g_autofree char *now = stage ("T2", "P1", "Baseline", "src-00000000000000000003", "/v/p1");
  g_autofree char *elsewhere = stage ("T2", "P9", "Baseline", "src-00000000000000000004",
                                      "/v/p1");
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) before = rr_upload_unfinished ();
  g_autoptr (GPtrArray) after = NULL;

  g_assert_true (listed (before, old));
  g_assert_true (listed (before, now));
  g_assert_true (rr_upload_mark_finished (now, &error));
  g_assert_no_error (error);
  after = rr_upload_unfinished ();
  g_assert_false (listed (after, now));
  g_assert_false (listed (after, old));
  /* Another source, or the same one for another subject, is its own. */
  g_assert_true (listed (after, other));
  g_assert_true (listed (after, elsewhere));
}

static void
remove_tree (const char *path)
{
  g_autoptr (GDir) d = g_dir_open (path, 0, NULL);
  const char *name;

  while (d && (name = g_dir_read_name (d)))
    {
      g_autofree char *child = g_build_filename (path, name, NULL);
      if (g_file_test (child, G_FILE_TEST_IS_DIR) && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
        remove_tree (child);
      else
        g_unlink (child);
    }
  g_rmdir (path);
}

int
main (int argc, char **argv)
{
  g_autofree char *tmp = g_dir_make_tmp ("rr-staging-XXXXXX", NULL);
  int rc;

  /* Before GLib reads it: the user's cache is this test's own folder. */
  cache = g_build_filename (tmp, "cache", NULL);
  g_setenv ("XDG_CACHE_HOME", cache, TRUE);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/upload-staging/src-named-folders", test_subject_named_like_a_staging_folder);
  g_test_add_func ("/upload-staging/superseded", test_finishing_supersedes_the_same_source);
  rc = g_test_run ();
  remove_tree (tmp);
  return rc;
}
