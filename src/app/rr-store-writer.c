/* rr-store-writer.c: writes the main thread must not wait for, on one
 * worker thread with a database connection of its own.
 *
 * A write commits with fsync (synchronous=FULL), and waits up to the busy
 * timeout while a sync thread holds the database's write lock: on the main
 * thread, during Download All, switching series froze the window for as
 * long. The worker takes the writes in order; each reports back to the
 * main loop through its GTask. Stopping the writer waits for what is
 * queued: a caliper drawn just before the window closes is kept. */
#include "rr-store-writer.h"

/* One write: a draft (json set; the linked-scroll offsets when links),
 * a measurement put (m set) or removed (only removed_id set). */
typedef struct
{
  gint64 account;
  char *task_id;
  char *json;
  gboolean links;
  RrMeasurement *m;
  char *removed_id;
} Draft;

struct _RrStoreWriter
{
  char *path;
  GAsyncQueue *jobs;            /* GTask *, or the writer itself to stop */
  GThread *thread;
};

static void
draft_free (gpointer data)
{
  Draft *d = data;
  g_free (d->task_id);
  g_free (d->json);
  g_clear_pointer (&d->m, rr_measurement_free);
  g_free (d->removed_id);
  g_free (d);
}

static void
writer_free (RrStoreWriter *w)
{
  g_async_queue_unref (w->jobs);
  g_free (w->path);
  g_free (w);
}

static gpointer
writer_thread (gpointer data)
{
  RrStoreWriter *w = data;
  g_autoptr (RrStore) store = NULL;
  g_autoptr (GError) open_error = NULL;

  for (;;)
    {
      gpointer job = g_async_queue_pop (w->jobs);
      g_autoptr (GTask) task = NULL;
      GError *error = NULL;
      Draft *d;

      if (job == w)
        break;
      task = job;
      d = g_task_get_task_data (task);
      /* Opened on first use, here: its integrity check and migrations
       * read the whole file. */
      if (store == NULL && open_error == NULL)
        store = rr_store_open (w->path, &open_error);
      if (store == NULL)
        g_task_return_error (task, g_error_copy (open_error));
      else if (d->json && d->links
               ? rr_store_put_links (store, d->account, d->task_id, d->json, &error)
               : d->json ? rr_store_put_draft (store, d->account, d->task_id, d->json, &error)
               : d->m ? rr_store_put_measurement (store, d->account, d->task_id, d->m, &error)
               : rr_store_delete_measurement (store, d->account, d->task_id, d->removed_id,
                                              &error))
        g_task_return_boolean (task, TRUE);
      else
        g_task_return_error (task, error);
    }
  writer_free (w);
  return NULL;
}

RrStoreWriter *
rr_store_writer_new (const char *path)
{
  RrStoreWriter *w = g_new0 (RrStoreWriter, 1);
  w->path = g_strdup (path);
  w->jobs = g_async_queue_new ();
  /* The thread owns the writer's memory; rr_store_writer_stop asks it to
   * stop. */
  w->thread = g_thread_new ("rr-store-writer", writer_thread, w);
  return w;
}

void
rr_store_writer_stop (RrStoreWriter *w)
{
  GThread *thread;
  if (w == NULL)
    return;
  thread = w->thread;
  g_async_queue_push (w->jobs, w);
  /* Only the writes already queued: the window is closing. */
  g_thread_join (thread);
}

void
rr_store_writer_put_draft_async (RrStoreWriter       *w,
                                 gint64               account,
                                 const char          *task_id,
                                 const char          *json,
                                 gpointer             source_object,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data)
{
  GTask *task = g_task_new (source_object, NULL, callback, user_data);
  Draft *d = g_new0 (Draft, 1);
  d->account = account;
  d->task_id = g_strdup (task_id);
  d->json = g_strdup (json);
  g_task_set_task_data (task, d, draft_free);
  g_task_set_source_tag (task, rr_store_writer_put_draft_async);
  g_async_queue_push (w->jobs, task);
}

void
rr_store_writer_put_links_async (RrStoreWriter       *w,
                                 gint64               account,
                                 const char          *task_id,
                                 const char          *json,
                                 gpointer             source_object,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data)
{
  GTask *task = g_task_new (source_object, NULL, callback, user_data);
  Draft *d = g_new0 (Draft, 1);
  d->account = account;
  d->task_id = g_strdup (task_id);
  d->json = g_strdup (json);
  d->links = TRUE;
  g_task_set_task_data (task, d, draft_free);
  g_task_set_source_tag (task, rr_store_writer_put_links_async);
  g_async_queue_push (w->jobs, task);
}

gboolean
rr_store_writer_put_draft_finish (GAsyncResult  *result,
                                  GError       **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}

void
rr_store_writer_measurement_async (RrStoreWriter       *w,
                                   gint64               account,
                                   const char          *task_id,
                                   const RrMeasurement *m,
                                   gboolean             removed,
                                   gpointer             source_object,
                                   GAsyncReadyCallback  callback,
                                   gpointer             user_data)
{
  GTask *task = g_task_new (source_object, NULL, callback, user_data);
  Draft *d = g_new0 (Draft, 1);
  d->account = account;
  d->task_id = g_strdup (task_id);
  if (removed)
    d->removed_id = g_strdup (m->id);
  else
    d->m = rr_measurement_copy (m);
  g_task_set_task_data (task, d, draft_free);
  g_task_set_source_tag (task, rr_store_writer_measurement_async);
  g_async_queue_push (w->jobs, task);
}

gboolean
rr_store_writer_measurement_finish (GAsyncResult  *result,
                                    GError       **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
open_thread (GTask        *task,
             gpointer      source,
             gpointer      path,
             GCancellable *cancellable)
{
  GError *error = NULL;
  RrStore *store = rr_store_open (path, &error);
  if (store)
    g_task_return_pointer (task, store, (GDestroyNotify) rr_store_close);
  else
    g_task_return_error (task, error);
}

void
rr_store_open_async (const char          *path,
                     gpointer             source_object,
                     GAsyncReadyCallback  callback,
                     gpointer             user_data)
{
  g_autoptr (GTask) task = g_task_new (source_object, NULL, callback, user_data);
  g_task_set_task_data (task, g_strdup (path), g_free);
  g_task_run_in_thread (task, open_thread);
}

RrStore *
rr_store_open_finish (GAsyncResult  *result,
                      GError       **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}
