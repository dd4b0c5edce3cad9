/* rr-viewport.c: panes laid out in one GtkGLArea (so a volume is one
 * texture whatever the number of views), overlays drawn with cairo above
 * it, and the CPU reslicer when GL cannot be had or is a software
 * rasteriser (rr_gl_probe_viewports_on_cpu). */
#include "rr-viewport-private.h"
#include "rr-gl-loader.h"
#include "rr-gl-probe.h"
#include "rr-gl-reslicer.h"
#include "rr-watchdog.h"

#include <epoxy/gl.h>
#include <glib/gi18n.h>
#include <string.h>

enum
{
  PROP_0,
  PROP_DESCRIPTION,
  PROP_LINKED,
  PROP_COMPARING,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

G_DEFINE_FINAL_TYPE (RrViewport, rr_viewport, GTK_TYPE_GL_AREA)

static const struct
{
  const char *name;
  double center, width;
} presets[] = {
  { N_("Soft tissue"), 40, 400 },
  { N_("Lung"), -600, 1500 },
  { N_("Bone"), 400, 1800 },
  { N_("Brain"), 40, 80 },
  { N_("Liver"), 60, 160 },
};

static void
notify_description (RrViewport *self)
{
  g_autofree char *d = rr_viewport_describe (self);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, d,
                                  -1);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_DESCRIPTION]);
}

void
rr_viewport_redraw (RrViewport *self)
{
  /* The GL image is rendered again, the overlays drawn on top of it in
   * snapshot (each draw renders both: auto-render). */
  gtk_gl_area_queue_render (GTK_GL_AREA (self));
  notify_description (self);
}

void
rr_viewport_layout_panes (RrViewport *self)
{
  double w = gtk_widget_get_width (GTK_WIDGET (self));
  double h = gtk_widget_get_height (GTK_WIDGET (self));
  static const RrPlaneKind mpr[3] = { RR_PLANE_AXIAL, RR_PLANE_CORONAL, RR_PLANE_SAGITTAL };

  switch (self->layout)
    {
    case RR_LAYOUT_SINGLE:
      self->n_panes = 1;
      self->panes[0] = (Pane) { self->panes[0].kind, 0, 0, w, h };
      break;
    case RR_LAYOUT_SIDE:
      /* Two planes of the volume, or the same plane of two studies. */
      self->n_panes = 2;
      self->panes[0] = (Pane) { RR_PLANE_AXIAL, 0, 0, floor (w / 2), h };
      self->panes[1] = (Pane) { self->compare ? RR_PLANE_AXIAL : RR_PLANE_CORONAL, floor (w / 2), 0,
                                w - floor (w / 2), h, self->compare != NULL };
      break;
    case RR_LAYOUT_MPR:
      /* The axial plane large on the left, coronal and sagittal stacked. */
      self->n_panes = 3;
      self->panes[0] = (Pane) { mpr[0], 0, 0, floor (w * 0.6), h };
      self->panes[1] = (Pane) { mpr[1], floor (w * 0.6), 0, w - floor (w * 0.6), floor (h / 2) };
      self->panes[2] = (Pane) { mpr[2], floor (w * 0.6), floor (h / 2), w - floor (w * 0.6),
                                h - floor (h / 2) };
      break;
    case RR_LAYOUT_GRID:
      self->n_panes = 4;
      for (int i = 0; i < 4; i++)
        {
          double px = (i % 2) * floor (w / 2), py = (i / 2) * floor (h / 2);
          self->panes[i] = (Pane) { i < 3 ? mpr[i] : RR_PLANE_CORONAL, px, py,
                                    i % 2 ? w - floor (w / 2) : floor (w / 2),
                                    i / 2 ? h - floor (h / 2) : floor (h / 2) };
        }
      break;
    }
  self->active = MIN (self->active, self->n_panes - 1);
}

static RrMat3
mat3_identity (void)
{
  RrMat3 m = { { { 1, 0, 0 }, { 0, 1, 0 }, { 0, 0, 1 } } };
  return m;
}

/* Rotation by @angle radians about the unit axis @n (Rodrigues). */
static RrMat3
mat3_rotation (RrVec3 n, double angle)
{
  RrMat3 m;
  double c = cos (angle), s = sin (angle), t = 1 - c;
  m.c[0] = rr_vec3 (t * n.x * n.x + c, t * n.x * n.y + s * n.z, t * n.x * n.z - s * n.y);
  m.c[1] = rr_vec3 (t * n.x * n.y - s * n.z, t * n.y * n.y + c, t * n.y * n.z + s * n.x);
  m.c[2] = rr_vec3 (t * n.x * n.z + s * n.y, t * n.y * n.z - s * n.x, t * n.z * n.z + c);
  return m;
}

static RrMat3
mat3_mul (const RrMat3 *a, const RrMat3 *b)
{
  RrMat3 m;
  for (int i = 0; i < 3; i++)
    m.c[i] = rr_mat3_apply (a, b->c[i]);
  return m;
}

void
rr_viewport_pane_axes (RrViewport *self, guint i, RrPlane *pl)
{
  pl->right = rr_vec3_normalize (rr_mat3_apply (&self->rot[i], pl->right));
  pl->down = rr_vec3_normalize (rr_mat3_apply (&self->rot[i], pl->down));
  /* How the image is shown: mirrored, then turned. The axes stay patient
   * directions, so orientation letters and measurements follow. */
  if (self->flip[i])
    pl->right = rr_vec3_scale (pl->right, -1);
  for (int t = 0; t < self->turns[i]; t++)
    {
      RrVec3 r = pl->right;
      pl->right = rr_vec3_scale (pl->down, -1);
      pl->down = r;
    }
}

