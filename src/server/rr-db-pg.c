/* rr-db-pg.c: the PostgreSQL backend (readroom-server --postgres), for
 * several nodes on one database. Each request is one transaction on a
 * pooled connection (rr_db_pg_request_*, driven by rr_with_lock): READ
 * COMMITTED, correctness from row locks, unique constraints and the audit
 * chain's advisory lock, and a request that lost a race (serialization
 * failure, deadlock, unique violation) is rolled back and run again. A
 * handler's own begin/commit/rollback become a savepoint inside it, so a
 * failure it audits after rolling its work back still commits. */
#include "rr-db.h"
#include "rr-db-pg.h"

#include <gio/gio.h>
#include <libpq-fe.h>
#include <string.h>

#define MAX_PARAMS 16
/* Connections per node: two nodes with Orthanc's own stay well inside
 * PostgreSQL's default max_connections (100). */
#define POOL_MAX 16
/* The advisory lock keys: "RRmigrat" and "RRaudit\0" as integers. */
#define MIGRATE_KEY G_GINT64_CONSTANT (0x52526d6967726174)
#define AUDIT_KEY G_GINT64_CONSTANT (0x5252617564697400)

struct _RrStmt
{
  RrQueryId id;
  char *params[MAX_PARAMS];
  PGresult *res;
  int row, n_rows;
  gboolean ran;
};

static char *uri;
static char **sql;
static int n_params[RR_N_QUERIES];
static GQueue idle = G_QUEUE_INIT;
static guint n_open;
static GMutex pool_lock;
static GCond pool_cond;

/* This thread's connection, whether a request transaction is open on it
 * (and a handler's savepoint inside it), the last statement's changes,
 * and whether the transaction lost a race. */
static __thread PGconn *cur;
static __thread gboolean in_request, in_savepoint, must_retry;
static __thread gint64 last_changes;

static gboolean
prepare_all (PGconn  *conn,
             GError **error)
{
  for (int i = 0; i < RR_N_QUERIES; i++)
    {
      g_autofree char *name = g_strdup_printf ("q%d", i);
      PGresult *res = PQprepare (conn, name, sql[i], 0, NULL);
      gboolean ok = PQresultStatus (res) == PGRES_COMMAND_OK;
      if (ok)
        {
          PQclear (res);
          res = PQdescribePrepared (conn, name);
          ok = PQresultStatus (res) == PGRES_COMMAND_OK && PQnparams (res) <= MAX_PARAMS;
          if (ok)
            n_params[i] = PQnparams (res);
        }
      if (!ok)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "query %s: %s",
                       rr_db_query_name (i), PQerrorMessage (conn));
          PQclear (res);
          return FALSE;
        }
      PQclear (res);
    }
  return TRUE;
}

static PGconn *
connect_ (GError **error)
{
  PGconn *conn = PQconnectdb (uri);
  if (PQstatus (conn) != CONNECTION_OK)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "PostgreSQL: %s",
                   conn ? PQerrorMessage (conn) : "out of memory");
      PQfinish (conn);
      return NULL;
    }
  if (!prepare_all (conn, error))
    {
      PQfinish (conn);
      return NULL;
    }
  return conn;
}

static void
release (PGconn *conn)
{
  g_mutex_lock (&pool_lock);
  if (PQstatus (conn) == CONNECTION_OK && PQtransactionStatus (conn) == PQTRANS_IDLE)
    g_queue_push_head (&idle, conn);
  else
    {
      PQfinish (conn);
      n_open--;
    }
  g_cond_signal (&pool_cond);
  g_mutex_unlock (&pool_lock);
}

/* A connection for this thread: an idle one, a new one while fewer than
 * POOL_MAX are open, else the first one given back. */
static gboolean
acquire (void)
{
  g_autoptr (GError) error = NULL;
  gboolean make = FALSE;

  if (cur)
    return TRUE;
  g_mutex_lock (&pool_lock);
  while (g_queue_is_empty (&idle) && n_open >= POOL_MAX)
    g_cond_wait (&pool_cond, &pool_lock);
  cur = g_queue_pop_head (&idle);
  if (cur == NULL)
    {
      n_open++;
      make = TRUE;
    }
  g_mutex_unlock (&pool_lock);
  if (make && (cur = connect_ (&error)) == NULL)
    {
      g_warning ("readroom: %s", error->message);
      g_mutex_lock (&pool_lock);
      n_open--;
      g_cond_signal (&pool_cond);
      g_mutex_unlock (&pool_lock);
      return FALSE;
    }
  return TRUE;
}

static void
note_error (PGresult *res)
{
  const char *state = res ? PQresultErrorField (res, PG_DIAG_SQLSTATE) : NULL;
  /* A race another transaction won: the request runs again and sees it. */
  if (state && (g_str_equal (state, "40001") || g_str_equal (state, "40P01") ||
                g_str_equal (state, "23505")))
    must_retry = TRUE;
  else
    g_warning ("readroom: PostgreSQL: %s", cur ? PQerrorMessage (cur) : "no connection");
}

