/* test-store.c: the local database on real files: migrations, measurements
 * kept across a close and reopen, across kill -9 of a process in the middle
 * of writing, and clear errors for files that are not ours. */
#include "rr-store.h"

#include <glib/gstdio.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

static char *self_path;

static char *
temp_db (char **dir)
{
  g_autoptr (GError) error = NULL;
  *dir = g_dir_make_tmp ("rr-store-XXXXXX", &error);
  g_assert_no_error (error);
  return g_build_filename (*dir, "sub", "readroom.db", NULL);
}

static void
rm_rf (const char *dir)
{
  g_autofree char *cmd = g_strdup_printf ("rm -rf '%s'", dir);
  g_assert_cmpint (system (cmd), ==, 0);
}

static RrMeasurement *
make (const char *series, double len, gint64 t)
{
  RrPlane pl;
  RrVec3 p[2] = { { 0, 0, 5 }, { len, 0, 5 } };
  rr_plane_init_standard (&pl, RR_PLANE_AXIAL, rr_vec3 (0, 0, 5), 1, 10, 10);
  RrMeasurement *m = rr_measurement_new (RR_MEASURE_LENGTH, &pl, p, 2);
  m->series_uid = g_strdup (series);
  m->sop_uid = g_strdup ("1.2.3.9");
  m->frame = 2;
  m->created_us = t;
  return m;
}

static double
length_of (const RrMeasurement *m)
{
  RrMeasureValues v;
  rr_measurement_compute (m, NULL, &v);
  return v.length;
}

static void
test_roundtrip (void)
{
  g_autofree char *dir = NULL;
  g_autofree char *path = temp_db (&dir);
  g_autoptr (GError) error = NULL;
  g_autofree char *id1 = NULL, *id2 = NULL;

  {
    g_autoptr (RrStore) s = rr_store_open (path, &error);
    g_assert_no_error (error);
    g_assert_cmpint (rr_store_schema_version (s), ==, rr_store_latest_version ());
    g_autoptr (RrMeasurement) a = make ("S1", 12.5, 20);
    g_autoptr (RrMeasurement) b = make ("S1", 30, 10);
    g_autoptr (RrMeasurement) c = make ("S2", 7, 5);
    id1 = g_strdup (a->id);
    id2 = g_strdup (b->id);
    g_assert_true (rr_store_put_measurement (s, 0, NULL, a, &error));
    g_assert_true (rr_store_put_measurement (s, 0, NULL, b, &error));
    g_assert_true (rr_store_put_measurement (s, 0, NULL, c, &error));
    /* An edit replaces the row, keeping its place in time. */
    rr_measurement_move_handle (a, 1, rr_vec3 (40, 0, 5));
    g_assert_true (rr_store_put_measurement (s, 0, NULL, a, &error));
    g_assert_no_error (error);
  }
  {
    g_autoptr (RrStore) s = rr_store_open (path, &error);
    g_assert_no_error (error);
    g_autoptr (GPtrArray) l = rr_store_list_measurements (s, 0, NULL, "S1", NULL, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (l->len, ==, 2);
    g_assert_cmpstr (((RrMeasurement *) l->pdata[0])->id, ==, id2);  /* oldest first */
    g_assert_cmpstr (((RrMeasurement *) l->pdata[1])->id, ==, id1);
    g_assert_cmpfloat_with_epsilon (length_of (l->pdata[1]), 40, 1e-12);
    g_assert_cmpstr (((RrMeasurement *) l->pdata[1])->sop_uid, ==, "1.2.3.9");
    g_assert_cmpuint (((RrMeasurement *) l->pdata[1])->frame, ==, 2);
    g_assert_true (rr_store_delete_measurement (s, 0, NULL, id1, &error));
  }
  {
    g_autoptr (RrStore) s = rr_store_open (path, &error);
    g_autoptr (GPtrArray) l = rr_store_list_measurements (s, 0, NULL, "S1", NULL, &error);
    g_assert_cmpuint (l->len, ==, 1);
    g_autoptr (GPtrArray) none = rr_store_list_measurements (s, 0, NULL, "S3", NULL, &error);
    g_assert_cmpuint (none->len, ==, 0);
  }
  rm_rf (dir);
}

static void
test_not_ours (void)
{
  g_autofree char *dir = NULL;
  g_autofree char *path = temp_db (&dir);
  g_autofree char *sub = g_path_get_dirname (path);
  g_autofree char *contents = NULL;
  static const char junk[] = "this is not a database, and must be left alone\n";
  gsize len;

  /* Not a database: an error that says so; the file is untouched. */
  g_assert_cmpint (g_mkdir_with_parents (sub, 0700), ==, 0);
  g_assert_true (g_file_set_contents (path, junk, -1, NULL));
  {
    g_autoptr (GError) error = NULL;
    g_autoptr (RrStore) s = rr_store_open (path, &error);
    g_assert_null (s);
    g_assert_nonnull (error);
    g_assert_true (g_str_has_prefix (error->message, path));
  }
  g_assert_true (g_file_get_contents (path, &contents, &len, NULL));
  g_assert_cmpstr (contents, ==, junk);
  g_unlink (path);

  /* A database from a newer Readroom is refused, not downgraded. */
  {
    g_autoptr (GError) error = NULL;
    g_autoptr (RrStore) s = rr_store_open (path, &error);
    g_assert_no_error (error);
  }
  {
    g_autofree char *cmd = g_strdup_printf ("sqlite3 '%s' 'PRAGMA user_version = 999'", path);
    g_assert_cmpint (system (cmd), ==, 0);
    g_autoptr (GError) error = NULL;
    g_autoptr (RrStore) s = rr_store_open (path, &error);
    g_assert_null (s);
    g_assert_error (error, RR_STORE_ERROR, RR_STORE_ERROR_TOO_NEW);
  }

  /* A row that no longer parses is skipped and kept; the others load. */
  g_unlink (path);
  {
    g_autoptr (GError) error = NULL;
    g_autoptr (RrStore) s = rr_store_open (path, &error);
    g_autoptr (RrMeasurement) a = make ("S1", 5, 1);
    g_assert_true (rr_store_put_measurement (s, 0, NULL, a, &error));
  }
  {
    g_autofree char *cmd = g_strdup_printf (
      "sqlite3 '%s' \"INSERT INTO measurements (id, series_uid, sop_uid, frame, kind, data,"
      " created_us, updated_us) VALUES ('x', 'S1', NULL, 0, 'length', "
      "'{\\\"kind\\\": 3}', 2, 2)\"", path);
    g_assert_cmpint (system (cmd), ==, 0);
    g_autoptr (GError) error = NULL;
    g_autoptr (RrStore) s = rr_store_open (path, &error);
    guint skipped = 0;
    g_test_expect_message (G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "*unreadable*");
    g_autoptr (GPtrArray) l = rr_store_list_measurements (s, 0, NULL, "S1", &skipped, &error);
    g_test_assert_expected_messages ();
    g_assert_cmpuint (l->len, ==, 1);
    g_assert_cmpuint (skipped, ==, 1);
  }
  rm_rf (dir);
}

/* The child: writes measurements in a loop, printing each id once the
 * store has returned, until it is killed. */
static int
child_main (const char *path)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (RrStore) s = rr_store_open (path, &error);
  if (s == NULL)
    {
      g_printerr ("%s\n", error->message);
      return 1;
    }
  for (int i = 0;; i++)
    {
      g_autoptr (RrMeasurement) m = make ("KILL", 1 + i % 50, i);
      if (!rr_store_put_measurement (s, 0, NULL, m, &error))
        return 1;
      /* Every fifth one is edited right after, the edit also confirmed. */
      if (i % 5 == 0)
        {
          rr_measurement_move_handle (m, 1, rr_vec3 (100, 0, 5));
          if (!rr_store_put_measurement (s, 0, NULL, m, &error))
            return 1;
          printf ("%s edited\n", m->id);
        }
      else
        printf ("%s\n", m->id);
      fflush (stdout);
    }
}

