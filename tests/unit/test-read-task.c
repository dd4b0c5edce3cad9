/* test-read-task.c: which earlier timepoint keeps a read task read-only
 * (rr-read-task.c, app code without GTK). A sequential trial's Week 8
 * waits for the reader's Baseline; a read signed here or delivered frees
 * it; a batch trial's (server-api.md, the task's "reading") never waits;
 * a task that does not say is taken as sequential, the stricter rule. */
#include "rr-read-task.h"

#include <glib/gstdio.h>

static RrStoreTask *
task (const char *id, const char *subject, const char *reading, guint n)
{
  static const char *const labels[] = { "Baseline", "Week 8", "Week 16" };
  static const int days[] = { 0, 56, 112 };
  RrStoreTask *t = g_new0 (RrStoreTask, 1);
  GString *json = g_string_new (NULL);

  g_string_append_printf (json, "{\"id\": \"%s\", \"kind\": \"read\", \"trial\": \"T\", "
                          "\"subject\": \"%s\", \"criteria\": \"recist11\", ", id, subject);
  if (reading)
    g_string_append_printf (json, "\"reading\": \"%s\", ", reading);
  g_string_append (json, "\"status\": \"open\", \"timepoints\": [");
  for (guint i = 0; i < n; i++)
    g_string_append_printf (json, "%s{\"label\": \"%s\", \"day\": %d, \"studies\": [], "
                            "\"locked\": false}", i ? ", " : "", labels[i], days[i]);
  g_string_append (json, "]}");
  t->id = g_strdup (id);
  t->kind = g_strdup ("read");
  t->status = g_strdup ("open");
  t->subject = g_strdup (subject);
  t->n_timepoints = n;
  t->on_server = TRUE;
  t->json = g_string_free (json, FALSE);
  return t;
}

static GPtrArray *
tasks_of (const char *reading)
{
  GPtrArray *tasks = g_ptr_array_new_with_free_func ((GDestroyNotify) rr_store_task_free);
  g_ptr_array_add (tasks, task ("b", "S-1", reading, 1));
  g_ptr_array_add (tasks, task ("w8", "S-1", reading, 2));
  g_ptr_array_add (tasks, task ("w16", "S-1", reading, 3));
  g_ptr_array_add (tasks, task ("other", "S-2", reading, 1));
  return tasks;
}

static void
test_sequential (void)
{
  g_autoptr (GPtrArray) tasks = tasks_of ("sequential");
  g_autoptr (GPtrArray) outbox = g_ptr_array_new ();
  RrStoreOutbox signed_b = { .key = "k", .task_id = "b", .state = "delivered" };
  g_autofree char *w8 = rr_read_task_earlier_open_in (tasks, outbox, tasks->pdata[1]);
  g_autofree char *w16 = rr_read_task_earlier_open_in (tasks, outbox, tasks->pdata[2]);
  g_autofree char *b = rr_read_task_earlier_open_in (tasks, outbox, tasks->pdata[0]);
  g_autofree char *other = rr_read_task_earlier_open_in (tasks, outbox, tasks->pdata[3]);
  g_autofree char *w16_after = NULL;

  g_assert_cmpstr (w8, ==, "Baseline");
  g_assert_cmpstr (w16, ==, "Baseline");   /* the earliest open one */
  g_assert_null (b);
  g_assert_null (other);                   /* another subject's reads are its own */
  g_ptr_array_add (outbox, &signed_b);
  w16_after = rr_read_task_earlier_open_in (tasks, outbox, tasks->pdata[2]);
  g_assert_cmpstr (w16_after, ==, "Week 8");
}

static void
test_batch (void)
{
  g_autoptr (GPtrArray) tasks = tasks_of ("batch");
  g_autofree char *w8 = rr_read_task_earlier_open_in (tasks, NULL, tasks->pdata[1]);
  g_autofree char *w16 = rr_read_task_earlier_open_in (tasks, NULL, tasks->pdata[2]);

  g_assert_null (w8);
  g_assert_null (w16);
}

static void
test_unsaid (void)
{
  g_autoptr (GPtrArray) tasks = tasks_of (NULL);
  g_autofree char *w8 = rr_read_task_earlier_open_in (tasks, NULL, tasks->pdata[1]);

  g_assert_cmpstr (w8, ==, "Baseline");
}

/* The calipers a read shows beside its own (rr_read_task_prior_calipers):
 * those of every earlier read of the subject in the trial, so a Week 16
 * read first opened has its Baseline values (walk finding 1: only the
 * Week 8 read's were taken); never a later read's, another subject's,
 * another trial's or an adjudication's. A real database. */
