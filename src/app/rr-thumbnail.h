/* rr-thumbnail.h: a slice of a volume as a texture, windowed on the CPU,
 * for thumbnails in the series list. */
#pragma once

#include <gtk/gtk.h>
#include "rr-volume.h"

G_BEGIN_DECLS

GdkTexture *rr_slice_texture (RrVolume *volume,
                              guint     k,
                              double    center,
                              double    width);

G_END_DECLS
