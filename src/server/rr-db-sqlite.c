/* rr-db-sqlite.c: the SQLite backend, the default: one file (WAL,
 * foreign keys, PRAGMA user_version for the migrations), one connection
 * for the writer under the server's process lock, and read-only
 * connections for the snapshots readers' requests run on. */
#include "rr-db.h"

#include <gio/gio.h>
#include <sqlite3.h>

static sqlite3 *writer;
static char *path_;
static char **sql;
static GQueue readers = G_QUEUE_INIT;     /* idle read-only connections */
static GMutex readers_lock;

/* The connection this thread reads a snapshot on, else NULL: the writer,
 * under the lock. */
static __thread sqlite3 *snapshot;

static sqlite3 *
db (void)
{
  return snapshot ? snapshot : writer;
}

static gboolean
exec (const char  *text,
      GError     **error)
{
  char *msg = NULL;
  if (sqlite3_exec (db (), text, NULL, NULL, &msg) != SQLITE_OK)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s", msg ? msg : "failed");
      sqlite3_free (msg);
      return FALSE;
    }
  return TRUE;
}

static RrStmt *
query (RrQueryId id)
{
  sqlite3_stmt *st = NULL;
  if (id >= RR_N_QUERIES || sqlite3_prepare_v2 (db (), sql[id], -1, &st, NULL) != SQLITE_OK)
    {
      g_warning ("readroom: cannot prepare %s: %s", rr_db_query_name (id), sqlite3_errmsg (db ()));
      return NULL;
    }
  return (RrStmt *) st;
}

static void
bind_int (RrStmt *st, int i, gint64 v)
{
  sqlite3_bind_int64 ((sqlite3_stmt *) st, i, v);
}

static void
bind_text (RrStmt *st, int i, const char *s)
{
  sqlite3_bind_text ((sqlite3_stmt *) st, i, s, -1, SQLITE_TRANSIENT);
}

static void
bind_null (RrStmt *st, int i)
{
  sqlite3_bind_null ((sqlite3_stmt *) st, i);
}

static int
step (RrStmt *st)
{
  int rc = sqlite3_step ((sqlite3_stmt *) st);
  return rc == SQLITE_ROW ? RR_ROW : rc == SQLITE_DONE ? RR_DONE : RR_ERROR;
}

static gint64
column_int (RrStmt *st, int i)
{
  return sqlite3_column_int64 ((sqlite3_stmt *) st, i);
}

static const char *
column_text (RrStmt *st, int i)
{
  return (const char *) sqlite3_column_text ((sqlite3_stmt *) st, i);
}

static gboolean
column_is_null (RrStmt *st, int i)
{
  return sqlite3_column_type ((sqlite3_stmt *) st, i) == SQLITE_NULL;
}

static void
finalize (RrStmt *st)
{
  sqlite3_finalize ((sqlite3_stmt *) st);
}

static gint64
changes (void)
{
  return sqlite3_changes (db ());
}

static gboolean
begin (RrTxKind kind)
{
  /* One process, one writer: the process lock serialises transactions,
   * so every kind is the same IMMEDIATE transaction. */
  return exec ("BEGIN IMMEDIATE", NULL);
}

static gboolean
commit (void)
{
  return exec ("COMMIT", NULL);
}

static void
rollback (void)
{
  exec ("ROLLBACK", NULL);
}

/* Read-only connections, each used by one request at a time and then
 * kept for the next: in WAL mode a reader sees the last commit without
 * waiting for the writer, so a reader's request never queues behind a
 * login's commit (a disk flush) or behind a lock holder that lost its
 * processor. Opening one costs a schema read; most requests reuse one. */
