/* test-read-draft.c: the lesion form's model: calipers to RECIST values
 * (long axis, nodal short axis), the five-target limit, the saved form
 * read back, and the read JSON with its calipers and responses, checked
 * against sums and responses computed by hand. */
#include "rr-read-draft.h"
#include "rr-criteria.h"

static const char task_json[] =
  "{\"id\": \"t1\", \"kind\": \"read\", \"criteria\": \"recist1.1\","
  " \"timepoints\": [{\"label\": \"Week 8\", \"day\": 56, \"studies\": [\"1.2.2\"]},"
  "                  {\"label\": \"Baseline\", \"day\": 0, \"studies\": [\"1.2.1\"]}]}";

static GHashTable *calipers;

static const RrMeasurement *
lookup (const char *id,
        gpointer    data)
{
  return g_hash_table_lookup (calipers, id);
}

/* A caliper on an axial slice: a line of @len mm, or a bidirectional with
 * long axis @len and short axis @width. */
static const char *
caliper (double len,
         double width)
{
  RrPlane pl;
  RrVec3 p[2] = { { 10, 10, 5 }, { 10 + len, 10, 5 } };
  RrMeasurement *m;
  rr_plane_init_standard (&pl, RR_PLANE_AXIAL, rr_vec3 (0, 0, 5), 1, 10, 10);
  if (width > 0)
    {
      m = rr_measurement_new (RR_MEASURE_BIDIRECTIONAL, &pl, p, 2);
      rr_measurement_init_bidirectional (m, p[0], p[1]);
      /* The short axis: centred on the long one, perpendicular. */
      rr_measurement_set_point (m, 2, rr_vec3 (10 + len / 2, 10 - width / 2, 5));
      rr_measurement_set_point (m, 3, rr_vec3 (10 + len / 2, 10 + width / 2, 5));
    }
  else
    m = rr_measurement_new (RR_MEASURE_LENGTH, &pl, p, 2);
  m->series_uid = g_strdup ("1.2.1.1");
  m->sop_uid = g_strdup ("1.2.1.1.7");
  m->frame = 0;
  g_hash_table_insert (calipers, m->id, m);
  return m->id;
}

/* A bidirectional of long axis @len as the tool leaves it after the
 * drag: its short axis not measured. */
static const char *
caliper_unmeasured (double len)
{
  RrPlane pl;
  RrVec3 p[2] = { { 10, 10, 5 }, { 10 + len, 10, 5 } };
  RrMeasurement *m;
  rr_plane_init_standard (&pl, RR_PLANE_AXIAL, rr_vec3 (0, 0, 5), 1, 10, 10);
  m = rr_measurement_new (RR_MEASURE_BIDIRECTIONAL, &pl, p, 2);
  rr_measurement_init_bidirectional (m, p[0], p[1]);
  m->series_uid = g_strdup ("1.2.1.1");
  m->sop_uid = g_strdup ("1.2.1.1.7");
  g_hash_table_insert (calipers, m->id, m);
  return m->id;
}

static JsonObject *
parse_object (const char *json,
              JsonParser *p)
{
  g_autoptr (GError) error = NULL;
  g_assert_true (json_parser_load_from_data (p, json, -1, &error));
  g_assert_no_error (error);
  return json_node_get_object (json_parser_get_root (p));
}

static void
test_values (void)
{
  const char *line = caliper (32.04, 0);
  const char *bidi = caliper (24.0, 16.0);
  /* Long axis for a lesion, short axis for a node; a line on a node is
   * taken as its short axis; an angle has no size. */
  g_assert_cmpint (rr_read_draft_caliper_tenths (lookup (line, NULL), FALSE), ==, 320);
  g_assert_cmpint (rr_read_draft_caliper_tenths (lookup (line, NULL), TRUE), ==, 320);
  g_assert_cmpint (rr_read_draft_caliper_tenths (lookup (bidi, NULL), FALSE), ==, 240);
  g_assert_cmpint (rr_read_draft_caliper_tenths (lookup (bidi, NULL), TRUE), ==, 160);
  g_assert_cmpint (rr_read_draft_caliper_tenths (NULL, FALSE), ==, -1);
}