static void
test_kill9 (void)
{
  g_autofree char *dir = NULL;
  g_autofree char *path = temp_db (&dir);
  g_autoptr (GError) error = NULL;
  g_autoptr (GHashTable) confirmed = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  const char *argv[] = { self_path, "--child", path, NULL };
  GPid pid;
  int out_fd, status;
  g_autoptr (GString) buf = g_string_new (NULL);
  char chunk[4096];
  guint lines = 0;

  for (int round = 0; round < 3; round++)
    {
      g_string_truncate (buf, 0);
      g_assert_true (g_spawn_async_with_pipes (NULL, (char **) argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD,
                                               NULL, NULL, &pid, NULL, &out_fd, NULL, &error));
      g_assert_no_error (error);
      /* Let it write a while (a number of confirmed writes, not a time),
       * then kill it without warning, mid-write. */
      lines = 0;
      while (lines < 40u + 37u * round)
        {
          ssize_t n = read (out_fd, chunk, sizeof chunk);
          g_assert_cmpint (n, >, 0);
          g_string_append_len (buf, chunk, n);
          lines = 0;
          for (const char *c = buf->str; *c; c++)
            lines += *c == '\n';
        }
      kill (pid, SIGKILL);
      waitpid (pid, &status, 0);
      g_assert_true (WIFSIGNALED (status));
      /* Whatever it printed after our last read still counts. */
      for (;;)
        {
          ssize_t n = read (out_fd, chunk, sizeof chunk);
          if (n <= 0)
            break;
          g_string_append_len (buf, chunk, n);
        }
      close (out_fd);
      g_auto (GStrv) ls = g_strsplit (buf->str, "\n", -1);
      for (guint i = 0; ls[i]; i++)
        if (strlen (ls[i]) >= 36 && (i + 1 < g_strv_length (ls)))  /* complete lines only */
          g_hash_table_insert (confirmed, g_strndup (ls[i], 36),
                               GINT_TO_POINTER (strstr (ls[i], "edited") != NULL));
    }

  /* Every write the child saw confirmed is there, edits included, and the
   * database passes its integrity check on open. */
  g_autoptr (RrStore) s = rr_store_open (path, &error);
  g_assert_no_error (error);
  g_autoptr (GPtrArray) l = rr_store_list_measurements (s, 0, NULL, "KILL", NULL, &error);
  g_autoptr (GHashTable) have = g_hash_table_new (g_str_hash, g_str_equal);
  for (guint i = 0; i < l->len; i++)
    g_hash_table_insert (have, ((RrMeasurement *) l->pdata[i])->id, l->pdata[i]);
  GHashTableIter it;
  gpointer key, edited;
  g_hash_table_iter_init (&it, confirmed);
  while (g_hash_table_iter_next (&it, &key, &edited))
    {
      RrMeasurement *m = g_hash_table_lookup (have, key);
      g_assert_nonnull (m);
      if (GPOINTER_TO_INT (edited))
        g_assert_cmpfloat_with_epsilon (length_of (m), 100, 1e-9);
    }
  g_assert_cmpuint (g_hash_table_size (confirmed), >=, 40 + 77 + 114);
  g_test_message ("%u confirmed writes over 3 kills, %u rows", g_hash_table_size (confirmed),
                  l->len);
  rm_rf (dir);
}

