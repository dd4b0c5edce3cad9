/* The QC rectangle defect (src/app/rr-viewport-defects.c): dragged by a
 * corner it stays a rectangle in its plane, the opposite corner fixed and
 * the two beside it following. Expected corners are worked out by hand
 * on a tilted plane; a freehand outline is not taken for a rectangle. */
#include "../../src/app/rr-viewport-defects.h"

#include <math.h>

static RrPlane plane;
static RrVec3 normal;

/* The point @u mm along the plane's right and @v mm down from its centre. */
static RrVec3
at (double u, double v)
{
  return rr_vec3_add (plane.center, rr_vec3_add (rr_vec3_scale (plane.right, u),
                                                 rr_vec3_scale (plane.down, v)));
}

static void
assert_corners (const RrMeasurement *m, const double uv[4][2])
{
  for (guint i = 0; i < 4; i++)
    {
      RrVec3 d = rr_vec3_sub (rr_measurement_point (m, i), at (uv[i][0], uv[i][1]));
      g_assert_cmpfloat_with_epsilon (rr_vec3_length (d), 0, 1e-9);
    }
  g_assert_true (rr_viewport_defects_is_rect_shape (m));
}

static void
test_corner_drag (void)
{
  /* Drawn from the centre to 40 mm right and 20 mm down; the pointer's
   * distance off the plane (3 mm) does not count. */
  g_autoptr (RrMeasurement) m = rr_viewport_defects_new_rect (&plane, plane.center);
  rr_viewport_defects_drag_rect (m, plane.center,
                                 rr_vec3_add (at (40, 20), rr_vec3_scale (normal, 3)), &plane);
  const double drawn[4][2] = { { 0, 0 }, { 40, 0 }, { 40, 20 }, { 0, 20 } };
  assert_corners (m, drawn);

  /* Corner 2 to (50, 35): corner 0 stays, 1 and 3 follow. */
  rr_viewport_defects_move_corner (m, 2, rr_vec3_add (at (50, 35), rr_vec3_scale (normal, -2)));
  const double c2[4][2] = { { 0, 0 }, { 50, 0 }, { 50, 35 }, { 0, 35 } };
  assert_corners (m, c2);

  /* Corner 1 to (60, 5): corner 3 at (0, 35) stays. */
  rr_viewport_defects_move_corner (m, 1, at (60, 5));
  const double c1[4][2] = { { 0, 5 }, { 60, 5 }, { 60, 35 }, { 0, 35 } };
  assert_corners (m, c1);

  /* Corner 0 past the opposite one, to (70, 50): still a rectangle. */
  rr_viewport_defects_move_corner (m, 0, at (70, 50));
  const double c0[4][2] = { { 70, 50 }, { 60, 50 }, { 60, 35 }, { 70, 35 } };
  assert_corners (m, c0);

  /* Corner 3 to (10, 0): corner 1 at (60, 50) stays. */
  rr_viewport_defects_move_corner (m, 3, at (10, 0));
  const double c3[4][2] = { { 10, 50 }, { 60, 50 }, { 60, 0 }, { 10, 0 } };
  assert_corners (m, c3);
}

static void
test_not_a_rect (void)
{
  /* One corner moved alone (a freehand outline's point) is no rectangle. */
  g_autoptr (RrMeasurement) m = rr_viewport_defects_new_rect (&plane, plane.center);
  rr_viewport_defects_drag_rect (m, plane.center, at (40, 20), &plane);
  rr_measurement_move_handle (m, 2, at (50, 35));
  g_assert_false (rr_viewport_defects_is_rect_shape (m));

  RrVec3 pts[4] = { at (0, 0), at (30, 2), at (28, 25), at (-3, 20) };
  g_autoptr (RrMeasurement) f = rr_measurement_new (RR_MEASURE_FREEHAND, &plane, pts, 4);
  g_assert_false (rr_viewport_defects_is_rect_shape (f));
  RrVec3 three[3] = { at (0, 0), at (30, 0), at (30, 20) };
  g_autoptr (RrMeasurement) t = rr_measurement_new (RR_MEASURE_FREEHAND, &plane, three, 3);
  g_assert_false (rr_viewport_defects_is_rect_shape (t));
}

/* A finding's shape read back (the upload page draws a query's findings
 * with it): each type's points, and what is not a shape refused. */
static void
test_parse_shape (void)
{
  const char *type = NULL;
  double cr[4];

  g_assert_true (rr_viewport_defects_parse_shape (
    "{\"type\": \"rect\", \"points\": [[10.5, 20], [30, 40.5]]}", &type, cr));
  g_assert_cmpstr (type, ==, "rect");
  g_assert_cmpfloat (cr[0], ==, 10.5);
  g_assert_cmpfloat (cr[1], ==, 20);
  g_assert_cmpfloat (cr[2], ==, 30);
  g_assert_cmpfloat (cr[3], ==, 40.5);
  g_assert_true (rr_viewport_defects_parse_shape (
    "{\"type\": \"line\", \"points\": [[1, 2], [3, 4]]}", &type, cr));
  g_assert_cmpstr (type, ==, "line");
  g_assert_true (rr_viewport_defects_parse_shape (
    "{\"type\": \"point\", \"points\": [[5, 6]]}", &type, cr));
  g_assert_cmpstr (type, ==, "point");
  g_assert_cmpfloat (cr[2], ==, 5);
  g_assert_cmpfloat (cr[3], ==, 6);
  g_assert_false (rr_viewport_defects_parse_shape (NULL, &type, cr));
  g_assert_false (rr_viewport_defects_parse_shape ("[1, 2]", &type, cr));
  g_assert_false (rr_viewport_defects_parse_shape (
    "{\"type\": \"rect\", \"points\": [[1, 2]]}", &type, cr));
  g_assert_false (rr_viewport_defects_parse_shape (
    "{\"type\": \"circle\", \"points\": [[1, 2], [3, 4]]}", &type, cr));
  g_assert_false (rr_viewport_defects_parse_shape (
    "{\"type\": \"point\", \"points\": [[\"1\", 2]]}", &type, cr));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  /* Tilted 30 degrees about z, looking along it: an oblique reformat. */
  plane.center = rr_vec3 (10, 20, 30);
  plane.right = rr_vec3 (cos (G_PI / 6), sin (G_PI / 6), 0);
  plane.down = rr_vec3 (0, 0, -1);
  plane.slab_mode = RR_SLAB_NONE;
  normal = rr_vec3_normalize (rr_vec3_cross (plane.right, plane.down));
  g_test_add_func ("/viewport-defects/corner-drag", test_corner_drag);
  g_test_add_func ("/viewport-defects/not-a-rect", test_not_a_rect);
  g_test_add_func ("/viewport-defects/parse-shape", test_parse_shape);
  return g_test_run ();
}
