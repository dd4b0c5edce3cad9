/* rr-qc-view.c: the QC reviewer's workspace. The task's detail (its
 * protocol and automated results, or a query's findings) comes from the
 * server and is kept in the store's form column for offline work; the
 * reviewer's findings and decision are the draft (the store's draft
 * column), saved at every change. Defects are drawn with the viewport's
 * defect tools (rr-viewport-defects.c); each drawn shape is one finding. */
#include "rr-qc-view.h"
#include "rr-qc-view-private.h"
#include "rr-signed-elsewhere.h"
#include "rr-viewport.h"
#include "rr-viewport-defects.h"
#include "rr-sign-dialog.h"
#include "rr-measurement-history.h"
#include "rr-json.h"
#include "rr-dicom.h"
#include "rr-scan.h"
#include "rr-task-detail.h"
#include "rr-accessible.h"

#include <adwaita.h>
#include <glib/gi18n.h>
#include <json-glib/json-glib.h>
#include <string.h>


static const char *const decisions[] = { "pass", "fail", "query" };
static const char *const tool_names[] = { N_("Navigate"), N_("Point"), N_("Rectangle"),
                                          N_("Line") };
static const int tool_values[] = { RR_TOOL_NAVIGATE, RR_TOOL_DEFECT_POINT, RR_TOOL_DEFECT_RECT,
                                   RR_TOOL_DEFECT_LINE };

struct _RrQcView
{
  GtkWidget parent_instance;

  GtkLabel *title;
  GtkLabel *protocol;
  GtkListBox *checks;
  GtkListBox *findings_box;
  GtkWidget *tools;
  GtkToggleButton *tool[4];
  GtkDropDown *category;
  GtkDropDown *severity;
  GtkEntry *comment;
  GtkButton *remove;
  RrViewport *view;
  GtkLabel *view_state;
  GtkWidget *decision_box;
  GtkCheckButton *decision[3];
  GtkWidget *override_box;      /* shown for a pass over open major findings */
  GtkCheckButton *override;
  GtkEntry *rationale;
  GtkButton *sign;
  GtkLabel *state;

  RrStore *store;               /* borrowed */
  gint64 account;
  char *task_id;
  char *kind;                   /* "qc" or "query" */
  char *ca_file;
  char *task_status;
  GCancellable *cancellable;

  JsonParser *detail;           /* GET /tasks/{id} */
  GPtrArray *findings;          /* RrQcViewFinding */
  char *selected;               /* the finding whose controls show */
  RrMeasurementHistory *history;  /* the current series' shapes */
  RrDicomScan *scan;
  GPtrArray *old_scans;         /* kept until the view goes: threads may read them */
  RrVolume *volume;
  char *pending;                /* a finding to show once its series is loaded */
  gboolean locked;
  gboolean filling;             /* controls being set from a finding */
};

G_DEFINE_FINAL_TYPE (RrQcView, rr_qc_view, GTK_TYPE_WIDGET)

gboolean
rr_qc_view_handles (const char *kind)
{
  return g_strcmp0 (kind, "qc") == 0 || g_strcmp0 (kind, "query") == 0;
}

static gboolean
is_query (RrQcView *self)
{
  return g_strcmp0 (self->kind, "query") == 0;
}

static GtkWidget *
row_label (const char *text)
{
  GtkWidget *l = gtk_label_new (text);
  gtk_label_set_xalign (GTK_LABEL (l), 0);
  gtk_label_set_wrap (GTK_LABEL (l), TRUE);
  gtk_widget_set_margin_start (l, 6);
  gtk_widget_set_margin_end (l, 6);
  gtk_widget_set_margin_top (l, 3);
  gtk_widget_set_margin_bottom (l, 3);
  return l;
}

static void
clear_box (GtkListBox *box)
{
  GtkWidget *child;
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (box))))
    gtk_list_box_remove (box, child);
}

static RrQcViewFinding *
finding (RrQcView   *self,
         const char *id)
{
  for (guint i = 0; id && i < self->findings->len; i++)
    {
      RrQcViewFinding *f = self->findings->pdata[i];
      if (g_str_equal (f->id, id))
        return f;
    }
  return NULL;
}

static const char *
decision (RrQcView *self)
{
  for (guint i = 0; i < G_N_ELEMENTS (decisions); i++)
    if (gtk_check_button_get_active (self->decision[i]))
      return decisions[i];
  return NULL;
}

/* ---- the draft ---- */

static void
save_draft (RrQcView *self)
{
  g_autofree char *json = NULL;
  g_autoptr (GError) error = NULL;
  if (self->store == NULL || self->task_id == NULL || self->locked || is_query (self) ||
      self->detail == NULL)
    return;
  json = rr_qc_draft_to_json (self->findings, decision (self));
  if (!rr_store_put_draft (self->store, self->account, self->task_id, json, &error))
    {
      g_autofree char *msg = g_strdup_printf (_("The draft could not be saved: %s"),
                                              error->message);
      gtk_label_set_text (self->state, msg);
    }
}

/* The line under the images: loading, or why they cannot be shown;
 * hidden when there is nothing to say. */
static void
show_state (RrQcView   *self,
            const char *text)
{
  gtk_label_set_text (self->view_state, text ? text : "");
  gtk_widget_set_visible (GTK_WIDGET (self->view_state), text && *text);
}

/* ---- the findings list ---- */

static void update_sign (RrQcView *self);

static char *
finding_text (const RrQcViewFinding *f)
{
  g_autofree char *cat = rr_qc_category_text (f->category);
  const char *where = f->shape_json ? (strstr (f->shape_json, "\"rect\"") ? _("rectangle")
                                       : strstr (f->shape_json, "\"line\"") ? _("line")
                                                                            : _("point"))
                      : f->sop ? _("one image") : _("the series");
  return g_strdup_printf ("%s · %s · %s%s%s%s", cat,
                          g_str_equal (f->severity, "major") ? _("major") : _("minor"), where,
                          f->automated ? _(" · automated") : "",
                          f->comment && *f->comment ? " — " : "", f->comment ? f->comment : "");
}

