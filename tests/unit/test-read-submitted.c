/* test-read-submitted.c: a read signed on another computer, kept as GET
 * /tasks/{id}/submission answers it (server-api.md), becomes the lesion
 * form's draft and calipers (rr-read-submitted.c, app code without GTK):
 * each value from its caliper, statuses as submitted, the receipt in
 * words; the viewer draws its calipers, not those drawn here before it
 * was signed elsewhere; and a follow-up's prior calipers come from it.
 * A QC decision kept the same way splits as the outbox keeps one signed
 * here (rr-signed-elsewhere.c). */
#include "rr-read-submitted.h"
#include "rr-read-task.h"
#include "rr-signed-elsewhere.h"

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <string.h>

/* A 32.0 mm length (two points 32 mm apart, patient space), a 5 mm
 * arrow marking a non-target: the values a reader would have measured. */
#define CALIPER(id, kind, x0, x1)                                                       \
  "{\"id\": \"" id "\", \"kind\": \"" kind "\", \"points\": [[" #x0 ", 0, 0], [" #x1    \
  ", 0, 0]], \"plane\": {\"center\": [0, 0, 0], \"right\": [1, 0, 0], \"down\": [0, 1, " \
  "0], \"slab\": \"none\", \"slab_mm\": 0}, \"series_uid\": \"1.2.3\", \"sop_uid\": null, " \
  "\"frame\": 0, \"calibration\": \"patient\", \"created_us\": 1}"

static const char kept[] =
  "{\"task\": \"b\", \"signed_by\": \"reader1\", \"meaning\": \"Read completed\","
  " \"submission\": {\"read\": {\"criteria\": \"recist1.1\","
  " \"timepoints\": [{\"id\": \"Baseline\", \"day\": 0}],"
  " \"target_lesions\": [{\"id\": \"T1\", \"organ\": \"liver\", \"nodal\": false,"
  "   \"measurements\": {\"Baseline\": 32.0},"
  "   \"calipers\": {\"Baseline\": " CALIPER ("cal-t1", "length", -16, 16) "}}],"
  " \"non_target_lesions\": [{\"id\": \"N1\", \"organ\": \"lung\", \"nodal\": false,"
  "   \"status\": {\"Baseline\": \"present\"},"
  "   \"calipers\": {\"Baseline\": " CALIPER ("cal-n1", "arrow", 0, 5) "}}],"
  " \"new_lesions\": []}},"
  " \"receipt\": {\"id\": \"R-42\", \"submitted_at\": \"2026-12-02T10:00:00Z\","
  "   \"responses\": {\"baseline\": {\"sum_mm\": 32.0}, \"timepoints\": []}}}";

static void
put_task (RrStore *s, gint64 account, const char *id, const char *status, guint n)
{
  static const char *const labels[] = { "Baseline", "Week 8" };
  g_autoptr (GString) json = g_string_new (NULL);
  g_autoptr (GError) error = NULL;
  g_string_append_printf (json, "{\"id\": \"%s\", \"kind\": \"read\", \"trial\": \"T\", "
                          "\"subject\": \"101\", \"criteria\": \"recist1.1\", "
                          "\"status\": \"%s\", \"timepoints\": [", id, status);
  for (guint i = 0; i < n; i++)
    g_string_append_printf (json, "%s{\"label\": \"%s\", \"day\": %u, \"studies\": [], "
                            "\"locked\": false}", i ? ", " : "", labels[i], 56 * i);
  g_string_append (json, "]}");
  g_assert_true (rr_store_put_task (s, account, id, "read", status, NULL, json->str, &error));
  g_assert_no_error (error);
}

static const RrMeasurement *
lookup (const char *id, gpointer data)
{
  return g_hash_table_lookup (data, id);
}

