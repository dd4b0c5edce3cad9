/* test-read-task.c: which earlier timepoint keeps a read task read-only
 * (rr-read-task.c, app code without GTK). A sequential trial's Week 8
 * waits for the reader's Baseline; a read signed here or delivered frees
 * it; a batch trial's (server-api.md, the task's "reading") never waits;
 * a task that does not say is taken as sequential, the stricter rule. */
#include "rr-read-task.h"

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

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/read-task/sequential", test_sequential);
  g_test_add_func ("/read-task/batch", test_batch);
  g_test_add_func ("/read-task/unsaid", test_unsaid);
  return g_test_run ();
}
