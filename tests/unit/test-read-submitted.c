/* test-read-submitted.c: a read signed on another computer, kept as GET
 * /tasks/{id}/submission answers it (server-api.md), becomes the lesion
 * form's draft and calipers (rr-read-submitted.c, app code without GTK):
 * each value from its caliper, statuses as submitted, the receipt in
 * words; and a follow-up's prior calipers come from it. */
#include "rr-read-submitted.h"
#include "rr-read-task.h"

#include <glib/gstdio.h>
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
  g_autofree char *text = NULL;
  RrDraftLesion *t1, *n1;
  gint64 account;

  g_assert_no_error (error);
  account = rr_store_account (s, "https://server", "reader1", NULL, &error);
  g_assert_no_error (error);
  put_task (s, account, "b", "submitted", 1);
  put_task (s, account, "w8", "open", 2);
  b = rr_store_get_task (s, account, "b", &error);
  w8 = rr_store_get_task (s, account, "w8", &error);

  /* Nothing kept: nothing to show, the form stays as it was. */
  d = rr_read_draft_new_for_task (b->json, &error);
  g_assert_no_error (error);
  g_assert_false (rr_read_submitted_load (s, account, "b", d, cal));
  g_assert_null (rr_read_submitted_receipt_text (s, account, "b"));

  g_assert_true (rr_store_put_submission (s, account, "b", kept, &error));
  g_assert_no_error (error);
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

  /* Week 8's prior calipers: the Baseline's, as submitted elsewhere. */
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

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/read-submitted/as-submitted", test_submitted);
  return g_test_run ();
}
