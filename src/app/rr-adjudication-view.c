/* rr-adjudication-view.c: the adjudicator sees the two reads only as
 * "Reader 1" and "Reader 2", the labels the server gives them: nothing
 * here shows a user name, a site or an arm. Both reads are read-only: the
 * calipers are drawn from the reads' JSON into histories that refuse every
 * change. The differences between the reads come from core
 * (rr_read_compare), the discrepancies from the server. */
#include "rr-adjudication-view.h"
#include "rr-accessible.h"
#include "rr-read-export.h"
#include "rr-viewport.h"
#include "rr-sign-dialog.h"
#include "rr-read-compare.h"
#include "rr-json.h"
#include "rr-measurement.h"
#include "rr-measurement-history.h"
#include "rr-dicom.h"
#include "rr-scan.h"
#include "rr-task-detail.h"
#include "rr-response-text.h"
#include "rr-signed-elsewhere.h"

#include <glib/gi18n.h>
#include <json-glib/json-glib.h>
#include <stdlib.h>
#include <string.h>


static const char *const reader_labels[2] = { "Reader 1", "Reader 2" };
/* Reader 1 in orange, Reader 2 in green: apart from the selection's cyan
 * and from each other for the common colour blindnesses (Okabe-Ito). */
static const GdkRGBA reader_colors[2] = { { 0.90, 0.62, 0.0, 1 }, { 0.0, 0.62, 0.45, 1 } };

struct _RrAdjudicationView
{
  GtkWidget parent_instance;

  GtkLabel *title;
  GtkLabel *summary;
  GtkWidget *banner;
  RrViewport *view1, *view2;
  GtkLabel *caption1, *caption2;
  GtkToggleButton *show_own, *show_1, *show_2, *show_both;
  GtkToggleButton *shown;       /* the one of them chosen last */
  GtkLabel *view_state;
  GtkPaned *paned;
  gboolean divider_moved;       /* by the adjudicator: kept where they put it */
  gboolean dividing;            /* the view itself moves it */
  GtkListBox *timepoints;
  GtkListBox *lesions1, *lesions2;
  GtkWidget *decision;
  GtkCheckButton *choose1, *choose2;
  GtkFlowBox *reasons;
  GtkCheckButton *reason[4];
  GtkTextView *rationale;
  GtkButton *sign;
  GtkLabel *state;
  GtkWidget *export;            /* "Save Report…", "Export SR…" of the final read */

  RrStore *store;               /* borrowed */
  gint64 account;
  char *task_id;
  char *ca_file;
  char *task_status;
  GCancellable *cancellable;    /* everything of the task open */

  JsonParser *detail;           /* GET /tasks/{id} */
  JsonObject *read[2];          /* borrowed from detail */
  JsonObject *responses[2];
  JsonArray *discrepancies;
  GPtrArray *calipers[2];       /* RrMeasurement, owned; ids made unique per reader */
  GHashTable *lesion_caliper;   /* "reader|lesion|timepoint" -> caliper id */
  RrMeasurementHistory *history[2];
  GHashTable *colors;           /* caliper id -> GdkRGBA */

  RrDicomScan *scan;
  GPtrArray *old_scans;         /* kept until the view goes: threads may read them */
  RrVolume *volume;
  char *current_study;          /* the task's current timepoint's study */
  char *pending_caliper;        /* to show once its series is loaded */
  guint pending_reader;
  gboolean locked;
};

G_DEFINE_FINAL_TYPE (RrAdjudicationView, rr_adjudication_view, GTK_TYPE_WIDGET)

static const char *const reason_texts[4] = {
  N_("Measurement variability"), N_("Lesion selection"), N_("New-lesion call"),
  N_("Non-target assessment"),
};

gboolean
rr_adjudication_view_handles (const char *kind)
{
  return g_strcmp0 (kind, "adjudication") == 0;
}

/* A response word for people: "NON_CR_NON_PD" -> "non-CR/non-PD". */
static const char *
word (const char *w)
{
  return rr_response_code_short (w);
}

static const char *
field_name (const char *field)
{
  if (g_strcmp0 (field, "best_overall_response") == 0 || g_strcmp0 (field, "bor") == 0)
    return _("best overall response");
  if (g_strcmp0 (field, "progression_timepoint") == 0)
    return _("date of progression");
  if (g_strcmp0 (field, "overall") == 0)
    return _("overall response");
  if (g_strcmp0 (field, "target") == 0)
    return _("target response");
  if (g_strcmp0 (field, "non_target") == 0)
    return _("non-target response");
  if (g_strcmp0 (field, "new_lesions") == 0)
    return _("new lesions");
  return field;
}

/* The server's discrepancy on @field at @tp (NULL: the read's outcome,
 * which names no timepoint), or NULL; server-api.md's shape. */
static JsonObject *
discrepancy (RrAdjudicationView *self,
             const char         *field,
             const char         *tp)
{
  for (guint i = 0; self->discrepancies && i < json_array_get_length (self->discrepancies); i++)
    {
      JsonObject *d = rr_json_get_element (self->discrepancies, i);
      const char *f = rr_json_get_string (d, "kind");
      const char *at = rr_json_get_string (d, "timepoint");
      if (f && (g_str_equal (f, field) ||
                (g_str_equal (f, "bor") && g_str_equal (field, "best_overall_response"))) &&
          g_strcmp0 (at, tp) == 0)
        return d;
    }
  return NULL;
}

static const char *
discrepancy_value (JsonObject *d,
                   guint       reader)
{
  return rr_json_get_string (d, reader ? "reader_2" : "reader_1");
}

/* ---- the images ---- */

static gboolean
refuse_change (RrMeasurementChange  change,
               const RrMeasurement *m,
               gpointer             data)
{
  /* Both reads are signed records: nothing drawn here may change them. */
  return FALSE;
}

static RrViewport *
view_of (RrAdjudicationView *self,
         guint               reader)
{
  return reader ? self->view2 : self->view1;
}

static const RrMeasurement *
caliper (RrAdjudicationView *self,
         guint               reader,
         const char         *id)
{
  for (guint i = 0; self->calipers[reader] && i < self->calipers[reader]->len; i++)
    {
      RrMeasurement *m = self->calipers[reader]->pdata[i];
      if (g_strcmp0 (m->id, id) == 0)
        return m;
    }
  return NULL;
}

/* Whether @pane draws @reader's calipers: each its own reader's, or one
 * reader's on both (to see them on the other's image), or both readers'. */
static gboolean
pane_draws (RrAdjudicationView *self,
            guint               pane,
            guint               reader)
{
  if (self->shown == self->show_both)
    return TRUE;
  if (self->shown == self->show_1)
    return reader == 0;
  if (self->shown == self->show_2)
    return reader == 1;
  return reader == pane;
}

/* The timepoint whose images are shown: the one a caliper on them was
 * drawn at, or NULL when none was. */
static const char *
shown_timepoint (RrAdjudicationView *self)
{
  GHashTableIter it;
  gpointer key, id;
  if (self->volume == NULL)
    return NULL;
  g_hash_table_iter_init (&it, self->lesion_caliper);
  while (g_hash_table_iter_next (&it, &key, &id))
    {
      const char *lesion = strchr (key, '|');
      const char *tp = lesion ? strchr (lesion + 1, '|') : NULL;
      const RrMeasurement *m = caliper (self, *(const char *) key == '1', id);
      if (tp && m && g_strcmp0 (m->series_uid, self->volume->series_uid) == 0)
        return tp + 1;
    }
  return NULL;
}

