/* rr-dicom-sr.h: a read (cli.md's read JSON) as DICOM Structured Reports,
 * one TID 1500 Measurement Report per timepoint, and back. dcmtk's dcmsr
 * and its cmr template classes stay behind this header. */
#pragma once

#include "rr-dicom.h"

G_BEGIN_DECLS

/* The private coding scheme of the concepts DICOM has no code for (the
 * lesion categories, a measurement's "TSTM", the study day...). */
#define RR_SR_SCHEME "99RR"

/* Writes OUTDIR/<rr_dicom_sr_file_name (NULL, timepoint id)> for every
 * timepoint of the read, each in the study its calipers reference (or, without calipers, the study of
 * that timepoint found under @scan), with the patient and study attributes
 * copied from those images. Returns the paths written. */
GPtrArray *rr_dicom_sr_export (const char   *read_json,
                               gssize        length,
                               RrDicomScan  *scan,
                               const char   *outdir,
                               GError      **error);

/* How rr_dicom_sr_export_full writes. */
typedef struct
{
  /* The program writing ("readroom", "readroom-cli", "readroom-server"):
   * the Device Observer's name and the Manufacturer's Model Name. */
  const char *program;
  /* Non-NULL for a folder of the user's that holds other subjects'
   * reports: each file is "<subject>-<timepoint id>.dcm"
   * (rr_dicom_sr_file_name) and never replaces a file: when the name is
   * taken it is written beside it as "<subject>-<timepoint id> (2).dcm"
   * (then 3...); the paths returned say which names were used. */
  const char *subject;
} RrDicomSrOptions;

/* rr_dicom_sr_export is this with the program "readroom-cli" and no
 * subject (cli.md's `OUTDIR/<timepoint id>.dcm`, replaced on export). */
GPtrArray *rr_dicom_sr_export_full (const char              *read_json,
                                    gssize                   length,
                                    RrDicomScan             *scan,
                                    const char              *outdir,
                                    const RrDicomSrOptions  *options,
                                    GError                 **error);

/* The file name of a timepoint's SR: "<subject>-<timepoint id>.dcm", or
 * "<timepoint id>.dcm" with a NULL @subject (rr_dicom_sr_export, cli.md),
 * any character other than a letter, digit, '-', '_' or '.' as '_'; NULL
 * for a subject or id that cannot name a file (empty, over 64 bytes, or
 * starting with '.'). */
char      *rr_dicom_sr_file_name (const char *subject,
                                  const char *timepoint_id);

/* Reads TID 1500 reports (ours or another tool's) and merges them into one
 * read JSON: lesions are matched by their Tracking Unique Identifier and
 * timepoints by their Time Point. With @scan, image coordinates become
 * calipers in patient millimetres; without, calipers keep the reference
 * and the image points. */
char      *rr_dicom_sr_import (const char * const *paths,
                               RrDicomScan        *scan,
                               GError            **error);

G_END_DECLS
