/* rr-cli-bench.c: `readroom-cli bench load PATH`: loads every series into
 * volumes exactly as the viewer does and prints slices, bytes, seconds. */
#include "rr-cli.h"
#include "rr-dicom.h"

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
  if (json)
    g_print ("{\"slices\": %" G_GUINT64_FORMAT ", \"bytes\": %" G_GUINT64_FORMAT
             ", \"seconds\": %.4f, \"scan_seconds\": %.4f, \"peak_rss_bytes\": %ld}\n",
             slices, bytes, t_total, t_scan, ru.ru_maxrss * 1024L);
  else
    g_print ("slices %" G_GUINT64_FORMAT " bytes %" G_GUINT64_FORMAT " seconds %.4f "
             "(scan %.4f) peak_rss %ld\n", slices, bytes, t_total, t_scan, ru.ru_maxrss * 1024L);
  if (slices == 0)
    {
      if (scan->unreadable->len > 0)
        g_printerr ("readroom-cli bench: %s\n",
                    ((RrDicomUnreadable *) scan->unreadable->pdata[0])->message);
      else
        g_printerr ("readroom-cli bench: %s: no images to load\n", path);
      return RR_EXIT_INPUT;
    }
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

int
rr_cli_bench (int argc, char **argv)
{
  gboolean json = FALSE;
  int threads = 0;
  g_autofree char *protocol = NULL;
  GOptionEntry entries[] = {
    { "protocol", 0, 0, G_OPTION_ARG_FILENAME, &protocol, "bench qc: the protocol", "FILE.json" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Machine-readable output", NULL },
    { "threads", 0, 0, G_OPTION_ARG_INT, &threads, "Decoding threads (default: one per core)", "N" },
    { NULL }
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("load|first-image|qc PATH");
  g_autoptr (GError) error = NULL;

  g_option_context_set_summary (ctx, "Benchmark timings: 'load PATH' loads every series.");
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    return rr_cli_usage_error ("bench", error->message);
  if (argc != 3 || (!g_str_equal (argv[1], "load") && !g_str_equal (argv[1], "first-image") &&
                    !g_str_equal (argv[1], "qc")))
    return rr_cli_usage_error ("bench", "usage: bench load|first-image|qc PATH");
  if (threads < 0 || threads > 64)
    return rr_cli_usage_error ("bench", "--threads must be 0..64");
  if (g_str_equal (argv[1], "first-image"))
    return bench_first_image (argv[2], json);
  if (g_str_equal (argv[1], "qc"))
    return rr_cli_bench_qc (argv[2], protocol, json, (guint) threads);
  return bench_load (argv[2], json, (guint) threads);
}