/* Each pane's history: the calipers it draws, on the series shown. */
static void
fill_histories (RrAdjudicationView *self)
{
  const char *series = self->volume ? self->volume->series_uid : NULL;
  const char *tp = shown_timepoint (self);
  for (guint pane = 0; pane < 2; pane++)
    {
      GPtrArray *items = g_ptr_array_new ();
      char *caption, *whose;
      for (guint r = 0; r < 2; r++)
        if (pane_draws (self, pane, r))
          for (guint i = 0; self->calipers[r] && i < self->calipers[r]->len; i++)
            {
              RrMeasurement *m = self->calipers[r]->pdata[i];
              if (series && g_strcmp0 (m->series_uid, series) == 0)
                g_ptr_array_add (items, rr_measurement_copy (m));
            }
      rr_measurement_history_reset (self->history[pane], items);
      g_ptr_array_unref (items);
      rr_viewport_measurements_changed (view_of (self, pane));
      /* The caption says the timepoint shown (walk finding 14: the panes
       * did not say), and whose calipers the pane draws when not its own. */
      if (tp)
        whose = g_strdup_printf ("%s · %s", reader_labels[pane], tp);
      else
        whose = g_strdup (reader_labels[pane]);
      if (pane_draws (self, pane, 0) && pane_draws (self, pane, 1))
        caption = g_strdup_printf (_("%s · both readers' calipers"), whose);
      else if (!pane_draws (self, pane, pane))
        caption = g_strdup_printf (_("%s · %s's calipers"), whose, reader_labels[!pane]);
      else
        caption = g_strdup (whose);
      g_free (whose);
      gtk_label_set_text (pane ? self->caption2 : self->caption1, caption);
      g_free (caption);
    }
}

static void load_series (RrAdjudicationView *self,
                         RrDicomSeries      *series);

/* Both panes at a caliper of @reader: the pane that draws it selects it,
 * the other goes to its point. */
static void
go_to (RrAdjudicationView *self,
       guint               reader,
       const char         *id)
{
  const RrMeasurement *m = caliper (self, reader, id);
  if (m == NULL)
    return;
  if (self->volume == NULL || g_strcmp0 (self->volume->series_uid, m->series_uid) != 0)
    {
      RrDicomSeries *se = self->scan ? rr_dicom_scan_find_series (self->scan, m->series_uid)
                                     : NULL;
      if (se == NULL)
        {
          gtk_label_set_text (self->view_state,
                              _("The images of this caliper are not among the task's"));
          return;
        }
      g_free (self->pending_caliper);
      self->pending_caliper = g_strdup (id);
      self->pending_reader = reader;
      load_series (self, se);
      return;
    }
  for (guint pane = 0; pane < 2; pane++)
    {
      RrViewport *v = view_of (self, pane);
      if (pane_draws (self, pane, reader))
        rr_viewport_show_measurement (v, id);
      else
        rr_viewport_set_point (v, rr_measurement_center (m));
    }
  {
    g_autofree char *d = rr_viewport_describe (view_of (self, reader));
    g_autofree char *t = g_strdup_printf (_("At %s's caliper: %s"), reader_labels[reader], d);
    gtk_label_set_text (self->view_state, t);
  }
}

static void
volume_done (GObject      *source,
             GAsyncResult *result,
             gpointer      data)
{
  RrAdjudicationView *self = RR_ADJUDICATION_VIEW (source);
  g_autoptr (GError) error = NULL;
  RrVolume *v = rr_series_load_finish (result, &error);
  g_autofree char *pending = NULL;

  if (v == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        gtk_label_set_text (self->view_state, error->message);
      return;
    }
  g_clear_pointer (&self->volume, rr_volume_unref);
  self->volume = v;
  rr_viewport_set_volume (self->view1, v);
  rr_viewport_set_volume (self->view2, v);
  fill_histories (self);
  gtk_label_set_text (self->view_state, "");
  pending = g_steal_pointer (&self->pending_caliper);
  if (pending)
    go_to (self, self->pending_reader, pending);
}

static void
load_series (RrAdjudicationView *self,
             RrDicomSeries      *series)
{
  gtk_label_set_text (self->view_state, _("Loading the images…"));
  /* The series lives in self->scan, kept (or in old_scans) while the view
   * lives. */
  rr_series_load_async (series, NULL, self, self->cancellable, volume_done, NULL);
}

/* The current timepoint's series: the first image series of its study. */
static void
load_current (RrAdjudicationView *self)
{
  RrDicomSeries *first = NULL;
  if (self->scan == NULL)
    return;
  for (guint i = 0; i < self->scan->studies->len; i++)
    {
      RrDicomStudy *st = self->scan->studies->pdata[i];
      for (guint j = 0; j < st->series->len; j++)
        {
          RrDicomSeries *se = st->series->pdata[j];
          if (!se->is_image)
            continue;
          if (g_strcmp0 (st->study_uid, self->current_study) == 0)
            {
              load_series (self, se);
              return;
            }
          if (first == NULL)
            first = se;
        }
    }
  if (first)
    load_series (self, first);
}

static void
scan_done (GObject      *source,
           GAsyncResult *result,
           gpointer      data)
{
  RrAdjudicationView *self = RR_ADJUDICATION_VIEW (source);
  g_autoptr (GError) error = NULL;
  RrDicomScan *scan = rr_scan_finish (result, &error);
  if (scan == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        gtk_label_set_text (self->view_state, error->message);
      return;
    }
  if (self->scan)
    g_ptr_array_add (self->old_scans, self->scan);
  self->scan = scan;
  load_current (self);
}

/* ---- the reads ---- */

static void
add_caliper (RrAdjudicationView *self,
             guint               reader,
             const char         *lesion,
             const char         *tp,
             JsonNode           *node)
{
  g_autofree char *json = json_to_string (node, FALSE);
  g_autoptr (GError) error = NULL;
  RrMeasurement *m = rr_measurement_from_json (json, &error);
  char *id;
  if (m == NULL)
    return;
  /* The two readers' calipers on one pane: never the same id. */
  id = g_strdup_printf ("r%u-%s", reader + 1, m->id);
  g_free (m->id);
  m->id = id;
  g_ptr_array_add (self->calipers[reader], m);
  g_hash_table_insert (self->colors, g_strdup (id), (gpointer) &reader_colors[reader]);
  if (lesion && tp)
    g_hash_table_insert (self->lesion_caliper,
                         g_strdup_printf ("%u|%s|%s", reader, lesion, tp), g_strdup (id));
}

static void
collect_calipers (RrAdjudicationView *self,
                  guint               reader)
{
  static const char *const sections[] = { "target_lesions", "non_target_lesions",
                                          "new_lesions" };
  for (guint s = 0; s < G_N_ELEMENTS (sections); s++)
    {
      JsonArray *ls = rr_json_get_array (self->read[reader], sections[s]);
      for (guint i = 0; ls && i < json_array_get_length (ls); i++)
        {
          JsonObject *l = rr_json_get_element (ls, i);
          JsonObject *cs = rr_json_get_object (l, "calipers");
          g_autoptr (GList) tps = cs ? json_object_get_members (cs) : NULL;
          for (GList *t = tps; t; t = t->next)
            {
              JsonNode *c = json_object_get_member (cs, t->data);
              if (JSON_NODE_HOLDS_OBJECT (c))
                add_caliper (self, reader, rr_json_get_string (l, "id"), t->data, c);
              else if (JSON_NODE_HOLDS_ARRAY (c))
                /* A split lesion: its first fragment marks it. */
                for (guint k = 0; k < json_array_get_length (json_node_get_array (c)); k++)
                  add_caliper (self, reader, k ? NULL : rr_json_get_string (l, "id"), t->data,
                               json_array_get_element (json_node_get_array (c), k));
            }
        }
    }
}

