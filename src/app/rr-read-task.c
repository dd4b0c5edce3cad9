/* rr-read-task.c: what the lesion form reads about its task from the
 * local database, apart from the form itself. */
#include "rr-read-task.h"
#include "rr-read-submitted.h"
#include "rr-json.h"
#include "rr-response-text.h"

#include <glib/gi18n.h>
#include <json-glib/json-glib.h>

void
rr_read_task_series_timepoints (RrStore           *store,
                                gint64             account,
                                const RrStoreTask *task,
                                const RrReadDraft *draft,
                                GHashTable        *series_tp)
{
  g_autoptr (JsonParser) p = json_parser_new ();
  g_autoptr (GHashTable) study_tp = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr (GPtrArray) files = rr_store_task_instances (store, account, task->id, NULL);
  if (json_parser_load_from_data (p, task->json, -1, NULL))
    {
      JsonArray *tps = json_object_get_array_member (json_node_get_object (
                                                       json_parser_get_root (p)), "timepoints");
      for (guint k = 0; tps && k < json_array_get_length (tps); k++)
        {
          JsonObject *tp = json_array_get_object_element (tps, k);
          JsonArray *studies = json_object_get_array_member (tp, "studies");
          int idx = -1;
          for (guint j = 0; j < draft->timepoints->len; j++)
            if (g_strcmp0 (((RrTimepoint *) draft->timepoints->pdata[j])->id,
                           json_object_get_string_member_with_default (tp, "label", "")) == 0)
              idx = (int) j;
          for (guint s = 0; idx >= 0 && studies && s < json_array_get_length (studies); s++)
            g_hash_table_insert (study_tp, g_strdup (json_array_get_string_element (studies, s)),
                                 GINT_TO_POINTER (idx + 1));
        }
    }
  for (guint i = 0; files && i < files->len; i++)
    {
      RrStoreInstance *inst = files->pdata[i];
      gpointer k = g_hash_table_lookup (study_tp, inst->study_uid);
      if (k)
        g_hash_table_insert (series_tp, g_strdup (inst->series_uid), k);
    }
}

/* Whether @task's trial reads in batch (server-api.md's task "reading"):
 * then any timepoint may be read first. A task from a server that does
 * not say is read sequentially, the stricter rule. */
static gboolean
reads_in_batch (const RrStoreTask *task)
{
  g_autoptr (JsonNode) root = task->json ? json_from_string (task->json, NULL) : NULL;
  JsonObject *o = root && JSON_NODE_HOLDS_OBJECT (root) ? json_node_get_object (root) : NULL;
  return o && g_strcmp0 (rr_json_get_string (o, "reading"), "batch") == 0;
}

/* The server decides in the end; this keeps the reader from
 * measuring a timepoint out of order. */
char *
rr_read_task_earlier_open_in (GPtrArray         *tasks,
                              GPtrArray         *outbox,
                              const RrStoreTask *task)
{
  const RrStoreTask *first = NULL;

  if (g_strcmp0 (task->kind, "read") != 0)
    return NULL;
  for (guint i = 0; tasks && i < tasks->len; i++)
    {
      const RrStoreTask *t = tasks->pdata[i];
      gboolean signed_here = FALSE;
      if (g_str_equal (t->id, task->id) || g_strcmp0 (t->kind, "read") != 0 ||
          g_strcmp0 (t->subject, task->subject) != 0 || t->n_timepoints >= task->n_timepoints ||
          g_strcmp0 (t->status, "open") != 0 || t->withdrawn)
        continue;
      for (guint k = 0; outbox && k < outbox->len; k++)
        {
          const RrStoreOutbox *o = outbox->pdata[k];
          signed_here |= g_str_equal (o->task_id, t->id) &&
                         (g_str_equal (o->state, "delivered") ||
                          rr_store_outbox_state_waiting (o->state));
        }
      if (!signed_here && (first == NULL || t->n_timepoints < first->n_timepoints))
        first = t;
    }
  /* Parsed only for a task with an earlier one open, not for every row. */
  if (first && reads_in_batch (task))
    return NULL;
  if (first)
    {
      g_autoptr (RrReadDraft) d = rr_read_draft_new_for_task (first->json, NULL);
      if (d && d->timepoints->len)
        return g_strdup (((RrTimepoint *) d->timepoints->pdata[d->timepoints->len - 1])->id);
      return g_strdup (_("an earlier timepoint"));
    }
  return NULL;
}

