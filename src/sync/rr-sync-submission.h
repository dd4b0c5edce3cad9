/* rr-sync-submission.h: the user's own submission of a task, fetched from
 * the server (GET /tasks/{id}/submission) when the task is downloaded, so
 * a read, QC decision or adjudication signed on another computer (or
 * through the API) opens here as signed. */
#pragma once

#include "rr-sync.h"

G_BEGIN_DECLS

/* Fetches the submission of @task_id, a task of @kind ("read", "qc",
 * "adjudication"), and keeps it in @store (rr_store_put_submission). TRUE with nothing kept when the server holds
 * none for the task (404); FALSE with @error when it could not be asked,
 * or answered something that is not the contract's. */
gboolean rr_sync_fetch_submission (RrSyncClient  *client,
                                   RrStore       *store,
                                   gint64         account,
                                   const char    *task_id,
                                   const char    *kind,
                                   GError       **error);

G_END_DECLS
