/* rr-criteria.h: response criteria behind one interface. The workstation,
 * readroom-cli and the server plugin evaluate every read with this code.
 *
 * Adding a set of criteria (mRECIST, Lugano, RANO...) is one new file plus
 * its tests, and no change elsewhere:
 *   1. write src/core/rr-criteria-<name>.c defining
 *        const RrCriteria rr_criteria_<name> = { "<id>", "<Name>", evaluate };
 *      where evaluate() fills an RrCriteriaResult from an RrRead (use the
 *      helpers below for sums, violations and JSON);
 *   2. add the file to src/core/meson.build and its symbol to the table in
 *      rr-criteria.c (rr_criteria_lookup);
 *   3. add tests/unit/test-criteria-<name>.c with the published examples.
 * The read's "criteria" member selects the set; the output carries its id. */
#pragma once

#include <glib.h>
#include "rr-read.h"

G_BEGIN_DECLS

typedef enum
{
  RR_RESP_NONE = 0,       /* not assessed (the baseline) */
  RR_RESP_CR,
  RR_RESP_PR,
  RR_RESP_SD,
  RR_RESP_PD,
  RR_RESP_NE,
  RR_RESP_NON_CR_NON_PD,
  RR_RESP_ND,             /* no disease of this kind at baseline */
  /* iRECIST */
  RR_RESP_ICR,
  RR_RESP_IPR,
  RR_RESP_ISD,
  RR_RESP_INN,            /* iNon-CR/non-PD */
  RR_RESP_IUPD,
  RR_RESP_ICPD,
  RR_RESP_INE,
} RrResponse;

typedef enum
{
  RR_NEW_NO,
  RR_NEW_YES,
  RR_NEW_EQUIVOCAL,
} RrNewStatus;

/* Where a timepoint stands in iRECIST's confirmation of progression, for
 * the reader's form (always RR_IRECIST_NONE under RECIST 1.1). */
typedef enum
{
  RR_IRECIST_NONE = 0,     /* no iUPD open */
  RR_IRECIST_IUPD,         /* an iUPD that opens an episode: awaiting confirmation */
  RR_IRECIST_AWAITING,     /* later, still unconfirmed (iUPD or iNE) */
  RR_IRECIST_CONFIRMED,    /* iCPD: the iUPD is confirmed */
  RR_IRECIST_RESET,        /* iCR, iPR, iSD or iNON_CR_NON_PD after an iUPD: the bar is reset */
} RrIrecistState;

typedef struct
{
  char *rule;
  char *lesion;       /* NULL when the rule is about the read */
  char *timepoint;    /* NULL when not about one timepoint */
  char *message;
} RrIssue;

typedef struct
{
  const char *id;
  int day;
  gboolean evaluable;     /* every target measured */
  gint64 sum;             /* tenths; of the measured targets when not evaluable */
  gint64 nadir;           /* tenths: the reference for progression */
  RrResponse target;
  RrResponse non_target;
  RrNewStatus new_lesions;
  RrResponse overall;
  /* iRECIST only */
  gint64 new_target_sum;  /* tenths, new-lesion targets */
  gboolean has_new_targets;
  RrIrecistState irecist_state;
  int iupd_timepoint;       /* read index of the iUPD the state is about; -1 with NONE */
  int confirmable_from_day; /* IUPD, AWAITING: the first day an assessment can
                               confirm it (the iUPD's day + 28) */
} RrTimepointResult;

typedef struct _RrCriteriaResult RrCriteriaResult;

struct _RrCriteriaResult
{
  char *criteria;
  gboolean has_targets;
  gint64 baseline_sum;            /* tenths */
  GArray *timepoints;             /* RrTimepointResult, follow-ups only */
  RrResponse best_overall_response;
  int progression_timepoint;      /* index into the read's timepoints, -1: none */
  GPtrArray *violations;          /* RrIssue: the read is invalid */
  GPtrArray *warnings;            /* RrIssue: for the reader to confirm */
  RrCriteriaResult *recist;       /* iRECIST: the RECIST 1.1 result beside it */
  const RrRead *read;             /* borrowed, for ids and days */
};

typedef struct
{
  const char *id;
  const char *name;
  RrCriteriaResult *(*evaluate) (const RrRead *read);
} RrCriteria;

const RrCriteria *rr_criteria_lookup   (const char *id);
/* Evaluates under the read's own criteria; an unknown id is an error. */
RrCriteriaResult *rr_criteria_evaluate (const RrRead  *read,
                                        GError       **error);
void              rr_criteria_result_free (RrCriteriaResult *result);
char             *rr_criteria_result_to_json (const RrCriteriaResult *result);
const char       *rr_response_to_string      (RrResponse response);
const char       *rr_new_status_to_string    (RrNewStatus status);
/* "iUPD", "awaiting_confirmation", "confirmed", "reset"; NULL for NONE. */
const char       *rr_irecist_state_to_string (RrIrecistState state);

/* Percentage change in tenths of a percent, rounded half away from zero,
 * computed exactly from tenths of millimetres. */
gint64            rr_pct_tenths          (gint64 value,
                                          gint64 reference);

/* Helpers for criteria implementations. */
RrCriteriaResult *rr_criteria_result_new (const char   *criteria,
                                          const RrRead *read);
void              rr_criteria_add_issue  (GPtrArray  *issues,
                                          const char *rule,
                                          const char *lesion,
                                          const char *timepoint,
                                          const char *format,
                                          ...) G_GNUC_PRINTF (5, 6);
gboolean          rr_criteria_has_issue  (GPtrArray  *issues,
                                          const char *rule);
/* The organ a target counts against: all nodes are one organ, and paired
 * organs (left/right lung, kidney...) are one. Free with g_free. */
char             *rr_criteria_organ_key  (const char *organ,
                                          gboolean    nodal);

extern const RrCriteria rr_criteria_recist11;
extern const RrCriteria rr_criteria_irecist;

/* The RECIST 1.1 evaluation and its parts, shared with iRECIST. */
RrCriteriaResult *rr_recist11_evaluate   (const RrRead *read);
/* Best overall response over the timepoints before read index @limit,
 * with @cr/@pr/@sd/@nn the words of the criteria in use. */
RrResponse        rr_recist11_best_response (const RrCriteriaResult *res,
                                             guint                   limit,
                                             gboolean                confirmation,
                                             RrResponse              cr,
                                             RrResponse              pr,
                                             RrResponse              sd,
                                             RrResponse              nn);
/* Tables 1 and 2. */
RrResponse        rr_recist11_overall    (gboolean   has_targets,
                                          RrResponse target,
                                          RrResponse non_target,
                                          gboolean   new_lesion);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RrCriteriaResult, rr_criteria_result_free)

G_END_DECLS
