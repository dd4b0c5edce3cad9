/* rr-criteria-irecist.c: iRECIST (Seymour 2017 and the RECIST Working
 * Group's answers) beside RECIST 1.1: RECIST PD becomes iUPD, confirmed
 * (iCPD) or reset by the assessments that follow. */
#include "rr-criteria.h"

#include <string.h>

#define TP_ID(read, i) (((RrTimepoint *) (read)->timepoints->pdata[i])->id)
#define TP_DAY(read, i) (((RrTimepoint *) (read)->timepoints->pdata[i])->day)

enum
{
  CAT_TARGET = 1 << 0,
  CAT_NON_TARGET = 1 << 1,
  CAT_NEW = 1 << 2,
};

typedef struct
{
  const char *id;
  guint first_seen;
  guint confirmed;      /* unequivocal from this timepoint on */
  gboolean target;      /* a new-lesion target (measurable, within 5 / 2 per organ) */
  gboolean *increased;  /* per timepoint, for new-lesion non-targets */
  char *organ_key;
  RrMeas meas[];        /* n timepoints, merged from all entries of this id */
} NewLesion;

static void
new_lesion_free (gpointer p)
{
  NewLesion *n = p;
  g_free (n->organ_key);
  g_free (n->increased);
  g_free (n);
}

/* New lesions by id, in the order they became unequivocal; the first five
 * measurable ones (two per organ) are new-lesion targets. */
static GPtrArray *
classify_new (const RrRead *read)
{
  guint ntp = read->timepoints->len;
  GPtrArray *all = g_ptr_array_new_with_free_func (new_lesion_free);
  g_autoptr (GHashTable) per_organ = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  guint n_targets = 0;

  for (guint i = 0; i < read->new_lesions->len; i++)
    {
      RrNewLesion *nl = read->new_lesions->pdata[i];
      NewLesion *n = NULL;
      if (nl->timepoint == G_MAXUINT || nl->timepoint == 0)
        continue;
      for (guint j = 0; j < all->len; j++)
        if (g_str_equal (((NewLesion *) all->pdata[j])->id, nl->id))
          n = all->pdata[j];
      if (n == NULL)
        {
          n = g_malloc0 (sizeof (NewLesion) + ntp * sizeof (RrMeas));
          n->id = nl->id;
          n->first_seen = n->confirmed = G_MAXUINT;
          n->organ_key = rr_criteria_organ_key (nl->organ, nl->nodal);
          n->increased = g_new0 (gboolean, ntp);
          g_ptr_array_add (all, n);
        }
      for (guint k = 0; k < ntp; k++)
        n->increased[k] |= nl->increased[k];
      n->first_seen = MIN (n->first_seen, nl->timepoint);
      if (!nl->equivocal)
        n->confirmed = MIN (n->confirmed, nl->timepoint);
      for (guint k = 0; k < ntp; k++)
        if (nl->meas[k].kind != RR_MEAS_MISSING)
          n->meas[k] = nl->meas[k];
    }
  /* Stable order by confirmation timepoint. */
  for (guint a = 1; a < all->len; a++)
    for (guint b = a; b > 0 && ((NewLesion *) all->pdata[b - 1])->confirmed >
                                   ((NewLesion *) all->pdata[b])->confirmed; b--)
      {
        gpointer tmp = all->pdata[b];
        all->pdata[b] = all->pdata[b - 1];
        all->pdata[b - 1] = tmp;
      }
  for (guint j = 0; j < all->len; j++)
    {
      NewLesion *n = all->pdata[j];
      const RrMeas *m;
      gboolean nodal = g_str_equal (n->organ_key, "lymph node");
      guint in_organ;
      if (n->confirmed == G_MAXUINT)
        continue;
      m = &n->meas[n->confirmed];
      if (m->kind != RR_MEAS_VALUE || m->tenths < (nodal ? 150 : 100))
        continue;
      in_organ = GPOINTER_TO_UINT (g_hash_table_lookup (per_organ, n->organ_key));
      if (n_targets >= 5 || in_organ >= 2)
        continue;
      g_hash_table_replace (per_organ, g_strdup (n->organ_key), GUINT_TO_POINTER (in_organ + 1));
      n->target = TRUE;
      n_targets++;
    }
  return all;
}

