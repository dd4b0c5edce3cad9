/* rr-viewport-link.c: the viewport's side of linked scrolling: the
 * comparison pane's point, its caption, scrolling it alone, and the
 * "linked" property the Link Scrolling button is bound to. The rules
 * themselves (by position, by offset, "link here") are in core/rr-link.c. */
#include "rr-viewport-private.h"

#include <glib/gi18n.h>
#include <math.h>

static guint link_kept_signal;

RrVec3
rr_viewport_pane_point (RrViewport *self,
                        guint       i)
{
  return self->panes[i].compare ? rr_link_prior_point (&self->link, self->point) : self->point;
}

/* The comparison keeps its own window when its values are not the
 * current volume's kind: a CT window makes a PET a white blob. Two PETs
 * each keep their own too: one window in Bq/ml is a different SUV
 * window on each (another dose, weight, uptake time). */
gboolean
rr_viewport_compare_own_window (RrViewport *self)
{
  return self->compare && self->volume &&
         (g_strcmp0 (self->compare->modality, self->volume->modality) != 0 ||
          g_strcmp0 (self->compare->modality, "PT") == 0);
}

void
rr_viewport_pane_window (RrViewport *self,
                         guint       i,
                         double     *center,
                         double     *width)
{
  gboolean own = self->panes[i].compare && rr_viewport_compare_own_window (self);
  *center = own ? self->compare_center : self->center;
  *width = own ? self->compare_width : self->width;
}

void
rr_viewport_set_pane_window (RrViewport *self,
                             guint       i,
                             double      center,
                             double      width)
{
  if (self->panes[i].compare && rr_viewport_compare_own_window (self))
    {
      self->compare_center = center;
      self->compare_width = MAX (width, 1);
      rr_viewport_redraw (self);
    }
  else
    rr_viewport_set_window (self, center, width);
}

void
rr_viewport_reset_compare_window (RrViewport *self)
{
  if (self->compare == NULL)
    return;
  self->compare_center = self->compare->window_center;
  self->compare_width = MAX (self->compare->window_width, 1);
}

const char *
rr_viewport_link_text (RrViewport *self)
{
  switch (rr_link_mode (&self->link))
    {
    case RR_LINK_POSITION:
      return _("linked by position");
    case RR_LINK_OFFSET:
      return _("linked by offset");
    case RR_LINK_UNLINKED:
      return _("not linked: scrolls alone");
    default:
      return NULL;
    }
}

void
rr_viewport_link_changed (RrViewport *self)
{
  rr_link_start (&self->link, self->volume, self->compare);
  rr_viewport_layout_panes (self);
  g_object_notify (G_OBJECT (self), "linked");
  g_object_notify (G_OBJECT (self), "comparing");
  rr_viewport_redraw (self);
}

void
rr_viewport_link_scroll_prior (RrViewport *self,
                               int         n)
{
  RrVolume *v = self->compare;
  RrVec3 at = rr_viewport_pane_point (self, self->active), normal;
  RrPlane pl;
  double i, j, k, step;

  if (v == NULL || !rr_viewport_pane_plane (self, self->active, 1, &pl))
    return;
  normal = rr_plane_normal (&pl);
  if (self->flip[self->active])
    normal = rr_vec3_scale (normal, -1);  /* mirroring does not turn the stack around */
  /* One of the prior's own voxels along the normal (its slices may be
   * thicker or thinner than the current's). */
  step = MAX (MAX (fabs (rr_vec3_dot (normal, v->row_dir)) * v->spacing[0],
                   fabs (rr_vec3_dot (normal, v->col_dir)) * v->spacing[1]),
              fabs (rr_vec3_dot (normal, v->normal)) * v->spacing[2]);
  at = rr_vec3_add (at, rr_vec3_scale (normal, n * step));
  rr_volume_patient_to_voxel (v, at, &i, &j, &k);
  if (k < -0.5 || k > v->dims[2] - 0.5 || i < -0.5 || i > v->dims[0] - 0.5 ||
      j < -0.5 || j > v->dims[1] - 0.5)
    return;
  rr_link_move_prior (&self->link, at);
  rr_viewport_redraw (self);
}

void
rr_viewport_set_linked (RrViewport *self,
                        gboolean    linked)
{
  /* Linking again is "link here": an offset for the pair is kept. */
  gboolean kept;

  g_return_if_fail (RR_IS_VIEWPORT (self));
  kept = linked && !self->link.linked && self->link.comparing;
  rr_link_set_linked (&self->link, linked, self->point);
  if (kept)
    g_signal_emit (self, link_kept_signal, 0);
  /* Always: a toggle bound to "linked" goes back when nothing changed. */
  g_object_notify (G_OBJECT (self), "linked");
  rr_viewport_redraw (self);
}

gboolean
rr_viewport_get_linked (RrViewport *self)
{
  g_return_val_if_fail (RR_IS_VIEWPORT (self), TRUE);
  return self->link.linked;
}

void
rr_viewport_forget_links (RrViewport *self)
{
  g_return_if_fail (RR_IS_VIEWPORT (self));
  rr_link_forget (&self->link);
}

char *
rr_viewport_get_kept_links (RrViewport *self)
{
  g_return_val_if_fail (RR_IS_VIEWPORT (self), NULL);
  return rr_link_kept_to_json (&self->link);
}

void
rr_viewport_keep_links (RrViewport *self,
                        const char *json)
{
  g_autoptr (GError) error = NULL;

  g_return_if_fail (RR_IS_VIEWPORT (self));
  if (json == NULL)
    return;
  /* A draft of another shape (written by hand, damaged) keeps nothing:
   * the panes link as they would have without it. */
  if (!rr_link_keep_from_json (&self->link, json, &error))
    {
      g_warning ("%s", error->message);
      return;
    }
  /* A comparison already shown takes its pair's offset now. */
  if (self->compare)
    rr_viewport_link_changed (self);
}

void
rr_viewport_link_class_init (GtkWidgetClass *widget_class)
{
  link_kept_signal = g_signal_new ("link-kept", G_TYPE_FROM_CLASS (widget_class),
                                   G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 0);
}
