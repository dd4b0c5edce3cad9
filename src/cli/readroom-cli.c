/* readroom-cli: the Readroom engine without a window, for scripts, batch
 * checks, the server's recomputation and the tests (see cli.md). */
#include "rr-cli.h"
#include "rr-dicom.h"

#include <locale.h>
#include <string.h>

static const struct
{
  const char *name;
  int (*run) (int, char **);
  const char *summary;
} commands[] = {
  { "info", rr_cli_info, "scan files, folders and DICOMDIRs; list studies and series" },
  { "render", rr_cli_render, "one resliced view of a series to a PNG (the CPU reslicer)" },
  { "criteria", rr_cli_criteria, "evaluate a read (RECIST 1.1, iRECIST): sums, responses, violations" },
  { "deid", rr_cli_deid, "de-identify DICOM files (PS3.15 Annex E) with the trial's key" },
  { "qc", rr_cli_qc, "automated QC checks against a protocol, from the headers" },
  { "sr", rr_cli_sr, "a read as DICOM SR (TID 1500) per timepoint, and back (sr export/import)" },
  { "report", rr_cli_report, "a read as a PDF: key images, lesion tables, sums, responses" },
  { "bench", rr_cli_bench, "timings for the benchmarks in bench/ (bench load|reslice|qc PATH)" },
  { "upload", rr_cli_upload, "a site's upload: de-identify with the trial's key and send, resumable" },
  { "sync", rr_cli_sync, "fill the local cache with the open tasks' files (as the workstation)" },
  { "submit", rr_cli_submit, "sign a read and submit it through the outbox" },
  { "admin", rr_cli_admin, "trial administration on a readroom-server (users, trials, upload)" },
};

int
rr_cli_usage_error (const char *command,
                    const char *message)
{
  g_printerr ("readroom-cli%s%s: %s\n", command ? " " : "", command ? command : "", message);
  g_printerr ("Try 'readroom-cli %s%s--help'.\n", command ? command : "", command ? " " : "");
  return RR_EXIT_USAGE;
}

static void
print_help (void)
{
  g_print ("Usage: readroom-cli COMMAND [OPTIONS...]\n\nCommands:\n");
  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    g_print ("  %-8s %s\n", commands[i].name, commands[i].summary);
  g_print ("\nEach command takes --help. Exit status: 0 success, 1 bad input, 2 bad usage.\n");
}

int
main (int argc, char **argv)
{
  setlocale (LC_ALL, "");
  if (argc < 2)
    {
      print_help ();
      return RR_EXIT_USAGE;
    }
  if (g_str_equal (argv[1], "--help") || g_str_equal (argv[1], "-h") ||
      g_str_equal (argv[1], "help"))
    {
      print_help ();
      return RR_EXIT_OK;
    }
  if (g_str_equal (argv[1], "--version"))
    {
      g_print ("readroom-cli %s\n", PACKAGE_VERSION);
      return RR_EXIT_OK;
    }
  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    if (g_str_equal (argv[1], commands[i].name))
      {
        rr_dicom_init ();
        return commands[i].run (argc - 1, argv + 1);
      }
  return rr_cli_usage_error (NULL, "unknown command");
}
