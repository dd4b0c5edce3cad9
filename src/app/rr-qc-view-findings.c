/* rr-qc-view-findings.c: the QC workspace's findings as data: made from
 * the automated results, a kept draft or a query, and written as the draft
 * and as server-api.md's submission. */
#include "rr-qc-view-private.h"
#include "rr-json-writer.h"

#include <glib/gi18n.h>
#include <string.h>

#define MAX_FINDINGS 1000
#define MAX_COMMENT  4000
#define MAX_UID      64

const char *const rr_qc_categories[RR_QC_N_CATEGORIES + 1] = {
  "wrong_modality", "incomplete_coverage", "slice_thickness", "missing_slices",
  "motion_artifact", "contrast_phase", "phi_present", "wrong_subject_or_visit",
  "image_quality", "other", NULL
};

const char *const rr_qc_severities[3] = { "minor", "major", NULL };

RrQcViewFinding *
rr_qc_view_finding_new (void)
{
  RrQcViewFinding *f = g_new0 (RrQcViewFinding, 1);
  f->id = g_uuid_string_random ();
  f->category = g_strdup ("other");
  f->severity = g_strdup ("major");
  f->comment = g_strdup ("");
  return f;
}

void
rr_qc_view_finding_free (RrQcViewFinding *f)
{
  if (f == NULL)
    return;
  g_free (f->id);
  g_free (f->series);
  g_free (f->sop);
  g_free (f->category);
  g_free (f->severity);
  g_free (f->comment);
  g_clear_pointer (&f->shape, rr_measurement_free);
  g_free (f->shape_json);
  g_free (f);
}

static gboolean
one_of (const char        *s,
        const char *const *words)
{
  for (guint i = 0; s && words[i]; i++)
    if (g_str_equal (s, words[i]))
      return TRUE;
  return FALSE;
}

static const char *
string_of (JsonObject *o,
           const char *name,
           gsize       max)
{
  JsonNode *n = json_object_get_member (o, name);
  const char *s;
  if (n == NULL || !JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_STRING)
    return NULL;
  s = json_node_get_string (n);
  return s && strlen (s) <= max && g_utf8_validate (s, -1, NULL) ? s : NULL;
}

GPtrArray *
rr_qc_findings_from_json (JsonArray *a,
                          gboolean   automated)
{
  GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify) rr_qc_view_finding_free);
  for (guint i = 0; a && i < json_array_get_length (a) && out->len < MAX_FINDINGS; i++)
    {
      JsonNode *e = json_array_get_element (a, i);
      JsonObject *o = JSON_NODE_HOLDS_OBJECT (e) ? json_node_get_object (e) : NULL;
      g_autoptr (RrQcViewFinding) f = NULL;
      JsonNode *n;
      const char *category = o ? string_of (o, "category", 64) : NULL;
      const char *severity = o ? string_of (o, "severity", 16) : NULL;

      if (!one_of (category, rr_qc_categories) || !one_of (severity, rr_qc_severities))
        continue;
      f = rr_qc_view_finding_new ();
      g_free (f->category);
      g_free (f->severity);
      g_free (f->comment);
      f->category = g_strdup (category);
      f->severity = g_strdup (severity);
      f->comment = g_strdup (string_of (o, "comment", MAX_COMMENT) ? string_of (o, "comment",
                                                                                MAX_COMMENT)
                                                                    : "");
      f->series = g_strdup (string_of (o, "series", MAX_UID));
      f->sop = g_strdup (string_of (o, "sop", MAX_UID));
      n = json_object_get_member (o, "frame");
      if (n && JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_INT64 &&
          json_node_get_int (n) >= 0 && json_node_get_int (n) < (1 << 20))
        f->frame = (guint) json_node_get_int (n);
      f->automated = automated || json_object_get_boolean_member_with_default (o, "automated",
                                                                               FALSE);
      n = json_object_get_member (o, "shape");
      if (n && JSON_NODE_HOLDS_OBJECT (n))
        f->shape_json = json_to_string (n, FALSE);
      n = json_object_get_member (o, "measurement");
      if (n && JSON_NODE_HOLDS_OBJECT (n))
        {
          g_autofree char *m = json_to_string (n, FALSE);
          f->shape = rr_measurement_from_json (m, NULL);
          if (f->shape)
            {
              g_free (f->id);
              f->id = g_strdup (f->shape->id);
            }
        }
      g_ptr_array_add (out, g_steal_pointer (&f));
    }
  return out;
}

