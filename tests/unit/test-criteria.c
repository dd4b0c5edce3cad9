/* test-criteria.c: RECIST 1.1 and iRECIST on every worked example of
 * criteria.md, the boundaries it names, invalid reads, and invariants
 * checked on thousands of generated reads. */
#include "rr-criteria.h"
#include "rr-response-text.h"

#include <string.h>

/* Builds a read from a compact description: timepoints "BL:0,FU1:56",
 * and lesions appended as JSON fragments. */
static RrCriteriaResult *
eval (const char *json)
{
  g_autoptr (GError) error = NULL;
  RrRead *read = rr_read_parse (json, -1, &error);
  g_assert_no_error (error);
  RrCriteriaResult *r = rr_criteria_evaluate (read, &error);
  g_assert_no_error (error);
  /* The result borrows the read; free_all () frees both. */
  return r;
}

static const RrTimepointResult *
tp (const RrCriteriaResult *r, guint i)
{
  g_assert_cmpuint (i, <, r->timepoints->len);
  return &g_array_index (r->timepoints, RrTimepointResult, i);
}

#define RESP(r) rr_response_to_string (r)
#define PROG(r) ((r)->progression_timepoint >= 0 ?                                            \
                 ((RrTimepoint *) (r)->read->timepoints->pdata[(r)->progression_timepoint])->id \
                 : "none")

static void
free_all (RrCriteriaResult *r)
{
  RrRead *read = (RrRead *) r->read;
  rr_criteria_result_free (r);
  rr_read_free (read);
}

typedef RrCriteriaResult RrCriteriaResult_;
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RrCriteriaResult_, free_all)

static void
test_example_a (void)
{
  g_autoptr (RrCriteriaResult_) r = eval (
    "{\"timepoints\":[{\"id\":\"BL\",\"day\":0},{\"id\":\"d56\",\"day\":56},"
    "{\"id\":\"d112\",\"day\":112},{\"id\":\"d168\",\"day\":168}],"
    "\"target_lesions\":["
    "{\"id\":\"T1\",\"organ\":\"liver\",\"measurements\":{\"BL\":30,\"d56\":20,\"d112\":18,\"d168\":22}},"
    "{\"id\":\"T2\",\"organ\":\"lung\",\"measurements\":{\"BL\":20,\"d56\":14,\"d112\":12,\"d168\":16}},"
    "{\"id\":\"T3\",\"organ\":\"node\",\"nodal\":true,\"measurements\":{\"BL\":20,\"d56\":12,\"d112\":9,\"d168\":10}}],"
    "\"non_target_lesions\":[{\"id\":\"N1\",\"organ\":\"bone\",\"status\":"
    "{\"BL\":\"present\",\"d56\":\"present\",\"d112\":\"present\",\"d168\":\"present\"}}]}");
  g_assert_cmpint (r->baseline_sum, ==, 700);
  g_assert_cmpint (tp (r, 0)->sum, ==, 460);
  g_assert_cmpint (rr_pct_tenths (tp (r, 0)->sum, r->baseline_sum), ==, -343);
  g_assert_cmpstr (RESP (tp (r, 0)->overall), ==, "PR");
  g_assert_cmpint (rr_pct_tenths (tp (r, 1)->sum, r->baseline_sum), ==, -443);
  g_assert_cmpstr (RESP (tp (r, 1)->overall), ==, "PR");
  g_assert_cmpint (tp (r, 2)->sum, ==, 480);
  g_assert_cmpint (tp (r, 2)->nadir, ==, 390);
  g_assert_cmpint (rr_pct_tenths (tp (r, 2)->sum, tp (r, 2)->nadir), ==, 231);
  g_assert_cmpint (rr_pct_tenths (tp (r, 2)->sum, r->baseline_sum), ==, -314);
  g_assert_cmpstr (RESP (tp (r, 2)->target), ==, "PD");
  g_assert_cmpstr (RESP (tp (r, 2)->overall), ==, "PD");
  g_assert_cmpstr (RESP (r->best_overall_response), ==, "PR");
  g_assert_cmpstr (PROG (r), ==, "d168");
  g_assert_cmpuint (r->violations->len, ==, 0);
}

/* Example B, with the non-target present throughout or gone from d112. */
static char *
example_b (gboolean nt_persists)
{
  const char *later = nt_persists ? "present" : "absent";
  return g_strdup_printf (
    "{\"timepoints\":[{\"id\":\"BL\",\"day\":0},{\"id\":\"d56\",\"day\":56},"
    "{\"id\":\"d112\",\"day\":112},{\"id\":\"d168\",\"day\":168}],"
    "\"target_lesions\":["
    "{\"id\":\"T1\",\"organ\":\"lung\",\"measurements\":{\"BL\":22,\"d56\":10,\"d112\":0,\"d168\":0}},"
    "{\"id\":\"T2\",\"organ\":\"node\",\"nodal\":true,\"measurements\":{\"BL\":18,\"d56\":11,\"d112\":8,\"d168\":9}},"
    "{\"id\":\"T3\",\"organ\":\"node\",\"nodal\":true,\"measurements\":{\"BL\":16,\"d56\":10,\"d112\":6,\"d168\":7}}],"
    "\"non_target_lesions\":[{\"id\":\"N1\",\"organ\":\"liver\",\"status\":"
    "{\"BL\":\"present\",\"d56\":\"present\",\"d112\":\"%s\",\"d168\":\"%s\"}}]}",
    later, later);
}

