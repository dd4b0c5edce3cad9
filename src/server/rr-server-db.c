/* rr-server-db.c: the plugin's own database (WAL, numbered migrations,
 * foreign keys) and the audit trail, each event chained to the previous
 * one by SHA-256 so that editing or deleting one breaks the chain. */
#include "rr-server.h"

#include <glib/gstdio.h>
#include <gio/gio.h>
#include <fcntl.h>
#include <sodium.h>
#include <string.h>
#include <unistd.h>

RrServer *rr_server;

static const char *const migrations[] = {
  /* 1: users, sessions, trials and their members. */
  "CREATE TABLE users ("
  "  id INTEGER PRIMARY KEY, username TEXT NOT NULL UNIQUE, display_name TEXT NOT NULL,"
  "  password_hash TEXT NOT NULL, admin INTEGER NOT NULL DEFAULT 0,"
  "  disabled INTEGER NOT NULL DEFAULT 0, created_at TEXT NOT NULL);"
  "CREATE TABLE sessions ("
  "  token_hash TEXT PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users (id),"
  "  created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL);"
  "CREATE TABLE trials ("
  "  id TEXT PRIMARY KEY, name TEXT NOT NULL, criteria TEXT NOT NULL,"
  "  readers_per_case INTEGER NOT NULL, qc_required INTEGER NOT NULL,"
  "  adjudication TEXT NOT NULL, reading TEXT NOT NULL, sd_min_days INTEGER NOT NULL,"
  "  confirmation INTEGER NOT NULL, protocol TEXT NOT NULL DEFAULT '{}',"
  "  created_at TEXT NOT NULL);"
  "CREATE TABLE members ("
  "  trial_id TEXT NOT NULL REFERENCES trials (id), user_id INTEGER NOT NULL REFERENCES users (id),"
  "  roles TEXT NOT NULL, site TEXT, PRIMARY KEY (trial_id, user_id));"
  /* Studies stored through us, and what each holds (the manifest). */
  "CREATE TABLE studies ("
  "  study_uid TEXT PRIMARY KEY, orthanc_id TEXT NOT NULL, uploaded_by INTEGER REFERENCES users (id),"
  "  site TEXT);"
  "CREATE TABLE instances ("
  "  sop_uid TEXT PRIMARY KEY, study_uid TEXT NOT NULL, series_uid TEXT NOT NULL,"
  "  orthanc_id TEXT NOT NULL, size INTEGER NOT NULL, md5 TEXT NOT NULL);"
  "CREATE INDEX instances_by_study ON instances (study_uid);"
  /* Subjects, their timepoints and the readers who keep them. */
  "CREATE TABLE timepoints ("
  "  id INTEGER PRIMARY KEY, trial_id TEXT NOT NULL REFERENCES trials (id),"
  "  subject TEXT NOT NULL, label TEXT NOT NULL, day INTEGER NOT NULL,"
  "  qc_status TEXT NOT NULL DEFAULT 'pending', created_at TEXT NOT NULL,"
  "  UNIQUE (trial_id, subject, label));"
  "CREATE TABLE timepoint_studies ("
  "  timepoint_id INTEGER NOT NULL REFERENCES timepoints (id), study_uid TEXT NOT NULL,"
  "  PRIMARY KEY (timepoint_id, study_uid));"
  "CREATE TABLE subject_readers ("
  "  trial_id TEXT NOT NULL, subject TEXT NOT NULL, slot INTEGER NOT NULL,"
  "  user_id INTEGER NOT NULL REFERENCES users (id), PRIMARY KEY (trial_id, subject, slot),"
  "  UNIQUE (trial_id, subject, user_id));"
  /* Work: tasks, what was submitted for them, and the outcome. */
  "CREATE TABLE tasks ("
  "  id TEXT PRIMARY KEY, kind TEXT NOT NULL, trial_id TEXT NOT NULL REFERENCES trials (id),"
  "  subject TEXT NOT NULL, timepoint_id INTEGER NOT NULL REFERENCES timepoints (id),"
  "  user_id INTEGER NOT NULL REFERENCES users (id), slot INTEGER NOT NULL DEFAULT 0,"
  "  status TEXT NOT NULL DEFAULT 'open', created_at TEXT NOT NULL, due_at TEXT NOT NULL,"
  "  version INTEGER NOT NULL DEFAULT 1);"
  "CREATE INDEX tasks_by_user ON tasks (user_id, status);"
  "CREATE TABLE submissions ("
  "  id TEXT PRIMARY KEY, task_id TEXT NOT NULL UNIQUE REFERENCES tasks (id),"
  "  idempotency_key TEXT NOT NULL, body_hash TEXT NOT NULL, body TEXT NOT NULL,"
  "  responses TEXT, user_id INTEGER NOT NULL REFERENCES users (id),"
  "  meaning TEXT NOT NULL, submitted_at TEXT NOT NULL);"
  "CREATE TABLE finals ("
  "  timepoint_id INTEGER PRIMARY KEY REFERENCES timepoints (id), source TEXT NOT NULL,"
  "  submission_id TEXT NOT NULL REFERENCES submissions (id), decided_at TEXT NOT NULL);"
  "CREATE TABLE audit ("
  "  seq INTEGER PRIMARY KEY, at TEXT NOT NULL, user TEXT NOT NULL, action TEXT NOT NULL,"
  "  object TEXT NOT NULL, details TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL);",
  /* 2: the holder of reads nobody could take over (disabled: no login);
   * which trial a study was uploaded for, and who uploaded each instance. */
  "INSERT INTO users (username, display_name, password_hash, admin, disabled, created_at)"
  "  VALUES ('(unassigned)', 'Unassigned', '!', 0, 1, strftime ('%Y-%m-%dT%H:%M:%SZ', 'now'));"
  "ALTER TABLE studies ADD COLUMN trial_id TEXT;"
  "CREATE TABLE uploads ("
  "  sop_uid TEXT PRIMARY KEY, study_uid TEXT NOT NULL, user_id INTEGER NOT NULL REFERENCES users (id),"
  "  trial_id TEXT, site TEXT, at TEXT NOT NULL);",
  /* 3: each event's hash MACed under the audit key (rr_server_db_open
   * MACs the events that came before, once, as it migrates). */
  "ALTER TABLE audit ADD COLUMN mac TEXT;",
  /* 4: a QC task's automated results (NULL: not computed) and the
   * protocol they ran against. */
  "CREATE TABLE qc_automated ("
  "  task_id TEXT PRIMARY KEY REFERENCES tasks (id), protocol TEXT NOT NULL, result TEXT);",
  /* 5: each trial's de-identification secret (issue 17). Trials that
   * came before get theirs when first asked (trial_deid_ensure), so the
   * random bytes come from libsodium rather than from SQL. */
  "CREATE TABLE trial_deid ("
  "  trial_id TEXT PRIMARY KEY REFERENCES trials (id), key TEXT NOT NULL,"
  "  retain_dates INTEGER NOT NULL DEFAULT 0);",
  /* 6: the query loop of QC (issue 16): each query task, the QC task and
   * decision that opened it, the findings it carries, and once answered
   * the site's response and the fresh QC task it opened. */
  "CREATE TABLE queries ("
  "  task_id TEXT PRIMARY KEY REFERENCES tasks (id), qc_task_id TEXT NOT NULL REFERENCES tasks (id),"
  "  decision TEXT NOT NULL, findings TEXT NOT NULL, response TEXT,"
  "  answer_qc_task_id TEXT REFERENCES tasks (id));"
  "CREATE INDEX queries_by_answer ON queries (answer_qc_task_id);",
};