static gboolean
snapshot_begin (void)
{
  sqlite3 *conn = NULL;

  g_mutex_lock (&readers_lock);
  conn = g_queue_pop_head (&readers);
  g_mutex_unlock (&readers_lock);
  if (conn == NULL)
    {
      if (path_ == NULL ||
          sqlite3_open_v2 (path_, &conn, SQLITE_OPEN_READONLY | SQLITE_OPEN_FULLMUTEX, NULL)
          != SQLITE_OK)
        {
          g_warning ("readroom: cannot open a reader of the database: %s",
                     conn ? sqlite3_errmsg (conn) : "out of memory");
          sqlite3_close_v2 (conn);
          return FALSE;
        }
      sqlite3_busy_timeout (conn, 10000);
    }
  /* One transaction for the whole request: every statement of it sees the
   * same commit. */
  if (sqlite3_exec (conn, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
    {
      sqlite3_close_v2 (conn);
      return FALSE;
    }
  snapshot = conn;
  return TRUE;
}

static void
snapshot_end (void)
{
  sqlite3 *conn = g_steal_pointer (&snapshot);

  if (conn == NULL)
    return;
  sqlite3_exec (conn, "COMMIT", NULL, NULL, NULL);
  g_mutex_lock (&readers_lock);
  g_queue_push_head (&readers, conn);
  g_mutex_unlock (&readers_lock);
}

static gboolean
nested (void)
{
  return FALSE;
}

static gboolean
lock_audit (void)
{
  return TRUE;  /* the IMMEDIATE transaction holds the only write lock */
}

static gboolean
error_is_retry (void)
{
  return FALSE;  /* nothing races: one writer */
}

static gboolean
retry (void)
{
  return FALSE;  /* one writer: nothing to run again for */
}

static gboolean
set_error (GError **error, const char *what)
{
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s: %s", what,
               writer ? sqlite3_errmsg (writer) : "no database");
  return FALSE;
}

static gboolean
open_ (const char  *where,
       int         *from_version,
       GError     **error)
{
  g_auto (GStrv) migrations = NULL;
  int version = 0, n;
  sqlite3_stmt *st = NULL;

  if ((sql = rr_db_load_queries ("sqlite", error)) == NULL ||
      (migrations = rr_db_load_migrations ("sqlite", error)) == NULL)
    return FALSE;
  n = g_strv_length (migrations);
  path_ = g_strdup (where);
  if (sqlite3_open_v2 (where, &writer,
                       SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, NULL)
      != SQLITE_OK)
    return set_error (error, where);
  sqlite3_busy_timeout (writer, 10000);
  if (!exec ("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;"
             " PRAGMA foreign_keys = ON", error))
    return FALSE;
  if (sqlite3_prepare_v2 (writer, "PRAGMA quick_check", -1, &st, NULL) != SQLITE_OK ||
      sqlite3_step (st) != SQLITE_ROW ||
      g_strcmp0 ((const char *) sqlite3_column_text (st, 0), "ok") != 0)
    {
      sqlite3_finalize (st);
      return set_error (error, "the database failed its integrity check");
    }
  sqlite3_finalize (st);
  st = NULL;
  if (sqlite3_prepare_v2 (writer, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK &&
      sqlite3_step (st) == SQLITE_ROW)
    version = sqlite3_column_int (st, 0);
  sqlite3_finalize (st);
  if (version > n)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                   "%s: schema %d is newer than this plugin (%d)", where, version, n);
      return FALSE;
    }
  *from_version = version;
  for (; version < n; version++)
    {
      g_autofree char *bump = g_strdup_printf ("PRAGMA user_version = %d", version + 1);
      if (!exec ("BEGIN IMMEDIATE", error))
        return FALSE;
      if (!exec (migrations[version], error) || !exec (bump, error))
        {
          rollback ();
          g_prefix_error (error, "migration %d: ", version + 1);
          return FALSE;
        }
      if (!exec ("COMMIT", error))
        return FALSE;
    }
  /* Every query prepared once: a broken one stops the server here, not
   * on the request that first needs it. */
  for (int i = 0; i < RR_N_QUERIES; i++)
    {
      st = NULL;
      if (sqlite3_prepare_v2 (writer, sql[i], -1, &st, NULL) != SQLITE_OK)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "query %s: %s",
                       rr_db_query_name (i), sqlite3_errmsg (writer));
          return FALSE;
        }
      sqlite3_finalize (st);
    }
  return TRUE;
}

static void
close_reader (gpointer conn)
{
  sqlite3_close_v2 (conn);
}

static void
close_ (void)
{
  if (writer)
    sqlite3_close_v2 (writer);
  writer = NULL;
  g_mutex_lock (&readers_lock);
  g_queue_clear_full (&readers, close_reader);
  g_mutex_unlock (&readers_lock);
  g_clear_pointer (&path_, g_free);
  g_clear_pointer (&sql, g_strfreev);
}

const RrDbBackend rr_db_sqlite = {
  .name = "sqlite",
  .open = open_,
  .close = close_,
  .begin = begin,
  .commit = commit,
  .rollback = rollback,
  .nested = nested,
  .snapshot_begin = snapshot_begin,
  .snapshot_end = snapshot_end,
  .query = query,
  .bind_int = bind_int,
  .bind_text = bind_text,
  .bind_null = bind_null,
  .step = step,
  .column_int = column_int,
  .column_text = column_text,
  .column_is_null = column_is_null,
  .finalize = finalize,
  .changes = changes,
  .lock_audit = lock_audit,
  .error_is_retry = error_is_retry,
  .retry = retry,
};