static void
test_example_b (void)
{
  g_autofree char *gone = example_b (FALSE);
  g_autofree char *persists = example_b (TRUE);
  g_autoptr (RrCriteriaResult_) r = eval (gone);
  g_assert_cmpint (r->baseline_sum, ==, 560);
  g_assert_cmpint (tp (r, 0)->sum, ==, 310);
  g_assert_cmpstr (RESP (tp (r, 0)->overall), ==, "PR");
  g_assert_cmpint (tp (r, 1)->sum, ==, 140);
  g_assert_cmpstr (RESP (tp (r, 1)->target), ==, "CR");
  g_assert_cmpstr (RESP (tp (r, 1)->non_target), ==, "CR");
  g_assert_cmpstr (RESP (tp (r, 1)->overall), ==, "CR");
  g_assert_cmpint (tp (r, 2)->sum, ==, 160);
  g_assert_cmpstr (RESP (tp (r, 2)->target), ==, "CR");
  g_assert_cmpstr (RESP (tp (r, 2)->overall), ==, "CR");
  g_assert_cmpstr (RESP (r->best_overall_response), ==, "CR");
  g_assert_cmpstr (PROG (r), ==, "none");

  g_autoptr (RrCriteriaResult_) p = eval (persists);
  g_assert_cmpstr (RESP (tp (p, 1)->target), ==, "CR");
  g_assert_cmpstr (RESP (tp (p, 1)->non_target), ==, "NON_CR_NON_PD");
  g_assert_cmpstr (RESP (tp (p, 1)->overall), ==, "PR");
}

static void
test_example_c (void)
{
  g_autoptr (RrCriteriaResult_) r = eval (
    "{\"timepoints\":[{\"id\":\"BL\",\"day\":0},{\"id\":\"d56\",\"day\":56},"
    "{\"id\":\"d112\",\"day\":112},{\"id\":\"d168\",\"day\":168}],"
    "\"target_lesions\":["
    "{\"id\":\"T1\",\"organ\":\"liver\",\"measurements\":{\"BL\":12,\"d56\":8,\"d112\":10,\"d168\":11}},"
    "{\"id\":\"T2\",\"organ\":\"lung\",\"measurements\":{\"BL\":10,\"d56\":6,\"d112\":7,\"d168\":8}}]}");
  g_assert_cmpstr (RESP (tp (r, 0)->target), ==, "PR");
  g_assert_cmpstr (RESP (tp (r, 0)->non_target), ==, "ND");
  g_assert_cmpint (tp (r, 1)->sum, ==, 170);
  g_assert_cmpint (rr_pct_tenths (tp (r, 1)->sum, tp (r, 1)->nadir), ==, 214);
  g_assert_cmpstr (RESP (tp (r, 1)->target), ==, "SD");
  g_assert_cmpint (rr_pct_tenths (tp (r, 2)->sum, tp (r, 2)->nadir), ==, 357);
  g_assert_cmpstr (RESP (tp (r, 2)->target), ==, "PD");
  g_assert_cmpstr (PROG (r), ==, "d168");
  g_assert_cmpstr (RESP (r->best_overall_response), ==, "PR");
}

static void
test_example_e (void)
{
  g_autoptr (RrCriteriaResult_) r = eval (
    "{\"timepoints\":[{\"id\":\"BL\",\"day\":0},{\"id\":\"d56\",\"day\":56},"
    "{\"id\":\"d112\",\"day\":112}],"
    "\"target_lesions\":["
    "{\"id\":\"T1\",\"organ\":\"liver\",\"measurements\":{\"BL\":35,\"d56\":25,\"d112\":24}},"
    "{\"id\":\"T2\",\"organ\":\"node\",\"nodal\":true,\"measurements\":{\"BL\":20,\"d56\":15,\"d112\":14}}],"
    "\"new_lesions\":[{\"id\":\"NEW1\",\"timepoint\":\"d112\",\"organ\":\"liver\",\"equivocal\":false}]}");
  g_assert_cmpstr (RESP (tp (r, 0)->overall), ==, "SD");
  g_assert_cmpint (rr_pct_tenths (tp (r, 1)->sum, r->baseline_sum), ==, -309);
  g_assert_cmpstr (RESP (tp (r, 1)->target), ==, "PR");
  g_assert_cmpstr (rr_new_status_to_string (tp (r, 1)->new_lesions), ==, "yes");
  g_assert_cmpstr (RESP (tp (r, 1)->overall), ==, "PD");
  g_assert_cmpstr (RESP (r->best_overall_response), ==, "SD");
  g_assert_cmpstr (PROG (r), ==, "d112");
}

static const char *example_f =
  "{\"timepoints\":[{\"id\":\"BL\",\"day\":0},{\"id\":\"d56\",\"day\":56},"
  "{\"id\":\"d112\",\"day\":112},{\"id\":\"d168\",\"day\":168}],"
  "\"target_lesions\":["
  "{\"id\":\"T1\",\"organ\":\"liver\",\"measurements\":{\"BL\":50,\"d56\":40,\"d112\":38,\"d168\":39}}],"
  "\"new_lesions\":[{\"id\":\"NEW1\",\"timepoint\":\"d112\",\"organ\":\"lung\",\"equivocal\":true},"
  "{\"id\":\"NEW1\",\"timepoint\":\"d168\",\"organ\":\"lung\",\"equivocal\":false}]}";

static void
test_example_f (void)
{
  g_autoptr (RrCriteriaResult_) r = eval (example_f);
  g_assert_cmpstr (RESP (tp (r, 0)->overall), ==, "SD");
  g_assert_cmpstr (rr_new_status_to_string (tp (r, 1)->new_lesions), ==, "equivocal");
  g_assert_cmpstr (RESP (tp (r, 1)->overall), ==, "SD");
  g_assert_cmpstr (RESP (tp (r, 2)->target), ==, "SD");
  g_assert_cmpstr (RESP (tp (r, 2)->overall), ==, "PD");
  g_assert_cmpstr (PROG (r), ==, "d112");
  g_assert_cmpstr (RESP (r->best_overall_response), ==, "SD");
}

/* One target per entry of @sizes (mm, "NE"...), timepoints BL and FU at
 * day 56: the target response at FU. */