/* A node drawn as one drag has a long axis only: it gets no size (never
 * one made up from the long axis), so the read misses its value and the
 * engine says so; once the reader drags the short axis out, that is the
 * size. */
static void
test_short_axis_not_measured (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (RrReadDraft) d = rr_read_draft_new_for_task (task_json, &error);
  g_autoptr (JsonParser) p = json_parser_new ();
  g_autofree char *json = NULL, *json2 = NULL;
  const char *c = caliper_unmeasured (36.4);
  RrMeasurement *m = g_hash_table_lookup (calipers, c);
  RrDraftLesion *t;
  JsonObject *o, *meas;
  JsonArray *viol;
  guint h;

  g_assert_no_error (error);
  g_assert_false (rr_measurement_has_short_axis (m));
  /* A lesion is still its long axis; a node has no size yet. */
  g_assert_cmpint (rr_read_draft_caliper_tenths (m, FALSE), ==, 364);
  g_assert_cmpint (rr_read_draft_caliper_tenths (m, TRUE), ==, -1);

  t = rr_read_draft_add (d, RR_LESION_TARGET, 0, c, &error);
  g_assert_no_error (error);
  g_free (t->organ), t->organ = g_strdup ("axillary lymph node");
  t->nodal = TRUE;
  json = rr_read_draft_build_with_responses (d, lookup, NULL, &error);
  g_assert_no_error (error);
  o = parse_object (json, p);
  meas = json_object_get_object_member (
    json_array_get_object_element (json_object_get_array_member (o, "target_lesions"), 0),
    "measurements");
  g_assert_true (meas == NULL || !json_object_has_member (meas, "Baseline"));
  viol = json_object_get_array_member (json_object_get_object_member (o, "responses"),
                                       "violations");
  g_assert_cmpuint (json_array_get_length (viol), >, 0);
  json2 = json_to_string (json_array_get_element (viol, 0), FALSE);
  g_assert_nonnull (g_strstr_len (json2, -1, "not_measured_at_baseline"));
  g_assert_nonnull (g_strstr_len (json2, -1, "\"T1\""));

  /* The reader drags both ends out: 9 mm above the long axis, then the
   * end still at the crossing 8.2 mm below. */
  h = rr_measurement_move_handle (m, 2, rr_vec3 (10 + 18.2, 10 - 9.0, 5));
  g_assert_true (rr_measurement_has_short_axis (m));
  g_assert_cmpint (rr_read_draft_caliper_tenths (m, TRUE), ==, 90);
  rr_measurement_move_handle (m, 5 - h, rr_vec3 (10 + 18.2, 10 + 8.2, 5));
  g_assert_true (rr_measurement_has_short_axis (m));
  g_assert_cmpint (rr_read_draft_caliper_tenths (m, TRUE), ==, 172);
  g_assert_cmpint (rr_read_draft_caliper_tenths (m, FALSE), ==, 364);
}