/* The plane a pane shows, in output pixels of @scale (1 for widget pixels,
 * the surface scale for the GL framebuffer). */
RrVolume *
rr_viewport_pane_volume (RrViewport *self,
                         guint       i)
{
  return self->panes[i].compare ? self->compare : self->volume;
}

gboolean
rr_viewport_pane_plane (RrViewport *self, guint i, double scale, RrPlane *pl)
{
  const Pane *p = &self->panes[i];
  guint w = (guint) MAX (1, floor (p->w * scale)), h = (guint) MAX (1, floor (p->h * scale));
  RrVec3 c;

  RrVolume *v = rr_viewport_pane_volume (self, i);
  RrVec3 point = rr_viewport_pane_point (self, i);

  if (v == NULL)
    return FALSE;
  rr_plane_init_standard (pl, p->kind, point, 1, w, h);
  rr_viewport_pane_axes (self, i, pl);
  /* Fit the whole volume, then zoom; the pane centre follows the pan but
   * stays on the crosshair's plane. */
  pl->mm_per_pixel = rr_plane_fit_mm_per_pixel (pl, v) / self->zoom;
  c = rr_volume_center (v);
  c = rr_vec3_sub (c, rr_vec3_scale (rr_plane_normal (pl),
                                     rr_vec3_dot (rr_vec3_sub (c, point), rr_plane_normal (pl))));
  c = rr_vec3_add (c, rr_vec3_add (rr_vec3_scale (pl->right, self->pan_x),
                                   rr_vec3_scale (pl->down, self->pan_y)));
  pl->center = c;
  if (self->slab[i] != RR_SLAB_NONE && self->slab_mm[i] > 0)
    {
      pl->slab_mode = self->slab[i];
      pl->slab_mm = self->slab_mm[i];
    }
  return TRUE;
}

/* ---- interaction ---- */

guint
rr_viewport_pane_at (RrViewport *self, double x, double y)
{
  rr_viewport_layout_panes (self);
  for (guint i = 0; i < self->n_panes; i++)
    {
      const Pane *p = &self->panes[i];
      if (x >= p->x && x < p->x + p->w && y >= p->y && y < p->y + p->h)
        return i;
    }
  return 0;
}

double
rr_viewport_step_mm (RrViewport *self, RrVec3 normal)
{
  /* One voxel along the plane's normal. */
  RrVolume *v = self->volume;
  double a = fabs (rr_vec3_dot (normal, v->row_dir)) * v->spacing[0];
  double b = fabs (rr_vec3_dot (normal, v->col_dir)) * v->spacing[1];
  double c = fabs (rr_vec3_dot (normal, v->normal)) * v->spacing[2];
  return MAX (MAX (a, b), c);
}

/* Ctrl+wheel zooms about the point under the pointer, as a PACS does:
 * what is there stays there (the pan moves by what the zoom moved it).
 * The + and - keys, like a wheel without the pointer over the viewer,
 * zoom about the pane's centre. */
static void
zoom_at_pointer (RrViewport *self,
                 double      factor)
{
  RrPlane before, after;
  const Pane *p = &self->panes[self->active];
  double dx = self->hover_x - p->x - p->w / 2, dy = self->hover_y - p->y - p->h / 2;

  if (!self->hovering || !rr_viewport_pane_plane (self, self->active, 1, &before))
    {
      rr_viewport_zoom (self, factor);
      return;
    }
  self->zoom = CLAMP (self->zoom * factor, 0.25, 20);
  if (rr_viewport_pane_plane (self, self->active, 1, &after))
    {
      self->pan_x += dx * (before.mm_per_pixel - after.mm_per_pixel);
      self->pan_y += dy * (before.mm_per_pixel - after.mm_per_pixel);
    }
  rr_viewport_redraw (self);
}

static gboolean
on_scroll (GtkEventControllerScroll *ctrl,
           double                    dx,
           double                    dy,
           RrViewport               *self)
{
  GdkModifierType mods = gtk_event_controller_get_current_event_state (GTK_EVENT_CONTROLLER (ctrl));
  if (self->volume == NULL || dy == 0)
    return FALSE;
  /* The wheel scrolls the pane under the pointer, as on a PACS: with the
   * panes unlinked, the prior's alone. */
  if (self->hovering)
    self->active = rr_viewport_pane_at (self, self->hover_x, self->hover_y);
  if (mods & GDK_CONTROL_MASK)
    zoom_at_pointer (self, dy < 0 ? 1.15 : 1 / 1.15);
  else
    rr_viewport_scroll (self, dy > 0 ? 1 : -1);
  return TRUE;
}

