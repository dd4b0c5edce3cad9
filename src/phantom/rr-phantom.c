/* rr-phantom.c: the phantom's anatomy, its sampling into slices, and the
 * DICOM attributes that make each file a valid CT, PET or MR image. */
#include "rr-phantom.h"
#include "rr-dicom.h"

#include <json-glib/json-glib.h>
#include <string.h>

RrPhantomSpec *
rr_phantom_spec_new (RrPhantomKind kind)
{
  RrPhantomSpec *s = g_new0 (RrPhantomSpec, 1);
  s->kind = kind;
  s->lesions = g_array_new (FALSE, FALSE, sizeof (RrPhantomLesion));
  s->row_dir = rr_vec3 (1, 0, 0);
  s->col_dir = rr_vec3 (0, 1, 0);
  s->missing_slice = -1;
  s->uneven_from = -1;
  s->seed = 1;
  s->transfer_syntax = g_strdup (RR_TS_EXPLICIT_LE);
  s->patient_id = g_strdup ("PHANTOM-001");
  /* NULL: the Patient ID, as de-identification writes the subject ID
   * into both (rr-server-phi.c refuses any other name). */
  s->patient_name = NULL;
  s->study_date = g_strdup ("20260105");
  s->study_description = g_strdup ("Synthetic phantom");
  s->series_number = 1;
  switch (kind)
    {
    case RR_PHANTOM_CT:
      s->rows = s->columns = 512;
      s->row_spacing = s->col_spacing = 0.7;
      s->slices = 100;
      s->slice_spacing = s->slice_thickness = 2.5;
      s->noise_sd = 10;
      s->series_description = g_strdup ("CT chest-abdomen phantom");
      break;
    case RR_PHANTOM_PET:
      s->rows = s->columns = 128;
      s->row_spacing = s->col_spacing = 4.0;
      s->slices = 64;
      s->slice_spacing = s->slice_thickness = 4.0;
      s->noise_sd = 0;
      s->weight_kg = 75;
      s->dose_bq = 370e6;
      s->half_life_s = 6586.2;
      s->uptake_minutes = 60;
      s->series_number = 3;
      s->series_description = g_strdup ("PET FDG phantom");
      break;
    case RR_PHANTOM_MR:
      s->rows = s->columns = 256;
      s->row_spacing = s->col_spacing = 1.4;
      s->slices = 60;
      s->slice_spacing = s->slice_thickness = 4.0;
      s->noise_sd = 8;
      s->series_number = 5;
      s->series_description = g_strdup ("MR T1 phantom");
      break;
    }
  return s;
}

void
rr_phantom_spec_free (RrPhantomSpec *spec)
{
  if (spec == NULL)
    return;
  g_array_unref (spec->lesions);
  g_free (spec->transfer_syntax);
  g_free (spec->patient_id);
  g_free (spec->patient_name);
  g_free (spec->study_uid);
  g_free (spec->frame_of_reference);
  g_free (spec->study_date);
  g_free (spec->study_description);
  g_free (spec->series_description);
  g_free (spec);
}

void
rr_phantom_spec_add_lesion (RrPhantomSpec *spec,
                            RrVec3         center,
                            double         diameter,
                            double         value)
{
  RrPhantomLesion l = { center, diameter, value };
  g_array_append_val (spec->lesions, l);
}

/* Tissue values per kind: air, body, lung, bone. */
static void
tissues (RrPhantomKind kind, double *air, double *body, double *lung, double *bone)
{
  switch (kind)
    {
    case RR_PHANTOM_CT:
      *air = -1000, *body = 40, *lung = -850, *bone = 700;
      break;
    case RR_PHANTOM_PET:
      *air = 0, *body = 1.0, *lung = 0.3, *bone = 2.0;
      break;
    case RR_PHANTOM_MR:
      *air = 0, *body = 400, *lung = 40, *bone = 600;
      break;
    }
}

static gboolean
in_ellipse (double x, double y, double cx, double cy, double rx, double ry)
{
  double dx = (x - cx) / rx, dy = (y - cy) / ry;
  return dx * dx + dy * dy <= 1.0;
}

