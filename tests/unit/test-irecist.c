/* test-irecist.c: iRECIST as criteria.md's "Precisely" section states it
 * (Seymour et al., Lancet Oncol 2017, Tables 2 and 3; the EORTC RECIST
 * FAQ), rule by rule, with each rule's boundary, the paper's Table 3
 * examples 1-8, and RECIST 1.1's measurability boundaries at baseline.
 *
 * Every expected value below is derived by hand from criteria.md; the
 * derivation is in the comment above each read. */
#include "rr-criteria.h"

#include <stdlib.h>
#include <string.h>

/* ---- a compact way to write reads ----
 *
 * Timepoints: "d56 d112 d168": the id is the name, the day its number;
 * the baseline "BL" (day 0) comes first without being named.
 * Lesions, separated by ';', each "ID ORGAN v v v ..." with one value per
 * timepoint, baseline first:
 *   targets and new lesions: millimetres, NE, TSTM, or - (nothing recorded);
 *   non-targets: P present, A absent, UP unequivocal progression, NE, -.
 * A value ending in '+' also marks the lesion "increased" at that timepoint
 * ("+" alone: increased, no size). An organ containing "node" is nodal. A
 * new lesion is recorded (unequivocal) at its first value. */

typedef struct
{
  GPtrArray *ids;  /* timepoint ids, BL first */
} Tps;

static Tps
tps_parse (const char *names)
{
  Tps t = { g_ptr_array_new_with_free_func (g_free) };
  g_auto (GStrv) v = g_strsplit_set (names, " ", -1);
  g_ptr_array_add (t.ids, g_strdup ("BL"));
  for (guint i = 0; v[i]; i++)
    if (*v[i])
      g_ptr_array_add (t.ids, g_strdup (v[i]));
  return t;
}

static int
tp_day (const char *id)
{
  return g_str_equal (id, "BL") ? 0 : atoi (id + 1);
}

static GStrv
words (const char *lesion)
{
  g_autofree char *copy = g_strstrip (g_strdup (lesion));
  g_auto (GStrv) raw = g_strsplit_set (copy, " ", -1);
  GPtrArray *out = g_ptr_array_new ();
  for (guint i = 0; raw[i]; i++)
    if (*raw[i])
      g_ptr_array_add (out, g_strdup (raw[i]));
  g_ptr_array_add (out, NULL);
  return (GStrv) g_ptr_array_free (out, FALSE);
}

static void
append_size (GString *s, const char *v)
{
  if (g_str_has_prefix (v, "NE"))
    g_string_append (s, "\"NE\"");
  else if (g_str_has_prefix (v, "TSTM"))
    g_string_append (s, "\"TSTM\"");
  else
    g_string_append_len (s, v, (gssize) strcspn (v, "+"));
}

static void
append_increased (GString *s, Tps *t, GStrv w, guint first)
{
  gboolean any = FALSE;
  for (guint k = 0; k < t->ids->len && w[first + k]; k++)
    if (g_str_has_suffix (w[first + k], "+"))
      {
        g_string_append_printf (s, "%s\"%s\"", any ? "," : ",\"increased\":[",
                                (char *) t->ids->pdata[k]);
        any = TRUE;
      }
  if (any)
    g_string_append (s, "]");
}

static char *
read_json (const char *criteria, const char *names, const char *targets,
           const char *non_targets, const char *new_lesions)
{
  Tps t = tps_parse (names);
  GString *s = g_string_new (NULL);
  g_auto (GStrv) tl = g_strsplit (targets ? targets : "", ";", -1);
  g_auto (GStrv) nl = g_strsplit (non_targets ? non_targets : "", ";", -1);
  g_auto (GStrv) nw = g_strsplit (new_lesions ? new_lesions : "", ";", -1);

  g_string_append_printf (s, "{\"criteria\":\"%s\",\"timepoints\":[", criteria);
  for (guint k = 0; k < t.ids->len; k++)
    g_string_append_printf (s, "%s{\"id\":\"%s\",\"day\":%d}", k ? "," : "",
                            (char *) t.ids->pdata[k], tp_day (t.ids->pdata[k]));
  g_string_append (s, "],\"target_lesions\":[");
  for (guint i = 0, n = 0; tl[i]; i++)
    {
      g_auto (GStrv) w = words (tl[i]);
      if (w[0] == NULL)
        continue;
      g_string_append_printf (s, "%s{\"id\":\"%s\",\"organ\":\"%s\",\"nodal\":%s,\"measurements\":{",
                              n++ ? "," : "", w[0], w[1], strstr (w[1], "node") ? "true" : "false");
      for (guint k = 0, m = 0; k < t.ids->len && w[2 + k]; k++)
        if (!g_str_equal (w[2 + k], "-"))
          {
            g_string_append_printf (s, "%s\"%s\":", m++ ? "," : "", (char *) t.ids->pdata[k]);
            append_size (s, w[2 + k]);
          }
      g_string_append (s, "}}");
    }
  g_string_append (s, "],\"non_target_lesions\":[");
  for (guint i = 0, n = 0; nl[i]; i++)
    {
      g_auto (GStrv) w = words (nl[i]);
      if (w[0] == NULL)
        continue;
      g_string_append_printf (s, "%s{\"id\":\"%s\",\"organ\":\"%s\",\"nodal\":%s,\"status\":{",
                              n++ ? "," : "", w[0], w[1], strstr (w[1], "node") ? "true" : "false");
      for (guint k = 0, m = 0; k < t.ids->len && w[2 + k]; k++)
        {
          const char *v = w[2 + k];
          const char *st = g_str_has_prefix (v, "UP") ? "unequivocal_progression"
                           : g_str_has_prefix (v, "NE") ? "NE"
                           : g_str_has_prefix (v, "P") ? "present"
                           : g_str_has_prefix (v, "A") ? "absent" : NULL;
          if (st)
            g_string_append_printf (s, "%s\"%s\":\"%s\"", m++ ? "," : "",
                                    (char *) t.ids->pdata[k], st);
        }
      g_string_append (s, "}");
      append_increased (s, &t, w, 2);
      g_string_append (s, "}");
    }
  g_string_append (s, "],\"new_lesions\":[");
  for (guint i = 0, n = 0; nw[i]; i++)
    {
      g_auto (GStrv) w = words (nw[i]);
      gboolean any = FALSE;
      guint first = 0;
      if (w[0] == NULL)
        continue;
      /* Recorded at its first sighting. */
      while (w[2 + first] && g_str_equal (w[2 + first], "-"))
        first++;
      g_string_append_printf (s, "%s{\"id\":\"%s\",\"organ\":\"%s\",\"nodal\":%s,"
                              "\"timepoint\":\"%s\"", n++ ? "," : "", w[0], w[1],
                              strstr (w[1], "node") ? "true" : "false",
                              (char *) t.ids->pdata[first]);
      for (guint k = first; k < t.ids->len && w[2 + k]; k++)
        {
          if (g_str_equal (w[2 + k], "-") || g_str_equal (w[2 + k], "+"))
            continue;
          g_string_append_printf (s, "%s\"%s\":", any ? "," : ",\"measurements\":{",
                                  (char *) t.ids->pdata[k]);
          append_size (s, w[2 + k]);
          any = TRUE;
        }
      if (any)
        g_string_append (s, "}");
      append_increased (s, &t, w, 2);
      g_string_append (s, "}");
    }
  g_string_append (s, "]}");
  g_ptr_array_unref (t.ids);
  return g_string_free (s, FALSE);
}

