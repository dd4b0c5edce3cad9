/* rr-phantom.h: synthetic series with known truth (body, lungs, spine,
 * spherical lesions) written as valid DICOM, for the demo and the tests. */
#pragma once

#include <glib.h>
#include "rr-geometry.h"

G_BEGIN_DECLS

typedef enum
{
  RR_PHANTOM_CT,
  RR_PHANTOM_PET,
  RR_PHANTOM_MR,
} RrPhantomKind;

typedef struct
{
  RrVec3 center;     /* patient mm */
  double diameter;   /* mm */
  double value;      /* HU for CT, SUV for PET, signal for MR */
} RrPhantomLesion;

typedef struct
{
  RrPhantomKind kind;
  guint rows, columns, slices;
  double row_spacing, col_spacing;  /* Pixel Spacing [0], [1] */
  double slice_spacing;
  double slice_thickness;
  RrVec3 row_dir, col_dir;          /* orientation; axial by default */
  RrVec3 center;                    /* patient point at the volume centre */
  double tilt_deg;                  /* gantry tilt about the patient x axis */
  GArray *lesions;                  /* RrPhantomLesion */
  double noise_sd;
  guint32 seed;
  int missing_slice;                /* -1: none */
  int uneven_from;                  /* -1: none; slices from here shift */
  double uneven_shift;              /* mm added to those slices */
  gboolean shuffle;                 /* file names in random order */
  char *transfer_syntax;
  char *patient_id;
  char *patient_name;
  char *study_uid;                  /* NULL: a new one */
  char *frame_of_reference;         /* Frame of Reference UID; NULL: a new one */
  char *study_date;
  char *study_description;
  char *series_description;
  int series_number;
  /* PET */
  double weight_kg;
  double dose_bq;
  double half_life_s;
  double uptake_minutes;
} RrPhantomSpec;

RrPhantomSpec *rr_phantom_spec_new     (RrPhantomKind kind);
void           rr_phantom_spec_free    (RrPhantomSpec *spec);
void           rr_phantom_spec_add_lesion (RrPhantomSpec *spec,
                                           RrVec3         center,
                                           double         diameter,
                                           double         value);

/* The noiseless value (HU, SUV or signal) at a patient point. */
double         rr_phantom_truth        (const RrPhantomSpec *spec,
                                        RrVec3               p);
/* Patient position of the first pixel of slice k (before gaps/shifts). */
RrVec3         rr_phantom_slice_position (const RrPhantomSpec *spec,
                                          guint                k);

/* Writes the series as one file per slice into @dir (created). Returns
 * the number of files written. */
gboolean       rr_phantom_write        (const RrPhantomSpec *spec,
                                        const char          *dir,
                                        guint               *n_written,
                                        GError             **error);
/* The truth as JSON (geometry, lesions), for tests and people. */
char          *rr_phantom_truth_json   (const RrPhantomSpec *spec);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RrPhantomSpec, rr_phantom_spec_free)

G_END_DECLS
