/* rr-read-form.c: the lesion form. Its model is core's RrReadDraft; rows
 * are rebuilt when lesions come or go, values and responses refreshed on
 * every caliper change. Edits are written by one worker thread with its
 * own database connection, in order, so the main loop never waits on a
 * disk flush. */
#include "rr-read-form.h"
#include "rr-read-form-summary.h"
#include "rr-read-form-row.h"
#include "rr-accels.h"
#include "rr-sign-dialog.h"
#include "rr-read-export.h"
#include "rr-read-draft.h"
#include "rr-criteria.h"
#include "rr-response-text.h"
#include "rr-form-writer.h"
#include "rr-read-task.h"
#include "rr-read-retry.h"
#include "rr-read-submitted.h"
#include "rr-organs.h"
#include "rr-sync.h"
#include "rr-accessible.h"

#include <adwaita.h>
#include <glib/gi18n.h>
#include <json-glib/json-glib.h>
#include <string.h>

struct _RrReadForm
{
  GtkWidget parent_instance;

  GtkLabel *title;
  GtkLabel *state_label;
  GtkLabel *saved_label;
  GtkListBox *lesions;
  GtkLabel *responses;
  GtkLabel *read_issues;
  GtkWidget *summary;           /* pinned below the lesions: the overall response */
  GtkLabel *overall;
  GtkLabel *overall_detail;
  GtkWidget *buttons;
  GtkButton *submit_button;
  GtkWidget *export;            /* "Save Report…", "Export SR…" once delivered */

  RrStore *store;               /* borrowed: reads on the main thread */
  char *db_path;
  gint64 account;
  char *task_id;
  char *ca_file;
  RrReadDraft *draft;
  guint current;                /* the timepoint this task reads (the last) */
  GHashTable *calipers;         /* id -> RrMeasurement (copies): this task's and earlier */
  GHashTable *series_tp;        /* Series Instance UID -> timepoint index + 1 */
  char *selected;               /* the caliper selected in the viewer */
  double slice_thickness;       /* of the series shown, 0: unknown */
  char *shown_series;
  RrCriteriaResult *result;     /* the last evaluation, kept for the rows */
  RrRead *read;                 /* ...and the read it evaluated */
  gboolean locked;
  gboolean pending;             /* signed, waiting in the outbox */
  gboolean withdrawn;           /* reassigned by the server */
  char *waits_for;              /* sequential reading: the earlier timepoint still open */
  guint refresh_source;
  guint retry_source;           /* sends the outbox again while pending */
  GCancellable *retry;

  RrFormWriter *writer;         /* saves in order, off the main loop */
  GSimpleActionGroup *caliper_actions; /* "make target"... for a caliper's context menu */
  gint saves_pending;
};

enum
{
  SIGNAL_GO_TO,
  SIGNAL_LESIONS_CHANGED,
  SIGNAL_LOCK_CHANGED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (RrReadForm, rr_read_form, GTK_TYPE_WIDGET)

static void rebuild (RrReadForm *self);
static void refresh (RrReadForm *self);

/* ---- saving ---- */

static void
save_done (GObject    *owner,
           const char *error)
{
  RrReadForm *self = RR_READ_FORM (owner);
  self->saves_pending--;
  if (error)
    {
      g_autofree char *msg = g_strdup_printf (_("Not saved: %s"), error);
      gtk_label_set_text (self->saved_label, msg);
      gtk_widget_add_css_class (GTK_WIDGET (self->saved_label), "error");
    }
  else if (self->saves_pending == 0)
    {
      gtk_label_set_text (self->saved_label, _("All changes saved on this computer"));
      gtk_widget_remove_css_class (GTK_WIDGET (self->saved_label), "error");
    }
}

static void
save (RrReadForm *self)
{
  if (self->task_id == NULL || self->writer == NULL || self->locked)
    return;
  self->saves_pending++;
  gtk_label_set_text (self->saved_label, _("Saving…"));
  rr_form_writer_save (self->writer, self->account, self->task_id,
                       rr_read_draft_to_json (self->draft), G_OBJECT (self));
}

/* ---- the read and its responses ---- */

static const RrMeasurement *
lookup (const char *id,
        gpointer    data)
{
  RrReadForm *self = data;
  return g_hash_table_lookup (self->calipers, id);
}

static void
evaluate (RrReadForm *self)
{
  g_autofree char *json = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GString) issues = g_string_new (NULL);

  g_clear_pointer (&self->result, rr_criteria_result_free);
  g_clear_pointer (&self->read, rr_read_free);
  gtk_widget_set_visible (GTK_WIDGET (self->responses), self->waits_for == NULL);
  gtk_widget_set_visible (self->summary, FALSE);
  /* Waiting for the earlier timepoint: nothing here is read yet. */
  if (self->draft == NULL || self->waits_for)
    return;
  /* The engine needs every lesion's organ (two per organ): ask for it in
   * words rather than show the parser's complaint. */
  for (guint i = 0; i < self->draft->lesions->len; i++)
    {
      const RrDraftLesion *l = self->draft->lesions->pdata[i];
      if (l->organ == NULL || *l->organ == '\0')
        g_string_append_printf (issues, "%s%s", issues->len ? ", " : "", l->id);
    }
  if (issues->len)
    {
      g_autofree char *msg = g_strdup_printf (_("Choose the organ of %s to see the responses"),
                                              issues->str);
      gtk_label_set_text (self->responses, msg);
      rr_read_form_summary_show (self->summary, self->overall, self->overall_detail, NULL, msg);
      gtk_label_set_text (self->read_issues, "");
      gtk_widget_set_visible (GTK_WIDGET (self->read_issues), FALSE);
      return;
    }
  json = rr_read_draft_build_values (self->draft, lookup, self);
  self->read = rr_read_parse (json, -1, &error);
  if (self->read)
    self->result = rr_criteria_evaluate (self->read, &error);
  if (self->result == NULL)
    {
      gtk_label_set_text (self->responses, error ? error->message : "");
      rr_read_form_summary_show (self->summary, self->overall, self->overall_detail, NULL,
                                 error ? error->message : NULL);
      return;
    }
  rr_read_form_summary_show (self->summary, self->overall, self->overall_detail, self->result,
                             NULL);
  {
    g_autofree char *text = rr_response_summary (self->read, self->result);
    gtk_label_set_text (self->responses, text);
  }

  /* Issues about the read as a whole here; those that name a lesion
   * beside it (the rows do that). */
  for (guint pass = 0; pass < 2; pass++)
    {
      GPtrArray *list = pass ? self->result->warnings : self->result->violations;
      for (guint i = 0; i < list->len; i++)
        {
          const RrIssue *is = list->pdata[i];
          if (is->lesion && rr_read_draft_find (self->draft, is->lesion))
            continue;
          g_string_append_printf (issues, "%s%s", issues->len ? "\n" : "", is->message);
        }
    }
  {
    g_autofree char *open = rr_read_draft_unassessed (self->draft, self->current);
    const RrTimepoint *tp = self->draft->timepoints->pdata[self->current];
    if (open && !self->locked && issues->len)
      g_string_append_c (issues, '\n');
    if (open && !self->locked)
      g_string_append_printf (issues, _("Not assessed yet at %s: %s. Measure each lesion or "
                                        "choose its status before signing."), tp->id, open);
  }
  gtk_label_set_text (self->read_issues, issues->str);
  gtk_widget_set_visible (GTK_WIDGET (self->read_issues), issues->len > 0);
}

