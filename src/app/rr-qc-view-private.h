/* rr-qc-view-private.h: the QC workspace's findings, apart from its
 * widgets: what a finding holds, and the JSON of the draft and of the
 * submission (server-api.md's finding). */
#pragma once

#include <json-glib/json-glib.h>
#include "rr-measurement.h"

G_BEGIN_DECLS

typedef struct
{
  char *id;              /* its shape's measurement id, or a UUID */
  char *series, *sop;    /* NULL: not known (sop NULL: the whole series) */
  guint frame;
  char *category, *severity, *comment;
  RrMeasurement *shape;  /* NULL: a finding without a shape */
  char *shape_json;      /* server-api.md's shape, in image pixels */
  gboolean automated;    /* prefilled from a failed check */
} RrQcViewFinding;

/* The categories of server-api.md, NULL-terminated. */
#define RR_QC_N_CATEGORIES 10
extern const char *const rr_qc_categories[RR_QC_N_CATEGORIES + 1];
extern const char *const rr_qc_severities[3];

RrQcViewFinding *rr_qc_view_finding_new       (void);
void         rr_qc_view_finding_free      (RrQcViewFinding *f);
/* Findings from a JSON array (the draft's, a query's, or the automated
 * results'); members that are not what they should be are skipped. */
GPtrArray   *rr_qc_findings_from_json (JsonArray *a,
                                       gboolean   automated);
/* The draft: {"decision", "findings": [... with "measurement"]}. */
char        *rr_qc_draft_to_json     (GPtrArray  *findings,
                                      const char *decision);
/* The submission body without its signature: {"decision", "findings"}. */
char        *rr_qc_submission_json   (GPtrArray  *findings,
                                      const char *decision);
/* "motion_artifact" -> "Motion artifact"; "phi_present" -> "PHI present". */
char        *rr_qc_category_text     (const char *category);

/* The longest override rationale, in characters: with the words around it
 * the signature's meaning stays within the server's 200 (server-api.md). */
#define RR_QC_RATIONALE_MAX 100

/* The major findings of @findings: open, until removed or made minor. */
guint        rr_qc_open_major        (GPtrArray  *findings);
/* The meaning that the signature records for @decision, or NULL when it
 * cannot be signed so: a pass with @n_major open major findings needs an
 * explicit override, whose @rationale (non-blank, at most
 * RR_QC_RATIONALE_MAX characters) the meaning then carries, so that it is
 * kept with the signature as a trial's QC SOP asks. */
char        *rr_qc_sign_meaning      (const char *decision,
                                      guint       n_major,
                                      const char *rationale);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RrQcViewFinding, rr_qc_view_finding_free)

G_END_DECLS
