/* rr-viewport-gl.c: the viewport's GL side: its context realized while
 * the window is idle, the volume's texture prepared on a worker and
 * uploaded between frames, and the panes' images rendered into the
 * GtkGLArea (the overlays are drawn above them, rr-viewport-overlay.c). */
#include "rr-viewport-private.h"
#include "rr-gl-loader.h"
#include "rr-gl-reslicer.h"
#include "rr-watchdog.h"

#include <epoxy/gl.h>
#include <glib/gi18n.h>

static void
on_realize (GtkGLArea  *area,
            RrViewport *self)
{
  g_autoptr (GError) error = NULL;

  if (self->cpu_only)
    return;
  gtk_gl_area_make_current (area);
  if (gtk_gl_area_get_error (area) != NULL)
    {
      self->fallback = g_strdup (gtk_gl_area_get_error (area)->message);
      return;
    }
  self->max_3d = rr_gl_max_3d_size ();
  self->reslicer = rr_gl_reslicer_new (&error);
  if (self->reslicer == NULL)
    {
      gtk_gl_area_set_error (area, error);
      self->fallback = g_strdup (error->message);
      return;
    }
  rr_gl_reslicer_warm (self->reslicer);
}

/* After the GL area's realize, each in an idle of its own while the
 * window is idle: the context for the worker that makes the volumes'
 * textures (5-40 ms; without it the main thread makes them), then the
 * overlay's font, whose face FreeType opens at its first use (an mmap and
 * a parse, 10-50 ms). */
static gboolean
warm_more (gpointer data)
{
  RrViewport *self = data;

  if (self->warm_step++ == 0)
    {
      g_autoptr (GError) error = NULL;
      if (!gtk_widget_get_realized (GTK_WIDGET (self)) || self->reslicer == NULL ||
          self->loader != NULL)
        return G_SOURCE_CONTINUE;
      rr_watchdog_note ("the viewport's context for a worker");
      self->loader = rr_gl_loader_new (gtk_widget_get_display (GTK_WIDGET (self)), &error);
      rr_watchdog_note (NULL);
      if (self->loader == NULL)
        g_debug ("GPU volumes are made on the main thread: %s", error->message);
      return G_SOURCE_CONTINUE;
    }
  {
    cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, 64, 16);
    cairo_t *cr = cairo_create (surface);
    rr_watchdog_note ("the viewport's warm-up of its font");
    cairo_select_font_face (cr, "monospace", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size (cr, 12);
    rr_viewport_draw_text (cr, 0, 12, "Im 0123456789/ Loc mm W L", 0);
    rr_watchdog_note (NULL);
    cairo_destroy (cr);
    cairo_surface_destroy (surface);
  }
  self->warm_source = 0;
  return G_SOURCE_REMOVE;
}

/* The GL area is realized (its context made, the program linked and drawn
 * once: rr_gl_reslicer_warm) while the window is idle after it appears,
 * not when the viewport is first shown: a task's first image then costs a
 * frame like any other. The viewport is realized only with its window:
 * unmapped (another page shown), it draws nothing. */
static gboolean
realize_early (gpointer data)
{
  RrViewport *self = data;
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));

  self->realize_source = 0;
  if (root != NULL && gtk_widget_get_mapped (GTK_WIDGET (root)) &&
      !gtk_widget_get_realized (GTK_WIDGET (self)))
    {
      rr_watchdog_note ("the viewport's GL context, program and warm-up draw");
      gtk_widget_realize (GTK_WIDGET (self));
      rr_watchdog_note (NULL);
      if (self->warm_source == 0)
        {
          self->warm_step = 0;
          self->warm_source = g_idle_add_full (G_PRIORITY_LOW, warm_more, self, NULL);
        }
    }
  return G_SOURCE_REMOVE;
}

static void
warmed_up (GObject      *source,
           GAsyncResult *result,
           gpointer      data)
{
  RrViewport *self = RR_VIEWPORT (source);

  rr_gl_warm_up_finish (result);
  self->warming_up = FALSE;
  if (self->realize_source == 0 && !gtk_widget_get_realized (GTK_WIDGET (self)) &&
      gtk_widget_get_root (GTK_WIDGET (self)) != NULL)
    self->realize_source = g_idle_add_full (G_PRIORITY_LOW, realize_early, self, NULL);
}

/* Once the driver's first compile and draws are done on a worker
 * (rr_gl_warm_up_async): made here, they held the window 190 to 420 ms. */
static void
realize_soon (RrViewport *self)
{
  /* Drawn on the CPU: no context, no program; only the font to open. */
  if (self->cpu_only)
    {
      if (self->warm_source == 0 && self->warm_step == 0)
        {
          self->warm_step = 1;
          self->warm_source = g_idle_add_full (G_PRIORITY_LOW, warm_more, self, NULL);
        }
      return;
    }
  if (self->realize_source != 0 || self->warming_up ||
      gtk_widget_get_realized (GTK_WIDGET (self)))
    return;
  self->warming_up = TRUE;
  rr_watchdog_note ("the GL warm-up's context");
  rr_gl_warm_up_async (gtk_widget_get_display (GTK_WIDGET (self)), self, warmed_up, NULL);
  rr_watchdog_note (NULL);
}

