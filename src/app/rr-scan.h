/* rr-scan.h: rr_dicom_scan and series loading on a worker, for the views
 * that open a folder (the reading window, adjudication and QC). */
#pragma once

#include <gio/gio.h>
#include "rr-dicom.h"
#include "rr-sr-layer.h"

G_BEGIN_DECLS

/* Scans a copy of paths on a worker; source_object is kept alive until
 * callback runs. */
void         rr_scan_async               (const char * const  *paths,
                                          gpointer             source_object,
                                          GCancellable        *cancellable,
                                          GAsyncReadyCallback  callback,
                                          gpointer             user_data);
RrDicomScan *rr_scan_finish              (GAsyncResult        *result,
                                          GError             **error);
/* The same, and then, on the same worker, the structured reports among
 * the files read, into an RrSrLayer (rr_sr_layer_load): reading them
 * opens files, which the main thread must not wait for. */
void         rr_scan_with_reports_async  (const char * const  *paths,
                                          gpointer             source_object,
                                          GCancellable        *cancellable,
                                          GAsyncReadyCallback  callback,
                                          gpointer             user_data);
/* The scan; @reports (may be NULL) gets the layer when the scan succeeded
 * and was not cancelled meanwhile, else NULL. */
RrDicomScan *rr_scan_with_reports_finish (GAsyncResult        *result,
                                          RrSrLayer          **reports,
                                          GError             **error);

/* What a caller of rr_series_load_async watches while the series decodes;
 * @progress runs on worker threads (keep it cheap and thread-safe),
 * @preview on the main context with the middle slice, first, unless the
 * load is cancelled by then. @data must live as long as the source object. */
typedef struct
{
  RrDicomProgressFunc progress;
  void (*preview) (RrVolume *slice,
                   gpointer  data);
  gpointer data;
} RrSeriesLoadWatch;

/* Decodes @series on a worker (every slice, modality LUT applied); @series
 * belongs to a scan the caller keeps until @callback runs. @watch may be
 * NULL. */
void      rr_series_load_async  (RrDicomSeries           *series,
                                 const RrSeriesLoadWatch *watch,
                                 gpointer                 source_object,
                                 GCancellable            *cancellable,
                                 GAsyncReadyCallback      callback,
                                 gpointer                 user_data);
RrVolume *rr_series_load_finish (GAsyncResult            *result,
                                 GError                 **error);

G_END_DECLS
