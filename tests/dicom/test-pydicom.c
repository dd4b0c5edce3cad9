/* test-pydicom.c: real files from other tools (pydicom's test data): the
 * same image in different transfer syntaxes decodes to the same voxels. */
#include "rr-dicom.h"

#include <string.h>

static const char *data_dir;

static RrVolume *
load (const char *name)
{
  g_autofree char *path = g_build_filename (data_dir, "test_files", name, NULL);
  g_autoptr (GError) error = NULL;
  RrVolume *v = rr_dicom_load_path (path, &error);
  if (v == NULL)
    g_error ("%s: %s", name, error->message);
  return v;
}

static double
mean_abs_diff (RrVolume *a, RrVolume *b, guint slice)
{
  double sum = 0;
  gsize n = (gsize) a->dims[0] * a->dims[1];
  g_assert_cmpuint (a->dims[0], ==, b->dims[0]);
  g_assert_cmpuint (a->dims[1], ==, b->dims[1]);
  for (guint j = 0; j < a->dims[1]; j++)
    for (guint i = 0; i < a->dims[0]; i++)
      {
        if (a->type == RR_VOXEL_RGB8)
          {
            const guint8 *pa = (const guint8 *) rr_volume_slice_data (a, 0) + ((gsize) j * a->dims[0] + i) * 3;
            const guint8 *pb = (const guint8 *) rr_volume_slice_data (b, slice) + ((gsize) j * a->dims[0] + i) * 3;
            for (int c = 0; c < 3; c++)
              sum += fabs ((double) pa[c] - pb[c]) / 3;
          }
        else
          sum += fabs (rr_volume_value_at (a, i, j, 0) - rr_volume_value_at (b, i, j, slice));
      }
  return sum / n;
}

static void
test_mr_small_syntaxes (void)
{
  const char *same[] = { "MR_small_RLE.dcm", "MR_small_bigendian.dcm", "MR_small_expb.dcm",
                         "MR_small_implicit.dcm", "MR_small_jp2klossless.dcm",
                         "MR_small_jpeg_ls_lossless.dcm" };
  g_autoptr (RrVolume) ref = load ("MR_small.dcm");
  g_assert_cmpuint (ref->dims[0], ==, 64);
  g_assert_cmpuint (ref->dims[1], ==, 64);
  for (guint i = 0; i < G_N_ELEMENTS (same); i++)
    {
      g_autoptr (RrVolume) v = load (same[i]);
      g_assert_cmpint (v->type, ==, ref->type);
      if (mean_abs_diff (ref, v, 0) != 0)
        g_error ("%s differs from MR_small.dcm", same[i]);
    }
}

static void
test_ct_small_hu (void)
{
  g_autoptr (RrVolume) v = load ("CT_small.dcm");
  double lo, hi;
  g_assert_cmpstr (v->units, ==, "HU");
  g_assert_cmpstr (v->modality, ==, "CT");
  rr_volume_value_range (v, &lo, &hi);
  /* Soft-tissue phantom of a real scanner: air to dense material. */
  g_assert_cmpfloat (lo, <, -500);
  g_assert_cmpfloat (hi, >, 100);
  g_assert_cmpfloat (hi, <, 4000);
  g_assert_cmpfloat_with_epsilon (v->spacing[0], 0.661468, 1e-5);
}

static void
test_rgb_syntaxes (void)
{
  g_autoptr (RrVolume) ref = load ("SC_rgb_rle.dcm");
  g_autoptr (RrVolume) two = load ("SC_rgb_rle_2frame.dcm");
  g_autoptr (RrVolume) b16 = load ("SC_rgb_rle_16bit.dcm");
  g_autoptr (RrVolume) b32 = load ("SC_rgb_rle_32bit.dcm");
  g_autoptr (RrVolume) jpg = load ("SC_rgb_jpeg_dcmtk.dcm");
  g_autoptr (RrVolume) jpg_gdcm = load ("SC_rgb_jpeg_gdcm.dcm");
  g_assert_cmpint (ref->type, ==, RR_VOXEL_RGB8);
  /* The test image: a red band at the top. */
  const guint8 *px = rr_volume_slice_data (ref, 0);
  g_assert_cmpuint (px[0], ==, 255);
  g_assert_cmpuint (px[1], ==, 0);
  g_assert_cmpuint (px[2], ==, 0);
  g_assert_cmpfloat (mean_abs_diff (ref, two, 0), ==, 0);
  g_assert_cmpfloat (mean_abs_diff (ref, b16, 0), ==, 0);
  g_assert_cmpfloat (mean_abs_diff (ref, b32, 0), ==, 0);
  g_assert_cmpfloat (mean_abs_diff (ref, jpg, 0), <, 3);
  g_assert_cmpfloat (mean_abs_diff (ref, jpg_gdcm, 0), <, 3);
}

static void
test_ybr_422 (void)
{
  g_autoptr (RrVolume) ref = load ("SC_rgb_rle.dcm");
  g_autoptr (RrVolume) v = load ("SC_ybr_full_422_uncompressed.dcm");
  g_assert_cmpint (v->type, ==, RR_VOXEL_RGB8);
  g_assert_cmpfloat (mean_abs_diff (ref, v, 0), <, 3);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  rr_dicom_init ();
  data_dir = g_getenv ("PYDICOM_DATA");
  if (data_dir == NULL)
    data_dir = "/usr/lib/python3/dist-packages/pydicom/data";
  g_test_add_func ("/pydicom/mr-small-syntaxes", test_mr_small_syntaxes);
  g_test_add_func ("/pydicom/ct-small-hu", test_ct_small_hu);
  g_test_add_func ("/pydicom/rgb-syntaxes", test_rgb_syntaxes);
  g_test_add_func ("/pydicom/ybr-422", test_ybr_422);
  return g_test_run ();
}
