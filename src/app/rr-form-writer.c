/* rr-form-writer.c: the lesion form's saves, written by one worker thread
 * with its own database connection: in order, and off the main loop. */
#include "rr-form-writer.h"
#include "rr-store.h"

struct _RrFormWriter
{
  char *db_path;
  RrStore *store;               /* the writer's own connection, opened on its thread */
  GThreadPool *pool;            /* one thread: saves in order */
  RrFormSaved done;
};

typedef struct
{
  gint64 account;
  char *task_id;
  char *json;
  GWeakRef *owner;
  RrFormSaved done;
} SaveJob;

typedef struct
{
  GWeakRef *owner;
  RrFormSaved done;
  char *error;
} SaveDone;

static gboolean
save_done (gpointer data)
{
  SaveDone *d = data;
  g_autoptr (GObject) owner = g_weak_ref_get (d->owner);
  if (owner)
    d->done (owner, d->error);
  g_weak_ref_clear (d->owner);
  g_free (d->owner);
  g_free (d->error);
  g_free (d);
  return G_SOURCE_REMOVE;
}

static void
writer_run (gpointer data,
            gpointer user_data)
{
  SaveJob *job = data;
  RrFormWriter *w = user_data;
  g_autoptr (GError) error = NULL;
  SaveDone *d = g_new0 (SaveDone, 1);

  if (w->store == NULL)
    w->store = rr_store_open (w->db_path, &error);
  if (w->store)
    rr_store_put_form (w->store, job->account, job->task_id, job->json, &error);
  d->owner = job->owner;
  d->done = job->done;
  d->error = error ? g_strdup (error->message) : NULL;
  g_main_context_invoke (NULL, save_done, d);
  g_free (job->task_id);
  g_free (job->json);
  g_free (job);
}

RrFormWriter *
rr_form_writer_new (const char  *db_path,
                    RrFormSaved  done)
{
  RrFormWriter *self = g_new0 (RrFormWriter, 1);
  self->db_path = g_strdup (db_path);
  self->done = done;
  self->pool = g_thread_pool_new (writer_run, self, 1, TRUE, NULL);
  return self;
}

const char *
rr_form_writer_get_path (RrFormWriter *self)
{
  return self->db_path;
}

void
rr_form_writer_save (RrFormWriter *self,
                     gint64        account,
                     const char   *task_id,
                     char         *json,
                     GObject      *owner)
{
  SaveJob *job = g_new0 (SaveJob, 1);
  job->account = account;
  job->task_id = g_strdup (task_id);
  job->json = json;
  job->owner = g_new0 (GWeakRef, 1);
  g_weak_ref_init (job->owner, owner);
  job->done = self->done;
  g_thread_pool_push (self->pool, job, NULL);
}

void
rr_form_writer_free (RrFormWriter *self)
{
  g_thread_pool_free (self->pool, FALSE, TRUE);
  g_clear_pointer (&self->store, rr_store_close);
  g_free (self->db_path);
  g_free (self);
}