/* The caliper of @lesion: at @tp if given, else at the latest timepoint
 * that has one. */
static const char *
lesion_caliper (RrAdjudicationView *self,
                guint               reader,
                const char         *lesion,
                const char         *tp)
{
  JsonArray *tps = rr_json_get_array (self->read[reader], "timepoints");
  if (tp)
    {
      g_autofree char *key = g_strdup_printf ("%u|%s|%s", reader, lesion, tp);
      return g_hash_table_lookup (self->lesion_caliper, key);
    }
  for (guint k = tps ? json_array_get_length (tps) : 0; k > 0; k--)
    {
      JsonObject *at = rr_json_get_element (tps, k - 1);
      g_autofree char *key = g_strdup_printf ("%u|%s|%s", reader, lesion,
                                              rr_json_get_string (at, "id"));
      const char *id = g_hash_table_lookup (self->lesion_caliper, key);
      if (id)
        return id;
    }
  return NULL;
}

static GtkWidget *
cell (const char *text,
      gboolean    heading,
      gboolean    differs)
{
  GtkWidget *l = gtk_label_new (text);
  gtk_label_set_xalign (GTK_LABEL (l), 0);
  if (heading)
    gtk_widget_add_css_class (l, "heading");
  if (differs)
    {
      gtk_widget_add_css_class (l, "error");
      gtk_widget_add_css_class (l, "heading");
    }
  return l;
}

static JsonObject *
tp_response (RrAdjudicationView *self,
             guint               reader,
             const char         *tp)
{
  JsonArray *a = rr_json_get_array (self->responses[reader], "timepoints");
  for (guint i = 0; a && i < json_array_get_length (a); i++)
    if (g_strcmp0 (rr_json_get_string (rr_json_get_element (a, i), "id"), tp) == 0)
      return rr_json_get_element (a, i);
  return NULL;
}

static void
on_timepoint_activated (GtkListBox    *box,
                        GtkListBoxRow *row,
                        gpointer       data)
{
  static const char *const sections[] = { "target_lesions", "new_lesions",
                                          "non_target_lesions" };
  RrAdjudicationView *self = data;
  const char *tp = g_object_get_data (G_OBJECT (row), "timepoint");
  /* A timepoint: its first caliper, Reader 1's first, targets first. */
  for (guint r = 0; tp && r < 2; r++)
    for (guint s = 0; s < G_N_ELEMENTS (sections); s++)
      {
        JsonArray *ls = rr_json_get_array (self->read[r], sections[s]);
        for (guint i = 0; ls && i < json_array_get_length (ls); i++)
          {
            JsonObject *l = rr_json_get_element (ls, i);
            const char *id = lesion_caliper (self, r, rr_json_get_string (l, "id"), tp);
            if (id)
              {
                go_to (self, r, id);
                return;
              }
          }
      }
  gtk_label_set_text (self->view_state, _("No caliper was drawn at this timepoint"));
}

static void
fill_timepoints (RrAdjudicationView *self)
{
  static const char *const fields[] = { "target", "non_target", "new_lesions", "overall" };
  static const char *const titles[] = { N_("Target"), N_("Non-target"), N_("New lesions"),
                                        N_("Overall") };
  JsonArray *tps = rr_json_get_array (self->read[0], "timepoints");
  guint n = tps ? json_array_get_length (tps) : 0;

  for (guint k = 0; k < n; k++)
    {
      const char *tp = rr_json_get_string (rr_json_get_element (tps, k), "id");
      GtkWidget *row = gtk_list_box_row_new (), *grid = gtk_grid_new ();
      GString *a11y = g_string_new (tp);
      gtk_grid_set_column_spacing (GTK_GRID (grid), 18);
      gtk_grid_set_row_spacing (GTK_GRID (grid), 2);
      gtk_widget_set_margin_start (grid, 8);
      gtk_widget_set_margin_end (grid, 8);
      gtk_widget_set_margin_top (grid, 4);
      gtk_widget_set_margin_bottom (grid, 4);
      gtk_grid_attach (GTK_GRID (grid), cell (tp, TRUE, FALSE), 0, 0, 1, 1);
      gtk_grid_attach (GTK_GRID (grid), cell (_("Reader 1"), FALSE, FALSE), 0, 1, 1, 1);
      gtk_grid_attach (GTK_GRID (grid), cell (_("Reader 2"), FALSE, FALSE), 0, 2, 1, 1);
      /* The sum of the targets: the baseline's from the baseline result. */
      gtk_grid_attach (GTK_GRID (grid), cell (_("Sum"), TRUE, FALSE), 1, 0, 1, 1);
      for (guint r = 0; r < 2; r++)
        {
          JsonObject *at = k == 0 && rr_json_get_object (self->responses[r], "baseline")
                             ? rr_json_get_object (self->responses[r], "baseline")
                             : tp_response (self, r, tp);
          JsonNode *sum = at ? json_object_get_member (at, "sum_mm") : NULL;
          g_autofree char *t = sum && JSON_NODE_HOLDS_VALUE (sum)
                                 ? g_strdup_printf ("%.1f mm", json_node_get_double (sum))
                                 : g_strdup ("—");
          gtk_grid_attach (GTK_GRID (grid), cell (t, FALSE, FALSE), 1, 1 + r, 1, 1);
          g_string_append_printf (a11y, _(", %s sum %s"), reader_labels[r], t);
        }
      for (guint f = 0; f < G_N_ELEMENTS (fields); f++)
        {
          const char *v1 = rr_json_get_string (tp_response (self, 0, tp), fields[f]);
          const char *v2 = rr_json_get_string (tp_response (self, 1, tp), fields[f]);
          JsonObject *d = discrepancy (self, fields[f], tp);
          gboolean differs = d != NULL || g_strcmp0 (v1, v2) != 0;
          gtk_grid_attach (GTK_GRID (grid), cell (_(titles[f]), TRUE, FALSE), 2 + f, 0, 1, 1);
          gtk_grid_attach (GTK_GRID (grid), cell (word (v1), FALSE, differs), 2 + f, 1, 1, 1);
          gtk_grid_attach (GTK_GRID (grid), cell (word (v2), FALSE, differs), 2 + f, 2, 1, 1);
          g_string_append_printf (a11y, _(", %s: Reader 1 %s, Reader 2 %s%s"), _(titles[f]),
                                  word (v1), word (v2),
                                  d ? _(" (discrepancy)") : differs ? _(" (differs)") : "");
        }
      gtk_list_box_row_set_child (GTK_LIST_BOX_ROW (row), grid);
      g_object_set_data_full (G_OBJECT (row), "timepoint", g_strdup (tp), g_free);
      gtk_accessible_update_property (GTK_ACCESSIBLE (row), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                      a11y->str, -1);
      g_string_free (a11y, TRUE);
      gtk_list_box_append (self->timepoints, row);
    }

  /* The outcome of the whole read: best overall response and the date of
   * progression, the fields the trial's rule compares. */
  {
    static const char *const fs[] = { "best_overall_response", "progression_timepoint" };
    static const char *const ts[] = { N_("Best overall response"), N_("Date of progression") };
    for (guint f = 0; f < G_N_ELEMENTS (fs); f++)
      {
        GtkWidget *row = gtk_list_box_row_new (), *grid = gtk_grid_new ();
        JsonObject *d = discrepancy (self, fs[f], NULL);
        char *v[2];
        g_autofree char *label = NULL;
        for (guint r = 0; r < 2; r++)
          {
            const char *s = rr_json_get_string (self->responses[r], fs[f]);
            if (f == 1 && s)
              {
                /* The timepoint's day: the date as the trial counts it. */
                gint64 day = -1;
                for (guint k = 0; k < n; k++)
                  if (g_strcmp0 (rr_json_get_string (rr_json_get_element (tps, k), "id"), s) == 0)
                    day = json_object_get_int_member_with_default (rr_json_get_element (tps, k),
                                                                   "day", -1);
                v[r] = day >= 0 ? g_strdup_printf (_("%s (day %" G_GINT64_FORMAT ")"), s, day)
                                : g_strdup (s);
              }
            else
              v[r] = g_strdup (f == 1 ? _("none") : word (s));
          }
        gtk_grid_set_column_spacing (GTK_GRID (grid), 18);
        gtk_widget_set_margin_start (grid, 8);
        gtk_widget_set_margin_top (grid, 4);
        gtk_widget_set_margin_bottom (grid, 4);
        gtk_grid_attach (GTK_GRID (grid), cell (_(ts[f]), TRUE, FALSE), 0, 0, 1, 1);
        for (guint r = 0; r < 2; r++)
          {
            g_autofree char *t = g_strdup_printf ("%s %s", reader_labels[r], v[r]);
            gtk_grid_attach (GTK_GRID (grid), cell (t, FALSE, d || g_strcmp0 (v[0], v[1]) != 0),
                             1 + r, 0, 1, 1);
          }
        if (d)
          {
            gtk_grid_attach (GTK_GRID (grid), cell (_("Discrepancy"), TRUE, TRUE), 3, 0, 1, 1);
          }
        label = g_strdup_printf (_("%s: Reader 1 %s, Reader 2 %s%s"), _(ts[f]), v[0], v[1],
                                 d ? _(" (discrepancy)") : "");
        gtk_list_box_row_set_child (GTK_LIST_BOX_ROW (row), grid);
        gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (row), FALSE);
        gtk_accessible_update_property (GTK_ACCESSIBLE (row), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                        label, -1);
        gtk_list_box_append (self->timepoints, row);
        g_free (v[0]);
        g_free (v[1]);
      }
  }
}

