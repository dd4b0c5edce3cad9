/* test-phantom-load.c: phantoms written to disk and loaded back: geometry
 * and values at known points, every transfer syntax, SUV, broken files. */
#include "rr-dicom.h"
#include "rr-phantom.h"

#include <glib/gstdio.h>
#include <string.h>

static char *tmp_root;

static char *
tmp_dir (const char *name)
{
  return g_build_filename (tmp_root, name, NULL);
}

static RrPhantomSpec *
small_ct (void)
{
  RrPhantomSpec *s = rr_phantom_spec_new (RR_PHANTOM_CT);
  s->rows = s->columns = 128;
  s->row_spacing = s->col_spacing = 2.8;
  s->slices = 40;
  s->slice_spacing = s->slice_thickness = 2.5;
  s->noise_sd = 0;
  rr_phantom_spec_add_lesion (s, rr_vec3 (-40, 40, 0), 24, 90);
  rr_phantom_spec_add_lesion (s, rr_vec3 (60, 30, -30), 18, 70);
  return s;
}

static RrVolume *
write_and_load (RrPhantomSpec *spec, const char *name, RrDicomScan **scan_out)
{
  g_autofree char *dir = tmp_dir (name);
  g_autoptr (GError) error = NULL;
  guint n = 0;
  const char *paths[] = { dir, NULL };

  g_assert_true (rr_phantom_write (spec, dir, &n, &error));
  g_assert_no_error (error);
  g_autoptr (RrDicomScan) scan = rr_dicom_scan (paths, 0, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (scan->studies->len, ==, 1);
  RrDicomStudy *st = scan->studies->pdata[0];
  g_assert_cmpuint (st->series->len, ==, 1);
  RrVolume *v = rr_dicom_series_load (st->series->pdata[0], 0, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (v);
  if (scan_out)
    *scan_out = g_steal_pointer (&scan);
  return v;
}

/* Compares the volume with the phantom's truth at voxel centres, away from
 * edges where a voxel straddles two tissues. */
static void
check_truth (const RrVolume *v, const RrPhantomSpec *spec, double tol)
{
  guint checked = 0;
  for (guint k = 0; k < v->dims[2]; k += 3)
    for (guint j = 0; j < v->dims[1]; j += 5)
      for (guint i = 0; i < v->dims[0]; i += 5)
        {
          if (v->slice_sop[k] == NULL)
            continue;
          RrVec3 p = rr_volume_voxel_to_patient (v, i, j, k);
          double truth = rr_phantom_truth (spec, p);
          double got = rr_volume_value_at (v, i, j, k);
          if (fabs (got - truth) > tol)
            g_error ("voxel %u,%u,%u at (%.2f, %.2f, %.2f): %.3f, truth %.3f", i, j, k, p.x, p.y,
                     p.z, got, truth);
          checked++;
        }
  g_assert_cmpuint (checked, >, 1000);
}

static void
test_ct_shuffled (void)
{
  g_autoptr (RrPhantomSpec) spec = small_ct ();
  spec->shuffle = TRUE;
  g_autoptr (RrVolume) v = write_and_load (spec, "ct-shuffled", NULL);

  g_assert_cmpuint (v->dims[0], ==, 128);
  g_assert_cmpuint (v->dims[2], ==, 40);
  g_assert_cmpint (v->type, ==, RR_VOXEL_INT16);
  g_assert_cmpfloat_with_epsilon (v->spacing[2], 2.5, 1e-6);
  g_assert_cmpstr (v->units, ==, "HU");
  /* First voxel: the phantom's first slice position. */
  RrVec3 o = rr_phantom_slice_position (spec, 0);
  RrVec3 p = rr_volume_voxel_to_patient (v, 0, 0, 0);
  g_assert_cmpfloat_with_epsilon (p.x, o.x, 1e-4);
  g_assert_cmpfloat_with_epsilon (p.z, o.z, 1e-4);
  /* Known points: lesion centres, lung, bone, air. */
  g_assert_cmpfloat (rr_volume_sample_patient (v, rr_vec3 (-40, 40, 0)), ==, 90);
  g_assert_cmpfloat (rr_volume_sample_patient (v, rr_vec3 (60, 30, -30)), ==, 70);
  g_assert_cmpfloat (rr_volume_sample_patient (v, rr_vec3 (75, -10, 20)), ==, -850);
  g_assert_cmpfloat (rr_volume_sample_patient (v, rr_vec3 (0, 72, 10)), ==, 700);
  g_assert_cmpfloat (rr_volume_sample_patient (v, rr_vec3 (170, 150, 10)), ==, -1000);
  check_truth (v, spec, 0.5);
  for (guint k = 0; k < v->dims[2]; k++)
    g_assert_nonnull (v->slice_sop[k]);
  g_assert_true (v->has_window);
  g_assert_cmpfloat (v->window_width, ==, 400);
}

static void
test_ct_missing_slice (void)
{
  g_autoptr (RrPhantomSpec) spec = small_ct ();
  g_autoptr (RrDicomScan) scan = NULL;
  spec->missing_slice = 17;
  g_autoptr (RrVolume) v = write_and_load (spec, "ct-missing", &scan);
  RrDicomSeries *se = ((RrDicomStudy *) scan->studies->pdata[0])->series->pdata[0];

  g_assert_true (rr_problems_has (rr_dicom_series_main_stack (se)->problems, "missing_slices"));
  g_assert_cmpuint (v->dims[2], ==, 40);
  g_assert_null (v->slice_sop[17]);
  g_assert_cmpfloat (rr_volume_value_at (v, 64, 64, 17), ==, -1024);
  /* Geometry after the gap stays right. */
  check_truth (v, spec, 0.5);
  g_assert_cmpfloat (rr_volume_sample_patient (v, rr_vec3 (-40, 40, 0)), ==, 90);
}

static void
test_ct_uneven (void)
{
  g_autoptr (RrPhantomSpec) spec = small_ct ();
  g_autoptr (RrDicomScan) scan = NULL;
  spec->uneven_from = 25;
  spec->uneven_shift = 1.0;
  g_autoptr (RrVolume) v = write_and_load (spec, "ct-uneven", &scan);
  RrDicomSeries *se = ((RrDicomStudy *) scan->studies->pdata[0])->series->pdata[0];
  g_assert_true (rr_problems_has (rr_dicom_series_main_stack (se)->problems, "uneven_spacing"));
  RrVec3 p = rr_volume_voxel_to_patient (v, 0, 0, 30);
  g_assert_cmpfloat_with_epsilon (p.z, rr_phantom_slice_position (spec, 30).z, 1e-4);
  check_truth (v, spec, 0.5);
}

static void
test_ct_tilted_and_oblique (void)
{
  g_autoptr (RrPhantomSpec) spec = small_ct ();
  g_autoptr (RrDicomScan) scan = NULL;
  spec->tilt_deg = 12;
  g_autoptr (RrVolume) v = write_and_load (spec, "ct-tilt", &scan);
  RrDicomSeries *se = ((RrDicomStudy *) scan->studies->pdata[0])->series->pdata[0];
  g_assert_true (rr_problems_has (rr_dicom_series_main_stack (se)->problems, "gantry_tilt"));
  check_truth (v, spec, 0.5);

  const char *orient[][2] = { { "coronal", NULL }, { "sagittal", NULL }, { "oblique", NULL } };
  for (guint o = 0; o < G_N_ELEMENTS (orient); o++)
    {
      g_autoptr (RrPhantomSpec) s = small_ct ();
      g_autofree char *name = g_strdup_printf ("ct-%s", orient[o][0]);
      if (o == 0)
        s->row_dir = rr_vec3 (1, 0, 0), s->col_dir = rr_vec3 (0, 0, -1);
      else if (o == 1)
        s->row_dir = rr_vec3 (0, 1, 0), s->col_dir = rr_vec3 (0, 0, -1);
      else
        {
          s->row_dir = rr_vec3_normalize (rr_vec3 (0.8, 0.6, 0));
          s->col_dir = rr_vec3_normalize (rr_vec3_cross (rr_vec3 (0.3, -0.4, 0.866), s->row_dir));
          s->col_dir = rr_vec3_normalize (rr_vec3_cross (rr_vec3_cross (s->row_dir, s->col_dir),
                                                         s->row_dir));
        }
      s->slices = 60;
      g_autoptr (RrVolume) w = write_and_load (s, name, NULL);
      check_truth (w, s, 0.5);
      g_assert_cmpfloat (rr_volume_sample_patient (w, rr_vec3 (-40, 40, 0)), ==, 90);
    }
}

static void
test_non_square_pixels (void)
{
  g_autoptr (RrPhantomSpec) spec = small_ct ();
  spec->row_spacing = 3.2;
  spec->col_spacing = 2.4;
  spec->columns = 160;
  g_autoptr (RrVolume) v = write_and_load (spec, "ct-nonsquare", NULL);
  g_assert_cmpfloat (v->spacing[0], ==, 2.4);
  g_assert_cmpfloat (v->spacing[1], ==, 3.2);
  check_truth (v, spec, 0.5);
}

static void
test_transfer_syntaxes (void)
{
  static const struct
  {
    const char *uid;
    double tol; /* 0: must be identical */
  } syntaxes[] = {
    { RR_TS_IMPLICIT_LE, 0 },
    { RR_TS_EXPLICIT_BE, 0 },
    { RR_TS_DEFLATED_LE, 0 },
    { RR_TS_JPEG_LOSSLESS_SV1, 0 },
    { RR_TS_JPEGLS_LOSSLESS, 0 },
    { RR_TS_RLE, 0 },
    { RR_TS_J2K_LOSSLESS, 0 },
    { RR_TS_JPEGLS_NEAR, 2.0 },
    { RR_TS_JPEG_EXTENDED, 40.0 },
    { RR_TS_J2K, 40.0 },
  };
  g_autoptr (RrPhantomSpec) spec = small_ct ();
  spec->noise_sd = 15;
  spec->slices = 6;
  g_autoptr (RrVolume) ref = write_and_load (spec, "ts-explicit", NULL);

  for (guint t = 0; t < G_N_ELEMENTS (syntaxes); t++)
    {
      g_autofree char *name = g_strdup_printf ("ts-%s", syntaxes[t].uid);
      g_free (spec->transfer_syntax);
      spec->transfer_syntax = g_strdup (syntaxes[t].uid);
      g_autoptr (RrDicomScan) scan = NULL;
      g_autoptr (RrVolume) v = write_and_load (spec, name, &scan);
      RrDicomSeries *se = ((RrDicomStudy *) scan->studies->pdata[0])->series->pdata[0];
      g_assert_cmpstr (se->transfer_syntaxes->pdata[0], ==, syntaxes[t].uid);
      g_assert_cmpuint (v->n_bytes, ==, ref->n_bytes);
      if (syntaxes[t].tol == 0)
        {
          if (memcmp (v->voxels, ref->voxels, ref->n_bytes) != 0)
            g_error ("%s does not decode to the same voxels", syntaxes[t].uid);
        }
      else
        {
          const gint16 *a = v->voxels, *b = ref->voxels;
          double sum = 0;
          gsize n = ref->n_bytes / 2;
          for (gsize x = 0; x < n; x++)
            sum += fabs ((double) a[x] - b[x]);
          if (sum / n > syntaxes[t].tol)
            g_error ("%s: mean error %.2f above %.2f", syntaxes[t].uid, sum / n, syntaxes[t].tol);
        }
      /* Volumes decoded from a syntax that lost nothing carry the same
       * geometry as the reference. */
      g_assert_cmpfloat (v->slice_pos[3].z, ==, ref->slice_pos[3].z);
    }
}

static void
test_pet_suv (void)
{
  g_autoptr (RrPhantomSpec) spec = rr_phantom_spec_new (RR_PHANTOM_PET);
  spec->slices = 30;
  rr_phantom_spec_add_lesion (spec, rr_vec3 (-40, 40, 0), 30, 8.0);
  g_autoptr (RrVolume) v = write_and_load (spec, "pet", NULL);
  g_assert_cmpint (v->type, ==, RR_VOXEL_FLOAT32);
  g_assert_cmpint (v->suv_state, ==, RR_SUV_AVAILABLE);
  double suv = rr_volume_sample_patient (v, rr_vec3 (-40, 40, 0)) * v->suv_factor;
  g_assert_cmpfloat_with_epsilon (suv, 8.0, 8.0 * 0.002);
  double body = rr_volume_sample_patient (v, rr_vec3 (0, 20, 8)) * v->suv_factor;
  g_assert_cmpfloat_with_epsilon (body, 1.0, 0.01);
}

static void
test_pet_suv_unavailable (void)
{
  g_autoptr (RrPhantomSpec) spec = rr_phantom_spec_new (RR_PHANTOM_PET);
  spec->slices = 4;
  spec->weight_kg = 0; /* phantom writes "0": SUV must not be guessed */
  g_autoptr (RrVolume) v = write_and_load (spec, "pet-noweight", NULL);
  g_assert_cmpint (v->suv_state, ==, RR_SUV_UNAVAILABLE);
  g_assert_nonnull (strstr (v->suv_reason, "Weight"));
}

typedef struct
{
  gint inside;    /* calls running now */
  gint overlaps;  /* calls that found another one running */
  guint last;     /* the last call's done */
  guint out_of_order;
  guint calls;
} Progress;

/* The loader promises calls one at a time, counting up by one: each call
 * stays a while, so that a second thread calling meanwhile is caught. */
static void
progress_cb (guint done, guint total, gpointer data)
{
  Progress *p = data;
  if (g_atomic_int_add (&p->inside, 1) != 0)
    g_atomic_int_inc (&p->overlaps);
  g_assert_cmpuint (done, <=, total);
  if (done != p->last + 1)
    p->out_of_order++;
  g_usleep (200);
  p->last = done;
  p->calls++;
  g_atomic_int_add (&p->inside, -1);
}

static void
test_progress_and_cancel (void)
{
  g_autoptr (RrPhantomSpec) spec = small_ct ();
  g_autoptr (RrDicomScan) scan = NULL;
  g_autoptr (RrVolume) first = write_and_load (spec, "ct-progress", &scan);
  g_autoptr (GError) error = NULL;
  RrDicomSeries *se = ((RrDicomStudy *) scan->studies->pdata[0])->series->pdata[0];
  Progress p = { 0 };
  RrDicomLoadOptions opts = { 4, progress_cb, &p };
  g_autoptr (RrVolume) v = rr_dicom_series_load (se, 0, &opts, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (p.overlaps, ==, 0);
  g_assert_cmpuint (p.out_of_order, ==, 0);
  g_assert_cmpuint (p.calls, ==, 40);
  g_assert_cmpuint (p.last, ==, 40);

  g_autoptr (GCancellable) c = g_cancellable_new ();
  g_cancellable_cancel (c);
  g_autoptr (RrVolume) none = rr_dicom_series_load (se, 0, &opts, c, &error);
  g_assert_null (none);
  g_assert_error (error, RR_DICOM_ERROR, RR_DICOM_ERROR_CANCELLED);
}

/* Puts junk in the unused high bits of every pixel of one file, in place,
 * and @words at pixels @at on; @make_signed sets Pixel Representation 1. The phantom writes Explicit VR Little Endian
 * with Pixel Data (7FE0,0010) OW last, so the pixels are the file's tail. */
static void
add_junk (const char *path, guint n_pixels, gboolean make_signed, const guint16 *words,
          guint n_words, guint at)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *data = NULL;
  gsize len = 0;
  g_assert_true (g_file_get_contents (path, &data, &len, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (len, >, n_pixels * 2 + 12);
  guint8 *px = (guint8 *) data + len - n_pixels * 2;
  /* The element header before them: tag, "OW", 2 reserved, length. */
  static const guint8 hdr[] = { 0xe0, 0x7f, 0x10, 0x00, 'O', 'W', 0, 0 };
  g_assert_cmpmem (px - 12, 8, hdr, 8);
  guint32 vl;
  memcpy (&vl, px - 4, sizeof vl);
  g_assert_cmpuint (GUINT32_FROM_LE (vl), ==, n_pixels * 2);
  if (make_signed)
    {
      /* (0028,0103) US, length 2: the value follows. */
      static const guint8 rep[] = { 0x28, 0x00, 0x03, 0x01, 'U', 'S', 2, 0 };
      guint found = 0;
      for (guint8 *q = (guint8 *) data; q + 10 <= px - 12; q++)
        if (memcmp (q, rep, sizeof rep) == 0)
          {
            q[8] = 1, q[9] = 0;
            found++;
          }
      g_assert_cmpuint (found, ==, 1);
    }
  for (guint p = 0; p < n_pixels; p++)
    {
      guint16 w = (guint16) (px[2 * p] | px[2 * p + 1] << 8);
      /* Bits 12-15 unused: fill them with every pattern in turn. */
      g_assert_cmpuint (w, <, 0x800);
      w |= (guint16) ((p % 16) << 12);
      if (p >= at && p < at + n_words)
        w = words[p - at];
      px[2 * p] = w & 0xff, px[2 * p + 1] = w >> 8;
    }
  g_assert_true (g_file_set_contents (path, data, (gssize) len, &error));
  g_assert_no_error (error);
}

/* 12-bit CT (Bits Allocated 16, Bits Stored 12, High Bit 11) whose unused
 * high bits hold junk, decoded on the native fast path: PS3.5 8.1.1 says
 * only the Bits Stored bits up to High Bit are the value, so the junk is
 * masked away, and with Pixel Representation 1 the value is sign-extended
 * from bit 11. Hand-computed, with the phantom's intercept -1024:
 *   word    unsigned (value - 1024)      signed (12-bit two's complement)
 *   0xAFFF  0xFFF = 4095 -> 3071         -1 -> -1025
 *   0x5800  0x800 = 2048 -> 1024         -2048 -> -3072
 *   0x3ABC  0xABC = 2748 -> 1724         2748 - 4096 = -1348 -> -2372
 *   0xF000  0 -> -1024                   0 -> -1024
 *   0x77FF  0x7FF = 2047 -> 1023         2047 -> 1023
 * Every other pixel keeps its phantom value (all below 0x800, so the same
 * signed or not), junk and all. */
static void
test_bits_stored_junk (void)
{
  static const guint16 words[] = { 0xAFFF, 0x5800, 0x3ABC, 0xF000, 0x77FF };
  static const double want_unsigned[] = { 3071, 1024, 1724, -1024, 1023 };
  static const double want_signed[] = { -1025, -3072, -2372, -1024, 1023 };

  for (int make_signed = 0; make_signed <= 1; make_signed++)
    {
      g_autoptr (RrPhantomSpec) spec = small_ct ();
      const char *name = make_signed ? "junk-signed" : "junk-unsigned";
      g_autofree char *dir = tmp_dir (name);
      g_autoptr (GError) error = NULL;
      guint n = 0;
      spec->slices = 6;
      g_assert_true (rr_phantom_write (spec, dir, &n, &error));
      g_assert_no_error (error);
      {
        g_autoptr (GDir) d = g_dir_open (dir, 0, &error);
        const char *f;
        g_assert_no_error (error);
        while ((f = g_dir_read_name (d)))
          {
            g_autofree char *path = g_build_filename (dir, f, NULL);
            /* In the second row, which check_truth never samples. */
            add_junk (path, spec->rows * spec->columns, make_signed, words,
                      G_N_ELEMENTS (words), spec->columns);
          }
      }
      const char *paths[] = { dir, NULL };
      g_autoptr (RrDicomScan) scan = rr_dicom_scan (paths, 0, NULL, &error);
      g_assert_no_error (error);
      RrDicomStudy *st = scan->studies->pdata[0];
      g_autoptr (RrVolume) v = rr_dicom_series_load (st->series->pdata[0], 0, NULL, NULL, &error);
      g_assert_no_error (error);
      g_assert_nonnull (v);
      for (guint k = 0; k < v->dims[2]; k++)
        for (guint i = 0; i < G_N_ELEMENTS (words); i++)
          {
            double got = rr_volume_value_at (v, i, 1, k);
            double want = make_signed ? want_signed[i] : want_unsigned[i];
            if (got != want)
              g_error ("%s, slice %u, word 0x%04X: %.0f, expected %.0f", name, k, words[i], got,
                       want);
          }
      /* Air in the corner (junk 0x1000 over it): -1000 HU. */
      g_assert_cmpfloat (rr_volume_value_at (v, 1, 0, 0), ==, -1000);
      check_truth (v, spec, 0.5);
    }
}

int
main (int argc, char **argv)
{
  int ret;
  g_test_init (&argc, &argv, NULL);
  rr_dicom_init ();
  tmp_root = g_dir_make_tmp ("rr-test-XXXXXX", NULL);
  g_test_add_func ("/phantom/ct-shuffled", test_ct_shuffled);
  g_test_add_func ("/phantom/ct-missing-slice", test_ct_missing_slice);
  g_test_add_func ("/phantom/ct-uneven", test_ct_uneven);
  g_test_add_func ("/phantom/ct-tilt-oblique", test_ct_tilted_and_oblique);
  g_test_add_func ("/phantom/non-square-pixels", test_non_square_pixels);
  g_test_add_func ("/phantom/transfer-syntaxes", test_transfer_syntaxes);
  g_test_add_func ("/phantom/pet-suv", test_pet_suv);
  g_test_add_func ("/phantom/pet-suv-unavailable", test_pet_suv_unavailable);
  g_test_add_func ("/phantom/bits-stored-junk", test_bits_stored_junk);
  g_test_add_func ("/phantom/progress-cancel", test_progress_and_cancel);
  ret = g_test_run ();
  {
    g_autofree char *cmd = g_strdup_printf ("rm -rf '%s'", tmp_root);
    if (system (cmd) != 0)
      g_printerr ("could not remove %s\n", tmp_root);
  }
  return ret;
}