static RrCriteriaResult *
evaluate_json (const char *json)
{
  g_autoptr (GError) error = NULL;
  RrRead *read = rr_read_parse (json, -1, &error);
  if (error)
    g_error ("%s\n%s", error->message, json);
  RrCriteriaResult *r = rr_criteria_evaluate (read, &error);
  g_assert_no_error (error);
  return r;
}

static void
free_all (RrCriteriaResult *r)
{
  RrRead *read = (RrRead *) r->read;
  rr_criteria_result_free (r);
  rr_read_free (read);
}

typedef RrCriteriaResult Result;
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Result, free_all)

static Result *
ir (const char *names, const char *targets, const char *non_targets, const char *new_lesions)
{
  g_autofree char *json = read_json ("irecist", names, targets, non_targets, new_lesions);
  return evaluate_json (json);
}

#define RESP(r) rr_response_to_string (r)
#define PROG(r) ((r)->progression_timepoint >= 0 ?                                            \
                 ((RrTimepoint *) (r)->read->timepoints->pdata[(r)->progression_timepoint])->id \
                 : "none")

/* The overall responses of the follow-ups, space-separated. */
static char *
overall (const RrCriteriaResult *r)
{
  GString *s = g_string_new (NULL);
  for (guint i = 0; i < r->timepoints->len; i++)
    g_string_append_printf (s, "%s%s", i ? " " : "",
                            RESP (g_array_index (r->timepoints, RrTimepointResult, i).overall));
  return g_string_free (s, FALSE);
}

/* Asserts the timepoint responses, the iBOR and the progression date. */
#define CHECK(r, responses, ibor, prog)                                  \
  G_STMT_START {                                                         \
    g_autofree char *got_ = overall (r);                                 \
    g_assert_cmpstr (got_, ==, responses);                               \
    g_assert_cmpstr (RESP ((r)->best_overall_response), ==, ibor);       \
    g_assert_cmpstr (PROG (r), ==, prog);                                \
  } G_STMT_END

/* ---- rule 1: a new lesion that caused iUPD disappears: the bar resets ---- */

/* Targets 30 + 20 (B = 50). d56: 20 + 14 = 34 <= 0.7 x 50 = 35: iPR, nadir
 * 34. d112: the same 34 and a new 12 mm liver lesion: RECIST PD, iUPD.
 * d168: targets unchanged at 34 (iPR level) and the new lesion measures 0,
 * which "counts as no": Table 2 with target iPR, non-target ND, new
 * lesions no gives iPR, and the bar resets. iBOR iPR; nothing confirmed. */
static void
test_rule1_gone_new_lesion_resets (void)
{
  g_autoptr (Result) r = ir ("d56 d112 d168",
                             "T1 liver 30 20 20 20; T2 lung 20 14 14 14", NULL,
                             "NL1 liver - - 12 0");
  CHECK (r, "iPR iUPD iPR", "iPR", "none");
  g_assert_false (rr_criteria_has_issue (r->warnings, "unconfirmed_progression"));
  /* RECIST 1.1 beside it: PD at d112 stays PD. */
  g_assert_cmpstr (RESP (r->recist->best_overall_response), ==, "PR");
  g_assert_cmpstr (PROG (r->recist), ==, "d112");
}

