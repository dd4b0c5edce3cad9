/* rr-measurement-panel.c: one row per measurement, rebuilt from the
 * history whenever it changes; the rows carry ids, never pointers, so a
 * change can never leave a row pointing at a freed measurement. */
#include "rr-measurement-panel.h"
#include "rr-measure-text.h"

#include <adwaita.h>
#include <glib/gi18n.h>

struct _RrMeasurementPanel
{
  GtkWidget parent_instance;

  GtkListBox *list;
  RrMeasurementHistory *history;
  RrVolume *volume;
  gboolean selecting;      /* a row is being marked from outside */
  RrLesionNameFunc lesion_name;
  gpointer lesion_name_data;
  gboolean locked;         /* the read is signed: nothing can be deleted */
};

enum
{
  SIGNAL_ACTIVATED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (RrMeasurementPanel, rr_measurement_panel, GTK_TYPE_WIDGET)

static void
on_delete (GtkButton          *button,
           RrMeasurementPanel *self)
{
  const char *id = g_object_get_data (G_OBJECT (button), "measurement");
  g_autofree char *copy = g_strdup (id);
  if (self->history && copy)
    rr_measurement_history_remove (self->history, copy);
}

static GtkWidget *
make_row (RrMeasurementPanel  *self,
          const RrMeasurement *m)
{
  RrMeasureValues v;
  g_autofree char *value = NULL, *where = NULL, *subtitle = NULL, *label = NULL;
  GtkWidget *row = adw_action_row_new ();
  GtkWidget *del = gtk_button_new_from_icon_name ("user-trash-symbolic");
  const char *series = self->volume && self->volume->description && *self->volume->description
                         ? self->volume->description : _("this series");

  rr_measurement_compute (m, self->volume, &v);
  /* Which lesion of the form it measures, first. */
  value = rr_measure_text_lesion_value (m, &v, self->lesion_name, self->lesion_name_data);
  where = rr_measure_text_where (m, self->volume);
  /* A note says more (a structured report's lesion and timepoint). */
  if (m->kind != RR_MEASURE_ARROW && m->text && *m->text)
    {
      char *noted = g_strdup_printf ("%s · %s", where, m->text);
      g_free (where);
      where = noted;
    }
  subtitle = g_strdup_printf ("%s · %s · %s", rr_measure_text_kind (m->kind), series, where);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), value);
  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
  adw_action_row_set_subtitle_lines (ADW_ACTION_ROW (row), 2);
  label = g_strdup_printf ("%s %s, %s", rr_measure_text_kind (m->kind), value, where);
  gtk_accessible_update_property (GTK_ACCESSIBLE (row), GTK_ACCESSIBLE_PROPERTY_LABEL, label, -1);

  gtk_widget_set_valign (del, GTK_ALIGN_CENTER);
  gtk_widget_add_css_class (del, "flat");
  gtk_widget_set_tooltip_text (del, _("Delete Measurement"));
  gtk_accessible_update_property (GTK_ACCESSIBLE (del), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Delete measurement"), -1);
  g_object_set_data_full (G_OBJECT (del), "measurement", g_strdup (m->id), g_free);
  g_signal_connect_object (del, "clicked", G_CALLBACK (on_delete), self, 0);
  gtk_widget_set_sensitive (del, !self->locked);
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), del);
  g_object_set_data_full (G_OBJECT (row), "measurement", g_strdup (m->id), g_free);
  return row;
}

static void
on_row_selected (GtkListBox         *box,
                 GtkListBoxRow      *row,
                 RrMeasurementPanel *self)
{
  const char *id = row ? g_object_get_data (G_OBJECT (row), "measurement") : NULL;
  if (id && !self->selecting)
    g_signal_emit (self, signals[SIGNAL_ACTIVATED], 0, id);
}

void
rr_measurement_panel_set_lesion_names (RrMeasurementPanel *self,
                                       RrLesionNameFunc    func,
                                       gpointer            user_data)
{
  self->lesion_name = func;
  self->lesion_name_data = user_data;
  rr_measurement_panel_refresh (self);
}

