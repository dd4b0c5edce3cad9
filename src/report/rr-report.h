/* rr-report.h: a read as a PDF for people (A4, cairo): the responses and
 * a plot of the sum of diameters over time, the lesion table of every
 * timepoint, the signatures, and a key image per target and timepoint
 * with its caliper drawn. Used by readroom-cli report and by the app. */
#pragma once

#include "rr-dicom.h"

G_BEGIN_DECLS

#define RR_REPORT_ERROR (rr_report_error_quark ())
GQuark rr_report_error_quark (void);

typedef enum
{
  RR_REPORT_ERROR_INVALID,   /* the read cannot be reported */
  RR_REPORT_ERROR_WRITE,     /* the PDF cannot be written */
} RrReportError;

/* Writes the report of @read_json to @pdf_path; key images come from the
 * series under @scan that the calipers reference (a caliper whose images
 * are missing is listed, not drawn). */
gboolean rr_report_write_pdf (const char   *read_json,
                              gssize        length,
                              RrDicomScan  *scan,
                              const char   *pdf_path,
                              GError      **error);

/* What the read JSON may not say itself: the trial and the reader's label
 * ("Reader 1"), which the report names on its first page. NULL members
 * leave the read's own ("trial", "reader") or say they are unknown. */
typedef struct
{
  const char *trial;
  const char *reader;
} RrReportNames;

/* As rr_report_write_pdf; @read_json may also be the server's submission
 * document (GET /tasks/{id}/submission), whose signer, meaning and receipt
 * the report shows. @n_violations (may be NULL) is set to the number of
 * rules the read breaks, and @first_violation to the first one's message:
 * the PDF is written and says so, but the read is not valid. */
gboolean rr_report_write_pdf_full (const char           *read_json,
                                   gssize                length,
                                   RrDicomScan          *scan,
                                   const char           *pdf_path,
                                   const RrReportNames  *names,
                                   guint                *n_violations,
                                   char                **first_violation,
                                   GError              **error);

G_END_DECLS