static void
fill_findings (RrQcView *self)
{
  GtkListBoxRow *select = NULL;
  /* Removing the selected row unselects it: that is not the reviewer
   * leaving the finding (a shape dragged refills the list), so the
   * controls stay on it. */
  self->filling = TRUE;
  clear_box (self->findings_box);
  self->filling = FALSE;
  for (guint i = 0; i < self->findings->len; i++)
    {
      RrQcViewFinding *f = self->findings->pdata[i];
      g_autofree char *text = finding_text (f);
      GtkWidget *row = gtk_list_box_row_new ();
      gtk_list_box_row_set_child (GTK_LIST_BOX_ROW (row), row_label (text));
      gtk_widget_set_name (row, f->id);
      gtk_accessible_update_property (GTK_ACCESSIBLE (row), GTK_ACCESSIBLE_PROPERTY_LABEL, text,
                                      -1);
      gtk_list_box_append (self->findings_box, row);
      if (g_strcmp0 (self->selected, f->id) == 0)
        select = GTK_LIST_BOX_ROW (row);
    }
  if (self->findings->len == 0)
    {
      GtkWidget *row = gtk_list_box_row_new ();
      gtk_list_box_row_set_child (GTK_LIST_BOX_ROW (row), row_label (_("No findings")));
      gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (row), FALSE);
      gtk_list_box_row_set_selectable (GTK_LIST_BOX_ROW (row), FALSE);
      gtk_list_box_append (self->findings_box, row);
    }
  self->filling = TRUE;
  gtk_list_box_select_row (self->findings_box, select);
  self->filling = FALSE;
}

static guint
index_of (const char *const *words,
          const char        *w)
{
  for (guint i = 0; words[i]; i++)
    if (g_strcmp0 (words[i], w) == 0)
      return i;
  return 0;
}

/* The controls show the selected finding (or what the next one gets). */
static void
select_finding (RrQcView   *self,
                const char *id)
{
  RrQcViewFinding *f = finding (self, id);
  g_free (self->selected);
  self->selected = g_strdup (f ? f->id : NULL);
  self->filling = TRUE;
  if (f)
    {
      gtk_drop_down_set_selected (self->category, index_of (rr_qc_categories, f->category));
      gtk_drop_down_set_selected (self->severity, index_of (rr_qc_severities, f->severity));
      gtk_editable_set_text (GTK_EDITABLE (self->comment), f->comment ? f->comment : "");
    }
  self->filling = FALSE;
  gtk_widget_set_sensitive (GTK_WIDGET (self->remove), f != NULL && !self->locked);
}

/* What the controls hold for a task's first new finding: the same for
 * every task, none of the previous task's choice or comment. */
static void
reset_controls (RrQcView *self)
{
  self->filling = TRUE;
  gtk_drop_down_set_selected (self->category, index_of (rr_qc_categories, "image_quality"));
  gtk_drop_down_set_selected (self->severity, index_of (rr_qc_severities, "major"));
  gtk_editable_set_text (GTK_EDITABLE (self->comment), "");
  self->filling = FALSE;
}

/* ---- the images ---- */

static void load_series (RrQcView *self, RrDicomSeries *series);

/* The shapes of the series shown, into the viewport's history. */
static void
fill_history (RrQcView *self)
{
  g_autoptr (GPtrArray) items = g_ptr_array_new_with_free_func ((GDestroyNotify) rr_measurement_free);
  for (guint i = 0; self->volume && i < self->findings->len; i++)
    {
      RrQcViewFinding *f = self->findings->pdata[i];
      if (g_strcmp0 (f->series, self->volume->series_uid) != 0)
        continue;
      /* A shape known only in image pixels (a query's, a signed one). */
      if (f->shape == NULL && f->shape_json)
        f->shape = rr_viewport_defects_from_shape (f->shape_json, self->volume, f->sop, f->id);
      if (f->shape)
        g_ptr_array_add (items, rr_measurement_copy (f->shape));
    }
  rr_measurement_history_reset (self->history, g_steal_pointer (&items));
  rr_viewport_measurements_changed (self->view);
}

/* Brings finding @id into view: its series, then its shape or image. */
static void
go_to (RrQcView   *self,
       const char *id)
{
  RrQcViewFinding *f = finding (self, id);
  if (f == NULL || f->series == NULL)
    return;
  if (self->volume == NULL || g_strcmp0 (self->volume->series_uid, f->series) != 0)
    {
      RrDicomSeries *se = self->scan ? rr_dicom_scan_find_series (self->scan, f->series) : NULL;
      if (se == NULL)
        {
          show_state (self, _("The images of this finding are not among the task's"));
          return;
        }
      g_free (self->pending);
      self->pending = g_strdup (id);
      load_series (self, se);
      return;
    }
  if (f->shape)
    rr_viewport_show_measurement (self->view, f->id);
  else if (f->sop && self->volume->slice_sop)
    for (guint k = 0; k < self->volume->dims[2]; k++)
      if (g_strcmp0 (self->volume->slice_sop[k], f->sop) == 0)
        {
          RrVec3 p = rr_volume_voxel_to_patient (self->volume, self->volume->dims[0] / 2.0,
                                                 self->volume->dims[1] / 2.0, k);
          rr_viewport_set_point (self->view, p);
          break;
        }
  /* The viewer says where it is to assistive tools itself (its
   * description); the line under it is for what went wrong only. */
  show_state (self, NULL);
}

static void
volume_done (GObject      *source,
             GAsyncResult *result,
             gpointer      data)
{
  RrQcView *self = RR_QC_VIEW (source);
  g_autoptr (GError) error = NULL;
  RrVolume *v = rr_series_load_finish (result, &error);
  g_autofree char *pending = NULL;

  if (v == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        show_state (self, error->message);
      return;
    }
  g_clear_pointer (&self->volume, rr_volume_unref);
  self->volume = v;
  rr_viewport_set_volume (self->view, v);
  fill_history (self);
  show_state (self, NULL);
  pending = g_steal_pointer (&self->pending);
  if (pending)
    go_to (self, pending);
}

static void
load_series (RrQcView      *self,
             RrDicomSeries *series)
{
  show_state (self, _("Loading the images…"));
  /* The series lives in self->scan, kept (or in old_scans) while the view
   * lives. */
  rr_series_load_async (series, NULL, self, self->cancellable, volume_done, NULL);
}

static void
scan_done (GObject      *source,
           GAsyncResult *result,
           gpointer      data)
{
  RrQcView *self = RR_QC_VIEW (source);
  g_autoptr (GError) error = NULL;
  RrDicomScan *scan = rr_scan_finish (result, &error);
  if (scan == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        show_state (self, error->message);
      return;
    }
  if (self->scan)
    g_ptr_array_add (self->old_scans, self->scan);
  self->scan = scan;
  /* The first image series, unless a finding waits for its own. */
  for (guint i = 0; i < scan->studies->len; i++)
    {
      RrDicomStudy *st = scan->studies->pdata[i];
      for (guint j = 0; j < st->series->len; j++)
        if (((RrDicomSeries *) st->series->pdata[j])->is_image)
          {
            load_series (self, st->series->pdata[j]);
            return;
          }
    }
  show_state (self, _("The task has no images"));
}