/* A task's draft and the measurements on its series stay when the server
 * withdraws the task, across a reopen; the task list says so. */
static void
test_draft_outlives_task (void)
{
  g_autofree char *dir = NULL;
  g_autofree char *path = temp_db (&dir);
  g_autoptr (GError) error = NULL;
  gint64 account;

  {
    g_autoptr (RrStore) s = rr_store_open (path, &error);
    RrStoreInstance a = { "1.2.3.1", "1.2.1", "1.2.3", 100, "00", "/f/1", NULL };
    RrStoreInstance b = { "1.2.4.1", "1.2.1", "1.2.4", 100, "00", "/f/2", NULL };
    const char *present[] = { "t1", "t2", NULL };
    g_assert_no_error (error);
    account = rr_store_account (s, "https://example.org", "reader1", NULL, &error);
    g_assert_cmpint (account, >, 0);
    g_assert_true (rr_store_put_task (s, account, "t1", "read", "open", NULL, "{}", &error));
    g_assert_true (rr_store_put_task (s, account, "t2", "read", "open", NULL,
                                      "{\"subject\": \"S-9\", \"timepoints\": [{}, {}]}",
                                      &error));
    g_assert_true (rr_store_put_instance (s, account, "t1", &a, &error));
    g_assert_true (rr_store_put_instance (s, account, "t2", &b, &error));
    g_assert_true (rr_store_mark_tasks_gone (s, account, present, &error));
    g_assert_null (rr_store_get_draft (s, account, "t1", &error));
    g_assert_no_error (error);
    g_assert_true (rr_store_put_draft (s, account, "t1", "{\"series\": \"1.2.3\"}", &error));
    g_assert_true (rr_store_put_draft (s, account, "t1", "{\"series\": \"1.2.3.x\"}", &error));
    for (int i = 0; i < 2; i++)
      {
        g_autoptr (RrMeasurement) m = make ("1.2.3", 10 + i, i);
        g_assert_true (rr_store_put_measurement (s, account, "t1", m, &error));
      }
    {
      g_autoptr (RrMeasurement) m = make ("1.2.4", 7, 5);  /* the other task's */
      g_assert_true (rr_store_put_measurement (s, account, "t2", m, &error));
    }
    /* The server lists only t2 now. */
    present[0] = "t2";
    present[1] = NULL;
    g_assert_true (rr_store_mark_tasks_gone (s, account, present, &error));
    g_assert_no_error (error);
  }
  {
    g_autoptr (RrStore) s = rr_store_open (path, &error);
    g_autoptr (GPtrArray) tasks = rr_store_list_tasks (s, account, &error);
    g_autofree char *draft = rr_store_get_draft (s, account, "t1", &error);
    g_assert_no_error (error);
    g_assert_cmpstr (draft, ==, "{\"series\": \"1.2.3.x\"}");
    g_assert_cmpuint (tasks->len, ==, 2);
    {
      /* One task by its id, as the window asks for it; a cancelled one is
       * withdrawn too. */
      g_autoptr (RrStoreTask) one = rr_store_get_task (s, account, "t2", &error);
      g_autoptr (RrStoreTask) none = rr_store_get_task (s, account, "t9", &error);
      g_assert_no_error (error);
      g_assert_nonnull (one);
      g_assert_cmpstr (one->id, ==, "t2");
      g_assert_cmpuint (one->n_measurements, ==, 1);
      g_assert_null (none);
      g_assert_true (rr_store_put_task (s, account, "t2", "read", "cancelled", NULL, "{}", &error));
      g_clear_pointer (&one, rr_store_task_free);
      one = rr_store_get_task (s, account, "t2", &error);
      g_assert_true (one->on_server);
      g_assert_true (one->withdrawn);
      g_assert_true (rr_store_put_task (s, account, "t2", "read", "open", NULL,
                                        "{\"subject\": \"S-9\", \"timepoints\": [{}, {}]}",
                                        &error));
    }
    for (guint i = 0; i < tasks->len; i++)
      {
        RrStoreTask *t = tasks->pdata[i];
        if (g_str_equal (t->id, "t1"))
          {
            g_assert_false (t->on_server);
            g_assert_true (t->withdrawn);
            g_assert_true (t->has_draft);
            g_assert_null (t->subject);
            g_assert_cmpuint (t->n_timepoints, ==, 0);
            g_assert_cmpuint (t->n_measurements, ==, 2);
          }
        else
          {
            g_assert_true (t->on_server);
            g_assert_false (t->withdrawn);
            g_assert_false (t->has_draft);
            g_assert_cmpuint (t->n_measurements, ==, 1);
            g_assert_cmpstr (t->subject, ==, "S-9");
            g_assert_cmpuint (t->n_timepoints, ==, 2);
          }
      }
  }
  rm_rf (dir);
}