#define MAC_MIGRATION 3

static void
set_db_error (GError **error, const char *what)
{
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s: %s", what,
               rr_server->db ? sqlite3_errmsg (rr_server->db) : "no database");
}

/* The connection this thread reads a snapshot on (rr_db_snapshot_begin),
 * else NULL: the server's own connection, under the lock. */
static __thread sqlite3 *snapshot;

static sqlite3 *
db (void)
{
  return snapshot ? snapshot : rr_server->db;
}

/* Read-only connections, each used by one request at a time and then
 * kept for the next: in WAL mode a reader sees the last commit without
 * waiting for the writer, so a reader's request never queues behind a
 * login's commit (a disk flush) or behind a lock holder that lost its
 * processor. Opening one costs a schema read; most requests reuse one. */
gboolean
rr_db_snapshot_begin (void)
{
  sqlite3 *conn = NULL;

  g_mutex_lock (&rr_server->readers_lock);
  conn = g_queue_pop_head (&rr_server->readers);
  g_mutex_unlock (&rr_server->readers_lock);
  if (conn == NULL)
    {
      if (rr_server->db_path == NULL ||
          sqlite3_open_v2 (rr_server->db_path, &conn,
                           SQLITE_OPEN_READONLY | SQLITE_OPEN_FULLMUTEX, NULL) != SQLITE_OK)
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

void
rr_db_snapshot_end (void)
{
  sqlite3 *conn = g_steal_pointer (&snapshot);

  if (conn == NULL)
    return;
  sqlite3_exec (conn, "COMMIT", NULL, NULL, NULL);
  g_mutex_lock (&rr_server->readers_lock);
  g_queue_push_head (&rr_server->readers, conn);
  g_mutex_unlock (&rr_server->readers_lock);
}

gboolean
rr_db_exec (const char *sql,
            GError    **error)
{
  char *msg = NULL;
  if (sqlite3_exec (db (), sql, NULL, NULL, &msg) != SQLITE_OK)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s", msg ? msg : "failed");
      sqlite3_free (msg);
      return FALSE;
    }
  return TRUE;
}

sqlite3_stmt *
rr_db_prepare (const char *sql)
{
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2 (db (), sql, -1, &st, NULL) != SQLITE_OK)
    {
      g_warning ("readroom: cannot prepare %s: %s", sql, sqlite3_errmsg (db ()));
      return NULL;
    }
  return st;
}