static gboolean
exec (const char *text)
{
  PGresult *res;
  gboolean ok;

  if (!acquire ())
    return FALSE;
  res = PQexec (cur, text);
  ok = PQresultStatus (res) == PGRES_COMMAND_OK || PQresultStatus (res) == PGRES_TUPLES_OK;
  if (!ok)
    note_error (res);
  PQclear (res);
  return ok;
}

static RrStmt *
query (RrQueryId id)
{
  RrStmt *st;
  if (id >= RR_N_QUERIES || !acquire ())
    return NULL;
  st = g_new0 (RrStmt, 1);
  st->id = id;
  return st;
}

static void
bind (RrStmt *st, int i, char *text)
{
  if (i < 1 || i > MAX_PARAMS || st->ran)
    {
      g_free (text);
      return;
    }
  g_free (st->params[i - 1]);
  st->params[i - 1] = text;
}

static void
bind_int (RrStmt *st, int i, gint64 v)
{
  bind (st, i, g_strdup_printf ("%" G_GINT64_FORMAT, v));
}

static void
bind_text (RrStmt *st, int i, const char *s)
{
  bind (st, i, g_strdup (s));
}

static void
bind_null (RrStmt *st, int i)
{
  bind (st, i, NULL);
}

static int
step (RrStmt *st)
{
  if (!st->ran)
    {
      g_autofree char *name = g_strdup_printf ("q%d", st->id);
      ExecStatusType status;
      st->ran = TRUE;
      st->res = PQexecPrepared (cur, name, n_params[st->id], (const char *const *) st->params,
                                NULL, NULL, 0);
      status = PQresultStatus (st->res);
      if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK)
        {
          note_error (st->res);
          last_changes = 0;
          return RR_ERROR;
        }
      st->n_rows = status == PGRES_TUPLES_OK ? PQntuples (st->res) : 0;
      last_changes = g_ascii_strtoll (PQcmdTuples (st->res), NULL, 10);
      st->row = -1;
    }
  if (st->res == NULL || PQresultStatus (st->res) == PGRES_FATAL_ERROR)
    return RR_ERROR;
  if (st->row + 1 < st->n_rows)
    {
      st->row++;
      return RR_ROW;
    }
  st->row = st->n_rows;
  return RR_DONE;
}

static gboolean
has_row (RrStmt *st, int i)
{
  return st->res && st->row >= 0 && st->row < st->n_rows && i >= 0 && i < PQnfields (st->res);
}

static gboolean
column_is_null (RrStmt *st, int i)
{
  return !has_row (st, i) || PQgetisnull (st->res, st->row, i);
}

static const char *
column_text (RrStmt *st, int i)
{
  return column_is_null (st, i) ? NULL : PQgetvalue (st->res, st->row, i);
}

static gint64
column_int (RrStmt *st, int i)
{
  const char *s = column_text (st, i);
  /* A boolean column reads as SQLite's 0 and 1. */
  if (s == NULL)
    return 0;
  if (g_str_equal (s, "t"))
    return 1;
  return g_ascii_strtoll (s, NULL, 10);
}

static void
finalize (RrStmt *st)
{
  for (int i = 0; i < MAX_PARAMS; i++)
    g_free (st->params[i]);
  PQclear (st->res);
  g_free (st);
}

static gint64
changes (void)
{
  return last_changes;
}

/* Ends a transaction of its own (outside any request) and gives its
 * connection back. */
static gboolean
end_own (const char *text)
{
  gboolean ok = exec (text);
  if (!in_request && cur)
    release (g_steal_pointer (&cur));
  return ok;
}

/* A handler's transaction: a savepoint inside the request's, else one of
 * its own (start-up, outside any request). */
static gboolean
begin (RrTxKind kind)
{
  if (in_request)
    {
      in_savepoint = exec ("SAVEPOINT rr");
      return in_savepoint;
    }
  return exec (kind == RR_TX_SERIALIZABLE ? "BEGIN ISOLATION LEVEL SERIALIZABLE" : "BEGIN");
}

static gboolean
commit (void)
{
  if (in_savepoint)
    {
      in_savepoint = FALSE;
      return exec ("RELEASE SAVEPOINT rr");
    }
  return end_own ("COMMIT");
}

static void
rollback (void)
{
  if (in_savepoint)
    {
      in_savepoint = FALSE;
      exec ("ROLLBACK TO SAVEPOINT rr");
      exec ("RELEASE SAVEPOINT rr");
      return;
    }
  end_own ("ROLLBACK");
}

static gboolean
nested (void)
{
  return in_request;
}

static gboolean
snapshot_begin (void)
{
  if (!acquire ())
    return FALSE;
  /* One snapshot for the whole request, as SQLite's reader connection. */
  if (!exec ("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"))
    {
      release (g_steal_pointer (&cur));
      return FALSE;
    }
  return TRUE;
}

static void
snapshot_end (void)
{
  if (cur == NULL)
    return;
  exec ("COMMIT");
  release (g_steal_pointer (&cur));
}

