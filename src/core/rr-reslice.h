/* rr-reslice.h: the CPU reslicer: any plane (and slab) through a volume,
 * sampled trilinearly in patient millimetres. The reference the GL viewer
 * is tested against, and its fallback. */
#pragma once

#include <glib.h>
#include "rr-volume.h"

G_BEGIN_DECLS

typedef enum
{
  RR_PLANE_AXIAL,
  RR_PLANE_CORONAL,
  RR_PLANE_SAGITTAL,
} RrPlaneKind;

typedef enum
{
  RR_SLAB_NONE,
  RR_SLAB_MIP,
  RR_SLAB_MINIP,
  RR_SLAB_MEAN,
} RrSlabMode;

/* A view: the patient point at the image centre, the patient directions of
 * the image's +x (right) and +y (down) axes, and the pixel size. The view
 * looks along right x down (radiological convention: axial from the feet,
 * coronal from the front, sagittal from the patient's left). */
typedef struct
{
  RrVec3 center;
  RrVec3 right;
  RrVec3 down;
  double mm_per_pixel;
  guint width;
  guint height;
  RrSlabMode slab_mode;
  double slab_mm;
} RrPlane;

void      rr_plane_init_standard (RrPlane     *plane,
                                  RrPlaneKind  kind,
                                  RrVec3       center,
                                  double       mm_per_pixel,
                                  guint        width,
                                  guint        height);
/* An oblique plane from its viewing direction and the patient direction
 * shown up. FALSE when the two are parallel. */
gboolean  rr_plane_init_oblique  (RrPlane *plane,
                                  RrVec3   normal,
                                  RrVec3   up,
                                  RrVec3   center,
                                  double   mm_per_pixel,
                                  guint    width,
                                  guint    height);
RrVec3    rr_plane_normal        (const RrPlane *plane);
RrVec3    rr_plane_pixel_to_patient (const RrPlane *plane,
                                     double         x,
                                     double         y);
/* The pixel size that fits the whole volume into the plane's image. */
double    rr_plane_fit_mm_per_pixel (const RrPlane  *plane,
                                     const RrVolume *volume);

/* Orientation letters for a patient direction ("L", "PS", ...): the
 * dominant axes, largest first (components under 0.3 are left out). */
char     *rr_orientation_label   (RrVec3 direction);

/* Resamples @volume on @plane into @out (width x height floats, modality
 * values; RGB volumes give luminance). Points outside the volume get
 * @outside. Uses up to @n_threads threads (0: one per core). Regular
 * int16 and float volumes take a fast path (fixed-point stepping, no
 * bounds checks inside the volume) that agrees with the reference below
 * to float rounding; other volumes use the reference. */
void      rr_reslice             (const RrVolume *volume,
                                  const RrPlane  *plane,
                                  float           outside,
                                  guint           n_threads,
                                  float          *out);
/* The reference reslicer: each sample on its own, bounds-checked in
 * doubles. What the fast path and the GL reslicer are tested against. */
void      rr_reslice_reference   (const RrVolume *volume,
                                  const RrPlane  *plane,
                                  float           outside,
                                  guint           n_threads,
                                  float          *out);

/* The outside value that rr_window_to_grey () draws black, inverted or
 * not: use it to show where a view leaves the volume. */
#define RR_RESLICE_OUTSIDE (-G_MAXFLOAT)

/* Window/level to 8-bit grey. */
void      rr_window_to_grey      (const float *values,
                                  gsize        n,
                                  double       center,
                                  double       width,
                                  gboolean     invert,
                                  guint8      *out);

G_END_DECLS