/* The issues the engine raised about @lesion, one a line. */
static char *
issues_of (RrReadForm *self,
           const char *lesion,
           gboolean   *violation)
{
  GString *s = g_string_new (NULL);
  *violation = FALSE;
  for (guint pass = 0; self->result && pass < 2; pass++)
    {
      GPtrArray *list = pass ? self->result->warnings : self->result->violations;
      for (guint i = 0; i < list->len; i++)
        {
          const RrIssue *is = list->pdata[i];
          if (g_strcmp0 (is->lesion, lesion) != 0)
            continue;
          *violation |= pass == 0;
          g_string_append_printf (s, "%s%s", s->len ? "\n" : "", is->message);
        }
    }
  return g_string_free (s, FALSE);
}

/* ---- the rows ---- */

static const char *
timepoint_label (RrReadForm *self,
                 guint       k)
{
  return ((RrTimepoint *) self->draft->timepoints->pdata[k])->id;
}

/* A lesion's value at timepoint @k for people: "32.0 mm", "too small",... */
static char *
entry_text (RrReadForm          *self,
            const RrDraftLesion *l,
            guint                k)
{
  const RrDraftEntry *e = &l->entries[k];
  switch (e->kind)
    {
    case RR_ENTRY_CALIPER:
      {
        const RrMeasurement *m = lookup (e->caliper, self);
        gint64 t = rr_read_draft_caliper_tenths (m, l->nodal);
        if (t < 0 && m && l->nodal && m->kind == RR_MEASURE_BIDIRECTIONAL
            && l->kind != RR_LESION_NON_TARGET)
          return g_strdup (_("short axis not measured"));
        /* A new lesion's caliper is its size (iRECIST's new-lesion sum); a
         * mark without a length (an arrow) only says it is there. */
        if (l->kind == RR_LESION_NON_TARGET || (l->kind == RR_LESION_NEW && t < 0))
          return g_strdup (_("present (marked)"));
        return t >= 0 ? rr_mm_text (t) : g_strdup (_("caliper missing"));
      }
    case RR_ENTRY_SPLIT:
      {
        gint64 t = rr_read_draft_entry_tenths (l, k, lookup, self);
        g_autofree char *sum = t >= 0 ? rr_mm_text (t) : NULL;
        guint n = 1 + (e->fragments ? g_strv_length (e->fragments) : 0);
        return sum ? g_strdup_printf (g_dngettext (NULL, "split in %u fragment: %s",
                                                   "split in %u fragments: %s added", n), n, sum)
                   : g_strdup (_("split: a fragment's caliper is missing"));
      }
    case RR_ENTRY_MERGED: return g_strdup (_("merged into another target (0 mm)"));
    case RR_ENTRY_TSTM: return g_strdup (_("too small to measure (5 mm)"));
    case RR_ENTRY_NE: return g_strdup (_("not evaluable"));
    case RR_ENTRY_GONE:
      return g_strdup (l->kind != RR_LESION_NON_TARGET ? _("gone (0 mm)") : _("absent"));
    case RR_ENTRY_PRESENT: return g_strdup (_("present"));
    case RR_ENTRY_PROGRESSION: return g_strdup (_("unequivocal progression"));
    default: return g_strdup (_("not assessed yet"));
    }
}

static RrDraftLesion *
row_lesion (RrReadForm *self,
            GObject    *widget)
{
  return rr_read_draft_find (self->draft, g_object_get_data (widget, "lesion"));
}

/* form.organ ("lesion\torgan"): the organ chosen from the list. */
static void
organ_action (GtkWidget  *widget,
              const char *name,
              GVariant   *param)
{
  RrReadForm *self = RR_READ_FORM (widget);
  g_auto (GStrv) parts = g_strsplit (g_variant_get_string (param, NULL), "\t", 2);
  RrDraftLesion *l = parts[0] && self->draft ? rr_read_draft_find (self->draft, parts[0]) : NULL;
  const RrOrgan *o = parts[0] ? rr_organs_lookup (parts[1]) : NULL;
  if (l == NULL || o == NULL || self->locked)
    return;
  g_free (l->organ);
  l->organ = g_strdup (o->id);
  /* A lymph node site is nodal; the reader may still say otherwise. */
  l->nodal = o->nodal;
  save (self);
  /* The row changes in place: rows are not rebuilt under an assistive
   * technology that may be reading them (GTK 4.8 crashes on that). */
  for (GtkWidget *row = gtk_widget_get_first_child (GTK_WIDGET (self->lesions)); row;
       row = gtk_widget_get_next_sibling (row))
    if (row_lesion (self, G_OBJECT (row)) == l)
      {
        rr_read_form_row_set_organ (g_object_get_data (G_OBJECT (row), "organ"), _(o->label));
        gtk_check_button_set_active (g_object_get_data (G_OBJECT (row), "nodal"), l->nodal);
      }
  refresh (self);
}

static void
on_nodal (GtkCheckButton *check,
          RrReadForm     *self)
{
  RrDraftLesion *l = row_lesion (self, G_OBJECT (check));
  if (l == NULL || l->nodal == gtk_check_button_get_active (check))
    return;
  l->nodal = gtk_check_button_get_active (check);
  save (self);
  refresh (self);
}

static void
on_equivocal (GtkCheckButton *check,
              RrReadForm     *self)
{
  RrDraftLesion *l = row_lesion (self, G_OBJECT (check));
  if (l == NULL || l->equivocal == gtk_check_button_get_active (check))
    return;
  l->equivocal = gtk_check_button_get_active (check);
  save (self);
  refresh (self);
}

static void
on_location (GtkEditable *entry,
             RrReadForm  *self)
{
  RrDraftLesion *l = row_lesion (self, G_OBJECT (entry));
  if (l == NULL || g_strcmp0 (l->location, gtk_editable_get_text (entry)) == 0)
    return;
  g_free (l->location);
  l->location = g_strdup (gtk_editable_get_text (entry));
  save (self);
}

/* The status choices at the current timepoint, per kind of lesion. */
static const RrEntryKind target_states[] = { RR_ENTRY_CALIPER, RR_ENTRY_TSTM, RR_ENTRY_NE,
                                             RR_ENTRY_GONE, RR_ENTRY_MERGED };
static const RrEntryKind non_target_states[] = { RR_ENTRY_PRESENT, RR_ENTRY_GONE,
                                                 RR_ENTRY_PROGRESSION, RR_ENTRY_NE };
/* A new lesion after the timepoint it appeared at: measured again, or
 * gone (0 mm, which iRECIST counts as "new lesions: no"). */
static const RrEntryKind new_states[] = { RR_ENTRY_CALIPER, RR_ENTRY_TSTM, RR_ENTRY_NE,
                                          RR_ENTRY_GONE };

static const RrEntryKind *
states_of (const RrDraftLesion *l,
           guint               *n)
{
  switch (l->kind)
    {
    case RR_LESION_TARGET:
      *n = G_N_ELEMENTS (target_states);
      return target_states;
    case RR_LESION_NEW:
      *n = G_N_ELEMENTS (new_states);
      return new_states;
    case RR_LESION_NON_TARGET:
    default:
      *n = G_N_ELEMENTS (non_target_states);
      return non_target_states;
    }
}

