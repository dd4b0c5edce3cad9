/* rr-viewport-caption.c: what the viewport says in words: the window
 * (in SUV for PET), the captions fitted into their panes, and the
 * accessible description that reads them all out. */
#include "rr-viewport-private.h"
#include "rr-measure-text.h"
#include "rr-viewport-defects.h"

#include <glib/gi18n.h>
#include <math.h>

char *
rr_viewport_window_text (RrViewport *self,
                         guint       i)
{
  RrVolume *v = self->volume;
  const char *units;
  double c, w, scale;

  /* The window's values are those of the volume it belongs to: the
   * comparison's own, or the volume's (which the panes share). */
  if (self->panes[i].compare && rr_viewport_compare_own_window (self))
    v = self->compare;
  rr_viewport_pane_window (self, i, &c, &w);
  scale = v ? rr_volume_display_scale (v, &units) : 1;
  /* SUV reads to a tenth (a window of 5); HU and counts as whole numbers. */
  if (v && g_strcmp0 (units, "SUVbw") == 0)
    return g_strdup_printf (_("W %.1f L %.1f SUVbw"), w * scale, c * scale);
  return g_strdup_printf (_("W %.0f L %.0f"), w, c);
}

static const char *
colormap_name (RrColormap map)
{
  switch (map)
    {
    case RR_COLORMAP_HOT_IRON:
      return _("hot iron");
    case RR_COLORMAP_PET:
      return _("PET");
    default:
      return _("grey");
    }
}


char *
rr_viewport_describe (RrViewport *self)
{
  RrVolume *v = self->volume;
  const Pane *p;
  double i, j, k;
  GString *s;
  RrVec3 point;

  if (v == NULL)
    return g_strdup (_("No image"));
  rr_viewport_layout_panes (self);
  p = &self->panes[self->active];
  /* The active pane: its volume (the comparison's, in its pane) and point. */
  v = rr_viewport_pane_volume (self, self->active);
  point = rr_viewport_pane_point (self, self->active);
  s = g_string_new (rr_viewport_kind_name (p->kind));
  rr_volume_patient_to_voxel (v, point, &i, &j, &k);
  {
    RrPlane pl;
    rr_plane_init_standard (&pl, p->kind, point, 1, 1, 1);
    rr_viewport_pane_axes (self, self->active, &pl);
    if (fabs (rr_vec3_dot (rr_plane_normal (&pl), v->normal)) > 0.999)
      g_string_append_printf (s, _(" · slice %d / %u"), (int) floor (k + 0.5) + 1, v->dims[2]);
    /* The slice location as a PACS labels it: "Loc", not a bare length
     * that reads like a thickness. */
    {
      double loc = rr_vec3_dot (point, rr_plane_normal (&pl));
      g_string_append_printf (s, _(" · Loc %.1f mm"), fabs (loc) < 0.05 ? 0.0 : loc);
    }
    if (gtk_widget_get_width (GTK_WIDGET (self)) > 0 &&
        rr_viewport_pane_plane (self, self->active, 1, &pl))
      g_string_append_printf (s, _(" · %.4f mm per pixel"), pl.mm_per_pixel);
  }
  if (v->type != RR_VOXEL_RGB8)
    {
      g_autofree char *wl = rr_viewport_window_text (self, self->active);
      g_string_append_printf (s, " · %s", wl);
    }
  /* Which pane the keys act on: the frame drawn round it, in words. */
  if (self->n_panes > 1)
    g_string_append_printf (s, _(" · pane %u of %u"), self->active + 1, self->n_panes);
  if (self->fusion)
    g_string_append_printf (s, _(" · fused with %s"), self->fusion->modality ? self->fusion->modality : "");
  if (self->cine_source)
    g_string_append (s, _(" · playing"));
  if (self->slab[self->active] != RR_SLAB_NONE)
    g_string_append_printf (s, _(" · %s slab %.0f mm"), rr_viewport_slab_name (self->slab[self->active]),
                            self->slab_mm[self->active]);
  if (self->turns[self->active] || self->flip[self->active])
    g_string_append_printf (s, _(" · turned %d°%s"), self->turns[self->active] * 90,
                            self->flip[self->active] ? _(", mirrored") : "");
  if (self->colormap != RR_COLORMAP_GREY)
    g_string_append_printf (s, _(" · colour map %s"), colormap_name (self->colormap));
  if (self->invert)
    g_string_append (s, _(" · inverted"));
  if (self->tool != RR_TOOL_NAVIGATE)
    g_string_append_printf (s, _(" · tool: %s"), rr_viewport_defects_tool_name (self, self->tool));
  if (self->selected && self->history)
    {
      const RrMeasurement *m = rr_measurement_history_find (self->history, self->selected);
      if (m)
        {
          g_autofree char *text = rr_measure_text_value (m, rr_viewport_measure_values (self, m));
          g_string_append_printf (s, _(" · selected: %s %s"), rr_measure_text_kind (m->kind), text);
        }
    }
  if (self->fallback)
    g_string_append (s, _(" · drawn on the CPU"));
  else if (self->notice)
    g_string_append (s, _(" · down-sampled for display"));
  /* Then what every pane's caption says, as drawn. */
  for (guint pane = 0; pane < self->n_panes; pane++)
    {
      g_autofree char *title = rr_viewport_pane_title (self, pane);
      g_autofree char *im = rr_viewport_slice_text (self, pane);
      guint n = self->panes[pane].compare ? rr_viewport_tools_n_shown (self, pane) : 0;
      g_string_append_printf (s, pane == 0 ? _(" — panes: %s") : "; %s", title);
      if (im)
        g_string_append_printf (s, ", %s", im);
      if (self->panes[pane].compare && rr_viewport_link_text (self))
        g_string_append_printf (s, ", %s", rr_viewport_link_text (self));
      if (n)
        g_string_append_printf (s, g_dngettext (NULL, ", %u earlier measurement shown",
                                                ", %u earlier measurements shown", n), n);
    }
  return g_string_free (s, FALSE);
}

