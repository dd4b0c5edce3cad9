/* rr-qc.h: the automated QC checks of a timepoint's images against a
 * trial's imaging protocol, over facts read from image headers. No I/O, so
 * the CLI (facts from files) and the server (facts from its store) agree. */
#pragma once

#include <glib.h>
#include "rr-stack.h"
#include "rr-qc-protocol.h"

G_BEGIN_DECLS

/* An attribute whose non-empty value identifies a person or a place. */
typedef struct
{
  guint32 tag;                    /* group << 16 | element */
  const char *name;
} RrQcAttribute;

/* Sorted by tag. Patient's Name is not in it: it may carry the subject ID
 * (de-identification writes it there), so it has its own fact. */
const RrQcAttribute *rr_qc_identifying_attributes (guint *n);
const RrQcAttribute *rr_qc_identifying_lookup     (guint32 tag);

/* What a reader puts in RrQcInstance.patient_name for a name too long to
 * read (over 1024 bytes): not empty, not the subject ID. */
#define RR_QC_OVERLONG_VALUE "(a value over 1024 bytes)"

/* TRUE when a DICOM value says nothing: only spaces and the separators of
 * person names and multiple values. */
gboolean      rr_qc_value_is_empty (const char *value);

/* The dummy text that `deid` writes where PS3.15 Table E.1-1 allows only a
 * dummy (D) for a text attribute (docs/deid.md); earlier builds wrote it
 * into Institution Name, Station Name and Operators' Name too. */
#define RR_QC_DEID_DUMMY_TEXT "REMOVED"

/* TRUE when an identifying attribute's value (multiple values joined by
 * backslashes) says something: not empty, and not only the dummy that
 * de-identification wrote. */
gboolean      rr_qc_value_identifies (const char *value);

/* What QC needs from one instance's header; strings may be NULL when the
 * attribute is absent. */
typedef struct
{
  char *path;                     /* the file read, when read from one */
  char *sop_uid;
  char *study_uid;
  char *series_uid;
  char *study_date;
  char *patient_id;
  char *patient_name;
  char *modality;
  char *series_description;
  int series_number;
  char *body_part;
  gboolean is_image;
  double slice_thickness;         /* mm; 0 when absent */
  RrFrameGeom *frames;            /* n_frames, images only */
  guint n_frames;
  char *contrast_agent;           /* Contrast/Bolus Agent */
  guint n_contrast_items;         /* items of Contrast/Bolus Agent Sequence */
  char *identity_removed;         /* Patient Identity Removed */
  char *burned_in_annotation;     /* Burned In Annotation */
  guint n_private;                /* private attributes, at any depth */
  GArray *identifying;            /* guint32 tags of rr_qc_identifying_attributes
                                     with a non-empty value, at any depth */
} RrQcInstance;

RrQcInstance *rr_qc_instance_new  (void);
void          rr_qc_instance_free (RrQcInstance *instance);

typedef enum
{
  RR_QC_PASS,
  RR_QC_WARN,
  RR_QC_FAIL,
} RrQcStatus;

/* Checks, named by the finding category they raise (cli.md). */
#define RR_QC_WRONG_MODALITY     "wrong_modality"
#define RR_QC_COVERAGE           "incomplete_coverage"
#define RR_QC_SLICE_THICKNESS    "slice_thickness"
#define RR_QC_MISSING_SLICES     "missing_slices"
#define RR_QC_CONTRAST           "contrast_phase"
#define RR_QC_PHI                "phi_present"
#define RR_QC_WRONG_SUBJECT      "wrong_subject_or_visit"

typedef struct
{
  const char *check;              /* one of the RR_QC_ names */
  RrQcStatus status;
  char *message;
} RrQcCheck;

/* A prefilled finding, in the shape of server-api.md. */
typedef struct
{
  char *series_uid;
  char *sop_uid;                  /* NULL: about the whole series */
  guint frame;                    /* with sop_uid */
  const char *category;
  const char *severity;           /* "minor" or "major" */
  char *comment;
} RrQcFinding;

typedef struct
{
  char *series_uid;
  char *modality;
  char *description;
  int number;
  guint n_instances;
  GPtrArray *checks;              /* RrQcCheck */
} RrQcSeries;

typedef struct
{
  GPtrArray *series;              /* RrQcSeries, by series number then UID */
  GPtrArray *findings;            /* RrQcFinding, by series, then check */
} RrQcResult;

/* Per-instance findings kept for one check of one series; beyond them one
 * finding about the series counts the rest. */
#define RR_QC_MAX_INSTANCE_FINDINGS 20

RrQcResult   *rr_qc_run              (const RrQcProtocol   *protocol,
                                      RrQcInstance * const *instances,
                                      guint                 n);
void          rr_qc_result_free      (RrQcResult *result);
const char   *rr_qc_status_name      (RrQcStatus status);
const RrQcCheck *rr_qc_series_check  (const RrQcSeries *series,
                                      const char       *check);
/* {"series": [...], "findings": [...]} as cli.md's `qc --json`. */
char         *rr_qc_result_to_json   (const RrQcResult *result);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RrQcInstance, rr_qc_instance_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RrQcResult, rr_qc_result_free)

G_END_DECLS
