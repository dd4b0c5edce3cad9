/* rr-adjudication-view.h: the adjudicator's workspace: two blinded reads
 * ("Reader 1", "Reader 2") side by side on the same images, their
 * responses and lesions compared, the server's discrepancies in view, and
 * a signed choice of one read with its rationale. */
#pragma once

#include <gtk/gtk.h>
#include "rr-store.h"

G_BEGIN_DECLS

#define RR_TYPE_ADJUDICATION_VIEW (rr_adjudication_view_get_type ())
G_DECLARE_FINAL_TYPE (RrAdjudicationView, rr_adjudication_view, RR, ADJUDICATION_VIEW, GtkWidget)

/* Opens adjudication task @task_id of @account: the two reads come from
 * the server (kept in @store for offline work), the images from @files
 * (the task's cached instances). @store is borrowed, read on the main
 * thread only. NULL @task_id: nothing open. */
void     rr_adjudication_view_set_task (RrAdjudicationView *self,
                                        RrStore            *store,
                                        gint64              account,
                                        const char         *task_id,
                                        const char         *ca_file,
                                        const char * const *files);
/* Whether @kind (a task's kind) opens in this workspace. */
gboolean rr_adjudication_view_handles  (const char *kind);

G_END_DECLS
