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
/* "Submitted and locked. Receipt ..." from the server's answer, with its
 * recomputed responses. */
char *rr_read_task_receipt_text      (const char        *receipt_json);

G_END_DECLS
