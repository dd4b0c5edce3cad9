/* rr-read-form-summary.c: the responses in brief, below the form's scrolled
 * lesions. The full text (every timepoint, the best overall response)
 * stays in the form; this says only what the reader signs for. */
#include "rr-read-form-summary.h"
#include "rr-response-text.h"

#include <glib/gi18n.h>

void
rr_read_form_summary_show (GtkWidget              *box,
                           GtkLabel               *overall,
                           GtkLabel               *detail,
                           const RrCriteriaResult *result,
                           const char             *message)
{
  g_autofree char *title = NULL, *parts = NULL;

  if (result == NULL)
    {
      gtk_widget_set_visible (box, message && *message);
      gtk_label_set_text (overall, _("Overall response: not yet known"));
      gtk_label_set_text (detail, message ? message : "");
      gtk_widget_set_visible (GTK_WIDGET (detail), TRUE);
      return;
    }
  gtk_widget_set_visible (box, TRUE);
  if (result->timepoints->len == 0)
    {
      /* Baseline: no response yet, only what later ones are measured against. */
      g_autofree char *sum = rr_mm_text (result->baseline_sum);
      title = g_strdup_printf (_("Baseline sum of the targets: %s"), sum);
    }
  else
    {
      const RrTimepointResult *t = &g_array_index (result->timepoints, RrTimepointResult,
                                                   result->timepoints->len - 1);
      title = g_strdup_printf (_("Overall response: %s"), rr_response_words (t->overall));
      parts = g_strdup_printf (_("Targets %s · non-targets %s · new lesions %s"),
                               rr_response_short (t->target), rr_response_short (t->non_target),
                               rr_new_status_words (t->new_lesions));
    }
  gtk_label_set_text (overall, title);
  gtk_label_set_text (detail, parts ? parts : "");
  gtk_widget_set_visible (GTK_WIDGET (detail), parts != NULL);
}
