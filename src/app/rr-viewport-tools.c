/* rr-viewport-tools.c: the measurement tools of the viewer: drawing new
 * calipers and ROIs, selecting, moving and reshaping them by their handles,
 * and drawing them over the panes whose plane they lie on. Points are
 * patient millimetres from the first press; pixels are only the screen. */
#include "rr-viewport-private.h"
#include "rr-label-place.h"
#include "rr-viewport-defects.h"
#include "rr-measure-text.h"

#include <glib/gi18n.h>
#include <math.h>

#define HANDLE_GRAB_PX 10.0  /* a handle is grabbed this close, at any zoom */
#define LINE_GRAB_PX 6.0
#define MIN_SIZE_PX 3.0      /* smaller drags are clicks, not measurements */

enum
{
  SIGNAL_SELECTION_CHANGED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

/* ---- coordinates ---- */

static RrVec3
to_patient (RrViewport    *self,
            guint          pane,
            const RrPlane *pl,
            double         x,
            double         y)
{
  const Pane *p = &self->panes[pane];
  return rr_vec3_add (pl->center,
                      rr_vec3_add (rr_vec3_scale (pl->right, (x - p->x - p->w / 2) * pl->mm_per_pixel),
                                   rr_vec3_scale (pl->down, (y - p->y - p->h / 2) * pl->mm_per_pixel)));
}

static void
to_widget (RrViewport    *self,
           guint          pane,
           const RrPlane *pl,
           RrVec3         q,
           double        *x,
           double        *y)
{
  const Pane *p = &self->panes[pane];
  RrVec3 rel = rr_vec3_sub (q, pl->center);
  *x = p->x + p->w / 2 + rr_vec3_dot (rel, pl->right) / pl->mm_per_pixel;
  *y = p->y + p->h / 2 + rr_vec3_dot (rel, pl->down) / pl->mm_per_pixel;
}

/* A measurement shows on a pane whose plane it lies on: parallel, within
 * half a voxel step, with the same slab. */
static gboolean
on_pane (RrViewport          *self,
         const RrMeasurement *m,
         const RrPlane       *pl)
{
  RrVec3 n = rr_plane_normal (pl);
  double d;
  if (fabs (rr_vec3_dot (n, rr_measurement_normal (m))) < 0.9999)
    return FALSE;
  if (m->slab_mode != pl->slab_mode)
    return FALSE;
  d = rr_vec3_dot (rr_vec3_sub (m->plane_center, pl->center), n);
  return fabs (d) <= MAX (rr_viewport_step_mm (self, n) / 2, 0.01);
}

static const RrMeasurement *
find (RrViewport *self,
      const char *id)
{
  if (self->live && g_strcmp0 (self->live->id, id) == 0)
    return self->live;
  return self->history && id ? rr_measurement_history_find (self->history, id) : NULL;
}

static void
set_selected (RrViewport *self,
              const char *id)
{
  if (g_strcmp0 (self->selected, id) == 0)
    return;
  g_free (self->selected);
  self->selected = g_strdup (id);
  g_signal_emit (self, signals[SIGNAL_SELECTION_CHANGED], 0);
  rr_viewport_redraw (self);
}

/* The measurements to draw: the history, with the one being edited in
 * place of its saved self, and one being drawn after them. */
static GPtrArray *
shown (RrViewport *self)
{
  GPtrArray *out = g_ptr_array_new ();
  GPtrArray *items = self->history ? rr_measurement_history_items (self->history) : NULL;
  for (guint i = 0; items && i < items->len; i++)
    {
      RrMeasurement *m = items->pdata[i];
      if (self->live && !self->live_new && g_str_equal (m->id, self->live->id))
        m = self->live;
      g_ptr_array_add (out, m);
    }
  if (self->live && self->live_new)
    g_ptr_array_add (out, self->live);
  return out;
}

/* ---- values ---- */

typedef struct
{
  char *json;              /* the measurement they were computed for */
  RrMeasureValues values;
} CachedValues;

static void
cached_values_free (gpointer data)
{
  CachedValues *c = data;
  g_free (c->json);
  g_free (c);
}

const RrMeasureValues *
rr_viewport_measure_values (RrViewport          *self,
                            const RrMeasurement *m)
{
  g_autofree char *json = rr_measurement_to_json (m);
  CachedValues *c = g_hash_table_lookup (self->values, m->id);

  if (c == NULL || g_strcmp0 (c->json, json) != 0)
    {
      c = g_new0 (CachedValues, 1);
      c->json = g_steal_pointer (&json);
      rr_measurement_compute (m, self->volume, &c->values);
      g_hash_table_replace (self->values, g_strdup (m->id), c);
    }
  return &c->values;
}

void
rr_viewport_tools_volume_changed (RrViewport *self)
{
  /* The statistics (and their units) belong to the volume. */
  g_hash_table_remove_all (self->values);
}

/* ---- drawing ---- */

static void
path_points (RrViewport          *self,
             guint                pane,
             const RrPlane       *pl,
             const RrMeasurement *m,
             guint                from,
             guint                n,
             gboolean             close,
             cairo_t             *cr)
{
  for (guint i = 0; i < n; i++)
    {
      double x, y;
      to_widget (self, pane, pl, rr_measurement_point (m, from + i), &x, &y);
      if (i == 0)
        cairo_move_to (cr, x, y);
      else
        cairo_line_to (cr, x, y);
    }
  if (close)
    cairo_close_path (cr);
}

static void
draw_shape (RrViewport          *self,
            cairo_t             *cr,
            guint                pane,
            const RrPlane       *pl,
            const RrMeasurement *m,
            gboolean             selected,
            GArray              *labels)
{
  double x0, y0, x1, y1, lx, ly;
  RrMeasureValues live;
  const RrMeasureValues *v = &live;
  g_autofree char *label = NULL;
  gboolean drawing = m == self->live && self->live_new;

  to_widget (self, pane, pl, rr_measurement_point (m, 0), &x0, &y0);
  lx = x0, ly = y0;
  cairo_new_path (cr);
  switch (m->kind)
    {
    case RR_MEASURE_LENGTH:
    case RR_MEASURE_ARROW:
      path_points (self, pane, pl, m, 0, 2, FALSE, cr);
      to_widget (self, pane, pl, rr_measurement_point (m, 1), &x1, &y1);
      if (m->kind == RR_MEASURE_ARROW && hypot (x1 - x0, y1 - y0) > 1)
        {
          /* The head at the second point, 12 px whatever the zoom. */
          double a = atan2 (y1 - y0, x1 - x0);
          cairo_move_to (cr, x1, y1);
          cairo_line_to (cr, x1 - 12 * cos (a - 0.4), y1 - 12 * sin (a - 0.4));
          cairo_move_to (cr, x1, y1);
          cairo_line_to (cr, x1 - 12 * cos (a + 0.4), y1 - 12 * sin (a + 0.4));
        }
      else
        lx = x1, ly = y1;
      break;
    case RR_MEASURE_BIDIRECTIONAL:
      path_points (self, pane, pl, m, 0, 2, FALSE, cr);
      path_points (self, pane, pl, m, 2, 2, FALSE, cr);
      to_widget (self, pane, pl, rr_measurement_point (m, 1), &lx, &ly);
      break;
    case RR_MEASURE_ELLIPSE:
      {
        g_autoptr (GArray) o = rr_measurement_outline (m, 96);
        for (guint i = 0; i < o->len; i++)
          {
            to_widget (self, pane, pl, g_array_index (o, RrVec3, i), &x1, &y1);
            if (i == 0)
              cairo_move_to (cr, x1, y1);
            else
              cairo_line_to (cr, x1, y1);
            if (y1 > ly)
              lx = x1, ly = y1;
          }
        cairo_close_path (cr);
      }
      break;
    case RR_MEASURE_FREEHAND:
      path_points (self, pane, pl, m, 0, m->points->len, !drawing, cr);
      for (guint i = 0; i < m->points->len; i++)
        {
          to_widget (self, pane, pl, rr_measurement_point (m, i), &x1, &y1);
          if (y1 > ly)
            lx = x1, ly = y1;
        }
      break;
    case RR_MEASURE_ANGLE:
      path_points (self, pane, pl, m, 0, 3, FALSE, cr);
      to_widget (self, pane, pl, rr_measurement_point (m, 1), &lx, &ly);
      break;
    case RR_MEASURE_PROBE:
      cairo_arc (cr, x0, y0, 5, 0, 2 * G_PI);
      cairo_move_to (cr, x0 - 9, y0);
      cairo_line_to (cr, x0 + 9, y0);
      cairo_move_to (cr, x0, y0 - 9);
      cairo_line_to (cr, x0, y0 + 9);
      break;
    default:
      break;
    }
  /* A dark halo under the line keeps it visible on bright tissue. */
  cairo_set_line_join (cr, CAIRO_LINE_JOIN_ROUND);
  cairo_set_line_cap (cr, CAIRO_LINE_CAP_ROUND);
  cairo_set_source_rgba (cr, 0, 0, 0, 0.6);
  cairo_set_line_width (cr, 3.5);
  cairo_stroke_preserve (cr);
  {
    const GdkRGBA *own = self->colors ? g_hash_table_lookup (self->colors, m->id) : NULL;
    if (selected)
      cairo_set_source_rgb (cr, 0.35, 0.85, 1.0);
    else if (own)
      gdk_cairo_set_source_rgba (cr, own);
    else
      cairo_set_source_rgb (cr, 1.0, 0.8, 0.2);
  }
  cairo_set_line_width (cr, 1.5);
  cairo_stroke (cr);

  /* A freehand outline has too many points to grab; a rectangle has its
   * four corners. A signed read's have none: they cannot be moved, and
   * the highlight alone says which one is selected. */
  if (selected && !self->locked && (m->kind != RR_MEASURE_FREEHAND || rr_viewport_defects_is_rect_shape (m)))
    for (guint i = 0; i < m->points->len; i++)
      {
        double hx, hy;
        to_widget (self, pane, pl, rr_measurement_point (m, i), &hx, &hy);
        cairo_rectangle (cr, hx - 4, hy - 4, 8, 8);
        cairo_set_source_rgb (cr, 0.35, 0.85, 1.0);
        cairo_fill_preserve (cr);
        cairo_set_source_rgba (cr, 0, 0, 0, 0.8);
        cairo_set_line_width (cr, 1);
        cairo_stroke (cr);
      }

  if ((drawing && m->kind == RR_MEASURE_FREEHAND) || self->markers_only)
    return;
  /* The one being drawn changes with every move; the others are cached. */
  if (m == self->live)
    rr_measurement_compute (m, self->volume, &live);
  else if (self->panes[pane].compare)
    rr_measurement_compute (m, self->compare, &live);
  else
    v = rr_viewport_measure_values (self, m);
  /* The lesion it measures first, on its own line: "T1". */
  label = rr_measure_text_lesion_value (m, v, self->lesion_name, self->lesion_name_data);
  {
    /* Beside the shape, one value per line, inside its pane. */
    const Pane *p = &self->panes[pane];
    g_auto (GStrv) lines = g_strsplit (label, " · ", -1);
    guint n = g_strv_length (lines);
    double widest = 0;
    for (guint i = 0; i < n; i++)
      {
        cairo_text_extents_t ext;
        cairo_text_extents (cr, lines[i], &ext);
        widest = MAX (widest, ext.x_advance);
      }
    lx = MIN (lx + 10, p->x + p->w - widest - 6);
    ly = MIN (ly + 16, p->y + p->h - 24 - 14.0 * (n - 1));
    lx = MAX (lx, p->x + 6);
    ly = MAX (ly, p->y + 30);
    {
      /* Off the labels drawn before it (ly is the first baseline). */
      RrLabelBox box = { lx, ly - 11, widest, 14.0 * n };
      RrLabelBox inside = { p->x, p->y + 19, p->w, p->h - 19 - 10 };
      rr_label_place (labels, &box, &inside);
      ly = box.y + 11;
    }
    for (guint i = 0; i < n; i++)
      rr_viewport_draw_text (cr, lx, ly + 14.0 * i, lines[i], 0);
  }
}

void
rr_viewport_tools_draw (RrViewport *self,
                        cairo_t    *cr,
                        guint       pane)
{
  RrPlane pl;
  g_autoptr (GPtrArray) items = NULL;
  g_autoptr (GArray) labels = g_array_new (FALSE, FALSE, sizeof (RrLabelBox));

  if (!rr_viewport_pane_plane (self, pane, 1, &pl))
    return;
  if (self->panes[pane].compare)
    {
      /* The comparison's own: the reader's earlier readings, read-only. */
      for (guint i = 0; self->compare_measurements && i < self->compare_measurements->len; i++)
        {
          const RrMeasurement *m = self->compare_measurements->pdata[i];
          if (on_pane (self, m, &pl))
            draw_shape (self, cr, pane, &pl, m, FALSE, labels);
        }
      return;
    }
  items = shown (self);
  for (guint i = 0; i < items->len; i++)
    {
      const RrMeasurement *m = items->pdata[i];
      if (on_pane (self, m, &pl))
        draw_shape (self, cr, pane, &pl, m,
                    g_strcmp0 (m->id, self->selected) == 0 || m == self->live, labels);
    }
  /* The probe reads the value under the pointer as it moves. */
  if (self->tool == RR_MEASURE_PROBE && self->hovering && self->live == NULL &&
      rr_viewport_pane_at (self, self->hover_x, self->hover_y) == pane)
    {
      RrVec3 p = to_patient (self, pane, &pl, self->hover_x, self->hover_y);
      g_autoptr (RrMeasurement) probe = rr_measurement_new (RR_MEASURE_PROBE, &pl, &p, 1);
      RrMeasureValues v;
      g_autofree char *label = NULL;
      rr_measurement_compute (probe, self->volume, &v);
      label = rr_measure_text_value (probe, &v);
      rr_viewport_draw_text (cr, self->hover_x + 14, self->hover_y - 10, label, 0);
    }
}

guint
rr_viewport_tools_n_shown (RrViewport *self,
                           guint       pane)
{
  RrPlane pl;
  g_autoptr (GPtrArray) items = NULL;
  guint n = 0;

  if (!rr_viewport_pane_plane (self, pane, 1, &pl))
    return 0;
  if (self->panes[pane].compare)
    items = self->compare_measurements ? g_ptr_array_ref (self->compare_measurements)
                                       : g_ptr_array_new ();
  else
    items = shown (self);
  for (guint i = 0; i < items->len; i++)
    n += on_pane (self, items->pdata[i], &pl);
  return n;
}

/* ---- hit testing ---- */

static double
segment_distance (double px, double py, double ax, double ay, double bx, double by)
{
  double dx = bx - ax, dy = by - ay, len2 = dx * dx + dy * dy, t;
  t = len2 > 0 ? CLAMP (((px - ax) * dx + (py - ay) * dy) / len2, 0, 1) : 0;
  return hypot (px - (ax + t * dx), py - (ay + t * dy));
}

/* The distance from (x, y) to the drawn shape, in widget pixels. */
static double
shape_distance (RrViewport          *self,
                guint                pane,
                const RrPlane       *pl,
                const RrMeasurement *m,
                double               x,
                double               y)
{
  g_autoptr (GArray) pts = NULL;
  double best = G_MAXDOUBLE;
  gboolean closed = m->kind == RR_MEASURE_ELLIPSE || m->kind == RR_MEASURE_FREEHAND;

  if (m->kind == RR_MEASURE_PROBE)
    {
      double px, py;
      to_widget (self, pane, pl, rr_measurement_point (m, 0), &px, &py);
      return hypot (x - px, y - py);
    }
  pts = rr_measurement_outline (m, 96);
  for (guint i = 0; i + 1 < pts->len || (closed && i < pts->len); i++)
    {
      double ax, ay, bx, by;
      if (m->kind == RR_MEASURE_BIDIRECTIONAL && i % 2 == 1)
        continue;  /* two separate segments: a-b and c-d */
      to_widget (self, pane, pl, g_array_index (pts, RrVec3, i), &ax, &ay);
      to_widget (self, pane, pl, g_array_index (pts, RrVec3, (i + 1) % pts->len), &bx, &by);
      best = MIN (best, segment_distance (x, y, ax, ay, bx, by));
    }
  return best;
}

/* The measurement (and its handle, or -1 for its body) at (x, y) on
 * @pane: the selected one first, then the most recent. */
static const RrMeasurement *
hit (RrViewport    *self,
     guint          pane,
     const RrPlane *pl,
     double         x,
     double         y,
     int           *handle)
{
  g_autoptr (GPtrArray) items = shown (self);
  const RrMeasurement *body = NULL;

  for (int pass = 0; pass < 2; pass++)
    for (guint n = items->len; n-- > 0;)
      {
        const RrMeasurement *m = items->pdata[n];
        gboolean sel = g_strcmp0 (m->id, self->selected) == 0;
        if ((pass == 0) != sel || !on_pane (self, m, pl))
          continue;
        if (m->kind != RR_MEASURE_FREEHAND || rr_viewport_defects_is_rect_shape (m))
          for (guint i = 0; i < m->points->len; i++)
            {
              double hx, hy;
              to_widget (self, pane, pl, rr_measurement_point (m, i), &hx, &hy);
              if (hypot (x - hx, y - hy) <= HANDLE_GRAB_PX)
                {
                  *handle = (int) i;
                  return m;
                }
            }
        if (body == NULL && shape_distance (self, pane, pl, m, x, y) <= LINE_GRAB_PX)
          body = m;
      }
  *handle = -1;
  return body;
}

/* ---- editing ---- */

static void
clear_live (RrViewport *self)
{
  g_clear_pointer (&self->live, rr_measurement_free);
  g_clear_pointer (&self->live_start, rr_measurement_free);
  self->live_new = FALSE;
  self->angle_pending = FALSE;
}

static void
open_text_popover (RrViewport          *self,
                   guint                pane,
                   const RrPlane       *pl,
                   const RrMeasurement *m)
{
  double x, y;
  GdkRectangle r;
  to_widget (self, pane, pl, rr_measurement_point (m, 0), &x, &y);
  r = (GdkRectangle) { (int) x - 1, (int) y - 1, 2, 2 };
  gtk_popover_set_pointing_to (GTK_POPOVER (self->text_popover), &r);
  {
    /* At the label's end of the arrow, on the side away from its head,
     * so the arrow stays in sight while it is named. */
    double hx, hy;
    to_widget (self, pane, pl, rr_measurement_point (m, 1), &hx, &hy);
    gtk_popover_set_position (GTK_POPOVER (self->text_popover),
                              fabs (hy - y) >= fabs (hx - x) ? (hy > y ? GTK_POS_TOP : GTK_POS_BOTTOM)
                                                             : (hx > x ? GTK_POS_LEFT : GTK_POS_RIGHT));
  }
  gtk_editable_set_text (GTK_EDITABLE (self->text_entry), m->text ? m->text : "");
  g_object_set_data_full (G_OBJECT (self->text_popover), "measurement", g_strdup (m->id), g_free);
  gtk_popover_popup (GTK_POPOVER (self->text_popover));
  gtk_widget_grab_focus (self->text_entry);
}

static void
on_text_activate (GtkEntry   *entry,
                  RrViewport *self)
{
  const char *id = g_object_get_data (G_OBJECT (self->text_popover), "measurement");
  const RrMeasurement *m = self->history && id ? rr_measurement_history_find (self->history, id)
                                               : NULL;
  if (m)
    {
      RrMeasurement *c = rr_measurement_copy (m);
      g_free (c->text);
      c->text = g_strdup (gtk_editable_get_text (GTK_EDITABLE (entry)));
      rr_measurement_history_put (self->history, c);
    }
  gtk_popover_popdown (GTK_POPOVER (self->text_popover));
  gtk_widget_grab_focus (GTK_WIDGET (self));
  rr_viewport_redraw (self);
}

/* Saves the measurement just drawn. */
static void
commit_new (RrViewport *self,
            guint       pane,
            const RrPlane *pl)
{
  RrMeasurement *m = g_steal_pointer (&self->live);
  g_autofree char *id = g_strdup (m->id);
  gboolean arrow = m->kind == RR_MEASURE_ARROW;

  clear_live (self);
  rr_measurement_set_source (m, self->volume);
  if (rr_measurement_history_add (self->history, m))
    {
      set_selected (self, id);
      if (arrow)
        open_text_popover (self, pane, pl, rr_measurement_history_find (self->history, id));
    }
  rr_viewport_redraw (self);
}

gboolean
rr_viewport_tools_press (RrViewport *self,
                         guint       button,
                         double      x,
                         double      y)
{
  guint pane;
  RrPlane pl;
  RrVec3 p;
  const RrMeasurement *m;
  int handle;

  if (self->volume == NULL || self->history == NULL)
    return FALSE;
  pane = rr_viewport_pane_at (self, x, y);
  if (self->panes[pane].compare || !rr_viewport_pane_plane (self, pane, 1, &pl))
    return FALSE;
  p = to_patient (self, pane, &pl, x, y);

  if (self->angle_pending && self->live)
    {
      /* The click that places an angle's second arm. */
      rr_measurement_set_point (self->live, 2, p);
      self->live_handle = -3;
      return TRUE;
    }
  if (button == GDK_BUTTON_SECONDARY)
    {
      /* A caliper's context menu: what it becomes in the read. The
       * actions are the lesion form's, reached through "read.*" where
       * the window puts them. */
      GdkRectangle r = { (int) x, (int) y, 1, 1 };
      m = hit (self, pane, &pl, x, y, &handle);
      if (m == NULL)
        return FALSE;
      set_selected (self, m->id);
      rr_viewport_redraw (self);
      gtk_popover_set_pointing_to (GTK_POPOVER (self->context_menu), &r);
      gtk_popover_popup (GTK_POPOVER (self->context_menu));
      return TRUE;
    }
  if (button != GDK_BUTTON_PRIMARY)
    return FALSE;
  m = hit (self, pane, &pl, x, y, &handle);
  if (m && self->locked)
    {
      /* Selected, to go to it or read it; the press moves nothing. */
      set_selected (self, m->id);
      rr_viewport_redraw (self);
      return TRUE;
    }
  if (m)
    {
      set_selected (self, m->id);
      clear_live (self);
      self->live = rr_measurement_copy (m);
      self->live_start = rr_measurement_copy (m);
      self->live_handle = handle;
      self->live_origin = p;
      return TRUE;
    }
  if (self->tool == RR_TOOL_NAVIGATE || self->locked)
    {
      set_selected (self, NULL);
      return FALSE;
    }

  /* A new measurement on this pane's plane, starting here. */
  {
    RrVec3 pts[4] = { p, p, p, p };
    RrPlane at = pl;
    at.center = p;
    clear_live (self);
    if (rr_viewport_defects_is_rect (self->tool))
      self->live = rr_viewport_defects_new_rect (&at, p);
    else
      self->live = rr_measurement_new (self->tool, &at, pts, self->tool == RR_MEASURE_FREEHAND
                                       ? 1 : rr_measure_kind_min_points (self->tool));
    self->live_new = TRUE;
    self->live_handle = -2;
    self->live_origin = p;
    set_selected (self, NULL);
  }
  return TRUE;
}

void
rr_viewport_tools_drag (RrViewport *self,
                        double      x,
                        double      y)
{
  guint pane = rr_viewport_pane_at (self, x, y);
  RrPlane pl;
  RrVec3 p;
  RrMeasurement *m = self->live;

  if (m == NULL || self->live_handle == -3)
    return;
  /* Points come from the pane the drag began on, even past its edge. */
  pane = self->active;
  if (!rr_viewport_pane_plane (self, pane, 1, &pl))
    return;
  p = to_patient (self, pane, &pl, x, y);
  if (self->live_handle >= 0 && rr_viewport_defects_is_rect_shape (self->live_start))
    rr_viewport_defects_move_corner (m, (guint) self->live_handle, p);
  else if (self->live_handle >= 0)
    self->live_handle = (int) rr_measurement_move_handle (m, self->live_handle, p);
  else if (self->live_handle == -1)
    {
      rr_measurement_free (self->live);
      self->live = m = rr_measurement_copy (self->live_start);
      rr_measurement_translate (m, rr_vec3_sub (p, self->live_origin));
    }
  else if (rr_viewport_defects_is_rect (self->tool))
    rr_viewport_defects_drag_rect (m, self->live_origin, p, &pl);
  else
    switch (m->kind)
      {
      case RR_MEASURE_LENGTH:
      case RR_MEASURE_ARROW:
        rr_measurement_set_point (m, 1, p);
        break;
      case RR_MEASURE_ANGLE:
        /* The first arm: its end, then the vertex. */
        rr_measurement_set_point (m, 1, p);
        rr_measurement_set_point (m, 2, p);
        break;
      case RR_MEASURE_BIDIRECTIONAL:
        if (rr_vec3_length (rr_vec3_sub (p, self->live_origin)) > 1e-3)
          rr_measurement_init_bidirectional (m, self->live_origin, p);
        break;
      case RR_MEASURE_ELLIPSE:
        {
          /* Corner to corner, its axes along the screen's. */
          RrVec3 d = rr_vec3_sub (p, self->live_origin);
          double du = rr_vec3_dot (d, pl.right), dv = rr_vec3_dot (d, pl.down);
          RrVec3 c = rr_vec3_add (self->live_origin, rr_vec3_scale (d, 0.5));
          rr_measurement_set_point (m, 0, c);
          rr_measurement_set_point (m, 1, rr_vec3_add (c, rr_vec3_scale (pl.right, fabs (du) / 2)));
          rr_measurement_set_point (m, 2, rr_vec3_add (c, rr_vec3_scale (pl.down, fabs (dv) / 2)));
        }
        break;
      case RR_MEASURE_FREEHAND:
        {
          double lx, ly;
          to_widget (self, pane, &pl, rr_measurement_point (m, m->points->len - 1), &lx, &ly);
          if (hypot (x - lx, y - ly) >= 2 && m->points->len < RR_MEASUREMENT_MAX_POINTS)
            {
              g_array_append_val (m->points, p);
              rr_measurement_set_point (m, m->points->len - 1, p);
            }
        }
        break;
      case RR_MEASURE_PROBE:
        rr_measurement_set_point (m, 0, p);
        break;
      default:
        break;
      }
  rr_viewport_redraw (self);
}

void
rr_viewport_tools_release (RrViewport *self,
                           double      x,
                           double      y,
                           gboolean    dragged)
{
  RrMeasurement *m = self->live;
  RrPlane pl;
  RrMeasureValues v;
  guint pane = self->active;

  if (m == NULL || !rr_viewport_pane_plane (self, pane, 1, &pl))
    return;
  if (self->live_handle == -3)
    {
      /* The angle is complete. */
      commit_new (self, pane, &pl);
      return;
    }
  if (self->live_handle >= -1)
    {
      /* An edit: one undoable step for the whole drag. */
      if (dragged)
        rr_measurement_history_put (self->history, rr_measurement_copy (m));
      clear_live (self);
      rr_viewport_redraw (self);
      return;
    }
  rr_measurement_compute (m, NULL, &v);
  switch (m->kind)
    {
    case RR_MEASURE_PROBE:
      commit_new (self, pane, &pl);
      return;
    case RR_MEASURE_ANGLE:
      if (dragged)
        {
          double ax, ay, bx, by;
          to_widget (self, pane, &pl, rr_measurement_point (m, 0), &ax, &ay);
          to_widget (self, pane, &pl, rr_measurement_point (m, 1), &bx, &by);
          if (hypot (bx - ax, by - ay) >= MIN_SIZE_PX)
            {
              self->angle_pending = TRUE;
              rr_viewport_redraw (self);
              return;
            }
        }
      break;
    case RR_MEASURE_ELLIPSE:
      if (v.width / pl.mm_per_pixel >= MIN_SIZE_PX)
        {
          commit_new (self, pane, &pl);
          return;
        }
      break;
    case RR_MEASURE_FREEHAND:
      if (m->points->len >= 3 && v.area / (pl.mm_per_pixel * pl.mm_per_pixel) >= 9)
        {
          commit_new (self, pane, &pl);
          return;
        }
      break;
    default:
      if (dragged && v.length / pl.mm_per_pixel >= MIN_SIZE_PX)
        {
          commit_new (self, pane, &pl);
          return;
        }
      break;
    }
  /* Too small to be meant: nothing is kept. */
  clear_live (self);
  rr_viewport_redraw (self);
}

static void
on_motion (GtkEventControllerMotion *ctrl,
           double                    x,
           double                    y,
           RrViewport               *self)
{
  self->hovering = TRUE;
  self->hover_x = x;
  self->hover_y = y;
  if (self->angle_pending && self->live)
    {
      RrPlane pl;
      if (rr_viewport_pane_plane (self, self->active, 1, &pl))
        rr_measurement_set_point (self->live, 2, to_patient (self, self->active, &pl, x, y));
      gtk_widget_queue_draw (GTK_WIDGET (self));
    }
  else if (self->tool == RR_MEASURE_PROBE)
    gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
on_leave (GtkEventControllerMotion *ctrl,
          RrViewport               *self)
{
  self->hovering = FALSE;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

/* ---- actions ---- */

static void
tools_action (GtkWidget  *widget,
              const char *name,
              GVariant   *param)
{
  RrViewport *self = RR_VIEWPORT (widget);

  if (g_str_equal (name, "viewer.cancel"))
    {
      if (self->live)
        clear_live (self);
      else
        set_selected (self, NULL);
      rr_viewport_redraw (self);
    }
  else if (g_str_equal (name, "viewer.delete-measurement"))
    {
      g_autofree char *id = g_strdup (self->selected);
      if (id && self->history && self->live == NULL &&
          rr_measurement_history_remove (self->history, id))
        set_selected (self, NULL);
    }
  else if (g_str_equal (name, "viewer.nudge"))
    {
      const RrMeasurement *m = find (self, self->selected);
      int dx, dy;
      RrPlane pl;
      g_variant_get (param, "(ii)", &dx, &dy);
      if (m == NULL || self->live || !rr_viewport_pane_plane (self, self->active, 1, &pl))
        return;
      /* One screen pixel, in millimetres of the active pane. */
      RrMeasurement *c = rr_measurement_copy (m);
      rr_measurement_translate (c, rr_vec3_add (rr_vec3_scale (pl.right, dx * pl.mm_per_pixel),
                                                rr_vec3_scale (pl.down, dy * pl.mm_per_pixel)));
      rr_measurement_history_put (self->history, c);
    }
  else if (g_str_equal (name, "viewer.edit-text"))
    {
      const RrMeasurement *m = find (self, self->selected);
      RrPlane pl;
      if (m && m->kind == RR_MEASURE_ARROW && rr_viewport_pane_plane (self, self->active, 1, &pl))
        open_text_popover (self, self->active, &pl, m);
    }
  else if (g_str_equal (name, "viewer.context-menu"))
    {
      /* The selected caliper's menu from the keyboard, at its first point. */
      const RrMeasurement *m = find (self, self->selected);
      RrPlane pl;
      double x, y;
      if (m == NULL || self->live || !rr_viewport_pane_plane (self, self->active, 1, &pl))
        return;
      to_widget (self, self->active, &pl, rr_measurement_point (m, 0), &x, &y);
      gtk_popover_set_pointing_to (GTK_POPOVER (self->context_menu),
                                   &(GdkRectangle) { (int) x, (int) y, 1, 1 });
      gtk_popover_popup (GTK_POPOVER (self->context_menu));
    }
}

void
rr_viewport_tools_class_init (GtkWidgetClass *widget_class)
{
  static const struct
  {
    guint key;
    int dx, dy;
  } nudges[] = { { GDK_KEY_Left, -1, 0 }, { GDK_KEY_Right, 1, 0 }, { GDK_KEY_Up, 0, -1 },
                 { GDK_KEY_Down, 0, 1 } };

  signals[SIGNAL_SELECTION_CHANGED] =
    g_signal_new ("selection-changed", G_TYPE_FROM_CLASS (widget_class), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 0);
  gtk_widget_class_install_action (widget_class, "viewer.cancel", NULL, tools_action);
  gtk_widget_class_install_action (widget_class, "viewer.delete-measurement", NULL, tools_action);
  gtk_widget_class_install_action (widget_class, "viewer.nudge", "(ii)", tools_action);
  gtk_widget_class_install_action (widget_class, "viewer.edit-text", NULL, tools_action);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "viewer.cancel", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Delete, 0,
                                       "viewer.delete-measurement", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_KP_Delete, 0,
                                       "viewer.delete-measurement", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_BackSpace, 0,
                                       "viewer.delete-measurement", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Return, 0, "viewer.edit-text", NULL);
  gtk_widget_class_install_action (widget_class, "viewer.context-menu", NULL, tools_action);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_F10, GDK_SHIFT_MASK,
                                       "viewer.context-menu", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Menu, 0, "viewer.context-menu",
                                       NULL);
  for (guint i = 0; i < G_N_ELEMENTS (nudges); i++)
    {
      gtk_widget_class_add_binding_action (widget_class, nudges[i].key, GDK_ALT_MASK,
                                           "viewer.nudge", "(ii)", nudges[i].dx, nudges[i].dy);
      gtk_widget_class_add_binding_action (widget_class, nudges[i].key,
                                           GDK_ALT_MASK | GDK_SHIFT_MASK, "viewer.nudge", "(ii)",
                                           nudges[i].dx * 10, nudges[i].dy * 10);
    }
}

void
rr_viewport_tools_init (RrViewport *self)
{
  GtkEventController *motion = gtk_event_controller_motion_new ();
  GtkWidget *box;

  self->tool = RR_TOOL_NAVIGATE;
  self->values = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, cached_values_free);
  g_signal_connect (motion, "motion", G_CALLBACK (on_motion), self);
  g_signal_connect (motion, "leave", G_CALLBACK (on_leave), self);
  gtk_widget_add_controller (GTK_WIDGET (self), motion);

