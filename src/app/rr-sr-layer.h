/* rr-sr-layer.h: the measurements of structured reports made elsewhere
 * (TID 1500, e.g. by OHIF) among a folder's files, shown read-only over
 * the images they reference: each caliper on its SOP instance and frame
 * (or its MPR plane), named after its lesion. */
#pragma once

#include <adwaita.h>
#include "rr-dicom.h"

G_BEGIN_DECLS

typedef struct _RrSrLayer RrSrLayer;

RrSrLayer *rr_sr_layer_new   (void);
void       rr_sr_layer_free  (RrSrLayer *self);

/* Replaces what the layer holds with the measurements of the SRs under
 * @scan (at most RR_SR_LAYER_MAX_FILES of them), their image points
 * placed on @scan's images, and keeps what could not be read. It reads
 * files and touches no widget: call it on the scan's worker, on a layer
 * no other thread sees yet. */
#define RR_SR_LAYER_MAX_FILES 64
void       rr_sr_layer_load  (RrSrLayer         *self,
                              RrDicomScan       *scan);

/* On the main thread: says in a toast which reports the last load could
 * not read, if any. */
void       rr_sr_layer_tell_failures (RrSrLayer       *self,
                                      AdwToastOverlay *toasts);

/* Appends copies of the layer's measurements on @series_uid to @items
 * (created when NULL: RrMeasurement, freed with rr_measurement_free). */
GPtrArray *rr_sr_layer_add   (RrSrLayer  *self,
                              GPtrArray  *items,
                              const char *series_uid);

/* Whether @measurement_id is one of the layer's (read-only) measurements. */
gboolean   rr_sr_layer_owns  (RrSrLayer  *self,
                              const char *measurement_id);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RrSrLayer, rr_sr_layer_free)

G_END_DECLS
