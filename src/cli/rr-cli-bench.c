/* rr-cli-bench.c: `readroom-cli bench load PATH`: loads every series into
 * volumes exactly as the viewer does and prints slices, bytes, seconds;
 * `bench reslice PATH`: oblique reslices of the largest series, in frames
 * per second. */
#include "rr-cli.h"
#include "rr-dicom.h"
#include "rr-reslice.h"

#include <math.h>

#include <sys/resource.h>

static int
bench_load (const char *path, gboolean json, guint threads)
{
  const char *paths[] = { path, NULL };
  g_autoptr (GError) error = NULL;
  gint64 t0 = g_get_monotonic_time ();
  g_autoptr (RrDicomScan) scan = rr_dicom_scan (paths, threads, NULL, &error);
  guint64 slices = 0, bytes = 0;
  double t_scan, t_total;
  struct rusage ru;
  RrDicomLoadOptions opts = { threads, NULL, NULL };

  if (scan == NULL)
    {
      g_printerr ("readroom-cli bench: %s\n", error->message);
      return RR_EXIT_INPUT;
    }
  t_scan = (g_get_monotonic_time () - t0) / 1e6;
  for (guint i = 0; i < scan->studies->len; i++)
    {
      RrDicomStudy *st = scan->studies->pdata[i];
      for (guint j = 0; j < st->series->len; j++)
        {
          RrDicomSeries *se = st->series->pdata[j];
          if (!se->is_image)
            continue;
          g_autoptr (RrVolume) v = rr_dicom_series_load (se, 0, &opts, NULL, &error);
          if (v == NULL)
            {
              g_printerr ("readroom-cli bench: %s\n", error->message);
              return RR_EXIT_INPUT;
            }
          slices += v->dims[2];
          bytes += v->n_bytes;
        }
    }
  t_total = (g_get_monotonic_time () - t0) / 1e6;
  getrusage (RUSAGE_SELF, &ru);
  /* Nothing loaded is no timing: said on stderr, naming the file, with
   * nothing on stdout that a benchmark would take for a figure. */
  if (slices == 0)
    {
      if (scan->unreadable->len > 0)
        {
          RrDicomUnreadable *u = scan->unreadable->pdata[0];
          g_autofree char *text = rr_cli_path_message (u->path, u->message);
          g_printerr ("readroom-cli bench: %s\n", text);
        }
      else
        g_printerr ("readroom-cli bench: %s: no images to load\n", path);
      return RR_EXIT_INPUT;
    }
  if (json)
    g_print ("{\"slices\": %" G_GUINT64_FORMAT ", \"bytes\": %" G_GUINT64_FORMAT
             ", \"seconds\": %.4f, \"scan_seconds\": %.4f, \"peak_rss_bytes\": %ld}\n",
             slices, bytes, t_total, t_scan, ru.ru_maxrss * 1024L);
  else
    g_print ("slices %" G_GUINT64_FORMAT " bytes %" G_GUINT64_FORMAT " seconds %.4f "
             "(scan %.4f) peak_rss %ld\n", slices, bytes, t_total, t_scan, ru.ru_maxrss * 1024L);
  return RR_EXIT_OK;
}

/* As the viewer opens a cached series: scan, then the middle slice, then
 * the whole volume behind it. */