static char *
two_tp (const char *bl, const char *fu, gboolean nodal)
{
  return g_strdup_printf ("{\"timepoints\":[{\"id\":\"BL\",\"day\":0},{\"id\":\"FU\",\"day\":56}],"
                          "\"target_lesions\":[{\"id\":\"T1\",\"organ\":\"liver\",\"nodal\":%s,"
                          "\"measurements\":{\"BL\":%s,\"FU\":%s}}]}",
                          nodal ? "true" : "false", bl, fu);
}

static const char *
target_at_fu (const char *bl, const char *fu)
{
  g_autofree char *json = two_tp (bl, fu, FALSE);
  g_autoptr (RrCriteriaResult_) r = eval (json);
  return RESP (tp (r, 0)->target);
}

static void
test_boundaries (void)
{
  /* Exactly -30% is PR. */
  g_assert_cmpstr (target_at_fu ("50", "35"), ==, "PR");
  g_assert_cmpstr (target_at_fu ("50", "35.1"), ==, "SD");
  /* +20% but only +4 mm: not PD. */
  g_assert_cmpstr (target_at_fu ("20", "24"), ==, "SD");
  g_assert_cmpstr (target_at_fu ("25", "30"), ==, "PD");
  g_assert_cmpstr (target_at_fu ("25", "29.9"), ==, "SD");
  /* +19 mm at 19%: not PD; at 20% it is. */
  g_assert_cmpstr (target_at_fu ("100", "119"), ==, "SD");
  g_assert_cmpstr (target_at_fu ("100", "120"), ==, "PD");
  /* Decimals at the PR threshold: 7 x 33.3 = 23.31. */
  g_assert_cmpstr (target_at_fu ("33.3", "23.3"), ==, "PR");
  g_assert_cmpstr (target_at_fu ("33.3", "23.4"), ==, "SD");
  /* Binary fractions must not move a threshold: 12.35 is 123.5 tenths,
   * rounded half away to 12.4. */
  g_assert_cmpstr (target_at_fu ("41.2", "28.84"), ==, "PR");
  g_assert_cmpstr (target_at_fu ("30", "0"), ==, "CR");
  g_assert_cmpstr (target_at_fu ("30", "\"TSTM\""), ==, "PR");
  g_assert_cmpstr (target_at_fu ("30", "\"NE\""), ==, "NE");
  /* A node under 10 mm is CR although the sum is above 0. */
  {
    g_autofree char *json = two_tp ("16", "9.9", TRUE);
    g_autoptr (RrCriteriaResult_) r = eval (json);
    g_assert_cmpstr (RESP (tp (r, 0)->target), ==, "CR");
    g_assert_cmpint (tp (r, 0)->sum, ==, 99);
  }
  {
    g_autofree char *json = two_tp ("16", "10", TRUE);
    g_autoptr (RrCriteriaResult_) r = eval (json);
    g_assert_cmpstr (RESP (tp (r, 0)->target), ==, "PR");
  }
  /* Split lesion: fragments add. */
  g_assert_cmpstr (target_at_fu ("20", "[12, 14]"), ==, "PD");
  g_assert_cmpstr (target_at_fu ("20", "[10, 14]"), ==, "SD");
}

static void
test_ne_lower_bound_and_nadir (void)
{
  /* The measured targets alone meet PD: PD although one is not evaluated. */
  g_autoptr (RrCriteriaResult_) r = eval (
    "{\"timepoints\":[{\"id\":\"BL\",\"day\":0},{\"id\":\"F1\",\"day\":56},{\"id\":\"F2\",\"day\":112},"
    "{\"id\":\"F3\",\"day\":168}],"
    "\"target_lesions\":["
    "{\"id\":\"T1\",\"organ\":\"liver\",\"measurements\":{\"BL\":40,\"F1\":\"NE\",\"F2\":30,\"F3\":72}},"
    "{\"id\":\"T2\",\"organ\":\"lung\",\"measurements\":{\"BL\":20,\"F1\":5,\"F2\":\"NE\",\"F3\":\"NE\"}}]}");
  /* F1: only 5 mm measured; NE, and never the nadir. */
  g_assert_cmpstr (RESP (tp (r, 0)->target), ==, "NE");
  g_assert_false (tp (r, 0)->evaluable);
  g_assert_cmpint (tp (r, 1)->nadir, ==, 600);
  g_assert_cmpstr (RESP (tp (r, 1)->target), ==, "NE");
  /* F3: 72 measured on T1 alone is +20% and +12 mm over the nadir 60. */
  g_assert_cmpint (tp (r, 2)->nadir, ==, 600);
  g_assert_cmpstr (RESP (tp (r, 2)->target), ==, "PD");
}

static void
test_non_target_only (void)
{
  g_autoptr (RrCriteriaResult_) r = eval (
    "{\"timepoints\":[{\"id\":\"BL\",\"day\":0},{\"id\":\"F1\",\"day\":56},{\"id\":\"F2\",\"day\":112},"
    "{\"id\":\"F3\",\"day\":168}],"
    "\"non_target_lesions\":[{\"id\":\"N1\",\"organ\":\"bone\",\"status\":{\"BL\":\"present\","
    "\"F1\":\"present\",\"F2\":\"NE\",\"F3\":\"unequivocal_progression\"}}]}");
  g_assert_false (r->has_targets);
  g_assert_cmpstr (RESP (tp (r, 0)->target), ==, "ND");
  g_assert_cmpstr (RESP (tp (r, 0)->overall), ==, "NON_CR_NON_PD");
  g_assert_cmpstr (RESP (tp (r, 1)->overall), ==, "NE");
  g_assert_cmpstr (RESP (tp (r, 2)->overall), ==, "PD");
  g_assert_cmpstr (RESP (r->best_overall_response), ==, "NON_CR_NON_PD");
}

