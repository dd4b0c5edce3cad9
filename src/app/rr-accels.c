/* rr-accels.c: shortcuts installed and shown from one table. */
#include "rr-accels.h"

char *
rr_accel_label (const char *accel)
{
  guint key = 0;
  GdkModifierType mods = 0;
  if (!gtk_accelerator_parse (accel, &key, &mods) || key == 0)
    return NULL;
  return gtk_accelerator_get_label (key, mods);
}

void
rr_accels_bind_class (GtkWidgetClass *klass,
                      const RrAccel  *accels,
                      guint           n_accels)
{
  for (guint i = 0; i < n_accels; i++)
    {
      guint key = 0;
      GdkModifierType mods = 0;
      if (!gtk_accelerator_parse (accels[i].accel, &key, &mods))
        g_error ("bad accelerator %s", accels[i].accel);  /* a typo in a table here */
      if (accels[i].target)
        gtk_widget_class_add_binding_action (klass, key, mods, accels[i].action, "s",
                                             accels[i].target);
      else
        gtk_widget_class_add_binding_action (klass, key, mods, accels[i].action, NULL);
    }
}

static const RrAccel *
accel_of (GtkActionable *a,
          const RrAccel *accels,
          guint          n_accels)
{
  const char *action = gtk_actionable_get_action_name (a);
  GVariant *target = gtk_actionable_get_action_target_value (a);
  const char *t = target && g_variant_is_of_type (target, G_VARIANT_TYPE_STRING)
                    ? g_variant_get_string (target, NULL) : NULL;

  if (action == NULL)
    return NULL;
  for (guint i = 0; i < n_accels; i++)
    if (g_str_equal (accels[i].action, action) && g_strcmp0 (accels[i].target, t) == 0)
      return &accels[i];
  return NULL;
}

void
rr_accels_tooltips (GtkWidget     *root,
                    const RrAccel *accels,
                    guint          n_accels)
{
  const RrAccel *a = GTK_IS_ACTIONABLE (root)
                       ? accel_of (GTK_ACTIONABLE (root), accels, n_accels) : NULL;
  if (a)
    {
      g_autofree char *label = rr_accel_label (a->accel);
      const char *text = gtk_widget_get_tooltip_text (root);
      g_autofree char *tip = text && *text ? g_strdup_printf ("%s (%s)", text, label)
                                           : g_strdup (label);
      gtk_widget_set_tooltip_text (root, tip);
    }
  for (GtkWidget *c = gtk_widget_get_first_child (root); c; c = gtk_widget_get_next_sibling (c))
    rr_accels_tooltips (c, accels, n_accels);
}

const RrAccel rr_window_accels[] = {
  { "w", "win.tool", "navigate" }, { "l", "win.tool", "length" },
  { "b", "win.tool", "bidirectional" }, { "e", "win.tool", "ellipse" },
  { "f", "win.tool", "freehand" }, { "a", "win.tool", "angle" },
  { "p", "win.tool", "probe" }, { "t", "win.tool", "arrow" },
  { "<Control>z", "win.undo", NULL },
  /* Redo: the first is the one shown; Shift+Ctrl+Z with Shift's capital
   * is bound beside these (gtk_accelerator_parse () lowers it). */
  { "<Control><Shift>z", "win.redo", NULL }, { "<Control>y", "win.redo", NULL },
  { "<Control>o", "win.open", NULL },
  { "<Alt>1", "win.layout", "single" }, { "<Alt>2", "win.layout", "side" },
  { "<Alt>3", "win.layout", "mpr" }, { "<Alt>4", "win.layout", "grid" },
  { "i", "win.invert", NULL }, { "r", "win.reset", NULL },
  { "plus", "win.zoom-in", NULL }, { "equal", "win.zoom-in", NULL },
  { "minus", "win.zoom-out", NULL },
};
const guint rr_window_n_accels = G_N_ELEMENTS (rr_window_accels);
