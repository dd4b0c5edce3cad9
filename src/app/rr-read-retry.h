/* rr-read-retry.h: a signed read waiting in the outbox, sent again on a
 * worker with its own database connection (the lesion form asks every
 * little while until the server has answered). */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

void     rr_read_retry_async  (const char          *db_path,
                               gint64               account,
                               const char          *ca_file,
                               gpointer             source_object,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data);
/* TRUE once the outbox was sent (the server answered every entry). */
gboolean rr_read_retry_finish (GAsyncResult        *result,
                               GError             **error);

G_END_DECLS
