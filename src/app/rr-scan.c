/* rr-scan.c: rr_dicom_scan and series loading on a worker. Reading every
 * header of a folder, or decoding a series, takes seconds; the window must
 * keep drawing meanwhile. */
#include "rr-scan.h"
#include "rr-loop-gate.h"

typedef struct
{
  char **paths;
  gboolean with_reports;
} ScanJob;

typedef struct
{
  RrDicomScan *scan;
  RrSrLayer *reports;                 /* NULL unless asked for */
} Scanned;

static void
scan_job_free (ScanJob *job)
{
  g_strfreev (job->paths);
  g_free (job);
}

static void
scanned_free (Scanned *s)
{
  g_clear_pointer (&s->scan, rr_dicom_scan_free);
  g_clear_pointer (&s->reports, rr_sr_layer_free);
  g_free (s);
}

static void
scan_thread (GTask        *task,
             gpointer      source,
             gpointer      data,
             GCancellable *cancellable)
{
  ScanJob *job = data;
  GError *error = NULL;
  RrDicomScan *scan = rr_dicom_scan ((const char * const *) job->paths, 0, cancellable, &error);
  Scanned *s;

  if (scan == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  s = g_new0 (Scanned, 1);
  s->scan = scan;
  /* The reports are parsed here too: reading them opens files, which the
   * main thread must not wait for. */
  if (job->with_reports && !g_cancellable_is_cancelled (cancellable))
    {
      s->reports = rr_sr_layer_new ();
      rr_sr_layer_load (s->reports, scan);
    }
  g_task_return_pointer (task, s, (GDestroyNotify) scanned_free);
}

static void
scan_start (const char * const  *paths,
            gboolean             with_reports,
            gpointer             source_object,
            GCancellable        *cancellable,
            GAsyncReadyCallback  callback,
            gpointer             user_data)
{
  g_autoptr (GTask) task = g_task_new (source_object, cancellable, callback, user_data);
  ScanJob *job = g_new0 (ScanJob, 1);

  job->paths = g_strdupv ((char **) paths);
  job->with_reports = with_reports;
  g_task_set_source_tag (task, scan_start);
  g_task_set_task_data (task, job, (GDestroyNotify) scan_job_free);
  g_task_run_in_thread (task, scan_thread);
}

void
rr_scan_async (const char * const  *paths,
               gpointer             source_object,
               GCancellable        *cancellable,
               GAsyncReadyCallback  callback,
               gpointer             user_data)
{
  scan_start (paths, FALSE, source_object, cancellable, callback, user_data);
}

void
rr_scan_with_reports_async (const char * const  *paths,
                            gpointer             source_object,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  scan_start (paths, TRUE, source_object, cancellable, callback, user_data);
}

RrDicomScan *
rr_scan_finish (GAsyncResult  *result,
                GError       **error)
{
  return rr_scan_with_reports_finish (result, NULL, error);
}

RrDicomScan *
rr_scan_with_reports_finish (GAsyncResult  *result,
                             RrSrLayer    **reports,
                             GError       **error)
{
  Scanned *s;
  RrDicomScan *scan;

  g_return_val_if_fail (G_IS_TASK (result), NULL);
  if (reports)
    *reports = NULL;
  s = g_task_propagate_pointer (G_TASK (result), error);
  if (s == NULL)
    return NULL;
  scan = g_steal_pointer (&s->scan);
  if (reports)
    *reports = g_steal_pointer (&s->reports);
  scanned_free (s);
  return scan;
}

/* ---- one series into a volume ---- */

typedef struct
{
  RrDicomSeries *series;              /* the caller's scan owns it */
  RrSeriesLoadWatch watch;
} SeriesLoad;

typedef struct
{
  GTask *task;                        /* keeps the source object alive */
  RrVolume *slice;
} Preview;

/* On the main context: the middle slice, unless the load was cancelled
 * meanwhile (the viewer has moved on to another series). */
static gboolean
show_preview (gpointer data)
{
  Preview *p = data;
  SeriesLoad *d = g_task_get_task_data (p->task);
  GCancellable *cancellable = g_task_get_cancellable (p->task);

  if (!g_cancellable_is_cancelled (cancellable))
    d->watch.preview (p->slice, d->watch.data);
  rr_volume_unref (p->slice);
  g_object_unref (p->task);
  g_free (p);
  return G_SOURCE_REMOVE;
}

/* Between two slices: the decoders step aside while the window works
 * (rr-loop-gate.c). */
static void
pass_gate (gpointer data)
{
  rr_loop_gate_pass ();
}

static void
series_load_thread (GTask        *task,
                    gpointer      source,
                    gpointer      data,
                    GCancellable *cancellable)
{
  SeriesLoad *d = data;
  GError *error = NULL;
  RrDicomLoadOptions opts = { 0, d->watch.progress, d->watch.data, pass_gate, NULL };
  RrVolume *v;

  if (d->watch.preview)
    {
      RrVolume *slice = rr_dicom_series_load_slice (d->series, 0, -1, cancellable, NULL);
      if (slice)
        {
          Preview *p = g_new0 (Preview, 1);
          g_autoptr (GSource) idle = g_idle_source_new ();
          p->task = g_object_ref (task);
          p->slice = slice;
          /* A source of our own, not g_main_context_invoke: that runs the
           * function right here, on the worker, whenever the main thread
           * happens not to hold its context. At the default priority, as
           * the task's own result, so the preview is not passed over. */
          g_source_set_priority (idle, G_PRIORITY_DEFAULT);
          g_source_set_callback (idle, show_preview, p, NULL);
          g_source_attach (idle, g_task_get_context (task));
        }
    }
  v = rr_dicom_series_load (d->series, 0, &opts, cancellable, &error);
  if (v)
    g_task_return_pointer (task, v, (GDestroyNotify) rr_volume_unref);
  else
    g_task_return_error (task, error);
}

void
rr_series_load_async (RrDicomSeries           *series,
                      const RrSeriesLoadWatch *watch,
                      gpointer                 source_object,
                      GCancellable            *cancellable,
                      GAsyncReadyCallback      callback,
                      gpointer                 user_data)
{
  g_autoptr (GTask) task = g_task_new (source_object, cancellable, callback, user_data);
  SeriesLoad *d = g_new0 (SeriesLoad, 1);

  g_return_if_fail (series != NULL);
  d->series = series;
  if (watch)
    d->watch = *watch;
  g_task_set_source_tag (task, rr_series_load_async);
  g_task_set_task_data (task, d, g_free);
  g_task_run_in_thread (task, series_load_thread);
}

RrVolume *
rr_series_load_finish (GAsyncResult  *result,
                       GError       **error)
{
  g_return_val_if_fail (G_IS_TASK (result), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}