static void
test_bor_rules (void)
{
  /* SD before the minimum then PD: BOR PD. */
  g_autoptr (RrCriteriaResult_) a = eval (
    "{\"timepoints\":[{\"id\":\"BL\",\"day\":0},{\"id\":\"F1\",\"day\":28},{\"id\":\"F2\",\"day\":70}],"
    "\"target_lesions\":[{\"id\":\"T1\",\"organ\":\"liver\",\"measurements\":{\"BL\":40,\"F1\":40,\"F2\":60}}]}");
  g_assert_cmpstr (RESP (tp (a, 0)->overall), ==, "SD");
  g_assert_cmpstr (RESP (a->best_overall_response), ==, "PD");
  /* SD before the minimum and nothing after: NE. */
  g_autoptr (RrCriteriaResult_) b = eval (
    "{\"timepoints\":[{\"id\":\"BL\",\"day\":0},{\"id\":\"F1\",\"day\":28}],"
    "\"target_lesions\":[{\"id\":\"T1\",\"organ\":\"liver\",\"measurements\":{\"BL\":40,\"F1\":40}}]}");
  g_assert_cmpstr (RESP (b->best_overall_response), ==, "NE");

  /* With confirmation. A node (baseline 20 mm) can go from CR (< 10 mm)
   * to PR without the 5 mm of PD. */
  const char *seq[][5] = {
    /* F1, F2, nodal, expected BOR, warning */
    { "0", "0", "", "CR", "" },
    { "28", "30", "", "SD", "" },   /* PR (exactly -30%) then SD */
    { "20", "20", "", "PR", "" },   /* PR, PR */
    { "20", "0", "", "PR", "" },    /* PR then CR: PR */
    { "8", "11", "n", "PR", "w" },  /* CR then PR: flagged */
    { "20", "NE", "", "SD", "" },   /* PR then NE */
    { "8", "\"NE\"", "n", "SD", "" },  /* CR then NE */
  };
  for (guint i = 0; i < G_N_ELEMENTS (seq); i++)
    {
      g_autofree char *json = g_strdup_printf (
        "{\"options\":{\"confirmation\":true},"
        "\"timepoints\":[{\"id\":\"BL\",\"day\":0},{\"id\":\"F1\",\"day\":56},{\"id\":\"F2\",\"day\":112}],"
        "\"target_lesions\":[{\"id\":\"T1\",\"organ\":\"liver\",\"nodal\":%s,\"measurements\":"
        "{\"BL\":%s,\"F1\":%s,\"F2\":%s}}]}", *seq[i][2] ? "true" : "false",
        *seq[i][2] ? "20" : "40", seq[i][0],
        g_str_equal (seq[i][1], "NE") ? "\"NE\"" : seq[i][1]);
      g_autoptr (RrCriteriaResult_) r = eval (json);
      if (!g_str_equal (RESP (r->best_overall_response), seq[i][3]))
        g_error ("confirmation %s,%s: BOR %s, expected %s", seq[i][0], seq[i][1],
                 RESP (r->best_overall_response), seq[i][3]);
      g_assert_cmpint (rr_criteria_has_issue (r->warnings, "cr_then_non_cr"), ==, *seq[i][4] == 'w');
    }
  /* F2 at PR within 28 days of F1: not a confirmation. */
  g_autoptr (RrCriteriaResult_) c = eval (
    "{\"options\":{\"confirmation\":true,\"sd_min_days\":42},"
    "\"timepoints\":[{\"id\":\"BL\",\"day\":0},{\"id\":\"F1\",\"day\":56},{\"id\":\"F2\",\"day\":70}],"
    "\"target_lesions\":[{\"id\":\"T1\",\"organ\":\"liver\",\"measurements\":{\"BL\":40,\"F1\":20,\"F2\":20}}]}");
  g_assert_cmpstr (RESP (c->best_overall_response), ==, "SD");
}

static void
test_cr_then_node_back (void)
{
  /* After CR, a node back to 10 mm: not decided silently. */
  g_autoptr (RrCriteriaResult_) r = eval (
    "{\"timepoints\":[{\"id\":\"BL\",\"day\":0},{\"id\":\"F1\",\"day\":56},{\"id\":\"F2\",\"day\":112}],"
    "\"target_lesions\":[{\"id\":\"T1\",\"organ\":\"node\",\"nodal\":true,\"measurements\":"
    "{\"BL\":20,\"F1\":8,\"F2\":11}}]}");
  g_assert_cmpstr (RESP (tp (r, 0)->overall), ==, "CR");
  g_assert_cmpstr (RESP (tp (r, 1)->overall), ==, "PR");
  g_assert_true (rr_criteria_has_issue (r->warnings, "cr_then_non_cr"));
}

static GPtrArray *
violations (const char *json)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (RrRead) read = rr_read_parse (json, -1, &error);
  g_assert_no_error (error);
  g_autoptr (RrCriteriaResult) r = rr_criteria_evaluate (read, &error);
  g_assert_no_error (error);
  return g_ptr_array_ref (r->violations);
}

static gboolean
has_rule (GPtrArray *v, const char *rule, const char *lesion)
{
  for (guint i = 0; i < v->len; i++)
    {
      RrIssue *is = v->pdata[i];
      if (g_str_equal (is->rule, rule) && g_strcmp0 (is->lesion, lesion) == 0)
        return TRUE;
    }
  return FALSE;
}