/* The boundary: the new lesion measured 0 against one still present.
 * Targets 30 + 20 (B = 50); d56 and later 22 + 18 = 40 (-20%): iSD. d112
 * adds a new 12 mm lesion: iUPD. At d168, 56 days later, nothing has grown
 * (no confirmation). Measured 0: new lesions "no", Table 2 gives iSD and
 * the bar resets. Still 12 mm, or present but too small to measure: new
 * lesions "yes", the targets have not reached iPR (J2 does not apply), so
 * the timepoint stays iUPD, unconfirmed. */
static void
test_rule1_boundary_zero_vs_present (void)
{
  const char *tgt = "T1 liver 30 22 22 22; T2 lung 20 18 18 18";
  g_autoptr (Result) gone = ir ("d56 d112 d168", tgt, NULL, "NL1 liver - - 12 0");
  CHECK (gone, "iSD iUPD iSD", "iSD", "none");
  g_assert_false (rr_criteria_has_issue (gone->warnings, "unconfirmed_progression"));

  g_autoptr (Result) still = ir ("d56 d112 d168", tgt, NULL, "NL1 liver - - 12 12");
  CHECK (still, "iSD iUPD iUPD", "iSD", "none");
  g_assert_true (rr_criteria_has_issue (still->warnings, "unconfirmed_progression"));

  g_autoptr (Result) small = ir ("d56 d112 d168", tgt, NULL, "NL1 liver - - 12 TSTM");
  CHECK (small, "iSD iUPD iUPD", "iSD", "none");
  g_autoptr (Result) tenth = ir ("d56 d112 d168", tgt, NULL, "NL1 liver - - 12 0.1");
  CHECK (tenth, "iSD iUPD iUPD", "iSD", "none");
}

/* After the reset, the bar is the new one: a further new lesion at d224 is
 * a new iUPD (not iCPD), and its growth of 6 mm at d280 confirms it, dated
 * at d224. */
static void
test_rule1_new_episode_after_reset (void)
{
  g_autoptr (Result) r = ir ("d56 d112 d168 d224 d280",
                             "T1 liver 30 22 22 22 22 22; T2 lung 20 18 18 18 18 18", NULL,
                             "NL1 liver - - 12 0 0 0; NL2 lung - - - - 12 18");
  CHECK (r, "iSD iUPD iSD iUPD iCPD", "iSD", "d224");
}

/* J2 and the FAQ's scenario F. B = 50; d56: 20 + 14 = 34, iPR; d112 the
 * same and a new 12 mm lesion: iUPD. At d168, with the new lesion still
 * 12 mm: targets unchanged (PR was reached before the iUPD, scenario F):
 * new lesions "yes", iUPD. Targets shrunk to 18 + 12 = 30 after the iUPD:
 * "targets reaching iPR ... give iPR ... even while an unchanged new lesion
 * is still present". Gone (0 + 0, no non-target): iCR, by the same words.
 * The new lesion grown by 1 mm is no longer unchanged: iUPD (1 mm does not
 * confirm). */
static void
test_rule1_j2_unchanged_new_lesion (void)
{
  g_autoptr (Result) f = ir ("d56 d112 d168", "T1 liver 30 20 20 20; T2 lung 20 14 14 14", NULL,
                             "NL1 liver - - 12 12");
  CHECK (f, "iPR iUPD iUPD", "iPR", "none");
  g_autoptr (Result) pr = ir ("d56 d112 d168", "T1 liver 30 20 20 18; T2 lung 20 14 14 12", NULL,
                              "NL1 liver - - 12 12");
  CHECK (pr, "iPR iUPD iPR", "iPR", "none");
  g_autoptr (Result) cr = ir ("d56 d112 d168", "T1 liver 30 20 20 0; T2 lung 20 14 14 0", NULL,
                              "NL1 liver - - 12 12");
  CHECK (cr, "iPR iUPD iCR", "iCR", "none");
  g_autoptr (Result) grown = ir ("d56 d112 d168", "T1 liver 30 20 20 18; T2 lung 20 14 14 12",
                                 NULL, "NL1 liver - - 12 13");
  CHECK (grown, "iPR iUPD iUPD", "iPR", "none");
}

/* ---- rule 2: non-target disease only can leave iUPD ---- */

/* No targets; one non-target (bone). d56: present: iNON_CR_NON_PD. d112: a
 * new 8 mm lesion: iUPD. d168: the new lesion measures 0. With the
 * non-target absent: iCR; still present: iNON_CR_NON_PD; not evaluated:
 * iNE, which neither resets nor confirms. iBOR is the best recorded before
 * any iCPD. */
static void
test_rule2_non_target_only (void)
{
  g_autoptr (Result) absent = ir ("d56 d112 d168", NULL, "N1 bone P P P A",
                                  "NL1 liver - - 8 0");
  g_assert_false (absent->has_targets);
  CHECK (absent, "iNON_CR_NON_PD iUPD iCR", "iCR", "none");
  g_assert_false (rr_criteria_has_issue (absent->warnings, "unconfirmed_progression"));

  g_autoptr (Result) present = ir ("d56 d112 d168", NULL, "N1 bone P P P P",
                                   "NL1 liver - - 8 0");
  CHECK (present, "iNON_CR_NON_PD iUPD iNON_CR_NON_PD", "iNON_CR_NON_PD", "none");

  g_autoptr (Result) ne = ir ("d56 d112 d168", NULL, "N1 bone P P P NE", "NL1 liver - - 8 0");
  CHECK (ne, "iNON_CR_NON_PD iUPD iNE", "iNON_CR_NON_PD", "none");
  g_assert_true (rr_criteria_has_issue (ne->warnings, "unconfirmed_progression"));
}

