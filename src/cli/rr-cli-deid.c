/* rr-cli-deid.c: `readroom-cli deid IN OUT --subject ID --key FILE`: the
 * PS3.15 Annex E de-identification of a folder of DICOM files (cli.md). */
#include "rr-cli.h"
#include "rr-dicom.h"
#include "rr-dicom-deid.h"

#include "rr-json-writer.h"

#include <malloc.h>

static char *
result_json (RrDeidResult *r)
{
  g_autoptr (RrJsonWriter) b = rr_json_writer_new (TRUE);

  rr_json_begin_object (b);
  rr_json_key (b, "files");
  rr_json_int (b, r->n_files);
  rr_json_key (b, "written");
  rr_json_int (b, r->n_written);
  rr_json_key (b, "warnings");
  rr_json_begin_array (b);
  for (guint i = 0; i < r->warnings->len; i++)
    {
      RrDeidWarning *w = r->warnings->pdata[i];
      rr_json_begin_object (b);
      rr_json_key (b, "path");
      rr_json_string (b, w->path);
      rr_json_key (b, "code");
      rr_json_string (b, w->code);
      rr_json_key (b, "message");
      rr_json_string (b, w->message);
      rr_json_end_object (b);
    }
  rr_json_end_array (b);
  rr_json_key (b, "uids");
  rr_json_int (b, r->n_uids);
  rr_json_end_object (b);
  return rr_json_writer_steal (b);
}

int
rr_cli_deid (int argc, char **argv)
{
  g_autofree char *subject = NULL;
  g_autofree char *key_path = NULL;
  gboolean retain_dates = FALSE, json = FALSE;
  int threads = 0;
  GOptionEntry entries[] = {
    { "subject", 0, 0, G_OPTION_ARG_STRING, &subject,
      "The trial's subject ID: becomes Patient Name and Patient ID", "ID" },
    { "key", 0, 0, G_OPTION_ARG_FILENAME, &key_path,
      "File holding the trial's secret (at least 32 bytes)", "FILE" },
    { "retain-dates", 0, 0, G_OPTION_ARG_NONE, &retain_dates,
      "Shift every date by the subject's key-derived offset instead of removing it", NULL },
    { "threads", 0, 0, G_OPTION_ARG_INT, &threads, "Worker threads (default: one per core)",
      "N" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Machine-readable output", NULL },
    { NULL }
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("IN OUT");
  g_autoptr (GError) error = NULL;

  g_option_context_set_summary (ctx,
    "De-identifies the DICOM files under IN into OUT per DICOM PS3.15 Annex E: the Basic\n"
    "Application Level Confidentiality Profile with the Clean Descriptors and Retain\n"
    "Patient Characteristics options (and, with --retain-dates, Retain Longitudinal\n"
    "Temporal Information with Modified Dates). Output files are named by their new\n"
    "SOP Instance UIDs. Exit 0 when every file was written, 1 when any could not be.");
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    return rr_cli_usage_error ("deid", error->message);
  if (argc != 3)
    return rr_cli_usage_error ("deid", "IN and OUT are needed");
  if (subject == NULL)
    return rr_cli_usage_error ("deid", "--subject is needed");
  if (key_path == NULL)
    return rr_cli_usage_error ("deid", "--key is needed");
  if (threads < 0 || threads > 64)
    return rr_cli_usage_error ("deid", "--threads takes 1 to 64");

  g_autoptr (GBytes) key = rr_deid_read_key (key_path, &error);
  if (key == NULL)
    {
      g_printerr ("readroom-cli deid: %s\n", error->message);
      return RR_EXIT_INPUT;
    }
  gsize key_len = 0;
  const guint8 *key_data = g_bytes_get_data (key, &key_len);
  g_autoptr (RrDeid) deid = rr_deid_new (key_data, key_len, subject, retain_dates, &error);
  if (deid == NULL)
    return rr_cli_usage_error ("deid", error->message);

  /* A worker thread's malloc arena grew page by page as it kept the
   * headers it read (an mprotect each time, 100 to 450 a run, each one
   * interrupting the other core to flush its TLB): grown 8 MiB at a time,
   * it takes a few. Untouched pages cost no memory. */
  mallopt (M_TOP_PAD, 8 << 20);
  g_autoptr (RrDeidResult) r = rr_deid_tree (deid, argv[1], argv[2], (guint) threads, NULL,
                                             &error);
  if (r == NULL)
    {
      g_printerr ("readroom-cli deid: %s\n", error->message);
      return RR_EXIT_INPUT;
    }

  for (guint i = 0; i < r->failures->len; i++)
    {
      RrDeidFailure *f = r->failures->pdata[i];
      g_printerr ("readroom-cli deid: %s: %s\n", f->path, f->message);
    }
  if (json)
    {
      g_autofree char *text = result_json (r);
      g_print ("%s", text);
    }
  else
    {
      for (guint i = 0; i < r->warnings->len; i++)
        {
          RrDeidWarning *w = r->warnings->pdata[i];
          g_print ("warning: %s: %s\n", w->path, w->message);
        }
      g_print ("%u files, %u written, %u UIDs replaced%s\n", r->n_files, r->n_written,
               r->n_uids, retain_dates ? ", dates shifted" : "");
    }

  if (r->n_files == 0 && r->failures->len == 0)
    {
      g_printerr ("readroom-cli deid: %s: no files found\n", argv[1]);
      return RR_EXIT_INPUT;
    }
  return r->failures->len > 0 ? RR_EXIT_INPUT : RR_EXIT_OK;
}