static guint
count_of (RrStore    *s,
          gint64      account,
          const char *task,
          const char *series)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) l = rr_store_list_measurements (s, account, task, series, NULL, &error);
  g_assert_no_error (error);
  return l->len;
}

/* One series in two tasks of one subject, two users on one computer: a
 * caliper belongs to the user and the task it was drawn in, and to no
 * other; free measuring (no task) is a third place, apart from both. */
static void
test_owner_scope (void)
{
  g_autofree char *dir = NULL;
  g_autofree char *path = temp_db (&dir);
  g_autoptr (GError) error = NULL;
  g_autoptr (RrStore) s = rr_store_open (path, &error);
  RrStoreInstance bl = { "1.2.3.1", "1.2.1", "1.2.3", 100, "00", "/f/1", NULL };
  gint64 r1, r2;
  g_autofree char *id = NULL;

  g_assert_no_error (error);
  r1 = rr_store_account (s, "https://example.org", "reader1", NULL, &error);
  r2 = rr_store_account (s, "https://example.org", "adjudicator", NULL, &error);
  g_assert_cmpint (r1, >, 0);
  g_assert_cmpint (r2, >, 0);
  g_assert_cmpint (r1, !=, r2);
  g_assert_cmpint (rr_store_account (s, "https://example.org", "reader1",
                                     "{\"full_name\": \"Ada Reader\"}", &error), ==, r1);
  {
    g_autofree char *server = NULL, *user = NULL, *json = NULL;
    g_assert_true (rr_store_get_account (s, r1, &server, &user, &json, &error));
    g_assert_cmpstr (server, ==, "https://example.org");
    g_assert_cmpstr (user, ==, "reader1");
    g_assert_cmpstr (json, ==, "{\"full_name\": \"Ada Reader\"}");
    g_assert_false (rr_store_get_account (s, r2 + 100, NULL, NULL, NULL, &error));
    g_clear_error (&error);
  }
  /* The baseline series is in the baseline and the week 8 task of both. */
  for (gint64 a = r1; a; a = a == r1 ? r2 : 0)
    for (const char *const *t = (const char *const[]) { "bl", "w8", NULL }; *t; t++)
      {
        g_assert_true (rr_store_put_task (s, a, *t, "read", "open", NULL, "{}", &error));
        g_assert_true (rr_store_put_instance (s, a, *t, &bl, &error));
      }
  {
    g_autoptr (RrMeasurement) m = make ("1.2.3", 22, 1);
    id = g_strdup (m->id);
    g_assert_true (rr_store_put_measurement (s, r1, "bl", m, &error));
    g_assert_no_error (error);
  }
  g_assert_cmpuint (count_of (s, r1, "bl", "1.2.3"), ==, 1);
  g_assert_cmpuint (count_of (s, r1, "bl", NULL), ==, 1);
  g_assert_cmpuint (count_of (s, r1, "w8", "1.2.3"), ==, 0);
  g_assert_cmpuint (count_of (s, r2, "bl", "1.2.3"), ==, 0);
  g_assert_cmpuint (count_of (s, r2, "w8", NULL), ==, 0);
  g_assert_cmpuint (count_of (s, 0, NULL, "1.2.3"), ==, 0);
  {
    g_autoptr (GPtrArray) tasks = rr_store_list_tasks (s, r1, &error);
    for (guint i = 0; i < tasks->len; i++)
      {
        RrStoreTask *t = tasks->pdata[i];
        g_assert_cmpuint (t->n_measurements, ==, g_str_equal (t->id, "bl") ? 1 : 0);
      }
    g_clear_pointer (&tasks, g_ptr_array_unref);
    tasks = rr_store_list_tasks (s, r2, &error);
    for (guint i = 0; i < tasks->len; i++)
      g_assert_cmpuint (((RrStoreTask *) tasks->pdata[i])->n_measurements, ==, 0);
  }
  /* The other user can neither take it over by its id nor delete it. */
  {
    g_autoptr (RrMeasurement) m = make ("1.2.3", 99, 1);
    g_free (m->id);
    m->id = g_strdup (id);
    g_assert_false (rr_store_put_measurement (s, r2, "bl", m, &error));
    g_assert_error (error, RR_STORE_ERROR, RR_STORE_ERROR_FAILED);
    g_clear_error (&error);
    g_assert_false (rr_store_put_measurement (s, 0, NULL, m, &error));
    g_clear_error (&error);
    g_assert_true (rr_store_delete_measurement (s, r2, "bl", id, &error));
    g_assert_true (rr_store_delete_measurement (s, r1, "w8", id, &error));
  }
  {
    g_autoptr (GPtrArray) l = rr_store_list_measurements (s, r1, "bl", NULL, NULL, &error);
    g_assert_cmpuint (l->len, ==, 1);
    g_assert_cmpfloat_with_epsilon (length_of (l->pdata[0]), 22, 1e-12);
  }
  /* Free measuring on the same series stays apart from the tasks. */
  {
    g_autoptr (RrMeasurement) m = make ("1.2.3", 5, 2);
    g_assert_true (rr_store_put_measurement (s, 0, NULL, m, &error));
  }
  g_assert_cmpuint (count_of (s, 0, NULL, "1.2.3"), ==, 1);
  g_assert_cmpuint (count_of (s, r1, "bl", NULL), ==, 1);
  g_assert_cmpuint (count_of (s, r2, "bl", NULL), ==, 0);
  /* Drafts likewise. */
  g_assert_true (rr_store_put_draft (s, r1, "bl", "{\"series\": \"1.2.3\"}", &error));
  {
    g_autofree char *d1 = rr_store_get_draft (s, r1, "bl", &error);
    g_autofree char *d2 = rr_store_get_draft (s, r2, "bl", &error);
    g_autofree char *d3 = rr_store_get_draft (s, r1, "w8", &error);
    g_assert_nonnull (d1);
    g_assert_null (d2);
    g_assert_null (d3);
  }
  /* The lesion form sits beside the draft without disturbing it. */
  g_assert_true (rr_store_put_form (s, r1, "bl", "{\"lesions\": []}", &error));
  g_assert_true (rr_store_put_form (s, r1, "w8", "{\"lesions\": [1]}", &error));
  g_assert_no_error (error);
  {
    g_autofree char *f1 = rr_store_get_form (s, r1, "bl", &error);
    g_autofree char *f2 = rr_store_get_form (s, r2, "bl", &error);
    g_autofree char *d1 = rr_store_get_draft (s, r1, "bl", &error);
    g_assert_cmpstr (f1, ==, "{\"lesions\": []}");
    g_assert_null (f2);
    g_assert_cmpstr (d1, ==, "{\"series\": \"1.2.3\"}");
  }
  g_assert_false (rr_store_put_form (s, r1, "bl", "not json", &error));
  g_clear_error (&error);
  /* The offsets the reader linked the comparison by (migration 6): the
   * task's, beside its draft and form, disturbing neither. */
  {
    const char *links = "{\"pairs\":[{\"current\":\"1.2.3\",\"prior\":\"1.2.4\","
                        "\"offset\":[0,0,-20]}]}";
    g_autofree char *none = rr_store_get_links (s, r1, "bl", &error);
    g_assert_no_error (error);
    g_assert_null (none);
    g_assert_true (rr_store_put_links (s, r1, "bl", links, &error));
    g_assert_no_error (error);
    g_autofree char *l1 = rr_store_get_links (s, r1, "bl", &error);
    g_autofree char *l2 = rr_store_get_links (s, r2, "bl", &error);
    g_autofree char *d1 = rr_store_get_draft (s, r1, "bl", &error);
    g_autofree char *f1 = rr_store_get_form (s, r1, "bl", &error);
    g_assert_cmpstr (l1, ==, links);
    g_assert_null (l2);
    g_assert_cmpstr (d1, ==, "{\"series\": \"1.2.3\"}");
    g_assert_cmpstr (f1, ==, "{\"lesions\": []}");
    /* A task with no draft yet gets one, its place still unknown. */
    g_assert_true (rr_store_put_links (s, r2, "bl", "{\"pairs\":[]}", &error));
    g_autofree char *d2 = rr_store_get_draft (s, r2, "bl", &error);
    g_assert_cmpstr (d2, ==, "{}");
    g_assert_false (rr_store_put_links (s, r1, "bl", "not json", &error));
    g_clear_error (&error);
    g_autofree char *kept = rr_store_get_links (s, r1, "bl", &error);
    g_assert_cmpstr (kept, ==, links);
  }
  g_assert_true (rr_store_delete_measurement (s, r1, "bl", id, &error));
  g_assert_cmpuint (count_of (s, r1, "bl", NULL), ==, 0);
  rm_rf (dir);
}