static void
write_finding (RrJsonWriter      *w,
               const RrQcViewFinding *f,
               gboolean           draft)
{
  rr_json_begin_object (w);
  if (f->series)
    {
      rr_json_key (w, "series");
      rr_json_string (w, f->series);
    }
  if (f->sop)
    {
      rr_json_key (w, "sop");
      rr_json_string (w, f->sop);
      rr_json_key (w, "frame");
      rr_json_int (w, f->frame);
    }
  rr_json_key (w, "category");
  rr_json_string (w, f->category);
  rr_json_key (w, "severity");
  rr_json_string (w, f->severity);
  /* The server takes no empty comment: none is left out. */
  if (f->comment && *f->comment)
    {
      rr_json_key (w, "comment");
      rr_json_string (w, f->comment);
    }
  if (f->shape_json)
    {
      rr_json_key (w, "shape");
      rr_json_raw (w, f->shape_json);
    }
  if (draft)
    {
      rr_json_key (w, "automated");
      rr_json_bool (w, f->automated);
      if (f->shape)
        {
          g_autofree char *m = rr_measurement_to_json (f->shape);
          rr_json_key (w, "measurement");
          rr_json_raw (w, m);
        }
    }
  rr_json_end_object (w);
}

static char *
findings_doc (GPtrArray  *findings,
              const char *decision,
              gboolean    draft)
{
  g_autoptr (RrJsonWriter) w = rr_json_writer_new (FALSE);
  rr_json_begin_object (w);
  if (draft)
    {
      /* Told apart from the reading window's draft of the same task. */
      rr_json_key (w, "qc_draft");
      rr_json_int (w, 1);
    }
  rr_json_key (w, "decision");
  if (decision)
    rr_json_string (w, decision);
  else
    rr_json_null (w);
  rr_json_key (w, "findings");
  rr_json_begin_array (w);
  for (guint i = 0; findings && i < findings->len; i++)
    write_finding (w, findings->pdata[i], draft);
  rr_json_end_array (w);
  rr_json_end_object (w);
  return rr_json_writer_steal (w);
}

char *
rr_qc_draft_to_json (GPtrArray  *findings,
                     const char *decision)
{
  return findings_doc (findings, decision, TRUE);
}

char *
rr_qc_submission_json (GPtrArray  *findings,
                       const char *decision)
{
  return findings_doc (findings, decision, FALSE);
}

char *
rr_qc_category_text (const char *category)
{
  char *s = g_strdup (category ? category : "");
  /* An abbreviation stays in capitals (walk c1: "Phi present"). */
  if (g_str_has_prefix (s, "phi_") || g_str_equal (s, "phi"))
    memcpy (s, "PHI", 3);
  for (char *c = s; *c; c++)
    if (*c == '_')
      *c = ' ';
  if (*s)
    s[0] = g_ascii_toupper (s[0]);
  return s;
}

guint
rr_qc_open_major (GPtrArray *findings)
{
  guint n = 0;
  for (guint i = 0; findings && i < findings->len; i++)
    {
      const RrQcViewFinding *f = findings->pdata[i];
      if (g_strcmp0 (f->severity, "major") == 0)
        n++;
    }
  return n;
}

char *
rr_qc_sign_meaning (const char *decision,
                    guint       n_major,
                    const char *rationale)
{
  g_autofree char *why = g_strstrip (g_strdup (rationale ? rationale : ""));
  if (decision == NULL)
    return NULL;
  if (g_str_equal (decision, "fail"))
    return g_strdup (_("I reviewed the quality of these images against the trial's protocol: "
                       "they fail"));
  if (g_str_equal (decision, "query"))
    return g_strdup (_("I reviewed the quality of these images against the trial's protocol: "
                       "the site is queried"));
  if (!g_str_equal (decision, "pass"))
    return NULL;
  if (n_major == 0)
    return g_strdup (_("I reviewed the quality of these images against the trial's protocol: "
                       "they pass"));
  /* A pass over open major findings (left PHI, say) is the reviewer's
   * explicit choice, and why is kept where the signature is. */
  if (*why == '\0' || !g_utf8_validate (why, -1, NULL) ||
      g_utf8_strlen (why, -1) > RR_QC_RATIONALE_MAX)
    return NULL;
  return g_strdup_printf (g_dngettext (NULL,
                                       "I reviewed these images against the protocol: they pass "
                                       "despite %u major finding, because: %s",
                                       "I reviewed these images against the protocol: they pass "
                                       "despite %u major findings, because: %s", n_major),
                          n_major, why);
}
