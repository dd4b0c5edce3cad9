/* rr-read-form-row.c: the building blocks of a lesion's row in the read
 * form, each as narrow as the fixed form column asks (walk findings 1, 7:
 * a long organ name or a new lesion's status widened the column, folded
 * the series sidebar and rescaled the image under the reader's hand). */
#include "rr-read-form-row.h"
#include "rr-organs.h"

#include <glib/gi18n.h>
#include <string.h>

GtkWidget *
rr_read_form_row_button (const char *label,
                         const char *accessible,
                         const char *lesion)
{
  GtkWidget *b = gtk_button_new_with_label (label);
  gtk_widget_add_css_class (b, "flat");
  gtk_widget_set_valign (b, GTK_ALIGN_CENTER);
  gtk_accessible_update_property (GTK_ACCESSIBLE (b), GTK_ACCESSIBLE_PROPERTY_LABEL, accessible,
                                  -1);
  /* Short words on the button (the form is 300 px wide), the whole
   * sentence in its tooltip and accessible name. */
  gtk_widget_set_tooltip_text (b, accessible);
  g_object_set_data_full (G_OBJECT (b), "lesion", g_strdup (lesion), g_free);
  return b;
}

/* ---- the organ picker: the controlled list, with a search ---- */

/* What the search finds: @text in the organ's name (as shown), its id or
 * its SNOMED CT code, ignoring case. */
static gboolean
organ_matches (const RrOrgan *o,
               const char    *text)
{
  g_autofree char *needle = NULL, *label = NULL, *id = NULL;
  if (text == NULL || *text == '\0')
    return TRUE;
  needle = g_utf8_casefold (text, -1);
  label = g_utf8_casefold (_(o->label), -1);
  id = g_utf8_casefold (o->id, -1);
  return strstr (label, needle) || strstr (id, needle) || g_str_equal (o->code, text);
}

static const RrOrgan *
row_organ (GtkListBoxRow *row)
{
  return rr_organs_get (GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (row), "organ-index")));
}

static gboolean
organ_filter (GtkListBoxRow *row,
              gpointer       entry)
{
  return organ_matches (row_organ (row), gtk_editable_get_text (GTK_EDITABLE (entry)));
}

/* "Organs" above the first organ shown, "Lymph node sites" above the
 * first site shown (the rows before are the shown ones). */
static void
organ_header (GtkListBoxRow *row,
              GtkListBoxRow *before,
              gpointer       data)
{
  gboolean nodal = row_organ (row)->nodal;
  if (before == NULL || row_organ (before)->nodal != nodal)
    {
      GtkWidget *h = gtk_label_new (nodal ? _("Lymph node sites") : _("Organs"));
      gtk_label_set_xalign (GTK_LABEL (h), 0);
      gtk_widget_add_css_class (h, "heading");
      gtk_widget_set_margin_start (h, 6);
      gtk_widget_set_margin_top (h, before ? 8 : 2);
      gtk_widget_set_margin_bottom (h, 2);
      gtk_list_box_row_set_header (row, h);
    }
  else
    gtk_list_box_row_set_header (row, NULL);
}

static void
organ_choose (GtkMenuButton *button,
              GtkListBoxRow *row)
{
  const char *lesion = g_object_get_data (G_OBJECT (button), "lesion");
  g_autofree char *target = g_strdup_printf ("%s\t%s", lesion, row_organ (row)->id);
  gtk_menu_button_popdown (button);
  gtk_widget_activate_action (GTK_WIDGET (button), "form.organ", "s", target);
}

static void
on_organ_row (GtkListBox    *list,
              GtkListBoxRow *row,
              GtkMenuButton *button)
{
  organ_choose (button, row);
}

static void
on_organ_search (GtkSearchEntry *entry,
                 GtkListBox     *list)
{
  gtk_list_box_invalidate_filter (list);
  gtk_list_box_invalidate_headers (list);
}

/* Enter in the search: the organ whose name begins with the text, else
 * the first one shown ("lung" is Lung, not a node site named after it). */
static void
on_organ_enter (GtkSearchEntry *entry,
                GtkMenuButton  *button)
{
  GtkWidget *list = g_object_get_data (G_OBJECT (entry), "list");
  const char *text = gtk_editable_get_text (GTK_EDITABLE (entry));
  g_autofree char *needle = g_utf8_casefold (text, -1);
  GtkListBoxRow *first = NULL, *best = NULL;
  for (int i = 0;; i++)
    {
      GtkListBoxRow *row = gtk_list_box_get_row_at_index (GTK_LIST_BOX (list), i);
      g_autofree char *label = NULL;
      if (row == NULL)
        break;
      if (!organ_matches (row_organ (row), text))
        continue;
      if (first == NULL)
        first = row;
      label = g_utf8_casefold (_(row_organ (row)->label), -1);
      if (*needle && g_str_has_prefix (label, needle))
        {
          best = row;
          break;
        }
    }
  if (best || first)
    organ_choose (button, best ? best : first);
}

