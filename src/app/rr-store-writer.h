/* rr-store-writer.h: database writes on a worker thread of their own. */
#pragma once

#include <gio/gio.h>
#include "rr-store.h"

G_BEGIN_DECLS

typedef struct _RrStoreWriter RrStoreWriter;

/* A writer for the database at @path; its thread opens it on first use. */
RrStoreWriter *rr_store_writer_new              (const char          *path);
/* Finishes the writes queued and waits for the thread to end. */
void           rr_store_writer_stop             (RrStoreWriter       *w);
/* Saves the reader's place in a task (rr_store_put_draft) on the writer's
 * thread; @callback runs on the caller's main context. */
void           rr_store_writer_put_draft_async  (RrStoreWriter       *w,
                                                 gint64               account,
                                                 const char          *task_id,
                                                 const char          *json,
                                                 gpointer             source_object,
                                                 GAsyncReadyCallback  callback,
                                                 gpointer             user_data);
gboolean       rr_store_writer_put_draft_finish (GAsyncResult        *result,
                                                 GError             **error);
/* Saves the offsets the reader linked the comparison by (JSON,
 * rr_store_put_links) likewise; finished by put_draft_finish (). */
void           rr_store_writer_put_links_async  (RrStoreWriter       *w,
                                                 gint64               account,
                                                 const char          *task_id,
                                                 const char          *json,
                                                 gpointer             source_object,
                                                 GAsyncReadyCallback  callback,
                                                 gpointer             user_data);
/* Saves @m (rr_store_put_measurement), or removes it when @removed
 * (rr_store_delete_measurement), after the writes queued before it. */
void           rr_store_writer_measurement_async  (RrStoreWriter       *w,
                                                   gint64               account,
                                                   const char          *task_id,
                                                   const RrMeasurement *m,
                                                   gboolean             removed,
                                                   gpointer             source_object,
                                                   GAsyncReadyCallback  callback,
                                                   gpointer             user_data);
gboolean       rr_store_writer_measurement_finish (GAsyncResult        *result,
                                                   GError             **error);

/* rr_store_open on a worker (it checks the whole file's integrity); the
 * connection is then the caller's, for its thread alone. */
void           rr_store_open_async              (const char          *path,
                                                 gpointer             source_object,
                                                 GAsyncReadyCallback  callback,
                                                 gpointer             user_data);
RrStore       *rr_store_open_finish             (GAsyncResult        *result,
                                                 GError             **error);

G_END_DECLS
