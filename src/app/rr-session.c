/* rr-session.c: rr_sync_token_save and _load on a worker. On the main
 * thread they held the window while the keyring (a D-Bus service, which
 * may be starting, or asking to be unlocked) answered, at every sign-in and
 * every start with a session kept. */
#include "rr-session.h"
#include "rr-sync.h"

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
