/* rr-frame-sync.h: frame synchronisation with the window manager, only
 * where there is one to synchronise with. */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

/* Once @window is realized: on an X11 display with no window manager,
 * turns off @window's frame synchronisation, which GDK otherwise keeps
 * asking the X server about (rr-frame-sync.c). TRUE if it turned it off;
 * nothing on other displays or where a manager runs. */
gboolean rr_frame_sync_fit_display (GtkWindow *window);

G_END_DECLS