static void
on_organ_stop (GtkSearchEntry *entry,
               GtkMenuButton  *button)
{
  gtk_menu_button_popdown (button);
}

/* Down from the search goes into the list, as in a file chooser. */
static gboolean
on_organ_search_key (GtkEventControllerKey *key,
                     guint                  keyval,
                     guint                  keycode,
                     GdkModifierType        state,
                     GtkWidget             *list)
{
  if (keyval != GDK_KEY_Down && keyval != GDK_KEY_KP_Down)
    return FALSE;
  return gtk_widget_child_focus (list, GTK_DIR_TAB_FORWARD);
}

static void
on_organ_popover_map (GtkWidget      *popover,
                      GtkSearchEntry *entry)
{
  /* Each time it opens: the whole list, the search focused. */
  gtk_editable_set_text (GTK_EDITABLE (entry), "");
  gtk_list_box_invalidate_filter (g_object_get_data (G_OBJECT (entry), "list"));
  gtk_widget_grab_focus (GTK_WIDGET (entry));
}

/* The popover is made the first time it opens: a form of many lesions
 * does not build a list for each one it may never open. */
static void
organ_create_popup (GtkMenuButton *button,
                    gpointer       data)
{
  GtkWidget *popover, *box, *entry, *scrolled, *list;
  GtkEventController *key;
  g_autofree char *find = NULL;

  if (gtk_menu_button_get_popover (button))
    return;
  popover = gtk_popover_new ();
  box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
  entry = gtk_search_entry_new ();
  find = g_strdup_printf (_("Find the organ of %s"),
                          (const char *) g_object_get_data (G_OBJECT (button), "lesion"));
  gtk_accessible_update_property (GTK_ACCESSIBLE (entry), GTK_ACCESSIBLE_PROPERTY_LABEL, find,
                                  -1);
  g_object_set (entry, "placeholder-text", _("Organ or lymph node site"), NULL);
  gtk_box_append (GTK_BOX (box), entry);

  list = gtk_list_box_new ();
  gtk_list_box_set_selection_mode (GTK_LIST_BOX (list), GTK_SELECTION_NONE);
  gtk_list_box_set_activate_on_single_click (GTK_LIST_BOX (list), TRUE);
  gtk_accessible_update_property (GTK_ACCESSIBLE (list), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Organs and lymph node sites"), -1);
  for (guint i = 0; i < rr_organs_count (); i++)
    {
      GtkWidget *row = gtk_list_box_row_new ();
      GtkWidget *label = gtk_label_new (_(rr_organs_get (i)->label));
      gtk_label_set_xalign (GTK_LABEL (label), 0);
      gtk_widget_set_margin_start (label, 12);
      gtk_widget_set_margin_end (label, 12);
      gtk_widget_set_margin_top (label, 4);
      gtk_widget_set_margin_bottom (label, 4);
      gtk_list_box_row_set_child (GTK_LIST_BOX_ROW (row), label);
      g_object_set_data (G_OBJECT (row), "organ-index", GUINT_TO_POINTER (i));
      gtk_accessible_update_property (GTK_ACCESSIBLE (row), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                      _(rr_organs_get (i)->label), -1);
      gtk_list_box_append (GTK_LIST_BOX (list), row);
    }
  gtk_list_box_set_filter_func (GTK_LIST_BOX (list), organ_filter, entry, NULL);
  gtk_list_box_set_header_func (GTK_LIST_BOX (list), organ_header, NULL, NULL);
  g_object_set_data (G_OBJECT (entry), "list", list);

  scrolled = gtk_scrolled_window_new ();
  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (scrolled), GTK_POLICY_NEVER,
                                  GTK_POLICY_AUTOMATIC);
  gtk_scrolled_window_set_propagate_natural_height (GTK_SCROLLED_WINDOW (scrolled), TRUE);
  gtk_scrolled_window_set_max_content_height (GTK_SCROLLED_WINDOW (scrolled), 360);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scrolled), list);
  gtk_box_append (GTK_BOX (box), scrolled);
  gtk_popover_set_child (GTK_POPOVER (popover), box);

  g_signal_connect (entry, "search-changed", G_CALLBACK (on_organ_search), list);
  g_signal_connect (entry, "activate", G_CALLBACK (on_organ_enter), button);
  g_signal_connect (entry, "stop-search", G_CALLBACK (on_organ_stop), button);
  key = gtk_event_controller_key_new ();
  g_signal_connect (key, "key-pressed", G_CALLBACK (on_organ_search_key), list);
  gtk_widget_add_controller (entry, key);
  g_signal_connect (list, "row-activated", G_CALLBACK (on_organ_row), button);
  g_signal_connect (popover, "map", G_CALLBACK (on_organ_popover_map), entry);
  gtk_menu_button_set_popover (button, popover);
}