static void
on_state (GtkDropDown *dd,
          GParamSpec  *pspec,
          RrReadForm  *self)
{
  RrDraftLesion *l = row_lesion (self, G_OBJECT (dd));
  guint i = gtk_drop_down_get_selected (dd), n = 0;
  const RrEntryKind *states = l ? states_of (l, &n) : NULL;
  RrEntryKind kind;
  if (l == NULL || i >= n)
    return;
  kind = states[i];
  /* "Measured" is also a split lesion's state: its fragments stay. */
  if (kind == l->entries[self->current].kind ||
      (kind == RR_ENTRY_CALIPER && l->entries[self->current].kind == RR_ENTRY_SPLIT))
    return;
  /* "Measured" keeps the caliper bound before, if any. */
  rr_read_draft_set_entry (l, self->current, kind,
                           kind == RR_ENTRY_CALIPER || l->kind == RR_LESION_NON_TARGET
                             ? l->entries[self->current].caliper : NULL);
  save (self);
  refresh (self);
}

static void
on_use_caliper (GtkButton  *button,
                RrReadForm *self)
{
  RrDraftLesion *l = row_lesion (self, G_OBJECT (button));
  RrDraftLesion *other;
  if (l == NULL)
    return;
  if (self->selected == NULL || !g_hash_table_contains (self->calipers, self->selected))
    {
      gtk_label_set_text (self->state_label, _("Select a caliper in the viewer first"));
      return;
    }
  other = rr_read_draft_find_caliper (self->draft, self->selected, NULL);
  if (other && other != l)
    {
      g_autofree char *msg = g_strdup_printf (_("That caliper measures %s already"), other->id);
      gtk_label_set_text (self->state_label, msg);
      return;
    }
  {
    const RrMeasurement *m = lookup (self->selected, self);
    gpointer k = g_hash_table_lookup (self->series_tp, m->series_uid);
    if (k && GPOINTER_TO_UINT (k) - 1 != self->current)
      {
        gtk_label_set_text (self->state_label,
                            _("That caliper is on an earlier timepoint's images"));
        return;
      }
  }
  rr_read_draft_set_entry (l, self->current, RR_ENTRY_CALIPER, self->selected);
  save (self);
  refresh (self);
}

/* A lesion that split: the selected caliper measures one more fragment
 * of it (criteria.md: the fragments are added). */
static void
on_add_fragment (GtkButton  *button,
                 RrReadForm *self)
{
  RrDraftLesion *l = row_lesion (self, G_OBJECT (button));
  RrDraftLesion *other;
  const RrMeasurement *m;
  gpointer k;

  if (l == NULL)
    return;
  m = self->selected ? lookup (self->selected, self) : NULL;
  if (m == NULL)
    {
      gtk_label_set_text (self->state_label, _("Select a caliper in the viewer first"));
      return;
    }
  other = rr_read_draft_find_caliper (self->draft, m->id, NULL);
  k = g_hash_table_lookup (self->series_tp, m->series_uid);
  if (other)
    {
      g_autofree char *msg = g_strdup_printf (_("That caliper measures %s already"), other->id);
      gtk_label_set_text (self->state_label, msg);
      return;
    }
  if (k && GPOINTER_TO_UINT (k) - 1 != self->current)
    {
      gtk_label_set_text (self->state_label, _("That caliper is on an earlier timepoint's images"));
      return;
    }
  if (!rr_read_draft_add_fragment (l, self->current, m->id))
    {
      g_autofree char *msg = g_strdup_printf (_("Measure %s with a caliper first: a split adds "
                                                "its other fragments"), l->id);
      gtk_label_set_text (self->state_label, msg);
      return;
    }
  gtk_label_set_text (self->state_label, "");
  save (self);
  refresh (self);
}

static void
on_go_to (GtkButton  *button,
          RrReadForm *self)
{
  RrDraftLesion *l = row_lesion (self, G_OBJECT (button));
  /* The current timepoint's caliper, else the latest before it. */
  for (int k = (int) self->current; l && k >= 0; k--)
    {
      const RrMeasurement *m = l->entries[k].caliper ? lookup (l->entries[k].caliper, self) : NULL;
      if (m)
        {
          g_signal_emit (self, signals[SIGNAL_GO_TO], 0, m->series_uid, m->id);
          return;
        }
    }
}

static void
on_remove (GtkButton  *button,
           RrReadForm *self)
{
  g_autofree char *id = g_strdup (g_object_get_data (G_OBJECT (button), "lesion"));
  if (rr_read_draft_remove (self->draft, id))
    {
      save (self);
      rebuild (self);
    }
}

