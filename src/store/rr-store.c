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

gboolean
rr_store_put_measurement (RrStore              *store,
                          const RrMeasurement  *m,
                          GError              **error)
{
  sqlite3_stmt *st = NULL;
  g_autofree char *json = rr_measurement_to_json (m);

  if (sqlite3_prepare_v2 (store->db,
                          "INSERT INTO measurements (id, series_uid, sop_uid, frame, kind, data,"
                          " created_us, updated_us) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
                          " ON CONFLICT (id) DO UPDATE SET series_uid = ?2, sop_uid = ?3,"
                          " frame = ?4, kind = ?5, data = ?6, updated_us = ?8",
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
  return run (store, st, error);
}

gboolean
rr_store_delete_measurement (RrStore     *store,
                             const char  *id,
                             GError     **error)
{
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2 (store->db, "DELETE FROM measurements WHERE id = ?1", -1, &st, NULL)
      != SQLITE_OK)
    return fail (store, error, RR_STORE_ERROR_FAILED, "cannot prepare");
  sqlite3_bind_text (st, 1, id, -1, SQLITE_TRANSIENT);
  return run (store, st, error);
}

GPtrArray *
rr_store_list_measurements (RrStore     *store,
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
                          "SELECT id, data FROM measurements WHERE series_uid = ?1"
                          " ORDER BY created_us, id",
                          -1, &st, NULL) != SQLITE_OK)
    {
      fail (store, error, RR_STORE_ERROR_FAILED, "cannot prepare");
      return NULL;
    }
  sqlite3_bind_text (st, 1, series_uid ? series_uid : "", -1, SQLITE_TRANSIENT);
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
