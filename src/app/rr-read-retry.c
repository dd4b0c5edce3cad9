/* rr-read-retry.c: a signed read waiting in the outbox, sent again on a
 * worker (moved out of rr-read-form.c, which keeps to its size). */
#include "rr-read-retry.h"
#include "rr-store.h"
#include "rr-sync.h"
#include "rr-session.h"

typedef struct
{
  char *db_path, *ca_file;
  gint64 account;
} Retry;

static void
retry_free (Retry *r)
{
  g_free (r->db_path);
  g_free (r->ca_file);
  g_free (r);
}

static void
retry_thread (GTask        *task,
              gpointer      source,
              gpointer      data,
              GCancellable *cancellable)
{
  Retry *r = data;
  g_autoptr (GError) error = NULL;
  g_autoptr (RrStore) store = rr_store_open (r->db_path, &error);
  g_autoptr (RrSyncClient) c = NULL;
  g_autofree char *server = NULL, *user = NULL;

  if (store == NULL || !rr_store_get_account (store, r->account, &server, &user, NULL, &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  c = rr_session_client_new (server, user, r->ca_file);
  /* The key is the submission's: sent twice (the worklist may send it
   * too), the server answers with the same receipt. */
  if (!rr_sync_deliver (c, store, r->account, NULL, NULL, &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  g_task_return_boolean (task, TRUE);
}

void
rr_read_retry_async (const char          *db_path,
                     gint64               account,
                     const char          *ca_file,
                     gpointer             source_object,
                     GCancellable        *cancellable,
                     GAsyncReadyCallback  callback,
                     gpointer             user_data)
{
  g_autoptr (GTask) task = g_task_new (source_object, cancellable, callback, user_data);
  Retry *r = g_new0 (Retry, 1);

  r->db_path = g_strdup (db_path);
  r->ca_file = g_strdup (ca_file);
  r->account = account;
  g_task_set_source_tag (task, rr_read_retry_async);
  g_task_set_task_data (task, r, (GDestroyNotify) retry_free);
  g_task_run_in_thread (task, retry_thread);
}

gboolean
rr_read_retry_finish (GAsyncResult  *result,
                      GError       **error)
{
  g_return_val_if_fail (G_IS_TASK (result), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}
