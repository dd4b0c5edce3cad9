/* rr-measurement.h: a caliper or annotation in patient millimetres, the
 * plane it was drawn on and the image it came from; its values computed
 * from patient coordinates, never from pixel counts. */
#pragma once

#include <glib.h>
#include "rr-reslice.h"
#include "rr-volume.h"

G_BEGIN_DECLS

typedef enum
{
  RR_MEASURE_LENGTH,         /* 2 points */
  RR_MEASURE_BIDIRECTIONAL,  /* 4: long axis a b, short axis c d (c d ⟂ a b) */
  RR_MEASURE_ELLIPSE,        /* 3: centre, end of one semi-axis, end of the other */
  RR_MEASURE_FREEHAND,       /* 3 or more: a closed polygon */
  RR_MEASURE_ANGLE,          /* 3: arm end, vertex, arm end */
  RR_MEASURE_PROBE,          /* 1 */
  RR_MEASURE_ARROW,          /* 2: tail, head; and a text */
  RR_MEASURE_N_KINDS
} RrMeasureKind;

#define RR_MEASUREMENT_MAX_POINTS 4096

typedef struct
{
  char *id;                /* a UUID, stable across edits */
  RrMeasureKind kind;
  GArray *points;          /* RrVec3, patient mm, all on the plane */
  /* The plane drawn on: centre, right, down (unit, orthogonal) and slab. */
  RrVec3 plane_center;
  RrVec3 plane_right;
  RrVec3 plane_down;
  RrSlabMode slab_mode;
  double slab_mm;
  /* The image it came from. sop_uid is set when the plane is an acquired
   * slice (then frame is that instance's 0-based frame), NULL on an MPR. */
  char *series_uid;
  char *sop_uid;
  guint frame;
  RrCalibration calibration;
  char *text;              /* the arrow's label, or a note */
  gint64 created_us;       /* wall clock, for ordering the list */
} RrMeasurement;

/* Values computed from the points and, for ROIs and probes, the volume. */
typedef struct
{
  double length;           /* length, bidirectional long axis, arrow */
  double width;            /* bidirectional short axis */
  double area;             /* ellipse, freehand: mm² (or px²) */
  double angle_deg;
  gboolean has_stats;      /* ROI statistics or a probe value */
  double mean, sd, min, max;
  guint n_samples;
  const char *units;       /* of the statistics: "HU", "SUVbw", ... */
  gboolean calibrated;     /* FALSE: lengths are pixels, not mm */
} RrMeasureValues;

RrMeasurement *rr_measurement_new        (RrMeasureKind   kind,
                                          const RrPlane  *plane,
                                          const RrVec3   *points,
                                          guint           n_points);
RrMeasurement *rr_measurement_copy       (const RrMeasurement *m);
void           rr_measurement_free       (RrMeasurement *m);

const char    *rr_measure_kind_to_string (RrMeasureKind kind);
gboolean       rr_measure_kind_from_string (const char    *s,
                                            RrMeasureKind *kind);
guint          rr_measure_kind_min_points (RrMeasureKind kind);

static inline RrVec3
rr_measurement_point (const RrMeasurement *m,
                      guint                i)
{
  return g_array_index (m->points, RrVec3, i);
}
void           rr_measurement_set_point  (RrMeasurement *m,
                                          guint          i,
                                          RrVec3         p);
RrVec3         rr_measurement_normal     (const RrMeasurement *m);
RrVec3         rr_measurement_center     (const RrMeasurement *m);

/* Records where the measurement came from: the series, and the acquired
 * slice when its plane is one (parallel to the slices and within a tenth
 * of a slice of one); otherwise the plane alone identifies it. */
void           rr_measurement_set_source (RrMeasurement  *m,
                                          const RrVolume *volume);

/* Moves handle @i to @p (projected onto the plane), keeping the shape's
 * rules: the bidirectional short axis stays perpendicular to the long one
 * and crosses it, the axes swap when the short one becomes the longer;
 * the ellipse keeps its centre. Returns the handle now under @p (it
 * changes when the axes swap). */
guint          rr_measurement_move_handle (RrMeasurement *m,
                                           guint          i,
                                           RrVec3         p);
/* Moves the whole measurement by @d (its in-plane part). */
void           rr_measurement_translate  (RrMeasurement *m,
                                          RrVec3         d);

/* The bidirectional shape from a drawn long axis: the short axis not yet
 * measured, both its ends where it will cross, at the long axis' middle;
 * the reader drags them out. */
void           rr_measurement_init_bidirectional (RrMeasurement *m,
                                                  RrVec3         a,
                                                  RrVec3         b);

/* A short axis shorter than this (in mm, or pixels uncalibrated) was not
 * measured: its ends are where the tool put them, at the crossing. */
#define RR_SHORT_AXIS_MIN_MM 0.05

/* Whether a bidirectional's short axis was measured by the reader (its
 * ends moved apart); FALSE for every other kind. */
gboolean       rr_measurement_has_short_axis (const RrMeasurement *m);

/* Points of the ellipse outline (for drawing and sampling). */
GArray        *rr_measurement_outline    (const RrMeasurement *m,
                                          guint                n);

/* Lengths, area, angle; with @volume, the ROI statistics (sampled on the
 * plane at the voxel grid, slab included) or the probe value. */
void           rr_measurement_compute    (const RrMeasurement *m,
                                          const RrVolume      *volume,
                                          RrMeasureValues     *out);

/* The measurement as a JSON object (points in patient mm, the plane, the
 * reference), and back. Parsing is strict and bounded. */
char          *rr_measurement_to_json    (const RrMeasurement *m);
RrMeasurement *rr_measurement_from_json  (const char  *json,
                                          GError     **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RrMeasurement, rr_measurement_free)

G_END_DECLS
