/* rr-viewport-private.h: what the viewport's files share: its state, its
 * panes, and the helpers the measurement tools use. */
#pragma once

#include "rr-viewport.h"
#include "rr-measurement-history.h"
#include "rr-gl-reslicer.h"
#include "rr-link.h"

G_BEGIN_DECLS

#define MAX_PANES 4

typedef struct
{
  RrPlaneKind kind;     /* its orientation */
  double x, y, w, h;    /* in widget pixels */
  gboolean compare;     /* shows the comparison volume (prior beside current) */
} Pane;

/* A pane's image drawn by the CPU, kept while nothing it was made from
 * changes: the GPU's copy uploads over several frames, and an overlay-only
 * draw (a caption, a caliper) needs no new image. */
typedef struct
{
  cairo_surface_t *surface; /* NULL: none */
  RrVolume *volume;         /* a reference: the address cannot be reused */
  RrPlane plane;
  double center, width;
  gboolean invert;
  RrColormap colormap;
  int scale;                /* device pixels per widget pixel it was made at */
  gboolean coarse;          /* at the volume's resolution, scaled by cairo */
  RrVolume *fusion;         /* the volume blended over it, or NULL; a reference */
  double fusion_lo, fusion_hi, fusion_opacity;
} CpuImage;

struct _RrViewport
{
  GtkGLArea parent_instance;


  RrVolume *volume;
  RrGlVolume *glv;
  RrGlReslicer *reslicer;
  gboolean cpu_only;       /* GL is a software rasteriser: the CPU draws, no GL context
                              is made (rr_gl_probe_viewports_on_cpu) */
  char *fallback;          /* why the CPU draws when GL failed, NULL on the GPU */
  char *notice;            /* shown at the bottom: down-sampling... */
  guint max_3d;            /* the context's 3D texture limit */
  struct _RrGlLoader *loader; /* a worker's GL context, where textures are made */
  GCancellable *preparing; /* the GPU's copy is being made on a worker (down-sampled
                              first if the GPU cannot hold it) */
  gboolean uploading;      /* the GPU's copy is not all there: the CPU draws */
  guint upload_source;     /* ...and an idle uploads the rest, between frames */
  gboolean warming_up;     /* waits for the driver's warm-up on a worker (rr_gl_warm_up_async) */
  guint realize_source;    /* realizes the GL area while the window is idle */
  guint warm_source;       /* ...then makes the worker's context, opens the overlay's font */
  guint warm_step;         /* ...which of the two is next */
  RrVolume *prepared;      /* ...and here it is, to upload */
  CpuImage cpu_image[MAX_PANES]; /* what the CPU drew (meanwhile), per pane */
  float *cpu_values;       /* the CPU reslicer's output, kept between frames */
  guint8 *cpu_grey, *cpu_fused;
  gsize cpu_n;             /* ...their length in samples */
  guint refine_source;     /* draws again at the panes' own resolution, after a coarse first image */

  int alloc_w, alloc_h;     /* the last size allocated */
  RrLayout layout;
  Pane panes[MAX_PANES];
  guint n_panes;
  guint active;

  RrVec3 point;            /* the crosshair: every plane passes through it */
  double zoom;             /* 1: the volume fits the pane */
  double pan_x, pan_y;     /* mm */
  double center, width;
  gboolean invert;

  double drag_center, drag_width, drag_x, drag_y;
  gboolean dragged;
  guint cine_source;       /* playing frames at their frame time */

  RrMat3 rot[MAX_PANES];   /* each pane's rotation away from its standard plane */
  RrSlabMode slab[MAX_PANES];   /* each pane's slab (thin: RR_SLAB_NONE) */
  double slab_mm[MAX_PANES];
  int turns[MAX_PANES];    /* quarter turns clockwise of the displayed image */
  gboolean flip[MAX_PANES];  /* mirrored left-right (before turning) */
  RrColormap colormap;     /* of the base volume */
  gboolean crosshair_drag; /* the drag moves the crosshair */

  /* Measurements: the window owns the history (and saves it); the view
   * draws it and edits it. */
  RrMeasurementHistory *history;
  int tool;                /* an RrMeasureKind, or RR_TOOL_NAVIGATE */
  char *selected;          /* id of the selected measurement */
  GHashTable *colors;      /* measurement id -> GdkRGBA: its own colour (NULL: the default) */
  gboolean locked;         /* a signed read: select only (rr_viewport_set_locked ()) */
  gboolean markers_only;   /* QC's defect markers: outlines, no values (rr-viewport-defects.h) */
  RrLesionNameFunc lesion_name;  /* a caliper's lesion ("T1"), drawn beside it */
  gpointer lesion_name_data;
  RrMeasurement *live;     /* being drawn or edited: drawn instead of the saved one */
  gboolean live_new;       /* not in the history yet */
  int live_handle;         /* the handle dragged; -1: the whole; -2: drawing */
  RrMeasurement *live_start; /* as it was when the drag began */
  RrVec3 live_origin;      /* patient point where the drag began */
  gboolean angle_pending;  /* an angle's third point follows the pointer */
  gboolean measuring;      /* the current drag belongs to a measurement */
  gboolean hovering;
  double hover_x, hover_y; /* the pointer, for the probe's live value */
  GHashTable *values;      /* id -> cached values of a saved measurement */
  GtkWidget *text_popover; /* the arrow's label */
  GtkWidget *context_menu; /* a caliper's: lesion actions ("read.*", the form's) */
  GtkWidget *text_entry;