/* Sum of the new-lesion targets seen unequivocally by @t. */
static gint64
new_target_sum (GPtrArray *news, guint t, gboolean *any)
{
  gint64 s = 0;
  *any = FALSE;
  for (guint j = 0; j < news->len; j++)
    {
      NewLesion *n = news->pdata[j];
      if (!n->target || n->confirmed > t)
        continue;
      *any = TRUE;
      if (n->meas[t].kind == RR_MEAS_VALUE || n->meas[t].kind == RR_MEAS_TSTM)
        s += n->meas[t].tenths;
      else if (n->meas[t].kind == RR_MEAS_MISSING || n->meas[t].kind == RR_MEAS_NE)
        {
          /* Not re-measured: carry the last known size. */
          for (int k = (int) t - 1; k >= 0; k--)
            if (n->meas[k].kind == RR_MEAS_VALUE || n->meas[k].kind == RR_MEAS_TSTM)
              {
                s += n->meas[k].tenths;
                break;
              }
        }
    }
  return s;
}

static RrResponse
to_i (RrResponse r)
{
  switch (r)
    {
    case RR_RESP_CR:
      return RR_RESP_ICR;
    case RR_RESP_PR:
      return RR_RESP_IPR;
    case RR_RESP_SD:
      return RR_RESP_ISD;
    case RR_RESP_NON_CR_NON_PD:
      return RR_RESP_INN;
    case RR_RESP_NE:
      return RR_RESP_INE;
    case RR_RESP_PD:
      return RR_RESP_IUPD;
    default:
      return r;
    }
}

/* A new lesion has disappeared at @t when its last recorded size is 0:
 * criteria.md counts it as "new lesions: no". Not re-measured means still
 * there; not evaluable is not gone. */
static gboolean
new_lesion_gone (const NewLesion *n, guint t)
{
  for (int k = (int) t; k >= (int) n->first_seen; k--)
    if (n->meas[k].kind != RR_MEAS_MISSING)
      return n->meas[k].kind == RR_MEAS_VALUE && n->meas[k].tenths == 0;
  return FALSE;
}

/* The open iUPD episode: what it confirms against. */
typedef struct
{
  int tp;               /* read index of the iUPD that opened it */
  int day;
  guint cats;           /* the categories in iUPD there */
  gint64 sum;           /* target sum at that iUPD (tenths) */
  gint64 new_sum;       /* new-lesion-target sum at that iUPD */
  int progression;      /* its date: the iUPD, or an earlier equivocal sighting */
} Episode;

