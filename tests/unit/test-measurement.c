/* test-measurement.c: calipers in patient millimetres: the bidirectional
 * rules under arbitrary edits, values on volumes with known contents
 * (non-square pixels, anisotropic voxels, oblique planes), the JSON form,
 * and undo/redo. */
#include "rr-measurement.h"
#include "rr-measurement-history.h"

#include <math.h>
#include <string.h>

/* A volume of zeros with a cylinder of @value along the slices: radius
 * @r mm about the patient z axis through (0,0). */
static RrVolume *
make_cylinder (double sx, double sy, double sz, double r, gint16 value)
{
  guint dims[3] = { (guint) ceil (80 / sx), (guint) ceil (80 / sy), (guint) ceil (40 / sz) };
  g_autoptr (GError) error = NULL;
  RrVolume *v = rr_volume_new (dims, RR_VOXEL_INT16, &error);
  gint16 *d;

  g_assert_no_error (error);
  v->spacing[0] = sx;
  v->spacing[1] = sy;
  v->row_dir = rr_vec3 (1, 0, 0);
  v->col_dir = rr_vec3 (0, 1, 0);
  for (guint k = 0; k < dims[2]; k++)
    v->slice_pos[k] = rr_vec3 (-((double) dims[0] - 1) * sx / 2, -((double) dims[1] - 1) * sy / 2,
                               -20 + k * sz);
  g_assert_true (rr_volume_finish_geometry (v, &error));
  v->series_uid = g_strdup ("1.2.3.4");
  g_free (v->units);
  v->units = g_strdup ("HU");
  for (guint k = 0; k < dims[2]; k++)
    {
      v->slice_sop[k] = g_strdup_printf ("1.2.3.4.%u", k + 1);
      v->slice_frame[k] = 0;
    }
  d = v->voxels;
  for (guint k = 0; k < dims[2]; k++)
    for (guint j = 0; j < dims[1]; j++)
      for (guint i = 0; i < dims[0]; i++)
        {
          RrVec3 p = rr_volume_voxel_to_patient (v, i, j, k);
          d[((gsize) k * dims[1] + j) * dims[0] + i] = hypot (p.x, p.y) <= r ? value : 0;
        }
  return v;
}

static RrPlane
axial_at (double z)
{
  RrPlane pl;
  rr_plane_init_standard (&pl, RR_PLANE_AXIAL, rr_vec3 (0, 0, z), 0.5, 200, 200);
  return pl;
}

static void
assert_bidi_rules (const RrMeasurement *m)
{
  RrVec3 a = rr_measurement_point (m, 0), b = rr_measurement_point (m, 1);
  RrVec3 c = rr_measurement_point (m, 2), d = rr_measurement_point (m, 3);
  RrVec3 l = rr_vec3_sub (b, a), s = rr_vec3_sub (d, c), n = rr_measurement_normal (m);
  double ll = rr_vec3_length (l), sl = rr_vec3_length (s);

  /* Perpendicular, in the plane, the short one no longer. */
  if (sl > 1e-6)
    g_assert_cmpfloat (fabs (rr_vec3_dot (l, s)) / (ll * sl), <, 1e-9);
  g_assert_cmpfloat (ll + 1e-9, >=, sl);
  for (guint i = 0; i < 4; i++)
    g_assert_cmpfloat (fabs (rr_vec3_dot (rr_vec3_sub (rr_measurement_point (m, i), m->plane_center),
                                          n)), <, 1e-12 * (1 + ll));
  /* The short axis crosses the long one within its ends. */
  if (sl > 1e-6)
    {
      RrVec3 dir = rr_vec3_scale (l, 1 / ll);
      double tc = rr_vec3_dot (rr_vec3_sub (c, a), dir), td = rr_vec3_dot (rr_vec3_sub (d, a), dir);
      g_assert_cmpfloat (fabs (tc - td), <, 1e-6);
      g_assert_cmpfloat (tc, >=, -1e-6);
      g_assert_cmpfloat (tc, <=, ll + 1e-6);
    }
}

