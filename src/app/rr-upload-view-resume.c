/* rr-upload-view-resume.c: the uploads that were stopped before they
 * finished (the app closed or killed mid-upload, the computer off), found
 * in their staging folders (rr-upload-staging.h) and offered again:
 * Resume fills in the subject, timepoint, day, visit date and folder as
 * they were, and reads the folder again, so Upload, after the same checks
 * as before, sends only what the journal does not list. */
#include "rr-upload-view-private.h"
#include "rr-upload-staging.h"

#include <glib/gi18n.h>

static void
on_resume (GtkButton *button, RrUploadView *self)
{
  guint i = GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (button), "rr-index"));
  RrUploadStaged *s;
  g_autofree char *text = NULL;

  if (self->busy || self->unfinished_items == NULL || i >= self->unfinished_items->len)
    return;
  s = self->unfinished_items->pdata[i];
  gtk_editable_set_text (GTK_EDITABLE (self->trial), s->trial);
  gtk_editable_set_text (GTK_EDITABLE (self->subject), s->subject);
  gtk_editable_set_text (GTK_EDITABLE (self->label), s->label);
  gtk_spin_button_set_value (self->day, s->day);
  gtk_editable_set_text (GTK_EDITABLE (self->visit), s->visit ? s->visit : "");
  gtk_editable_set_text (GTK_EDITABLE (self->folder), s->source);
  rr_upload_view_find (self);
  text = g_strdup_printf (_("Resuming subject %s’s %s: check the warnings; Upload sends the %u "
                            "files not sent yet"), s->subject, s->label,
                          s->n_staged > s->n_sent ? s->n_staged - s->n_sent : 0);
  rr_upload_view_set_status (self, text);
}

void
rr_upload_view_show_unfinished (RrUploadView *self, GPtrArray *items)
{
  rr_upload_view_clear_list (self->unfinished);
  g_clear_pointer (&self->unfinished_items, g_ptr_array_unref);
  self->unfinished_items = items ? g_ptr_array_ref (items) : NULL;
  gtk_widget_set_visible (self->unfinished_heading, items && items->len > 0);
  gtk_widget_set_visible (GTK_WIDGET (self->unfinished), items && items->len > 0);
  for (guint i = 0; items && i < items->len; i++)
    {
      RrUploadStaged *s = items->pdata[i];
      g_autofree char *text = s->n_staged > 0
        ? g_strdup_printf (_("Subject %s · %s (trial %s): %u of %u files sent · %s"), s->subject,
                           s->label, s->trial, s->n_sent, s->n_staged, s->source)
        : g_strdup_printf (_("Subject %s · %s (trial %s): stopped while de-identifying · %s"),
                           s->subject, s->label, s->trial, s->source);
      GtkWidget *row = rr_upload_view_add_row (self->unfinished, text, NULL);
      GtkWidget *label = gtk_list_box_row_get_child (GTK_LIST_BOX_ROW (row));
      GtkWidget *box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
      GtkWidget *resume = gtk_button_new_with_label (_("Resume"));
      g_autofree char *name = g_strdup_printf (_("Resume %s %s"), s->subject, s->label);

      g_object_ref (label);
      gtk_list_box_row_set_child (GTK_LIST_BOX_ROW (row), NULL);
      gtk_widget_set_hexpand (label, TRUE);
      gtk_box_append (GTK_BOX (box), label);
      g_object_unref (label);
      gtk_widget_set_valign (resume, GTK_ALIGN_CENTER);
      gtk_widget_set_margin_end (resume, 6);
      rr_upload_view_set_name (resume, name);
      g_object_set_data (G_OBJECT (resume), "rr-index", GUINT_TO_POINTER (i));
      g_signal_connect_object (resume, "clicked", G_CALLBACK (on_resume), self, 0);
      gtk_box_append (GTK_BOX (box), resume);
      gtk_list_box_row_set_child (GTK_LIST_BOX_ROW (row), box);
    }
}

GPtrArray *
rr_upload_view_unfinished_for (GPtrArray *trials)
{
  g_autoptr (GPtrArray) all = rr_upload_unfinished ();
  GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify) rr_upload_staged_free);

  /* This user's trials only, and not answers to queries: those are
   * answered from the query's own row, with a new response and the
   * password that signs it. */
  for (guint i = 0; i < all->len; i++)
    {
      RrUploadStaged *s = all->pdata[i];
      if (s->query == NULL && g_ptr_array_find_with_equal_func (trials, s->trial, g_str_equal,
                                                                NULL))
        g_ptr_array_add (out, g_ptr_array_steal_index (all, i--));
    }
  return out;
}

void
rr_upload_view_add_resume_widgets (RrUploadView *self, GtkBox *box)
{
  self->unfinished_heading = rr_upload_view_heading (_("Unfinished Uploads"));
  self->unfinished = rr_upload_view_boxed_list (_("Unfinished Uploads"));
  gtk_widget_set_visible (self->unfinished_heading, FALSE);
  gtk_widget_set_visible (GTK_WIDGET (self->unfinished), FALSE);
  gtk_box_append (box, self->unfinished_heading);
  gtk_box_append (box, GTK_WIDGET (self->unfinished));
}
