/* rr-cli-qc.c: `readroom-cli qc`: the automated QC checks of a timepoint's
 * files against a protocol (cli.md), from their headers alone. */
#include "rr-cli.h"
#include "rr-dicom.h"
#include "rr-qc.h"

#include <errno.h>
#include <glib/gstdio.h>

static RrQcProtocol *
load_protocol (const char *path)
{
  GStatBuf st;
  g_autofree char *data = NULL;
  gsize len = 0;
  g_autoptr (GError) error = NULL;
  RrQcProtocol *protocol;

  if (g_stat (path, &st) != 0)
    {
      g_printerr ("readroom-cli qc: %s: %s\n", path, g_strerror (errno));
      return NULL;
    }
  if (st.st_size > RR_QC_MAX_PROTOCOL_BYTES)
    {
      g_printerr ("readroom-cli qc: %s: too large for a protocol (%d bytes at most)\n", path,
                  RR_QC_MAX_PROTOCOL_BYTES);
      return NULL;
    }
  if (!g_file_get_contents (path, &data, &len, &error))
    {
      g_printerr ("readroom-cli qc: %s\n", error->message);
      return NULL;
    }
  protocol = rr_qc_protocol_parse (data, (gssize) len, &error);
  if (protocol == NULL)
    g_printerr ("readroom-cli qc: %s: %s\n", path, error->message);
  return protocol;
}

/* The protocol's lists are not NULL-terminated: no g_strjoinv. */
static char *
join_or (GPtrArray *codes)
{
  g_autoptr (GString) s = g_string_new (NULL);
  for (guint i = 0; i < codes->len; i++)
    g_string_append_printf (s, "%s%s", i ? " or " : "", (char *) codes->pdata[i]);
  return g_string_free (g_steal_pointer (&s), FALSE);
}

static void
print_protocol (GString            *out,
                const RrQcProtocol *p,
                gboolean            given)
{
  g_autoptr (GPtrArray) parts = g_ptr_array_new_with_free_func (g_free);

  if (!given)
    {
      g_string_append (out, "No protocol: modality, body part, thickness, coverage and "
                       "contrast are reported, not judged.\n\n");
      return;
    }
  if (p->modalities->len > 0)
    {
      g_autofree char *m = join_or (p->modalities);
      g_ptr_array_add (parts, g_strdup_printf ("modality %s", m));
    }
  if (p->body_parts->len > 0)
    {
      g_autofree char *b = join_or (p->body_parts);
      g_ptr_array_add (parts, g_strdup_printf ("body part %s", b));
    }
  if (p->max_slice_thickness_mm > 0)
    g_ptr_array_add (parts, g_strdup_printf ("slices at most %g mm thick",
                                             p->max_slice_thickness_mm));
  if (p->min_coverage_mm > 0)
    g_ptr_array_add (parts, g_strdup_printf ("at least %g mm covered", p->min_coverage_mm));
  if (p->contrast == RR_QC_CONTRAST_REQUIRED)
    g_ptr_array_add (parts, g_strdup ("with contrast"));
  else if (p->contrast == RR_QC_CONTRAST_ABSENT)
    g_ptr_array_add (parts, g_strdup ("without contrast"));
  if (p->max_gap_slices == 0)
    g_ptr_array_add (parts, g_strdup ("no slice missing"));
  else
    g_ptr_array_add (parts, g_strdup_printf (p->max_gap_slices == 1
                                             ? "at most %u missing slice in a row"
                                             : "at most %u missing slices in a row",
                                             p->max_gap_slices));
  g_ptr_array_add (parts, NULL);
  {
    g_autofree char *all = g_strjoinv ("; ", (char **) parts->pdata);
    g_string_append_printf (out, "Protocol: %s.\n\n", all);
  }
}

static void
print_text (const RrQcResult   *result,
            const RrQcProtocol *protocol,
            gboolean            protocol_given)
{
  g_autoptr (GString) out = g_string_new (NULL);
  guint n_fail = 0, n_warn = 0;

  print_protocol (out, protocol, protocol_given);
  for (guint i = 0; i < result->series->len; i++)
    {
      const RrQcSeries *s = result->series->pdata[i];
      g_string_append_printf (out, "Series %d %s \"%s\", %u instance(s)\n  %s\n", s->number,
                              s->modality ? s->modality : "(no modality)",
                              s->description ? s->description : "", s->n_instances,
                              s->series_uid);
      for (guint c = 0; c < s->checks->len; c++)
        {
          const RrQcCheck *ck = s->checks->pdata[c];
          const char *label = ck->status == RR_QC_FAIL ? "FAIL" :
                              ck->status == RR_QC_WARN ? "warn" : "pass";
          n_fail += ck->status == RR_QC_FAIL;
          n_warn += ck->status == RR_QC_WARN;
          g_string_append_printf (out, "  %s  %-22s %s\n", label, ck->check, ck->message);
        }
      g_string_append_c (out, '\n');
    }
  if (result->findings->len > 0)
    {
      g_string_append_printf (out, "Findings (%u):\n", result->findings->len);
      for (guint i = 0; i < result->findings->len; i++)
        {
          const RrQcFinding *f = result->findings->pdata[i];
          g_string_append_printf (out, "  %-5s %-22s %s\n        series %s", f->severity,
                                  f->category, f->comment, f->series_uid);
          if (f->sop_uid)
            g_string_append_printf (out, ", image %s", f->sop_uid);
          g_string_append_c (out, '\n');
        }
      g_string_append_c (out, '\n');
    }
  if (n_fail == 0 && n_warn == 0)
    g_string_append_printf (out, "Every check passed in %u series.\n", result->series->len);
  else
    g_string_append_printf (out, "%u check(s) failed and %u warned in %u series.\n", n_fail,
                            n_warn, result->series->len);
  g_print ("%s", out->str);
}