static void
put_as (RrStore *s, gint64 account, const char *id, const char *kind, const char *trial,
        const char *subject, guint n, const char *status)
{
  static const char *const labels[] = { "Baseline", "Week 8", "Week 16" };
  g_autoptr (GString) json = g_string_new (NULL);
  g_autoptr (GError) error = NULL;
  RrPlane pl;
  RrVec3 p[2] = { { 0, 0, 5 }, { 10, 0, 5 } };
  RrMeasurement *m;

  g_string_append_printf (json, "{\"id\": \"%s\", \"kind\": \"%s\", \"trial\": \"%s\", "
                          "\"subject\": \"%s\", \"criteria\": \"recist11\", "
                          "\"status\": \"open\", \"timepoints\": [", id, kind, trial, subject);
  for (guint i = 0; i < n; i++)
    g_string_append_printf (json, "%s{\"label\": \"%s\", \"day\": %u, \"studies\": [], "
                            "\"locked\": false}", i ? ", " : "", labels[i], 56 * i);
  g_string_append (json, "]}");
  g_assert_true (rr_store_put_task (s, account, id, kind, status, NULL, json->str, &error));
  g_assert_no_error (error);
  rr_plane_init_standard (&pl, RR_PLANE_AXIAL, rr_vec3 (0, 0, 5), 1, 10, 10);
  m = rr_measurement_new (RR_MEASURE_LENGTH, &pl, p, 2);
  g_free (m->id);
  m->id = g_strdup_printf ("cal-%s", id);
  m->series_uid = g_strdup ("1.2.3");
  g_assert_true (rr_store_put_measurement (s, account, id, m, &error));
  g_assert_no_error (error);
  rr_measurement_free (m);
}

static void
put (RrStore *s, gint64 account, const char *id, const char *kind, const char *trial,
     const char *subject, guint n)
{
  put_as (s, account, id, kind, trial, subject, n, "submitted");
}

static RrStore *
open_db (char **dir, char **path, gint64 *account)
{
  g_autoptr (GError) error = NULL;
  RrStore *s;
  *dir = g_dir_make_tmp ("rr-read-task-XXXXXX", NULL);
  *path = g_build_filename (*dir, "db.sqlite", NULL);
  s = rr_store_open (*path, &error);
  g_assert_no_error (error);
  *account = rr_store_account (s, "https://server", "reader1", NULL, &error);
  g_assert_no_error (error);
  return s;
}

static void
remove_db (RrStore *s, char *dir, char *path)
{
  rr_store_close (s);
  for (guint i = 0; i < 3; i++)
    {
      g_autofree char *f = g_strconcat (path, (const char *[]) { "", "-wal", "-shm" }[i], NULL);
      g_unlink (f);
    }
  g_assert_cmpint (g_rmdir (dir), ==, 0);
  g_free (dir);
  g_free (path);
}

static guint
n_prior (RrStore *s, gint64 account, const char *id, const char *want)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (RrStoreTask) t = rr_store_get_task (s, account, id, &error);
  g_autoptr (GHashTable) cal = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                                      (GDestroyNotify) rr_measurement_free);
  g_assert_nonnull (t);
  rr_read_task_prior_calipers (s, account, t, cal);
  if (want)
    g_assert_true (g_hash_table_contains (cal, want));
  return g_hash_table_size (cal);
}

/* Prior calipers only from reads that stand (review of session 8): the
 * Baseline the server withdrew (cancelled, or no longer listed) gives
 * the Week 8 read nothing, neither calipers nor lesions, and the read
 * says which timepoint was withdrawn; a draft never signed gives nothing
 * either; a Baseline signed here and waiting in the outbox, or submitted,
 * does. The server's task list (status=all) lists submitted tasks. */
