/* rr-criteria-recist.c: RECIST 1.1 (Eisenhauer 2009, with the RECIST
 * Working Group's clarifications) exactly as criteria.md writes it, in
 * integer tenths of a millimetre. */
#include "rr-criteria.h"

#include <math.h>
#include <string.h>

#define TP_ID(read, i) (((RrTimepoint *) (read)->timepoints->pdata[i])->id)
#define TP_DAY(read, i) (((RrTimepoint *) (read)->timepoints->pdata[i])->day)

static gboolean
is_xray (const char *modality)
{
  return modality && (g_ascii_strcasecmp (modality, "XR") == 0 ||
                      g_ascii_strcasecmp (modality, "CR") == 0 ||
                      g_ascii_strcasecmp (modality, "DX") == 0);
}

static void
validate (const RrRead *read, RrCriteriaResult *res)
{
  g_autoptr (GHashTable) per_organ = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  for (guint i = 0; i < read->unknown_refs->len; i++)
    {
      RrUnknownRef *u = read->unknown_refs->pdata[i];
      rr_criteria_add_issue (res->violations, "unknown_timepoint", u->lesion, u->timepoint,
                             "lesion %s has an entry for timepoint %s, which the read does "
                             "not list", u->lesion, u->timepoint);
    }
  if (read->targets->len > 5)
    rr_criteria_add_issue (res->violations, "too_many_targets", NULL, NULL,
                           "%u target lesions; RECIST 1.1 allows at most 5",
                           read->targets->len);
  for (guint i = 0; i < read->targets->len; i++)
    {
      RrTargetLesion *t = read->targets->pdata[i];
      const RrMeas *b = &t->meas[0];
      char *key = rr_criteria_organ_key (t->organ, t->nodal);
      guint n = GPOINTER_TO_UINT (g_hash_table_lookup (per_organ, key)) + 1;
      g_hash_table_replace (per_organ, key, GUINT_TO_POINTER (n));
      if (n == 3)
        rr_criteria_add_issue (res->violations, "too_many_in_organ", t->id, NULL,
                               "lesion %s is the third target in %s; at most 2 per organ "
                               "(paired organs and all lymph nodes count as one)", t->id, key);

      if (b->kind == RR_MEAS_MISSING || b->kind == RR_MEAS_NE || b->kind == RR_MEAS_MERGED)
        rr_criteria_add_issue (res->violations, "not_measured_at_baseline", t->id, TP_ID (read, 0),
                               "target %s has no baseline measurement", t->id);
      else if (b->kind == RR_MEAS_TSTM)
        rr_criteria_add_issue (res->violations, "not_measurable", t->id, TP_ID (read, 0),
                               "target %s is too small to measure at baseline", t->id);
      else if (t->nodal && b->tenths < 150)
        rr_criteria_add_issue (res->violations, "not_measurable", t->id, TP_ID (read, 0),
                               "node %s has a short axis of %.1f mm; a target node needs 15 mm "
                               "(10 to 15 mm: non-target; under 10 mm: normal)", t->id,
                               b->tenths / 10.0);
      else if (!t->nodal)
        {
          gint64 min = 100;
          const char *why = "10 mm";
          g_autofree char *buf = NULL;
          if (is_xray (t->modality))
            min = 200, why = "20 mm on chest X-ray";
          else if (t->slice_thickness_mm > 5)
            {
              min = (gint64) ceil (t->slice_thickness_mm * 20 - 1e-9);
              buf = g_strdup_printf ("twice the %.1f mm slice thickness", t->slice_thickness_mm);
              why = buf;
            }
          if (b->tenths < min)
            rr_criteria_add_issue (res->violations, "not_measurable", t->id, TP_ID (read, 0),
                                   "target %s measures %.1f mm at baseline; it must be at least "
                                   "%s", t->id, b->tenths / 10.0, why);
        }
      for (guint k = 0; k < read->timepoints->len; k++)
        if (t->meas[k].rounded)
          rr_criteria_add_issue (res->warnings, "rounded", t->id, TP_ID (read, k),
                                 "lesion %s at %s was given finer than 0.1 mm and is rounded "
                                 "to %.1f mm", t->id, TP_ID (read, k), t->meas[k].tenths / 10.0);
    }
  for (guint i = 0; i < read->non_targets->len; i++)
    {
      RrNonTargetLesion *nt = read->non_targets->pdata[i];
      if (nt->status[0] != RR_NT_PRESENT)
        rr_criteria_add_issue (res->violations, "non_target_not_present_at_baseline", nt->id,
                               TP_ID (read, 0), "non-target %s must be recorded as present "
                               "at baseline", nt->id);
    }
  for (guint i = 0; i < read->new_lesions->len; i++)
    {
      RrNewLesion *nl = read->new_lesions->pdata[i];
      if (nl->timepoint == 0)
        rr_criteria_add_issue (res->violations, "new_lesion_at_baseline", nl->id,
                               TP_ID (read, 0), "a lesion seen at baseline is not new: record "
                               "%s as a target or non-target", nl->id);
    }
}