/* The schema the previous release wrote (version 2), as a fixture. */
static const char v2_schema[] =
  "CREATE TABLE measurements (id TEXT PRIMARY KEY NOT NULL, series_uid TEXT NOT NULL,"
  " sop_uid TEXT, frame INTEGER NOT NULL DEFAULT 0, kind TEXT NOT NULL,"
  " data TEXT NOT NULL CHECK (json_valid (data)), created_us INTEGER NOT NULL,"
  " updated_us INTEGER NOT NULL);"
  "CREATE INDEX measurements_by_series ON measurements (series_uid, created_us);"
  "CREATE TABLE accounts (id INTEGER PRIMARY KEY, server TEXT NOT NULL,"
  " username TEXT NOT NULL, user_json TEXT NOT NULL DEFAULT '{}', UNIQUE (server, username));"
  "CREATE TABLE tasks (id TEXT NOT NULL, account_id INTEGER NOT NULL REFERENCES accounts (id),"
  " kind TEXT NOT NULL, status TEXT NOT NULL, due_at TEXT, json TEXT NOT NULL,"
  " on_server INTEGER NOT NULL DEFAULT 1, updated_us INTEGER NOT NULL,"
  " PRIMARY KEY (account_id, id));"
  "CREATE TABLE instances (account_id INTEGER NOT NULL REFERENCES accounts (id),"
  " sop_uid TEXT NOT NULL, study_uid TEXT NOT NULL, series_uid TEXT NOT NULL,"
  " size INTEGER NOT NULL, md5 TEXT NOT NULL, url TEXT NOT NULL, sha256 TEXT,"
  " PRIMARY KEY (account_id, sop_uid));"
  "CREATE TABLE task_instances (account_id INTEGER NOT NULL, task_id TEXT NOT NULL,"
  " sop_uid TEXT NOT NULL, PRIMARY KEY (account_id, task_id, sop_uid),"
  " FOREIGN KEY (account_id, sop_uid) REFERENCES instances (account_id, sop_uid));"
  "CREATE TABLE drafts (account_id INTEGER NOT NULL REFERENCES accounts (id),"
  " task_id TEXT NOT NULL, json TEXT NOT NULL, updated_us INTEGER NOT NULL,"
  " PRIMARY KEY (account_id, task_id));"
  "CREATE TABLE outbox (key TEXT PRIMARY KEY, account_id INTEGER NOT NULL REFERENCES accounts (id),"
  " task_id TEXT NOT NULL, body TEXT NOT NULL, state TEXT NOT NULL DEFAULT 'pending',"
  " attempts INTEGER NOT NULL DEFAULT 0, last_error TEXT, receipt TEXT,"
  " created_us INTEGER NOT NULL, answered_us INTEGER);"
  "CREATE TABLE local_audit (seq INTEGER PRIMARY KEY, at_us INTEGER NOT NULL,"
  " action TEXT NOT NULL, object TEXT NOT NULL, details TEXT NOT NULL DEFAULT '{}');"
  "PRAGMA user_version = 2;";

