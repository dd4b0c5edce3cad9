/* rr-thumbnail.c: a slice of a volume as a texture, windowed on the CPU
 * with the same window function as every other view, for the series list. */
#include "rr-thumbnail.h"
#include "rr-reslice.h"

GdkTexture *
rr_slice_texture (RrVolume *volume,
                  guint     k,
                  double    center,
                  double    width)
{
  guint nx = volume->dims[0], ny = volume->dims[1];
  gsize n = (gsize) nx * ny;
  g_autofree guint8 *grey = NULL;
  guint8 *rgba = g_malloc (n * 4);
  g_autoptr (GBytes) bytes = NULL;
  const guint8 *rgb = NULL;

  k = MIN (k, volume->dims[2] - 1);
  if (volume->type == RR_VOXEL_RGB8)
    rgb = rr_volume_slice_data (volume, k);
  else
    {
      g_autofree float *values = g_new (float, n);
      for (gsize p = 0; p < n; p++)
        values[p] = volume->type == RR_VOXEL_INT16
                      ? ((const gint16 *) rr_volume_slice_data (volume, k))[p]
                      : ((const float *) rr_volume_slice_data (volume, k))[p];
      grey = g_malloc (n);
      rr_window_to_grey (values, n, center, width, volume->invert, grey);
    }
  for (gsize p = 0; p < n; p++)
    {
      rgba[p * 4 + 0] = rgb ? rgb[p * 3 + 0] : grey[p];
      rgba[p * 4 + 1] = rgb ? rgb[p * 3 + 1] : grey[p];
      rgba[p * 4 + 2] = rgb ? rgb[p * 3 + 2] : grey[p];
      rgba[p * 4 + 3] = 255;
    }
  bytes = g_bytes_new_take (rgba, n * 4);
  return gdk_memory_texture_new (nx, ny, GDK_MEMORY_R8G8B8A8, bytes, (gsize) nx * 4);
}
