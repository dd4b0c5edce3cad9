/* rr-watchdog.c: measures how late a high-priority timeout on the main
 * loop fires, and logs every stall with what the main thread was doing.
 *
 * The window must answer the reader (and the accessibility bus, which gives
 * up after about 0.8 s) whatever runs: a stall is a bug. A timeout at
 * G_PRIORITY_HIGH every 20 ms is dispatched as soon as the main thread is
 * back in its loop, so how late it fires is how long the loop was held.
 * What held it: the main thread leaves breadcrumbs as it goes (waiting in
 * poll, dispatching a source, and which phase of a frame: layout, paint),
 * one pointer store each; a second thread reads them while the beat is
 * late, every 40 ms, and the stall's line lists them.
 *
 * READROOM_WATCHDOG_STACKS=1 also samples the main thread's stack then, by
 * a signal whose handler calls backtrace(): for diagnosis only. The
 * unwinder allocates when it meets code a JIT registered (the GL driver's
 * shaders), and a signal landing in malloc then corrupts the heap: it
 * crashed the window once in the e2e tests, which is why it is off.
 *
 * Enabled by READROOM_WATCHDOG_LOG=path (the tests set it); otherwise
 * nothing runs. READROOM_WATCHDOG_EVERY=1 also logs every beat's lateness
 * and every frame drawn (bench/). */
#define _GNU_SOURCE
#include "rr-watchdog.h"

#include <gtk/gtk.h>

#include <dlfcn.h>
#include <errno.h>
#include <execinfo.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BEAT_MS 20
#define REPORT_MS 50            /* stalls longer than this are logged */
#define SAMPLE_EVERY_US 40000   /* a stack every 40 ms of a stall */
#define MAX_FRAMES 48
#define MAX_SAMPLES 16

static FILE *log_file;
static pthread_t main_thread;
static gint64 last_beat;        /* atomic: monotonic µs of the last beat */
static gint64 beat_due;         /* main thread only: when the next beat is due */
static gboolean started;        /* main thread only: the first window has drawn */
static gboolean every;          /* READROOM_WATCHDOG_EVERY=1: every beat's lateness is
                                   logged too, without stacks (bench/) */

/* The signal handler's output: written by the main thread, read by the
 * monitor once `sampled` is set. */
static void *frames[MAX_FRAMES];
static volatile int n_frames;
static volatile gint sampled;

static gboolean with_stacks;    /* READROOM_WATCHDOG_STACKS=1 */
static const char *volatile phase = "starting";     /* main thread's breadcrumb */
static const char *volatile frame_phase = NULL;     /* ...inside a frame, its phase */
static const char *volatile note = NULL;            /* ...and the application's part */

static GMutex lock;
static GString *samples;        /* the current stall's stacks, formatted */
static guint n_samples;

static void
on_sample_signal (int sig)
{
  int saved = errno;
  n_frames = backtrace (frames, MAX_FRAMES);
  g_atomic_int_set (&sampled, 1);
  errno = saved;
}

/* On the monitor: one stack, as "module+0xoffset symbol" per frame. The
 * first two frames are the handler and the signal trampoline. */
static void
format_stack (GString *out,
              gint64   late_us)
{
  g_string_append_printf (out, "  stack at %" G_GINT64_FORMAT " ms:\n", late_us / 1000);
  for (int i = 2; i < n_frames; i++)
    {
      Dl_info info;
      if (dladdr (frames[i], &info) && info.dli_fname)
        g_string_append_printf (out, "    %s+0x%lx %s\n", info.dli_fname,
                                (unsigned long) ((char *) frames[i] - (char *) info.dli_fbase),
                                info.dli_sname ? info.dli_sname : "?");
      else
        g_string_append_printf (out, "    %p ?\n", frames[i]);
    }
}

static gpointer
monitor_thread (gpointer data)
{
  gint64 next_sample = 0;

  for (;;)
    {
      gint64 now, late;
      g_usleep (10000);
      now = g_get_monotonic_time ();
      late = now - __atomic_load_n (&last_beat, __ATOMIC_ACQUIRE) - BEAT_MS * 1000;
      if (late < REPORT_MS * 1000)
        {
          next_sample = 0;
          continue;
        }
      if (next_sample != 0 && now < next_sample)
        continue;
      next_sample = now + SAMPLE_EVERY_US;
      {
        /* Static strings: safe to read from here whatever the main thread
         * does. */
        const char *ph = phase, *fr = frame_phase, *no = note;
        g_mutex_lock (&lock);
        if (n_samples < MAX_SAMPLES)
          {
            g_string_append_printf (samples, "  at %" G_GINT64_FORMAT " ms: %s%s%s%s%s\n",
                                    late / 1000, ph, fr ? ", frame " : "", fr ? fr : "",
                                    no ? ", in " : "", no ? no : "");
            n_samples += !with_stacks;
          }
        g_mutex_unlock (&lock);
      }
      if (!with_stacks)
        continue;
      g_atomic_int_set (&sampled, 0);
      if (pthread_kill (main_thread, SIGPROF) != 0)
        continue;
      /* The main thread runs (it is busy): it takes the signal soon. */
      for (int i = 0; i < 100 && !g_atomic_int_get (&sampled); i++)
        g_usleep (1000);
      if (!g_atomic_int_get (&sampled))
        continue;
      g_mutex_lock (&lock);
      if (n_samples < MAX_SAMPLES)
        {
          format_stack (samples, late);
          n_samples++;
        }
      g_mutex_unlock (&lock);
    }
  return NULL;
}

