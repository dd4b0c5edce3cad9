/* rr-criteria.c: the criteria registry, results, and their JSON (cli.md).
 * The rules themselves live in one file per set of criteria. */
#include "rr-criteria.h"
#include "rr-json-writer.h"

#include <string.h>

static const RrCriteria *const all_criteria[] = {
  &rr_criteria_recist11,
  &rr_criteria_irecist,
};

const RrCriteria *
rr_criteria_lookup (const char *id)
{
  for (guint i = 0; i < G_N_ELEMENTS (all_criteria); i++)
    if (g_strcmp0 (all_criteria[i]->id, id) == 0)
      return all_criteria[i];
  return NULL;
}

RrCriteriaResult *
rr_criteria_evaluate (const RrRead  *read,
                      GError       **error)
{
  const RrCriteria *c = rr_criteria_lookup (read->criteria);
  if (c == NULL)
    {
      GString *known = g_string_new (NULL);
      for (guint i = 0; i < G_N_ELEMENTS (all_criteria); i++)
        g_string_append_printf (known, "%s%s", i ? ", " : "", all_criteria[i]->id);
      g_set_error (error, RR_READ_ERROR, RR_READ_ERROR_INVALID,
                   "unknown criteria \"%s\" (known: %s)", read->criteria, known->str);
      g_string_free (known, TRUE);
      return NULL;
    }
  return c->evaluate (read);
}

static void
issue_free (gpointer p)
{
  RrIssue *i = p;
  g_free (i->rule);
  g_free (i->lesion);
  g_free (i->timepoint);
  g_free (i->message);
  g_free (i);
}

RrCriteriaResult *
rr_criteria_result_new (const char   *criteria,
                        const RrRead *read)
{
  RrCriteriaResult *r = g_new0 (RrCriteriaResult, 1);
  r->criteria = g_strdup (criteria);
  r->timepoints = g_array_new (FALSE, TRUE, sizeof (RrTimepointResult));
  r->violations = g_ptr_array_new_with_free_func (issue_free);
  r->warnings = g_ptr_array_new_with_free_func (issue_free);
  r->progression_timepoint = -1;
  r->read = read;
  return r;
}

void
rr_criteria_result_free (RrCriteriaResult *result)
{
  if (result == NULL)
    return;
  g_free (result->criteria);
  g_array_unref (result->timepoints);
  g_ptr_array_unref (result->violations);
  g_ptr_array_unref (result->warnings);
  rr_criteria_result_free (result->recist);
  g_free (result);
}

void
rr_criteria_add_issue (GPtrArray  *issues,
                       const char *rule,
                       const char *lesion,
                       const char *timepoint,
                       const char *format,
                       ...)
{
  RrIssue *i = g_new0 (RrIssue, 1);
  va_list ap;
  i->rule = g_strdup (rule);
  i->lesion = g_strdup (lesion);
  i->timepoint = g_strdup (timepoint);
  va_start (ap, format);
  i->message = g_strdup_vprintf (format, ap);
  va_end (ap);
  g_ptr_array_add (issues, i);
}

gboolean
rr_criteria_has_issue (GPtrArray  *issues,
                       const char *rule)
{
  for (guint i = 0; i < issues->len; i++)
    if (g_str_equal (((RrIssue *) issues->pdata[i])->rule, rule))
      return TRUE;
  return FALSE;
}

char *
rr_criteria_organ_key (const char *organ,
                       gboolean    nodal)
{
  g_autofree char *lower = NULL;
  g_auto (GStrv) words = NULL;
  GString *key = g_string_new (NULL);

  if (nodal)
    {
      g_string_free (key, TRUE);
      return g_strdup ("lymph node");
    }
  lower = g_utf8_strdown (organ ? organ : "", -1);
  g_strdelimit (lower, ",;:/()-_", ' ');
  words = g_strsplit (lower, " ", -1);
  for (guint i = 0; words[i]; i++)
    {
      const char *w = words[i];
      if (*w == '\0' || g_str_equal (w, "left") || g_str_equal (w, "right") ||
          g_str_equal (w, "bilateral") || g_str_equal (w, "l") || g_str_equal (w, "r"))
        continue;
      if (key->len)
        g_string_append_c (key, ' ');
      g_string_append (key, w);
    }
  /* "lungs", "kidneys": the organ, not its count. */
  if (key->len > 3 && key->str[key->len - 1] == 's' && key->str[key->len - 2] != 's')
    g_string_truncate (key, key->len - 1);
  return g_string_free (key, FALSE);
}

gint64
rr_pct_tenths (gint64 value,
               gint64 reference)
{
  gint64 num, q;
  if (reference <= 0)
    return 0;
  num = 1000 * (value - reference);
  q = (2 * (num < 0 ? -num : num) + reference) / (2 * reference);
  return num < 0 ? -q : q;
}

const char *
rr_response_to_string (RrResponse response)
{
  switch (response)
    {
    case RR_RESP_CR:
      return "CR";
    case RR_RESP_PR:
      return "PR";
    case RR_RESP_SD:
      return "SD";
    case RR_RESP_PD:
      return "PD";
    case RR_RESP_NE:
      return "NE";
    case RR_RESP_NON_CR_NON_PD:
      return "NON_CR_NON_PD";
    case RR_RESP_ND:
      return "ND";
    case RR_RESP_ICR:
      return "iCR";
    case RR_RESP_IPR:
      return "iPR";
    case RR_RESP_ISD:
      return "iSD";
    case RR_RESP_INN:
      return "iNON_CR_NON_PD";
    case RR_RESP_IUPD:
      return "iUPD";
    case RR_RESP_ICPD:
      return "iCPD";
    case RR_RESP_INE:
      return "iNE";
    default:
      return NULL;
    }
}

