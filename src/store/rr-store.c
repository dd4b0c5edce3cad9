/* rr-store.c: the local SQLite database. Migrations are numbered SQL
 * scripts applied in one transaction each; PRAGMA user_version records the
 * last one applied. synchronous=FULL: a committed change survives a crash
 * of the process and of the machine. */
#include "rr-store.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <sqlite3.h>

G_DEFINE_QUARK (rr-store-error-quark, rr_store_error)

struct _RrStore
{
  sqlite3 *db;
  char *path;
  int version;
};

/* Append only: a released migration is never edited, a change is a new
 * entry. Index i brings the schema from version i to i + 1. */
static const char *const migrations[] = {
  /* 1: measurements drawn by the reader, one row per measurement. */
  "CREATE TABLE measurements ("
  "  id TEXT PRIMARY KEY NOT NULL,"
  "  series_uid TEXT NOT NULL,"
  "  sop_uid TEXT,"
  "  frame INTEGER NOT NULL DEFAULT 0,"
  "  kind TEXT NOT NULL,"
  "  data TEXT NOT NULL CHECK (json_valid (data)),"
  "  created_us INTEGER NOT NULL,"
  "  updated_us INTEGER NOT NULL"
  ");"
  "CREATE INDEX measurements_by_series ON measurements (series_uid, created_us);",
  /* 2: what the server assigned, and what of it is cached. */
  "CREATE TABLE accounts ("
  "  id INTEGER PRIMARY KEY, server TEXT NOT NULL, username TEXT NOT NULL,"
  "  user_json TEXT NOT NULL DEFAULT '{}', UNIQUE (server, username));"
  "CREATE TABLE tasks ("
  "  id TEXT NOT NULL, account_id INTEGER NOT NULL REFERENCES accounts (id),"
  "  kind TEXT NOT NULL, status TEXT NOT NULL, due_at TEXT, json TEXT NOT NULL,"
  "  on_server INTEGER NOT NULL DEFAULT 1, updated_us INTEGER NOT NULL,"
  "  PRIMARY KEY (account_id, id));"
  "CREATE TABLE instances ("
  "  account_id INTEGER NOT NULL REFERENCES accounts (id), sop_uid TEXT NOT NULL,"
  "  study_uid TEXT NOT NULL, series_uid TEXT NOT NULL, size INTEGER NOT NULL,"
  "  md5 TEXT NOT NULL, url TEXT NOT NULL, sha256 TEXT, PRIMARY KEY (account_id, sop_uid));"
  "CREATE TABLE task_instances ("
  "  account_id INTEGER NOT NULL, task_id TEXT NOT NULL, sop_uid TEXT NOT NULL,"
  "  PRIMARY KEY (account_id, task_id, sop_uid),"
  "  FOREIGN KEY (account_id, sop_uid) REFERENCES instances (account_id, sop_uid));"
  "CREATE TABLE drafts ("
  "  account_id INTEGER NOT NULL REFERENCES accounts (id), task_id TEXT NOT NULL,"
  "  json TEXT NOT NULL, updated_us INTEGER NOT NULL, PRIMARY KEY (account_id, task_id));"
  "CREATE TABLE outbox ("
  "  key TEXT PRIMARY KEY, account_id INTEGER NOT NULL REFERENCES accounts (id),"
  "  task_id TEXT NOT NULL, body TEXT NOT NULL, state TEXT NOT NULL DEFAULT 'pending',"
  "  attempts INTEGER NOT NULL DEFAULT 0, last_error TEXT, receipt TEXT,"
  "  created_us INTEGER NOT NULL, answered_us INTEGER);"
  "CREATE TABLE local_audit ("
  "  seq INTEGER PRIMARY KEY, at_us INTEGER NOT NULL, action TEXT NOT NULL,"
  "  object TEXT NOT NULL, details TEXT NOT NULL DEFAULT '{}');",
  /* 3: a measurement belongs to the reader and the task it was drawn in,
   * not to the series: a subject's baseline series is in each of its
   * tasks, and another user on this computer must not see it (blinding).
   * NULL account and task: measured in the viewer with no task open.
   * Rows drawn before this are given to the task the reader was on: the
   * one whose draft names their series, else the most recent draft among
   * the tasks holding it, else the first such task; a series no task
   * holds stays free. */
  "ALTER TABLE measurements ADD COLUMN account_id INTEGER REFERENCES accounts (id);"
  "ALTER TABLE measurements ADD COLUMN task_id TEXT;"
  "CREATE TEMP TABLE owner_of_series AS SELECT series_uid, account_id, task_id FROM ("
  "  SELECT i.series_uid, t.account_id, t.id AS task_id, row_number () OVER ("
  "    PARTITION BY i.series_uid ORDER BY"
  "    coalesce (json_valid (d.json) AND json_extract (d.json, '$.series') = i.series_uid, 0)"
  "    DESC, d.updated_us IS NULL, d.updated_us DESC, t.due_at, t.id) AS n"
  "  FROM tasks t"
  "  JOIN task_instances ti ON ti.account_id = t.account_id AND ti.task_id = t.id"
  "  JOIN instances i ON i.account_id = ti.account_id AND i.sop_uid = ti.sop_uid"
  "  LEFT JOIN drafts d ON d.account_id = t.account_id AND d.task_id = t.id)"
  " WHERE n = 1;"
  "UPDATE measurements SET (account_id, task_id) = (SELECT o.account_id, o.task_id"
  "  FROM owner_of_series o WHERE o.series_uid = measurements.series_uid);"
  "DROP TABLE owner_of_series;"
  "DROP INDEX measurements_by_series;"
  "CREATE INDEX measurements_by_owner ON measurements"
  "  (account_id, task_id, series_uid, created_us);",
  /* 4: the lesion form of a read task, beside the reader's place in it. */
  "ALTER TABLE drafts ADD COLUMN form TEXT CHECK (form IS NULL OR json_valid (form));",
  /* 5: the outbox's states made explicit: 'saved' (never sent), 'sending'
   * (may have reached the server), 'delivered' and 'refused' (answered).
   * An old 'pending' entry may have been sent: it is settled by asking. */
  "UPDATE outbox SET state = 'sending' WHERE state = 'pending';"
  "CREATE INDEX outbox_by_task ON outbox (account_id, task_id);",
  /* 6: the offsets the reader linked the prior's pane by ("link here"),
   * beside the reader's place: reopening the task keeps them. */
  "ALTER TABLE drafts ADD COLUMN links TEXT CHECK (links IS NULL OR json_valid (links));",
  /* 7: the reader's own read as the server holds it (GET
   * /tasks/{id}/submission), fetched when it was signed on another
   * computer: it opens read-only here, and a follow-up's prior calipers
   * come from it. */
  "CREATE TABLE submissions ("
  "  account_id INTEGER NOT NULL REFERENCES accounts (id), task_id TEXT NOT NULL,"
  "  json TEXT NOT NULL CHECK (json_valid (json)), updated_us INTEGER NOT NULL,"
  "  PRIMARY KEY (account_id, task_id));",
};

