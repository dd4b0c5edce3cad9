/* rr-wrap-box.c: each child at its natural width (at least its minimum,
 * at most the row), packed from the start; a child that does not fit
 * beside the one before starts a new row. Rows are as tall as their
 * tallest child; "spacing" goes between children and between rows. */
#include "rr-wrap-box.h"

#include <adwaita.h>

struct _RrWrapBox
{
  GtkWidget parent_instance;
  int spacing;
  int last_width;       /* allocated, to refold the sidebar only on a change */
  guint refold_source;
};

G_DEFINE_FINAL_TYPE (RrWrapBox, rr_wrap_box, GTK_TYPE_WIDGET)

enum { PROP_0, PROP_SPACING, N_PROPS };

static int
child_width (GtkWidget *child,
             int        width)
{
  int min, nat;
  gtk_widget_measure (child, GTK_ORIENTATION_HORIZONTAL, -1, &min, &nat, NULL, NULL);
  return MAX (min, MIN (nat, width));
}

/* Lays the children out in @width; places them when @allocate. Returns
 * the height used. */
static int
layout (RrWrapBox *self,
        int        width,
        gboolean   allocate)
{
  int x = 0, y = 0, row_height = 0;
  gboolean row_empty = TRUE;

  for (GtkWidget *c = gtk_widget_get_first_child (GTK_WIDGET (self)); c;
       c = gtk_widget_get_next_sibling (c))
    {
      int w, h;
      if (!gtk_widget_should_layout (c))
        continue;
      w = child_width (c, width);
      if (!row_empty && x + self->spacing + w > width)
        {
          y += row_height + self->spacing;
          x = 0;
          row_height = 0;
          row_empty = TRUE;
        }
      if (!row_empty)
        x += self->spacing;
      gtk_widget_measure (c, GTK_ORIENTATION_VERTICAL, w, &h, NULL, NULL, NULL);
      if (allocate)
        {
          /* The row's tallest sets its height, known only at its end: a
           * child is given its own height here, which the tool bar's
           * (all one height) does not mind. */
          GtkAllocation a = { x, y, w, h };
          gtk_widget_size_allocate (c, &a, -1);
        }
      x += w;
      row_height = MAX (row_height, h);
      row_empty = FALSE;
    }
  return row_empty && y == 0 ? 0 : y + row_height;
}

static GtkSizeRequestMode
rr_wrap_box_get_request_mode (GtkWidget *widget)
{
  return GTK_SIZE_REQUEST_HEIGHT_FOR_WIDTH;
}

static void
rr_wrap_box_measure (GtkWidget      *widget,
                     GtkOrientation  orientation,
                     int             for_size,
                     int            *minimum,
                     int            *natural,
                     int            *minimum_baseline,
                     int            *natural_baseline)
{
  RrWrapBox *self = RR_WRAP_BOX (widget);

  *minimum = *natural = 0;
  if (orientation == GTK_ORIENTATION_HORIZONTAL)
    {
      /* At least the widest child; at best all in one row. */
      int n = 0;
      for (GtkWidget *c = gtk_widget_get_first_child (widget); c;
           c = gtk_widget_get_next_sibling (c))
        {
          int min, nat;
          if (!gtk_widget_should_layout (c))
            continue;
          gtk_widget_measure (c, GTK_ORIENTATION_HORIZONTAL, -1, &min, &nat, NULL, NULL);
          *minimum = MAX (*minimum, min);
          *natural += nat + (n++ ? self->spacing : 0);
        }
      return;
    }
  if (for_size < 0)
    {
      int min_width, nat_width;
      rr_wrap_box_measure (widget, GTK_ORIENTATION_HORIZONTAL, -1, &min_width, &nat_width,
                           NULL, NULL);
      for_size = min_width;
    }
  *minimum = *natural = layout (self, for_size, FALSE);
}

