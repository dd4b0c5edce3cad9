/* rr-viewport-overlay.c: what the viewport draws over the image with
 * cairo: captions, orientation letters, position, scale bar, crosshair
 * lines and the measurement tools; and the image itself when the CPU
 * draws it. */
#include "rr-viewport-private.h"
#include "rr-text-fit.h"

#include <glib/gi18n.h>
#include <math.h>
#include <string.h>

const char *
rr_viewport_kind_name (RrPlaneKind kind)
{
  switch (kind)
    {
    case RR_PLANE_AXIAL:
      return _("Axial");
    case RR_PLANE_CORONAL:
      return _("Coronal");
    default:
      return _("Sagittal");
    }
}

const char *
rr_viewport_slab_name (RrSlabMode mode)
{
  switch (mode)
    {
    case RR_SLAB_MIP:
      return _("MIP");
    case RR_SLAB_MINIP:
      return _("MinIP");
    case RR_SLAB_MEAN:
      return _("Mean");
    default:
      return _("Thin");
    }
}

void
rr_viewport_draw_text (cairo_t *cr, double x, double y, const char *text, double align)
{
  cairo_text_extents_t ext;
  cairo_text_extents (cr, text, &ext);
  x -= ext.x_advance * align;
  /* Light glyphs in a dark halo all round, as OHIF and Horos draw their
   * labels: readable on any pixel value. A drop shadow (dark on one side
   * only) left light text on a bright lesion unreadable. */
  cairo_save (cr);
  cairo_new_path (cr);
  cairo_move_to (cr, x, y);
  cairo_text_path (cr, text);
  cairo_set_line_join (cr, CAIRO_LINE_JOIN_ROUND);
  cairo_set_line_width (cr, 3);
  cairo_set_source_rgba (cr, 0, 0, 0, 0.85);
  cairo_stroke_preserve (cr);
  cairo_set_source_rgb (cr, 0.92, 0.92, 0.92);
  cairo_fill (cr);
  cairo_restore (cr);
}

/* The caption of pane @i: what it shows. Drawn in the pane and read out
 * in the viewer's accessible description, so both say the same. It is
 * built from the plane, the series description and the fused modality:
 * RrVolume carries no patient name, ID, birth date or study date. */
char *
rr_viewport_pane_title (RrViewport *self, guint i)
{
  const Pane *p = &self->panes[i];
  GString *s = g_string_new (rr_viewport_kind_name (p->kind));
  RrVolume *f = p->compare ? NULL : self->fusion;
  RrVolume *v = rr_viewport_pane_volume (self, i);

  if (self->slab[i] != RR_SLAB_NONE)
    g_string_append_printf (s, " %s %.0f mm", rr_viewport_slab_name (self->slab[i]), self->slab_mm[i]);
  if (self->compare && self->layout == RR_LAYOUT_SIDE)
    {
      const char *label = p->compare ? self->compare_label : self->current_label;
      if (label)
        g_string_append_printf (s, "  %s", label);
    }
  if (v && v->description && *v->description)
    g_string_append_printf (s, "  %s", v->description);
  if (f && f->suv_state == RR_SUV_AVAILABLE)
    g_string_append_printf (s, _("  + %s, SUVbw %.1f–%.1f"), f->modality ? f->modality : "",
                            self->fusion_lo * f->suv_factor, self->fusion_hi * f->suv_factor);
  else if (f && f->suv_state == RR_SUV_UNAVAILABLE)
    g_string_append_printf (s, _("  + %s (SUV unavailable: %s)"), f->modality ? f->modality : "",
                            f->suv_reason ? f->suv_reason : "");
  else if (f)
    g_string_append_printf (s, "  + %s", f->modality ? f->modality : "");
  return g_string_free (s, FALSE);
}

