/* rr-server-api.c: the /readroom/v1 API of server-api.md: sessions, users,
 * trials, members, timepoints, tasks, the instance manifest and files,
 * submissions with the workflow they drive, export and audit. Every
 * handler runs under the database lock; every state change is audited in
 * the same transaction. Bad input is a 4xx, never a crash. */
#include "rr-server.h"
#include "rr-access.h"
#include "rr-criteria.h"
#include "rr-json-writer.h"
#include "rr-read.h"

#include <math.h>
#include <string.h>

#define DUE_DAYS 14

/* ---- answers ---- */

void
rr_response_clear (RrHttpAnswer *resp)
{
  g_clear_pointer (&resp->body, g_bytes_unref);
  g_clear_pointer (&resp->content_type, g_free);
  g_clear_pointer (&resp->headers, g_ptr_array_unref);
}

void
rr_respond_json (RrHttpAnswer *resp,
                 int         status,
                 char       *json)
{
  rr_response_clear (resp);
  resp->status = status;
  resp->body = json ? g_bytes_new_take (json, strlen (json)) : NULL;
  resp->content_type = g_strdup ("application/json");
}

void
rr_respond_error (RrHttpAnswer *resp,
                  int         status,
                  const char *code,
                  const char *message,
                  const char *details_json)
{
  g_autoptr (RrJsonWriter) w = rr_json_writer_new (FALSE);
  rr_json_begin_object (w);
  rr_json_key (w, "error");
  rr_json_begin_object (w);
  rr_json_key (w, "code");
  rr_json_string (w, code);
  rr_json_key (w, "message");
  rr_json_string (w, message);
  rr_json_key (w, "details");
  rr_json_raw (w, details_json ? details_json : "[]");
  rr_json_end_object (w);
  rr_json_end_object (w);
  rr_respond_json (resp, status, rr_json_writer_steal (w));
}

static void
bad_request (RrHttpAnswer *resp,
             const char *message)
{
  rr_respond_error (resp, 400, "invalid_request", message, NULL);
}

static void
not_found (RrHttpAnswer *resp)
{
  rr_respond_error (resp, 404, "not_found", "No such resource", NULL);
}

static void
forbidden (RrHttpAnswer *resp)
{
  rr_respond_error (resp, 403, "forbidden", "Not allowed for this user", NULL);
}

static void
server_failed (RrHttpAnswer *resp)
{
  rr_respond_error (resp, 503, "unavailable", "The server could not complete the request; "
                    "nothing was changed", NULL);
}

/* ---- request bodies ---- */

static JsonObject *
parse_object (RrHttpRequest  *req,
              RrHttpAnswer *resp,
              JsonParser **parser)
{
  JsonNode *root;
  g_autoptr (GError) error = NULL;

  if (req->body_len > RR_MAX_BODY)
    {
      rr_respond_error (resp, 413, "too_large", "The body is larger than 8 MiB", NULL);
      return NULL;
    }
  if (req->body == NULL || req->body_len == 0)
    {
      bad_request (resp, "A JSON body is required");
      return NULL;
    }
  *parser = json_parser_new ();
  if (!json_parser_load_from_data (*parser, req->body, (gssize) req->body_len, &error))
    {
      g_autofree char *msg = g_strdup_printf ("The body is not JSON: %s", error->message);
      bad_request (resp, msg);
      return NULL;
    }
  root = json_parser_get_root (*parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      bad_request (resp, "The body must be a JSON object");
      return NULL;
    }
  return json_node_get_object (root);
}

/* A string member: NULL when absent; @ok turns FALSE (and the answer is
 * set) when present but not a string of 1..@max characters. */
static const char *
member_string (JsonObject *o,
               const char *name,
               gboolean    required,
               gsize       max,
               gboolean   *ok,
               RrHttpAnswer *resp)
{
  JsonNode *n = json_object_get_member (o, name);
  const char *s;
  if (!*ok)
    return NULL;
  if (n == NULL || JSON_NODE_HOLDS_NULL (n))
    {
      if (required)
        {
          g_autofree char *msg = g_strdup_printf ("\"%s\" is required", name);
          bad_request (resp, msg);
          *ok = FALSE;
        }
      return NULL;
    }
  if (json_node_get_value_type (n) != G_TYPE_STRING ||
      (s = json_node_get_string (n)) == NULL || *s == '\0' || strlen (s) > max ||
      !g_utf8_validate (s, -1, NULL))
    {
      g_autofree char *msg = g_strdup_printf ("\"%s\" must be a string of 1 to %zu characters",
                                              name, max);
      bad_request (resp, msg);
      *ok = FALSE;
      return NULL;
    }
  return s;
}

static gint64
member_int (JsonObject *o,
            const char *name,
            gint64      fallback,
            gint64      lo,
            gint64      hi,
            gboolean   *ok,
            RrHttpAnswer *resp)
{
  JsonNode *n = json_object_get_member (o, name);
  gint64 v;
  if (!*ok || n == NULL || JSON_NODE_HOLDS_NULL (n))
    return fallback;
  if (json_node_get_value_type (n) != G_TYPE_INT64 || (v = json_node_get_int (n)) < lo || v > hi)
    {
      g_autofree char *msg = g_strdup_printf ("\"%s\" must be an integer from %" G_GINT64_FORMAT
                                              " to %" G_GINT64_FORMAT, name, lo, hi);
      bad_request (resp, msg);
      *ok = FALSE;
      return fallback;
    }
  return v;
}

static gboolean
member_bool (JsonObject *o,
             const char *name,
             gboolean    fallback,
             gboolean   *ok,
             RrHttpAnswer *resp)
{
  JsonNode *n = json_object_get_member (o, name);
  if (!*ok || n == NULL || JSON_NODE_HOLDS_NULL (n))
    return fallback;
  if (json_node_get_value_type (n) != G_TYPE_BOOLEAN)
    {
      g_autofree char *msg = g_strdup_printf ("\"%s\" must be true or false", name);
      bad_request (resp, msg);
      *ok = FALSE;
      return fallback;
    }
  return json_node_get_boolean (n);
}

static gboolean
one_of (const char *s,
        const char *const *words)
{
  for (guint i = 0; words[i]; i++)
    if (g_strcmp0 (s, words[i]) == 0)
      return TRUE;
  return FALSE;
}

/* Identifiers in paths and bodies: letters, digits, '.', '_', '-'. */
static gboolean
valid_id (const char *s,
          gsize       max)
{
  gsize n = s ? strlen (s) : 0;
  if (n == 0 || n > max)
    return FALSE;
  for (gsize i = 0; i < n; i++)
    if (!g_ascii_isalnum (s[i]) && s[i] != '.' && s[i] != '_' && s[i] != '-')
      return FALSE;
  return TRUE;
}

static char *
node_to_json (JsonNode *n)
{
  g_autoptr (JsonGenerator) g = json_generator_new ();
  json_generator_set_root (g, n);
  return json_generator_to_data (g, NULL);
}

/* ---- database helpers ---- */

static const char *
col_text (sqlite3_stmt *st,
          int           i)
{
  const char *s = (const char *) sqlite3_column_text (st, i);
  return s ? s : "";
}

static gint64
query_int (const char *sql,
           const char *a,
           const char *b)
{
  sqlite3_stmt *st = rr_db_prepare (sql);
  gint64 v = -1;
  if (st == NULL)
    return -1;
  if (a)
    sqlite3_bind_text (st, 1, a, -1, SQLITE_TRANSIENT);
  if (b)
    sqlite3_bind_text (st, 2, b, -1, SQLITE_TRANSIENT);
  if (sqlite3_step (st) == SQLITE_ROW)
    v = sqlite3_column_int64 (st, 0);
  sqlite3_finalize (st);
  return v;
}

static gboolean
step_done (sqlite3_stmt *st)
{
  int rc = st ? sqlite3_step (st) : SQLITE_ERROR;
  sqlite3_finalize (st);
  return rc == SQLITE_DONE;
}

static void
write_user (RrJsonWriter *w,
            gint64        id,
            const char   *username,
            const char   *display_name,
            gboolean      admin)
{
  sqlite3_stmt *st = rr_db_prepare ("SELECT trial_id, roles FROM members WHERE user_id = ?1"
                                    " ORDER BY trial_id");
  rr_json_begin_object (w);
  rr_json_key (w, "id");
  rr_json_int (w, id);
  rr_json_key (w, "username");
  rr_json_string (w, username);
  rr_json_key (w, "display_name");
  rr_json_string (w, display_name);
  rr_json_key (w, "roles");
  rr_json_begin_array (w);
  if (admin)
    {
      rr_json_begin_object (w);
      rr_json_key (w, "trial");
      rr_json_null (w);
      rr_json_key (w, "role");
      rr_json_string (w, "admin");
      rr_json_end_object (w);
    }
  sqlite3_bind_int64 (st, 1, id);
  while (st && sqlite3_step (st) == SQLITE_ROW)
    {
      g_auto (GStrv) roles = g_strsplit (col_text (st, 1), ",", -1);
      for (guint i = 0; roles[i]; i++)
        if (*roles[i])
          {
            rr_json_begin_object (w);
            rr_json_key (w, "trial");
            rr_json_string (w, col_text (st, 0));
            rr_json_key (w, "role");
            rr_json_string (w, roles[i]);
            rr_json_end_object (w);
          }
    }
  sqlite3_finalize (st);
  rr_json_end_array (w);
  rr_json_end_object (w);
}

static char *
member_site (const RrUser *user)
{
  sqlite3_stmt *st = rr_db_prepare ("SELECT site FROM members WHERE user_id = ?1 AND"
                                    " (',' || roles || ',') LIKE '%,site,%' AND site IS NOT NULL"
                                    " LIMIT 1");
  char *site = NULL;
  sqlite3_bind_int64 (st, 1, user->id);
  if (st && sqlite3_step (st) == SQLITE_ROW)
    site = g_strdup (col_text (st, 0));
  sqlite3_finalize (st);
  return site;
}

gboolean
rr_api_user_may_see_study (const RrUser *user,
                           const char   *study_uid)
{
  sqlite3_stmt *st;
  gboolean yes = FALSE;

  if (user->admin)
    return TRUE;
  /* Its own uploads (site), or a study of one of its tasks: the task's
   * timepoint, and for reads and adjudications the subject's earlier ones. */
  st = rr_db_prepare (
    "SELECT 1 FROM studies WHERE study_uid = ?2 AND uploaded_by = ?1"
    " UNION ALL "
    "SELECT 1 FROM tasks t JOIN timepoints cur ON cur.id = t.timepoint_id"
    " JOIN timepoints tp ON tp.trial_id = t.trial_id AND tp.subject = t.subject"
    "  AND (tp.id = t.timepoint_id OR (t.kind != 'qc' AND tp.day < cur.day))"
    " JOIN timepoint_studies ts ON ts.timepoint_id = tp.id"
    " WHERE t.user_id = ?1 AND t.status != 'cancelled' AND ts.study_uid = ?2 LIMIT 1");
  if (st == NULL)
    return FALSE;
  sqlite3_bind_int64 (st, 1, user->id);
  sqlite3_bind_text (st, 2, study_uid, -1, SQLITE_TRANSIENT);
  yes = sqlite3_step (st) == SQLITE_ROW;
  sqlite3_finalize (st);
  return yes;
}

/* ---- sessions and users ---- */

static void
post_sessions (RrHttpRequest  *req,
               RrHttpAnswer *resp)
{
  g_autoptr (JsonParser) parser = NULL;
  JsonObject *o = parse_object (req, resp, &parser);
  gboolean ok = o != NULL;
  const char *username = o ? member_string (o, "username", TRUE, 64, &ok, resp) : NULL;
  const char *password = o ? member_string (o, "password", TRUE, 1024, &ok, resp) : NULL;
  g_autofree char *hash = NULL, *token = NULL, *expires_at = NULL;
  g_autoptr (RrUser) user = NULL;
  g_autoptr (RrJsonWriter) w = NULL;
  gint64 expires;

  if (!ok)
    return;
  if (rr_login_throttled (username, req->client))
    {
      rr_respond_error (resp, 503, "rate_limited",
                        "Too many failed logins; wait a few minutes", NULL);
      return;
    }
  user = rr_user_lookup (username, &hash);
  if (user == NULL || !rr_password_check (hash, password))
    {
      rr_login_failed (username, req->client);
      rr_respond_error (resp, 401, "unauthenticated", "Wrong user name or password", NULL);
      return;
    }
  rr_db_begin ();
  token = rr_session_create (user, &expires);
  if (token == NULL || !rr_audit_append (user->username, "session.create", user->username, NULL))
    {
      rr_db_rollback ();
      server_failed (resp);
      return;
    }
  rr_db_commit ();
  expires_at = rr_time_rfc3339 (expires);
  w = rr_json_writer_new (FALSE);
  rr_json_begin_object (w);
  rr_json_key (w, "token");
  rr_json_string (w, token);
  rr_json_key (w, "expires_at");
  rr_json_string (w, expires_at);
  rr_json_key (w, "user");
  write_user (w, user->id, user->username, user->display_name, user->admin);
  rr_json_end_object (w);
  rr_respond_json (resp, 201, rr_json_writer_steal (w));
}

static void
delete_session (RrHttpRequest  *req,
                RrHttpAnswer *resp)
{
  const char *auth = g_hash_table_lookup (req->headers, "authorization");
  rr_db_begin ();
  rr_session_delete (auth + strlen ("Bearer "));
  rr_audit_append (req->user->username, "session.delete", req->user->username, NULL);
  rr_db_commit ();
  rr_respond_json (resp, 204, NULL);
}

static void
get_me (RrHttpRequest  *req,
        RrHttpAnswer *resp)
{
  g_autoptr (RrJsonWriter) w = rr_json_writer_new (FALSE);
  write_user (w, req->user->id, req->user->username, req->user->display_name, req->user->admin);
  rr_respond_json (resp, 200, rr_json_writer_steal (w));
}

static void
write_user_by_name (RrJsonWriter *w,
                    const char   *username)
{
  g_autoptr (RrUser) u = rr_user_lookup (username, NULL);
  if (u)
    write_user (w, u->id, u->username, u->display_name, u->admin);
}

static void
post_users (RrHttpRequest  *req,
            RrHttpAnswer *resp)
{
  g_autoptr (JsonParser) parser = NULL;
  JsonObject *o = parse_object (req, resp, &parser);
  gboolean ok = o != NULL;
  const char *username = o ? member_string (o, "username", TRUE, 64, &ok, resp) : NULL;
  const char *password = o ? member_string (o, "password", TRUE, 1024, &ok, resp) : NULL;
  const char *display = o ? member_string (o, "display_name", FALSE, 200, &ok, resp) : NULL;
  gboolean admin = o ? member_bool (o, "admin", FALSE, &ok, resp) : FALSE;
  g_autoptr (GError) error = NULL;
  g_autoptr (RrJsonWriter) w = NULL;

  if (!ok)
    return;
  if (!valid_id (username, 64))
    return bad_request (resp, "A user name is letters, digits, '.', '_' and '-'");
  if (strlen (password) < 8)
    return bad_request (resp, "A password has at least 8 characters");
  if (query_int ("SELECT id FROM users WHERE username = ?1", username, NULL) >= 0)
    return rr_respond_error (resp, 409, "conflict", "That user exists", NULL);
  rr_db_begin ();
  if (!rr_user_create (username, password, display, admin, req->user->username, &error))
    {
      rr_db_rollback ();
      return rr_respond_error (resp, 409, "conflict", error->message, NULL);
    }
  rr_db_commit ();
  w = rr_json_writer_new (FALSE);
  write_user_by_name (w, username);
  rr_respond_json (resp, 201, rr_json_writer_steal (w));
}