static GtkWidget *
lesion_row (RrReadForm    *self,
            RrDraftLesion *l)
{
  GtkWidget *row = gtk_list_box_row_new ();
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 4);
  GtkWidget *top = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  GtkWidget *name = gtk_label_new (l->id);
  GtkWidget *value = rr_read_form_row_line (NULL);
  GtkWidget *issues = gtk_label_new (NULL);
  GtkWidget *organ, *nodal, *location, *b;
  g_autofree char *acc = NULL, *go = NULL, *rm = NULL, *use = NULL;
  int oi = rr_organs_index (l->organ);

  gtk_widget_set_margin_top (box, 6);
  gtk_widget_set_margin_bottom (box, 6);
  gtk_widget_set_margin_start (box, 6);
  gtk_widget_set_margin_end (box, 6);
  gtk_widget_add_css_class (name, "heading");
  gtk_box_append (GTK_BOX (top), name);

  organ = rr_read_form_row_organ_button (l->id, oi < 0 ? _("Choose Organ")
                                                     : _(rr_organs_get (oi)->label));
  gtk_box_append (GTK_BOX (top), organ);

  nodal = gtk_check_button_new_with_label (_("Nodal"));
  gtk_check_button_set_active (GTK_CHECK_BUTTON (nodal), l->nodal);
  g_free (acc);
  acc = g_strdup_printf (_("%s is a lymph node"), l->id);
  gtk_accessible_update_property (GTK_ACCESSIBLE (nodal), GTK_ACCESSIBLE_PROPERTY_LABEL, acc, -1);
  g_object_set_data_full (G_OBJECT (nodal), "lesion", g_strdup (l->id), g_free);

  rm = g_strdup_printf (_("Remove %s"), l->id);
  b = rr_read_form_row_button ("", rm, l->id);
  gtk_button_set_icon_name (GTK_BUTTON (b), "user-trash-symbolic");
  gtk_widget_set_tooltip_text (b, rm);
  g_signal_connect_object (b, "clicked", G_CALLBACK (on_remove), self, 0);
  gtk_box_append (GTK_BOX (top), b);
  gtk_box_append (GTK_BOX (box), top);

  location = gtk_entry_new ();
  /* A placeholder short enough for the 300 px form; the examples in the
   * tooltip. */
  gtk_entry_set_placeholder_text (GTK_ENTRY (location), _("Location"));
  gtk_widget_set_tooltip_text (location, _("Location: segment, lobe, side…"));
  gtk_editable_set_text (GTK_EDITABLE (location), l->location ? l->location : "");
  g_free (acc);
  acc = g_strdup_printf (_("Location of %s"), l->id);
  gtk_accessible_update_property (GTK_ACCESSIBLE (location), GTK_ACCESSIBLE_PROPERTY_LABEL, acc,
                                  -1);
  g_object_set_data_full (G_OBJECT (location), "lesion", g_strdup (l->id), g_free);
  gtk_widget_set_hexpand (location, TRUE);
  {
    GtkWidget *second = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
    gtk_box_append (GTK_BOX (second), location);
    gtk_box_append (GTK_BOX (second), nodal);
    gtk_box_append (GTK_BOX (box), second);
  }

  /* Earlier timepoints, read-only: the prior value the reader compares. */
  for (guint k = 0; k < self->current; k++)
    if (l->kind != RR_LESION_NEW || k >= l->timepoint)
      {
        g_autofree char *v = entry_text (self, l, k);
        g_autofree char *line = g_strdup_printf ("%s: %s", timepoint_label (self, k), v);
        GtkWidget *prior = rr_read_form_row_line (line);
        gtk_widget_add_css_class (prior, "dim-label");
        gtk_box_append (GTK_BOX (box), prior);
      }

  {
    /* The value on a line of its own, the status and Equivocal under it:
     * side by side they made the column 420 px wide (walk finding 7). */
    GtkWidget *cur = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
    g_object_set_data (G_OBJECT (row), "value", value);
    gtk_box_append (GTK_BOX (box), value);
    if (self->current > 0 && (l->kind != RR_LESION_NEW || self->current > l->timepoint))
      {
        g_autoptr (GtkStringList) states = gtk_string_list_new (NULL);
        guint n_list;
        const RrEntryKind *list = states_of (l, &n_list);
        GtkWidget *dd;
        guint sel = GTK_INVALID_LIST_POSITION;
        if (l->kind != RR_LESION_NON_TARGET)
          {
            gtk_string_list_append (states, _("Measured"));
            gtk_string_list_append (states, _("Too small to measure"));
            gtk_string_list_append (states, _("Not evaluable"));
            gtk_string_list_append (states, _("Gone (0 mm)"));
            if (l->kind == RR_LESION_TARGET)
              gtk_string_list_append (states, _("Merged into another target"));
          }
        else
          {
            gtk_string_list_append (states, _("Present"));
            gtk_string_list_append (states, _("Absent"));
            gtk_string_list_append (states, _("Unequivocal progression"));
            gtk_string_list_append (states, _("Not evaluable"));
          }
        for (guint i = 0; i < n_list; i++)
          if (l->entries[self->current].kind == list[i] ||
              (list[i] == RR_ENTRY_CALIPER && l->entries[self->current].kind == RR_ENTRY_SPLIT) ||
              (l->kind == RR_LESION_NON_TARGET && list[i] == RR_ENTRY_PRESENT &&
               l->entries[self->current].kind == RR_ENTRY_CALIPER))
            sel = i;
        /* Not assessed at this timepoint yet: said so, not GTK's "(None)";
         * on_state ignores the item (past the states). */
        if (sel == GTK_INVALID_LIST_POSITION)
          {
            sel = g_list_model_get_n_items (G_LIST_MODEL (states));
            gtk_string_list_append (states, _("Not assessed yet"));
          }
        dd = rr_read_form_row_drop_down (G_LIST_MODEL (states));
        gtk_drop_down_set_selected (GTK_DROP_DOWN (dd), sel);
        g_free (acc);
        acc = g_strdup_printf (_("Status of %s at %s"), l->id, timepoint_label (self, self->current));
        gtk_accessible_update_property (GTK_ACCESSIBLE (dd), GTK_ACCESSIBLE_PROPERTY_LABEL, acc,
                                        -1);
        rr_accessible_name_drop_down (GTK_DROP_DOWN (dd));
        g_object_set_data_full (G_OBJECT (dd), "lesion", g_strdup (l->id), g_free);
        g_signal_connect_object (dd, "notify::selected", G_CALLBACK (on_state), self, 0);
        g_object_set_data (G_OBJECT (row), "state", dd);
        gtk_box_append (GTK_BOX (cur), dd);
      }
    if (l->kind == RR_LESION_NEW)
      {
        GtkWidget *eq = gtk_check_button_new_with_label (_("Equivocal"));
        gtk_check_button_set_active (GTK_CHECK_BUTTON (eq), l->equivocal);
        g_free (acc);
        acc = g_strdup_printf (_("%s is equivocal"), l->id);
        gtk_accessible_update_property (GTK_ACCESSIBLE (eq), GTK_ACCESSIBLE_PROPERTY_LABEL, acc,
                                        -1);
        g_object_set_data_full (G_OBJECT (eq), "lesion", g_strdup (l->id), g_free);
        g_signal_connect_object (eq, "toggled", G_CALLBACK (on_equivocal), self, 0);
        gtk_box_append (GTK_BOX (cur), eq);
      }
    if (gtk_widget_get_first_child (cur))
      gtk_box_append (GTK_BOX (box), cur);
    else
      {
        g_object_ref_sink (cur);
        g_object_unref (cur);
      }
  }
  {
    GtkWidget *actions = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
    go = g_strdup_printf (_("Go to %s"), l->id);
    b = rr_read_form_row_button (_("Go To"), go, l->id);
    g_object_set_data (G_OBJECT (b), "go-to", GINT_TO_POINTER (1));
    g_object_set_data (G_OBJECT (actions), "actions", GINT_TO_POINTER (1));
    g_signal_connect_object (b, "clicked", G_CALLBACK (on_go_to), self, 0);
    gtk_box_append (GTK_BOX (actions), b);
    use = g_strdup_printf (_("Measure %s with the selected caliper"), l->id);
    b = rr_read_form_row_button (_("Measure"), use, l->id);
    g_signal_connect_object (b, "clicked", G_CALLBACK (on_use_caliper), self, 0);
    gtk_box_append (GTK_BOX (actions), b);
    if (self->current > 0 && l->kind == RR_LESION_TARGET)
      {
        g_autofree char *frag = g_strdup_printf (_("Add the selected caliper to %s as a fragment "
                                                   "(split lesion)"), l->id);
        b = rr_read_form_row_button (_("Add Fragment"), frag, l->id);
        g_signal_connect_object (b, "clicked", G_CALLBACK (on_add_fragment), self, 0);
        gtk_box_append (GTK_BOX (actions), b);
      }
    gtk_box_append (GTK_BOX (box), actions);
  }

  gtk_label_set_xalign (GTK_LABEL (issues), 0);
  gtk_label_set_wrap (GTK_LABEL (issues), TRUE);
  gtk_widget_add_css_class (issues, "caption");
  g_object_set_data (G_OBJECT (row), "issues", issues);
  gtk_box_append (GTK_BOX (box), issues);

  g_signal_connect_object (nodal, "toggled", G_CALLBACK (on_nodal), self, 0);
  g_signal_connect_object (location, "changed", G_CALLBACK (on_location), self, 0);
  gtk_list_box_row_set_child (GTK_LIST_BOX_ROW (row), box);
  gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (row), FALSE);
  gtk_list_box_row_set_selectable (GTK_LIST_BOX_ROW (row), FALSE);
  g_object_set_data_full (G_OBJECT (row), "lesion", g_strdup (l->id), g_free);
  g_object_set_data (G_OBJECT (row), "organ", organ);
  g_object_set_data (G_OBJECT (row), "nodal", nodal);
  g_object_set_data (G_OBJECT (row), "box", box);
  rr_read_form_row_set_locked (box, self->locked);
  return row;
}