static char *
diff_text (const RrReadDiff *d,
           guint             reader)
{
  switch (d->kind)
    {
    case RR_READ_DIFF_TARGET_CHOICE:
      return g_strdup_printf (_("a target the other reader did not choose"));
    case RR_READ_DIFF_MEASUREMENT:
      return g_strdup_printf (_("measured %.1f mm against %.1f mm at %s (more than 20%%)"),
                              reader ? d->mm_2 : d->mm_1, reader ? d->mm_1 : d->mm_2,
                              d->timepoint);
    case RR_READ_DIFF_NEW_LESION:
    default:
      return g_strdup_printf (_("a new lesion at %s the other reader did not see"), d->timepoint);
    }
}

static void
on_lesion_activated (GtkListBox    *box,
                     GtkListBoxRow *row,
                     gpointer       data)
{
  RrAdjudicationView *self = data;
  guint reader = box == self->lesions2;
  const char *lesion = g_object_get_data (G_OBJECT (row), "lesion");
  const char *id;
  if (lesion == NULL)
    return;
  /* At the timepoint shown when it has a caliper there. */
  id = NULL;
  if (self->volume)
    for (guint i = 0; self->calipers[reader] && i < self->calipers[reader]->len && !id; i++)
      {
        RrMeasurement *m = self->calipers[reader]->pdata[i];
        JsonArray *tps = rr_json_get_array (self->read[reader], "timepoints");
        for (guint k = 0; tps && k < json_array_get_length (tps) && !id; k++)
          {
            JsonObject *tp = rr_json_get_element (tps, k);
            const char *c = lesion_caliper (self, reader, lesion, rr_json_get_string (tp, "id"));
            if (c && g_str_equal (c, m->id) &&
                g_strcmp0 (m->series_uid, self->volume->series_uid) == 0)
              id = c;
          }
      }
  if (id == NULL)
    id = lesion_caliper (self, reader, lesion, NULL);
  if (id)
    go_to (self, reader, id);
  else
    gtk_label_set_text (self->view_state, _("This lesion has no caliper in the read"));
}

static void
fill_lesions (RrAdjudicationView *self,
              guint               reader,
              GPtrArray          *diffs)
{
  static const char *const sections[] = { "target_lesions", "non_target_lesions",
                                          "new_lesions" };
  static const char *const kinds[] = { N_("Target"), N_("Non-target"), N_("New lesion") };
  GtkListBox *box = reader ? self->lesions2 : self->lesions1;
  JsonArray *tps = rr_json_get_array (self->read[reader], "timepoints");

  for (guint s = 0; s < G_N_ELEMENTS (sections); s++)
    {
      JsonArray *ls = rr_json_get_array (self->read[reader], sections[s]);
      for (guint i = 0; ls && i < json_array_get_length (ls); i++)
        {
          JsonObject *l = rr_json_get_element (ls, i);
          const char *id = rr_json_get_string (l, "id");
          GString *t = g_string_new (NULL);
          GtkWidget *row = gtk_list_box_row_new (), *label;
          JsonObject *ms = rr_json_get_object (l, "measurements");
          JsonObject *st = rr_json_get_object (l, "status");
          const char *organ = rr_json_get_string (l, "organ");
          guint nd = 0;
          g_string_append_printf (t, "%s %s, %s", _(kinds[s]), id ? id : "?",
                                  organ ? organ : "");
          for (guint k = 0; tps && k < json_array_get_length (tps); k++)
            {
              const char *tp = rr_json_get_string (rr_json_get_element (tps, k), "id");
              JsonNode *v = ms ? json_object_get_member (ms, tp)
                               : st ? json_object_get_member (st, tp) : NULL;
              if (s == 2)
                {
                  if (g_strcmp0 (rr_json_get_string (l, "timepoint"), tp) == 0)
                    g_string_append_printf (t, _(", seen at %s"), tp);
                }
              else if (v && JSON_NODE_HOLDS_VALUE (v) &&
                       json_node_get_value_type (v) == G_TYPE_STRING)
                g_string_append_printf (t, ", %s %s", tp, word (json_node_get_string (v)));
              else if (v && JSON_NODE_HOLDS_VALUE (v))
                g_string_append_printf (t, ", %s %.1f mm", tp, json_node_get_double (v));
            }
          for (guint d = 0; s != 1 && d < diffs->len; d++)
            if (rr_read_diff_concerns (diffs->pdata[d], reader + 1, id))
              {
                g_autofree char *dt = diff_text (diffs->pdata[d], reader);
                g_string_append_printf (t, nd++ ? "; %s" : _(". Differs: %s"), dt);
              }
          label = gtk_label_new (t->str);
          gtk_label_set_xalign (GTK_LABEL (label), 0);
          gtk_label_set_wrap (GTK_LABEL (label), TRUE);
          gtk_widget_set_margin_start (label, 8);
          gtk_widget_set_margin_end (label, 8);
          gtk_widget_set_margin_top (label, 4);
          gtk_widget_set_margin_bottom (label, 4);
          gtk_widget_set_hexpand (label, TRUE);
          if (nd)
            {
              /* A lesion the readers differ on: marked by a warning icon,
               * its text in normal weight (bold red was hard to read). */
              GtkWidget *marked = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 0);
              GtkWidget *icon = gtk_image_new_from_icon_name ("dialog-warning-symbolic");
              gtk_widget_add_css_class (icon, "warning");
              gtk_widget_set_valign (icon, GTK_ALIGN_START);
              gtk_widget_set_margin_start (icon, 8);
              gtk_widget_set_margin_top (icon, 6);
              gtk_accessible_update_property (GTK_ACCESSIBLE (icon),
                                              GTK_ACCESSIBLE_PROPERTY_LABEL, _("Differs"), -1);
              gtk_box_append (GTK_BOX (marked), icon);
              gtk_box_append (GTK_BOX (marked), label);
              gtk_list_box_row_set_child (GTK_LIST_BOX_ROW (row), marked);
            }
          else
            gtk_list_box_row_set_child (GTK_LIST_BOX_ROW (row), label);
          g_object_set_data_full (G_OBJECT (row), "lesion", g_strdup (id), g_free);
          gtk_accessible_update_property (GTK_ACCESSIBLE (row), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                          t->str, -1);
          g_string_free (t, TRUE);
          gtk_list_box_append (box, row);
        }
    }
}