/* First timepoint at which each new lesion was seen, and at which it was
 * unequivocal (G_MAXUINT: never). */
typedef struct
{
  const char *id;
  guint first_seen;
  guint confirmed;
} NewInfo;

static GArray *
new_lesion_info (const RrRead *read)
{
  GArray *infos = g_array_new (FALSE, FALSE, sizeof (NewInfo));
  for (guint i = 0; i < read->new_lesions->len; i++)
    {
      RrNewLesion *nl = read->new_lesions->pdata[i];
      NewInfo *info = NULL;
      if (nl->timepoint == G_MAXUINT || nl->timepoint == 0)
        continue;
      for (guint j = 0; j < infos->len; j++)
        if (g_str_equal (g_array_index (infos, NewInfo, j).id, nl->id))
          info = &g_array_index (infos, NewInfo, j);
      if (info == NULL)
        {
          NewInfo n = { nl->id, G_MAXUINT, G_MAXUINT };
          g_array_append_val (infos, n);
          info = &g_array_index (infos, NewInfo, infos->len - 1);
        }
      info->first_seen = MIN (info->first_seen, nl->timepoint);
      if (!nl->equivocal)
        info->confirmed = MIN (info->confirmed, nl->timepoint);
    }
  return infos;
}

static RrResponse
non_target_response (const RrRead *read, guint t)
{
  gboolean any_ne = FALSE, all_absent = TRUE;
  if (read->non_targets->len == 0)
    return RR_RESP_ND;
  for (guint i = 0; i < read->non_targets->len; i++)
    {
      RrNonTargetStatus s = ((RrNonTargetLesion *) read->non_targets->pdata[i])->status[t];
      if (s == RR_NT_UNEQUIVOCAL_PROGRESSION)
        return RR_RESP_PD;
      if (s == RR_NT_NE || s == RR_NT_MISSING)
        any_ne = TRUE;
      if (s != RR_NT_ABSENT)
        all_absent = FALSE;
    }
  if (any_ne)
    return RR_RESP_NE;
  return all_absent ? RR_RESP_CR : RR_RESP_NON_CR_NON_PD;
}

/* Table 1 (with targets) and Table 2 (non-target disease only). */
static RrResponse
overall_response (gboolean has_targets, RrResponse target, RrResponse nt, gboolean new_yes)
{
  if (target == RR_RESP_PD || nt == RR_RESP_PD || new_yes)
    return RR_RESP_PD;
  if (has_targets)
    switch (target)
      {
      case RR_RESP_CR:
        return (nt == RR_RESP_CR || nt == RR_RESP_ND) ? RR_RESP_CR : RR_RESP_PR;
      case RR_RESP_PR:
        return RR_RESP_PR;
      case RR_RESP_SD:
        return RR_RESP_SD;
      default:
        return RR_RESP_NE;
      }
  switch (nt)
    {
    case RR_RESP_CR:
      return RR_RESP_CR;
    case RR_RESP_NON_CR_NON_PD:
      return RR_RESP_NON_CR_NON_PD;
    case RR_RESP_NE:
      return RR_RESP_NE;
    default:
      return RR_RESP_ND;
    }
}

/* Best overall response over the timepoints before @limit (the
 * progression), shared by RECIST 1.1 and iRECIST through @map. */
