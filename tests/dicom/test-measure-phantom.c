/* test-measure-phantom.c: calipers on phantom spheres written as DICOM and
 * loaded back: the diameter through the centre equals the known diameter
 * within one voxel on axial, coronal, sagittal and oblique planes, and with
 * non-square pixels; the ROI mean inside a sphere is its value within
 * noise; measurements point back to the slice they came from. */
#include "rr-dicom.h"
#include "rr-measurement.h"
#include "rr-phantom.h"

#include <math.h>
#include <string.h>

static char *tmp_root;

#define LESION_HU 120
#define LESION_D 26.0

typedef struct
{
  RrPhantomSpec *spec;
  RrVolume *vol;
  RrVec3 center;
} Case;

static void
case_load (Case *c, const char *name, double row_sp, double col_sp, double slice_sp, double noise)
{
  g_autofree char *dir = g_build_filename (tmp_root, name, NULL);
  g_autoptr (GError) error = NULL;
  guint n = 0;

  c->spec = rr_phantom_spec_new (RR_PHANTOM_CT);
  c->spec->rows = (guint) (200 / row_sp);
  c->spec->columns = (guint) (240 / col_sp);
  c->spec->row_spacing = row_sp;
  c->spec->col_spacing = col_sp;
  c->spec->slices = (guint) (70 / slice_sp);
  c->spec->slice_spacing = c->spec->slice_thickness = slice_sp;
  c->spec->noise_sd = noise;
  /* In soft tissue (40 HU), away from lungs and spine; its centre on a
   * slice, so an axial caliper through it lies on an acquired image. */
  c->center = rr_vec3 (30, 50, rr_phantom_slice_position (c->spec, c->spec->slices / 2).z);
  c->center.x = 30;
  c->center.y = 50;
  rr_phantom_spec_add_lesion (c->spec, c->center, LESION_D, LESION_HU);
  g_assert_true (rr_phantom_write (c->spec, dir, &n, &error));
  g_assert_no_error (error);
  c->vol = rr_dicom_load_path (dir, &error);
  g_assert_no_error (error);
  g_assert_nonnull (c->vol);
}

static void
case_clear (Case *c)
{
  rr_phantom_spec_free (c->spec);
  rr_volume_unref (c->vol);
}

/* The patient point where the profile from the centre along @dir (pixels)
 * first falls below @threshold, interpolated between pixels. */
static RrVec3
edge (const RrPlane *pl, const float *img, int dx, int dy, double threshold)
{
  int cx = pl->width / 2, cy = pl->height / 2;
  for (int s = 1; s < (int) pl->width / 2; s++)
    {
      int x0 = cx + dx * (s - 1), y0 = cy + dy * (s - 1), x1 = cx + dx * s, y1 = cy + dy * s;
      double v0 = img[y0 * pl->width + x0], v1 = img[y1 * pl->width + x1];
      if (v1 < threshold)
        {
          double f = (v0 - threshold) / (v0 - v1);
          return rr_plane_pixel_to_patient (pl, x0 + dx * f, y0 + dy * f);
        }
    }
  g_assert_not_reached ();
}

/* The largest voxel step along a plane direction: how far one voxel of
 * error can move an edge found along it. */
static double
voxel_along (const RrVolume *v, RrVec3 d)
{
  return fabs (rr_vec3_dot (d, v->row_dir)) * v->spacing[0] +
         fabs (rr_vec3_dot (d, v->col_dir)) * v->spacing[1] +
         fabs (rr_vec3_dot (d, v->normal)) * v->spacing[2];
}

/* Measures the sphere's diameter across its centre on @pl, horizontally
 * and vertically, with length calipers made from the edge points. */
