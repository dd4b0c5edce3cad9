/* rr-series-list.c: the reading window's series sidebar. Rows are made
 * from a scan, thumbnails are decoded on workers, and each study gets a
 * header that names it without identifying the patient. */
#include "rr-series-list.h"
#include "rr-thumbnail.h"

#include <glib/gi18n.h>
#include <json-glib/json-glib.h>
#include <string.h>

/* A timepoint of the task open, as its studies carry it. */
typedef struct
{
  char *label;
  gint64 day;
  guint order;                  /* as the task lists them */
} Timepoint;

static void
timepoint_free (Timepoint *tp)
{
  g_free (tp->label);
  g_free (tp);
}

struct _RrSeriesList
{
  GtkListBox *box;                /* the window's (borrowed) */
  RrDicomScan *scan;              /* borrowed: the window keeps every scan it showed */
  GHashTable *study_tp;           /* Study Instance UID -> Timepoint (a task open) */
  char *folder;                   /* the folder opened, for relative names */
  GPtrArray *row_series;          /* RrDicomSeries * per list row (borrowed) */
  GArray *row_study;              /* guint: study index per list row */
};

/* ---- thumbnails ---- */

static void
thumb_thread (GTask        *task,
              gpointer      source,
              gpointer      task_data,
              GCancellable *cancellable)
{
  GError *error = NULL;
  RrVolume *v = rr_dicom_series_load_slice (task_data, 0, -1, cancellable, &error);
  if (v == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  g_task_return_pointer (task,
                         rr_slice_texture (v, 0, v->type == RR_VOXEL_RGB8 ? 127.5 : v->window_center,
                                           v->type == RR_VOXEL_RGB8 ? 255 : v->window_width),
                         g_object_unref);
  rr_volume_unref (v);
}

static void
thumb_done (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr (GtkPicture) picture = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GdkTexture) tex = g_task_propagate_pointer (G_TASK (result), &error);
  if (tex)
    gtk_picture_set_paintable (picture, GDK_PAINTABLE (tex));
}

static GtkWidget *
series_row (RrDicomSeries *se,
            gpointer       owner,
            GCancellable  *cancellable)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 10);
  GtkWidget *labels = gtk_box_new (GTK_ORIENTATION_VERTICAL, 2);
  GtkWidget *picture = gtk_picture_new ();
  const RrStack *st = rr_dicom_series_main_stack (se);
  g_autofree char *title = g_strdup_printf ("%s %d", se->modality, se->number);
  g_autofree char *sub = NULL;
  g_autofree char *acc = NULL;
  GtkWidget *l1, *l2, *l3;

  gtk_widget_set_size_request (picture, 72, 72);
  gtk_picture_set_can_shrink (GTK_PICTURE (picture), TRUE);
  gtk_widget_set_margin_top (box, 6);
  gtk_widget_set_margin_bottom (box, 6);
  gtk_box_append (GTK_BOX (box), picture);
  if (st)
    sub = g_strdup_printf (g_dngettext (NULL, "%u slice · %u×%u", "%u slices · %u×%u",
                                        st->order->len),
                           st->order->len, st->columns, st->rows);
  else
    sub = g_strdup_printf (g_dngettext (NULL, "%u object, not an image",
                                        "%u objects, not images", se->instances->len),
                           se->instances->len);
  l1 = gtk_label_new (title);
  l2 = gtk_label_new (*se->description ? se->description : _("No description"));
  l3 = gtk_label_new (sub);
  gtk_widget_add_css_class (l1, "heading");
  gtk_widget_add_css_class (l3, "dim-label");
  gtk_widget_add_css_class (l3, "caption");
  gtk_label_set_ellipsize (GTK_LABEL (l2), PANGO_ELLIPSIZE_END);
  for (GtkWidget *l = l1; l; l = l == l1 ? l2 : l == l2 ? l3 : NULL)
    {
      gtk_label_set_xalign (GTK_LABEL (l), 0);
      gtk_box_append (GTK_BOX (labels), l);
    }
  gtk_widget_set_valign (labels, GTK_ALIGN_CENTER);
  gtk_box_append (GTK_BOX (box), labels);
  {
    GtkWidget *row = gtk_list_box_row_new ();
    gtk_list_box_row_set_child (GTK_LIST_BOX_ROW (row), box);
    acc = g_strdup_printf ("%s %s, %s", title, se->description, sub);
    gtk_accessible_update_property (GTK_ACCESSIBLE (row), GTK_ACCESSIBLE_PROPERTY_LABEL, acc, -1);
    if (!se->is_image)
      gtk_list_box_row_set_selectable (GTK_LIST_BOX_ROW (row), FALSE),
      gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (row), FALSE);
    else
      {
        /* The task holds the owner, and the owner the scan the thread reads. */
        g_autoptr (GTask) task = g_task_new (owner, cancellable, thumb_done,
                                             g_object_ref (picture));
        g_task_set_task_data (task, se, NULL);
        g_task_run_in_thread (task, thumb_thread);
      }
    return row;
  }
}

