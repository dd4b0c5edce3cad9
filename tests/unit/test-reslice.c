/* test-reslice.c: the CPU reslicer on volumes whose values are a linear
 * function of the patient position (trilinear sampling reproduces it
 * exactly), on regular, tilted and unevenly spaced stacks, plus slabs
 * and orientation labels. */
#include "rr-reslice.h"

#include <string.h>

static double
field (RrVec3 p)
{
  return p.x + 2 * p.y + 3 * p.z;
}

static RrVolume *
make_volume (gboolean uneven, double tilt)
{
  guint dims[3] = { 40, 30, 20 };
  g_autoptr (GError) error = NULL;
  RrVolume *v = rr_volume_new (dims, RR_VOXEL_FLOAT32, &error);
  float *d;
  g_assert_no_error (error);
  v->spacing[0] = 1.5;
  v->spacing[1] = 2.0;
  v->row_dir = rr_vec3_normalize (rr_vec3 (1, 0.2, 0));
  v->col_dir = rr_vec3_normalize (rr_vec3 (-0.2, 1, 0.1));
  v->col_dir = rr_vec3_normalize (rr_vec3_sub (v->col_dir, rr_vec3_scale (v->row_dir,
                                  rr_vec3_dot (v->col_dir, v->row_dir))));
  {
    RrVec3 n = rr_vec3_normalize (rr_vec3_cross (v->row_dir, v->col_dir));
    double z = 0;
    for (guint k = 0; k < dims[2]; k++)
      {
        v->slice_pos[k] = rr_vec3_add (rr_vec3 (-30, -25, -20), rr_vec3_scale (n, z));
        v->slice_pos[k] = rr_vec3_add (v->slice_pos[k], rr_vec3_scale (v->col_dir, z * tilt));
        z += uneven && k % 3 == 0 ? 3.5 : 2.5;
      }
  }
  g_assert_true (rr_volume_finish_geometry (v, &error));
  d = v->voxels;
  for (guint k = 0; k < dims[2]; k++)
    for (guint j = 0; j < dims[1]; j++)
      for (guint i = 0; i < dims[0]; i++)
        d[((gsize) k * dims[1] + j) * dims[0] + i] =
          (float) field (rr_volume_voxel_to_patient (v, i, j, k));
  return v;
}

static void
check_plane (RrVolume *v, const RrPlane *pl)
{
  g_autofree float *out = g_new (float, pl->width * pl->height);
  guint inside = 0;
  rr_reslice (v, pl, -99999, 2, out);
  for (guint y = 0; y < pl->height; y++)
    for (guint x = 0; x < pl->width; x++)
      {
        RrVec3 p = rr_plane_pixel_to_patient (pl, x, y);
        double i, j, k;
        float got = out[y * pl->width + x];
        if (!rr_volume_patient_to_voxel (v, p, &i, &j, &k) ||
            i < 0 || j < 0 || k < 0 || i > v->dims[0] - 1 || j > v->dims[1] - 1 || k > v->dims[2] - 1)
          continue;
        inside++;
        if (fabs (got - field (p)) > 1e-2)
          g_error ("pixel %u,%u at (%.2f,%.2f,%.2f): %f, expected %f", x, y, p.x, p.y, p.z, got,
                   field (p));
      }
  g_assert_cmpuint (inside, >, 200);
}

static void
test_linear_field (void)
{
  for (int variant = 0; variant < 3; variant++)
    {
      g_autoptr (RrVolume) v = make_volume (variant == 1, variant == 2 ? 0.2 : 0);
      RrVec3 c = rr_volume_center (v);
      RrPlane pl;
      for (int kind = RR_PLANE_AXIAL; kind <= RR_PLANE_SAGITTAL; kind++)
        {
          rr_plane_init_standard (&pl, kind, c, 0.8, 64, 48);
          check_plane (v, &pl);
        }
      g_assert_true (rr_plane_init_oblique (&pl, rr_vec3 (0.3, -0.5, 0.8), rr_vec3 (0, 0.2, 1), c,
                                            0.9, 50, 70));
      check_plane (v, &pl);
    }
}