double
rr_phantom_truth (const RrPhantomSpec *spec,
                  RrVec3               p)
{
  double air = 0, body = 0, lung = 0, bone = 0, v;

  tissues (spec->kind, &air, &body, &lung, &bone);
  /* Lesions first: they sit on top of whatever tissue holds them. */
  for (guint i = 0; i < spec->lesions->len; i++)
    {
      const RrPhantomLesion *l = &g_array_index (spec->lesions, RrPhantomLesion, i);
      double r = l->diameter / 2;
      if (r > 0 && rr_vec3_length (rr_vec3_sub (p, l->center)) <= r)
        return l->value;
    }
  /* Body: an elliptic cylinder along z, 320 x 220 mm. */
  if (!in_ellipse (p.x, p.y, 0, 0, 160, 110))
    return air;
  v = body;
  if (in_ellipse (p.x, p.y, -75, -10, 50, 70) || in_ellipse (p.x, p.y, 75, -10, 50, 70))
    v = lung;
  if (in_ellipse (p.x, p.y, 0, 72, 18, 18))
    v = bone;
  return v;
}

RrVec3
rr_phantom_slice_position (const RrPhantomSpec *spec,
                           guint                k)
{
  RrVec3 n = rr_vec3_normalize (rr_vec3_cross (spec->row_dir, spec->col_dir));
  double along = ((double) k - (spec->slices - 1) / 2.0) * spec->slice_spacing;
  RrVec3 c;

  if (spec->uneven_from >= 0 && (int) k >= spec->uneven_from)
    along += spec->uneven_shift;
  c = rr_vec3_add (spec->center, rr_vec3_scale (n, along));
  if (spec->tilt_deg != 0)
    c = rr_vec3_add (c, rr_vec3_scale (spec->col_dir, along * tan (spec->tilt_deg * G_PI / 180)));
  c = rr_vec3_sub (c, rr_vec3_scale (spec->row_dir, (spec->columns - 1) / 2.0 * spec->col_spacing));
  c = rr_vec3_sub (c, rr_vec3_scale (spec->col_dir, (spec->rows - 1) / 2.0 * spec->row_spacing));
  return c;
}

/* Deterministic per-voxel noise: the same file content in any write order. */
static double
noise (guint32 seed, guint k, guint j, guint i)
{
  guint64 z = ((guint64) seed << 40) ^ ((guint64) k << 28) ^ ((guint64) j << 14) ^ i;
  double u1, u2;
  z += 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  z ^= z >> 31;
  u1 = ((z >> 11) + 1.0) / 9007199254740993.0;
  z = z * 6364136223846793005ULL + 1442695040888963407ULL;
  u2 = (z >> 11) / 9007199254740992.0;
  return sqrt (-2 * log (u1)) * cos (2 * G_PI * u2);
}

static char *
fmt_ds (double v)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  char *s = g_strdup (g_ascii_formatd (buf, sizeof buf, "%.10g", v));
  /* DS holds at most 16 characters. */
  if (strlen (s) > 16)
    {
      g_free (s);
      s = g_strdup (g_ascii_formatd (buf, sizeof buf, "%.8g", v));
    }
  return s;
}

static char *
fmt_vec (const double *v, int n)
{
  GString *s = g_string_new (NULL);
  for (int i = 0; i < n; i++)
    {
      g_autofree char *d = fmt_ds (fabs (v[i]) < 1e-12 ? 0 : v[i]);
      if (i)
        g_string_append_c (s, '\\');
      g_string_append (s, d);
    }
  return g_string_free (s, FALSE);
}

#define SET(tag, val)                                                  \
  G_STMT_START {                                                       \
    if (!rr_dicom_dataset_set_string (ds, tag, val, error))            \
      return FALSE;                                                    \
  } G_STMT_END
#define SET16(tag, val)                                                \
  G_STMT_START {                                                       \
    if (!rr_dicom_dataset_set_uint16 (ds, tag, val, error))            \
      return FALSE;                                                    \
  } G_STMT_END

typedef struct
{
  char *study_uid;
  char *series_uid;
  char *frame_uid;
  char *series_time;
  char *injection_time;
} Uids;

/* PS3.16 CID 7050, the profile and options the phantom's attributes
 * follow. */
static const char *const deid_codes[][2] = {
  { "113100", "Basic Application Confidentiality Profile" },
  { "113105", "Clean Descriptors Option" },
  { "113107", "Retain Longitudinal Temporal Information Modified Dates Option" },
  { "113108", "Retain Patient Characteristics Option" },
};

