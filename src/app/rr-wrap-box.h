/* rr-wrap-box.h: children in a row, left to right, that go on to another
 * row when the width runs out: the viewer's tool bar, so that a narrow
 * window wraps its tools instead of refusing to be narrower. (GTK 4.8 has
 * no wrap box; GtkFlowBox spreads its children over the row's width and
 * misjudges its natural width.) */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define RR_TYPE_WRAP_BOX (rr_wrap_box_get_type ())
G_DECLARE_FINAL_TYPE (RrWrapBox, rr_wrap_box, RR, WRAP_BOX, GtkWidget)

G_END_DECLS
