/* rr-qc-view.h: the QC reviewer's workspace: the protocol, each series'
 * automated checks, defects marked on the images (point, rectangle, line)
 * with a category, a severity and a comment, the findings list, a draft
 * kept as it is made, and the signed decision (pass, fail or query). A
 * site's query task opens here too, read-only: the findings and the
 * marked images, answered by a re-upload. */
#pragma once

#include <gtk/gtk.h>
#include "rr-store.h"

G_BEGIN_DECLS

#define RR_TYPE_QC_VIEW (rr_qc_view_get_type ())
G_DECLARE_FINAL_TYPE (RrQcView, rr_qc_view, RR, QC_VIEW, GtkWidget)

GtkWidget *rr_qc_view_new      (void);
/* Opens QC or query task @task_id of @account, its images from @files
 * (the task's cached instances). @store is borrowed, used on the main
 * thread only. NULL @task_id: nothing open. */
void       rr_qc_view_set_task (RrQcView           *self,
                                RrStore            *store,
                                gint64              account,
                                const char         *task_id,
                                const char         *ca_file,
                                const char * const *files);
/* Whether @kind (a task's kind) opens in this workspace. */
gboolean   rr_qc_view_handles  (const char *kind);
/* A finding's category as people read it: "phi_present" -> "PHI present". */
char      *rr_qc_category_text (const char *category);

G_END_DECLS