static gboolean
fill_common (const RrPhantomSpec *spec, const Uids *u, RrDicomDataset *ds, guint k,
             RrVec3 pos, GError **error)
{
  static const char *sop_classes[] = {
    "1.2.840.10008.5.1.4.1.1.2",    /* CT Image Storage */
    "1.2.840.10008.5.1.4.1.1.128",  /* PET Image Storage */
    "1.2.840.10008.5.1.4.1.1.4",    /* MR Image Storage */
  };
  static const char *modalities[] = { "CT", "PT", "MR" };
  g_autofree char *sop = rr_dicom_make_uid (NULL);
  g_autofree char *num = g_strdup_printf ("%u", k + 1);
  g_autofree char *series_num = g_strdup_printf ("%d", spec->series_number);
  double iop[6] = { spec->row_dir.x, spec->row_dir.y, spec->row_dir.z,
                    spec->col_dir.x, spec->col_dir.y, spec->col_dir.z };
  double ipp[3] = { pos.x, pos.y, pos.z };
  double ps[2] = { spec->row_spacing, spec->col_spacing };
  g_autofree char *iop_s = fmt_vec (iop, 6);
  g_autofree char *ipp_s = fmt_vec (ipp, 3);
  g_autofree char *ps_s = fmt_vec (ps, 2);
  g_autofree char *thick = fmt_ds (spec->slice_thickness);
  RrVec3 n = rr_vec3_normalize (rr_vec3_cross (spec->row_dir, spec->col_dir));
  g_autofree char *loc = fmt_ds (rr_vec3_dot (pos, n));

  SET (RR_TAG (0x0008, 0x0005), "ISO_IR 100");
  SET (RR_TAG (0x0008, 0x0016), sop_classes[spec->kind]);
  SET (RR_TAG (0x0008, 0x0018), sop);
  SET (RR_TAG (0x0008, 0x0020), spec->study_date);
  SET (RR_TAG (0x0008, 0x0021), spec->study_date);
  SET (RR_TAG (0x0008, 0x0023), spec->study_date);
  SET (RR_TAG (0x0008, 0x0030), "090000");
  SET (RR_TAG (0x0008, 0x0031), u->series_time);
  SET (RR_TAG (0x0008, 0x0033), u->series_time);
  SET (RR_TAG (0x0008, 0x0050), "");
  SET (RR_TAG (0x0008, 0x0060), modalities[spec->kind]);
  SET (RR_TAG (0x0008, 0x0070), "Readroom");
  SET (RR_TAG (0x0008, 0x0090), "");
  SET (RR_TAG (0x0008, 0x1030), spec->study_description);
  SET (RR_TAG (0x0008, 0x103e), spec->series_description);
  SET (RR_TAG (0x0008, 0x1090), "readroom-phantom");
  SET (RR_TAG (0x0010, 0x0010), spec->patient_name ? spec->patient_name : spec->patient_id);
  SET (RR_TAG (0x0010, 0x0020), spec->patient_id);
  SET (RR_TAG (0x0010, 0x0030), "");
  SET (RR_TAG (0x0010, 0x0040), "O");
  SET (RR_TAG (0x0012, 0x0062), "YES");  /* Patient Identity Removed */
  SET (RR_TAG (0x0012, 0x0063), "Synthetic data, no patient");
  /* The file is what the Basic Profile with these options leaves: its
   * dates, descriptions, sex and weight are what the options keep, so the
   * server takes it as de-identified (server-api.md, POST /instances). */
  for (gsize i = 0; i < G_N_ELEMENTS (deid_codes); i++)
    {
      RrDicomDataset *code = rr_dicom_dataset_add_item (ds, RR_TAG (0x0012, 0x0064));
      if (!rr_dicom_dataset_set_string (code, RR_TAG (0x0008, 0x0100), deid_codes[i][0], error) ||
          !rr_dicom_dataset_set_string (code, RR_TAG (0x0008, 0x0102), "DCM", error) ||
          !rr_dicom_dataset_set_string (code, RR_TAG (0x0008, 0x0104), deid_codes[i][1], error))
        return FALSE;
    }
  SET (RR_TAG (0x0028, 0x0303), "MODIFIED");
  SET (RR_TAG (0x0018, 0x0015), "CHEST");
  SET (RR_TAG (0x0018, 0x0050), thick);
  if (spec->kind != RR_PHANTOM_PET)
    SET (RR_TAG (0x0018, 0x5100), "HFS");
  SET (RR_TAG (0x0020, 0x000d), u->study_uid);
  SET (RR_TAG (0x0020, 0x000e), u->series_uid);
  /* Study ID: a dummy, as the profile's Z allows (media profiles want a
   * value). */
  SET (RR_TAG (0x0020, 0x0010), "0");
  SET (RR_TAG (0x0020, 0x0011), series_num);
  SET (RR_TAG (0x0020, 0x0012), "1");
  SET (RR_TAG (0x0020, 0x0013), num);
  SET (RR_TAG (0x0020, 0x0032), ipp_s);
  SET (RR_TAG (0x0020, 0x0037), iop_s);
  SET (RR_TAG (0x0020, 0x0052), u->frame_uid);
  SET (RR_TAG (0x0020, 0x1040), "");
  SET (RR_TAG (0x0020, 0x1041), loc);
  SET16 (RR_TAG (0x0028, 0x0002), 1);
  SET (RR_TAG (0x0028, 0x0004), "MONOCHROME2");
  SET16 (RR_TAG (0x0028, 0x0010), spec->rows);
  SET16 (RR_TAG (0x0028, 0x0011), spec->columns);
  SET (RR_TAG (0x0028, 0x0030), ps_s);
  SET16 (RR_TAG (0x0028, 0x0100), 16);
  return TRUE;
}

