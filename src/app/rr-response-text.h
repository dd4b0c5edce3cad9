/* rr-response-text.h: the criteria engine's results in words, for the
 * lesion form. */
#pragma once

#include "rr-criteria.h"

G_BEGIN_DECLS

const char *rr_response_words   (RrResponse              r);
/* "32.0 mm" from tenths of a millimetre. */
char       *rr_mm_text          (gint64                  tenths);
/* Baseline sum, then per timepoint its sums, percentages and responses,
 * then the best overall response. */
char       *rr_response_summary (const RrRead           *read,
                                 const RrCriteriaResult *result);

G_END_DECLS
