/* test-json.c: the typed JSON lookups answer the member when it has the
 * asked type and NULL for everything else, without a critical (the suite
 * runs with G_DEBUG=fatal-criticals, so a critical fails the test). */
#include "rr-json.h"

static JsonNode *
parse (const char *text)
{
  g_autoptr (JsonParser) p = json_parser_new ();
  g_autoptr (GError) error = NULL;
  g_assert_true (json_parser_load_from_data (p, text, -1, &error));
  g_assert_no_error (error);
  return json_node_copy (json_parser_get_root (p));
}

static const char *doc_text =
  "{\"id\": \"R1\", \"n\": 3, \"nothing\": null, \"flag\": true,"
  " \"baseline\": {\"overall\": \"PR\"},"
  " \"timepoints\": [{\"id\": \"BL\"}, 7, \"x\", null, {\"id\": \"FU1\"}]}";

static void
test_object (void)
{
  g_autoptr (JsonNode) doc = parse (doc_text);
  JsonObject *o = json_node_get_object (doc);
  JsonObject *bl = rr_json_get_object (o, "baseline");

  g_assert_nonnull (bl);
  g_assert_cmpstr (rr_json_get_string (bl, "overall"), ==, "PR");
  g_assert_null (rr_json_get_object (o, "timepoints"));   /* an array */
  g_assert_null (rr_json_get_object (o, "id"));           /* a string */
  g_assert_null (rr_json_get_object (o, "nothing"));      /* null */
  g_assert_null (rr_json_get_object (o, "absent"));
  g_assert_null (rr_json_get_object (NULL, "baseline"));
}

static void
test_array (void)
{
  g_autoptr (JsonNode) doc = parse (doc_text);
  JsonObject *o = json_node_get_object (doc);
  JsonArray *tps = rr_json_get_array (o, "timepoints");

  g_assert_nonnull (tps);
  g_assert_cmpuint (json_array_get_length (tps), ==, 5);
  g_assert_null (rr_json_get_array (o, "baseline"));
  g_assert_null (rr_json_get_array (o, "n"));
  g_assert_null (rr_json_get_array (o, "nothing"));
  g_assert_null (rr_json_get_array (o, "absent"));
  g_assert_null (rr_json_get_array (NULL, "timepoints"));
}

static void
test_string (void)
{
  g_autoptr (JsonNode) doc = parse (doc_text);
  JsonObject *o = json_node_get_object (doc);

  g_assert_cmpstr (rr_json_get_string (o, "id"), ==, "R1");
  g_assert_null (rr_json_get_string (o, "n"));            /* a number */
  g_assert_null (rr_json_get_string (o, "flag"));         /* a boolean */
  g_assert_null (rr_json_get_string (o, "nothing"));
  g_assert_null (rr_json_get_string (o, "baseline"));
  g_assert_null (rr_json_get_string (o, "absent"));
  g_assert_null (rr_json_get_string (NULL, "id"));
}

static void
test_element (void)
{
  g_autoptr (JsonNode) doc = parse (doc_text);
  JsonArray *tps = rr_json_get_array (json_node_get_object (doc), "timepoints");

  g_assert_cmpstr (rr_json_get_string (rr_json_get_element (tps, 0), "id"), ==, "BL");
  g_assert_null (rr_json_get_element (tps, 1));           /* a number */
  g_assert_null (rr_json_get_element (tps, 2));           /* a string */
  g_assert_null (rr_json_get_element (tps, 3));           /* null */
  g_assert_cmpstr (rr_json_get_string (rr_json_get_element (tps, 4), "id"), ==, "FU1");
  g_assert_null (rr_json_get_element (tps, 5));           /* past the end */
  g_assert_null (rr_json_get_element (tps, G_MAXUINT));
  g_assert_null (rr_json_get_element (NULL, 0));
  /* Chains through missing parts end in NULL. */
  g_assert_null (rr_json_get_string (rr_json_get_element (rr_json_get_array (NULL, "x"), 0),
                                     "id"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/json/object", test_object);
  g_test_add_func ("/json/array", test_array);
  g_test_add_func ("/json/string", test_string);
  g_test_add_func ("/json/element", test_element);
  return g_test_run ();
}
