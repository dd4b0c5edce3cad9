/* rr-scan.c: rr_dicom_scan on a worker. Reading every header of a folder
 * takes seconds; the window must keep drawing meanwhile. */
#include "rr-scan.h"

static void
scan_thread (GTask        *task,
             gpointer      source,
             gpointer      data,
             GCancellable *cancellable)
{
  GError *error = NULL;
  RrDicomScan *scan = rr_dicom_scan (data, 0, cancellable, &error);
  if (scan)
    g_task_return_pointer (task, scan, (GDestroyNotify) rr_dicom_scan_free);
  else
    g_task_return_error (task, error);
}

void
rr_scan_async (const char * const  *paths,
               gpointer             source_object,
               GCancellable        *cancellable,
               GAsyncReadyCallback  callback,
               gpointer             user_data)
{
  g_autoptr (GTask) task = g_task_new (source_object, cancellable, callback, user_data);
  g_task_set_source_tag (task, rr_scan_async);
  g_task_set_task_data (task, g_strdupv ((char **) paths), (GDestroyNotify) g_strfreev);
  g_task_run_in_thread (task, scan_thread);
}

RrDicomScan *
rr_scan_finish (GAsyncResult  *result,
                GError       **error)
{
  g_return_val_if_fail (G_IS_TASK (result), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}
