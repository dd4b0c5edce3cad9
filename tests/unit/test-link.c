/* Linked scrolling of a prior beside the current series (core/rr-link.c),
 * on phantoms written by readroom-phantom and loaded through the DICOM
 * bridge. The current series is centred at z = 0; the others are the same
 * anatomy scanned with the table 30 mm further (centred at z = 30), once
 * in the current's frame of reference (a re-scan in the same session) and
 * once in a frame of their own (another session). A liver lesion of 24 mm
 * at (-40, 40, 0) mm, 90 HU in a 40 HU body, tells where a pane is.
 * Expected points are worked out by hand from those centres. */
#include "rr-dicom.h"
#include "rr-link.h"

#include <glib/gstdio.h>
#include <math.h>
#include <stdlib.h>

#define FRAME "1.2.826.0.1.3680043.9.7777.1"

static char *tmp_root;
static RrVolume *current, *rescan, *other;
static const RrVec3 lesion = { -40, 40, 0 };

static RrVolume *
phantom (const char *name, const char *center, const char *frame, const char *spacing)
{
  const char *exe = g_getenv ("READROOM_PHANTOM");
  g_autofree char *dir = g_build_filename (tmp_root, name, NULL);
  g_autoptr (GError) error = NULL;
  int status = 0;
  GPtrArray *argv = g_ptr_array_new ();
  g_ptr_array_add (argv, (char *) (exe ? exe : "build/src/phantom/readroom-phantom"));
  g_ptr_array_add (argv, dir);
  for (const char *const *a = (const char *const[]) { "--kind", "ct", "--size", "96",
                                                       "--pixel-spacing", "4", "--noise", "0",
                                                       "--lesion", "-40,40,0,24,90", NULL };
       *a; a++)
    g_ptr_array_add (argv, (char *) *a);
  g_ptr_array_add (argv, "--center");
  g_ptr_array_add (argv, (char *) center);
  g_ptr_array_add (argv, "--spacing");
  g_ptr_array_add (argv, (char *) spacing);
  g_ptr_array_add (argv, "--slices");
  g_ptr_array_add (argv, "30");
  if (frame)
    {
      g_ptr_array_add (argv, "--frame-of-reference");
      g_ptr_array_add (argv, (char *) frame);
    }
  g_ptr_array_add (argv, NULL);
  g_assert_true (g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_STDOUT_TO_DEV_NULL,
                               NULL, NULL, NULL, NULL, &status, &error));
  g_assert_no_error (error);
  g_assert_true (g_spawn_check_wait_status (status, &error));
  g_ptr_array_unref (argv);

  const char *paths[] = { dir, NULL };
  g_autoptr (RrDicomScan) scan = rr_dicom_scan (paths, 0, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (scan->studies->len, ==, 1);
  RrDicomStudy *st = scan->studies->pdata[0];
  RrVolume *v = rr_dicom_series_load (st->series->pdata[0], 0, NULL, NULL, &error);
  g_assert_no_error (error);
  return v;
}

static void
assert_point (RrVec3 got, double x, double y, double z)
{
  g_assert_cmpfloat_with_epsilon (got.x, x, 1e-6);
  g_assert_cmpfloat_with_epsilon (got.y, y, 1e-6);
  g_assert_cmpfloat_with_epsilon (got.z, z, 1e-6);
}

static void
test_frame_reaches_volume (void)
{
  g_assert_cmpstr (current->frame_of_reference, ==, FRAME);
  g_assert_cmpstr (rescan->frame_of_reference, ==, FRAME);
  g_assert_nonnull (other->frame_of_reference);
  g_assert_cmpstr (other->frame_of_reference, !=, FRAME);
  /* The centres the rules start from: the phantoms' --center. */
  assert_point (rr_volume_center (current), 0, 0, 0);
  assert_point (rr_volume_center (rescan), 0, 0, 30);
}

static void
test_same_frame_by_position (void)
{
  RrLink link;
  rr_link_init (&link);
  rr_link_start (&link, current, rescan);
  g_assert_cmpint (rr_link_mode (&link), ==, RR_LINK_POSITION);
  /* On the lesion in the current pane, the prior's pane is on the same
   * patient point: the lesion is there too, not 30 mm away. */
  RrVec3 p = rr_link_prior_point (&link, lesion);
  assert_point (p, -40, 40, 0);
  g_assert_cmpfloat_with_epsilon (rr_volume_sample_patient (current, lesion), 90, 0.5);
  g_assert_cmpfloat_with_epsilon (rr_volume_sample_patient (rescan, p), 90, 0.5);
  /* Ten millimetres on in the current: ten on in the prior. */
  assert_point (rr_link_prior_point (&link, rr_vec3 (-40, 40, 10)), -40, 40, 10);
  /* "Go to" a prior caliper at z = 2: the current pane at z = 2 too. */
  assert_point (rr_link_current_point (&link, rr_vec3 (-40, 40, 2)), -40, 40, 2);
  rr_link_clear (&link);
}

