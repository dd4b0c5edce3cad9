/* rr-cli-info.c: `readroom-cli info`: studies -> series with geometry,
 * transfer syntaxes and problems, as JSON (cli.md) or as text. */
#include "rr-cli.h"
#include "rr-dicom.h"

#include <json-glib/json-glib.h>

static void
add_doubles (JsonBuilder *b, const double *v, int n)
{
  json_builder_begin_array (b);
  for (int i = 0; i < n; i++)
    json_builder_add_double_value (b, fabs (v[i]) < 1e-9 ? 0.0 : v[i]);
  json_builder_end_array (b);
}

static double
round_to (double v, double q)
{
  return round (v / q) * q;
}

static void
series_json (JsonBuilder *b, RrDicomSeries *se)
{
  const RrStack *st = rr_dicom_series_main_stack (se);

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "series_uid");
  json_builder_add_string_value (b, se->series_uid);
  json_builder_set_member_name (b, "modality");
  json_builder_add_string_value (b, se->modality);
  json_builder_set_member_name (b, "description");
  json_builder_add_string_value (b, se->description);
  json_builder_set_member_name (b, "rows");
  json_builder_add_int_value (b, st ? st->rows : 0);
  json_builder_set_member_name (b, "columns");
  json_builder_add_int_value (b, st ? st->columns : 0);
  json_builder_set_member_name (b, "slices");
  json_builder_add_int_value (b, st ? st->order->len : 0);
  json_builder_set_member_name (b, "frames");
  json_builder_add_int_value (b, se->is_image ? se->n_frames : se->instances->len);
  json_builder_set_member_name (b, "pixel_spacing_mm");
  if (st && st->has_geometry)
    {
      double ps[2] = { st->row_spacing, st->col_spacing };
      add_doubles (b, ps, 2);
    }
  else
    json_builder_add_null_value (b);
  json_builder_set_member_name (b, "slice_spacing_mm");
  if (st && st->has_geometry && st->order->len > 1)
    json_builder_add_double_value (b, round_to (st->slice_spacing, 1e-6));
  else
    json_builder_add_null_value (b);
  json_builder_set_member_name (b, "slice_thickness_mm");
  if (rr_dicom_series_slice_thickness (se) > 0)
    json_builder_add_double_value (b, rr_dicom_series_slice_thickness (se));
  else
    json_builder_add_null_value (b);
  json_builder_set_member_name (b, "orientation");
  if (st && st->has_geometry)
    {
      double o[6] = { st->row_dir.x, st->row_dir.y, st->row_dir.z,
                      st->col_dir.x, st->col_dir.y, st->col_dir.z };
      for (int i = 0; i < 6; i++)
        o[i] = round_to (o[i], 1e-6);
      add_doubles (b, o, 6);
    }
  else
    json_builder_add_null_value (b);
  json_builder_set_member_name (b, "origin_mm");
  if (st && st->has_geometry && st->positions->len > 0)
    {
      RrVec3 p = g_array_index (st->positions, RrVec3, 0);
      double o[3] = { round_to (p.x, 1e-4), round_to (p.y, 1e-4), round_to (p.z, 1e-4) };
      add_doubles (b, o, 3);
    }
  else
    json_builder_add_null_value (b);
  json_builder_set_member_name (b, "transfer_syntaxes");
  json_builder_begin_array (b);
  for (guint i = 0; i < se->transfer_syntaxes->len; i++)
    json_builder_add_string_value (b, se->transfer_syntaxes->pdata[i]);
  json_builder_end_array (b);
  json_builder_set_member_name (b, "problems");
  json_builder_begin_array (b);
  {
    g_autoptr (GPtrArray) all = g_ptr_array_new ();
    g_ptr_array_extend (all, se->problems, NULL, NULL);
    if (st)
      g_ptr_array_extend (all, st->problems, NULL, NULL);
    if (!se->is_image)
      {
        json_builder_begin_object (b);
        json_builder_set_member_name (b, "code");
        json_builder_add_string_value (b, "not_an_image");
        json_builder_set_member_name (b, "message");
        json_builder_add_string_value (b, "non-image objects (structured report, presentation "
                                          "state, key objects...): listed, not loaded");
        json_builder_end_object (b);
      }
    for (guint i = 0; i < all->len; i++)
      {
        const RrProblem *p = all->pdata[i];
        json_builder_begin_object (b);
        json_builder_set_member_name (b, "code");
        json_builder_add_string_value (b, p->code);
        json_builder_set_member_name (b, "message");
        json_builder_add_string_value (b, p->message);
        json_builder_end_object (b);
      }
  }
  json_builder_end_array (b);
  json_builder_end_object (b);
}

