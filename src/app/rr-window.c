/* rr-window.c: scans a folder on a worker thread, lists its series with
 * thumbnails, and loads the chosen one into the viewer with progress. */
#include "rr-window.h"
#include "rr-viewport.h"
#include "rr-series-list.h"
#include "rr-measurement-panel.h"
#include "rr-read-form.h"
#include "rr-read-submitted.h"
#include "rr-wrap-box.h"
#include "rr-accels.h"
#include "rr-sr-layer.h"
#include "rr-adjudication-view.h"
#include "rr-upload-view.h"
#include "rr-qc-view.h"
#include "rr-login-dialog.h"
#include "rr-account-button.h"
#include "rr-task-title.h"
#include "rr-worklist.h"
#include "rr-sync.h"
#include "rr-dicom.h"
#include "rr-store.h"
#include "rr-store-writer.h"
#include "rr-session.h"
#include "rr-accessible.h"
#include "rr-scan.h"

#include <glib/gi18n.h>
#include <json-glib/json-glib.h>
#include <string.h>

struct _RrWindow
{
  AdwApplicationWindow parent_instance;

  GtkStack *stack;
  GtkWidget *viewer_controls;     /* in the header bar, only with the viewer */
  GtkListBox *series_list;
  RrViewport *view;
  GtkProgressBar *progress;
  GtkToggleButton *fuse_button;
  GtkMenuButton *compare_button;
  char *compare_label;            /* the study being loaded for comparison */
  char *current_label;            /* ...and the study shown */
  GtkDropDown *slab_mode;
  GtkSpinButton *slab_mm;
  GtkDropDown *colormap;
  gboolean syncing;               /* controls follow the viewer: no feedback */
  RrDicomSeries *fusion_series;   /* the PET that can go over the current CT */
  AdwWindowTitle *window_title;
  AdwToastOverlay *toasts;
  GtkSpinner *scan_spinner;
  RrMeasurementPanel *measurements;
  RrReadForm *read_form;          /* the lesion form of the task open */
  RrAdjudicationView *adjudication; /* an adjudication task's own workspace */
  RrUploadView *upload;           /* the site's upload page */
  RrQcView *qc;                     /* a QC or query task's */
  char *pending_show;             /* a caliper to show once its series is loaded */
  RrWorklist *worklist;
  GtkButton *worklist_button;
  RrAccountButton *account;      /* who is signed in, and where */
  char *task_id;                  /* the task open, if one is */
  gint64 task_account;            /* ...its account in the local database */
  char *draft_series;             /* ...the series its draft was last on, to go back to */

  RrStore *store;                 /* the local database; NULL when it cannot open */
  RrStoreWriter *writer;          /* ...and its writes that need not be waited for */
  char *store_error;              /* ...and why */
  RrMeasurementHistory *history;  /* the measurements of the series shown */
  RrSrLayer *sr_layer;            /* ...and those of the folder's SRs, read-only */
  char *history_series;           /* its Series Instance UID */
  guint refresh_source;

  GCancellable *cancellable;      /* the folder scan and everything after it */
  GCancellable *load_cancellable; /* the series being loaded */
  RrDicomScan *scan;
  GSettings *settings;            /* NULL when the schema is not installed */
  GPtrArray *old_scans;           /* earlier folders' scans, kept until the window goes:
                                     thumbnail and load threads may still read them */
  RrSeriesList *series;           /* the rows of series_list */
  char *folder;                   /* the folder opened, for relative names */
  gint progress_done, progress_total;
  guint progress_source;
};

G_DEFINE_FINAL_TYPE (RrWindow, rr_window, ADW_TYPE_APPLICATION_WINDOW)