char *
rr_viewport_slice_text (RrViewport *self,
                        guint       i)
{
  RrVolume *v = rr_viewport_pane_volume (self, i);
  RrVec3 point = rr_viewport_pane_point (self, i);
  RrPlane pl;
  double a, b, k;

  if (v == NULL || !rr_viewport_pane_plane (self, i, 1, &pl) ||
      fabs (rr_vec3_dot (rr_plane_normal (&pl), v->normal)) <= 0.999)
    return NULL;
  rr_volume_patient_to_voxel (v, point, &a, &b, &k);
  return g_strdup_printf (_("Im %d/%u"), (int) floor (k + 0.5) + 1, v->dims[2]);
}

void
rr_viewport_clear_cpu_images (RrViewport *self)
{
  for (guint i = 0; i < MAX_PANES; i++)
    {
      CpuImage *c = &self->cpu_image[i];
      g_clear_pointer (&c->surface, cairo_surface_destroy);
      g_clear_pointer (&c->volume, rr_volume_unref);
      g_clear_pointer (&c->fusion, rr_volume_unref);
    }
}

static gboolean
same_plane (const RrPlane *a, const RrPlane *b)
{
  return memcmp (&a->center, &b->center, sizeof a->center) == 0 &&
         memcmp (&a->right, &b->right, sizeof a->right) == 0 &&
         memcmp (&a->down, &b->down, sizeof a->down) == 0 &&
         a->mm_per_pixel == b->mm_per_pixel && a->width == b->width &&
         a->height == b->height && a->slab_mode == b->slab_mode && a->slab_mm == b->slab_mm;
}

/* The plane the CPU samples while the GPU's copy is made: the pane's,
 * with pixels no finer than the volume's finest voxel spacing, so that a
 * 256x256 CT in a 1000-pixel pane is resliced at about 256x256 (a
 * sixteenth of the samples) and scaled up by cairo. Same centre, same
 * axes: a point lies where it lies in the pane's own plane. @factor: the
 * pane's pixels per sample (1: the pane's own plane). */
static RrPlane
coarse_plane (const RrPlane *pl, const RrVolume *v, double *factor)
{
  RrPlane out = *pl;
  double finest = MIN (MIN (v->spacing[0], v->spacing[1]), v->spacing[2]);
  double f = finest / pl->mm_per_pixel;

  if (!(f > 1))
    {
      *factor = 1;
      return out;
    }
  out.width = (guint) MAX (1, ceil (pl->width / f));
  out.height = (guint) MAX (1, ceil (pl->height / f));
  out.mm_per_pixel = pl->mm_per_pixel * f;
  *factor = f;
  return out;
}

/* The scratch buffers of @n samples the CPU's images are made in: kept
 * from frame to frame, so that scrolling does not map, fault in and unmap
 * a few megabytes each step. */
static void
cpu_scratch (RrViewport *self, gsize n)
{
  if (self->cpu_n >= n)
    return;
  g_free (self->cpu_values);
  g_free (self->cpu_grey);
  g_free (self->cpu_fused);
  self->cpu_values = g_new (float, n);
  self->cpu_grey = g_new (guint8, n);
  self->cpu_fused = g_new (guint8, n);
  self->cpu_n = n;
}

/* Pixels of @surface from the grey levels in @grey through @map, and,
 * given @fused (the fused volume's grey levels, with @fused_values telling
 * where it has data), hot iron blended over them at @opacity, as the GL
 * reslicer blends its second draw (outside the fused volume the image
 * under it stays; an opaque layer is black there). */