static void
test_bidirectional_random_edits (void)
{
  /* An oblique plane, so nothing lines up with the patient axes. */
  RrPlane pl;
  RrVec3 pts[4] = { 0 };
  g_autoptr (GRand) rand = g_rand_new_with_seed (1234);
  guint swaps = 0;

  g_assert_true (rr_plane_init_oblique (&pl, rr_vec3 (0.3, -0.5, 0.8), rr_vec3 (0, 0, 1),
                                        rr_vec3 (10, -5, 30), 1, 100, 100));
  g_autoptr (RrMeasurement) m = rr_measurement_new (RR_MEASURE_BIDIRECTIONAL, &pl, pts, 4);
  rr_measurement_init_bidirectional (m, rr_plane_pixel_to_patient (&pl, 20, 50),
                                     rr_plane_pixel_to_patient (&pl, 80, 50));
  assert_bidi_rules (m);
  {
    RrMeasureValues v;
    rr_measurement_compute (m, NULL, &v);
    g_assert_cmpfloat_with_epsilon (v.length, 60, 1e-9);
    /* Not measured: nothing is made up from the long axis. */
    g_assert_cmpfloat (v.width, <, 1e-9);
    g_assert_false (rr_measurement_has_short_axis (m));
  }
  for (int it = 0; it < 5000; it++)
    {
      guint h = g_rand_int_range (rand, 0, 4);
      RrVec3 p = rr_vec3_add (rr_measurement_point (m, h),
                              rr_vec3 (g_rand_double_range (rand, -15, 15),
                                       g_rand_double_range (rand, -15, 15),
                                       g_rand_double_range (rand, -15, 15)));
      if (it % 100 == 0)
        rr_measurement_init_bidirectional (
          m, rr_plane_pixel_to_patient (&pl, g_rand_int_range (rand, 0, 50), 40),
          rr_plane_pixel_to_patient (&pl, 60, g_rand_int_range (rand, 0, 99)));
      if (it % 25 == 10)
        {
          /* Now and then pull a short-axis end far out: the axes swap. */
          h = 2 + it / 25 % 2;
          p = rr_vec3_add (rr_measurement_point (m, h),
                           rr_vec3_scale (rr_vec3_sub (rr_measurement_point (m, h),
                                                       rr_measurement_point (m, 5 - h)), 3));
        }
      guint now = rr_measurement_move_handle (m, h, p);
      g_assert_cmpuint (now, <, 4);
      if ((h < 2) != (now < 2))
        swaps++;
      assert_bidi_rules (m);
    }
  g_assert_cmpuint (swaps, >, 10);
}