static void
test_slabs (void)
{
  g_autoptr (RrVolume) v = make_volume (FALSE, 0);
  RrVec3 c = rr_volume_center (v);
  RrPlane pl;
  float mip, minip, mean, single;
  rr_plane_init_standard (&pl, RR_PLANE_AXIAL, c, 1, 1, 1);
  rr_reslice (v, &pl, 0, 1, &single);
  pl.slab_mm = 6;
  pl.slab_mode = RR_SLAB_MIP;
  rr_reslice (v, &pl, 0, 1, &mip);
  pl.slab_mode = RR_SLAB_MINIP;
  rr_reslice (v, &pl, 0, 1, &minip);
  pl.slab_mode = RR_SLAB_MEAN;
  rr_reslice (v, &pl, 0, 1, &mean);
  /* Along +z the field grows by 3 per mm: the slab spans +-3 mm. */
  g_assert_cmpfloat_with_epsilon (mip, single + 9, 1e-2);
  g_assert_cmpfloat_with_epsilon (minip, single - 9, 1e-2);
  g_assert_cmpfloat_with_epsilon (mean, single, 1e-2);
}

static void
test_planes_and_labels (void)
{
  RrPlane pl;
  char *l;
  rr_plane_init_standard (&pl, RR_PLANE_AXIAL, rr_vec3 (0, 0, 0), 1, 10, 10);
  /* Axial from the feet: patient left on the image right, anterior up,
   * looking towards the head. */
  g_assert_cmpfloat (rr_plane_normal (&pl).z, ==, 1);
  l = rr_orientation_label (pl.right);
  g_assert_cmpstr (l, ==, "L");
  g_free (l);
  l = rr_orientation_label (rr_vec3_scale (pl.down, -1));
  g_assert_cmpstr (l, ==, "A");
  g_free (l);
  rr_plane_init_standard (&pl, RR_PLANE_SAGITTAL, rr_vec3 (0, 0, 0), 1, 10, 10);
  l = rr_orientation_label (rr_vec3_scale (pl.right, -1));
  g_assert_cmpstr (l, ==, "A");
  g_free (l);
  l = rr_orientation_label (rr_vec3_normalize (rr_vec3 (0.8, 0.5, -0.1)));
  g_assert_cmpstr (l, ==, "LP");
  g_free (l);
  /* The centre pixel holds the centre point. */
  rr_plane_init_standard (&pl, RR_PLANE_CORONAL, rr_vec3 (5, 6, 7), 2, 11, 11);
  RrVec3 p = rr_plane_pixel_to_patient (&pl, 5, 5);
  g_assert_cmpfloat (p.x, ==, 5);
  g_assert_cmpfloat (p.z, ==, 7);
  g_assert_false (rr_plane_init_oblique (&pl, rr_vec3 (0, 0, 1), rr_vec3 (0, 0, 2), p, 1, 2, 2));
}

static void
test_downsample (void)
{
  g_autoptr (RrVolume) v = make_volume (FALSE, 0);
  guint f[3] = { 2, 3, 2 };
  g_autoptr (GError) error = NULL;
  g_autoptr (RrVolume) d = rr_volume_downsample (v, f, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (d->dims[0], ==, 20);
  g_assert_cmpuint (d->dims[1], ==, 10);
  g_assert_cmpuint (d->dims[2], ==, 10);
  g_assert_cmpfloat (d->spacing[0], ==, 3.0);
  g_assert_cmpfloat (d->spacing[1], ==, 6.0);
  g_assert_cmpfloat_with_epsilon (d->spacing[2], 5.0, 1e-9);
  /* A box average of a linear field is its value at the block centre. */
  for (guint k = 0; k < d->dims[2]; k++)
    for (guint j = 0; j < d->dims[1]; j++)
      for (guint i = 0; i < d->dims[0]; i++)
        g_assert_cmpfloat_with_epsilon (rr_volume_value_at (d, i, j, k),
                                        field (rr_volume_voxel_to_patient (d, i, j, k)), 1e-2);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/reslice/linear-field", test_linear_field);
  g_test_add_func ("/reslice/slabs", test_slabs);
  g_test_add_func ("/reslice/planes-labels", test_planes_and_labels);
  g_test_add_func ("/reslice/downsample", test_downsample);
  return g_test_run ();
}
