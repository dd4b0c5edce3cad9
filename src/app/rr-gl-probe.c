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
 * Only GTK's own drawing changes: the viewport keeps its GtkGLArea, whose
 * reslicing on llvmpipe is still far faster than the CPU path, and whose
 * image the cairo renderer shows as a texture. */
#include "rr-gl-probe.h"

#include <epoxy/gl.h>
#include <string.h>

static char *summary;

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
  gint64 t0 = g_get_monotonic_time ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GdkGLContext) context = NULL;
  g_autofree char *renderer = NULL;
  gboolean software;

  /* The user's choice stands (GSK_RENDERER=gl to compare, or to debug). */
  if (set != NULL && *set != '\0')
    {
      summary = g_strdup_printf ("GSK_RENDERER=%s set by the user: not probed", set);
      return;
    }
  /* GTK 4.8's X11 backend has set up the display's GL when it opened it
   * (to choose a visual): only this context is extra, 5 to 15 ms once. */
  if (!gdk_display_prepare_gl (display, &error)
      || (context = gdk_display_create_gl_context (display, &error)) == NULL
      || !gdk_gl_context_realize (context, &error))
    {
      /* GTK falls back to cairo by itself when GL does not work. */
      summary = g_strdup_printf ("no GL (%s): GTK's own choice", error->message);
      return;
    }
  gdk_gl_context_make_current (context);
  renderer = g_strdup ((const char *) glGetString (GL_RENDERER));
  gdk_gl_context_clear_current ();
  if (renderer == NULL)
    renderer = g_strdup ("?");
  software = is_software (renderer);
  /* GSK reads GSK_RENDERER once, when the first window is realized, which
   * is after the application's start-up. */
  if (software)
    g_setenv ("GSK_RENDERER", "cairo", TRUE);
  summary = g_strdup_printf ("GL renderer \"%s\": %s (probe %.1f ms)", renderer,
                             software ? "software, GSK renderer cairo chosen"
                                      : "hardware, GTK's own choice",
                             (g_get_monotonic_time () - t0) / 1000.);
  g_debug ("%s", summary);
}

const char *
rr_gl_probe_summary (void)
{
  return summary ? summary : "not probed";
}