static GtkLabel *
first_label (GtkWidget *widget)
{
  if (GTK_IS_LABEL (widget))
    return GTK_LABEL (widget);
  for (GtkWidget *c = gtk_widget_get_first_child (widget); c; c = gtk_widget_get_next_sibling (c))
    {
      GtkLabel *label = first_label (c);
      if (label)
        return label;
    }
  return NULL;
}

void
rr_read_form_row_set_organ (GtkMenuButton *button,
                            const char    *label)
{
  GtkLabel *shown;
  gtk_menu_button_set_label (button, label);
  /* GtkMenuButton makes a new label on each set_label, which neither
   * ellipsizes nor wraps: its whole text would be the button's minimum
   * width, and so the form column's. */
  shown = first_label (GTK_WIDGET (button));
  if (shown)
    {
      gtk_label_set_ellipsize (shown, PANGO_ELLIPSIZE_END);
      gtk_widget_set_halign (gtk_widget_get_parent (GTK_WIDGET (shown)), GTK_ALIGN_FILL);
    }
  gtk_widget_set_tooltip_text (GTK_WIDGET (button), label);
  gtk_accessible_update_property (GTK_ACCESSIBLE (button), GTK_ACCESSIBLE_PROPERTY_DESCRIPTION,
                                  label, -1);
}

GtkWidget *
rr_read_form_row_organ_button (const char *lesion,
                               const char *label)
{
  g_autofree char *acc = g_strdup_printf (_("Organ of %s"), lesion);
  GtkWidget *organ = gtk_menu_button_new ();
  g_object_set_data_full (G_OBJECT (organ), "lesion", g_strdup (lesion), g_free);
  gtk_menu_button_set_create_popup_func (GTK_MENU_BUTTON (organ), organ_create_popup, NULL,
                                         NULL);
  rr_read_form_row_set_organ (GTK_MENU_BUTTON (organ), label);
  gtk_widget_set_hexpand (organ, TRUE);
  gtk_accessible_update_property (GTK_ACCESSIBLE (organ), GTK_ACCESSIBLE_PROPERTY_LABEL, acc, -1);
  return organ;
}

GtkWidget *
rr_read_form_row_line (const char *text)
{
  GtkWidget *line = gtk_label_new (text);
  gtk_label_set_xalign (GTK_LABEL (line), 0);
  gtk_label_set_wrap (GTK_LABEL (line), TRUE);
  gtk_label_set_wrap_mode (GTK_LABEL (line), PANGO_WRAP_WORD_CHAR);
  /* A wrapping label's natural width is its whole text: a few characters
   * keep it from asking the column for more than it has. */
  gtk_label_set_max_width_chars (GTK_LABEL (line), 20);
  gtk_widget_set_hexpand (line, TRUE);
  return line;
}

static void
item_setup (GtkSignalListItemFactory *factory,
            GtkListItem              *item,
            gpointer                  data)
{
  GtkWidget *label = gtk_label_new (NULL);
  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_label_set_ellipsize (GTK_LABEL (label), PANGO_ELLIPSIZE_END);
  gtk_list_item_set_child (item, label);
}

static void
item_bind (GtkSignalListItemFactory *factory,
           GtkListItem              *item,
           gpointer                  data)
{
  GtkStringObject *s = gtk_list_item_get_item (item);
  const char *text = s ? gtk_string_object_get_string (s) : "";
  gtk_label_set_text (GTK_LABEL (gtk_list_item_get_child (item)), text);
  gtk_widget_set_tooltip_text (gtk_list_item_get_child (item), text);
}

GtkWidget *
rr_read_form_row_drop_down (GListModel *states)
{
  g_autoptr (GtkListItemFactory) factory = gtk_signal_list_item_factory_new ();
  GtkWidget *dd = gtk_drop_down_new (g_object_ref (states), NULL);
  g_signal_connect (factory, "setup", G_CALLBACK (item_setup), NULL);
  g_signal_connect (factory, "bind", G_CALLBACK (item_bind), NULL);
  gtk_drop_down_set_factory (GTK_DROP_DOWN (dd), factory);
  gtk_widget_set_hexpand (dd, TRUE);
  return dd;
}

void
rr_read_form_row_set_locked (GtkWidget *box,
                             gboolean   locked)
{
  for (GtkWidget *c = gtk_widget_get_first_child (box); c; c = gtk_widget_get_next_sibling (c))
    if (g_object_get_data (G_OBJECT (c), "actions"))
      for (GtkWidget *b = gtk_widget_get_first_child (c); b; b = gtk_widget_get_next_sibling (b))
        gtk_widget_set_sensitive (b, !locked || g_object_get_data (G_OBJECT (b), "go-to") != NULL);
    else
      gtk_widget_set_sensitive (c, !locked);
}
