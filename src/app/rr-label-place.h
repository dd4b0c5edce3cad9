/* rr-label-place.h: where a caliper's label goes so that it covers no
 * label already drawn on its pane (the prior's calipers sit close). Plain
 * arithmetic on widget pixels, no GTK. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct
{
  double x, y, w, h;       /* top left, size */
} RrLabelBox;

/* Moves @box up or down, the least distance, off every box in @placed
 * (RrLabelBox) while it stays inside @bounds; left where it is when no
 * such place exists. Then adds it to @placed. */
void rr_label_place (GArray           *placed,
                     RrLabelBox       *box,
                     const RrLabelBox *bounds);

G_END_DECLS
