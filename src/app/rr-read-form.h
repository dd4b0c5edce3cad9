/* rr-read-form.h: the lesion form of a read task beside the viewer:
 * calipers become target, non-target and new lesions, the response is
 * computed as the reader measures, every edit is saved at once, and the
 * read is signed and submitted from here. */
#pragma once

#include <gtk/gtk.h>
#include "rr-measurement-history.h"
#include "rr-store.h"

G_BEGIN_DECLS

#define RR_TYPE_READ_FORM (rr_read_form_get_type ())
G_DECLARE_FINAL_TYPE (RrReadForm, rr_read_form, RR, READ_FORM, GtkWidget)

/* Works on @task_id of @account (NULL: no task; the form hides). @store
 * is borrowed for reads on the main thread; writes go through a
 * connection of the form's own on a worker. @ca_file: the server's extra
 * CA certificates, for submission. */
void        rr_read_form_set_task             (RrReadForm  *self,
                                               RrStore     *store,
                                               gint64       account,
                                               const char  *task_id,
                                               const char  *ca_file);
/* A caliper of the task changed (saved already); bound lesions follow. */
void        rr_read_form_measurement_changed  (RrReadForm           *self,
                                               RrMeasurementChange   change,
                                               const RrMeasurement  *m);
/* The caliper selected in the viewer (NULL: none), for "make target". */
void        rr_read_form_set_selected         (RrReadForm *self,
                                               const char *measurement_id);
/* The series shown, for the slice thickness a new target records. */
void        rr_read_form_set_volume           (RrReadForm     *self,
                                               const RrVolume *volume);
/* A caliper the form knows (this task's, or the reader's earlier read's). */
const RrMeasurement *rr_read_form_get_caliper (RrReadForm *self,
                                               const char *id);
/* The calipers the form knows on the series @series_uid (copies): on an
 * earlier timepoint's series, the reader's earlier readings. */
GPtrArray  *rr_read_form_list_calipers        (RrReadForm *self,
                                               const char *series_uid);
/* "make-target", "make-non-target", "make-new-lesion" on the caliper
 * selected in the viewer, for its context menu ("read.*"). */
GActionGroup *rr_read_form_get_caliper_actions (RrReadForm *self);
/* The lesion (its id, "T1") caliper @caliper_id measures, or NULL: an
 * RrLesionNameFunc, @form the RrReadForm. */
const char *rr_read_form_lesion_of            (const char *caliper_id,
                                               gboolean   *short_axis,
                                               gpointer    form);
/* Submitted (or waiting in the outbox): nothing in the task may change. */
gboolean    rr_read_form_is_locked            (RrReadForm *self);
void        rr_read_form_recheck              (RrReadForm *self);
/* Why the task's measurements cannot change, for the reader. */
const char *rr_read_form_lock_reason          (RrReadForm *self);

G_END_DECLS