static void
test_bidirectional_swap (void)
{
  RrPlane pl = axial_at (0);
  RrVec3 pts[4] = { 0 };
  g_autoptr (RrMeasurement) m = rr_measurement_new (RR_MEASURE_BIDIRECTIONAL, &pl, pts, 4);
  RrMeasureValues v;
  guint h;

  /* Long axis along x from -10 to 10; the short axis not measured, both
   * its ends at x=0 on it. */
  rr_measurement_init_bidirectional (m, rr_vec3 (-10, 0, 0), rr_vec3 (10, 0, 0));
  rr_measurement_compute (m, NULL, &v);
  g_assert_cmpfloat (v.width, <, 1e-9);
  g_assert_false (rr_measurement_has_short_axis (m));
  for (guint i = 2; i < 4; i++)
    g_assert_cmpfloat (rr_vec3_length (rr_measurement_point (m, i)), <, 1e-9);
  /* The end grabbed goes to the pointer's side (c is on +y here, so a
   * pull to -y moves d), the other stays: 5 mm measured. */
  h = rr_measurement_move_handle (m, 2, rr_vec3 (0, -5, 0));
  g_assert_cmpuint (h, ==, 3);
  rr_measurement_compute (m, NULL, &v);
  g_assert_cmpfloat_with_epsilon (v.width, 5, 1e-9);
  g_assert_true (rr_measurement_has_short_axis (m));
  assert_bidi_rules (m);
  /* Then the other end: 5 mm each side. */
  h = rr_measurement_move_handle (m, 2, rr_vec3 (0, 5, 0));
  g_assert_cmpuint (h, ==, 2);
  rr_measurement_compute (m, NULL, &v);
  g_assert_cmpfloat_with_epsilon (v.width, 10, 1e-9);
  /* Drag the short axis' end out to 30 mm: it becomes the long axis, and
   * the handle under the pointer is now an end of the long axis. */
  h = rr_measurement_move_handle (m, 2, rr_vec3 (0, 30, 0));
  rr_measurement_compute (m, NULL, &v);
  g_assert_cmpuint (h, <, 2);
  g_assert_cmpfloat_with_epsilon (v.length, 35, 1e-9);
  g_assert_cmpfloat_with_epsilon (v.width, 20, 1e-9);
  g_assert_cmpfloat (rr_vec3_length (rr_vec3_sub (rr_measurement_point (m, h), rr_vec3 (0, 30, 0))),
                     <, 1e-9);
  assert_bidi_rules (m);
  /* Moving a long-axis end keeps the short axis perpendicular, crossing at
   * the same fraction, same lengths. */
  rr_measurement_move_handle (m, 0, rr_vec3 (20, 30, 0));
  rr_measurement_compute (m, NULL, &v);
  g_assert_cmpfloat_with_epsilon (v.width, 20, 1e-9);
  assert_bidi_rules (m);
  /* A point off the plane is projected onto it. */
  rr_measurement_move_handle (m, 1, rr_vec3 (0, -5, 12));
  g_assert_cmpfloat (fabs (rr_measurement_point (m, 1).z), <, 1e-12);
  assert_bidi_rules (m);
}

static void
test_lengths_angle_area (void)
{
  RrPlane pl = axial_at (3);
  RrVec3 l[2] = { { 0, 0, 3 }, { 3, 4, 3 } };
  RrVec3 a[3] = { { 10, 0, 3 }, { 0, 0, 3 }, { 0, 7, 3 } };
  RrVec3 sq[4] = { { 0, 0, 3 }, { 10, 0, 3 }, { 10, 20, 3 }, { 0, 20, 3 } };
  RrVec3 e[3] = { { 0, 0, 3 }, { 8, 0, 3 }, { 0, 5, 3 } };
  RrMeasureValues v;

  g_autoptr (RrMeasurement) ml = rr_measurement_new (RR_MEASURE_LENGTH, &pl, l, 2);
  rr_measurement_compute (ml, NULL, &v);
  g_assert_cmpfloat_with_epsilon (v.length, 5, 1e-12);
  g_assert_true (v.calibrated);
  ml->calibration = RR_CALIBRATION_NONE;
  rr_measurement_compute (ml, NULL, &v);
  g_assert_false (v.calibrated);

  g_autoptr (RrMeasurement) ma = rr_measurement_new (RR_MEASURE_ANGLE, &pl, a, 3);
  rr_measurement_compute (ma, NULL, &v);
  g_assert_cmpfloat_with_epsilon (v.angle_deg, 90, 1e-9);
  rr_measurement_move_handle (ma, 2, rr_vec3 (10, 10, 3));
  rr_measurement_compute (ma, NULL, &v);
  g_assert_cmpfloat_with_epsilon (v.angle_deg, 45, 1e-9);

  g_autoptr (RrMeasurement) mf = rr_measurement_new (RR_MEASURE_FREEHAND, &pl, sq, 4);
  rr_measurement_compute (mf, NULL, &v);
  g_assert_cmpfloat_with_epsilon (v.area, 200, 1e-9);
  g_assert_cmpfloat_with_epsilon (v.length, 60, 1e-9);

  g_autoptr (RrMeasurement) me = rr_measurement_new (RR_MEASURE_ELLIPSE, &pl, e, 3);
  rr_measurement_compute (me, NULL, &v);
  g_assert_cmpfloat_with_epsilon (v.area, G_PI * 40, 1e-9);
  /* Turning the first axis turns the second with it, lengths kept. */
  rr_measurement_move_handle (me, 1, rr_vec3 (0, 8, 3));
  rr_measurement_compute (me, NULL, &v);
  g_assert_cmpfloat_with_epsilon (v.area, G_PI * 40, 1e-9);
  g_assert_cmpfloat (fabs (rr_measurement_point (me, 2).y), <, 1e-9);
  /* The centre handle moves the whole ellipse. */
  rr_measurement_move_handle (me, 0, rr_vec3 (5, 5, 3));
  g_assert_cmpfloat_with_epsilon (rr_measurement_point (me, 1).y, 13, 1e-9);
}