static void
measure_diameters (const Case *c, RrPlane *pl, const char *what)
{
  g_autofree float *img = NULL;
  double threshold = (LESION_HU + 40) / 2.0;

  pl->center = c->center;
  pl->mm_per_pixel = 0.2;
  pl->width = pl->height = 301;
  img = g_new (float, pl->width * pl->height);
  rr_reslice (c->vol, pl, RR_RESLICE_OUTSIDE, 0, img);
  for (int axis = 0; axis < 2; axis++)
    {
      RrVec3 ends[2] = { edge (pl, img, axis ? 0 : -1, axis ? -1 : 0, threshold),
                         edge (pl, img, axis ? 0 : 1, axis ? 1 : 0, threshold) };
      g_autoptr (RrMeasurement) m = rr_measurement_new (RR_MEASURE_LENGTH, pl, ends, 2);
      RrMeasureValues v;
      double tol = voxel_along (c->vol, axis ? pl->down : pl->right);

      rr_measurement_set_source (m, c->vol);
      rr_measurement_compute (m, c->vol, &v);
      g_test_message ("%s %s: %.2f mm (truth %.1f, one voxel %.2f mm)", what,
                      axis ? "vertical" : "horizontal", v.length, LESION_D, tol);
      g_assert_true (v.calibrated);
      g_assert_cmpfloat (fabs (v.length - LESION_D), <=, tol);
    }
}

static void
check_planes (Case *c)
{
  RrPlane pl;
  static const RrPlaneKind kinds[] = { RR_PLANE_AXIAL, RR_PLANE_CORONAL, RR_PLANE_SAGITTAL };
  static const char *const names[] = { "axial", "coronal", "sagittal" };

  for (guint i = 0; i < G_N_ELEMENTS (kinds); i++)
    {
      rr_plane_init_standard (&pl, kinds[i], c->center, 1, 1, 1);
      measure_diameters (c, &pl, names[i]);
    }
  g_assert_true (rr_plane_init_oblique (&pl, rr_vec3 (0.35, -0.45, 0.82), rr_vec3 (0, 0, 1),
                                        c->center, 1, 1, 1));
  measure_diameters (c, &pl, "oblique");
}

static void
test_square_pixels (void)
{
  Case c;
  case_load (&c, "square", 0.8, 0.8, 2.0, 0);
  check_planes (&c);
  case_clear (&c);
}

static void
test_non_square_pixels (void)
{
  Case c;
  case_load (&c, "non-square", 0.6, 1.1, 1.5, 0);
  g_assert_cmpfloat (c.vol->spacing[0], ==, 1.1);   /* between columns */
  g_assert_cmpfloat (c.vol->spacing[1], ==, 0.6);   /* between rows */
  check_planes (&c);
  case_clear (&c);
}

/* The ROI inside the sphere reads its value: the mean within four standard
 * errors of the noise, the SD near the noise; the caliper on the axial
 * slice through the centre points to that slice's instance. */
static void
test_roi_mean (void)
{
  Case c;
  RrPlane pl;
  RrMeasureValues v;
  double r = LESION_D / 2 * 0.6;

  case_load (&c, "noisy", 0.7, 0.7, 2.0, 12);
  rr_plane_init_standard (&pl, RR_PLANE_AXIAL, c.center, 0.5, 400, 400);
  RrVec3 e[3] = { c.center, rr_vec3_add (c.center, rr_vec3 (r, 0, 0)),
                  rr_vec3_add (c.center, rr_vec3 (0, r * 0.8, 0)) };
  g_autoptr (RrMeasurement) m = rr_measurement_new (RR_MEASURE_ELLIPSE, &pl, e, 3);
  rr_measurement_set_source (m, c.vol);
  rr_measurement_compute (m, c.vol, &v);
  g_test_message ("ROI: mean %.2f SD %.2f over %u voxels, area %.1f mm²", v.mean, v.sd,
                  v.n_samples, v.area);
  g_assert_true (v.has_stats);
  g_assert_cmpstr (v.units, ==, "HU");
  g_assert_cmpfloat (fabs (v.mean - LESION_HU), <, 4 * 12 / sqrt (v.n_samples) + 0.5);
  g_assert_cmpfloat (fabs (v.sd - 12), <, 3);
  g_assert_cmpfloat (fabs (v.n_samples * 0.49 - v.area) / v.area, <, 0.05);

  /* The reference: the instance holding the slice through the centre. */
  g_assert_nonnull (m->sop_uid);
  {
    guint k = c.spec->slices / 2;
    g_assert_cmpstr (m->sop_uid, ==, c.vol->slice_sop[k]);
    g_assert_cmpfloat (fabs (c.vol->slice_d[k] - c.center.z), <, 1e-6);
  }
  g_assert_cmpstr (m->series_uid, ==, c.vol->series_uid);
  case_clear (&c);
}

