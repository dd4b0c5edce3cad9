/* rr-gl-offscreen.h: an OpenGL 3.3 core context without a window (EGL,
 * surfaceless), for headless rendering: the render tests and bench. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Creates a context and makes it current on this thread. FALSE, with a
 * message, when the driver offers none. */
gboolean rr_gl_offscreen_make_current (GError **error);

G_END_DECLS
