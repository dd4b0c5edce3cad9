/* test-app-workers.c: the app's workers (rr-scan.c) on a phantom written to
 * disk: a series loads on a worker, its middle slice shown first and its
 * progress counted; a cancelled load shows nothing; a folder's structured
 * report is read on the scan's worker and handed back as a layer. The
 * decoders step aside while the window is busy (rr-loop-gate.c): they
 * wait while the gate is held, go on once it is released, and the main
 * loop holds it while it works, not while it waits. The heap the frames
 * will take is brought into memory beforehand (rr-heap.c). */
#define _GNU_SOURCE   /* RUSAGE_THREAD */
#include "rr-scan.h"
#include "rr-loop-gate.h"
#include "rr-heap.h"
#include "rr-phantom.h"
#include "rr-measurement.h"

#include <glib/gstdio.h>
#include <sys/resource.h>
#include <string.h>

#define SLICES 20
#define SIZE   64

static char *tmp_root;
static GThread *main_thread;

typedef struct
{
  GMainLoop *loop;
  RrVolume *preview;          /* the slice previewed, when it was */
  guint n_previews;
  gint progress_total;        /* set from the worker */
  gint progress_done;
  RrVolume *volume;
  RrDicomScan *scan;
  RrSrLayer *reports;
  GError *error;
  gboolean done;
} Run;

static void
run_clear (Run *r)
{
  g_clear_pointer (&r->loop, g_main_loop_unref);
  g_clear_pointer (&r->preview, rr_volume_unref);
  g_clear_pointer (&r->volume, rr_volume_unref);
  g_clear_pointer (&r->scan, rr_dicom_scan_free);
  g_clear_pointer (&r->reports, rr_sr_layer_free);
  g_clear_error (&r->error);
}

