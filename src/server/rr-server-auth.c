/* rr-server-auth.c: passwords (Argon2id through libsodium), bearer tokens
 * (256 random bits, kept only as their SHA-256), sessions that expire, and
 * login throttling per user and per address. */
#include "rr-server.h"

#include <gio/gio.h>
#include <sodium.h>
#include <string.h>

#define SESSION_SECONDS (12 * 3600)
#define THROTTLE_WINDOW_US (5 * 60 * G_USEC_PER_SEC)
#define THROTTLE_FAILURES 8

void
rr_user_free (RrUser *user)
{
  if (user == NULL)
    return;
  g_free (user->username);
  g_free (user->display_name);
  g_free (user);
}

char *
rr_sha256_hex (const void *data,
               gsize       len)
{
  unsigned char out[crypto_hash_sha256_BYTES];
  char hex[2 * crypto_hash_sha256_BYTES + 1];
  crypto_hash_sha256 (out, data, len);
  sodium_bin2hex (hex, sizeof hex, out, sizeof out);
  return g_strdup (hex);
}

char *
rr_password_hash (const char *password)
{
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str (out, password, strlen (password), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                         crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
    return NULL;
  return g_strdup (out);
}

gboolean
rr_password_check (const char *hash,
                   const char *password)
{
  if (hash == NULL || password == NULL)
    return FALSE;
  return crypto_pwhash_str_verify (hash, password, strlen (password)) == 0;
}

static RrUser *
user_from_row (sqlite3_stmt *st)
{
  RrUser *u = g_new0 (RrUser, 1);
  u->id = sqlite3_column_int64 (st, 0);
  u->username = g_strdup ((const char *) sqlite3_column_text (st, 1));
  u->display_name = g_strdup ((const char *) sqlite3_column_text (st, 2));
  u->admin = sqlite3_column_int (st, 3);
  return u;
}

RrUser *
rr_user_lookup (const char *username,
                char      **hash)
{
  sqlite3_stmt *st = rr_db_prepare ("SELECT id, username, display_name, admin, password_hash"
                                    " FROM users WHERE username = ?1 AND disabled = 0");
  RrUser *u = NULL;
  if (st == NULL)
    return NULL;
  sqlite3_bind_text (st, 1, username, -1, SQLITE_TRANSIENT);
  if (sqlite3_step (st) == SQLITE_ROW)
    {
      u = user_from_row (st);
      if (hash)
        *hash = g_strdup ((const char *) sqlite3_column_text (st, 4));
    }
  sqlite3_finalize (st);
  return u;
}

RrUser *
rr_user_from_token (const char *bearer)
{
  g_autofree char *h = NULL;
  sqlite3_stmt *st;
  RrUser *u = NULL;

  if (bearer == NULL || strlen (bearer) != 64)
    return NULL;
  h = rr_sha256_hex (bearer, 64);
  st = rr_db_prepare ("SELECT u.id, u.username, u.display_name, u.admin FROM sessions s"
                      " JOIN users u ON u.id = s.user_id"
                      " WHERE s.token_hash = ?1 AND s.expires_at > ?2 AND u.disabled = 0");
  if (st == NULL)
    return NULL;
  sqlite3_bind_text (st, 1, h, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (st, 2, g_get_real_time () / G_USEC_PER_SEC);
  if (sqlite3_step (st) == SQLITE_ROW)
    u = user_from_row (st);
  sqlite3_finalize (st);
  return u;
}

char *
rr_session_create (const RrUser *user,
                   gint64       *expires)
{
  unsigned char raw[32];
  char token[65];
  g_autofree char *h = NULL;
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  const char *env = g_getenv ("READROOM_SESSION_SECONDS");
  gint64 life = env ? g_ascii_strtoll (env, NULL, 10) : SESSION_SECONDS;
  sqlite3_stmt *st;
  int rc;

  randombytes_buf (raw, sizeof raw);
  sodium_bin2hex (token, sizeof token, raw, sizeof raw);
  h = rr_sha256_hex (token, 64);
  *expires = now + CLAMP (life, 1, 7 * 24 * 3600);
  st = rr_db_prepare ("INSERT INTO sessions (token_hash, user_id, created_at, expires_at)"
                      " VALUES (?1, ?2, ?3, ?4)");
  if (st == NULL)
    return NULL;
  sqlite3_bind_text (st, 1, h, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (st, 2, user->id);
  sqlite3_bind_int64 (st, 3, now);
  sqlite3_bind_int64 (st, 4, *expires);
  rc = sqlite3_step (st);
  sqlite3_finalize (st);
  /* Old sessions go as new ones come. */
  rr_db_exec ("DELETE FROM sessions WHERE expires_at < strftime ('%s', 'now') - 86400", NULL);
  return rc == SQLITE_DONE ? g_strdup (token) : NULL;
}

void
rr_session_delete (const char *bearer)
{
  g_autofree char *h = bearer ? rr_sha256_hex (bearer, strlen (bearer)) : NULL;
  sqlite3_stmt *st = rr_db_prepare ("DELETE FROM sessions WHERE token_hash = ?1");
  if (st == NULL)
    return;
  sqlite3_bind_text (st, 1, h ? h : "", -1, SQLITE_TRANSIENT);
  sqlite3_step (st);
  sqlite3_finalize (st);
}

/* Failures are kept per key ("u:name", "a:address") as a list of times. */
static guint
recent_failures (const char *key,
                 gint64      now)
{
  GArray *times = g_hash_table_lookup (rr_server->failures, key);
  guint n = 0;
  for (guint i = 0; times && i < times->len; i++)
    if (now - g_array_index (times, gint64, i) < THROTTLE_WINDOW_US)
      n++;
  return n;
}

gboolean
rr_login_throttled (const char *user,
                    const char *client)
{
  g_autofree char *ku = g_strdup_printf ("u:%s", user ? user : "");
  g_autofree char *ka = g_strdup_printf ("a:%s", client ? client : "");
  gint64 now = g_get_monotonic_time ();
  gboolean throttled;
  g_mutex_lock (&rr_server->failures_lock);
  throttled = recent_failures (ku, now) >= THROTTLE_FAILURES ||
              recent_failures (ka, now) >= 4 * THROTTLE_FAILURES;
  g_mutex_unlock (&rr_server->failures_lock);
  return throttled;
}

void
rr_login_failed (const char *user,
                 const char *client)
{
  char *keys[2] = { g_strdup_printf ("u:%s", user ? user : ""),
                    g_strdup_printf ("a:%s", client ? client : "") };
  gint64 now = g_get_monotonic_time ();
  g_mutex_lock (&rr_server->failures_lock);
  for (int i = 0; i < 2; i++)
    {
      GArray *times = g_hash_table_lookup (rr_server->failures, keys[i]);
      if (times == NULL)
        {
          times = g_array_new (FALSE, FALSE, sizeof (gint64));
          g_hash_table_insert (rr_server->failures, g_strdup (keys[i]), times);
        }
      /* Only the window matters: older entries go. */
      while (times->len && now - g_array_index (times, gint64, 0) >= THROTTLE_WINDOW_US)
        g_array_remove_index (times, 0);
      if (times->len < 1000)
        g_array_append_val (times, now);
      g_free (keys[i]);
    }
  g_mutex_unlock (&rr_server->failures_lock);
}

gboolean
rr_user_create (const char  *username,
                const char  *password,
                const char  *display_name,
                gboolean     admin,
                const char  *by,
                GError     **error)
{
  g_autofree char *hash = rr_password_hash (password);
  g_autofree char *now = rr_now_rfc3339 ();
  g_autofree char *details = NULL;
  sqlite3_stmt *st;
  int rc;

  if (hash == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "cannot hash the password");
      return FALSE;
    }
  st = rr_db_prepare ("INSERT INTO users (username, display_name, password_hash, admin, created_at)"
                      " VALUES (?1, ?2, ?3, ?4, ?5)");
  if (st == NULL)
    return FALSE;
  sqlite3_bind_text (st, 1, username, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (st, 2, display_name ? display_name : username, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (st, 3, hash, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int (st, 4, admin);
  sqlite3_bind_text (st, 5, now, -1, SQLITE_TRANSIENT);
  rc = sqlite3_step (st);
  sqlite3_finalize (st);
  if (rc != SQLITE_DONE)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_EXISTS, "user %s exists", username);
      return FALSE;
    }
  details = g_strdup_printf ("{\"admin\": %s}", admin ? "true" : "false");
  return rr_audit_append (by, "user.create", username, details);
}