/* The boundary: the new lesion still present keeps iUPD; with no change in
 * it for 56 days there is no confirmation. A further new lesion at d224
 * confirms, dated at d112. Non-target-only iBOR from the d56 iNN. */
static void
test_rule2_boundary (void)
{
  g_autoptr (Result) r = ir ("d56 d112 d168 d224", NULL, "N1 bone P P P A A",
                             "NL1 liver - - 8 8 8; NL2 lung - - - - 9");
  CHECK (r, "iNON_CR_NON_PD iUPD iUPD iCPD", "iNON_CR_NON_PD", "d112");
  /* Only iCR, iNON_CR_NON_PD, iUPD, iCPD, iNE for non-target disease. */
  g_autoptr (Result) all_gone = ir ("d56 d112 d168", NULL, "N1 bone P A A A",
                                    "NL1 liver - - 8 0");
  CHECK (all_gone, "iCR iUPD iCR", "iCR", "none");
}

/* ---- rule 3: an iUPD timepoint never resets the episode ---- */

/* Targets 40 + 20 (B = 60), a bone non-target. d56: 28 + 12 = 40 (-33%):
 * iPR, nadir 40. d112: 34 + 16 = 50, +10 mm and +25% over the nadir:
 * target iUPD. d126, 14 days later: targets 30 + 14 = 44 (+4 mm over the
 * nadir: not PD) but the non-target shows unequivocal progression: this
 * timepoint is itself iUPD; under 4 weeks, only a further new lesion could
 * confirm, so it stays iUPD and does not reset the bar. d154 is the first
 * assessment at least 4 weeks after d112: the non-target still meets PD,
 * a category that now meets PD, so iCPD, dated at the first iUPD, d112. */
static void
test_rule3_early_iupd_does_not_reset (void)
{
  g_autoptr (Result) r = ir ("d56 d112 d126 d154",
                             "T1 liver 40 28 34 30 30; T2 lung 20 12 16 14 14",
                             "N1 bone P P P UP UP", NULL);
  CHECK (r, "iPR iUPD iUPD iCPD", "iPR", "d112");
  g_assert_false (rr_criteria_has_issue (r->warnings, "unconfirmed_progression"));
}

/* The same when the early iUPD comes from the targets after a new-lesion
 * iUPD: d112 new lesion (iUPD), d126 targets +10 mm over the nadir (itself
 * iUPD, too early to confirm), d154 targets still PD: iCPD, dated d112. */
static void
test_rule3_new_then_target (void)
{
  g_autoptr (Result) r = ir ("d56 d112 d126 d154",
                             "T1 liver 40 28 28 34 34; T2 lung 20 12 12 16 16", NULL,
                             "NL1 liver - - 12 0 0");
  CHECK (r, "iPR iUPD iUPD iCPD", "iPR", "d112");
}

/* ---- boundaries of confirmation ---- */

/* J3's shape. B = 60; d56: 25 + 15 = 40 (iPR, nadir 40); d112: 32 + 18 =
 * 50 (iUPD). At d168, 56 days later, the targets have grown a further 4.9
 * mm (54.9): iUPD still; a further 5.0 mm (55.0): iCPD, dated d112. */
static void
test_further_growth_49_vs_50 (void)
{
  g_autoptr (Result) below = ir ("d56 d112 d168", "T1 liver 40 25 32 36.9; T2 lung 20 15 18 18",
                                 NULL, NULL);
  CHECK (below, "iPR iUPD iUPD", "iPR", "none");
  g_autoptr (Result) at = ir ("d56 d112 d168", "T1 liver 40 25 32 37; T2 lung 20 15 18 18",
                              NULL, NULL);
  CHECK (at, "iPR iUPD iCPD", "iPR", "d112");

  /* The same for the new-lesion-target sum: 12 mm at the iUPD, 16.9 or 17.0
   * 56 days later (targets stable, iSD). */
  const char *tgt = "T1 liver 30 22 22 22; T2 lung 20 18 18 18";
  g_autoptr (Result) nl_below = ir ("d56 d112 d168", tgt, NULL, "NL1 liver - - 12 16.9");
  CHECK (nl_below, "iSD iUPD iUPD", "iSD", "none");
  g_autoptr (Result) nl_at = ir ("d56 d112 d168", tgt, NULL, "NL1 liver - - 12 17");
  CHECK (nl_at, "iSD iUPD iCPD", "iSD", "d112");
}

/* Confirmation at the first assessment at least 4 weeks (28 days) after
 * the iUPD: 27 days is too early (only a further new lesion confirms),
 * 28 is not. Same targets as above with a further 6 mm. */
static void
test_27_vs_28_days (void)
{
  g_autoptr (Result) d27 = ir ("d56 d112 d139", "T1 liver 40 25 32 38; T2 lung 20 15 18 18",
                               NULL, NULL);
  CHECK (d27, "iPR iUPD iUPD", "iPR", "none");
  g_autoptr (Result) d28 = ir ("d56 d112 d140", "T1 liver 40 25 32 38; T2 lung 20 15 18 18",
                               NULL, NULL);
  CHECK (d28, "iPR iUPD iCPD", "iPR", "d112");
  /* A further new lesion confirms at 27 days (J4). */
  g_autoptr (Result) nl27 = ir ("d56 d112 d139", "T1 liver 40 25 32 32; T2 lung 20 15 18 18",
                                NULL, "NL1 brain - - - 6");
  CHECK (nl27, "iPR iUPD iCPD", "iPR", "d112");
  /* 8 weeks is not a limit: a scan 70 days later still confirms. */
  g_autoptr (Result) d70 = ir ("d56 d112 d182", "T1 liver 40 25 32 38; T2 lung 20 15 18 18",
                               NULL, NULL);
  CHECK (d70, "iPR iUPD iCPD", "iPR", "d112");
}