static RrCriteriaResult *
evaluate (const RrRead *read)
{
  RrCriteriaResult *rec = rr_recist11_evaluate (read);
  RrCriteriaResult *res = rr_criteria_result_new ("irecist", read);
  guint ntp = read->timepoints->len;
  g_autoptr (GPtrArray) news = classify_new (read);
  enum { NORMAL, UNCONFIRMED, CONFIRMED } state = NORMAL;
  Episode ep = { -1, 0, 0, 0, 0, -1 };
  int cpd_index = -1;
  gint64 ref_new_sum = 0;   /* new-lesion-target sum when the bar was last reset */

  res->recist = rec;
  res->has_targets = rec->has_targets;
  res->baseline_sum = rec->baseline_sum;
  for (guint i = 0; i < rec->violations->len; i++)
    {
      RrIssue *is = rec->violations->pdata[i];
      rr_criteria_add_issue (res->violations, is->rule, is->lesion, is->timepoint, "%s",
                             is->message);
    }

  for (guint t = 1; t < ntp; t++)
    {
      const RrTimepointResult *r = &g_array_index (rec->timepoints, RrTimepointResult, t - 1);
      RrTimepointResult tr = *r;
      gboolean any_nlt;
      gboolean further_new = FALSE, nlnt_growth = FALSE, new_present = FALSE;
      gboolean nt_increased = FALSE;
      gboolean target_pd = r->target == RR_RESP_PD;
      gboolean nt_pd = r->non_target == RR_RESP_PD;
      int day = TP_DAY (read, t);

      tr.new_target_sum = new_target_sum (news, t, &any_nlt);
      tr.has_new_targets = any_nlt;
      for (guint j = 0; j < news->len; j++)
        {
          NewLesion *n = news->pdata[j];
          if (n->confirmed == t)
            further_new = TRUE;
          /* Growth of a new-lesion non-target already recorded. */
          if (!n->target && n->confirmed < t && n->increased[t])
            nlnt_growth = TRUE;
          if (n->confirmed <= t && !new_lesion_gone (n, t))
            new_present = TRUE;
        }
      for (guint j = 0; j < read->non_targets->len; j++)
        {
          RrNonTargetLesion *nt = read->non_targets->pdata[j];
          if (nt->increased && nt->increased[t])
            nt_increased = TRUE;
        }

      if (state == CONFIRMED)
        {
          tr.overall = RR_RESP_ICPD;
          tr.irecist_state = RR_IRECIST_CONFIRMED;
          tr.iupd_timepoint = ep.tp;
        }
      else if (state == NORMAL)
        {
          /* A new iUPD needs new progression since the bar was (re)set: a
           * category meeting PD, a further new lesion, or growth of the new
           * lesions already recorded (>= 5 mm in their target sum, any
           * increase of a non-target one). */
          gboolean new_growth = (any_nlt && tr.new_target_sum - ref_new_sum >= 50) ||
                                nlnt_growth;
          if (target_pd || nt_pd || further_new || new_growth)
            {
              state = UNCONFIRMED;
              ep.tp = (int) t;
              ep.day = day;
              ep.sum = r->sum;
              ep.new_sum = tr.new_target_sum;
              ep.cats = (target_pd ? CAT_TARGET : 0) | (nt_pd ? CAT_NON_TARGET : 0) |
                        ((further_new || new_growth) ? CAT_NEW : 0);
              /* Dated at the first sighting of a new lesion confirmed now. */
              ep.progression = (int) t;
              for (guint j = 0; j < news->len; j++)
                {
                  NewLesion *n = news->pdata[j];
                  if (n->confirmed == t && (int) n->first_seen < ep.progression)
                    ep.progression = (int) n->first_seen;
                }
              tr.overall = RR_RESP_IUPD;
              tr.irecist_state = RR_IRECIST_IUPD;
              tr.iupd_timepoint = ep.tp;
              tr.confirmable_from_day = ep.day + 28;
            }
          else
            tr.overall = to_i (rr_recist11_overall (res->has_targets, r->target, r->non_target,
                                                    FALSE));
        }
      else
        {
          /* After iUPD. Rule "confirmation": it comes at the first
           * assessment at least 4 weeks after the iUPD (8 weeks is only a
           * recommendation, and a later one confirms as well); under 4
           * weeks only a further new lesion confirms (J4). At a confirming
           * assessment a category already in iUPD must worsen beyond its
           * iUPD; any other category confirms by now meeting PD. */
          gboolean cpd = further_new;
          if (day - ep.day >= 28)
            {
              if (ep.cats & CAT_TARGET)
                /* A further 5 mm over the sum at the iUPD, additive across
                 * assessments (J3). */
                cpd |= r->sum - ep.sum >= 50;
              else
                cpd |= target_pd;
              /* Non-targets recorded in unequivocal progression at the
               * confirming assessment. */
              cpd |= nt_pd;
              /* A non-target category already in iUPD confirms by any
               * further increase, which need not be unequivocal (Table 2);
               * an increase alone does not confirm another category's
               * iUPD. */
              if (ep.cats & CAT_NON_TARGET)
                cpd |= nt_increased;
              /* New lesions: their target sum a further 5 mm, or any
               * increase of a new-lesion non-target. */
              if (any_nlt)
                cpd |= tr.new_target_sum - ep.new_sum >= 50;
              cpd |= nlnt_growth;
            }
          /* Unless it resets below, the timepoint awaits confirmation of
           * the episode's iUPD. */
          tr.irecist_state = RR_IRECIST_AWAITING;
          tr.iupd_timepoint = ep.tp;
          tr.confirmable_from_day = ep.day + 28;
          if (cpd)
            {
              tr.overall = RR_RESP_ICPD;
              tr.irecist_state = RR_IRECIST_CONFIRMED;
              state = CONFIRMED;
              cpd_index = (int) t;
            }
          else if (target_pd || nt_pd || ((ep.cats & CAT_NON_TARGET) && nt_increased))
            /* Rule "an iUPD timepoint never resets": a category meets PD
             * here (or the non-targets in iUPD grew further), however soon
             * after the first iUPD; the episode, its date and its 4 weeks
             * stay those of the first iUPD. */
            tr.overall = RR_RESP_IUPD;
          else
            {
              RrResponse own = to_i (rr_recist11_overall (res->has_targets, r->target,
                                                          r->non_target, FALSE));
              gboolean reset;
              if (new_present)
                {
                  /* Rule J2: targets that reach iPR or iCR by shrinking
                   * after the iUPD give iPR or iCR (Table 2 on the targets
                   * and non-targets) even while an unchanged new lesion is
                   * still there. Otherwise new lesions "yes": still iUPD
                   * (the FAQ's scenario F: PR reached before the iUPD, and
                   * no change since). */
                  reset = res->has_targets &&
                          (r->target == RR_RESP_PR || r->target == RR_RESP_CR) &&
                          r->sum < ep.sum && tr.new_target_sum <= ep.new_sum &&
                          !nlnt_growth && own != RR_RESP_INE;
                }
              else
                /* Rule "reset": with the new lesions gone (measured 0:
                 * "new lesions: no"), Table 2 decides. iSD, iPR, iCR, or
                 * for non-target disease only iCR / iNON_CR_NON_PD, leave
                 * the iUPD; iNE neither resets nor confirms. */
                reset = own != RR_RESP_INE;
              if (reset)
                {
                  /* The bar resets: a new iUPD needs new progression. */
                  state = NORMAL;
                  ep.cats = 0;
                  ref_new_sum = tr.new_target_sum;
                  tr.overall = own;
                  tr.irecist_state = RR_IRECIST_RESET;
                }
              else
                tr.overall = new_present ? RR_RESP_IUPD : own;
            }
        }
      tr.target = to_i (r->target);
      tr.non_target = to_i (r->non_target);
      g_array_append_val (res->timepoints, tr);
    }

  /* Progression is the iUPD that was confirmed, dated at that iUPD. */
  res->progression_timepoint = cpd_index >= 0 ? ep.progression : -1;
  if (state == UNCONFIRMED)
    rr_criteria_add_issue (res->warnings, "unconfirmed_progression", NULL, TP_ID (read, ep.tp),
                           "iUPD at %s is not confirmed yet: the first assessment at least 4 "
                           "weeks later confirms it (iCPD) or, if the disease no longer "
                           "progresses, resets it", TP_ID (read, ep.tp));
  {
    /* iBOR: the best of iCR, iPR, iSD, iNON_CR_NON_PD recorded before
     * iCPD (Table 3, examples 2-5); otherwise iCPD where progression was
     * confirmed, iUPD where it was not, iNE where nothing was evaluable. */
    guint limit = cpd_index >= 0 ? (guint) cpd_index : ntp;
    RrResponse best = rr_recist11_best_response (res, limit,
                                                 read->confirmation, RR_RESP_ICR, RR_RESP_IPR,
                                                 RR_RESP_ISD, RR_RESP_INN);
    gboolean any_upd = FALSE;
    for (guint i = 0; i < res->timepoints->len; i++)
      any_upd |= g_array_index (res->timepoints, RrTimepointResult, i).overall == RR_RESP_IUPD;
    if (best != RR_RESP_NONE)
      res->best_overall_response = best;
    else if (cpd_index >= 0)
      res->best_overall_response = RR_RESP_ICPD;
    else if (any_upd)
      res->best_overall_response = RR_RESP_IUPD;
    else if (!res->has_targets && read->non_targets->len == 0)
      res->best_overall_response = RR_RESP_ND;
    else
      res->best_overall_response = RR_RESP_INE;
  }
  return res;
}

const RrCriteria rr_criteria_irecist = {
  "irecist",
  "iRECIST",
  evaluate,
};
