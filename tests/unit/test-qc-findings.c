/* The QC workspace's findings as JSON (src/app/rr-qc-view-findings.c):
 * what the app sends is server-api.md's finding, the draft keeps what the
 * submission leaves out, and bad members from a server or a kept draft are
 * skipped. Expected documents are written from the contract by hand. */
#include "../../src/app/rr-qc-view-private.h"

#include <string.h>

static JsonArray *
array_of (JsonParser *p,
          const char *json,
          const char *member)
{
  JsonNode *root;
  g_assert_true (json_parser_load_from_data (p, json, -1, NULL));
  root = json_parser_get_root (p);
  if (member == NULL)
    return json_node_get_array (root);
  return json_object_get_array_member (json_node_get_object (root), member);
}

static void
test_from_server (void)
{
  g_autoptr (JsonParser) p = json_parser_new ();
  /* One good finding of each kind, then what must be skipped: an unknown
   * category, a severity not in the list, a non-object, a frame out of
   * range (kept, at frame 0). */
  JsonArray *a = array_of (p,
    "[{\"series\": \"1.2.3\", \"category\": \"slice_thickness\", \"severity\": \"major\","
    "  \"comment\": \"Slices are 7.5 mm thick\"},"
    " {\"series\": \"1.2.3\", \"sop\": \"1.2.3.4\", \"frame\": 2, \"category\": \"motion_artifact\","
    "  \"severity\": \"minor\", \"shape\": {\"type\": \"rect\", \"points\": [[1, 2], [30, 40]]}},"
    " {\"category\": \"blurry\", \"severity\": \"major\"},"
    " {\"category\": \"other\", \"severity\": \"critical\"},"
    " 7,"
    " {\"sop\": \"1.2.3.5\", \"frame\": -1, \"category\": \"other\", \"severity\": \"minor\"}]",
    NULL);
  g_autoptr (GPtrArray) f = rr_qc_findings_from_json (a, TRUE);
  RrQcViewFinding *x;

  g_assert_cmpuint (f->len, ==, 3);
  x = f->pdata[0];
  g_assert_cmpstr (x->category, ==, "slice_thickness");
  g_assert_cmpstr (x->severity, ==, "major");
  g_assert_cmpstr (x->series, ==, "1.2.3");
  g_assert_null (x->sop);
  g_assert_null (x->shape_json);
  g_assert_true (x->automated);
  x = f->pdata[1];
  g_assert_cmpstr (x->sop, ==, "1.2.3.4");
  g_assert_cmpuint (x->frame, ==, 2);
  g_assert_cmpstr (x->comment, ==, "");
  g_assert_cmpstr (x->shape_json, ==, "{\"type\":\"rect\",\"points\":[[1,2],[30,40]]}");
  x = f->pdata[2];
  g_assert_cmpuint (x->frame, ==, 0);
}

static void
test_submission (void)
{
  g_autoptr (GPtrArray) f = g_ptr_array_new_with_free_func ((GDestroyNotify) rr_qc_view_finding_free);
  RrQcViewFinding *a = rr_qc_view_finding_new (), *b = rr_qc_view_finding_new ();
  g_autofree char *json = NULL;

  g_free (a->category);
  a->category = g_strdup ("slice_thickness");
  a->series = g_strdup ("1.2.3");
  a->automated = TRUE;
  g_free (b->category);
  g_free (b->severity);
  g_free (b->comment);
  b->category = g_strdup ("motion_artifact");
  b->severity = g_strdup ("minor");
  b->comment = g_strdup ("Breathing \"motion\"");
  b->series = g_strdup ("1.2.3");
  b->sop = g_strdup ("1.2.3.4");
  b->frame = 0;
  b->shape_json = g_strdup ("{\"type\":\"point\",\"points\":[[5,6]]}");
  g_ptr_array_add (f, a);
  g_ptr_array_add (f, b);

  /* server-api.md's finding: no empty comment (the server refuses one),
   * the frame with the sop, no draft members. */
  json = rr_qc_submission_json (f, "query");
  g_assert_cmpstr (json, ==,
                   "{\"decision\":\"query\",\"findings\":["
                   "{\"series\":\"1.2.3\",\"category\":\"slice_thickness\",\"severity\":\"major\"},"
                   "{\"series\":\"1.2.3\",\"sop\":\"1.2.3.4\",\"frame\":0,"
                   "\"category\":\"motion_artifact\",\"severity\":\"minor\","
                   "\"comment\":\"Breathing \\\"motion\\\"\","
                   "\"shape\":{\"type\":\"point\",\"points\":[[5,6]]}}]}");
}

static void
test_draft_round_trip (void)
{
  g_autoptr (GPtrArray) f = g_ptr_array_new_with_free_func ((GDestroyNotify) rr_qc_view_finding_free);
  g_autoptr (GPtrArray) back = NULL;
  g_autoptr (JsonParser) p = json_parser_new ();
  RrQcViewFinding *a = rr_qc_view_finding_new ();
  RrPlane plane = { 0 };
  RrVec3 pt = { 10, 20, 30 };
  g_autofree char *draft = NULL;
  RrQcViewFinding *x;

  plane.center = pt;
  plane.right = (RrVec3) { 1, 0, 0 };
  plane.down = (RrVec3) { 0, 1, 0 };
  a->shape = rr_measurement_new (RR_MEASURE_PROBE, &plane, &pt, 1);
  g_free (a->id);
  a->id = g_strdup (a->shape->id);
  a->automated = FALSE;
  g_ptr_array_add (f, a);
  draft = rr_qc_draft_to_json (f, NULL);
  /* Told apart from the reading window's draft, and the decision not yet
   * taken is null. */
  g_assert_true (g_str_has_prefix (draft, "{\"qc_draft\":1,\"decision\":null,"));
  back = rr_qc_findings_from_json (array_of (p, draft, "findings"), FALSE);
  g_assert_cmpuint (back->len, ==, 1);
  x = back->pdata[0];
  g_assert_nonnull (x->shape);
  g_assert_cmpstr (x->id, ==, a->id);
  g_assert_cmpfloat (rr_measurement_point (x->shape, 0).z, ==, 30);
  g_assert_false (x->automated);
}

