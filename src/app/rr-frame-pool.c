/* rr-frame-pool.c: where GTK draws the window with cairo on X11 (software
 * GL, rr-gl-probe.c), GTK 4.8 paints each frame into an image and copies
 * it onto the window's cairo surface (gdk/x11/gdkcairocontext-x11.c,
 * begin_frame and end_frame). cairo's xlib back-end makes that copy
 * through an image of the whole window in X shared memory, taken from a
 * pool (cairo-xlib-surface-shm.c). It destroys a pool as soon as its last
 * image is freed; the one that stays between frames (16 MB here, kept by
 * some small image) gives images of 2 MB at most. So each large frame
 * attaches a new segment, and the kernel faults in every page the copy
 * touches, on the main thread (1,100 pages for a 1280x860 window).
 * Measured with bench/stall.py's page-fault count while a task opens:
 * 5,100 faults of the main thread before, 4,000 with the pool held; the
 * longest stall 143-219 ms before, 103-115 ms after (four alternated runs
 * each).
 *
 * A pool outlives its frames while one image of it is alive. This holds a
 * small one, in a pool made by images of the window's whole size, which
 * is therefore large enough for the frames' copies. The pool grows with
 * the window. If cairo ever keeps its pools itself, holding costs a 4 KB
 * image. (The image GTK paints into is the heap's: rr-heap.c.)
 *
 * cairo makes a pool eight times the image that asks for it (rounded up
 * to a power of two: 64 MB for a 1600x1000 window) and gives its frames
 * blocks of it by a buddy allocator, so the frames' copies keep landing on
 * parts of the pool no frame has touched yet: 350 of the 600 page faults
 * the main thread still took while a task opened, perf said, a quarter of
 * the CPU of the longest frame. The held pool is therefore brought into
 * memory whole, on a thread of its own (madvise MADV_POPULATE_WRITE, which
 * changes no byte of it), where it is at most 64 MB; larger pools (a
 * window over 2 megapixels) are left to fill as they are used. Measured:
 * docs/bench.md ("4 December, session 16"). */
#include "rr-frame-pool.h"
#include "rr-watchdog.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#define POPULATE_MAX (64 * 1024 * 1024)

#ifdef GDK_WINDOWING_X11
#include <cairo-xlib.h>
#include <gdk/x11/gdkx.h>
#endif

#ifdef GDK_WINDOWING_X11
typedef struct
{
  GdkSurface *surface;          /* owns the hold */
  cairo_surface_t *keep;        /* the small image that holds the pool */
  int width, height;            /* the largest frame it was made for */
  guint settle;                 /* a resize not yet settled */
} Hold;

static void
hold_free (gpointer data)
{
  Hold *hold = data;
  g_clear_handle_id (&hold->settle, g_source_remove);
  g_clear_pointer (&hold->keep, cairo_surface_destroy);
  g_free (hold);
}

typedef struct
{
  guintptr start;
  gsize size;
} Range;

static gpointer
populate_thread (gpointer data)
{
  Range *range = data;
  /* A pool given back meanwhile (the window resized) is no harm: the
   * call fails on an unmapped range, and only faults pages in on a
   * mapping that took its place. */
  if (madvise ((void *) range->start, range->size, MADV_POPULATE_WRITE) != 0 && errno != ENOMEM)
    g_debug ("The frames' shared memory was not brought into memory: %s", g_strerror (errno));
  g_free (range);
  return NULL;
}

/* Brings the X shared-memory segment that holds @inside into memory, off
 * the main thread, where it is at most POPULATE_MAX. */
static void
populate_pool (const unsigned char *inside)
{
  g_autofree char *maps = NULL;
  char *line, *next;

  if (inside == NULL || g_strcmp0 (g_getenv ("READROOM_FRAME_POOL_POPULATE"), "0") == 0
      || !g_file_get_contents ("/proc/self/maps", &maps, NULL, NULL))
    return;
  for (line = maps; line != NULL && *line != '\0'; line = next)
    {
      unsigned long lo, hi;
      next = strchr (line, '\n');
      if (next != NULL)
        *next++ = '\0';
      if (strstr (line, "/SYSV") == NULL || sscanf (line, "%lx-%lx", &lo, &hi) != 2
          || (guintptr) inside < lo || (guintptr) inside >= hi)
        continue;
      if (hi - lo <= POPULATE_MAX)
        {
          Range *range = g_new (Range, 1);
          g_autofree char *said = NULL;
          range->start = lo;
          range->size = hi - lo;
          said = g_strdup_printf ("the held pool's %lu MB brought into memory", (hi - lo) >> 20);
          rr_watchdog_log (said);
          g_thread_unref (g_thread_new ("rr-frame-pool", populate_thread, range));
        }
      return;
    }
}

