/* rr-viewport-focus.c: Tab through the viewer's panes, then on to the
 * next control.
 *
 * The viewer draws its panes in one widget. Bound to Tab alone, "next
 * pane" kept the keyboard focus in the viewer for good: the lesion form
 * beside it could not be reached from the keyboard. GTK moves the focus
 * by asking each widget's focus vfunc whether it has somewhere to go in
 * that direction; the viewer answers as a container of its panes would:
 * Tab goes to the next pane and, from the last, on to the next widget
 * (Shift+Tab the same way back, from the first pane to the widget
 * before). */
#include "rr-viewport-private.h"

static gboolean (*parent_focus) (GtkWidget *widget, GtkDirectionType direction);

static void
activate_pane (RrViewport *self,
               guint       pane)
{
  self->active = pane;
  rr_viewport_redraw (self);
}

static gboolean
rr_viewport_focus (GtkWidget        *widget,
                   GtkDirectionType  direction)
{
  RrViewport *self = RR_VIEWPORT (widget);
  guint last = MAX (self->n_panes, 1u) - 1;
  gboolean forward = direction == GTK_DIR_TAB_FORWARD;

  /* Arrows are the viewer's own (slices); the text popover's entry
   * moves its focus as GTK does. */
  if ((direction != GTK_DIR_TAB_FORWARD && direction != GTK_DIR_TAB_BACKWARD)
      || gtk_widget_get_focus_child (widget) != NULL)
    return parent_focus (widget, direction);

  if (gtk_widget_is_focus (widget))
    {
      if (forward ? self->active >= last : self->active == 0)
        return FALSE;  /* past the last (first) pane: GTK moves on */
      activate_pane (self, forward ? self->active + 1 : self->active - 1);
      return TRUE;
    }

  /* Coming in: at the first pane going forward, at the last going back,
   * as a container's children are entered. */
  if (!gtk_widget_get_focusable (widget) || !gtk_widget_grab_focus (widget))
    return FALSE;
  activate_pane (self, forward ? 0 : last);
  return TRUE;
}

void
rr_viewport_focus_class_init (GtkWidgetClass *widget_class)
{
  parent_focus = widget_class->focus;
  widget_class->focus = rr_viewport_focus;
}