static void
test_baseline_read (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (RrReadDraft) d = rr_read_draft_new_for_task (task_json, &error);
  g_autoptr (JsonParser) p = json_parser_new ();
  g_autofree char *json = NULL;
  RrDraftLesion *t1, *t2, *n1;
  JsonObject *o, *resp;
  const char *c1 = caliper (32.04, 0), *c2 = caliper (24.0, 16.0);

  g_assert_no_error (error);
  /* Chronological whatever the order listed. */
  g_assert_cmpuint (d->timepoints->len, ==, 2);
  g_assert_cmpstr (((RrTimepoint *) d->timepoints->pdata[0])->id, ==, "Baseline");
  g_assert_cmpstr (((RrTimepoint *) d->timepoints->pdata[1])->id, ==, "Week 8");

  t1 = rr_read_draft_add (d, RR_LESION_TARGET, 0, c1, &error);
  t2 = rr_read_draft_add (d, RR_LESION_TARGET, 0, c2, &error);
  n1 = rr_read_draft_add (d, RR_LESION_NON_TARGET, 0, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (t1->id, ==, "T1");
  g_assert_cmpstr (t2->id, ==, "T2");
  g_assert_cmpstr (n1->id, ==, "N1");
  g_free (t1->organ), t1->organ = g_strdup ("liver");
  g_free (t2->organ), t2->organ = g_strdup ("axillary lymph node");
  g_free (n1->organ), n1->organ = g_strdup ("bone");
  t2->nodal = TRUE;
  g_assert_true (rr_read_draft_find_caliper (d, c2, NULL) == t2);

  /* Targets are chosen at baseline: none at week 8. */
  g_assert_null (rr_read_draft_add (d, RR_LESION_TARGET, 1, NULL, &error));
  g_clear_error (&error);

  /* Week 8: T1 20.0 mm, the node gone, the bone lesion present. */
  rr_read_draft_set_entry (t1, 1, RR_ENTRY_CALIPER, caliper (20.0, 0));
  rr_read_draft_set_entry (t2, 1, RR_ENTRY_GONE, NULL);
  rr_read_draft_set_entry (n1, 1, RR_ENTRY_PRESENT, NULL);

  json = rr_read_draft_build_with_responses (d, lookup, NULL, &error);
  g_assert_no_error (error);
  o = parse_object (json, p);
  resp = json_object_get_object_member (o, "responses");
  /* 32.0 + 16.0 (the node's short axis) = 48.0 mm; week 8: 20.0 mm,
   * 20/48 - 1 = -58.3 %: PR (T1 remains), non-target present. */
  g_assert_cmpfloat (json_object_get_double_member (
                       json_object_get_object_member (resp, "baseline"), "sum_mm"), ==, 48.0);
  {
    JsonObject *fu = json_array_get_object_element (json_object_get_array_member (resp,
                                                                                  "timepoints"), 0);
    g_assert_cmpstr (json_object_get_string_member (fu, "id"), ==, "Week 8");
    g_assert_cmpfloat (json_object_get_double_member (fu, "sum_mm"), ==, 20.0);
    g_assert_cmpfloat (json_object_get_double_member (fu, "change_from_baseline_pct"), ==, -58.3);
    g_assert_cmpstr (json_object_get_string_member (fu, "target"), ==, "PR");
    g_assert_cmpstr (json_object_get_string_member (fu, "non_target"), ==, "NON_CR_NON_PD");
    g_assert_cmpstr (json_object_get_string_member (fu, "overall"), ==, "PR");
  }
  g_assert_cmpstr (json_object_get_string_member (resp, "best_overall_response"), ==, "PR");
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (resp, "violations")),
                    ==, 0);
  /* Each value carries its caliper: points in patient mm and the image. */
  {
    JsonObject *t = json_array_get_object_element (json_object_get_array_member (o,
                                                                                 "target_lesions"),
                                                   0);
    JsonObject *cal = json_object_get_object_member (json_object_get_object_member (t, "calipers"),
                                                     "Baseline");
    g_assert_cmpstr (json_object_get_string_member (t, "organ"), ==, "liver");
    g_assert_cmpfloat (json_object_get_double_member (
                         json_object_get_object_member (t, "measurements"), "Baseline"), ==, 32.0);
    g_assert_nonnull (cal);
    g_assert_cmpstr (json_object_get_string_member (cal, "id"), ==, c1);
  }

  /* The sixth target is refused. */
  for (int i = 0; i < 3; i++)
    g_assert_nonnull (rr_read_draft_add (d, RR_LESION_TARGET, 0, NULL, &error));
  g_assert_null (rr_read_draft_add (d, RR_LESION_TARGET, 0, NULL, &error));
  g_assert_error (error, RR_READ_ERROR, RR_READ_ERROR_INVALID);
  g_assert_cmpuint (rr_read_draft_count (d, RR_LESION_TARGET), ==, 5);
}