static void
test_other_frame_centre_on_centre (void)
{
  RrLink link;
  rr_link_init (&link);
  rr_link_start (&link, current, other);
  g_assert_cmpint (rr_link_mode (&link), ==, RR_LINK_OFFSET);
  /* Nothing relates the two frames: centre (0,0,0) on centre (0,0,30). */
  assert_point (rr_link_prior_point (&link, rr_vec3 (0, 0, 0)), 0, 0, 30);
  assert_point (rr_link_prior_point (&link, lesion), -40, 40, 30);
  /* A frame of reference missing on one side is no match either. */
  g_autofree char *keep = g_steal_pointer (&rescan->frame_of_reference);
  rr_link_start (&link, current, rescan);
  g_assert_cmpint (rr_link_mode (&link), ==, RR_LINK_OFFSET);
  assert_point (rr_link_prior_point (&link, lesion), -40, 40, 30);
  rescan->frame_of_reference = g_steal_pointer (&keep);
  rr_link_clear (&link);
}

static void
test_link_here (void)
{
  RrLink link;
  RrVec3 cur = lesion;
  rr_link_init (&link);
  rr_link_start (&link, current, other);
  /* Unlinked on the lesion: the prior stays at z = 30 while the current
   * moves, then the reader scrolls the prior alone six 5 mm slices back
   * to the lesion. */
  rr_link_set_linked (&link, FALSE, cur);
  g_assert_cmpint (rr_link_mode (&link), ==, RR_LINK_UNLINKED);
  cur = rr_vec3 (-40, 40, 5);
  assert_point (rr_link_prior_point (&link, cur), -40, 40, 30);
  rr_link_move_prior (&link, rr_vec3 (-40, 40, 0));
  assert_point (rr_link_prior_point (&link, cur), -40, 40, 0);
  /* Linked here: the offset is the difference of the two points, -5 mm
   * in z; both scroll together from now on, keeping it. */
  rr_link_set_linked (&link, TRUE, cur);
  g_assert_cmpint (rr_link_mode (&link), ==, RR_LINK_OFFSET);
  assert_point (rr_link_prior_point (&link, cur), -40, 40, 0);
  assert_point (rr_link_prior_point (&link, rr_vec3 (-40, 40, 20)), -40, 40, 15);
  assert_point (rr_link_current_point (&link, rr_vec3 (-40, 40, 15)), -40, 40, 20);
  g_assert_cmpfloat_with_epsilon (rr_volume_sample_patient (other,
                                    rr_link_prior_point (&link, rr_vec3 (-40, 40, 5))), 90, 0.5);

  /* Kept for the pair while the task is open: the comparison closed and
   * shown again starts from the reader's offset, not centre on centre. */
  rr_link_start (&link, current, NULL);
  g_assert_cmpint (rr_link_mode (&link), ==, RR_LINK_NONE);
  rr_link_start (&link, current, other);
  assert_point (rr_link_prior_point (&link, cur), -40, 40, 0);
  /* Another pair does not take it. */
  rr_link_start (&link, current, rescan);
  g_assert_cmpint (rr_link_mode (&link), ==, RR_LINK_POSITION);
  assert_point (rr_link_prior_point (&link, cur), -40, 40, 5);
  /* The task closed: forgotten. */
  rr_link_forget (&link);
  rr_link_start (&link, current, other);
  assert_point (rr_link_prior_point (&link, cur), -40, 40, 35);
  rr_link_clear (&link);
}

static void
test_same_frame_reader_offset (void)
{
  RrLink link;
  rr_link_init (&link);
  rr_link_start (&link, current, rescan);
  /* Relinked where nothing moved: still by position. */
  rr_link_set_linked (&link, FALSE, lesion);
  rr_link_set_linked (&link, TRUE, lesion);
  g_assert_cmpint (rr_link_mode (&link), ==, RR_LINK_POSITION);
  /* The reader's own offset (a patient who moved on the table): by offset. */
  rr_link_set_linked (&link, FALSE, lesion);
  rr_link_move_prior (&link, rr_vec3 (-40, 40, 10));
  rr_link_set_linked (&link, TRUE, lesion);
  g_assert_cmpint (rr_link_mode (&link), ==, RR_LINK_OFFSET);
  assert_point (rr_link_prior_point (&link, rr_vec3 (-40, 40, -5)), -40, 40, 5);
  rr_link_clear (&link);
}

