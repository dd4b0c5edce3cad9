/* rr-measure-text.h: how measurements read to people, the same in the
 * viewer's labels and in the measurement list. */
#pragma once

#include "rr-measurement.h"

G_BEGIN_DECLS

const char *rr_measure_text_kind  (RrMeasureKind kind);
/* "32.1 × 20.4 mm", "Area 240.3 mm² · mean 41.2 ± 9.8 HU", "91.5°",
 * "120 px (uncalibrated)"... */
char       *rr_measure_text_value (const RrMeasurement   *m,
                                   const RrMeasureValues *v);
/* The lesion a caliper measures, by the caliper's id: "T1", "N2", or
 * NULL when it is no form lesion's. */
typedef const char *(*RrLesionNameFunc) (const char *caliper_id,
                                         gpointer    user_data);

/* Where it was drawn: "Axial · slice 21 / 40" or "Oblique plane". */
char       *rr_measure_text_where (const RrMeasurement *m,
                                   const RrVolume      *volume);

G_END_DECLS
