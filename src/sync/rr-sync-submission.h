/* rr-sync-submission.h: the reader's own submitted read, fetched from the
 * server (GET /tasks/{id}/submission) when the task is downloaded, so a
 * read signed on another computer (or through the API) opens here. */
#pragma once

#include "rr-sync.h"

G_BEGIN_DECLS

/* Fetches the submission of @task_id and keeps it in @store
 * (rr_store_put_submission). TRUE with nothing kept when the server holds
 * none for the task (404); FALSE with @error when it could not be asked,
 * or answered something that is not the contract's. */
gboolean rr_sync_fetch_submission (RrSyncClient  *client,
                                   RrStore       *store,
                                   gint64         account,
                                   const char    *task_id,
                                   GError       **error);

G_END_DECLS
