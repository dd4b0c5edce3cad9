/* readroom-cli: the Readroom engine without a window, for scripts, batch
 * checks, the server's recomputation and the tests (see cli.md). */
#include "rr-cli.h"
#include "rr-dicom.h"
#include "rr-dicom-deid.h"

#include <gmodule.h>

#include <locale.h>
#include <stdio.h>
#include <string.h>

/* run NULL: the command lives in the command module (meson.build says
 * which and why), under the entry point named by symbol. dicom FALSE: the
 * command never uses dcmtk and skips its set-up (loading the data
 * dictionary is about 6 ms of CPU). */
static const struct
{
  const char *name;
  int (*run) (int, char **);
  const char *symbol;
  gboolean dicom;
  const char *summary;
} commands[] = {
  { "info", rr_cli_info, NULL, TRUE,
    "scan files, folders and DICOMDIRs; list studies and series" },
  { "render", NULL, "rr_cli_render", TRUE,
    "one resliced view of a series to a PNG (the CPU reslicer)" },
  { "criteria", rr_cli_criteria, NULL, FALSE,
    "evaluate a read (RECIST 1.1, iRECIST): sums, responses, violations" },
  { "deid", rr_cli_deid, NULL, TRUE,
    "de-identify DICOM files (PS3.15 Annex E) with the trial's key" },
  { "qc", rr_cli_qc, NULL, TRUE,
    "automated QC checks against a protocol, from the headers" },
  { "sr", NULL, "rr_cli_sr", TRUE,
    "a read as DICOM SR (TID 1500) per timepoint, and back (sr export/import)" },
  { "report", NULL, "rr_cli_report", TRUE,
    "a read as a PDF: key images, lesion tables, sums, responses" },
  { "bench", NULL, "rr_cli_bench", TRUE,
    "timings for the benchmarks in bench/ (bench load|reslice|qc PATH)" },
  { "upload", NULL, "rr_cli_upload", TRUE,
    "a site's upload: de-identify with the trial's key and send, resumable" },
  { "sync", NULL, "rr_cli_sync", FALSE,
    "fill the local cache with the open tasks' files (as the workstation)" },
  { "submit", NULL, "rr_cli_submit", FALSE,
    "sign a read and submit it through the outbox" },
  { "admin", NULL, "rr_cli_admin", FALSE,
    "trial administration on a readroom-server (users, trials, upload)" },
};

/* The module beside the executable (the build tree), else where it is
 * installed. Opened with local binding: its copies of the static layers
 * stay its own, and nothing it loads can interpose on the executable. On
 * failure, says which path and why, and returns NULL. */
static GModule *
open_command_module (const char *command)
{
  g_autofree char *exe = g_file_read_link ("/proc/self/exe", NULL);
  g_autofree char *beside = NULL;
  g_autofree char *installed = g_build_filename (RR_CLI_MODULE_DIR, RR_CLI_MODULE, NULL);
  const char *path = installed;
  GModule *module;

  if (exe != NULL)
    {
      g_autofree char *dir = g_path_get_dirname (exe);
      beside = g_build_filename (dir, RR_CLI_MODULE, NULL);
      if (g_file_test (beside, G_FILE_TEST_EXISTS))
        path = beside;
    }
  if (path == installed && !g_file_test (installed, G_FILE_TEST_EXISTS))
    {
      g_printerr ("readroom-cli %s: the command module is missing: neither %s%s%s exists "
                  "(a broken installation)\n", command, installed,
                  beside ? " nor " : "", beside ? beside : "");
      return NULL;
    }
  module = g_module_open (path, G_MODULE_BIND_LOCAL | G_MODULE_BIND_LAZY);
  if (module == NULL)
    g_printerr ("readroom-cli %s: cannot load the command module %s: %s\n", command, path,
                g_module_error ());
  return module;
}

static int
run_in_module (guint   i,
               int     argc,
               char  **argv)
{
  GModule *module = open_command_module (commands[i].name);
  gpointer run = NULL;

  if (module == NULL)
    return RR_EXIT_USAGE;
  if (!g_module_symbol (module, commands[i].symbol, &run) || run == NULL)
    {
      g_printerr ("readroom-cli %s: the command module %s has no %s: %s\n", commands[i].name,
                  g_module_name (module), commands[i].symbol, g_module_error ());
      return RR_EXIT_USAGE;
    }
  /* Never closed: the process ends with the command. */
  return ((int (*) (int, char **)) run) (argc, argv);
}

/* On stdout when asked for (--help), on stderr when it answers a mistake:
 * a script's stdout gets no usage text it did not ask for. */
static void
print_help (FILE *out)
{
  fprintf (out, "Usage: readroom-cli COMMAND [OPTIONS...]\n\nCommands:\n");
  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    fprintf (out, "  %-8s %s\n", commands[i].name, commands[i].summary);
  fprintf (out, "\nEach command takes --help. Exit status: 0 success, 1 bad input, 2 bad usage.\n");
}

int
main (int argc, char **argv)
{
  setlocale (LC_ALL, "");
  if (argc < 2)
    {
      print_help (stderr);
      return RR_EXIT_USAGE;
    }
  if (g_str_equal (argv[1], "--help") || g_str_equal (argv[1], "-h") ||
      g_str_equal (argv[1], "help"))
    {
      print_help (stdout);
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
        /* dcmtk's state (log level, dictionary, codecs) lives in its
         * shared libraries: set here, the module's commands find it too.
         * deid removes every private attribute: it starts without the
         * private dictionary (rr-dicom-deid-dict.cc). */
        if (commands[i].run == rr_cli_deid)
          rr_deid_use_public_dictionary ();
        if (commands[i].dicom)
          rr_dicom_init ();
        if (commands[i].run == NULL)
          return run_in_module (i, argc - 1, argv + 1);
        return commands[i].run (argc - 1, argv + 1);
      }
  {
    g_autofree char *message = g_strdup_printf ("unknown command '%s'", argv[1]);
    return rr_cli_usage_error (NULL, message);
  }
}