static gboolean
lock_audit (void)
{
  g_autofree char *text = g_strdup_printf ("SELECT pg_advisory_xact_lock (%" G_GINT64_FORMAT ")",
                                           AUDIT_KEY);
  /* Held until the transaction ends: appends from every node are serial,
   * and the head read after it is the last one committed. */
  return exec (text);
}

static gboolean
error_is_retry (void)
{
  return must_retry;
}

static gboolean
retry (void)
{
  if (!in_request)
    return FALSE;
  must_retry = TRUE;
  return TRUE;
}

gboolean
rr_db_pg_request_begin (void)
{
  must_retry = FALSE;
  in_savepoint = FALSE;
  if (!acquire ())
    return FALSE;
  if (!exec ("BEGIN"))
    {
      release (g_steal_pointer (&cur));
      return FALSE;
    }
  in_request = TRUE;
  return TRUE;
}

/* FALSE when the request must run again; *@committed says whether it did. */
gboolean
rr_db_pg_request_end (gboolean *committed)
{
  gboolean ok = FALSE;

  *committed = FALSE;
  in_request = FALSE;
  in_savepoint = FALSE;
  if (cur == NULL)
    return TRUE;
  if (must_retry)
    exec ("ROLLBACK");
  else
    ok = *committed = exec ("COMMIT");
  release (g_steal_pointer (&cur));
  return ok || !must_retry;
}

static gboolean
schema_version (int *version, GError **error)
{
  PGresult *res;

  if (!exec ("CREATE TABLE IF NOT EXISTS schema_version (version integer NOT NULL)"))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "schema_version: %s", PQerrorMessage (cur));
      return FALSE;
    }
  res = PQexec (cur, "SELECT coalesce (max (version), 0) FROM schema_version");
  if (PQresultStatus (res) != PGRES_TUPLES_OK || PQntuples (res) != 1)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "schema_version: %s", PQerrorMessage (cur));
      PQclear (res);
      return FALSE;
    }
  *version = atoi (PQgetvalue (res, 0, 0));
  PQclear (res);
  return TRUE;
}

static gboolean
open_ (const char  *where,
       int         *from_version,
       GError     **error)
{
  g_auto (GStrv) migrations = NULL;
  g_autofree char *lock = g_strdup_printf ("SELECT pg_advisory_xact_lock (%" G_GINT64_FORMAT ")",
                                           MIGRATE_KEY);
  PGconn *conn;
  int version = 0, n;

  if ((sql = rr_db_load_queries ("postgres", error)) == NULL ||
      (migrations = rr_db_load_migrations ("postgres", error)) == NULL)
    return FALSE;
  n = g_strv_length (migrations);
  uri = g_strdup (where);
  /* Migrating needs the tables before any query can be prepared. */
  conn = PQconnectdb (uri);
  if (PQstatus (conn) != CONNECTION_OK)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "PostgreSQL: %s",
                   conn ? PQerrorMessage (conn) : "out of memory");
      PQfinish (conn);
      return FALSE;
    }
  cur = conn;
  /* One transaction under the migration lock: two nodes starting together
   * migrate once, the second seeing the first's version once it waits. */
  if (!exec ("BEGIN") || !exec (lock) || !schema_version (&version, error))
    goto failed;
  if (version > n)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                   "PostgreSQL: schema %d is newer than this plugin (%d)", version, n);
      goto failed;
    }
  *from_version = version;
  for (; version < n; version++)
    {
      PGresult *res = PQexec (cur, migrations[version]);
      g_autofree char *bump = g_strdup_printf ("DELETE FROM schema_version;"
                                               " INSERT INTO schema_version VALUES (%d)",
                                               version + 1);
      if (PQresultStatus (res) != PGRES_COMMAND_OK && PQresultStatus (res) != PGRES_TUPLES_OK)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "migration %d: %s", version + 1,
                       PQerrorMessage (cur));
          PQclear (res);
          goto failed;
        }
      PQclear (res);
      if (!exec (bump))
        goto failed;
    }
  if (!exec ("COMMIT"))
    goto failed;
  /* Every query prepared on this first connection: a broken one stops the
   * server here. It then joins the pool. */
  if (!prepare_all (cur, error))
    goto failed;
  n_open = 1;
  release (g_steal_pointer (&cur));
  return TRUE;

failed:
  if (error && *error == NULL)
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "PostgreSQL: %s", PQerrorMessage (cur));
  PQfinish (g_steal_pointer (&cur));
  return FALSE;
}

static void
close_ (void)
{
  g_mutex_lock (&pool_lock);
  g_queue_clear_full (&idle, (GDestroyNotify) PQfinish);
  n_open = 0;
  g_mutex_unlock (&pool_lock);
  if (cur)
    PQfinish (g_steal_pointer (&cur));
  g_clear_pointer (&sql, g_strfreev);
  g_clear_pointer (&uri, g_free);
}

const RrDbBackend rr_db_pg = {
  .name = "postgres",
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
