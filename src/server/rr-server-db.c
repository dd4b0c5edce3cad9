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

#define MAC_MIGRATION 3

gboolean
rr_db_begin (void)
{
  return rr_db->begin (RR_TX_WRITE);
}

gboolean
rr_db_snapshot_begin (void)
{
  return rr_db->snapshot_begin ();
}

void
rr_db_snapshot_end (void)
{
  rr_db->snapshot_end ();
}

/* The head appended in this thread's open transaction (seq 0: none), to
 * anchor once it commits. Per thread: on PostgreSQL requests run at once. */
static __thread gint64 anchor_seq;
static __thread char anchor_hash[65];

/* SQLite: beside the database. PostgreSQL: one file per node in the
 * shared folder, so no two nodes append to one file (O_APPEND is not
 * atomic on NFS); verification reads them all. */
#define ANCHOR_PREFIX "readroom-audit-anchor."

static char *
anchor_path (void)
{
  if (rr_server->shared_dir)
    {
      g_autofree char *name = g_strconcat (ANCHOR_PREFIX, rr_server->node, NULL);
      return g_build_filename (rr_server->shared_dir, name, NULL);
    }
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
  gboolean ok = rr_db->commit ();
  /* After the commit: an anchor must never name an event that a rollback
   * took back. A crash in between leaves the database ahead of the
   * anchor, which verification accepts. */
  /* Inside a PostgreSQL request, only a savepoint ended: the anchor waits
   * for the request's commit (rr_db_request_ended). */
  if (ok && rr_db->nested ())
    return TRUE;
  rr_db_request_ended (ok);
  return ok;
}

void
rr_db_rollback (void)
{
  rr_db->rollback ();
  anchor_seq = 0;
}

void
rr_db_request_ended (gboolean committed)
{
  if (committed && anchor_seq > 0 && !anchor_append (anchor_seq, anchor_hash))
    g_warning ("readroom: cannot write the audit anchor");
  anchor_seq = 0;
}

/* Migration 3: the events from before it get their MAC, once. */
static gboolean
mac_existing_events (GError **error)
{
  RrStmt *st = rr_db_query (RR_Q_AUDIT_UNMACED);
  g_autoptr (GPtrArray) rows = g_ptr_array_new_with_free_func (g_free);
  gint64 last = 0;
  g_autofree char *last_hash = NULL;

  while (st && rr_stmt_step (st) == RR_ROW)
    {
      gint64 seq = rr_stmt_column_int (st, 0);
      const char *hash = (const char *) rr_stmt_column_text (st, 1);
      g_ptr_array_add (rows, g_strdup_printf ("%" G_GINT64_FORMAT " %s", seq, hash ? hash : ""));
      last = seq;
      g_free (last_hash);
      last_hash = g_strdup (hash ? hash : "");
    }
  rr_stmt_finalize (st);
  if (!rr_db->begin (RR_TX_WRITE))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "MAC of the audit trail: cannot begin");
      return FALSE;
    }
  for (guint i = 0; i < rows->len; i++)
    {
      const char *row = rows->pdata[i];
      gint64 seq = g_ascii_strtoll (row, NULL, 10);
      const char *hash = strchr (row, ' ') + 1;
      g_autofree char *mac = NULL;
      g_autofree char *text = g_strdup_printf ("%" G_GINT64_FORMAT ":%s", seq, hash);
      mac = rr_server_mac_hex (text, strlen (text));
      st = rr_db_query (RR_Q_AUDIT_SET_MAC);
      rr_stmt_bind_text (st, 1, mac);
      rr_stmt_bind_int (st, 2, seq);
      if (st == NULL || rr_stmt_step (st) != RR_DONE)
        {
          rr_stmt_finalize (st);
          rr_db_rollback ();
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "MAC of the audit trail failed");
          return FALSE;
        }
      rr_stmt_finalize (st);
    }
  if (!rr_db->commit ())
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "MAC of the audit trail: cannot commit");
      return FALSE;
    }
  return last == 0 || anchor_append (last, last_hash);
}

/* The audit key: 32 random bytes in a file of its own beside the
 * database (never in it), created with the database. Someone who can edit
 * the database but not read this file cannot forge an event's MAC. */
static gboolean
load_audit_key (RrServer    *server,
                GError     **error)
{
  g_autofree char *path = server->shared_dir
                          ? g_build_filename (server->shared_dir, "readroom-audit-key", NULL)
                          : g_strconcat (server->db_path, ".audit-key", NULL);
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
                   const char  *postgres,
                   GError     **error)
{
  int from_version = 0;

  server->db_path = g_strdup (path);
  if (postgres && server->shared_dir == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                   "PostgreSQL needs Readroom.SharedDirectory for the audit key and anchors");
      return FALSE;
    }
  if (!load_audit_key (server, error))
    return FALSE;
  rr_db = postgres ? &rr_db_pg : &rr_db_sqlite;
  if (!rr_db->open (postgres ? postgres : path, &from_version, error))
    return FALSE;
  if (from_version < MAC_MIGRATION && !mac_existing_events (error))
    return FALSE;
  return TRUE;
}

