/* rr-accels.h: one table of keyboard shortcuts that both installs them and
 * writes them into the tooltips of the buttons they press, in GTK's own
 * words (gtk_accelerator_get_label (): "Shift+Ctrl+T", as the shortcuts
 * window shows them), so that a tooltip cannot name another key. */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

typedef struct
{
  const char *accel;    /* gtk_accelerator_parse () syntax: "<Control><Shift>t" */
  const char *action;   /* "win.tool" */
  const char *target;   /* a string target ("navigate"), or NULL */
} RrAccel;

/* "Shift+Ctrl+T" for "<Control><Shift>t"; NULL when @accel does not parse. */
char *rr_accel_label (const char *accel);

/* Binds each of @accels on @klass (gtk_widget_class_add_binding_action ()). */
void rr_accels_bind_class (GtkWidgetClass *klass,
                           const RrAccel  *accels,
                           guint           n_accels);

/* Each actionable widget under @root (itself included) whose action and
 * target are in @accels gets " (label)" after its tooltip, from the first
 * entry for it: the one the shortcuts window lists. */
void rr_accels_tooltips (GtkWidget     *root,
                         const RrAccel *accels,
                         guint          n_accels);

G_END_DECLS

G_BEGIN_DECLS

/* The main window's: tools, undo, folder, layouts, view. */
extern const RrAccel rr_window_accels[];
extern const guint rr_window_n_accels;

G_END_DECLS
