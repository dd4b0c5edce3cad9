/* rr-read-form-row.c: the building blocks of a lesion's row in the read
 * form, each as narrow as the fixed form column asks (walk findings 1, 7:
 * a long organ name or a new lesion's status widened the column, folded
 * the series sidebar and rescaled the image under the reader's hand). */
#include "rr-read-form-row.h"
#include "rr-organs.h"

#include <glib/gi18n.h>

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

/* The controlled list as a menu: organs, then lymph node sites. */
static GMenuModel *
organ_menu (const char *lesion)
{
  GMenu *menu = g_menu_new ();
  g_autoptr (GMenu) organs = g_menu_new (), nodes = g_menu_new ();
  for (guint i = 0; i < rr_organs_count (); i++)
    {
      const RrOrgan *o = rr_organs_get (i);
      g_autofree char *target = g_strdup_printf ("%s\t%s", lesion, o->id);
      g_autoptr (GMenuItem) item = g_menu_item_new (_(o->label), NULL);
      g_menu_item_set_action_and_target (item, "form.organ", "s", target);
      g_menu_append_item (o->nodal ? nodes : organs, item);
    }
  g_menu_append_section (menu, _("Organs"), G_MENU_MODEL (organs));
  g_menu_append_section (menu, _("Lymph node sites"), G_MENU_MODEL (nodes));
  return G_MENU_MODEL (menu);
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
  g_autoptr (GMenuModel) menu = organ_menu (lesion);
  g_autofree char *acc = g_strdup_printf (_("Organ of %s"), lesion);
  GtkWidget *organ = gtk_menu_button_new ();
  gtk_menu_button_set_menu_model (GTK_MENU_BUTTON (organ), menu);
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
