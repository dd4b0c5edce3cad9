/* test-read-compare.c: two reads of one case compared lesion by lesion;
 * every expected difference worked out by hand from the reads below. */
#include "rr-read-compare.h"

static JsonObject *
parse (JsonParser *p,
       const char *json)
{
  g_autoptr (GError) error = NULL;
  g_assert_true (json_parser_load_from_data (p, json, -1, &error));
  g_assert_no_error (error);
  return json_node_get_object (json_parser_get_root (p));
}

#define TPS "\"timepoints\": [{\"id\": \"BL\", \"day\": 0}, {\"id\": \"W8\", \"day\": 56}]"

static void
test_agree (void)
{
  g_autoptr (JsonParser) p1 = json_parser_new (), p2 = json_parser_new ();
  /* 30 against 35 at BL: 5 mm is 16.7 % of 30, within 20 %; 20 against
   * 24 at W8: exactly 20 %, not more. */
  JsonObject *a = parse (p1, "{" TPS ", \"target_lesions\": [{\"id\": \"T1\", \"organ\": "
                         "\"liver\", \"measurements\": {\"BL\": 30.0, \"W8\": 20.0}}], "
                         "\"new_lesions\": []}");
  JsonObject *b = parse (p2, "{" TPS ", \"target_lesions\": [{\"id\": \"T1\", \"organ\": "
                         "\"liver\", \"measurements\": {\"BL\": 35.0, \"W8\": 24.0}}], "
                         "\"new_lesions\": []}");
  g_autoptr (GPtrArray) d = rr_read_compare (a, b);
  g_assert_cmpuint (d->len, ==, 0);
}

static void
test_differences (void)
{
  g_autoptr (JsonParser) p1 = json_parser_new (), p2 = json_parser_new ();
  /* Reader 1: liver T1 and lung T2, a new bone lesion at W8. Reader 2:
   * liver T1 (W8 27 against 16: 68.75 % more), a node T2 instead of the
   * lung, no new lesion. */
  JsonObject *a = parse (p1, "{" TPS ", \"target_lesions\": ["
                         "{\"id\": \"T1\", \"organ\": \"liver\", \"measurements\": "
                         "{\"BL\": 30.0, \"W8\": 16.0}},"
                         "{\"id\": \"T2\", \"organ\": \"lung\", \"measurements\": "
                         "{\"BL\": 15.0, \"W8\": 10.0}}], "
                         "\"new_lesions\": [{\"id\": \"N1\", \"organ\": \"bone\", "
                         "\"timepoint\": \"W8\"}]}");
  JsonObject *b = parse (p2, "{" TPS ", \"target_lesions\": ["
                         "{\"id\": \"T1\", \"organ\": \"liver\", \"measurements\": "
                         "{\"BL\": [20.0, 10.0], \"W8\": 27.0}},"
                         "{\"id\": \"T2\", \"organ\": \"lymph node\", \"nodal\": true, "
                         "\"measurements\": {\"BL\": 16.0, \"W8\": 12.0}}], "
                         "\"new_lesions\": []}");
  g_autoptr (GPtrArray) d = rr_read_compare (a, b);
  RrReadDiff *x;

  g_assert_cmpuint (d->len, ==, 4);
  x = d->pdata[0];
  g_assert_cmpint (x->kind, ==, RR_READ_DIFF_MEASUREMENT);
  g_assert_cmpstr (x->timepoint, ==, "W8");
  g_assert_cmpstr (x->lesion_1, ==, "T1");
  g_assert_cmpstr (x->lesion_2, ==, "T1");
  g_assert_cmpfloat_with_epsilon (x->mm_1, 16.0, 1e-9);
  g_assert_cmpfloat_with_epsilon (x->mm_2, 27.0, 1e-9);
  g_assert_true (rr_read_diff_concerns (x, 2, "T1"));
  x = d->pdata[1];
  g_assert_cmpint (x->kind, ==, RR_READ_DIFF_TARGET_CHOICE);
  g_assert_cmpuint (x->reader, ==, 1);
  g_assert_cmpstr (x->lesion_1, ==, "T2");
  g_assert_null (x->lesion_2);
  x = d->pdata[2];
  g_assert_cmpint (x->kind, ==, RR_READ_DIFF_TARGET_CHOICE);
  g_assert_cmpuint (x->reader, ==, 2);
  g_assert_cmpstr (x->lesion_2, ==, "T2");
  g_assert_false (rr_read_diff_concerns (x, 1, "T2"));
  x = d->pdata[3];
  g_assert_cmpint (x->kind, ==, RR_READ_DIFF_NEW_LESION);
  g_assert_cmpstr (x->timepoint, ==, "W8");
  g_assert_cmpuint (x->reader, ==, 1);
  g_assert_cmpstr (x->lesion_1, ==, "N1");
}