/* Values, issues, responses: what a caliper change moves. */
static void
refresh (RrReadForm *self)
{
  GtkWidget *child;
  g_clear_handle_id (&self->refresh_source, g_source_remove);
  evaluate (self);
  for (child = gtk_widget_get_first_child (GTK_WIDGET (self->lesions)); child;
       child = gtk_widget_get_next_sibling (child))
    {
      RrDraftLesion *l = row_lesion (self, G_OBJECT (child));
      GtkLabel *value = g_object_get_data (G_OBJECT (child), "value");
      GtkLabel *issues = g_object_get_data (G_OBJECT (child), "issues");
      g_autofree char *v = NULL, *line = NULL, *is = NULL, *acc = NULL;
      const char *kind;
      gboolean violation;
      if (l == NULL || value == NULL)
        continue;
      v = entry_text (self, l, self->current);
      /* The status follows a caliper bound since the row was made. */
      if (g_object_get_data (G_OBJECT (child), "state") && l->kind != RR_LESION_NON_TARGET)
        {
          guint n_list;
          const RrEntryKind *list = states_of (l, &n_list);
          for (guint i = 0; i < n_list; i++)
            if (l->entries[self->current].kind == list[i] ||
                (i == 0 && l->entries[self->current].kind == RR_ENTRY_SPLIT))
              gtk_drop_down_set_selected (g_object_get_data (G_OBJECT (child), "state"), i);
        }
      line = g_strdup_printf ("%s: %s", timepoint_label (self, self->current), v);
      gtk_label_set_text (value, line);
      is = issues_of (self, l->id, &violation);
      gtk_label_set_text (issues, is);
      gtk_widget_set_visible (GTK_WIDGET (issues), *is != '\0');
      if (violation)
        gtk_widget_add_css_class (GTK_WIDGET (issues), "error");
      else
        gtk_widget_remove_css_class (GTK_WIDGET (issues), "error");
      kind = l->kind == RR_LESION_TARGET ? _("Target") : l->kind == RR_LESION_NON_TARGET
                                                          ? _("Non-target") : _("New lesion");
      acc = g_strdup_printf ("%s %s, %s, %s%s%s", kind, l->id,
                             rr_organs_lookup (l->organ) ? _(rr_organs_lookup (l->organ)->label)
                                                         : _("organ not chosen"),
                             line, *is ? ", " : "", is);
      gtk_accessible_update_property (GTK_ACCESSIBLE (child), GTK_ACCESSIBLE_PROPERTY_LABEL, acc,
                                      -1);
    }
  {
    g_autofree char *open = self->draft ? rr_read_draft_unassessed (self->draft, self->current)
                                        : NULL;
    gtk_widget_set_sensitive (GTK_WIDGET (self->submit_button),
                              !self->locked && self->result && self->draft && open == NULL &&
                              self->result->violations->len == 0 && self->draft->lesions->len > 0);
  }
  g_signal_emit (self, signals[SIGNAL_LESIONS_CHANGED], 0);
}

static void
rebuild (RrReadForm *self)
{
  GtkWidget *child;
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->lesions))))
    gtk_list_box_remove (self->lesions, child);
  for (guint kind = 0; self->draft && kind < 3; kind++)
    for (guint i = 0; i < self->draft->lesions->len; i++)
      {
        RrDraftLesion *l = self->draft->lesions->pdata[i];
        if (l->kind == kind)
          gtk_list_box_append (self->lesions, lesion_row (self, l));
      }
  refresh (self);
}

/* ---- actions ---- */

static void
make_lesion (RrReadForm   *self,
             RrLesionKind  kind)
{
  g_autoptr (GError) error = NULL;
  const RrMeasurement *m = self->selected ? lookup (self->selected, self) : NULL;
  RrDraftLesion *l;
  guint tp = self->current;

  if (self->draft == NULL || self->locked)
    return;
  if (kind != RR_LESION_NEW && self->current != 0)
    {
      /* RECIST 1.1: target and non-target lesions are chosen at baseline;
       * what appears later is a new lesion. */
      gtk_label_set_text (self->state_label,
                          kind == RR_LESION_TARGET
                            ? _("Target lesions are chosen at baseline")
                            : _("Non-target lesions are chosen at baseline; record a new lesion"));
      return;
    }
  if (kind == RR_LESION_NEW && self->current == 0)
    {
      gtk_label_set_text (self->state_label, _("New lesions are recorded at follow-up"));
      return;
    }
  if (m == NULL && kind == RR_LESION_TARGET)
    {
      gtk_label_set_text (self->state_label,
                          _("Draw or select a caliper first: it becomes the target"));
      return;
    }
  if (m && rr_read_draft_find_caliper (self->draft, m->id, NULL))
    {
      gtk_label_set_text (self->state_label, _("That caliper belongs to a lesion already"));
      return;
    }
  if (m)
    {
      gpointer k = g_hash_table_lookup (self->series_tp, m->series_uid);
      if (k && GPOINTER_TO_UINT (k) - 1 != self->current)
        {
          gtk_label_set_text (self->state_label,
                              _("That caliper is on an earlier timepoint's images"));
          return;
        }
    }
  l = rr_read_draft_add (self->draft, kind, tp, m ? m->id : NULL, &error);
  if (l == NULL)
    {
      gtk_label_set_text (self->state_label, error->message);
      return;
    }
  if (m && g_strcmp0 (m->series_uid, self->shown_series) == 0)
    l->slice_thickness_mm = self->slice_thickness;
  gtk_label_set_text (self->state_label, "");
  save (self);
  rebuild (self);
}

static void
form_action (GtkWidget  *widget,
             const char *name,
             GVariant   *param)
{
  RrReadForm *self = RR_READ_FORM (widget);
  if (g_str_equal (name, "form.make-target"))
    make_lesion (self, RR_LESION_TARGET);
  else if (g_str_equal (name, "form.make-non-target"))
    make_lesion (self, RR_LESION_NON_TARGET);
  else if (g_str_equal (name, "form.make-new-lesion"))
    make_lesion (self, RR_LESION_NEW);
}

/* The caliper context menu's actions: the form's own, from the viewer. */
static void
caliper_action (GSimpleAction *action,
                GVariant      *param,
                gpointer       data)
{
  g_autofree char *name = g_strconcat ("form.", g_action_get_name (G_ACTION (action)), NULL);
  gtk_widget_activate_action (GTK_WIDGET (data), name, NULL);
}

GActionGroup *
rr_read_form_get_caliper_actions (RrReadForm *self)
{
  g_return_val_if_fail (RR_IS_READ_FORM (self), NULL);
  return G_ACTION_GROUP (self->caliper_actions);
}

static void load_lock (RrReadForm *self);
static void update_rows_locked (RrReadForm *self);

/* What a signed read can no longer do. */
static const char *const form_actions[] = {
  "form.make-target", "form.make-non-target", "form.make-new-lesion", "form.submit", "form.organ",
};

static void
on_sign_finished (RrSignDialog *dialog,
                  const char   *state,
                  const char   *message,
                  RrReadForm   *self)
{
  load_lock (self);
  update_rows_locked (self);
}

static void
update_rows_locked (RrReadForm *self)
{
  for (GtkWidget *row = gtk_widget_get_first_child (GTK_WIDGET (self->lesions)); row;
       row = gtk_widget_get_next_sibling (row))
    if (g_object_get_data (G_OBJECT (row), "box"))
      rr_read_form_row_set_locked (g_object_get_data (G_OBJECT (row), "box"), self->locked);
  g_signal_emit (self, signals[SIGNAL_LOCK_CHANGED], 0);
  refresh (self);
}

/* ---- a signed read waiting for the server ---- */

static void
retry_done (GObject      *source,
            GAsyncResult *result,
            gpointer      data)
{
  RrReadForm *self = RR_READ_FORM (source);
  if (rr_read_retry_finish (result, NULL) && self->task_id)
    {
      load_lock (self);
      update_rows_locked (self);
    }
}