/* Three targets in the liver: the engine names the third beside it. */
static void
test_violation_named (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (RrReadDraft) d = rr_read_draft_new_for_task (task_json, &error);
  g_autoptr (JsonParser) p = json_parser_new ();
  g_autofree char *json = NULL;
  JsonArray *v;
  gboolean named = FALSE;
  for (int i = 0; i < 3; i++)
    {
      RrDraftLesion *l = rr_read_draft_add (d, RR_LESION_TARGET, 0, caliper (30 + i, 0), &error);
      g_free (l->organ), l->organ = g_strdup ("liver");
    }
  json = rr_read_draft_build_with_responses (d, lookup, NULL, &error);
  g_assert_no_error (error);
  v = json_object_get_array_member (json_object_get_object_member (parse_object (json, p),
                                                                   "responses"), "violations");
  for (guint i = 0; i < json_array_get_length (v); i++)
    {
      JsonObject *x = json_array_get_object_element (v, i);
      named |= g_strcmp0 (json_object_get_string_member (x, "rule"), "too_many_in_organ") == 0 &&
               g_strcmp0 (json_object_get_string_member_with_default (x, "lesion", ""), "T3") == 0;
    }
  g_assert_true (named);
}

static void
test_saved_form (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (RrReadDraft) d = rr_read_draft_new_for_task (task_json, &error);
  g_autoptr (RrReadDraft) e = rr_read_draft_new_for_task (task_json, &error);
  g_autofree char *a = NULL, *b = NULL;
  RrDraftLesion *t1 = rr_read_draft_add (d, RR_LESION_TARGET, 0, "cal-1", &error);
  RrDraftLesion *nw = rr_read_draft_add (d, RR_LESION_NEW, 1, "cal-2", &error);
  g_free (t1->organ), t1->organ = g_strdup ("lung");
  t1->location = g_strdup ("right upper lobe \"apex\"");
  t1->slice_thickness_mm = 2.5;
  rr_read_draft_set_entry (t1, 1, RR_ENTRY_TSTM, NULL);
  nw->equivocal = TRUE;
  a = rr_read_draft_to_json (d);
  g_assert_true (rr_read_draft_load (e, a, &error));
  g_assert_no_error (error);
  b = rr_read_draft_to_json (e);
  g_assert_cmpstr (a, ==, b);
  t1 = rr_read_draft_find (e, "T1");
  g_assert_cmpstr (t1->location, ==, "right upper lobe \"apex\"");
  g_assert_cmpint (t1->entries[1].kind, ==, RR_ENTRY_TSTM);
  g_assert_cmpstr (t1->entries[0].caliper, ==, "cal-1");
  g_assert_cmpuint (rr_read_draft_find (e, "NEW1")->timepoint, ==, 1);
  g_assert_true (rr_read_draft_find (e, "NEW1")->equivocal);
  g_assert_true (rr_read_draft_remove (e, "T1"));
  g_assert_null (rr_read_draft_find (e, "T1"));
  /* Not a saved form: an error, the draft left as it was. */
  g_assert_false (rr_read_draft_load (e, "[1, 2]", &error));
  g_assert_nonnull (error);
  g_assert_nonnull (rr_read_draft_find (e, "NEW1"));
}

/* Sequential reading: the baseline read's saved form, loaded into the
 * follow-up's draft, brings its lesions and baseline values by label. */
