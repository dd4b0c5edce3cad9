/* rr-stack.h: turns the geometry of a series' frames into one or more
 * ordered stacks, sorted along the slice normal and checked for problems. */
#pragma once

#include <glib.h>
#include "rr-geometry.h"
#include "rr-problem.h"

G_BEGIN_DECLS

/* Frame index used in RrStack.order for a slice missing from the series. */
#define RR_STACK_GAP G_MAXUINT

typedef struct
{
  gboolean has_geometry;   /* FALSE: no position/orientation (US, XA, CR...) */
  RrVec3 position;         /* Image Position (Patient) of the first pixel */
  RrVec3 row_dir;          /* Image Orientation (Patient), first triplet */
  RrVec3 col_dir;          /* second triplet */
  double row_spacing;      /* Pixel Spacing [0]: between rows */
  double col_spacing;      /* Pixel Spacing [1]: between columns */
  RrCalibration calibration; /* NONE when neither spacing is known */
  guint rows;
  guint columns;
  double order_hint;       /* instance number / acquisition order, ties only */
} RrFrameGeom;

typedef struct
{
  GArray *order;           /* guint: indices into the input, or RR_STACK_GAP */
  GArray *positions;       /* RrVec3 per entry (interpolated for gaps) */
  gboolean has_geometry;
  RrVec3 row_dir;
  RrVec3 col_dir;
  RrVec3 normal;
  double row_spacing;
  double col_spacing;
  RrCalibration calibration;
  double slice_spacing;    /* typical distance between slices (median) */
  guint rows;
  guint columns;
  guint n_gaps;            /* slices inserted for missing ones */
  double tilt_deg;         /* gantry tilt, 0 when none */
  GPtrArray *problems;     /* RrProblem */
} RrStack;

void       rr_stack_free (RrStack *stack);

/* Plans the stacks of one series. Series-level problems (mixed orientation
 * or size, several stacks) are appended to @problems; each stack carries
 * its own (missing slices, uneven spacing, duplicates, tilt). Returns a
 * GPtrArray of RrStack, largest first, never empty when n > 0. */
GPtrArray *rr_stack_plan (const RrFrameGeom *frames,
                          guint              n,
                          GPtrArray         *problems);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RrStack, rr_stack_free)

G_END_DECLS
