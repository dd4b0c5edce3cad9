/* rr-gl-offscreen.c: a surfaceless EGL context (Mesa's llvmpipe without a
 * display, or a GPU), shared by the render tests and the benchmarks. */
#include "rr-gl-offscreen.h"
#include "rr-gl-reslicer.h"

#include <epoxy/egl.h>

gboolean
rr_gl_offscreen_make_current (GError **error)
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
    {
      g_set_error (error, RR_RENDER_ERROR, RR_RENDER_ERROR_UNSUPPORTED,
                   "EGL has no surfaceless platform");
      return FALSE;
    }
  dpy = eglGetPlatformDisplayEXT (EGL_PLATFORM_SURFACELESS_MESA, EGL_DEFAULT_DISPLAY, NULL);
  if (dpy == EGL_NO_DISPLAY || !eglInitialize (dpy, NULL, NULL) || !eglBindAPI (EGL_OPENGL_API) ||
      !eglChooseConfig (dpy, cfg_attrs, &cfg, 1, &n) || n < 1)
    {
      g_set_error (error, RR_RENDER_ERROR, RR_RENDER_ERROR_UNSUPPORTED,
                   "no EGL configuration for desktop OpenGL");
      return FALSE;
    }
  ctx = eglCreateContext (dpy, cfg, EGL_NO_CONTEXT, ctx_attrs);
  if (ctx == EGL_NO_CONTEXT || !eglMakeCurrent (dpy, EGL_NO_SURFACE, EGL_NO_SURFACE, ctx))
    {
      g_set_error (error, RR_RENDER_ERROR, RR_RENDER_ERROR_UNSUPPORTED,
                   "no OpenGL 3.3 core context through EGL");
      return FALSE;
    }
  return TRUE;
}
