/* rr-scan.h: rr_dicom_scan on a worker, for the views that open a folder
 * (the reading window and the adjudication view). */
#pragma once

#include <gio/gio.h>
#include "rr-dicom.h"

G_BEGIN_DECLS

/* Scans a copy of paths on a worker; source_object is kept alive until
 * callback runs. */
void         rr_scan_async  (const char * const  *paths,
                             gpointer             source_object,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data);
RrDicomScan *rr_scan_finish (GAsyncResult        *result,
                             GError             **error);

G_END_DECLS
