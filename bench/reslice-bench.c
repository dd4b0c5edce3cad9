/* reslice-bench.c: oblique 512x512 reslices of a 512^3 int16 volume: the
 * CPU reference on all cores, and the GL reslicer (offscreen EGL, glFinish
 * per frame), printed with their ratio. */
#include "rr-gl-reslicer.h"

#include <epoxy/egl.h>
#include <epoxy/gl.h>

#define N 512

static gboolean
make_context (void)
{
  static const EGLint cfg_attrs[] = { EGL_SURFACE_TYPE, 0, EGL_RENDERABLE_TYPE, EGL_OPENGL_BIT,
                                      EGL_NONE };
  static const EGLint ctx_attrs[] = { EGL_CONTEXT_MAJOR_VERSION, 3, EGL_CONTEXT_MINOR_VERSION, 3,
                                      EGL_CONTEXT_OPENGL_PROFILE_MASK,
                                      EGL_CONTEXT_OPENGL_CORE_PROFILE_BIT, EGL_NONE };
  EGLDisplay dpy;
  EGLConfig cfg;
  EGLint n = 0;
  EGLContext ctx;
  if (!epoxy_has_egl_extension (EGL_NO_DISPLAY, "EGL_MESA_platform_surfaceless"))
    return FALSE;
  dpy = eglGetPlatformDisplayEXT (EGL_PLATFORM_SURFACELESS_MESA, EGL_DEFAULT_DISPLAY, NULL);
  if (dpy == EGL_NO_DISPLAY || !eglInitialize (dpy, NULL, NULL) || !eglBindAPI (EGL_OPENGL_API) ||
      !eglChooseConfig (dpy, cfg_attrs, &cfg, 1, &n) || n < 1)
    return FALSE;
  ctx = eglCreateContext (dpy, cfg, EGL_NO_CONTEXT, ctx_attrs);
  return ctx != EGL_NO_CONTEXT && eglMakeCurrent (dpy, EGL_NO_SURFACE, EGL_NO_SURFACE, ctx);
}

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

  if (make_context ())
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