/* Puts the crosshair at widget point (x, y) of the active pane. */
static void
move_crosshair (RrViewport *self,
                double      x,
                double      y)
{
  RrPlane pl;
  const Pane *p = &self->panes[self->active];
  if (!rr_viewport_pane_plane (self, self->active, 1, &pl))
    return;
  RrVec3 at = rr_vec3_add (pl.center,
                            rr_vec3_add (rr_vec3_scale (pl.right, (x - p->x - p->w / 2) * pl.mm_per_pixel),
                                         rr_vec3_scale (pl.down, (y - p->y - p->h / 2) * pl.mm_per_pixel)));
  /* On the prior's pane: the crosshair follows it, or, unlinked, only
   * that pane moves. */
  if (p->compare && !self->link.linked)
    rr_link_move_prior (&self->link, at);
  else
    self->point = p->compare ? rr_link_current_point (&self->link, at) : at;
  rr_viewport_redraw (self);
}

static void
on_drag_begin (GtkGestureDrag *g,
               double          x,
               double          y,
               RrViewport     *self)
{
  self->active = rr_viewport_pane_at (self, x, y);
  gtk_widget_grab_focus (GTK_WIDGET (self));
  self->dragged = FALSE;
  self->measuring = rr_viewport_tools_press (
    self, gtk_gesture_single_get_current_button (GTK_GESTURE_SINGLE (g)), x, y);
  if (self->measuring)
    return;
  /* Grabbing the crosshair's centre drags it: the other planes follow. */
  self->crosshair_drag = FALSE;
  if (self->n_panes > 1 && self->volume &&
      gtk_gesture_single_get_current_button (GTK_GESTURE_SINGLE (g)) == GDK_BUTTON_PRIMARY)
    {
      RrPlane pl;
      const Pane *p = &self->panes[self->active];
      if (rr_viewport_pane_plane (self, self->active, 1, &pl))
        {
          RrVec3 rel = rr_vec3_sub (rr_viewport_pane_point (self, self->active), pl.center);
          double cx = p->x + p->w / 2 + rr_vec3_dot (rel, pl.right) / pl.mm_per_pixel;
          double cy = p->y + p->h / 2 + rr_vec3_dot (rel, pl.down) / pl.mm_per_pixel;
          self->crosshair_drag = hypot (x - cx, y - cy) <= 10;
        }
    }
  rr_viewport_pane_window (self, self->active, &self->drag_center, &self->drag_width);
  self->drag_x = self->pan_x;
  self->drag_y = self->pan_y;
  self->dragged = FALSE;
  gtk_widget_grab_focus (GTK_WIDGET (self));
  rr_viewport_redraw (self);
}

static void
on_drag_update (GtkGestureDrag *g,
                double          dx,
                double          dy,
                RrViewport     *self)
{
  guint button = gtk_gesture_single_get_current_button (GTK_GESTURE_SINGLE (g));
  if (self->volume == NULL)
    return;
  if (fabs (dx) + fabs (dy) > 3)
    self->dragged = TRUE;
  if (self->measuring)
    {
      double x, y;
      gtk_gesture_drag_get_start_point (g, &x, &y);
      if (self->dragged)
        rr_viewport_tools_drag (self, x + dx, y + dy);
      return;
    }
  if (!self->dragged)
    return;
  if (self->crosshair_drag)
    {
      double x, y;
      gtk_gesture_drag_get_start_point (g, &x, &y);
      move_crosshair (self, x + dx, y + dy);
      return;
    }
  if (button == GDK_BUTTON_MIDDLE)
    {
      RrPlane pl;
      rr_viewport_pane_plane (self, self->active, 1, &pl);
      self->pan_x = self->drag_x - dx * pl.mm_per_pixel;
      self->pan_y = self->drag_y - dy * pl.mm_per_pixel;
      rr_viewport_redraw (self);
    }
  else if (rr_viewport_pane_volume (self, self->active)->type != RR_VOXEL_RGB8)
    {
      /* The window of the pane dragged on (a PET beside a CT has its own). */
      double per_px = MAX (self->drag_width / 400.0, 0.01);
      rr_viewport_set_pane_window (self, self->active, self->drag_center - dy * per_px,
                                   MAX (self->drag_width + dx * per_px * 2, 1));
    }
}

static void
on_drag_end (GtkGestureDrag *g,
             double          dx,
             double          dy,
             RrViewport     *self)
{
  double x, y;

  if (self->measuring)
    {
      gtk_gesture_drag_get_start_point (g, &x, &y);
      self->measuring = FALSE;
      rr_viewport_tools_release (self, x + dx, y + dy, self->dragged);
      return;
    }
  self->crosshair_drag = FALSE;
  if (self->dragged || self->volume == NULL)
    return;
  /* A click: move the crosshair there (the other planes follow). */
  gtk_gesture_drag_get_start_point (g, &x, &y);
  move_crosshair (self, x, y);
}

/* Every viewer command is an action ("viewer.*") with its shortcuts, so
 * the shortcuts window, menus and tests reach the same code. */
