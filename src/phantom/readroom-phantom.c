/* readroom-phantom: writes synthetic CT, PET and MR series with known
 * lesions, timepoints and defects, for the demo and the test suites. */
#include "rr-phantom.h"
#include "rr-dicom.h"
#include "rr-parse.h"

#include <glib/gi18n.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct
{
  const char *name;
  const char *uid;
} syntaxes[] = {
  { "implicit", RR_TS_IMPLICIT_LE },
  { "explicit", RR_TS_EXPLICIT_LE },
  { "big-endian", RR_TS_EXPLICIT_BE },
  { "deflate", RR_TS_DEFLATED_LE },
  { "jpeg-baseline", RR_TS_JPEG_BASELINE },
  { "jpeg-extended", RR_TS_JPEG_EXTENDED },
  { "jpeg-lossless", RR_TS_JPEG_LOSSLESS_SV1 },
  { "jpeg-ls", RR_TS_JPEGLS_LOSSLESS },
  { "jpeg-ls-near", RR_TS_JPEGLS_NEAR },
  { "j2k", RR_TS_J2K_LOSSLESS },
  { "j2k-lossy", RR_TS_J2K },
  { "rle", RR_TS_RLE },
};

static void
default_lesions (RrPhantomSpec *spec)
{
  switch (spec->kind)
    {
    case RR_PHANTOM_CT:
      rr_phantom_spec_add_lesion (spec, rr_vec3 (-40, 40, 0), 24, 90);   /* liver-like */
      rr_phantom_spec_add_lesion (spec, rr_vec3 (-75, -20, 30), 16, 40); /* right lung */
      rr_phantom_spec_add_lesion (spec, rr_vec3 (60, 30, -40), 18, 70);  /* node-like */
      break;
    case RR_PHANTOM_PET:
      rr_phantom_spec_add_lesion (spec, rr_vec3 (-40, 40, 0), 24, 8);
      rr_phantom_spec_add_lesion (spec, rr_vec3 (-75, -20, 30), 16, 5);
      rr_phantom_spec_add_lesion (spec, rr_vec3 (60, 30, -40), 18, 6);
      break;
    case RR_PHANTOM_MR:
      rr_phantom_spec_add_lesion (spec, rr_vec3 (-40, 40, 0), 24, 900);
      rr_phantom_spec_add_lesion (spec, rr_vec3 (60, 30, -40), 18, 800);
      break;
    }
}

static int
usage_error (GOptionContext *ctx, const char *msg)
{
  g_printerr ("readroom-phantom: %s\n", msg);
  g_printerr ("Try 'readroom-phantom --help'.\n");
  return 2;
}