static void
test_new_lesion_both (void)
{
  g_autoptr (JsonParser) p1 = json_parser_new (), p2 = json_parser_new ();
  /* Both saw a new liver lesion at W8: no difference; reader 2's second,
   * in the lung, stands alone. */
  JsonObject *a = parse (p1, "{" TPS ", \"target_lesions\": [], \"new_lesions\": ["
                         "{\"id\": \"N1\", \"organ\": \"liver\", \"timepoint\": \"W8\"}]}");
  JsonObject *b = parse (p2, "{" TPS ", \"target_lesions\": [], \"new_lesions\": ["
                         "{\"id\": \"N1\", \"organ\": \"liver\", \"timepoint\": \"W8\"},"
                         "{\"id\": \"N2\", \"organ\": \"lung\", \"timepoint\": \"W8\"}]}");
  g_autoptr (GPtrArray) d = rr_read_compare (a, b);
  g_assert_cmpuint (d->len, ==, 1);
  g_assert_cmpint (((RrReadDiff *) d->pdata[0])->kind, ==, RR_READ_DIFF_NEW_LESION);
  g_assert_cmpuint (((RrReadDiff *) d->pdata[0])->reader, ==, 2);
  g_assert_cmpstr (((RrReadDiff *) d->pdata[0])->lesion_2, ==, "N2");
}

/* A length caliper from (x0, y0, z0) to (x1, y1, z1), in patient mm. */
#define CAL(x0, y0, z0, x1, y1, z1) \
  "{\"kind\": \"length\", \"points\": [[" #x0 ", " #y0 ", " #z0 "], [" #x1 ", " #y1 ", " #z1 "]]}"

static void
test_tracking_identity (void)
{
  g_autoptr (JsonParser) p1 = json_parser_new (), p2 = json_parser_new ();
  /* Two liver targets each, listed in opposite orders, both carrying
   * tracking identities: A is 30 and 31 mm at BL (3.3 %), B 10 and 10.
   * Paired by organ in order they would give 30 against 10 and 10
   * against 31, two differences; paired by identity, none. */
  JsonObject *a = parse (p1, "{" TPS ", \"target_lesions\": ["
                         "{\"id\": \"T1\", \"organ\": \"liver\", \"tracking_uid\": \"A\", "
                         "\"measurements\": {\"BL\": 30.0}},"
                         "{\"id\": \"T2\", \"organ\": \"liver\", \"tracking_uid\": \"B\", "
                         "\"measurements\": {\"BL\": 10.0}}], \"new_lesions\": []}");
  JsonObject *b = parse (p2, "{" TPS ", \"target_lesions\": ["
                         "{\"id\": \"T1\", \"organ\": \"liver\", \"tracking_uid\": \"B\", "
                         "\"measurements\": {\"BL\": 10.0}},"
                         "{\"id\": \"T2\", \"organ\": \"liver\", \"tracking_uid\": \"A\", "
                         "\"measurements\": {\"BL\": 31.0}}], \"new_lesions\": []}");
  g_autoptr (GPtrArray) d = rr_read_compare (a, b);
  g_assert_cmpuint (d->len, ==, 0);
}

static void
test_tracking_differs (void)
{
  g_autoptr (JsonParser) p1 = json_parser_new (), p2 = json_parser_new ();
  /* Same organ, same caliper, but two different identities: two
   * lesions, so each reader's target stands alone (Reader 1's first). */
  JsonObject *a = parse (p1, "{" TPS ", \"target_lesions\": ["
                         "{\"id\": \"T1\", \"organ\": \"liver\", \"tracking_uid\": \"A\", "
                         "\"measurements\": {\"BL\": 20.0}, \"calipers\": {\"BL\": "
                         CAL (0, 0, 0, 20, 0, 0) "}}], \"new_lesions\": []}");
  JsonObject *b = parse (p2, "{" TPS ", \"target_lesions\": ["
                         "{\"id\": \"T1\", \"organ\": \"liver\", \"tracking_uid\": \"B\", "
                         "\"measurements\": {\"BL\": 20.0}, \"calipers\": {\"BL\": "
                         CAL (0, 0, 0, 20, 0, 0) "}}], \"new_lesions\": []}");
  g_autoptr (GPtrArray) d = rr_read_compare (a, b);
  g_assert_cmpuint (d->len, ==, 2);
  g_assert_cmpint (((RrReadDiff *) d->pdata[0])->kind, ==, RR_READ_DIFF_TARGET_CHOICE);
  g_assert_cmpuint (((RrReadDiff *) d->pdata[0])->reader, ==, 1);
  g_assert_cmpuint (((RrReadDiff *) d->pdata[1])->reader, ==, 2);
}