static RrResponse
best_response (const RrCriteriaResult *res, guint limit, gboolean confirmation,
               RrResponse cr, RrResponse pr, RrResponse sd, RrResponse nn)
{
  const RrRead *read = res->read;
  int base_day = TP_DAY (read, 0);
  int best = 0;
  RrResponse best_resp = RR_RESP_NONE;
  GArray *tps = res->timepoints;

  for (guint i = 0; i < tps->len && i + 1 < limit; i++)
    {
      const RrTimepointResult *t = &g_array_index (tps, RrTimepointResult, i);
      RrResponse r = t->overall;
      int rk = 0;
      RrResponse as = RR_RESP_NONE;
      gboolean sd_ok = t->day - base_day >= read->sd_min_days;

      if (r == cr || r == pr)
        {
          gboolean confirmed = !confirmation;
          RrResponse got = r;
          if (confirmation)
            {
              /* The next assessment at least 28 days later, with nothing
               * worse in between, confirms it. */
              got = RR_RESP_NONE;
              for (guint j = i + 1; j < tps->len && j + 1 < limit; j++)
                {
                  const RrTimepointResult *u = &g_array_index (tps, RrTimepointResult, j);
                  gboolean holds = r == cr ? u->overall == cr
                                           : (u->overall == cr || u->overall == pr);
                  if (u->day - t->day < 28)
                    {
                      if (u->overall == RR_RESP_NE || u->overall == RR_RESP_INE ||
                          u->overall == cr || u->overall == pr)
                        continue;
                      break;
                    }
                  if (holds)
                    confirmed = TRUE, got = r;
                  else if (r == cr && u->overall == pr)
                    confirmed = TRUE, got = pr;
                  break;
                }
            }
          if (confirmed)
            {
              rk = got == cr ? 5 : 4;
              as = got;
            }
          else if (sd_ok)
            rk = 3, as = sd;
        }
      else if ((r == sd || r == nn) && sd_ok)
        rk = 3, as = r;
      if (rk > best)
        best = rk, best_resp = as;
    }
  return best_resp;
}