/* CPU time used so far, in µs, by the calling thread or the process. */
static gint64
cpu_us (clockid_t clock)
{
  struct timespec ts;
  if (clock_gettime (clock, &ts) != 0)
    return 0;
  return (gint64) ts.tv_sec * G_USEC_PER_SEC + ts.tv_nsec / 1000;
}

/* How long the calling thread has waited, runnable, for a core, in µs
 * (the second field of Linux's schedstat; -1 where it cannot be read). */
static gint64
runqueue_wait_us (void)
{
  char buf[96];
  unsigned long long on_cpu, waiting;
  FILE *f = fopen ("/proc/thread-self/schedstat", "re");
  gboolean ok;

  if (f == NULL)
    return -1;
  ok = fgets (buf, sizeof buf, f) != NULL && sscanf (buf, "%llu %llu", &on_cpu, &waiting) == 2;
  fclose (f);
  return ok ? (gint64) (waiting / 1000) : -1;
}

static int poll_timeout;        /* main thread only: the last poll's timeout (ms) */
static gint64 poll_slept;       /* ...and how long it slept (µs) */
static gint64 beat_cpu_main, beat_cpu_all;   /* main thread only: at the last beat */
static gint64 beat_waited;                   /* ...and its wait for a core */

static gboolean
beat (gpointer data)
{
  gint64 now = g_get_monotonic_time ();
  gint64 late = now - beat_due;
  gint64 cpu_main = cpu_us (CLOCK_THREAD_CPUTIME_ID), cpu_all = cpu_us (CLOCK_PROCESS_CPUTIME_ID);
  gint64 waited = runqueue_wait_us ();
  g_autoptr (GString) stacks = NULL;

  /* Samples of a stall shorter than the report threshold are dropped. */
  g_mutex_lock (&lock);
  if (n_samples > 0 || late > REPORT_MS * 1000)
    {
      stacks = g_steal_pointer (&samples);
      samples = g_string_new (NULL);
      n_samples = 0;
    }
  g_mutex_unlock (&lock);
  if (late > REPORT_MS * 1000)
    {
      /* Whether the loop was held by work or by waiting (for a core, on
       * a loaded machine, or asleep: for the X server, the GL driver's
       * threads, a lock): the CPU the main thread and the whole process
       * used since the last beat, and how long the main thread waited,
       * runnable, for a core; and the core it runs on now (bench/stall.py
       * names it beside the cores the machine stopped during the stall,
       * bench/machine_pauses.py). */
      fprintf (log_file, "stall %" G_GINT64_FORMAT " ms at %" G_GINT64_FORMAT " ms%s; CPU "
               "since the last beat: main thread %" G_GINT64_FORMAT " ms, all threads %"
               G_GINT64_FORMAT " ms; main thread waited for a core %" G_GINT64_FORMAT " ms; "
               "its last poll slept %" G_GINT64_FORMAT " ms of %d; on core %d\n%s",
               late / 1000, g_get_real_time () / 1000, started ? "" : " (start-up)",
               (cpu_main - beat_cpu_main) / 1000, (cpu_all - beat_cpu_all) / 1000,
               waited >= 0 && beat_waited >= 0 ? (waited - beat_waited) / 1000 : -1,
               poll_slept / 1000, poll_timeout, sched_getcpu (), stacks->str);
      fflush (log_file);
    }
  else if (every)
    {
      fprintf (log_file, "beat %.1f ms late at %" G_GINT64_FORMAT " ms\n", late / 1000.,
               g_get_real_time () / 1000);
      fflush (log_file);
    }
  beat_due = now + BEAT_MS * 1000;
  beat_cpu_main = cpu_main;
  beat_cpu_all = cpu_all;
  beat_waited = waited;
  __atomic_store_n (&last_beat, now, __ATOMIC_RELEASE);
  return G_SOURCE_CONTINUE;
}