/* ---- choosing and signing ---- */

static char *
rationale_text (RrAdjudicationView *self)
{
  GtkTextBuffer *b = gtk_text_view_get_buffer (self->rationale);
  GtkTextIter s, e;
  g_autofree char *free_text = NULL;
  GString *out = g_string_new (NULL);
  gtk_text_buffer_get_bounds (b, &s, &e);
  free_text = g_strstrip (gtk_text_buffer_get_text (b, &s, &e, FALSE));
  for (guint i = 0; i < G_N_ELEMENTS (reason_texts); i++)
    if (gtk_check_button_get_active (self->reason[i]))
      g_string_append_printf (out, "%s%s", out->len ? ", " : _("Reasons: "), _(reason_texts[i]));
  if (*free_text == '\0')
    {
      g_string_free (out, TRUE);
      return NULL;
    }
  if (out->len)
    g_string_append (out, ". ");
  g_string_append (out, free_text);
  return g_string_free (out, FALSE);
}

static int
chosen (RrAdjudicationView *self)
{
  return gtk_check_button_get_active (self->choose1) ? 0
         : gtk_check_button_get_active (self->choose2) ? 1 : -1;
}

static void
update_sign (RrAdjudicationView *self)
{
  g_autofree char *r = rationale_text (self);
  gboolean ok = !self->locked && self->read[0] && self->read[1] && chosen (self) >= 0 && r;
  gtk_widget_set_sensitive (GTK_WIDGET (self->sign), ok);
  if (!self->locked && self->read[0])
    gtk_label_set_text (self->state,
                        ok ? _("Ready to sign")
                           : chosen (self) < 0 ? _("Choose Reader 1 or Reader 2")
                                               : _("Give the rationale of the choice"));
}

/* A rationale as signed, "Reasons: A, B. text" (rationale_text()), shown
 * as it was written: its reasons ticked, its text in the box (walk finding
 * 16: the boxes were cleared and the text rewritten). A rationale that is
 * not of that form is shown whole, nothing ticked. */
static void
show_rationale (RrAdjudicationView *self,
                const char         *rationale)
{
  gboolean ticked[G_N_ELEMENTS (reason_texts)] = { FALSE };
  const char *text = rationale;
  const char *p = rationale;
  if (g_str_has_prefix (p, _("Reasons: ")))
    for (p += strlen (_("Reasons: ")); ; )
      {
        guint i = 0;
        while (i < G_N_ELEMENTS (reason_texts) && !g_str_has_prefix (p, _(reason_texts[i])))
          i++;
        if (i == G_N_ELEMENTS (reason_texts) || ticked[i])
          break;
        ticked[i] = TRUE;
        p += strlen (_(reason_texts[i]));
        if (g_str_has_prefix (p, ", "))
          p += 2;
        else
          {
            if (g_str_has_prefix (p, ". ") && p[2] != '\0')
              text = p + 2;
            break;
          }
      }
  for (guint i = 0; i < G_N_ELEMENTS (reason_texts); i++)
    gtk_check_button_set_active (self->reason[i], text != rationale && ticked[i]);
  gtk_text_buffer_set_text (gtk_text_view_get_buffer (self->rationale), text, -1);
}

/* The decision as it was signed: the choice and the whole rationale. */
static void
show_signed (RrAdjudicationView *self,
             const char         *body)
{
  g_autoptr (JsonParser) p = json_parser_new ();
  JsonObject *o;
  if (body == NULL || !json_parser_load_from_data (p, body, -1, NULL) ||
      !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (p)))
    return;
  o = json_node_get_object (json_parser_get_root (p));
  if (g_strcmp0 (rr_json_get_string (o, "chosen"), "Reader 1") == 0)
    gtk_check_button_set_active (self->choose1, TRUE);
  else if (g_strcmp0 (rr_json_get_string (o, "chosen"), "Reader 2") == 0)
    gtk_check_button_set_active (self->choose2, TRUE);
  if (rr_json_get_string (o, "rationale"))
    show_rationale (self, rr_json_get_string (o, "rationale"));
}

/* Submitted (or waiting in the outbox): the decision is locked and the
 * receipt shown. */
