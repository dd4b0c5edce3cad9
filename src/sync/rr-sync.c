/* rr-sync.c: a sync run: the account's tasks into the local store, the
 * manifests of the open ones, then their files (rr-sync-download.c). The
 * requests are in rr-sync-request.c, the outbox in rr-sync-outbox.c. */
#include "rr-sync.h"
#include "rr-sync-download.h"
#include "rr-sync-submission.h"
#include "rr-json.h"

#include <string.h>

G_DEFINE_QUARK (rr-sync-error-quark, rr_sync_error)

/* The background sync fills the cache for the reads still to do. A task
 * named explicitly (the reader clicked it) comes whatever its status, so
 * a read signed on another computer can be looked at here; a withdrawn
 * one (cancelled) is not the reader's to open any more. */
static gboolean
wanted_task (const RrSyncOptions *options,
             const char          *id,
             const char          *status)
{
  if (options->task_id == NULL)
    return g_str_equal (status, "open");
  return g_str_equal (options->task_id, id) && !g_str_equal (status, "cancelled");
}

/* The user's own reads, QC decisions and adjudications submitted
 * elsewhere (another computer, the API), each fetched once: such a task
 * opens here read-only as signed, and a follow-up's prior calipers come
 * from a read. Those signed here are in the outbox. */
static gboolean
fetch_submissions (RrSyncClient  *client,
                   RrStore       *store,
                   gint64         account,
                   JsonArray     *tasks,
                   GError       **error)
{
  g_autofree char *user = NULL;

  if (!rr_store_get_account (store, account, NULL, &user, NULL, error))
    return FALSE;
  for (guint i = 0; i < json_array_get_length (tasks); i++)
    {
      JsonObject *o = rr_json_get_element (tasks, i);
      const char *id = o ? json_object_get_string_member_with_default (o, "id", NULL) : NULL;
      const char *kind = o ? json_object_get_string_member_with_default (o, "kind", "") : "";
      g_autofree char *kept = NULL;
      g_autoptr (RrStoreOutbox) here = NULL;
      /* An admin lists every task; only the account's own are its
       * submissions. A query's answer is the site's upload, not shown
       * as signed. */
      if (id == NULL ||
          !(g_str_equal (kind, "read") || g_str_equal (kind, "qc") ||
            g_str_equal (kind, "adjudication")) ||
          g_strcmp0 (json_object_get_string_member_with_default (o, "status", ""),
                     "submitted") != 0 ||
          g_strcmp0 (rr_json_get_string (o, "assignee"), user) != 0)
        continue;
      kept = rr_store_get_submission (store, account, id, NULL);
      here = rr_store_outbox_for_task (store, account, id, NULL);
      if (kept || (here && g_str_equal (here->state, "delivered")))
        continue;
      if (!rr_sync_fetch_submission (client, store, account, id, kind, error))
        return FALSE;
    }
  return TRUE;
}

