/* rr-viewport.h: the multi-planar viewer: one GL area drawing one or
 * several planes of a volume (1x1 or axial/coronal/sagittal MPR with a
 * linked crosshair), overlays above it, and a CPU fallback. */
#pragma once

#include <gtk/gtk.h>
#include "rr-volume.h"
#include "rr-reslice.h"
#include "rr-measurement-history.h"
#include "rr-gl-reslicer.h"
#include "rr-measure-text.h"

G_BEGIN_DECLS

typedef enum
{
  RR_LAYOUT_SINGLE,   /* one plane */
  RR_LAYOUT_MPR,      /* axial, coronal, sagittal */
  RR_LAYOUT_SIDE,     /* two planes side by side (1x2) */
  RR_LAYOUT_GRID,     /* 2x2: the MPR planes and a 3 cm MIP */
} RrLayout;

#define RR_TYPE_VIEWPORT (rr_viewport_get_type ())
G_DECLARE_FINAL_TYPE (RrViewport, rr_viewport, RR, VIEWPORT, GtkGLArea)

GtkWidget *rr_viewport_new            (void);
void       rr_viewport_set_volume     (RrViewport *self,
                                       RrVolume   *volume);
RrVolume  *rr_viewport_get_volume     (RrViewport *self);
void       rr_viewport_set_layout     (RrViewport *self,
                                       RrLayout    layout);
RrLayout   rr_viewport_get_layout     (RrViewport *self);
/* The patient point all planes pass through (the crosshair). */
void       rr_viewport_set_point      (RrViewport *self,
                                       RrVec3      point);
RrVec3     rr_viewport_get_point      (RrViewport *self);
void       rr_viewport_set_window     (RrViewport *self,
                                       double      center,
                                       double      width);
void       rr_viewport_get_window     (RrViewport *self,
                                       double     *center,
                                       double     *width);
/* Moves the active pane's plane by @n slices along its normal. */
void       rr_viewport_scroll         (RrViewport *self,
                                       int         n);
void       rr_viewport_apply_preset   (RrViewport *self,
                                       int         preset);
void       rr_viewport_zoom           (RrViewport *self,
                                       double      factor);
void       rr_viewport_reset          (RrViewport *self);
/* Turns the crosshair of the active pane: the other panes become oblique
 * planes rotated about its normal. */
void       rr_viewport_rotate         (RrViewport *self,
                                       double      degrees);
void       rr_viewport_toggle_invert  (RrViewport *self);
/* Plays the stack's frames at their frame time (space). */
void       rr_viewport_toggle_cine    (RrViewport *self);
/* Draws @overlay (PET) over the volume in hot iron at half opacity, on
 * the same patient planes; NULL removes it. */
void       rr_viewport_set_fusion     (RrViewport *self,
                                       RrVolume   *overlay);
/* Shows @volume (another study: a prior) beside the volume in the 1x2
 * layout, on the same plane, scrolling with it; NULL removes it. The
 * labels name the two in their captions ("Study 1", "Baseline"). */
void       rr_viewport_set_compare    (RrViewport *self,
                                       RrVolume   *volume,
                                       const char *current_label,
                                       const char *label);
/* When the comparison is the series @series_uid: puts its pane on @point
 * (of that series) and the volume's at the same place, linked as they
 * scroll. FALSE when another series (or none) is compared. */
gboolean   rr_viewport_show_in_compare (RrViewport *self,
                                        const char *series_uid,
                                        RrVec3      point);
/* Whether the comparison's pane scrolls with the volume's ("linked", the
 * default). Unlinked, each pane scrolls alone; linked again, the offset
 * between the two panes' points is kept ("link here"), for the pair of
 * series, until rr_viewport_forget_links (). Property "linked"; property
 * "comparing" says whether there is a comparison to link. */
void       rr_viewport_set_linked     (RrViewport *self,
                                       gboolean    linked);
gboolean   rr_viewport_get_linked     (RrViewport *self);
void       rr_viewport_forget_links   (RrViewport *self);
/* The offsets the reader linked pairs of series by ("link here"), as
 * JSON for the task's draft (rr_link_kept_to_json ()); signal
 * "link-kept" says one was set. rr_viewport_keep_links () takes them back
 * when the task opens again (NULL: none; a document of another shape
 * keeps nothing, with a warning). */
char      *rr_viewport_get_kept_links (RrViewport *self);
void       rr_viewport_keep_links     (RrViewport *self,
                                       const char *json);
/* The measurements drawn on the comparison's pane, read-only (the
 * reader's earlier readings of that series; copied; NULL: none). */
void       rr_viewport_set_compare_measurements (RrViewport *self,
                                                 GPtrArray  *measurements);
/* The Series Instance UID of the comparison shown, or NULL. */
const char *rr_viewport_get_compare_series (RrViewport *self);
/* The active pane's slab: RR_SLAB_NONE for a thin plane, or MIP, MinIP
 * or mean over @mm millimetres about it. */
void       rr_viewport_set_slab       (RrViewport *self,
                                       RrSlabMode  mode,
                                       double      mm);
void       rr_viewport_get_slab       (RrViewport *self,
                                       RrSlabMode *mode,
                                       double     *mm);
/* Turns the active pane's image by quarter turns (clockwise positive), or
 * mirrors it left-right (@horizontal) or top-bottom, as shown on screen. */
void       rr_viewport_turn           (RrViewport *self,
                                       int         quarter_turns);
void       rr_viewport_flip           (RrViewport *self,
                                       gboolean    horizontal);
/* The colour map of the base volume (grey, hot iron, PET). */
void       rr_viewport_set_colormap   (RrViewport *self,
                                       RrColormap  map);
RrColormap rr_viewport_get_colormap   (RrViewport *self);
/* Measurement tools: an RrMeasureKind, or navigation (drag for window
 * and level, click for the crosshair). */
#define RR_TOOL_NAVIGATE (-1)
void       rr_viewport_set_tool       (RrViewport *self,
                                       int         tool);
int        rr_viewport_get_tool       (RrViewport *self);
/* The measurements drawn over the volume (owned by the caller, who saves
 * each change). Call rr_viewport_measurements_changed () after changing
 * the history other than through the view (undo, the list). */
void       rr_viewport_set_history    (RrViewport           *self,
                                       RrMeasurementHistory *history);
void       rr_viewport_measurements_changed (RrViewport *self);
const char *rr_viewport_get_selected  (RrViewport *self);
/* A signed (submitted) read: the measurements are shown and can be
 * selected (to go to them), but draw no handles and take no drags, so
 * nothing suggests they can still change. */
void       rr_viewport_set_locked     (RrViewport *self,
                                       gboolean    locked);
/* Each measurement's own colour: @colors maps its id to a GdkRGBA (kept
 * by reference; NULL: all in the default colour). Two readers' calipers
 * on one image stay told apart. */
void       rr_viewport_set_colors     (RrViewport *self,
                                       GHashTable *colors);
/* Names each caliper's lesion beside it ("T1"): @func (NULL: none) is
 * asked at every drawing, so a lesion made or renumbered shows at the
 * next; call gtk_widget_queue_draw () when they change. */
void       rr_viewport_set_lesion_names (RrViewport       *self,
                                         RrLesionNameFunc  func,
                                         gpointer          user_data);
/* Selects the measurement and brings its plane and slice into view. */
void       rr_viewport_show_measurement (RrViewport *self,
                                         const char *id);
/* What the active pane shows, in words ("Axial · slice 21 / 40 · ..."). */
char      *rr_viewport_describe       (RrViewport *self);

G_END_DECLS
