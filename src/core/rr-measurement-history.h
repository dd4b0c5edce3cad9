/* rr-measurement-history.h: the measurements of one series with undo and
 * redo; every change is reported at once so it can be saved at once. */
#pragma once

#include "rr-measurement.h"

G_BEGIN_DECLS

typedef enum
{
  RR_MEASUREMENT_ADDED,
  RR_MEASUREMENT_CHANGED,
  RR_MEASUREMENT_REMOVED,
} RrMeasurementChange;

/* Called after each change; @m is the measurement as it now is (as it was,
 * for a removal). A FALSE return (the change could not be saved) undoes
 * the change in memory and drops it from the history. */
typedef gboolean (*RrMeasurementChangedFunc) (RrMeasurementChange  change,
                                              const RrMeasurement *m,
                                              gpointer             user_data);

typedef struct _RrMeasurementHistory RrMeasurementHistory;

RrMeasurementHistory *rr_measurement_history_new     (RrMeasurementChangedFunc func,
                                                      gpointer                 user_data);
void                  rr_measurement_history_free    (RrMeasurementHistory *h);

/* Replaces the contents without reporting or recording (a series opened:
 * its saved measurements). Takes @items' elements. */
void                  rr_measurement_history_reset   (RrMeasurementHistory *h,
                                                      GPtrArray            *items);
/* The measurements, oldest first. */
GPtrArray            *rr_measurement_history_items   (RrMeasurementHistory *h);
const RrMeasurement  *rr_measurement_history_find    (RrMeasurementHistory *h,
                                                      const char           *id);

/* Each is one undoable step. add and put take ownership of @m; put
 * replaces the measurement with @m's id. FALSE when the change was not
 * saved (or, for put and remove, the id is unknown). */
gboolean              rr_measurement_history_add     (RrMeasurementHistory *h,
                                                      RrMeasurement        *m);
gboolean              rr_measurement_history_put     (RrMeasurementHistory *h,
                                                      RrMeasurement        *m);
gboolean              rr_measurement_history_remove  (RrMeasurementHistory *h,
                                                      const char           *id);

gboolean              rr_measurement_history_can_undo (RrMeasurementHistory *h);
gboolean              rr_measurement_history_can_redo (RrMeasurementHistory *h);
gboolean              rr_measurement_history_undo    (RrMeasurementHistory *h);
gboolean              rr_measurement_history_redo    (RrMeasurementHistory *h);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RrMeasurementHistory, rr_measurement_history_free)

G_END_DECLS
