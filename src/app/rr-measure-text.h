/* rr-measure-text.h: how measurements read to people, the same in the
 * viewer's labels and in the measurement list. */
#pragma once

#include "rr-measurement.h"

G_BEGIN_DECLS

const char *rr_measure_text_kind  (RrMeasureKind kind);
/* "32.1 × 20.4 mm", "Area 240.3 mm² · mean 41.2 ± 9.8 HU", "91.5°",
 * "120 px (uncalibrated)"... A bidirectional without its short axis
 * says "· short axis not measured" after its long one. */
char       *rr_measure_text_value (const RrMeasurement   *m,
                                   const RrMeasureValues *v);
/* The lesion a caliper measures, by the caliper's id: "T1", "N2", or
 * NULL when it is no form lesion's. @short_axis is set to whether the
 * lesion's short axis is its size (a measured lymph node). */
typedef const char *(*RrLesionNameFunc) (const char *caliper_id,
                                         gboolean   *short_axis,
                                         gpointer    user_data);
/* rr_measure_text_value () with the lesion @func names first ("T1 · 32.1
 * mm"); a lesion whose size is its long axis is not said to lack a short
 * one (a caliper of no lesion still is). @func may be NULL. */
char       *rr_measure_text_lesion_value (const RrMeasurement   *m,
                                          const RrMeasureValues *v,
                                          RrLesionNameFunc       func,
                                          gpointer               user_data);

/* Where it was drawn: "Axial · slice 21 / 40" or "Oblique plane". */
char       *rr_measure_text_where (const RrMeasurement *m,
                                   const RrVolume      *volume);

G_END_DECLS