static gboolean
write_slice (const RrPhantomSpec *spec, const Uids *u, guint k, const char *path,
             GError **error)
{
  g_autoptr (RrDicomDataset) ds = rr_dicom_dataset_new ();
  RrVec3 pos = rr_phantom_slice_position (spec, k);
  gsize n = (gsize) spec->rows * spec->columns;
  g_autofree double *vals = g_new (double, n);
  g_autofree guint16 *pix = g_new (guint16, n);
  double vmax = 0;

  if (!fill_common (spec, u, ds, k, pos, error))
    return FALSE;

  for (guint j = 0; j < spec->rows; j++)
    for (guint i = 0; i < spec->columns; i++)
      {
        RrVec3 p = rr_vec3_add (pos, rr_vec3_add (rr_vec3_scale (spec->row_dir, i * spec->col_spacing),
                                                  rr_vec3_scale (spec->col_dir, j * spec->row_spacing)));
        double v = rr_phantom_truth (spec, p);
        if (spec->noise_sd > 0)
          v += spec->noise_sd * noise (spec->seed, k, j, i);
        vals[(gsize) j * spec->columns + i] = v;
        vmax = MAX (vmax, v);
      }

  switch (spec->kind)
    {
    case RR_PHANTOM_CT:
      for (gsize p = 0; p < n; p++)
        pix[p] = (guint16) CLAMP (lround (vals[p]) + 1024, 0, 4095);
      SET (RR_TAG (0x0008, 0x0008), "ORIGINAL\\PRIMARY\\AXIAL");
      SET (RR_TAG (0x0018, 0x0060), "120");
      SET16 (RR_TAG (0x0028, 0x0101), 12);
      SET16 (RR_TAG (0x0028, 0x0102), 11);
      SET16 (RR_TAG (0x0028, 0x0103), 0);
      SET (RR_TAG (0x0028, 0x1050), "40");
      SET (RR_TAG (0x0028, 0x1051), "400");
      SET (RR_TAG (0x0028, 0x1052), "-1024");
      SET (RR_TAG (0x0028, 0x1053), "1");
      SET (RR_TAG (0x0028, 0x1054), "HU");
      break;
    case RR_PHANTOM_MR:
      for (gsize p = 0; p < n; p++)
        pix[p] = (guint16) CLAMP (lround (vals[p]), 0, 4095);
      SET (RR_TAG (0x0008, 0x0008), "ORIGINAL\\PRIMARY\\OTHER");
      SET (RR_TAG (0x0018, 0x0020), "SE");
      SET (RR_TAG (0x0018, 0x0021), "NONE");
      SET (RR_TAG (0x0018, 0x0022), "");
      SET (RR_TAG (0x0018, 0x0023), "2D");
      SET (RR_TAG (0x0018, 0x0080), "500");
      SET (RR_TAG (0x0018, 0x0081), "15");
      SET (RR_TAG (0x0018, 0x0091), "1");
      SET16 (RR_TAG (0x0028, 0x0101), 12);
      SET16 (RR_TAG (0x0028, 0x0102), 11);
      SET16 (RR_TAG (0x0028, 0x0103), 0);
      SET (RR_TAG (0x0028, 0x1050), "400");
      SET (RR_TAG (0x0028, 0x1051), "800");
      break;
    case RR_PHANTOM_PET:
      {
        /* Values are SUV; files hold Bq/ml, decay-corrected to the series
         * start, scaled per slice into 16 bits as scanners do. */
        double decayed = spec->dose_bq * exp2 (-spec->uptake_minutes * 60 / spec->half_life_s);
        /* Without a weight the values assume 75 kg; the file then says
         * nothing about weight, and SUV must be unavailable. */
        double to_bqml = decayed / ((spec->weight_kg > 0 ? spec->weight_kg : 75) * 1000.0);
        double max_bqml = MAX (vmax * to_bqml, 1.0);
        double slope = max_bqml / 32767.0;
        g_autofree char *slope_s = fmt_ds (slope);
        g_autofree char *weight = fmt_ds (spec->weight_kg);
        g_autofree char *dose = fmt_ds (spec->dose_bq);
        g_autofree char *half = fmt_ds (spec->half_life_s);
        g_autofree char *nslices = g_strdup_printf ("%u", spec->slices);
        g_autofree char *index = g_strdup_printf ("%u", k + 1);
        g_autofree char *decay = fmt_ds (exp2 (spec->uptake_minutes * 60 / spec->half_life_s));
        RrDicomDataset *rp, *code;
        slope = g_ascii_strtod (slope_s, NULL);
        for (gsize p = 0; p < n; p++)
          pix[p] = (guint16) CLAMP (lround (vals[p] * to_bqml / slope), 0, 32767);
        SET (RR_TAG (0x0008, 0x0008), "ORIGINAL\\PRIMARY");
        SET (RR_TAG (0x0008, 0x0022), spec->study_date);
        SET (RR_TAG (0x0008, 0x0032), u->series_time);
        if (spec->weight_kg > 0)
          SET (RR_TAG (0x0010, 0x1030), weight);
        SET (RR_TAG (0x0018, 0x1181), "NONE");
        SET (RR_TAG (0x0018, 0x1242), "600000");
        SET (RR_TAG (0x0028, 0x0051), "ATTN\\DECY");
        SET16 (RR_TAG (0x0028, 0x0101), 16);
        SET16 (RR_TAG (0x0028, 0x0102), 15);
        SET16 (RR_TAG (0x0028, 0x0103), 0);
        SET (RR_TAG (0x0028, 0x1052), "0");
        SET (RR_TAG (0x0028, 0x1053), slope_s);
        SET (RR_TAG (0x0054, 0x0081), nslices);
        SET (RR_TAG (0x0054, 0x1000), "STATIC\\IMAGE");
        SET (RR_TAG (0x0054, 0x1001), "BQML");
        SET (RR_TAG (0x0054, 0x1002), "EMISSION");
        SET (RR_TAG (0x0054, 0x1102), "START");
        SET (RR_TAG (0x0054, 0x1300), "0");
        SET (RR_TAG (0x0054, 0x1321), decay);
        SET (RR_TAG (0x0054, 0x1330), index);
        rp = rr_dicom_dataset_add_item (ds, RR_TAG (0x0054, 0x0016));
        if (!rr_dicom_dataset_set_string (rp, RR_TAG (0x0018, 0x0031), "Fluorodeoxyglucose", error) ||
            !rr_dicom_dataset_set_string (rp, RR_TAG (0x0018, 0x1072), u->injection_time, error) ||
            !rr_dicom_dataset_set_string (rp, RR_TAG (0x0018, 0x1074), dose, error) ||
            !rr_dicom_dataset_set_string (rp, RR_TAG (0x0018, 0x1075), half, error) ||
            !rr_dicom_dataset_set_string (rp, RR_TAG (0x0018, 0x1076), "0.9673", error))
          return FALSE;
        code = rr_dicom_dataset_add_item (rp, RR_TAG (0x0054, 0x0300));
        if (!rr_dicom_dataset_set_string (code, RR_TAG (0x0008, 0x0100), "77004003", error) ||
            !rr_dicom_dataset_set_string (code, RR_TAG (0x0008, 0x0102), "SCT", error) ||
            !rr_dicom_dataset_set_string (code, RR_TAG (0x0008, 0x0104), "^18^Fluorine", error))
          return FALSE;
        code = rr_dicom_dataset_add_item (ds, RR_TAG (0x0054, 0x0410));
        if (!rr_dicom_dataset_set_string (code, RR_TAG (0x0008, 0x0100), "102538003", error) ||
            !rr_dicom_dataset_set_string (code, RR_TAG (0x0008, 0x0102), "SCT", error) ||
            !rr_dicom_dataset_set_string (code, RR_TAG (0x0008, 0x0104), "recumbent", error))
          return FALSE;
        code = rr_dicom_dataset_add_item (ds, RR_TAG (0x0054, 0x0414));
        if (!rr_dicom_dataset_set_string (code, RR_TAG (0x0008, 0x0100), "126830", error) ||
            !rr_dicom_dataset_set_string (code, RR_TAG (0x0008, 0x0102), "SCT", error) ||
            !rr_dicom_dataset_set_string (code, RR_TAG (0x0008, 0x0104), "headfirst", error))
          return FALSE;
      }
      break;
    }
  if (!rr_dicom_dataset_set_pixels (ds, pix, n * 2, 16, error))
    return FALSE;
  return rr_dicom_dataset_write (ds, path, spec->transfer_syntax, error);
}