static void
fill_pixels (cairo_surface_t *surface, const guint8 *grey, RrColormap map,
             const guint8 *fused, const float *fused_values, double opacity)
{
  guint8 lut[256 * 3], hot[256 * 3];
  guint8 *data = cairo_image_surface_get_data (surface);
  int stride = cairo_image_surface_get_stride (surface);
  int w = cairo_image_surface_get_width (surface), h = cairo_image_surface_get_height (surface);
  guint a = (guint) lround ((opacity > 0 && opacity < 1 ? opacity : 1) * 256);

  rr_colormap_table (map, lut);
  if (fused != NULL)
    rr_colormap_table (RR_COLORMAP_HOT_IRON, hot);
  cairo_surface_flush (surface);
  for (int y = 0; y < h; y++)
    {
      guint32 *row = (guint32 *) (data + (gsize) y * stride);
      const guint8 *g = grey + (gsize) y * w;
      for (int x = 0; x < w; x++)
        {
          const guint8 *c = lut + g[x] * 3;
          guint r = c[0], gr = c[1], b = c[2];
          if (fused != NULL)
            {
              gsize k = (gsize) y * w + x;
              if (fused_values[k] != RR_RESLICE_OUTSIDE)
                {
                  const guint8 *o = hot + fused[k] * 3;
                  r = (o[0] * a + r * (256 - a) + 128) >> 8;
                  gr = (o[1] * a + gr * (256 - a) + 128) >> 8;
                  b = (o[2] * a + b * (256 - a) + 128) >> 8;
                }
              else if (a == 256)
                r = gr = b = 0;
            }
          row[x] = 0xff000000u | (r << 16) | (gr << 8) | b;
        }
    }
  cairo_surface_mark_dirty (surface);
}

static gboolean
refine (gpointer data)
{
  RrViewport *self = data;
  self->refine_source = 0;
  gtk_widget_queue_draw (GTK_WIDGET (self));
  return G_SOURCE_REMOVE;
}

/* Whether pane @i's first image of its volume (a task opening, a series
 * chosen, a new pane of a layout) is better made coarse, and the final one
 * in a frame of its own: the first comes in a frame that draws the rest of
 * the window as well (the whole window, when a task opens), where the
 * final image's 10-20 ms of the main thread's CPU made the longest stall
 * longer. Only where the coarse image is at most half the samples. The
 * final image follows once the frame is drawn and pending input handled
 * (an idle at the default idle priority: after GTK's redraw). */
static gboolean
coarse_first (RrViewport *self, guint i, RrVolume *v)
{
  RrPlane pl;
  double f = 1;

  if (self->cpu_image[i].volume == v || !rr_viewport_pane_plane (self, i, 1, &pl))
    return FALSE;
  coarse_plane (&pl, v, &f);
  if (f < 1.5)
    return FALSE;
  if (self->refine_source == 0)
    self->refine_source = g_idle_add (refine, self);
  return TRUE;
}

/* The image of pane @i drawn by the CPU: made again only when the volume,
 * the plane (point, zoom, pan, turn, size, slab), the window, the
 * inversion, the colour map or the fused volume changed; otherwise the
 * one made for an earlier frame. While the GPU's copy is made (@coarse),
 * and for a pane's first image of a volume (coarse_first), it is sampled
 * at the volume's resolution on this thread alone; otherwise (no GPU, or a software one) it is the final image, sampled at
 * the pane's device pixels, with what the GL reslicer draws: the colour
 * map, and PET in hot iron over CT. */