static gboolean
retry_tick (gpointer data)
{
  RrReadForm *self = data;
  if (!self->pending || self->task_id == NULL)
    {
      self->retry_source = 0;
      return G_SOURCE_REMOVE;
    }
  rr_read_retry_async (self->db_path, self->account, self->ca_file, self, self->retry,
                       retry_done, NULL);
  return G_SOURCE_CONTINUE;
}

static void
submit_action (GtkWidget  *widget,
               const char *name,
               GVariant   *param)
{
  RrReadForm *self = RR_READ_FORM (widget);
  g_autoptr (GError) error = NULL;
  g_autofree char *json = NULL, *open = NULL;
  RrSignDialog *dialog;

  if (self->draft == NULL || self->locked)
    return;
  refresh (self);
  if (self->result == NULL || self->result->violations->len)
    {
      gtk_label_set_text (self->state_label, _("The read breaks a rule: see the form"));
      return;
    }
  /* As the greyed button (Ctrl+Return reaches here too): a lesion not
   * assessed at this timepoint is an unfinished form, not "not evaluable". */
  open = rr_read_draft_unassessed (self->draft, self->current);
  if (open || self->draft->lesions->len == 0)
    {
      gtk_label_set_text (self->state_label, open ? _("Not every lesion is assessed yet: see the "
                                                      "form") : _("The read has no lesion yet"));
      return;
    }
  json = rr_read_draft_build_with_responses (self->draft, lookup, self, &error);
  if (json == NULL)
    {
      gtk_label_set_text (self->state_label, error->message);
      return;
    }
  dialog = rr_sign_dialog_new (GTK_WINDOW (gtk_widget_get_root (widget)), self->db_path,
                               self->account, self->task_id, self->ca_file, json);
  g_signal_connect_object (dialog, "finished", G_CALLBACK (on_sign_finished), self, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}

/* ---- the task ---- */

/* Submitted, or waiting in the outbox: read-only, with the receipt. A
 * refusal leaves the form open, with the server's reason. */
static void
load_lock (RrReadForm *self)
{
  g_autoptr (GPtrArray) out = NULL;
  g_autoptr (RrStoreTask) task = NULL;
  const RrStoreOutbox *last = NULL;
  g_autofree char *text = NULL, *gone = NULL;

  self->locked = FALSE;
  self->pending = FALSE;
  self->withdrawn = FALSE;
  gtk_label_set_text (self->state_label, "");
  if (self->store == NULL || self->task_id == NULL)
    return;
  out = rr_store_outbox_list (self->store, self->account, NULL, NULL);
  for (guint i = 0; out && i < out->len; i++)
    if (g_str_equal (((RrStoreOutbox *) out->pdata[i])->task_id, self->task_id))
      last = out->pdata[i];
  task = rr_store_get_task (self->store, self->account, self->task_id, NULL);
  if (last && g_str_equal (last->state, "delivered"))
    {
      self->locked = TRUE;
      text = rr_read_task_receipt_text (last->receipt);
    }
  else if (last && rr_store_outbox_state_waiting (last->state))
    {
      self->locked = TRUE;
      self->pending = TRUE;
      text = g_strdup (_("Signed and waiting in the outbox: it will be sent when the server is "
                         "reachable"));
    }
  else if (task && g_strcmp0 (task->status, "submitted") == 0)
    {
      self->locked = TRUE;
      text = rr_read_submitted_receipt_text (self->store, self->account, self->task_id);
      if (text == NULL)
        text = g_strdup (_("Submitted from another computer: read-only here"));
    }
  else if (task && task->withdrawn)
    {
      /* Reassigned by the server: whatever is signed here now would be
       * refused, so nothing more is done on it; the draft stays in the
       * local database. */
      self->locked = self->withdrawn = TRUE;
      text = g_strdup (_("Withdrawn by the server: this read was reassigned. Your draft is kept "
                         "on this computer."));
    }
  else if (self->waits_for && !(last && g_str_equal (last->state, "refused")))
    {
      self->locked = TRUE;
      text = g_strdup_printf (_("Sequential reading: submit your read of %s first. This "
                                "timepoint opens once it is locked."), self->waits_for);
    }
  else if (last && g_str_equal (last->state, "refused") &&
           g_strcmp0 (last->last_error, RR_SYNC_REFUSED_PASSWORD) == 0)
    /* The signer's own mistake, in the signing dialog's words. */
    text = g_strdup (_("Wrong password: the read is not signed. Sign it again with your "
                       "password."));
  else if (last && g_str_equal (last->state, "refused"))
    text = g_strdup_printf (_("The server refused the read: %s"),
                            last->last_error ? last->last_error : "");
  else if (task && self->current > 0 &&
           (gone = rr_read_task_withdrawn_prior (self->store, self->account, task)))
    /* Not silently a read without its prior values: the reader knows why. */
    text = g_strdup_printf (_("Your earlier read of %s was withdrawn by the server: its "
                              "lesions and values are not carried into this one."), gone);
  if (text)
    gtk_label_set_text (self->state_label, text);
  rr_read_export_set_task (RR_READ_EXPORT (self->export), self->store, self->account,
                           self->task_id);
  for (guint i = 0; i < G_N_ELEMENTS (form_actions); i++)
    {
      GAction *a = g_action_map_lookup_action (G_ACTION_MAP (self->caliper_actions),
                                               form_actions[i] + strlen ("form."));
      gtk_widget_action_set_enabled (GTK_WIDGET (self), form_actions[i], !self->locked);
      if (a)
        g_simple_action_set_enabled (G_SIMPLE_ACTION (a), !self->locked);
    }
  /* Sent again every little while until the server has answered. */
  if (self->pending && self->retry_source == 0)
    self->retry_source = g_timeout_add_seconds (5, retry_tick, self);
}

/* Sequential reading: a follow-up starts from the reader's own read of the
 * subject's previous timepoint on this computer (the lesions, their
 * organs, their earlier values), one that stands (signed or submitted, not
 * withdrawn); the calipers those values come from are already in
 * self->calipers (load_task). */
static void
seed_from_prior (RrReadForm        *self,
                 const RrStoreTask *task)
{
  g_autofree char *form = rr_read_task_prior_form (self->store, self->account, task);

  if (form == NULL || !rr_read_draft_load (self->draft, form, NULL))
    return;
  save (self);
}

static void
load_task (RrReadForm *self)
{
  g_autoptr (RrStoreTask) task = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) mine = NULL;
  g_autofree char *form = NULL, *title = NULL;

  task = rr_store_get_task (self->store, self->account, self->task_id, &error);
  if (task == NULL || g_strcmp0 (task->kind, "read") != 0)
    {
      gtk_widget_set_visible (GTK_WIDGET (self), FALSE);
      return;
    }
  self->draft = rr_read_draft_new_for_task (task->json, &error);
  if (self->draft == NULL)
    {
      gtk_widget_set_visible (GTK_WIDGET (self), TRUE);
      gtk_label_set_text (self->state_label, error->message);
      return;
    }
  self->current = self->draft->timepoints->len - 1;
  form = rr_store_get_form (self->store, self->account, self->task_id, NULL);
  if (form && !rr_read_draft_load (self->draft, form, &error))
    gtk_label_set_text (self->state_label, error->message);

  /* Which timepoint each series is: the task's studies per timepoint. */
  rr_read_task_series_timepoints (self->store, self->account, task, self->draft,
                                  self->series_tp);

  mine = rr_store_list_measurements (self->store, self->account, self->task_id, NULL, NULL, NULL);
  for (guint i = 0; mine && i < mine->len; i++)
    {
      RrMeasurement *m = mine->pdata[i];
      g_hash_table_insert (self->calipers, g_strdup (m->id), rr_measurement_copy (m));
    }
  /* Signed on another computer: the read as the server holds it. */
  rr_read_submitted_load (self->store, self->account, self->task_id, self->draft, self->calipers);
  title = g_strdup_printf (_("Assessment · %s, day %d"), timepoint_label (self, self->current),
                           ((RrTimepoint *) self->draft->timepoints->pdata[self->current])->day);
  gtk_label_set_text (self->title, title);
  gtk_label_set_text (self->saved_label, form ? _("All changes saved on this computer") : "");
  if (self->current > 0)
    self->waits_for = rr_read_task_earlier_open (self->store, self->account, task);
  load_lock (self);
  /* The earlier reads' calipers (prior values, "go to"): the same ones
   * whether this read is first opened or opened again. What they
   * measured is shown, never changed here. */
  if (self->current > 0)
    rr_read_task_prior_calipers (self->store, self->account, task, self->calipers);
  if (form == NULL && self->current > 0 && !self->locked)
    seed_from_prior (self, task);
  gtk_widget_set_visible (GTK_WIDGET (self), TRUE);
  rebuild (self);
}