gboolean
rr_db_begin (void)
{
  return rr_db_exec ("BEGIN IMMEDIATE", NULL);
}

static char *
anchor_path (void)
{
  return g_strconcat (rr_server->db_path, ".audit-anchor", NULL);
}

static char *
anchor_mac (gint64      seq,
            const char *hash)
{
  g_autofree char *text = g_strdup_printf ("anchor %" G_GINT64_FORMAT " %s", seq, hash);
  return rr_server_mac_hex (text, strlen (text));
}

/* Appends the trail's head to the anchor file: "<seq> <hash> <mac>", the
 * count of events being the seq. Only ever appended to, never rewritten;
 * a deployment can make it append-only for root too (chattr +a). */
static gboolean
anchor_append (gint64      seq,
               const char *hash)
{
  g_autofree char *path = anchor_path ();
  g_autofree char *mac = anchor_mac (seq, hash);
  g_autofree char *line = g_strdup_printf ("%" G_GINT64_FORMAT " %s %s\n", seq, hash, mac);
  gsize n = strlen (line);
  int fd = open (path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  gboolean ok;
  if (fd < 0)
    return FALSE;
  /* No fsync: a power cut that loses the last lines leaves the database
   * ahead of the anchor, which verification accepts; an fsync here would
   * hold the lock (and every other request) for a disk flush per commit. */
  ok = write (fd, line, n) == (gssize) n;
  close (fd);
  return ok;
}

gboolean
rr_db_commit (void)
{
  gboolean ok = rr_db_exec ("COMMIT", NULL);
  /* After the commit: an anchor must never name an event that a rollback
   * took back. A crash in between leaves the database ahead of the
   * anchor, which verification accepts. */
  if (ok && rr_server->anchor_seq > 0 && !anchor_append (rr_server->anchor_seq,
                                                         rr_server->anchor_hash))
    g_warning ("readroom: cannot write the audit anchor");
  rr_server->anchor_seq = 0;
  return ok;
}

void
rr_db_rollback (void)
{
  rr_db_exec ("ROLLBACK", NULL);
  rr_server->anchor_seq = 0;
}

/* Migration 3: the events from before it get their MAC, once. */
static gboolean
mac_existing_events (GError **error)
{
  sqlite3_stmt *st = rr_db_prepare ("SELECT seq, hash FROM audit WHERE mac IS NULL ORDER BY seq");
  g_autoptr (GPtrArray) rows = g_ptr_array_new_with_free_func (g_free);
  gint64 last = 0;
  g_autofree char *last_hash = NULL;

  while (st && sqlite3_step (st) == SQLITE_ROW)
    {
      gint64 seq = sqlite3_column_int64 (st, 0);
      const char *hash = (const char *) sqlite3_column_text (st, 1);
      g_ptr_array_add (rows, g_strdup_printf ("%" G_GINT64_FORMAT " %s", seq, hash ? hash : ""));
      last = seq;
      g_free (last_hash);
      last_hash = g_strdup (hash ? hash : "");
    }
  sqlite3_finalize (st);
  if (!rr_db_exec ("BEGIN IMMEDIATE", error))
    return FALSE;
  for (guint i = 0; i < rows->len; i++)
    {
      const char *row = rows->pdata[i];
      gint64 seq = g_ascii_strtoll (row, NULL, 10);
      const char *hash = strchr (row, ' ') + 1;
      g_autofree char *mac = NULL;
      g_autofree char *text = g_strdup_printf ("%" G_GINT64_FORMAT ":%s", seq, hash);
      mac = rr_server_mac_hex (text, strlen (text));
      st = rr_db_prepare ("UPDATE audit SET mac = ?1 WHERE seq = ?2");
      sqlite3_bind_text (st, 1, mac, -1, SQLITE_TRANSIENT);
      sqlite3_bind_int64 (st, 2, seq);
      if (st == NULL || sqlite3_step (st) != SQLITE_DONE)
        {
          sqlite3_finalize (st);
          rr_db_rollback ();
          set_db_error (error, "MAC of the audit trail");
          return FALSE;
        }
      sqlite3_finalize (st);
    }
  if (!rr_db_exec ("COMMIT", error))
    return FALSE;
  return last == 0 || anchor_append (last, last_hash);
}

/* The audit key: 32 random bytes in a file of its own beside the
 * database (never in it), created with the database. Someone who can edit
 * the database but not read this file cannot forge an event's MAC. */
static gboolean
load_audit_key (RrServer    *server,
                GError     **error)
{
  g_autofree char *path = g_strconcat (server->db_path, ".audit-key", NULL);
  g_autofree char *data = NULL;
  gsize n = 0;

  if (g_file_get_contents (path, &data, &n, NULL))
    {
      if (n != sizeof server->audit_key)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                       "%s: not an audit key (%zu bytes)", path, n);
          return FALSE;
        }
      memcpy (server->audit_key, data, n);
      sodium_memzero (data, n);
      return TRUE;
    }
  randombytes_buf (server->audit_key, sizeof server->audit_key);
  return g_file_set_contents_full (path, (const char *) server->audit_key,
                                   sizeof server->audit_key, G_FILE_SET_CONTENTS_CONSISTENT, 0600,
                                   error);
}

