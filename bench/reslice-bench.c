/* reslice-bench.c: oblique 512x512 reslices of a 512^3 int16 volume: the
 * CPU reslicer (rr_reslice, its fast path) on all cores, and the GL
 * reslicer (offscreen EGL, glFinish per frame), printed with their ratio. */
#include "rr-gl-reslicer.h"

#include "rr-gl-offscreen.h"
#include <epoxy/gl.h>

#define N 512

static RrPlane
oblique (int frame)
{
  RrPlane pl;
  double a = frame * 0.05;
  rr_plane_init_oblique (&pl, rr_vec3 (cos (a), sin (a), 0.7), rr_vec3 (0, 0.3, 1),
                         rr_vec3 (0, 0, 0), 0.9, N, N);
  return pl;
}

int
main (int argc, char **argv)
{
  guint dims[3] = { N, N, N };
  g_autoptr (GError) error = NULL;
  g_autoptr (RrVolume) v = rr_volume_new (dims, RR_VOXEL_INT16, &error);
  g_autofree float *out = g_new (float, N * N);
  int frames = argc > 1 ? atoi (argv[1]) : 40;
  gint16 *d;
  gint64 t0;
  double cpu_fps, gl_ms = 0;

  if (v == NULL)
    {
      g_printerr ("%s\n", error->message);
      return 1;
    }
  v->spacing[0] = v->spacing[1] = v->spacing[2] = 0.8;
  for (guint k = 0; k < N; k++)
    v->slice_pos[k] = rr_vec3 (-N * 0.4, -N * 0.4, -N * 0.4 + k * 0.8);
  rr_volume_finish_geometry (v, NULL);
  d = v->voxels;
  for (gsize i = 0; i < (gsize) N * N * N; i++)
    d[i] = (gint16) ((i * 2654435761u) >> 22) - 512;

  rr_reslice (v, &(RrPlane) { 0 }, 0, 0, out); /* warm the threads' code paths */
  t0 = g_get_monotonic_time ();
  for (int f = 0; f < frames; f++)
    {
      RrPlane pl = oblique (f);
      rr_reslice (v, &pl, RR_RESLICE_OUTSIDE, 0, out);
    }
  cpu_fps = frames / ((g_get_monotonic_time () - t0) / 1e6);

  if (rr_gl_offscreen_make_current (NULL))
    {
      GLuint fbo, rbo;
      RrGlLook look = { 40, 400, FALSE, RR_COLORMAP_GREY, 1 };
      RrGlVolume *glv = rr_gl_volume_new (v, &error);
      RrGlReslicer *r = glv ? rr_gl_reslicer_new (&error) : NULL;
      if (r)
        {
          glGenFramebuffers (1, &fbo);
          glGenRenderbuffers (1, &rbo);
          glBindRenderbuffer (GL_RENDERBUFFER, rbo);
          glRenderbufferStorage (GL_RENDERBUFFER, GL_RGBA8, N, N);
          glBindFramebuffer (GL_FRAMEBUFFER, fbo);
          glFramebufferRenderbuffer (GL_FRAMEBUFFER, GL_COLOR_ATTACHMENT0, GL_RENDERBUFFER, rbo);
          RrPlane pl = oblique (0);
          rr_gl_reslicer_draw (r, glv, &pl, &look, 0, 0);
          glFinish ();
          t0 = g_get_monotonic_time ();
          for (int f = 0; f < frames; f++)
            {
              pl = oblique (f);
              rr_gl_reslicer_draw (r, glv, &pl, &look, 0, 0);
              glFinish ();
            }
          gl_ms = (g_get_monotonic_time () - t0) / 1e3 / frames;
          g_print ("gpu-memory %" G_GSIZE_FORMAT " voxel-bytes %" G_GSIZE_FORMAT "\n",
                   rr_gl_volume_bytes (glv), v->n_bytes);
          g_print ("renderer %s\n", glGetString (GL_RENDERER));
        }
      else
        g_print ("gl unavailable: %s\n", error ? error->message : "?");
      rr_gl_reslicer_free (r);
      rr_gl_volume_free (glv);
    }
  g_print ("cpu-fps %.2f\n", cpu_fps);
  if (gl_ms > 0)
    g_print ("gl-ms %.3f\n", gl_ms);
  return 0;
}
