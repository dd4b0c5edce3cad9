/* test-volume.c: RrVolume bounds, voxel<->patient transforms on regular,
 * uneven and tilted stacks. */
#include "rr-volume.h"
#include "rr-parse.h"

#include <math.h>

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

/* The window a PET opens with (rr_volume_default_window ()): SUVbw 0 to 5
 * when SUV is known, whatever the files' own window; else 0 to the 99.5th
 * percentile of the values, so a few hot voxels do not leave the body in
 * the dark as the whole range does. CT keeps its files' window. */
static void
test_default_window (void)
{
  guint dims[3] = { 10, 10, 10 };
  g_autoptr (GError) error = NULL;
  g_autoptr (RrVolume) v = rr_volume_new (dims, RR_VOXEL_FLOAT32, &error);
  float *d;
  double c, w;
  const char *units;

  g_assert_no_error (error);
  d = v->voxels;
  /* Bq/ml 0..994, and five hot voxels at 100000. */
  for (guint x = 0; x < 1000; x++)
    d[x] = x < 995 ? (float) x : 100000.f;
  v->modality = g_strdup ("PT");
  g_free (v->units);
  v->units = g_strdup ("BQML");
  v->suv_state = RR_SUV_UNAVAILABLE;
  v->has_window = TRUE;
  v->window_center = 50000;
  v->window_width = 100000;
  /* The 995th of 1000 sorted values is 994; the histogram bins are
   * 100000 / 65535 wide. */
  rr_volume_default_window (v, &c, &w);
  g_assert_cmpfloat_with_epsilon (c - w / 2, 0, 1e-9);
  g_assert_cmpfloat_with_epsilon (c + w / 2, 994, 100000.0 / 65535);
  g_assert_cmpfloat (rr_volume_display_scale (v, &units), ==, 1);
  g_assert_cmpstr (units, ==, "BQML");

  /* SUV known: SUVbw = value * 0.002, so 0 to 5 SUV is 0 to 2500 Bq/ml. */
  v->suv_state = RR_SUV_AVAILABLE;
  v->suv_factor = 0.002;
  rr_volume_default_window (v, &c, &w);
  g_assert_cmpfloat_with_epsilon (c, 1250, 1e-9);
  g_assert_cmpfloat_with_epsilon (w, 2500, 1e-9);
  g_assert_cmpfloat (rr_volume_display_scale (v, &units), ==, 0.002);
  g_assert_cmpstr (units, ==, "SUVbw");

  /* A CT keeps its own window, or opens over its range without one. */
  g_free (v->modality);
  v->modality = g_strdup ("CT");
  v->suv_state = RR_SUV_NOT_APPLICABLE;
  v->window_center = 40;
  v->window_width = 400;
  rr_volume_default_window (v, &c, &w);
  g_assert_cmpfloat (c, ==, 40);
  g_assert_cmpfloat (w, ==, 400);
  v->has_window = FALSE;
  rr_volume_default_window (v, &c, &w);
  g_assert_cmpfloat (c, ==, 50000);
  g_assert_cmpfloat (w, ==, 100000);
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

/* A rescale slope beyond float's range makes infinite voxels: they have no
 * place in the value range or the window's percentiles (an infinite range
 * made the histogram's scale 0 and its bin index lround (NaN)). */
static void
test_infinite_voxels (void)
{
  guint dims[3] = { 10, 10, 1 };
  g_autoptr (GError) error = NULL;
  g_autoptr (RrVolume) v = rr_volume_new (dims, RR_VOXEL_FLOAT32, &error);
  float *p;
  double lo, hi, q;

  g_assert_no_error (error);
  p = v->voxels;
  for (guint x = 0; x < 100; x++)
    p[x] = (float) x;
  p[7] = INFINITY;
  p[8] = -INFINITY;
  p[9] = NAN;
  rr_volume_value_range (v, &lo, &hi);
  g_assert_cmpfloat (lo, ==, 0);
  g_assert_cmpfloat (hi, ==, 99);
  /* 97 finite values 0..99 without 7, 8, 9: the median is 51. */
  q = rr_volume_value_quantile (v, 0.5);
  g_assert_true (isfinite (q));
  g_assert_cmpfloat_with_epsilon (q, 51, 0.01);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/volume/roundtrip", test_roundtrip);
  g_test_add_func ("/volume/values", test_values);
  g_test_add_func ("/volume/bounds", test_bounds);
  g_test_add_func ("/volume/unordered", test_unordered_slices_rejected);
  g_test_add_func ("/volume/default-window", test_default_window);
  g_test_add_func ("/volume/infinite-voxels", test_infinite_voxels);
  g_test_add_func ("/parse/doubles", test_parse_doubles);
  return g_test_run ();
}