static void
draw_cpu_pane (RrViewport *self, cairo_t *cr, guint i, gboolean coarse)
{
  RrPlane pl, sampled;
  const Pane *p = &self->panes[i];
  CpuImage *c = &self->cpu_image[i];
  RrVolume *v = rr_viewport_pane_volume (self, i);
  RrVolume *fusion;
  int scale;
  double center, width, f = 1;
  double fusion_lo = self->fusion_lo, fusion_hi = self->fusion_hi;
  gboolean invert;

  if (!coarse && coarse_first (self, i, v))
    coarse = TRUE;
  fusion = coarse || p->compare ? NULL : self->fusion;
  scale = coarse ? 1 : gtk_widget_get_scale_factor (GTK_WIDGET (self));
  if (!rr_viewport_pane_plane (self, i, scale, &pl))
    return;
  rr_viewport_pane_window (self, i, &center, &width);
  invert = self->invert ^ v->invert;
  /* Colour images as the GL reslicer shows them: their luminance, whole. */
  if (v->type == RR_VOXEL_RGB8)
    center = 127.5, width = 256, invert = FALSE;
  sampled = coarse ? coarse_plane (&pl, v, &f) : pl;
  if (c->surface == NULL || c->volume != v || !same_plane (&c->plane, &pl) ||
      c->center != center || c->width != width || c->invert != invert ||
      c->colormap != self->colormap || c->scale != scale || c->coarse != coarse ||
      c->fusion != fusion ||
      (fusion != NULL && (c->fusion_lo != fusion_lo || c->fusion_hi != fusion_hi ||
                          c->fusion_opacity != self->fusion_opacity)))
    {
      gsize n = (gsize) sampled.width * sampled.height;

      cpu_scratch (self, n);
      g_clear_pointer (&c->surface, cairo_surface_destroy);
      g_clear_pointer (&c->volume, rr_volume_unref);
      g_clear_pointer (&c->fusion, rr_volume_unref);
      c->surface = cairo_image_surface_create (CAIRO_FORMAT_RGB24, sampled.width, sampled.height);
      /* On this thread alone (the bench's 728x761 pane: 3 to 8 ms):
       * threads started and joined each time competed with the decoders
       * and whatever else the machine ran, and the main thread waited in
       * the join for one the scheduler had put aside (bench/stall.py: a
       * 187 ms stall, 58 ms of it the main thread's CPU). */
      rr_reslice (v, &sampled, RR_RESLICE_OUTSIDE, 1, self->cpu_values);
      rr_window_to_grey (self->cpu_values, n, center, width, invert, self->cpu_grey);
      if (fusion != NULL)
        {
          /* The fused volume's values say where it has data; its grey
           * levels go through hot iron. Resampled into the same scratch:
           * the base's values are in cpu_grey by now. */
          rr_reslice (fusion, &sampled, RR_RESLICE_OUTSIDE, 1, self->cpu_values);
          rr_window_to_grey (self->cpu_values, n, (fusion_lo + fusion_hi) / 2,
                             MAX (fusion_hi - fusion_lo, 1e-6), FALSE, self->cpu_fused);
        }
      fill_pixels (c->surface, self->cpu_grey, self->colormap,
                   fusion != NULL ? self->cpu_fused : NULL,
                   fusion != NULL ? self->cpu_values : NULL, self->fusion_opacity);
      cairo_surface_set_device_scale (c->surface, scale, scale);
      c->volume = rr_volume_ref (v);
      c->fusion = fusion ? rr_volume_ref (fusion) : NULL;
      c->plane = pl;
      c->center = center, c->width = width, c->invert = invert, c->coarse = coarse;
      c->colormap = self->colormap, c->scale = scale;
      c->fusion_lo = fusion_lo, c->fusion_hi = fusion_hi;
      c->fusion_opacity = self->fusion_opacity;
    }
  if (f == 1)
    {
      cairo_save (cr);
      cairo_rectangle (cr, p->x, p->y, p->w, p->h);
      cairo_clip (cr);
      cairo_set_source_surface (cr, c->surface, p->x, p->y);
      cairo_paint (cr);
      cairo_restore (cr);
      return;
    }
  /* Sample k's centre is (k + 0.5 - n / 2) samples from the plane's
   * centre (rr_plane_pixel_to_patient), as pixel j's is (j + 0.5 - N / 2)
   * pixels: scaled by f about the centre, the two grids agree. Padded at
   * the edges (not faded into transparency), clipped to the pane. */
  {
    cairo_pattern_t *pattern;
    cairo_save (cr);
    cairo_rectangle (cr, p->x, p->y, pl.width, pl.height);
    cairo_clip (cr);
    cairo_translate (cr, p->x + (pl.width - f * sampled.width) / 2,
                     p->y + (pl.height - f * sampled.height) / 2);
    cairo_scale (cr, f, f);
    cairo_set_source_surface (cr, c->surface, 0, 0);
    pattern = cairo_get_source (cr);
    cairo_pattern_set_filter (pattern, CAIRO_FILTER_BILINEAR);
    cairo_pattern_set_extend (pattern, CAIRO_EXTEND_PAD);
    cairo_paint (cr);
    cairo_restore (cr);
  }
}