  self->text_popover = gtk_popover_new ();
  box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
  gtk_box_append (GTK_BOX (box), gtk_label_new (_("Arrow label")));
  self->text_entry = gtk_entry_new ();
  gtk_entry_set_placeholder_text (GTK_ENTRY (self->text_entry), _("What it points at"));
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->text_entry),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, _("Arrow label"), -1);
  gtk_box_append (GTK_BOX (box), self->text_entry);
  gtk_popover_set_child (GTK_POPOVER (self->text_popover), box);
  gtk_widget_set_parent (self->text_popover, GTK_WIDGET (self));
  g_signal_connect (self->text_entry, "activate", G_CALLBACK (on_text_activate), self);

  {
    g_autoptr (GMenu) menu = g_menu_new ();
    g_menu_append (menu, _("Make Target"), "read.make-target");
    g_menu_append (menu, _("Make Non-target"), "read.make-non-target");
    g_menu_append (menu, _("New Lesion"), "read.make-new-lesion");
    self->context_menu = gtk_popover_menu_new_from_model (G_MENU_MODEL (menu));
    gtk_popover_set_has_arrow (GTK_POPOVER (self->context_menu), FALSE);
    gtk_widget_set_halign (self->context_menu, GTK_ALIGN_START);
    gtk_widget_set_parent (self->context_menu, GTK_WIDGET (self));
  }
}