/* A shape drawn, moved or undone: the finding follows it. */
static gboolean
on_shape_changed (RrMeasurementChange  change,
                  const RrMeasurement *m,
                  gpointer             data)
{
  RrQcView *self = data;
  RrQcViewFinding *f = finding (self, m->id);

  if (self->locked || is_query (self))
    return FALSE;
  if (change == RR_MEASUREMENT_REMOVED)
    {
      if (f)
        g_ptr_array_remove (self->findings, f);
    }
  else
    {
      if (f == NULL)
        {
          /* A new defect takes what the controls say. */
          guint c = gtk_drop_down_get_selected (self->category);
          guint s = gtk_drop_down_get_selected (self->severity);
          f = rr_qc_view_finding_new ();
          g_free (f->id);
          f->id = g_strdup (m->id);
          g_free (f->category);
          g_free (f->severity);
          g_free (f->comment);
          f->category = g_strdup (rr_qc_categories[MIN (c, RR_QC_N_CATEGORIES - 1)]);
          f->severity = g_strdup (rr_qc_severities[MIN (s, 1)]);
          f->comment = g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->comment)));
          g_ptr_array_add (self->findings, f);
          g_free (self->selected);
          self->selected = g_strdup (f->id);
        }
      g_clear_pointer (&f->shape, rr_measurement_free);
      f->shape = rr_measurement_copy (m);
      g_free (f->series);
      g_free (f->sop);
      g_free (f->shape_json);
      f->series = g_strdup (m->series_uid ? m->series_uid
                                          : self->volume ? self->volume->series_uid : NULL);
      f->sop = g_strdup (m->sop_uid);
      f->frame = m->frame;
      {
        const char *sop = NULL;
        guint frame = 0;
        if (f->sop == NULL && rr_viewport_defects_image (m, self->volume, &sop, &frame))
          {
            f->sop = g_strdup (sop);
            f->frame = frame;
          }
      }
      f->shape_json = rr_viewport_defects_shape_json (m, self->volume);
    }
  fill_findings (self);
  select_finding (self, self->selected);
  save_draft (self);
  update_sign (self);
  return TRUE;
}

/* ---- the detail: protocol, checks, findings ---- */

static char *
protocol_text (JsonObject *p)
{
  GString *s = g_string_new (NULL);
  JsonArray *m = rr_json_get_array (p, "modality");
  JsonArray *b = rr_json_get_array (p, "body_part");
  if (m)
    for (guint i = 0; i < json_array_get_length (m); i++)
      g_string_append_printf (s, "%s%s", i ? "/" : _("Modality "),
                              json_array_get_string_element (m, i));
  if (b)
    for (guint i = 0; i < json_array_get_length (b); i++)
      g_string_append_printf (s, "%s%s", i ? "/" : s->len ? _(" · body part ") : _("Body part "),
                              json_array_get_string_element (b, i));
  if (p && json_object_has_member (p, "max_slice_thickness_mm"))
    g_string_append_printf (s, _("%sslices at most %g mm"), s->len ? " · " : "",
                            json_object_get_double_member (p, "max_slice_thickness_mm"));
  if (p && json_object_has_member (p, "min_coverage_mm"))
    g_string_append_printf (s, _("%sat least %g mm covered"), s->len ? " · " : "",
                            json_object_get_double_member (p, "min_coverage_mm"));
  if (p && json_object_has_member (p, "contrast") &&
      !JSON_NODE_HOLDS_NULL (json_object_get_member (p, "contrast")))
    g_string_append_printf (s, "%s%s", s->len ? " · " : "",
                            json_object_get_boolean_member (p, "contrast")
                              ? _("with contrast") : _("without contrast"));
  if (p && json_object_has_member (p, "max_gap_slices"))
    {
      gint64 gap = json_object_get_int_member (p, "max_gap_slices");
      /* Walk c1: "at most 0 missing slices in a row". */
      if (gap <= 0)
        g_string_append_printf (s, _("%sno slice missing"), s->len ? " · " : "");
      else
        g_string_append_printf (s, g_dngettext (NULL,
                                                "%sat most %" G_GINT64_FORMAT
                                                " missing slice in a row",
                                                "%sat most %" G_GINT64_FORMAT
                                                " missing slices in a row", (gulong) gap),
                                s->len ? " · " : "", gap);
    }
  if (s->len == 0)
    g_string_append (s, _("The trial's protocol sets no requirement"));
  return g_string_free (s, FALSE);
}

static const char *
status_mark (const char *status)
{
  if (g_strcmp0 (status, "pass") == 0)
    return _("✓ Passed");
  if (g_strcmp0 (status, "warn") == 0)
    return _("! Warning");
  return _("✗ Failed");
}

/* What a check looks at. A check is named by the defect it looks for
 * ("wrong_modality"): a passed one is said as what passed ("Modality"),
 * a failed one as what is wrong. */
static char *
check_text (const char *check,
            const char *status)
{
  static const struct
  {
    const char *check, *passed;
  } names[] = {
    { "wrong_modality", N_("Modality") },
    { "incomplete_coverage", N_("Coverage") },
    { "slice_thickness", N_("Slice thickness") },
    { "missing_slices", N_("Slice spacing") },
    { "contrast_phase", N_("Contrast phase") },
    { "phi_present", N_("De-identification") },
    { "wrong_subject_or_visit", N_("One subject and visit") },
  };
  if (g_strcmp0 (status, "pass") == 0)
    for (guint i = 0; i < G_N_ELEMENTS (names); i++)
      if (g_strcmp0 (check, names[i].check) == 0)
        return g_strdup (_(names[i].passed));
  return rr_qc_category_text (check);
}