static void
update_lock (RrAdjudicationView *self)
{
  g_autoptr (GPtrArray) out = NULL;
  g_autofree char *body = NULL, *receipt = NULL;
  RrStoreOutbox *last = NULL;
  gboolean delivered;
  if (self->store == NULL || self->task_id == NULL)
    return;
  out = rr_store_outbox_list (self->store, self->account, NULL, NULL);
  for (guint i = 0; out && i < out->len; i++)
    if (g_str_equal (((RrStoreOutbox *) out->pdata[i])->task_id, self->task_id))
      last = out->pdata[i];
  self->locked = FALSE;
  delivered = last && g_str_equal (last->state, "delivered");
  if (delivered)
    {
      body = g_strdup (last->body);
      receipt = g_strdup (last->receipt);
    }
  /* Signed on another computer: as the server holds it. */
  else if (!(last && rr_store_outbox_state_waiting (last->state)))
    delivered = rr_signed_elsewhere (self->store, self->account, self->task_id, &body,
                                     &receipt);
  if (delivered)
    {
      g_autoptr (JsonParser) p = json_parser_new ();
      g_autoptr (JsonParser) b = json_parser_new ();
      JsonObject *r = NULL;
      const char *choice = NULL;
      g_autofree char *text = NULL;
      show_signed (self, body);
      if (receipt && json_parser_load_from_data (p, receipt, -1, NULL) &&
          JSON_NODE_HOLDS_OBJECT (json_parser_get_root (p)))
        r = rr_json_get_object (json_node_get_object (json_parser_get_root (p)), "receipt");
      if (body && json_parser_load_from_data (b, body, -1, NULL) &&
          JSON_NODE_HOLDS_OBJECT (json_parser_get_root (b)))
        choice = rr_json_get_string (json_node_get_object (json_parser_get_root (b)), "chosen");
      text = g_strdup_printf (_("Submitted and locked. Receipt %s, %s: %s's read is final (best "
                                "overall response %s)"),
                              rr_json_get_string (r, "id") ? rr_json_get_string (r, "id") : "?",
                              rr_json_get_string (r, "submitted_at")
                                ? rr_json_get_string (r, "submitted_at") : "",
                              choice ? choice : "?",
                              word (rr_json_get_string (rr_json_get_object (r, "responses"),
                                                        "best_overall_response")));
      gtk_label_set_text (self->state, text);
      self->locked = TRUE;
    }
  else if (last && rr_store_outbox_state_waiting (last->state))
    {
      show_signed (self, last->body);
      gtk_label_set_text (self->state, _("Signed and waiting in the outbox: it will be sent "
                                         "when the server is reachable"));
      self->locked = TRUE;
    }
  else if (g_strcmp0 (self->task_status, "submitted") == 0)
    {
      gtk_label_set_text (self->state, _("Submitted and locked on the server"));
      self->locked = TRUE;
    }
  else if (last && g_str_equal (last->state, "refused"))
    {
      g_autofree char *t = g_strdup_printf (_("The server refused the adjudication: %s"),
                                            last->last_error ? last->last_error : "");
      gtk_label_set_text (self->state, t);
    }
  /* Each control itself, so assistive technologies see them locked too. */
  gtk_widget_set_sensitive (GTK_WIDGET (self->choose1), !self->locked);
  gtk_widget_set_sensitive (GTK_WIDGET (self->choose2), !self->locked);
  for (guint i = 0; i < G_N_ELEMENTS (self->reason); i++)
    gtk_widget_set_sensitive (GTK_WIDGET (self->reason[i]), !self->locked);
  gtk_text_view_set_editable (self->rationale, !self->locked);
  gtk_widget_set_sensitive (GTK_WIDGET (self->rationale), !self->locked);
  if (self->locked)
    gtk_widget_set_sensitive (GTK_WIDGET (self->sign), FALSE);
  if (!self->locked)
    update_sign (self);
  rr_read_export_set_adjudicated (RR_READ_EXPORT (self->export), self->store, self->account,
                                  self->task_id, self->read[0], self->read[1]);
}

static void
on_sign_finished (RrSignDialog       *dialog,
                  const char         *state,
                  const char         *message,
                  RrAdjudicationView *self)
{
  update_lock (self);
}

static void
on_sign (RrAdjudicationView *self)
{
  g_autofree char *r = rationale_text (self);
  g_autofree char *read = NULL, *meaning = NULL;
  int c = chosen (self);
  RrSignDialog *dialog;
  if (self->locked || c < 0 || r == NULL || self->read[c] == NULL)
    return;
  {
    /* The chosen read as the dialog shows a read: with its responses. */
    JsonObject *copy = json_object_ref (self->read[c]);
    JsonNode *n = json_node_init_object (json_node_alloc (), copy);
    read = json_to_string (n, FALSE);
    json_node_unref (n);
    json_object_unref (copy);
  }
  /* The meaning says what the signature means (Part 11, 11.50), in a
   * sentence the server bounds to 200 characters; the rationale, of any
   * length, is the submission's own field: the dialog shows it above the
   * signature, and it is submitted, and audited, with it. */
  meaning = g_strdup_printf (_("Adjudication: I choose %s's read as the final assessment of "
                               "this case"), reader_labels[c]);
  dialog = rr_sign_dialog_new (GTK_WINDOW (gtk_widget_get_root (GTK_WIDGET (self))),
                               rr_store_get_path (self->store), self->account, self->task_id,
                               self->ca_file, read);
  rr_sign_dialog_set_adjudication (dialog, reader_labels[c], r, meaning);
  g_signal_connect_object (dialog, "finished", G_CALLBACK (on_sign_finished), self, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}

static void on_paned_max (GtkPaned *paned, GParamSpec *pspec, RrAdjudicationView *self);

/* ---- the task's detail, from the server or kept ---- */

static void
fetch_done (GObject      *source,
            GAsyncResult *result,
            gpointer      data)
{
  RrAdjudicationView *self = RR_ADJUDICATION_VIEW (source);
  g_autoptr (GError) error = NULL;
  g_autofree char *json = rr_task_detail_fetch_finish (result, &error);
  g_autoptr (JsonParser) p = json_parser_new ();
  JsonArray *reads;
  GString *summary;

  if (json == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          g_autofree char *t = g_strdup_printf (_("The two reads could not be fetched: %s"), error->message);
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
  reads = rr_json_get_array (json_node_get_object (json_parser_get_root (p)), "reads");
  self->discrepancies = rr_json_get_array (json_node_get_object (json_parser_get_root (p)),
                                           "discrepancies");
  for (guint i = 0; reads && i < json_array_get_length (reads); i++)
    {
      JsonObject *r = rr_json_get_element (reads, i);
      const char *who = rr_json_get_string (r, "reader");
      int k = g_strcmp0 (who, "Reader 1") == 0 ? 0 : g_strcmp0 (who, "Reader 2") == 0 ? 1 : -1;
      if (k < 0 || rr_json_get_object (r, "read") == NULL)
        continue;
      self->read[k] = rr_json_get_object (r, "read");
      self->responses[k] = rr_json_get_object (r, "responses")
                             ? rr_json_get_object (r, "responses")
                             : rr_json_get_object (self->read[k], "responses");
    }
  if (self->read[0] == NULL || self->read[1] == NULL)
    {
      gtk_label_set_text (self->state, _("The server did not send both reads"));
      return;
    }
  for (guint r = 0; r < 2; r++)
    collect_calipers (self, r);
  fill_timepoints (self);
  {
    g_autoptr (GPtrArray) diffs = rr_read_compare (self->read[0], self->read[1]);
    fill_lesions (self, 0, diffs);
    fill_lesions (self, 1, diffs);
  }
  summary = g_string_new (NULL);
  for (guint i = 0; self->discrepancies && i < json_array_get_length (self->discrepancies); i++)
    {
      JsonObject *d = rr_json_get_element (self->discrepancies, i);
      const char *f = rr_json_get_string (d, "kind"), *tp = rr_json_get_string (d, "timepoint");
      g_autofree char *where = tp ? g_strdup_printf (" (%s)", tp) : g_strdup ("");
      /* One line each: a list, not a paragraph to search. */
      g_string_append_printf (summary, _("%sDiscrepancy: %s%s: Reader 1 %s, Reader 2 %s"),
                              summary->len ? "\n" : "", field_name (f), where,
                              word (discrepancy_value (d, 0)), word (discrepancy_value (d, 1)));
    }
  gtk_label_set_text (self->summary, summary->str);
  gtk_widget_set_visible (self->banner, summary->len > 0);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->summary), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  summary->str, -1);
  g_string_free (summary, TRUE);
  fill_histories (self);
  update_lock (self);
  /* The tables have their rows: the divider makes room for them. */
  on_paned_max (self->paned, NULL, self);
}

/* ---- the widget ---- */

