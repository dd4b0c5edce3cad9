/* rr-frame-sync.c on a real X server (Xvfb, no window manager): the
 * requests a window sends the server per frame, with GDK's frame
 * synchronisation and without it; and a display with a window manager
 * (one this test plays for a moment: the EWMH check window, no more),
 * where the window keeps it. Skipped (77) without an X11 display. */
#include "rr-frame-sync.h"

#include <gdk/x11/gdkx.h>
#include <X11/Xatom.h>

#define FRAMES 30

typedef struct
{
  guint frames;
} Count;

static gboolean
tick (GtkWidget *widget, GdkFrameClock *clock, gpointer data)
{
  Count *count = data;
  count->frames++;
  gtk_widget_queue_draw (widget);
  return G_SOURCE_CONTINUE;
}

static void
draw (GtkDrawingArea *area, cairo_t *cr, int width, int height, gpointer data)
{
  Count *count = data;
  cairo_set_source_rgb (cr, (count->frames % 7) / 7.0, 0.2, 0.3);
  cairo_paint (cr);
}

static Display *
xdisplay (void)
{
  return gdk_x11_display_get_xdisplay (gdk_display_get_default ());
}

static void
run_frames (Count *count, guint n)
{
  guint until = count->frames + n;
  while (count->frames < until)
    g_main_context_iteration (NULL, TRUE);
}

/* A window drawing a new frame on every tick of its clock. */
static GtkWindow *
new_window (Count *count)
{
  GtkWindow *window = GTK_WINDOW (gtk_window_new ());
  GtkWidget *area = gtk_drawing_area_new ();
  gtk_window_set_default_size (window, 320, 240);
  gtk_drawing_area_set_draw_func (GTK_DRAWING_AREA (area), draw, count, NULL);
  gtk_window_set_child (window, area);
  gtk_widget_add_tick_callback (area, tick, count, NULL);
  gtk_window_present (window);
  run_frames (count, 3);
  return window;
}

/* What @n frames cost in requests to the X server, each a round trip or
 * not, counted by the connection's request serial. */
static gulong
requests_for_frames (Count *count, guint n)
{
  gulong before = XNextRequest (xdisplay ());
  run_frames (count, n);
  return XNextRequest (xdisplay ()) - before;
}

static void
test_no_window_manager (void)
{
  Count count = { 0 };
  GtkWindow *window = new_window (&count);

  gulong synced = requests_for_frames (&count, FRAMES);
  g_assert_true (rr_frame_sync_fit_display (window));
  /* The change takes effect from the next frame on. */
  run_frames (&count, 2);
  gulong unsynced = requests_for_frames (&count, FRAMES);
  g_test_message ("requests for %d frames: %lu with frame synchronisation, %lu without",
                  FRAMES, synced, unsynced);
  /* GDK asks the server twice a frame whether a manager is there: 60
   * requests fewer here, of which 45 are asked for, the rest left to
   * whatever else a frame may send. */
  g_assert_cmpuint (synced, >=, unsynced + 3 * FRAMES / 2);
  gtk_window_destroy (window);
}

/* Plays a window manager as far as GDK looks (EWMH's check window, named)
 * until stop_pretending; returns the check window. */
static Window
pretend_window_manager (void)
{
  Display *dpy = xdisplay ();
  Window root = DefaultRootWindow (dpy);
  Window check = XCreateSimpleWindow (dpy, root, -1, -1, 1, 1, 0, 0, 0);
  Atom supporting = XInternAtom (dpy, "_NET_SUPPORTING_WM_CHECK", False);
  Atom name = XInternAtom (dpy, "_NET_WM_NAME", False);
  Atom utf8 = XInternAtom (dpy, "UTF8_STRING", False);
  static const char wm[] = "rr-test-wm";

  XChangeProperty (dpy, check, supporting, XA_WINDOW, 32, PropModeReplace,
                   (unsigned char *) &check, 1);
  XChangeProperty (dpy, check, name, utf8, 8, PropModeReplace, (unsigned char *) wm,
                   sizeof wm - 1);
  XChangeProperty (dpy, root, supporting, XA_WINDOW, 32, PropModeReplace,
                   (unsigned char *) &check, 1);
  XSync (dpy, False);
  return check;
}

/* The display as it was, for whatever else runs on it. */
static void
stop_pretending (Window check)
{
  Display *dpy = xdisplay ();
  XDeleteProperty (dpy, DefaultRootWindow (dpy),
                   XInternAtom (dpy, "_NET_SUPPORTING_WM_CHECK", False));
  XDestroyWindow (dpy, check);
  XSync (dpy, False);
}

static void
test_window_manager (void)
{
  Count count = { 0 };

  Window check = pretend_window_manager ();
  GtkWindow *window = new_window (&count);
  g_autofree char *name = g_strdup (gdk_x11_screen_get_window_manager_name (
    gdk_x11_display_get_screen (gdk_display_get_default ())));
  gboolean turned_off = rr_frame_sync_fit_display (window);
  gtk_window_destroy (window);
  stop_pretending (check);
  g_assert_cmpstr (name, ==, "rr-test-wm");
  g_assert_false (turned_off);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  /* No accessibility bus: the display may carry the address of one a test
   * before this started and ended (a critical under fatal-criticals). */
  g_setenv ("GTK_A11Y", "none", TRUE);
  gdk_set_allowed_backends ("x11");
  if (!gtk_init_check ())
    {
      g_printerr ("skipped: no X11 display\n");
      return 77;
    }
  /* The test plays the window manager itself; a real one would answer. */
  if (g_strcmp0 (gdk_x11_screen_get_window_manager_name (
                   gdk_x11_display_get_screen (gdk_display_get_default ())), "unknown") != 0)
    {
      g_printerr ("skipped: a window manager runs on this display\n");
      return 77;
    }
  g_test_add_func ("/frame-sync/no-window-manager", test_no_window_manager);
  g_test_add_func ("/frame-sync/window-manager", test_window_manager);
  return g_test_run ();
}
