/* rr-read.h: the read of cli.md: timepoints, target, non-target and new
 * lesions with their measurements, parsed and written with json-glib.
 * Measurements are exact integers in tenths of a millimetre. */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define RR_READ_ERROR (rr_read_error_quark ())
GQuark rr_read_error_quark (void);

typedef enum
{
  RR_READ_ERROR_SYNTAX,   /* not JSON */
  RR_READ_ERROR_INVALID,  /* JSON, but not a read: wrong types, missing fields */
} RrReadError;

typedef enum
{
  RR_MEAS_MISSING,   /* nothing recorded for this timepoint */
  RR_MEAS_VALUE,     /* tenths holds the size */
  RR_MEAS_TSTM,      /* present, too small to measure: counts as 5 mm */
  RR_MEAS_NE,        /* not evaluable */
  RR_MEAS_MERGED,    /* merged into another target, which carries the size */
} RrMeasKind;

typedef struct
{
  RrMeasKind kind;
  gint64 tenths;      /* VALUE (fragments of a split lesion added), TSTM: 50 */
  gboolean rounded;   /* the input had more than one decimal */
  guint n_fragments;  /* > 1 when a split lesion was given as its fragments */
} RrMeas;

typedef enum
{
  RR_NT_MISSING,
  RR_NT_PRESENT,
  RR_NT_ABSENT,
  RR_NT_UNEQUIVOCAL_PROGRESSION,
  RR_NT_NE,
} RrNonTargetStatus;

typedef struct
{
  char *id;
  int day;
} RrTimepoint;

typedef struct
{
  char *id;
  char *organ;
  char *location;
  gboolean nodal;
  double slice_thickness_mm;  /* 0: unknown */
  char *modality;             /* "CT", "MR", "XR"...; NULL: cross-sectional */
  RrMeas *meas;               /* one per timepoint */
  JsonNode *calipers;         /* kept as given, for the workstation */
} RrTargetLesion;

typedef struct
{
  char *id;
  char *organ;
  char *location;
  gboolean nodal;
  RrNonTargetStatus *status;  /* one per timepoint */
  gboolean *increased;        /* per timepoint: grown since the last assessment
                                 (iRECIST: confirms a non-target iUPD) */
  JsonNode *justification;    /* kept as given */
} RrNonTargetLesion;

typedef struct
{
  char *id;
  guint timepoint;            /* index of the timepoint where it was recorded */
  char *organ;
  char *location;
  gboolean nodal;
  gboolean equivocal;
  RrMeas *meas;               /* optional sizes per timepoint (iRECIST) */
  gboolean *increased;        /* per timepoint: grown since the last assessment
                                 (iRECIST new-lesion non-targets) */
} RrNewLesion;

/* A reference the parser could not resolve, reported as a violation. */
typedef struct
{
  char *lesion;
  char *timepoint;
} RrUnknownRef;

typedef struct
{
  char *criteria;
  int sd_min_days;
  gboolean confirmation;
  GPtrArray *timepoints;   /* RrTimepoint */
  GPtrArray *targets;      /* RrTargetLesion */
  GPtrArray *non_targets;  /* RrNonTargetLesion */
  GPtrArray *new_lesions;  /* RrNewLesion, in the order given */
  GPtrArray *unknown_refs; /* RrUnknownRef */
} RrRead;

RrRead     *rr_read_new            (void);
void        rr_read_free           (RrRead *read);
RrRead     *rr_read_parse          (const char  *data,
                                    gssize       length,
                                    GError     **error);
RrRead     *rr_read_parse_node     (JsonNode    *root,
                                    GError     **error);
char       *rr_read_to_json        (const RrRead *read);

/* Frees one RrTimepoint: the free function of the timepoint arrays of
 * RrRead and RrReadDraft. */
void        rr_timepoint_free      (gpointer timepoint);

int         rr_read_timepoint_index (const RrRead *read,
                                     const char   *id);
const char *rr_nt_status_to_string  (RrNonTargetStatus status);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RrRead, rr_read_free)

G_END_DECLS