/* ROI statistics on PET are in SUV (body weight): SUVbw = activity (Bq/ml)
 * x weight (g) / injected dose decayed to the series start (Bq). The
 * phantom's files hold Bq/ml, scaled per slice into 16 bits, for 75 kg,
 * 370 MBq of F-18 (half-life 6586.2 s) injected 60 minutes before. By
 * hand: 370e6 x 2^(-3600 / 6586.2) = 253.314 MBq, so one Bq/ml is
 * 75000 / 253.314e6 = 2.96075e-4 SUV. An ROI well inside a sphere of SUV
 * 8.0 then reads a mean of 8.0 SUVbw (to the 16-bit scaling, 1e-4), an SD
 * near 0, and one of SUV 3.5 on the same slices reads 3.5. */
static void
test_roi_suv (void)
{
  g_autofree char *dir = g_build_filename (tmp_root, "pet", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (RrPhantomSpec) spec = rr_phantom_spec_new (RR_PHANTOM_PET);
  guint n = 0;
  RrVec3 hot, warm;
  struct { RrVec3 *c; double suv; } spheres[] = { { &hot, 8.0 }, { &warm, 3.5 } };

  spec->slices = 24;
  hot = rr_vec3 (-40, 40, rr_phantom_slice_position (spec, spec->slices / 2).z);
  warm = rr_vec3 (50, -30, hot.z);
  rr_phantom_spec_add_lesion (spec, hot, 30, 8.0);
  rr_phantom_spec_add_lesion (spec, warm, 30, 3.5);
  g_assert_true (rr_phantom_write (spec, dir, &n, &error));
  g_assert_no_error (error);
  g_autoptr (RrVolume) vol = rr_dicom_load_path (dir, &error);
  g_assert_no_error (error);
  g_assert_cmpint (vol->suv_state, ==, RR_SUV_AVAILABLE);
  g_assert_cmpfloat (fabs (vol->suv_factor - 2.96075e-4) / 2.96075e-4, <, 1e-5);

  for (guint i = 0; i < G_N_ELEMENTS (spheres); i++)
    {
      RrVec3 c = *spheres[i].c;
      RrPlane pl;
      RrMeasureValues v;
      /* 8 mm of radius inside a 15 mm one: every sample, interpolated from
       * 4 mm voxels, lies inside the sphere. */
      RrVec3 e[3] = { c, rr_vec3_add (c, rr_vec3 (8, 0, 0)), rr_vec3_add (c, rr_vec3 (0, 6, 0)) };
      rr_plane_init_standard (&pl, RR_PLANE_AXIAL, c, 2.0, 200, 200);
      g_autoptr (RrMeasurement) m = rr_measurement_new (RR_MEASURE_ELLIPSE, &pl, e, 3);
      rr_measurement_set_source (m, vol);
      rr_measurement_compute (m, vol, &v);
      g_test_message ("SUV %.1f sphere: mean %.5f SD %.5f min %.5f max %.5f over %u", spheres[i].suv,
                      v.mean, v.sd, v.min, v.max, v.n_samples);
      g_assert_true (v.has_stats);
      g_assert_cmpstr (v.units, ==, "SUVbw");
      g_assert_cmpuint (v.n_samples, >=, 8);
      g_assert_cmpfloat (fabs (v.mean - spheres[i].suv), <, spheres[i].suv * 1e-4);
      g_assert_cmpfloat (v.sd, <, spheres[i].suv * 1e-4);
      g_assert_cmpfloat (fabs (v.min - spheres[i].suv), <, spheres[i].suv * 1e-4);
      g_assert_cmpfloat (fabs (v.max - spheres[i].suv), <, spheres[i].suv * 1e-4);
    }
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  int rc;

  g_test_init (&argc, &argv, NULL);
  rr_dicom_init ();
  tmp_root = g_dir_make_tmp ("rr-measure-XXXXXX", &error);
  g_assert_no_error (error);
  g_test_add_func ("/measure/phantom/square-pixels", test_square_pixels);
  g_test_add_func ("/measure/phantom/non-square-pixels", test_non_square_pixels);
  g_test_add_func ("/measure/phantom/roi-mean", test_roi_mean);
  g_test_add_func ("/measure/phantom/roi-suv", test_roi_suv);
  rc = g_test_run ();
  {
    g_autofree char *cmd = g_strdup_printf ("rm -rf '%s'", tmp_root);
    if (system (cmd) != 0)
      g_printerr ("could not remove %s\n", tmp_root);
  }
  return rc;
}