/* PUT /users/{username}: Orthanc 1.10 gives plugins GET, POST, PUT and
 * DELETE only, so the contract's PATCH is served as PUT. Members given
 * are changed; the others stay. */
static gboolean hand_over_reads (const char *trial, gint64 user_id, const char *by,
                                 const char **stuck_subject);
static gboolean hand_over_all_reads (gint64 user_id, const char *username, const char *by,
                                     RrHttpAnswer *resp);

static void
put_user (RrHttpRequest  *req,
          RrHttpAnswer *resp,
          const char *username)
{
  g_autoptr (JsonParser) parser = NULL;
  JsonObject *o = parse_object (req, resp, &parser);
  gboolean ok = o != NULL;
  const char *display = o ? member_string (o, "display_name", FALSE, 200, &ok, resp) : NULL;
  const char *password = o ? member_string (o, "password", FALSE, 1024, &ok, resp) : NULL;
  gboolean disabled = o ? member_bool (o, "disabled", FALSE, &ok, resp) : FALSE;
  gboolean has_disabled = o && json_object_has_member (o, "disabled");
  gint64 id = query_int ("SELECT id FROM users WHERE username = ?1", username, NULL);
  g_autoptr (RrJsonWriter) w = NULL, d = NULL;
  g_autofree char *details = NULL;
  sqlite3_stmt *st;

  if (!ok)
    return;
  if (id < 0)
    return not_found (resp);
  if (password && strlen (password) < 8)
    return bad_request (resp, "A password has at least 8 characters");
  rr_db_begin ();
  if (display)
    {
      st = rr_db_prepare ("UPDATE users SET display_name = ?1 WHERE id = ?2");
      sqlite3_bind_text (st, 1, display, -1, SQLITE_TRANSIENT);
      sqlite3_bind_int64 (st, 2, id);
      step_done (st);
    }
  if (password)
    {
      g_autofree char *hash = rr_password_hash (password);
      st = rr_db_prepare ("UPDATE users SET password_hash = ?1 WHERE id = ?2");
      sqlite3_bind_text (st, 1, hash, -1, SQLITE_TRANSIENT);
      sqlite3_bind_int64 (st, 2, id);
      step_done (st);
    }
  if (has_disabled)
    {
      st = rr_db_prepare ("UPDATE users SET disabled = ?1 WHERE id = ?2");
      sqlite3_bind_int (st, 1, disabled);
      sqlite3_bind_int64 (st, 2, id);
      step_done (st);
      if (disabled)
        {
          /* A disabled user's tokens die with it. */
          st = rr_db_prepare ("DELETE FROM sessions WHERE user_id = ?1");
          sqlite3_bind_int64 (st, 1, id);
          step_done (st);
          /* ...and the reads still open pass to other readers, trial by
           * trial, as when a reader leaves a pool. */
          if (!hand_over_all_reads (id, username, req->user->username, resp))
            return;
        }
    }
  d = rr_json_writer_new (FALSE);
  rr_json_begin_object (d);
  if (display)
    {
      rr_json_key (d, "display_name");
      rr_json_string (d, display);
    }
  if (password)
    {
      rr_json_key (d, "password");
      rr_json_string (d, "changed");
    }
  if (has_disabled)
    {
      rr_json_key (d, "disabled");
      rr_json_bool (d, disabled);
    }
  rr_json_end_object (d);
  details = rr_json_writer_steal (d);
  rr_audit_append (req->user->username, "user.update", username, details);
  rr_db_commit ();
  w = rr_json_writer_new (FALSE);
  st = rr_db_prepare ("SELECT id, username, display_name, admin FROM users WHERE id = ?1");
  sqlite3_bind_int64 (st, 1, id);
  if (sqlite3_step (st) == SQLITE_ROW)
    write_user (w, sqlite3_column_int64 (st, 0), col_text (st, 1), col_text (st, 2),
                sqlite3_column_int (st, 3));
  sqlite3_finalize (st);
  rr_respond_json (resp, 200, rr_json_writer_steal (w));
}

/* ---- trials and members ---- */

static void
write_trial (RrJsonWriter *w,
             sqlite3_stmt *st)
{
  rr_json_begin_object (w);
  rr_json_key (w, "id");
  rr_json_string (w, col_text (st, 0));
  rr_json_key (w, "name");
  rr_json_string (w, col_text (st, 1));
  rr_json_key (w, "criteria");
  rr_json_string (w, col_text (st, 2));
  rr_json_key (w, "readers_per_case");
  rr_json_int (w, sqlite3_column_int (st, 3));
  rr_json_key (w, "qc_required");
  rr_json_bool (w, sqlite3_column_int (st, 4));
  rr_json_key (w, "adjudication");
  rr_json_string (w, col_text (st, 5));
  rr_json_key (w, "reading");
  rr_json_string (w, col_text (st, 6));
  rr_json_key (w, "sd_min_days");
  rr_json_int (w, sqlite3_column_int (st, 7));
  rr_json_key (w, "confirmation");
  rr_json_bool (w, sqlite3_column_int (st, 8));
  rr_json_key (w, "protocol");
  rr_json_raw (w, col_text (st, 9));
  rr_json_end_object (w);
}

#define TRIAL_COLUMNS "id, name, criteria, readers_per_case, qc_required, adjudication," \
                      " reading, sd_min_days, confirmation, protocol"