/* A version 2 database, where measurements were kept per series: each
 * goes to the task its reader was on (the draft naming the series), a
 * series of one task only to that task, a series no task holds stays free
 * measuring; the other user and the other tasks get nothing. */
static void
test_migrate_v2 (void)
{
  g_autofree char *dir = NULL;
  g_autofree char *path = temp_db (&dir);
  g_autofree char *sub = g_path_get_dirname (path);
  g_autoptr (GError) error = NULL;
  g_autofree char *sql = NULL, *cmd = NULL, *sql_path = NULL;
  g_autoptr (GString) rows = g_string_new (v2_schema);
  const char *data[4];
  g_autofree char *j0 = NULL, *j1 = NULL, *j2 = NULL, *j3 = NULL;

  {
    g_autoptr (RrMeasurement) a = make ("SER-BL", 31, 1);
    g_autoptr (RrMeasurement) b = make ("SER-BL", 17, 2);
    g_autoptr (RrMeasurement) c = make ("SER-W8", 12, 3);
    g_autoptr (RrMeasurement) d = make ("SER-FOLDER", 9, 4);
    g_free (a->id), a->id = g_strdup ("m-a");
    g_free (b->id), b->id = g_strdup ("m-b");
    g_free (c->id), c->id = g_strdup ("m-c");
    g_free (d->id), d->id = g_strdup ("m-d");
    data[0] = j0 = rr_measurement_to_json (a);
    data[1] = j1 = rr_measurement_to_json (b);
    data[2] = j2 = rr_measurement_to_json (c);
    data[3] = j3 = rr_measurement_to_json (d);
  }
  /* reader1 (1) and reader2 (2) both have the subject's baseline series in
   * tasks bl and w8 (reader2's due first); reader1's draft of bl names
   * it, reader2 never drew. */
  g_string_append (rows,
    "INSERT INTO accounts (id, server, username) VALUES (1, 's', 'reader1'), (2, 's', 'reader2');"
    "INSERT INTO tasks VALUES ('bl', 1, 'read', 'open', '2026-01-01', '{}', 1, 0),"
    " ('w8', 1, 'read', 'open', '2026-01-02', '{}', 1, 0),"
    " ('bl', 2, 'read', 'open', '2025-12-01', '{}', 1, 0),"
    " ('w8', 2, 'read', 'open', '2025-12-02', '{}', 1, 0);"
    "INSERT INTO instances VALUES (1, 'I-BL', 'ST1', 'SER-BL', 1, 'x', '/u', NULL),"
    " (1, 'I-W8', 'ST2', 'SER-W8', 1, 'x', '/u', NULL),"
    " (2, 'I-BL', 'ST1', 'SER-BL', 1, 'x', '/u', NULL),"
    " (2, 'I-W8', 'ST2', 'SER-W8', 1, 'x', '/u', NULL);"
    "INSERT INTO task_instances VALUES (1, 'bl', 'I-BL'), (1, 'w8', 'I-BL'), (1, 'w8', 'I-W8'),"
    " (2, 'bl', 'I-BL'), (2, 'w8', 'I-BL'), (2, 'w8', 'I-W8');"
    "INSERT INTO drafts VALUES (1, 'w8', '{\"series\": \"SER-W8\"}', 5),"
    " (1, 'bl', '{\"series\": \"SER-BL\"}', 3);");
  for (guint i = 0; i < 4; i++)
    {
      g_auto (GStrv) parts = g_strsplit (data[i], "'", -1);
      g_autofree char *q = g_strjoinv ("''", parts);
      g_string_append_printf (rows,
                              "INSERT INTO measurements VALUES ('m-%c', '%s', NULL, 0, 'length',"
                              " '%s', %u, %u);", 'a' + i,
                              i < 2 ? "SER-BL" : i == 2 ? "SER-W8" : "SER-FOLDER", q, i, i);
    }
  g_assert_cmpint (g_mkdir_with_parents (sub, 0700), ==, 0);
  sql_path = g_build_filename (dir, "v2.sql", NULL);
  g_assert_true (g_file_set_contents (sql_path, rows->str, -1, NULL));
  cmd = g_strdup_printf ("sqlite3 '%s' < '%s'", path, sql_path);
  g_assert_cmpint (system (cmd), ==, 0);

  {
    g_autoptr (RrStore) s = rr_store_open (path, &error);
    g_assert_no_error (error);
    g_assert_cmpint (rr_store_schema_version (s), ==, rr_store_latest_version ());
    g_assert_cmpint (rr_store_latest_version (), >=, 3);
    /* reader1's baseline draft named SER-BL: both calipers go there. */
    g_assert_cmpuint (count_of (s, 1, "bl", "SER-BL"), ==, 2);
    g_assert_cmpuint (count_of (s, 1, "w8", "SER-BL"), ==, 0);
    /* SER-W8 is in reader1's and reader2's w8; reader1's draft names it. */
    g_assert_cmpuint (count_of (s, 1, "w8", NULL), ==, 1);
    g_assert_cmpuint (count_of (s, 2, "bl", NULL), ==, 0);
    g_assert_cmpuint (count_of (s, 2, "w8", NULL), ==, 0);
    /* In no task: stays the viewer's. */
    g_assert_cmpuint (count_of (s, 0, NULL, "SER-FOLDER"), ==, 1);
    g_assert_cmpuint (count_of (s, 0, NULL, "SER-BL"), ==, 0);
    {
      g_autoptr (GPtrArray) l = rr_store_list_measurements (s, 1, "bl", NULL, NULL, &error);
      g_assert_cmpstr (((RrMeasurement *) l->pdata[0])->id, ==, "m-a");
      g_assert_cmpfloat_with_epsilon (length_of (l->pdata[0]), 31, 1e-12);
    }
    {
      g_autoptr (RrStoreTask) t = rr_store_get_task (s, 1, "bl", &error);
      g_assert_cmpuint (t->n_measurements, ==, 2);
    }
  }
  rm_rf (dir);
}