/* A pool for frames of @surface's size, unless the one held is as large. */
static void
hold_for_size (GdkSurface *surface,
               Hold       *hold)
{
  Display *xdisplay = gdk_x11_display_get_xdisplay (gdk_surface_get_display (surface));
  Window xid = gdk_x11_surface_get_xid (surface);
  int scale = gdk_surface_get_scale_factor (surface);
  int width = gdk_surface_get_width (surface) * scale;
  int height = gdk_surface_get_height (surface) * scale;
  XWindowAttributes attributes;
  cairo_surface_t *target, *frame, *copy, *keep;
  g_autofree char *line = NULL;

  /* cairo draws images under 32 pixels a side without shared memory; a
   * window not yet laid out can be 1x1. */
  if (width < 32 || height < 32 || (width <= hold->width && height <= hold->height))
    return;
  if (xid == None || !XGetWindowAttributes (xdisplay, xid, &attributes))
    return;
  width = MAX (width, hold->width);
  height = MAX (height, hold->height);
  target = cairo_xlib_surface_create (xdisplay, xid, attributes.visual, width, height);
  /* The frame's size first: cairo sizes a new pool by the image that
   * makes it. Two, as a frame's copy may be drawn while the X server
   * still reads the last one's; cairo clears new images, so both bring
   * their pages into memory now rather than in a frame the reader waits
   * for. The small image then takes its place from the same pool (cairo
   * looks in the newest pool first), and the frame-sized ones go back to
   * the pool for the frames to use. */
  frame = cairo_surface_create_similar_image (target, CAIRO_FORMAT_ARGB32, width, height);
  copy = cairo_surface_create_similar_image (target, CAIRO_FORMAT_ARGB32, width, height);
  keep = cairo_surface_create_similar_image (target, CAIRO_FORMAT_ARGB32, 32, 32);
  cairo_surface_destroy (copy);
  cairo_surface_destroy (frame);
  cairo_surface_destroy (target);
  if (cairo_surface_status (keep) != CAIRO_STATUS_SUCCESS)
    {
      cairo_surface_destroy (keep);
      return;
    }
  populate_pool (cairo_image_surface_get_data (keep));
  /* The old pool, empty once its small image goes, is given back by cairo. */
  g_clear_pointer (&hold->keep, cairo_surface_destroy);
  hold->keep = keep;
  hold->width = width;
  hold->height = height;
  line = g_strdup_printf ("frames drawn from a held X shared-memory pool, made for %dx%d",
                          width, height);
  rr_watchdog_log (line);
}

static gboolean
settled (gpointer data)
{
  Hold *hold = data;
  hold->settle = 0;
  hold_for_size (hold->surface, hold);
  return G_SOURCE_REMOVE;
}

/* The first pool is made as soon as the window has its size (it is 1x1
 * at its first frame). A window dragged larger would then make a pool at
 * each step: a larger one follows once the size has held for half a
 * second. */
static void
surface_resized (GdkSurface *surface,
                 GParamSpec *pspec,
                 gpointer    data)
{
  Hold *hold = data;
  if (hold->keep == NULL)
    {
      hold_for_size (surface, hold);
      return;
    }
  g_clear_handle_id (&hold->settle, g_source_remove);
  hold->settle = g_timeout_add (500, settled, hold);
}
#endif

void
rr_frame_pool_hold (GtkWindow *window)
{
#ifdef GDK_WINDOWING_X11
  GdkSurface *surface = gtk_native_get_surface (GTK_NATIVE (window));
  GskRenderer *renderer = gtk_native_get_renderer (GTK_NATIVE (window));
  Hold *hold;

  /* READROOM_FRAME_POOL=0 leaves cairo to itself (to compare). */
  if (g_strcmp0 (g_getenv ("READROOM_FRAME_POOL"), "0") == 0
      || surface == NULL || !GDK_IS_X11_SURFACE (surface)
      || renderer == NULL || !GSK_IS_CAIRO_RENDERER (renderer)
      || g_object_get_data (G_OBJECT (surface), "rr-frame-pool") != NULL)
    return;
  hold = g_new0 (Hold, 1);
  hold->surface = surface;
  g_object_set_data_full (G_OBJECT (surface), "rr-frame-pool", hold, hold_free);
  hold_for_size (surface, hold);
  g_signal_connect (surface, "notify::width", G_CALLBACK (surface_resized), hold);
  g_signal_connect (surface, "notify::height", G_CALLBACK (surface_resized), hold);
  g_signal_connect (surface, "notify::scale-factor", G_CALLBACK (surface_resized), hold);
#endif
}