static void
test_invalid_reads (void)
{
  GString *s = g_string_new ("{\"timepoints\":[{\"id\":\"BL\",\"day\":0}],\"target_lesions\":[");
  const char *organs[] = { "liver", "lung", "kidney", "spleen", "adrenal", "bone" };
  for (guint i = 0; i < 6; i++)
    g_string_append_printf (s, "%s{\"id\":\"T%u\",\"organ\":\"%s\",\"measurements\":{\"BL\":20}}",
                            i ? "," : "", i + 1, organs[i]);
  g_string_append (s, "]}");
  g_autoptr (GPtrArray) six = violations (s->str);
  g_string_free (s, TRUE);
  g_assert_true (has_rule (six, "too_many_targets", NULL));

  g_autoptr (GPtrArray) three = violations (
    "{\"timepoints\":[{\"id\":\"BL\",\"day\":0}],\"target_lesions\":["
    "{\"id\":\"T1\",\"organ\":\"left lung\",\"measurements\":{\"BL\":20}},"
    "{\"id\":\"T2\",\"organ\":\"right lung\",\"measurements\":{\"BL\":20}},"
    "{\"id\":\"T3\",\"organ\":\"Lung\",\"measurements\":{\"BL\":20}}]}");
  g_assert_true (has_rule (three, "too_many_in_organ", "T3"));
  g_autoptr (GPtrArray) nodes = violations (
    "{\"timepoints\":[{\"id\":\"BL\",\"day\":0}],\"target_lesions\":["
    "{\"id\":\"T1\",\"organ\":\"axillary node\",\"nodal\":true,\"measurements\":{\"BL\":20}},"
    "{\"id\":\"T2\",\"organ\":\"mediastinal node\",\"nodal\":true,\"measurements\":{\"BL\":20}},"
    "{\"id\":\"T3\",\"organ\":\"inguinal node\",\"nodal\":true,\"measurements\":{\"BL\":20}}]}");
  g_assert_true (has_rule (nodes, "too_many_in_organ", "T3"));

  g_autoptr (GPtrArray) node12 = violations (
    "{\"timepoints\":[{\"id\":\"BL\",\"day\":0}],\"target_lesions\":["
    "{\"id\":\"T1\",\"organ\":\"node\",\"nodal\":true,\"measurements\":{\"BL\":12}}]}");
  g_assert_true (has_rule (node12, "not_measurable", "T1"));
  /* criteria.md: a target node needs a short axis >= 15 mm; 14.9 mm is a
   * non-target. The boundary itself, both sides. */
  g_autoptr (GPtrArray) node15 = violations (
    "{\"timepoints\":[{\"id\":\"BL\",\"day\":0}],\"target_lesions\":["
    "{\"id\":\"T1\",\"organ\":\"node\",\"nodal\":true,\"measurements\":{\"BL\":15.0}},"
    "{\"id\":\"T2\",\"organ\":\"node\",\"nodal\":true,\"measurements\":{\"BL\":14.9}}]}");
  g_assert_false (has_rule (node15, "not_measurable", "T1"));
  g_assert_true (has_rule (node15, "not_measurable", "T2"));
  g_autoptr (GPtrArray) small = violations (
    "{\"timepoints\":[{\"id\":\"BL\",\"day\":0}],\"target_lesions\":["
    "{\"id\":\"T1\",\"organ\":\"liver\",\"measurements\":{\"BL\":9.9}},"
    "{\"id\":\"T2\",\"organ\":\"lung\",\"slice_thickness_mm\":7,\"measurements\":{\"BL\":13}},"
    "{\"id\":\"T3\",\"organ\":\"chest\",\"modality\":\"XR\",\"measurements\":{\"BL\":19}},"
    "{\"id\":\"T4\",\"organ\":\"kidney\",\"slice_thickness_mm\":7,\"measurements\":{\"BL\":14}}]}");
  g_assert_true (has_rule (small, "not_measurable", "T1"));
  g_assert_true (has_rule (small, "not_measurable", "T2"));
  g_assert_true (has_rule (small, "not_measurable", "T3"));
  g_assert_false (has_rule (small, "not_measurable", "T4"));

  g_autoptr (GPtrArray) unmeasured = violations (
    "{\"timepoints\":[{\"id\":\"BL\",\"day\":0},{\"id\":\"F1\",\"day\":50}],\"target_lesions\":["
    "{\"id\":\"T1\",\"organ\":\"liver\",\"measurements\":{\"F1\":20}},"
    "{\"id\":\"T2\",\"organ\":\"lung\",\"measurements\":{\"BL\":20,\"F9\":3}}]}");
  g_assert_true (has_rule (unmeasured, "not_measured_at_baseline", "T1"));
  g_assert_true (has_rule (unmeasured, "unknown_timepoint", "T2"));
}

static void
test_malformed (void)
{
  const char *bad[] = {
    "not json",
    "[]",
    "{}",
    "{\"timepoints\":[]}",
    "{\"timepoints\":[{\"id\":\"BL\",\"day\":0},{\"id\":\"F1\",\"day\":0}]}",
    "{\"timepoints\":[{\"id\":\"BL\",\"day\":0},{\"id\":\"BL\",\"day\":5}]}",
    "{\"timepoints\":[{\"id\":\"BL\",\"day\":\"0\"}]}",
    "{\"timepoints\":[{\"id\":\"BL\",\"day\":0}],\"target_lesions\":[{\"id\":\"T1\",\"organ\":\"x\",\"measurements\":{\"BL\":-3}}]}",
    "{\"timepoints\":[{\"id\":\"BL\",\"day\":0}],\"target_lesions\":[{\"id\":\"T1\",\"organ\":\"x\",\"measurements\":{\"BL\":\"big\"}}]}",
    "{\"timepoints\":[{\"id\":\"BL\",\"day\":0}],\"target_lesions\":[{\"id\":\"T1\",\"organ\":\"x\",\"measurements\":{\"BL\":true}}]}",
    "{\"timepoints\":[{\"id\":\"BL\",\"day\":0}],\"target_lesions\":[{\"id\":\"T1\",\"organ\":\"x\",\"measurements\":{\"BL\":20}},{\"id\":\"T1\",\"organ\":\"y\",\"measurements\":{\"BL\":20}}]}",
    "{\"timepoints\":[{\"id\":\"BL\",\"day\":0}],\"non_target_lesions\":[{\"id\":\"N1\",\"organ\":\"x\",\"status\":{\"BL\":\"gone\"}}]}",
    "{\"timepoints\":[{\"id\":\"BL\",\"day\":0}],\"target_lesions\":{\"T1\":1}}",
    "{\"options\":{\"sd_min_days\":-1},\"timepoints\":[{\"id\":\"BL\",\"day\":0}]}",
    "{\"timepoints\":[{\"id\":\"BL\",\"day\":0}],\"target_lesions\":[{\"id\":\"T1\",\"organ\":\"x\",\"measurements\":{\"BL\":1e400}}]}",
  };
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (RrRead) r = rr_read_parse (bad[i], -1, &error);
      if (r != NULL)
        g_error ("accepted: %s", bad[i]);
      g_assert_nonnull (error);
      g_assert_nonnull (error->message);
    }
  /* Unknown criteria is an evaluation error. */
  {
    g_autoptr (GError) error = NULL;
    g_autoptr (RrRead) r = rr_read_parse ("{\"criteria\":\"who\",\"timepoints\":[{\"id\":\"BL\",\"day\":0}]}",
                                          -1, &error);
    g_assert_no_error (error);
    g_assert_null (rr_criteria_evaluate (r, &error));
    g_assert_nonnull (error);
  }
}

