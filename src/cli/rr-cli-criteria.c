/* rr-cli-criteria.c: `readroom-cli criteria FILE.json [--json]`: evaluates
 * a read under its criteria, as JSON (cli.md) or as a table. */
#include "rr-cli.h"
#include "rr-criteria.h"

#include <glib/gstdio.h>

static void
print_pct (GString *out, gboolean known, gint64 value, gint64 ref)
{
  if (!known || ref <= 0)
    g_string_append_printf (out, " %8s", "-");
  else
    {
      gint64 p = rr_pct_tenths (value, ref);
      g_string_append_printf (out, " %+7.1f%%", p / 10.0);
    }
}

static void
print_table (GString *out, const RrCriteriaResult *r, const char *title)
{
  const RrRead *read = r->read;
  g_string_append_printf (out, "%s\n", title);
  if (r->has_targets)
    g_string_append_printf (out, "Baseline sum of diameters: %.1f mm (day %d)\n",
                            r->baseline_sum / 10.0,
                            ((RrTimepoint *) read->timepoints->pdata[0])->day);
  else
    g_string_append (out, "No target lesions: non-target disease only\n");
  g_string_append_printf (out, "%-10s %5s %8s %8s %9s %9s  %-6s %-14s %-9s %s\n", "Timepoint", "Day",
                          "Sum mm", "Nadir", "vs base", "vs nadir", "Target", "Non-target",
                          "New", "Overall");
  for (guint i = 0; i < r->timepoints->len; i++)
    {
      const RrTimepointResult *t = &g_array_index (r->timepoints, RrTimepointResult, i);
      gboolean known = r->has_targets && t->evaluable;
      g_string_append_printf (out, "%-10s %5d", t->id, t->day);
      if (known)
        g_string_append_printf (out, " %8.1f", t->sum / 10.0);
      else
        g_string_append_printf (out, " %8s", "-");
      if (r->has_targets)
        g_string_append_printf (out, " %8.1f", t->nadir / 10.0);
      else
        g_string_append_printf (out, " %8s", "-");
      print_pct (out, known, t->sum, r->baseline_sum);
      print_pct (out, known, t->sum, t->nadir);
      g_string_append_printf (out, "  %-6s %-14s %-9s %s\n", rr_response_to_string (t->target),
                              rr_response_to_string (t->non_target),
                              rr_new_status_to_string (t->new_lesions),
                              rr_response_to_string (t->overall));
    }
  g_string_append_printf (out, "Best overall response: %s\n",
                          rr_response_to_string (r->best_overall_response));
  if (r->progression_timepoint >= 0)
    g_string_append_printf (out, "Progression: %s\n",
                            ((RrTimepoint *) read->timepoints->pdata[r->progression_timepoint])->id);
  else
    g_string_append (out, "Progression: none\n");
  for (guint i = 0; i < r->violations->len; i++)
    g_string_append_printf (out, "Violation (%s): %s\n", ((RrIssue *) r->violations->pdata[i])->rule,
                            ((RrIssue *) r->violations->pdata[i])->message);
  for (guint i = 0; i < r->warnings->len; i++)
    g_string_append_printf (out, "Warning (%s): %s\n", ((RrIssue *) r->warnings->pdata[i])->rule,
                            ((RrIssue *) r->warnings->pdata[i])->message);
}

int
rr_cli_criteria (int argc, char **argv)
{
  gboolean json = FALSE;
  GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Machine-readable output", NULL },
    { NULL }
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("FILE.json");
  g_autoptr (GError) error = NULL;
  g_autofree char *data = NULL;
  gsize len = 0;
  GStatBuf st;
  const char *path;

  g_option_context_set_summary (ctx, "Evaluates a read (cli.md) under its criteria.");
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    return rr_cli_usage_error ("criteria", error->message);
  if (argc != 2)
    return rr_cli_usage_error ("criteria", "one FILE.json is needed");
  path = argv[1];
  if (g_stat (path, &st) != 0)
    {
      g_printerr ("readroom-cli criteria: %s: %s\n", path, g_strerror (errno));
      return RR_EXIT_INPUT;
    }
  if (st.st_size > 16 * 1024 * 1024)
    {
      g_printerr ("readroom-cli criteria: %s: too large for a read (16 MiB at most)\n", path);
      return RR_EXIT_INPUT;
    }
  if (!g_file_get_contents (path, &data, &len, &error))
    {
      g_printerr ("readroom-cli criteria: %s\n", error->message);
      return RR_EXIT_INPUT;
    }
  g_autoptr (RrRead) read = rr_read_parse (data, (gssize) len, &error);
  if (read == NULL)
    {
      g_printerr ("readroom-cli criteria: %s: %s\n", path, error->message);
      return RR_EXIT_INPUT;
    }
  g_autoptr (RrCriteriaResult) result = rr_criteria_evaluate (read, &error);
  if (result == NULL)
    {
      g_printerr ("readroom-cli criteria: %s: %s\n", path, error->message);
      return RR_EXIT_INPUT;
    }
  if (json)
    {
      g_autofree char *text = rr_criteria_result_to_json (result);
      g_print ("%s", text);
    }
  else
    {
      g_autoptr (GString) out = g_string_new (NULL);
      const RrCriteria *c = rr_criteria_lookup (result->criteria);
      print_table (out, result, c ? c->name : result->criteria);
      if (result->recist)
        {
          g_string_append_c (out, '\n');
          print_table (out, result->recist, "RECIST 1.1");
        }
      g_print ("%s", out->str);
    }
  if (result->violations->len > 0)
    {
      RrIssue *first = result->violations->pdata[0];
      g_printerr ("readroom-cli criteria: %s: the read breaks %u rule(s): %s\n", path,
                  result->violations->len, first->message);
      return RR_EXIT_INPUT;
    }
  return RR_EXIT_OK;
}
