/* rr-worklist.h: the reader's tasks from the server, by kind, status and
 * due date, with what of each is available offline; downloads, the outbox
 * and the online/offline state run behind it on worker threads. */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define RR_TYPE_WORKLIST (rr_worklist_get_type ())
G_DECLARE_FINAL_TYPE (RrWorklist, rr_worklist, RR, WORKLIST, GtkWidget)

/* Starts working for the account: shows the cached tasks at once, then
 * refreshes them from the server (and keeps trying while offline). */
void        rr_worklist_set_account (RrWorklist *self,
                                     const char *server,
                                     const char *username,
                                     const char *token,
                                     const char *ca_file);
/* Switch User: forgets the account (its token, its tasks, its status) and
 * stops working for it, until rr_worklist_set_account () again. */
void        rr_worklist_sign_out    (RrWorklist *self);
/* The cached files of a task (NULL when none) and its timepoint labels by
 * Study Instance UID; "open-task" (task id) asks for it to be opened. */
GStrv       rr_worklist_task_files  (RrWorklist  *self,
                                     const char  *task_id,
                                     GHashTable **study_labels);
void        rr_worklist_download    (RrWorklist *self,
                                     const char *task_id);
/* Downloads @task_id and, once its files are here, asks for it to be
 * opened ("open-task"), unless another task was clicked meanwhile or the
 * list is no longer shown. */
void        rr_worklist_download_and_open (RrWorklist *self,
                                           const char *task_id);
/* The account's row in the local database; -1 when none is set. */
/* Reads the list again from the local database (a draft was saved). */
void        rr_worklist_reload        (RrWorklist *self);
gint64      rr_worklist_get_account (RrWorklist *self);

G_END_DECLS