static void
clear_task (RrAdjudicationView *self)
{
  GtkWidget *child;
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();
  g_clear_pointer (&self->task_id, g_free);
  g_clear_pointer (&self->ca_file, g_free);
  g_clear_pointer (&self->task_status, g_free);
  g_clear_pointer (&self->current_study, g_free);
  g_clear_pointer (&self->pending_caliper, g_free);
  self->read[0] = self->read[1] = NULL;
  self->responses[0] = self->responses[1] = NULL;
  self->discrepancies = NULL;
  g_clear_object (&self->detail);
  for (guint r = 0; r < 2; r++)
    {
      g_ptr_array_set_size (self->calipers[r], 0);
      rr_measurement_history_reset (self->history[r], NULL);
    }
  g_hash_table_remove_all (self->lesion_caliper);
  g_hash_table_remove_all (self->colors);
  rr_viewport_set_volume (self->view1, NULL);
  rr_viewport_set_volume (self->view2, NULL);
  g_clear_pointer (&self->volume, rr_volume_unref);
  if (self->scan)
    g_ptr_array_add (self->old_scans, g_steal_pointer (&self->scan));
  for (GtkListBox *const *b = (GtkListBox *const[]) { self->timepoints, self->lesions1,
                                                      self->lesions2, NULL }; *b; b++)
    while ((child = gtk_widget_get_first_child (GTK_WIDGET (*b))))
      gtk_list_box_remove (*b, child);
  gtk_label_set_text (self->summary, "");
  gtk_widget_set_visible (self->banner, FALSE);
  gtk_label_set_text (self->state, "");
  gtk_label_set_text (self->view_state, "");
  gtk_check_button_set_active (self->choose1, FALSE);
  gtk_check_button_set_active (self->choose2, FALSE);
  for (guint i = 0; i < G_N_ELEMENTS (self->reason); i++)
    gtk_check_button_set_active (self->reason[i], FALSE);
  gtk_text_buffer_set_text (gtk_text_view_get_buffer (self->rationale), "", -1);
  self->locked = FALSE;
}

void
rr_adjudication_view_set_task (RrAdjudicationView *self,
                               RrStore            *store,
                               gint64              account,
                               const char         *task_id,
                               const char         *ca_file,
                               const char * const *files)
{
  g_autoptr (RrStoreTask) t = NULL;
  g_autoptr (JsonParser) p = json_parser_new ();
  g_autofree char *server = NULL, *user = NULL;

  g_return_if_fail (RR_IS_ADJUDICATION_VIEW (self));
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
  self->task_status = g_strdup (t->status);
  if (t->json && json_parser_load_from_data (p, t->json, -1, NULL) &&
      JSON_NODE_HOLDS_OBJECT (json_parser_get_root (p)))
    {
      JsonObject *o = json_node_get_object (json_parser_get_root (p));
      JsonArray *tps = rr_json_get_array (o, "timepoints");
      guint n = tps ? json_array_get_length (tps) : 0;
      JsonObject *last = n ? rr_json_get_element (tps, n - 1) : NULL;
      JsonArray *studies = rr_json_get_array (last, "studies");
      const char *subject = rr_json_get_string (o, "subject");
      const char *label = rr_json_get_string (last, "label");
      g_autofree char *title = g_strdup_printf (_("Adjudication · subject %s · %s"),
                                                subject ? subject : "?", label ? label : "");
      gtk_label_set_text (self->title, title);
      if (studies && json_array_get_length (studies) > 0)
        self->current_study = g_strdup (json_array_get_string_element (studies, 0));
    }
  gtk_label_set_text (self->state, _("Fetching the two reads…"));

  rr_task_detail_fetch_async (rr_store_get_path (store), server, user, ca_file, account, task_id,
                              self, self->cancellable, fetch_done, NULL);
  if (files && files[0])
    rr_scan_async (files, self, self->cancellable, scan_done, NULL);
}

static void
on_show_toggled (GtkToggleButton    *button,
                 RrAdjudicationView *self)
{
  /* A group toggles twice per choice, the one chosen first, while the
   * one before is still active: what is drawn follows the one chosen. */
  if (gtk_toggle_button_get_active (button))
    {
      self->shown = button;
      fill_histories (self);
    }
}

/* The decision and the tables get the height they need, the images the
 * rest, but never less than IMAGES_MIN_SHARE of it (at 1280 x 800 a fixed
 * split left the decision below the fold, at 1600 x 1000 space unused),
 * until the adjudicator moves the divider. */
#define IMAGES_MIN_SHARE 0.45

static void
on_paned_max (GtkPaned           *paned,
              GParamSpec         *pspec,
              RrAdjudicationView *self)
{
  GtkWidget *lower = gtk_scrolled_window_get_child (
    GTK_SCROLLED_WINDOW (gtk_paned_get_end_child (paned)));
  int height = gtk_widget_get_height (GTK_WIDGET (paned)), nat = 0;
  if (self->divider_moved || lower == NULL || height <= 0)
    return;
  gtk_widget_measure (lower, GTK_ORIENTATION_VERTICAL, gtk_widget_get_width (GTK_WIDGET (paned)),
                      NULL, &nat, NULL, NULL);
  /* GTK keeps the position within its bounds (the lower pane's minimum). */
  self->dividing = TRUE;
  gtk_paned_set_position (paned, MAX ((int) (height * IMAGES_MIN_SHARE), height - nat - 8));
  self->dividing = FALSE;
}

static void
on_paned_position (GtkPaned           *paned,
                   GParamSpec         *pspec,
                   RrAdjudicationView *self)
{
  /* A move not the view's own is the adjudicator's (a drag, the keys);
   * GTK itself only clamps, after a new maximum the view sets again. */
  if (!self->dividing && gtk_widget_get_mapped (GTK_WIDGET (paned)))
    self->divider_moved = TRUE;
}

static void
show_both_action (GtkWidget  *widget,
                  const char *action,
                  GVariant   *param)
{
  RrAdjudicationView *self = RR_ADJUDICATION_VIEW (widget);
  /* Ctrl+B: both readers' calipers, and back to each its own. */
  if (self->shown == self->show_both)
    gtk_toggle_button_set_active (self->show_own, TRUE);
  else
    gtk_toggle_button_set_active (self->show_both, TRUE);
}

static void
sign_action (GtkWidget  *widget,
             const char *action,
             GVariant   *param)
{
  on_sign (RR_ADJUDICATION_VIEW (widget));
}

static void
rr_adjudication_view_dispose (GObject *object)
{
  RrAdjudicationView *self = RR_ADJUDICATION_VIEW (object);
  g_cancellable_cancel (self->cancellable);
  if (self->view1)
    {
      rr_viewport_set_history (self->view1, NULL);
      rr_viewport_set_history (self->view2, NULL);
      rr_viewport_set_colors (self->view1, NULL);
      rr_viewport_set_colors (self->view2, NULL);
    }
  gtk_widget_dispose_template (GTK_WIDGET (self), RR_TYPE_ADJUDICATION_VIEW);
  self->view1 = self->view2 = NULL;
  G_OBJECT_CLASS (rr_adjudication_view_parent_class)->dispose (object);
}