static char *
scan_to_json (RrDicomScan *scan)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autoptr (JsonNode) root = NULL;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "studies");
  json_builder_begin_array (b);
  for (guint i = 0; i < scan->studies->len; i++)
    {
      RrDicomStudy *st = scan->studies->pdata[i];
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "study_uid");
      json_builder_add_string_value (b, st->study_uid);
      json_builder_set_member_name (b, "patient_id");
      json_builder_add_string_value (b, st->patient_id ? st->patient_id : "");
      json_builder_set_member_name (b, "study_date");
      json_builder_add_string_value (b, st->study_date ? st->study_date : "");
      json_builder_set_member_name (b, "series");
      json_builder_begin_array (b);
      for (guint j = 0; j < st->series->len; j++)
        series_json (b, st->series->pdata[j]);
      json_builder_end_array (b);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_set_member_name (b, "unreadable");
  json_builder_begin_array (b);
  for (guint i = 0; i < scan->unreadable->len; i++)
    {
      RrDicomUnreadable *u = scan->unreadable->pdata[i];
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "path");
      json_builder_add_string_value (b, u->path);
      json_builder_set_member_name (b, "message");
      json_builder_add_string_value (b, u->message);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  json_generator_set_root (gen, root);
  json_generator_set_pretty (gen, TRUE);
  return json_generator_to_data (gen, NULL);
}

static void
print_text (RrDicomScan *scan)
{
  for (guint i = 0; i < scan->studies->len; i++)
    {
      RrDicomStudy *st = scan->studies->pdata[i];
      g_print ("Study %s  date %s\n", st->study_uid, st->study_date ? st->study_date : "-");
      for (guint j = 0; j < st->series->len; j++)
        {
          RrDicomSeries *se = st->series->pdata[j];
          const RrStack *sk = rr_dicom_series_main_stack (se);
          g_print ("  Series %d %s \"%s\"\n    %s\n", se->number, se->modality, se->description,
                   se->series_uid);
          if (sk)
            g_print ("    %u x %u, %u slices (%u frames), pixel %.4g x %.4g mm, slice spacing %.4g mm\n",
                     sk->columns, sk->rows, sk->order->len, se->n_frames, sk->row_spacing,
                     sk->col_spacing, sk->slice_spacing);
          else
            g_print ("    %u non-image object(s)\n", se->instances->len);
          for (guint t = 0; t < se->transfer_syntaxes->len; t++)
            g_print ("    transfer syntax %s\n", (char *) se->transfer_syntaxes->pdata[t]);
          for (guint p = 0; p < se->problems->len; p++)
            g_print ("    problem: %s\n", ((RrProblem *) se->problems->pdata[p])->message);
          for (guint p = 0; sk && p < sk->problems->len; p++)
            g_print ("    problem: %s\n", ((RrProblem *) sk->problems->pdata[p])->message);
        }
    }
  for (guint i = 0; i < scan->unreadable->len; i++)
    {
      RrDicomUnreadable *u = scan->unreadable->pdata[i];
      g_print ("Unreadable: %s\n", u->message);
    }
}

int
rr_cli_info (int argc, char **argv)
{
  gboolean json = FALSE;
  GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Machine-readable output", NULL },
    { NULL }
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("PATH...");
  g_autoptr (GError) error = NULL;
  g_autoptr (RrDicomScan) scan = NULL;
  guint n_series = 0;

  g_option_context_set_summary (ctx, "Scans files, folders and DICOMDIRs; lists studies and series.");
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    return rr_cli_usage_error ("info", error->message);
  if (argc < 2)
    return rr_cli_usage_error ("info", "at least one PATH is needed");

  scan = rr_dicom_scan ((const char * const *) argv + 1, 0, NULL, &error);
  if (scan == NULL)
    {
      g_printerr ("readroom-cli info: %s\n", error->message);
      return RR_EXIT_INPUT;
    }
  for (guint i = 0; i < scan->studies->len; i++)
    n_series += ((RrDicomStudy *) scan->studies->pdata[i])->series->len;

  if (json)
    {
      g_autofree char *text = scan_to_json (scan);
      g_print ("%s\n", text);
    }
  else
    print_text (scan);

  if (n_series == 0)
    {
      if (scan->unreadable->len > 0)
        g_printerr ("readroom-cli info: %s\n",
                    ((RrDicomUnreadable *) scan->unreadable->pdata[0])->message);
      else
        g_printerr ("readroom-cli info: %s: no DICOM files found\n", argv[1]);
      return RR_EXIT_INPUT;
    }
  return RR_EXIT_OK;
}
