/* rr-loop-gate.c: the threads that decode a volume wait between slices
 * while the window's main thread is working.
 *
 * A task opening draws the whole window in one frame (tens of ms of the
 * main thread's CPU with cairo), while the volume's decoders, which at the
 * same time fault in and fill hundreds of MB, hold as many cores as there
 * are. On a loaded machine the frame then waits for a core for longer than
 * it runs: bench/stall.py measured the main thread waiting 35-55 ms for a
 * core in each of its longest stalls, beside 21-28 ms of its own CPU; and
 * the decoders' page faults, holding the process' memory map, kept the
 * main thread from creating a thread or growing its heap for 8-15 ms at a
 * time. Lowering the decoders' priority (nice 10) gives the main thread a
 * core, but also gives the busy machine the decoders' share all the time:
 * the task took twice as long to open under load. Here they step aside
 * only while the main thread works, from the moment its loop wakes until
 * it waits again, and at most MAX_WAIT_US at a time, so that a main
 * thread that never rests cannot stop them. Measured: docs/bench.md
 * ("4 December, session 15").
 *
 * The main context's poll function is wrapped (after the watchdog's, when
 * it runs): released before the poll, held after it. */
#include "rr-loop-gate.h"

#define MAX_WAIT_US (100 * 1000)

static GMutex lock;
static GCond released;
static guint holds;             /* under lock */
static guint waits;             /* passes that found the gate held (under lock) */

static GPollFunc next_poll;     /* main thread only */
static gboolean loop_holds;     /* main thread only: the loop's own hold is on */

void
rr_loop_gate_hold (void)
{
  g_mutex_lock (&lock);
  holds++;
  g_mutex_unlock (&lock);
}

void
rr_loop_gate_release (void)
{
  gboolean held;
  g_mutex_lock (&lock);
  held = holds > 0;
  if (held)
    holds--;
  g_cond_broadcast (&released);
  g_mutex_unlock (&lock);
  g_return_if_fail (held);
}

static int
gate_poll (GPollFD *fds,
           guint    n,
           int      timeout)
{
  int r;
  /* A poll that does not wait (sources still to dispatch) leaves the
   * gate held: the loop goes on working. Released there, the decoders
   * could take the cores back while the main thread was in the call:
   * bench/stall.py once logged a main thread runnable for 110 ms after a
   * poll of timeout 0 while the process' other threads used 104 ms. */
  if (timeout == 0 && loop_holds)
    return next_poll (fds, n, timeout);
  /* A nested loop polls too: its own release and hold pair up. */
  if (loop_holds)
    {
      loop_holds = FALSE;
      rr_loop_gate_release ();
    }
  r = next_poll (fds, n, timeout);
  loop_holds = TRUE;
  rr_loop_gate_hold ();
  return r;
}

void
rr_loop_gate_watch (void)
{
  if (next_poll != NULL || g_strcmp0 (g_getenv ("READROOM_LOOP_GATE"), "0") == 0)
    return;
  next_poll = g_main_context_get_poll_func (NULL);
  g_main_context_set_poll_func (NULL, gate_poll);
}

void
rr_loop_gate_pass (void)
{
  gint64 until;

  g_mutex_lock (&lock);
  until = g_get_monotonic_time () + MAX_WAIT_US;
  waits += holds > 0;
  while (holds > 0)
    if (!g_cond_wait_until (&released, &lock, until))
      break;
  g_mutex_unlock (&lock);
}

guint
rr_loop_gate_waits (void)
{
  guint n;
  g_mutex_lock (&lock);
  n = waits;
  g_mutex_unlock (&lock);
  return n;
}
