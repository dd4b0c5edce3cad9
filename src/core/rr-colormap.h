/* rr-colormap.h: the colour maps a volume can be shown through, as the
 * 256-entry tables both the GL reslicer (a 1D texture) and the CPU's
 * image (a lookup per pixel) use, so that the two draw the same colours. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum
{
  RR_COLORMAP_GREY,
  RR_COLORMAP_HOT_IRON,
  RR_COLORMAP_PET,
} RrColormap;

#define RR_COLORMAP_COUNT 3

/* Fills @rgb with 256 RGB triples: entry k is the colour of grey level k. */
void rr_colormap_table (RrColormap map,
                        guint8     rgb[256 * 3]);

G_END_DECLS