static void
test_roundtrip (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (RrRead) a = rr_read_parse (example_f, -1, &error);
  g_assert_no_error (error);
  g_autofree char *j1 = rr_read_to_json (a);
  g_autoptr (RrRead) b = rr_read_parse (j1, -1, &error);
  g_assert_no_error (error);
  g_autofree char *j2 = rr_read_to_json (b);
  g_assert_cmpstr (j1, ==, j2);
  g_assert_cmpuint (b->new_lesions->len, ==, 2);
}

/* Generated reads against invariants that any correct engine keeps. */
static void
test_invariants (void)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (20261127);
  guint checked_pd = 0, checked_cr = 0, checked_pr = 0;

  for (guint iter = 0; iter < 3000; iter++)
    {
      guint nt = g_rand_int_range (rand, 1, 6), ntp = g_rand_int_range (rand, 2, 7);
      gboolean nodal[5];
      gint64 meas[5][7];
      int new_at = g_rand_int_range (rand, 0, 4) == 0 ? g_rand_int_range (rand, 1, ntp) : -1;
      GString *s = g_string_new ("{\"timepoints\":[");
      for (guint t = 0; t < ntp; t++)
        g_string_append_printf (s, "%s{\"id\":\"T%u\",\"day\":%u}", t ? "," : "", t, t * 42);
      g_string_append (s, "],\"target_lesions\":[");
      for (guint l = 0; l < nt; l++)
        {
          nodal[l] = g_rand_int_range (rand, 0, 3) == 0;
          g_string_append_printf (s, "%s{\"id\":\"L%u\",\"organ\":\"o%u\",\"nodal\":%s,\"measurements\":{",
                                  l ? "," : "", l, l, nodal[l] ? "true" : "false");
          for (guint t = 0; t < ntp; t++)
            {
              gint64 v;
              if (t == 0)
                v = nodal[l] ? g_rand_int_range (rand, 150, 400) : g_rand_int_range (rand, 100, 600);
              else
                {
                  gint64 step = g_rand_int_range (rand, -80, 80);
                  v = MAX (0, meas[l][t - 1] + step);
                }
              if (t > 0 && g_rand_int_range (rand, 0, 8) == 0)
                v = 0;
              meas[l][t] = v;
              g_string_append_printf (s, "%s\"T%u\":%" G_GINT64_FORMAT ".%d", t ? "," : "", t, v / 10,
                                      (int) (v % 10));
            }
          g_string_append (s, "}}");
        }
      g_string_append (s, "]");
      if (new_at > 0)
        g_string_append_printf (s, ",\"new_lesions\":[{\"id\":\"N\",\"timepoint\":\"T%d\",\"organ\":\"x\"}]",
                                new_at);
      g_string_append (s, "}");

      g_autoptr (GError) error = NULL;
      g_autoptr (RrRead) read = rr_read_parse (s->str, -1, &error);
      if (error)
        g_error ("%s: %s", s->str, error->message);
      g_autoptr (RrCriteriaResult) r = rr_criteria_evaluate (read, &error);
      g_assert_no_error (error);
      gint64 base = 0, nadir;
      for (guint l = 0; l < nt; l++)
        base += meas[l][0];
      nadir = base;
      g_assert_cmpint (r->baseline_sum, ==, base);
      for (guint t = 1; t < ntp; t++)
        {
          const RrTimepointResult *x = tp (r, t - 1);
          gint64 sum = 0;
          gboolean nonnodal_zero = TRUE, nodes_small = TRUE;
          for (guint l = 0; l < nt; l++)
            {
              sum += meas[l][t];
              if (nodal[l])
                nodes_small &= meas[l][t] < 100;
              else
                nonnodal_zero &= meas[l][t] == 0;
            }
          g_assert_cmpint (x->sum, ==, sum);
          g_assert_cmpint (x->nadir, ==, nadir);
          if (x->target == RR_RESP_PD)
            {
              /* PD never with less than 5 mm over the nadir. */
              g_assert_cmpint (sum - nadir, >=, 50);
              g_assert_cmpint (5 * (sum - nadir), >=, nadir);
              checked_pd++;
            }
          else
            g_assert_true (sum - nadir < 50 || 5 * (sum - nadir) < nadir);
          if (x->target == RR_RESP_CR)
            {
              g_assert_true (nonnodal_zero && nodes_small);
              checked_cr++;
            }
          if (x->target == RR_RESP_PR)
            {
              g_assert_cmpint (10 * sum, <=, 7 * base);
              checked_pr++;
            }
          if (new_at > 0 && (int) t >= new_at)
            g_assert_cmpint (x->overall, ==, RR_RESP_PD);
          nadir = MIN (nadir, sum);
        }
      g_string_free (s, TRUE);
    }
  g_assert_cmpuint (checked_pd, >, 100);
  g_assert_cmpuint (checked_cr, >, 10);
  g_assert_cmpuint (checked_pr, >, 100);
}

/* ---- iRECIST ---- */

static const char *
j_read (const char *follow_ups, const char *new_lesions)
{
  static char buf[4096];
  g_snprintf (buf, sizeof buf,
              "{\"criteria\":\"irecist\",\"timepoints\":[{\"id\":\"BL\",\"day\":0},%s],"
              "\"new_lesions\":[%s],", follow_ups, new_lesions);
  return buf;
}

