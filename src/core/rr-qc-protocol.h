/* rr-qc-protocol.h: a trial's imaging protocol (cli.md's protocol JSON),
 * what the automated QC checks of rr-qc.h hold a timepoint's images to. */
#pragma once

#include <glib.h>
#include "rr-volume.h"   /* RR_CORE_ERROR */

G_BEGIN_DECLS

typedef enum
{
  RR_QC_CONTRAST_ANY,         /* the protocol does not say */
  RR_QC_CONTRAST_REQUIRED,    /* "contrast": true */
  RR_QC_CONTRAST_ABSENT,      /* "contrast": false */
} RrQcContrast;

/* The protocol JSON of cli.md. A member left out sets no requirement,
 * except max_gap_slices, 0 unless said: a missing slice is a defect. */
typedef struct
{
  GPtrArray *modalities;          /* char *, upper case; empty: any */
  GPtrArray *body_parts;          /* char *, upper case; empty: any */
  double max_slice_thickness_mm;  /* 0: not checked */
  double min_coverage_mm;         /* 0: not checked */
  RrQcContrast contrast;
  guint max_gap_slices;           /* longest run of missing slices allowed */
} RrQcProtocol;

/* Bounds on what a protocol may say. */
#define RR_QC_MAX_PROTOCOL_BYTES  (64 * 1024)
#define RR_QC_MAX_LIST            32
#define RR_QC_MAX_CODE_CHARS      64
#define RR_QC_MAX_THICKNESS_MM    100.0
#define RR_QC_MAX_COVERAGE_MM     5000.0
#define RR_QC_MAX_GAP_SLICES      1000

RrQcProtocol *rr_qc_protocol_new   (void);
/* RR_CORE_ERROR_INVALID when the JSON is not a protocol as cli.md says,
 * RR_CORE_ERROR_TOO_LARGE beyond RR_QC_MAX_PROTOCOL_BYTES. */
RrQcProtocol *rr_qc_protocol_parse (const char  *data,
                                    gssize       length,
                                    GError     **error);
void          rr_qc_protocol_free  (RrQcProtocol *protocol);

/* Sets RR_CORE_ERROR_INVALID with a formatted message and returns FALSE:
 * the one way the QC parsers (protocol, DICOM JSON) refuse their input. */
gboolean      rr_qc_invalid        (GError    **error,
                                    const char *format,
                                    ...) G_GNUC_PRINTF (2, 3);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RrQcProtocol, rr_qc_protocol_free)

G_END_DECLS