gboolean
rr_phantom_write (const RrPhantomSpec *spec,
                  const char          *dir,
                  guint               *n_written,
                  GError             **error)
{
  Uids u = { 0 };
  g_autofree guint *order = g_new (guint, MAX (spec->slices, 1u));
  g_autoptr (GRand) rand = g_rand_new_with_seed (spec->seed);
  guint written = 0;
  gboolean ok = TRUE;

  if (g_mkdir_with_parents (dir, 0755) != 0)
    {
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errno),
                   "%s: cannot create folder: %s", dir, g_strerror (errno));
      return FALSE;
    }
  u.study_uid = spec->study_uid ? g_strdup (spec->study_uid) : rr_dicom_make_uid (NULL);
  u.series_uid = rr_dicom_make_uid (NULL);
  u.frame_uid = spec->frame_of_reference ? g_strdup (spec->frame_of_reference)
                                          : rr_dicom_make_uid (NULL);
  u.series_time = g_strdup ("100000");
  {
    int minutes = 10 * 60 - (int) spec->uptake_minutes;
    u.injection_time = g_strdup_printf ("%02d%02d00", minutes / 60, minutes % 60);
  }

  for (guint k = 0; k < spec->slices; k++)
    order[k] = k;
  if (spec->shuffle)
    for (guint k = spec->slices; k > 1; k--)
      {
        guint r = g_rand_int_range (rand, 0, k);
        guint t = order[k - 1];
        order[k - 1] = order[r];
        order[r] = t;
      }

  for (guint f = 0; f < spec->slices && ok; f++)
    {
      guint k = order[f];
      g_autofree char *name = NULL;
      g_autofree char *path = NULL;
      if ((int) k == spec->missing_slice)
        continue;
      name = g_strdup_printf ("IM%05u.dcm", f + 1);
      path = g_build_filename (dir, name, NULL);
      ok = write_slice (spec, &u, k, path, error);
      if (ok)
        written++;
    }
  if (n_written)
    *n_written = written;
  g_free (u.study_uid);
  g_free (u.series_uid);
  g_free (u.frame_uid);
  g_free (u.series_time);
  g_free (u.injection_time);
  return ok;
}

