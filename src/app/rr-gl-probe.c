/* rr-gl-probe.c: GTK 4.8 draws its windows with GL whenever GL works,
 * Mesa's software rasteriser (llvmpipe) included. There every frame is
 * drawn by the CPU, and the whole window each time: llvmpipe offers no
 * buffer age, so GTK's GL renderer cannot redraw only what changed. On a
 * loaded machine a frame of the full window takes 50 to 300 ms of the main
 * thread (bench/stall.py), where the cairo renderer redraws only the
 * damaged part. GTK itself made the same choice later: 4.13.8, commit
 * 6c4739a2f16 "gsk: Don't use gpu renderers with llvmpipe" (in
 * gsk/gskrenderer.c, gl_supported_platform() declines GL when GL_RENDERER
 * names llvmpipe). This is its backport for 4.8.
 *
 * The viewports follow: on a software rasteriser their GL is the CPU as
 * well, with more steps. Each frame llvmpipe's threads rasterize the
 * panes into the GL area's texture and the cairo renderer reads it back
 * into memory (bench/stall.py: 100 to 370 ms of frame while a task opened,
 * the main thread waiting), after a 64 MB texture was zero-filled and
 * uploaded and the program's code was built per texture shape. The CPU
 * reslicer (rr_reslice: 2.5 ms of CPU for 512x512, docs/bench.md) draws
 * the same image into a cairo surface with none of that. So where GL is
 * software, the viewports draw on the CPU (rr_gl_probe_viewports_on_cpu);
 * READROOM_VIEWPORT=gl or =cpu chooses either way (tests, comparisons). */
#include "rr-gl-probe.h"

#include <epoxy/gl.h>
#include <string.h>

static char *summary;
static gboolean software_gl;

/* Mesa's software rasterisers, by their GL_RENDERER strings: llvmpipe
 * ("llvmpipe (LLVM 15.0.6, 256 bits)"), softpipe, and the classic swrast
 * ("Software Rasterizer"). */
static gboolean
is_software (const char *renderer)
{
  static const char *names[] = { "llvmpipe", "softpipe", "swrast", "software rasterizer" };
  g_autofree char *lower = g_ascii_strdown (renderer, -1);
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    if (strstr (lower, names[i]) != NULL)
      return TRUE;
  return FALSE;
}

void
rr_gl_probe_choose_renderer (GdkDisplay *display)
{
  const char *set = g_getenv ("GSK_RENDERER");
  gboolean user_set = set != NULL && *set != '\0';
  gint64 t0 = g_get_monotonic_time ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GdkGLContext) context = NULL;
  g_autofree char *renderer = NULL;
  g_autofree char *gsk = NULL;

  /* GTK 4.8's X11 backend has set up the display's GL when it opened it
   * (to choose a visual): only this context is extra, 5 to 15 ms once. */
  if (!gdk_display_prepare_gl (display, &error)
      || (context = gdk_display_create_gl_context (display, &error)) == NULL
      || !gdk_gl_context_realize (context, &error))
    {
      /* GTK falls back to cairo by itself when GL does not work, and the
       * viewports draw on the CPU as their GL areas fail. */
      summary = g_strdup_printf ("no GL (%s): GTK's own choice", error->message);
      return;
    }
  gdk_gl_context_make_current (context);
  renderer = g_strdup ((const char *) glGetString (GL_RENDERER));
  gdk_gl_context_clear_current ();
  if (renderer == NULL)
    renderer = g_strdup ("?");
  software_gl = is_software (renderer);
  /* The user's choice stands (GSK_RENDERER=gl to compare, or to debug).
   * GSK reads GSK_RENDERER once, when the first window is realized, which
   * is after the application's start-up. */
  if (user_set)
    gsk = g_strdup_printf ("GSK_RENDERER=%s set by the user", set);
  else if (software_gl)
    {
      g_setenv ("GSK_RENDERER", "cairo", TRUE);
      gsk = g_strdup ("software, GSK renderer cairo chosen");
    }
  else
    gsk = g_strdup ("hardware, GTK's own choice");
  summary = g_strdup_printf ("GL renderer \"%s\": %s; viewports drawn %s (probe %.1f ms)",
                             renderer, gsk,
                             rr_gl_probe_viewports_on_cpu () ? "on the CPU" : "with GL",
                             (g_get_monotonic_time () - t0) / 1000.);
  g_debug ("%s", summary);
}

gboolean
rr_gl_probe_viewports_on_cpu (void)
{
  const char *mode = g_getenv ("READROOM_VIEWPORT");
  if (g_strcmp0 (mode, "gl") == 0)
    return FALSE;
  if (g_strcmp0 (mode, "cpu") == 0)
    return TRUE;
  return software_gl;
}

const char *
rr_gl_probe_summary (void)
{
  return summary ? summary : "not probed";
}