void
rr_viewport_tools_finalize (RrViewport *self)
{
  clear_live (self);
  g_free (self->selected);
  g_clear_pointer (&self->values, g_hash_table_unref);
  g_clear_pointer (&self->colors, g_hash_table_unref);
}

/* ---- public ---- */

void
rr_viewport_set_tool (RrViewport *self,
                      int         tool)
{
  g_return_if_fail ((tool >= RR_TOOL_NAVIGATE && tool < RR_MEASURE_N_KINDS) ||
                    rr_viewport_defects_is_rect (tool));
  if (self->live && self->live_new)
    clear_live (self);
  self->tool = tool;
  gtk_widget_set_cursor_from_name (GTK_WIDGET (self), tool == RR_TOOL_NAVIGATE ? NULL
                                                                             : "crosshair");
  rr_viewport_redraw (self);
}

int
rr_viewport_get_tool (RrViewport *self)
{
  return self->tool;
}

void
rr_viewport_set_history (RrViewport           *self,
                         RrMeasurementHistory *history)
{
  clear_live (self);
  self->history = history;
  set_selected (self, NULL);
  rr_viewport_redraw (self);
}

void
rr_viewport_measurements_changed (RrViewport *self)
{
  if (self->selected && find (self, self->selected) == NULL)
    set_selected (self, NULL);
  if (self->live && !self->live_new && self->history &&
      rr_measurement_history_find (self->history, self->live->id) == NULL)
    clear_live (self);
  rr_viewport_redraw (self);
}

