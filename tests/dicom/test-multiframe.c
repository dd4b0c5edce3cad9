/* test-multiframe.c: enhanced CT geometry from the per-frame functional
 * groups (frames stored out of order), a cine without geometry, padding,
 * MONOCHROME1 and signed data, and the calibration of projection and
 * ultrasound images, written with the dataset builder. */
#include "rr-dicom.h"
#include "rr-measurement.h"

#include <string.h>

static char *tmp_root;

#define S(ds, g, e, v) g_assert_true (rr_dicom_dataset_set_string (ds, RR_TAG (g, e), v, NULL))
#define U(ds, g, e, v) g_assert_true (rr_dicom_dataset_set_uint16 (ds, RR_TAG (g, e), v, NULL))

static void
common (RrDicomDataset *ds, const char *sop_class, const char *modality, guint rows, guint cols)
{
  g_autofree char *study = rr_dicom_make_uid (NULL);
  g_autofree char *series = rr_dicom_make_uid (NULL);
  g_autofree char *sop = rr_dicom_make_uid (NULL);
  S (ds, 0x0008, 0x0016, sop_class);
  S (ds, 0x0008, 0x0018, sop);
  S (ds, 0x0008, 0x0060, modality);
  S (ds, 0x0020, 0x000d, study);
  S (ds, 0x0020, 0x000e, series);
  S (ds, 0x0010, 0x0020, "MF-TEST");
  U (ds, 0x0028, 0x0002, 1);
  U (ds, 0x0028, 0x0010, rows);
  U (ds, 0x0028, 0x0011, cols);
  U (ds, 0x0028, 0x0100, 16);
  U (ds, 0x0028, 0x0101, 16);
  U (ds, 0x0028, 0x0102, 15);
}

