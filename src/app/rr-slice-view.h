/* rr-slice-view.h: a CPU 2D view of one volume: scroll through slices,
 * window/level by drag; drawn with the pixel aspect from patient spacing. */
#pragma once

#include <gtk/gtk.h>
#include "rr-volume.h"

G_BEGIN_DECLS

#define RR_TYPE_SLICE_VIEW (rr_slice_view_get_type ())
G_DECLARE_FINAL_TYPE (RrSliceView, rr_slice_view, RR, SLICE_VIEW, GtkWidget)

GtkWidget *rr_slice_view_new         (void);
void       rr_slice_view_set_volume  (RrSliceView *self,
                                      RrVolume    *volume);
RrVolume  *rr_slice_view_get_volume  (RrSliceView *self);
void       rr_slice_view_set_slice   (RrSliceView *self,
                                      int          slice);
int        rr_slice_view_get_slice   (RrSliceView *self);
void       rr_slice_view_set_window  (RrSliceView *self,
                                      double       center,
                                      double       width);
void       rr_slice_view_get_window  (RrSliceView *self,
                                      double      *center,
                                      double      *width);
void       rr_slice_view_scroll      (RrSliceView *self,
                                      int          delta);

/* Renders slice k of a volume to RGBA with the given window (used by the
 * view and by thumbnails). */
GdkTexture *rr_slice_texture         (RrVolume *volume,
                                      guint     k,
                                      double    center,
                                      double    width);

G_END_DECLS