static void
test_nearest_caliper (void)
{
  g_autoptr (JsonParser) p1 = json_parser_new (), p2 = json_parser_new ();
  /* Reader 1: liver T1 centred at (15, 0, 0), 30 mm; T2 at (105, 50, 20),
   * 10 mm. Reader 2 lists them the other way round: T1 at (105, 52, 20)
   * (2 mm from Reader 1's T2), 11 mm; T2 at (16, 0, 0) (1 mm from T1),
   * 32 mm. Paired by position: 30/32 (6.7 %) and 10/11 (10 %), no
   * difference; in list order, 30/11 and 10/32 would both differ. */
  JsonObject *a = parse (p1, "{" TPS ", \"target_lesions\": ["
                         "{\"id\": \"T1\", \"organ\": \"liver\", \"measurements\": {\"BL\": 30.0},"
                         " \"calipers\": {\"BL\": " CAL (0, 0, 0, 30, 0, 0) "}},"
                         "{\"id\": \"T2\", \"organ\": \"liver\", \"measurements\": {\"BL\": 10.0},"
                         " \"calipers\": {\"BL\": " CAL (100, 50, 20, 110, 50, 20) "}}],"
                         " \"new_lesions\": []}");
  JsonObject *b = parse (p2, "{" TPS ", \"target_lesions\": ["
                         "{\"id\": \"T1\", \"organ\": \"liver\", \"measurements\": {\"BL\": 11.0},"
                         " \"calipers\": {\"BL\": " CAL (99.5, 52, 20, 110.5, 52, 20) "}},"
                         "{\"id\": \"T2\", \"organ\": \"liver\", \"measurements\": {\"BL\": 32.0},"
                         " \"calipers\": {\"BL\": " CAL (0, 0, 0, 32, 0, 0) "}}],"
                         " \"new_lesions\": []}");
  g_autoptr (GPtrArray) d = rr_read_compare (a, b);
  g_assert_cmpuint (d->len, ==, 0);
}

static void
test_nearest_first (void)
{
  g_autoptr (JsonParser) p1 = json_parser_new (), p2 = json_parser_new ();
  /* Reader 1: lung T1 centred at (0, 0, 0), T2 at (12, 0, 0), both 10 mm
   * (tolerance 15 mm). Reader 2: one lung target at (10, 0, 0): 10 mm
   * from T1, 2 mm from T2. Nearest first pairs it with T2, so T1 is
   * Reader 1's own choice (first come would have taken T1). */
  JsonObject *a = parse (p1, "{" TPS ", \"target_lesions\": ["
                         "{\"id\": \"T1\", \"organ\": \"lung\", \"measurements\": {\"BL\": 10.0},"
                         " \"calipers\": {\"BL\": " CAL (-5, 0, 0, 5, 0, 0) "}},"
                         "{\"id\": \"T2\", \"organ\": \"lung\", \"measurements\": {\"BL\": 10.0},"
                         " \"calipers\": {\"BL\": " CAL (7, 0, 0, 17, 0, 0) "}}],"
                         " \"new_lesions\": []}");
  JsonObject *b = parse (p2, "{" TPS ", \"target_lesions\": ["
                         "{\"id\": \"T1\", \"organ\": \"lung\", \"measurements\": {\"BL\": 10.0},"
                         " \"calipers\": {\"BL\": " CAL (5, 0, 0, 15, 0, 0) "}}],"
                         " \"new_lesions\": []}");
  g_autoptr (GPtrArray) d = rr_read_compare (a, b);
  g_assert_cmpuint (d->len, ==, 1);
  g_assert_cmpint (((RrReadDiff *) d->pdata[0])->kind, ==, RR_READ_DIFF_TARGET_CHOICE);
  g_assert_cmpuint (((RrReadDiff *) d->pdata[0])->reader, ==, 1);
  g_assert_cmpstr (((RrReadDiff *) d->pdata[0])->lesion_1, ==, "T1");
}

