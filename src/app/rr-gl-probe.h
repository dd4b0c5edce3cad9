/* rr-gl-probe.h: chooses GTK's renderer before the first window exists,
 * and how the viewports draw. */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

/* Asks the display's GL which rasteriser it is and, when it is Mesa's
 * software one and the user has not set GSK_RENDERER, has GTK draw the
 * windows with cairo. Call before any window is realized. */
void        rr_gl_probe_choose_renderer (GdkDisplay *display);
/* Whether the viewports draw their images with the CPU reslicer rather
 * than GL: where GL is a software rasteriser (it is the CPU too, with a
 * texture upload and a read-back per frame besides), unless
 * READROOM_VIEWPORT says "gl" ("cpu" asks for it anywhere). */
gboolean    rr_gl_probe_viewports_on_cpu (void);
/* What the probe found and chose, and what it cost: one line, for logs. */
const char *rr_gl_probe_summary         (void);

G_END_DECLS
