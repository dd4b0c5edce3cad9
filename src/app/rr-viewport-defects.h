/* rr-viewport-defects.h: QC's defect tools on the viewport: a point, a
 * line and a rectangle on any image, beside the caliper tools. */
#pragma once

#include "rr-viewport.h"

G_BEGIN_DECLS

/* The tools rr_viewport_set_tool () takes for defects. A point is a probe
 * and a line a length (their drawing and editing are the calipers'); the
 * rectangle is drawn corner to corner along the screen's axes and kept as
 * a closed four-corner outline (RR_MEASURE_FREEHAND). */
#define RR_TOOL_DEFECT_POINT RR_MEASURE_PROBE
#define RR_TOOL_DEFECT_LINE  RR_MEASURE_LENGTH
#define RR_TOOL_DEFECT_RECT  (RR_MEASURE_N_KINDS + 1)

gboolean       rr_viewport_defects_is_rect   (int            tool);
/* The name of tool @tool as its button says it ("Rectangle"; with
 * markers, "Point" and "Line"), for the view's description. */
const char    *rr_viewport_defects_tool_name (RrViewport    *view,
                                              int            tool);
/* The view's shapes are defect markers, not measurements: drawn without
 * values (no length, area or statistics beside them). Set before the
 * view draws. */
void           rr_viewport_defects_set_markers (RrViewport    *view,
                                                gboolean       markers);
/* A rectangle of no size at @p, on @plane's plane. */
RrMeasurement *rr_viewport_defects_new_rect  (const RrPlane *plane,
                                              RrVec3         p);
/* The rectangle from corner @origin to corner @p along @plane's axes. */
void           rr_viewport_defects_drag_rect (RrMeasurement *m,
                                              RrVec3         origin,
                                              RrVec3         p,
                                              const RrPlane *plane);
/* TRUE when @m is a rectangle as drawn: four corners whose sides run
 * along its plane's right and down axes. */
gboolean       rr_viewport_defects_is_rect_shape (const RrMeasurement *m);
/* Moves corner @i of rectangle @m to @p (in its plane): the opposite
 * corner stays and the two adjacent corners follow, so that it stays a
 * rectangle along its plane's axes. */
void           rr_viewport_defects_move_corner   (RrMeasurement *m,
                                                  guint          i,
                                                  RrVec3         p);
/* The finding's shape of server-api.md for @m: its type ("point", "rect",
 * "line") and points as [column, row] in the image's pixels (rounded to a
 * tenth), from @volume's geometry. A rectangle gives two opposite
 * corners. NULL when @m is no defect shape. */
char          *rr_viewport_defects_shape_json (const RrMeasurement *m,
                                               const RrVolume      *volume);
/* The image @m marks: the acquired slice of @volume nearest its plane,
 * when it is drawn parallel to the slices. FALSE otherwise. */
gboolean       rr_viewport_defects_image      (const RrMeasurement *m,
                                               const RrVolume      *volume,
                                               const char         **sop,
                                               guint               *frame);
/* A finding's @shape_json read: its @type ("point", "line", "rect"; a
 * static string) and its points as @cr = { column, row, column, row }
 * (a point's second pair is its first). FALSE when it is not one of
 * server-api.md's shapes. */
gboolean       rr_viewport_defects_parse_shape (const char     *shape_json,
                                                const char    **type,
                                                double          cr[4]);
/* The other way: a finding's @shape_json on image @sop of @volume back
 * to a measurement with id @id, to draw (a query's findings, a signed
 * decision). NULL when the image is not in @volume or the shape is not
 * one of server-api.md's. */
RrMeasurement *rr_viewport_defects_from_shape (const char     *shape_json,
                                               const RrVolume *volume,
                                               const char     *sop,
                                               const char     *id);

G_END_DECLS
