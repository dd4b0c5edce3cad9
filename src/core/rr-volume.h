/* rr-volume.h: a 3D image in patient space, the unit every view and
 * measurement works on. Reference-counted value type; no I/O. */
#pragma once

#include <glib.h>
#include "rr-geometry.h"

G_BEGIN_DECLS

#define RR_CORE_ERROR (rr_core_error_quark ())
GQuark rr_core_error_quark (void);

typedef enum
{
  RR_CORE_ERROR_INVALID,
  RR_CORE_ERROR_TOO_LARGE,
} RrCoreError;

typedef enum
{
  RR_VOXEL_INT16,   /* exact modality values (HU) */
  RR_VOXEL_FLOAT32, /* modality values that do not fit int16 exactly */
  RR_VOXEL_RGB8,    /* colour images: three bytes per voxel */
} RrVoxelType;

typedef enum
{
  RR_SUV_NOT_APPLICABLE, /* not a PET volume */
  RR_SUV_AVAILABLE,
  RR_SUV_UNAVAILABLE,    /* PET without what SUV needs; see suv_reason */
} RrSuvState;

/* Hard limits that bound every allocation made for a volume. */
#define RR_VOLUME_MAX_DIM      65535
#define RR_VOLUME_MAX_SLICES   100000
#define RR_VOLUME_MAX_BYTES    ((gsize) 16 << 30)

typedef struct _RrVolume RrVolume;

struct _RrVolume
{
  /*< private >*/
  gint ref_count;
  gboolean voxels_mapped;

  /*< public, read-only after construction >*/
  guint dims[3];        /* columns (i), rows (j), slices (k) */
  RrVoxelType type;
  gpointer voxels;      /* dims[0] * dims[1] * dims[2] voxels, i fastest */
  gsize n_bytes;

  double spacing[3];    /* mm between columns, rows, and (mean) slices */
  RrCalibration calibration; /* what spacing[0..1] rests on; NONE: pixels */
  RrVec3 row_dir;       /* unit vector along a row (increasing i) */
  RrVec3 col_dir;       /* unit vector down a column (increasing j) */
  RrVec3 normal;        /* row_dir x col_dir */
  RrVec3 *slice_pos;    /* patient position of voxel (0,0,k), per slice */
  double *slice_d;      /* slice_pos[k] . normal, strictly increasing */

  char **slice_sop;     /* SOP Instance UID of slice k, NULL for a gap */
  guint *slice_frame;   /* frame number (0-based) within that instance */

  double slice_thickness;
  char *modality;
  char *series_uid;
  char *description;
  char *frame_of_reference; /* Frame of Reference UID (0020,0052); NULL: unknown */

  gboolean has_window;
  double window_center;
  double window_width;
  gboolean invert;      /* MONOCHROME1: low values display bright */

  char *units;          /* "HU", "BQML", "" ... for the modality values */
  RrSuvState suv_state;
  double suv_factor;    /* SUVbw = value * suv_factor */
  char *suv_reason;     /* why SUV is unavailable */

  double frame_time_ms; /* cine: time between frames, 0 when not cine */
};

RrVolume  *rr_volume_new           (const guint  dims[3],
                                    RrVoxelType  type,
                                    GError     **error);
RrVolume  *rr_volume_ref           (RrVolume *volume);
void       rr_volume_unref         (RrVolume *volume);

gsize      rr_voxel_type_size      (RrVoxelType type);
gsize      rr_volume_slice_bytes   (const RrVolume *volume);
gpointer   rr_volume_slice_data    (RrVolume *volume,
                                    guint     k);

/* Geometry: call once the slice positions are filled in. Computes the
 * mean spacing and validates that slices are ordered along the normal. */
gboolean   rr_volume_finish_geometry (RrVolume  *volume,
                                      GError   **error);

RrVec3     rr_volume_voxel_to_patient (const RrVolume *volume,
                                       double          i,
                                       double          j,
                                       double          k);
gboolean   rr_volume_patient_to_voxel (const RrVolume *volume,
                                       RrVec3          p,
                                       double         *i,
                                       double         *j,
                                       double         *k);

/* When the slices sit on a regular grid, voxel indices are an affine
 * function of the patient point: index = inv * (p - origin). FALSE for
 * unevenly spaced stacks (use rr_volume_patient_to_voxel then). */
gboolean   rr_volume_regular_affine   (const RrVolume *volume,
                                       RrMat3         *inv,
                                       RrVec3         *origin);

/* Modality value at the nearest voxel, or NAN outside the volume.
 * For RGB volumes this is the luminance. */
double     rr_volume_value_at       (const RrVolume *volume,
                                     guint           i,
                                     guint           j,
                                     guint           k);
double     rr_volume_sample_patient (const RrVolume *volume,
                                     RrVec3          p);
RrVec3     rr_volume_center         (const RrVolume *volume);
void       rr_volume_value_range    (const RrVolume *volume,
                                     double         *min,
                                     double         *max);
/* The value at fraction @q (0..1) of the volume's sorted values, to
 * 1/65536 of their range (NaN voxels left out); RGB: of the luminance. */
double     rr_volume_value_quantile (const RrVolume *volume,
                                     double          q);
/* What the values are shown in: SUVbw per stored value when SUV can be
 * computed (@units "SUVbw"), else 1 and the volume's own units. The ROI
 * statistics, the probe and the PET window all read values through it. */
double     rr_volume_display_scale  (const RrVolume *volume,
                                     const char    **units);
/* The window a view opens the volume with, in stored values. PET: SUVbw
 * 0 to 5 when SUV can be computed, else 0 to the 99.5th percentile of
 * its values (the whole range puts a few hot voxels at the top and the
 * body in the dark); others: the images' own window, else their range. */
void       rr_volume_default_window (const RrVolume *volume,
                                     double         *center,
                                     double         *width);

/* A copy with @factor[0..2] voxels averaged into one along i, j and k
 * (edge voxels that do not fill a block are dropped), for display when a
 * volume exceeds what the GPU can hold. Geometry follows the block
 * centres; slice references are not kept. */
RrVolume  *rr_volume_downsample     (const RrVolume *volume,
                                     const guint     factor[3],
                                     GError        **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RrVolume, rr_volume_unref)

G_END_DECLS
