/* rr-series-list.h: the series sidebar of the reading window: one row per
 * series with its thumbnail, grouped under a header per study. */
#pragma once

#include <gtk/gtk.h>
#include "rr-dicom.h"

G_BEGIN_DECLS

typedef struct _RrSeriesList RrSeriesList;

RrSeriesList  *rr_series_list_new          (GtkListBox     *box);
void           rr_series_list_free         (RrSeriesList   *self);
/* A task's studies are named by their timepoint and day and listed in
 * chronological order (@task_json: the task as the server lists it, may
 * be NULL); a folder's by their place in @folder (may be NULL). The rows
 * shown so far go at once. */
void           rr_series_list_set_source   (RrSeriesList   *self,
                                            const char     *task_json,
                                            const char     *folder);
/* Fills the list from @scan (borrowed: it must outlive the rows). The
 * thumbnail threads hold @owner. Returns the row to select: the image
 * series @resume_uid if listed, else the first image series of the
 * latest timepoint (of the folder without a task); NULL when there is
 * none. */
GtkListBoxRow *rr_series_list_fill         (RrSeriesList   *self,
                                            RrDicomScan    *scan,
                                            gpointer        owner,
                                            GCancellable   *cancellable,
                                            const char     *resume_uid);
guint          rr_series_list_get_n_rows   (RrSeriesList   *self);
RrDicomSeries *rr_series_list_get_series   (RrSeriesList   *self,
                                            guint           row);
/* The row of a Series Instance UID, or -1. */
int            rr_series_list_find         (RrSeriesList   *self,
                                            const char     *series_uid);
/* The caption of a series' study, for a pane showing it. */
char          *rr_series_list_study_label  (RrSeriesList   *self,
                                            RrDicomSeries  *series);
/* The series of the other studies, to show beside @series (the same
 * modality first), as items of "win.compare" with their row, then "Stop
 * Comparing"; @n_choices says how many series it offers. */
GMenuModel    *rr_series_list_compare_menu (RrSeriesList   *self,
                                            RrDicomSeries  *series,
                                            guint          *n_choices);
/* The row of the prior of the series @series_uid (the latest earlier
 * timepoint's series of the same modality), or -1. */
int            rr_series_list_prior        (RrSeriesList   *self,
                                            const char     *series_uid);
/* The PET of @series' study to fuse over it, when @series is a CT. */
RrDicomSeries *rr_series_list_pet_of       (RrSeriesList   *self,
                                            RrDicomSeries  *series);

G_END_DECLS