static const Timepoint *
timepoint_of (RrSeriesList *self,
              guint         study)
{
  if (self->study_tp == NULL || self->scan == NULL || study >= self->scan->studies->len)
    return NULL;
  return g_hash_table_lookup (self->study_tp,
                              ((RrDicomStudy *) self->scan->studies->pdata[study])->study_uid);
}

/* A task's study by its timepoint and study day ("Week 8, day 56"); a
 * folder's by its place in the folder. */
static char *
study_caption (RrSeriesList *self,
               guint         study)
{
  const Timepoint *tp = timepoint_of (self, study);
  if (tp)
    return g_strdup_printf (_("%s, day %" G_GINT64_FORMAT), tp->label, tp->day);
  if (self->study_tp)
    return g_strdup (_("Other study"));
  return g_strdup_printf (_("Study %u"), study + 1);
}

/* Rows are grouped by study. The header names the study by its place in
 * the folder (the reader chose the folder names); dates and patient
 * details are not shown. */
static void
update_header (GtkListBoxRow *row,
               GtkListBoxRow *before,
               gpointer       user_data)
{
  RrSeriesList *self = user_data;
  guint i = gtk_list_box_row_get_index (row);
  guint study = g_array_index (self->row_study, guint, i);
  RrDicomSeries *se;
  g_autofree char *dir = NULL, *rel = NULL, *text = NULL;
  GtkWidget *label;

  if (before != NULL &&
      g_array_index (self->row_study, guint, gtk_list_box_row_get_index (before)) == study)
    {
      gtk_list_box_row_set_header (row, NULL);
      return;
    }
  se = g_ptr_array_index (self->row_series, i);
  if (self->study_tp && self->scan && study < self->scan->studies->len)
    {
      /* A task's study: its timepoint, never anything that identifies
       * (the panes add the study day). */
      const Timepoint *tp = timepoint_of (self, study);
      text = g_strdup (tp ? tp->label : _("Other study"));
      goto made;
    }
  dir = g_path_get_dirname (rr_dicom_instance_path (rr_dicom_series_instance (se, 0)));
  if (self->folder && g_str_has_prefix (dir, self->folder))
    rel = g_strdup (dir + strlen (self->folder) + (dir[strlen (self->folder)] == '/'));
  text = rel && *rel ? g_strdup_printf (_("Study %u · %s"), study + 1, rel)
                     : g_strdup_printf (_("Study %u"), study + 1);
made:
  label = gtk_label_new (text);
  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_label_set_ellipsize (GTK_LABEL (label), PANGO_ELLIPSIZE_START);
  gtk_widget_add_css_class (label, "caption-heading");
  gtk_widget_add_css_class (label, "dim-label");
  gtk_widget_set_margin_start (label, 12);
  gtk_widget_set_margin_top (label, 10);
  gtk_widget_set_margin_bottom (label, 4);
  gtk_list_box_row_set_header (row, label);
}

RrSeriesList *
rr_series_list_new (GtkListBox *box)
{
  RrSeriesList *self = g_new0 (RrSeriesList, 1);
  self->box = box;
  self->row_series = g_ptr_array_new ();
  self->row_study = g_array_new (FALSE, FALSE, sizeof (guint));
  gtk_list_box_set_header_func (box, update_header, self, NULL);
  return self;
}

void
rr_series_list_free (RrSeriesList *self)
{
  g_ptr_array_unref (self->row_series);
  g_array_unref (self->row_study);
  g_clear_pointer (&self->study_tp, g_hash_table_unref);
  g_free (self->folder);
  g_free (self);
}

static void
remove_rows (RrSeriesList *self)
{
  GtkWidget *child;
  self->scan = NULL;
  g_ptr_array_set_size (self->row_series, 0);
  g_array_set_size (self->row_study, 0);
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->box))))
    gtk_list_box_remove (self->box, child);
}