int
main (int argc, char **argv)
{
  /* NULL, not a default string: GOption replaces a string option's value
   * without freeing it. */
  g_autofree char *kind_s = NULL;
  g_autofree char *size_s = NULL, *pixel_s = NULL, *ts_s = NULL, *uneven_s = NULL;
  g_autofree char *orient_s = NULL, *truth_path = NULL, *patient = NULL, *date_s = NULL;
  g_autofree char *patient_name = NULL;
  g_autofree char *study_desc = NULL, *series_desc = NULL;
  g_autofree char *frame_s = NULL, *center_s = NULL;
  g_auto (GStrv) lesion_s = NULL;
  int slices = 0, missing = -1, missing_at = -1, timepoints = 1, interval = 56, seed = 1;
  double spacing = 0, thickness = 0, noise_sd = -1, tilt = 0, change = 0;
  gboolean no_lesions = FALSE, shuffle = FALSE;
  GError *error = NULL;
  GOptionEntry entries[] = {
    { "kind", 0, 0, G_OPTION_ARG_STRING, &kind_s, "ct, pet, mr, or a list (ct,pet) for one study", "KIND" },
    { "size", 0, 0, G_OPTION_ARG_STRING, &size_s, "Columns[,rows]", "N[,M]" },
    { "slices", 0, 0, G_OPTION_ARG_INT, &slices, "Number of slices", "N" },
    { "spacing", 0, 0, G_OPTION_ARG_DOUBLE, &spacing, "Distance between slices", "MM" },
    { "thickness", 0, 0, G_OPTION_ARG_DOUBLE, &thickness, "Slice thickness", "MM" },
    { "pixel-spacing", 0, 0, G_OPTION_ARG_STRING, &pixel_s, "Pixel Spacing: row[,column]", "MM[,MM]" },
    { "orientation", 0, 0, G_OPTION_ARG_STRING, &orient_s, "axial, coronal, sagittal or oblique", "NAME" },
    { "lesion", 0, 0, G_OPTION_ARG_STRING_ARRAY, &lesion_s, "A sphere: centre, diameter, value (repeatable)", "X,Y,Z,D[,V]" },
    { "no-lesions", 0, 0, G_OPTION_ARG_NONE, &no_lesions, "Write no lesions", NULL },
    { "noise", 0, 0, G_OPTION_ARG_DOUBLE, &noise_sd, "Gaussian noise SD (HU for CT)", "SD" },
    { "seed", 0, 0, G_OPTION_ARG_INT, &seed, "Noise and shuffle seed", "N" },
    { "missing-slice", 0, 0, G_OPTION_ARG_INT, &missing, "Leave slice K out", "K" },
    { "missing-at", 0, 0, G_OPTION_ARG_INT, &missing_at, "Leave it out at timepoint T only (0: the first; default: at every one)", "T" },
    { "uneven", 0, 0, G_OPTION_ARG_STRING, &uneven_s, "Shift slices from K on by MM", "K,MM" },
    { "tilt", 0, 0, G_OPTION_ARG_DOUBLE, &tilt, "Gantry tilt", "DEG" },
    { "transfer-syntax", 0, 0, G_OPTION_ARG_STRING, &ts_s, "implicit, explicit, big-endian, deflate, jpeg-baseline, jpeg-extended, jpeg-lossless, jpeg-ls, jpeg-ls-near, j2k, j2k-lossy, rle, or a UID", "NAME" },
    { "shuffle", 0, 0, G_OPTION_ARG_NONE, &shuffle, "Name files in random order", NULL },
    { "timepoints", 0, 0, G_OPTION_ARG_INT, &timepoints, "Write N timepoints into tp00, tp01...", "N" },
    { "change", 0, 0, G_OPTION_ARG_DOUBLE, &change, "Lesion diameter change per timepoint", "PCT" },
    { "interval-days", 0, 0, G_OPTION_ARG_INT, &interval, "Days between timepoints", "D" },
    { "patient-id", 0, 0, G_OPTION_ARG_STRING, &patient, "Patient ID (synthetic)", "ID" },
    { "patient-name", 0, 0, G_OPTION_ARG_STRING, &patient_name, "Patient's Name (default: the ID)", "NAME" },
    { "study-date", 0, 0, G_OPTION_ARG_STRING, &date_s, "Date of the first study", "YYYYMMDD" },
    { "study-description", 0, 0, G_OPTION_ARG_STRING, &study_desc, "Study description", "TEXT" },
    { "series-description", 0, 0, G_OPTION_ARG_STRING, &series_desc, "Series description", "TEXT" },
    { "frame-of-reference", 0, 0, G_OPTION_ARG_STRING, &frame_s, "Frame of Reference UID of every series (default: a new one each)", "UID" },
    { "center", 0, 0, G_OPTION_ARG_STRING, &center_s, "Patient point at the volume centre (default 0,0,0)", "X,Y,Z" },
    { "truth", 0, 0, G_OPTION_ARG_FILENAME, &truth_path, "Write the truth as JSON", "FILE" },
    { NULL }
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("OUTDIR");
  g_auto (GStrv) kinds = NULL;
  g_autoptr (GString) truth = g_string_new ("[\n");
  const char *outdir;

  setlocale (LC_ALL, "");
  g_option_context_set_summary (ctx, "Writes synthetic DICOM series with known truth.");
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    return usage_error (ctx, error->message);
  if (argc != 2)
    return usage_error (ctx, "one output folder is needed");
  outdir = argv[1];
  if (timepoints < 1 || timepoints > 20)
    return usage_error (ctx, "--timepoints must be 1..20");
  if (missing_at != -1 && (missing < 0 || missing_at < 0 || missing_at >= timepoints))
    return usage_error (ctx, "--missing-at needs --missing-slice and a timepoint 0..N-1");

  kinds = g_strsplit (kind_s ? kind_s : "ct", ",", -1);
  g_autofree char *study_uid_base = NULL;
  for (int tp = 0; tp < timepoints; tp++)
    {
      g_autofree char *study_uid = rr_dicom_make_uid (NULL);
      for (guint ki = 0; kinds[ki]; ki++)
        {
          RrPhantomKind kind;
          g_autoptr (RrPhantomSpec) spec = NULL;
          double v[6];
          int n;
          g_autofree char *dir = NULL;
          guint written = 0;

          if (g_str_equal (kinds[ki], "ct"))
            kind = RR_PHANTOM_CT;
          else if (g_str_equal (kinds[ki], "pet") || g_str_equal (kinds[ki], "pt"))
            kind = RR_PHANTOM_PET;
          else if (g_str_equal (kinds[ki], "mr"))
            kind = RR_PHANTOM_MR;
          else
            return usage_error (ctx, "--kind must be ct, pet or mr");
          spec = rr_phantom_spec_new (kind);
          spec->seed = (guint32) seed + tp * 7919 + ki * 104729;
          g_free (spec->study_uid);
          spec->study_uid = g_strdup (study_uid);
          if (size_s)
            {
              if (!rr_parse_doubles (size_s, v, 1, 2, &n) || v[0] < 2 || v[0] > 4096 ||
                  (n == 2 && (v[1] < 2 || v[1] > 4096)))
                return usage_error (ctx, "--size must be 2..4096[,2..4096]");
              spec->columns = (guint) v[0];
              spec->rows = n == 2 ? (guint) v[1] : (guint) v[0];
            }
          if (slices)
            {
              if (slices < 1 || slices > 5000)
                return usage_error (ctx, "--slices must be 1..5000");
              spec->slices = slices;
            }
          if (spacing > 0)
            spec->slice_spacing = spec->slice_thickness = spacing;
          if (thickness > 0)
            spec->slice_thickness = thickness;
          if (pixel_s)
            {
              if (!rr_parse_doubles (pixel_s, v, 1, 2, &n) || v[0] <= 0 || (n == 2 && v[1] <= 0))
                return usage_error (ctx, "--pixel-spacing must be positive");
              spec->row_spacing = v[0];
              spec->col_spacing = n == 2 ? v[1] : v[0];
            }
          if (orient_s)
            {
              if (g_str_equal (orient_s, "axial"))
                ;
              else if (g_str_equal (orient_s, "coronal"))
                spec->row_dir = rr_vec3 (1, 0, 0), spec->col_dir = rr_vec3 (0, 0, -1);
              else if (g_str_equal (orient_s, "sagittal"))
                spec->row_dir = rr_vec3 (0, 1, 0), spec->col_dir = rr_vec3 (0, 0, -1);
              else if (g_str_equal (orient_s, "oblique"))
                {
                  double a = 30 * G_PI / 180;
                  spec->row_dir = rr_vec3 (cos (a), sin (a), 0);
                  spec->col_dir = rr_vec3 (-sin (a) * cos (a), cos (a) * cos (a), -sin (a));
                  spec->col_dir = rr_vec3_normalize (rr_vec3_sub (spec->col_dir,
                    rr_vec3_scale (spec->row_dir, rr_vec3_dot (spec->col_dir, spec->row_dir))));
                }
              else
                return usage_error (ctx, "--orientation must be axial, coronal, sagittal or oblique");
            }
          if (noise_sd >= 0)
            spec->noise_sd = noise_sd;
          /* A slice lost at one visit only, as a scanner or a transfer
           * loses it: the others are whole. */
          spec->missing_slice = missing_at == -1 || missing_at == tp ? missing : -1;
          spec->tilt_deg = tilt;
          spec->shuffle = shuffle;
          if (uneven_s)
            {
              if (!rr_parse_doubles (uneven_s, v, 2, 2, NULL) || v[0] < 1)
                return usage_error (ctx, "--uneven needs K,MM");
              spec->uneven_from = (int) v[0];
              spec->uneven_shift = v[1];
            }
          if (ts_s)
            {
              const char *uid = NULL;
              for (guint t = 0; t < G_N_ELEMENTS (syntaxes); t++)
                if (g_str_equal (syntaxes[t].name, ts_s) || g_str_equal (syntaxes[t].uid, ts_s))
                  uid = syntaxes[t].uid;
              if (uid == NULL)
                return usage_error (ctx, "unknown --transfer-syntax");
              g_free (spec->transfer_syntax);
              spec->transfer_syntax = g_strdup (uid);
            }
          if (patient)
            {
              g_free (spec->patient_id);
              spec->patient_id = g_strdup (patient);
            }
          if (patient_name)
            {
              g_free (spec->patient_name);
              spec->patient_name = g_strdup (patient_name);
            }
          if (study_desc)
            {
              g_free (spec->study_description);
              spec->study_description = g_strdup (study_desc);
            }
          if (series_desc)
            {
              g_free (spec->series_description);
              spec->series_description = g_strdup (series_desc);
            }
          {
            GDate d;
            const char *base = date_s ? date_s : "20260105";
            int y, m, dd;
            if (strlen (base) != 8 || sscanf (base, "%4d%2d%2d", &y, &m, &dd) != 3 ||
                !g_date_valid_dmy (dd, m, y))
              return usage_error (ctx, "--study-date must be YYYYMMDD");
            g_date_set_dmy (&d, dd, m, y);
            g_date_add_days (&d, tp * interval);
            g_free (spec->study_date);
            spec->study_date = g_strdup_printf ("%04d%02d%02d", g_date_get_year (&d),
                                                g_date_get_month (&d), g_date_get_day (&d));
          }
          if (frame_s)
            {
              /* A UID: digits and dots, at most 64 characters (PS3.5 9.1). */
              if (*frame_s == '\0' || strlen (frame_s) > 64 ||
                  strspn (frame_s, "0123456789.") != strlen (frame_s))
                return usage_error (ctx, "--frame-of-reference must be a UID (digits and dots)");
              g_free (spec->frame_of_reference);
              spec->frame_of_reference = g_strdup (frame_s);
            }
          if (center_s)
            {
              if (!rr_parse_doubles (center_s, v, 3, 3, NULL) || fabs (v[0]) > 1e4 ||
                  fabs (v[1]) > 1e4 || fabs (v[2]) > 1e4)
                return usage_error (ctx, "--center needs X,Y,Z in mm");
              spec->center = rr_vec3 (v[0], v[1], v[2]);
            }
          if (lesion_s)
            for (guint l = 0; lesion_s[l]; l++)
              {
                if (!rr_parse_doubles (lesion_s[l], v, 4, 5, &n) || v[3] < 0)
                  return usage_error (ctx, "--lesion needs X,Y,Z,DIAMETER[,VALUE]");
                rr_phantom_spec_add_lesion (spec, rr_vec3 (v[0], v[1], v[2]), v[3],
                                            n == 5 ? v[4] : (kind == RR_PHANTOM_CT ? 80 :
                                                             kind == RR_PHANTOM_PET ? 8 : 900));
              }
          else if (!no_lesions)
            default_lesions (spec);
          for (guint l = 0; l < spec->lesions->len; l++)
            g_array_index (spec->lesions, RrPhantomLesion, l).diameter *= pow (1 + change / 100.0, tp);

          if (timepoints > 1 && kinds[1])
            dir = g_strdup_printf ("%s/tp%02d/%s", outdir, tp, kinds[ki]);
          else if (timepoints > 1)
            dir = g_strdup_printf ("%s/tp%02d", outdir, tp);
          else if (kinds[1])
            dir = g_strdup_printf ("%s/%s", outdir, kinds[ki]);
          else
            dir = g_strdup (outdir);
          if (!rr_phantom_write (spec, dir, &written, &error))
            {
              g_printerr ("readroom-phantom: %s\n", error->message);
              return 1;
            }
          g_autofree char *tj = rr_phantom_truth_json (spec);
          if (truth->len > 2)
            g_string_append (truth, ",\n");
          g_string_append_printf (truth, "{\"folder\": \"%s\", \"study_date\": \"%s\", \"truth\": %s}",
                                  dir, spec->study_date, tj);
          g_print ("%s: %u files (%s)\n", dir, written, spec->series_description);
        }
    }
  g_string_append (truth, "\n]\n");
  if (truth_path && !g_file_set_contents (truth_path, truth->str, -1, &error))
    {
      g_printerr ("readroom-phantom: %s\n", error->message);
      return 1;
    }
  return 0;
}
