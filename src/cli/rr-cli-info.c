/* rr-cli-info.c: `readroom-cli info`: studies -> series with geometry,
 * transfer syntaxes and problems, as JSON (cli.md) or as text. */
#include "rr-cli.h"
#include "rr-dicom.h"

#include "rr-json-writer.h"

static void
add_doubles (RrJsonWriter *b, const double *v, int n)
{
  rr_json_begin_array (b);
  for (int i = 0; i < n; i++)
    rr_json_double (b, fabs (v[i]) < 1e-9 ? 0.0 : v[i]);
  rr_json_end_array (b);
}

static double
round_to (double v, double q)
{
  return round (v / q) * q;
}

static void
series_json (RrJsonWriter *b, RrDicomSeries *se)
{
  const RrStack *st = rr_dicom_series_main_stack (se);

  rr_json_begin_object (b);
  rr_json_key (b, "series_uid");
  rr_json_string (b, se->series_uid);
  rr_json_key (b, "modality");
  rr_json_string (b, se->modality);
  rr_json_key (b, "description");
  rr_json_string (b, se->description);
  rr_json_key (b, "rows");
  rr_json_int (b, st ? st->rows : 0);
  rr_json_key (b, "columns");
  rr_json_int (b, st ? st->columns : 0);
  rr_json_key (b, "slices");
  rr_json_int (b, st ? st->order->len : 0);
  rr_json_key (b, "frames");
  rr_json_int (b, se->is_image ? se->n_frames : se->instances->len);
  rr_json_key (b, "pixel_spacing_mm");
  if (st && st->has_geometry)
    {
      double ps[2] = { st->row_spacing, st->col_spacing };
      add_doubles (b, ps, 2);
    }
  else
    rr_json_null (b);
  rr_json_key (b, "slice_spacing_mm");
  if (st && st->has_geometry && st->order->len > 1)
    rr_json_double (b, round_to (st->slice_spacing, 1e-6));
  else
    rr_json_null (b);
  rr_json_key (b, "slice_thickness_mm");
  if (rr_dicom_series_slice_thickness (se) > 0)
    rr_json_double (b, rr_dicom_series_slice_thickness (se));
  else
    rr_json_null (b);
  rr_json_key (b, "orientation");
  if (st && st->has_geometry)
    {
      double o[6] = { st->row_dir.x, st->row_dir.y, st->row_dir.z,
                      st->col_dir.x, st->col_dir.y, st->col_dir.z };
      for (int i = 0; i < 6; i++)
        o[i] = round_to (o[i], 1e-6);
      add_doubles (b, o, 6);
    }
  else
    rr_json_null (b);
  rr_json_key (b, "origin_mm");
  if (st && st->has_geometry && st->positions->len > 0)
    {
      RrVec3 p = g_array_index (st->positions, RrVec3, 0);
      double o[3] = { round_to (p.x, 1e-4), round_to (p.y, 1e-4), round_to (p.z, 1e-4) };
      add_doubles (b, o, 3);
    }
  else
    rr_json_null (b);
  rr_json_key (b, "transfer_syntaxes");
  rr_json_begin_array (b);
  for (guint i = 0; i < se->transfer_syntaxes->len; i++)
    rr_json_string (b, se->transfer_syntaxes->pdata[i]);
  rr_json_end_array (b);
  rr_json_key (b, "problems");
  rr_json_begin_array (b);
  {
    g_autoptr (GPtrArray) all = g_ptr_array_new ();
    g_ptr_array_extend (all, se->problems, NULL, NULL);
    if (st)
      g_ptr_array_extend (all, st->problems, NULL, NULL);
    if (!se->is_image)
      {
        rr_json_begin_object (b);
        rr_json_key (b, "code");
        rr_json_string (b, "not_an_image");
        rr_json_key (b, "message");
        rr_json_string (b, "non-image objects (structured report, presentation "
                                          "state, key objects...): listed, not loaded");
        rr_json_end_object (b);
      }
    for (guint i = 0; i < all->len; i++)
      {
        const RrProblem *p = all->pdata[i];
        rr_json_begin_object (b);
        rr_json_key (b, "code");
        rr_json_string (b, p->code);
        rr_json_key (b, "message");
        rr_json_string (b, p->message);
        rr_json_end_object (b);
      }
  }
  rr_json_end_array (b);
  rr_json_end_object (b);
}

static char *
scan_to_json (RrDicomScan *scan)
{
  g_autoptr (RrJsonWriter) b = rr_json_writer_new (TRUE);

  rr_json_begin_object (b);
  rr_json_key (b, "studies");
  rr_json_begin_array (b);
  for (guint i = 0; i < scan->studies->len; i++)
    {
      RrDicomStudy *st = scan->studies->pdata[i];
      rr_json_begin_object (b);
      rr_json_key (b, "study_uid");
      rr_json_string (b, st->study_uid);
      rr_json_key (b, "patient_id");
      rr_json_string (b, st->patient_id ? st->patient_id : "");
      rr_json_key (b, "study_date");
      rr_json_string (b, st->study_date ? st->study_date : "");
      rr_json_key (b, "series");
      rr_json_begin_array (b);
      for (guint j = 0; j < st->series->len; j++)
        series_json (b, st->series->pdata[j]);
      rr_json_end_array (b);
      rr_json_end_object (b);
    }
  rr_json_end_array (b);
  rr_json_key (b, "unreadable");
  rr_json_begin_array (b);
  for (guint i = 0; i < scan->unreadable->len; i++)
    {
      RrDicomUnreadable *u = scan->unreadable->pdata[i];
      rr_json_begin_object (b);
      rr_json_key (b, "path");
      rr_json_string (b, u->path);
      rr_json_key (b, "message");
      rr_json_string (b, u->message);
      rr_json_end_object (b);
    }
  rr_json_end_array (b);
  rr_json_end_object (b);
  return rr_json_writer_steal (b);
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
      g_autofree char *text = rr_cli_path_message (u->path, u->message);
      g_print ("Unreadable: %s\n", text);
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
      g_print ("%s", text);
    }
  else
    print_text (scan);

  if (n_series == 0)
    {
      if (scan->unreadable->len > 0)
        {
          RrDicomUnreadable *u = scan->unreadable->pdata[0];
          g_autofree char *text = rr_cli_path_message (u->path, u->message);
          g_printerr ("readroom-cli info: %s\n", text);
        }
      else
        g_printerr ("readroom-cli info: %s: no DICOM files found\n", argv[1]);
      return RR_EXIT_INPUT;
    }
  return RR_EXIT_OK;
}