static char *
write_phantom (const char *name)
{
  g_autoptr (RrPhantomSpec) s = rr_phantom_spec_new (RR_PHANTOM_CT);
  g_autoptr (GError) error = NULL;
  char *dir = g_build_filename (tmp_root, name, NULL);
  guint n = 0;

  s->rows = s->columns = SIZE;
  s->row_spacing = s->col_spacing = 3.0;
  s->slices = SLICES;
  s->slice_spacing = s->slice_thickness = 2.5;
  s->noise_sd = 0;
  g_assert_true (rr_phantom_write (s, dir, &n, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (n, ==, SLICES);
  return dir;
}

static RrDicomScan *
scan_of (const char *dir)
{
  const char *paths[] = { dir, NULL };
  g_autoptr (GError) error = NULL;
  RrDicomScan *scan = rr_dicom_scan (paths, 0, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (scan->studies->len, ==, 1);
  return scan;
}

static RrDicomSeries *
first_series (RrDicomScan *scan)
{
  RrDicomStudy *st = scan->studies->pdata[0];
  for (guint i = 0; i < st->series->len; i++)
    if (((RrDicomSeries *) st->series->pdata[i])->is_image)
      return st->series->pdata[i];
  g_assert_not_reached ();
}

static void
on_progress (guint done, guint total, gpointer data)
{
  Run *r = data;
  g_atomic_int_set (&r->progress_total, (gint) total);
  g_atomic_int_set (&r->progress_done, (gint) done);
}

static void
on_preview (RrVolume *slice, gpointer data)
{
  Run *r = data;
  /* On the main thread, whatever that thread is doing meanwhile. */
  g_assert_true (g_thread_self () == main_thread);
  r->n_previews++;
  g_clear_pointer (&r->preview, rr_volume_unref);
  r->preview = rr_volume_ref (slice);
}

static void
on_loaded (GObject *source, GAsyncResult *result, gpointer data)
{
  Run *r = data;
  r->volume = rr_series_load_finish (result, &r->error);
  r->done = TRUE;
  g_main_loop_quit (r->loop);
}

/* Lets idles that were queued before the callback run too. */
static void
drain (void)
{
  while (g_main_context_iteration (NULL, FALSE))
    ;
}

static void
test_load_with_preview (void)
{
  g_autofree char *dir = write_phantom ("load");
  g_autoptr (RrDicomScan) scan = scan_of (dir);
  Run r = { 0 };
  RrSeriesLoadWatch watch = { on_progress, on_preview, &r };

  r.loop = g_main_loop_new (NULL, FALSE);
  rr_series_load_async (first_series (scan), &watch, NULL, NULL, on_loaded, &r);
  g_main_loop_run (r.loop);
  drain ();

  g_assert_no_error (r.error);
  g_assert_nonnull (r.volume);
  g_assert_cmpuint (r.volume->dims[0], ==, SIZE);
  g_assert_cmpuint (r.volume->dims[1], ==, SIZE);
  g_assert_cmpuint (r.volume->dims[2], ==, SLICES);
  /* One preview, one slice: the middle one of the stack (k = n / 2). */
  g_assert_cmpuint (r.n_previews, ==, 1);
  g_assert_nonnull (r.preview);
  g_assert_cmpuint (r.preview->dims[0], ==, SIZE);
  g_assert_cmpuint (r.preview->dims[2], ==, 1);
  g_assert_cmpstr (r.preview->slice_sop[0], ==, r.volume->slice_sop[SLICES / 2]);
  /* Every slice counted. */
  g_assert_cmpint (g_atomic_int_get (&r.progress_total), ==, SLICES);
  g_assert_cmpint (g_atomic_int_get (&r.progress_done), ==, SLICES);
  run_clear (&r);
}

static void
test_load_without_watch (void)
{
  g_autofree char *dir = write_phantom ("plain");
  g_autoptr (RrDicomScan) scan = scan_of (dir);
  Run r = { 0 };

  r.loop = g_main_loop_new (NULL, FALSE);
  rr_series_load_async (first_series (scan), NULL, NULL, NULL, on_loaded, &r);
  g_main_loop_run (r.loop);
  drain ();
  g_assert_no_error (r.error);
  g_assert_cmpuint (r.volume->dims[2], ==, SLICES);
  g_assert_cmpuint (r.n_previews, ==, 0);
  run_clear (&r);
}

/* Cancelled before the main loop runs: the preview the worker may have
 * queued is dropped, and the load ends cancelled. */
static void
test_load_cancelled (void)
{
  g_autofree char *dir = write_phantom ("cancel");
  g_autoptr (RrDicomScan) scan = scan_of (dir);
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  Run r = { 0 };
  RrSeriesLoadWatch watch = { on_progress, on_preview, &r };

  r.loop = g_main_loop_new (NULL, FALSE);
  rr_series_load_async (first_series (scan), &watch, NULL, cancellable, on_loaded, &r);
  /* Long enough for the worker to have decoded (and queued) the middle
   * slice, so the check below is of the drop, not of a race. */
  for (int i = 0; i < 500 && g_atomic_int_get (&r.progress_total) == 0; i++)
    g_usleep (10000);
  g_cancellable_cancel (cancellable);
  g_main_loop_run (r.loop);
  drain ();
  g_assert_error (r.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_null (r.volume);
  g_assert_cmpuint (r.n_previews, ==, 0);
  run_clear (&r);
}

static void
on_scanned (GObject *source, GAsyncResult *result, gpointer data)
{
  Run *r = data;
  r->scan = rr_scan_with_reports_finish (result, &r->reports, &r->error);
  g_main_loop_quit (r->loop);
}

static void
test_scan_with_reports (void)
{
  const char *helper = g_getenv ("READROOM_SR_HELPER");
  g_autofree char *dir = NULL;
  g_autofree char *image = NULL, *sr = NULL;
  g_autoptr (GPtrArray) on_series = NULL;
  Run r = { 0 };
  const char *paths[2] = { NULL, NULL };
  int status = 0;

  if (helper == NULL)
    {
      g_test_skip ("READROOM_SR_HELPER is not set");
      return;
    }
  dir = write_phantom ("reports");
  /* A TID 1500 report written by dcmtk's own classes (none of Readroom's
   * code), referencing one of the phantom's files. */
  {
    g_autoptr (RrDicomScan) plain = scan_of (dir);
    RrDicomSeries *se = first_series (plain);
    image = g_strdup (rr_dicom_instance_path (rr_dicom_series_instance (se, 0)));
  }
  sr = g_build_filename (tmp_root, "reports", "foreign-sr.dcm", NULL);
  {
    const char *argv[] = { helper, sr, image, NULL };
    g_autoptr (GError) error = NULL;
    g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, NULL,
                                 NULL, &status, &error));
    g_assert_no_error (error);
    g_assert_true (g_spawn_check_wait_status (status, NULL));
  }

  r.loop = g_main_loop_new (NULL, FALSE);
  paths[0] = dir;
  rr_scan_with_reports_async (paths, NULL, NULL, on_scanned, &r);
  g_main_loop_run (r.loop);
  g_assert_no_error (r.error);
  g_assert_nonnull (r.scan);
  g_assert_nonnull (r.reports);
  /* The report's one caliper ("lesion-A"), placed on the image series. */
  on_series = rr_sr_layer_add (r.reports, NULL, first_series (r.scan)->series_uid);
  g_assert_nonnull (on_series);
  g_assert_cmpuint (on_series->len, ==, 1);
  g_assert_true (rr_sr_layer_owns (r.reports, ((RrMeasurement *) on_series->pdata[0])->id));
  g_assert_nonnull (strstr (((RrMeasurement *) on_series->pdata[0])->text, "lesion-A"));
  run_clear (&r);

  /* The plain scan reads no report. */
  r.loop = g_main_loop_new (NULL, FALSE);
  r.reports = (RrSrLayer *) &r;   /* must be reset to NULL */
  rr_scan_async (paths, NULL, NULL, on_scanned, &r);
  g_main_loop_run (r.loop);
  g_assert_no_error (r.error);
  g_assert_nonnull (r.scan);
  g_assert_null (r.reports);
  run_clear (&r);
}

static void
remove_tree (const char *path)
{
  g_autoptr (GDir) d = g_dir_open (path, 0, NULL);
  const char *name;
  while (d && (name = g_dir_read_name (d)))
    {
      g_autofree char *p = g_build_filename (path, name, NULL);
      if (g_file_test (p, G_FILE_TEST_IS_DIR))
        remove_tree (p);
      else
        g_unlink (p);
    }
  g_rmdir (path);
}

/* While the window is busy the decoders wait between slices, and go on
 * once it is not: each decoding thread waits at most once here, where it
 * would wait after every slice if the release did not reach them. */
static void
test_load_steps_aside (void)
{
  g_autofree char *dir = write_phantom ("gate");
  g_autoptr (RrDicomScan) scan = scan_of (dir);
  Run r = { 0 };
  RrSeriesLoadWatch watch = { on_progress, NULL, &r };
  guint base = rr_loop_gate_waits ();
  gint64 until;

  /* Nothing held: no slice waits. */
  r.loop = g_main_loop_new (NULL, FALSE);
  rr_series_load_async (first_series (scan), &watch, NULL, NULL, on_loaded, &r);
  g_main_loop_run (r.loop);
  g_assert_no_error (r.error);
  g_assert_cmpuint (rr_loop_gate_waits (), ==, base);
  run_clear (&r);
  memset (&r, 0, sizeof r);

  rr_loop_gate_hold ();
  r.loop = g_main_loop_new (NULL, FALSE);
  rr_series_load_async (first_series (scan), &watch, NULL, NULL, on_loaded, &r);
  until = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;
  while (rr_loop_gate_waits () == base && g_get_monotonic_time () < until)
    g_usleep (500);
  g_assert_cmpuint (rr_loop_gate_waits (), >, base);
  /* Each thread waits after its slice, up to 0.1 s a time: far from all. */
  g_assert_cmpint (g_atomic_int_get (&r.progress_done), <, SLICES);
  rr_loop_gate_release ();
  g_main_loop_run (r.loop);
  g_assert_no_error (r.error);
  g_assert_nonnull (r.volume);
  g_assert_cmpuint (r.volume->dims[2], ==, SLICES);
  g_assert_cmpint (g_atomic_int_get (&r.progress_done), ==, SLICES);
  g_assert_cmpuint (rr_loop_gate_waits () - base, <=, g_get_num_processors ());
  run_clear (&r);
}

/* A thread that passes the gate again and again until told to stop. */
static gpointer
keep_passing (gpointer data)
{
  gint *stop = data;
  while (!g_atomic_int_get (stop))
    {
      rr_loop_gate_pass ();
      g_usleep (200);
    }
  return NULL;
}

static gboolean
busy_for_a_while (gpointer data)
{
  guint *runs = data;
  (*runs)++;
  /* Long enough for the passing thread to meet it. */
  g_usleep (30000);
  return *runs < 5 ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

static gpointer
pass_once (gpointer data)
{
  guint *waited = data;
  guint base;
  /* The main thread is waiting in its poll by now (for a 400 ms timeout). */
  g_usleep (100000);
  base = rr_loop_gate_waits ();
  rr_loop_gate_pass ();
  *waited = rr_loop_gate_waits () - base;
  return NULL;
}

static gboolean
quit_loop (gpointer data)
{
  g_main_loop_quit (data);
  return G_SOURCE_REMOVE;
}

/* Under the gate's poll (installed before it): while probing, whether a
 * pass of the gate from inside the poll finds it held, for a poll that
 * does not wait and for one that does. A held gate makes the pass wait
 * its 0.1 s, once per probe. */
static gboolean probing;
static int held_in_quick_poll = -1, held_in_waiting_poll = -1;

static int
probe_poll (GPollFD *fds, guint n, int timeout)
{
  if (probing && (timeout == 0 ? held_in_quick_poll : held_in_waiting_poll) == -1)
    {
      guint base = rr_loop_gate_waits ();
      rr_loop_gate_pass ();
      if (timeout == 0)
        held_in_quick_poll = rr_loop_gate_waits () > base;
      else
        held_in_waiting_poll = rr_loop_gate_waits () > base;
    }
  return g_poll (fds, n, timeout);
}

static gboolean
once (gpointer data)
{
  return G_SOURCE_REMOVE;
}

/* Once watched, the main loop holds the gate while it works, and not while
 * it waits in its poll; a poll that does not wait (sources left to
 * dispatch) keeps it held. */
static void
test_loop_holds_the_gate (void)
{
  g_autoptr (GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  guint runs = 0, base, waited = G_MAXUINT;
  gint stop = 0;
  GThread *passer;

  g_main_context_set_poll_func (NULL, probe_poll);
  rr_loop_gate_watch ();
  base = rr_loop_gate_waits ();
  passer = g_thread_new ("passer", keep_passing, &stop);
  g_idle_add (busy_for_a_while, &runs);
  while (runs < 5)
    g_main_context_iteration (NULL, TRUE);
  g_atomic_int_set (&stop, 1);
  g_thread_join (passer);
  g_assert_cmpuint (rr_loop_gate_waits (), >, base);

  passer = g_thread_new ("passer", pass_once, &waited);
  g_timeout_add (400, quit_loop, loop);
  g_main_loop_run (loop);
  g_thread_join (passer);
  g_assert_cmpuint (waited, ==, 0);

  /* An idle to dispatch: the poll before it does not wait. Then a
   * timeout to wait for: that poll does. */
  probing = TRUE;
  g_idle_add (once, NULL);
  while (held_in_quick_poll == -1)
    g_main_context_iteration (NULL, TRUE);
  g_timeout_add (50, quit_loop, loop);
  g_main_loop_run (loop);
  probing = FALSE;
  g_assert_cmpint (held_in_quick_poll, ==, 1);
  g_assert_cmpint (held_in_waiting_poll, ==, 0);
}

/* Page faults the main thread takes in a frame's worth of the heap:
 * three blocks of 6 MB (a 1600x1000 frame's image), held at once, each
 * page written. */
static long
faults_of_three_frames (void)
{
  struct rusage before, after;
  char *blocks[3];
  g_assert_cmpint (getrusage (RUSAGE_THREAD, &before), ==, 0);
  for (guint i = 0; i < G_N_ELEMENTS (blocks); i++)
    {
      blocks[i] = g_malloc (6 * 1024 * 1024);
      memset (blocks[i], 0x5a, 6 * 1024 * 1024);
    }
  g_assert_cmpint (getrusage (RUSAGE_THREAD, &after), ==, 0);
  for (guint i = 0; i < G_N_ELEMENTS (blocks); i++)
    g_free (blocks[i]);
  return after.ru_minflt - before.ru_minflt;
}

/* Each in a process of its own (the test re-run as a subprocess), so
 * that no earlier test has brought that heap into memory. */
static gboolean
in_own_process (void)
{
#if defined(__SANITIZE_ADDRESS__)
  g_test_skip ("ASan has its own allocator: glibc's heap is not used");
  return FALSE;
#endif
  g_autofree char *perturb = g_strdup (g_getenv ("MALLOC_PERTURB_"));
  if (g_test_subprocess ())
    return TRUE;
  /* Without meson's MALLOC_PERTURB_, whose free() writes every page of
   * a block and so would warm the heap for rr_heap_warm. */
  g_setenv ("MALLOC_PERTURB_", "0", TRUE);
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDERR);
  if (perturb != NULL)
    g_setenv ("MALLOC_PERTURB_", perturb, TRUE);
  else
    g_unsetenv ("MALLOC_PERTURB_");
  g_test_trap_assert_passed ();
  return FALSE;
}

/* Without warming, every page of new heap is a fault: the measure sees
 * what warming saves. */
static void
test_heap_cold (void)
{
  long faults;
  if (!in_own_process ())
    return;
  rr_heap_tune ();
  faults = faults_of_three_frames ();
  g_test_message ("cold heap: %ld page faults for 18 MB", faults);
  g_assert_cmpint (faults, >, 3000);
}

/* rr-heap.c: the heap the window's frames will take is brought into
 * memory beforehand, off the main thread, and the heap keeps it. */
static void
test_heap_warmed (void)
{
  long faults;
  if (!in_own_process ())
    return;
  rr_heap_tune ();
  rr_heap_warm (24 * 1024 * 1024);
  rr_heap_warm_wait ();
  faults = faults_of_three_frames ();
  g_test_message ("warmed heap: %ld page faults for 18 MB", faults);
  g_assert_cmpint (faults, <, 300);
}

int
main (int argc, char **argv)
{
  int ret;
  g_test_init (&argc, &argv, NULL);
  main_thread = g_thread_self ();
  rr_dicom_init ();
  tmp_root = g_dir_make_tmp ("rr-test-app-workers-XXXXXX", NULL);
  g_assert_nonnull (tmp_root);
  g_test_add_func ("/app-workers/load-with-preview", test_load_with_preview);
  g_test_add_func ("/app-workers/load-without-watch", test_load_without_watch);
  g_test_add_func ("/app-workers/load-cancelled", test_load_cancelled);
  g_test_add_func ("/app-workers/scan-with-reports", test_scan_with_reports);
  g_test_add_func ("/app-workers/load-steps-aside", test_load_steps_aside);
  g_test_add_func ("/app-workers/loop-holds-the-gate", test_loop_holds_the_gate);
  g_test_add_func ("/app-workers/heap-cold", test_heap_cold);
  g_test_add_func ("/app-workers/heap-warmed", test_heap_warmed);
  ret = g_test_run ();
  remove_tree (tmp_root);
  g_free (tmp_root);
  return ret;
}