/* ---- breadcrumbs ---- */

static GPollFunc real_poll;

static int
watched_poll (GPollFD *fds,
              guint    n,
              int      timeout)
{
  int r;
  gint64 start;
  /* A frame is one source's dispatch: over once the loop polls again. */
  frame_phase = NULL;
  note = NULL;
  phase = "waiting in poll";
  start = g_get_monotonic_time ();
  r = real_poll (fds, n, timeout);
  poll_slept = g_get_monotonic_time () - start;
  poll_timeout = timeout;
  phase = "dispatching a main-loop source";
  return r;
}

/* An emission hook runs before every handler of the signal, GTK's
 * included: the phase is named before its work starts. */
static gboolean
on_frame_phase (GSignalInvocationHint *hint,
                guint                  n_values,
                const GValue          *values,
                gpointer               name)
{
  frame_phase = name;
  /* Each frame drawn, for bench/ to count them (after the paint, once per
   * frame of each window). */
  if (every && strcmp (name, "after-paint") == 0)
    {
      fprintf (log_file, "frame at %" G_GINT64_FORMAT " ms\n", g_get_real_time () / 1000);
      fflush (log_file);
    }
  return TRUE;
}

void
rr_watchdog_note (const char *what)
{
  note = what;
}

void
rr_watchdog_log (const char *line)
{
  if (log_file == NULL)
    return;
  fprintf (log_file, "%s\n", line);
  fflush (log_file);
}

void
rr_watchdog_watch_frames (GtkWidget *widget)
{
  static const char *phases[][2] = {
    { "before-paint", "before-paint" }, { "update", "update (tick callbacks)" },
    { "layout", "layout (measure, allocate)" }, { "paint", "paint (snapshot, GL render)" },
    { "after-paint", "after-paint" },
  };
  static gboolean watching;
  if (log_file == NULL || watching)
    return;
  watching = TRUE;
  for (guint i = 0; i < G_N_ELEMENTS (phases); i++)
    g_signal_add_emission_hook (g_signal_lookup (phases[i][0], GDK_TYPE_FRAME_CLOCK), 0,
                                on_frame_phase, (gpointer) phases[i][1], NULL);
  fprintf (log_file, "frame phases watched\n");
  fflush (log_file);
}

void
rr_watchdog_start (void)
{
  const char *path = g_getenv ("READROOM_WATCHDOG_LOG");
  struct sigaction sa = { 0 };
  GSource *source;

  if (path == NULL || *path == '\0' || log_file != NULL)
    return;
  log_file = fopen (path, "ae");
  if (log_file == NULL)
    {
      g_warning ("The watchdog log %s cannot be opened: %s", path, g_strerror (errno));
      return;
    }
  every = g_strcmp0 (g_getenv ("READROOM_WATCHDOG_EVERY"), "1") == 0;
  fprintf (log_file, "watchdog pid %d: beat %d ms, stalls over %d ms logged\n", (int) getpid (),
           BEAT_MS, REPORT_MS);
  fflush (log_file);
  samples = g_string_new (NULL);
  main_thread = pthread_self ();
  real_poll = g_main_context_get_poll_func (NULL);
  g_main_context_set_poll_func (NULL, watched_poll);
  with_stacks = g_strcmp0 (g_getenv ("READROOM_WATCHDOG_STACKS"), "1") == 0;
  if (with_stacks)
    {
      /* backtrace() loads the unwinder on its first call: done here, not
       * in the handler. */
      n_frames = backtrace (frames, MAX_FRAMES);
      sa.sa_handler = on_sample_signal;
      sa.sa_flags = SA_RESTART;
      sigemptyset (&sa.sa_mask);
      sigaction (SIGPROF, &sa, NULL);
    }

  beat_due = g_get_monotonic_time () + BEAT_MS * 1000;
  __atomic_store_n (&last_beat, g_get_monotonic_time (), __ATOMIC_RELEASE);
  source = g_timeout_source_new (BEAT_MS);
  g_source_set_priority (source, G_PRIORITY_HIGH);
  g_source_set_callback (source, beat, NULL, NULL);
  g_source_set_static_name (source, "[readroom] watchdog");
  g_source_attach (source, NULL);
  g_source_unref (source);
  g_thread_unref (g_thread_new ("rr-watchdog", monitor_thread, NULL));
}

/* GTK's and the GL driver's own start (loading, the first shaders) is
 * over once the first window has drawn: stalls before are marked. */
void
rr_watchdog_started (void)
{
  if (started || log_file == NULL)
    return;
  started = TRUE;
  fprintf (log_file, "first frame drawn: stalls from here on are the window's\n");
  fflush (log_file);
}