/* ---- Seymour 2017, Table 3 (target disease at baseline, no confirmation
 * of response required). Each example is one instance of the table's row;
 * follow-ups every 56 days, so iSD always meets the 42-day minimum. ---- */

#define FIVE "d56 d112 d168 d224 d280"

/* Example 1: iCR, iCR, iCR, iUPD, iCPD -> iBOR iCR. Targets 30 + 20 gone
 * from d56 (CR; no non-target: ND); d224 a new 12 mm lesion (iUPD); d280
 * it measures 18 (+6 mm): iCPD, dated d224. */
static void
test_table3_example1 (void)
{
  g_autoptr (Result) r = ir (FIVE, "T1 liver 30 0 0 0 0 0; T2 lung 20 0 0 0 0 0", NULL,
                             "NL1 liver - - - - 12 18");
  CHECK (r, "iCR iCR iCR iUPD iCPD", "iCR", "d224");
}

/* Example 2: iUPD, iSD, iCR, iUPD, iCPD -> iCR. d56: targets 22 + 18 = 40
 * (iSD level) and a new 12 mm lesion: iUPD. d112: the new lesion is gone,
 * targets the same: iSD (rule 1). d168: all gone: iCR. d224: a second new
 * lesion: iUPD; d280: it has grown 6 mm: iCPD, dated d224. */
static void
test_table3_example2 (void)
{
  g_autoptr (Result) r = ir (FIVE, "T1 liver 30 22 22 0 0 0; T2 lung 20 18 18 0 0 0", NULL,
                             "NL1 liver - 12 0 0 0 0; NL2 lung - - - - 12 18");
  CHECK (r, "iUPD iSD iCR iUPD iCPD", "iCR", "d224");
}

/* Example 3: iUPD, iPR, iSD, iUPD, iCPD -> iPR. B = 50. d56: 36 + 24 = 60
 * (+10 mm, +20% over the baseline nadir): iUPD. d112: 20 + 14 = 34
 * (<= 35): iPR, nadir 34. d168: 24 + 16 = 40: +6 mm but +17.6% over 34:
 * not PD; 40 > 35: iSD. d224: 26 + 16 = 42: +8 mm, +23.5%: iUPD. d280:
 * 29 + 18 = 47, a further 5 mm: iCPD, dated d224. */
static void
test_table3_example3 (void)
{
  g_autoptr (Result) r = ir (FIVE, "T1 liver 30 36 20 24 26 29; T2 lung 20 24 14 16 16 18",
                             NULL, NULL);
  CHECK (r, "iUPD iPR iSD iUPD iCPD", "iPR", "d224");
}

/* Example 4: iUPD, iNE, iPR, iPR, iSD -> iPR. B = 50. d56: 28 + 18 = 46
 * (SD) with the non-target in unequivocal progression: iUPD. d112: T1 not
 * evaluated, T2 16, the non-target present again: target NE, not PD: iNE
 * (neither confirms nor resets). d168: 20 + 14 = 34: iPR (reset). d224:
 * the same: iPR. d280: 24 + 16 = 40: +6 mm, +17.6% over the nadir 34:
 * not PD; iSD. */
static void
test_table3_example4 (void)
{
  g_autoptr (Result) r = ir (FIVE, "T1 liver 30 28 NE 20 20 24; T2 lung 20 18 16 14 14 16",
                             "N1 bone P UP P P P P", NULL);
  CHECK (r, "iUPD iNE iPR iPR iSD", "iPR", "none");
}

/* Example 5: iUPD, iSD, iUPD, iUPD, iCPD -> iSD. d56: targets at iSD
 * level and a new lesion: iUPD; d112: gone: iSD (rule 1); d168: a second
 * new lesion: iUPD; d224: unchanged: iUPD; d280: a third new lesion:
 * iCPD, dated d168. */
static void
test_table3_example5 (void)
{
  g_autoptr (Result) r = ir (FIVE, "T1 liver 30 22 22 22 22 22; T2 lung 20 18 18 18 18 18", NULL,
                             "NL1 liver - 12 0 0 0 0; NL2 lung - - - 12 12 12; "
                             "NL3 brain - - - - - 11");
  CHECK (r, "iUPD iSD iUPD iUPD iCPD", "iSD", "d168");
}

/* Example 6: iUPD, iCPD, anything -> iCPD. d56 a new lesion (iUPD), d112
 * it grew 6 mm: iCPD. Whatever follows (here the targets at iPR level and
 * the lesion gone) is after iCPD and does not count for the iBOR. */
static void
test_table3_example6 (void)
{
  g_autoptr (Result) r = ir (FIVE, "T1 liver 30 22 22 18 18 18; T2 lung 20 18 18 10 10 10", NULL,
                             "NL1 liver - 12 18 0 0 0");
  g_assert_cmpstr (RESP (g_array_index (r->timepoints, RrTimepointResult, 0).overall), ==, "iUPD");
  g_assert_cmpstr (RESP (g_array_index (r->timepoints, RrTimepointResult, 1).overall), ==, "iCPD");
  g_assert_cmpstr (RESP (r->best_overall_response), ==, "iCPD");
  g_assert_cmpstr (PROG (r), ==, "d56");
}