static RrVolume *
load (const char *path, RrDicomScan **scan_out)
{
  const char *paths[] = { path, NULL };
  g_autoptr (GError) error = NULL;
  g_autoptr (RrDicomScan) scan = rr_dicom_scan (paths, 0, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (scan->unreadable->len, ==, 0);
  RrDicomSeries *se = ((RrDicomStudy *) scan->studies->pdata[0])->series->pdata[0];
  RrVolume *v = rr_dicom_series_load (se, 0, NULL, NULL, &error);
  g_assert_no_error (error);
  if (scan_out)
    *scan_out = g_steal_pointer (&scan);
  return v;
}

static void
test_enhanced_ct (void)
{
  /* Frame f sits at z = order[f] * 3 mm and holds the value 100 + order[f]. */
  const guint order[8] = { 5, 2, 7, 0, 3, 6, 1, 4 };
  g_autoptr (RrDicomDataset) ds = rr_dicom_dataset_new ();
  g_autofree char *path = g_build_filename (tmp_root, "enhanced-ct.dcm", NULL);
  guint16 pix[8 * 4 * 6];

  common (ds, "1.2.840.10008.5.1.4.1.1.2.1", "CT", 4, 6);
  S (ds, 0x0028, 0x0004, "MONOCHROME2");
  U (ds, 0x0028, 0x0103, 1);
  S (ds, 0x0028, 0x0008, "8");
  RrDicomDataset *shared = rr_dicom_dataset_add_item (ds, RR_TAG (0x5200, 0x9229));
  RrDicomDataset *meas = rr_dicom_dataset_add_item (shared, RR_TAG (0x0028, 0x9110));
  S (meas, 0x0028, 0x0030, "0.5\\0.75");
  S (meas, 0x0018, 0x0050, "3");
  RrDicomDataset *ori = rr_dicom_dataset_add_item (shared, RR_TAG (0x0020, 0x9116));
  S (ori, 0x0020, 0x0037, "1\\0\\0\\0\\1\\0");
  RrDicomDataset *pvt = rr_dicom_dataset_add_item (shared, RR_TAG (0x0028, 0x9145));
  S (pvt, 0x0028, 0x1052, "-1024");
  S (pvt, 0x0028, 0x1053, "1");
  S (pvt, 0x0028, 0x1054, "HU");
  for (guint f = 0; f < 8; f++)
    {
      RrDicomDataset *pf = rr_dicom_dataset_add_item (ds, RR_TAG (0x5200, 0x9230));
      RrDicomDataset *pos = rr_dicom_dataset_add_item (pf, RR_TAG (0x0020, 0x9113));
      g_autofree char *ipp = g_strdup_printf ("-10\\-20\\%u", order[f] * 3);
      S (pos, 0x0020, 0x0032, ipp);
      for (guint p = 0; p < 24; p++)
        pix[f * 24 + p] = (guint16) (1024 + 100 + order[f]);
    }
  g_assert_true (rr_dicom_dataset_set_pixels (ds, pix, sizeof pix, 16, NULL));
  g_assert_true (rr_dicom_dataset_write (ds, path, RR_TS_EXPLICIT_LE, NULL));

  g_autoptr (RrDicomScan) scan = NULL;
  g_autoptr (RrVolume) v = load (path, &scan);
  RrDicomSeries *se = ((RrDicomStudy *) scan->studies->pdata[0])->series->pdata[0];
  g_assert_cmpuint (se->n_frames, ==, 8);
  g_assert_cmpuint (v->dims[0], ==, 6);
  g_assert_cmpuint (v->dims[1], ==, 4);
  g_assert_cmpuint (v->dims[2], ==, 8);
  g_assert_cmpfloat (v->spacing[0], ==, 0.75);
  g_assert_cmpfloat (v->spacing[1], ==, 0.5);
  g_assert_cmpfloat_with_epsilon (v->spacing[2], 3.0, 1e-9);
  g_assert_cmpfloat (v->slice_thickness, ==, 3.0);
  for (guint k = 0; k < 8; k++)
    {
      g_assert_cmpfloat (rr_volume_value_at (v, 2, 1, k), ==, 100 + k);
      g_assert_cmpfloat (v->slice_pos[k].z, ==, k * 3.0);
      /* The slice points back at its frame in the file. */
      g_assert_cmpuint (order[v->slice_frame[k]], ==, k);
    }
  g_assert_cmpfloat (rr_volume_sample_patient (v, rr_vec3 (-10 + 0.75 * 3, -20 + 0.5, 12)), ==, 104);
}

static void
test_cine_and_monochrome1 (void)
{
  g_autoptr (RrDicomDataset) ds = rr_dicom_dataset_new ();
  g_autofree char *path = g_build_filename (tmp_root, "cine.dcm", NULL);
  guint8 pix[5 * 8 * 8];

  common (ds, "1.2.840.10008.5.1.4.1.1.12.1", "XA", 8, 8);
  S (ds, 0x0028, 0x0004, "MONOCHROME1");
  U (ds, 0x0028, 0x0100, 8);
  U (ds, 0x0028, 0x0101, 8);
  U (ds, 0x0028, 0x0102, 7);
  U (ds, 0x0028, 0x0103, 0);
  S (ds, 0x0028, 0x0008, "5");
  S (ds, 0x0018, 0x1063, "33.3");
  for (guint f = 0; f < 5; f++)
    memset (pix + f * 64, 10 * f, 64);
  g_assert_true (rr_dicom_dataset_set_pixels (ds, pix, sizeof pix, 8, NULL));
  g_assert_true (rr_dicom_dataset_write (ds, path, RR_TS_EXPLICIT_LE, NULL));

  g_autoptr (RrVolume) v = load (path, NULL);
  g_assert_cmpuint (v->dims[2], ==, 5);
  g_assert_true (v->invert);
  g_assert_cmpfloat (v->frame_time_ms, ==, 33.3);
  for (guint k = 0; k < 5; k++)
    {
      g_assert_cmpfloat (rr_volume_value_at (v, 3, 3, k), ==, 10 * k);
      g_assert_cmpuint (v->slice_frame[k], ==, k);
    }
}

static void
test_padding_and_bits_stored (void)
{
  /* Signed 16-bit allocated, 12 stored, with a padding value outside the
   * field of view and garbage in the unused high bits. */
  g_autoptr (RrDicomDataset) ds = rr_dicom_dataset_new ();
  g_autofree char *dir = g_build_filename (tmp_root, "padded", NULL);
  g_autofree char *path = g_build_filename (dir, "a.dcm", NULL);
  gint16 pix[4 * 4];

  g_mkdir_with_parents (dir, 0755);
  common (ds, "1.2.840.10008.5.1.4.1.1.2", "CT", 4, 4);
  S (ds, 0x0028, 0x0004, "MONOCHROME2");
  U (ds, 0x0028, 0x0101, 12);
  U (ds, 0x0028, 0x0102, 11);
  U (ds, 0x0028, 0x0103, 1);
  S (ds, 0x0028, 0x1052, "0");
  S (ds, 0x0028, 0x1053, "1");
  S (ds, 0x0020, 0x0032, "0\\0\\0");
  S (ds, 0x0020, 0x0037, "1\\0\\0\\0\\1\\0");
  S (ds, 0x0028, 0x0030, "1\\1");
  g_assert_true (rr_dicom_dataset_set_uint16 (ds, RR_TAG (0x0028, 0x0120), (guint16) -2000, NULL));
  for (guint p = 0; p < 16; p++)
    pix[p] = (gint16) (p < 4 ? -2000 : ((int) p * 100 - 900));
  /* Garbage above bit 11 must be ignored: set bit 14 on a positive value. */
  pix[15] = (gint16) ((15 * 100 - 900) | 0x4000);
  g_assert_true (rr_dicom_dataset_set_pixels (ds, pix, sizeof pix, 16, NULL));
  g_assert_true (rr_dicom_dataset_write (ds, path, RR_TS_EXPLICIT_LE, NULL));

  g_autoptr (RrVolume) v = load (dir, NULL);
  g_assert_cmpint (v->type, ==, RR_VOXEL_INT16);
  g_assert_cmpfloat (rr_volume_value_at (v, 0, 0, 0), ==, -1024); /* padding -> air */
  g_assert_cmpfloat (rr_volume_value_at (v, 1, 1, 0), ==, 5 * 100 - 900);
  g_assert_cmpfloat (rr_volume_value_at (v, 3, 3, 0), ==, 15 * 100 - 900);
}

static void
test_palette_color (void)
{
  g_autoptr (RrDicomDataset) ds = rr_dicom_dataset_new ();
  g_autofree char *path = g_build_filename (tmp_root, "palette.dcm", NULL);
  guint8 pix[4] = { 0, 1, 2, 255 };
  guint16 red[256], green[256], blue[256];

  common (ds, "1.2.840.10008.5.1.4.1.1.7", "OT", 2, 2);
  S (ds, 0x0028, 0x0004, "PALETTE COLOR");
  U (ds, 0x0028, 0x0100, 8);
  U (ds, 0x0028, 0x0101, 8);
  U (ds, 0x0028, 0x0102, 7);
  U (ds, 0x0028, 0x0103, 0);
  for (guint i = 0; i < 256; i++)
    {
      red[i] = (guint16) (i << 8);
      green[i] = (guint16) ((255 - i) << 8);
      blue[i] = 0x8000;
    }
  for (guint c = 0; c < 3; c++)
    {
      const guint16 desc[3] = { 256, 0, 16 };
      g_assert_true (rr_dicom_dataset_set_words (ds, RR_TAG (0x0028, 0x1101 + c), "US", desc, 3,
                                                 NULL));
      g_assert_true (rr_dicom_dataset_set_words (ds, RR_TAG (0x0028, 0x1201 + c), "OW",
                                                 c == 0 ? red : c == 1 ? green : blue, 256,
                                                 NULL));
    }
  g_assert_true (rr_dicom_dataset_set_pixels (ds, pix, sizeof pix, 8, NULL));
  g_assert_true (rr_dicom_dataset_write (ds, path, RR_TS_EXPLICIT_LE, NULL));

  g_autoptr (RrVolume) v = load (path, NULL);
  g_assert_cmpint (v->type, ==, RR_VOXEL_RGB8);
  const guint8 *px = rr_volume_slice_data (v, 0);
  g_assert_cmpuint (px[2 * 3 + 0], ==, 2);
  g_assert_cmpuint (px[2 * 3 + 1], ==, 253);
  g_assert_cmpuint (px[2 * 3 + 2], ==, 128);
  g_assert_cmpuint (px[3 * 3 + 0], ==, 255);
  g_assert_cmpuint (px[3 * 3 + 1], ==, 0);
}

/* A 10-pixel caliper across and down a projection or ultrasound image: in
 * millimetres from Imager Pixel Spacing or the Ultrasound Regions, in
 * pixels (and marked uncalibrated) with neither. */
static void
check_caliper (RrVolume *v, RrCalibration calibration, double across, double down)
{
  RrPlane pl;
  RrMeasureValues mv;
  rr_plane_init_standard (&pl, RR_PLANE_AXIAL, rr_volume_voxel_to_patient (v, 0, 0, 0), 1, 1, 1);
  for (int axis = 0; axis < 2; axis++)
    {
      RrVec3 p[2] = { rr_volume_voxel_to_patient (v, 5, 5, 0),
                      rr_volume_voxel_to_patient (v, axis ? 5 : 15, axis ? 15 : 5, 0) };
      g_autoptr (RrMeasurement) m = rr_measurement_new (RR_MEASURE_LENGTH, &pl, p, 2);
      rr_measurement_set_source (m, v);
      rr_measurement_compute (m, v, &mv);
      g_assert_cmpint (m->calibration, ==, calibration);
      g_assert_cmpint (mv.calibrated, ==, calibration != RR_CALIBRATION_NONE);
      g_assert_cmpfloat_with_epsilon (mv.length, axis ? down : across, 1e-9);
    }
}

static void
test_calibration (void)
{
  static const struct
  {
    const char *name, *sop_class, *modality;
    RrCalibration calibration;
    double across, down;
  } cases[] = {
    { "us", "1.2.840.10008.5.1.4.1.1.6.1", "US", RR_CALIBRATION_ULTRASOUND, 2.0, 3.0 },
    { "dx", "1.2.840.10008.5.1.4.1.1.1.1", "DX", RR_CALIBRATION_DETECTOR, 1.5, 1.25 },
    { "sc", "1.2.840.10008.5.1.4.1.1.7", "OT", RR_CALIBRATION_NONE, 10, 10 },
  };
  for (guint c = 0; c < G_N_ELEMENTS (cases); c++)
    {
      g_autoptr (RrDicomDataset) ds = rr_dicom_dataset_new ();
      g_autofree char *path = g_strdup_printf ("%s/%s.dcm", tmp_root, cases[c].name);
      guint8 pix[24 * 32];

      common (ds, cases[c].sop_class, cases[c].modality, 24, 32);
      S (ds, 0x0028, 0x0004, "MONOCHROME2");
      U (ds, 0x0028, 0x0100, 8);
      U (ds, 0x0028, 0x0101, 8);
      U (ds, 0x0028, 0x0102, 7);
      U (ds, 0x0028, 0x0103, 0);
      if (cases[c].calibration == RR_CALIBRATION_ULTRASOUND)
        {
          /* A region in centimetres: 0.02 cm across, 0.03 cm down. A
           * second region in other units comes first and is skipped. */
          RrDicomDataset *r0 = rr_dicom_dataset_add_item (ds, RR_TAG (0x0018, 0x6011));
          U (r0, 0x0018, 0x6024, 4);   /* seconds */
          U (r0, 0x0018, 0x6026, 7);
          S (r0, 0x0018, 0x602c, "0.01");
          S (r0, 0x0018, 0x602e, "0.5");
          RrDicomDataset *r = rr_dicom_dataset_add_item (ds, RR_TAG (0x0018, 0x6011));
          U (r, 0x0018, 0x6024, 3);
          U (r, 0x0018, 0x6026, 3);
          S (r, 0x0018, 0x602c, "0.02");
          S (r, 0x0018, 0x602e, "0.03");
        }
      else if (cases[c].calibration == RR_CALIBRATION_DETECTOR)
        S (ds, 0x0018, 0x1164, "0.125\\0.15");
      memset (pix, 60, sizeof pix);
      g_assert_true (rr_dicom_dataset_set_pixels (ds, pix, sizeof pix, 8, NULL));
      g_assert_true (rr_dicom_dataset_write (ds, path, RR_TS_EXPLICIT_LE, NULL));
      g_autoptr (RrVolume) v = load (path, NULL);
      g_assert_cmpint (v->calibration, ==, cases[c].calibration);
      check_caliper (v, cases[c].calibration, cases[c].across, cases[c].down);
    }
}

int
main (int argc, char **argv)
{
  int ret;
  g_test_init (&argc, &argv, NULL);
  rr_dicom_init ();
  tmp_root = g_dir_make_tmp ("rr-mf-XXXXXX", NULL);
  g_test_add_func ("/multiframe/enhanced-ct", test_enhanced_ct);
  g_test_add_func ("/multiframe/cine-monochrome1", test_cine_and_monochrome1);
  g_test_add_func ("/pixels/padding-bits-stored", test_padding_and_bits_stored);
  g_test_add_func ("/pixels/palette-color", test_palette_color);
  g_test_add_func ("/calibration/projection-ultrasound", test_calibration);
  ret = g_test_run ();
  {
    g_autofree char *cmd = g_strdup_printf ("rm -rf '%s'", tmp_root);
    if (system (cmd) != 0)
      g_printerr ("could not remove %s\n", tmp_root);
  }
  return ret;
}