static void
test_follow_up_from_baseline (void)
{
  static const char baseline_task[] =
    "{\"criteria\": \"recist1.1\", \"timepoints\": [{\"label\": \"Baseline\", \"day\": 0}]}";
  g_autoptr (GError) error = NULL;
  g_autoptr (RrReadDraft) bl = rr_read_draft_new_for_task (baseline_task, &error);
  g_autoptr (RrReadDraft) fu = rr_read_draft_new_for_task (task_json, &error);
  g_autofree char *saved = NULL, *json = NULL;
  g_autoptr (JsonParser) p = json_parser_new ();
  const char *c1 = caliper (40.0, 0);
  RrDraftLesion *t1 = rr_read_draft_add (bl, RR_LESION_TARGET, 0, c1, &error);
  JsonObject *fu1;

  g_free (t1->organ), t1->organ = g_strdup ("liver");
  saved = rr_read_draft_to_json (bl);
  g_assert_true (rr_read_draft_load (fu, saved, &error));
  t1 = rr_read_draft_find (fu, "T1");
  g_assert_nonnull (t1);
  g_assert_cmpstr (t1->entries[0].caliper, ==, c1);
  g_assert_cmpint (t1->entries[1].kind, ==, RR_ENTRY_NONE);
  /* Week 8: 26.0 mm, -35 %: PR. */
  rr_read_draft_set_entry (t1, 1, RR_ENTRY_CALIPER, caliper (26.0, 0));
  json = rr_read_draft_build_with_responses (fu, lookup, NULL, &error);
  g_assert_no_error (error);
  fu1 = json_array_get_object_element (json_object_get_array_member (
    json_object_get_object_member (parse_object (json, p), "responses"), "timepoints"), 0);
  g_assert_cmpfloat (json_object_get_double_member (fu1, "change_from_baseline_pct"), ==, -35.0);
  g_assert_cmpstr (json_object_get_string_member (fu1, "target"), ==, "PR");
}

/* criteria.md: a lesion that splits is the sum of its fragments; lesions
 * that merge are measured whole, the other counting 0. Baseline T1 30.0
 * + T2 20.0 = 50.0 mm. Week 8: T1 split into 12.0 + 8.5 = 20.5, T2 merged
 * into T1 (0): 20.5 mm, (20.5 - 50) / 50 = -59.0 %: PR. */
