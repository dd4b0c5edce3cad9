/* rr-cli-sr.c: `readroom-cli sr export` and `sr import`: a read as one
 * TID 1500 Measurement Report per timepoint, and reports back into a read. */
#include "rr-cli.h"
#include "rr-dicom-sr.h"
#include "rr-json.h"

static RrDicomScan *
scan_images (const char *command, const char *path)
{
  g_autoptr (GError) error = NULL;
  const char *paths[] = { path, NULL };
  RrDicomScan *scan = rr_dicom_scan (paths, 0, NULL, &error);
  if (scan == NULL)
    g_printerr ("readroom-cli %s: %s\n", command, error->message);
  return scan;
}

static int
sr_export (int argc, char **argv)
{
  g_autofree char *images = NULL, *outdir = NULL, *data = NULL;
  GOptionEntry entries[] = {
    { "images", 0, 0, G_OPTION_ARG_FILENAME, &images, "The read's (de-identified) images", "PATH" },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &outdir, "Folder for <timepoint id>.dcm", "OUTDIR" },
    { NULL }
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("READ.json");
  g_autoptr (GError) error = NULL;
  gsize len = 0;

  g_option_context_set_summary (ctx, "Writes a read as DICOM SR: one TID 1500 Measurement "
                                "Report per timepoint.");
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    return rr_cli_usage_error ("sr export", error->message);
  if (argc != 2)
    return rr_cli_usage_error ("sr export", "one READ.json is needed");
  if (images == NULL || outdir == NULL)
    return rr_cli_usage_error ("sr export", "--images PATH and -o OUTDIR are needed");
  if (!g_file_get_contents (argv[1], &data, &len, &error))
    {
      g_printerr ("readroom-cli sr export: %s\n", error->message);
      return RR_EXIT_INPUT;
    }
  g_autoptr (RrDicomScan) scan = scan_images ("sr export", images);
  if (scan == NULL)
    return RR_EXIT_INPUT;
  g_autoptr (GPtrArray) written = rr_dicom_sr_export (data, (gssize) len, scan, outdir, &error);
  if (written == NULL)
    {
      g_printerr ("readroom-cli sr export: %s: %s\n", argv[1], error->message);
      return RR_EXIT_INPUT;
    }
  for (guint i = 0; i < written->len; i++)
    g_print ("%s\n", (const char *) written->pdata[i]);
  return RR_EXIT_OK;
}

static int
sr_import (int argc, char **argv)
{
  g_autofree char *images = NULL;
  gboolean json = FALSE;
  GOptionEntry entries[] = {
    { "images", 0, 0, G_OPTION_ARG_FILENAME, &images,
      "The referenced images: calipers in patient millimetres", "PATH" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print the read JSON (the default)", NULL },
    { NULL }
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("SR.dcm...");
  g_autoptr (GError) error = NULL;
  g_autoptr (RrDicomScan) scan = NULL;

  g_option_context_set_summary (ctx, "Merges one timepoint's (or several) TID 1500 reports "
                                "into one read JSON on stdout.");
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    return rr_cli_usage_error ("sr import", error->message);
  if (argc < 2)
    return rr_cli_usage_error ("sr import", "at least one SR.dcm is needed");
  if (images && (scan = scan_images ("sr import", images)) == NULL)
    return RR_EXIT_INPUT;
  g_autofree char *text = rr_dicom_sr_import ((const char * const *) argv + 1, scan, &error);
  if (text == NULL)
    {
      g_printerr ("readroom-cli sr import: %s\n", error->message);
      return RR_EXIT_INPUT;
    }
  /* Printed as `criteria --json` prints: the project's writer ("key":
   * value, shortest exact numbers), not the generator the SR layer used. */
  {
    g_autoptr (JsonParser) p = json_parser_new ();
    g_autoptr (RrJsonWriter) w = rr_json_writer_new (TRUE);
    g_autofree char *out = NULL;
    if (!json_parser_load_from_data (p, text, -1, &error))
      {
        g_printerr ("readroom-cli sr import: %s\n", error->message);
        return RR_EXIT_INPUT;
      }
    rr_json_write_node (w, json_parser_get_root (p));
    out = rr_json_writer_steal (w);
    /* One line end, as criteria's. */
    g_print ("%s%s", out, g_str_has_suffix (out, "\n") ? "" : "\n");
  }
  return RR_EXIT_OK;
}

int
rr_cli_sr (int argc, char **argv)
{
  if (argc >= 2 && g_str_equal (argv[1], "export"))
    return sr_export (argc - 1, argv + 1);
  if (argc >= 2 && g_str_equal (argv[1], "import"))
    return sr_import (argc - 1, argv + 1);
  if (argc >= 2 && (g_str_equal (argv[1], "--help") || g_str_equal (argv[1], "-h")))
    {
      g_print ("Usage: readroom-cli sr export READ.json --images PATH -o OUTDIR\n"
               "       readroom-cli sr import SR.dcm... [--images PATH] [--json]\n\n"
               "A read as DICOM SR: one TID 1500 Measurement Report per timepoint.\n");
      return RR_EXIT_OK;
    }
  return rr_cli_usage_error ("sr", "export or import is needed");
}