static void
test_tolerance (void)
{
  g_autoptr (JsonParser) p1 = json_parser_new (), p2 = json_parser_new ();
  /* The tolerance is the sum of the two calipers' lengths, at least 15 mm.
   * Liver: 20 mm calipers centred at (0, 0, 0) and (0, 39, 0): 39 mm
   * apart, within 40: one lesion. Kidney: 5 mm calipers 14 mm apart,
   * within the 15 mm floor: one lesion. Spleen: 10 mm calipers 21 mm
   * apart, beyond 20: two lesions. At W8 the spleen calipers coincide,
   * but the first timepoint where both have one, BL, decides. */
  JsonObject *a = parse (p1, "{" TPS ", \"target_lesions\": ["
                         "{\"id\": \"T1\", \"organ\": \"liver\", \"measurements\": {\"BL\": 20.0},"
                         " \"calipers\": {\"BL\": " CAL (-10, 0, 0, 10, 0, 0) "}},"
                         "{\"id\": \"T2\", \"organ\": \"kidney\", \"measurements\": {\"BL\": 5.0},"
                         " \"calipers\": {\"BL\": " CAL (0, 0, 50, 5, 0, 50) "}},"
                         "{\"id\": \"T3\", \"organ\": \"spleen\", \"measurements\": {\"BL\": 10.0},"
                         " \"calipers\": {\"BL\": " CAL (-5, 0, 100, 5, 0, 100) ","
                         " \"W8\": " CAL (-5, 21, 100, 5, 21, 100) "}}],"
                         " \"new_lesions\": []}");
  JsonObject *b = parse (p2, "{" TPS ", \"target_lesions\": ["
                         "{\"id\": \"T1\", \"organ\": \"liver\", \"measurements\": {\"BL\": 20.0},"
                         " \"calipers\": {\"BL\": " CAL (-10, 39, 0, 10, 39, 0) "}},"
                         "{\"id\": \"T2\", \"organ\": \"kidney\", \"measurements\": {\"BL\": 5.0},"
                         " \"calipers\": {\"BL\": " CAL (0, 14, 50, 5, 14, 50) "}},"
                         "{\"id\": \"T3\", \"organ\": \"spleen\", \"measurements\": {\"BL\": 10.0},"
                         " \"calipers\": {\"BL\": " CAL (-5, 21, 100, 5, 21, 100) ","
                         " \"W8\": " CAL (-5, 21, 100, 5, 21, 100) "}}],"
                         " \"new_lesions\": []}");
  g_autoptr (GPtrArray) d = rr_read_compare (a, b);
  g_assert_cmpuint (d->len, ==, 2);
  g_assert_cmpint (((RrReadDiff *) d->pdata[0])->kind, ==, RR_READ_DIFF_TARGET_CHOICE);
  g_assert_cmpuint (((RrReadDiff *) d->pdata[0])->reader, ==, 1);
  g_assert_cmpstr (((RrReadDiff *) d->pdata[0])->lesion_1, ==, "T3");
  g_assert_cmpuint (((RrReadDiff *) d->pdata[1])->reader, ==, 2);
  g_assert_cmpstr (((RrReadDiff *) d->pdata[1])->lesion_2, ==, "T3");
}

static void
test_new_lesion_place (void)
{
  g_autoptr (JsonParser) p1 = json_parser_new (), p2 = json_parser_new ();
  /* Both saw new liver lesions at W8: Reader 1 N1 at (0, 0, 0) and N2 at
   * (50, 0, 0); Reader 2 N1 at (51, 0, 0), 1 mm from Reader 1's N2. So
   * Reader 1's N1 is the one Reader 2 did not see (in list order it
   * would have been N2). */
  JsonObject *a = parse (p1, "{" TPS ", \"target_lesions\": [], \"new_lesions\": ["
                         "{\"id\": \"N1\", \"organ\": \"liver\", \"timepoint\": \"W8\","
                         " \"calipers\": {\"W8\": " CAL (-4, 0, 0, 4, 0, 0) "}},"
                         "{\"id\": \"N2\", \"organ\": \"liver\", \"timepoint\": \"W8\","
                         " \"calipers\": {\"W8\": " CAL (46, 0, 0, 54, 0, 0) "}}]}");
  JsonObject *b = parse (p2, "{" TPS ", \"target_lesions\": [], \"new_lesions\": ["
                         "{\"id\": \"N1\", \"organ\": \"liver\", \"timepoint\": \"W8\","
                         " \"calipers\": {\"W8\": " CAL (47, 0, 0, 55, 0, 0) "}}]}");
  g_autoptr (GPtrArray) d = rr_read_compare (a, b);
  g_assert_cmpuint (d->len, ==, 1);
  g_assert_cmpint (((RrReadDiff *) d->pdata[0])->kind, ==, RR_READ_DIFF_NEW_LESION);
  g_assert_cmpuint (((RrReadDiff *) d->pdata[0])->reader, ==, 1);
  g_assert_cmpstr (((RrReadDiff *) d->pdata[0])->lesion_1, ==, "N1");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/read-compare/agree", test_agree);
  g_test_add_func ("/read-compare/differences", test_differences);
  g_test_add_func ("/read-compare/new-lesion-both", test_new_lesion_both);
  g_test_add_func ("/read-compare/tracking-identity", test_tracking_identity);
  g_test_add_func ("/read-compare/tracking-differs", test_tracking_differs);
  g_test_add_func ("/read-compare/nearest-caliper", test_nearest_caliper);
  g_test_add_func ("/read-compare/nearest-first", test_nearest_first);
  g_test_add_func ("/read-compare/tolerance", test_tolerance);
  g_test_add_func ("/read-compare/new-lesion-place", test_new_lesion_place);
  return g_test_run ();
}
