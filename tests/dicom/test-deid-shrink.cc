// test-deid-shrink.cc: a source file that shrinks between the reading of
// its header and the copy of its pixels (a site's disc still being
// written, a file replaced in place). The copy meets the end of the file
// early: the file must fail with an input/output error, not with whatever
// errno an earlier call left (which read "Success" or an unrelated cause).
#include "rr-dicom-deid-private.h"
#include "rr-phantom.h"

#include <errno.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

static void
remove_tree (const char *path)
{
  g_autoptr (GDir) d = g_dir_open (path, 0, NULL);
  const char *name;
  while (d && (name = g_dir_read_name (d)))
    {
      g_autofree char *child = g_build_filename (path, name, NULL);
      if (g_file_test (child, G_FILE_TEST_IS_DIR))
        remove_tree (child);
      else
        g_unlink (child);
    }
  g_rmdir (path);
}

static void
test_shrunk_source (gconstpointer data)
{
  const char *tmp = (const char *) data;
  g_autoptr (RrPhantomSpec) s = rr_phantom_spec_new (RR_PHANTOM_CT);
  g_autofree char *dir = g_build_filename (tmp, "in", NULL);
  g_autofree char *out = g_build_filename (tmp, "out", NULL);
  g_autofree char *path = g_build_filename (dir, "IM00001.dcm", NULL);
  g_autoptr (GError) error = NULL;
  guint n = 0;
  static const guint8 key[32] = { 1, 2, 3 };

  s->rows = s->columns = 64;
  s->slices = 1;
  s->noise_sd = 0;
  g_assert_true (rr_phantom_write (s, dir, &n, &error));
  g_assert_no_error (error);
  g_assert_cmpint (g_mkdir_with_parents (out, 0700), ==, 0);

  RrDeid *deid = rr_deid_new (key, sizeof key, "P1", FALSE, &error);
  g_assert_no_error (error);
  goffset size = 0;
  gsize bytes = 0;
  DcmFileFormat *ff = rr_deid_read_header (path, &size, &bytes);
  g_assert_nonnull (ff);
  // 64 x 64 pixels of 2 bytes end the file: half of them go.
  g_assert_cmpint (size, >, 64 * 64 * 2);
  g_assert_cmpint (truncate (path, size - 64 * 64), ==, 0);
  g_autoptr (GPtrArray) warnings = g_ptr_array_new ();
  g_autofree char *written = rr_deid_file_header (deid, path, ff, size, out, warnings, &error);
  g_assert_null (written);
  g_assert_nonnull (error);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, g_strerror (EIO)));
  rr_deid_free (deid);
}

int
main (int argc, char **argv)
{
  g_autofree char *tmp = g_dir_make_tmp ("rr-deid-shrink-XXXXXX", NULL);
  g_test_init (&argc, &argv, NULL);
  g_test_add_data_func ("/deid/shrunk-source", tmp, test_shrunk_source);
  int rc = g_test_run ();
  remove_tree (tmp);
  return rc;
}