void
rr_viewport_set_locked (RrViewport *self,
                        gboolean    locked)
{
  g_return_if_fail (RR_IS_VIEWPORT (self));
  if (self->locked == !!locked)
    return;
  self->locked = !!locked;
  /* A drag begun before the lock goes no further. */
  if (locked)
    clear_live (self);
  rr_viewport_redraw (self);
}

const char *
rr_viewport_get_selected (RrViewport *self)
{
  return self->selected;
}

void
rr_viewport_set_colors (RrViewport *self,
                        GHashTable *colors)
{
  g_clear_pointer (&self->colors, g_hash_table_unref);
  self->colors = colors ? g_hash_table_ref (colors) : NULL;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
rr_viewport_set_lesion_names (RrViewport       *self,
                              RrLesionNameFunc  func,
                              gpointer          user_data)
{
  self->lesion_name = func;
  self->lesion_name_data = user_data;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
rr_viewport_show_measurement (RrViewport *self,
                              const char *id)
{
  const RrMeasurement *m = find (self, id);
  RrVec3 n, c;
  guint pane = self->active;
  gboolean found = FALSE;
  RrPlane pl;

  if (m == NULL || self->volume == NULL)
    return;
  set_selected (self, id);
  n = rr_measurement_normal (m);
  c = rr_measurement_center (m);
  self->point = c;
  rr_viewport_layout_panes (self);
  if (self->panes[pane].compare)
    pane = 0;
  /* A pane already on its plane's orientation, the active one first. */
  for (guint k = 0; k < self->n_panes && !found; k++)
    {
      guint i = (self->active + k) % self->n_panes;
      if (!self->panes[i].compare && rr_viewport_pane_plane (self, i, 1, &pl) &&
          fabs (rr_vec3_dot (rr_plane_normal (&pl), n)) > 0.9999 && pl.slab_mode == m->slab_mode)
        pane = i, found = TRUE;
    }
  if (!found)
    {
      /* Turn the active pane onto the measurement's plane: the rotation
       * that takes its standard axes to the measurement's. */
      RrPlane std;
      RrMat3 from, to, inv;
      rr_plane_init_standard (&std, self->panes[pane].kind, c, 1, 1, 1);
      from.c[0] = std.right, from.c[1] = std.down, from.c[2] = rr_plane_normal (&std);
      to.c[0] = m->plane_right, to.c[1] = m->plane_down, to.c[2] = n;
      if (rr_mat3_invert (&from, &inv))
        {
          RrMat3 r;
          for (int i = 0; i < 3; i++)
            r.c[i] = rr_mat3_apply (&to, inv.c[i]);
          self->rot[pane] = r;
        }
    }
  self->active = pane;
  /* Centred when any part of it is outside the pane (zoomed in, its
   * centre in view but an end not: the reader looked for it), else left
   * where it is. */
  if (rr_viewport_pane_plane (self, pane, 1, &pl))
    {
      double x, y;
      const Pane *p = &self->panes[pane];
      gboolean outside = FALSE;
      for (guint i = 0; i <= m->points->len && !outside; i++)
        {
          to_widget (self, pane, &pl, i < m->points->len ? rr_measurement_point (m, i) : c,
                     &x, &y);
          outside = x < p->x + 20 || x > p->x + p->w - 20 || y < p->y + 20 ||
                    y > p->y + p->h - 20;
        }
      if (outside)
        {
          to_widget (self, pane, &pl, c, &x, &y);
          self->pan_x += (x - p->x - p->w / 2) * pl.mm_per_pixel;
          self->pan_y += (y - p->y - p->h / 2) * pl.mm_per_pixel;
        }
    }
  rr_viewport_redraw (self);
}