static void
test_split_and_merged (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (RrReadDraft) d = rr_read_draft_new_for_task (task_json, &error);
  g_autoptr (RrReadDraft) e = rr_read_draft_new_for_task (task_json, &error);
  g_autofree char *json = NULL, *saved = NULL, *again = NULL;
  g_autoptr (JsonParser) p = json_parser_new ();
  RrDraftLesion *t1 = rr_read_draft_add (d, RR_LESION_TARGET, 0, caliper (30.0, 0), &error);
  RrDraftLesion *t2 = rr_read_draft_add (d, RR_LESION_TARGET, 0, caliper (20.0, 0), &error);
  const char *f1 = caliper (12.0, 0), *f2 = caliper (8.5, 0);
  JsonObject *root, *m1, *fu1, *cal;
  JsonArray *frag;

  g_free (t1->organ), t1->organ = g_strdup ("liver");
  g_free (t2->organ), t2->organ = g_strdup ("liver");
  /* A split needs the first fragment measured. */
  g_assert_false (rr_read_draft_add_fragment (t1, 1, f2));
  rr_read_draft_set_entry (t1, 1, RR_ENTRY_CALIPER, f1);
  g_assert_true (rr_read_draft_add_fragment (t1, 1, f2));
  g_assert_false (rr_read_draft_add_fragment (t1, 1, f2));
  g_assert_cmpint (t1->entries[1].kind, ==, RR_ENTRY_SPLIT);
  g_assert_true (rr_read_draft_find_caliper (d, f2, NULL) == t1);
  g_assert_cmpint (rr_read_draft_entry_tenths (t1, 1, lookup, NULL), ==, 205);
  rr_read_draft_set_entry (t2, 1, RR_ENTRY_MERGED, NULL);
  g_assert_cmpint (rr_read_draft_entry_tenths (t2, 1, lookup, NULL), ==, 0);

  json = rr_read_draft_build_with_responses (d, lookup, NULL, &error);
  g_assert_no_error (error);
  root = parse_object (json, p);
  m1 = json_object_get_object_member (json_array_get_object_element (
    json_object_get_array_member (root, "target_lesions"), 0), "measurements");
  frag = json_object_get_array_member (m1, "Week 8");
  g_assert_cmpuint (json_array_get_length (frag), ==, 2);
  g_assert_cmpfloat (json_array_get_double_element (frag, 0), ==, 12.0);
  g_assert_cmpfloat (json_array_get_double_element (frag, 1), ==, 8.5);
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (
    json_array_get_object_element (json_object_get_array_member (root, "target_lesions"), 1),
    "measurements"), "Week 8"), ==, "MERGED");
  /* One caliper per fragment, in the order of the sizes. */
  cal = json_object_get_object_member (json_array_get_object_element (
    json_object_get_array_member (root, "target_lesions"), 0), "calipers");
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (cal, "Week 8")), ==, 2);
  fu1 = json_array_get_object_element (json_object_get_array_member (
    json_object_get_object_member (root, "responses"), "timepoints"), 0);
  g_assert_cmpfloat (json_object_get_double_member (fu1, "sum_mm"), ==, 20.5);
  g_assert_cmpfloat (json_object_get_double_member (fu1, "change_from_baseline_pct"), ==, -59.0);
  g_assert_cmpstr (json_object_get_string_member (fu1, "target"), ==, "PR");

  /* What the form evaluates on every drag: the same values, no calipers. */
  {
    g_autofree char *values = rr_read_draft_build_values (d, lookup, NULL);
    g_autoptr (JsonParser) q = json_parser_new ();
    JsonObject *v = json_array_get_object_element (json_object_get_array_member (
      parse_object (values, q), "target_lesions"), 0);
    g_assert_false (json_object_has_member (v, "calipers"));
    g_assert_cmpuint (json_array_get_length (json_object_get_array_member (
      json_object_get_object_member (v, "measurements"), "Week 8")), ==, 2);
  }

  /* The saved form keeps the fragments and the merge. */
  saved = rr_read_draft_to_json (d);
  g_assert_true (rr_read_draft_load (e, saved, &error));
  again = rr_read_draft_to_json (e);
  g_assert_cmpstr (saved, ==, again);
  g_assert_cmpint (rr_read_draft_find (e, "T1")->entries[1].kind, ==, RR_ENTRY_SPLIT);
  g_assert_cmpstr (rr_read_draft_find (e, "T1")->entries[1].fragments[0], ==, f2);
  g_assert_cmpint (rr_read_draft_find (e, "T2")->entries[1].kind, ==, RR_ENTRY_MERGED);
}

static void
test_submission (void)
{
  g_autoptr (JsonParser) p = json_parser_new ();
  g_autoptr (JsonNode) body = NULL;
  g_autoptr (JsonGenerator) g = json_generator_new ();
  g_autofree char *s = NULL;
  g_assert_true (json_parser_load_from_data (p, "{\"criteria\": \"recist1.1\"}", -1, NULL));
  body = rr_read_submission_new (json_parser_get_root (p), "I am the author of this read");
  json_generator_set_root (g, body);
  s = json_generator_to_data (g, NULL);
  g_assert_cmpstr (s, ==, "{\"read\":{\"criteria\":\"recist1.1\"},\"signature\":{\"meaning\":"
                          "\"I am the author of this read\"}}");
}

/* criteria.md J1, drawn as calipers: a new lesion's caliper is its size.
 * Targets 30.0 + 20.0 (B = 50.0). Day 56: 40.0, iSD. Day 112: 38.0 and a
 * new 12.0 mm liver lesion (measurable, a new-lesion target): iUPD, its
 * sum 12.0. Day 154: targets 36.0, the new lesion 18.0 (+6.0 mm, at
 * least 5): iCPD. */