enum
{
  PROP_0,
  PROP_LAYOUT,
  PROP_TOOL,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static const char *layout_names[] = { "single", "mpr", "side", "grid" };

static const char *
tool_name (int tool)
{
  return tool == RR_TOOL_NAVIGATE ? "navigate" : rr_measure_kind_to_string (tool);
}

static void
rr_window_get_property (GObject    *object,
                        guint       prop_id,
                        GValue     *value,
                        GParamSpec *pspec)
{
  RrWindow *self = RR_WINDOW (object);
  switch (prop_id)
    {
    case PROP_LAYOUT:
      g_value_set_string (value, layout_names[self->view ? rr_viewport_get_layout (self->view)
                                                         : RR_LAYOUT_SINGLE]);
      break;
    case PROP_TOOL:
      g_value_set_string (value, tool_name (self->view ? rr_viewport_get_tool (self->view)
                                                       : RR_TOOL_NAVIGATE));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
rr_window_set_property (GObject      *object,
                        guint         prop_id,
                        const GValue *value,
                        GParamSpec   *pspec)
{
  RrWindow *self = RR_WINDOW (object);
  switch (prop_id)
    {
    case PROP_LAYOUT:
      for (guint i = 0; i < G_N_ELEMENTS (layout_names); i++)
        if (g_strcmp0 (g_value_get_string (value), layout_names[i]) == 0 && self->view &&
            rr_viewport_get_layout (self->view) != (RrLayout) i)
          {
            rr_viewport_set_layout (self->view, (RrLayout) i);
            g_object_notify_by_pspec (object, properties[PROP_LAYOUT]);
          }
      break;
    case PROP_TOOL:
      {
        RrMeasureKind kind;
        int tool = RR_TOOL_NAVIGATE;
        if (rr_measure_kind_from_string (g_value_get_string (value), &kind))
          tool = kind;
        if (self->view && rr_viewport_get_tool (self->view) != tool)
          {
            rr_viewport_set_tool (self->view, tool);
            g_object_notify_by_pspec (object, properties[PROP_TOOL]);
          }
      }
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
view_action (GtkWidget  *widget,
             const char *action,
             GVariant   *param)
{
  RrWindow *self = RR_WINDOW (widget);
  if (g_str_equal (action, "win.invert"))
    rr_viewport_toggle_invert (self->view);
  else if (g_str_equal (action, "win.reset"))
    rr_viewport_reset (self->view);
  else if (g_str_equal (action, "win.zoom-in"))
    rr_viewport_zoom (self->view, 1.25);
  else if (g_str_equal (action, "win.zoom-out"))
    rr_viewport_zoom (self->view, 1 / 1.25);
  else if (g_str_equal (action, "win.rotate-cw"))
    rr_viewport_turn (self->view, 1);
  else if (g_str_equal (action, "win.rotate-ccw"))
    rr_viewport_turn (self->view, -1);
  else if (g_str_equal (action, "win.flip-horizontal"))
    rr_viewport_flip (self->view, TRUE);
  else if (g_str_equal (action, "win.flip-vertical"))
    rr_viewport_flip (self->view, FALSE);
}

static void
toast (RrWindow   *self,
       const char *message)
{
  adw_toast_overlay_add_toast (self->toasts, adw_toast_new (message));
}

static void
on_page_changed (RrWindow *self)
{
  gtk_widget_set_visible (self->viewer_controls,
                          g_strcmp0 (gtk_stack_get_visible_child_name (self->stack), "browser") == 0);
}

/* ---- measurements ---- */

static void
update_undo_actions (RrWindow *self)
{
  /* A locked read's measurements do not change: nothing to undo there. */
  gboolean locked = rr_read_form_is_locked (self->read_form);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.undo", !locked && self->history &&
                                 rr_measurement_history_can_undo (self->history));
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.redo", !locked && self->history &&
                                 rr_measurement_history_can_redo (self->history));
  rr_measurement_panel_set_locked (self->measurements, locked);
  rr_viewport_set_locked (self->view, locked);
}

static gboolean
refresh_measurements (gpointer data)
{
  RrWindow *self = data;
  self->refresh_source = 0;
  rr_measurement_panel_refresh (self->measurements);
  rr_measurement_panel_select (self->measurements, rr_viewport_get_selected (self->view));
  rr_viewport_measurements_changed (self->view);
  update_undo_actions (self);
  return G_SOURCE_REMOVE;
}

/* The form's lesions changed: the calipers' labels name them. */
static void
on_lesions_changed (RrWindow *self)
{
  rr_measurement_panel_refresh (self->measurements);
  rr_measurement_panel_select (self->measurements, rr_viewport_get_selected (self->view));
  /* The earlier reads' calipers on the prior's pane: a synchronisation
   * may have brought them since it opened. */
  if (rr_viewport_get_compare_series (self->view))
    {
      g_autoptr (GPtrArray) earlier = rr_read_form_list_calipers (
        self->read_form, rr_viewport_get_compare_series (self->view));
      rr_viewport_set_compare_measurements (self->view, earlier);
    }
  gtk_widget_queue_draw (GTK_WIDGET (self->view));
}

static void
draft_saved (GObject      *source,
             GAsyncResult *result,
             gpointer      data)
{
  RrWindow *self = RR_WINDOW (source);
  g_auto (GStrv) task_series = data;
  g_autoptr (GError) error = NULL;

  if (self->toasts == NULL)     /* the window is going */
    return;
  if (!rr_store_writer_put_draft_finish (result, &error))
    {
      g_autofree char *msg = g_strdup_printf (_("Your place in this task was not saved: %s"),
                                              error->message);
      toast (self, msg);
      return;
    }
  if (g_strcmp0 (task_series[0], self->task_id) == 0)
    {
      g_free (self->draft_series);
      self->draft_series = g_strdup (task_series[1]);
    }
  /* The worklist says which tasks have a draft. */
  rr_worklist_reload (self->worklist);
}

/* A task open: the reader's place in it is its draft, kept in the local
 * database whatever the server later does with the task. Written when the
 * reader moves to another series; the measurements keep themselves. */
static void
save_draft (RrWindow   *self,
            const char *series_uid)
{
  g_autoptr (JsonBuilder) b = NULL;
  g_autoptr (JsonGenerator) g = NULL;
  g_autoptr (JsonNode) root = NULL;
  g_autofree char *json = NULL;

  if (self->task_id == NULL || self->writer == NULL || series_uid == NULL ||
      g_strcmp0 (series_uid, self->draft_series) == 0)
    return;
  b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "series");
  json_builder_add_string_value (b, series_uid);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  g = json_generator_new ();
  json_generator_set_root (g, root);
  json = json_generator_to_data (g, NULL);
  /* On the writer's thread: a commit waits for its fsync, and for the
   * sync thread's write lock while downloads run. */
  rr_store_writer_put_draft_async (self->writer, self->task_account, self->task_id, json, self,
                                   draft_saved,
                                   g_strdupv ((char **) (const char *[]) { self->task_id,
                                                                           series_uid, NULL }));
}

static void
links_saved (GObject *source, GAsyncResult *result, gpointer data)
{
  g_autoptr (GError) error = NULL;
  if (!rr_store_writer_put_draft_finish (result, &error) && RR_WINDOW (source)->toasts)
    toast (RR_WINDOW (source), error->message);
}

/* "Link here": the offset is the task's, kept in its draft. */
static void
on_link_kept (RrWindow *self)
{
  g_autofree char *json = rr_viewport_get_kept_links (self->view);
  if (self->task_id && self->writer)
    rr_store_writer_put_links_async (self->writer, self->task_account, self->task_id, json, self,
                                     links_saved, NULL);
}

/* A change the database refused: the reason is shown, and the series
 * shows what is saved again (later changes were written after it). */
static void
measurement_saved (GObject      *source,
                   GAsyncResult *result,
                   gpointer      data)
{
  RrWindow *self = RR_WINDOW (source);
  g_autoptr (RrMeasurement) m = data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) saved = NULL;
  g_autofree char *msg = NULL;
  const RrMeasurement *kept;

  if (rr_store_writer_measurement_finish (result, &error) || self->toasts == NULL)
    return;
  msg = g_strdup_printf (_("The measurement was not saved: %s"), error->message);
  toast (self, msg);
  if (self->store == NULL || self->history == NULL ||
      g_strcmp0 (m->series_uid, self->history_series) != 0)
    return;
  saved = rr_store_list_measurements (self->store, self->task_account, self->task_id,
                                      m->series_uid, NULL, NULL);
  rr_measurement_history_reset (self->history, saved);
  kept = rr_measurement_history_find (self->history, m->id);
  rr_read_form_measurement_changed (self->read_form, kept ? RR_MEASUREMENT_CHANGED
                                    : RR_MEASUREMENT_REMOVED, kept ? kept : m);
  refresh_measurements (self);
}

/* Every change is queued for the database as it is made; one the database
 * refuses is undone with the reason shown (measurement_saved). */
static gboolean
on_measurement_change (RrMeasurementChange  change,
                       const RrMeasurement *m,
                       gpointer             data)
{
  RrWindow *self = data;

  if (rr_sr_layer_owns (self->sr_layer, m->id))
    {
      toast (self, _("Measurements from a structured report cannot change"));
      return FALSE;
    }
  if (self->store == NULL || self->writer == NULL)
    {
      g_autofree char *msg = g_strdup_printf (_("Measurements cannot be saved: %s"),
                                              self->store_error
                                                ? self->store_error
                                                : _("the local database is still opening"));
      toast (self, msg);
      return FALSE;
    }
  if (rr_read_form_is_locked (self->read_form))
    {
      toast (self, rr_read_form_lock_reason (self->read_form));
      return FALSE;
    }
  /* On the writer's thread, in order: a commit waits for its fsync. */
  rr_store_writer_measurement_async (self->writer, self->task_account, self->task_id, m,
                                     change == RR_MEASUREMENT_REMOVED, self, measurement_saved,
                                     rr_measurement_copy (m));
  rr_read_form_measurement_changed (self->read_form, change, m);
  if (self->refresh_source == 0)
    self->refresh_source = g_idle_add_full (G_PRIORITY_HIGH_IDLE, refresh_measurements, self,
                                            NULL);
  return TRUE;
}

/* The viewer shows @v: its series' saved measurements come with it. */
static void
use_measurements_of (RrWindow *self,
                     RrVolume *v)
{
  const char *series = v ? v->series_uid : NULL;

  if (series == NULL || g_strcmp0 (series, self->history_series) != 0)
    {
      g_autoptr (GPtrArray) saved = NULL;
      rr_viewport_set_history (self->view, NULL);
      g_clear_pointer (&self->history, rr_measurement_history_free);
      g_clear_pointer (&self->history_series, g_free);
      if (series)
        {
          g_autoptr (GError) error = NULL;
          guint skipped = 0;
          self->history = rr_measurement_history_new (on_measurement_change, self);
          self->history_series = g_strdup (series);
          if (self->store)
            saved = rr_read_submitted_measurements (self->store, self->task_account,
                                                    self->task_id, series, &skipped, &error);
          if (error)
            toast (self, error->message);
          else if (skipped)
            toast (self, _("Some saved measurements could not be read and are not shown"));
          saved = rr_sr_layer_add (self->sr_layer, g_steal_pointer (&saved), series);
          rr_measurement_history_reset (self->history, saved);
        }
      rr_viewport_set_history (self->view, self->history);
    }
  rr_measurement_panel_set_source (self->measurements, self->history, v);
  rr_read_form_set_volume (self->read_form, v);
  update_undo_actions (self);
}

/* The slab and colour controls show the active pane's state, and set it. */
static void
on_view_changed (RrViewport *view,
                 GParamSpec *pspec,
                 RrWindow   *self)
{
  RrSlabMode mode;
  double mm;
  rr_viewport_get_slab (view, &mode, &mm);
  self->syncing = TRUE;
  gtk_drop_down_set_selected (self->slab_mode, mode);
  gtk_spin_button_set_value (self->slab_mm, mm);
  gtk_widget_set_sensitive (GTK_WIDGET (self->slab_mm), mode != RR_SLAB_NONE);
  gtk_drop_down_set_selected (self->colormap, rr_viewport_get_colormap (view));
  self->syncing = FALSE;
}

static void
on_slab_changed (RrWindow *self)
{
  if (self->syncing)
    return;
  rr_viewport_set_slab (self->view, gtk_drop_down_get_selected (self->slab_mode),
                        gtk_spin_button_get_value (self->slab_mm));
}

static void
on_colormap_changed (RrWindow *self)
{
  if (!self->syncing)
    rr_viewport_set_colormap (self->view, gtk_drop_down_get_selected (self->colormap));
}

static void
on_panel_activated (RrMeasurementPanel *panel,
                    const char         *id,
                    RrWindow           *self)
{
  rr_viewport_show_measurement (self->view, id);
}

static void
on_view_selection_changed (RrViewport *view,
                           RrWindow   *self)
{
  rr_measurement_panel_select (self->measurements, rr_viewport_get_selected (view));
  rr_read_form_set_selected (self->read_form, rr_viewport_get_selected (view));
}

/* The form's "go to": the caliper's series (loaded first if another is
 * shown), centred on the caliper. */
static void
on_form_go_to (RrReadForm *form,
               const char *series,
               const char *id,
               RrWindow   *self)
{
  if (g_strcmp0 (series, self->history_series) == 0)
    {
      const RrMeasurement *m = rr_read_form_get_caliper (form, id);
      /* An earlier read's caliper is not this task's to draw: its place. */
      if (self->history && rr_measurement_history_find (self->history, id) == NULL && m)
        rr_viewport_set_point (self->view, rr_measurement_center (m));
      else
        rr_viewport_show_measurement (self->view, id);
      return;
    }
  /* The prior's caliper, shown beside: both panes go to its place. */
  if (rr_read_form_get_caliper (form, id) &&
      rr_viewport_show_in_compare (self->view, series,
                                   rr_measurement_center (rr_read_form_get_caliper (form, id))))
    return;
  {
    int r = rr_series_list_find (self->series, series);
    if (r >= 0)
      {
        g_free (self->pending_show);
        self->pending_show = g_strdup (id);
        gtk_list_box_select_row (self->series_list,
                                 gtk_list_box_get_row_at_index (self->series_list, r));
      }
  }
}

static void
undo_action (GtkWidget  *widget,
             const char *name,
             GVariant   *param)
{
  RrWindow *self = RR_WINDOW (widget);
  if (self->history == NULL)
    return;
  if (g_str_equal (name, "win.undo"))
    rr_measurement_history_undo (self->history);
  else
    rr_measurement_history_redo (self->history);
  g_clear_handle_id (&self->refresh_source, g_source_remove);
  refresh_measurements (self);
}

/* ---- loading a series ---- */

static gboolean
is_cancelled (const GError *error)
{
  return g_error_matches (error, RR_DICOM_ERROR, RR_DICOM_ERROR_CANCELLED) ||
         g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

static void
progress_cb (guint    done,
             guint    total,
             gpointer data)
{
  RrWindow *self = data;
  g_atomic_int_set (&self->progress_total, total);
  g_atomic_int_set (&self->progress_done, done);
}

static gboolean
progress_tick (gpointer data)
{
  RrWindow *self = data;
  int total = g_atomic_int_get (&self->progress_total);
  if (total > 0)
    gtk_progress_bar_set_fraction (self->progress,
                                   (double) g_atomic_int_get (&self->progress_done) / total);
  return G_SOURCE_CONTINUE;
}

/* On the main loop: the middle slice, unless the whole volume came first. */
static void
show_preview (RrVolume *slice,
              gpointer  data)
{
  RrWindow *self = data;
  if (rr_viewport_get_volume (self->view) == NULL)
    {
      rr_viewport_set_volume (self->view, slice);
      use_measurements_of (self, slice);
    }
}

/* A whole series, on a worker; the series shown also reports progress and
 * shows its middle slice at once. */
static void
load_volume_async (RrWindow            *self,
                   RrDicomSeries       *series,
                   gboolean             with_progress,
                   GAsyncReadyCallback  done)
{
  RrSeriesLoadWatch watch = { progress_cb, show_preview, self };
  rr_series_load_async (series, with_progress ? &watch : NULL, self, self->load_cancellable,
                        done, NULL);
}

static void
stop_progress (RrWindow *self)
{
  g_clear_handle_id (&self->progress_source, g_source_remove);
  gtk_widget_set_visible (GTK_WIDGET (self->progress), FALSE);
}

static void
load_done (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  RrWindow *self = RR_WINDOW (source);
  g_autoptr (GError) error = NULL;
  g_autoptr (RrVolume) v = rr_series_load_finish (result, &error);

  if (is_cancelled (error))
    return;
  stop_progress (self);
  if (v == NULL)
    {
      toast (self, error->message);
      return;
    }
  {
    double c, w;
    int prior;
    gboolean had_preview = rr_viewport_get_volume (self->view) != NULL;
    RrVec3 point = rr_viewport_get_point (self->view);
    rr_viewport_get_window (self->view, &c, &w);
    rr_viewport_set_volume (self->view, v);
    use_measurements_of (self, v);
    /* Keep what the reader did while the rest decoded. */
    if (had_preview)
      {
        rr_viewport_set_point (self->view, point);
        rr_viewport_set_window (self->view, c, w);
      }
    if (self->pending_show)
      {
        g_autofree char *id = g_steal_pointer (&self->pending_show);
        on_form_go_to (self->read_form, v->series_uid, id, self);
      }
    /* A task's later timepoint opens beside its prior. */
    if (self->task_id && (prior = rr_series_list_prior (self->series, v->series_uid)) >= 0)
      gtk_widget_activate_action (GTK_WIDGET (self), "win.compare", "i", prior);
  }
}

static void
fusion_done (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  RrWindow *self = RR_WINDOW (source);
  g_autoptr (GError) error = NULL;
  g_autoptr (RrVolume) v = rr_series_load_finish (result, &error);
  if (v == NULL)
    {
      if (!is_cancelled (error))
        {
          toast (self, error->message);
          gtk_toggle_button_set_active (self->fuse_button, FALSE);
        }
      return;
    }
  if (gtk_toggle_button_get_active (self->fuse_button))
    rr_viewport_set_fusion (self->view, v);
}

static void
on_fuse_toggled (GtkToggleButton *button,
                 RrWindow        *self)
{
  if (!gtk_toggle_button_get_active (button) || self->fusion_series == NULL)
    {
      rr_viewport_set_fusion (self->view, NULL);
      return;
    }
  load_volume_async (self, self->fusion_series, FALSE, fusion_done);
}

/* A PET of the same study (same frame of reference) can be fused over a
 * CT. */
static void
update_fusion_choice (RrWindow      *self,
                      RrDicomSeries *series)
{
  self->fusion_series = rr_series_list_pet_of (self->series, series);
  gtk_toggle_button_set_active (self->fuse_button, FALSE);
  gtk_widget_set_visible (GTK_WIDGET (self->fuse_button), self->fusion_series != NULL);
}

/* ---- prior and current side by side ---- */

static void
compare_done (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  RrWindow *self = RR_WINDOW (source);
  g_autoptr (GError) error = NULL;
  g_autoptr (RrVolume) v = rr_series_load_finish (result, &error);
  if (v == NULL)
    {
      if (!is_cancelled (error))
        toast (self, error->message);
      return;
    }
  rr_viewport_set_compare (self->view, v, self->current_label, self->compare_label);
  {
    /* The reader's earlier readings of that series, drawn on its pane. */
    g_autoptr (GPtrArray) earlier = rr_read_form_list_calipers (self->read_form, v->series_uid);
    rr_viewport_set_compare_measurements (self->view, earlier);
  }
  g_object_set (self, "layout", "side", NULL);
}

static void
compare_action (GtkWidget  *widget,
                const char *name,
                GVariant   *param)
{
  RrWindow *self = RR_WINDOW (widget);
  int row = g_variant_get_int32 (param);
  RrDicomSeries *se;
  if (row < 0 || (guint) row >= rr_series_list_get_n_rows (self->series))
    {
      rr_viewport_set_compare (self->view, NULL, NULL, NULL);
      return;
    }
  se = rr_series_list_get_series (self->series, row);
  g_free (self->compare_label);
  self->compare_label = rr_series_list_study_label (self->series, se);
  load_volume_async (self, se, FALSE, compare_done);
}

/* The series of the folder's other studies, to show beside this one:
 * the same modality first. */
static void
update_compare_choice (RrWindow      *self,
                       RrDicomSeries *series)
{
  guint n_choices;
  g_autoptr (GMenuModel) menu = rr_series_list_compare_menu (self->series, series, &n_choices);

  g_free (self->current_label);
  self->current_label = rr_series_list_study_label (self->series, series);
  gtk_menu_button_set_menu_model (self->compare_button, menu);
  gtk_widget_set_visible (GTK_WIDGET (self->compare_button), n_choices > 0);
  rr_viewport_set_compare (self->view, NULL, NULL, NULL);
}

static void
load_series (RrWindow      *self,
             RrDicomSeries *series)
{
  g_cancellable_cancel (self->load_cancellable);
  g_clear_object (&self->load_cancellable);
  self->load_cancellable = g_cancellable_new ();
  update_fusion_choice (self, series);
  update_compare_choice (self, series);

  /* The worker shows the middle slice first, then the whole volume. */
  rr_viewport_set_volume (self->view, NULL);
  use_measurements_of (self, NULL);
  g_atomic_int_set (&self->progress_done, 0);
  g_atomic_int_set (&self->progress_total, 0);
  gtk_progress_bar_set_fraction (self->progress, 0);
  gtk_widget_set_visible (GTK_WIDGET (self->progress), TRUE);
  g_clear_handle_id (&self->progress_source, g_source_remove);
  self->progress_source = g_timeout_add (50, progress_tick, self);
  load_volume_async (self, series, TRUE, load_done);
}

static void
on_row_selected (GtkListBox    *box,
                 GtkListBoxRow *row,
                 RrWindow      *self)
{
  RrDicomSeries *series;
  if (row == NULL)
    return;
  series = rr_series_list_get_series (self->series, gtk_list_box_row_get_index (row));
  load_series (self, series);
  if (series->is_image)
    save_draft (self, series->series_uid);
  gtk_widget_grab_focus (GTK_WIDGET (self->view));
}

/* ---- scanning a folder ---- */

static void
scan_done (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  RrWindow *self = RR_WINDOW (source);
  g_autoptr (GError) error = NULL;
  RrSrLayer *reports = NULL;
  RrDicomScan *scan = rr_scan_with_reports_finish (result, &reports, &error);
  GtkListBoxRow *select;

  gtk_spinner_stop (self->scan_spinner);
  if (scan == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          gtk_stack_set_visible_child_name (self->stack, "empty");
          toast (self, error->message);
        }
      return;
    }
  if (self->scan)
    g_ptr_array_add (self->old_scans, g_steal_pointer (&self->scan));
  self->scan = scan;
  rr_sr_layer_free (self->sr_layer);
  self->sr_layer = reports ? reports : rr_sr_layer_new ();
  rr_sr_layer_tell_failures (self->sr_layer, self->toasts);
  select = rr_series_list_fill (self->series, scan, self, self->cancellable, self->draft_series);
  if (rr_series_list_get_n_rows (self->series) == 0)
    {
      gtk_stack_set_visible_child_name (self->stack, "empty");
      toast (self, _("No DICOM images in this folder"));
      return;
    }
  gtk_stack_set_visible_child_name (self->stack, "browser");
  if (scan->unreadable->len > 0)
    {
      g_autofree char *msg = g_strdup_printf (g_dngettext (NULL, "%u file could not be read",
                                                           "%u files could not be read",
                                                           scan->unreadable->len),
                                              scan->unreadable->len);
      toast (self, msg);
    }
  /* A task's draft: back where the reader was. */
  if (select)
    gtk_list_box_select_row (self->series_list, select);
}

/* Before another folder or task: what runs for the current one stops, and
 * the viewer empties. */
static void
leave_source (RrWindow *self)
{
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_cancellable_cancel (self->load_cancellable);
  self->cancellable = g_cancellable_new ();
  stop_progress (self);
  rr_viewport_set_volume (self->view, NULL);
  rr_viewport_forget_links (self->view);  /* the reader's offsets were this task's */
  g_clear_pointer (&self->folder, g_free);
  rr_series_list_set_source (self->series, NULL, NULL);
  g_clear_pointer (&self->task_id, g_free);
  self->task_account = 0;
  rr_read_form_set_task (self->read_form, NULL, 0, NULL, NULL);
  rr_adjudication_view_set_task (self->adjudication, NULL, 0, NULL, NULL, NULL);
  rr_qc_view_set_task (self->qc, NULL, 0, NULL, NULL, NULL);
  g_clear_pointer (&self->draft_series, g_free);
}

static void
start_scan (RrWindow           *self,
            const char *const  *paths)
{
  gtk_stack_set_visible_child_name (self->stack, "scanning");
  gtk_spinner_start (self->scan_spinner);
  rr_scan_with_reports_async (paths, self, self->cancellable, scan_done, NULL);
}

/* ---- the worklist ---- */

static void
session_saved (GObject      *source,
               GAsyncResult *result,
               gpointer      data)
{
  RrWindow *self = RR_WINDOW (source);
  g_autoptr (GError) error = NULL;
  gboolean in_file = FALSE;
  if (self->toasts == NULL)
    return;
  if (!rr_session_save_finish (result, &in_file, &error))
    toast (self, error->message);
  else if (in_file)
    toast (self, _("No keyring: your session is kept in a file only you can read"));
}

/* A setting, or NULL when empty or when there is no schema. */
static char *
setting (RrWindow   *self,
         const char *key)
{
  g_autofree char *v = self->settings ? g_settings_get_string (self->settings, key) : NULL;
  return v && *v ? g_steal_pointer (&v) : NULL;
}

/* Nothing of the account signed in stays: its task, calipers, worklist
 * and session go, so the next person sees none of it (blinding). */
static void
sign_out (RrWindow *self)
{
  leave_source (self);
  use_measurements_of (self, NULL);
  rr_session_sign_out (self->store, rr_worklist_get_account (self->worklist), self->settings);
  rr_worklist_sign_out (self->worklist);
  rr_account_button_sign_out (self->account);
  gtk_widget_set_visible (GTK_WIDGET (self->worklist_button), FALSE);
  gtk_stack_set_visible_child_name (self->stack, "empty");
  adw_window_title_set_subtitle (self->window_title, NULL);
}

static void
show_account (RrWindow *self, const char *server, const char *user, const char *token,
              const char *ca_file)
{
  gtk_widget_set_visible (GTK_WIDGET (self->worklist_button), TRUE);
  rr_account_button_set_account (self->account, server, user, token, ca_file);
  rr_worklist_set_account (self->worklist, server, user, token, ca_file);
  rr_upload_view_set_account (self->upload, server, user, token, ca_file);
  gtk_stack_set_visible_child_name (self->stack, "worklist");
  adw_window_title_set_subtitle (self->window_title, _("Worklist"));
}

/* Switch User signs the one before out only once the next is in. */
static void
on_signed_in (RrLoginDialog *dialog, const char *server, const char *user, const char *token,
              const char *user_json, const char *ca_file, RrWindow *self)
{
  if (rr_account_button_other_than (self->account, server, user))
    sign_out (self);
  rr_session_save_async (server, user, token, self, session_saved, NULL);
  if (self->settings)
    {
      g_settings_set_string (self->settings, "server", server);
      g_settings_set_string (self->settings, "user", user);
      g_settings_set_string (self->settings, "ca-file", ca_file);
    }
  show_account (self, server, user, token, ca_file);
}

/* Sign In, Switch User (nobody's name offered) and Sign Out. */
static void
sign_in_action (GtkWidget *widget, const char *name, GVariant *param)
{
  RrWindow *self = RR_WINDOW (widget);
  g_autofree char *server = setting (self, "server"), *ca = setting (self, "ca-file");
  g_autofree char *user = g_str_equal (name, "win.sign-in") ? setting (self, "user") : NULL;
  RrLoginDialog *dialog;

  if (g_str_equal (name, "win.sign-out"))
    {
      sign_out (self);
      return;
    }
  dialog = rr_login_dialog_new (GTK_WINDOW (self),
                                rr_account_button_get_server (self->account, server), user, ca);
  g_signal_connect_object (dialog, "signed-in", G_CALLBACK (on_signed_in), self, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
worklist_action (GtkWidget  *widget,
                 const char *name,
                 GVariant   *param)
{
  RrWindow *self = RR_WINDOW (widget);
  gtk_stack_set_visible_child_name (self->stack, "worklist");
  adw_window_title_set_subtitle (self->window_title, _("Worklist"));
}

static void
upload_action (GtkWidget *widget, const char *name, GVariant *param)
{
  gtk_stack_set_visible_child_name (RR_WINDOW (widget)->stack, "upload");
  adw_window_title_set_subtitle (RR_WINDOW (widget)->window_title, _("Upload"));
}

static void session_loaded (GObject *source, GAsyncResult *result, gpointer data);

void
rr_window_use_account (RrWindow   *self,
                       const char *server,
                       const char *user)
{
  rr_account_button_set_server (self->account, server);
  rr_session_load_async (server, user, self, session_loaded,
                         g_strdupv ((char **) (const char *[]) { server, user, NULL }));
}

static void
session_loaded (GObject      *source,
                GAsyncResult *result,
                gpointer      data)
{
  RrWindow *self = RR_WINDOW (source);
  g_auto (GStrv) account = data;
  const char *server = account[0], *user = account[1];
  g_autofree char *token = rr_session_load_finish (result);
  g_autofree char *ca = setting (self, "ca-file");
  if (self->toasts == NULL)
    return;
  if (token == NULL)
    {
      RrLoginDialog *dialog = rr_login_dialog_new (GTK_WINDOW (self), server, user, ca);
      g_signal_connect_object (dialog, "signed-in", G_CALLBACK (on_signed_in), self, 0);
      gtk_window_present (GTK_WINDOW (dialog));
      return;
    }
  show_account (self, server, user, token, ca);
}

static void
on_open_task (RrWorklist *worklist,
              const char *task,
              RrWindow   *self)
{
  g_autoptr (GHashTable) labels = NULL;
  g_auto (GStrv) files = rr_worklist_task_files (worklist, task, &labels);
  gint64 account = rr_worklist_get_account (worklist);
  gboolean withdrawn = FALSE;
  g_autofree char *draft = NULL, *kind = NULL, *json = NULL, *subtitle = NULL, *links = NULL;

  if (self->store && account > 0)
    {
      g_autoptr (RrStoreTask) t = rr_store_get_task (self->store, account, task, NULL);
      withdrawn = t && t->withdrawn;
      kind = t ? g_strdup (t->kind) : NULL;
      json = t ? g_strdup (t->json) : NULL;
      draft = rr_store_get_draft (self->store, account, task, NULL);
    }
  if (files == NULL)
    {
      if (withdrawn)
        toast (self, _("This task was withdrawn on the server before it was downloaded"));
      else
        {
          toast (self, _("This task is downloading; it opens when it is here"));
          rr_worklist_download_and_open (worklist, task);
        }
      return;
    }
  leave_source (self);
  if (rr_adjudication_view_handles (kind))
    {
      g_autofree char *ca = setting (self, "ca-file");
      rr_adjudication_view_set_task (self->adjudication, self->store, account, task, ca,
                                     (const char *const *) files);
      gtk_stack_set_visible_child_name (self->stack, "adjudication");
      adw_window_title_set_subtitle (self->window_title, _("Adjudication"));
      return;
    }
  if (rr_qc_view_handles (kind))
    {
      g_autofree char *ca = setting (self, "ca-file");
      rr_qc_view_set_task (self->qc, self->store, account, task, ca, (const char *const *) files);
      gtk_stack_set_visible_child_name (self->stack, "qc");
      adw_window_title_set_subtitle (self->window_title, _("Quality control"));
      return;
    }
  rr_series_list_set_source (self->series, json ? json : "{}", NULL);
  /* One plane; a later timepoint then opens beside its prior. */
  g_object_set (self, "layout", "single", NULL);
  self->task_id = g_strdup (task);
  self->task_account = account;
  links = self->store ? rr_store_get_links (self->store, account, task, NULL) : NULL;
  rr_viewport_keep_links (self->view, links);
  {
    g_autofree char *ca = setting (self, "ca-file");
    rr_read_form_set_task (self->read_form, self->store, account, task, ca);
  }
  if (draft)
    {
      g_autoptr (JsonParser) p = json_parser_new ();
      if (json_parser_load_from_data (p, draft, -1, NULL) &&
          JSON_NODE_HOLDS_OBJECT (json_parser_get_root (p)))
        self->draft_series = g_strdup (json_object_get_string_member_with_default (
          json_node_get_object (json_parser_get_root (p)), "series", NULL));
    }
  if (withdrawn)
    toast (self, _("This task was withdrawn on the server: your measurements stay on this "
                   "computer, and nothing can be submitted for it"));
  subtitle = rr_task_title_subtitle (json, withdrawn);
  adw_window_title_set_subtitle (self->window_title, subtitle);
  start_scan (self, (const char *const *) files);
}

void
rr_window_open_folder (RrWindow *self,
                       GFile    *folder)
{
  g_autofree char *name = g_file_get_basename (folder);

  leave_source (self);
  adw_window_title_set_subtitle (self->window_title, name);
  self->folder = g_file_get_path (folder);
  rr_series_list_set_source (self->series, NULL, self->folder);
  if (self->settings && self->folder)
    g_settings_set_string (self->settings, "last-folder", self->folder);
  start_scan (self, (const char *const[]) { self->folder, NULL });
}

static void
on_chooser_response (GtkNativeDialog *dialog,
                     int              response,
                     RrWindow        *self)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr (GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      if (file)
        rr_window_open_folder (self, file);
    }
  g_object_unref (dialog);
}

static void
open_action (GtkWidget  *widget,
             const char *action,
             GVariant   *param)
{
  RrWindow *self = RR_WINDOW (widget);
  GtkFileChooserNative *chooser =
    gtk_file_chooser_native_new (_("Open Folder"), GTK_WINDOW (self),
                                 GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER, _("_Open"), _("_Cancel"));
  if (self->settings)
    {
      g_autofree char *last = g_settings_get_string (self->settings, "last-folder");
      if (*last && g_file_test (last, G_FILE_TEST_IS_DIR))
        {
          g_autoptr (GFile) dir = g_file_new_for_path (last);
          g_autoptr (GFile) parent = g_file_get_parent (dir);
          gtk_file_chooser_set_current_folder (GTK_FILE_CHOOSER (chooser), parent ? parent : dir,
                                               NULL);
        }
    }
  g_signal_connect (chooser, "response", G_CALLBACK (on_chooser_response), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

static void
rr_window_dispose (GObject *object)
{
  RrWindow *self = RR_WINDOW (object);
  g_cancellable_cancel (self->cancellable);
  g_cancellable_cancel (self->load_cancellable);
  g_clear_handle_id (&self->progress_source, g_source_remove);
  g_clear_handle_id (&self->refresh_source, g_source_remove);
  g_clear_pointer (&self->writer, rr_store_writer_stop);
  if (self->view)
    rr_viewport_set_history (self->view, NULL);
  gtk_widget_dispose_template (GTK_WIDGET (self), RR_TYPE_WINDOW);
  G_OBJECT_CLASS (rr_window_parent_class)->dispose (object);
}

static void
rr_window_finalize (GObject *object)
{
  RrWindow *self = RR_WINDOW (object);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->load_cancellable);
  g_clear_object (&self->settings);
  g_clear_pointer (&self->history, rr_measurement_history_free);
  g_clear_pointer (&self->sr_layer, rr_sr_layer_free);
  g_free (self->history_series);
  g_clear_pointer (&self->store, rr_store_close);
  g_free (self->store_error);
  g_clear_pointer (&self->series, rr_series_list_free);
  g_free (self->folder);
  g_free (self->compare_label);
  g_free (self->current_label);
  g_free (self->task_id);
  g_free (self->draft_series);
  g_free (self->pending_show);
  /* Every task holds the window, so no thread reads a scan any more. */
  g_clear_pointer (&self->scan, rr_dicom_scan_free);
  g_clear_pointer (&self->old_scans, g_ptr_array_unref);
  G_OBJECT_CLASS (rr_window_parent_class)->finalize (object);
}

static void
store_opened (GObject      *source,
              GAsyncResult *result,
              gpointer      data)
{
  RrWindow *self = RR_WINDOW (source);
  g_autoptr (GError) error = NULL;

  self->store = rr_store_open_finish (result, &error);
  if (self->store == NULL)
    {
      self->store_error = g_strdup (error->message);
      g_warning ("%s", error->message);
      return;
    }
  if (self->toasts == NULL)     /* the window is going: finalize closes it */
    return;
  self->writer = rr_store_writer_new (rr_store_get_path (self->store));
  /* A series shown meanwhile: its saved measurements now. */
  if (self->history_series && self->measurements)
    {
      g_clear_pointer (&self->history_series, g_free);
      use_measurements_of (self, rr_viewport_get_volume (self->view));
    }
}

static void
rr_window_class_init (RrWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = rr_window_dispose;
  object_class->finalize = rr_window_finalize;
  object_class->get_property = rr_window_get_property;
  object_class->set_property = rr_window_set_property;
  properties[PROP_LAYOUT] =
    g_param_spec_string ("layout", NULL, NULL, "single",
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_TOOL] =
    g_param_spec_string ("tool", NULL, NULL, "navigate",
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  g_type_ensure (RR_TYPE_VIEWPORT);
  g_type_ensure (RR_TYPE_MEASUREMENT_PANEL);
  g_type_ensure (RR_TYPE_READ_FORM);
  g_type_ensure (RR_TYPE_WRAP_BOX);
  g_type_ensure (RR_TYPE_ADJUDICATION_VIEW);
  g_type_ensure (RR_TYPE_UPLOAD_VIEW);
  g_type_ensure (RR_TYPE_WORKLIST);
  g_type_ensure (RR_TYPE_ACCOUNT_BUTTON);
  gtk_widget_class_set_template_from_resource (widget_class, "/org/readroom/Readroom/rr-window.ui");
  gtk_widget_class_bind_template_child (widget_class, RrWindow, stack);
  gtk_widget_class_bind_template_child (widget_class, RrWindow, viewer_controls);
  gtk_widget_class_bind_template_child (widget_class, RrWindow, series_list);
  gtk_widget_class_bind_template_child (widget_class, RrWindow, view);
  gtk_widget_class_bind_template_child (widget_class, RrWindow, progress);
  gtk_widget_class_bind_template_child (widget_class, RrWindow, window_title);
  gtk_widget_class_bind_template_child (widget_class, RrWindow, toasts);
  gtk_widget_class_bind_template_child (widget_class, RrWindow, scan_spinner);
  gtk_widget_class_bind_template_child (widget_class, RrWindow, fuse_button);
  gtk_widget_class_bind_template_child (widget_class, RrWindow, measurements);
  gtk_widget_class_bind_template_child (widget_class, RrWindow, read_form);
  gtk_widget_class_bind_template_child (widget_class, RrWindow, adjudication);
  gtk_widget_class_bind_template_child (widget_class, RrWindow, upload);
  gtk_widget_class_bind_template_child (widget_class, RrWindow, slab_mode);
  gtk_widget_class_bind_template_child (widget_class, RrWindow, compare_button);
  gtk_widget_class_bind_template_child (widget_class, RrWindow, worklist);
  gtk_widget_class_bind_template_child (widget_class, RrWindow, worklist_button);
  gtk_widget_class_bind_template_child (widget_class, RrWindow, account);
  gtk_widget_class_install_action (widget_class, "win.sign-in", NULL, sign_in_action);
  gtk_widget_class_install_action (widget_class, "win.sign-out", NULL, sign_in_action);
  gtk_widget_class_install_action (widget_class, "win.switch-user", NULL, sign_in_action);
  gtk_widget_class_install_action (widget_class, "win.worklist", NULL, worklist_action);
  gtk_widget_class_install_action (widget_class, "win.upload", NULL, upload_action);
  gtk_widget_class_install_action (widget_class, "win.compare", "i", compare_action);
  gtk_widget_class_bind_template_child (widget_class, RrWindow, slab_mm);
  gtk_widget_class_bind_template_child (widget_class, RrWindow, colormap);
  gtk_widget_class_install_property_action (widget_class, "win.tool", "tool");
  gtk_widget_class_install_action (widget_class, "win.undo", NULL, undo_action);
  gtk_widget_class_install_action (widget_class, "win.redo", NULL, undo_action);
  gtk_widget_class_install_action (widget_class, "win.open", NULL, open_action);
  gtk_widget_class_install_property_action (widget_class, "win.layout", "layout");
  gtk_widget_class_install_action (widget_class, "win.invert", NULL, view_action);
  gtk_widget_class_install_action (widget_class, "win.reset", NULL, view_action);
  gtk_widget_class_install_action (widget_class, "win.zoom-in", NULL, view_action);
  gtk_widget_class_install_action (widget_class, "win.zoom-out", NULL, view_action);
  gtk_widget_class_install_action (widget_class, "win.rotate-cw", NULL, view_action);
  gtk_widget_class_install_action (widget_class, "win.rotate-ccw", NULL, view_action);
  gtk_widget_class_install_action (widget_class, "win.flip-horizontal", NULL, view_action);
  gtk_widget_class_install_action (widget_class, "win.flip-vertical", NULL, view_action);
  rr_accels_bind_class (widget_class, rr_window_accels, rr_window_n_accels);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Z, GDK_CONTROL_MASK | GDK_SHIFT_MASK,
                                       "win.redo", NULL);
}

static void
rr_window_init (RrWindow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  rr_accels_tooltips (GTK_WIDGET (self), rr_window_accels, rr_window_n_accels);
  rr_accessible_name_drop_down (self->slab_mode);
  rr_accessible_name_drop_down (self->colormap);
  self->qc = RR_QC_VIEW (rr_qc_view_new ());
  gtk_stack_add_named (self->stack, GTK_WIDGET (self->qc), "qc");
  self->cancellable = g_cancellable_new ();
  self->load_cancellable = g_cancellable_new ();
  self->sr_layer = rr_sr_layer_new ();
  self->old_scans = g_ptr_array_new_with_free_func ((GDestroyNotify) rr_dicom_scan_free);
  self->series = rr_series_list_new (self->series_list);

  /* Window size and the last folder persist where the schema is installed
   * (or compiled into the build folder; tools/demo points GSettings at it). */
  {
    GSettingsSchemaSource *source = g_settings_schema_source_get_default ();
    g_autoptr (GSettingsSchema) schema =
      source ? g_settings_schema_source_lookup (source, RR_APP_ID, TRUE) : NULL;
    if (schema)
      {
        self->settings = g_settings_new_full (schema, NULL, NULL);
        g_settings_bind (self->settings, "window-width", self, "default-width",
                         G_SETTINGS_BIND_DEFAULT);
        g_settings_bind (self->settings, "window-height", self, "default-height",
                         G_SETTINGS_BIND_DEFAULT);
        g_settings_bind (self->settings, "window-maximized", self, "maximized",
                         G_SETTINGS_BIND_DEFAULT);
      }
  }
  g_signal_connect_object (self->stack, "notify::visible-child-name",
                           G_CALLBACK (on_page_changed), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->series_list, "row-selected", G_CALLBACK (on_row_selected),
                           self, 0);
  g_signal_connect_object (self->fuse_button, "toggled", G_CALLBACK (on_fuse_toggled), self, 0);
  g_signal_connect_object (self->measurements, "activated", G_CALLBACK (on_panel_activated), self,
                           0);
  g_signal_connect_object (self->worklist, "open-task", G_CALLBACK (on_open_task), self, 0);
  g_signal_connect_object (self->worklist, "synced", G_CALLBACK (rr_read_form_recheck),
                           self->read_form, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->read_form, "go-to", G_CALLBACK (on_form_go_to), self, 0);
  g_signal_connect_object (self->read_form, "lesions-changed", G_CALLBACK (on_lesions_changed),
                           self, G_CONNECT_SWAPPED);
  rr_viewport_set_lesion_names (self->view, rr_read_form_lesion_of, self->read_form);
  rr_measurement_panel_set_lesion_names (self->measurements, rr_read_form_lesion_of,
                                         self->read_form);
  g_signal_connect_object (self->read_form, "lock-changed", G_CALLBACK (update_undo_actions), self,
                           G_CONNECT_SWAPPED);
  gtk_widget_insert_action_group (GTK_WIDGET (self->view), "read",
                                  rr_read_form_get_caliper_actions (self->read_form));
  g_signal_connect_object (self->view, "selection-changed",
                           G_CALLBACK (on_view_selection_changed), self, 0);
  g_signal_connect_object (self->view, "notify::description", G_CALLBACK (on_view_changed), self,
                           0);
  g_signal_connect_object (self->view, "link-kept", G_CALLBACK (on_link_kept), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->slab_mode, "notify::selected", G_CALLBACK (on_slab_changed),
                           self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->slab_mm, "value-changed", G_CALLBACK (on_slab_changed), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->colormap, "notify::selected", G_CALLBACK (on_colormap_changed),
                           self, G_CONNECT_SWAPPED);

  /* The local database: measurements are saved there as they are drawn.
   * Opened on a worker (its integrity check reads the whole file). */
  {
    g_autofree char *path = rr_store_default_path ();
    rr_store_open_async (path, self, store_opened, NULL);
  }
  update_undo_actions (self);
}

RrWindow *
rr_window_new (AdwApplication *app)
{
  return g_object_new (RR_TYPE_WINDOW, "application", app, NULL);
}
