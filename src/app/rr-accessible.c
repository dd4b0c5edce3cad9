/* rr-accessible.c: names for the screen reader where GTK gives none.
 *
 * A GtkDropDown takes the keyboard focus in the toggle button inside it,
 * and that button is what a screen reader reads out when it is focused:
 * GTK 4.8 gives it no name of its own, so it was read as its type
 * ("GtkToggleButton") whatever label the drop-down carried. */
#include "rr-accessible.h"

/* The drop-down's own label (set in a .ui file or by its maker, before
 * or after this call) names its button: the relation is resolved each
 * time the name is read. */
void
rr_accessible_name_drop_down (GtkDropDown *drop_down)
{
  for (GtkWidget *c = gtk_widget_get_first_child (GTK_WIDGET (drop_down)); c != NULL;
       c = gtk_widget_get_next_sibling (c))
    if (GTK_IS_TOGGLE_BUTTON (c))
      gtk_accessible_update_relation (GTK_ACCESSIBLE (c), GTK_ACCESSIBLE_RELATION_LABELLED_BY,
                                      drop_down, NULL, -1);
}

static void
sync_focusable (GtkLabel *label)
{
  const char *text = gtk_label_get_text (label);
  gtk_widget_set_focusable (GTK_WIDGET (label),
                            gtk_label_get_selectable (label) && text != NULL && *text != '\0');
}

static void
on_label_changed (GtkLabel   *label,
                  GParamSpec *pspec,
                  gpointer    data)
{
  sync_focusable (label);
}

/* A selectable label takes the keyboard focus so its text can be copied;
 * empty (a state line with nothing to say yet), it was a stop that a
 * screen reader read as "GtkLabel". Each selectable label under @root
 * takes the focus only while it has text. */
void
rr_accessible_skip_empty_labels (GtkWidget *root)
{
  for (GtkWidget *c = gtk_widget_get_first_child (root); c != NULL;
       c = gtk_widget_get_next_sibling (c))
    {
      if (GTK_IS_LABEL (c) && gtk_label_get_selectable (GTK_LABEL (c)))
        {
          sync_focusable (GTK_LABEL (c));
          g_signal_connect (c, "notify::label", G_CALLBACK (on_label_changed), NULL);
        }
      rr_accessible_skip_empty_labels (c);
    }
}