int
rr_store_latest_version (void)
{
  return G_N_ELEMENTS (migrations);
}

static gboolean
fail (RrStore     *store,
      GError     **error,
      RrStoreError code,
      const char  *what)
{
  g_set_error (error, RR_STORE_ERROR, code, "%s: %s (%s)", store->path, what,
               store->db ? sqlite3_errmsg (store->db) : "no database");
  return FALSE;
}

static gboolean
exec (RrStore    *store,
      const char *sql,
      GError    **error)
{
  char *msg = NULL;
  if (sqlite3_exec (store->db, sql, NULL, NULL, &msg) != SQLITE_OK)
    {
      g_set_error (error, RR_STORE_ERROR, RR_STORE_ERROR_FAILED, "%s: %s", store->path,
                   msg ? msg : "failed");
      sqlite3_free (msg);
      return FALSE;
    }
  return TRUE;
}

static int
query_int (RrStore    *store,
           const char *sql)
{
  sqlite3_stmt *st = NULL;
  int v = -1;
  if (sqlite3_prepare_v2 (store->db, sql, -1, &st, NULL) == SQLITE_OK &&
      sqlite3_step (st) == SQLITE_ROW)
    v = sqlite3_column_int (st, 0);
  sqlite3_finalize (st);
  return v;
}

static gboolean
check_integrity (RrStore *store,
                 GError **error)
{
  sqlite3_stmt *st = NULL;
  gboolean ok = FALSE;
  g_autofree char *what = NULL;

  if (sqlite3_prepare_v2 (store->db, "PRAGMA quick_check", -1, &st, NULL) == SQLITE_OK &&
      sqlite3_step (st) == SQLITE_ROW)
    {
      const char *r = (const char *) sqlite3_column_text (st, 0);
      ok = g_strcmp0 (r, "ok") == 0;
      what = g_strdup (r);
    }
  sqlite3_finalize (st);
  if (!ok)
    {
      g_set_error (error, RR_STORE_ERROR, RR_STORE_ERROR_CORRUPT,
                   "%s: the database failed its integrity check (%s); it was left as it is",
                   store->path, what ? what : sqlite3_errmsg (store->db));
      return FALSE;
    }
  return TRUE;
}

static gboolean
migrate (RrStore *store,
         GError **error)
{
  store->version = query_int (store, "PRAGMA user_version");
  if (store->version < 0)
    return fail (store, error, RR_STORE_ERROR_CORRUPT, "cannot read the schema version");
  if (store->version > rr_store_latest_version ())
    {
      g_set_error (error, RR_STORE_ERROR, RR_STORE_ERROR_TOO_NEW,
                   "%s: schema version %d was written by a newer Readroom (this one knows %d)",
                   store->path, store->version, rr_store_latest_version ());
      return FALSE;
    }
  while (store->version < rr_store_latest_version ())
    {
      g_autofree char *bump = g_strdup_printf ("PRAGMA user_version = %d", store->version + 1);
      if (!exec (store, "BEGIN IMMEDIATE", error))
        return FALSE;
      if (!exec (store, migrations[store->version], error) || !exec (store, bump, error))
        {
          exec (store, "ROLLBACK", NULL);
          g_prefix_error (error, "migration %d: ", store->version + 1);
          return FALSE;
        }
      if (!exec (store, "COMMIT", error))
        return FALSE;
      store->version++;
    }
  return TRUE;
}

char *
rr_store_default_path (void)
{
  return g_build_filename (g_get_user_data_dir (), "readroom", "readroom.db", NULL);
}

RrStore *
rr_store_open (const char  *path,
               GError     **error)
{
  g_autoptr (RrStore) store = g_new0 (RrStore, 1);
  g_autofree char *dir = g_path_get_dirname (path);

  store->path = g_strdup (path);
  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      int e = errno;
      g_set_error (error, RR_STORE_ERROR, RR_STORE_ERROR_OPEN, "%s: cannot create the folder: %s",
                   dir, g_strerror (e));
      return NULL;
    }
  if (sqlite3_open_v2 (path, &store->db,
                       SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL)
      != SQLITE_OK)
    {
      fail (store, error, RR_STORE_ERROR_OPEN, "cannot open the database");
      return NULL;
    }
  sqlite3_extended_result_codes (store->db, 1);
  sqlite3_busy_timeout (store->db, 5000);
  /* A file that is not a database fails here, on its first read. */
  if (!exec (store, "PRAGMA foreign_keys = ON", error) || !check_integrity (store, error))
    return NULL;
  if (!exec (store, "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL", error))
    return NULL;
  if (!migrate (store, error))
    return NULL;
  return g_steal_pointer (&store);
}