/* `bench qc PATH`: the header pass and the checks timed apart, for the
 * benchmark that sets them against loading the same series (bench/). */
int
rr_cli_bench_qc (const char *path,
                 const char *protocol_path,
                 gboolean    json,
                 guint       threads)
{
  const char *paths[] = { path, NULL };
  g_autoptr (GError) error = NULL;
  g_autoptr (RrQcProtocol) protocol = protocol_path ? load_protocol (protocol_path)
                                                    : rr_qc_protocol_new ();
  g_autoptr (RrDicomHeaders) headers = NULL;
  g_autoptr (RrQcResult) result = NULL;
  gint64 t0, t1, t2;

  if (protocol == NULL)
    return RR_EXIT_INPUT;
  t0 = g_get_monotonic_time ();
  headers = rr_dicom_read_headers (paths, threads, NULL, &error);
  if (headers == NULL)
    {
      g_printerr ("readroom-cli bench: %s: %s\n", path, error->message);
      return RR_EXIT_INPUT;
    }
  t1 = g_get_monotonic_time ();
  result = rr_qc_run (protocol, (RrQcInstance * const *) headers->instances->pdata,
                      headers->instances->len);
  t2 = g_get_monotonic_time ();
  if (headers->instances->len == 0)
    {
      g_printerr ("readroom-cli bench: %s: no DICOM files found\n", path);
      return RR_EXIT_INPUT;
    }
  if (json)
    g_print ("{\"instances\": %u, \"series\": %u, \"seconds\": %.4f, "
             "\"header_seconds\": %.4f, \"check_seconds\": %.6f}\n",
             headers->instances->len, result->series->len, (t2 - t0) / 1e6, (t1 - t0) / 1e6,
             (t2 - t1) / 1e6);
  else
    g_print ("instances %u series %u seconds %.4f header_seconds %.4f check_seconds %.6f\n",
             headers->instances->len, result->series->len, (t2 - t0) / 1e6, (t1 - t0) / 1e6,
             (t2 - t1) / 1e6);
  return RR_EXIT_OK;
}

/* Read errors name their file already; walk errors do not. */
static char *
unreadable_line (const RrDicomUnreadable *u)
{
  if (g_str_has_prefix (u->message, u->path))
    return g_strdup (u->message);
  return g_strdup_printf ("%s: %s", u->path, u->message);
}

int
rr_cli_qc (int argc, char **argv)
{
  gboolean json = FALSE;
  char *protocol_path = NULL;
  GOptionEntry entries[] = {
    { "protocol", 0, 0, G_OPTION_ARG_FILENAME, &protocol_path,
      "The trial's imaging protocol (JSON, cli.md)", "FILE.json" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Machine-readable output", NULL },
    { NULL }
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("PATH");
  g_autoptr (GError) error = NULL;
  g_autoptr (RrQcProtocol) protocol = NULL;
  g_autoptr (RrDicomHeaders) headers = NULL;
  g_autoptr (RrQcResult) result = NULL;
  g_autofree char *protocol_owned = NULL;

  g_option_context_set_summary (ctx, "Checks a timepoint's images against the trial's protocol "
                                "and for identifying data, from their headers.\nExit 0 "
                                "whether or not checks fail; 1 when the input cannot be read.");
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    return rr_cli_usage_error ("qc", error->message);
  protocol_owned = protocol_path;
  if (argc != 2)
    return rr_cli_usage_error ("qc", "one PATH is needed");

  if (protocol_path != NULL)
    {
      protocol = load_protocol (protocol_path);
      if (protocol == NULL)
        return RR_EXIT_INPUT;
    }
  else
    protocol = rr_qc_protocol_new ();

  {
    const char *paths[] = { argv[1], NULL };
    headers = rr_dicom_read_headers (paths, 0, NULL, &error);
  }
  if (headers == NULL)
    {
      g_printerr ("readroom-cli qc: %s: %s\n", argv[1], error->message);
      return RR_EXIT_INPUT;
    }
  if (headers->instances->len == 0)
    {
      if (headers->unreadable->len > 0)
        {
          g_autofree char *line = unreadable_line (headers->unreadable->pdata[0]);
          g_printerr ("readroom-cli qc: %s\n", line);
        }
      else
        g_printerr ("readroom-cli qc: %s: no DICOM files found\n", argv[1]);
      return RR_EXIT_INPUT;
    }

  result = rr_qc_run (protocol, (RrQcInstance * const *) headers->instances->pdata,
                      headers->instances->len);
  if (json)
    {
      g_autofree char *text = rr_qc_result_to_json (result);
      g_print ("%s", text);
    }
  else
    print_text (result, protocol, protocol_path != NULL);
  /* Files left out are said, not hidden: the checks ran without them. */
  for (guint i = 0; i < headers->unreadable->len; i++)
    {
      g_autofree char *line = unreadable_line (headers->unreadable->pdata[i]);
      g_printerr ("readroom-cli qc: warning: not checked: %s\n", line);
    }
  return RR_EXIT_OK;
}