static void
test_prior_stands (void)
{
  char *dir, *path;
  gint64 account;
  RrStore *s = open_db (&dir, &path, &account);
  g_autoptr (GError) error = NULL;
  const char *const week8[] = { "w8", NULL };
  const char *const all[] = { "b", "w8", NULL };
  const char *const again[] = { "b2", "w8", NULL };

  put_as (s, account, "b", "read", "T", "S-1", 1, "submitted");
  put_as (s, account, "w8", "read", "T", "S-1", 2, "open");
  g_assert_true (rr_store_put_form (s, account, "b", "{\"lesions\": []}", &error));
  g_assert_no_error (error);
  {
    g_autoptr (RrStoreTask) t = rr_store_get_task (s, account, "w8", NULL);
    g_autofree char *form = rr_read_task_prior_form (s, account, t);
    g_autofree char *gone = rr_read_task_withdrawn_prior (s, account, t);
    g_assert_cmpuint (n_prior (s, account, "w8", "cal-b"), ==, 1);
    g_assert_nonnull (form);
    g_assert_null (gone);
  }

  /* Withdrawn: cancelled on the server. */
  put_as (s, account, "b", "read", "T", "S-1", 1, "cancelled");
  {
    g_autoptr (RrStoreTask) t = rr_store_get_task (s, account, "w8", NULL);
    g_autofree char *form = rr_read_task_prior_form (s, account, t);
    g_autofree char *gone = rr_read_task_withdrawn_prior (s, account, t);
    g_assert_cmpuint (n_prior (s, account, "w8", NULL), ==, 0);
    g_assert_null (form);
    g_assert_cmpstr (gone, ==, "Baseline");
  }
  /* Withdrawn: no longer listed, though its last status said submitted. */
  put_as (s, account, "b", "read", "T", "S-1", 1, "submitted");
  g_assert_cmpuint (n_prior (s, account, "w8", "cal-b"), ==, 1);
  g_assert_true (rr_store_mark_tasks_gone (s, account, week8, &error));
  g_assert_no_error (error);
  {
    g_autoptr (RrStoreTask) t = rr_store_get_task (s, account, "w8", NULL);
    g_autofree char *gone = rr_read_task_withdrawn_prior (s, account, t);
    g_assert_cmpuint (n_prior (s, account, "w8", NULL), ==, 0);
    g_assert_cmpstr (gone, ==, "Baseline");
  }
  /* Read again in a new task that stands: that one is the prior. */
  put_as (s, account, "b2", "read", "T", "S-1", 1, "submitted");
  g_assert_true (rr_store_mark_tasks_gone (s, account, again, &error));
  {
    g_autoptr (RrStoreTask) t = rr_store_get_task (s, account, "w8", NULL);
    g_autofree char *gone = rr_read_task_withdrawn_prior (s, account, t);
    g_assert_cmpuint (n_prior (s, account, "w8", "cal-b2"), ==, 1);
    g_assert_null (gone);
  }
  g_assert_true (rr_store_mark_tasks_gone (s, account, week8, &error));

  /* A draft, never signed: not a prior; signed here (in the outbox, not
   * yet delivered): one. */
  put_as (s, account, "b", "read", "T", "S-1", 1, "open");
  g_assert_true (rr_store_mark_tasks_gone (s, account, all, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (n_prior (s, account, "w8", NULL), ==, 0);
  g_assert_true (rr_store_outbox_add (s, account, "key-1", "b", "{}", &error));
  g_assert_no_error (error);
  g_assert_cmpuint (n_prior (s, account, "w8", "cal-b"), ==, 1);
  {
    g_autoptr (RrStoreTask) t = rr_store_get_task (s, account, "w8", NULL);
    g_autofree char *gone = rr_read_task_withdrawn_prior (s, account, t);
    g_assert_null (gone);
  }
  remove_db (s, dir, path);
}

static void
test_prior_calipers (void)
{
  g_autofree char *dir = g_dir_make_tmp ("rr-read-task-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "db.sqlite", NULL);
  g_autoptr (GError) error = NULL;
  RrStore *s = rr_store_open (path, &error);
  gint64 account;
  const char *const ids[] = { "b", "w8", "w16" };
  const char *const want[][4] = { { NULL }, { "cal-b", NULL }, { "cal-b", "cal-w8", NULL } };

  g_assert_no_error (error);
  account = rr_store_account (s, "https://server", "reader1", NULL, &error);
  g_assert_no_error (error);
  put (s, account, "b", "read", "T", "S-1", 1);
  put (s, account, "w8", "read", "T", "S-1", 2);
  put (s, account, "w16", "read", "T", "S-1", 3);
  put (s, account, "adj", "adjudication", "T", "S-1", 1);
  put (s, account, "other", "read", "T", "S-2", 1);
  put (s, account, "elsewhere", "read", "U", "S-1", 1);
  for (guint i = 0; i < G_N_ELEMENTS (ids); i++)
    {
      g_autoptr (RrStoreTask) t = rr_store_get_task (s, account, ids[i], &error);
      g_autoptr (GHashTable) cal = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                                          (GDestroyNotify) rr_measurement_free);
      guint n = 0;
      g_assert_nonnull (t);
      rr_read_task_prior_calipers (s, account, t, cal);
      for (; want[i][n]; n++)
        g_assert_true (g_hash_table_contains (cal, want[i][n]));
      g_assert_cmpuint (g_hash_table_size (cal), ==, n);
    }
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
  g_test_add_func ("/read-task/sequential", test_sequential);
  g_test_add_func ("/read-task/batch", test_batch);
  g_test_add_func ("/read-task/unsaid", test_unsaid);
  g_test_add_func ("/read-task/prior-calipers", test_prior_calipers);
  g_test_add_func ("/read-task/prior-stands", test_prior_stands);
  return g_test_run ();
}
