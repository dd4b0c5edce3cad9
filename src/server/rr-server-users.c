/* rr-server-users.c: sessions (login, logout, /me) and user administration. */
#include "rr-server-private.h"

/* ---- sessions and users ---- */

/* Ends every session of @user_id (inside the caller's transaction). */
gboolean
delete_sessions_of (gint64 user_id)
{
  RrStmt *st = rr_db_query (RR_Q_SESSIONS_DELETE_USER);
  rr_stmt_bind_int (st, 1, user_id);
  return step_done (st);
}

/* A failed login or signature, in the trail (its own transaction). */
void
audit_failure (const char *action,
               const char *user,
               const char *object,
               const char *client,
               const char *reason)
{
  g_autoptr (RrJsonWriter) d = rr_json_writer_new (FALSE);
  g_autofree char *details = NULL;
  rr_json_begin_object (d);
  rr_json_key (d, "address");
  rr_json_string (d, client ? client : "");
  rr_json_key (d, "reason");
  rr_json_string (d, reason);
  /* A name no account can have (valid_id) is the caller's text, not a
   * user: it was recorded as the event's user, control characters and
   * right-to-left overrides included, so an outsider wrote lines of its
   * choosing under "user". Recorded escaped, in the details only. */
  if (!valid_id (user, 64))
    {
      g_autofree char *escaped = g_strescape (user, NULL);
      rr_json_key (d, "name");
      rr_json_string (d, escaped);
      user = object = "(not a user name)";
    }
  rr_json_end_object (d);
  details = rr_json_writer_steal (d);
  if (!rr_db_begin ())
    return;
  if (rr_audit_append (user, action, object, details))
    rr_db_commit ();
  else
    rr_db_rollback ();
}

