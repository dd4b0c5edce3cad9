/* rr-response-text.h: the criteria engine's results in words, the same
 * wherever a person reads them: the lesion form, the signing dialog, the
 * PDF report. The codes (rr_response_to_string ()) are for files only. */
#pragma once

#include "rr-criteria.h"

G_BEGIN_DECLS

const char *rr_response_words   (RrResponse              r);
/* The short form, for a table's cell: "PR", "non-CR/non-PD". */
const char *rr_response_short   (RrResponse              r);
/* The words of a code as the read JSON holds it ("NON_CR_NON_PD"); an
 * unknown code is given back as it is. */
const char *rr_response_code_words (const char          *code);
/* The short form of such a code ("NON_CR_NON_PD": "non-CR/non-PD"). */
const char *rr_response_code_short (const char          *code);
/* "yes", "equivocal", "no" (RrNewStatus or its code) in words. */
const char *rr_new_status_words (RrNewStatus             s);
const char *rr_new_status_code_words (const char        *code);
/* "32.0 mm" from tenths of a millimetre. */
char       *rr_mm_text          (gint64                  tenths);
/* A change from @reference as every view of a read writes it, signed:
 * "+35.4 %", "−12.0 %" (U+2212), "0.0 %" (rr_pct_tenths rounding). */
char       *rr_pct_text         (gint64                  value,
                                 gint64                  reference);
/* A measurement of the read JSON in the lesion form's words: "32.0 mm",
 * "41.0 mm (2 fragments)", "too small to measure (5 mm)", "not
 * evaluable", "merged into another target (0 mm)"; NULL when nothing
 * is recorded. */
char       *rr_meas_words       (const RrMeas           *m);
/* A non-target's status in the lesion form's words ("present"); NULL when
 * nothing is recorded. */
const char *rr_nt_status_words  (RrNonTargetStatus       s);
/* An organ of the controlled list (by id, label or code) as people read
 * it ("Liver"); anything else as it is. */
const char *rr_organ_words      (const char             *organ);
/* Baseline sum, then per timepoint its sums, percentages and responses,
 * then the best overall response. */
char       *rr_response_summary (const RrRead           *read,
                                 const RrCriteriaResult *result);

G_END_DECLS