/* ROI statistics on a known cylinder, with non-square pixels and
 * anisotropic voxels: the mean inside is the cylinder's value exactly and
 * the area is the ellipse's, whatever the pixel shape. */
static void
test_roi_stats (void)
{
  g_autoptr (RrVolume) vol = make_cylinder (0.6, 1.1, 2.5, 20, 137);
  RrPlane pl = axial_at (vol->slice_d[7]);
  RrVec3 e[3] = { { 2, -3, 0 }, { 14, -3, 0 }, { 2, 5, 0 } };
  RrMeasureValues v;

  g_autoptr (RrMeasurement) m = rr_measurement_new (RR_MEASURE_ELLIPSE, &pl, e, 3);
  rr_measurement_set_source (m, vol);
  g_assert_cmpstr (m->sop_uid, ==, "1.2.3.4.8");
  rr_measurement_compute (m, vol, &v);
  g_assert_true (v.has_stats);
  g_assert_cmpfloat_with_epsilon (v.mean, 137, 1e-3);
  g_assert_cmpfloat_with_epsilon (v.sd, 0, 1e-3);
  g_assert_cmpstr (v.units, ==, "HU");
  /* The samples are the voxels: their count times a voxel's area is the
   * ellipse's area within a few percent. */
  g_assert_cmpfloat (fabs (v.n_samples * 0.6 * 1.1 - G_PI * 12 * 8) / (G_PI * 12 * 8), <, 0.05);

  /* Half inside, half outside the cylinder: min 0, max 137. */
  rr_measurement_translate (m, rr_vec3 (18, 3, 0));
  rr_measurement_compute (m, vol, &v);
  g_assert_cmpfloat (v.min, ==, 0);
  g_assert_cmpfloat (v.max, ==, 137);
  g_assert_cmpfloat (v.mean, >, 20);
  g_assert_cmpfloat (v.mean, <, 117);

  /* A coronal plane through the axis: a rectangle ROI within the cylinder
   * sees only the cylinder's value, across slices. */
  {
    RrPlane cor;
    RrVec3 sq[4] = { { -10, 0, -10 }, { 10, 0, -10 }, { 10, 0, 10 }, { -10, 0, 10 } };
    rr_plane_init_standard (&cor, RR_PLANE_CORONAL, rr_vec3 (0, 0, 0), 1, 10, 10);
    g_autoptr (RrMeasurement) f = rr_measurement_new (RR_MEASURE_FREEHAND, &cor, sq, 4);
    rr_measurement_set_source (f, vol);
    g_assert_null (f->sop_uid);
    rr_measurement_compute (f, vol, &v);
    g_assert_cmpfloat_with_epsilon (v.mean, 137, 1e-3);
    g_assert_cmpfloat_with_epsilon (v.area, 400, 1e-9);
  }
  /* On a MIP slab, the ROI sees the brightest slice within the slab:
   * slice 9 (5 mm away, inside a 12 mm slab) is made 500 in the cylinder. */
  {
    gint16 *d = vol->voxels;
    gsize plane = (gsize) vol->dims[0] * vol->dims[1];
    RrVec3 c[3] = { { 0, 0, 0 }, { 6, 0, 0 }, { 0, 6, 0 } };
    for (gsize i = 0; i < plane; i++)
      if (d[9 * plane + i] == 137)
        d[9 * plane + i] = 500;
    RrPlane slab = axial_at (vol->slice_d[7]);
    slab.slab_mode = RR_SLAB_MIP;
    slab.slab_mm = 12;
    g_autoptr (RrMeasurement) s = rr_measurement_new (RR_MEASURE_ELLIPSE, &slab, c, 3);
    rr_measurement_set_source (s, vol);
    g_assert_null (s->sop_uid);  /* a slab is not one acquired image */
    rr_measurement_compute (s, vol, &v);
    /* Samples 0.6 mm apart through the slab: the brightest lies within
     * 0.3 mm of slice 9, so at least 0.88 of the way from 137 to 500. */
    g_assert_cmpfloat (v.mean, >, 137 + 0.88 * (500 - 137));
    g_assert_cmpfloat (v.mean, <=, 500);
    slab.slab_mode = RR_SLAB_NONE;
    g_autoptr (RrMeasurement) thin = rr_measurement_new (RR_MEASURE_ELLIPSE, &slab, c, 3);
    rr_measurement_compute (thin, vol, &v);
    g_assert_cmpfloat (v.mean, ==, 137);
  }
  /* A probe outside the cylinder reads 0, inside 137; PET units in SUV. */
  {
    RrVec3 p = { 30, 0, 0 };
    g_autoptr (RrMeasurement) pr = rr_measurement_new (RR_MEASURE_PROBE, &pl, &p, 1);
    rr_measurement_compute (pr, vol, &v);
    g_assert_true (v.has_stats);
    g_assert_cmpfloat (v.mean, ==, 0);
    rr_measurement_move_handle (pr, 0, rr_vec3 (1, 1, 0));
    vol->suv_state = RR_SUV_AVAILABLE;
    vol->suv_factor = 0.01;
    rr_measurement_compute (pr, vol, &v);
    g_assert_cmpfloat_with_epsilon (v.mean, 1.37, 1e-6);
    g_assert_cmpstr (v.units, ==, "SUVbw");
  }
}

