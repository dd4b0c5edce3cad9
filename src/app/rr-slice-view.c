/* rr-slice-view.c: the first viewer: CPU windowing of axial slices into a
 * texture, mouse wheel and keys to scroll, right-drag for window/level. */
#include "rr-slice-view.h"

struct _RrSliceView
{
  GtkWidget parent_instance;

  RrVolume *volume;
  int slice;
  double center, width;
  GdkTexture *texture;

  double drag_center, drag_width;
};

enum
{
  PROP_0,
  PROP_SLICE,
  PROP_WINDOW_CENTER,
  PROP_WINDOW_WIDTH,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

G_DEFINE_FINAL_TYPE (RrSliceView, rr_slice_view, GTK_TYPE_WIDGET)

GdkTexture *
rr_slice_texture (RrVolume *volume,
                  guint     k,
                  double    center,
                  double    width)
{
  guint nx = volume->dims[0], ny = volume->dims[1];
  gsize n = (gsize) nx * ny;
  guint8 *rgba = g_malloc (n * 4);
  double lo = center - width / 2, scale = 255.0 / MAX (width, 1e-6);
  g_autoptr (GBytes) bytes = NULL;

  k = MIN (k, volume->dims[2] - 1);
  for (gsize p = 0; p < n; p++)
    {
      guint8 r, g, b;
      if (volume->type == RR_VOXEL_RGB8)
        {
          const guint8 *px = (const guint8 *) rr_volume_slice_data (volume, k) + p * 3;
          r = px[0], g = px[1], b = px[2];
        }
      else
        {
          double v = volume->type == RR_VOXEL_INT16
                       ? ((const gint16 *) rr_volume_slice_data (volume, k))[p]
                       : ((const float *) rr_volume_slice_data (volume, k))[p];
          double t = (v - lo) * scale;
          guint8 grey = t <= 0 ? 0 : t >= 255 ? 255 : (guint8) t;
          if (volume->invert)
            grey = 255 - grey;
          r = g = b = grey;
        }
      rgba[p * 4 + 0] = r;
      rgba[p * 4 + 1] = g;
      rgba[p * 4 + 2] = b;
      rgba[p * 4 + 3] = 255;
    }
  bytes = g_bytes_new_take (rgba, n * 4);
  return gdk_memory_texture_new (nx, ny, GDK_MEMORY_R8G8B8A8, bytes, (gsize) nx * 4);
}

static void
update_texture (RrSliceView *self)
{
  g_clear_object (&self->texture);
  if (self->volume)
    self->texture = rr_slice_texture (self->volume, self->slice, self->center, self->width);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
rr_slice_view_snapshot (GtkWidget   *widget,
                        GtkSnapshot *snapshot)
{
  RrSliceView *self = RR_SLICE_VIEW (widget);
  int w = gtk_widget_get_width (widget), h = gtk_widget_get_height (widget);
  double iw, ih, s;

  gtk_snapshot_append_color (snapshot, &(GdkRGBA) { 0, 0, 0, 1 },
                             &GRAPHENE_RECT_INIT (0, 0, w, h));
  if (self->texture == NULL)
    return;
  /* Physical size, so non-square pixels show with the right aspect. */
  iw = self->volume->dims[0] * self->volume->spacing[0];
  ih = self->volume->dims[1] * self->volume->spacing[1];
  s = MIN (w / iw, h / ih);
  gtk_snapshot_append_texture (snapshot, self->texture,
                               &GRAPHENE_RECT_INIT ((w - iw * s) / 2, (h - ih * s) / 2,
                                                    iw * s, ih * s));
}

static gboolean
on_scroll (GtkEventControllerScroll *ctrl,
           double                    dx,
           double                    dy,
           RrSliceView              *self)
{
  if (dy != 0)
    rr_slice_view_scroll (self, dy > 0 ? 1 : -1);
  return TRUE;
}

static void
on_drag_begin (GtkGestureDrag *gesture,
               double          x,
               double          y,
               RrSliceView    *self)
{
  self->drag_center = self->center;
  self->drag_width = self->width;
  gtk_widget_grab_focus (GTK_WIDGET (self));
}

static void
on_drag_update (GtkGestureDrag *gesture,
                double          dx,
                double          dy,
                RrSliceView    *self)
{
  double per_px;

  if (self->volume == NULL || self->volume->type == RR_VOXEL_RGB8)
    return;
  /* One pixel of mouse moves the window by about 1/400 of its width. */
  per_px = MAX (self->drag_width / 400.0, 0.01);
  rr_slice_view_set_window (self, self->drag_center - dy * per_px,
                            MAX (self->drag_width + dx * per_px * 2, 1e-3));
}

static gboolean
on_key (GtkEventControllerKey *ctrl,
        guint                  keyval,
        guint                  keycode,
        GdkModifierType        state,
        RrSliceView           *self)
{
  switch (keyval)
    {
    case GDK_KEY_Up:
    case GDK_KEY_KP_Up:
      rr_slice_view_scroll (self, -1);
      return TRUE;
    case GDK_KEY_Down:
    case GDK_KEY_KP_Down:
      rr_slice_view_scroll (self, 1);
      return TRUE;
    case GDK_KEY_Page_Up:
      rr_slice_view_scroll (self, -10);
      return TRUE;
    case GDK_KEY_Page_Down:
      rr_slice_view_scroll (self, 10);
      return TRUE;
    case GDK_KEY_Home:
      rr_slice_view_set_slice (self, 0);
      return TRUE;
    case GDK_KEY_End:
      rr_slice_view_set_slice (self, G_MAXINT);
      return TRUE;
    default:
      return FALSE;
    }
}

static void
rr_slice_view_get_property (GObject    *object,
                            guint       prop_id,
                            GValue     *value,
                            GParamSpec *pspec)
{
  RrSliceView *self = RR_SLICE_VIEW (object);
  switch (prop_id)
    {
    case PROP_SLICE:
      g_value_set_int (value, self->slice);
      break;
    case PROP_WINDOW_CENTER:
      g_value_set_double (value, self->center);
      break;
    case PROP_WINDOW_WIDTH:
      g_value_set_double (value, self->width);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
rr_slice_view_set_property (GObject      *object,
                            guint         prop_id,
                            const GValue *value,
                            GParamSpec   *pspec)
{
  RrSliceView *self = RR_SLICE_VIEW (object);
  switch (prop_id)
    {
    case PROP_SLICE:
      rr_slice_view_set_slice (self, g_value_get_int (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
rr_slice_view_finalize (GObject *object)
{
  RrSliceView *self = RR_SLICE_VIEW (object);
  g_clear_pointer (&self->volume, rr_volume_unref);
  g_clear_object (&self->texture);
  G_OBJECT_CLASS (rr_slice_view_parent_class)->finalize (object);
}

static void
rr_slice_view_class_init (RrSliceViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->finalize = rr_slice_view_finalize;
  object_class->get_property = rr_slice_view_get_property;
  object_class->set_property = rr_slice_view_set_property;
  widget_class->snapshot = rr_slice_view_snapshot;

  properties[PROP_SLICE] =
    g_param_spec_int ("slice", NULL, NULL, 0, G_MAXINT, 0,
                      G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_WINDOW_CENTER] =
    g_param_spec_double ("window-center", NULL, NULL, -G_MAXDOUBLE, G_MAXDOUBLE, 0,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_WINDOW_WIDTH] =
    g_param_spec_double ("window-width", NULL, NULL, 0, G_MAXDOUBLE, 1,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_IMG);
  gtk_widget_class_set_css_name (widget_class, "rrsliceview");
}

static void
rr_slice_view_init (RrSliceView *self)
{
  GtkEventController *scroll, *key;
  GtkGesture *drag;

  self->width = 400;
  self->center = 40;
  gtk_widget_set_focusable (GTK_WIDGET (self), TRUE);
  gtk_widget_set_hexpand (GTK_WIDGET (self), TRUE);
  gtk_widget_set_vexpand (GTK_WIDGET (self), TRUE);
  scroll = gtk_event_controller_scroll_new (GTK_EVENT_CONTROLLER_SCROLL_VERTICAL |
                                            GTK_EVENT_CONTROLLER_SCROLL_DISCRETE);
  g_signal_connect (scroll, "scroll", G_CALLBACK (on_scroll), self);
  gtk_widget_add_controller (GTK_WIDGET (self), scroll);
  drag = gtk_gesture_drag_new ();
  gtk_gesture_single_set_button (GTK_GESTURE_SINGLE (drag), 0);
  g_signal_connect (drag, "drag-begin", G_CALLBACK (on_drag_begin), self);
  g_signal_connect (drag, "drag-update", G_CALLBACK (on_drag_update), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (drag));
  key = gtk_event_controller_key_new ();
  g_signal_connect (key, "key-pressed", G_CALLBACK (on_key), self);
  gtk_widget_add_controller (GTK_WIDGET (self), key);
}

GtkWidget *
rr_slice_view_new (void)
{
  return g_object_new (RR_TYPE_SLICE_VIEW, NULL);
}

void
rr_slice_view_set_volume (RrSliceView *self,
                          RrVolume    *volume)
{
  g_return_if_fail (RR_IS_SLICE_VIEW (self));
  g_clear_pointer (&self->volume, rr_volume_unref);
  if (volume)
    {
      self->volume = rr_volume_ref (volume);
      self->slice = volume->dims[2] / 2;
      self->center = volume->window_center;
      self->width = MAX (volume->window_width, 1e-3);
      if (volume->type == RR_VOXEL_RGB8)
        self->center = 127.5, self->width = 255;
    }
  update_texture (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SLICE]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_WINDOW_CENTER]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_WINDOW_WIDTH]);
}

RrVolume *
rr_slice_view_get_volume (RrSliceView *self)
{
  return self->volume;
}

void
rr_slice_view_set_slice (RrSliceView *self,
                         int          slice)
{
  int n;
  if (self->volume == NULL)
    return;
  n = (int) self->volume->dims[2];
  slice = CLAMP (slice, 0, n - 1);
  if (slice == self->slice)
    return;
  self->slice = slice;
  update_texture (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SLICE]);
}

int
rr_slice_view_get_slice (RrSliceView *self)
{
  return self->slice;
}

void
rr_slice_view_scroll (RrSliceView *self,
                      int          delta)
{
  rr_slice_view_set_slice (self, self->slice + delta);
}

void
rr_slice_view_set_window (RrSliceView *self,
                          double       center,
                          double       width)
{
  self->center = center;
  self->width = MAX (width, 1e-3);
  update_texture (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_WINDOW_CENTER]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_WINDOW_WIDTH]);
}

void
rr_slice_view_get_window (RrSliceView *self,
                          double      *center,
                          double      *width)
{
  *center = self->center;
  *width = self->width;
}
