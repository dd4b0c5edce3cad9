/* rr-response-text.c: the criteria engine's results in words: what the
 * lesion form shows as the reader measures, and what the signing dialog
 * and the report say, in the same words. */
#include "rr-response-text.h"
#include "rr-organs.h"

#include <glib/gi18n.h>

const char *
rr_response_words (RrResponse r)
{
  switch (r)
    {
    case RR_RESP_CR: return _("complete response (CR)");
    case RR_RESP_PR: return _("partial response (PR)");
    case RR_RESP_SD: return _("stable disease (SD)");
    case RR_RESP_PD: return _("progressive disease (PD)");
    case RR_RESP_NE: return _("not evaluable (NE)");
    case RR_RESP_NON_CR_NON_PD: return _("non-CR/non-PD");
    case RR_RESP_ND: return _("no disease of this kind (ND)");
    case RR_RESP_ICR: return "iCR";
    case RR_RESP_IPR: return "iPR";
    case RR_RESP_ISD: return "iSD";
    case RR_RESP_INN: return "iNon-CR/non-PD";
    case RR_RESP_IUPD: return "iUPD";
    case RR_RESP_ICPD: return "iCPD";
    case RR_RESP_INE: return "iNE";
    default: return _("not assessed");
    }
}

const char *
rr_response_short (RrResponse r)
{
  switch (r)
    {
    case RR_RESP_NON_CR_NON_PD: return _("non-CR/non-PD");
    case RR_RESP_INN: return "iNon-CR/non-PD";
    case RR_RESP_NONE: return _("not assessed");
    default:
      /* The others' codes are the abbreviations the criteria print. */
      return rr_response_to_string (r) ? rr_response_to_string (r) : _("not assessed");
    }
}

const char *
rr_response_code_words (const char *code)
{
  if (code == NULL || *code == '\0')
    return _("not assessed");
  for (RrResponse r = RR_RESP_NONE + 1; r <= RR_RESP_INE; r++)
    if (g_strcmp0 (rr_response_to_string (r), code) == 0)
      return rr_response_words (r);
  return code;
}

const char *
rr_response_code_short (const char *code)
{
  if (code == NULL || *code == '\0')
    return "—";
  for (RrResponse r = RR_RESP_NONE + 1; r <= RR_RESP_INE; r++)
    if (g_strcmp0 (rr_response_to_string (r), code) == 0)
      return rr_response_short (r);
  return code;
}

const char *
rr_new_status_words (RrNewStatus s)
{
  return s == RR_NEW_YES ? _("yes") : s == RR_NEW_EQUIVOCAL ? _("equivocal") : _("no");
}

const char *
rr_new_status_code_words (const char *code)
{
  if (g_strcmp0 (code, rr_new_status_to_string (RR_NEW_YES)) == 0)
    return rr_new_status_words (RR_NEW_YES);
  if (g_strcmp0 (code, rr_new_status_to_string (RR_NEW_EQUIVOCAL)) == 0)
    return rr_new_status_words (RR_NEW_EQUIVOCAL);
  if (g_strcmp0 (code, rr_new_status_to_string (RR_NEW_NO)) == 0)
    return rr_new_status_words (RR_NEW_NO);
  return code ? code : "";
}

char *
rr_mm_text (gint64 tenths)
{
  return g_strdup_printf (_("%" G_GINT64_FORMAT ".%d mm"), tenths / 10, (int) (tenths % 10));
}

char *
rr_meas_words (const RrMeas *m)
{
  switch (m ? m->kind : RR_MEAS_MISSING)
    {
    case RR_MEAS_VALUE:
      {
        g_autofree char *v = rr_mm_text (m->tenths);
        if (m->n_fragments > 1)
          return g_strdup_printf (g_dngettext (NULL, "%s (%u fragment)", "%s (%u fragments)",
                                               m->n_fragments), v, m->n_fragments);
        return g_steal_pointer (&v);
      }
    case RR_MEAS_TSTM: return g_strdup (_("too small to measure (5 mm)"));
    case RR_MEAS_NE: return g_strdup (_("not evaluable"));
    case RR_MEAS_MERGED: return g_strdup (_("merged into another target (0 mm)"));
    case RR_MEAS_MISSING:
    default:
      return NULL;
    }
}

