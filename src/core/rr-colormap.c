/* rr-colormap.c: hot iron and a PET rainbow, as 256-entry RGB tables. */
#include "rr-colormap.h"

#include <math.h>

void
rr_colormap_table (RrColormap map,
                   guint8     rgb[256 * 3])
{
  for (int i = 0; i < 256; i++)
    {
      double t = i / 255.0;
      double r, g, b;
      if (map == RR_COLORMAP_HOT_IRON)
        {
          r = CLAMP (t * 2.0, 0, 1);
          g = CLAMP (t * 2.0 - 0.5, 0, 1);
          b = CLAMP (t * 4.0 - 3.0, 0, 1);
        }
      else if (map == RR_COLORMAP_PET)
        {
          r = CLAMP (1.5 - fabs (4 * t - 3), 0, 1) + (t > 0.85 ? (t - 0.85) * 6.6 : 0);
          g = CLAMP (1.5 - fabs (4 * t - 2), 0, 1) + (t > 0.85 ? (t - 0.85) * 6.6 : 0);
          b = CLAMP (1.5 - fabs (4 * t - 1), 0, 1) * (t < 0.1 ? t * 10 : 1);
        }
      else
        r = g = b = t;
      rgb[i * 3 + 0] = (guint8) (CLAMP (r, 0, 1) * 255 + 0.5);
      rgb[i * 3 + 1] = (guint8) (CLAMP (g, 0, 1) * 255 + 0.5);
      rgb[i * 3 + 2] = (guint8) (CLAMP (b, 0, 1) * 255 + 0.5);
    }
}