static void
viewer_action (GtkWidget  *widget,
               const char *name,
               GVariant   *param)
{
  RrViewport *self = RR_VIEWPORT (widget);
  if (g_str_equal (name, "viewer.scroll"))
    rr_viewport_scroll (self, g_variant_get_int32 (param));
  else if (g_str_equal (name, "viewer.preset"))
    rr_viewport_apply_preset (self, g_variant_get_int32 (param));
  else if (g_str_equal (name, "viewer.rotate"))
    rr_viewport_rotate (self, g_variant_get_int32 (param));
  else if (g_str_equal (name, "viewer.cine"))
    rr_viewport_toggle_cine (self);
  else if (g_str_equal (name, "viewer.turn"))
    rr_viewport_turn (self, g_variant_get_int32 (param));
  else if (g_str_equal (name, "viewer.flip"))
    rr_viewport_flip (self, g_variant_get_boolean (param));
  else if (g_str_equal (name, "viewer.slab-mode"))
    {
      RrSlabMode mode;
      double mm;
      rr_viewport_get_slab (self, &mode, &mm);
      rr_viewport_set_slab (self, (mode + 1) % (RR_SLAB_MEAN + 1), mm);
    }
  else if (g_str_equal (name, "viewer.link"))
    rr_viewport_set_linked (self, !self->link.linked);
  else if (g_str_equal (name, "viewer.colormap"))
    rr_viewport_set_colormap (self, (self->colormap + 1) % (RR_COLORMAP_PET + 1));
  else if (g_str_equal (name, "viewer.next-pane"))
    {
      self->active = (self->active + 1) % MAX (self->n_panes, 1u);
      rr_viewport_redraw (self);
    }
}

/* ---- GObject ---- */

static void
rr_viewport_size_allocate (GtkWidget *widget,
                           int        width,
                           int        height,
                           int        baseline)
{
  RrViewport *self = RR_VIEWPORT (widget);
  gboolean resized = width != self->alloc_w || height != self->alloc_h;
  GTK_WIDGET_CLASS (rr_viewport_parent_class)->size_allocate (widget, width, height, baseline);
  if (self->text_popover)
    gtk_popover_present (GTK_POPOVER (self->text_popover));
  rr_viewport_layout_panes (self);
  if (resized)
    {
      /* The scale in the description follows the size. */
      self->alloc_w = width, self->alloc_h = height;
      notify_description (self);
    }
}

/* The GL image (GtkGLArea's texture, rendered again at each draw),
 * then the overlays drawn with cairo on top; when GL is software or
 * cannot be had, the overlay draws the CPU image first. */
static void
rr_viewport_snapshot (GtkWidget   *widget,
                      GtkSnapshot *snapshot)
{
  RrViewport *self = RR_VIEWPORT (widget);
  int w = gtk_widget_get_width (widget), h = gtk_widget_get_height (widget);
  cairo_t *cr;

  /* The stall log tells the viewport's part of a frame from GTK's. */
  if (!self->cpu_only)
    {
      rr_watchdog_note ("the viewport's GL image");
      GTK_WIDGET_CLASS (rr_viewport_parent_class)->snapshot (widget, snapshot);
    }
  if (w > 0 && h > 0)
    {
      rr_watchdog_note ("the viewport's overlay (and CPU image)");
      cr = gtk_snapshot_append_cairo (snapshot, &GRAPHENE_RECT_INIT (0, 0, w, h));
      rr_viewport_draw_overlay (self, cr, w, h);
      cairo_destroy (cr);
    }
  rr_watchdog_note (NULL);
}

static void
rr_viewport_measure (GtkWidget      *widget,
                     GtkOrientation  orientation,
                     int             for_size,
                     int            *minimum,
                     int            *natural,
                     int            *minimum_baseline,
                     int            *natural_baseline)
{
  *minimum = 200;
  *natural = 800;
}

