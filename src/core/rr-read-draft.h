/* rr-read-draft.h: the reader's work on one read task as the lesion form
 * keeps it: lesions bound to calipers per timepoint, statuses, organs.
 * It becomes the read JSON of cli.md (each value with its caliper) for the
 * criteria engine and for submission. */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>
#include "rr-measurement.h"
#include "rr-read.h"

G_BEGIN_DECLS

typedef enum
{
  RR_LESION_TARGET,
  RR_LESION_NON_TARGET,
  RR_LESION_NEW,
} RrLesionKind;

/* What a lesion has at one timepoint. */
typedef enum
{
  RR_ENTRY_NONE,        /* nothing yet */
  RR_ENTRY_CALIPER,     /* measured: the value comes from the caliper */
  RR_ENTRY_TSTM,        /* present, too small to measure (5 mm) */
  RR_ENTRY_NE,          /* not evaluable */
  RR_ENTRY_GONE,        /* disappeared: 0 mm, or a non-target absent */
  RR_ENTRY_PRESENT,     /* non-target present */
  RR_ENTRY_PROGRESSION, /* non-target: unequivocal progression */
  RR_ENTRY_SPLIT,       /* target split into fragments: their sizes added */
  RR_ENTRY_MERGED,      /* target merged into another that carries the whole size (0) */
} RrEntryKind;

typedef struct
{
  RrEntryKind kind;
  char *caliper;        /* the measurement's id (CALIPER, SPLIT's first fragment; optional
                           marker otherwise) */
  char **fragments;     /* SPLIT: the other fragments' calipers (NULL-terminated), or NULL */
} RrDraftEntry;

typedef struct
{
  char *id;             /* T1, N1, NEW1: unique in the draft */
  RrLesionKind kind;
  char *organ;          /* an id of rr-organs.h */
  char *location;
  gboolean nodal;
  gboolean equivocal;   /* new lesions */
  guint timepoint;      /* new lesions: where first seen */
  double slice_thickness_mm;  /* of the baseline images, 0: unknown */
  RrDraftEntry *entries;      /* one per timepoint */
  guint n_entries;
} RrDraftLesion;

/* Finds a caliper by its id (NULL when it is gone). */
typedef const RrMeasurement *(*RrCaliperLookup) (const char *id,
                                                 gpointer    user_data);

typedef struct
{
  char *criteria;
  GPtrArray *timepoints;      /* RrTimepoint, chronological: the task's labels and days */
  GPtrArray *lesions;         /* RrDraftLesion, in the order added */
} RrReadDraft;


/* A new draft for a task as the server lists it (criteria, timepoints
 * with label and day, sorted by day). */
RrReadDraft   *rr_read_draft_new_for_task (const char  *task_json,
                                           GError     **error);
void           rr_read_draft_free         (RrReadDraft *draft);
/* The draft as the form keeps it, and back; a saved draft whose
 * timepoints differ from the task's keeps its lesions by label. */
char          *rr_read_draft_to_json      (const RrReadDraft *draft);
gboolean       rr_read_draft_load         (RrReadDraft  *draft,
                                           const char   *json,
                                           GError      **error);

/* Adds a lesion (its id the next free T/N/NEW number) with @caliper (may
 * be NULL) at timepoint @tp. A target beyond the fifth is refused (NULL
 * with @error). */
RrDraftLesion *rr_read_draft_add          (RrReadDraft  *draft,
                                           RrLesionKind  kind,
                                           guint         tp,
                                           const char   *caliper,
                                           GError      **error);
RrDraftLesion *rr_read_draft_find         (RrReadDraft *draft,
                                           const char  *id);
/* The lesion a caliper is bound to (and at which timepoint), or NULL. */
RrDraftLesion *rr_read_draft_find_caliper (RrReadDraft *draft,
                                           const char  *caliper,
                                           guint       *tp);
gboolean       rr_read_draft_remove       (RrReadDraft *draft,
                                           const char  *id);
void           rr_read_draft_set_entry    (RrDraftLesion *lesion,
                                           guint          tp,
                                           RrEntryKind    kind,
                                           const char    *caliper);
/* A split lesion: @caliper is one more fragment of @lesion at @tp (the
 * entry becomes SPLIT, its measured caliper the first fragment). FALSE
 * when the entry has no caliper to split from, or holds 50 fragments. */
gboolean       rr_read_draft_add_fragment (RrDraftLesion *lesion,
                                           guint          tp,
                                           const char    *caliper);
/* The size @lesion's entry at @tp gives, in tenths of a millimetre: a
 * caliper's, the fragments' sum, 0 (gone, merged), 50 (too small); -1
 * when it has none (not assessed, not evaluable, a caliper missing). */
gint64         rr_read_draft_entry_tenths (const RrDraftLesion *lesion,
                                           guint                tp,
                                           RrCaliperLookup      lookup,
                                           gpointer             user_data);
guint          rr_read_draft_count        (const RrReadDraft *draft,
                                           RrLesionKind       kind);
/* The lesions with nothing at timepoint @tp yet (neither measured nor
 * given a status; a new lesion from the timepoint it was first seen), their
 * ids joined by ", "; NULL when every one is assessed. A read is signed
 * only then: "not evaluable" is the reader's word, not a blank. */
char          *rr_read_draft_unassessed   (const RrReadDraft *draft,
                                           guint              tp);

/* The size a caliper gives a lesion, in tenths of a millimetre: the long
 * axis, or for a nodal lesion the short axis of a bidirectional (a line
 * on a node is its short axis). -1 when the caliper has no length, or
 * for a node when its bidirectional's short axis was not measured. */
gint64         rr_read_draft_caliper_tenths (const RrMeasurement *m,
                                             gboolean             nodal);

/* The read JSON of cli.md, each value with its caliper ("calipers"),
 * without responses. */
char          *rr_read_draft_build        (const RrReadDraft *draft,
                                           RrCaliperLookup    lookup,
                                           gpointer           user_data);
/* The same without the calipers: what the criteria engine reads, built
 * on every caliper change (a drag), so half the JSON is not written and
 * parsed again for nothing. */
char          *rr_read_draft_build_values (const RrReadDraft *draft,
                                           RrCaliperLookup    lookup,
                                           gpointer           user_data);
/* The same with "responses": the criteria output computed from it. NULL
 * with @error when the criteria are unknown. */
char          *rr_read_draft_build_with_responses (const RrReadDraft  *draft,
                                                   RrCaliperLookup     lookup,
                                                   gpointer            user_data,
                                                   GError            **error);

/* The body of POST /tasks/{id}/submission for a read: {"read": @read,
 * "signature": {"meaning": @meaning}} (the password is added by the
 * outbox, kept apart). Shared by the workstation and readroom-cli. */
JsonNode      *rr_read_submission_new     (JsonNode   *read,
                                           const char *meaning);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RrReadDraft, rr_read_draft_free)

G_END_DECLS
