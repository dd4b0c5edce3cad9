/* rr-read-compare.h: what differs between two readers' reads of one case,
 * lesion by lesion, for the adjudicator: a different choice of targets, a
 * measurement differing by more than 20 %, a new lesion seen by one reader
 * only. Pure: two read JSON objects in, a list of differences out. */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

typedef enum
{
  RR_READ_DIFF_TARGET_CHOICE,  /* a target of one reader has no counterpart in the other's */
  RR_READ_DIFF_MEASUREMENT,    /* paired targets whose sizes differ by more than 20 % */
  RR_READ_DIFF_NEW_LESION,     /* a new lesion at a timepoint the other reader did not see */
} RrReadDiffKind;

typedef struct
{
  RrReadDiffKind kind;
  char *timepoint;       /* NULL for a target choice */
  guint reader;          /* 1 or 2: whose lesion stands alone; 0: both (a measurement) */
  char *lesion_1;        /* Reader 1's lesion id, or NULL */
  char *lesion_2;        /* Reader 2's lesion id, or NULL */
  double mm_1, mm_2;     /* a measurement's two sizes */
} RrReadDiff;

void       rr_read_diff_free (RrReadDiff *diff);

/* Lesions are paired by the "tracking_uid" both carry (two different ones
 * are two lesions), else at the same place (organ, nodal or not): nearest
 * caliper centres in patient mm first, within the larger of 15 mm and the
 * sum of the two calipers' extents, at the first timepoint both have a caliper (a new
 * lesion: where it was first seen); lesions that cannot be compared by
 * position, in the order each reader listed them. Two sizes differ when
 * the larger exceeds the smaller by more than 20 % of the smaller. Returns
 * RrReadDiff, owned; empty when the reads agree. */
GPtrArray *rr_read_compare   (JsonObject *read_1,
                              JsonObject *read_2);
/* The differences that concern @lesion_id of @reader (1 or 2). */
gboolean   rr_read_diff_concerns (const RrReadDiff *diff,
                                  guint             reader,
                                  const char       *lesion_id);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RrReadDiff, rr_read_diff_free)

G_END_DECLS
