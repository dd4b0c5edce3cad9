/* rr-measurement-panel.h: the list of measurements beside the viewer:
 * value, tool, series and slice; choosing one shows it in the viewer. */
#pragma once

#include <gtk/gtk.h>
#include "rr-measurement-history.h"
#include "rr-measure-text.h"

G_BEGIN_DECLS

#define RR_TYPE_MEASUREMENT_PANEL (rr_measurement_panel_get_type ())
G_DECLARE_FINAL_TYPE (RrMeasurementPanel, rr_measurement_panel, RR, MEASUREMENT_PANEL, GtkWidget)

/* Lists @history's measurements (borrowed; NULL: none), valued on
 * @volume. */
void rr_measurement_panel_set_source (RrMeasurementPanel   *self,
                                      RrMeasurementHistory *history,
                                      RrVolume             *volume);
/* Rebuilds the rows after the history changed. */
void rr_measurement_panel_refresh    (RrMeasurementPanel *self);
/* Names each row's lesion before its value ("T1 · 34.3 × 17.2 mm"):
 * @func (NULL: none) is asked at every refresh. */
void rr_measurement_panel_set_lesion_names (RrMeasurementPanel *self,
                                            RrLesionNameFunc    func,
                                            gpointer            user_data);
/* A locked read's measurements are listed, and can be gone to, but their
 * Delete buttons are insensitive. */
void rr_measurement_panel_set_locked (RrMeasurementPanel *self,
                                      gboolean            locked);
/* Marks the row of @id (NULL: none) without emitting "activated". */
void rr_measurement_panel_select     (RrMeasurementPanel *self,
                                      const char         *id);

G_END_DECLS
