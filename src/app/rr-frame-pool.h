/* rr-frame-pool.h: keeps cairo's X shared memory for the window's frames
 * from one frame to the next, where GTK draws the window with cairo on X11. */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

/* From @window's first frame on, for as long as it lives: nothing where
 * GTK draws with GL or the display is not X11. Each pool it holds is
 * logged (rr_watchdog_log) with the size of frames it was made for. */
void rr_frame_pool_hold (GtkWindow *window);

G_END_DECLS
