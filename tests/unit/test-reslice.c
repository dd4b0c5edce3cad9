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

/* An int16 volume of rough values (a hash of the voxel index over a slow
 * ramp): a sample taken from the wrong voxel, or a fraction off by a
 * fraction of a voxel, shows as a difference of many grey levels. Regular
 * but oblique to the patient axes, with unequal spacings. */
static RrVolume *
make_rough_volume (void)
{
  guint dims[3] = { 37, 29, 23 };
  g_autoptr (GError) error = NULL;
  RrVolume *v = rr_volume_new (dims, RR_VOXEL_INT16, &error);
  gint16 *d;
  RrVec3 n;
  g_assert_no_error (error);
  v->spacing[0] = 0.9;
  v->spacing[1] = 1.1;
  v->row_dir = rr_vec3_normalize (rr_vec3 (1, 0.15, -0.05));
  v->col_dir = rr_vec3_normalize (rr_vec3 (-0.1, 1, 0.2));
  v->col_dir = rr_vec3_normalize (rr_vec3_sub (v->col_dir, rr_vec3_scale (v->row_dir,
                                  rr_vec3_dot (v->col_dir, v->row_dir))));
  n = rr_vec3_normalize (rr_vec3_cross (v->row_dir, v->col_dir));
  for (guint k = 0; k < dims[2]; k++)
    v->slice_pos[k] = rr_vec3_add (rr_vec3 (-17, -15, -12), rr_vec3_scale (n, 1.3 * k));
  g_assert_true (rr_volume_finish_geometry (v, &error));
  d = v->voxels;
  for (gsize i = 0; i < (gsize) dims[0] * dims[1] * dims[2]; i++)
    d[i] = (gint16) (((i * 2654435761u) >> 20) % 3000) - 1000 + (gint16) (i % 37) * 10;
  return v;
}

/* The fast reslicer against the reference, pixel by pixel: the same pixels
 * outside, the others within one grey level. Returns how many are inside. */
static guint
compare_with_reference (const RrVolume *v, const RrPlane *pl)
{
  gsize n = (gsize) pl->width * pl->height;
  g_autofree float *fast = g_new (float, n);
  g_autofree float *ref = g_new (float, n);
  guint inside = 0;
  rr_reslice (v, pl, -99999, 2, fast);
  rr_reslice_reference (v, pl, -99999, 1, ref);
  for (gsize p = 0; p < n; p++)
    {
      if (ref[p] == -99999 || fast[p] == -99999)
        {
          if (ref[p] != fast[p])
            g_error ("pixel %u,%u: fast %f, reference %f", (guint) (p % pl->width),
                     (guint) (p / pl->width), fast[p], ref[p]);
          continue;
        }
      inside++;
      if (fabsf (fast[p] - ref[p]) > 1.0f)
        g_error ("pixel %u,%u: fast %f, reference %f", (guint) (p % pl->width),
                 (guint) (p / pl->width), fast[p], ref[p]);
    }
  return inside;
}

static void
test_fast_matches_reference (void)
{
  g_autoptr (RrVolume) v = make_rough_volume ();
  RrVec3 c = rr_volume_center (v);
  guint full = 0;
  RrPlane pl;

  /* Axial, coronal, sagittal through the centre, the plane fitted to the
   * volume and a little beyond: most pixels inside. */
  for (int kind = RR_PLANE_AXIAL; kind <= RR_PLANE_SAGITTAL; kind++)
    {
      rr_plane_init_standard (&pl, kind, c, 0.37, 128, 96);
      g_assert_cmpuint (compare_with_reference (v, &pl), >, 128 * 96 / 4);
    }
  /* Oblique, at a few angles, finer and coarser than the voxels. */
  for (int a = 0; a < 6; a++)
    {
      g_assert_true (rr_plane_init_oblique (&pl, rr_vec3 (cos (a * 0.7), sin (a * 0.7), 0.6),
                                            rr_vec3 (0, 0.3, 1), c, 0.29 + a * 0.2, 150, 110));
      full += compare_with_reference (v, &pl);
    }
  g_assert_cmpuint (full, >, 6 * 150 * 110 / 8);
}

