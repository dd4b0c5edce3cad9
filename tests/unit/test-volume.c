/* test-volume.c: RrVolume bounds, voxel<->patient transforms on regular,
 * uneven and tilted stacks. */
#include "rr-volume.h"
#include "rr-parse.h"

static RrVolume *
make (guint nx, guint ny, guint nz, double zstep, double tilt_y)
{
  guint dims[3] = { nx, ny, nz };
  g_autoptr (GError) error = NULL;
  RrVolume *v = rr_volume_new (dims, RR_VOXEL_INT16, &error);
  g_assert_no_error (error);
  v->spacing[0] = 0.5;
  v->spacing[1] = 0.8;
  v->row_dir = rr_vec3 (1, 0, 0);
  v->col_dir = rr_vec3 (0, 1, 0);
  for (guint k = 0; k < nz; k++)
    v->slice_pos[k] = rr_vec3 (-10, -20 + k * tilt_y, 5 + k * zstep + (k >= nz / 2 ? 0.3 : 0));
  g_assert_true (rr_volume_finish_geometry (v, &error));
  return v;
}

static void
test_roundtrip (void)
{
  g_autoptr (RrVolume) v = make (16, 12, 10, 2.0, 0.0);
  g_autoptr (RrVolume) t = make (16, 12, 10, 2.0, 0.7);
  RrVolume *vols[] = { v, t };
  for (guint n = 0; n < 2; n++)
    for (double k = 0; k <= 9; k += 0.5)
      for (double i = 0; i < 16; i += 3.25)
        {
          RrVec3 p = rr_volume_voxel_to_patient (vols[n], i, 7.5, k);
          double a, b, c;
          g_assert_true (rr_volume_patient_to_voxel (vols[n], p, &a, &b, &c));
          g_assert_cmpfloat_with_epsilon (a, i, 1e-9);
          g_assert_cmpfloat_with_epsilon (b, 7.5, 1e-9);
          g_assert_cmpfloat_with_epsilon (c, k, 1e-9);
        }
  /* Slice 7 sits 0.3 mm beyond the regular grid: positions are exact. */
  RrVec3 p = rr_volume_voxel_to_patient (v, 0, 0, 7);
  g_assert_cmpfloat_with_epsilon (p.z, 5 + 14 + 0.3, 1e-9);
  g_assert_cmpfloat_with_epsilon (p.y, -20, 1e-9);
  g_assert_cmpfloat_with_epsilon (rr_volume_voxel_to_patient (v, 2, 0, 0).x, -9, 1e-9);
  g_assert_cmpfloat_with_epsilon (rr_volume_voxel_to_patient (v, 0, 5, 0).y, -16, 1e-9);
}

static void
test_values (void)
{
  g_autoptr (RrVolume) v = make (4, 3, 2, 1.0, 0);
  gint16 *d = v->voxels;
  for (guint x = 0; x < 24; x++)
    d[x] = (gint16) (x * 10 - 100);
  g_assert_cmpfloat (rr_volume_value_at (v, 3, 2, 1), ==, 230 - 100);
  g_assert_true (isnan (rr_volume_value_at (v, 4, 0, 0)));
  double lo, hi;
  rr_volume_value_range (v, &lo, &hi);
  g_assert_cmpfloat (lo, ==, -100);
  g_assert_cmpfloat (hi, ==, 130);
  g_assert_true (isnan (rr_volume_sample_patient (v, rr_vec3 (100, 0, 0))));
}

static void
test_bounds (void)
{
  g_autoptr (GError) error = NULL;
  guint zero[3] = { 0, 10, 10 };
  guint huge[3] = { 65535, 65535, 100000 };
  g_assert_null (rr_volume_new (zero, RR_VOXEL_INT16, &error));
  g_assert_error (error, RR_CORE_ERROR, RR_CORE_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_null (rr_volume_new (huge, RR_VOXEL_FLOAT32, &error));
  g_assert_error (error, RR_CORE_ERROR, RR_CORE_ERROR_TOO_LARGE);
}

static void
test_unordered_slices_rejected (void)
{
  guint dims[3] = { 2, 2, 3 };
  g_autoptr (GError) error = NULL;
  g_autoptr (RrVolume) v = rr_volume_new (dims, RR_VOXEL_INT16, &error);
  v->slice_pos[0] = rr_vec3 (0, 0, 0);
  v->slice_pos[1] = rr_vec3 (0, 0, 2);
  v->slice_pos[2] = rr_vec3 (0, 0, 1);
  g_assert_false (rr_volume_finish_geometry (v, &error));
  g_assert_error (error, RR_CORE_ERROR, RR_CORE_ERROR_INVALID);
}

static void
test_parse_doubles (void)
{
  double v[4];
  int n = 0;
  g_assert_true (rr_parse_doubles ("-40,40.5,1e1", v, 3, 3, &n));
  g_assert_cmpint (n, ==, 3);
  g_assert_cmpfloat (v[1], ==, 40.5);
  g_assert_cmpfloat (v[2], ==, 10);
  g_assert_true (rr_parse_doubles ("2", v, 1, 2, &n));
  g_assert_cmpint (n, ==, 1);
  g_assert_false (rr_parse_doubles ("1,2", v, 3, 3, NULL));
  g_assert_false (rr_parse_doubles ("1,x,3", v, 3, 3, NULL));
  g_assert_false (rr_parse_doubles ("1,2,", v, 2, 3, NULL));
  g_assert_false (rr_parse_doubles ("nan,1", v, 2, 2, NULL));
  g_assert_false (rr_parse_doubles ("1,inf", v, 2, 2, NULL));
  g_assert_false (rr_parse_doubles (NULL, v, 1, 1, NULL));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/volume/roundtrip", test_roundtrip);
  g_test_add_func ("/volume/values", test_values);
  g_test_add_func ("/volume/bounds", test_bounds);
  g_test_add_func ("/volume/unordered", test_unordered_slices_rejected);
  g_test_add_func ("/parse/doubles", test_parse_doubles);
  return g_test_run ();
}