static void
fill_checks (RrQcView   *self,
             JsonObject *automated)
{
  JsonArray *series = rr_json_get_array (automated, "series");
  clear_box (self->checks);
  if (automated == NULL)
    {
      gtk_list_box_append (self->checks, row_label (_("The automated checks could not run on "
                                                      "the server")));
      return;
    }
  for (guint i = 0; series && i < json_array_get_length (series); i++)
    {
      JsonObject *s = rr_json_get_element (series, i);
      JsonArray *checks = rr_json_get_array (s, "checks");
      const char *series_uid = rr_json_get_string (s, "series_uid");
      /* Numbered in the results' order (by series number, then UID). */
      g_autofree char *head = g_strdup_printf (_("Series %u · %s"), i + 1,
                                               rr_json_get_string (s, "modality")
                                                 ? rr_json_get_string (s, "modality") : "?");
      GtkWidget *row = gtk_list_box_row_new ();
      GtkWidget *l = row_label (head);
      gtk_widget_add_css_class (l, "heading");
      gtk_list_box_row_set_child (GTK_LIST_BOX_ROW (row), l);
      gtk_widget_set_name (row, series_uid ? series_uid : "");
      gtk_list_box_append (self->checks, row);
      for (guint k = 0; checks && k < json_array_get_length (checks); k++)
        {
          JsonObject *c = rr_json_get_element (checks, k);
          g_autofree char *cat = check_text (rr_json_get_string (c, "check"),
                                             rr_json_get_string (c, "status"));
          const char *message = rr_json_get_string (c, "message");
          g_autofree char *text = g_strdup_printf ("%s · %s: %s",
                                                   status_mark (rr_json_get_string (c, "status")),
                                                   cat, message ? message : "");
          GtkWidget *r = gtk_list_box_row_new ();
          GtkWidget *cl = row_label (text);
          if (g_strcmp0 (rr_json_get_string (c, "status"), "fail") == 0)
            gtk_widget_add_css_class (cl, "error");
          else if (g_strcmp0 (rr_json_get_string (c, "status"), "warn") == 0)
            gtk_widget_add_css_class (cl, "warning");
          gtk_list_box_row_set_child (GTK_LIST_BOX_ROW (r), cl);
          gtk_widget_set_name (r, series_uid ? series_uid : "");
          gtk_accessible_update_property (GTK_ACCESSIBLE (r), GTK_ACCESSIBLE_PROPERTY_LABEL, text,
                                          -1);
          gtk_list_box_append (self->checks, r);
        }
    }
}

static void
on_check_activated (GtkListBox    *box,
                    GtkListBoxRow *row,
                    RrQcView      *self)
{
  RrDicomSeries *se = self->scan ? rr_dicom_scan_find_series (self->scan,
                                                              gtk_widget_get_name (GTK_WIDGET (row)))
                                 : NULL;
  if (se && (self->volume == NULL ||
             g_strcmp0 (self->volume->series_uid, se->series_uid) != 0))
    load_series (self, se);
}

static void
on_finding_activated (GtkListBox    *box,
                      GtkListBoxRow *row,
                      RrQcView      *self)
{
  go_to (self, gtk_widget_get_name (GTK_WIDGET (row)));
}

static void
on_finding_selected (GtkListBox    *box,
                     GtkListBoxRow *row,
                     RrQcView      *self)
{
  if (self->filling)
    return;
  select_finding (self, row ? gtk_widget_get_name (GTK_WIDGET (row)) : NULL);
}

/* The controls changed: the selected finding takes them. */
static void
on_control_changed (RrQcView *self)
{
  RrQcViewFinding *f = finding (self, self->selected);
  if (self->filling || f == NULL || self->locked)
    return;
  g_free (f->category);
  g_free (f->severity);
  g_free (f->comment);
  f->category = g_strdup (rr_qc_categories[MIN (gtk_drop_down_get_selected (self->category),
                                                RR_QC_N_CATEGORIES - 1)]);
  f->severity = g_strdup (rr_qc_severities[MIN (gtk_drop_down_get_selected (self->severity), 1)]);
  f->comment = g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->comment)));
  {
    /* The row's text, without rebuilding the list under the typing. */
    GtkWidget *row = gtk_widget_get_first_child (GTK_WIDGET (self->findings_box));
    for (; row; row = gtk_widget_get_next_sibling (row))
      if (g_str_equal (gtk_widget_get_name (row), f->id))
        {
          g_autofree char *text = finding_text (f);
          gtk_label_set_text (GTK_LABEL (gtk_list_box_row_get_child (GTK_LIST_BOX_ROW (row))),
                              text);
          gtk_accessible_update_property (GTK_ACCESSIBLE (row), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                          text, -1);
        }
  }
  save_draft (self);
  /* A major finding made minor no longer holds a pass back. */
  update_sign (self);
}

static void
on_remove (RrQcView *self)
{
  RrQcViewFinding *f = finding (self, self->selected);
  if (f == NULL || self->locked)
    return;
  if (f->shape && rr_measurement_history_find (self->history, f->id))
    {
      /* Through the history: undoable, and on_shape_changed drops it. */
      rr_measurement_history_remove (self->history, f->id);
      rr_viewport_measurements_changed (self->view);
    }
  else
    {
      g_ptr_array_remove (self->findings, f);
      fill_findings (self);
      save_draft (self);
    }
  select_finding (self, NULL);
  update_sign (self);
}

static void
on_tool_toggled (GtkToggleButton *button,
                 RrQcView        *self)
{
  if (!gtk_toggle_button_get_active (button))
    return;
  for (guint i = 0; i < G_N_ELEMENTS (self->tool); i++)
    if (button == self->tool[i])
      rr_viewport_set_tool (self->view, tool_values[i]);
}

/* ---- the decision ---- */

/* The override's rationale, or NULL while the override is not chosen. */
static const char *
override_rationale (RrQcView *self)
{
  if (!gtk_check_button_get_active (self->override))
    return NULL;
  return gtk_editable_get_text (GTK_EDITABLE (self->rationale));
}

static void
update_sign (RrQcView *self)
{
  const char *d = decision (self);
  guint n_major = rr_qc_open_major (self->findings);
  gboolean pass = d && g_str_equal (d, "pass");
  g_autofree char *meaning = rr_qc_sign_meaning (d, n_major, override_rationale (self));
  gboolean ok = !self->locked && self->detail && d && meaning &&
                (pass || self->findings->len > 0);
  gtk_widget_set_visible (self->override_box, !self->locked && pass && n_major > 0);
  gtk_widget_set_sensitive (GTK_WIDGET (self->rationale),
                            gtk_check_button_get_active (self->override));
  gtk_widget_set_sensitive (GTK_WIDGET (self->sign), ok);
  if (self->locked || self->detail == NULL || is_query (self))
    return;
  if (ok)
    gtk_label_set_text (self->state, _("Ready to sign"));
  else if (d == NULL)
    gtk_label_set_text (self->state, _("Decide: pass, fail or query"));
  else if (pass && n_major > 0)
    {
      g_autofree char *t =
        g_strdup_printf (g_dngettext (NULL,
                                      "%u major finding is open: remove it (or make it minor) "
                                      "if it is resolved, or pass despite it and say why",
                                      "%u major findings are open: remove them (or make them "
                                      "minor) if they are resolved, or pass despite them and "
                                      "say why", n_major), n_major);
      gtk_label_set_text (self->state, t);
    }
  else
    gtk_label_set_text (self->state, _("A fail or a query says why: add a finding"));
}

static void
on_decision_toggled (RrQcView *self)
{
  if (self->filling)
    return;
  save_draft (self);
  update_sign (self);
}