void
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
  RrThrottle throttle;
  gboolean verified;

  if (!ok)
    return;
  throttle = rr_login_throttle (username, req->client);
  if (throttle.refused)
    {
      /* No event: no password was checked, and a flood of refusals must
       * not become a flood of commits. */
      rr_respond_error (resp, 503, "rate_limited",
                        "Too many failed logins from here; wait a few minutes", NULL);
      return;
    }
  user = rr_user_lookup (username, &hash);
  /* Argon2id without the lock; an unknown name costs what a real one does. */
  verified = rr_password_verify (user ? hash : NULL, password, throttle.delay_us);
  rr_login_slept (&throttle);
  if (user == NULL || !verified)
    {
      rr_login_failed (username, req->client);
      audit_failure ("session.fail", username, username, req->client,
                     user ? "wrong password" : "unknown or disabled user");
      rr_respond_error (resp, 401, "unauthenticated", "Wrong user name or password", NULL);
      return;
    }
  rr_login_succeeded (username, req->client);
  /* A hash made at an older cost is made again at today's, so that every
   * account costs what the dummy of an unknown name costs. */
  if (rr_password_needs_rehash (hash))
    {
      g_autofree char *fresh = rr_password_hash_unlocked (password);
      RrStmt *st = rr_db_query (RR_Q_USER_REHASH);
      rr_stmt_bind_text (st, 1, fresh);
      rr_stmt_bind_int (st, 2, user->id);
      rr_stmt_bind_text (st, 3, hash);
      if (fresh)
        step_done (st);
      else
        rr_stmt_finalize (st);
    }
  /* The user may have been disabled while the password was checked. */
  g_clear_pointer (&user, rr_user_free);
  g_clear_pointer (&hash, g_free);
  user = rr_user_lookup (username, &hash);
  if (user == NULL)
    {
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

void
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

void
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

void
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
  g_autofree char *hash = NULL;

  if (!ok)
    return;
  if (!valid_id (username, 64))
    return bad_request (resp, "A user name is letters, digits, '.', '_' and '-'");
  if (strlen (password) < 8)
    return bad_request (resp, "A password has at least 8 characters");
  if (query_int (RR_Q_USER_ID_BY_NAME, username, NULL) >= 0)
    return rr_respond_error (resp, 409, "conflict", "That user exists", NULL);
  hash = rr_password_hash_unlocked (password);
  if (hash == NULL)
    return server_failed (resp);
  rr_db_begin ();
  if (!rr_user_create (username, hash, display, admin, req->user->username, &error))
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
void
put_user (RrHttpRequest *req,
          RrHttpAnswer  *resp)
{
  const char *username = req->n_groups > 0 ? req->groups[0] : NULL;
  g_autoptr (JsonParser) parser = NULL;
  JsonObject *o = parse_object (req, resp, &parser);
  gboolean ok = o != NULL;
  const char *display = o ? member_string (o, "display_name", FALSE, 200, &ok, resp) : NULL;
  const char *password = o ? member_string (o, "password", FALSE, 1024, &ok, resp) : NULL;
  gboolean disabled = o ? member_bool (o, "disabled", FALSE, &ok, resp) : FALSE;
  gboolean has_disabled = o && json_object_has_member (o, "disabled");
  gint64 id = query_int (RR_Q_USER_ID_BY_NAME, username, NULL);
  g_autoptr (RrJsonWriter) w = NULL, d = NULL;
  g_autofree char *details = NULL, *hash = NULL;
  RrStmt *st;

  if (!ok)
    return;
  if (id < 0)
    return not_found (resp);
  if (password && strlen (password) < 8)
    return bad_request (resp, "A password has at least 8 characters");
  if (password && (hash = rr_password_hash_unlocked (password)) == NULL)
    return server_failed (resp);
  rr_db_begin ();
  if (display)
    {
      st = rr_db_query (RR_Q_USER_SET_DISPLAY_NAME);
      rr_stmt_bind_text (st, 1, display);
      rr_stmt_bind_int (st, 2, id);
      step_done (st);
    }
  if (password)
    {
      st = rr_db_query (RR_Q_USER_SET_PASSWORD);
      rr_stmt_bind_text (st, 1, hash);
      rr_stmt_bind_int (st, 2, id);
      /* A new password ends every session the old one opened. */
      if (!step_done (st) || !delete_sessions_of (id))
        {
          rr_db_rollback ();
          return server_failed (resp);
        }
    }
  if (has_disabled)
    {
      st = rr_db_query (RR_Q_USER_SET_DISABLED);
      rr_stmt_bind_int (st, 1, disabled);
      rr_stmt_bind_int (st, 2, id);
      step_done (st);
      /* A disabled user's tokens die with it, and the reads still open
       * pass to other readers, trial by trial, or wait unassigned for an
       * admin: disabling never waits for a successor. */
      if (disabled && (!delete_sessions_of (id) || !hand_over_all_reads (id, req->user->username)))
        {
          rr_db_rollback ();
          return server_failed (resp);
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
  st = rr_db_query (RR_Q_USER_BY_ID);
  rr_stmt_bind_int (st, 1, id);
  if (rr_stmt_step (st) == RR_ROW)
    write_user (w, rr_stmt_column_int (st, 0), col_text (st, 1), col_text (st, 2),
                rr_stmt_column_int (st, 3));
  rr_stmt_finalize (st);
  rr_respond_json (resp, 200, rr_json_writer_steal (w));
}

/* GET /users: every account, with its roles and whether it is disabled,
 * so an administrator can see who holds what before changing it. */
void
get_users (RrHttpRequest *req,
           RrHttpAnswer  *resp)
{
  g_autoptr (RrJsonWriter) w = rr_json_writer_new (FALSE);
  g_autoptr (GArray) ids = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr (GArray) admins = g_array_new (FALSE, FALSE, sizeof (gboolean));
  g_autoptr (GArray) disabled = g_array_new (FALSE, FALSE, sizeof (gboolean));
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) displays = g_ptr_array_new_with_free_func (g_free);
  RrStmt *st = rr_db_query (RR_Q_USERS_LIST);

  (void) req;
  /* Read out first: write_user runs its own query for the roles. */
  while (st && rr_stmt_step (st) == RR_ROW)
    {
      gint64 id = rr_stmt_column_int (st, 0);
      gboolean a = rr_stmt_column_int (st, 3) != 0, d = rr_stmt_column_int (st, 4) != 0;
      g_array_append_val (ids, id);
      g_ptr_array_add (names, g_strdup (col_text (st, 1)));
      g_ptr_array_add (displays, g_strdup (col_text (st, 2)));
      g_array_append_val (admins, a);
      g_array_append_val (disabled, d);
    }
  rr_stmt_finalize (st);
  rr_json_begin_array (w);
  for (guint i = 0; i < ids->len; i++)
    {
      /* write_user's object, with "disabled" added inside it. */
      g_autoptr (RrJsonWriter) one = rr_json_writer_new (FALSE);
      g_autofree char *text = NULL, *whole = NULL;
      gsize n;
      write_user (one, g_array_index (ids, gint64, i), names->pdata[i], displays->pdata[i],
                  g_array_index (admins, gboolean, i));
      text = rr_json_writer_steal (one);
      n = strlen (text);
      if (n < 2 || text[n - 1] != '}')
        return server_failed (resp);
      text[n - 1] = '\0';
      whole = g_strdup_printf ("%s, \"disabled\": %s}", text,
                               g_array_index (disabled, gboolean, i) ? "true" : "false");
      rr_json_raw (w, whole);
    }
  rr_json_end_array (w);
  rr_respond_json (resp, 200, rr_json_writer_steal (w));
}