/* The offsets the reader set, through the task's draft (JSON): a task
 * reopened (another RrLink, as after a restart) links the same pair by
 * the same offset; other pairs as before. Documents of another shape are
 * refused whole. */
static void
test_kept_in_draft (void)
{
  RrLink link, reopened;
  RrVec3 cur = rr_vec3 (-40, 40, 5);
  g_autofree char *json = NULL;
  g_autoptr (GError) error = NULL;

  rr_link_init (&link);
  rr_link_start (&link, current, other);
  rr_link_set_linked (&link, FALSE, cur);
  rr_link_move_prior (&link, rr_vec3 (-40, 40, 0));
  rr_link_set_linked (&link, TRUE, cur);
  json = rr_link_kept_to_json (&link);
  rr_link_clear (&link);

  rr_link_init (&reopened);
  g_assert_true (rr_link_keep_from_json (&reopened, json, &error));
  g_assert_no_error (error);
  rr_link_start (&reopened, current, other);
  g_assert_cmpint (rr_link_mode (&reopened), ==, RR_LINK_OFFSET);
  /* -5 mm in z, as linked: the lesion beside the lesion. */
  assert_point (rr_link_prior_point (&reopened, cur), -40, 40, 0);
  assert_point (rr_link_prior_point (&reopened, rr_vec3 (-40, 40, 20)), -40, 40, 15);
  rr_link_start (&reopened, current, rescan);
  g_assert_cmpint (rr_link_mode (&reopened), ==, RR_LINK_POSITION);
  /* The same offsets, the same text. */
  {
    g_autofree char *again = rr_link_kept_to_json (&reopened);
    g_assert_cmpstr (again, ==, json);
  }
  rr_link_clear (&reopened);

  for (const char *const *bad = (const char *const[]) {
         "[]", "{}", "{\"pairs\": {}}", "{\"pairs\": [{\"current\": \"1\", \"prior\": \"2\"}]}",
         "{\"pairs\": [{\"current\": \"1\", \"prior\": \"2\", \"offset\": [0, 0]}]}",
         "{\"pairs\": [{\"current\": \"1\", \"prior\": \"2\", \"offset\": [0, \"0\", 0]}]}",
         "{\"pairs\": [{\"current\": 1, \"prior\": \"2\", \"offset\": [0, 0, 0]}]}",
         "{\"pairs\": [{\"current\": \"1\", \"prior\": \"2\", \"offset\": [0, 0, 1e999]}]}",
         "not json", NULL };
       *bad; bad++)
    {
      RrLink l;
      rr_link_init (&l);
      g_assert_false (rr_link_keep_from_json (&l, *bad, &error));
      g_assert_nonnull (error);
      g_clear_error (&error);
      g_assert_cmpuint (g_hash_table_size (l.kept), ==, 0);
      rr_link_clear (&l);
    }
}

int
main (int argc, char **argv)
{
  int ret;
  g_test_init (&argc, &argv, NULL);
  rr_dicom_init ();
  tmp_root = g_dir_make_tmp ("rr-test-link-XXXXXX", NULL);
  current = phantom ("current", "0,0,0", FRAME, "2.5");
  rescan = phantom ("rescan", "0,0,30", FRAME, "5");
  other = phantom ("other", "0,0,30", NULL, "5");
  g_test_add_func ("/link/frame-reaches-volume", test_frame_reaches_volume);
  g_test_add_func ("/link/same-frame-by-position", test_same_frame_by_position);
  g_test_add_func ("/link/other-frame-centre-on-centre", test_other_frame_centre_on_centre);
  g_test_add_func ("/link/link-here", test_link_here);
  g_test_add_func ("/link/same-frame-reader-offset", test_same_frame_reader_offset);
  g_test_add_func ("/link/kept-in-draft", test_kept_in_draft);
  ret = g_test_run ();
  rr_volume_unref (current);
  rr_volume_unref (rescan);
  rr_volume_unref (other);
  {
    g_autofree char *cmd = g_strdup_printf ("rm -rf '%s'", tmp_root);
    if (system (cmd) != 0)
      g_printerr ("could not remove %s\n", tmp_root);
  }
  return ret;
}