/* The outbox's states: "pending" asked for is saved or sending; one entry
 * per task found by its task; a delivered entry is never replaced; an
 * entry of an older database that may have been sent becomes "sending"
 * (settled by asking the server, not sent blindly). */
static void
test_outbox_states (void)
{
  g_autofree char *dir = NULL;
  g_autofree char *path = temp_db (&dir);
  g_autoptr (GError) error = NULL;
  gint64 a1, a2;

  {
    g_autoptr (RrStore) s = rr_store_open (path, &error);
    g_autoptr (GPtrArray) pending = NULL, all = NULL, waiting = NULL;
    g_autoptr (RrStoreOutbox) e = NULL;
    g_assert_no_error (error);
    a1 = rr_store_account (s, "https://one.example", "reader1", NULL, &error);
    a2 = rr_store_account (s, "https://two.example", "reader1", NULL, &error);
    g_assert_true (rr_store_outbox_add (s, a1, "k1", "t1", "{\"n\": 1}", &error));
    g_assert_true (rr_store_outbox_add (s, a1, "k2", "t2", "{\"n\": 2}", &error));
    g_assert_true (rr_store_outbox_add (s, a1, "k3", "t3", "{\"n\": 3}", &error));
    g_assert_true (rr_store_outbox_add (s, a2, "k4", "t4", "{\"n\": 4}", &error));
    g_assert_true (rr_store_outbox_update (s, "k2", "sending", NULL, NULL, &error));
    g_assert_true (rr_store_outbox_update (s, "k3", "delivered", NULL, "{\"receipt\": {}}",
                                           &error));
    /* "pending" records an attempt and keeps the state. */
    g_assert_true (rr_store_outbox_update (s, "k2", "pending", "no answer", NULL, &error));
    pending = rr_store_outbox_list (s, a1, "pending", &error);
    g_assert_no_error (error);
    g_assert_cmpuint (pending->len, ==, 2);
    g_assert_cmpstr (((RrStoreOutbox *) pending->pdata[0])->state, ==, "saved");
    g_assert_cmpstr (((RrStoreOutbox *) pending->pdata[1])->state, ==, "sending");
    g_assert_cmpstr (((RrStoreOutbox *) pending->pdata[1])->last_error, ==, "no answer");
    g_assert_cmpstr (((RrStoreOutbox *) pending->pdata[1])->server, ==, "https://one.example");
    all = rr_store_outbox_list (s, a1, NULL, &error);
    g_assert_cmpuint (all->len, ==, 3);
    /* Every account's waiting entries, with their servers. */
    waiting = rr_store_outbox_unanswered (s, &error);
    g_assert_cmpuint (waiting->len, ==, 3);
    g_assert_cmpstr (((RrStoreOutbox *) waiting->pdata[2])->server, ==, "https://two.example");

    e = rr_store_outbox_for_task (s, a1, "t1", &error);
    g_assert_cmpstr (e->key, ==, "k1");
    g_clear_pointer (&e, rr_store_outbox_free);
    g_assert_null (rr_store_outbox_for_task (s, a2, "t1", &error));
    g_assert_no_error (error);

    /* The corrected read replaces the one never sent, under a new key. */
    g_assert_true (rr_store_outbox_replace (s, "k1", "k1b", "{\"n\": 10}", &error));
    e = rr_store_outbox_for_task (s, a1, "t1", &error);
    g_assert_cmpstr (e->key, ==, "k1b");
    g_assert_cmpstr (e->body, ==, "{\"n\": 10}");
    g_assert_cmpstr (e->state, ==, "saved");
    g_clear_pointer (&e, rr_store_outbox_free);
    /* A delivered one is never replaced. */
    g_assert_false (rr_store_outbox_replace (s, "k3", "k3b", "{}", &error));
    g_assert_error (error, RR_STORE_ERROR, RR_STORE_ERROR_FAILED);
    g_clear_error (&error);
    e = rr_store_outbox_for_task (s, a1, "t3", &error);
    g_assert_cmpstr (e->key, ==, "k3");
    g_assert_cmpstr (e->state, ==, "delivered");
  }
  {
    /* Back to an older database's outbox (schema 4, before migration 5):
     * its waiting entries were 'pending', whether sent or not. */
    g_autofree char *cmd = g_strdup_printf (
      "sqlite3 '%s' \"DROP INDEX outbox_by_task; UPDATE outbox SET state = 'pending'"
      " WHERE state IN ('saved', 'sending'); ALTER TABLE drafts DROP COLUMN links;"
      " DROP TABLE submissions;"
      " PRAGMA user_version = 4\"", path);
    g_autoptr (RrStore) s = NULL;
    g_autoptr (GPtrArray) all = NULL;
    g_assert_cmpint (system (cmd), ==, 0);
    s = rr_store_open (path, &error);
    g_assert_no_error (error);
    g_assert_cmpint (rr_store_schema_version (s), ==, rr_store_latest_version ());
    all = rr_store_outbox_list (s, a1, NULL, &error);
    g_assert_cmpuint (all->len, ==, 3);
    for (guint i = 0; i < all->len; i++)
      {
        RrStoreOutbox *o = all->pdata[i];
        g_assert_cmpstr (o->state, ==, g_str_equal (o->key, "k3") ? "delivered" : "sending");
      }
  }
  rm_rf (dir);
}

int
main (int argc, char **argv)
{
  if (argc == 3 && g_str_equal (argv[1], "--child"))
    return child_main (argv[2]);
  self_path = g_canonicalize_filename (argv[0], NULL);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/store/roundtrip", test_roundtrip);
  g_test_add_func ("/store/not-ours", test_not_ours);
  g_test_add_func ("/store/kill-9", test_kill9);
  g_test_add_func ("/store/draft-outlives-task", test_draft_outlives_task);
  g_test_add_func ("/store/owner-scope", test_owner_scope);
  g_test_add_func ("/store/migrate-v2", test_migrate_v2);
  g_test_add_func ("/store/outbox-states", test_outbox_states);
  return g_test_run ();
}