const char *
rr_new_status_to_string (RrNewStatus status)
{
  switch (status)
    {
    case RR_NEW_YES:
      return "yes";
    case RR_NEW_EQUIVOCAL:
      return "equivocal";
    default:
      return "no";
    }
}

const char *
rr_irecist_state_to_string (RrIrecistState state)
{
  switch (state)
    {
    case RR_IRECIST_IUPD:
      return "iUPD";
    case RR_IRECIST_AWAITING:
      return "awaiting_confirmation";
    case RR_IRECIST_CONFIRMED:
      return "confirmed";
    case RR_IRECIST_RESET:
      return "reset";
    default:
      return NULL;
    }
}

static void
write_mm (RrJsonWriter *w, gint64 tenths)
{
  rr_json_tenths (w, tenths);
}

static void
write_pct (RrJsonWriter *w, gint64 value, gint64 reference)
{
  if (reference <= 0)
    rr_json_null (w);
  else
    rr_json_tenths (w, rr_pct_tenths (value, reference));
}

static void
write_issues (RrJsonWriter *w, GPtrArray *issues)
{
  rr_json_begin_array (w);
  for (guint i = 0; i < issues->len; i++)
    {
      RrIssue *is = issues->pdata[i];
      rr_json_begin_object (w);
      rr_json_key (w, "rule");
      rr_json_string (w, is->rule);
      rr_json_key (w, "lesion");
      rr_json_string (w, is->lesion);
      rr_json_key (w, "timepoint");
      rr_json_string (w, is->timepoint);
      rr_json_key (w, "message");
      rr_json_string (w, is->message);
      rr_json_end_object (w);
    }
  rr_json_end_array (w);
}

static void
write_result (RrJsonWriter *w, const RrCriteriaResult *r)
{
  const RrRead *read = r->read;
  gboolean irecist = g_str_equal (r->criteria, "irecist");

  rr_json_begin_object (w);
  rr_json_key (w, "criteria");
  rr_json_string (w, r->criteria);
  rr_json_key (w, "baseline");
  rr_json_begin_object (w);
  rr_json_key (w, "sum_mm");
  if (r->has_targets)
    write_mm (w, r->baseline_sum);
  else
    rr_json_null (w);
  rr_json_end_object (w);
  rr_json_key (w, "timepoints");
  rr_json_begin_array (w);
  for (guint i = 0; i < r->timepoints->len; i++)
    {
      const RrTimepointResult *t = &g_array_index (r->timepoints, RrTimepointResult, i);
      gboolean known = r->has_targets && t->evaluable;
      rr_json_begin_object (w);
      rr_json_key (w, "id");
      rr_json_string (w, t->id);
      rr_json_key (w, "sum_mm");
      if (known)
        write_mm (w, t->sum);
      else
        rr_json_null (w);
      rr_json_key (w, "nadir_mm");
      if (r->has_targets)
        write_mm (w, t->nadir);
      else
        rr_json_null (w);
      rr_json_key (w, "change_from_baseline_pct");
      if (known)
        write_pct (w, t->sum, r->baseline_sum);
      else
        rr_json_null (w);
      rr_json_key (w, "change_from_nadir_pct");
      if (known)
        write_pct (w, t->sum, t->nadir);
      else
        rr_json_null (w);
      rr_json_key (w, "target");
      rr_json_string (w, rr_response_to_string (t->target));
      rr_json_key (w, "non_target");
      rr_json_string (w, rr_response_to_string (t->non_target));
      rr_json_key (w, "new_lesions");
      rr_json_string (w, rr_new_status_to_string (t->new_lesions));
      if (irecist)
        {
          rr_json_key (w, "new_lesion_target_sum_mm");
          if (t->has_new_targets)
            write_mm (w, t->new_target_sum);
          else
            rr_json_null (w);
          rr_json_key (w, "irecist_state");
          rr_json_string (w, rr_irecist_state_to_string (t->irecist_state));
          rr_json_key (w, "iupd_timepoint");
          if (t->irecist_state != RR_IRECIST_NONE && t->iupd_timepoint >= 0)
            rr_json_string (w, ((RrTimepoint *) read->timepoints->pdata[t->iupd_timepoint])->id);
          else
            rr_json_null (w);
          rr_json_key (w, "confirmation_from_day");
          if (t->irecist_state == RR_IRECIST_IUPD || t->irecist_state == RR_IRECIST_AWAITING)
            rr_json_int (w, t->confirmable_from_day);
          else
            rr_json_null (w);
        }
      rr_json_key (w, "overall");
      rr_json_string (w, rr_response_to_string (t->overall));
      rr_json_end_object (w);
    }
  rr_json_end_array (w);
  rr_json_key (w, "best_overall_response");
  rr_json_string (w, rr_response_to_string (r->best_overall_response));
  rr_json_key (w, "progression_timepoint");
  if (r->progression_timepoint >= 0)
    rr_json_string (w, ((RrTimepoint *) read->timepoints->pdata[r->progression_timepoint])->id);
  else
    rr_json_null (w);
  rr_json_key (w, "violations");
  write_issues (w, r->violations);
  rr_json_key (w, "warnings");
  write_issues (w, r->warnings);
  if (r->recist)
    {
      rr_json_key (w, "recist1.1");
      write_result (w, r->recist);
    }
  rr_json_end_object (w);
}

char *
rr_criteria_result_to_json (const RrCriteriaResult *result)
{
  g_autoptr (RrJsonWriter) w = rr_json_writer_new (TRUE);
  write_result (w, result);
  return rr_json_writer_steal (w);
}
