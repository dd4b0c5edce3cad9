/* rr-frame-gate.c: while the window draws a frame, the threads that decode
 * a volume wait between slices.
 *
 * A task opening draws the whole window in one frame (tens of ms of the
 * main thread's CPU with cairo), while the volume's decoders, which at the
 * same time fault in and fill hundreds of MB, hold as many cores as there
 * are. On a loaded machine the frame then waits for a core for longer than
 * it runs: bench/stall.py measured the main thread waiting 35-55 ms for a
 * core in each of its longest stalls, beside 21-28 ms of its own CPU.
 * Lowering the decoders' priority (nice) gives the frame its core, but
 * also gives the busy machine the decoders' share all the time: the task
 * took twice as long to open. Here they step aside only for the frame,
 * and at most for MAX_WAIT_US, so a frame that never ends cannot stop
 * them.
 *
 * The phases are watched with emission hooks on GdkFrameClock's signals,
 * which run before GTK's own handlers: "before-paint" and "after-paint",
 * which the clock emits around every frame that has work (layout, paint),
 * hold the gate and release it. */
#include "rr-frame-gate.h"

#define MAX_WAIT_US (100 * 1000)

static GMutex lock;
static GCond frame_over;
static guint drawing;           /* windows inside a frame (under lock) */
static guint waits;             /* passes that found a frame being drawn (under lock) */

void
rr_frame_gate_hold (void)
{
  g_mutex_lock (&lock);
  drawing++;
  g_mutex_unlock (&lock);
}

void
rr_frame_gate_release (void)
{
  gboolean held;
  g_mutex_lock (&lock);
  held = drawing > 0;
  if (held)
    drawing--;
  g_cond_broadcast (&frame_over);
  g_mutex_unlock (&lock);
  g_return_if_fail (held);
}

static gboolean
on_before_paint (GSignalInvocationHint *hint,
                 guint                  n_values,
                 const GValue          *values,
                 gpointer               data)
{
  gpointer clock = g_value_get_object (&values[0]);
  gboolean *inside = g_object_get_data (clock, "rr-frame-gate");
  if (inside != NULL && !*inside)
    {
      *inside = TRUE;
      rr_frame_gate_hold ();
    }
  return TRUE;
}

static gboolean
on_after_paint (GSignalInvocationHint *hint,
                guint                  n_values,
                const GValue          *values,
                gpointer               data)
{
  gpointer clock = g_value_get_object (&values[0]);
  gboolean *inside = g_object_get_data (clock, "rr-frame-gate");
  if (inside != NULL && *inside)
    {
      *inside = FALSE;
      rr_frame_gate_release ();
    }
  return TRUE;
}

/* A window gone inside a frame (never, in practice) must not hold the
 * gate for ever. */
static void
clock_gone (gpointer data)
{
  gboolean *inside = data;
  if (*inside)
    rr_frame_gate_release ();
  g_free (inside);
}

void
rr_frame_gate_watch (GtkWindow *window)
{
  static gboolean hooked;
  GdkFrameClock *clock = gtk_widget_get_frame_clock (GTK_WIDGET (window));

  /* READROOM_FRAME_GATE=0 leaves the decoders to the scheduler (to
   * compare). */
  if (g_strcmp0 (g_getenv ("READROOM_FRAME_GATE"), "0") == 0 || clock == NULL || g_object_get_data (G_OBJECT (clock), "rr-frame-gate") != NULL)
    return;
  if (!hooked)
    {
      g_signal_add_emission_hook (g_signal_lookup ("before-paint", GDK_TYPE_FRAME_CLOCK), 0,
                                  on_before_paint, NULL, NULL);
      g_signal_add_emission_hook (g_signal_lookup ("after-paint", GDK_TYPE_FRAME_CLOCK), 0,
                                  on_after_paint, NULL, NULL);
      hooked = TRUE;
    }
  g_object_set_data_full (G_OBJECT (clock), "rr-frame-gate", g_new0 (gboolean, 1), clock_gone);
}

void
rr_frame_gate_pass (void)
{
  gint64 until;

  g_mutex_lock (&lock);
  until = g_get_monotonic_time () + MAX_WAIT_US;
  waits += drawing > 0;
  while (drawing > 0)
    if (!g_cond_wait_until (&frame_over, &lock, until))
      break;
  g_mutex_unlock (&lock);
}

guint
rr_frame_gate_waits (void)
{
  guint n;
  g_mutex_lock (&lock);
  n = waits;
  g_mutex_unlock (&lock);
  return n;
}