void
rr_store_close (RrStore *store)
{
  if (store == NULL)
    return;
  sqlite3_close_v2 (store->db);
  g_free (store->path);
  g_free (store);
}

const char *
rr_store_get_path (RrStore *store)
{
  return store->path;
}

int
rr_store_schema_version (RrStore *store)
{
  return store->version;
}

/* ---- measurements ---- */

static gboolean
run (RrStore      *store,
     sqlite3_stmt *st,
     GError      **error)
{
  int rc = sqlite3_step (st);
  sqlite3_finalize (st);
  if (rc != SQLITE_DONE)
    return fail (store, error, RR_STORE_ERROR_FAILED, "cannot write");
  return TRUE;
}

/* Binds the owner at @i and @i + 1: NULL for measuring with no task. */
static void
bind_owner (sqlite3_stmt *st,
            int           i,
            gint64        account,
            const char   *task_id)
{
  if (task_id && account > 0)
    {
      sqlite3_bind_int64 (st, i, account);
      sqlite3_bind_text (st, i + 1, task_id, -1, SQLITE_TRANSIENT);
    }
}

gboolean
rr_store_put_measurement (RrStore              *store,
                          gint64                account,
                          const char           *task_id,
                          const RrMeasurement  *m,
                          GError              **error)
{
  sqlite3_stmt *st = NULL;
  g_autofree char *json = rr_measurement_to_json (m);

  /* An id already kept for another owner is never taken over. */
  if (sqlite3_prepare_v2 (store->db,
                          "INSERT INTO measurements (id, series_uid, sop_uid, frame, kind, data,"
                          " created_us, updated_us, account_id, task_id)"
                          " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"
                          " ON CONFLICT (id) DO UPDATE SET series_uid = ?2, sop_uid = ?3,"
                          " frame = ?4, kind = ?5, data = ?6, updated_us = ?8"
                          " WHERE account_id IS ?9 AND task_id IS ?10",
                          -1, &st, NULL) != SQLITE_OK)
    return fail (store, error, RR_STORE_ERROR_FAILED, "cannot prepare");
  sqlite3_bind_text (st, 1, m->id, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (st, 2, m->series_uid ? m->series_uid : "", -1, SQLITE_TRANSIENT);
  if (m->sop_uid)
    sqlite3_bind_text (st, 3, m->sop_uid, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (st, 4, m->frame);
  sqlite3_bind_text (st, 5, rr_measure_kind_to_string (m->kind), -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 6, json, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (st, 7, m->created_us);
  sqlite3_bind_int64 (st, 8, g_get_real_time ());
  bind_owner (st, 9, account, task_id);
  if (!run (store, st, error))
    return FALSE;
  if (sqlite3_changes (store->db) == 0)
    {
      g_set_error (error, RR_STORE_ERROR, RR_STORE_ERROR_FAILED,
                   "%s: measurement %s belongs to another task or user", store->path, m->id);
      return FALSE;
    }
  return TRUE;
}

gboolean
rr_store_delete_measurement (RrStore     *store,
                             gint64       account,
                             const char  *task_id,
                             const char  *id,
                             GError     **error)
{
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2 (store->db,
                          "DELETE FROM measurements WHERE id = ?1 AND account_id IS ?2"
                          " AND task_id IS ?3", -1, &st, NULL) != SQLITE_OK)
    return fail (store, error, RR_STORE_ERROR_FAILED, "cannot prepare");
  sqlite3_bind_text (st, 1, id, -1, SQLITE_TRANSIENT);
  bind_owner (st, 2, account, task_id);
  return run (store, st, error);
}

GPtrArray *
rr_store_list_measurements (RrStore     *store,
                            gint64       account,
                            const char  *task_id,
                            const char  *series_uid,
                            guint       *skipped,
                            GError     **error)
{
  sqlite3_stmt *st = NULL;
  g_autoptr (GPtrArray) out = g_ptr_array_new_with_free_func ((GDestroyNotify) rr_measurement_free);
  int rc;

  if (skipped)
    *skipped = 0;
  if (sqlite3_prepare_v2 (store->db,
                          "SELECT id, data FROM measurements WHERE account_id IS ?1"
                          " AND task_id IS ?2 AND (?3 IS NULL OR series_uid = ?3)"
                          " ORDER BY created_us, id",
                          -1, &st, NULL) != SQLITE_OK)
    {
      fail (store, error, RR_STORE_ERROR_FAILED, "cannot prepare");
      return NULL;
    }
  bind_owner (st, 1, account, task_id);
  if (series_uid)
    sqlite3_bind_text (st, 3, series_uid, -1, SQLITE_TRANSIENT);
  else if (task_id == NULL || account <= 0)
    sqlite3_bind_text (st, 3, "", -1, SQLITE_STATIC);
  while ((rc = sqlite3_step (st)) == SQLITE_ROW)
    {
      g_autoptr (GError) local = NULL;
      RrMeasurement *m = rr_measurement_from_json ((const char *) sqlite3_column_text (st, 1),
                                                   &local);
      if (m == NULL)
        {
          g_warning ("%s: measurement %s is unreadable and was left in place: %s", store->path,
                     sqlite3_column_text (st, 0), local->message);
          if (skipped)
            (*skipped)++;
          continue;
        }
      g_ptr_array_add (out, m);
    }
  sqlite3_finalize (st);
  if (rc != SQLITE_DONE)
    {
      fail (store, error, RR_STORE_ERROR_FAILED, "cannot read");
      return NULL;
    }
  return g_steal_pointer (&out);
}

/* ---- accounts, tasks and the instance cache ---- */

gint64
rr_store_account (RrStore     *store,
                  const char  *server,
                  const char  *username,
                  const char  *user_json,
                  GError     **error)
{
  sqlite3_stmt *st = NULL;
  gint64 id = -1;

  if (sqlite3_prepare_v2 (store->db,
                          "INSERT INTO accounts (server, username, user_json)"
                          " VALUES (?1, ?2, coalesce (?3, '{}'))"
                          " ON CONFLICT (server, username) DO UPDATE SET user_json ="
                          " coalesce (?3, user_json) RETURNING id",
                          -1, &st, NULL) != SQLITE_OK)
    {
      fail (store, error, RR_STORE_ERROR_FAILED, "cannot prepare");
      return -1;
    }
  sqlite3_bind_text (st, 1, server, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (st, 2, username, -1, SQLITE_TRANSIENT);
  if (user_json)
    sqlite3_bind_text (st, 3, user_json, -1, SQLITE_TRANSIENT);
  if (sqlite3_step (st) == SQLITE_ROW)
    id = sqlite3_column_int64 (st, 0);
  sqlite3_finalize (st);
  if (id < 0)
    fail (store, error, RR_STORE_ERROR_FAILED, "cannot record the account");
  return id;
}

gboolean
rr_store_get_account (RrStore  *store,
                      gint64    account,
                      char    **server,
                      char    **username,
                      char    **user_json,
                      GError  **error)
{
  sqlite3_stmt *st = NULL;
  gboolean found = FALSE;
  if (sqlite3_prepare_v2 (store->db,
                          "SELECT server, username, user_json FROM accounts WHERE id = ?1", -1,
                          &st, NULL) != SQLITE_OK)
    return fail (store, error, RR_STORE_ERROR_FAILED, "cannot prepare");
  sqlite3_bind_int64 (st, 1, account);
  if (sqlite3_step (st) == SQLITE_ROW)
    {
      found = TRUE;
      if (server)
        *server = g_strdup ((const char *) sqlite3_column_text (st, 0));
      if (username)
        *username = g_strdup ((const char *) sqlite3_column_text (st, 1));
      if (user_json)
        *user_json = g_strdup ((const char *) sqlite3_column_text (st, 2));
    }
  sqlite3_finalize (st);
  if (!found)
    g_set_error (error, RR_STORE_ERROR, RR_STORE_ERROR_FAILED, "%s: no account %" G_GINT64_FORMAT,
                 store->path, account);
  return found;
}

gboolean
rr_store_begin (RrStore  *store,
                GError  **error)
{
  return exec (store, "BEGIN IMMEDIATE", error);
}

gboolean
rr_store_commit (RrStore  *store,
                 GError  **error)
{
  return exec (store, "COMMIT", error);
}

void
rr_store_rollback (RrStore *store)
{
  exec (store, "ROLLBACK", NULL);
}

gboolean
rr_store_put_task (RrStore     *store,
                   gint64       account,
                   const char  *id,
                   const char  *kind,
                   const char  *status,
                   const char  *due_at,
                   const char  *json,
                   GError     **error)
{
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2 (store->db,
                          "INSERT INTO tasks (id, account_id, kind, status, due_at, json, on_server,"
                          " updated_us) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 1, ?7)"
                          " ON CONFLICT (account_id, id) DO UPDATE SET kind = ?3, status = ?4,"
                          " due_at = ?5, json = ?6, on_server = 1, updated_us = ?7",
                          -1, &st, NULL) != SQLITE_OK)
    return fail (store, error, RR_STORE_ERROR_FAILED, "cannot prepare");
  sqlite3_bind_text (st, 1, id, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (st, 2, account);
  sqlite3_bind_text (st, 3, kind, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (st, 4, status, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (st, 5, due_at, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (st, 6, json, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (st, 7, g_get_real_time ());
  return run (store, st, error);
}

gboolean
rr_store_mark_tasks_gone (RrStore            *store,
                          gint64              account,
                          const char * const *present,
                          GError            **error)
{
  sqlite3_stmt *st = NULL;
  /* Tasks the server no longer lists: kept (their drafts too), marked. */
  if (!exec (store, "CREATE TEMP TABLE IF NOT EXISTS listed (id TEXT PRIMARY KEY);"
                    " DELETE FROM listed", error))
    return FALSE;
  for (guint i = 0; present && present[i]; i++)
    {
      if (sqlite3_prepare_v2 (store->db, "INSERT OR IGNORE INTO listed (id) VALUES (?1)", -1, &st,
                              NULL) != SQLITE_OK)
        return fail (store, error, RR_STORE_ERROR_FAILED, "cannot prepare");
      sqlite3_bind_text (st, 1, present[i], -1, SQLITE_TRANSIENT);
      if (!run (store, st, error))
        return FALSE;
    }
  if (sqlite3_prepare_v2 (store->db,
                          "UPDATE tasks SET on_server = (id IN (SELECT id FROM listed))"
                          " WHERE account_id = ?1", -1, &st, NULL) != SQLITE_OK)
    return fail (store, error, RR_STORE_ERROR_FAILED, "cannot prepare");
  sqlite3_bind_int64 (st, 1, account);
  return run (store, st, error);
}

/* The account's tasks, or the one of @task_id. */
static GPtrArray *
select_tasks (RrStore     *store,
              gint64       account,
              const char  *task_id,
              GError     **error)
{
  sqlite3_stmt *st = NULL;
  GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify) rr_store_task_free);
  if (sqlite3_prepare_v2 (store->db,
                          "SELECT t.id, t.kind, t.status, t.due_at, t.json, t.on_server,"
                          " EXISTS (SELECT 1 FROM drafts d WHERE d.account_id = t.account_id"
                          "         AND d.task_id = t.id),"
                          " (SELECT count(*) FROM measurements m"
                          "  WHERE m.account_id = t.account_id AND m.task_id = t.id),"
                          " CASE WHEN json_valid (t.json) THEN json_extract (t.json, '$.subject') END,"
                          " CASE WHEN json_valid (t.json) THEN json_array_length (t.json, '$.timepoints')"
                          " END"
                          " FROM tasks t WHERE t.account_id = ?1 AND (?2 IS NULL OR t.id = ?2)"
                          " ORDER BY t.due_at, t.id",
                          -1, &st, NULL) != SQLITE_OK)
    {
      g_ptr_array_unref (out);
      fail (store, error, RR_STORE_ERROR_FAILED, "cannot prepare");
      return NULL;
    }
  sqlite3_bind_int64 (st, 1, account);
  sqlite3_bind_text (st, 2, task_id, -1, SQLITE_TRANSIENT);
  while (sqlite3_step (st) == SQLITE_ROW)
    {
      RrStoreTask *t = g_new0 (RrStoreTask, 1);
      t->id = g_strdup ((const char *) sqlite3_column_text (st, 0));
      t->kind = g_strdup ((const char *) sqlite3_column_text (st, 1));
      t->status = g_strdup ((const char *) sqlite3_column_text (st, 2));
      t->due_at = g_strdup ((const char *) sqlite3_column_text (st, 3));
      t->json = g_strdup ((const char *) sqlite3_column_text (st, 4));
      t->on_server = sqlite3_column_int (st, 5);
      t->has_draft = sqlite3_column_int (st, 6);
      t->n_measurements = (guint) sqlite3_column_int (st, 7);
      t->subject = g_strdup ((const char *) sqlite3_column_text (st, 8));
      t->n_timepoints = (guint) MAX (sqlite3_column_int (st, 9), 0);
      t->withdrawn = !t->on_server || g_strcmp0 (t->status, "cancelled") == 0;
      g_ptr_array_add (out, t);
    }
  sqlite3_finalize (st);
  return out;
}

GPtrArray *
rr_store_list_tasks (RrStore  *store,
                     gint64    account,
                     GError  **error)
{
  return select_tasks (store, account, NULL, error);
}

RrStoreTask *
rr_store_get_task (RrStore     *store,
                   gint64       account,
                   const char  *task_id,
                   GError     **error)
{
  g_autoptr (GPtrArray) one = select_tasks (store, account, task_id, error);
  if (one == NULL || one->len == 0)
    return NULL;
  return g_ptr_array_steal_index (one, 0);
}

/* Drafts and forms are two columns of one row per (account, task): the
 * same upsert and lookup, with the statement naming the column. */
static gboolean
put_task_text (RrStore     *store,
               const char  *sql,
               gint64       account,
               const char  *task_id,
               const char  *json,
               GError     **error)
{
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2 (store->db, sql, -1, &st, NULL) != SQLITE_OK)
    return fail (store, error, RR_STORE_ERROR_FAILED, "cannot prepare");
  sqlite3_bind_int64 (st, 1, account);
  sqlite3_bind_text (st, 2, task_id, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (st, 3, json, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (st, 4, g_get_real_time ());
  return run (store, st, error);
}

static char *
get_task_text (RrStore     *store,
               const char  *sql,
               gint64       account,
               const char  *task_id,
               GError     **error)
{
  sqlite3_stmt *st = NULL;
  char *json = NULL;
  if (sqlite3_prepare_v2 (store->db, sql, -1, &st, NULL) != SQLITE_OK)
    {
      fail (store, error, RR_STORE_ERROR_FAILED, "cannot prepare");
      return NULL;
    }
  sqlite3_bind_int64 (st, 1, account);
  sqlite3_bind_text (st, 2, task_id, -1, SQLITE_TRANSIENT);
  if (sqlite3_step (st) == SQLITE_ROW)
    json = g_strdup ((const char *) sqlite3_column_text (st, 0));
  sqlite3_finalize (st);
  return json;
}

gboolean
rr_store_put_draft (RrStore     *store,
                    gint64       account,
                    const char  *task_id,
                    const char  *json,
                    GError     **error)
{
  return put_task_text (store,
                        "INSERT INTO drafts (account_id, task_id, json, updated_us)"
                        " VALUES (?1, ?2, ?3, ?4) ON CONFLICT (account_id, task_id)"
                        " DO UPDATE SET json = ?3, updated_us = ?4",
                        account, task_id, json, error);
}

gboolean
rr_store_put_form (RrStore     *store,
                   gint64       account,
                   const char  *task_id,
                   const char  *json,
                   GError     **error)
{
  return put_task_text (store,
                        "INSERT INTO drafts (account_id, task_id, json, form, updated_us)"
                        " VALUES (?1, ?2, '{}', ?3, ?4) ON CONFLICT (account_id, task_id)"
                        " DO UPDATE SET form = ?3, updated_us = ?4",
                        account, task_id, json, error);
}

char *
rr_store_get_form (RrStore     *store,
                   gint64       account,
                   const char  *task_id,
                   GError     **error)
{
  return get_task_text (store,
                        "SELECT form FROM drafts WHERE account_id = ?1 AND task_id = ?2",
                        account, task_id, error);
}

gboolean
rr_store_put_links (RrStore     *store,
                    gint64       account,
                    const char  *task_id,
                    const char  *json,
                    GError     **error)
{
  return put_task_text (store,
                        "INSERT INTO drafts (account_id, task_id, json, links, updated_us)"
                        " VALUES (?1, ?2, '{}', ?3, ?4) ON CONFLICT (account_id, task_id)"
                        " DO UPDATE SET links = ?3, updated_us = ?4",
                        account, task_id, json, error);
}

char *
rr_store_get_links (RrStore     *store,
                    gint64       account,
                    const char  *task_id,
                    GError     **error)
{
  return get_task_text (store,
                        "SELECT links FROM drafts WHERE account_id = ?1 AND task_id = ?2",
                        account, task_id, error);
}

gboolean
rr_store_put_submission (RrStore     *store,
                         gint64       account,
                         const char  *task_id,
                         const char  *json,
                         GError     **error)
{
  return put_task_text (store,
                        "INSERT INTO submissions (account_id, task_id, json, updated_us)"
                        " VALUES (?1, ?2, ?3, ?4) ON CONFLICT (account_id, task_id)"
                        " DO UPDATE SET json = ?3, updated_us = ?4",
                        account, task_id, json, error);
}

char *
rr_store_get_submission (RrStore     *store,
                         gint64       account,
                         const char  *task_id,
                         GError     **error)
{
  return get_task_text (store,
                        "SELECT json FROM submissions WHERE account_id = ?1 AND task_id = ?2",
                        account, task_id, error);
}

char *
rr_store_get_draft (RrStore     *store,
                    gint64       account,
                    const char  *task_id,
                    GError     **error)
{
  return get_task_text (store,
                        "SELECT json FROM drafts WHERE account_id = ?1 AND task_id = ?2",
                        account, task_id, error);
}

void
rr_store_task_free (RrStoreTask *t)
{
  if (t == NULL)
    return;
  g_free (t->id);
  g_free (t->kind);
  g_free (t->status);
  g_free (t->due_at);
  g_free (t->json);
  g_free (t->subject);
  g_free (t);
}

void
rr_store_instance_free (RrStoreInstance *i)
{
  if (i == NULL)
    return;
  g_free (i->sop_uid);
  g_free (i->study_uid);
  g_free (i->series_uid);
  g_free (i->md5);
  g_free (i->url);
  g_free (i->sha256);
  g_free (i);
}

gboolean
rr_store_put_instance (RrStore                *store,
                       gint64                  account,
                       const char             *task_id,
                       const RrStoreInstance  *inst,
                       GError                **error)
{
  sqlite3_stmt *st = NULL;
  /* A changed file on the server (other size or MD5) is fetched again. */
  if (sqlite3_prepare_v2 (store->db,
                          "INSERT INTO instances (account_id, sop_uid, study_uid, series_uid, size,"
                          " md5, url) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
                          " ON CONFLICT (account_id, sop_uid) DO UPDATE SET study_uid = ?3,"
                          " series_uid = ?4, url = ?7, sha256 = CASE WHEN size = ?5 AND md5 = ?6"
                          " THEN sha256 END, size = ?5, md5 = ?6",
                          -1, &st, NULL) != SQLITE_OK)
    return fail (store, error, RR_STORE_ERROR_FAILED, "cannot prepare");
  sqlite3_bind_int64 (st, 1, account);
  sqlite3_bind_text (st, 2, inst->sop_uid, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (st, 3, inst->study_uid, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (st, 4, inst->series_uid, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (st, 5, inst->size);
  sqlite3_bind_text (st, 6, inst->md5, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (st, 7, inst->url, -1, SQLITE_TRANSIENT);
  if (!run (store, st, error))
    return FALSE;
  if (sqlite3_prepare_v2 (store->db,
                          "INSERT OR IGNORE INTO task_instances (account_id, task_id, sop_uid)"
                          " VALUES (?1, ?2, ?3)", -1, &st, NULL) != SQLITE_OK)
    return fail (store, error, RR_STORE_ERROR_FAILED, "cannot prepare");
  sqlite3_bind_int64 (st, 1, account);
  sqlite3_bind_text (st, 2, task_id, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (st, 3, inst->sop_uid, -1, SQLITE_TRANSIENT);
  return run (store, st, error);
}

GPtrArray *
rr_store_task_instances (RrStore     *store,
                         gint64       account,
                         const char  *task_id,
                         GError     **error)
{
  sqlite3_stmt *st = NULL;
  GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify) rr_store_instance_free);
  if (sqlite3_prepare_v2 (store->db,
                          "SELECT i.sop_uid, i.study_uid, i.series_uid, i.size, i.md5, i.url,"
                          " i.sha256 FROM instances i JOIN task_instances t ON t.sop_uid = i.sop_uid"
                          " AND t.account_id = i.account_id WHERE i.account_id = ?1"
                          " AND (?2 IS NULL OR t.task_id = ?2) GROUP BY i.sop_uid"
                          " ORDER BY i.study_uid, i.series_uid, i.sop_uid",
                          -1, &st, NULL) != SQLITE_OK)
    {
      g_ptr_array_unref (out);
      fail (store, error, RR_STORE_ERROR_FAILED, "cannot prepare");
      return NULL;
    }
  sqlite3_bind_int64 (st, 1, account);
  if (task_id)
    sqlite3_bind_text (st, 2, task_id, -1, SQLITE_TRANSIENT);
  while (sqlite3_step (st) == SQLITE_ROW)
    {
      RrStoreInstance *i = g_new0 (RrStoreInstance, 1);
      i->sop_uid = g_strdup ((const char *) sqlite3_column_text (st, 0));
      i->study_uid = g_strdup ((const char *) sqlite3_column_text (st, 1));
      i->series_uid = g_strdup ((const char *) sqlite3_column_text (st, 2));
      i->size = sqlite3_column_int64 (st, 3);
      i->md5 = g_strdup ((const char *) sqlite3_column_text (st, 4));
      i->url = g_strdup ((const char *) sqlite3_column_text (st, 5));
      i->sha256 = g_strdup ((const char *) sqlite3_column_text (st, 6));
      g_ptr_array_add (out, i);
    }
  sqlite3_finalize (st);
  return out;
}

gboolean
rr_store_set_instance_sha256 (RrStore     *store,
                              gint64       account,
                              const char  *sop_uid,
                              const char  *sha256,
                              GError     **error)
{
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2 (store->db,
                          "UPDATE instances SET sha256 = ?3 WHERE account_id = ?1 AND sop_uid = ?2",
                          -1, &st, NULL) != SQLITE_OK)
    return fail (store, error, RR_STORE_ERROR_FAILED, "cannot prepare");
  sqlite3_bind_int64 (st, 1, account);
  sqlite3_bind_text (st, 2, sop_uid, -1, SQLITE_TRANSIENT);
  if (sha256)
    sqlite3_bind_text (st, 3, sha256, -1, SQLITE_TRANSIENT);
  return run (store, st, error);
}

GHashTable *
rr_store_recorded_sha256 (RrStore  *store,
                          GError  **error)
{
  sqlite3_stmt *st = NULL;
  GHashTable *out;
  if (sqlite3_prepare_v2 (store->db,
                          "SELECT DISTINCT sha256 FROM instances WHERE sha256 IS NOT NULL",
                          -1, &st, NULL) != SQLITE_OK)
    {
      fail (store, error, RR_STORE_ERROR_FAILED, "cannot prepare");
      return NULL;
    }
  out = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  while (sqlite3_step (st) == SQLITE_ROW)
    g_hash_table_add (out, g_strdup ((const char *) sqlite3_column_text (st, 0)));
  sqlite3_finalize (st);
  return out;
}

gboolean
rr_store_audit (RrStore     *store,
                const char  *action,
                const char  *object,
                const char  *details,
                GError     **error)
{
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2 (store->db,
                          "INSERT INTO local_audit (at_us, action, object, details)"
                          " VALUES (?1, ?2, ?3, ?4)", -1, &st, NULL) != SQLITE_OK)
    return fail (store, error, RR_STORE_ERROR_FAILED, "cannot prepare");
  sqlite3_bind_int64 (st, 1, g_get_real_time ());
  sqlite3_bind_text (st, 2, action, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (st, 3, object, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (st, 4, details ? details : "{}", -1, SQLITE_TRANSIENT);
  return run (store, st, error);
}

char *
rr_store_cache_dir (void)
{
  return g_build_filename (g_get_user_cache_dir (), "readroom", "instances", NULL);
}

char *
rr_store_cache_path (const char *cache_dir,
                     const char *sha256)
{
  g_autofree char *sub = g_strndup (sha256, 2);
  g_autofree char *name = g_strdup_printf ("%s.dcm", sha256);
  return g_build_filename (cache_dir, sub, name, NULL);
}

/* ---- the outbox ---- */

void
rr_store_outbox_free (RrStoreOutbox *o)
{
  if (o == NULL)
    return;
  g_free (o->key);
  g_free (o->task_id);
  g_free (o->body);
  g_free (o->state);
  g_free (o->last_error);
  g_free (o->receipt);
  g_free (o->server);
  g_free (o);
}

gboolean
rr_store_outbox_add (RrStore     *store,
                     gint64       account,
                     const char  *key,
                     const char  *task_id,
                     const char  *body,
                     GError     **error)
{
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2 (store->db,
                          "INSERT INTO outbox (key, account_id, task_id, body, created_us, state)"
                          " VALUES (?1, ?2, ?3, ?4, ?5, 'saved')", -1, &st, NULL) != SQLITE_OK)
    return fail (store, error, RR_STORE_ERROR_FAILED, "cannot prepare");
  sqlite3_bind_text (st, 1, key, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (st, 2, account);
  sqlite3_bind_text (st, 3, task_id, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (st, 4, body, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (st, 5, g_get_real_time ());
  return run (store, st, error);
}

static GPtrArray *
outbox_rows (RrStore      *store,
             sqlite3_stmt *st)
{
  GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify) rr_store_outbox_free);
  while (sqlite3_step (st) == SQLITE_ROW)
    {
      RrStoreOutbox *o = g_new0 (RrStoreOutbox, 1);
      o->key = g_strdup ((const char *) sqlite3_column_text (st, 0));
      o->task_id = g_strdup ((const char *) sqlite3_column_text (st, 1));
      o->body = g_strdup ((const char *) sqlite3_column_text (st, 2));
      o->state = g_strdup ((const char *) sqlite3_column_text (st, 3));
      o->attempts = sqlite3_column_int (st, 4);
      o->last_error = g_strdup ((const char *) sqlite3_column_text (st, 5));
      o->receipt = g_strdup ((const char *) sqlite3_column_text (st, 6));
      o->server = g_strdup ((const char *) sqlite3_column_text (st, 7));
      g_ptr_array_add (out, o);
    }
  sqlite3_finalize (st);
  return out;
}

#define OUTBOX_COLUMNS "o.key, o.task_id, o.body, o.state, o.attempts, o.last_error, o.receipt," \
  " a.server FROM outbox o JOIN accounts a ON a.id = o.account_id"

GPtrArray *
rr_store_outbox_list (RrStore     *store,
                      gint64       account,
                      const char  *state,
                      GError     **error)
{
  sqlite3_stmt *st = NULL;
  /* "pending" is every entry not answered yet, as before the states were
   * told apart. */
  if (sqlite3_prepare_v2 (store->db,
                          "SELECT " OUTBOX_COLUMNS " WHERE o.account_id = ?1 AND (?2 IS NULL OR"
                          " o.state = ?2 OR (?2 = 'pending' AND o.state IN ('saved', 'sending')))"
                          " ORDER BY o.created_us", -1, &st, NULL) != SQLITE_OK)
    {
      fail (store, error, RR_STORE_ERROR_FAILED, "cannot prepare");
      return NULL;
    }
  sqlite3_bind_int64 (st, 1, account);
  if (state)
    sqlite3_bind_text (st, 2, state, -1, SQLITE_TRANSIENT);
  return outbox_rows (store, st);
}

RrStoreOutbox *
rr_store_outbox_for_task (RrStore     *store,
                          gint64       account,
                          const char  *task_id,
                          GError     **error)
{
  sqlite3_stmt *st = NULL;
  g_autoptr (GPtrArray) rows = NULL;
  /* The newest: a database from before one entry per task may hold more. */
  if (sqlite3_prepare_v2 (store->db,
                          "SELECT " OUTBOX_COLUMNS " WHERE o.account_id = ?1 AND o.task_id = ?2"
                          " ORDER BY o.created_us DESC LIMIT 1", -1, &st, NULL) != SQLITE_OK)
    {
      fail (store, error, RR_STORE_ERROR_FAILED, "cannot prepare");
      return NULL;
    }
  sqlite3_bind_int64 (st, 1, account);
  sqlite3_bind_text (st, 2, task_id, -1, SQLITE_TRANSIENT);
  rows = outbox_rows (store, st);
  return rows->len ? g_steal_pointer (&rows->pdata[0]) : NULL;
}

GPtrArray *
rr_store_outbox_unanswered (RrStore  *store,
                            GError  **error)
{
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2 (store->db,
                          "SELECT " OUTBOX_COLUMNS " WHERE o.state IN ('saved', 'sending')"
                          " ORDER BY o.created_us", -1, &st, NULL) != SQLITE_OK)
    {
      fail (store, error, RR_STORE_ERROR_FAILED, "cannot prepare");
      return NULL;
    }
  return outbox_rows (store, st);
}

gboolean
rr_store_outbox_replace (RrStore     *store,
                         const char  *old_key,
                         const char  *key,
                         const char  *body,
                         GError     **error)
{
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2 (store->db,
                          "UPDATE outbox SET key = ?2, body = ?3, state = 'saved', attempts = 0,"
                          " last_error = NULL, receipt = NULL, answered_us = NULL, created_us = ?4"
                          " WHERE key = ?1 AND state IN ('saved', 'sending', 'refused')",
                          -1, &st, NULL) != SQLITE_OK)
    return fail (store, error, RR_STORE_ERROR_FAILED, "cannot prepare");
  sqlite3_bind_text (st, 1, old_key, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (st, 2, key, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (st, 3, body, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (st, 4, g_get_real_time ());
  if (!run (store, st, error))
    return FALSE;
  if (sqlite3_changes (store->db) != 1)
    {
      g_set_error (error, RR_STORE_ERROR, RR_STORE_ERROR_FAILED,
                   "%s: the outbox entry %s is no longer waiting", store->path, old_key);
      return FALSE;
    }
  return TRUE;
}

gboolean
rr_store_outbox_update (RrStore     *store,
                        const char  *key,
                        const char  *state,
                        const char  *last_error,
                        const char  *receipt,
                        GError     **error)
{
  sqlite3_stmt *st = NULL;
  /* The old name for "not answered": kept as it was, saved or sending. */
  if (g_strcmp0 (state, "pending") == 0)
    {
      if (sqlite3_prepare_v2 (store->db,
                              "UPDATE outbox SET last_error = ?2, attempts = attempts + 1"
                              " WHERE key = ?1", -1, &st, NULL) != SQLITE_OK)
        return fail (store, error, RR_STORE_ERROR_FAILED, "cannot prepare");
      sqlite3_bind_text (st, 1, key, -1, SQLITE_TRANSIENT);
      if (last_error)
        sqlite3_bind_text (st, 2, last_error, -1, SQLITE_TRANSIENT);
      return run (store, st, error);
    }
  if (sqlite3_prepare_v2 (store->db,
                          "UPDATE outbox SET state = ?2, last_error = ?3, receipt = coalesce (?4,"
                          " receipt), attempts = attempts + 1, answered_us = CASE WHEN ?2 NOT IN"
                          " ('saved', 'sending') THEN ?5 END WHERE key = ?1", -1, &st, NULL)
      != SQLITE_OK)
    return fail (store, error, RR_STORE_ERROR_FAILED, "cannot prepare");
  sqlite3_bind_text (st, 1, key, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (st, 2, state, -1, SQLITE_TRANSIENT);
  if (last_error)
    sqlite3_bind_text (st, 3, last_error, -1, SQLITE_TRANSIENT);
  if (receipt)
    sqlite3_bind_text (st, 4, receipt, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (st, 5, g_get_real_time ());
  return run (store, st, error);
}

gboolean
rr_store_set_durable (RrStore  *store,
                      gboolean  durable,
                      GError  **error)
{
  return exec (store, durable ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL",
               error);
}