char *
rr_read_task_earlier_open (RrStore           *store,
                           gint64             account,
                           const RrStoreTask *task)
{
  g_autoptr (GPtrArray) tasks = rr_store_list_tasks (store, account, NULL);
  g_autoptr (GPtrArray) out = rr_store_outbox_list (store, account, NULL, NULL);
  return rr_read_task_earlier_open_in (tasks, out, task);
}

static char *
trial_of (const RrStoreTask *task)
{
  g_autoptr (JsonNode) root = task->json ? json_from_string (task->json, NULL) : NULL;
  JsonObject *o = root && JSON_NODE_HOLDS_OBJECT (root) ? json_node_get_object (root) : NULL;
  return o ? g_strdup (rr_json_get_string (o, "trial")) : NULL;
}

gboolean
rr_read_task_is_earlier (const RrStoreTask *t,
                         const RrStoreTask *task)
{
  g_autofree char *trial = NULL, *t_trial = NULL;
  if (g_str_equal (t->id, task->id) || g_strcmp0 (t->kind, "read") != 0 ||
      g_strcmp0 (t->subject, task->subject) != 0 || t->n_timepoints >= task->n_timepoints)
    return FALSE;
  /* Subject labels are the trial's own: another trial's "004" is
   * someone else. */
  trial = trial_of (task);
  t_trial = trial_of (t);
  return g_strcmp0 (t_trial, trial) == 0;
}

gboolean
rr_read_task_stands (const RrStoreTask *t,
                     GPtrArray         *outbox)
{
  if (t->withdrawn)
    return FALSE;
  if (g_strcmp0 (t->status, "submitted") == 0)
    return TRUE;
  /* Signed here: delivered before the task list says so, or still on its
   * way. A refused one was never taken. */
  for (guint k = 0; outbox && k < outbox->len; k++)
    {
      const RrStoreOutbox *o = outbox->pdata[k];
      if (g_str_equal (o->task_id, t->id) &&
          (g_str_equal (o->state, "delivered") || rr_store_outbox_state_waiting (o->state)))
        return TRUE;
    }
  return FALSE;
}

void
rr_read_task_prior_calipers (RrStore           *store,
                             gint64             account,
                             const RrStoreTask *task,
                             GHashTable        *calipers)
{
  g_autoptr (GPtrArray) tasks = rr_store_list_tasks (store, account, NULL);
  g_autoptr (GPtrArray) out = rr_store_outbox_list (store, account, NULL, NULL);

  for (guint i = 0; tasks && i < tasks->len; i++)
    {
      const RrStoreTask *t = tasks->pdata[i];
      g_autoptr (GPtrArray) more = NULL;
      g_autofree char *local = NULL;
      /* A draft never signed, or a read the server withdrew, is no
       * earlier value: the criteria would measure change from it. */
      if (!rr_read_task_is_earlier (t, task) || !rr_read_task_stands (t, out))
        continue;
      /* The calipers of the form rr_read_task_prior_form takes: as kept
       * here, else as submitted on another computer (its lesions name
       * those calipers; the other set's would be "caliper missing"). */
      local = rr_store_get_form (store, account, t->id, NULL);
      more = local ? rr_store_list_measurements (store, account, t->id, NULL, NULL, NULL)
                   : rr_read_submitted_measurements (store, account, t->id, NULL, NULL, NULL);
      for (guint k = 0; more && k < more->len; k++)
        {
          RrMeasurement *m = more->pdata[k];
          if (!g_hash_table_contains (calipers, m->id))
            g_hash_table_insert (calipers, g_strdup (m->id), rr_measurement_copy (m));
        }
    }
}

