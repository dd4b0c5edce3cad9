/* rr-task-detail.h: one task's detail (GET /tasks/{id}) on a worker, kept
 * in the local store so the QC and adjudication views open it offline. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* Fetches the task as @username on @server (@ca_file may be NULL) and
 * keeps it in the store at @db_path for @account; offline, or when the
 * server does not answer with an object, the copy kept before. The
 * strings are copied. */
void  rr_task_detail_fetch_async  (const char          *db_path,
                                   const char          *server,
                                   const char          *username,
                                   const char          *ca_file,
                                   gint64               account,
                                   const char          *task_id,
                                   gpointer             source_object,
                                   GCancellable        *cancellable,
                                   GAsyncReadyCallback  callback,
                                   gpointer             user_data);
/* The task as JSON text, at most 64 MiB; NULL and a G_IO_ERROR whose
 * message says why when there is neither an answer nor a kept copy. */
char *rr_task_detail_fetch_finish (GAsyncResult        *result,
                                   GError             **error);

G_END_DECLS