static void
test_new_lesion_sizes (void)
{
  static const char irecist_task[] =
    "{\"criteria\": \"irecist\", \"timepoints\": [{\"label\": \"BL\", \"day\": 0},"
    " {\"label\": \"FU1\", \"day\": 56}, {\"label\": \"FU2\", \"day\": 112},"
    " {\"label\": \"FU3\", \"day\": 154}]}";
  static const char *const overall[] = { "iSD", "iUPD", "iCPD" };
  static const double new_sum[] = { -1, 12.0, 18.0 };
  g_autoptr (GError) error = NULL;
  g_autoptr (RrReadDraft) d = rr_read_draft_new_for_task (irecist_task, &error);
  g_autoptr (JsonParser) p = json_parser_new ();
  g_autofree char *json = NULL;
  RrDraftLesion *t1, *t2, *nl;
  JsonObject *o, *news;
  JsonArray *tps;

  g_assert_no_error (error);
  t1 = rr_read_draft_add (d, RR_LESION_TARGET, 0, caliper (30.0, 0), &error);
  t2 = rr_read_draft_add (d, RR_LESION_TARGET, 0, caliper (20.0, 0), &error);
  g_assert_no_error (error);
  g_free (t1->organ), t1->organ = g_strdup ("liver");
  g_free (t2->organ), t2->organ = g_strdup ("lung");
  rr_read_draft_set_entry (t1, 1, RR_ENTRY_CALIPER, caliper (24.0, 0));
  rr_read_draft_set_entry (t2, 1, RR_ENTRY_CALIPER, caliper (16.0, 0));
  rr_read_draft_set_entry (t1, 2, RR_ENTRY_CALIPER, caliper (23.0, 0));
  rr_read_draft_set_entry (t2, 2, RR_ENTRY_CALIPER, caliper (15.0, 0));
  rr_read_draft_set_entry (t1, 3, RR_ENTRY_CALIPER, caliper (22.0, 0));
  rr_read_draft_set_entry (t2, 3, RR_ENTRY_CALIPER, caliper (14.0, 0));
  nl = rr_read_draft_add (d, RR_LESION_NEW, 2, caliper (12.0, 0), &error);
  g_assert_no_error (error);
  g_free (nl->organ), nl->organ = g_strdup ("liver");
  rr_read_draft_set_entry (nl, 3, RR_ENTRY_CALIPER, caliper (18.0, 0));

  json = rr_read_draft_build_with_responses (d, lookup, NULL, &error);
  g_assert_no_error (error);
  o = parse_object (json, p);
  news = json_object_get_object_member (
    json_array_get_object_element (json_object_get_array_member (o, "new_lesions"), 0),
    "measurements");
  g_assert_cmpfloat (json_object_get_double_member (news, "FU2"), ==, 12.0);
  g_assert_cmpfloat (json_object_get_double_member (news, "FU3"), ==, 18.0);
  g_assert_false (json_object_has_member (news, "FU1"));
  tps = json_object_get_array_member (json_object_get_object_member (o, "responses"),
                                      "timepoints");
  g_assert_cmpuint (json_array_get_length (tps), ==, 3);
  for (guint i = 0; i < 3; i++)
    {
      JsonObject *t = json_array_get_object_element (tps, i);
      JsonNode *s = json_object_get_member (t, "new_lesion_target_sum_mm");
      g_assert_cmpstr (json_object_get_string_member (t, "overall"), ==, overall[i]);
      if (new_sum[i] < 0)
        g_assert_true (s == NULL || JSON_NODE_HOLDS_NULL (s));
      else
        g_assert_cmpfloat (json_node_get_double (s), ==, new_sum[i]);
    }

  /* Gone at day 154 instead (the form's "Gone (0 mm)"): 0 mm, which
   * iRECIST counts as "new lesions: no" there (read-json.md), so the
   * iUPD is left (criteria.md, "reset"): the targets, 36.0 from 50.0
   * (-28 %), make it iSD. */
  rr_read_draft_set_entry (nl, 3, RR_ENTRY_GONE, NULL);
  g_clear_pointer (&json, g_free);
  g_clear_object (&p);
  p = json_parser_new ();
  json = rr_read_draft_build_with_responses (d, lookup, NULL, &error);
  g_assert_no_error (error);
  o = parse_object (json, p);
  news = json_object_get_object_member (
    json_array_get_object_element (json_object_get_array_member (o, "new_lesions"), 0),
    "measurements");
  g_assert_cmpfloat (json_object_get_double_member (news, "FU3"), ==, 0.0);
  tps = json_object_get_array_member (json_object_get_object_member (o, "responses"),
                                      "timepoints");
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (tps, 2),
                                                  "overall"), ==, "iSD");
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (tps, 2),
                                                  "irecist_state"), ==, "reset");
}

