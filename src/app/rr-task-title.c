/* rr-task-title.c: a task open is named in the header by its subject and
 * timepoint, the words the worklist and the form use, so the reader sees
 * which case is on screen. No GTK: unit-tested on its own. */
#include "rr-task-title.h"
#include "rr-json.h"

#include <glib/gi18n.h>
#include <json-glib/json-glib.h>

char *
rr_task_title_subtitle (const char *task_json,
                        gboolean    withdrawn)
{
  g_autoptr (JsonParser) p = json_parser_new ();
  const char *subject = NULL, *timepoint = NULL;
  g_autofree char *text = NULL;

  if (task_json && json_parser_load_from_data (p, task_json, -1, NULL) &&
      JSON_NODE_HOLDS_OBJECT (json_parser_get_root (p)))
    {
      JsonObject *o = json_node_get_object (json_parser_get_root (p));
      JsonArray *tps = rr_json_get_array (o, "timepoints");
      guint n = tps ? json_array_get_length (tps) : 0;
      JsonObject *last = n ? rr_json_get_element (tps, n - 1) : NULL;
      subject = rr_json_get_string (o, "subject");
      timepoint = last ? rr_json_get_string (last, "label") : NULL;
    }
  if (subject && *subject && timepoint && *timepoint)
    /* TRANSLATORS: the header's subtitle for a task open, e.g. "Subject S-001 · Week 8" */
    text = g_strdup_printf (_("Subject %s · %s"), subject, timepoint);
  else if (subject && *subject)
    text = g_strdup_printf (_("Subject %s"), subject);
  else
    text = g_strdup (_("Task"));
  if (!withdrawn)
    return g_steal_pointer (&text);
  /* TRANSLATORS: a task's subtitle, then why nothing can be submitted for it */
  return g_strdup_printf (_("%s (withdrawn)"), text);
}
