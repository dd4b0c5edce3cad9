/* rr-signed-elsewhere.h: a task the user signed on another computer (or
 * through the API), as the sync kept the server's submission of it
 * (rr_sync_fetch_submission, rr_store_get_submission), in the two parts
 * the outbox keeps of one signed here: so a QC decision or an
 * adjudication opens read-only as signed wherever it was signed. */
#pragma once

#include "rr-store.h"

G_BEGIN_DECLS

/* When a submission of @task_id is kept: TRUE, @body the signed document
 * as it was sent (without the signature's password) and @receipt the
 * server's answer, {"receipt": {"id", "submitted_at", "responses"}}, as
 * a delivered outbox entry holds them. FALSE, both NULL, otherwise. */
gboolean rr_signed_elsewhere (RrStore     *store,
                              gint64       account,
                              const char  *task_id,
                              char       **body,
                              char       **receipt);

G_END_DECLS