/* What is left to assess at a timepoint: every lesion that has neither a
 * value nor a status there; a new lesion only from where it was first
 * seen. "Not evaluable" is an answer, nothing is not (walk: a Week 8 read
 * with nothing assessed could be signed). */
static void
test_unassessed (void)
{
  static const char task[] =
    "{\"criteria\": \"recist1.1\", \"timepoints\": [{\"label\": \"Baseline\", \"day\": 0},"
    " {\"label\": \"Week 8\", \"day\": 56}, {\"label\": \"Week 16\", \"day\": 112}]}";
  g_autoptr (GError) error = NULL;
  g_autoptr (RrReadDraft) d = rr_read_draft_new_for_task (task, &error);
  g_autofree char *bl = NULL, *w8 = NULL, *w8_done = NULL, *bl_again = NULL, *w16 = NULL;
  g_autofree char *w16_done = NULL;
  RrDraftLesion *t1, *n1, *nl;

  g_assert_no_error (error);
  t1 = rr_read_draft_add (d, RR_LESION_TARGET, 0, caliper (30.0, 0), &error);
  n1 = rr_read_draft_add (d, RR_LESION_NON_TARGET, 0, NULL, &error);
  g_assert_no_error (error);
  bl = rr_read_draft_unassessed (d, 0);
  g_assert_null (bl);
  w8 = rr_read_draft_unassessed (d, 1);
  g_assert_cmpstr (w8, ==, "T1, N1");
  rr_read_draft_set_entry (t1, 1, RR_ENTRY_CALIPER, caliper (24.0, 0));
  rr_read_draft_set_entry (n1, 1, RR_ENTRY_NE, NULL);
  nl = rr_read_draft_add (d, RR_LESION_NEW, 1, caliper (12.0, 0), &error);
  g_assert_no_error (error);
  w8_done = rr_read_draft_unassessed (d, 1);
  g_assert_null (w8_done);
  /* Not at baseline, where nobody saw it. */
  bl_again = rr_read_draft_unassessed (d, 0);
  g_assert_null (bl_again);
  /* Week 16: all three again, the new lesion too. */
  w16 = rr_read_draft_unassessed (d, 2);
  g_assert_cmpstr (w16, ==, "T1, N1, NEW1");
  rr_read_draft_set_entry (t1, 2, RR_ENTRY_GONE, NULL);
  rr_read_draft_set_entry (n1, 2, RR_ENTRY_GONE, NULL);
  rr_read_draft_set_entry (nl, 2, RR_ENTRY_TSTM, NULL);
  w16_done = rr_read_draft_unassessed (d, 2);
  g_assert_null (w16_done);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  calipers = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                    (GDestroyNotify) rr_measurement_free);
  g_test_add_func ("/read-draft/values", test_values);
  g_test_add_func ("/read-draft/short-axis-not-measured", test_short_axis_not_measured);
  g_test_add_func ("/read-draft/read", test_baseline_read);
  g_test_add_func ("/read-draft/violation-named", test_violation_named);
  g_test_add_func ("/read-draft/saved-form", test_saved_form);
  g_test_add_func ("/read-draft/follow-up", test_follow_up_from_baseline);
  g_test_add_func ("/read-draft/submission", test_submission);
  g_test_add_func ("/read-draft/split-merged", test_split_and_merged);
  g_test_add_func ("/read-draft/new-lesion-sizes", test_new_lesion_sizes);
  g_test_add_func ("/read-draft/unassessed", test_unassessed);
  return g_test_run ();
}