char *
rr_server_mac_hex (const void *data,
                   gsize       len)
{
  unsigned char out[crypto_auth_hmacsha256_BYTES];
  char hex[2 * crypto_auth_hmacsha256_BYTES + 1];
  crypto_auth_hmacsha256 (out, data, len, rr_server->audit_key);
  sodium_bin2hex (hex, sizeof hex, out, sizeof out);
  return g_strdup (hex);
}

gboolean
rr_server_db_open (RrServer    *server,
                   const char  *path,
                   GError     **error)
{
  int version = 0, from_version;
  sqlite3_stmt *st;

  server->db_path = g_strdup (path);
  if (!load_audit_key (server, error))
    return FALSE;
  if (sqlite3_open_v2 (path, &server->db,
                       SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, NULL)
      != SQLITE_OK)
    {
      set_db_error (error, path);
      return FALSE;
    }
  sqlite3_busy_timeout (server->db, 10000);
  if (!rr_db_exec ("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;"
                   " PRAGMA foreign_keys = ON", error))
    return FALSE;
  st = rr_db_prepare ("PRAGMA quick_check");
  if (st == NULL || sqlite3_step (st) != SQLITE_ROW ||
      g_strcmp0 ((const char *) sqlite3_column_text (st, 0), "ok") != 0)
    {
      sqlite3_finalize (st);
      set_db_error (error, "the database failed its integrity check");
      return FALSE;
    }
  sqlite3_finalize (st);
  st = rr_db_prepare ("PRAGMA user_version");
  if (st && sqlite3_step (st) == SQLITE_ROW)
    version = sqlite3_column_int (st, 0);
  sqlite3_finalize (st);
  if (version > (int) G_N_ELEMENTS (migrations))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                   "%s: schema %d is newer than this plugin (%u)", path, version,
                   (guint) G_N_ELEMENTS (migrations));
      return FALSE;
    }
  from_version = version;
  for (; version < (int) G_N_ELEMENTS (migrations); version++)
    {
      g_autofree char *bump = g_strdup_printf ("PRAGMA user_version = %d", version + 1);
      if (!rr_db_exec ("BEGIN IMMEDIATE", error))
        return FALSE;
      if (!rr_db_exec (migrations[version], error) || !rr_db_exec (bump, error))
        {
          rr_db_rollback ();
          g_prefix_error (error, "migration %d: ", version + 1);
          return FALSE;
        }
      if (!rr_db_exec ("COMMIT", error))
        return FALSE;
    }
  if (from_version < MAC_MIGRATION && !mac_existing_events (error))
    return FALSE;
  return TRUE;
}