void
rr_series_list_set_source (RrSeriesList *self,
                           const char   *task_json,
                           const char   *folder)
{
  g_autoptr (JsonParser) p = json_parser_new ();
  JsonArray *tps = NULL;

  /* The rows of the source before go at once: after Switch User they
   * would show the next person the last one's series descriptions. */
  remove_rows (self);
  g_clear_pointer (&self->study_tp, g_hash_table_unref);
  g_free (self->folder);
  self->folder = g_strdup (folder);
  if (task_json == NULL)
    return;
  self->study_tp = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                          (GDestroyNotify) timepoint_free);
  if (json_parser_load_from_data (p, task_json, -1, NULL) &&
      JSON_NODE_HOLDS_OBJECT (json_parser_get_root (p)))
    {
      JsonObject *o = json_node_get_object (json_parser_get_root (p));
      if (json_object_has_member (o, "timepoints") &&
          JSON_NODE_HOLDS_ARRAY (json_object_get_member (o, "timepoints")))
        tps = json_object_get_array_member (o, "timepoints");
    }
  for (guint k = 0; tps && k < json_array_get_length (tps); k++)
    {
      JsonNode *n = json_array_get_element (tps, k);
      JsonObject *tp;
      JsonArray *studies = NULL;
      if (!JSON_NODE_HOLDS_OBJECT (n))
        continue;
      tp = json_node_get_object (n);
      if (json_object_has_member (tp, "studies") &&
          JSON_NODE_HOLDS_ARRAY (json_object_get_member (tp, "studies")))
        studies = json_object_get_array_member (tp, "studies");
      for (guint s = 0; studies && s < json_array_get_length (studies); s++)
        {
          Timepoint *t = g_new0 (Timepoint, 1);
          const char *uid = json_array_get_string_element (studies, s);
          if (uid == NULL)
            {
              g_free (t);
              continue;
            }
          t->label = g_strdup (json_object_get_string_member_with_default (tp, "label", ""));
          t->day = json_object_get_int_member_with_default (tp, "day", 0);
          t->order = k;
          g_hash_table_replace (self->study_tp, g_strdup (uid), t);
        }
    }
}

/* Chronological: by study day, then as the task lists the timepoints;
 * studies of no timepoint last, in the folder's order. */
static int
compare_studies (gconstpointer a,
                 gconstpointer b,
                 gpointer      data)
{
  RrSeriesList *self = data;
  guint sa = *(const guint *) a, sb = *(const guint *) b;
  const Timepoint *ta = timepoint_of (self, sa), *tb = timepoint_of (self, sb);
  if (ta && tb && ta->day != tb->day)
    return ta->day < tb->day ? -1 : 1;
  if (ta && tb && ta->order != tb->order)
    return ta->order < tb->order ? -1 : 1;
  if ((ta == NULL) != (tb == NULL))
    return ta ? -1 : 1;
  return sa < sb ? -1 : sa > sb;
}

GtkListBoxRow *
rr_series_list_fill (RrSeriesList *self,
                     RrDicomScan  *scan,
                     gpointer      owner,
                     GCancellable *cancellable,
                     const char   *resume_uid)
{
  GtkListBoxRow *first = NULL, *resume = NULL;
  const Timepoint *first_tp = NULL;
  g_autoptr (GArray) order = g_array_new (FALSE, FALSE, sizeof (guint));

  remove_rows (self);
  self->scan = scan;
  for (guint i = 0; i < scan->studies->len; i++)
    g_array_append_val (order, i);
  g_array_sort_with_data (order, compare_studies, self);
  for (guint o = 0; o < order->len; o++)
    {
      guint i = g_array_index (order, guint, o);
      RrDicomStudy *st = scan->studies->pdata[i];
      const Timepoint *tp = timepoint_of (self, i);
      for (guint j = 0; j < st->series->len; j++)
        {
          RrDicomSeries *se = st->series->pdata[j];
          GtkWidget *row = series_row (se, owner, cancellable);
          g_ptr_array_add (self->row_series, se);
          g_array_append_val (self->row_study, i);
          gtk_list_box_append (self->box, row);
          /* A task opens on its own timepoint: the latest. */
          if (se->is_image && (first == NULL || (tp && (first_tp == NULL ||
                                                        tp->day > first_tp->day))))
            first = GTK_LIST_BOX_ROW (row), first_tp = tp;
          if (se->is_image && g_strcmp0 (se->series_uid, resume_uid) == 0)
            resume = GTK_LIST_BOX_ROW (row);
        }
    }
  return resume ? resume : first;
}

guint
rr_series_list_get_n_rows (RrSeriesList *self)
{
  return self->row_series->len;
}