  RrVolume *compare;       /* another study beside the volume (1x2) */
  RrGlVolume *compare_glv;
  RrLink link;             /* where its pane is: linked to the crosshair, or alone */
  char *compare_label;
  char *current_label;
  GPtrArray *compare_measurements; /* RrMeasurement: drawn on its pane, read-only */
  double compare_center, compare_width;  /* its own window, when another modality */

  RrVolume *fusion;        /* drawn over the volume (PET over CT) */
  RrGlVolume *fusion_glv;
  double fusion_opacity;
  double fusion_lo, fusion_hi;  /* in the fused volume's stored values */
};

void     rr_viewport_redraw        (RrViewport *self);
/* Drops the CPU's images (rr-viewport-overlay.c). */
void     rr_viewport_clear_cpu_images (RrViewport *self);
/* The GL side's signal handlers (rr-viewport-gl.c), from init. */
void     rr_viewport_gl_init       (RrViewport *self);
/* Tab and Shift+Tab through the panes, then on (rr-viewport-focus.c). */
void     rr_viewport_focus_class_init (GtkWidgetClass *widget_class);
/* The window pane @i shows its volume through: a comparison of another
 * modality (PET beside CT) has its own, panes of one modality share one. */
void     rr_viewport_pane_window   (RrViewport *self,
                                    guint       i,
                                    double     *center,
                                    double     *width);
void     rr_viewport_set_pane_window (RrViewport *self,
                                      guint       i,
                                      double      center,
                                      double      width);
/* The comparison's window back to its images' own (DICOM or range). */
void     rr_viewport_reset_compare_window (RrViewport *self);
RrVolume *rr_viewport_pane_volume  (RrViewport *self,
                                    guint       i);
/* The patient point pane @i passes through: the crosshair, or for the
 * comparison's pane its linked (or its own) point. */
RrVec3   rr_viewport_pane_point    (RrViewport *self,
                                    guint       i);
void     rr_viewport_layout_panes  (RrViewport *self);
gboolean rr_viewport_pane_plane    (RrViewport *self,
                                    guint       i,
                                    double      scale,
                                    RrPlane    *pl);
guint    rr_viewport_pane_at       (RrViewport *self,
                                    double      x,
                                    double      y);
double   rr_viewport_step_mm       (RrViewport *self,
                                    RrVec3      normal);
void     rr_viewport_draw_text     (cairo_t    *cr,
                                    double      x,
                                    double      y,
                                    const char *text,
                                    double      align);

/* The orientation of pane @i: its standard plane, rotated, mirrored
 * and turned as shown. */
void     rr_viewport_pane_axes     (RrViewport *self,
                                    guint       i,
                                    RrPlane    *pl);

/* rr-viewport-caption.c */
/* "W 400 L 40"; "W 5.0 L 2.5 SUVbw" for a PET whose SUV is known. */
char     *rr_viewport_window_text  (RrViewport *self,
                                    guint       i);

/* rr-viewport-link.c */
/* The comparison has its own window: another modality, or a PET (each
 * PET opens in its own SUV). */
gboolean rr_viewport_compare_own_window (RrViewport *self);
/* The words for how the comparison's pane follows ("linked by
 * position"...), NULL without a comparison. */
const char *rr_viewport_link_text  (RrViewport *self);
/* The comparison or the volume changed: the link starts again. */
void     rr_viewport_link_changed  (RrViewport *self);
/* Registers the "link-kept" signal (rr_viewport_keep_links ()). */
void     rr_viewport_link_class_init (GtkWidgetClass *widget_class);
/* Unlinked: the comparison's pane (the active one) moves @n of its own
 * slices, alone. */
void     rr_viewport_link_scroll_prior (RrViewport *self,
                                        int         n);

/* rr-viewport-overlay.c */
const char *rr_viewport_kind_name  (RrPlaneKind kind);
const char *rr_viewport_slab_name  (RrSlabMode  mode);
/* The caption of pane @i: what it shows. */
char     *rr_viewport_pane_title   (RrViewport *self,
                                    guint       i);
/* "Im 16/30": the slice of pane @i in its volume's stack, when the pane
 * shows the stack's own plane; NULL otherwise. */
char     *rr_viewport_slice_text   (RrViewport *self,
                                    guint       i);
void     rr_viewport_draw_overlay  (RrViewport *self,
                                    cairo_t    *cr,
                                    int         width,
                                    int         height);

/* rr-viewport-tools.c */
/* @m's values (ROI statistics included), computed once per shape and
 * volume: the overlay redraws on every pointer move. */
const RrMeasureValues *rr_viewport_measure_values (RrViewport          *self,
                                                   const RrMeasurement *m);
void     rr_viewport_tools_volume_changed (RrViewport *self);
void     rr_viewport_tools_init    (RrViewport *self);
void     rr_viewport_tools_finalize (RrViewport *self);
void     rr_viewport_tools_class_init (GtkWidgetClass *widget_class);
void     rr_viewport_tools_draw    (RrViewport *self,
                                    cairo_t    *cr,
                                    guint       pane);
/* How many measurements pane @pane shows on its plane now. */
guint    rr_viewport_tools_n_shown (RrViewport *self,
                                    guint       pane);
/* A press at widget point (x, y): TRUE when a measurement takes the drag
 * (a handle, a shape, or a tool drawing a new one). */
gboolean rr_viewport_tools_press   (RrViewport *self,
                                    guint       button,
                                    double      x,
                                    double      y);
void     rr_viewport_tools_drag    (RrViewport *self,
                                    double      x,
                                    double      y);
void     rr_viewport_tools_release (RrViewport *self,
                                    double      x,
                                    double      y,
                                    gboolean    dragged);

G_END_DECLS