static void
on_root (RrViewport *self)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  if (root == NULL)
    return;
  g_signal_connect_object (root, "map", G_CALLBACK (realize_soon), self,
                           G_CONNECT_SWAPPED | G_CONNECT_AFTER);
  if (gtk_widget_get_mapped (GTK_WIDGET (root)))
    realize_soon (self);
}

static void
on_unrealize (GtkGLArea  *area,
              RrViewport *self)
{
  /* A texture being made is deleted when it comes (prepare_done). */
  if (self->preparing)
    g_cancellable_cancel (self->preparing);
  g_clear_object (&self->preparing);
  g_clear_pointer (&self->loader, rr_gl_loader_unref);
  gtk_gl_area_make_current (area);
  if (gtk_gl_area_get_error (area) == NULL)
    {
      g_clear_pointer (&self->glv, rr_gl_volume_free);
      g_clear_pointer (&self->fusion_glv, rr_gl_volume_free);
      g_clear_pointer (&self->compare_glv, rr_gl_volume_free);
      g_clear_pointer (&self->reslicer, rr_gl_reslicer_free);
    }
  else
    {
      /* No context to delete in: the objects died with it. */
      self->glv = NULL;
      self->fusion_glv = NULL;
      self->compare_glv = NULL;
      self->reslicer = NULL;
    }
}

/* The GPU's copy is ready to upload: its texture made on the loader's
 * worker (and the volume down-sampled first when it is too large). */
static void
prepare_done (GObject      *source,
              GAsyncResult *result,
              gpointer      data)
{
  RrViewport *self = RR_VIEWPORT (source);
  g_autoptr (GError) error = NULL;
  RrGlPrepared *p = rr_gl_prepare_finish (result, &error);

  if (g_cancellable_is_cancelled (g_task_get_cancellable (G_TASK (result))))
    {
      /* Another volume came meanwhile, or the area was unrealized. */
      if (p != NULL && p->glv != NULL && gtk_widget_get_realized (GTK_WIDGET (self)) &&
          gtk_gl_area_get_error (GTK_GL_AREA (self)) == NULL)
        {
          gtk_gl_area_make_current (GTK_GL_AREA (self));
          g_clear_pointer (&p->glv, rr_gl_volume_free);
        }
      rr_gl_prepared_free (p);
      return;
    }
  g_clear_object (&self->preparing);
  if (p == NULL)
    self->fallback = g_strdup (error->message);
  else
    {
      if (p->factor[0] * p->factor[1] * p->factor[2] > 1)
        {
          g_free (self->notice);
          self->notice = g_strdup_printf (_("Shown down-sampled %u×%u×%u: the volume is "
                                            "larger than the GPU holds"),
                                          p->factor[0], p->factor[1], p->factor[2]);
        }
      /* Without the loader's texture the main thread makes it. */
      if (p->glv != NULL)
        self->glv = g_steal_pointer (&p->glv);
      else
        self->prepared = rr_volume_ref (p->volume);
      rr_gl_prepared_free (p);
    }
  rr_viewport_redraw (self);
}

/* The down-sampled copy (box averages) and the texture are made on a
 * worker; the CPU draws until they are ready. */
