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
    g_assert_true (rr_store_put_measurement (s, a, &error));
    g_assert_true (rr_store_put_measurement (s, b, &error));
    g_assert_true (rr_store_put_measurement (s, c, &error));
    /* An edit replaces the row, keeping its place in time. */
    rr_measurement_move_handle (a, 1, rr_vec3 (40, 0, 5));
    g_assert_true (rr_store_put_measurement (s, a, &error));
    g_assert_no_error (error);
  }
  {
    g_autoptr (RrStore) s = rr_store_open (path, &error);
    g_assert_no_error (error);
    g_autoptr (GPtrArray) l = rr_store_list_measurements (s, "S1", NULL, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (l->len, ==, 2);
    g_assert_cmpstr (((RrMeasurement *) l->pdata[0])->id, ==, id2);  /* oldest first */
    g_assert_cmpstr (((RrMeasurement *) l->pdata[1])->id, ==, id1);
    g_assert_cmpfloat_with_epsilon (length_of (l->pdata[1]), 40, 1e-12);
    g_assert_cmpstr (((RrMeasurement *) l->pdata[1])->sop_uid, ==, "1.2.3.9");
    g_assert_cmpuint (((RrMeasurement *) l->pdata[1])->frame, ==, 2);
    g_assert_true (rr_store_delete_measurement (s, id1, &error));
  }
  {
    g_autoptr (RrStore) s = rr_store_open (path, &error);
    g_autoptr (GPtrArray) l = rr_store_list_measurements (s, "S1", NULL, &error);
    g_assert_cmpuint (l->len, ==, 1);
    g_autoptr (GPtrArray) none = rr_store_list_measurements (s, "S3", NULL, &error);
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
    g_assert_true (rr_store_put_measurement (s, a, &error));
  }
  {
    g_autofree char *cmd = g_strdup_printf (
      "sqlite3 '%s' \"INSERT INTO measurements VALUES ('x', 'S1', NULL, 0, 'length', "
      "'{\\\"kind\\\": 3}', 2, 2)\"", path);
    g_assert_cmpint (system (cmd), ==, 0);
    g_autoptr (GError) error = NULL;
    g_autoptr (RrStore) s = rr_store_open (path, &error);
    guint skipped = 0;
    g_test_expect_message (G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "*unreadable*");
    g_autoptr (GPtrArray) l = rr_store_list_measurements (s, "S1", &skipped, &error);
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
      if (!rr_store_put_measurement (s, m, &error))
        return 1;
      /* Every fifth one is edited right after, the edit also confirmed. */
      if (i % 5 == 0)
        {
          rr_measurement_move_handle (m, 1, rr_vec3 (100, 0, 5));
          if (!rr_store_put_measurement (s, m, &error))
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
  g_autoptr (GPtrArray) l = rr_store_list_measurements (s, "KILL", NULL, &error);
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
        g_assert_true (rr_store_put_measurement (s, m, &error));
      }
    {
      g_autoptr (RrMeasurement) m = make ("1.2.4", 7, 5);  /* the other task's series */
      g_assert_true (rr_store_put_measurement (s, m, &error));
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
    /* Back to an older database's outbox: its waiting entries were
     * 'pending', whether sent or not. */
    g_autofree char *cmd = g_strdup_printf (
      "sqlite3 '%s' \"DROP INDEX outbox_by_task; UPDATE outbox SET state = 'pending'"
      " WHERE state IN ('saved', 'sending'); PRAGMA user_version = 2\"", path);
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
  g_test_add_func ("/store/outbox-states", test_outbox_states);
  return g_test_run ();
}