static void
close_reader (gpointer conn)
{
  sqlite3_close_v2 (conn);
}

void
rr_server_db_close (RrServer *server)
{
  if (server->db)
    sqlite3_close_v2 (server->db);
  server->db = NULL;
  g_mutex_lock (&server->readers_lock);
  g_queue_clear_full (&server->readers, close_reader);
  g_mutex_unlock (&server->readers_lock);
  g_clear_pointer (&server->db_path, g_free);
}

char *
rr_time_rfc3339 (gint64 unix_seconds)
{
  g_autoptr (GDateTime) t = g_date_time_new_from_unix_utc (unix_seconds);
  return g_date_time_format (t, "%Y-%m-%dT%H:%M:%SZ");
}

char *
rr_now_rfc3339 (void)
{
  return rr_time_rfc3339 (g_get_real_time () / G_USEC_PER_SEC);
}

/* ---- audit ---- */

/* The hashed text of an event: every field, length-prefixed, so that no
 * two different events hash the same text. */
static char *
event_hash (gint64      seq,
            const char *at,
            const char *user,
            const char *action,
            const char *object,
            const char *details,
            const char *prev)
{
  g_autoptr (GString) s = g_string_new (prev);
  const char *fields[] = { at, user, action, object, details };
  g_string_append_printf (s, "\n%" G_GINT64_FORMAT, seq);
  for (guint i = 0; i < G_N_ELEMENTS (fields); i++)
    g_string_append_printf (s, "\n%zu:%s", strlen (fields[i]), fields[i]);
  return rr_sha256_hex (s->str, s->len);
}

/* The event's hash under the audit key: rebuilding the chain after an
 * edit needs the key, which the database never holds. */
static char *
event_mac (gint64      seq,
           const char *hash)
{
  g_autofree char *text = g_strdup_printf ("%" G_GINT64_FORMAT ":%s", seq, hash);
  return rr_server_mac_hex (text, strlen (text));
}