static void
test_category_text (void)
{
  g_autofree char *a = rr_qc_category_text ("wrong_subject_or_visit");
  g_autofree char *b = rr_qc_category_text ("");
  g_assert_cmpstr (a, ==, "Wrong subject or visit");
  g_assert_cmpstr (b, ==, "");
  {
    /* An abbreviation stays one (walk c1: "Phi present"). */
    g_autofree char *phi = rr_qc_category_text ("phi_present");
    g_assert_cmpstr (phi, ==, "PHI present");
  }
  /* The list is server-api.md's, in its order. */
  g_assert_cmpuint (g_strv_length ((char **) rr_qc_categories), ==, RR_QC_N_CATEGORIES);
  g_assert_cmpstr (rr_qc_categories[4], ==, "motion_artifact");
}

static RrQcViewFinding *
finding_of (const char *category,
            const char *severity)
{
  RrQcViewFinding *f = rr_qc_view_finding_new ();
  g_free (f->category);
  g_free (f->severity);
  f->category = g_strdup (category);
  f->severity = g_strdup (severity);
  return f;
}

/* s9 walk, m1: a pass was signed with three open major PHI findings and no
 * word about them. A trial's QC SOP wants them resolved first, or passed
 * over explicitly with the reason recorded with the signature. */
static void
test_pass_over_major_findings (void)
{
  g_autoptr (GPtrArray) a = g_ptr_array_new_with_free_func ((GDestroyNotify)
                                                            rr_qc_view_finding_free);
  g_autofree char *plain = NULL, *over = NULL, *fail = NULL, *minor = NULL;
  g_autofree char *longest = g_strnfill (RR_QC_RATIONALE_MAX, 'x');
  g_autofree char *too_long = g_strnfill (RR_QC_RATIONALE_MAX + 1, 'x');
  g_autofree char *at_most = NULL;
  const char *why = "Institution name is the CRO's test site, agreed with the sponsor";

  g_ptr_array_add (a, finding_of ("phi_present", "major"));
  g_ptr_array_add (a, finding_of ("phi_present", "major"));
  g_ptr_array_add (a, finding_of ("image_quality", "minor"));
  g_assert_cmpuint (rr_qc_open_major (a), ==, 2);

  /* No pass without the override, nor with a blank or overlong reason. */
  g_assert_null (rr_qc_sign_meaning ("pass", 2, NULL));
  g_assert_null (rr_qc_sign_meaning ("pass", 2, ""));
  g_assert_null (rr_qc_sign_meaning ("pass", 2, "   "));
  g_assert_null (rr_qc_sign_meaning ("pass", 2, too_long));
  over = rr_qc_sign_meaning ("pass", 2, "  " "Institution name is the CRO's test site, agreed "
                             "with the sponsor" " ");
  g_assert_cmpstr (over, ==, "I reviewed these images against the protocol: they pass despite "
                   "2 major findings, because: Institution name is the CRO's test site, agreed "
                   "with the sponsor");
  g_assert_nonnull (strstr (over, why));
  /* The longest reason still fits the server's 200 characters. */
  at_most = rr_qc_sign_meaning ("pass", 999, longest);
  g_assert_nonnull (at_most);
  g_assert_cmpint (g_utf8_strlen (at_most, -1), <=, 200);

  /* Resolved (removed, or made minor): a plain pass. */
  g_ptr_array_remove_index (a, 0);
  g_free (((RrQcViewFinding *) a->pdata[0])->severity);
  ((RrQcViewFinding *) a->pdata[0])->severity = g_strdup ("minor");
  g_assert_cmpuint (rr_qc_open_major (a), ==, 0);
  plain = rr_qc_sign_meaning ("pass", rr_qc_open_major (a), NULL);
  g_assert_cmpstr (plain, ==, "I reviewed the quality of these images against the trial's "
                   "protocol: they pass");
  /* A fail or a query is what major findings ask for: no override. */
  fail = rr_qc_sign_meaning ("fail", 2, NULL);
  g_assert_cmpstr (fail, ==, "I reviewed the quality of these images against the trial's "
                   "protocol: they fail");
  minor = rr_qc_sign_meaning ("query", 1, NULL);
  g_assert_cmpstr (minor, ==, "I reviewed the quality of these images against the trial's "
                   "protocol: the site is queried");
  g_assert_null (rr_qc_sign_meaning (NULL, 0, NULL));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/qc-findings/from-server", test_from_server);
  g_test_add_func ("/qc-findings/submission", test_submission);
  g_test_add_func ("/qc-findings/draft", test_draft_round_trip);
  g_test_add_func ("/qc-findings/category-text", test_category_text);
  g_test_add_func ("/qc-findings/pass-over-major", test_pass_over_major_findings);
  return g_test_run ();
}