static void
test_j1_j2 (void)
{
  const char *tps = "{\"id\":\"d56\",\"day\":56},{\"id\":\"d112\",\"day\":112},{\"id\":\"d154\",\"day\":154}";
  for (int variant = 1; variant <= 2; variant++)
    {
      g_autofree char *json = g_strdup_printf (
        "%s\"target_lesions\":["
        "{\"id\":\"T1\",\"organ\":\"lung\",\"measurements\":{\"BL\":30,\"d56\":24,\"d112\":23,\"d154\":%s}},"
        "{\"id\":\"T2\",\"organ\":\"kidney\",\"measurements\":{\"BL\":20,\"d56\":16,\"d112\":15,\"d154\":%s}}]}",
        j_read (tps, variant == 1
                ? "{\"id\":\"NL1\",\"timepoint\":\"d112\",\"organ\":\"liver\",\"measurements\":{\"d112\":12,\"d154\":18}}"
                : "{\"id\":\"NL1\",\"timepoint\":\"d112\",\"organ\":\"liver\",\"measurements\":{\"d112\":12,\"d154\":12}}"),
        variant == 1 ? "22" : "18", variant == 1 ? "14" : "12");
      g_autoptr (RrCriteriaResult_) r = eval (json);
      g_assert_cmpstr (r->criteria, ==, "irecist");
      g_assert_nonnull (r->recist);
      g_assert_cmpstr (RESP (tp (r, 0)->overall), ==, "iSD");
      g_assert_cmpstr (RESP (tp (r, 1)->overall), ==, "iUPD");
      g_assert_true (tp (r, 1)->has_new_targets);
      g_assert_cmpint (tp (r, 1)->new_target_sum, ==, 120);
      g_assert_cmpstr (RESP (r->recist->best_overall_response), ==, "SD");
      g_assert_cmpstr (PROG (r->recist), ==, "d112");
      if (variant == 1)
        {
          /* J1: the new lesion grows 6 mm: confirmed. */
          g_assert_cmpstr (RESP (tp (r, 2)->overall), ==, "iCPD");
          g_assert_cmpstr (PROG (r), ==, "d112");
          g_assert_cmpstr (RESP (r->best_overall_response), ==, "iSD");
        }
      else
        {
          /* J2: targets 30 (-40%), new lesion unchanged: iPR, the bar resets. */
          g_assert_cmpint (tp (r, 2)->sum, ==, 300);
          g_assert_cmpstr (RESP (tp (r, 2)->overall), ==, "iPR");
          g_assert_cmpstr (PROG (r), ==, "none");
          g_assert_cmpstr (RESP (r->best_overall_response), ==, "iPR");
        }
    }
}

static void
test_j3 (void)
{
  g_autoptr (RrCriteriaResult_) r = eval (
    "{\"criteria\":\"irecist\",\"timepoints\":[{\"id\":\"BL\",\"day\":0},{\"id\":\"d56\",\"day\":56},"
    "{\"id\":\"d112\",\"day\":112},{\"id\":\"d154\",\"day\":154},{\"id\":\"d196\",\"day\":196}],"
    "\"target_lesions\":["
    "{\"id\":\"T1\",\"organ\":\"liver\",\"measurements\":{\"BL\":40,\"d56\":25,\"d112\":32,\"d154\":34,\"d196\":35}},"
    "{\"id\":\"T2\",\"organ\":\"lung\",\"measurements\":{\"BL\":20,\"d56\":15,\"d112\":18,\"d154\":20,\"d196\":21}}]}");
  g_assert_cmpstr (RESP (tp (r, 0)->overall), ==, "iPR");
  g_assert_cmpstr (RESP (tp (r, 1)->overall), ==, "iUPD");
  g_assert_cmpstr (RESP (tp (r, 2)->overall), ==, "iUPD");
  g_assert_cmpstr (RESP (tp (r, 3)->overall), ==, "iCPD");
  g_assert_cmpstr (PROG (r), ==, "d112");
  g_assert_cmpstr (RESP (r->best_overall_response), ==, "iPR");
  g_assert_cmpstr (RESP (r->recist->best_overall_response), ==, "PR");
}

static void
test_j4 (void)
{
  /* iUPD from a new lesion; 14 days later only that lesion has grown. */
  g_autoptr (RrCriteriaResult_) r = eval (
    "{\"criteria\":\"irecist\",\"timepoints\":[{\"id\":\"BL\",\"day\":0},{\"id\":\"d56\",\"day\":56},"
    "{\"id\":\"d112\",\"day\":112},{\"id\":\"d126\",\"day\":126}],"
    "\"target_lesions\":["
    "{\"id\":\"T1\",\"organ\":\"liver\",\"measurements\":{\"BL\":50,\"d56\":40,\"d112\":38,\"d126\":38}}],"
    "\"new_lesions\":[{\"id\":\"NL1\",\"timepoint\":\"d112\",\"organ\":\"lung\",\"measurements\":"
    "{\"d112\":12,\"d126\":20}}]}");
  g_assert_cmpstr (RESP (tp (r, 1)->overall), ==, "iUPD");
  g_assert_cmpstr (RESP (tp (r, 2)->overall), ==, "iUPD");
  g_assert_cmpstr (PROG (r), ==, "none");
  /* A further new lesion within 4 weeks does confirm. */
  g_autoptr (RrCriteriaResult_) s = eval (
    "{\"criteria\":\"irecist\",\"timepoints\":[{\"id\":\"BL\",\"day\":0},{\"id\":\"d56\",\"day\":56},"
    "{\"id\":\"d112\",\"day\":112},{\"id\":\"d126\",\"day\":126}],"
    "\"target_lesions\":["
    "{\"id\":\"T1\",\"organ\":\"liver\",\"measurements\":{\"BL\":50,\"d56\":40,\"d112\":38,\"d126\":38}}],"
    "\"new_lesions\":[{\"id\":\"NL1\",\"timepoint\":\"d112\",\"organ\":\"lung\"},"
    "{\"id\":\"NL2\",\"timepoint\":\"d126\",\"organ\":\"brain\"}]}");
  g_assert_cmpstr (RESP (tp (s, 2)->overall), ==, "iCPD");
  g_assert_cmpstr (PROG (s), ==, "d112");
}