gboolean
rr_audit_append (const char *user,
                 const char *action,
                 const char *object,
                 const char *details)
{
  sqlite3_stmt *st = rr_db_prepare ("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1");
  g_autofree char *prev = g_strdup ("");
  g_autofree char *at = rr_now_rfc3339 ();
  g_autofree char *hash = NULL, *mac = NULL;
  gint64 seq = 1;
  int rc;

  if (st == NULL)
    return FALSE;
  if (sqlite3_step (st) == SQLITE_ROW)
    {
      seq = sqlite3_column_int64 (st, 0) + 1;
      g_free (prev);
      prev = g_strdup ((const char *) sqlite3_column_text (st, 1));
    }
  sqlite3_finalize (st);
  details = details ? details : "{}";
  user = user ? user : "";
  hash = event_hash (seq, at, user, action, object, details, prev);
  mac = event_mac (seq, hash);
  st = rr_db_prepare ("INSERT INTO audit (seq, at, user, action, object, details, prev_hash, hash,"
                      " mac) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)");
  if (st == NULL)
    return FALSE;
  sqlite3_bind_int64 (st, 1, seq);
  sqlite3_bind_text (st, 2, at, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (st, 3, user, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (st, 4, action, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (st, 5, object, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (st, 6, details, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (st, 7, prev, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (st, 8, hash, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (st, 9, mac, -1, SQLITE_TRANSIENT);
  rc = sqlite3_step (st);
  sqlite3_finalize (st);
  if (rc != SQLITE_DONE)
    return FALSE;
  /* The head to anchor once the transaction commits. */
  rr_server->anchor_seq = seq;
  g_strlcpy (rr_server->anchor_hash, hash, sizeof rr_server->anchor_hash);
  return TRUE;
}

/* Does the submission named in a task.submit event's @details still hold
 * what was stored? Events from before content was bound carry no digest
 * and are taken as they are. @seen collects the submissions named. */
static gboolean
submission_matches (const char *details,
                    GHashTable *seen)
{
  g_autoptr (JsonParser) p = json_parser_new ();
  JsonObject *o;
  const char *id, *content, *responses;
  sqlite3_stmt *st;
  gboolean same = FALSE;

  if (!rr_json_load (p, details, -1, NULL) || !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (p)))
    return FALSE;
  o = json_node_get_object (json_parser_get_root (p));
  id = json_object_get_string_member_with_default (o, "submission", NULL);
  content = json_object_get_string_member_with_default (o, "content_sha256", NULL);
  responses = json_object_get_string_member_with_default (o, "responses_sha256", NULL);
  if (id)
    g_hash_table_add (seen, g_strdup (id));
  if (content == NULL)
    return TRUE;
  st = rr_db_prepare ("SELECT body, coalesce (responses, '') FROM submissions WHERE id = ?1");
  sqlite3_bind_text (st, 1, id ? id : "", -1, SQLITE_TRANSIENT);
  if (st && sqlite3_step (st) == SQLITE_ROW)
    {
      const char *body = (const char *) sqlite3_column_text (st, 0);
      const char *resp = (const char *) sqlite3_column_text (st, 1);
      g_autofree char *h1 = rr_sha256_hex (body ? body : "", body ? strlen (body) : 0);
      g_autofree char *h2 = rr_sha256_hex (resp ? resp : "", resp ? strlen (resp) : 0);
      same = g_str_equal (h1, content) && g_strcmp0 (h2, responses) == 0;
    }
  sqlite3_finalize (st);
  return same;
}

/* Is every stored submission named by an event of the trail? */
static gboolean
submissions_all_audited (GHashTable *seen)
{
  sqlite3_stmt *st = rr_db_prepare ("SELECT id FROM submissions");
  gboolean all = st != NULL;
  while (all && sqlite3_step (st) == SQLITE_ROW)
    all = g_hash_table_contains (seen, sqlite3_column_text (st, 0));
  sqlite3_finalize (st);
  return all;
}

/* Checks the anchor file against the events' hashes (@hashes: seq ->
 * hash, @n events): every anchored head must still be there, unchanged.
 * 0 when it holds, else the first seq that breaks it, with @reason. */
static gint64
anchors_hold (GHashTable  *hashes,
              gint64       n,
              const char **reason)
{
  g_autofree char *path = anchor_path ();
  g_autofree char *text = NULL;
  g_auto (GStrv) lines = NULL;

  if (!g_file_get_contents (path, &text, NULL, NULL))
    {
      *reason = "the anchor file is missing";
      return n > 0 ? 1 : 0;
    }
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i]; i++)
    {
      g_auto (GStrv) f = NULL;
      gint64 seq;
      g_autofree char *mac = NULL;
      const char *hash;

      if (*lines[i] == '\0')
        continue;
      f = g_strsplit (lines[i], " ", 4);
      if (g_strv_length (f) != 3 || !g_ascii_string_to_signed (f[0], 10, 1, G_MAXINT64, &seq, NULL))
        {
          *reason = "the anchor file was altered";
          return 1;
        }
      mac = anchor_mac (seq, f[1]);
      if (!g_str_equal (mac, f[2]))
        {
          *reason = "the anchor file was altered";
          return seq;
        }
      if (seq > n)
        {
          *reason = "events that were anchored are missing (the trail was cut short or emptied)";
          return n + 1;
        }
      hash = g_hash_table_lookup (hashes, &seq);
      if (hash == NULL || !g_str_equal (hash, f[1]))
        {
          *reason = "an anchored event was changed or the chain was rebuilt";
          return seq;
        }
    }
  return 0;
}

gint64
rr_audit_verify (gint64      *n_events,
                 const char **reason)
{
  sqlite3_stmt *st = rr_db_prepare ("SELECT seq, at, user, action, object, details, prev_hash,"
                                    " hash, mac FROM audit ORDER BY seq");
  g_autoptr (GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr (GHashTable) hashes = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free,
                                                         g_free);
  g_autofree char *prev = g_strdup ("");
  gint64 expect = 1, broken = 0, n = 0;
  const char *why = NULL;

  while (st && sqlite3_step (st) == SQLITE_ROW)
    {
      gint64 seq = sqlite3_column_int64 (st, 0);
      const char *f[8];
      for (int i = 0; i < 8; i++)
        f[i] = (const char *) sqlite3_column_text (st, i + 1);
      g_autofree char *hash = event_hash (seq, f[0] ? f[0] : "", f[1] ? f[1] : "",
                                          f[2] ? f[2] : "", f[3] ? f[3] : "", f[4] ? f[4] : "",
                                          prev);
      g_autofree char *mac = event_mac (seq, f[6] ? f[6] : "");
      n++;
      /* A gap (a deleted event), a link to anything but the previous
       * event, an event whose fields no longer give its hash, a hash not
       * MACed under the key (a rebuilt chain), or a submission that no
       * longer holds what its event recorded. */
      if (seq != expect)
        why = "an event is missing";
      else if (g_strcmp0 (f[5], prev) != 0 || g_strcmp0 (f[6], hash) != 0)
        why = "an event was changed";
      else if (g_strcmp0 (f[7], mac) != 0)
        why = "an event's MAC does not hold (the chain was rebuilt without the key)";
      else if (g_strcmp0 (f[2], "task.submit") == 0 && !submission_matches (f[4] ? f[4] : "", seen))
        why = "a submission no longer holds what its event recorded";
      if (why)
        {
          broken = seq != expect ? expect : seq;
          break;
        }
      g_hash_table_insert (hashes, g_memdup2 (&seq, sizeof seq), g_strdup (f[6]));
      g_free (prev);
      prev = g_strdup (f[6]);
      expect = seq + 1;
    }
  sqlite3_finalize (st);
  /* A submission that no event names was added behind the trail's back. */
  if (broken == 0 && !submissions_all_audited (seen))
    {
      broken = expect;
      why = "a submission is not in the trail";
    }
  if (broken == 0)
    broken = anchors_hold (hashes, n, &why);
  if (n_events)
    *n_events = n;
  if (reason)
    *reason = broken ? why : NULL;
  return broken;
}
