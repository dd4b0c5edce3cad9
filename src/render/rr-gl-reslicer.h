/* rr-gl-reslicer.h: GPU reslicing: a volume uploaded once as a 3D texture
 * and any number of planes drawn from it with the reslice shader. Every
 * call needs the owning GL context current. */
#pragma once

#include <glib.h>
#include "rr-volume.h"
#include "rr-reslice.h"
#include "rr-colormap.h"

G_BEGIN_DECLS

#define RR_RENDER_ERROR (rr_render_error_quark ())
GQuark rr_render_error_quark (void);

typedef enum
{
  RR_RENDER_ERROR_SHADER,
  RR_RENDER_ERROR_TOO_LARGE,
  RR_RENDER_ERROR_UNSUPPORTED,
} RrRenderError;

typedef struct _RrGlVolume RrGlVolume;
typedef struct _RrGlReslicer RrGlReslicer;

typedef struct
{
  double center;
  double width;
  gboolean invert;
  RrColormap colormap;
  double opacity;       /* 1: opaque; below 1 blends over what is drawn */
} RrGlLook;

/* Uploads @volume (kept referenced). Fails when it exceeds the texture
 * limits or the stack is not regular; callers then render on the CPU. */
RrGlVolume   *rr_gl_volume_new      (RrVolume  *volume,
                                     GError   **error);
/* The same, with the texture's storage only: rr_gl_volume_upload then
 * fills it a part at a time, so that no frame waits for all of it. */
RrGlVolume   *rr_gl_volume_new_deferred (RrVolume  *volume,
                                         GError   **error);
/* Uploads slices for about @budget_us; TRUE once all are in. */
gboolean      rr_gl_volume_upload   (RrGlVolume *glv,
                                     gint64      budget_us);
/* The factors that bring @volume within @max_3d voxels per axis and
 * @budget bytes (halving its longest axis until it fits); all 1 when it
 * fits already. No GL: callable from any thread. */
void          rr_gl_fit_factors     (const RrVolume *volume,
                                     guint           max_3d,
                                     gsize           budget,
                                     guint           factor[3]);
/* GL_MAX_3D_TEXTURE_SIZE of the current context. */
guint         rr_gl_max_3d_size     (void);

/* Uploads @volume, down-sampled (by the factors it reports) when it
 * exceeds the 3D texture limit or @budget bytes of GPU memory. */
RrGlVolume   *rr_gl_volume_new_within (RrVolume  *volume,
                                       gsize      budget,
                                       guint      factor[3],
                                       GError   **error);
void          rr_gl_volume_free     (RrGlVolume *glv);
/* The texture's size as the driver reports it. */
gsize         rr_gl_volume_bytes    (const RrGlVolume *glv);
RrVolume     *rr_gl_volume_get      (RrGlVolume *glv);

RrGlReslicer *rr_gl_reslicer_new    (GError      **error);
void          rr_gl_reslicer_free   (RrGlReslicer *reslicer);
/* Draws the program once, into a pixel of its own, with the state a
 * 16-bit volume's image is drawn with in a GtkGLArea: a software driver
 * (llvmpipe) builds the program's code for that state at its first draw
 * (a process's first: 110 ms and more on a loaded machine; in a context
 * made after the application's warm-up on a worker, about 10 ms), so that
 * this draw, made before a volume is opened, spares the first image of a
 * task. */
void          rr_gl_reslicer_warm   (RrGlReslicer *reslicer);
/* The same with a volume of @type and @dims: the driver's code depends on
 * the texture's format and on whether each side is a power of two. */
void          rr_gl_reslicer_warm_volume (RrGlReslicer *reslicer,
                                          RrVoxelType   type,
                                          const guint   dims[3]);
/* Draws @plane of @glv into the viewport at (@x, @y) of the current
 * framebuffer, plane->width x plane->height pixels. */
void          rr_gl_reslicer_draw   (RrGlReslicer   *reslicer,
                                     RrGlVolume     *glv,
                                     const RrPlane  *plane,
                                     const RrGlLook *look,
                                     int             x,
                                     int             y);

G_END_DECLS