static void
test_json (void)
{
  RrPlane pl;
  RrVec3 pts[4] = { 0 };
  g_autoptr (GError) error = NULL;

  g_assert_true (rr_plane_init_oblique (&pl, rr_vec3 (0.2, 0.1, 1), rr_vec3 (0, 1, 0),
                                        rr_vec3 (1.25, -7, 33.3), 1, 10, 10));
  pl.slab_mode = RR_SLAB_MIP;
  pl.slab_mm = 12.5;
  g_autoptr (RrMeasurement) m = rr_measurement_new (RR_MEASURE_BIDIRECTIONAL, &pl, pts, 4);
  rr_measurement_init_bidirectional (m, rr_vec3 (0.1, 0.2, 33), rr_vec3 (20.7, 3.3, 30));
  m->series_uid = g_strdup ("1.2.840.1");
  m->text = g_strdup ("liver \"segment\" VII");
  g_autofree char *json = rr_measurement_to_json (m);
  g_autoptr (RrMeasurement) back = rr_measurement_from_json (json, &error);
  g_assert_no_error (error);
  g_autofree char *again = rr_measurement_to_json (back);
  g_assert_cmpstr (json, ==, again);
  g_assert_cmpstr (back->id, ==, m->id);
  g_assert_cmpint (back->slab_mode, ==, RR_SLAB_MIP);
  for (guint i = 0; i < 4; i++)
    g_assert_true (memcmp (&g_array_index (back->points, RrVec3, i),
                           &g_array_index (m->points, RrVec3, i), sizeof (RrVec3)) == 0);

  /* Strict: each of these is refused with a message, never a crash. */
  static const char *const bad[] = {
    "", "[]", "{}", "{\"kind\":\"length\"}",
    "{\"id\":\"a\",\"kind\":\"length\",\"points\":[[0,0,0]],"
    "\"plane\":{\"center\":[0,0,0],\"right\":[1,0,0],\"down\":[0,1,0]}}",
    "{\"id\":\"a\",\"kind\":\"nope\",\"points\":[[0,0,0],[1,1,1]],"
    "\"plane\":{\"center\":[0,0,0],\"right\":[1,0,0],\"down\":[0,1,0]}}",
    "{\"id\":\"a\",\"kind\":\"length\",\"points\":[[0,0,0],[1,1,\"x\"]],"
    "\"plane\":{\"center\":[0,0,0],\"right\":[1,0,0],\"down\":[0,1,0]}}",
    "{\"id\":\"a\",\"kind\":\"length\",\"points\":[[0,0,0],[1,1,1e400]],"
    "\"plane\":{\"center\":[0,0,0],\"right\":[1,0,0],\"down\":[0,1,0]}}",
    "{\"id\":\"a\",\"kind\":\"length\",\"points\":[[0,0,0],[1,1,1]],"
    "\"plane\":{\"center\":[0,0,0],\"right\":[1,0,0],\"down\":[1,0,0]}}",
    "{\"id\":\"\",\"kind\":\"length\",\"points\":[[0,0,0],[1,1,1]],"
    "\"plane\":{\"center\":[0,0,0],\"right\":[1,0,0],\"down\":[0,1,0]}}",
    "{\"id\":\"a\",\"kind\":\"length\",\"points\":[[0,0,0],[1,1,1]],\"frame\":-1,"
    "\"plane\":{\"center\":[0,0,0],\"right\":[1,0,0],\"down\":[0,1,0]}}",
    "{\"id\":\"a\",\"kind\":\"length\",\"points\":[[0,0,0],[1,1,1]],\"calibration\":\"guess\","
    "\"plane\":{\"center\":[0,0,0],\"right\":[1,0,0],\"down\":[0,1,0]}}",
  };
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) e = NULL;
      g_autoptr (RrMeasurement) r = rr_measurement_from_json (bad[i], &e);
      g_assert_null (r);
      g_assert_nonnull (e);
      g_assert_nonnull (e->message);
    }
  /* Too many freehand points. */
  {
    GString *s = g_string_new ("{\"id\":\"a\",\"kind\":\"freehand\",\"points\":[");
    g_autoptr (GError) e = NULL;
    for (guint i = 0; i < RR_MEASUREMENT_MAX_POINTS + 1; i++)
      g_string_append_printf (s, "%s[%u,0,0]", i ? "," : "", i);
    g_string_append (s, "],\"plane\":{\"center\":[0,0,0],\"right\":[1,0,0],\"down\":[0,1,0]}}");
    g_autoptr (RrMeasurement) r = rr_measurement_from_json (s->str, &e);
    g_assert_null (r);
    g_string_free (s, TRUE);
  }
}