static void
show_decision (RrQcView   *self,
               const char *d)
{
  self->filling = TRUE;
  for (guint i = 0; i < G_N_ELEMENTS (decisions); i++)
    gtk_check_button_set_active (self->decision[i], g_strcmp0 (d, decisions[i]) == 0);
  self->filling = FALSE;
}

static void
set_locked (RrQcView *self,
            gboolean  locked)
{
  self->locked = locked;
  for (guint i = 0; i < G_N_ELEMENTS (decisions); i++)
    gtk_widget_set_sensitive (GTK_WIDGET (self->decision[i]), !locked);
  for (guint i = 1; i < G_N_ELEMENTS (self->tool); i++)
    gtk_widget_set_sensitive (GTK_WIDGET (self->tool[i]), !locked);
  gtk_widget_set_sensitive (GTK_WIDGET (self->category), !locked);
  gtk_widget_set_sensitive (GTK_WIDGET (self->severity), !locked);
  gtk_editable_set_editable (GTK_EDITABLE (self->comment), !locked);
  gtk_widget_set_sensitive (GTK_WIDGET (self->remove), !locked && self->selected);
  if (locked)
    {
      gtk_widget_set_visible (self->override_box, FALSE);
      gtk_toggle_button_set_active (self->tool[0], TRUE);
      gtk_widget_set_sensitive (GTK_WIDGET (self->sign), FALSE);
    }
}

/* Submitted (or waiting in the outbox): the decision is locked and the
 * receipt shown. */
static void
update_lock (RrQcView *self)
{
  g_autoptr (GPtrArray) out = NULL;
  g_autofree char *kept_body = NULL, *kept_receipt = NULL;
  const char *body = NULL, *receipt = NULL;
  gboolean delivered, waiting;
  RrStoreOutbox *last = NULL;
  if (self->store == NULL || self->task_id == NULL || is_query (self))
    return;
  out = rr_store_outbox_list (self->store, self->account, NULL, NULL);
  for (guint i = 0; out && i < out->len; i++)
    if (g_str_equal (((RrStoreOutbox *) out->pdata[i])->task_id, self->task_id))
      last = out->pdata[i];
  delivered = last && g_str_equal (last->state, "delivered");
  waiting = last && rr_store_outbox_state_waiting (last->state);
  if (delivered || waiting)
    {
      body = last->body;
      receipt = last->receipt;
    }
  /* Signed on another computer: as the server holds it. */
  else if (rr_signed_elsewhere (self->store, self->account, self->task_id, &kept_body,
                                &kept_receipt))
    {
      body = kept_body;
      receipt = kept_receipt;
      delivered = TRUE;
    }
  if (delivered || waiting)
    {
      /* What was signed, not the draft. */
      g_autoptr (JsonParser) b = json_parser_new ();
      if (body && json_parser_load_from_data (b, body, -1, NULL) &&
          JSON_NODE_HOLDS_OBJECT (json_parser_get_root (b)))
        {
          JsonObject *o = json_node_get_object (json_parser_get_root (b));
          g_ptr_array_unref (self->findings);
          self->findings = rr_qc_findings_from_json (rr_json_get_array (o, "findings"), FALSE);
          show_decision (self, rr_json_get_string (o, "decision"));
          fill_findings (self);
        }
    }
  if (delivered)
    {
      g_autoptr (JsonParser) p = json_parser_new ();
      JsonObject *r = NULL;
      g_autofree char *text = NULL;
      if (receipt && json_parser_load_from_data (p, receipt, -1, NULL) &&
          JSON_NODE_HOLDS_OBJECT (json_parser_get_root (p)))
        r = rr_json_get_object (json_node_get_object (json_parser_get_root (p)), "receipt");
      text = g_strdup_printf (_("Submitted and locked: %s. Receipt %s, %s"),
                              decision (self) ? decision (self) : "?",
                              rr_json_get_string (r, "id") ? rr_json_get_string (r, "id") : "?",
                              rr_json_get_string (r, "submitted_at")
                                ? rr_json_get_string (r, "submitted_at") : "");
      gtk_label_set_text (self->state, text);
      set_locked (self, TRUE);
    }
  else if (waiting)
    {
      gtk_label_set_text (self->state, _("Signed and waiting in the outbox: it will be sent "
                                         "when the server is reachable"));
      set_locked (self, TRUE);
    }
  else if (g_strcmp0 (self->task_status, "submitted") == 0)
    {
      gtk_label_set_text (self->state, _("Submitted and locked on the server"));
      set_locked (self, TRUE);
    }
  else
    {
      set_locked (self, FALSE);
      if (last && g_str_equal (last->state, "refused"))
        {
          g_autofree char *t = g_strdup_printf (_("The server refused the decision: %s"),
                                                last->last_error ? last->last_error : "");
          gtk_label_set_text (self->state, t);
          return;
        }
      update_sign (self);
    }
}

static void
on_sign_finished (RrSignDialog *dialog,
                  const char   *state,
                  const char   *message,
                  RrQcView     *self)
{
  update_lock (self);
}