void
rr_read_form_set_task (RrReadForm  *self,
                       RrStore     *store,
                       gint64       account,
                       const char  *task_id,
                       const char  *ca_file)
{
  g_return_if_fail (RR_IS_READ_FORM (self));
  g_clear_handle_id (&self->retry_source, g_source_remove);
  g_cancellable_cancel (self->retry);
  g_clear_object (&self->retry);
  self->retry = g_cancellable_new ();
  g_clear_pointer (&self->draft, rr_read_draft_free);
  g_clear_pointer (&self->result, rr_criteria_result_free);
  g_clear_pointer (&self->read, rr_read_free);
  g_hash_table_remove_all (self->calipers);
  g_hash_table_remove_all (self->series_tp);
  g_clear_pointer (&self->task_id, g_free);
  g_clear_pointer (&self->ca_file, g_free);
  g_clear_pointer (&self->waits_for, g_free);
  self->locked = FALSE;
  self->store = store;
  self->account = account;
  if (store && self->writer &&
      !g_str_equal (rr_form_writer_get_path (self->writer), rr_store_get_path (store)))
    /* Saves already queued finish first: the writer drains in order. */
    g_clear_pointer (&self->writer, rr_form_writer_free);
  if (store && self->writer == NULL)
    {
      self->writer = rr_form_writer_new (rr_store_get_path (store), save_done);
      g_free (self->db_path);
      self->db_path = g_strdup (rr_store_get_path (store));
    }
  if (task_id == NULL || store == NULL || account <= 0)
    {
      rebuild (self);
      gtk_widget_set_visible (GTK_WIDGET (self), FALSE);
      g_signal_emit (self, signals[SIGNAL_LOCK_CHANGED], 0);
      return;
    }
  self->task_id = g_strdup (task_id);
  self->ca_file = g_strdup (ca_file);
  load_task (self);
  g_signal_emit (self, signals[SIGNAL_LOCK_CHANGED], 0);
}

const RrMeasurement *
rr_read_form_get_caliper (RrReadForm *self,
                          const char *id)
{
  return id ? g_hash_table_lookup (self->calipers, id) : NULL;
}

GPtrArray *
rr_read_form_list_calipers (RrReadForm *self,
                            const char *series_uid)
{
  GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify) rr_measurement_free);
  GHashTableIter it;
  gpointer value;

  g_return_val_if_fail (RR_IS_READ_FORM (self), out);
  g_hash_table_iter_init (&it, self->calipers);
  while (g_hash_table_iter_next (&it, NULL, &value))
    if (g_strcmp0 (((RrMeasurement *) value)->series_uid, series_uid) == 0)
      g_ptr_array_add (out, rr_measurement_copy (value));
  return out;
}

const char *
rr_read_form_lesion_of (const char *caliper_id,
                        gboolean   *short_axis,
                        gpointer    form)
{
  RrReadForm *self = form;
  RrDraftLesion *l = self->draft && caliper_id
                       ? rr_read_draft_find_caliper (self->draft, caliper_id, NULL) : NULL;
  /* As the form measures it (entry_text): a node's short axis, but not
   * a non-target's, which is only present or not. */
  if (l && short_axis)
    *short_axis = l->nodal && l->kind != RR_LESION_NON_TARGET;
  return l ? l->id : NULL;
}

const char *
rr_read_form_lock_reason (RrReadForm *self)
{
  g_return_val_if_fail (RR_IS_READ_FORM (self), NULL);
  if (self->waits_for)
    return _("Sequential reading: the earlier timepoint is read and submitted first");
  if (self->withdrawn)
    return _("Withdrawn by the server: this read was reassigned and can no longer change");
  return _("This read is signed: its measurements can no longer change");
}

/* Sequential reading: whether the earlier timepoint this read waited for
 * is no longer open (a synchronisation brought it, submitted on another
 * computer, or it was withdrawn). */
static gboolean
wait_lifted (RrReadForm        *self,
             const RrStoreTask *task)
{
  g_autofree char *still = rr_read_task_earlier_open (self->store, self->account, task);
  if (still)
    {
      g_free (self->waits_for);
      self->waits_for = g_steal_pointer (&still);
      return FALSE;
    }
  g_clear_pointer (&self->waits_for, g_free);
  return TRUE;
}

/* After a synchronisation: the task open may have been signed elsewhere or
 * withdrawn by the server since it was loaded, or the earlier read it
 * waited for may have come. */
void
rr_read_form_recheck (RrReadForm *self)
{
  gboolean was, lifted = FALSE;
  g_autofree char *before = NULL, *form = NULL;
  g_autoptr (RrStoreTask) task = NULL;

  g_return_if_fail (RR_IS_READ_FORM (self));
  if (self->task_id == NULL)
    return;
  was = self->locked;
  before = g_strdup (gtk_label_get_text (self->state_label));
  if (self->waits_for && self->draft &&
      (task = rr_store_get_task (self->store, self->account, self->task_id, NULL)))
    lifted = wait_lifted (self, task);
  load_lock (self);
  if (lifted)
    {
      /* What opening the task now would give: the earlier reads'
       * calipers, and their lesions when nothing is kept for this read
       * yet (a form of its own, typed before, is the reader's and stays). */
      rr_read_task_prior_calipers (self->store, self->account, task, self->calipers);
      form = rr_store_get_form (self->store, self->account, self->task_id, NULL);
      if (form == NULL && !self->locked && self->draft->lesions->len == 0)
        seed_from_prior (self, task);
      rebuild (self);
    }
  if (self->locked != was)
    update_rows_locked (self);
  else if (!self->locked && *gtk_label_get_text (self->state_label) == '\0')
    /* Nothing new from the server: what the form told the reader last
     * (a rule broken, say) stays until the reader acts on it. */
    gtk_label_set_text (self->state_label, before);
}

gboolean
rr_read_form_is_locked (RrReadForm *self)
{
  return self->task_id != NULL && self->locked;
}

