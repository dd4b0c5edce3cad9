/* rr-label-place.c: labels kept off each other. The candidates are the
 * wanted place and the places just above and just below each box drawn
 * already; the nearest free one inside the pane wins. */
#include "rr-label-place.h"

#include <math.h>

#define GAP 2.0            /* pixels between two labels */

static gboolean
overlaps (const RrLabelBox *a,
          const RrLabelBox *b)
{
  return a->x < b->x + b->w && b->x < a->x + a->w &&
         a->y < b->y + b->h + GAP && b->y < a->y + a->h + GAP;
}

static gboolean
is_free (GArray           *placed,
         const RrLabelBox *box,
         const RrLabelBox *bounds)
{
  if (box->y < bounds->y || box->y + box->h > bounds->y + bounds->h)
    return FALSE;
  for (guint i = 0; i < placed->len; i++)
    if (overlaps (box, &g_array_index (placed, RrLabelBox, i)))
      return FALSE;
  return TRUE;
}

void
rr_label_place (GArray           *placed,
                RrLabelBox       *box,
                const RrLabelBox *bounds)
{
  RrLabelBox best = *box, c = *box;
  double best_d = G_MAXDOUBLE;

  if (is_free (placed, box, bounds))
    best_d = 0;
  for (guint i = 0; best_d > 0 && i < placed->len; i++)
    {
      const RrLabelBox *o = &g_array_index (placed, RrLabelBox, i);
      double ys[2] = { o->y + o->h + GAP, o->y - box->h - GAP };
      for (guint k = 0; k < 2; k++)
        {
          c.y = ys[k];
          if (fabs (c.y - box->y) < best_d && is_free (placed, &c, bounds))
            {
              best = c;
              best_d = fabs (c.y - box->y);
            }
        }
    }
  *box = best;
  g_array_append_val (placed, *box);
}