static void
on_sign (RrQcView *self)
{
  const char *d = decision (self);
  g_autofree char *body = NULL, *meaning = NULL;
  GString *summary;
  RrSignDialog *dialog;

  if (self->locked || d == NULL || !gtk_widget_get_sensitive (GTK_WIDGET (self->sign)))
    return;
  body = rr_qc_submission_json (self->findings, d);
  summary = g_string_new (NULL);
  g_string_append_printf (summary, g_dngettext (NULL, "Decision: %s, with %u finding",
                                                "Decision: %s, with %u findings",
                                                self->findings->len),
                          d, self->findings->len);
  for (guint i = 0; i < self->findings->len; i++)
    {
      g_autofree char *t = finding_text (self->findings->pdata[i]);
      g_string_append_printf (summary, "\n• %s", t);
    }
  meaning = rr_qc_sign_meaning (d, rr_qc_open_major (self->findings),
                                override_rationale (self));
  if (meaning == NULL)
    {
      g_string_free (summary, TRUE);
      return;
    }
  dialog = rr_sign_dialog_new (GTK_WINDOW (gtk_widget_get_root (GTK_WIDGET (self))),
                               rr_store_get_path (self->store), self->account, self->task_id,
                               self->ca_file, "null");
  rr_sign_dialog_set_submission (dialog, body, summary->str, meaning);
  g_string_free (summary, TRUE);
  g_signal_connect_object (dialog, "finished", G_CALLBACK (on_sign_finished), self, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}

/* ---- the task's detail, from the server or kept ---- */

static void
fetch_done (GObject      *source,
            GAsyncResult *result,
            gpointer      data)
{
  RrQcView *self = RR_QC_VIEW (source);
  g_autoptr (GError) error = NULL;
  g_autofree char *json = rr_task_detail_fetch_finish (result, &error);
  g_autoptr (JsonParser) p = json_parser_new ();
  g_autofree char *draft = NULL;
  JsonObject *o, *query;

  if (json == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          g_autofree char *t = g_strdup_printf (_("The task could not be fetched: %s"), error->message);
          gtk_label_set_text (self->state, t);
        }
      return;
    }
  if (!json_parser_load_from_data (p, json, -1, &error) ||
      !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (p)))
    {
      gtk_label_set_text (self->state, error ? error->message : _("The task is not an object"));
      return;
    }
  g_set_object (&self->detail, p);
  o = json_node_get_object (json_parser_get_root (p));
  g_ptr_array_unref (self->findings);
  if (is_query (self))
    {
      /* The site's view: what the reviewer found, read-only. */
      g_autofree char *text = NULL;
      const char *response = rr_json_get_string (o, "response");
      self->findings = rr_qc_findings_from_json (rr_json_get_array (o, "findings"), FALSE);
      text = response
        ? g_strdup_printf (_("Answered: %s"), response)
        : g_strdup_printf (_("QC %s these images. Answer with a re-upload of the corrected "
                             "images: readroom-cli upload … --query %s --response TEXT"),
                           g_strcmp0 (rr_json_get_string (o, "decision"), "fail") == 0
                             ? _("failed") : _("queried"), self->task_id);
      gtk_label_set_text (self->protocol, text);
      clear_box (self->checks);
      gtk_list_box_append (self->checks, row_label (_("The reviewer's findings are listed below; "
                                                      "each opens its image")));
      fill_findings (self);
      fill_history (self);
      gtk_label_set_text (self->state, "");
      return;
    }
  {
    g_autofree char *text = protocol_text (rr_json_get_object (o, "protocol"));
    JsonObject *automated = rr_json_get_object (o, "automated");
    query = rr_json_get_object (o, "query");
    if (query)
      {
        g_autofree char *t = g_strdup_printf (_("%s\nThis follows a query, answered: %s"), text,
                                              rr_json_get_string (query, "response")
                                                ? rr_json_get_string (query, "response") : "");
        gtk_label_set_text (self->protocol, t);
      }
    else
      gtk_label_set_text (self->protocol, text);
    fill_checks (self, automated);
    draft = self->store ? rr_store_get_draft (self->store, self->account, self->task_id, NULL)
                        : NULL;
    {
      g_autoptr (JsonParser) dp = json_parser_new ();
      if (draft && json_parser_load_from_data (dp, draft, -1, NULL) &&
          JSON_NODE_HOLDS_OBJECT (json_parser_get_root (dp)) &&
          json_object_has_member (json_node_get_object (json_parser_get_root (dp)), "qc_draft"))
        {
          JsonObject *d = json_node_get_object (json_parser_get_root (dp));
          self->findings = rr_qc_findings_from_json (rr_json_get_array (d, "findings"), FALSE);
          show_decision (self, rr_json_get_string (d, "decision"));
        }
      else
        /* Each failed check, a prefilled finding. */
        self->findings = rr_qc_findings_from_json (rr_json_get_array (automated, "findings"),
                                                   TRUE);
    }
  }
  fill_findings (self);
  fill_history (self);
  update_lock (self);
}

/* ---- the widget ---- */

static void
clear_task (RrQcView *self)
{
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();
  g_clear_pointer (&self->task_id, g_free);
  g_clear_pointer (&self->kind, g_free);
  g_clear_pointer (&self->ca_file, g_free);
  g_clear_pointer (&self->task_status, g_free);
  g_clear_pointer (&self->selected, g_free);
  g_clear_pointer (&self->pending, g_free);
  g_clear_object (&self->detail);
  g_ptr_array_set_size (self->findings, 0);
  rr_measurement_history_reset (self->history, NULL);
  rr_viewport_set_volume (self->view, NULL);
  g_clear_pointer (&self->volume, rr_volume_unref);
  if (self->scan)
    g_ptr_array_add (self->old_scans, g_steal_pointer (&self->scan));
  clear_box (self->checks);
  clear_box (self->findings_box);
  gtk_label_set_text (self->title, "");
  gtk_label_set_text (self->protocol, "");
  gtk_label_set_text (self->state, "");
  show_state (self, NULL);
  show_decision (self, NULL);
  reset_controls (self);
  gtk_check_button_set_active (self->override, FALSE);
  gtk_editable_set_text (GTK_EDITABLE (self->rationale), "");
  set_locked (self, FALSE);
  gtk_toggle_button_set_active (self->tool[0], TRUE);
}

void
rr_qc_view_set_task (RrQcView           *self,
                     RrStore            *store,
                     gint64              account,
                     const char         *task_id,
                     const char         *ca_file,
                     const char * const *files)
{
  g_autoptr (RrStoreTask) t = NULL;
  g_autoptr (JsonParser) p = json_parser_new ();
  g_autofree char *server = NULL, *user = NULL;

  g_return_if_fail (RR_IS_QC_VIEW (self));
  clear_task (self);
  self->store = store;
  self->account = account;
  if (store == NULL || task_id == NULL)
    return;
  self->task_id = g_strdup (task_id);
  self->ca_file = g_strdup (ca_file);
  t = rr_store_get_task (store, account, task_id, NULL);
  if (t == NULL || !rr_store_get_account (store, account, &server, &user, NULL, NULL))
    {
      gtk_label_set_text (self->state, _("This task is not known on this computer"));
      return;
    }
  self->kind = g_strdup (t->kind);
  self->task_status = g_strdup (t->status);
  gtk_widget_set_visible (self->decision_box, !is_query (self));
  gtk_widget_set_visible (self->tools, !is_query (self));
  if (t->json && json_parser_load_from_data (p, t->json, -1, NULL) &&
      JSON_NODE_HOLDS_OBJECT (json_parser_get_root (p)))
    {
      JsonObject *o = json_node_get_object (json_parser_get_root (p));
      JsonArray *tps = rr_json_get_array (o, "timepoints");
      guint n = tps ? json_array_get_length (tps) : 0;
      JsonObject *last = n ? rr_json_get_element (tps, n - 1) : NULL;
      const char *subject = rr_json_get_string (o, "subject");
      const char *label = rr_json_get_string (last, "label");
      g_autofree char *title = g_strdup_printf (is_query (self) ? _("QC query · subject %s · %s")
                                                                : _("Quality control · subject %s · %s"),
                                                subject ? subject : "?", label ? label : "");
      gtk_label_set_text (self->title, title);
    }
  gtk_label_set_text (self->state, _("Fetching the task…"));
  rr_task_detail_fetch_async (rr_store_get_path (store), server, user, ca_file, account, task_id,
                              self, self->cancellable, fetch_done, NULL);
  if (files && files[0])
    rr_scan_async (files, self, self->cancellable, scan_done, NULL);
}