RrCriteriaResult *
rr_recist11_evaluate (const RrRead *read)
{
  RrCriteriaResult *res = rr_criteria_result_new ("recist1.1", read);
  guint ntp = read->timepoints->len;
  g_autoptr (GArray) news = new_lesion_info (read);
  gint64 nadir;
  int t_pd = -1;

  validate (read, res);
  res->has_targets = read->targets->len > 0;
  for (guint i = 0; i < read->targets->len; i++)
    {
      const RrMeas *b = &((RrTargetLesion *) read->targets->pdata[i])->meas[0];
      if (b->kind == RR_MEAS_VALUE || b->kind == RR_MEAS_TSTM)
        res->baseline_sum += b->tenths;
    }
  nadir = res->baseline_sum;

  for (guint t = 1; t < ntp; t++)
    {
      RrTimepointResult tr = { 0 };
      gboolean new_yes = FALSE, new_eq = FALSE;

      tr.id = TP_ID (read, t);
      tr.day = TP_DAY (read, t);
      tr.nadir = nadir;
      tr.evaluable = TRUE;
      tr.iupd_timepoint = -1;
      if (res->has_targets)
        {
          gboolean nonnodal_zero = TRUE, nodes_small = TRUE;
          gint64 s = 0;
          for (guint i = 0; i < read->targets->len; i++)
            {
              RrTargetLesion *tl = read->targets->pdata[i];
              const RrMeas *m = &tl->meas[t];
              switch (m->kind)
                {
                case RR_MEAS_VALUE:
                case RR_MEAS_TSTM:
                  s += m->tenths;
                  if (tl->nodal)
                    nodes_small &= m->tenths < 100;
                  else
                    nonnodal_zero &= m->tenths == 0;
                  break;
                case RR_MEAS_MERGED:
                  break;
                default:
                  tr.evaluable = FALSE;
                }
            }
          tr.sum = s;
          /* 1. PD, on the measured targets alone when some are missing:
           * they are a lower bound of the sum. */
          if (5 * (s - nadir) >= nadir && s - nadir >= 50)
            tr.target = RR_RESP_PD;
          else if (!tr.evaluable)
            tr.target = RR_RESP_NE;
          else if (nonnodal_zero && nodes_small)
            tr.target = RR_RESP_CR;
          else if (10 * s <= 7 * res->baseline_sum)
            tr.target = RR_RESP_PR;
          else
            tr.target = RR_RESP_SD;
          /* An NE timepoint never becomes the nadir. */
          if (tr.evaluable && s < nadir)
            nadir = s;
        }
      else
        tr.target = RR_RESP_ND;

      tr.non_target = non_target_response (read, t);
      for (guint i = 0; i < news->len; i++)
        {
          const NewInfo *n = &g_array_index (news, NewInfo, i);
          if (n->confirmed <= t)
            new_yes = TRUE;
        }
      for (guint i = 0; i < read->new_lesions->len; i++)
        {
          RrNewLesion *nl = read->new_lesions->pdata[i];
          if (nl->timepoint == t && nl->equivocal)
            new_eq = TRUE;
        }
      tr.new_lesions = new_yes ? RR_NEW_YES : new_eq ? RR_NEW_EQUIVOCAL : RR_NEW_NO;
      tr.overall = overall_response (res->has_targets, tr.target, tr.non_target, new_yes);
      if (tr.overall == RR_RESP_PD && t_pd < 0)
        t_pd = (int) t;
      g_array_append_val (res->timepoints, tr);
    }

  /* Progression is dated at the first sighting of a new lesion that was
   * confirmed later. */
  if (t_pd >= 0)
    {
      guint p = (guint) t_pd;
      for (guint i = 0; i < news->len; i++)
        {
          const NewInfo *n = &g_array_index (news, NewInfo, i);
          if (n->confirmed <= (guint) t_pd && n->first_seen < p)
            p = n->first_seen;
        }
      res->progression_timepoint = (int) p;
    }

  /* CR followed by anything but CR or NE: for the reader to confirm. */
  for (guint i = 0; i < res->timepoints->len; i++)
    {
      const RrTimepointResult *a = &g_array_index (res->timepoints, RrTimepointResult, i);
      if (a->overall != RR_RESP_CR)
        continue;
      for (guint j = i + 1; j < res->timepoints->len; j++)
        {
          const RrTimepointResult *b = &g_array_index (res->timepoints, RrTimepointResult, j);
          if (b->overall == RR_RESP_CR || b->overall == RR_RESP_NE)
            continue;
          rr_criteria_add_issue (res->warnings, "cr_then_non_cr", NULL, b->id,
                                 "overall CR at %s is followed by %s at %s: if the CR was real, "
                                 "disease has reappeared and this is PD; if small lesions were "
                                 "still present, revise the CR to PR. Confirm which.",
                                 a->id, rr_response_to_string (b->overall), b->id);
          break;
        }
      break;
    }

  {
    guint limit = res->progression_timepoint >= 0 ? (guint) res->progression_timepoint : ntp;
    RrResponse best = best_response (res, limit, read->confirmation, RR_RESP_CR, RR_RESP_PR,
                                     RR_RESP_SD, RR_RESP_NON_CR_NON_PD);
    gboolean cr_then_worse = read->confirmation &&
                             rr_criteria_has_issue (res->warnings, "cr_then_non_cr");
    if (best != RR_RESP_NONE)
      res->best_overall_response = best;
    else if (t_pd >= 0 || cr_then_worse)
      res->best_overall_response = RR_RESP_PD;
    else if (!res->has_targets && read->non_targets->len == 0)
      res->best_overall_response = RR_RESP_ND;
    else
      res->best_overall_response = RR_RESP_NE;
  }
  return res;
}

static RrCriteriaResult *
evaluate (const RrRead *read)
{
  return rr_recist11_evaluate (read);
}

const RrCriteria rr_criteria_recist11 = {
  "recist1.1",
  "RECIST 1.1",
  evaluate,
};

/* Shared with iRECIST. */
RrResponse
rr_recist11_best_response (const RrCriteriaResult *res, guint limit, gboolean confirmation,
                           RrResponse cr, RrResponse pr, RrResponse sd, RrResponse nn)
{
  return best_response (res, limit, confirmation, cr, pr, sd, nn);
}

RrResponse
rr_recist11_overall (gboolean has_targets, RrResponse target, RrResponse nt, gboolean new_yes)
{
  return overall_response (has_targets, target, nt, new_yes);
}
