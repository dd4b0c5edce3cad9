/* test-access.c: the server's route allow-list: normalisation as Orthanc
 * routes paths, and the classes of routes a non-admin may reach. */
#include "rr-access.h"
#include "rr-json-guard.h"

#include <string.h>

static void
test_normalize (void)
{
  static const struct
  {
    const char *in, *out;
  } cases[] = {
    { "/patients/", "/patients" },
    { "//patients", "/patients" },
    { "/./patients/.", "/patients" },
    { "/readroom/v1/../../patients", "/patients" },
    { "/readroom/v1/../x", "/readroom/x" },
    { "/a//b///c/", "/a/b/c" },
    { "/", "/" },
    /* Already decoded by Orthanc: escapes left are taken literally. */
    { "/instances/x/content/0010-0010%2F..%2F..%2Freadroom%2Fv1",
      "/instances/x/content/0010-0010%2F..%2F..%2Freadroom%2Fv1" },
    { "/../patients", NULL },
    { "patients", NULL },
    { "", NULL },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *got = rr_access_normalize (cases[i].in);
      g_assert_cmpstr (got, ==, cases[i].out);
    }
}

static void
test_classify (void)
{
  static const struct
  {
    const char *method, *path;
    RrRouteClass expect;
    const char *study;
  } cases[] = {
    { "GET", "/readroom/v1/tasks", RR_ROUTE_API, NULL },
    { "POST", "/readroom/v1/sessions", RR_ROUTE_API, NULL },
    { "GET", "/Readroom/v1/tasks", RR_ROUTE_DENY, NULL },
    { "GET", "/readroom/v10/tasks", RR_ROUTE_DENY, NULL },
    { "GET", "/patients", RR_ROUTE_DENY, NULL },
    { "GET", "/instances/abc/file", RR_ROUTE_DENY, NULL },
    { "POST", "/tools/find", RR_ROUTE_DENY, NULL },
    { "GET", "/app/explorer.html", RR_ROUTE_DENY, NULL },
    { "GET", "/dicom-web/studies", RR_ROUTE_DENY, NULL },
    { "GET", "/dicom-web/servers", RR_ROUTE_DENY, NULL },
    { "GET", "/dicom-web/studies/1.2.3", RR_ROUTE_STUDY_READ, "1.2.3" },
    { "GET", "/dicom-web/studies/1.2.3/metadata", RR_ROUTE_STUDY_READ, "1.2.3" },
    { "GET", "/dicom-web/studies/1.2.3/series/4.5/metadata", RR_ROUTE_STUDY_READ, "1.2.3" },
    { "GET", "/dicom-web/studies/1.2.3/series/4.5/instances/6.7", RR_ROUTE_STUDY_READ, "1.2.3" },
    { "GET", "/dicom-web/studies/1.2.3/series/4.5/instances/6.7/frames/1,2", RR_ROUTE_STUDY_READ,
      "1.2.3" },
    { "GET", "/dicom-web/studies/1.2.3/series", RR_ROUTE_DENY, NULL },   /* QIDO in a study */
    { "GET", "/dicom-web/studies/1.2.3/rendered", RR_ROUTE_DENY, NULL },
    { "GET", "/dicom-web/studies/1..2/metadata", RR_ROUTE_DENY, NULL },
    { "GET", "/dicom-web/studies/1.2.x/metadata", RR_ROUTE_DENY, NULL },
    { "DELETE", "/dicom-web/studies/1.2.3", RR_ROUTE_DENY, NULL },
    { "POST", "/dicom-web/studies/1.2.3", RR_ROUTE_DENY, NULL },          /* STOW */
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *study = NULL;
      RrRouteClass got = rr_access_classify (cases[i].method, cases[i].path, &study);
      g_assert_cmpint (got, ==, cases[i].expect);
      g_assert_cmpstr (study, ==, cases[i].study);
    }
  g_assert_true (rr_access_is_uid ("1.2.840.10008.1"));
  g_assert_false (rr_access_is_uid ("1.2."));
  g_assert_false (rr_access_is_uid (".1"));
  g_assert_false (rr_access_is_uid ("1'2"));
  g_assert_false (rr_access_is_uid (""));
}

/* Depths counted by hand; brackets inside strings do not count. */
static void
test_json_guard (void)
{
  g_autoptr (GString) deep = g_string_new ("{\"username\":");
  struct { const char *text; RrJsonGuard want; } cases[] = {
    { "{}", RR_JSON_GUARD_OK },
    { "{\"a\": [[[1]]]}", RR_JSON_GUARD_OK },               /* depth 4 */
    { "\"[[[[[[[[[[[[\"", RR_JSON_GUARD_OK },             /* in a string */
    { "\"a\\\"[\"", RR_JSON_GUARD_OK },                  /* escaped quote */
    { "[", RR_JSON_GUARD_UNBALANCED },
    { "]", RR_JSON_GUARD_UNBALANCED },
    { "\"open", RR_JSON_GUARD_UNBALANCED },
    { "\"\\", RR_JSON_GUARD_UNBALANCED },                  /* escape at the end */
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    g_assert_cmpint (rr_json_guard (cases[i].text, strlen (cases[i].text), 100, 4), ==,
                     cases[i].want);
  g_assert_cmpint (rr_json_guard ("[[[[[]]]]]", 10, 100, 4), ==, RR_JSON_GUARD_TOO_DEEP);
  g_assert_cmpint (rr_json_guard ("[]", 2, 1, 4), ==, RR_JSON_GUARD_TOO_LARGE);
  /* The body of finding 1 of issue 12. */
  for (int i = 0; i < 1000; i++)
    g_string_append_c (deep, '[');
  for (int i = 0; i < 1000; i++)
    g_string_append_c (deep, ']');
  g_string_append (deep, ",\"password\":\"x\"}");
  g_assert_cmpint (rr_json_guard (deep->str, deep->len, 1 << 20, RR_JSON_MAX_DEPTH), ==,
                   RR_JSON_GUARD_TOO_DEEP);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/access/normalize", test_normalize);
  g_test_add_func ("/access/classify", test_classify);
  g_test_add_func ("/access/json-guard", test_json_guard);
  return g_test_run ();
}