GtkWidget *
rr_qc_view_new (void)
{
  return g_object_new (RR_TYPE_QC_VIEW, NULL);
}

static void
sign_action (GtkWidget  *widget,
             const char *action,
             GVariant   *param)
{
  on_sign (RR_QC_VIEW (widget));
}

static void
rr_qc_view_dispose (GObject *object)
{
  RrQcView *self = RR_QC_VIEW (object);
  GtkWidget *child;
  g_cancellable_cancel (self->cancellable);
  if (self->view)
    rr_viewport_set_history (self->view, NULL);
  self->view = NULL;
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self))))
    gtk_widget_unparent (child);
  G_OBJECT_CLASS (rr_qc_view_parent_class)->dispose (object);
}

static void
rr_qc_view_finalize (GObject *object)
{
  RrQcView *self = RR_QC_VIEW (object);
  g_clear_object (&self->cancellable);
  g_free (self->task_id);
  g_free (self->kind);
  g_free (self->ca_file);
  g_free (self->task_status);
  g_free (self->selected);
  g_free (self->pending);
  g_clear_object (&self->detail);
  g_ptr_array_unref (self->findings);
  rr_measurement_history_free (self->history);
  g_clear_pointer (&self->volume, rr_volume_unref);
  /* Every task holds the view, so no thread reads a scan any more. */
  g_clear_pointer (&self->scan, rr_dicom_scan_free);
  g_ptr_array_unref (self->old_scans);
  G_OBJECT_CLASS (rr_qc_view_parent_class)->finalize (object);
}

static void
rr_qc_view_class_init (RrQcViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = rr_qc_view_dispose;
  object_class->finalize = rr_qc_view_finalize;
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_install_action (widget_class, "qc.sign", NULL, sign_action);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Return, GDK_CONTROL_MASK,
                                       "qc.sign", NULL);
  gtk_widget_class_set_css_name (widget_class, "qc");
}

static GtkWidget *
heading (const char *text)
{
  GtkWidget *l = gtk_label_new (text);
  gtk_label_set_xalign (GTK_LABEL (l), 0);
  gtk_widget_add_css_class (l, "heading");
  return l;
}

static GtkWidget *
scrolled_list (GtkListBox **box,
               const char  *name)
{
  GtkWidget *scroll = gtk_scrolled_window_new ();
  *box = GTK_LIST_BOX (gtk_list_box_new ());
  gtk_widget_add_css_class (GTK_WIDGET (*box), "boxed-list");
  gtk_accessible_update_property (GTK_ACCESSIBLE (*box), GTK_ACCESSIBLE_PROPERTY_LABEL, name, -1);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scroll), GTK_WIDGET (*box));
  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (scroll), GTK_POLICY_NEVER,
                                  GTK_POLICY_AUTOMATIC);
  gtk_widget_set_vexpand (scroll, TRUE);
  return scroll;
}

static GtkDropDown *
words_drop_down (const char *const *words,
                 const char        *name)
{
  g_autoptr (GtkStringList) list = gtk_string_list_new (NULL);
  GtkDropDown *d;
  for (guint i = 0; words[i]; i++)
    {
      g_autofree char *t = rr_qc_category_text (words[i]);
      gtk_string_list_append (list, t);
    }
  d = GTK_DROP_DOWN (gtk_drop_down_new (G_LIST_MODEL (g_steal_pointer (&list)), NULL));
  gtk_widget_set_tooltip_text (GTK_WIDGET (d), name);
  gtk_accessible_update_property (GTK_ACCESSIBLE (d), GTK_ACCESSIBLE_PROPERTY_LABEL, name, -1);
  rr_accessible_name_drop_down (d);
  return d;
}