static gboolean
refresh_idle (gpointer data)
{
  RrReadForm *self = data;
  self->refresh_source = 0;
  refresh (self);
  return G_SOURCE_REMOVE;
}

void
rr_read_form_measurement_changed (RrReadForm          *self,
                                  RrMeasurementChange  change,
                                  const RrMeasurement *m)
{
  if (self->task_id == NULL)
    return;
  if (change == RR_MEASUREMENT_REMOVED)
    g_hash_table_remove (self->calipers, m->id);
  else
    g_hash_table_insert (self->calipers, g_strdup (m->id), rr_measurement_copy (m));
  /* A removed caliper leaves its lesion "caliper missing" until the
   * reader measures it again or undoes. */
  if (rr_read_draft_find_caliper (self->draft, m->id, NULL) && self->refresh_source == 0)
    self->refresh_source = g_idle_add (refresh_idle, self);
}

void
rr_read_form_set_selected (RrReadForm *self,
                           const char *measurement_id)
{
  g_free (self->selected);
  self->selected = g_strdup (measurement_id);
}

void
rr_read_form_set_volume (RrReadForm     *self,
                         const RrVolume *volume)
{
  g_clear_pointer (&self->shown_series, g_free);
  self->slice_thickness = 0;
  if (volume)
    {
      self->shown_series = g_strdup (volume->series_uid);
      self->slice_thickness = volume->slice_thickness > 0 ? volume->slice_thickness
                                                          : volume->spacing[2];
    }
}

/* ---- the widget ---- */

static void
rr_read_form_dispose (GObject *object)
{
  RrReadForm *self = RR_READ_FORM (object);
  g_clear_handle_id (&self->refresh_source, g_source_remove);
  g_clear_handle_id (&self->retry_source, g_source_remove);
  g_cancellable_cancel (self->retry);
  g_clear_pointer (&self->export, gtk_widget_unparent);
  gtk_widget_dispose_template (GTK_WIDGET (self), RR_TYPE_READ_FORM);
  G_OBJECT_CLASS (rr_read_form_parent_class)->dispose (object);
}

static void
rr_read_form_finalize (GObject *object)
{
  RrReadForm *self = RR_READ_FORM (object);
  /* Every queued save is written before the form goes. */
  g_clear_pointer (&self->writer, rr_form_writer_free);
  g_clear_object (&self->caliper_actions);
  g_clear_pointer (&self->draft, rr_read_draft_free);
  g_clear_pointer (&self->result, rr_criteria_result_free);
  g_clear_pointer (&self->read, rr_read_free);
  g_hash_table_unref (self->calipers);
  g_hash_table_unref (self->series_tp);
  g_free (self->db_path);
  g_free (self->task_id);
  g_free (self->ca_file);
  g_free (self->waits_for);
  g_free (self->selected);
  g_free (self->shown_series);
  G_OBJECT_CLASS (rr_read_form_parent_class)->finalize (object);
}

static void
rr_read_form_class_init (RrReadFormClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = rr_read_form_dispose;
  object_class->finalize = rr_read_form_finalize;
  /* "go-to" (series, measurement): show this caliper in the viewer. */
  signals[SIGNAL_GO_TO] = g_signal_new ("go-to", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                                        NULL, NULL, NULL, G_TYPE_NONE, 2, G_TYPE_STRING,
                                        G_TYPE_STRING);
  /* "lesions-changed": the lesions or their calipers may have changed
   * (made, removed, a fragment added): the viewer labels calipers by them. */
  signals[SIGNAL_LESIONS_CHANGED] = g_signal_new ("lesions-changed", G_TYPE_FROM_CLASS (klass),
                                                  G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                                  G_TYPE_NONE, 0);
  /* "lock-changed": rr_read_form_is_locked () may have changed. */
  signals[SIGNAL_LOCK_CHANGED] = g_signal_new ("lock-changed", G_TYPE_FROM_CLASS (klass),
                                               G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                               G_TYPE_NONE, 0);
  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/readroom/Readroom/rr-read-form.ui");
  gtk_widget_class_bind_template_child (widget_class, RrReadForm, title);
  gtk_widget_class_bind_template_child (widget_class, RrReadForm, state_label);
  gtk_widget_class_bind_template_child (widget_class, RrReadForm, saved_label);
  gtk_widget_class_bind_template_child (widget_class, RrReadForm, lesions);
  gtk_widget_class_bind_template_child (widget_class, RrReadForm, responses);
  gtk_widget_class_bind_template_child (widget_class, RrReadForm, summary);
  gtk_widget_class_bind_template_child (widget_class, RrReadForm, overall);
  gtk_widget_class_bind_template_child (widget_class, RrReadForm, overall_detail);
  gtk_widget_class_bind_template_child (widget_class, RrReadForm, read_issues);
  gtk_widget_class_bind_template_child (widget_class, RrReadForm, buttons);
  gtk_widget_class_bind_template_child (widget_class, RrReadForm, submit_button);
  gtk_widget_class_install_action (widget_class, "form.make-target", NULL, form_action);
  gtk_widget_class_install_action (widget_class, "form.make-non-target", NULL, form_action);
  gtk_widget_class_install_action (widget_class, "form.make-new-lesion", NULL, form_action);
  gtk_widget_class_install_action (widget_class, "form.submit", NULL, submit_action);
  gtk_widget_class_install_action (widget_class, "form.organ", "s", organ_action);
}

/* The form's shortcuts work wherever the focus is in the window (the
 * reader is on the image when a caliper becomes a target). */
static void
add_shortcuts (RrReadForm *self)
{
  static const RrAccel keys[] = {
    { "<Control>t", "form.make-target", NULL },
    { "<Control><Shift>t", "form.make-non-target", NULL },
    { "<Control><Shift>n", "form.make-new-lesion", NULL },
    { "<Control>Return", "form.submit", NULL },
  };
  GtkEventController *c = gtk_shortcut_controller_new ();
  gtk_shortcut_controller_set_scope (GTK_SHORTCUT_CONTROLLER (c), GTK_SHORTCUT_SCOPE_GLOBAL);
  for (guint i = 0; i < G_N_ELEMENTS (keys); i++)
    gtk_shortcut_controller_add_shortcut (
      GTK_SHORTCUT_CONTROLLER (c),
      gtk_shortcut_new (gtk_shortcut_trigger_parse_string (keys[i].accel),
                        gtk_named_action_new (keys[i].action)));
  gtk_widget_add_controller (GTK_WIDGET (self), c);
  rr_accels_tooltips (GTK_WIDGET (self), keys, G_N_ELEMENTS (keys));
}

static void
rr_read_form_init (RrReadForm *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  rr_accessible_skip_empty_labels (GTK_WIDGET (self));
  self->retry = g_cancellable_new ();
  self->calipers = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                          (GDestroyNotify) rr_measurement_free);
  self->series_tp = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  add_shortcuts (self);
  self->export = rr_read_export_new ();
  gtk_widget_insert_after (self->export, GTK_WIDGET (self), GTK_WIDGET (self->state_label));
  {
    const GActionEntry entries[] = {
      { "make-target", caliper_action }, { "make-non-target", caliper_action },
      { "make-new-lesion", caliper_action },
    };
    self->caliper_actions = g_simple_action_group_new ();
    g_action_map_add_action_entries (G_ACTION_MAP (self->caliper_actions), entries,
                                     G_N_ELEMENTS (entries), self);
  }
  gtk_widget_set_visible (GTK_WIDGET (self), FALSE);
}