static int
bench_first_image (const char *path, gboolean json)
{
  const char *paths[] = { path, NULL };
  g_autoptr (GError) error = NULL;
  gint64 t0 = g_get_monotonic_time ();
  g_autoptr (RrDicomScan) scan = rr_dicom_scan (paths, 0, NULL, &error);
  RrDicomSeries *best = NULL;
  double t_first, t_full;

  if (scan == NULL)
    {
      g_printerr ("readroom-cli bench: %s\n", error->message);
      return RR_EXIT_INPUT;
    }
  for (guint i = 0; i < scan->studies->len; i++)
    {
      RrDicomStudy *st = scan->studies->pdata[i];
      for (guint j = 0; j < st->series->len; j++)
        {
          RrDicomSeries *se = st->series->pdata[j];
          if (se->is_image && (best == NULL || se->n_frames > best->n_frames))
            best = se;
        }
    }
  if (best == NULL)
    {
      g_printerr ("readroom-cli bench: %s: no images to load\n", path);
      return RR_EXIT_INPUT;
    }
  g_autoptr (RrVolume) first = rr_dicom_series_load_slice (best, 0, -1, NULL, &error);
  if (first == NULL)
    {
      g_printerr ("readroom-cli bench: %s\n", error->message);
      return RR_EXIT_INPUT;
    }
  t_first = (g_get_monotonic_time () - t0) / 1e6;
  g_autoptr (RrVolume) all = rr_dicom_series_load (best, 0, NULL, NULL, &error);
  if (all == NULL)
    {
      g_printerr ("readroom-cli bench: %s\n", error->message);
      return RR_EXIT_INPUT;
    }
  t_full = (g_get_monotonic_time () - t0) / 1e6;
  if (json)
    g_print ("{\"slices\": %u, \"first_image_seconds\": %.4f, \"full_seconds\": %.4f}\n",
             all->dims[2], t_first, t_full);
  else
    g_print ("slices %u first_image_seconds %.4f full_seconds %.4f\n", all->dims[2], t_first,
             t_full);
  return RR_EXIT_OK;
}

/* The benchmark's planes, which bench/run.py gives VTK too: 512x512,
 * centred on the volume, the pixel a 512th of the volume's width, the
 * normal turning about the patient's z axis by 0.05 rad per frame and
 * tilted up, so that every frame is oblique to all three voxel axes. */
#define RESLICE_SIZE 512

static RrPlane
bench_plane (const RrVolume *v, int frame)
{
  RrPlane pl;
  double a = frame * 0.05;
  rr_plane_init_oblique (&pl, rr_vec3 (cos (a), sin (a), 0.7), rr_vec3 (0, 0.3, 1),
                         rr_volume_center (v), v->dims[0] * v->spacing[0] / RESLICE_SIZE,
                         RESLICE_SIZE, RESLICE_SIZE);
  return pl;
}

/* User and system time of the whole process: under a loaded machine the
 * CPU time per frame varies less than the wall time. */
