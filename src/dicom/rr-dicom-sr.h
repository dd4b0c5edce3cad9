/* rr-dicom-sr.h: a read (cli.md's read JSON) as DICOM Structured Reports,
 * one TID 1500 Measurement Report per timepoint, and back. dcmtk's dcmsr
 * and its cmr template classes stay behind this header. */
#pragma once

#include "rr-dicom.h"

G_BEGIN_DECLS

/* The private coding scheme of the concepts DICOM has no code for (the
 * lesion categories, a measurement's "TSTM", the study day...). */
#define RR_SR_SCHEME "99RR"

/* Writes OUTDIR/<rr_dicom_sr_file_name (timepoint id)> for every
 * timepoint of the read, each in the study its calipers reference (or, without calipers, the study of
 * that timepoint found under @scan), with the patient and study attributes
 * copied from those images. Returns the paths written. */
GPtrArray *rr_dicom_sr_export (const char   *read_json,
                               gssize        length,
                               RrDicomScan  *scan,
                               const char   *outdir,
                               GError      **error);

/* The file name rr_dicom_sr_export gives a timepoint's SR: the id, with
 * any character other than a letter, digit, '-', '_' or '.' as '_', and
 * ".dcm"; NULL for an id that cannot name a file. */
char      *rr_dicom_sr_file_name (const char *timepoint_id);

/* Reads TID 1500 reports (ours or another tool's) and merges them into one
 * read JSON: lesions are matched by their Tracking Unique Identifier and
 * timepoints by their Time Point. With @scan, image coordinates become
 * calipers in patient millimetres; without, calipers keep the reference
 * and the image points. */
char      *rr_dicom_sr_import (const char * const *paths,
                               RrDicomScan        *scan,
                               GError            **error);

G_END_DECLS
