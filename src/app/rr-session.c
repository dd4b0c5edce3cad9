/* rr-session.c: rr_sync_token_save and _load on a worker. On the main
 * thread they held the window while the keyring (a D-Bus service, which
 * may be starting, or asking to be unlocked) answered, at every sign-in and
 * every start with a session kept. */
#include "rr-session.h"
#include "rr-sync.h"
#include "rr-sync-secret.h"

#include <string.h>

typedef struct
{
  char *server, *user, *token;
  gboolean in_file;
} Job;

static void
job_free (gpointer data)
{
  Job *j = data;
  g_free (j->server);
  g_free (j->user);
  if (j->token)
    memset (j->token, 0, strlen (j->token));
  g_free (j->token);
  g_free (j);
}

static void
save_thread (GTask        *task,
             gpointer      source,
             gpointer      data,
             GCancellable *cancellable)
{
  Job *j = data;
  GError *error = NULL;
  if (rr_sync_token_save (j->server, j->user, j->token, &j->in_file, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

void
rr_session_save_async (const char          *server,
                       const char          *user,
                       const char          *token,
                       gpointer             source_object,
                       GAsyncReadyCallback  callback,
                       gpointer             user_data)
{
  g_autoptr (GTask) task = g_task_new (source_object, NULL, callback, user_data);
  Job *j = g_new0 (Job, 1);
  j->server = g_strdup (server);
  j->user = g_strdup (user);
  j->token = g_strdup (token);
  g_task_set_task_data (task, j, job_free);
  g_task_run_in_thread (task, save_thread);
}

gboolean
rr_session_save_finish (GAsyncResult  *result,
                        gboolean      *in_file,
                        GError       **error)
{
  Job *j = g_task_get_task_data (G_TASK (result));
  *in_file = j->in_file;
  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
load_thread (GTask        *task,
             gpointer      source,
             gpointer      data,
             GCancellable *cancellable)
{
  Job *j = data;
  g_task_return_pointer (task, rr_sync_token_load (j->server, j->user), g_free);
}

void
rr_session_load_async (const char          *server,
                       const char          *user,
                       gpointer             source_object,
                       GAsyncReadyCallback  callback,
                       gpointer             user_data)
{
  g_autoptr (GTask) task = g_task_new (source_object, NULL, callback, user_data);
  Job *j = g_new0 (Job, 1);
  j->server = g_strdup (server);
  j->user = g_strdup (user);
  g_task_set_task_data (task, j, job_free);
  g_task_run_in_thread (task, load_thread);
}

char *
rr_session_load_finish (GAsyncResult *result)
{
  return g_task_propagate_pointer (G_TASK (result), NULL);
}

RrSyncClient *
rr_session_client_new (const char *server,
                       const char *user,
                       const char *ca_file)
{
  RrSyncClient *c = rr_sync_client_new (server, ca_file);
  char *token = rr_sync_token_load (server, user);
  if (token)
    {
      rr_sync_client_set_token (c, token);
      /* The client keeps its own copy; this one is not left in freed memory. */
      memset (token, 0, strlen (token));
      g_free (token);
    }
  return c;
}

typedef struct
{
  char *db_path, *ca_file;
  gint64 account;
} SignOut;

static void
sign_out_free (gpointer data)
{
  SignOut *s = data;
  g_free (s->db_path);
  g_free (s->ca_file);
  g_free (s);
}

static void
sign_out_thread (GTask        *task,
                 gpointer      source,
                 gpointer      data,
                 GCancellable *cancellable)
{
  SignOut *s = data;
  g_autoptr (RrStore) store = rr_store_open (s->db_path, NULL);
  g_autofree char *server = NULL, *user = NULL, *token = NULL;
  g_autoptr (RrSyncClient) c = NULL;
  g_autoptr (GBytes) answer = NULL;
  long status = 0;

  if (store == NULL || !rr_store_get_account (store, s->account, &server, &user, NULL, NULL))
    {
      g_task_return_boolean (task, FALSE);
      return;
    }
  /* Forgotten first: the same person may sign in again at once, and the
   * token saved then must not be the one cleared. */
  token = rr_sync_token_load (server, user);
  rr_sync_secret_clear ("token", server, user);
  if (token == NULL)
    {
      g_task_return_boolean (task, TRUE);
      return;
    }
  /* Ended on the server too, so a copy of it is worth nothing; offline,
   * it expires there by itself. */
  c = rr_sync_client_new (server, s->ca_file);
  rr_sync_client_set_token (c, token);
  rr_sync_client_set_offline_timeout (c, 5);
  answer = rr_sync_request (c, "DELETE", "/readroom/v1/sessions/current", NULL, 0, NULL, NULL,
                            &status, NULL);
  memset (token, 0, strlen (token));
  g_task_return_boolean (task, status == 204);
}

void
rr_session_sign_out (RrStore   *store,
                     gint64     account,
                     GSettings *settings)
{
  g_autoptr (GTask) task = NULL;
  SignOut *s;

  if (settings)
    g_settings_set_string (settings, "user", "");
  if (store == NULL || account <= 0)
    return;
  s = g_new0 (SignOut, 1);
  s->db_path = g_strdup (rr_store_get_path (store));
  s->account = account;
  if (settings)
    {
      s->ca_file = g_settings_get_string (settings, "ca-file");
      if (*s->ca_file == '\0')
        g_clear_pointer (&s->ca_file, g_free);
    }
  task = g_task_new (NULL, NULL, NULL, NULL);
  g_task_set_task_data (task, s, sign_out_free);
  g_task_run_in_thread (task, sign_out_thread);
}