typedef struct
{
  GString *log;
  gboolean refuse;
} Journal;

static gboolean
on_change (RrMeasurementChange  change,
           const RrMeasurement *m,
           gpointer             data)
{
  Journal *j = data;
  static const char *const names[] = { "add", "change", "remove" };
  RrMeasureValues v;
  if (j->refuse)
    return FALSE;
  rr_measurement_compute (m, NULL, &v);
  g_string_append_printf (j->log, "%s %s %.0f;", names[change], m->text, v.length);
  return TRUE;
}

static RrMeasurement *
length_named (const char *name, double len, gint64 t)
{
  RrPlane pl = axial_at (0);
  RrVec3 p[2] = { { 0, 0, 0 }, { len, 0, 0 } };
  RrMeasurement *m = rr_measurement_new (RR_MEASURE_LENGTH, &pl, p, 2);
  m->text = g_strdup (name);
  m->created_us = t;
  return m;
}

static guint
count (RrMeasurementHistory *h)
{
  return rr_measurement_history_items (h)->len;
}

static void
test_history (void)
{
  Journal j = { g_string_new (NULL), FALSE };
  g_autoptr (RrMeasurementHistory) h = rr_measurement_history_new (on_change, &j);
  RrMeasurement *a = length_named ("a", 10, 1), *b = length_named ("b", 20, 2);
  g_autofree char *a_id = g_strdup (a->id), *b_id = g_strdup (b->id);
  RrMeasurement *a2;

  g_assert_false (rr_measurement_history_can_undo (h));
  g_assert_true (rr_measurement_history_add (h, a));
  g_assert_true (rr_measurement_history_add (h, b));
  a2 = rr_measurement_copy (rr_measurement_history_find (h, a_id));
  rr_measurement_move_handle (a2, 1, rr_vec3 (15, 0, 0));
  g_assert_true (rr_measurement_history_put (h, a2));
  g_assert_true (rr_measurement_history_remove (h, b_id));
  g_assert_cmpuint (count (h), ==, 1);
  g_assert_cmpstr (j.log->str, ==, "add a 10;add b 20;change a 15;remove b 20;");

  g_string_truncate (j.log, 0);
  g_assert_true (rr_measurement_history_undo (h));   /* b back, in its place */
  g_assert_cmpuint (count (h), ==, 2);
  g_assert_cmpstr (((RrMeasurement *) rr_measurement_history_items (h)->pdata[1])->id, ==, b_id);
  g_assert_true (rr_measurement_history_undo (h));   /* a back to 10 */
  g_assert_true (rr_measurement_history_undo (h));   /* b gone */
  g_assert_true (rr_measurement_history_undo (h));   /* a gone */
  g_assert_false (rr_measurement_history_undo (h));
  g_assert_cmpuint (count (h), ==, 0);
  g_assert_cmpstr (j.log->str, ==, "add b 20;change a 10;remove b 20;remove a 10;");

  g_string_truncate (j.log, 0);
  g_assert_true (rr_measurement_history_redo (h));
  g_assert_true (rr_measurement_history_redo (h));
  g_assert_true (rr_measurement_history_redo (h));
  g_assert_cmpstr (j.log->str, ==, "add a 10;add b 20;change a 15;");
  /* A new change drops what could be redone. */
  g_assert_true (rr_measurement_history_add (h, length_named ("c", 30, 3)));
  g_assert_false (rr_measurement_history_can_redo (h));
  g_assert_false (rr_measurement_history_redo (h));
  g_assert_cmpuint (count (h), ==, 3);

  /* A change that cannot be saved does not happen, and is not recorded. */
  j.refuse = TRUE;
  g_assert_false (rr_measurement_history_remove (h, a_id));
  g_assert_cmpuint (count (h), ==, 3);
  g_assert_false (rr_measurement_history_undo (h));
  g_assert_cmpuint (count (h), ==, 3);
  j.refuse = FALSE;
  g_assert_true (rr_measurement_history_undo (h));
  g_assert_cmpuint (count (h), ==, 2);
  /* Unknown ids and duplicates are refused. */
  g_assert_false (rr_measurement_history_remove (h, "nope"));
  g_assert_false (rr_measurement_history_add (h, rr_measurement_copy (
                    rr_measurement_history_find (h, a_id))));
  g_string_free (j.log, TRUE);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/measurement/bidirectional/random-edits", test_bidirectional_random_edits);
  g_test_add_func ("/measurement/bidirectional/swap", test_bidirectional_swap);
  g_test_add_func ("/measurement/lengths-angle-area", test_lengths_angle_area);
  g_test_add_func ("/measurement/roi-stats", test_roi_stats);
  g_test_add_func ("/measurement/json", test_json);
  g_test_add_func ("/measurement/history", test_history);
  return g_test_run ();
}