static void
rr_qc_view_init (RrQcView *self)
{
  GtkWidget *outer = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
  GtkWidget *paned = gtk_paned_new (GTK_ORIENTATION_HORIZONTAL);
  GtkWidget *left = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
  GtkWidget *right = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
  GtkWidget *bottom = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);

  self->cancellable = g_cancellable_new ();
  self->findings = g_ptr_array_new_with_free_func ((GDestroyNotify) rr_qc_view_finding_free);
  self->old_scans = g_ptr_array_new_with_free_func ((GDestroyNotify) rr_dicom_scan_free);
  self->history = rr_measurement_history_new (on_shape_changed, self);

  gtk_widget_set_margin_start (outer, 12);
  gtk_widget_set_margin_end (outer, 12);
  gtk_widget_set_margin_top (outer, 6);
  gtk_widget_set_margin_bottom (outer, 6);
  self->title = GTK_LABEL (heading (""));
  gtk_widget_add_css_class (GTK_WIDGET (self->title), "title-3");
  self->protocol = GTK_LABEL (gtk_label_new (""));
  gtk_label_set_xalign (self->protocol, 0);
  gtk_label_set_wrap (self->protocol, TRUE);
  gtk_label_set_selectable (self->protocol, TRUE);
  gtk_box_append (GTK_BOX (outer), GTK_WIDGET (self->title));
  gtk_box_append (GTK_BOX (outer), GTK_WIDGET (self->protocol));

  gtk_widget_set_size_request (left, 360, -1);
  gtk_box_append (GTK_BOX (left), heading (_("Automated checks")));
  gtk_box_append (GTK_BOX (left), scrolled_list (&self->checks, _("Automated checks")));
  gtk_box_append (GTK_BOX (left), heading (_("Findings")));
  gtk_box_append (GTK_BOX (left), scrolled_list (&self->findings_box, _("Findings")));

  self->tools = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  for (guint i = 0; i < G_N_ELEMENTS (self->tool); i++)
    {
      self->tool[i] = GTK_TOGGLE_BUTTON (gtk_toggle_button_new_with_label (_(tool_names[i])));
      if (i > 0)
        gtk_toggle_button_set_group (self->tool[i], self->tool[0]);
      gtk_accessible_update_property (GTK_ACCESSIBLE (self->tool[i]),
                                      GTK_ACCESSIBLE_PROPERTY_LABEL, _(tool_names[i]), -1);
      g_signal_connect_object (self->tool[i], "toggled", G_CALLBACK (on_tool_toggled), self, 0);
      gtk_box_append (GTK_BOX (self->tools), GTK_WIDGET (self->tool[i]));
    }
  self->category = words_drop_down (rr_qc_categories, _("Category"));
  self->severity = words_drop_down (rr_qc_severities, _("Severity"));
  self->comment = GTK_ENTRY (gtk_entry_new ());
  gtk_entry_set_placeholder_text (self->comment, _("Comment"));
  gtk_entry_set_max_length (self->comment, 4000);
  gtk_editable_set_width_chars (GTK_EDITABLE (self->comment), 12);
  gtk_widget_set_hexpand (GTK_WIDGET (self->comment), TRUE);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->comment), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Comment"), -1);
  self->remove = GTK_BUTTON (gtk_button_new_with_label (_("Remove")));
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->remove), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Remove finding"), -1);
  reset_controls (self);
  gtk_box_append (GTK_BOX (self->tools), GTK_WIDGET (self->category));
  gtk_box_append (GTK_BOX (self->tools), GTK_WIDGET (self->severity));
  gtk_box_append (GTK_BOX (self->tools), GTK_WIDGET (self->comment));
  gtk_box_append (GTK_BOX (self->tools), GTK_WIDGET (self->remove));
  gtk_box_append (GTK_BOX (right), self->tools);

  self->view = RR_VIEWPORT (rr_viewport_new ());
  gtk_widget_set_vexpand (GTK_WIDGET (self->view), TRUE);
  gtk_widget_set_hexpand (GTK_WIDGET (self->view), TRUE);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->view), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("QC images"), -1);
  rr_viewport_set_history (self->view, self->history);
  rr_viewport_defects_set_markers (self->view, TRUE);
  gtk_box_append (GTK_BOX (right), GTK_WIDGET (self->view));
  self->view_state = GTK_LABEL (gtk_label_new (""));
  gtk_label_set_xalign (self->view_state, 0);
  gtk_label_set_ellipsize (self->view_state, PANGO_ELLIPSIZE_END);
  gtk_box_append (GTK_BOX (right), GTK_WIDGET (self->view_state));
  gtk_widget_set_visible (GTK_WIDGET (self->view_state), FALSE);

  gtk_paned_set_start_child (GTK_PANED (paned), left);
  gtk_paned_set_end_child (GTK_PANED (paned), right);
  gtk_paned_set_shrink_start_child (GTK_PANED (paned), FALSE);
  gtk_paned_set_resize_start_child (GTK_PANED (paned), FALSE);
  gtk_paned_set_position (GTK_PANED (paned), 380);
  gtk_widget_set_vexpand (paned, TRUE);
  gtk_box_append (GTK_BOX (outer), paned);

  self->decision_box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  gtk_box_append (GTK_BOX (self->decision_box), heading (_("Decision")));
  {
    static const char *const labels[] = { N_("_Pass"), N_("_Fail"), N_("_Query the site") };
    const char *const access[] = { _("Pass"), _("Fail"), _("Query the site") };
    for (guint i = 0; i < G_N_ELEMENTS (decisions); i++)
      {
        self->decision[i] = GTK_CHECK_BUTTON (gtk_check_button_new_with_mnemonic (_(labels[i])));
        if (i > 0)
          gtk_check_button_set_group (self->decision[i], self->decision[0]);
        gtk_accessible_update_property (GTK_ACCESSIBLE (self->decision[i]),
                                        GTK_ACCESSIBLE_PROPERTY_LABEL, access[i], -1);
        g_signal_connect_object (self->decision[i], "toggled", G_CALLBACK (on_decision_toggled),
                                 self, G_CONNECT_SWAPPED);
        gtk_box_append (GTK_BOX (self->decision_box), GTK_WIDGET (self->decision[i]));
      }
  }
  self->override_box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  self->override = GTK_CHECK_BUTTON (gtk_check_button_new_with_label (
    _("Pass despite the major findings")));
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->override), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Pass despite the major findings"), -1);
  self->rationale = GTK_ENTRY (gtk_entry_new ());
  gtk_entry_set_placeholder_text (self->rationale, _("Why they pass (kept with the signature)"));
  gtk_entry_set_max_length (self->rationale, RR_QC_RATIONALE_MAX);
  gtk_widget_set_hexpand (GTK_WIDGET (self->rationale), TRUE);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->rationale),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, _("Override rationale"), -1);
  gtk_box_append (GTK_BOX (self->override_box), GTK_WIDGET (self->override));
  gtk_box_append (GTK_BOX (self->override_box), GTK_WIDGET (self->rationale));
  gtk_widget_set_visible (self->override_box, FALSE);
  self->sign = GTK_BUTTON (gtk_button_new_with_mnemonic (_("_Sign Decision…")));
  gtk_widget_add_css_class (GTK_WIDGET (self->sign), "suggested-action");
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->sign), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Sign decision"), -1);
  gtk_box_append (GTK_BOX (self->decision_box), GTK_WIDGET (self->sign));
  gtk_box_append (GTK_BOX (bottom), self->decision_box);
  gtk_box_append (GTK_BOX (bottom), self->override_box);
  self->state = GTK_LABEL (gtk_label_new (""));
  gtk_label_set_xalign (self->state, 0);
  gtk_label_set_wrap (self->state, TRUE);
  gtk_label_set_selectable (self->state, TRUE);
  gtk_widget_set_hexpand (GTK_WIDGET (self->state), TRUE);
  gtk_box_append (GTK_BOX (bottom), GTK_WIDGET (self->state));
  gtk_box_append (GTK_BOX (outer), bottom);
  gtk_widget_set_parent (outer, GTK_WIDGET (self));
  rr_accessible_skip_empty_labels (GTK_WIDGET (self));

  g_signal_connect_object (self->checks, "row-activated", G_CALLBACK (on_check_activated), self,
                           0);
  g_signal_connect_object (self->findings_box, "row-activated",
                           G_CALLBACK (on_finding_activated), self, 0);
  g_signal_connect_object (self->findings_box, "row-selected", G_CALLBACK (on_finding_selected),
                           self, 0);
  g_signal_connect_object (self->category, "notify::selected", G_CALLBACK (on_control_changed),
                           self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->severity, "notify::selected", G_CALLBACK (on_control_changed),
                           self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->comment, "changed", G_CALLBACK (on_control_changed), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->remove, "clicked", G_CALLBACK (on_remove), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->sign, "clicked", G_CALLBACK (on_sign), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->override, "toggled", G_CALLBACK (update_sign), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->rationale, "changed", G_CALLBACK (update_sign), self,
                           G_CONNECT_SWAPPED);
  gtk_widget_set_sensitive (GTK_WIDGET (self->remove), FALSE);
  gtk_toggle_button_set_active (self->tool[0], TRUE);
  update_sign (self);
}
