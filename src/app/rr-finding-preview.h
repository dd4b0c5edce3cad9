/* rr-finding-preview.h: one QC finding drawn on the image it marks, as a
 * picture: the image windowed and its shape (point, line, rectangle, in
 * the image's pixels) over it in the measurement colour. The site sees a
 * query's findings so on the upload page. */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define RR_TYPE_FINDING_PREVIEW (rr_finding_preview_get_type ())
G_DECLARE_FINAL_TYPE (RrFindingPreview, rr_finding_preview, RR, FINDING_PREVIEW, GtkWidget)

/* @texture: the image, one texel a pixel; @aspect: the height of a pixel
 * over its width (row over column spacing); @shape_json: server-api.md's
 * shape, or NULL (the image alone); @name: what a screen reader says. */
GtkWidget *rr_finding_preview_new (GdkTexture *texture,
                                   double      aspect,
                                   const char *shape_json,
                                   const char *name);

G_END_DECLS