void
rr_server_db_close (RrServer *server)
{
  rr_db->close ();
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
  RrStmt *st = NULL;
  g_autofree char *prev = g_strdup ("");
  g_autofree char *at = rr_now_rfc3339 ();
  g_autofree char *hash = NULL, *mac = NULL;
  gint64 seq = 1;
  int rc;

  /* Serial across nodes from here to the commit: the head read next is
   * the last committed, so two appends never take one seq. */
  if (!rr_db->lock_audit ())
    return FALSE;
  st = rr_db_query (RR_Q_AUDIT_HEAD);
  if (st == NULL)
    return FALSE;
  if (rr_stmt_step (st) == RR_ROW)
    {
      seq = rr_stmt_column_int (st, 0) + 1;
      g_free (prev);
      prev = g_strdup ((const char *) rr_stmt_column_text (st, 1));
    }
  rr_stmt_finalize (st);
  details = details ? details : "{}";
  user = user ? user : "";
  hash = event_hash (seq, at, user, action, object, details, prev);
  mac = event_mac (seq, hash);
  st = rr_db_query (RR_Q_AUDIT_INSERT);
  if (st == NULL)
    return FALSE;
  rr_stmt_bind_int (st, 1, seq);
  rr_stmt_bind_text (st, 2, at);
  rr_stmt_bind_text (st, 3, user);
  rr_stmt_bind_text (st, 4, action);
  rr_stmt_bind_text (st, 5, object);
  rr_stmt_bind_text (st, 6, details);
  rr_stmt_bind_text (st, 7, prev);
  rr_stmt_bind_text (st, 8, hash);
  rr_stmt_bind_text (st, 9, mac);
  rc = rr_stmt_step (st);
  rr_stmt_finalize (st);
  if (rc != RR_DONE)
    return FALSE;
  /* The head to anchor once the transaction commits. */
  anchor_seq = seq;
  g_strlcpy (anchor_hash, hash, sizeof anchor_hash);
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
  RrStmt *st;
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
  st = rr_db_query (RR_Q_SUBMISSION_CONTENT);
  rr_stmt_bind_text (st, 1, id ? id : "");
  if (st && rr_stmt_step (st) == RR_ROW)
    {
      const char *body = (const char *) rr_stmt_column_text (st, 0);
      const char *resp = (const char *) rr_stmt_column_text (st, 1);
      g_autofree char *h1 = rr_sha256_hex (body ? body : "", body ? strlen (body) : 0);
      g_autofree char *h2 = rr_sha256_hex (resp ? resp : "", resp ? strlen (resp) : 0);
      same = g_str_equal (h1, content) && g_strcmp0 (h2, responses) == 0;
    }
  rr_stmt_finalize (st);
  return same;
}

/* Is every stored submission named by an event of the trail? */
static gboolean
submissions_all_audited (GHashTable *seen)
{
  RrStmt *st = rr_db_query (RR_Q_SUBMISSION_IDS);
  gboolean all = st != NULL;
  while (all && rr_stmt_step (st) == RR_ROW)
    all = g_hash_table_contains (seen, rr_stmt_column_text (st, 0));
  rr_stmt_finalize (st);
  return all;
}

/* Every anchor line: SQLite's one file, or on PostgreSQL every node's
 * (heads from different nodes interleave in seq; each must match). NULL
 * when there is none. */
static char *
anchors_read (void)
{
  g_autoptr (GDir) dir = NULL;
  g_autoptr (GString) all = NULL;
  const char *name;

  if (rr_server->shared_dir == NULL)
    {
      g_autofree char *path = anchor_path ();
      char *text = NULL;
      return g_file_get_contents (path, &text, NULL, NULL) ? text : NULL;
    }
  if ((dir = g_dir_open (rr_server->shared_dir, 0, NULL)) == NULL)
    return NULL;
  while ((name = g_dir_read_name (dir)))
    {
      g_autofree char *path = g_build_filename (rr_server->shared_dir, name, NULL);
      g_autofree char *text = NULL;
      if (!g_str_has_prefix (name, ANCHOR_PREFIX) ||
          !g_file_get_contents (path, &text, NULL, NULL))
        continue;
      if (all == NULL)
        all = g_string_new (NULL);
      g_string_append (all, text);
      g_string_append_c (all, '\n');
    }
  return all ? g_string_free (g_steal_pointer (&all), FALSE) : NULL;
}

/* Checks the anchor file against the events' hashes (@hashes: seq ->
 * hash, @n events): every anchored head must still be there, unchanged.
 * 0 when it holds, else the first seq that breaks it, with @reason. */
static gint64
anchors_hold (GHashTable  *hashes,
              gint64       n,
              const char **reason)
{
  g_autofree char *text = anchors_read ();
  g_auto (GStrv) lines = NULL;

  if (text == NULL)
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
  RrStmt *st = rr_db_query (RR_Q_AUDIT_ALL);
  g_autoptr (GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr (GHashTable) hashes = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free,
                                                         g_free);
  g_autofree char *prev = g_strdup ("");
  gint64 expect = 1, broken = 0, n = 0;
  const char *why = NULL;

  while (st && rr_stmt_step (st) == RR_ROW)
    {
      gint64 seq = rr_stmt_column_int (st, 0);
      const char *f[8];
      for (int i = 0; i < 8; i++)
        f[i] = (const char *) rr_stmt_column_text (st, i + 1);
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
  rr_stmt_finalize (st);
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
