/* rr-cli-report.c: `readroom-cli report`: a read as a PDF for people. */
#include "rr-cli.h"
#include "rr-report.h"

int
rr_cli_report (int argc, char **argv)
{
  g_autofree char *images = NULL, *out = NULL, *data = NULL, *trial = NULL, *reader = NULL;
  g_autofree char *first = NULL;
  GOptionEntry entries[] = {
    { "images", 0, 0, G_OPTION_ARG_FILENAME, &images, "The read's images (for the key images)", "PATH" },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &out, "PDF to write", "OUT.pdf" },
    { "trial", 0, 0, G_OPTION_ARG_STRING, &trial, "The trial, when the read does not name it",
      "ID" },
    { "reader", 0, 0, G_OPTION_ARG_STRING, &reader,
      "The reader's label (\"Reader 1\"), when the read does not name it", "LABEL" },
    { NULL }
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("READ.json");
  g_autoptr (GError) error = NULL;
  gsize len = 0;
  guint violations = 0;
  RrReportNames names = { 0 };

  g_option_context_set_summary (ctx, "Writes a read as a PDF: key images with the calipers "
                                "drawn, the lesion table per timepoint, sums and responses, "
                                "a plot of the sum over time. READ.json is a read, or the "
                                "server's submission document of one. A read that breaks the "
                                "criteria's rules is written, marked as not valid, and exits 1.");
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    return rr_cli_usage_error ("report", error->message);
  if (argc != 2)
    return rr_cli_usage_error ("report", "one READ.json is needed");
  if (images == NULL || out == NULL)
    return rr_cli_usage_error ("report", "--images PATH and -o OUT.pdf are needed");
  if (!g_file_get_contents (argv[1], &data, &len, &error))
    {
      /* GLib's message names the file already. */
      g_printerr ("readroom-cli report: %s\n", error->message);
      return RR_EXIT_INPUT;
    }
  /* A scan of a missing path finds nothing and says nothing: the key
   * images would be missing without a word. */
  if (!g_file_test (images, G_FILE_TEST_EXISTS))
    {
      g_printerr ("readroom-cli report: %s: No such file or directory\n", images);
      return RR_EXIT_INPUT;
    }
  const char *paths[] = { images, NULL };
  g_autoptr (RrDicomScan) scan = rr_dicom_scan (paths, 0, NULL, &error);
  if (scan == NULL)
    {
      g_printerr ("readroom-cli report: %s: %s\n", images, error->message);
      return RR_EXIT_INPUT;
    }
  names.trial = trial;
  names.reader = reader;
  if (!rr_report_write_pdf_full (data, (gssize) len, scan, out, &names, &violations, &first,
                                 &error))
    {
      /* A write error names the PDF itself; anything else is the read's. */
      if (g_error_matches (error, RR_REPORT_ERROR, RR_REPORT_ERROR_WRITE))
        g_printerr ("readroom-cli report: %s\n", error->message);
      else
        g_printerr ("readroom-cli report: %s: %s\n", argv[1], error->message);
      return RR_EXIT_INPUT;
    }
  /* As `criteria`: a read that breaks a rule is no valid read (cli.md),
   * whatever the PDF looks like. */
  if (violations > 0)
    {
      g_printerr ("readroom-cli report: %s: the read breaks %u rule(s): %s; %s says so\n",
                  argv[1], violations, first, out);
      return RR_EXIT_INPUT;
    }
  return RR_EXIT_OK;
}
