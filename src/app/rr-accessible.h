/* rr-accessible.h: names for the screen reader where GTK gives none. */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

void rr_accessible_name_drop_down (GtkDropDown *drop_down);
void rr_accessible_skip_empty_labels (GtkWidget *root);

G_END_DECLS