void
rr_viewport_draw_overlay (RrViewport *self,
              cairo_t    *cr,
              int         width,
              int         height)
{

  gboolean final = self->cpu_only || self->fallback != NULL;
  gboolean cpu = final || self->preparing || self->uploading;

  rr_viewport_layout_panes (self);
  /* The GPU draws from now on: the CPU's images (and their volumes) go. */
  if (!cpu || self->volume == NULL)
    rr_viewport_clear_cpu_images (self);
  if (self->volume == NULL)
    return;
  cairo_select_font_face (cr, "monospace", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size (cr, 12);
  for (guint i = 0; i < self->n_panes; i++)
    {
      const Pane *p = &self->panes[i];
      RrPlane pl;
      g_autofree char *l = NULL, *r = NULL, *t = NULL, *b = NULL, *title = NULL, *pos = NULL;
      double cx, cy, bar;
      RrVec3 rel;

      if (cpu)
        draw_cpu_pane (self, cr, i, !final);
      if (!rr_viewport_pane_plane (self, i, 1, &pl))
        continue;
      cairo_save (cr);
      cairo_rectangle (cr, p->x, p->y, p->w, p->h);
      cairo_clip (cr);
      /* Crosshair through the point, in the other planes' colours. */
      rel = rr_vec3_sub (rr_viewport_pane_point (self, i), pl.center);
      cx = p->x + p->w / 2 + rr_vec3_dot (rel, pl.right) / pl.mm_per_pixel;
      cy = p->y + p->h / 2 + rr_vec3_dot (rel, pl.down) / pl.mm_per_pixel;
      if (self->n_panes > 1 && self->compare == NULL)
        {
          /* Where each other plane cuts this one: a line through the
           * point along the cross product of the two normals. */
          RrVec3 ni = rr_plane_normal (&pl);
          cairo_set_line_width (cr, 1);
          cairo_set_source_rgba (cr, 0.3, 0.75, 1.0, 0.7);
          for (guint j = 0; j < self->n_panes; j++)
            {
              RrPlane other;
              RrVec3 d;
              double dx, dy, len;
              if (j == i || !rr_viewport_pane_plane (self, j, 1, &other))
                continue;
              d = rr_vec3_cross (ni, rr_plane_normal (&other));
              dx = rr_vec3_dot (d, pl.right);
              dy = rr_vec3_dot (d, pl.down);
              len = hypot (dx, dy);
              if (len < 1e-6)
                continue;
              dx /= len, dy /= len;
              cairo_move_to (cr, cx - dx * (p->w + p->h), cy - dy * (p->w + p->h));
              cairo_line_to (cr, cx + dx * (p->w + p->h), cy + dy * (p->w + p->h));
            }
          cairo_stroke (cr);
        }
      rr_viewport_tools_draw (self, cr, i);
      /* Orientation letters on the four edges. */
      l = rr_orientation_label (rr_vec3_scale (pl.right, -1));
      r = rr_orientation_label (pl.right);
      t = rr_orientation_label (rr_vec3_scale (pl.down, -1));
      b = rr_orientation_label (pl.down);
      rr_viewport_draw_text (cr, p->x + 8, p->y + p->h / 2 + 5, l, 0);
      rr_viewport_draw_text (cr, p->x + p->w - 8, p->y + p->h / 2 + 5, r, 1);
      rr_viewport_draw_text (cr, p->x + p->w / 2, p->y + 30, t, 0.5);
      rr_viewport_draw_text (cr, p->x + p->w / 2, p->y + p->h - 30, b, 0.5);
      /* Every caption fits its pane, cut with an ellipsis rather than
       * clipped mid-glyph at the edge (narrow panes: 2x2, comparison). */
      title = rr_viewport_pane_title (self, i);
      {
        g_autofree char *fit = rr_text_fit (cr, title, p->w - 16);
        rr_viewport_draw_text (cr, p->x + 8, p->y + 16, fit, 0);
      }
      /* Scale bar: 5 cm, or 1 cm when zoomed in. */
      {
        double mm = 50 / pl.mm_per_pixel > p->w / 3 ? 10 : 50;
        g_autofree char *label = g_strdup_printf ("%.0f cm", mm / 10);
        bar = mm / pl.mm_per_pixel;
        cairo_set_source_rgb (cr, 0.92, 0.92, 0.92);
        cairo_set_line_width (cr, 2);
        cairo_move_to (cr, p->x + p->w - 12 - bar, p->y + p->h - 14);
        cairo_line_to (cr, p->x + p->w - 12, p->y + p->h - 14);
        cairo_stroke (cr);
        rr_viewport_draw_text (cr, p->x + p->w - 12, p->y + p->h - 20, label, 1);
      }
      {
        g_autofree char *wl = rr_viewport_window_text (self, i);
        g_autofree char *fit = NULL;
        double loc = rr_vec3_dot (rr_viewport_pane_point (self, i), rr_plane_normal (&pl));
        /* Not "-0.0 mm": a location that rounds to zero is zero. */
        pos = g_strdup_printf (_("Loc %.1f mm   %s"), fabs (loc) < 0.05 ? 0.0 : loc, wl);
        /* Left of the scale bar, which shares its line. */
        fit = rr_text_fit (cr, pos, p->w - 8 - 12 - bar - 8);
        rr_viewport_draw_text (cr, p->x + 8, p->y + p->h - 10, fit, 0);
      }
      /* The slice number, as radiologists read it off a PACS. */
      {
        g_autofree char *im = rr_viewport_slice_text (self, i);
        g_autofree char *fit = im ? rr_text_fit (cr, im, p->w - 16) : NULL;
        if (fit)
          rr_viewport_draw_text (cr, p->x + 8, p->y + p->h - 26, fit, 0);
      }
      /* The prior's pane says how it follows the current one, above its
       * slice number, clear of the orientation letters. */
      if (p->compare && rr_viewport_link_text (self))
        {
          g_autofree char *fit = rr_text_fit (cr, rr_viewport_link_text (self), p->w - 16);
          rr_viewport_draw_text (cr, p->x + 8, p->y + p->h - 42, fit, 0);
        }
      if (i == self->active && self->n_panes > 1)
        {
          cairo_set_source_rgba (cr, 0.3, 0.75, 1.0, 0.9);
          cairo_set_line_width (cr, 2);
          cairo_rectangle (cr, p->x + 1, p->y + 1, p->w - 2, p->h - 2);
          cairo_stroke (cr);
        }
      cairo_restore (cr);
      if (i + 1 < self->n_panes)
        {
          cairo_set_source_rgb (cr, 0.2, 0.2, 0.2);
          cairo_rectangle (cr, p->x + p->w - 1, p->y, 1, p->h);
          cairo_fill (cr);
        }
    }
  if (self->fallback || self->notice)
    {
      g_autofree char *note = self->fallback ? g_strdup_printf (_("Drawn on the CPU: %s"),
                                                                self->fallback)
                                             : g_strdup (self->notice);
      g_autofree char *fit = NULL;
      cairo_set_font_size (cr, 11);
      fit = rr_text_fit (cr, note, width - 16);
      rr_viewport_draw_text (cr, width / 2.0, height - 52, fit, 0.5);
    }
}
