/* rr-read-task.h: what the lesion form reads about its task from the
 * local database: which timepoint each series is, whether an earlier
 * timepoint still waits to be read (sequential reading), and the
 * receipt of a submitted read in words. */
#pragma once

#include "rr-store.h"
#include "rr-read-draft.h"

G_BEGIN_DECLS

/* Fills @series_tp (Series Instance UID -> index in @draft's timepoints
 * + 1) from the task's studies per timepoint and its instances. */
void  rr_read_task_series_timepoints (RrStore           *store,
                                      gint64             account,
                                      const RrStoreTask *task,
                                      const RrReadDraft *draft,
                                      GHashTable        *series_tp);
/* Sequential reading: the label of the reader's earlier timepoint of the
 * subject that is still open here (neither submitted nor signed), or
 * NULL. */
char *rr_read_task_earlier_open      (RrStore           *store,
                                      gint64             account,
                                      const RrStoreTask *task);
/* The same from lists already read (rr_store_list_tasks and
 * rr_store_outbox_list of the account): the worklist asks it of every
 * row. */
char *rr_read_task_earlier_open_in   (GPtrArray         *tasks,
                                      GPtrArray         *outbox,
                                      const RrStoreTask *task);
/* Whether @t is one of the reader's earlier reads of @task's subject: a
 * read task of the same trial and subject with fewer timepoints. */
gboolean rr_read_task_is_earlier     (const RrStoreTask *t,
                                      const RrStoreTask *task);
/* Whether @t, one of the reader's reads, stands: submitted (here or on
 * another computer) or signed here and on its way (@outbox:
 * rr_store_outbox_list of the account), and not withdrawn by the
 * server. A draft, a refused read or a withdrawn one does not. */
gboolean rr_read_task_stands         (const RrStoreTask *t,
                                      GPtrArray         *outbox);
/* Adds to @calipers (id -> RrMeasurement) the calipers of the reader's
 * earlier reads of @task's subject in the same trial that stand: its read
 * tasks with fewer timepoints, every one of them (a third timepoint's
 * baseline values are the first read's calipers, not the second's). Never
 * a later read: a reopened earlier read shows nothing measured after it.
 * Never a draft or a withdrawn read. Ids already in @calipers (the task's
 * own) are kept. */
void  rr_read_task_prior_calipers    (RrStore           *store,
                                      gint64             account,
                                      const RrStoreTask *task,
                                      GHashTable        *calipers);
/* The form (draft JSON) of the latest earlier read that stands, which a
 * follow-up first opened starts from; NULL: none. */
char *rr_read_task_prior_form        (RrStore           *store,
                                      gint64             account,
                                      const RrStoreTask *task);
/* The last timepoint label of the latest earlier read the server withdrew
 * and that no standing read of the same timepoints replaced, or NULL: the
 * follow-up says its values are not carried. */
char *rr_read_task_withdrawn_prior   (RrStore           *store,
                                      gint64             account,
                                      const RrStoreTask *task);
/* "Submitted and locked. Receipt ..." from the server's answer, with its
 * recomputed responses. */
char *rr_read_task_receipt_text      (const char        *receipt_json);

G_END_DECLS