const char *
rr_nt_status_words (RrNonTargetStatus s)
{
  switch (s)
    {
    case RR_NT_PRESENT: return _("present");
    case RR_NT_ABSENT: return _("absent");
    case RR_NT_UNEQUIVOCAL_PROGRESSION: return _("unequivocal progression");
    case RR_NT_NE: return _("not evaluable");
    case RR_NT_MISSING:
    default:
      return NULL;
    }
}

const char *
rr_organ_words (const char *organ)
{
  const RrOrgan *o = organ ? rr_organs_lookup (organ) : NULL;
  return o ? _(o->label) : organ ? organ : "";
}

char *
rr_pct_text (gint64 value,
             gint64 reference)
{
  gint64 p = rr_pct_tenths (value, reference);
  gint64 a = p < 0 ? -p : p;
  return g_strdup_printf ("%s%" G_GINT64_FORMAT ".%d %%", p < 0 ? "−" : p > 0 ? "+" : "", a / 10,
                          (int) (a % 10));
}

/* iRECIST: where the timepoint stands in the confirmation of progression
 * (criteria.md, "Precisely"), so the reader knows whether the next scan
 * can confirm an iUPD, and from which day. */
static void
irecist_state_text (GString                 *text,
                    const RrRead            *read,
                    const RrTimepointResult *t)
{
  const char *iupd = "";

  if (t->irecist_state == RR_IRECIST_NONE)
    return;
  if (t->iupd_timepoint >= 0 && (guint) t->iupd_timepoint < read->timepoints->len)
    iupd = ((const RrTimepoint *) read->timepoints->pdata[t->iupd_timepoint])->id;
  switch (t->irecist_state)
    {
    case RR_IRECIST_IUPD:
      g_string_append_printf (text, _("\niUPD: unconfirmed; an assessment from day %d on can "
                                      "confirm it"), t->confirmable_from_day);
      break;
    case RR_IRECIST_AWAITING:
      g_string_append_printf (text, _("\nAwaiting confirmation of the iUPD at %s, from day %d"),
                              iupd, t->confirmable_from_day);
      break;
    case RR_IRECIST_CONFIRMED:
      g_string_append_printf (text, _("\nConfirmed: iCPD, progression dated at %s"), iupd);
      break;
    case RR_IRECIST_RESET:
      g_string_append_printf (text, _("\nReset: the iUPD at %s is no longer the bar"), iupd);
      break;
    case RR_IRECIST_NONE:
      break;
    }
}

char *
rr_response_summary (const RrRead           *read,
                     const RrCriteriaResult *result)
{
  g_autoptr (GString) text = g_string_new (NULL);

  {
    g_autofree char *sum = rr_mm_text (result->baseline_sum);
    g_string_append_printf (text, _("Baseline sum: %s"), sum);
  }
  for (guint i = 0; i < result->timepoints->len; i++)
    {
      const RrTimepointResult *t = &g_array_index (result->timepoints, RrTimepointResult, i);
      g_autofree char *sum = rr_mm_text (t->sum), *nadir = rr_mm_text (t->nadir);
      g_autofree char *bl = rr_pct_text (t->sum, result->baseline_sum);
      g_autofree char *nd = rr_pct_text (t->sum, t->nadir);
      g_string_append_printf (text, "\n\n%s (%s %d)\n", t->id, _("day"), t->day);
      if (t->evaluable)
        g_string_append_printf (text, _("Sum %s · nadir %s\n%s from baseline · %s from nadir\n"),
                                sum, nadir, bl, nd);
      else
        g_string_append_printf (text, _("Sum of the measured targets %s (not every target is "
                                        "evaluated)\n"), sum);
      g_string_append_printf (text, _("Targets: %s\nNon-targets: %s\nNew lesions: %s\nOverall: %s"),
                              rr_response_words (t->target), rr_response_words (t->non_target),
                              rr_new_status_words (t->new_lesions),
                              rr_response_words (t->overall));
      if (t->has_new_targets)
        {
          g_autofree char *nt = rr_mm_text (t->new_target_sum);
          g_string_append_printf (text, _("\nNew-lesion sum: %s"), nt);
        }
      irecist_state_text (text, read, t);
    }
  if (result->timepoints->len)
    g_string_append_printf (text, _("\n\nBest overall response: %s"),
                            rr_response_words (result->best_overall_response));
  return g_string_free (g_steal_pointer (&text), FALSE);
}