static void
start_prepare (RrViewport *self, const guint f[3])
{
  self->preparing = g_cancellable_new ();
  rr_gl_prepare_async (self, self->loader, self->volume, f, self->preparing, prepare_done, NULL);
  if (f[0] * f[1] * f[2] > 1)
    {
      g_free (self->notice);
      self->notice = g_strdup (_("Preparing a down-sampled copy for the GPU…"));
    }
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

/* A few more slices of the GPU's copy, between frames: asking for a frame
 * to upload in had the whole window drawn again each time (hundreds of ms
 * a frame on a software renderer), for an image that had not changed. */
static gboolean
upload_more (gpointer data)
{
  RrViewport *self = data;

  gtk_gl_area_make_current (GTK_GL_AREA (self));
  if (self->glv != NULL && gtk_gl_area_get_error (GTK_GL_AREA (self)) == NULL &&
      !rr_gl_volume_upload (self->glv, 8000))
    return G_SOURCE_CONTINUE;
  self->upload_source = 0;
  /* Drawn by the GPU from now on (or, without its copy, as on_render
   * decides). */
  gtk_gl_area_queue_render (GTK_GL_AREA (self));
  gtk_widget_queue_draw (GTK_WIDGET (self));
  return G_SOURCE_REMOVE;
}

static gboolean
on_render (GtkGLArea    *area,
           GdkGLContext *context,
           RrViewport   *self)
{
  int scale = gtk_widget_get_scale_factor (GTK_WIDGET (self));
  int fb_h = gtk_widget_get_height (GTK_WIDGET (self)) * scale;

  glClearColor (0, 0, 0, 1);
  glClear (GL_COLOR_BUFFER_BIT);
  if (self->volume == NULL || self->reslicer == NULL || self->fallback != NULL)
    return TRUE;
  if (self->glv == NULL)
    {
      g_autoptr (GError) error = NULL;
      guint f[3];
      const char *env = g_getenv ("READROOM_GPU_BUDGET_MB");
      gsize budget = (env ? (gsize) g_ascii_strtoull (env, NULL, 10) : 2048) << 20;

      if (self->prepared)
        {
          /* The down-sampled copy is ready. */
          self->glv = rr_gl_volume_new_deferred (self->prepared, &error);
          g_clear_pointer (&self->prepared, rr_volume_unref);
        }
      else if (self->preparing)
        return TRUE; /* the overlay draws on the CPU meanwhile */
      else
        {
          rr_gl_fit_factors (self->volume, self->max_3d, budget, f);
          if (f[0] * f[1] * f[2] > 1 || self->loader != NULL)
            {
              start_prepare (self, f);
              return TRUE;
            }
          self->glv = rr_gl_volume_new_deferred (self->volume, &error);
        }
      if (self->glv == NULL)
        {
          /* Unevenly spaced, or refused by the driver: the CPU draws. */
          self->fallback = g_strdup (error->message);
          gtk_widget_queue_draw (GTK_WIDGET (self));
          return TRUE;
        }
    }
  /* Some slices now (the CPU draws meanwhile), the rest from an idle. */
  self->uploading = !rr_gl_volume_upload (self->glv, 8000);
  if (self->uploading)
    {
      if (self->upload_source == 0)
        self->upload_source = g_idle_add (upload_more, self);
      return TRUE;
    }
  for (guint i = 0; i < self->n_panes; i++)
    {
      RrPlane pl;
      RrGlLook look = { self->center, self->width, self->invert ^ self->volume->invert,
                        self->colormap, 1 };
      const Pane *p = &self->panes[i];
      rr_viewport_pane_window (self, i, &look.center, &look.width);
      if (self->volume->type == RR_VOXEL_RGB8)
        look.center = 127.5, look.width = 256, look.invert = FALSE;
      RrGlVolume *glv = self->glv;
      if (!rr_viewport_pane_plane (self, i, scale, &pl))
        continue;
      if (p->compare)
        {
          if (self->compare_glv == NULL)
            {
              guint f[3];
              g_autoptr (GError) error = NULL;
              self->compare_glv = rr_gl_volume_new_within (self->compare, (gsize) 1 << 30, f,
                                                           &error);
              if (self->compare_glv == NULL)
                {
                  g_free (self->notice);
                  self->notice = g_strdup_printf (_("The comparison is not shown: %s"),
                                                  error->message);
                  gtk_widget_queue_draw (GTK_WIDGET (self));
                  continue;
                }
            }
          glv = self->compare_glv;
          look.invert = self->invert ^ self->compare->invert;
        }
      /* GL's origin is the bottom left. */
      rr_gl_reslicer_draw (self->reslicer, glv, &pl, &look, (int) (p->x * scale),
                           fb_h - (int) (p->y * scale) - (int) pl.height);
      if (self->fusion != NULL && self->fusion_glv == NULL)
        {
          guint f[3];
          g_autoptr (GError) error = NULL;
          self->fusion_glv = rr_gl_volume_new_within (self->fusion, (gsize) 1 << 30, f, &error);
          if (self->fusion_glv == NULL)
            {
              g_free (self->notice);
              self->notice = g_strdup_printf (_("Fusion is not shown: %s"), error->message);
              g_clear_pointer (&self->fusion, rr_volume_unref);
              gtk_widget_queue_draw (GTK_WIDGET (self));
            }
        }
      if (self->fusion_glv != NULL && !p->compare)
        {
          RrGlLook over = { (self->fusion_lo + self->fusion_hi) / 2,
                            MAX (self->fusion_hi - self->fusion_lo, 1e-6), FALSE,
                            RR_COLORMAP_HOT_IRON, self->fusion_opacity };
          rr_gl_reslicer_draw (self->reslicer, self->fusion_glv, &pl, &over, (int) (p->x * scale),
                               fb_h - (int) (p->y * scale) - (int) pl.height);
        }
    }
  return TRUE;
}

void
rr_viewport_gl_init (RrViewport *self)
{
  /* After GtkGLArea's own realize (the context exists), before its
   * unrealize (it still does). */
  g_signal_connect (self, "realize", G_CALLBACK (on_realize), self);
  g_signal_connect (self, "unrealize", G_CALLBACK (on_unrealize), self);
  g_signal_connect (self, "render", G_CALLBACK (on_render), self);
  g_signal_connect (self, "notify::root", G_CALLBACK (on_root), NULL);
}
