/* rr-thumbnail.c: a slice of a volume as a texture, windowed on the CPU,
 * for the series list. */
#include "rr-thumbnail.h"

GdkTexture *
rr_slice_texture (RrVolume *volume,
                  guint     k,
                  double    center,
                  double    width)
{
  guint nx = volume->dims[0], ny = volume->dims[1];
  gsize n = (gsize) nx * ny;
  guint8 *rgba = g_malloc (n * 4);
  double lo = center - width / 2, scale = 255.0 / MAX (width, 1e-6);
  g_autoptr (GBytes) bytes = NULL;

  k = MIN (k, volume->dims[2] - 1);
  for (gsize p = 0; p < n; p++)
    {
      guint8 r, g, b;
      if (volume->type == RR_VOXEL_RGB8)
        {
          const guint8 *px = (const guint8 *) rr_volume_slice_data (volume, k) + p * 3;
          r = px[0], g = px[1], b = px[2];
        }
      else
        {
          double v = volume->type == RR_VOXEL_INT16
                       ? ((const gint16 *) rr_volume_slice_data (volume, k))[p]
                       : ((const float *) rr_volume_slice_data (volume, k))[p];
          double t = (v - lo) * scale;
          guint8 grey = t <= 0 ? 0 : t >= 255 ? 255 : (guint8) t;
          if (volume->invert)
            grey = 255 - grey;
          r = g = b = grey;
        }
      rgba[p * 4 + 0] = r;
      rgba[p * 4 + 1] = g;
      rgba[p * 4 + 2] = b;
      rgba[p * 4 + 3] = 255;
    }
  bytes = g_bytes_new_take (rgba, n * 4);
  return gdk_memory_texture_new (nx, ny, GDK_MEMORY_R8G8B8A8, bytes, (gsize) nx * 4);
}