static void
post_trials (RrHttpRequest  *req,
             RrHttpAnswer *resp)
{
  static const char *const adjudications[] = { "bor", "bor_or_pd_timepoint", NULL };
  static const char *const readings[] = { "sequential", "batch", NULL };
  g_autoptr (JsonParser) parser = NULL;
  JsonObject *o = parse_object (req, resp, &parser);
  gboolean ok = o != NULL;
  const char *id = o ? member_string (o, "id", TRUE, 64, &ok, resp) : NULL;
  const char *name = o ? member_string (o, "name", TRUE, 200, &ok, resp) : NULL;
  const char *criteria = o ? member_string (o, "criteria", FALSE, 32, &ok, resp) : NULL;
  gint64 readers = o ? member_int (o, "readers_per_case", 2, 1, 2, &ok, resp) : 2;
  gboolean qc = o ? member_bool (o, "qc_required", TRUE, &ok, resp) : TRUE;
  const char *adjudication = o ? member_string (o, "adjudication", FALSE, 32, &ok, resp) : NULL;
  const char *reading = o ? member_string (o, "reading", FALSE, 32, &ok, resp) : NULL;
  gint64 sd_min = o ? member_int (o, "sd_min_days", 42, 0, 3650, &ok, resp) : 42;
  gboolean confirmation = o ? member_bool (o, "confirmation", FALSE, &ok, resp) : FALSE;
  JsonNode *protocol = o ? json_object_get_member (o, "protocol") : NULL;
  g_autofree char *protocol_json = NULL, *now = NULL;
  sqlite3_stmt *st;

  if (!ok)
    return;
  criteria = criteria ? criteria : "recist1.1";
  adjudication = adjudication ? adjudication : "bor";
  reading = reading ? reading : "sequential";
  if (!valid_id (id, 64))
    return bad_request (resp, "A trial id is letters, digits, '.', '_' and '-'");
  if (rr_criteria_lookup (criteria) == NULL)
    return bad_request (resp, "Unknown criteria");
  if (!one_of (adjudication, adjudications) || !one_of (reading, readings))
    return bad_request (resp, "adjudication is bor or bor_or_pd_timepoint; reading is "
                              "sequential or batch");
  if (protocol && !JSON_NODE_HOLDS_NULL (protocol) && !JSON_NODE_HOLDS_OBJECT (protocol))
    return bad_request (resp, "\"protocol\" must be an object");
  protocol_json = protocol && JSON_NODE_HOLDS_OBJECT (protocol) ? node_to_json (protocol)
                                                               : g_strdup ("{}");
  if (query_int ("SELECT 1 FROM trials WHERE id = ?1", id, NULL) > 0)
    return rr_respond_error (resp, 409, "conflict", "That trial exists", NULL);
  now = rr_now_rfc3339 ();
  rr_db_begin ();
  st = rr_db_prepare ("INSERT INTO trials (" TRIAL_COLUMNS ", created_at)"
                      " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)");
  sqlite3_bind_text (st, 1, id, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (st, 2, name, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (st, 3, criteria, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (st, 4, readers);
  sqlite3_bind_int (st, 5, qc);
  sqlite3_bind_text (st, 6, adjudication, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (st, 7, reading, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (st, 8, sd_min);
  sqlite3_bind_int (st, 9, confirmation);
  sqlite3_bind_text (st, 10, protocol_json, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (st, 11, now, -1, SQLITE_TRANSIENT);
  if (!step_done (st) || !rr_audit_append (req->user->username, "trial.create", id, req->body))
    {
      rr_db_rollback ();
      return server_failed (resp);
    }
  rr_db_commit ();
  st = rr_db_prepare ("SELECT " TRIAL_COLUMNS " FROM trials WHERE id = ?1");
  sqlite3_bind_text (st, 1, id, -1, SQLITE_TRANSIENT);
  if (sqlite3_step (st) == SQLITE_ROW)
    {
      g_autoptr (RrJsonWriter) w = rr_json_writer_new (FALSE);
      write_trial (w, st);
      rr_respond_json (resp, 201, rr_json_writer_steal (w));
    }
  sqlite3_finalize (st);
}

static void
get_trials (RrHttpRequest  *req,
            RrHttpAnswer *resp,
            const char *one)
{
  g_autoptr (RrJsonWriter) w = rr_json_writer_new (FALSE);
  sqlite3_stmt *st = rr_db_prepare (one ? "SELECT " TRIAL_COLUMNS " FROM trials WHERE id = ?1"
                                        : "SELECT " TRIAL_COLUMNS " FROM trials ORDER BY id");
  gboolean found = FALSE;
  if (one)
    sqlite3_bind_text (st, 1, one, -1, SQLITE_TRANSIENT);
  if (!one)
    rr_json_begin_array (w);
  while (st && sqlite3_step (st) == SQLITE_ROW)
    {
      write_trial (w, st);
      found = TRUE;
    }
  sqlite3_finalize (st);
  if (!one)
    rr_json_end_array (w);
  if (one && !found)
    return not_found (resp);
  rr_respond_json (resp, 200, rr_json_writer_steal (w));
}

static void
put_member (RrHttpRequest  *req,
            RrHttpAnswer *resp,
            const char *trial,
            const char *username)
{
  static const char *const roles_ok[] = { "site", "qc", "reader", "adjudicator", NULL };
  g_autoptr (JsonParser) parser = NULL;
  JsonObject *o = parse_object (req, resp, &parser);
  gboolean ok = o != NULL;
  const char *site = o ? member_string (o, "site", FALSE, 64, &ok, resp) : NULL;
  JsonNode *rn = o ? json_object_get_member (o, "roles") : NULL;
  g_autoptr (GString) roles = g_string_new (NULL);
  gint64 uid = query_int ("SELECT id FROM users WHERE username = ?1", username, NULL);
  sqlite3_stmt *st;
  g_autoptr (RrJsonWriter) w = NULL;
  g_autofree char *details = NULL;
  gboolean leaves_pool;
  const char *stuck = NULL;

  if (!ok)
    return;
  if (query_int ("SELECT 1 FROM trials WHERE id = ?1", trial, NULL) < 0 || uid < 0)
    return not_found (resp);
  if (rn == NULL || !JSON_NODE_HOLDS_ARRAY (rn) || json_array_get_length (json_node_get_array (rn)) > 4)
    return bad_request (resp, "\"roles\" must be a list of site, qc, reader, adjudicator");
  for (guint i = 0; i < json_array_get_length (json_node_get_array (rn)); i++)
    {
      JsonNode *e = json_array_get_element (json_node_get_array (rn), i);
      const char *r = json_node_get_value_type (e) == G_TYPE_STRING ? json_node_get_string (e)
                                                                      : NULL;
      if (!one_of (r, roles_ok))
        return bad_request (resp, "\"roles\" must be a list of site, qc, reader, adjudicator");
      if (!strstr (roles->str, r))
        g_string_append_printf (roles, "%s%s", roles->len ? "," : "", r);
    }
  if (strstr (roles->str, "site") && (site == NULL || !valid_id (site, 64)))
    return bad_request (resp, "A site member needs its \"site\"");
  st = rr_db_prepare ("SELECT 1 FROM members WHERE trial_id = ?1 AND user_id = ?2"
                      " AND (',' || roles || ',') LIKE '%,reader,%'");
  sqlite3_bind_text (st, 1, trial, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (st, 2, uid);
  leaves_pool = st && sqlite3_step (st) == SQLITE_ROW && !strstr (roles->str, "reader");
  sqlite3_finalize (st);
  rr_db_begin ();
  st = rr_db_prepare ("INSERT INTO members (trial_id, user_id, roles, site) VALUES (?1, ?2, ?3, ?4)"
                      " ON CONFLICT (trial_id, user_id) DO UPDATE SET roles = ?3, site = ?4");
  sqlite3_bind_text (st, 1, trial, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (st, 2, uid);
  sqlite3_bind_text (st, 3, roles->str, -1, SQLITE_TRANSIENT);
  if (site)
    sqlite3_bind_text (st, 4, site, -1, SQLITE_TRANSIENT);
  w = rr_json_writer_new (FALSE);
  rr_json_begin_object (w);
  rr_json_key (w, "trial");
  rr_json_string (w, trial);
  rr_json_key (w, "username");
  rr_json_string (w, username);
  rr_json_key (w, "roles");
  rr_json_begin_array (w);
  {
    g_auto (GStrv) parts = g_strsplit (roles->str, ",", -1);
    for (guint i = 0; parts[i]; i++)
      if (*parts[i])
        rr_json_string (w, parts[i]);
  }
  rr_json_end_array (w);
  rr_json_key (w, "site");
  if (site)
    rr_json_string (w, site);
  else
    rr_json_null (w);
  rr_json_end_object (w);
  details = rr_json_writer_steal (w);
  if (!step_done (st) || !rr_audit_append (req->user->username, "member.set",
                                           username, details))
    {
      rr_db_rollback ();
      return server_failed (resp);
    }
  /* A reader leaving the pool hands over the reads still open; when nobody
   * can take one, nothing changes. */
  if (leaves_pool && !hand_over_reads (trial, uid, req->user->username, &stuck))
    {
      g_autofree char *msg = NULL;
      rr_db_rollback ();
      if (stuck == NULL)
        return server_failed (resp);
      msg = g_strdup_printf ("No other reader of the trial can take over %s's open read of "
                             "subject %s; add a reader first", username, stuck);
      g_free ((char *) stuck);
      return rr_respond_error (resp, 409, "conflict", msg, NULL);
    }
  rr_db_commit ();
  rr_respond_json (resp, 200, g_steal_pointer (&details));
}

/* ---- Orthanc: studies and their instances ---- */

static JsonNode *
orthanc_json (const char *uri)
{
  g_autoptr (GBytes) b = rr_server->rest_get ? rr_server->rest_get (uri) : NULL;
  g_autoptr (JsonParser) p = NULL;
  gsize n;
  const char *data;
  if (b == NULL)
    return NULL;
  data = g_bytes_get_data (b, &n);
  p = json_parser_new ();
  if (!json_parser_load_from_data (p, data, (gssize) n, NULL) || json_parser_get_root (p) == NULL)
    return NULL;
  return json_node_copy (json_parser_get_root (p));
}

static const char *
tag_of (JsonObject *o,
        const char *tag)
{
  JsonNode *m = json_object_get_member (o, "MainDicomTags");
  if (m == NULL || !JSON_NODE_HOLDS_OBJECT (m))
    return NULL;
  m = json_object_get_member (json_node_get_object (m), tag);
  return m && json_node_get_value_type (m) == G_TYPE_STRING ? json_node_get_string (m) : NULL;
}

/* Records what a stored study holds: its instances with size and MD5, so
 * the manifest is one query. Called when the study is linked. */
static gboolean
index_study (const char *study_uid,
             const char *orthanc_id)
{
  g_autofree char *uri = g_strdup_printf ("/studies/%s/instances", orthanc_id);
  g_autoptr (JsonNode) list = orthanc_json (uri);
  g_autoptr (GHashTable) series = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  JsonArray *a;

  if (list == NULL || !JSON_NODE_HOLDS_ARRAY (list))
    return FALSE;
  a = json_node_get_array (list);
  for (guint i = 0; i < json_array_get_length (a); i++)
    {
      JsonObject *inst = json_array_get_object_element (a, i);
      const char *id = json_object_get_string_member_with_default (inst, "ID", NULL);
      const char *parent = json_object_get_string_member_with_default (inst, "ParentSeries", NULL);
      const char *sop = tag_of (inst, "SOPInstanceUID");
      gint64 size = json_object_get_int_member_with_default (inst, "FileSize", -1);
      const char *series_uid;
      g_autofree char *md5_uri = NULL;
      g_autoptr (GBytes) md5 = NULL;
      g_autofree char *md5_text = NULL;
      sqlite3_stmt *st;

      if (id == NULL || parent == NULL || sop == NULL)
        return FALSE;
      series_uid = g_hash_table_lookup (series, parent);
      if (series_uid == NULL)
        {
          g_autofree char *s_uri = g_strdup_printf ("/series/%s", parent);
          g_autoptr (JsonNode) s = orthanc_json (s_uri);
          const char *uid = s && JSON_NODE_HOLDS_OBJECT (s)
                              ? tag_of (json_node_get_object (s), "SeriesInstanceUID") : NULL;
          if (uid == NULL)
            return FALSE;
          g_hash_table_insert (series, g_strdup (parent), g_strdup (uid));
          series_uid = g_hash_table_lookup (series, parent);
        }
      md5_uri = g_strdup_printf ("/instances/%s/attachments/dicom/md5", id);
      md5 = rr_server->rest_get (md5_uri);
      if (md5 == NULL)
        return FALSE;
      md5_text = g_strndup (g_bytes_get_data (md5, NULL), g_bytes_get_size (md5));
      g_strstrip (md5_text);
      if (size < 0)
        {
          g_autofree char *f = g_strdup_printf ("/instances/%s/attachments/dicom/size", id);
          g_autoptr (GBytes) sz = rr_server->rest_get (f);
          g_autofree char *t = sz ? g_strndup (g_bytes_get_data (sz, NULL), g_bytes_get_size (sz)) : NULL;
          size = t ? g_ascii_strtoll (t, NULL, 10) : 0;
        }
      st = rr_db_prepare ("INSERT OR REPLACE INTO instances (sop_uid, study_uid, series_uid,"
                          " orthanc_id, size, md5) VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
      sqlite3_bind_text (st, 1, sop, -1, SQLITE_TRANSIENT);
      sqlite3_bind_text (st, 2, study_uid, -1, SQLITE_TRANSIENT);
      sqlite3_bind_text (st, 3, series_uid, -1, SQLITE_TRANSIENT);
      sqlite3_bind_text (st, 4, id, -1, SQLITE_TRANSIENT);
      sqlite3_bind_int64 (st, 5, size);
      sqlite3_bind_text (st, 6, md5_text, -1, SQLITE_TRANSIENT);
      if (!step_done (st))
        return FALSE;
    }
  return TRUE;
}

static void
post_instances (RrHttpRequest  *req,
                RrHttpAnswer *resp)
{
  g_autoptr (GBytes) answer = NULL;
  g_autoptr (JsonParser) p = json_parser_new ();
  g_autofree char *site = NULL, *study_uri = NULL;
  g_autoptr (JsonNode) study = NULL;
  const char *parent, *study_uid;
  JsonObject *o;
  sqlite3_stmt *st;
  g_autoptr (RrJsonWriter) w = NULL;

  if (!req->user->admin && (site = member_site (req->user)) == NULL)
    return forbidden (resp);
  if (req->body_len == 0 || req->body_len > RR_MAX_UPLOAD)
    return rr_respond_error (resp, req->body_len ? 413 : 400,
                             req->body_len ? "too_large" : "invalid_request",
                             "The body is one DICOM file (up to 1 GiB)", NULL);
  answer = rr_server->rest_post ("/instances", req->body, req->body_len);
  if (answer == NULL ||
      !json_parser_load_from_data (p, g_bytes_get_data (answer, NULL),
                                   (gssize) g_bytes_get_size (answer), NULL) ||
      !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (p)))
    return rr_respond_error (resp, 400, "invalid_request", "Orthanc did not accept the file as "
                             "DICOM", NULL);
  o = json_node_get_object (json_parser_get_root (p));
  parent = json_object_get_string_member_with_default (o, "ParentStudy", NULL);
  if (parent == NULL)
    return rr_respond_error (resp, 400, "invalid_request", "Orthanc did not store the file", NULL);
  study_uri = g_strdup_printf ("/studies/%s", parent);
  study = orthanc_json (study_uri);
  study_uid = study && JSON_NODE_HOLDS_OBJECT (study)
                ? tag_of (json_node_get_object (study), "StudyInstanceUID") : NULL;
  if (study_uid == NULL)
    return server_failed (resp);
  rr_db_begin ();
  st = rr_db_prepare ("INSERT INTO studies (study_uid, orthanc_id, uploaded_by, site)"
                      " VALUES (?1, ?2, ?3, ?4) ON CONFLICT (study_uid) DO NOTHING");
  sqlite3_bind_text (st, 1, study_uid, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (st, 2, parent, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (st, 3, req->user->id);
  if (site)
    sqlite3_bind_text (st, 4, site, -1, SQLITE_TRANSIENT);
  step_done (st);
  rr_db_commit ();
  w = rr_json_writer_new (FALSE);
  rr_json_begin_object (w);
  rr_json_key (w, "study");
  rr_json_string (w, study_uid);
  rr_json_key (w, "status");
  rr_json_string (w, json_object_get_string_member_with_default (o, "Status", ""));
  rr_json_end_object (w);
  rr_respond_json (resp, 201, rr_json_writer_steal (w));
}

/* ---- tasks ---- */

/* The member of @trial with @role who has the fewest open tasks, not in
 * @exclude (user ids); -1 when there is none. */
static gint64
least_loaded (const char *trial,
              const char *role,
              GArray     *exclude)
{
  sqlite3_stmt *st = rr_db_prepare (
    "SELECT m.user_id, (SELECT count (*) FROM tasks t WHERE t.user_id = m.user_id"
    "  AND t.status = 'open') + (SELECT count (*) FROM subject_readers r"
    "  WHERE r.user_id = m.user_id AND r.trial_id = m.trial_id) AS load"
    " FROM members m JOIN users u ON u.id = m.user_id"
    " WHERE m.trial_id = ?1 AND (',' || m.roles || ',') LIKE ?2 AND u.disabled = 0"
    " ORDER BY load, m.user_id");
  g_autofree char *like = g_strdup_printf ("%%,%s,%%", role);
  gint64 best = -1;
  sqlite3_bind_text (st, 1, trial, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (st, 2, like, -1, SQLITE_TRANSIENT);
  while (st && sqlite3_step (st) == SQLITE_ROW && best < 0)
    {
      gint64 id = sqlite3_column_int64 (st, 0);
      gboolean skip = FALSE;
      for (guint i = 0; exclude && i < exclude->len; i++)
        skip |= g_array_index (exclude, gint64, i) == id;
      if (!skip)
        best = id;
    }
  sqlite3_finalize (st);
  return best;
}

static char *
create_task (const char *kind,
             const char *trial,
             const char *subject,
             gint64      timepoint,
             gint64      user_id,
             int         slot,
             const char *by)
{
  g_autofree char *id = g_uuid_string_random ();
  g_autofree char *now = rr_now_rfc3339 ();
  g_autofree char *due = rr_time_rfc3339 (g_get_real_time () / G_USEC_PER_SEC + DUE_DAYS * 86400);
  g_autofree char *details = NULL;
  g_autoptr (RrJsonWriter) w = rr_json_writer_new (FALSE);
  sqlite3_stmt *st = rr_db_prepare (
    "INSERT INTO tasks (id, kind, trial_id, subject, timepoint_id, user_id, slot, created_at, due_at)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)");
  sqlite3_bind_text (st, 1, id, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (st, 2, kind, -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 3, trial, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (st, 4, subject, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (st, 5, timepoint);
  sqlite3_bind_int64 (st, 6, user_id);
  sqlite3_bind_int (st, 7, slot);
  sqlite3_bind_text (st, 8, now, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (st, 9, due, -1, SQLITE_TRANSIENT);
  if (!step_done (st))
    return NULL;
  rr_json_begin_object (w);
  rr_json_key (w, "kind");
  rr_json_string (w, kind);
  rr_json_key (w, "trial");
  rr_json_string (w, trial);
  rr_json_key (w, "subject");
  rr_json_string (w, subject);
  rr_json_key (w, "timepoint");
  rr_json_int (w, timepoint);
  rr_json_key (w, "assignee");
  rr_json_int (w, user_id);
  rr_json_end_object (w);
  details = rr_json_writer_steal (w);
  if (!rr_audit_append (by, "task.create", id, details))
    return NULL;
  return g_steal_pointer (&id);
}

/* @user_id reads @subject in @slot from now on; whoever held the slot
 * before keeps no claim on the subject. */
static gboolean
set_subject_reader (const char *trial,
                    const char *subject,
                    gint64      slot,
                    gint64      user_id)
{
  static const char *const sql[] = {
    "DELETE FROM subject_readers WHERE trial_id = ?1 AND subject = ?2"
    " AND (slot = ?3 OR user_id = ?4)",
    "INSERT INTO subject_readers (trial_id, subject, slot, user_id) VALUES (?1, ?2, ?3, ?4)",
  };
  for (guint i = 0; i < G_N_ELEMENTS (sql); i++)
    {
      sqlite3_stmt *st = rr_db_prepare (sql[i]);
      sqlite3_bind_text (st, 1, trial, -1, SQLITE_TRANSIENT);
      sqlite3_bind_text (st, 2, subject, -1, SQLITE_TRANSIENT);
      sqlite3_bind_int64 (st, 3, slot);
      sqlite3_bind_int64 (st, 4, user_id);
      if (!step_done (st))
        return FALSE;
    }
  return TRUE;
}

/* The read tasks of a timepoint, by the subject's own readers (drawn from
 * the pool the first time, kept after). FALSE, with nothing created, when
 * the trial has too few readers. */
static gboolean
create_read_tasks (const char *trial,
                   const char *subject,
                   gint64      timepoint,
                   const char *by,
                   GPtrArray  *created)
{
  gint64 n = query_int ("SELECT readers_per_case FROM trials WHERE id = ?1", trial, NULL);
  g_autoptr (GArray) readers = g_array_new (FALSE, FALSE, sizeof (gint64));
  sqlite3_stmt *st;

  /* The subject's reader of each slot, while still an active reader of the
   * trial; the slots without one draw a reader who is not the subject's
   * other. */
  for (gint64 slot = 1; slot <= n; slot++)
    {
      gint64 uid = -1;
      st = rr_db_prepare ("SELECT sr.user_id FROM subject_readers sr"
                          " JOIN members m ON m.trial_id = sr.trial_id AND m.user_id = sr.user_id"
                          " JOIN users u ON u.id = sr.user_id"
                          " WHERE sr.trial_id = ?1 AND sr.subject = ?2 AND sr.slot = ?3"
                          " AND (',' || m.roles || ',') LIKE '%,reader,%' AND u.disabled = 0");
      sqlite3_bind_text (st, 1, trial, -1, SQLITE_TRANSIENT);
      sqlite3_bind_text (st, 2, subject, -1, SQLITE_TRANSIENT);
      sqlite3_bind_int64 (st, 3, slot);
      if (st && sqlite3_step (st) == SQLITE_ROW)
        uid = sqlite3_column_int64 (st, 0);
      sqlite3_finalize (st);
      g_array_append_val (readers, uid);
    }
  for (gint64 slot = 1; slot <= n; slot++)
    {
      gint64 *uid = &g_array_index (readers, gint64, slot - 1);
      if (*uid >= 0)
        continue;
      *uid = least_loaded (trial, "reader", readers);
      if (*uid < 0)
        return FALSE;
      if (!set_subject_reader (trial, subject, slot, *uid))
        return FALSE;
    }
  for (guint i = 0; i < readers->len; i++)
    {
      char *id = create_task ("read", trial, subject, timepoint,
                              g_array_index (readers, gint64, i), (int) i + 1, by);
      if (id == NULL)
        return FALSE;
      g_ptr_array_add (created, id);
    }
  return TRUE;
}

/* The open reads of @user_id in @trial, who left its reader pool: each is
 * cancelled (the reader's workstation keeps their draft and says the task
 * was withdrawn), and the subject's slot passes to the least loaded other
 * reader, never the subject's other reader, with a new task for the same
 * timepoint. The reader's other subjects draw a new reader at their next
 * timepoint. FALSE with *stuck_subject (to free) when nobody can take one,
 * FALSE alone when the database fails: the caller rolls back. */
static gboolean
hand_over_reads (const char  *trial,
                 gint64       user_id,
                 const char  *by,
                 const char **stuck_subject)
{
  typedef struct { char *id, *subject; gint64 timepoint, slot; } Open;
  g_autoptr (GArray) open = g_array_new (FALSE, TRUE, sizeof (Open));
  sqlite3_stmt *st = rr_db_prepare ("SELECT id, subject, timepoint_id, slot FROM tasks"
                                    " WHERE trial_id = ?1 AND user_id = ?2 AND kind = 'read'"
                                    " AND status = 'open' ORDER BY created_at, id");
  gboolean ok = st != NULL;

  *stuck_subject = NULL;
  sqlite3_bind_text (st, 1, trial, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (st, 2, user_id);
  while (st && sqlite3_step (st) == SQLITE_ROW)
    {
      Open o = { g_strdup (col_text (st, 0)), g_strdup (col_text (st, 1)),
                 sqlite3_column_int64 (st, 2), sqlite3_column_int64 (st, 3) };
      g_array_append_val (open, o);
    }
  sqlite3_finalize (st);
  for (guint i = 0; ok && i < open->len; i++)
    {
      Open *o = &g_array_index (open, Open, i);
      g_autoptr (GArray) exclude = g_array_new (FALSE, FALSE, sizeof (gint64));
      g_autofree char *successor = NULL, *details = NULL;
      g_autoptr (RrJsonWriter) w = rr_json_writer_new (FALSE);
      gint64 next;

      /* The slot's successor when an earlier read of the same subject was
       * handed over already (one reader per slot); else the least loaded
       * reader who does not read the subject's other slots. */
      g_array_append_val (exclude, user_id);
      next = -1;
      st = rr_db_prepare ("SELECT user_id, slot FROM subject_readers WHERE trial_id = ?1"
                          " AND subject = ?2");
      sqlite3_bind_text (st, 1, trial, -1, SQLITE_TRANSIENT);
      sqlite3_bind_text (st, 2, o->subject, -1, SQLITE_TRANSIENT);
      while (st && sqlite3_step (st) == SQLITE_ROW)
        {
          gint64 other = sqlite3_column_int64 (st, 0);
          if (sqlite3_column_int64 (st, 1) != o->slot)
            g_array_append_val (exclude, other);
          else if (other != user_id)
            next = other;
        }
      sqlite3_finalize (st);
      if (next < 0)
        next = least_loaded (trial, "reader", exclude);
      if (next < 0)
        {
          *stuck_subject = g_strdup (o->subject);
          ok = FALSE;
          break;
        }
      st = rr_db_prepare ("UPDATE tasks SET status = 'cancelled', version = version + 1"
                          " WHERE id = ?1 AND status = 'open'");
      sqlite3_bind_text (st, 1, o->id, -1, SQLITE_TRANSIENT);
      ok = step_done (st);
      ok = set_subject_reader (trial, o->subject, o->slot, next) && ok;
      successor = ok ? create_task ("read", trial, o->subject, o->timepoint, next, (int) o->slot,
                                    by) : NULL;
      ok = successor != NULL;
      if (ok)
        {
          rr_json_begin_object (w);
          rr_json_key (w, "reason");
          rr_json_string (w, "the reader left the trial's reader pool");
          rr_json_key (w, "successor");
          rr_json_string (w, successor);
          rr_json_end_object (w);
          details = rr_json_writer_steal (w);
          ok = rr_audit_append (by, "task.cancel", o->id, details);
        }
    }
  if (ok)
    {
      /* The subjects whose reads were all done: their next timepoint draws
       * a reader from the pool again. */
      st = rr_db_prepare ("DELETE FROM subject_readers WHERE trial_id = ?1 AND user_id = ?2");
      sqlite3_bind_text (st, 1, trial, -1, SQLITE_TRANSIENT);
      sqlite3_bind_int64 (st, 2, user_id);
      ok = step_done (st);
    }
  for (guint i = 0; i < open->len; i++)
    {
      g_free (g_array_index (open, Open, i).id);
      g_free (g_array_index (open, Open, i).subject);
    }
  return ok;
}

/* hand_over_reads in every trial where @user_id has reads open; on failure
 * the transaction is rolled back and the answer given (409 when nobody can
 * take a read). */
static gboolean
hand_over_all_reads (gint64        user_id,
                     const char   *username,
                     const char   *by,
                     RrHttpAnswer *resp)
{
  g_autoptr (GPtrArray) trials = g_ptr_array_new_with_free_func (g_free);
  sqlite3_stmt *st = rr_db_prepare ("SELECT DISTINCT trial_id FROM tasks WHERE user_id = ?1"
                                    " AND kind = 'read' AND status = 'open' ORDER BY trial_id");
  sqlite3_bind_int64 (st, 1, user_id);
  while (st && sqlite3_step (st) == SQLITE_ROW)
    g_ptr_array_add (trials, g_strdup (col_text (st, 0)));
  sqlite3_finalize (st);
  for (guint i = 0; i < trials->len; i++)
    {
      const char *stuck = NULL;
      if (!hand_over_reads (trials->pdata[i], user_id, by, &stuck))
        {
          g_autofree char *msg = NULL;
          rr_db_rollback ();
          if (stuck == NULL)
            {
              server_failed (resp);
              return FALSE;
            }
          msg = g_strdup_printf ("No other reader of trial %s can take over %s's open read of "
                                 "subject %s; add a reader first", (char *) trials->pdata[i],
                                 username, stuck);
          g_free ((char *) stuck);
          rr_respond_error (resp, 409, "conflict", msg, NULL);
          return FALSE;
        }
    }
  return TRUE;
}

typedef struct
{
  char *id, *kind, *trial, *subject, *status, *created_at, *due_at, *criteria;
  gint64 timepoint, user_id, version, slot, day;
} Task;

static void
task_clear (Task *t)
{
  g_free (t->id);
  g_free (t->kind);
  g_free (t->trial);
  g_free (t->subject);
  g_free (t->status);
  g_free (t->created_at);
  g_free (t->due_at);
  g_free (t->criteria);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Task, task_clear)

#define TASK_SELECT "SELECT t.id, t.kind, t.trial_id, t.subject, t.status, t.created_at, t.due_at," \
                    " tr.criteria, t.timepoint_id, t.user_id, t.version, t.slot, tp.day FROM tasks t" \
                    " JOIN trials tr ON tr.id = t.trial_id JOIN timepoints tp ON tp.id = t.timepoint_id"

static void
task_from_row (Task         *t,
               sqlite3_stmt *st)
{
  t->id = g_strdup (col_text (st, 0));
  t->kind = g_strdup (col_text (st, 1));
  t->trial = g_strdup (col_text (st, 2));
  t->subject = g_strdup (col_text (st, 3));
  t->status = g_strdup (col_text (st, 4));
  t->created_at = g_strdup (col_text (st, 5));
  t->due_at = g_strdup (col_text (st, 6));
  t->criteria = g_strdup (col_text (st, 7));
  t->timepoint = sqlite3_column_int64 (st, 8);
  t->user_id = sqlite3_column_int64 (st, 9);
  t->version = sqlite3_column_int64 (st, 10);
  t->slot = sqlite3_column_int64 (st, 11);
  t->day = sqlite3_column_int64 (st, 12);
}

/* The task @id if @user may see it (its own; an admin: any). */
static gboolean
task_get (const RrUser *user,
          const char   *id,
          Task         *t)
{
  sqlite3_stmt *st = rr_db_prepare (TASK_SELECT " WHERE t.id = ?1");
  gboolean found = FALSE;
  memset (t, 0, sizeof *t);
  sqlite3_bind_text (st, 1, id, -1, SQLITE_TRANSIENT);
  if (st && sqlite3_step (st) == SQLITE_ROW)
    {
      task_from_row (t, st);
      found = user->admin || t->user_id == user->id;
      if (!found)
        task_clear (t), memset (t, 0, sizeof *t);
    }
  sqlite3_finalize (st);
  return found;
}

/* The timepoints a task covers: its own, and for reads and adjudications
 * the subject's earlier ones that passed QC. */
static sqlite3_stmt *
task_timepoints (const Task *t)
{
  sqlite3_stmt *st = rr_db_prepare (
    "SELECT tp.id, tp.label, tp.day FROM timepoints tp WHERE tp.trial_id = ?1 AND tp.subject = ?2"
    " AND (tp.id = ?3 OR (?4 != 'qc' AND tp.day < ?5 AND tp.qc_status IN ('passed', 'none')))"
    " ORDER BY tp.day, tp.id");
  sqlite3_bind_text (st, 1, t->trial, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (st, 2, t->subject, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (st, 3, t->timepoint);
  sqlite3_bind_text (st, 4, t->kind, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (st, 5, t->day);
  return st;
}

static void
write_task (RrJsonWriter *w,
            const Task   *t,
            gboolean      close)
{
  sqlite3_stmt *st = task_timepoints (t);
  rr_json_begin_object (w);
  rr_json_key (w, "id");
  rr_json_string (w, t->id);
  rr_json_key (w, "kind");
  rr_json_string (w, t->kind);
  rr_json_key (w, "trial");
  rr_json_string (w, t->trial);
  rr_json_key (w, "subject");
  rr_json_string (w, t->subject);
  rr_json_key (w, "criteria");
  rr_json_string (w, t->criteria);
  rr_json_key (w, "status");
  rr_json_string (w, t->status);
  rr_json_key (w, "timepoints");
  rr_json_begin_array (w);
  while (st && sqlite3_step (st) == SQLITE_ROW)
    {
      gint64 tp = sqlite3_column_int64 (st, 0);
      sqlite3_stmt *ss = rr_db_prepare ("SELECT study_uid FROM timepoint_studies"
                                        " WHERE timepoint_id = ?1 ORDER BY study_uid");
      gboolean locked;
      rr_json_begin_object (w);
      rr_json_key (w, "label");
      rr_json_string (w, col_text (st, 1));
      rr_json_key (w, "day");
      rr_json_int (w, sqlite3_column_int64 (st, 2));
      rr_json_key (w, "studies");
      rr_json_begin_array (w);
      sqlite3_bind_int64 (ss, 1, tp);
      while (ss && sqlite3_step (ss) == SQLITE_ROW)
        rr_json_string (w, col_text (ss, 0));
      sqlite3_finalize (ss);
      rr_json_end_array (w);
      /* Earlier timepoints are locked (read and submitted before); this
       * one once the task is submitted. */
      locked = tp != t->timepoint || g_str_equal (t->status, "submitted");
      rr_json_key (w, "locked");
      rr_json_bool (w, locked);
      rr_json_end_object (w);
    }
  sqlite3_finalize (st);
  rr_json_end_array (w);
  rr_json_key (w, "created_at");
  rr_json_string (w, t->created_at);
  rr_json_key (w, "due_at");
  rr_json_string (w, t->due_at);
  rr_json_key (w, "version");
  rr_json_int (w, t->version);
  if (close)
    rr_json_end_object (w);
}

static void
get_tasks (RrHttpRequest  *req,
           RrHttpAnswer *resp)
{
  const char *status = g_hash_table_lookup (req->query, "status");
  static const char *const statuses[] = { "open", "submitted", "all", NULL };
  g_autoptr (RrJsonWriter) w = rr_json_writer_new (FALSE);
  sqlite3_stmt *st;

  status = status ? status : "open";
  if (!one_of (status, statuses))
    return bad_request (resp, "status is open, submitted or all");
  st = rr_db_prepare (TASK_SELECT " WHERE (t.user_id = ?1 OR ?2) AND (?3 = 'all' OR t.status = ?3)"
                      " ORDER BY t.due_at, t.created_at, t.id");
  sqlite3_bind_int64 (st, 1, req->user->id);
  sqlite3_bind_int (st, 2, req->user->admin);
  sqlite3_bind_text (st, 3, status, -1, SQLITE_TRANSIENT);
  rr_json_begin_array (w);
  while (st && sqlite3_step (st) == SQLITE_ROW)
    {
      g_auto (Task) t = { 0 };
      task_from_row (&t, st);
      write_task (w, &t, TRUE);
    }
  sqlite3_finalize (st);
  rr_json_end_array (w);
  rr_respond_json (resp, 200, rr_json_writer_steal (w));
}

/* The read submitted for (trial, subject, timepoint) in @slot. */
static gboolean
read_of_slot (const char *trial,
              const char *subject,
              gint64      timepoint,
              gint64      slot,
              char      **read_json,
              char      **responses,
              char      **submission)
{
  sqlite3_stmt *st = rr_db_prepare (
    "SELECT s.body, s.responses, s.id FROM submissions s JOIN tasks t ON t.id = s.task_id"
    " WHERE t.kind = 'read' AND t.trial_id = ?1 AND t.subject = ?2 AND t.timepoint_id = ?3"
    " AND t.slot = ?4");
  gboolean found = FALSE;
  sqlite3_bind_text (st, 1, trial, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (st, 2, subject, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (st, 3, timepoint);
  sqlite3_bind_int64 (st, 4, slot);
  if (st && sqlite3_step (st) == SQLITE_ROW)
    {
      g_autoptr (JsonParser) p = json_parser_new ();
      found = TRUE;
      if (read_json)
        {
          /* The read itself, without the signature. */
          *read_json = NULL;
          if (json_parser_load_from_data (p, col_text (st, 0), -1, NULL))
            {
              JsonNode *r = json_object_get_member (json_node_get_object (json_parser_get_root (p)),
                                                    "read");
              *read_json = r ? node_to_json (r) : g_strdup ("null");
            }
        }
      if (responses)
        *responses = g_strdup (col_text (st, 1));
      if (submission)
        *submission = g_strdup (col_text (st, 2));
    }
  sqlite3_finalize (st);
  return found;
}

/* best_overall_response and the progression timepoint of a result. */
static void
outcome (const char  *responses,
         char       **bor,
         char       **progression)
{
  g_autoptr (JsonParser) p = json_parser_new ();
  JsonObject *o;
  *bor = NULL;
  if (progression)
    *progression = NULL;
  if (responses == NULL || !json_parser_load_from_data (p, responses, -1, NULL) ||
      !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (p)))
    return;
  o = json_node_get_object (json_parser_get_root (p));
  *bor = g_strdup (json_object_get_string_member_with_default (o, "best_overall_response", ""));
  if (progression)
    {
      JsonNode *n = json_object_get_member (o, "progression_timepoint");
      *progression = g_strdup (n && json_node_get_value_type (n) == G_TYPE_STRING
                                 ? json_node_get_string (n) : "");
    }
}

/* The overall response at the read's last timepoint. */
static char *
overall_at_last (const char *responses)
{
  g_autoptr (JsonParser) p = json_parser_new ();
  JsonNode *n;
  JsonArray *a;
  if (responses == NULL || !json_parser_load_from_data (p, responses, -1, NULL) ||
      !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (p)))
    return g_strdup ("");
  n = json_object_get_member (json_node_get_object (json_parser_get_root (p)), "timepoints");
  if (n == NULL || !JSON_NODE_HOLDS_ARRAY (n) || json_array_get_length (a = json_node_get_array (n)) == 0)
    return g_strdup ("");  /* baseline only */
  return g_strdup (json_object_get_string_member_with_default (
    json_array_get_object_element (a, json_array_get_length (a) - 1), "overall", ""));
}

static void
write_discrepancies (RrJsonWriter *w,
                     const char   *r1,
                     const char   *r2)
{
  g_autofree char *b1 = NULL, *b2 = NULL, *p1 = NULL, *p2 = NULL;
  g_autofree char *o1 = overall_at_last (r1), *o2 = overall_at_last (r2);
  outcome (r1, &b1, &p1);
  outcome (r2, &b2, &p2);
  rr_json_begin_array (w);
  {
    const char *fields[] = { "best_overall_response", "progression_timepoint", "overall" };
    const char *a[] = { b1, p1, o1 }, *b[] = { b2, p2, o2 };
    for (guint i = 0; i < 3; i++)
      if (g_strcmp0 (a[i], b[i]) != 0)
        {
          rr_json_begin_object (w);
          rr_json_key (w, "field");
          rr_json_string (w, fields[i]);
          rr_json_key (w, "Reader 1");
          rr_json_string (w, a[i] ? a[i] : "");
          rr_json_key (w, "Reader 2");
          rr_json_string (w, b[i] ? b[i] : "");
          rr_json_end_object (w);
        }
  }
  rr_json_end_array (w);
}

static void
get_task (RrHttpRequest  *req,
          RrHttpAnswer *resp,
          const char *id)
{
  g_auto (Task) t = { 0 };
  g_autoptr (RrJsonWriter) w = rr_json_writer_new (FALSE);

  if (!task_get (req->user, id, &t))
    return not_found (resp);
  write_task (w, &t, FALSE);
  if (g_str_equal (t.kind, "read"))
    {
      /* This reader's own locked reads of the subject, earlier timepoints. */
      sqlite3_stmt *st = rr_db_prepare (
        "SELECT tp.label, s.body, s.responses FROM submissions s JOIN tasks t ON t.id = s.task_id"
        " JOIN timepoints tp ON tp.id = t.timepoint_id WHERE t.kind = 'read' AND t.user_id = ?1"
        " AND t.trial_id = ?2 AND t.subject = ?3 AND tp.day < ?4 ORDER BY tp.day");
      sqlite3_bind_int64 (st, 1, t.user_id);
      sqlite3_bind_text (st, 2, t.trial, -1, SQLITE_TRANSIENT);
      sqlite3_bind_text (st, 3, t.subject, -1, SQLITE_TRANSIENT);
      sqlite3_bind_int64 (st, 4, t.day);
      rr_json_key (w, "prior_reads");
      rr_json_begin_array (w);
      while (st && sqlite3_step (st) == SQLITE_ROW)
        {
          g_autoptr (JsonParser) p = json_parser_new ();
          JsonNode *r = NULL;
          if (json_parser_load_from_data (p, col_text (st, 1), -1, NULL))
            r = json_object_get_member (json_node_get_object (json_parser_get_root (p)), "read");
          g_autofree char *read = r ? node_to_json (r) : g_strdup ("null");
          rr_json_begin_object (w);
          rr_json_key (w, "timepoint");
          rr_json_string (w, col_text (st, 0));
          rr_json_key (w, "read");
          rr_json_raw (w, read);
          rr_json_key (w, "responses");
          rr_json_raw (w, col_text (st, 2));
          rr_json_end_object (w);
        }
      sqlite3_finalize (st);
      rr_json_end_array (w);
    }
  else if (g_str_equal (t.kind, "adjudication"))
    {
      g_autofree char *r1 = NULL, *r2 = NULL, *s1 = NULL, *s2 = NULL;
      read_of_slot (t.trial, t.subject, t.timepoint, 1, &r1, &s1, NULL);
      read_of_slot (t.trial, t.subject, t.timepoint, 2, &r2, &s2, NULL);
      rr_json_key (w, "reads");
      rr_json_begin_array (w);
      for (int k = 0; k < 2; k++)
        {
          rr_json_begin_object (w);
          rr_json_key (w, "reader");
          rr_json_string (w, k ? "Reader 2" : "Reader 1");
          rr_json_key (w, "read");
          rr_json_raw (w, (k ? r2 : r1) ? (k ? r2 : r1) : "null");
          rr_json_key (w, "responses");
          rr_json_raw (w, (k ? s2 : s1) && *(k ? s2 : s1) ? (k ? s2 : s1) : "null");
          rr_json_end_object (w);
        }
      rr_json_end_array (w);
      rr_json_key (w, "discrepancies");
      write_discrepancies (w, s1, s2);
    }
  else
    {
      sqlite3_stmt *st = rr_db_prepare ("SELECT protocol FROM trials WHERE id = ?1");
      sqlite3_bind_text (st, 1, t.trial, -1, SQLITE_TRANSIENT);
      rr_json_key (w, "protocol");
      rr_json_raw (w, st && sqlite3_step (st) == SQLITE_ROW ? col_text (st, 0) : "{}");
      sqlite3_finalize (st);
    }
  rr_json_end_object (w);
  rr_respond_json (resp, 200, rr_json_writer_steal (w));
}

static void
get_task_instances (RrHttpRequest  *req,
                    RrHttpAnswer *resp,
                    const char *id)
{
  g_auto (Task) t = { 0 };
  g_autoptr (RrJsonWriter) w = rr_json_writer_new (FALSE);
  sqlite3_stmt *tps;

  if (!task_get (req->user, id, &t))
    return not_found (resp);
  tps = task_timepoints (&t);
  rr_json_begin_array (w);
  while (tps && sqlite3_step (tps) == SQLITE_ROW)
    {
      sqlite3_stmt *st = rr_db_prepare (
        "SELECT i.study_uid, i.series_uid, i.sop_uid, i.size, i.md5 FROM instances i"
        " JOIN timepoint_studies ts ON ts.study_uid = i.study_uid WHERE ts.timepoint_id = ?1"
        " ORDER BY i.study_uid, i.series_uid, i.sop_uid");
      sqlite3_bind_int64 (st, 1, sqlite3_column_int64 (tps, 0));
      while (st && sqlite3_step (st) == SQLITE_ROW)
        {
          g_autofree char *url = g_strdup_printf ("/readroom/v1/instances/%s/file", col_text (st, 2));
          rr_json_begin_object (w);
          rr_json_key (w, "study");
          rr_json_string (w, col_text (st, 0));
          rr_json_key (w, "series");
          rr_json_string (w, col_text (st, 1));
          rr_json_key (w, "sop");
          rr_json_string (w, col_text (st, 2));
          rr_json_key (w, "size");
          rr_json_int (w, sqlite3_column_int64 (st, 3));
          rr_json_key (w, "md5");
          rr_json_string (w, col_text (st, 4));
          rr_json_key (w, "url");
          rr_json_string (w, url);
          rr_json_end_object (w);
        }
      sqlite3_finalize (st);
    }
  sqlite3_finalize (tps);
  rr_json_end_array (w);
  rr_respond_json (resp, 200, rr_json_writer_steal (w));
}

/* The stored file as it is, whole or the range asked for. The access
 * check runs under the lock; the file is read after it is released. */
static void
get_instance_file (RrHttpRequest  *req,
                   RrHttpAnswer *resp,
                   const char *sop,
                   char      **orthanc_id)
{
  sqlite3_stmt *st;
  g_autofree char *study = NULL;

  *orthanc_id = NULL;
  if (!rr_access_is_uid (sop))
    return not_found (resp);
  st = rr_db_prepare ("SELECT study_uid, orthanc_id FROM instances WHERE sop_uid = ?1");
  sqlite3_bind_text (st, 1, sop, -1, SQLITE_TRANSIENT);
  if (st && sqlite3_step (st) == SQLITE_ROW)
    {
      study = g_strdup (col_text (st, 0));
      *orthanc_id = g_strdup (col_text (st, 1));
    }
  sqlite3_finalize (st);
  if (study == NULL || !rr_api_user_may_see_study (req->user, study))
    {
      g_clear_pointer (orthanc_id, g_free);
      return not_found (resp);
    }
}

/* ---- timepoints ---- */

static void
post_timepoint (RrHttpRequest  *req,
                RrHttpAnswer *resp,
                const char *trial,
                const char *subject)
{
  g_autoptr (JsonParser) parser = NULL;
  JsonObject *o = parse_object (req, resp, &parser);
  gboolean ok = o != NULL;
  const char *label = o ? member_string (o, "label", TRUE, 64, &ok, resp) : NULL;
  gint64 day = o ? member_int (o, "day", 0, -3650, 36500, &ok, resp) : 0;
  JsonNode *sn = o ? json_object_get_member (o, "studies") : NULL;
  g_autoptr (GPtrArray) studies = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) created = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (RrJsonWriter) w = NULL;
  g_autofree char *now = rr_now_rfc3339 (), *details = NULL;
  gint64 tp, qc_required;
  sqlite3_stmt *st;

  if (!ok)
    return;
  if (!json_object_has_member (o, "day"))
    return bad_request (resp, "\"day\" is required");
  if (query_int ("SELECT 1 FROM trials WHERE id = ?1", trial, NULL) < 0)
    return not_found (resp);
  if (!valid_id (subject, 64))
    return bad_request (resp, "A subject id is letters, digits, '.', '_' and '-'");
  if (sn == NULL || !JSON_NODE_HOLDS_ARRAY (sn) || json_array_get_length (json_node_get_array (sn)) == 0
      || json_array_get_length (json_node_get_array (sn)) > 64)
    return bad_request (resp, "\"studies\" must list 1 to 64 Study Instance UIDs");
  for (guint i = 0; i < json_array_get_length (json_node_get_array (sn)); i++)
    {
      JsonNode *e = json_array_get_element (json_node_get_array (sn), i);
      const char *uid = json_node_get_value_type (e) == G_TYPE_STRING ? json_node_get_string (e)
                                                                        : NULL;
      if (!rr_access_is_uid (uid))
        return bad_request (resp, "\"studies\" must list Study Instance UIDs");
      g_ptr_array_add (studies, g_strdup (uid));
    }
  {
    sqlite3_stmt *dup = rr_db_prepare ("SELECT 1 FROM timepoints WHERE trial_id = ?1 AND subject = ?2"
                                       " AND (label = ?3 OR day = ?4)");
    gboolean exists;
    sqlite3_bind_text (dup, 1, trial, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text (dup, 2, subject, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text (dup, 3, label, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64 (dup, 4, day);
    exists = sqlite3_step (dup) == SQLITE_ROW;
    sqlite3_finalize (dup);
    if (exists)
      return rr_respond_error (resp, 409, "conflict", "The subject has a timepoint with that "
                               "label or day", NULL);
  }
  qc_required = query_int ("SELECT qc_required FROM trials WHERE id = ?1", trial, NULL);

  rr_db_begin ();
  st = rr_db_prepare ("INSERT INTO timepoints (trial_id, subject, label, day, qc_status, created_at)"
                      " VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
  sqlite3_bind_text (st, 1, trial, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (st, 2, subject, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (st, 3, label, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (st, 4, day);
  sqlite3_bind_text (st, 5, qc_required ? "pending" : "none", -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 6, now, -1, SQLITE_TRANSIENT);
  if (!step_done (st))
    goto failed;
  tp = sqlite3_last_insert_rowid (rr_server->db);
  for (guint i = 0; i < studies->len; i++)
    {
      const char *uid = studies->pdata[i];
      g_autofree char *oid = rr_server->lookup_study ? rr_server->lookup_study (uid) : NULL;
      if (oid == NULL)
        {
          g_autofree char *msg = g_strdup_printf ("Study %s is not stored on this server", uid);
          rr_db_rollback ();
          return rr_respond_error (resp, 422, "invalid_submission", msg, NULL);
        }
      st = rr_db_prepare ("INSERT INTO studies (study_uid, orthanc_id) VALUES (?1, ?2)"
                          " ON CONFLICT (study_uid) DO UPDATE SET orthanc_id = ?2");
      sqlite3_bind_text (st, 1, uid, -1, SQLITE_TRANSIENT);
      sqlite3_bind_text (st, 2, oid, -1, SQLITE_TRANSIENT);
      if (!step_done (st) || !index_study (uid, oid))
        goto failed;
      st = rr_db_prepare ("INSERT INTO timepoint_studies (timepoint_id, study_uid) VALUES (?1, ?2)");
      sqlite3_bind_int64 (st, 1, tp);
      sqlite3_bind_text (st, 2, uid, -1, SQLITE_TRANSIENT);
      if (!step_done (st))
        goto failed;
    }
  w = rr_json_writer_new (FALSE);
  rr_json_begin_object (w);
  rr_json_key (w, "trial");
  rr_json_string (w, trial);
  rr_json_key (w, "subject");
  rr_json_string (w, subject);
  rr_json_key (w, "label");
  rr_json_string (w, label);
  rr_json_key (w, "day");
  rr_json_int (w, day);
  rr_json_key (w, "studies");
  rr_json_begin_array (w);
  for (guint i = 0; i < studies->len; i++)
    rr_json_string (w, studies->pdata[i]);
  rr_json_end_array (w);
  rr_json_end_object (w);
  details = rr_json_writer_steal (w);
  {
    g_autofree char *object = g_strdup_printf ("%s/%s/%s", trial, subject, label);
    if (!rr_audit_append (req->user->username, "timepoint.link", object, details))
      goto failed;
  }
  /* The work it calls for: QC first, or the reads. */
  if (qc_required)
    {
      gint64 qc = least_loaded (trial, "qc", NULL);
      char *id;
      if (qc < 0)
        {
          rr_db_rollback ();
          return rr_respond_error (resp, 409, "conflict", "The trial has no QC reviewer", NULL);
        }
      id = create_task ("qc", trial, subject, tp, qc, 0, req->user->username);
      if (id == NULL)
        goto failed;
      g_ptr_array_add (created, id);
    }
  else if (!create_read_tasks (trial, subject, tp, req->user->username, created))
    {
      rr_db_rollback ();
      return rr_respond_error (resp, 409, "conflict", "The trial has too few readers", NULL);
    }
  rr_db_commit ();
  w = rr_json_writer_new (FALSE);
  rr_json_begin_object (w);
  rr_json_key (w, "timepoint");
  rr_json_raw (w, details);
  rr_json_key (w, "tasks");
  rr_json_begin_array (w);
  for (guint i = 0; i < created->len; i++)
    rr_json_string (w, created->pdata[i]);
  rr_json_end_array (w);
  rr_json_end_object (w);
  rr_respond_json (resp, 201, rr_json_writer_steal (w));
  return;

failed:
  rr_db_rollback ();
  server_failed (resp);
}

/* ---- submissions ---- */

static void
write_receipt (RrJsonWriter *w,
               const char   *id,
               const char   *at,
               const char   *responses)
{
  rr_json_begin_object (w);
  rr_json_key (w, "receipt");
  rr_json_begin_object (w);
  rr_json_key (w, "id");
  rr_json_string (w, id);
  rr_json_key (w, "submitted_at");
  rr_json_string (w, at);
  rr_json_key (w, "responses");
  rr_json_raw (w, responses && *responses ? responses : "null");
  rr_json_end_object (w);
  rr_json_end_object (w);
}

/* GET /tasks/{id}/submission: what the server holds for a task, so a
 * client that lost the answer to its POST (a crash, a dropped connection)
 * settles its outbox by asking instead of sending again. The submitter and
 * an admin may ask; so may the adjudicator of the case, for its reads. */
static gboolean
adjudicates (const RrUser *user,
             const Task   *t)
{
  sqlite3_stmt *st;
  gboolean yes;

  if (!g_str_equal (t->kind, "read"))
    return FALSE;
  st = rr_db_prepare ("SELECT 1 FROM tasks WHERE kind = 'adjudication' AND user_id = ?1"
                      " AND trial_id = ?2 AND subject = ?3 AND timepoint_id = ?4"
                      " AND status != 'cancelled'");
  sqlite3_bind_int64 (st, 1, user->id);
  sqlite3_bind_text (st, 2, t->trial, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (st, 3, t->subject, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (st, 4, t->timepoint);
  yes = st && sqlite3_step (st) == SQLITE_ROW;
  sqlite3_finalize (st);
  return yes;
}

static void
get_submission (RrHttpRequest  *req,
                RrHttpAnswer *resp,
                const char *id)
{
  g_auto (Task) t = { 0 };
  g_autoptr (RrJsonWriter) w = NULL;
  sqlite3_stmt *st;
  RrUser any = { .admin = TRUE };

  /* Look the task up as an admin would, then decide: a task that the
   * caller may not see is a 404 like one that does not exist. */
  if (!task_get (&any, id, &t))
    return not_found (resp);
  if (!req->user->admin && t.user_id != req->user->id && !adjudicates (req->user, &t))
    return not_found (resp);

  st = rr_db_prepare ("SELECT s.id, s.idempotency_key, s.submitted_at, s.responses, s.body,"
                      " s.meaning, u.username FROM submissions s JOIN users u ON u.id = s.user_id"
                      " WHERE s.task_id = ?1");
  sqlite3_bind_text (st, 1, t.id, -1, SQLITE_TRANSIENT);
  if (st == NULL || sqlite3_step (st) != SQLITE_ROW)
    {
      sqlite3_finalize (st);
      return rr_respond_error (resp, 404, "not_found", "Nothing was submitted for this task", NULL);
    }
  w = rr_json_writer_new (FALSE);
  rr_json_begin_object (w);
  rr_json_key (w, "task");
  rr_json_string (w, t.id);
  rr_json_key (w, "idempotency_key");
  rr_json_string (w, col_text (st, 1));
  rr_json_key (w, "signed_by");
  rr_json_string (w, col_text (st, 6));
  rr_json_key (w, "meaning");
  rr_json_string (w, col_text (st, 5));
  rr_json_key (w, "submission");
  rr_json_raw (w, col_text (st, 4));
  rr_json_key (w, "receipt");
  rr_json_begin_object (w);
  rr_json_key (w, "id");
  rr_json_string (w, col_text (st, 0));
  rr_json_key (w, "submitted_at");
  rr_json_string (w, col_text (st, 2));
  rr_json_key (w, "responses");
  rr_json_raw (w, *col_text (st, 3) ? col_text (st, 3) : "null");
  rr_json_end_object (w);
  rr_json_end_object (w);
  sqlite3_finalize (st);
  rr_respond_json (resp, 200, rr_json_writer_steal (w));
}

/* Compares the responses a read came with to the server's own: the words
 * that decide the trial's endpoint. Differences are listed in @details. */
static gboolean
responses_match (JsonNode *given,
                 const char *ours,
                 RrJsonWriter *details)
{
  g_autoptr (JsonParser) p = json_parser_new ();
  JsonObject *a, *b;
  JsonArray *ta, *tb;
  gboolean same = TRUE;
  static const char *const fields[] = { "target", "non_target", "new_lesions", "overall", NULL };

  if (given == NULL || !JSON_NODE_HOLDS_OBJECT (given) ||
      !json_parser_load_from_data (p, ours, -1, NULL))
    {
      rr_json_begin_object (details);
      rr_json_key (details, "rule");
      rr_json_string (details, "responses_missing");
      rr_json_key (details, "message");
      rr_json_string (details, "The read must carry the responses it was submitted with");
      rr_json_end_object (details);
      return FALSE;
    }
  a = json_node_get_object (given);
  b = json_node_get_object (json_parser_get_root (p));
#define CHECK(name, x, y)                                                                     \
  if (g_strcmp0 (x, y) != 0)                                                                  \
    {                                                                                         \
      rr_json_begin_object (details);                                                         \
      rr_json_key (details, "rule");                                                          \
      rr_json_string (details, "responses_differ");                                           \
      rr_json_key (details, "field");                                                         \
      rr_json_string (details, name);                                                         \
      rr_json_key (details, "submitted");                                                     \
      rr_json_string (details, (x) ? (x) : "");                                               \
      rr_json_key (details, "recomputed");                                                    \
      rr_json_string (details, (y) ? (y) : "");                                               \
      rr_json_end_object (details);                                                           \
      same = FALSE;                                                                           \
    }
  CHECK ("best_overall_response",
         json_object_get_string_member_with_default (a, "best_overall_response", NULL),
         json_object_get_string_member_with_default (b, "best_overall_response", NULL));
  {
    JsonNode *x = json_object_get_member (a, "progression_timepoint");
    JsonNode *y = json_object_get_member (b, "progression_timepoint");
    const char *xs = x && json_node_get_value_type (x) == G_TYPE_STRING ? json_node_get_string (x) : NULL;
    const char *ys = y && json_node_get_value_type (y) == G_TYPE_STRING ? json_node_get_string (y) : NULL;
    CHECK ("progression_timepoint", xs, ys);
  }
  ta = json_object_has_member (a, "timepoints") &&
       JSON_NODE_HOLDS_ARRAY (json_object_get_member (a, "timepoints"))
         ? json_object_get_array_member (a, "timepoints") : NULL;
  tb = json_object_get_array_member (b, "timepoints");
  if (ta == NULL || json_array_get_length (ta) != json_array_get_length (tb))
    {
      CHECK ("timepoints", "different", "");
    }
  else
    for (guint i = 0; i < json_array_get_length (tb); i++)
      {
        JsonNode *ea = json_array_get_element (ta, i);
        JsonObject *ob = json_array_get_object_element (tb, i);
        JsonObject *oa = JSON_NODE_HOLDS_OBJECT (ea) ? json_node_get_object (ea) : NULL;
        for (guint f = 0; fields[f]; f++)
          {
            g_autofree char *name = g_strdup_printf ("timepoints[%u].%s", i, fields[f]);
            const char *x = oa ? json_object_get_string_member_with_default (oa, fields[f], NULL)
                               : NULL;
            const char *y = json_object_get_string_member_with_default (ob, fields[f], NULL);
            CHECK (name, x, y);
          }
      }
#undef CHECK
  return same;
}

/* After a read: both reads in, compared by the trial's rule; agreement is
 * final, disagreement opens an adjudication. */
static gboolean
after_read (const Task *t,
            const char *by)
{
  g_autofree char *s1 = NULL, *s2 = NULL, *id1 = NULL, *id2 = NULL, *rule = NULL;
  g_autofree char *b1 = NULL, *b2 = NULL, *p1 = NULL, *p2 = NULL, *now = NULL;
  gint64 n = query_int ("SELECT readers_per_case FROM trials WHERE id = ?1", t->trial, NULL);
  gboolean agree;
  sqlite3_stmt *st;

  if (!read_of_slot (t->trial, t->subject, t->timepoint, 1, NULL, &s1, &id1))
    return TRUE;
  now = rr_now_rfc3339 ();
  if (n >= 2 && !read_of_slot (t->trial, t->subject, t->timepoint, 2, NULL, &s2, &id2))
    return TRUE;
  st = rr_db_prepare ("SELECT adjudication FROM trials WHERE id = ?1");
  sqlite3_bind_text (st, 1, t->trial, -1, SQLITE_TRANSIENT);
  if (sqlite3_step (st) == SQLITE_ROW)
    rule = g_strdup (col_text (st, 0));
  sqlite3_finalize (st);
  outcome (s1, &b1, &p1);
  if (n >= 2)
    outcome (s2, &b2, &p2);
  agree = n < 2 || (g_strcmp0 (b1, b2) == 0 &&
                    (g_strcmp0 (rule, "bor_or_pd_timepoint") != 0 || g_strcmp0 (p1, p2) == 0));
  if (agree)
    {
      st = rr_db_prepare ("INSERT INTO finals (timepoint_id, source, submission_id, decided_at)"
                          " VALUES (?1, 'agreement', ?2, ?3)");
      sqlite3_bind_int64 (st, 1, t->timepoint);
      sqlite3_bind_text (st, 2, id1, -1, SQLITE_TRANSIENT);
      sqlite3_bind_text (st, 3, now, -1, SQLITE_TRANSIENT);
      if (!step_done (st))
        return FALSE;
      {
        g_autofree char *object = g_strdup_printf ("%s/%s/%" G_GINT64_FORMAT, t->trial, t->subject,
                                                   t->timepoint);
        g_autofree char *details = g_strdup_printf ("{\"source\": \"agreement\", \"bor\": \"%s\"}",
                                                    b1 ? b1 : "");
        return rr_audit_append (by, "final.agreement", object, details);
      }
    }
  {
    gint64 adj = least_loaded (t->trial, "adjudicator", NULL);
    g_autofree char *id = NULL;
    if (adj < 0)
      return TRUE;  /* none yet: the case waits; export shows it undecided */
    id = create_task ("adjudication", t->trial, t->subject, t->timepoint, adj, 0, by);
    return id != NULL;
  }
}

static gboolean
set_task_submitted (const Task *t)
{
  sqlite3_stmt *st = rr_db_prepare ("UPDATE tasks SET status = 'submitted', version = version + 1"
                                    " WHERE id = ?1 AND status = 'open'");
  sqlite3_bind_text (st, 1, t->id, -1, SQLITE_TRANSIENT);
  return step_done (st) && sqlite3_changes (rr_server->db) == 1;
}

static void
post_submission (RrHttpRequest  *req,
                 RrHttpAnswer *resp,
                 const char *id)
{
  static const char *const decisions[] = { "pass", "fail", "query", NULL };
  static const char *const categories[] = {
    "wrong_modality", "incomplete_coverage", "slice_thickness", "missing_slices",
    "motion_artifact", "contrast_phase", "phi_present", "wrong_subject_or_visit",
    "image_quality", "other", NULL
  };
  static const char *const severities[] = { "minor", "major", NULL };
  static const char *const shapes[] = { "point", "rect", "line", NULL };
  g_auto (Task) t = { 0 };
  const char *key = g_hash_table_lookup (req->headers, "idempotency-key");
  g_autofree char *body_hash = NULL, *responses = NULL, *now = NULL, *sub_id = NULL;
  g_autofree char *password_hash = NULL;
  g_autoptr (JsonParser) parser = NULL;
  g_autoptr (RrUser) signer = NULL;
  JsonObject *o, *sig;
  const char *password, *meaning;
  gboolean ok = TRUE;
  sqlite3_stmt *st;

  if (!task_get (req->user, id, &t) || (req->user->admin && t.user_id != req->user->id))
    return not_found (resp);
  if (key == NULL || strlen (key) < 8 || strlen (key) > 128 || !valid_id (key, 128))
    return bad_request (resp, "An Idempotency-Key header (8-128 letters, digits, '-') is required");
  if (req->body_len > RR_MAX_BODY)
    return rr_respond_error (resp, 413, "too_large", "The body is larger than 8 MiB", NULL);
  body_hash = rr_sha256_hex (req->body ? req->body : "", req->body_len);

  /* The same submission again: the same receipt. Anything else: 409. */
  st = rr_db_prepare ("SELECT id, idempotency_key, body_hash, submitted_at, responses"
                      " FROM submissions WHERE task_id = ?1");
  sqlite3_bind_text (st, 1, t.id, -1, SQLITE_TRANSIENT);
  if (st && sqlite3_step (st) == SQLITE_ROW)
    {
      if (g_str_equal (col_text (st, 1), key) && g_str_equal (col_text (st, 2), body_hash))
        {
          g_autoptr (RrJsonWriter) w = rr_json_writer_new (FALSE);
          write_receipt (w, col_text (st, 0), col_text (st, 3), col_text (st, 4));
          sqlite3_finalize (st);
          return rr_respond_json (resp, 200, rr_json_writer_steal (w));
        }
      sqlite3_finalize (st);
      return rr_respond_error (resp, 409, "conflict", "This task was submitted already", NULL);
    }
  sqlite3_finalize (st);
  if (!g_str_equal (t.status, "open"))
    return rr_respond_error (resp, 409, "conflict", "This task is not open", NULL);

  o = parse_object (req, resp, &parser);
  if (o == NULL)
    return;
  if (!json_object_has_member (o, "signature") ||
      !JSON_NODE_HOLDS_OBJECT (json_object_get_member (o, "signature")))
    return bad_request (resp, "\"signature\" {\"password\", \"meaning\"} is required");
  sig = json_object_get_object_member (o, "signature");
  password = member_string (sig, "password", TRUE, 1024, &ok, resp);
  meaning = member_string (sig, "meaning", TRUE, 200, &ok, resp);
  if (!ok)
    return;

  /* The document is checked before the signature is: a 422 tells what is
   * wrong without spending a password attempt. */
  if (g_str_equal (t.kind, "read"))
    {
      JsonNode *rn = json_object_get_member (o, "read");
      g_autoptr (GError) error = NULL;
      g_autoptr (RrRead) read = NULL;
      g_autoptr (RrCriteriaResult) result = NULL;
      g_autoptr (RrJsonWriter) details = rr_json_writer_new (FALSE);
      g_autoptr (GPtrArray) labels = g_ptr_array_new_with_free_func (g_free);
      g_autoptr (GArray) days = g_array_new (FALSE, FALSE, sizeof (gint64));
      gboolean valid = TRUE;

      if (rn == NULL || !JSON_NODE_HOLDS_OBJECT (rn))
        return bad_request (resp, "\"read\" (the read JSON) is required");
      read = rr_read_parse_node (rn, &error);
      if (read == NULL)
        {
          g_autofree char *msg = g_strdup_printf ("The read is not valid: %s", error->message);
          return rr_respond_error (resp, 422, "invalid_submission", msg, NULL);
        }
      if (g_strcmp0 (read->criteria, t.criteria) != 0)
        return rr_respond_error (resp, 422, "invalid_submission",
                                 "The read uses other criteria than the trial", NULL);
      st = task_timepoints (&t);
      while (st && sqlite3_step (st) == SQLITE_ROW)
        {
          gint64 d = sqlite3_column_int64 (st, 2);
          g_ptr_array_add (labels, g_strdup (col_text (st, 1)));
          g_array_append_val (days, d);
        }
      sqlite3_finalize (st);
      rr_json_begin_array (details);
      if (read->timepoints->len != labels->len)
        valid = FALSE;
      for (guint i = 0; valid && i < labels->len; i++)
        {
          const RrTimepoint *tp = read->timepoints->pdata[i];
          valid = g_strcmp0 (tp->id, labels->pdata[i]) == 0 &&
                  tp->day == g_array_index (days, gint64, i);
        }
      if (!valid)
        {
          rr_json_begin_object (details);
          rr_json_key (details, "rule");
          rr_json_string (details, "timepoints");
          rr_json_key (details, "message");
          rr_json_string (details, "The read's timepoints must be the task's, by label and day, "
                                   "in order");
          rr_json_end_object (details);
        }
      result = rr_criteria_evaluate (read, &error);
      if (result == NULL)
        return rr_respond_error (resp, 422, "invalid_submission", error->message, NULL);
      responses = rr_criteria_result_to_json (result);
      for (guint i = 0; i < result->violations->len; i++)
        {
          const RrIssue *v = result->violations->pdata[i];
          rr_json_begin_object (details);
          rr_json_key (details, "rule");
          rr_json_string (details, v->rule);
          rr_json_key (details, "message");
          rr_json_string (details, v->message);
          rr_json_end_object (details);
          valid = FALSE;
        }
      if (!responses_match (json_object_get_member (json_node_get_object (rn), "responses"),
                            responses, details))
        valid = FALSE;
      rr_json_end_array (details);
      if (!valid)
        {
          g_autofree char *d = rr_json_writer_steal (details);
          return rr_respond_error (resp, 422, "invalid_submission",
                                   "The read breaks the criteria's rules or its responses differ "
                                   "from the server's", d);
        }
    }
  else if (g_str_equal (t.kind, "adjudication"))
    {
      const char *chosen = member_string (o, "chosen", TRUE, 16, &ok, resp);
      const char *rationale = member_string (o, "rationale", TRUE, 10000, &ok, resp);
      if (!ok)
        return;
      if (!g_str_equal (chosen, "Reader 1") && !g_str_equal (chosen, "Reader 2"))
        return bad_request (resp, "\"chosen\" is \"Reader 1\" or \"Reader 2\"");
      (void) rationale;
      read_of_slot (t.trial, t.subject, t.timepoint, g_str_equal (chosen, "Reader 1") ? 1 : 2,
                    NULL, &responses, NULL);
    }
  else
    {
      const char *decision = member_string (o, "decision", TRUE, 16, &ok, resp);
      JsonNode *fn = json_object_get_member (o, "findings");
      if (!ok)
        return;
      if (!one_of (decision, decisions))
        return bad_request (resp, "\"decision\" is pass, fail or query");
      if (fn && !JSON_NODE_HOLDS_NULL (fn) &&
          (!JSON_NODE_HOLDS_ARRAY (fn) || json_array_get_length (json_node_get_array (fn)) > 1000))
        return bad_request (resp, "\"findings\" is a list of up to 1000 findings");
      for (guint i = 0; fn && JSON_NODE_HOLDS_ARRAY (fn) &&
                        i < json_array_get_length (json_node_get_array (fn)); i++)
        {
          JsonNode *e = json_array_get_element (json_node_get_array (fn), i);
          JsonObject *f = JSON_NODE_HOLDS_OBJECT (e) ? json_node_get_object (e) : NULL;
          JsonNode *shape, *points;
          if (f == NULL)
            return bad_request (resp, "A finding is an object");
          if (!one_of (member_string (f, "category", TRUE, 64, &ok, resp), categories) && ok)
            return bad_request (resp, "Unknown finding category");
          if (!one_of (member_string (f, "severity", TRUE, 16, &ok, resp), severities) && ok)
            return bad_request (resp, "A finding's severity is minor or major");
          member_string (f, "comment", FALSE, 4000, &ok, resp);
          if (!ok)
            return;
          {
            const char *series = member_string (f, "series", FALSE, 64, &ok, resp);
            const char *sop = member_string (f, "sop", FALSE, 64, &ok, resp);
            if (!ok)
              return;
            if ((series && !rr_access_is_uid (series)) || (sop && !rr_access_is_uid (sop)))
              return bad_request (resp, "A finding's series and sop are UIDs");
            member_int (f, "frame", 0, 0, 1 << 20, &ok, resp);
            if (!ok)
              return;
          }
          shape = json_object_get_member (f, "shape");
          if (shape && !JSON_NODE_HOLDS_NULL (shape))
            {
              JsonObject *so = JSON_NODE_HOLDS_OBJECT (shape) ? json_node_get_object (shape) : NULL;
              if (so == NULL || !one_of (member_string (so, "type", TRUE, 16, &ok, resp), shapes))
                return ok ? bad_request (resp, "A shape is a point, rect or line") : (void) 0;
              points = json_object_get_member (so, "points");
              if (points == NULL || !JSON_NODE_HOLDS_ARRAY (points) ||
                  json_array_get_length (json_node_get_array (points)) == 0 ||
                  json_array_get_length (json_node_get_array (points)) > 256)
                return bad_request (resp, "A shape has 1 to 256 points");
              for (guint k = 0; k < json_array_get_length (json_node_get_array (points)); k++)
                {
                  JsonNode *pt = json_array_get_element (json_node_get_array (points), k);
                  if (!JSON_NODE_HOLDS_ARRAY (pt) || json_array_get_length (json_node_get_array (pt)) != 2)
                    return bad_request (resp, "A point is [x, y]");
                  for (guint c = 0; c < 2; c++)
                    {
                      JsonNode *v = json_array_get_element (json_node_get_array (pt), c);
                      GType type = json_node_get_value_type (v);
                      if ((type != G_TYPE_INT64 && type != G_TYPE_DOUBLE) ||
                          !isfinite (json_node_get_double (v)))
                        return bad_request (resp, "A point is [x, y] in numbers");
                    }
                }
            }
        }
    }

  /* The signature: the signer's own password, checked like a login. */
  if (rr_login_throttled (req->user->username, req->client))
    return rr_respond_error (resp, 503, "rate_limited", "Too many failed signatures; wait a few "
                             "minutes", NULL);
  signer = rr_user_lookup (req->user->username, &password_hash);
  if (signer == NULL || !rr_password_check (password_hash, password))
    {
      rr_login_failed (req->user->username, req->client);
      return rr_respond_error (resp, 401, "unauthenticated", "The signature's password is wrong; "
                               "nothing was stored", NULL);
    }

  now = rr_now_rfc3339 ();
  sub_id = g_uuid_string_random ();
  rr_db_begin ();
  st = rr_db_prepare ("INSERT INTO submissions (id, task_id, idempotency_key, body_hash, body,"
                      " responses, user_id, meaning, submitted_at)"
                      " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)");
  {
    /* The stored body keeps everything but the password. */
    json_object_remove_member (sig, "password");
    g_autofree char *stored = node_to_json (json_parser_get_root (parser));
    sqlite3_bind_text (st, 1, sub_id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text (st, 2, t.id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text (st, 3, key, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text (st, 4, body_hash, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text (st, 5, stored, -1, SQLITE_TRANSIENT);
    if (responses)
      sqlite3_bind_text (st, 6, responses, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64 (st, 7, req->user->id);
    sqlite3_bind_text (st, 8, meaning, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text (st, 9, now, -1, SQLITE_TRANSIENT);
    if (!step_done (st) || !set_task_submitted (&t))
      goto failed;
  }
  {
    g_autoptr (RrJsonWriter) d = rr_json_writer_new (FALSE);
    g_autofree char *details = NULL;
    rr_json_begin_object (d);
    rr_json_key (d, "submission");
    rr_json_string (d, sub_id);
    rr_json_key (d, "kind");
    rr_json_string (d, t.kind);
    rr_json_key (d, "signed_by");
    rr_json_string (d, signer->display_name);
    rr_json_key (d, "meaning");
    rr_json_string (d, meaning);
    rr_json_key (d, "body_sha256");
    rr_json_string (d, body_hash);
    rr_json_end_object (d);
    details = rr_json_writer_steal (d);
    if (!rr_audit_append (req->user->username, "task.submit", t.id, details))
      goto failed;
  }

  if (g_str_equal (t.kind, "read"))
    {
      if (!after_read (&t, req->user->username))
        goto failed;
    }
  else if (g_str_equal (t.kind, "adjudication"))
    {
      const char *chosen = json_object_get_string_member (o, "chosen");
      g_autofree char *chosen_sub = NULL;
      read_of_slot (t.trial, t.subject, t.timepoint, g_str_equal (chosen, "Reader 1") ? 1 : 2,
                    NULL, NULL, &chosen_sub);
      st = rr_db_prepare ("INSERT INTO finals (timepoint_id, source, submission_id, decided_at)"
                          " VALUES (?1, ?2, ?3, ?4)");
      sqlite3_bind_int64 (st, 1, t.timepoint);
      sqlite3_bind_text (st, 2, chosen, -1, SQLITE_TRANSIENT);
      sqlite3_bind_text (st, 3, chosen_sub ? chosen_sub : "", -1, SQLITE_TRANSIENT);
      sqlite3_bind_text (st, 4, now, -1, SQLITE_TRANSIENT);
      {
        g_autoptr (RrJsonWriter) d = rr_json_writer_new (FALSE);
        g_autofree char *details = NULL;
        rr_json_begin_object (d);
        rr_json_key (d, "chosen");
        rr_json_string (d, chosen);
        rr_json_key (d, "rationale");
        rr_json_string (d, json_object_get_string_member (o, "rationale"));
        rr_json_end_object (d);
        details = rr_json_writer_steal (d);
        if (chosen_sub == NULL || !step_done (st) ||
            !rr_audit_append (req->user->username, "final.adjudicated", t.id, details))
          goto failed;
      }
    }
  else
    {
      const char *decision = json_object_get_string_member (o, "decision");
      const char *status = g_str_equal (decision, "pass") ? "passed"
                           : g_str_equal (decision, "fail") ? "failed" : "queried";
      g_autoptr (GPtrArray) created = g_ptr_array_new_with_free_func (g_free);
      st = rr_db_prepare ("UPDATE timepoints SET qc_status = ?1 WHERE id = ?2");
      sqlite3_bind_text (st, 1, status, -1, SQLITE_STATIC);
      sqlite3_bind_int64 (st, 2, t.timepoint);
      if (!step_done (st))
        goto failed;
      {
        g_autofree char *details = g_strdup_printf ("{\"qc\": \"%s\"}", status);
        if (!rr_audit_append (req->user->username, "timepoint.qc", t.id, details))
          goto failed;
      }
      if (g_str_equal (decision, "pass") &&
          !create_read_tasks (t.trial, t.subject, t.timepoint, req->user->username, created))
        {
          rr_db_rollback ();
          return rr_respond_error (resp, 409, "conflict", "The trial has too few readers; nothing "
                                   "was stored", NULL);
        }
    }
  rr_db_commit ();
  {
    g_autoptr (RrJsonWriter) w = rr_json_writer_new (FALSE);
    write_receipt (w, sub_id, now, responses);
    rr_respond_json (resp, 201, rr_json_writer_steal (w));
  }
  return;

failed:
  rr_db_rollback ();
  server_failed (resp);
}

/* ---- export ---- */

typedef struct
{
  char *subject, *label;
  gint64 day, timepoint;
  char *resp[2];           /* each reader's responses */
  char *user[2];
  char *adjudicated;       /* "Reader 1" / "Reader 2" / NULL */
  char *rationale;
  gboolean adjudication_open;
  char *final_source, *final_responses;
} ExportRow;

static void
export_row_free (gpointer data)
{
  ExportRow *r = data;
  g_free (r->subject);
  g_free (r->label);
  for (int i = 0; i < 2; i++)
    g_free (r->resp[i]), g_free (r->user[i]);
  g_free (r->adjudicated);
  g_free (r->rationale);
  g_free (r->final_source);
  g_free (r->final_responses);
  g_free (r);
}

static void
get_export (RrHttpRequest  *req,
            RrHttpAnswer *resp,
            const char *trial)
{
  const char *format = g_hash_table_lookup (req->query, "format");
  g_autoptr (GPtrArray) rows = g_ptr_array_new_with_free_func (export_row_free);
  sqlite3_stmt *st;
  guint twice = 0, adjudicated = 0, same_bor = 0;
  g_autoptr (GHashTable) cats = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr (GHashTable) m1 = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr (GHashTable) m2 = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  double kappa = NAN, po = NAN, pe = 0;

  format = format ? format : "json";
  if (!g_str_equal (format, "json") && !g_str_equal (format, "csv"))
    return bad_request (resp, "format is csv or json");
  if (query_int ("SELECT 1 FROM trials WHERE id = ?1", trial, NULL) < 0)
    return not_found (resp);
  st = rr_db_prepare ("SELECT id, subject, label, day FROM timepoints WHERE trial_id = ?1"
                      " ORDER BY subject, day");
  sqlite3_bind_text (st, 1, trial, -1, SQLITE_TRANSIENT);
  while (st && sqlite3_step (st) == SQLITE_ROW)
    {
      ExportRow *r = g_new0 (ExportRow, 1);
      sqlite3_stmt *q;
      r->timepoint = sqlite3_column_int64 (st, 0);
      r->subject = g_strdup (col_text (st, 1));
      r->label = g_strdup (col_text (st, 2));
      r->day = sqlite3_column_int64 (st, 3);
      for (int k = 0; k < 2; k++)
        {
          read_of_slot (trial, r->subject, r->timepoint, k + 1, NULL, &r->resp[k], NULL);
          q = rr_db_prepare ("SELECT u.username FROM subject_readers s JOIN users u ON u.id = s.user_id"
                             " WHERE s.trial_id = ?1 AND s.subject = ?2 AND s.slot = ?3");
          sqlite3_bind_text (q, 1, trial, -1, SQLITE_TRANSIENT);
          sqlite3_bind_text (q, 2, r->subject, -1, SQLITE_TRANSIENT);
          sqlite3_bind_int (q, 3, k + 1);
          if (sqlite3_step (q) == SQLITE_ROW)
            r->user[k] = g_strdup (col_text (q, 0));
          sqlite3_finalize (q);
        }
      q = rr_db_prepare ("SELECT t.status, s.body FROM tasks t LEFT JOIN submissions s"
                         " ON s.task_id = t.id WHERE t.kind = 'adjudication' AND t.timepoint_id = ?1");
      sqlite3_bind_int64 (q, 1, r->timepoint);
      if (sqlite3_step (q) == SQLITE_ROW)
        {
          g_autoptr (JsonParser) p = json_parser_new ();
          r->adjudication_open = g_str_equal (col_text (q, 0), "open");
          if (!r->adjudication_open && json_parser_load_from_data (p, col_text (q, 1), -1, NULL))
            {
              JsonObject *b = json_node_get_object (json_parser_get_root (p));
              r->adjudicated = g_strdup (json_object_get_string_member_with_default (b, "chosen", ""));
              r->rationale = g_strdup (json_object_get_string_member_with_default (b, "rationale", ""));
            }
          else
            r->adjudicated = NULL;
          adjudicated++;
        }
      sqlite3_finalize (q);
      q = rr_db_prepare ("SELECT f.source, s.responses FROM finals f JOIN submissions s"
                         " ON s.id = f.submission_id WHERE f.timepoint_id = ?1");
      sqlite3_bind_int64 (q, 1, r->timepoint);
      if (sqlite3_step (q) == SQLITE_ROW)
        {
          r->final_source = g_strdup (col_text (q, 0));
          r->final_responses = g_strdup (col_text (q, 1));
        }
      sqlite3_finalize (q);
      if (r->resp[0] && r->resp[1])
        {
          g_autofree char *b1 = NULL, *b2 = NULL;
          outcome (r->resp[0], &b1, NULL);
          outcome (r->resp[1], &b2, NULL);
          twice++;
          same_bor += g_strcmp0 (b1, b2) == 0;
          g_hash_table_add (cats, g_strdup (b1));
          g_hash_table_add (cats, g_strdup (b2));
          g_hash_table_insert (m1, g_strdup (b1),
                               GUINT_TO_POINTER (GPOINTER_TO_UINT (g_hash_table_lookup (m1, b1)) + 1));
          g_hash_table_insert (m2, g_strdup (b2),
                               GUINT_TO_POINTER (GPOINTER_TO_UINT (g_hash_table_lookup (m2, b2)) + 1));
        }
      g_ptr_array_add (rows, r);
    }
  sqlite3_finalize (st);
  /* Cohen's kappa on best overall response over the cases read twice. */
  if (twice > 0)
    {
      GHashTableIter it;
      gpointer c;
      po = (double) same_bor / twice;
      g_hash_table_iter_init (&it, cats);
      while (g_hash_table_iter_next (&it, &c, NULL))
        pe += (GPOINTER_TO_UINT (g_hash_table_lookup (m1, c)) / (double) twice) *
              (GPOINTER_TO_UINT (g_hash_table_lookup (m2, c)) / (double) twice);
      kappa = pe < 1 ? (po - pe) / (1 - pe) : (po == 1 ? 1 : NAN);
    }

  if (g_str_equal (format, "csv"))
    {
      GString *s = g_string_new ("subject,timepoint,day,reader1,reader1_overall,reader1_bor,"
                                 "reader2,reader2_overall,reader2_bor,adjudication,chosen,"
                                 "final_source,final_overall,final_bor\n");
      for (guint i = 0; i < rows->len; i++)
        {
          ExportRow *r = rows->pdata[i];
          g_autofree char *o1 = overall_at_last (r->resp[0]), *o2 = overall_at_last (r->resp[1]);
          g_autofree char *fo = overall_at_last (r->final_responses);
          g_autofree char *b1 = NULL, *b2 = NULL, *fb = NULL;
          outcome (r->resp[0], &b1, NULL);
          outcome (r->resp[1], &b2, NULL);
          outcome (r->final_responses, &fb, NULL);
          g_string_append_printf (s, "%s,%s,%" G_GINT64_FORMAT ",%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s\n",
                                  r->subject, r->label, r->day, r->user[0] ? r->user[0] : "",
                                  o1, b1 ? b1 : "", r->user[1] ? r->user[1] : "", o2, b2 ? b2 : "",
                                  r->adjudicated ? "done" : r->adjudication_open ? "open" : "",
                                  r->adjudicated ? r->adjudicated : "",
                                  r->final_source ? r->final_source : "", fo, fb ? fb : "");
        }
      g_string_append_printf (s, "# cases_read_twice,%u\n# adjudicated,%u\n", twice, adjudicated);
      g_string_append_printf (s, "# adjudication_rate,%.4f\n# bor_agreement,%.4f\n# kappa_bor,%.4f\n",
                              twice ? (double) adjudicated / twice : 0, isnan (po) ? 0 : po,
                              isnan (kappa) ? 0 : kappa);
      rr_response_clear (resp);
      resp->status = 200;
      resp->content_type = g_strdup ("text/csv");
      resp->body = g_bytes_new_take (s->str, s->len);
      g_string_free (s, FALSE);
      return;
    }
  {
    g_autoptr (RrJsonWriter) w = rr_json_writer_new (TRUE);
    rr_json_begin_object (w);
    rr_json_key (w, "trial");
    rr_json_string (w, trial);
    rr_json_key (w, "rows");
    rr_json_begin_array (w);
    for (guint i = 0; i < rows->len; i++)
      {
        ExportRow *r = rows->pdata[i];
        rr_json_begin_object (w);
        rr_json_key (w, "subject");
        rr_json_string (w, r->subject);
        rr_json_key (w, "timepoint");
        rr_json_string (w, r->label);
        rr_json_key (w, "day");
        rr_json_int (w, r->day);
        rr_json_key (w, "reads");
        rr_json_begin_array (w);
        for (int k = 0; k < 2; k++)
          if (r->resp[k])
            {
              rr_json_begin_object (w);
              rr_json_key (w, "reader");
              rr_json_string (w, k ? "Reader 2" : "Reader 1");
              rr_json_key (w, "user");
              rr_json_string (w, r->user[k] ? r->user[k] : "");
              rr_json_key (w, "responses");
              rr_json_raw (w, r->resp[k]);
              rr_json_end_object (w);
            }
        rr_json_end_array (w);
        rr_json_key (w, "adjudication");
        if (r->adjudicated || r->adjudication_open)
          {
            rr_json_begin_object (w);
            rr_json_key (w, "status");
            rr_json_string (w, r->adjudicated ? "done" : "open");
            rr_json_key (w, "chosen");
            if (r->adjudicated)
              rr_json_string (w, r->adjudicated);
            else
              rr_json_null (w);
            rr_json_key (w, "rationale");
            if (r->rationale)
              rr_json_string (w, r->rationale);
            else
              rr_json_null (w);
            rr_json_end_object (w);
          }
        else
          rr_json_null (w);
        rr_json_key (w, "final");
        if (r->final_source)
          {
            rr_json_begin_object (w);
            rr_json_key (w, "source");
            rr_json_string (w, r->final_source);
            rr_json_key (w, "responses");
            rr_json_raw (w, r->final_responses);
            rr_json_end_object (w);
          }
        else
          rr_json_null (w);
        rr_json_end_object (w);
      }
    rr_json_end_array (w);
    rr_json_key (w, "agreement");
    rr_json_begin_object (w);
    rr_json_key (w, "cases_read_twice");
    rr_json_int (w, twice);
    rr_json_key (w, "adjudicated");
    rr_json_int (w, adjudicated);
    rr_json_key (w, "adjudication_rate");
    if (twice)
      rr_json_double (w, round ((double) adjudicated / twice * 1e4) / 1e4);
    else
      rr_json_null (w);
    rr_json_key (w, "bor_agreement");
    if (!isnan (po))
      rr_json_double (w, round (po * 1e4) / 1e4);
    else
      rr_json_null (w);
    rr_json_key (w, "kappa_bor");
    if (!isnan (kappa))
      rr_json_double (w, round (kappa * 1e4) / 1e4);
    else
      rr_json_null (w);
    rr_json_end_object (w);
    rr_json_end_object (w);
    rr_respond_json (resp, 200, rr_json_writer_steal (w));
  }
}

/* ---- audit ---- */

static void
get_audit (RrHttpRequest  *req,
           RrHttpAnswer *resp)
{
  const char *after = g_hash_table_lookup (req->query, "after");
  const char *limit = g_hash_table_lookup (req->query, "limit");
  gint64 a = 0, l = 1000;
  g_autoptr (RrJsonWriter) w = NULL;
  sqlite3_stmt *st;

  if ((after && !g_ascii_string_to_signed (after, 10, 0, G_MAXINT64, &a, NULL)) ||
      (limit && !g_ascii_string_to_signed (limit, 10, 1, 10000, &l, NULL)))
    return bad_request (resp, "after is a sequence number; limit is 1 to 10000");
  w = rr_json_writer_new (FALSE);
  st = rr_db_prepare ("SELECT seq, at, user, action, object, details, prev_hash, hash"
                                    " FROM audit WHERE seq > ?1 ORDER BY seq LIMIT ?2");
  sqlite3_bind_int64 (st, 1, MAX (a, 0));
  sqlite3_bind_int64 (st, 2, CLAMP (l, 1, 10000));
  rr_json_begin_array (w);
  while (st && sqlite3_step (st) == SQLITE_ROW)
    {
      rr_json_begin_object (w);
      rr_json_key (w, "seq");
      rr_json_int (w, sqlite3_column_int64 (st, 0));
      rr_json_key (w, "at");
      rr_json_string (w, col_text (st, 1));
      rr_json_key (w, "user");
      rr_json_string (w, col_text (st, 2));
      rr_json_key (w, "action");
      rr_json_string (w, col_text (st, 3));
      rr_json_key (w, "object");
      rr_json_string (w, col_text (st, 4));
      rr_json_key (w, "details");
      {
        /* Stored as JSON by us; shown as text if it is not. */
        g_autoptr (JsonParser) p = json_parser_new ();
        if (json_parser_load_from_data (p, col_text (st, 5), -1, NULL))
          rr_json_raw (w, col_text (st, 5));
        else
          rr_json_string (w, col_text (st, 5));
      }
      rr_json_key (w, "prev_hash");
      rr_json_string (w, col_text (st, 6));
      rr_json_key (w, "hash");
      rr_json_string (w, col_text (st, 7));
      rr_json_end_object (w);
    }
  sqlite3_finalize (st);
  rr_json_end_array (w);
  rr_respond_json (resp, 200, rr_json_writer_steal (w));
}

static void
get_audit_verify (RrHttpAnswer *resp)
{
  gint64 n = 0, broken = rr_audit_verify (&n);
  g_autoptr (RrJsonWriter) w = rr_json_writer_new (FALSE);
  rr_json_begin_object (w);
  rr_json_key (w, "ok");
  rr_json_bool (w, broken == 0);
  rr_json_key (w, "events");
  rr_json_int (w, n);
  if (broken)
    {
      rr_json_key (w, "broken_at");
      rr_json_int (w, broken);
    }
  rr_json_end_object (w);
  rr_respond_json (resp, 200, rr_json_writer_steal (w));
}

/* ---- routing ---- */

static gboolean
is (RrHttpRequest  *req,
    const char *method)
{
  return g_str_equal (req->method, method);
}

/* Dispatches @route (the path after /readroom/v1/). Sets *@file to an
 * Orthanc instance id when the answer is a file to stream (the caller
 * reads it outside the lock). */
static void
dispatch (const char *route,
          RrHttpRequest  *req,
          RrHttpAnswer *resp,
          char      **file)
{
  g_auto (GStrv) seg = g_strsplit (route, "/", 8);
  guint n = g_strv_length (seg);
  gboolean admin = req->user && req->user->admin;

  *file = NULL;
  if (n == 1 && g_str_equal (seg[0], "health") && is (req, "GET"))
    return rr_respond_json (resp, 200, g_strdup ("{\"plugin\": \"readroom\", \"version\": \""
                                                 RR_SERVER_VERSION "\"}"));
  if (n == 1 && g_str_equal (seg[0], "sessions"))
    return is (req, "POST") ? post_sessions (req, resp) : not_found (resp);
  if (req->user == NULL)
    return rr_respond_error (resp, 401, "unauthenticated", "A valid bearer token is required", NULL);

  if (n == 2 && g_str_equal (seg[0], "sessions") && g_str_equal (seg[1], "current") && is (req, "DELETE"))
    return delete_session (req, resp);
  if (n == 1 && g_str_equal (seg[0], "me") && is (req, "GET"))
    return get_me (req, resp);
  if (n == 1 && g_str_equal (seg[0], "tasks") && is (req, "GET"))
    return get_tasks (req, resp);
  if (n >= 2 && g_str_equal (seg[0], "tasks") && valid_id (seg[1], 64))
    {
      if (n == 2 && is (req, "GET"))
        return get_task (req, resp, seg[1]);
      if (n == 3 && g_str_equal (seg[2], "instances") && is (req, "GET"))
        return get_task_instances (req, resp, seg[1]);
      if (n == 3 && g_str_equal (seg[2], "submission") && is (req, "POST"))
        return post_submission (req, resp, seg[1]);
      if (n == 3 && g_str_equal (seg[2], "submission") && is (req, "GET"))
        return get_submission (req, resp, seg[1]);
      return not_found (resp);
    }
  if (n == 1 && g_str_equal (seg[0], "instances") && is (req, "POST"))
    return post_instances (req, resp);
  if (n == 3 && g_str_equal (seg[0], "instances") && g_str_equal (seg[2], "file") && is (req, "GET"))
    return get_instance_file (req, resp, seg[1], file);

  /* Administration: an admin's only; others learn nothing (403 without
   * telling whether the thing exists). */
  if ((n >= 1 && (g_str_equal (seg[0], "users") || g_str_equal (seg[0], "trials") ||
                  g_str_equal (seg[0], "audit"))) && !admin)
    return forbidden (resp);
  if (n == 1 && g_str_equal (seg[0], "users") && is (req, "POST"))
    return post_users (req, resp);
  if (n == 2 && g_str_equal (seg[0], "users") && valid_id (seg[1], 64) && is (req, "PUT"))
    return put_user (req, resp, seg[1]);
  if (n == 1 && g_str_equal (seg[0], "trials") && is (req, "POST"))
    return post_trials (req, resp);
  if (n == 1 && g_str_equal (seg[0], "trials") && is (req, "GET"))
    return get_trials (req, resp, NULL);
  if (n >= 2 && g_str_equal (seg[0], "trials") && valid_id (seg[1], 64))
    {
      if (n == 2 && is (req, "GET"))
        return get_trials (req, resp, seg[1]);
      if (n == 4 && g_str_equal (seg[2], "members") && valid_id (seg[3], 64) && is (req, "PUT"))
        return put_member (req, resp, seg[1], seg[3]);
      if (n == 5 && g_str_equal (seg[2], "subjects") && g_str_equal (seg[4], "timepoints") &&
          is (req, "POST"))
        return post_timepoint (req, resp, seg[1], seg[3]);
      if (n == 3 && g_str_equal (seg[2], "export") && is (req, "GET"))
        return get_export (req, resp, seg[1]);
      return not_found (resp);
    }
  if (n == 1 && g_str_equal (seg[0], "audit") && is (req, "GET"))
    return get_audit (req, resp);
  if (n == 2 && g_str_equal (seg[0], "audit") && g_str_equal (seg[1], "verify") && is (req, "GET"))
    return get_audit_verify (resp);
  not_found (resp);
}

/* Serves a stored file, whole or one byte range, without the lock. */
static void
answer_file (RrHttpRequest  *req,
             RrHttpAnswer *resp,
             const char *orthanc_id)
{
  g_autofree char *uri = g_strdup_printf ("/instances/%s/file", orthanc_id);
  g_autoptr (GBytes) data = rr_server->rest_get (uri);
  const char *range = g_hash_table_lookup (req->headers, "range");
  gsize size;
  guint64 from = 0, to;

  if (data == NULL)
    return server_failed (resp);
  size = g_bytes_get_size (data);
  to = size ? size - 1 : 0;
  rr_response_clear (resp);
  resp->headers = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (resp->headers, g_strdup ("Accept-Ranges"));
  g_ptr_array_add (resp->headers, g_strdup ("bytes"));
  resp->content_type = g_strdup ("application/dicom");
  if (range && g_str_has_prefix (range, "bytes="))
    {
      /* One range: "a-b", "a-" or "-n". */
      const char *spec = range + 6;
      char *end = NULL;
      gboolean ok = TRUE;
      if (*spec == '-')
        {
          guint64 last = g_ascii_strtoull (spec + 1, &end, 10);
          ok = end != spec + 1 && *end == '\0' && last > 0;
          from = last >= size ? 0 : size - last;
        }
      else
        {
          from = g_ascii_strtoull (spec, &end, 10);
          ok = end != spec && *end == '-';
          if (ok && end[1] != '\0')
            {
              const char *b = end + 1;
              to = g_ascii_strtoull (b, &end, 10);
              ok = end != b && *end == '\0' && to >= from;
            }
          else if (ok)
            ok = end[1] == '\0';
        }
      if (!ok || from >= size)
        {
          g_autofree char *cr = g_strdup_printf ("bytes */%zu", size);
          g_ptr_array_add (resp->headers, g_strdup ("Content-Range"));
          g_ptr_array_add (resp->headers, g_steal_pointer (&cr));
          resp->status = 416;
          return;
        }
      to = MIN (to, size - 1);
      resp->status = 206;
      resp->body = g_bytes_new_from_bytes (data, from, to - from + 1);
      g_ptr_array_add (resp->headers, g_strdup ("Content-Range"));
      g_ptr_array_add (resp->headers, g_strdup_printf ("bytes %" G_GUINT64_FORMAT "-%"
                                                       G_GUINT64_FORMAT "/%zu", from, to, size));
      return;
    }
  resp->status = 200;
  resp->body = g_bytes_ref (data);
}

void
rr_api_handle (const char *route,
               RrHttpRequest  *req,
               RrHttpAnswer *resp)
{
  g_autofree char *file = NULL;

  g_mutex_lock (&rr_server->lock);
  {
    const char *auth = g_hash_table_lookup (req->headers, "authorization");
    if (auth && g_str_has_prefix (auth, "Bearer "))
      req->user = rr_user_from_token (auth + 7);
    dispatch (route, req, resp, &file);
  }
  g_mutex_unlock (&rr_server->lock);
  if (file)
    answer_file (req, resp, file);
  g_clear_pointer (&req->user, rr_user_free);
}