/* The series sidebar (an AdwFlap around the viewer) folds when the tools
 * would wrap beside it, and comes back when they fit in one row with it:
 * the viewer's width first, the sidebar a key (F9) away. AdwFlap's own
 * rule (fold below the content's minimum) now that the tools can wrap
 * would keep it open down to 860 px and squeeze the viewer. */
static gboolean
refold (gpointer data)
{
  RrWrapBox *self = data;
  GtkWidget *flap = gtk_widget_get_ancestor (GTK_WIDGET (self), ADW_TYPE_FLAP);
  int width = gtk_widget_get_width (GTK_WIDGET (self));
  int natural, side;

  self->refold_source = 0;
  if (flap == NULL || adw_flap_get_flap (ADW_FLAP (flap)) == NULL || width <= 0)
    return G_SOURCE_REMOVE;
  gtk_widget_measure (GTK_WIDGET (self), GTK_ORIENTATION_HORIZONTAL, -1, NULL, &natural,
                      NULL, NULL);
  gtk_widget_measure (adw_flap_get_flap (ADW_FLAP (flap)), GTK_ORIENTATION_HORIZONTAL, -1,
                      &side, NULL, NULL, NULL);
  if (!adw_flap_get_folded (ADW_FLAP (flap)) && width < natural)
    adw_flap_set_fold_policy (ADW_FLAP (flap), ADW_FLAP_FOLD_POLICY_ALWAYS);
  else if (adw_flap_get_fold_policy (ADW_FLAP (flap)) == ADW_FLAP_FOLD_POLICY_ALWAYS &&
           width - side - 1 >= natural)   /* 1: the flap's separator */
    adw_flap_set_fold_policy (ADW_FLAP (flap), ADW_FLAP_FOLD_POLICY_AUTO);
  return G_SOURCE_REMOVE;
}

static void
rr_wrap_box_size_allocate (GtkWidget *widget,
                           int        width,
                           int        height,
                           int        baseline)
{
  RrWrapBox *self = RR_WRAP_BOX (widget);
  layout (self, width, TRUE);
  /* Not from here: a fold changes the sizes being allocated. */
  if (width != self->last_width && self->refold_source == 0)
    self->refold_source = g_idle_add (refold, self);
  self->last_width = width;
}

static void
rr_wrap_box_dispose (GObject *object)
{
  GtkWidget *c;
  g_clear_handle_id (&RR_WRAP_BOX (object)->refold_source, g_source_remove);
  while ((c = gtk_widget_get_first_child (GTK_WIDGET (object))))
    gtk_widget_unparent (c);
  G_OBJECT_CLASS (rr_wrap_box_parent_class)->dispose (object);
}

static void
rr_wrap_box_get_property (GObject    *object,
                          guint       prop_id,
                          GValue     *value,
                          GParamSpec *pspec)
{
  if (prop_id == PROP_SPACING)
    g_value_set_int (value, RR_WRAP_BOX (object)->spacing);
  else
    G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
}

static void
rr_wrap_box_set_property (GObject      *object,
                          guint         prop_id,
                          const GValue *value,
                          GParamSpec   *pspec)
{
  RrWrapBox *self = RR_WRAP_BOX (object);
  if (prop_id == PROP_SPACING)
    {
      self->spacing = g_value_get_int (value);
      gtk_widget_queue_resize (GTK_WIDGET (self));
    }
  else
    G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
}

static void
rr_wrap_box_class_init (RrWrapBoxClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = rr_wrap_box_dispose;
  object_class->get_property = rr_wrap_box_get_property;
  object_class->set_property = rr_wrap_box_set_property;
  widget_class->get_request_mode = rr_wrap_box_get_request_mode;
  widget_class->measure = rr_wrap_box_measure;
  widget_class->size_allocate = rr_wrap_box_size_allocate;
  g_object_class_install_property (object_class, PROP_SPACING,
    g_param_spec_int ("spacing", NULL, NULL, 0, G_MAXINT16, 0,
                      G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY));
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_TOOLBAR);
}

static void
rr_wrap_box_init (RrWrapBox *self)
{
}