RrDicomSeries *
rr_series_list_get_series (RrSeriesList *self,
                           guint         row)
{
  g_return_val_if_fail (row < self->row_series->len, NULL);
  return g_ptr_array_index (self->row_series, row);
}

int
rr_series_list_find (RrSeriesList *self,
                     const char   *series_uid)
{
  for (guint r = 0; r < self->row_series->len; r++)
    if (g_strcmp0 (((RrDicomSeries *) self->row_series->pdata[r])->series_uid, series_uid) == 0)
      return (int) r;
  return -1;
}

static guint
study_of (RrSeriesList  *self,
          RrDicomSeries *series)
{
  for (guint r = 0; r < self->row_series->len; r++)
    if (g_ptr_array_index (self->row_series, r) == series)
      return g_array_index (self->row_study, guint, r);
  return G_MAXUINT;
}

char *
rr_series_list_study_label (RrSeriesList  *self,
                            RrDicomSeries *series)
{
  return study_caption (self, study_of (self, series));
}

GMenuModel *
rr_series_list_compare_menu (RrSeriesList  *self,
                             RrDicomSeries *series,
                             guint         *n_choices)
{
  GMenu *menu = g_menu_new ();
  g_autoptr (GMenu) same = g_menu_new (), other = g_menu_new (), stop = g_menu_new ();
  guint study = study_of (self, series);

  for (guint r = 0; r < self->row_series->len; r++)
    {
      RrDicomSeries *se = g_ptr_array_index (self->row_series, r);
      guint st = g_array_index (self->row_study, guint, r);
      g_autofree char *label = NULL;
      g_autoptr (GMenuItem) item = NULL;
      if (st == study || !se->is_image)
        continue;
      {
        g_autofree char *caption = study_caption (self, st);
        label = g_strdup_printf ("%s · %s %s", caption, se->modality ? se->modality : "",
                                 se->description ? se->description : "");
      }
      item = g_menu_item_new (label, NULL);
      g_menu_item_set_action_and_target (item, "win.compare", "i", (int) r);
      g_menu_append_item (g_strcmp0 (se->modality, series->modality) == 0 ? same : other, item);
    }
  *n_choices = g_menu_model_get_n_items (G_MENU_MODEL (same)) +
               g_menu_model_get_n_items (G_MENU_MODEL (other));
  g_menu_append (stop, _("Stop Comparing"), "win.compare(-1)");
  g_menu_append_section (menu, NULL, G_MENU_MODEL (same));
  g_menu_append_section (menu, NULL, G_MENU_MODEL (other));
  g_menu_append_section (menu, NULL, G_MENU_MODEL (stop));
  return G_MENU_MODEL (menu);
}

/* A PET of the same study (same frame of reference) can be fused over a
 * CT. */
RrDicomSeries *
rr_series_list_pet_of (RrSeriesList  *self,
                       RrDicomSeries *series)
{
  if (g_strcmp0 (series->modality, "CT") != 0)
    return NULL;
  for (guint i = 0; self->scan && i < self->scan->studies->len; i++)
    {
      RrDicomStudy *st = self->scan->studies->pdata[i];
      gboolean here = FALSE;
      for (guint j = 0; j < st->series->len; j++)
        here |= st->series->pdata[j] == series;
      for (guint j = 0; here && j < st->series->len; j++)
        {
          RrDicomSeries *se = st->series->pdata[j];
          if (se->is_image && g_strcmp0 (se->modality, "PT") == 0)
            return se;
        }
    }
  return NULL;
}

/* The prior of @series: the latest earlier timepoint's image series of
 * the same modality (its first), the one a reader compares with. */
int
rr_series_list_prior (RrSeriesList *self,
                      const char   *series_uid)
{
  int row = rr_series_list_find (self, series_uid);
  RrDicomSeries *series = row >= 0 ? g_ptr_array_index (self->row_series, row) : NULL;
  const Timepoint *now = row >= 0 ? timepoint_of (self, g_array_index (self->row_study, guint,
                                                                        row)) : NULL;
  const Timepoint *best_tp = NULL;
  int best = -1;

  if (now == NULL)
    return -1;
  for (guint r = 0; r < self->row_series->len; r++)
    {
      RrDicomSeries *se = g_ptr_array_index (self->row_series, r);
      const Timepoint *tp = timepoint_of (self, g_array_index (self->row_study, guint, r));
      if (tp == NULL || !se->is_image || g_strcmp0 (se->modality, series->modality) != 0 ||
          tp->day >= now->day)
        continue;
      if (best_tp == NULL || tp->day > best_tp->day)
        best = (int) r, best_tp = tp;
    }
  return best;
}
