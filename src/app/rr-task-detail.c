/* rr-task-detail.c: a task's detail from the server, or the copy kept from
 * the last time, on a worker: the QC and adjudication views both open one. */
#include "rr-task-detail.h"
#include "rr-session.h"

#include <glib/gi18n.h>
#include <json-glib/json-glib.h>
#include <string.h>

#define MAX_DETAIL_BYTES (64u << 20)

typedef struct
{
  char *db_path, *server, *username, *ca_file, *task_id;
  gint64 account;
} Fetch;

static void
fetch_free (Fetch *f)
{
  g_free (f->db_path);
  g_free (f->server);
  g_free (f->username);
  g_free (f->ca_file);
  g_free (f->task_id);
  g_free (f);
}

static void
fetch_thread (GTask        *task,
              gpointer      source,
              gpointer      data,
              GCancellable *cancellable)
{
  Fetch *f = data;
  g_autoptr (GError) error = NULL;
  g_autoptr (RrSyncClient) c = rr_session_client_new (f->server, f->username, f->ca_file);
  g_autofree char *esc = g_uri_escape_string (f->task_id, NULL, FALSE);
  g_autofree char *path = g_strdup_printf ("/readroom/v1/tasks/%s", esc);
  g_autoptr (JsonNode) doc = rr_sync_get_json (c, path, &error);
  g_autoptr (RrStore) store = NULL;
  g_autofree char *json = NULL;

  if (doc == NULL || !JSON_NODE_HOLDS_OBJECT (doc))
    {
      /* Offline: what was fetched before. */
      store = rr_store_open (f->db_path, NULL);
      json = store ? rr_store_get_form (store, f->account, f->task_id, NULL) : NULL;
      if (json == NULL)
        g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_FAILED, "%s",
                                 error ? error->message : _("not the contract's answer"));
      else
        g_task_return_pointer (task, g_steal_pointer (&json), g_free);
      return;
    }
  json = json_to_string (doc, FALSE);
  if (strlen (json) > MAX_DETAIL_BYTES)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_FAILED,
                               _("it is larger than %u MiB"), MAX_DETAIL_BYTES >> 20);
      return;
    }
  store = rr_store_open (f->db_path, NULL);
  if (store)
    rr_store_put_form (store, f->account, f->task_id, json, NULL);
  g_task_return_pointer (task, g_steal_pointer (&json), g_free);
}

void
rr_task_detail_fetch_async (const char          *db_path,
                            const char          *server,
                            const char          *username,
                            const char          *ca_file,
                            gint64               account,
                            const char          *task_id,
                            gpointer             source_object,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  g_autoptr (GTask) task = g_task_new (source_object, cancellable, callback, user_data);
  Fetch *f = g_new0 (Fetch, 1);

  f->db_path = g_strdup (db_path);
  f->server = g_strdup (server);
  f->username = g_strdup (username);
  f->ca_file = g_strdup (ca_file);
  f->task_id = g_strdup (task_id);
  f->account = account;
  g_task_set_source_tag (task, rr_task_detail_fetch_async);
  g_task_set_task_data (task, f, (GDestroyNotify) fetch_free);
  g_task_run_in_thread (task, fetch_thread);
}

char *
rr_task_detail_fetch_finish (GAsyncResult  *result,
                             GError       **error)
{
  g_return_val_if_fail (G_IS_TASK (result), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}