static void
test_fast_edges (void)
{
  g_autoptr (RrVolume) v = make_rough_volume ();
  guint in, corners = 0;
  RrPlane pl;
  /* Planes partly outside the volume: centred on a corner, on each face,
   * and through the first and last slices themselves and the half voxel
   * beyond them, where the border value holds. */
  for (int c = 0; c < 8; c++)
    {
      RrVec3 corner = rr_volume_voxel_to_patient (v, (c & 1) ? v->dims[0] - 1 : 0,
                                                  (c & 2) ? v->dims[1] - 1 : 0,
                                                  (c & 4) ? v->dims[2] - 1 : 0);
      g_assert_true (rr_plane_init_oblique (&pl, rr_vec3 (0.4, -0.3 + c * 0.1, 0.8),
                                            rr_vec3 (0, 0.2, 1), corner, 0.31, 120, 100));
      /* A plane through a corner may only graze the volume there. */
      in = compare_with_reference (v, &pl);
      g_assert_cmpuint (in, <, 120 * 100);
      corners += in;
    }
  g_assert_cmpuint (corners, >, 8 * 120 * 100 / 10);
  for (int ax = 0; ax < 3; ax++)
    for (int side = 0; side < 2; side++)
      for (double off = -0.45; off <= 0.45; off += 0.15)
        {
          double vox[3] = { (v->dims[0] - 1) / 2.0, (v->dims[1] - 1) / 2.0,
                            (v->dims[2] - 1) / 2.0 };
          RrVec3 normal[3] = { v->row_dir, v->col_dir, v->normal };
          RrVec3 up[3] = { v->normal, v->normal, v->col_dir };
          vox[ax] = side ? v->dims[ax] - 1 + off : off;
          RrVec3 at = rr_volume_voxel_to_patient (v, vox[0], vox[1], vox[2]);
          /* A plane along the voxel axes, through the face: every pixel of
           * the run sits at the same depth, on the border voxel or between
           * it and the next. */
          g_assert_true (rr_plane_init_oblique (&pl, normal[ax], up[ax], at, 0.43, 100, 90));
          g_assert_cmpuint (compare_with_reference (v, &pl), >, 100);
        }
}

static void
test_fast_slabs (void)
{
  g_autoptr (RrVolume) v = make_rough_volume ();
  RrVec3 c = rr_volume_center (v);
  RrVec3 corner = rr_volume_voxel_to_patient (v, v->dims[0] - 3, 1.3, v->dims[2] - 2.2);
  RrPlane pl;
  for (int mode = RR_SLAB_MIP; mode <= RR_SLAB_MEAN; mode++)
    for (int where = 0; where < 2; where++)
      {
        g_assert_true (rr_plane_init_oblique (&pl, rr_vec3 (0.2, 0.5, 0.8), rr_vec3 (0, 0.3, 1),
                                              where ? corner : c, 0.41, 90, 80));
        pl.slab_mode = mode;
        pl.slab_mm = 7.3;
        g_assert_cmpuint (compare_with_reference (v, &pl), >, 500);
      }
  /* Axial MIP through the middle: the slab along the voxel normal. */
  rr_plane_init_standard (&pl, RR_PLANE_AXIAL, c, 0.5, 80, 80);
  pl.slab_mode = RR_SLAB_MIP;
  pl.slab_mm = 12;
  g_assert_cmpuint (compare_with_reference (v, &pl), >, 1000);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/reslice/linear-field", test_linear_field);
  g_test_add_func ("/reslice/slabs", test_slabs);
  g_test_add_func ("/reslice/planes-labels", test_planes_and_labels);
  g_test_add_func ("/reslice/downsample", test_downsample);
  g_test_add_func ("/reslice/fast-matches-reference", test_fast_matches_reference);
  g_test_add_func ("/reslice/fast-edges", test_fast_edges);
  g_test_add_func ("/reslice/fast-slabs", test_fast_slabs);
  return g_test_run ();
}
