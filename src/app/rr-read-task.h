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
/* Adds to @calipers (id -> RrMeasurement) the calipers of the reader's
 * earlier reads of @task's subject in the same trial: its read tasks with
 * fewer timepoints, every one of them (a third timepoint's baseline
 * values are the first read's calipers, not the second's). Never a later
 * read: a reopened earlier read shows nothing measured after it. Ids
 * already in @calipers (the task's own) are kept. */
void  rr_read_task_prior_calipers    (RrStore           *store,
                                      gint64             account,
                                      const RrStoreTask *task,
                                      GHashTable        *calipers);
/* "Submitted and locked. Receipt ..." from the server's answer, with its
 * recomputed responses. */
char *rr_read_task_receipt_text      (const char        *receipt_json);

G_END_DECLS
