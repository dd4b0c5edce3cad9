/* rr-wrap-box.c: each child at its natural width (at least its minimum,
 * at most the row), packed from the start; a child that does not fit
 * beside the one before starts a new row. Rows are as tall as their
 * tallest child; "spacing" goes between children and between rows. */
#include "rr-wrap-box.h"

struct _RrWrapBox
{
  GtkWidget parent_instance;
  int spacing;
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

static void
rr_wrap_box_size_allocate (GtkWidget *widget,
                           int        width,
                           int        height,
                           int        baseline)
{
  layout (RR_WRAP_BOX (widget), width, TRUE);
}

static void
rr_wrap_box_dispose (GObject *object)
{
  GtkWidget *c;
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