static void
test_new_non_target_growth (void)
{
  /* A 6 mm new lesion is a new-lesion non-target: its growth confirms. */
  g_autoptr (RrCriteriaResult_) r = eval (
    "{\"criteria\":\"irecist\",\"timepoints\":[{\"id\":\"BL\",\"day\":0},{\"id\":\"d56\",\"day\":56},"
    "{\"id\":\"d112\",\"day\":112},{\"id\":\"d154\",\"day\":154}],"
    "\"target_lesions\":["
    "{\"id\":\"T1\",\"organ\":\"liver\",\"measurements\":{\"BL\":50,\"d56\":40,\"d112\":40,\"d154\":40}}],"
    "\"new_lesions\":[{\"id\":\"NL1\",\"timepoint\":\"d112\",\"organ\":\"bone\","
    "\"measurements\":{\"d112\":6},\"increased\":[\"d154\"]}]}");
  g_assert_false (tp (r, 1)->has_new_targets);
  g_assert_cmpstr (RESP (tp (r, 1)->overall), ==, "iUPD");
  g_assert_cmpstr (RESP (tp (r, 2)->overall), ==, "iCPD");
}

static void
test_json_output (void)
{
  g_autoptr (RrCriteriaResult_) r = eval (example_f);
  g_autofree char *json = rr_criteria_result_to_json (r);
  g_autoptr (JsonParser) p = json_parser_new ();
  g_assert_true (json_parser_load_from_data (p, json, -1, NULL));
  JsonObject *o = json_node_get_object (json_parser_get_root (p));
  g_assert_cmpstr (json_object_get_string_member (o, "criteria"), ==, "recist1.1");
  g_assert_cmpfloat (json_object_get_double_member (json_object_get_object_member (o, "baseline"),
                                                    "sum_mm"), ==, 50.0);
  JsonObject *t0 = json_array_get_object_element (json_object_get_array_member (o, "timepoints"), 0);
  g_assert_cmpfloat (json_object_get_double_member (t0, "change_from_baseline_pct"), ==, -20.0);
  g_assert_cmpstr (json_object_get_string_member (o, "progression_timepoint"), ==, "d112");
  g_assert_nonnull (strstr (json, "\"sum_mm\": 50.0"));
  g_assert_nonnull (strstr (json, "\"change_from_baseline_pct\": -20.0"));
}

/* What people read (the signing dialog, the report) is the lesion form's
 * words, whatever code the read JSON holds. */
static void
test_response_words (void)
{
  g_assert_cmpstr (rr_response_code_words ("NON_CR_NON_PD"), ==, "non-CR/non-PD");
  g_assert_cmpstr (rr_response_code_words ("PR"), ==, "partial response (PR)");
  g_assert_cmpstr (rr_response_code_words ("ND"), ==, "no disease of this kind (ND)");
  g_assert_cmpstr (rr_response_code_words ("iNON_CR_NON_PD"), ==, "iNon-CR/non-PD");
  g_assert_cmpstr (rr_response_code_words (""), ==, "not assessed");
  g_assert_cmpstr (rr_response_code_words ("XYZ"), ==, "XYZ");
  g_assert_cmpstr (rr_response_code_short ("NON_CR_NON_PD"), ==, "non-CR/non-PD");
  g_assert_cmpstr (rr_response_code_short ("iNON_CR_NON_PD"), ==, "iNon-CR/non-PD");
  g_assert_cmpstr (rr_response_code_short ("SD"), ==, "SD");
  g_assert_cmpstr (rr_response_code_short (NULL), ==, "—");
  g_assert_cmpstr (rr_response_short (RR_RESP_NON_CR_NON_PD), ==, "non-CR/non-PD");
  g_assert_cmpstr (rr_new_status_code_words ("equivocal"), ==, "equivocal");
  g_assert_cmpstr (rr_new_status_code_words ("yes"), ==, "yes");
  /* Every code has words of its own, none of them the code. */
  for (RrResponse r = RR_RESP_CR; r <= RR_RESP_INE; r++)
    g_assert_false (strchr (rr_response_code_words (rr_response_to_string (r)), '_'));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/recist/example-a", test_example_a);
  g_test_add_func ("/recist/response-words", test_response_words);
  g_test_add_func ("/recist/example-b", test_example_b);
  g_test_add_func ("/recist/example-c", test_example_c);
  g_test_add_func ("/recist/example-e", test_example_e);
  g_test_add_func ("/recist/example-f", test_example_f);
  g_test_add_func ("/recist/boundaries", test_boundaries);
  g_test_add_func ("/recist/ne-lower-bound-nadir", test_ne_lower_bound_and_nadir);
  g_test_add_func ("/recist/non-target-only", test_non_target_only);
  g_test_add_func ("/recist/bor", test_bor_rules);
  g_test_add_func ("/recist/cr-then-node-back", test_cr_then_node_back);
  g_test_add_func ("/recist/invalid-reads", test_invalid_reads);
  g_test_add_func ("/read/malformed", test_malformed);
  g_test_add_func ("/read/roundtrip", test_roundtrip);
  g_test_add_func ("/recist/invariants", test_invariants);
  g_test_add_func ("/irecist/j1-j2", test_j1_j2);
  g_test_add_func ("/irecist/j3", test_j3);
  g_test_add_func ("/irecist/j4", test_j4);
  g_test_add_func ("/irecist/new-non-target-growth", test_new_non_target_growth);
  g_test_add_func ("/criteria/json-output", test_json_output);
  return g_test_run ();
}