static void
rr_adjudication_view_finalize (GObject *object)
{
  RrAdjudicationView *self = RR_ADJUDICATION_VIEW (object);
  g_clear_object (&self->cancellable);
  g_free (self->task_id);
  g_free (self->ca_file);
  g_free (self->task_status);
  g_free (self->current_study);
  g_free (self->pending_caliper);
  g_clear_object (&self->detail);
  for (guint r = 0; r < 2; r++)
    {
      g_ptr_array_unref (self->calipers[r]);
      rr_measurement_history_free (self->history[r]);
    }
  g_hash_table_unref (self->lesion_caliper);
  g_hash_table_unref (self->colors);
  g_clear_pointer (&self->volume, rr_volume_unref);
  /* Every task holds the view, so no thread reads a scan any more. */
  g_clear_pointer (&self->scan, rr_dicom_scan_free);
  g_ptr_array_unref (self->old_scans);
  G_OBJECT_CLASS (rr_adjudication_view_parent_class)->finalize (object);
}

static void
rr_adjudication_view_class_init (RrAdjudicationViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = rr_adjudication_view_dispose;
  object_class->finalize = rr_adjudication_view_finalize;
  g_type_ensure (RR_TYPE_VIEWPORT);
  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/readroom/Readroom/rr-adjudication-view.ui");
  gtk_widget_class_bind_template_child (widget_class, RrAdjudicationView, title);
  gtk_widget_class_bind_template_child (widget_class, RrAdjudicationView, summary);
  gtk_widget_class_bind_template_child (widget_class, RrAdjudicationView, view1);
  gtk_widget_class_bind_template_child (widget_class, RrAdjudicationView, view2);
  gtk_widget_class_bind_template_child (widget_class, RrAdjudicationView, caption1);
  gtk_widget_class_bind_template_child (widget_class, RrAdjudicationView, caption2);
  gtk_widget_class_bind_template_child (widget_class, RrAdjudicationView, show_own);
  gtk_widget_class_bind_template_child (widget_class, RrAdjudicationView, show_1);
  gtk_widget_class_bind_template_child (widget_class, RrAdjudicationView, show_2);
  gtk_widget_class_bind_template_child (widget_class, RrAdjudicationView, show_both);
  gtk_widget_class_bind_template_child (widget_class, RrAdjudicationView, view_state);
  gtk_widget_class_bind_template_child (widget_class, RrAdjudicationView, paned);
  gtk_widget_class_bind_template_child (widget_class, RrAdjudicationView, banner);
  gtk_widget_class_bind_template_child (widget_class, RrAdjudicationView, timepoints);
  gtk_widget_class_bind_template_child (widget_class, RrAdjudicationView, lesions1);
  gtk_widget_class_bind_template_child (widget_class, RrAdjudicationView, lesions2);
  gtk_widget_class_bind_template_child (widget_class, RrAdjudicationView, decision);
  gtk_widget_class_bind_template_child (widget_class, RrAdjudicationView, choose1);
  gtk_widget_class_bind_template_child (widget_class, RrAdjudicationView, choose2);
  gtk_widget_class_bind_template_child (widget_class, RrAdjudicationView, reasons);
  gtk_widget_class_bind_template_child (widget_class, RrAdjudicationView, rationale);
  gtk_widget_class_bind_template_child (widget_class, RrAdjudicationView, sign);
  gtk_widget_class_bind_template_child (widget_class, RrAdjudicationView, state);
  gtk_widget_class_install_action (widget_class, "adjudication.show-both", NULL,
                                   show_both_action);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_b, GDK_CONTROL_MASK,
                                       "adjudication.show-both", NULL);
  gtk_widget_class_install_action (widget_class, "adjudication.sign", NULL, sign_action);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Return, GDK_CONTROL_MASK,
                                       "adjudication.sign", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_KP_Enter, GDK_CONTROL_MASK,
                                       "adjudication.sign", NULL);
  gtk_widget_class_set_css_name (widget_class, "adjudication");
}

static void
rr_adjudication_view_init (RrAdjudicationView *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  rr_accessible_skip_empty_labels (GTK_WIDGET (self));
  self->export = rr_read_export_new ();
  gtk_box_insert_child_after (GTK_BOX (gtk_widget_get_parent (GTK_WIDGET (self->state))),
                              self->export, GTK_WIDGET (self->state));
  self->cancellable = g_cancellable_new ();
  self->old_scans = g_ptr_array_new_with_free_func ((GDestroyNotify) rr_dicom_scan_free);
  self->shown = self->show_own;
  self->lesion_caliper = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->colors = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  for (guint r = 0; r < 2; r++)
    {
      self->calipers[r] = g_ptr_array_new_with_free_func ((GDestroyNotify) rr_measurement_free);
      self->history[r] = rr_measurement_history_new (refuse_change, self);
      rr_viewport_set_history (view_of (self, r), self->history[r]);
      rr_viewport_set_colors (view_of (self, r), self->colors);
      rr_viewport_set_tool (view_of (self, r), RR_TOOL_NAVIGATE);
      /* The readers' signed reads: selectable, with no handles to drag. */
      rr_viewport_set_locked (view_of (self, r), TRUE);
    }
  {
    /* Each caption in its reader's colour, as the calipers are drawn. */
    PangoAttrList *a[2] = { pango_attr_list_new (), pango_attr_list_new () };
    for (guint r = 0; r < 2; r++)
      {
        pango_attr_list_insert (a[r], pango_attr_foreground_new (
                                  (guint16) (reader_colors[r].red * 65535),
                                  (guint16) (reader_colors[r].green * 65535),
                                  (guint16) (reader_colors[r].blue * 65535)));
        gtk_label_set_attributes (r ? self->caption2 : self->caption1, a[r]);
        pango_attr_list_unref (a[r]);
      }
  }
  for (guint i = 0; i < G_N_ELEMENTS (reason_texts); i++)
    {
      self->reason[i] = GTK_CHECK_BUTTON (gtk_check_button_new_with_label (_(reason_texts[i])));
      gtk_accessible_update_property (GTK_ACCESSIBLE (self->reason[i]),
                                      GTK_ACCESSIBLE_PROPERTY_LABEL, _(reason_texts[i]), -1);
      gtk_flow_box_append (self->reasons, GTK_WIDGET (self->reason[i]));
      g_signal_connect_object (self->reason[i], "toggled", G_CALLBACK (update_sign), self,
                               G_CONNECT_SWAPPED);
    }
  g_signal_connect_object (self->choose1, "toggled", G_CALLBACK (update_sign), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->choose2, "toggled", G_CALLBACK (update_sign), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (gtk_text_view_get_buffer (self->rationale), "changed",
                           G_CALLBACK (update_sign), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->sign, "clicked", G_CALLBACK (on_sign), self, G_CONNECT_SWAPPED);
  for (GtkToggleButton **b = (GtkToggleButton *[]) { self->show_own, self->show_1, self->show_2,
                                                      self->show_both, NULL }; *b; b++)
    g_signal_connect_object (*b, "toggled", G_CALLBACK (on_show_toggled), self, 0);
  g_signal_connect_object (self->paned, "notify::max-position", G_CALLBACK (on_paned_max), self,
                           0);
  g_signal_connect_object (self->paned, "notify::position", G_CALLBACK (on_paned_position),
                           self, 0);
  g_signal_connect_object (self->timepoints, "row-activated",
                           G_CALLBACK (on_timepoint_activated), self, 0);
  g_signal_connect_object (self->lesions1, "row-activated", G_CALLBACK (on_lesion_activated),
                           self, 0);
  g_signal_connect_object (self->lesions2, "row-activated", G_CALLBACK (on_lesion_activated),
                           self, 0);
}