void
rr_measurement_panel_refresh (RrMeasurementPanel *self)
{
  GtkListBoxRow *sel = gtk_list_box_get_selected_row (self->list);
  g_autofree char *selected = sel ? g_strdup (g_object_get_data (G_OBJECT (sel), "measurement"))
                                  : NULL;
  GtkWidget *child;
  GPtrArray *items = self->history ? rr_measurement_history_items (self->history) : NULL;

  self->selecting = TRUE;
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->list))) != NULL)
    gtk_list_box_remove (self->list, child);
  for (guint i = 0; items && i < items->len; i++)
    gtk_list_box_append (self->list, make_row (self, items->pdata[i]));
  self->selecting = FALSE;
  rr_measurement_panel_select (self, selected);
}

void
rr_measurement_panel_select (RrMeasurementPanel *self,
                             const char         *id)
{
  GtkListBoxRow *row = NULL;
  for (int i = 0; id && (row = gtk_list_box_get_row_at_index (self->list, i)); i++)
    if (g_strcmp0 (g_object_get_data (G_OBJECT (row), "measurement"), id) == 0)
      break;
  self->selecting = TRUE;
  if (row)
    gtk_list_box_select_row (self->list, row);
  else
    gtk_list_box_unselect_all (self->list);
  self->selecting = FALSE;
}

void
rr_measurement_panel_set_locked (RrMeasurementPanel *self,
                                 gboolean            locked)
{
  g_return_if_fail (RR_IS_MEASUREMENT_PANEL (self));
  if (self->locked == !!locked)
    return;
  self->locked = !!locked;
  rr_measurement_panel_refresh (self);
}

void
rr_measurement_panel_set_source (RrMeasurementPanel   *self,
                                 RrMeasurementHistory *history,
                                 RrVolume             *volume)
{
  self->history = history;
  if (volume != self->volume)
    {
      g_clear_pointer (&self->volume, rr_volume_unref);
      self->volume = volume ? rr_volume_ref (volume) : NULL;
    }
  rr_measurement_panel_refresh (self);
}

static void
rr_measurement_panel_dispose (GObject *object)
{
  gtk_widget_dispose_template (GTK_WIDGET (object), RR_TYPE_MEASUREMENT_PANEL);
  G_OBJECT_CLASS (rr_measurement_panel_parent_class)->dispose (object);
}

static void
rr_measurement_panel_finalize (GObject *object)
{
  RrMeasurementPanel *self = RR_MEASUREMENT_PANEL (object);
  g_clear_pointer (&self->volume, rr_volume_unref);
  G_OBJECT_CLASS (rr_measurement_panel_parent_class)->finalize (object);
}

static void
rr_measurement_panel_class_init (RrMeasurementPanelClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = rr_measurement_panel_dispose;
  object_class->finalize = rr_measurement_panel_finalize;
  signals[SIGNAL_ACTIVATED] =
    g_signal_new ("activated", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, G_TYPE_STRING);
  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/readroom/Readroom/rr-measurement-panel.ui");
  gtk_widget_class_bind_template_child (widget_class, RrMeasurementPanel, list);
  gtk_widget_class_set_css_name (widget_class, "rrmeasurementpanel");
}

static void
rr_measurement_panel_init (RrMeasurementPanel *self)
{
  GtkWidget *placeholder;

  gtk_widget_init_template (GTK_WIDGET (self));
  placeholder = gtk_label_new (_("No measurements yet. Choose a tool above the image and "
                                 "drag on it."));
  gtk_label_set_wrap (GTK_LABEL (placeholder), TRUE);
  gtk_label_set_justify (GTK_LABEL (placeholder), GTK_JUSTIFY_CENTER);
  gtk_widget_set_margin_top (placeholder, 24);
  gtk_widget_set_margin_start (placeholder, 18);
  gtk_widget_set_margin_end (placeholder, 18);
  gtk_widget_add_css_class (placeholder, "dim-label");
  gtk_list_box_set_placeholder (self->list, placeholder);
  g_signal_connect_object (self->list, "row-selected", G_CALLBACK (on_row_selected), self, 0);
}