gboolean
rr_sync_run (RrSyncClient         *client,
             RrStore              *store,
             gint64                account,
             const char           *cache_dir,
             const RrSyncOptions  *options,
             GCancellable         *cancellable,
             GError              **error)
{
  RrSyncOptions defaults = { 0 };
  g_autoptr (JsonNode) tasks = NULL;
  g_autoptr (GPtrArray) ids = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) wanted = g_ptr_array_new ();
  g_autoptr (GPtrArray) instances = NULL;
  g_autoptr (RrSyncDownload) run = NULL;
  JsonArray *a;

  if (options == NULL)
    options = &defaults;
  /* One clock for the run: whatever fails, nothing progressing for this
   * long ends it. */
  rr_sync_client_set_offline_timeout (client,
                                      options->offline_timeout_s ? options->offline_timeout_s : 300);
  run = rr_sync_download_new (client, store, account, cache_dir, options);

  /* The tasks: every one the server lists, kept; those it no longer lists
   * are marked (their drafts stay). */
  rr_sync_download_status (run, "fetching tasks");
  tasks = rr_sync_get_json (client, "/readroom/v1/tasks?status=all", error);
  if (tasks == NULL)
    return FALSE;
  if (!JSON_NODE_HOLDS_ARRAY (tasks))
    {
      g_set_error (error, RR_SYNC_ERROR, RR_SYNC_ERROR_SERVER, "The task list is not a list");
      return FALSE;
    }
  a = json_node_get_array (tasks);
  if (!rr_store_begin (store, error))
    return FALSE;
  for (guint i = 0; i < json_array_get_length (a); i++)
    {
      JsonNode *n = json_array_get_element (a, i);
      JsonObject *o = rr_json_get_element (a, i);
      g_autoptr (JsonGenerator) g = json_generator_new ();
      g_autofree char *text = NULL;
      const char *id = o ? json_object_get_string_member_with_default (o, "id", NULL) : NULL;
      if (id == NULL)
        continue;
      json_generator_set_root (g, n);
      text = json_generator_to_data (g, NULL);
      if (!rr_store_put_task (store, account, id,
                              json_object_get_string_member_with_default (o, "kind", ""),
                              json_object_get_string_member_with_default (o, "status", ""),
                              json_object_get_string_member_with_default (o, "due_at", NULL), text,
                              error))
        {
          rr_store_rollback (store);
          return FALSE;
        }
      g_ptr_array_add (ids, g_strdup (id));
      if (wanted_task (options, id, json_object_get_string_member_with_default (o, "status", "")))
        g_ptr_array_add (wanted, ids->pdata[ids->len - 1]);
    }
  g_ptr_array_add (ids, NULL);
  if (!rr_store_mark_tasks_gone (store, account, (const char *const *) ids->pdata, error) ||
      !rr_store_commit (store, error))
    {
      rr_store_rollback (store);
      return FALSE;
    }
  if (!fetch_submissions (client, store, account, a, error))
    return FALSE;

  if (options->tasks_only)
    return TRUE;
  /* Their manifests. */
  for (guint i = 0; i < wanted->len; i++)
    {
      g_autofree char *path = g_strdup_printf ("/readroom/v1/tasks/%s/instances",
                                               (char *) wanted->pdata[i]);
      g_autoptr (JsonNode) m = rr_sync_get_json (client, path, error);
      JsonArray *ma;
      if (m == NULL)
        return FALSE;
      if (!JSON_NODE_HOLDS_ARRAY (m))
        {
          g_set_error (error, RR_SYNC_ERROR, RR_SYNC_ERROR_SERVER, "A manifest is not a list");
          return FALSE;
        }
      ma = json_node_get_array (m);
      if (!rr_store_begin (store, error))
        return FALSE;
      for (guint k = 0; k < json_array_get_length (ma); k++)
        {
          JsonObject *o = rr_json_get_element (ma, k);
          RrStoreInstance inst = { 0 };
          if (o == NULL)
            continue;
          inst.sop_uid = (char *) json_object_get_string_member_with_default (o, "sop", NULL);
          inst.study_uid = (char *) json_object_get_string_member_with_default (o, "study", "");
          inst.series_uid = (char *) json_object_get_string_member_with_default (o, "series", "");
          inst.size = json_object_get_int_member_with_default (o, "size", -1);
          inst.md5 = (char *) json_object_get_string_member_with_default (o, "md5", NULL);
          inst.url = (char *) json_object_get_string_member_with_default (o, "url", NULL);
          /* Bounded: a size is checked before anything is written. */
          if (inst.sop_uid == NULL || inst.md5 == NULL || inst.url == NULL || inst.url[0] != '/' ||
              inst.size < 0 || inst.size > ((gint64) 4 << 30) ||
              strchr (inst.sop_uid, '/') != NULL || strlen (inst.sop_uid) > 64)
            {
              rr_store_rollback (store);
              g_set_error (error, RR_SYNC_ERROR, RR_SYNC_ERROR_SERVER,
                           "A manifest entry is not the contract's");
              return FALSE;
            }
          if (!rr_store_put_instance (store, account, wanted->pdata[i], &inst, error))
            {
              rr_store_rollback (store);
              return FALSE;
            }
        }
      if (!rr_store_commit (store, error))
        return FALSE;
    }

  instances = g_ptr_array_new_with_free_func ((GDestroyNotify) rr_store_instance_free);
  for (guint i = 0; i < wanted->len; i++)
    {
      g_autoptr (GPtrArray) some = rr_store_task_instances (store, account, wanted->pdata[i], error);
      if (some == NULL)
        return FALSE;
      for (guint k = 0; k < some->len; k++)
        g_ptr_array_add (instances, g_steal_pointer (&some->pdata[k]));
      g_ptr_array_set_free_func (some, NULL);
    }
  return rr_sync_download_files (run, instances, cancellable, error);
}
