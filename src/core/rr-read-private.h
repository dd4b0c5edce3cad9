/* rr-read-private.h: what rr-read.c and rr-read-draft.c share in writing
 * the read JSON (docs/read-json.md), so both write it the same way. */
#pragma once

#include "rr-read.h"
#include "rr-json-writer.h"

G_BEGIN_DECLS

/* "timepoints": [{"id": …, "day": …}, …] from an array of RrTimepoint. */
void rr_read_write_timepoints (RrJsonWriter    *w,
                               const GPtrArray *timepoints);

G_END_DECLS
