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

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/read-compare/agree", test_agree);
  g_test_add_func ("/read-compare/differences", test_differences);
  g_test_add_func ("/read-compare/new-lesion-both", test_new_lesion_both);
  return g_test_run ();
}