char *
rr_read_task_prior_form (RrStore           *store,
                         gint64             account,
                         const RrStoreTask *task)
{
  g_autoptr (GPtrArray) tasks = rr_store_list_tasks (store, account, NULL);
  g_autoptr (GPtrArray) out = rr_store_outbox_list (store, account, NULL, NULL);
  const RrStoreTask *best = NULL;

  for (guint i = 0; tasks && i < tasks->len; i++)
    {
      const RrStoreTask *t = tasks->pdata[i];
      if (rr_read_task_is_earlier (t, task) && rr_read_task_stands (t, out) &&
          (best == NULL || t->n_timepoints > best->n_timepoints))
        best = t;
    }
  /* Its form as kept here, else as submitted on another computer. */
  return best ? rr_read_submitted_form_or_local (store, account, best->id) : NULL;
}

char *
rr_read_task_withdrawn_prior (RrStore           *store,
                              gint64             account,
                              const RrStoreTask *task)
{
  g_autoptr (GPtrArray) tasks = rr_store_list_tasks (store, account, NULL);
  g_autoptr (GPtrArray) out = rr_store_outbox_list (store, account, NULL, NULL);
  const RrStoreTask *gone = NULL;

  for (guint i = 0; tasks && i < tasks->len; i++)
    {
      const RrStoreTask *t = tasks->pdata[i];
      gboolean replaced = FALSE;
      if (!rr_read_task_is_earlier (t, task) || !t->withdrawn)
        continue;
      /* Read again and standing (a new task for the same timepoints):
       * that one is the prior, nothing is missing. */
      for (guint k = 0; k < tasks->len; k++)
        {
          const RrStoreTask *u = tasks->pdata[k];
          replaced |= u != t && u->n_timepoints == t->n_timepoints &&
                      rr_read_task_is_earlier (u, task) && rr_read_task_stands (u, out);
        }
      if (!replaced && (gone == NULL || t->n_timepoints > gone->n_timepoints))
        gone = t;
    }
  if (gone)
    {
      g_autoptr (RrReadDraft) d = rr_read_draft_new_for_task (gone->json, NULL);
      if (d && d->timepoints->len)
        return g_strdup (((RrTimepoint *) d->timepoints->pdata[d->timepoints->len - 1])->id);
      return g_strdup (_("an earlier timepoint"));
    }
  return NULL;
}

char *
rr_read_task_receipt_text (const char *receipt_json)
{
  g_autoptr (JsonParser) p = json_parser_new ();
  const char *id = "", *at = "";
  JsonObject *r = NULL;
  if (receipt_json && json_parser_load_from_data (p, receipt_json, -1, NULL) &&
      JSON_NODE_HOLDS_OBJECT (json_parser_get_root (p)))
    {
      JsonObject *o = json_node_get_object (json_parser_get_root (p));
      if (json_object_has_member (o, "receipt") &&
          JSON_NODE_HOLDS_OBJECT (json_object_get_member (o, "receipt")))
        r = json_object_get_object_member (o, "receipt");
    }
  if (r)
    {
      id = json_object_get_string_member_with_default (r, "id", "");
      at = json_object_get_string_member_with_default (r, "submitted_at", "");
    }
  if (r && json_object_has_member (r, "responses") &&
      JSON_NODE_HOLDS_OBJECT (json_object_get_member (r, "responses")))
    {
      JsonObject *resp = json_object_get_object_member (r, "responses");
      JsonArray *fu = json_object_has_member (resp, "timepoints")
                        ? json_object_get_array_member (resp, "timepoints") : NULL;
      JsonObject *bl = json_object_has_member (resp, "baseline")
                         ? json_object_get_object_member (resp, "baseline") : NULL;
      /* At baseline there is no response yet: the server's sum says
       * it read the same lesions. */
      if (fu && json_array_get_length (fu) > 0)
        return g_strdup_printf (_("Submitted and locked. Receipt %s, %s. The server's best "
                                  "overall response: %s"), id, at,
                                rr_response_code_short (
                                  json_object_get_string_member_with_default (
                                    resp, "best_overall_response", NULL)));
      else
        return g_strdup_printf (_("Submitted and locked. Receipt %s, %s. The server's "
                                  "baseline sum: %.1f mm"), id, at,
                                bl ? json_object_get_double_member_with_default (bl, "sum_mm",
                                                                                  0) : 0.0);
    }
  else
    return g_strdup_printf (_("Submitted and locked. Receipt %s, %s"), id, at);
}
