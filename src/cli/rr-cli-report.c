/* rr-cli-report.c: `readroom-cli report`: a read as a PDF for people. */
#include "rr-cli.h"
#include "rr-report.h"

int
rr_cli_report (int argc, char **argv)
{
  g_autofree char *images = NULL, *out = NULL, *data = NULL;
  GOptionEntry entries[] = {
    { "images", 0, 0, G_OPTION_ARG_FILENAME, &images, "The read's images (for the key images)", "PATH" },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &out, "PDF to write", "OUT.pdf" },
    { NULL }
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("READ.json");
  g_autoptr (GError) error = NULL;
  gsize len = 0;

  g_option_context_set_summary (ctx, "Writes a read as a PDF: key images with the calipers "
                                "drawn, the lesion table per timepoint, sums and responses, "
                                "a plot of the sum over time.");
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    return rr_cli_usage_error ("report", error->message);
  if (argc != 2)
    return rr_cli_usage_error ("report", "one READ.json is needed");
  if (images == NULL || out == NULL)
    return rr_cli_usage_error ("report", "--images PATH and -o OUT.pdf are needed");
  if (!g_file_get_contents (argv[1], &data, &len, &error))
    {
      g_printerr ("readroom-cli report: %s\n", error->message);
      return RR_EXIT_INPUT;
    }
  const char *paths[] = { images, NULL };
  g_autoptr (RrDicomScan) scan = rr_dicom_scan (paths, 0, NULL, &error);
  if (scan == NULL)
    {
      g_printerr ("readroom-cli report: %s\n", error->message);
      return RR_EXIT_INPUT;
    }
  if (!rr_report_write_pdf (data, (gssize) len, scan, out, &error))
    {
      g_printerr ("readroom-cli report: %s: %s\n", argv[1], error->message);
      return RR_EXIT_INPUT;
    }
  return RR_EXIT_OK;
}
