/* rr-read-submitted.h: the reader's own read signed on another computer
 * (or through the API), as the server holds it and the sync kept it
 * (rr_store_get_submission): what the lesion form shows of it, read-only,
 * the calipers the viewer draws of it, and those a follow-up's prior
 * values come from. */
#pragma once

#include "rr-store.h"
#include "rr-read-draft.h"

G_BEGIN_DECLS

/* The kept read of @task_id as the lesion form keeps a draft
 * (rr_read_draft_to_json's form, lesions by timepoint label); each of its
 * calipers is added to @calipers (id -> RrMeasurement) when that is
 * given. NULL when none is kept or it is not a read. A value sent without
 * its caliper (a read written by hand) has nothing to show it by and is
 * left out. */
char *rr_read_submitted_form         (RrStore     *store,
                                      gint64       account,
                                      const char  *task_id,
                                      GHashTable  *calipers);
/* The form of @task_id: the one saved here, else the kept submission's. */
char *rr_read_submitted_form_or_local (RrStore     *store,
                                       gint64       account,
                                       const char  *task_id);
/* When a submission of @task_id is kept: @draft and @calipers become
 * the read as submitted (whatever was drawn here is left out) and TRUE. */
gboolean rr_read_submitted_load      (RrStore     *store,
                                      gint64       account,
                                      const char  *task_id,
                                      RrReadDraft *draft,
                                      GHashTable  *calipers);
/* The receipt of the kept submission in words
 * (rr_read_task_receipt_text), or NULL when none is kept. */
char *rr_read_submitted_receipt_text (RrStore    *store,
                                      gint64      account,
                                      const char *task_id);
/* The measurements the viewer draws of @task_id on @series_uid (NULL:
 * every series), oldest first: when a submission of it is kept (signed
 * on another computer), its calipers as submitted, locked like those of a
 * read signed here; else those saved here (rr_store_list_measurements,
 * whose @skipped and @error these are). */
GPtrArray *rr_read_submitted_measurements (RrStore    *store,
                                           gint64      account,
                                           const char *task_id,
                                           const char *series_uid,
                                           guint      *skipped,
                                           GError    **error);

G_END_DECLS