static double
cpu_seconds (void)
{
  struct rusage ru;
  getrusage (RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
         (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static int
bench_reslice (const char *path, gboolean json, guint threads, double seconds,
               gboolean reference)
{
  const char *paths[] = { path, NULL };
  g_autoptr (GError) error = NULL;
  g_autoptr (RrDicomScan) scan = rr_dicom_scan (paths, 0, NULL, &error);
  g_autofree float *out = g_new (float, RESLICE_SIZE * RESLICE_SIZE);
  RrDicomSeries *best = NULL;
  RrPlane pl;
  double mean = 0, elapsed, cpu0, cpu;
  guint64 inside = 0;
  int frames = 0;
  gint64 t0;

  if (scan == NULL)
    {
      g_printerr ("readroom-cli bench: %s\n", error->message);
      return RR_EXIT_INPUT;
    }
  for (guint i = 0; i < scan->studies->len; i++)
    {
      RrDicomStudy *st = scan->studies->pdata[i];
      for (guint j = 0; j < st->series->len; j++)
        {
          RrDicomSeries *se = st->series->pdata[j];
          if (se->is_image && (best == NULL || se->n_frames > best->n_frames))
            best = se;
        }
    }
  if (best == NULL)
    {
      g_printerr ("readroom-cli bench: %s: no images to load\n", path);
      return RR_EXIT_INPUT;
    }
  g_autoptr (RrVolume) v = rr_dicom_series_load (best, 0, NULL, NULL, &error);
  if (v == NULL)
    {
      g_printerr ("readroom-cli bench: %s\n", error->message);
      return RR_EXIT_INPUT;
    }
  /* Frame 0 once untimed: it warms the code paths, and its mean lets a
   * peer show that it samples the same plane. */
  pl = bench_plane (v, 0);
  (reference ? rr_reslice_reference : rr_reslice) (v, &pl, RR_RESLICE_OUTSIDE, threads, out);
  for (guint p = 0; p < RESLICE_SIZE * RESLICE_SIZE; p++)
    if (out[p] != RR_RESLICE_OUTSIDE)
      mean += out[p], inside++;
  mean = inside ? mean / inside : 0;
  cpu0 = cpu_seconds ();
  t0 = g_get_monotonic_time ();
  do
    {
      pl = bench_plane (v, frames++);
      (reference ? rr_reslice_reference : rr_reslice) (v, &pl, RR_RESLICE_OUTSIDE, threads,
                                                       out);
      elapsed = (g_get_monotonic_time () - t0) / 1e6;
    }
  while (elapsed < seconds);
  cpu = cpu_seconds () - cpu0;
  threads = threads ? threads : g_get_num_processors ();
  pl = bench_plane (v, 0);
  if (json)
    g_print ("{\"dims\": [%u, %u, %u], \"frames\": %d, \"seconds\": %.4f, "
             "\"fps\": %.2f, \"threads\": %u, \"reslicer\": \"%s\", "
             "\"center\": [%.6f, %.6f, %.6f], \"mm_per_pixel\": %.9f, "
             "\"frame0_mean\": %.4f, \"frame0_inside\": %" G_GUINT64_FORMAT ", "
             "\"cpu_ms_per_frame\": %.3f}\n",
             v->dims[0], v->dims[1], v->dims[2], frames, elapsed, frames / elapsed, threads,
             reference ? "reference" : "fast", pl.center.x, pl.center.y, pl.center.z,
             pl.mm_per_pixel, mean, inside, cpu * 1e3 / frames);
  else
    g_print ("volume %ux%ux%u frames %d seconds %.4f fps %.2f threads %u reslicer %s "
             "frame0_mean %.4f cpu_ms_per_frame %.3f\n", v->dims[0], v->dims[1], v->dims[2],
             frames, elapsed, frames / elapsed, threads, reference ? "reference" : "fast", mean,
             cpu * 1e3 / frames);
  return RR_EXIT_OK;
}

int
rr_cli_bench (int argc, char **argv)
{
  gboolean json = FALSE;
  gboolean reference = FALSE;
  int threads = 0;
  g_autofree char *protocol = NULL;
  double seconds = 3;
  GOptionEntry entries[] = {
    { "protocol", 0, 0, G_OPTION_ARG_FILENAME, &protocol, "bench qc: the protocol", "FILE.json" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Machine-readable output", NULL },
    { "threads", 0, 0, G_OPTION_ARG_INT, &threads,
      "Decoding or reslicing threads (default: one per core)", "N" },
    { "seconds", 0, 0, G_OPTION_ARG_DOUBLE, &seconds, "reslice: how long to run (default 3)",
      "S" },
    { "reference", 0, 0, G_OPTION_ARG_NONE, &reference,
      "reslice: time the reference reslicer instead of the fast one", NULL },
    { NULL }
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("load|first-image|reslice|qc PATH");
  g_autoptr (GError) error = NULL;

  g_option_context_set_summary (ctx, "Benchmark timings: 'load PATH' loads every series; "
                                "'first-image PATH' times the first image of the largest; "
                                "'reslice PATH' reslices oblique 512x512 planes through it "
                                "and prints frames per second; 'qc PATH' times the automated QC "
                                "checks.");
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    return rr_cli_usage_error ("bench", error->message);
  if (argc != 3 || (!g_str_equal (argv[1], "load") && !g_str_equal (argv[1], "first-image") &&
                    !g_str_equal (argv[1], "reslice") && !g_str_equal (argv[1], "qc")))
    return rr_cli_usage_error ("bench", "usage: bench load|first-image|reslice|qc PATH");
  if (threads < 0 || threads > 64)
    return rr_cli_usage_error ("bench", "--threads must be 0..64");
  if (!(seconds > 0 && seconds <= 3600))
    return rr_cli_usage_error ("bench", "--seconds must be in (0, 3600]");
  /* Registered before any clock starts, as readroom-cli did for every
   * command before bench moved into the module. */
  rr_dicom_init_codecs ();
  if (g_str_equal (argv[1], "reslice"))
    return bench_reslice (argv[2], json, (guint) threads, seconds, reference);
  if (g_str_equal (argv[1], "first-image"))
    return bench_first_image (argv[2], json);
  if (g_str_equal (argv[1], "qc"))
    return rr_cli_bench_qc (argv[2], protocol, json, (guint) threads);
  return bench_load (argv[2], json, (guint) threads);
}
