/* rr-read-form-summary.h: the few words pinned under the lesion form, so
 * that the timepoint's overall response is in sight beside the Sign
 * button however long the form above them grows. */
#pragma once

#include "rr-criteria.h"

#include <gtk/gtk.h>

G_BEGIN_DECLS

/* Shows @result's last timepoint in @overall ("Overall response: ...")
 * and @detail (its parts); at baseline, the targets' sum. With no result,
 * @message (why there is none) in @detail; with neither, @box is hidden. */
void rr_read_form_summary_show (GtkWidget              *box,
                                GtkLabel               *overall,
                                GtkLabel               *detail,
                                const RrCriteriaResult *result,
                                const char             *message);

G_END_DECLS