/* Example 7: iUPD, iUPD (no iCPD), iCPD -> iCPD. B = 50; d56: 60 (+10 mm,
 * +20%): iUPD; d112: 62, a further 2 mm: iUPD; d168: 65, a further 5 mm
 * in all (2 + 3): iCPD, dated d56. */
static void
test_table3_example7 (void)
{
  g_autoptr (Result) r = ir ("d56 d112 d168", "T1 liver 30 36 37 39; T2 lung 20 24 25 26",
                             NULL, NULL);
  CHECK (r, "iUPD iUPD iCPD", "iCPD", "d56");
}

/* Example 8: iUPD, NE, NE, NE, NE -> iUPD. d56: 60 (iUPD); every later
 * target not evaluated: iNE, never confirmed. */
static void
test_table3_example8 (void)
{
  g_autoptr (Result) r = ir (FIVE, "T1 liver 30 36 NE NE NE NE; T2 lung 20 24 NE NE NE NE",
                             NULL, NULL);
  CHECK (r, "iUPD iNE iNE iNE iNE", "iUPD", "none");
  g_assert_true (rr_criteria_has_issue (r->warnings, "unconfirmed_progression"));
}

/* ---- RECIST 1.1 measurability at baseline ----
 * "Lymph node: short axis >= 15 mm (target); 10 to < 15 mm is pathological
 * but non-measurable"; non-nodal: "longest diameter >= 10 mm". */
static gboolean
not_measurable (const char *targets)
{
  g_autofree char *json = read_json ("recist1.1", "d56", targets, NULL, NULL);
  g_autoptr (Result) r = evaluate_json (json);
  return rr_criteria_has_issue (r->violations, "not_measurable");
}

static void
test_baseline_node_15mm (void)
{
  g_assert_false (not_measurable ("T1 node 15 10"));
  g_assert_true (not_measurable ("T1 node 14.9 10"));
  g_assert_false (not_measurable ("T1 liver 10 8"));
  g_assert_true (not_measurable ("T1 liver 9.9 8"));
}

/* iRECIST assesses new lesions with RECIST measurability: a new node of
 * 15.0 mm short axis is a new-lesion target (it has a sum), 14.9 mm is a
 * new-lesion non-target (no sum). */
static void
test_new_lesion_node_15mm (void)
{
  const char *tgt = "T1 liver 30 22 22; T2 lung 20 18 18";
  g_autoptr (Result) at = ir ("d56 d112", tgt, NULL, "NL1 node - - 15");
  const RrTimepointResult *t = &g_array_index (at->timepoints, RrTimepointResult, 1);
  g_assert_true (t->has_new_targets);
  g_assert_cmpint (t->new_target_sum, ==, 150);
  g_autoptr (Result) below = ir ("d56 d112", tgt, NULL, "NL1 node - - 14.9");
  g_assert_false (g_array_index (below->timepoints, RrTimepointResult, 1).has_new_targets);
}

/* ---- a non-target that "increased" (docs/read-json.md) ---- */

/* The member is read per non-target, written back, and an unknown
 * timepoint in it is a violation like any other. */
static void
test_nt_increased_read (void)
{
  g_autofree char *json = read_json ("irecist", "d56 d112", "T1 liver 30 30 30",
                                     "N1 bone P UP P+", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (RrRead) a = rr_read_parse (json, -1, &error);
  g_assert_no_error (error);
  RrNonTargetLesion *nt = a->non_targets->pdata[0];
  g_assert_false (nt->increased[0]);
  g_assert_false (nt->increased[1]);
  g_assert_true (nt->increased[2]);
  g_autofree char *j1 = rr_read_to_json (a);
  g_assert_nonnull (strstr (j1, "\"increased\""));
  g_autoptr (RrRead) b = rr_read_parse (j1, -1, &error);
  g_assert_no_error (error);
  g_autofree char *j2 = rr_read_to_json (b);
  g_assert_cmpstr (j1, ==, j2);
  g_assert_true (((RrNonTargetLesion *) b->non_targets->pdata[0])->increased[2]);

  const char *bad[] = { "\"d112\"", "[1]", "{}" };
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autofree char *r = g_strdup_printf (
        "{\"timepoints\":[{\"id\":\"BL\",\"day\":0},{\"id\":\"d112\",\"day\":112}],"
        "\"non_target_lesions\":[{\"id\":\"N1\",\"organ\":\"bone\",\"status\":"
        "{\"BL\":\"present\"},\"increased\":%s}]}", bad[i]);
      g_autoptr (GError) e = NULL;
      g_autoptr (RrRead) x = rr_read_parse (r, -1, &e);
      g_assert_null (x);
      g_assert_error (e, RR_READ_ERROR, RR_READ_ERROR_INVALID);
      g_assert_nonnull (strstr (e->message, "N1"));
    }
  g_autoptr (Result) unknown = evaluate_json (
    "{\"timepoints\":[{\"id\":\"BL\",\"day\":0},{\"id\":\"d112\",\"day\":112}],"
    "\"non_target_lesions\":[{\"id\":\"N1\",\"organ\":\"bone\",\"status\":"
    "{\"BL\":\"present\",\"d112\":\"present\"},\"increased\":[\"d999\"]}]}");
  g_assert_true (rr_criteria_has_issue (unknown->violations, "unknown_timepoint"));
}

