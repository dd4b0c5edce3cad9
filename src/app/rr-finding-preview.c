/* rr-finding-preview.c: a finding's shape on its image, drawn at a fixed
 * size beside the finding's line: the whole image fitted, the shape over
 * it as the viewer draws a caliper (yellow on a dark edge). */
#include "rr-finding-preview.h"
#include "rr-viewport-defects.h"

#include <math.h>

/* The picture's longer side, in logical pixels: big enough to find the
 * marked place, small enough for a list of several findings. */
#define PREVIEW_SIZE 240
/* A point's ring, in logical pixels. */
#define POINT_RADIUS 7

struct _RrFindingPreview
{
  GtkWidget parent_instance;
  GdkTexture *texture;
  double aspect;
  gboolean has_shape;
  const char *type;
  double cr[4];
};

G_DEFINE_FINAL_TYPE (RrFindingPreview, rr_finding_preview, GTK_TYPE_WIDGET)

/* The image's size on screen, aspect kept, within PREVIEW_SIZE. */
static void
shown_size (RrFindingPreview *self, double *w, double *h)
{
  double iw = gdk_texture_get_width (self->texture);
  double ih = gdk_texture_get_height (self->texture) * self->aspect;
  double s = PREVIEW_SIZE / MAX (iw, ih);
  *w = MAX (1, round (iw * s));
  *h = MAX (1, round (ih * s));
}

static void
rr_finding_preview_measure (GtkWidget *widget, GtkOrientation orientation, int for_size,
                            int *minimum, int *natural, int *min_baseline, int *nat_baseline)
{
  double w, h;
  shown_size (RR_FINDING_PREVIEW (widget), &w, &h);
  *minimum = *natural = (int) (orientation == GTK_ORIENTATION_HORIZONTAL ? w : h);
}

/* Image pixel (column, row) to the picture's coordinates: a pixel's
 * centre is at its index plus a half. */
static void
to_widget (RrFindingPreview *self, double sx, double sy, double c, double r, double *x, double *y)
{
  double iw = gdk_texture_get_width (self->texture), ih = gdk_texture_get_height (self->texture);
  /* A shape far off the image is drawn at its edge's side, not at
   * coordinates cairo cannot hold. */
  c = CLAMP (c, -iw, 2 * iw);
  r = CLAMP (r, -ih, 2 * ih);
  *x = (c + 0.5) * sx;
  *y = (r + 0.5) * sy;
}

static void
trace_shape (RrFindingPreview *self, cairo_t *cr, double sx, double sy)
{
  double x0, y0, x1, y1;
  to_widget (self, sx, sy, self->cr[0], self->cr[1], &x0, &y0);
  to_widget (self, sx, sy, self->cr[2], self->cr[3], &x1, &y1);
  cairo_new_path (cr);
  if (g_str_equal (self->type, "point"))
    {
      cairo_arc (cr, x0, y0, POINT_RADIUS, 0, 2 * G_PI);
      cairo_move_to (cr, x0 - POINT_RADIUS * 2, y0);
      cairo_line_to (cr, x0 - POINT_RADIUS / 2.0, y0);
      cairo_move_to (cr, x0 + POINT_RADIUS / 2.0, y0);
      cairo_line_to (cr, x0 + POINT_RADIUS * 2, y0);
      cairo_move_to (cr, x0, y0 - POINT_RADIUS * 2);
      cairo_line_to (cr, x0, y0 - POINT_RADIUS / 2.0);
      cairo_move_to (cr, x0, y0 + POINT_RADIUS / 2.0);
      cairo_line_to (cr, x0, y0 + POINT_RADIUS * 2);
    }
  else if (g_str_equal (self->type, "line"))
    {
      cairo_move_to (cr, x0, y0);
      cairo_line_to (cr, x1, y1);
    }
  else
    cairo_rectangle (cr, MIN (x0, x1), MIN (y0, y1), fabs (x1 - x0), fabs (y1 - y0));
}

static void
rr_finding_preview_snapshot (GtkWidget *widget, GtkSnapshot *snapshot)
{
  RrFindingPreview *self = RR_FINDING_PREVIEW (widget);
  double w, h, sx, sy;
  graphene_rect_t bounds;
  cairo_t *cr;

  shown_size (self, &w, &h);
  bounds = GRAPHENE_RECT_INIT (0, 0, (float) w, (float) h);
  gtk_snapshot_append_texture (snapshot, self->texture, &bounds);
  if (!self->has_shape)
    return;
  sx = w / gdk_texture_get_width (self->texture);
  sy = h / gdk_texture_get_height (self->texture);
  cr = gtk_snapshot_append_cairo (snapshot, &bounds);
  cairo_set_line_cap (cr, CAIRO_LINE_CAP_ROUND);
  cairo_set_line_join (cr, CAIRO_LINE_JOIN_ROUND);
  trace_shape (self, cr, sx, sy);
  /* The viewer's caliper colours: readable on any grey. */
  cairo_set_source_rgba (cr, 0, 0, 0, 0.6);
  cairo_set_line_width (cr, 4);
  cairo_stroke (cr);
  trace_shape (self, cr, sx, sy);
  cairo_set_source_rgb (cr, 1.0, 0.8, 0.2);
  cairo_set_line_width (cr, 2);
  cairo_stroke (cr);
  cairo_destroy (cr);
}

static void
rr_finding_preview_dispose (GObject *object)
{
  g_clear_object (&RR_FINDING_PREVIEW (object)->texture);
  G_OBJECT_CLASS (rr_finding_preview_parent_class)->dispose (object);
}

static void
rr_finding_preview_class_init (RrFindingPreviewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  object_class->dispose = rr_finding_preview_dispose;
  widget_class->measure = rr_finding_preview_measure;
  widget_class->snapshot = rr_finding_preview_snapshot;
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void
rr_finding_preview_init (RrFindingPreview *self)
{
  gtk_widget_set_overflow (GTK_WIDGET (self), GTK_OVERFLOW_HIDDEN);
}

GtkWidget *
rr_finding_preview_new (GdkTexture *texture,
                        double      aspect,
                        const char *shape_json,
                        const char *name)
{
  RrFindingPreview *self;

  g_return_val_if_fail (GDK_IS_TEXTURE (texture), NULL);
  self = g_object_new (RR_TYPE_FINDING_PREVIEW, NULL);
  self->texture = g_object_ref (texture);
  self->aspect = isfinite (aspect) && aspect > 0.1 && aspect < 10 ? aspect : 1;
  self->has_shape = rr_viewport_defects_parse_shape (shape_json, &self->type, self->cr);
  gtk_widget_set_halign (GTK_WIDGET (self), GTK_ALIGN_START);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_LABEL, name,
                                  -1);
  return GTK_WIDGET (self);
}