static void
test_submitted (void)
{
  g_autofree char *dir = g_dir_make_tmp ("rr-read-submitted-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "db.sqlite", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (GHashTable) cal = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                                      (GDestroyNotify) rr_measurement_free);
  g_autoptr (GHashTable) prior = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                                        (GDestroyNotify) rr_measurement_free);
  RrStore *s = rr_store_open (path, &error);
  g_autoptr (RrStoreTask) b = NULL, w8 = NULL;
  g_autoptr (RrReadDraft) d = NULL;
  g_autoptr (RrMeasurement) draft = NULL;
  g_autoptr (GPtrArray) drawn = NULL;
  g_autofree char *text = NULL, *body = NULL, *answer = NULL;
  RrDraftLesion *t1, *n1;
  gint64 account;

  g_assert_no_error (error);
  account = rr_store_account (s, "https://server", "reader1", NULL, &error);
  g_assert_no_error (error);
  put_task (s, account, "b", "submitted", 1);
  put_task (s, account, "w8", "open", 2);
  b = rr_store_get_task (s, account, "b", &error);
  w8 = rr_store_get_task (s, account, "w8", &error);

  /* A caliper drawn here before the read was signed elsewhere. */
  draft = rr_measurement_from_json (CALIPER ("drawn-here", "length", -5, 5), &error);
  g_assert_no_error (error);
  g_assert_true (rr_store_put_measurement (s, account, "b", draft, &error));
  g_assert_no_error (error);

  /* Nothing kept: nothing to show, the form stays as it was; the viewer
   * draws what was drawn here. */
  d = rr_read_draft_new_for_task (b->json, &error);
  g_assert_no_error (error);
  g_assert_false (rr_read_submitted_load (s, account, "b", d, cal));
  g_assert_null (rr_read_submitted_receipt_text (s, account, "b"));
  drawn = rr_read_submitted_measurements (s, account, "b", "1.2.3", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (drawn->len, ==, 1);
  g_assert_cmpstr (((RrMeasurement *) drawn->pdata[0])->id, ==, "drawn-here");
  g_clear_pointer (&drawn, g_ptr_array_unref);

  g_assert_true (rr_store_put_submission (s, account, "b", kept, &error));
  g_assert_no_error (error);
  /* Kept: the viewer draws the calipers as signed, on their series, the
   * one drawn here left out; none on another series. */
  drawn = rr_read_submitted_measurements (s, account, "b", "1.2.3", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (drawn->len, ==, 2);
  g_assert_cmpstr (((RrMeasurement *) drawn->pdata[0])->id, ==, "cal-n1");
  g_assert_cmpstr (((RrMeasurement *) drawn->pdata[1])->id, ==, "cal-t1");
  g_clear_pointer (&drawn, g_ptr_array_unref);
  drawn = rr_read_submitted_measurements (s, account, "b", "9.9.9", NULL, &error);
  g_assert_cmpuint (drawn->len, ==, 0);
  g_clear_pointer (&drawn, g_ptr_array_unref);
  /* Nothing kept for Week 8: nothing signed elsewhere. */
  g_assert_false (rr_signed_elsewhere (s, account, "w8", &body, &answer));
  g_assert_null (body);
  g_assert_null (answer);
  g_assert_true (rr_read_submitted_load (s, account, "b", d, cal));
  g_assert_cmpuint (d->lesions->len, ==, 2);
  t1 = rr_read_draft_find (d, "T1");
  n1 = rr_read_draft_find (d, "N1");
  g_assert_nonnull (t1);
  g_assert_nonnull (n1);
  g_assert_cmpint (t1->kind, ==, RR_LESION_TARGET);
  g_assert_cmpstr (t1->organ, ==, "liver");
  g_assert_cmpint (t1->entries[0].kind, ==, RR_ENTRY_CALIPER);
  g_assert_cmpstr (t1->entries[0].caliper, ==, "cal-t1");
  /* The caliper's own length: 32.0 mm, in tenths. */
  g_assert_cmpint (rr_read_draft_entry_tenths (t1, 0, lookup, cal), ==, 320);
  g_assert_cmpint (n1->kind, ==, RR_LESION_NON_TARGET);
  g_assert_cmpint (n1->entries[0].kind, ==, RR_ENTRY_PRESENT);
  g_assert_cmpstr (n1->entries[0].caliper, ==, "cal-n1");
  g_assert_cmpuint (g_hash_table_size (cal), ==, 2);

  text = rr_read_submitted_receipt_text (s, account, "b");
  g_assert_nonnull (strstr (text, "Receipt R-42"));
  g_assert_nonnull (strstr (text, "32.0 mm"));

  /* Week 8's prior calipers: the Baseline's, as submitted elsewhere,
   * not the one drawn here before. */
  rr_read_task_prior_calipers (s, account, w8, prior);
  g_assert_true (g_hash_table_contains (prior, "cal-t1"));
  g_assert_true (g_hash_table_contains (prior, "cal-n1"));
  g_assert_cmpuint (g_hash_table_size (prior), ==, 2);

  rr_store_close (s);
  for (guint i = 0; i < 3; i++)
    {
      g_autofree char *f = g_strconcat (path, (const char *[]) { "", "-wal", "-shm" }[i], NULL);
      g_unlink (f);
    }
  g_assert_cmpint (g_rmdir (dir), ==, 0);
}

/* A QC decision signed elsewhere: the decision and findings as sent, the
 * receipt as the outbox keeps a delivered one's; a kept row without its
 * receipt is no signed document. */
static void
test_qc_elsewhere (void)
{
  g_autofree char *dir = g_dir_make_tmp ("rr-read-submitted-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "db.sqlite", NULL);
  g_autoptr (GError) error = NULL;
  g_autofree char *body = NULL, *answer = NULL;
  g_autoptr (JsonNode) b = NULL, a = NULL;
  RrStore *s = rr_store_open (path, &error);
  JsonObject *r;
  gint64 account;

  g_assert_no_error (error);
  account = rr_store_account (s, "https://server", "qc1", NULL, &error);
  g_assert_no_error (error);
  g_assert_true (rr_store_put_submission (
    s, account, "q",
    "{\"task\": \"q\", \"submission\": {\"decision\": \"fail\", \"findings\": [{\"series\": "
    "\"1.2.3\", \"category\": \"motion_artifact\", \"severity\": \"major\"}]}, "
    "\"receipt\": {\"id\": \"R-7\", \"submitted_at\": \"2026-12-02T10:00:00Z\", "
    "\"responses\": null}}", &error));
  g_assert_no_error (error);
  g_assert_true (rr_signed_elsewhere (s, account, "q", &body, &answer));
  b = json_from_string (body, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (b), "decision"), ==,
                   "fail");
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (
                      json_node_get_object (b), "findings")), ==, 1);
  a = json_from_string (answer, &error);
  g_assert_no_error (error);
  r = json_object_get_object_member (json_node_get_object (a), "receipt");
  g_assert_cmpstr (json_object_get_string_member (r, "id"), ==, "R-7");
  g_clear_pointer (&body, g_free);
  g_clear_pointer (&answer, g_free);

  g_assert_true (rr_store_put_submission (s, account, "q2",
                                          "{\"task\": \"q2\", \"submission\": {}}", &error));
  g_assert_false (rr_signed_elsewhere (s, account, "q2", &body, &answer));
  g_assert_null (body);
  g_assert_null (answer);

  rr_store_close (s);
  for (guint i = 0; i < 3; i++)
    {
      g_autofree char *f = g_strconcat (path, (const char *[]) { "", "-wal", "-shm" }[i], NULL);
      g_unlink (f);
    }
  g_assert_cmpint (g_rmdir (dir), ==, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/read-submitted/as-submitted", test_submitted);
  g_test_add_func ("/read-submitted/qc-elsewhere", test_qc_elsewhere);
  return g_test_run ();
}