char *
rr_phantom_truth_json (const RrPhantomSpec *spec)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autoptr (JsonNode) root = NULL;
  static const char *kinds[] = { "ct", "pet", "mr" };

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "kind");
  json_builder_add_string_value (b, kinds[spec->kind]);
  json_builder_set_member_name (b, "rows");
  json_builder_add_int_value (b, spec->rows);
  json_builder_set_member_name (b, "columns");
  json_builder_add_int_value (b, spec->columns);
  json_builder_set_member_name (b, "slices");
  json_builder_add_int_value (b, spec->slices);
  json_builder_set_member_name (b, "pixel_spacing_mm");
  json_builder_begin_array (b);
  json_builder_add_double_value (b, spec->row_spacing);
  json_builder_add_double_value (b, spec->col_spacing);
  json_builder_end_array (b);
  json_builder_set_member_name (b, "slice_spacing_mm");
  json_builder_add_double_value (b, spec->slice_spacing);
  json_builder_set_member_name (b, "lesions");
  json_builder_begin_array (b);
  for (guint i = 0; i < spec->lesions->len; i++)
    {
      const RrPhantomLesion *l = &g_array_index (spec->lesions, RrPhantomLesion, i);
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "center_mm");
      json_builder_begin_array (b);
      json_builder_add_double_value (b, l->center.x);
      json_builder_add_double_value (b, l->center.y);
      json_builder_add_double_value (b, l->center.z);
      json_builder_end_array (b);
      json_builder_set_member_name (b, "diameter_mm");
      json_builder_add_double_value (b, l->diameter);
      json_builder_set_member_name (b, "value");
      json_builder_add_double_value (b, l->value);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  json_generator_set_root (gen, root);
  json_generator_set_pretty (gen, TRUE);
  return json_generator_to_data (gen, NULL);
}