/* Table 2: "remains iUPD unless iCPD is confirmed on the basis of a
 * further increase in the size of non-target disease (does not need to
 * meet RECIST 1.1 criteria for unequivocal progression)". Targets 30 + 20,
 * d56 and on 22 + 18 = 40 (iSD). d112: the non-target in unequivocal
 * progression: iUPD. d168 (56 days): recorded present but increased:
 * iCPD, dated d112. Present and not increased: iSD, the bar resets. */
static void
test_nt_increased_confirms (void)
{
  const char *tgt = "T1 liver 30 22 22 22; T2 lung 20 18 18 18";
  g_autoptr (Result) inc = ir ("d56 d112 d168", tgt, "N1 bone P P UP P+", NULL);
  CHECK (inc, "iSD iUPD iCPD", "iSD", "d112");
  g_autoptr (Result) same = ir ("d56 d112 d168", tgt, "N1 bone P P UP P", NULL);
  CHECK (same, "iSD iUPD iSD", "iSD", "none");
  /* Under 4 weeks (d126), an increase does not confirm (J4) and, the
   * non-targets still growing, the timepoint is iUPD, not a reset; d168
   * is the first assessment 4 weeks on: no change, still recorded as
   * unequivocal progression: iCPD. */
  g_autoptr (Result) early = ir ("d56 d112 d126 d168", "T1 liver 30 22 22 22 22; T2 lung 20 18 18 18 18",
                                 "N1 bone P P UP P+ UP", NULL);
  CHECK (early, "iSD iUPD iUPD iCPD", "iSD", "d112");
}

/* An increase alone does not confirm another category's iUPD: Table 2,
 * "target lesions iUPD; non-target non-iCR/non-iUPD: remains iUPD unless
 * iCPD is confirmed on the basis of a further increase in sum of measures
 * >= 5 mm". B = 60; d56 40 (iPR); d112 50 (iUPD); d168 the same 50 with
 * the non-target increased but not in unequivocal progression: iUPD. */
static void
test_nt_increased_other_category (void)
{
  g_autoptr (Result) r = ir ("d56 d112 d168", "T1 liver 40 25 32 32; T2 lung 20 15 18 18",
                             "N1 bone P P P P+", NULL);
  CHECK (r, "iPR iUPD iUPD", "iPR", "none");
}

/* ---- the iRECIST state of each timepoint (rr-criteria.h) ---- */

/* "-" with no iUPD open; "iUPD@d112>140" (opens, confirmable from day
 * 140), "awaiting@d112>140", "confirmed@d112", "reset@d112". */
static char *
states (const RrCriteriaResult *r)
{
  GString *s = g_string_new (NULL);
  for (guint i = 0; i < r->timepoints->len; i++)
    {
      const RrTimepointResult *t = &g_array_index (r->timepoints, RrTimepointResult, i);
      const char *upd = t->iupd_timepoint >= 0
                        ? ((RrTimepoint *) r->read->timepoints->pdata[t->iupd_timepoint])->id : "?";
      if (i)
        g_string_append_c (s, ' ');
      switch (t->irecist_state)
        {
        case RR_IRECIST_NONE:
          g_string_append (s, t->iupd_timepoint == -1 ? "-" : "-?");
          break;
        case RR_IRECIST_IUPD:
          g_string_append_printf (s, "iUPD@%s>%d", upd, t->confirmable_from_day);
          break;
        case RR_IRECIST_AWAITING:
          g_string_append_printf (s, "awaiting@%s>%d", upd, t->confirmable_from_day);
          break;
        case RR_IRECIST_CONFIRMED:
          g_string_append_printf (s, "confirmed@%s", upd);
          break;
        case RR_IRECIST_RESET:
          g_string_append_printf (s, "reset@%s", upd);
          break;
        }
    }
  return g_string_free (s, FALSE);
}

#define STATES(r, expected)                                                \
  G_STMT_START {                                                           \
    g_autofree char *got_ = states (r);                                    \
    g_assert_cmpstr (got_, ==, expected);                                  \
  } G_STMT_END

/* The reads above, their states written from the responses criteria.md
 * gives them: an iUPD opens an episode confirmable 28 days on; later
 * unconfirmed timepoints await the same iUPD; iCPD confirms it; iSD, iPR,
 * iCR or iNON_CR_NON_PD after it reset it. */
static void
test_states (void)
{
  /* Rule 3: iPR, iUPD (d112), iUPD (d126), iCPD (d154). */
  g_autoptr (Result) r3 = ir ("d56 d112 d126 d154",
                              "T1 liver 40 28 34 30 30; T2 lung 20 12 16 14 14",
                              "N1 bone P P P UP UP", NULL);
  STATES (r3, "- iUPD@d112>140 awaiting@d112>140 confirmed@d112");
  /* Rule 1: iPR, iUPD, iPR (reset). */
  g_autoptr (Result) r1 = ir ("d56 d112 d168", "T1 liver 30 20 20 20; T2 lung 20 14 14 14", NULL,
                              "NL1 liver - - 12 0");
  STATES (r1, "- iUPD@d112>140 reset@d112");
  /* Table 3 example 5: iUPD, iSD, iUPD, iUPD, iCPD. */
  g_autoptr (Result) e5 = ir (FIVE, "T1 liver 30 22 22 22 22 22; T2 lung 20 18 18 18 18 18", NULL,
                              "NL1 liver - 12 0 0 0 0; NL2 lung - - - 12 12 12; "
                              "NL3 brain - - - - - 11");
  STATES (e5, "iUPD@d56>84 reset@d56 iUPD@d168>196 awaiting@d168>196 confirmed@d168");
  /* Example 8: iUPD then iNE four times, never confirmed. */
  g_autoptr (Result) e8 = ir (FIVE, "T1 liver 30 36 NE NE NE NE; T2 lung 20 24 NE NE NE NE",
                              NULL, NULL);
  STATES (e8, "iUPD@d56>84 awaiting@d56>84 awaiting@d56>84 awaiting@d56>84 awaiting@d56>84");
  /* Example 6: whatever follows iCPD stays confirmed. */
  g_autoptr (Result) e6 = ir (FIVE, "T1 liver 30 22 22 18 18 18; T2 lung 20 18 18 10 10 10", NULL,
                              "NL1 liver - 12 18 0 0 0");
  STATES (e6, "iUPD@d56>84 confirmed@d56 confirmed@d56 confirmed@d56 confirmed@d56");
  /* RECIST 1.1 beside it has no iRECIST state. */
  STATES (e6->recist, "- - - - -");
}

