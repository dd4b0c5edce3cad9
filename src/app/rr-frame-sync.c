/* rr-frame-sync.c: a window on X11 tells its window manager when each frame
 * is drawn (_NET_WM_SYNC_REQUEST, _NET_WM_FRAME_DRAWN), so that a
 * compositing manager shows whole frames. At each frame's end GDK 4.8 asks
 * whether the manager takes part (gdk/x11/gdksurface-x11.c,
 * _gdk_x11_surface_syncs_frames, twice per frame), and the answer comes
 * from gdk_x11_screen_supports_net_wm_hint, which caches it once a manager
 * is found (gdkscreen-x11.c, fetch_net_wm_check_window) but, while none is
 * found, reads the root window's _NET_SUPPORTING_WM_CHECK again on every
 * call: a round trip to the X server, twice a frame, during which the
 * main thread waits for the server to be given a core.
 *
 * A display with no window manager (a reading room's kiosk, a remote
 * session, Xvfb) has no one to synchronise with, which is the case GDK's
 * gdk_x11_surface_set_frame_sync_enabled is for ("the surface is not
 * directly managed by the window manager"). So the window turns it off
 * there, once, when it appears; where a manager runs nothing changes. A
 * manager started later finds the window without frame synchronisation:
 * the frames are drawn as before, only not paced by the manager. Measured
 * with bench/stall.py (docs/bench.md, "5 December, session 18"). */
#include "rr-frame-sync.h"

#ifdef GDK_WINDOWING_X11
#include <gdk/x11/gdkx.h>
#endif

gboolean
rr_frame_sync_fit_display (GtkWindow *window)
{
#ifdef GDK_WINDOWING_X11
  GdkSurface *surface = gtk_native_get_surface (GTK_NATIVE (window));

  if (surface == NULL || !GDK_IS_X11_SURFACE (surface))
    return FALSE;
  /* "unknown" where no manager has set _NET_SUPPORTING_WM_CHECK. */
  GdkX11Screen *screen = gdk_x11_display_get_screen (gdk_surface_get_display (surface));
  if (g_strcmp0 (gdk_x11_screen_get_window_manager_name (screen), "unknown") != 0)
    return FALSE;
  gdk_x11_surface_set_frame_sync_enabled (surface, FALSE);
  return TRUE;
#else
  return FALSE;
#endif
}