static void
rr_viewport_get_property (GObject    *object,
                          guint       prop_id,
                          GValue     *value,
                          GParamSpec *pspec)
{
  RrViewport *self = RR_VIEWPORT (object);
  switch (prop_id)
    {
    case PROP_DESCRIPTION:
      g_value_take_string (value, rr_viewport_describe (self));
      break;
    case PROP_LINKED:
      g_value_set_boolean (value, self->link.linked);
      break;
    case PROP_COMPARING:
      g_value_set_boolean (value, self->link.comparing);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
rr_viewport_set_property (GObject      *object,
                          guint         prop_id,
                          const GValue *value,
                          GParamSpec   *pspec)
{
  RrViewport *self = RR_VIEWPORT (object);
  switch (prop_id)
    {
    case PROP_LINKED:
      rr_viewport_set_linked (self, g_value_get_boolean (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
rr_viewport_dispose (GObject *object)
{
  RrViewport *self = RR_VIEWPORT (object);
  g_clear_handle_id (&self->cine_source, g_source_remove);
  g_clear_handle_id (&self->upload_source, g_source_remove);
  g_clear_handle_id (&self->realize_source, g_source_remove);
  g_clear_handle_id (&self->warm_source, g_source_remove);
  g_clear_handle_id (&self->refine_source, g_source_remove);
  if (self->preparing)
    g_cancellable_cancel (self->preparing);
  g_clear_object (&self->preparing);
  g_clear_pointer (&self->text_popover, gtk_widget_unparent);
  g_clear_pointer (&self->context_menu, gtk_widget_unparent);
  G_OBJECT_CLASS (rr_viewport_parent_class)->dispose (object);
}

static void
rr_viewport_finalize (GObject *object)
{
  RrViewport *self = RR_VIEWPORT (object);
  g_clear_pointer (&self->volume, rr_volume_unref);
  g_clear_pointer (&self->loader, rr_gl_loader_unref);
  rr_viewport_clear_cpu_images (self);
  g_free (self->cpu_values);
  g_free (self->cpu_grey);
  g_free (self->cpu_fused);
  g_free (self->fallback);
  g_free (self->notice);
  g_clear_pointer (&self->fusion, rr_volume_unref);
  g_clear_pointer (&self->compare, rr_volume_unref);
  g_free (self->compare_label);
  g_free (self->current_label);
  g_clear_pointer (&self->compare_measurements, g_ptr_array_unref);
  g_clear_pointer (&self->prepared, rr_volume_unref);
  rr_link_clear (&self->link);
  rr_viewport_tools_finalize (self);
  G_OBJECT_CLASS (rr_viewport_parent_class)->finalize (object);
}

/* On a software rasteriser (cpu_only) no GL context is made: GtkGLArea's
 * realize, which makes it, is left out. Its unrealize, snapshot, resize
 * and queue_render each do nothing without a context. */
static void
rr_viewport_realize (GtkWidget *widget)
{
  RrViewport *self = RR_VIEWPORT (widget);
  GtkWidgetClass *klass = self->cpu_only ? g_type_class_peek (GTK_TYPE_WIDGET)
                                         : GTK_WIDGET_CLASS (rr_viewport_parent_class);
  klass->realize (widget);
}

static void
rr_viewport_class_init (RrViewportClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = rr_viewport_dispose;
  object_class->finalize = rr_viewport_finalize;
  object_class->get_property = rr_viewport_get_property;
  object_class->set_property = rr_viewport_set_property;
  widget_class->realize = rr_viewport_realize;
  widget_class->size_allocate = rr_viewport_size_allocate;
  widget_class->snapshot = rr_viewport_snapshot;
  widget_class->measure = rr_viewport_measure;
  properties[PROP_DESCRIPTION] =
    g_param_spec_string ("description", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  /* The viewer controls' Link Scrolling button is bound to these. */
  properties[PROP_LINKED] =
    g_param_spec_boolean ("linked", NULL, NULL, TRUE,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_COMPARING] =
    g_param_spec_boolean ("comparing", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_IMG);
  gtk_widget_class_set_css_name (widget_class, "rrviewport");

  rr_viewport_tools_class_init (widget_class);
  rr_viewport_link_class_init (widget_class);
  gtk_widget_class_install_action (widget_class, "viewer.scroll", "i", viewer_action);
  gtk_widget_class_install_action (widget_class, "viewer.preset", "i", viewer_action);
  gtk_widget_class_install_action (widget_class, "viewer.rotate", "i", viewer_action);
  gtk_widget_class_install_action (widget_class, "viewer.cine", NULL, viewer_action);
  gtk_widget_class_install_action (widget_class, "viewer.next-pane", NULL, viewer_action);
  rr_viewport_focus_class_init (widget_class);
  gtk_widget_class_install_action (widget_class, "viewer.turn", "i", viewer_action);
  gtk_widget_class_install_action (widget_class, "viewer.flip", "b", viewer_action);
  gtk_widget_class_install_action (widget_class, "viewer.slab-mode", NULL, viewer_action);
  gtk_widget_class_install_action (widget_class, "viewer.colormap", NULL, viewer_action);
  gtk_widget_class_install_action (widget_class, "viewer.link", NULL, viewer_action);
  {
    static const struct
    {
      guint key;
      int n;
    } scrolls[] = { { GDK_KEY_Up, -1 }, { GDK_KEY_KP_Up, -1 }, { GDK_KEY_Down, 1 },
                    { GDK_KEY_KP_Down, 1 }, { GDK_KEY_Page_Up, -10 }, { GDK_KEY_Page_Down, 10 } };
    for (guint i = 0; i < G_N_ELEMENTS (scrolls); i++)
      gtk_widget_class_add_binding_action (widget_class, scrolls[i].key, 0, "viewer.scroll", "i",
                                           scrolls[i].n);
    for (int p = 0; p < 5; p++)
      {
        gtk_widget_class_add_binding_action (widget_class, GDK_KEY_1 + p, 0, "viewer.preset", "i", p);
        gtk_widget_class_add_binding_action (widget_class, GDK_KEY_KP_1 + p, 0, "viewer.preset",
                                             "i", p);
      }
    gtk_widget_class_add_binding_action (widget_class, GDK_KEY_bracketleft, 0, "viewer.rotate",
                                         "i", -5);
    gtk_widget_class_add_binding_action (widget_class, GDK_KEY_bracketright, 0, "viewer.rotate",
                                         "i", 5);
    gtk_widget_class_add_binding_action (widget_class, GDK_KEY_space, 0, "viewer.cine", NULL);
    gtk_widget_class_add_binding_action (widget_class, GDK_KEY_r, GDK_CONTROL_MASK, "viewer.turn",
                                         "i", 1);
    gtk_widget_class_add_binding_action (widget_class, GDK_KEY_R, GDK_CONTROL_MASK | GDK_SHIFT_MASK,
                                         "viewer.turn", "i", -1);
    gtk_widget_class_add_binding_action (widget_class, GDK_KEY_H, GDK_SHIFT_MASK, "viewer.flip",
                                         "b", TRUE);
    gtk_widget_class_add_binding_action (widget_class, GDK_KEY_V, GDK_SHIFT_MASK, "viewer.flip",
                                         "b", FALSE);
    gtk_widget_class_add_binding_action (widget_class, GDK_KEY_s, 0, "viewer.slab-mode", NULL);
    gtk_widget_class_add_binding_action (widget_class, GDK_KEY_c, 0, "viewer.colormap", NULL);
    gtk_widget_class_add_binding_action (widget_class, GDK_KEY_k, 0, "viewer.link", NULL);
  }
}

static void
rr_viewport_init (RrViewport *self)
{
  GtkEventController *scroll;
  GtkGesture *drag;

  self->zoom = 1;
  self->center = 40;
  self->width = 400;
  self->fusion_opacity = 0.5;
  rr_link_init (&self->link);
  for (int i = 0; i < MAX_PANES; i++)
    {
      self->rot[i] = mat3_identity ();
      self->slab_mm[i] = 10;
    }
  self->layout = RR_LAYOUT_SINGLE;
  self->panes[0].kind = RR_PLANE_AXIAL;
  gtk_widget_set_focusable (GTK_WIDGET (self), TRUE);
  gtk_widget_set_hexpand (GTK_WIDGET (self), TRUE);
  gtk_widget_set_vexpand (GTK_WIDGET (self), TRUE);

  self->cpu_only = rr_gl_probe_viewports_on_cpu ();
  gtk_gl_area_set_required_version (GTK_GL_AREA (self), 3, 3);
  /* Rendered at every draw (auto-render, GTK's default): without it GTK 4.8
   * does not keep the last image, and a draw of the overlays alone (the
   * pointer leaving, a lesion renamed) showed a texture nothing had been
   * rendered into, the pane blank, white or black (tests/e2e/test_blank.py). */
  gtk_gl_area_set_auto_render (GTK_GL_AREA (self), TRUE);
  rr_viewport_gl_init (self);

  scroll = gtk_event_controller_scroll_new (GTK_EVENT_CONTROLLER_SCROLL_VERTICAL |
                                            GTK_EVENT_CONTROLLER_SCROLL_DISCRETE);
  g_signal_connect (scroll, "scroll", G_CALLBACK (on_scroll), self);
  gtk_widget_add_controller (GTK_WIDGET (self), scroll);
  drag = gtk_gesture_drag_new ();
  gtk_gesture_single_set_button (GTK_GESTURE_SINGLE (drag), 0);
  g_signal_connect (drag, "drag-begin", G_CALLBACK (on_drag_begin), self);
  g_signal_connect (drag, "drag-update", G_CALLBACK (on_drag_update), self);
  g_signal_connect (drag, "drag-end", G_CALLBACK (on_drag_end), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (drag));
  rr_viewport_tools_init (self);
}

GtkWidget *
rr_viewport_new (void)
{
  return g_object_new (RR_TYPE_VIEWPORT, NULL);
}

/* The volume's centre moved onto its middle acquired slice: with an even
 * count the centre falls between two, and the view would show (and every
 * view label) a place no slice was taken at. */
static RrVec3
middle_slice (const RrVolume *v)
{
  return rr_volume_voxel_to_patient (v, (v->dims[0] - 1) / 2.0, (v->dims[1] - 1) / 2.0,
                                     v->dims[2] / 2);
}

void
rr_viewport_set_volume (RrViewport *self,
                        RrVolume   *volume)
{
  g_return_if_fail (RR_IS_VIEWPORT (self));
  if (volume == self->volume)
    return;
  if (gtk_widget_get_realized (GTK_WIDGET (self)))
    {
      gtk_gl_area_make_current (GTK_GL_AREA (self));
      if (gtk_gl_area_get_error (GTK_GL_AREA (self)) == NULL)
        g_clear_pointer (&self->glv, rr_gl_volume_free);
    }
  /* A fallback for the previous volume (too large, uneven) may not hold
   * for this one; a missing GL context does. */
  if (self->reslicer != NULL)
    g_clear_pointer (&self->fallback, g_free);
  g_clear_pointer (&self->notice, g_free);
  if (self->preparing)
    g_cancellable_cancel (self->preparing);
  g_clear_object (&self->preparing);
  g_clear_pointer (&self->prepared, rr_volume_unref);
  g_clear_pointer (&self->volume, rr_volume_unref);
  g_clear_handle_id (&self->cine_source, g_source_remove);
  rr_viewport_tools_volume_changed (self);
  if (volume)
    {
      self->volume = rr_volume_ref (volume);
      self->point = middle_slice (volume);
      self->center = volume->type == RR_VOXEL_RGB8 ? 127.5 : volume->window_center;
      self->width = volume->type == RR_VOXEL_RGB8 ? 256 : MAX (volume->window_width, 1);
      self->zoom = 1;
      self->pan_x = self->pan_y = 0;
    }
  if (self->compare)
    rr_viewport_link_changed (self);
  rr_viewport_redraw (self);
}

RrVolume *
rr_viewport_get_volume (RrViewport *self)
{
  return self->volume;
}

void
rr_viewport_set_layout (RrViewport *self,
                        RrLayout    layout)
{
  self->layout = layout;
  self->active = 0;
  for (int i = 0; i < MAX_PANES; i++)
    self->slab[i] = RR_SLAB_NONE;
  if (layout == RR_LAYOUT_GRID)
    {
      /* The fourth pane: a 3 cm coronal MIP. */
      self->slab[3] = RR_SLAB_MIP;
      self->slab_mm[3] = 30;
    }
  rr_viewport_layout_panes (self);
  rr_viewport_redraw (self);
}

RrLayout
rr_viewport_get_layout (RrViewport *self)
{
  return self->layout;
}

void
rr_viewport_set_point (RrViewport *self,
                       RrVec3      point)
{
  self->point = point;
  rr_viewport_redraw (self);
}

RrVec3
rr_viewport_get_point (RrViewport *self)
{
  return self->point;
}

void
rr_viewport_set_window (RrViewport *self,
                        double      center,
                        double      width)
{
  self->center = center;
  self->width = MAX (width, 1);
  rr_viewport_redraw (self);
}

void
rr_viewport_get_window (RrViewport *self,
                        double     *center,
                        double     *width)
{
  *center = self->center;
  *width = self->width;
}

void
rr_viewport_scroll (RrViewport *self,
                    int         n)
{
  RrPlane pl;
  RrVec3 normal;
  double step;
  double i, j, k;
  RrVec3 moved;

  if (self->volume == NULL)
    return;
  rr_viewport_layout_panes (self);
  if (self->panes[self->active].compare && !self->link.linked)
    {
      rr_viewport_link_scroll_prior (self, n);
      return;
    }
  rr_plane_init_standard (&pl, self->panes[self->active].kind, self->point, 1, 1, 1);
  rr_viewport_pane_axes (self, self->active, &pl);
  normal = rr_plane_normal (&pl);
  if (self->flip[self->active])
    normal = rr_vec3_scale (normal, -1);  /* mirroring does not turn the stack around */
  step = rr_viewport_step_mm (self, normal);
  moved = rr_vec3_add (self->point, rr_vec3_scale (normal, n * step));
  /* Stay inside the volume. */
  rr_volume_patient_to_voxel (self->volume, moved, &i, &j, &k);
  if (k < -0.5 || k > self->volume->dims[2] - 0.5 || i < -0.5 || i > self->volume->dims[0] - 0.5 ||
      j < -0.5 || j > self->volume->dims[1] - 0.5)
    return;
  self->point = moved;
  rr_viewport_redraw (self);
}

void
rr_viewport_apply_preset (RrViewport *self,
                          int         preset)
{
  RrVolume *v;

  if (preset < 0 || preset >= (int) G_N_ELEMENTS (presets) || self->volume == NULL)
    return;
  /* The presets are CT windows in HU: they act on the pane the keys act
   * on, and not on a comparison of other values (a PET). */
  v = rr_viewport_pane_volume (self, self->active);
  if (v->type == RR_VOXEL_RGB8 ||
      (self->panes[self->active].compare && g_strcmp0 (v->units, "HU") != 0 &&
       g_strcmp0 (v->modality, self->volume->modality) != 0))
    return;
  rr_viewport_set_pane_window (self, self->active, presets[preset].center, presets[preset].width);
}

void
rr_viewport_zoom (RrViewport *self,
                  double      factor)
{
  self->zoom = CLAMP (self->zoom * factor, 0.25, 20);
  rr_viewport_redraw (self);
}

void
rr_viewport_reset (RrViewport *self)
{
  if (self->volume == NULL)
    return;
  self->zoom = 1;
  self->pan_x = self->pan_y = 0;
  for (int i = 0; i < MAX_PANES; i++)
    {
      self->rot[i] = mat3_identity ();
      self->turns[i] = 0;
      self->flip[i] = FALSE;
    }
  self->point = middle_slice (self->volume);
  self->center = self->volume->window_center;
  self->width = MAX (self->volume->window_width, 1);
  rr_viewport_reset_compare_window (self);
  self->invert = FALSE;
  rr_viewport_redraw (self);
}

void
rr_viewport_toggle_invert (RrViewport *self)
{
  self->invert = !self->invert;
  rr_viewport_redraw (self);
}

static gboolean
cine_tick (gpointer data)
{
  RrViewport *self = data;
  RrVolume *v = self->volume;
  double i, j, k;
  guint next;

  if (v == NULL)
    {
      self->cine_source = 0;
      return G_SOURCE_REMOVE;
    }
  /* The next frame of the stack, back to the first after the last. */
  rr_volume_patient_to_voxel (v, self->point, &i, &j, &k);
  next = ((guint) MAX (0, floor (k + 0.5)) + 1) % v->dims[2];
  self->point = rr_volume_voxel_to_patient (v, i, j, next);
  rr_viewport_redraw (self);
  return G_SOURCE_CONTINUE;
}

void
rr_viewport_toggle_cine (RrViewport *self)
{
  double ms;
  if (self->cine_source)
    {
      g_clear_handle_id (&self->cine_source, g_source_remove);
      rr_viewport_redraw (self);
      return;
    }
  if (self->volume == NULL || self->volume->dims[2] < 2)
    return;
  /* At the acquisition's frame time (ultrasound cine), else 15 frames/s. */
  ms = self->volume->frame_time_ms > 0 ? self->volume->frame_time_ms : 1000.0 / 15;
  self->cine_source = g_timeout_add ((guint) CLAMP (ms, 5, 2000), cine_tick, self);
  rr_viewport_redraw (self);
}

void
rr_viewport_set_fusion (RrViewport *self,
                        RrVolume   *overlay)
{
  if (gtk_widget_get_realized (GTK_WIDGET (self)))
    {
      gtk_gl_area_make_current (GTK_GL_AREA (self));
      if (gtk_gl_area_get_error (GTK_GL_AREA (self)) == NULL)
        g_clear_pointer (&self->fusion_glv, rr_gl_volume_free);
    }
  g_clear_pointer (&self->fusion, rr_volume_unref);
  if (overlay)
    {
      self->fusion = rr_volume_ref (overlay);
      /* The overlay's colours span the window it opens with alone: PET
       * in SUV 0 to 5, or by percentile (rr_volume_default_window ()). */
      self->fusion_lo = overlay->window_center - overlay->window_width / 2;
      self->fusion_hi = overlay->window_center + overlay->window_width / 2;
    }
  if (self->fallback && overlay)
    {
      g_free (self->notice);
      self->notice = g_strdup (_("Fusion needs the GPU; the CPU view shows the base volume"));
    }
  rr_viewport_redraw (self);
}


void
rr_viewport_rotate (RrViewport *self,
                    double      degrees)
{
  RrPlane pl;
  RrMat3 r;

  if (self->volume == NULL || self->n_panes < 2)
    return;
  /* Turning the crosshair in the active pane turns the other planes
   * about its normal: they become oblique; the active image stays. */
  rr_plane_init_standard (&pl, self->panes[self->active].kind, self->point, 1, 1, 1);
  rr_viewport_pane_axes (self, self->active, &pl);
  r = mat3_rotation (rr_plane_normal (&pl), degrees * G_PI / 180);
  for (guint i = 0; i < self->n_panes; i++)
    if (i != self->active)
      self->rot[i] = mat3_mul (&r, &self->rot[i]);
  rr_viewport_redraw (self);
}

void
rr_viewport_set_slab (RrViewport *self,
                      RrSlabMode  mode,
                      double      mm)
{
  rr_viewport_layout_panes (self);
  self->slab[self->active] = mode;
  self->slab_mm[self->active] = CLAMP (mm, 0.5, 500);
  rr_viewport_redraw (self);
}

void
rr_viewport_get_slab (RrViewport *self,
                      RrSlabMode *mode,
                      double     *mm)
{
  rr_viewport_layout_panes (self);
  *mode = self->slab[self->active];
  *mm = self->slab_mm[self->active];
}

void
rr_viewport_turn (RrViewport *self,
                  int         quarter_turns)
{
  guint i = self->active;
  self->turns[i] = ((self->turns[i] + quarter_turns) % 4 + 4) % 4;
  rr_viewport_redraw (self);
}

void
rr_viewport_flip (RrViewport *self,
                  gboolean    horizontal)
{
  /* The shown image is turns(t) of mirror(f). Mirroring it on screen
   * left-right gives turns(-t) of mirror(!f); top-bottom, turns(2-t). */
  guint i = self->active;
  int t = horizontal ? -self->turns[i] : 2 - self->turns[i];
  self->turns[i] = (t % 4 + 4) % 4;
  self->flip[i] = !self->flip[i];
  rr_viewport_redraw (self);
}

void
rr_viewport_set_colormap (RrViewport *self,
                          RrColormap  map)
{
  self->colormap = map;
  rr_viewport_redraw (self);
}

RrColormap
rr_viewport_get_colormap (RrViewport *self)
{
  return self->colormap;
}

void
rr_viewport_set_compare (RrViewport *self,
                         RrVolume   *volume,
                         const char *current_label,
                         const char *label)
{
  if (gtk_widget_get_realized (GTK_WIDGET (self)))
    {
      gtk_gl_area_make_current (GTK_GL_AREA (self));
      if (gtk_gl_area_get_error (GTK_GL_AREA (self)) == NULL)
        g_clear_pointer (&self->compare_glv, rr_gl_volume_free);
    }
  g_clear_pointer (&self->compare, rr_volume_unref);
  g_clear_pointer (&self->compare_label, g_free);
  g_clear_pointer (&self->current_label, g_free);
  g_clear_pointer (&self->compare_measurements, g_ptr_array_unref);
  if (volume)
    {
      self->compare = rr_volume_ref (volume);
      rr_viewport_reset_compare_window (self);
      self->compare_label = g_strdup (label);
      self->current_label = g_strdup (current_label);
    }
  rr_viewport_link_changed (self);
}

void
rr_viewport_set_compare_measurements (RrViewport *self,
                                      GPtrArray  *measurements)
{
  g_return_if_fail (RR_IS_VIEWPORT (self));
  g_clear_pointer (&self->compare_measurements, g_ptr_array_unref);
  if (measurements && measurements->len)
    {
      self->compare_measurements =
        g_ptr_array_new_with_free_func ((GDestroyNotify) rr_measurement_free);
      for (guint i = 0; i < measurements->len; i++)
        g_ptr_array_add (self->compare_measurements, rr_measurement_copy (measurements->pdata[i]));
    }
  rr_viewport_redraw (self);
}

gboolean
rr_viewport_show_in_compare (RrViewport *self,
                             const char *series_uid,
                             RrVec3      point)
{
  g_return_val_if_fail (RR_IS_VIEWPORT (self), FALSE);
  if (self->compare == NULL || g_strcmp0 (self->compare->series_uid, series_uid) != 0)
    return FALSE;
  /* Each pane on its place: the prior's on @point, the current one where
   * the link puts it (unlinked: where it was last linked). */
  if (!self->link.linked)
    rr_link_move_prior (&self->link, point);
  rr_viewport_set_point (self, rr_link_current_point (&self->link, point));
  return TRUE;
}


const char *
rr_viewport_get_compare_series (RrViewport *self)
{
  g_return_val_if_fail (RR_IS_VIEWPORT (self), NULL);
  return self->compare ? self->compare->series_uid : NULL;
}