/* The criteria JSON carries the state of each iRECIST timepoint; the
 * RECIST 1.1 result keeps exactly cli.md's members. */
static void
test_states_json (void)
{
  g_autoptr (Result) r = ir ("d56 d112 d126 d154",
                             "T1 liver 40 28 34 30 30; T2 lung 20 12 16 14 14",
                             "N1 bone P P P UP UP", NULL);
  g_autofree char *json = rr_criteria_result_to_json (r);
  g_autoptr (JsonParser) p = json_parser_new ();
  g_assert_true (json_parser_load_from_data (p, json, -1, NULL));
  JsonObject *o = json_node_get_object (json_parser_get_root (p));
  JsonArray *a = json_object_get_array_member (o, "timepoints");
  const char *want_state[] = { NULL, "iUPD", "awaiting_confirmation", "confirmed" };
  const char *want_upd[] = { NULL, "d112", "d112", "d112" };
  gint64 want_day[] = { -1, 140, 140, -1 };
  g_assert_cmpuint (json_array_get_length (a), ==, 4);
  for (guint i = 0; i < 4; i++)
    {
      JsonObject *t = json_array_get_object_element (a, i);
      JsonNode *day = json_object_get_member (t, "confirmation_from_day");
      g_assert_true (json_object_has_member (t, "irecist_state"));
      g_assert_cmpstr (json_object_get_string_member (t, "irecist_state"), ==, want_state[i]);
      g_assert_cmpstr (json_object_get_string_member (t, "iupd_timepoint"), ==, want_upd[i]);
      if (want_day[i] < 0)
        g_assert_true (JSON_NODE_HOLDS_NULL (day));
      else
        g_assert_cmpint (json_node_get_int (day), ==, want_day[i]);
    }
  JsonObject *rec = json_object_get_object_member (o, "recist1.1");
  JsonObject *t0 = json_array_get_object_element (json_object_get_array_member (rec, "timepoints"), 0);
  g_assert_false (json_object_has_member (t0, "irecist_state"));
  g_assert_false (json_object_has_member (t0, "iupd_timepoint"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/irecist/rule1/gone-new-lesion-resets", test_rule1_gone_new_lesion_resets);
  g_test_add_func ("/irecist/rule1/zero-vs-present", test_rule1_boundary_zero_vs_present);
  g_test_add_func ("/irecist/rule1/new-episode-after-reset", test_rule1_new_episode_after_reset);
  g_test_add_func ("/irecist/rule1/j2-unchanged-new-lesion", test_rule1_j2_unchanged_new_lesion);
  g_test_add_func ("/irecist/rule2/non-target-only", test_rule2_non_target_only);
  g_test_add_func ("/irecist/rule2/boundary", test_rule2_boundary);
  g_test_add_func ("/irecist/rule3/early-iupd-does-not-reset", test_rule3_early_iupd_does_not_reset);
  g_test_add_func ("/irecist/rule3/new-then-target", test_rule3_new_then_target);
  g_test_add_func ("/irecist/boundary/further-4.9-vs-5.0", test_further_growth_49_vs_50);
  g_test_add_func ("/irecist/boundary/27-vs-28-days", test_27_vs_28_days);
  g_test_add_func ("/irecist/table3/example1", test_table3_example1);
  g_test_add_func ("/irecist/table3/example2", test_table3_example2);
  g_test_add_func ("/irecist/table3/example3", test_table3_example3);
  g_test_add_func ("/irecist/table3/example4", test_table3_example4);
  g_test_add_func ("/irecist/table3/example5", test_table3_example5);
  g_test_add_func ("/irecist/table3/example6", test_table3_example6);
  g_test_add_func ("/irecist/table3/example7", test_table3_example7);
  g_test_add_func ("/irecist/table3/example8", test_table3_example8);
  g_test_add_func ("/recist/baseline-node-15mm", test_baseline_node_15mm);
  g_test_add_func ("/irecist/new-lesion-node-15mm", test_new_lesion_node_15mm);
  g_test_add_func ("/irecist/nt-increased/read", test_nt_increased_read);
  g_test_add_func ("/irecist/nt-increased/confirms", test_nt_increased_confirms);
  g_test_add_func ("/irecist/nt-increased/other-category", test_nt_increased_other_category);
  g_test_add_func ("/irecist/states", test_states);
  g_test_add_func ("/irecist/states-json", test_states_json);
  return g_test_run ();
}
