/* rr-server-auth.c: passwords (Argon2id through libsodium), bearer tokens
 * (256 random bits, kept only as their SHA-256), sessions that expire, and
 * login throttling per user and per address. */
#include "rr-server.h"

#include <gio/gio.h>
#include <sodium.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#define SESSION_SECONDS (12 * 3600)
#define THROTTLE_WINDOW_US (5 * 60 * G_USEC_PER_SEC)
#define THROTTLE_FREE 5               /* failures before any delay */
#define THROTTLE_PAIR_REFUSE 5        /* one account from one address: refused after */
#define THROTTLE_MAX_DELAY_US (2 * G_USEC_PER_SEC)
#define THROTTLE_MAX_SLEEPERS 8
#define THROTTLE_MAX_KEYS 10000

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

/* Argon2id at one of OWASP's equivalent minimum settings (7 MiB, 5
 * passes): libsodium's "interactive" 64 MiB cost a core 0.1-0.3 s a login
 * here, so that 20 logins a second asked for more CPU than the server has,
 * and a small memory footprint disturbs other requests' caches least
 * (19 MiB, 2 passes measured worse beside 20 readers). The parameters
 * travel in each hash: older hashes still verify at their own cost, and
 * are made again at the next login. */
#define HASH_OPSLIMIT 5
#define HASH_MEMLIMIT (7u << 20)

/* Hashing runs on a pool of its own: at most half the cores (at least
 * one) at once, on threads of lower priority (nice 10), so that logins
 * queue among themselves and other requests keep the processors they
 * need. */
#define HASH_NICE 10

typedef struct
{
  void (*work) (gpointer data);
  gpointer data;
  GMutex lock;
  GCond cond;
  gboolean done;
} HashJob;

static void
hasher (gpointer job_data,
        gpointer pool_data)
{
  static __thread gboolean niced;
  HashJob *job = job_data;

  if (!niced)
    {
      /* Linux: a thread's nice value is its own (setpriority on its id). */
      setpriority (PRIO_PROCESS, (id_t) syscall (SYS_gettid), HASH_NICE);
      niced = TRUE;
    }
  job->work (job->data);
  g_mutex_lock (&job->lock);
  job->done = TRUE;
  g_cond_signal (&job->cond);
  g_mutex_unlock (&job->lock);
}

static void
on_hasher (void     (*work) (gpointer data),
           gpointer   data)
{
  static GThreadPool *pool;
  HashJob job = { work, data };

  if (g_once_init_enter (&pool))
    g_once_init_leave (&pool, g_thread_pool_new (hasher, NULL,
                                                 (gint) MAX (1u, g_get_num_processors () / 2),
                                                 FALSE, NULL));
  g_mutex_init (&job.lock);
  g_cond_init (&job.cond);
  g_thread_pool_push (pool, &job, NULL);
  g_mutex_lock (&job.lock);
  while (!job.done)
    g_cond_wait (&job.cond, &job.lock);
  g_mutex_unlock (&job.lock);
  g_mutex_clear (&job.lock);
  g_cond_clear (&job.cond);
}

typedef struct
{
  const char *hash;
  const char *password;
  char out[crypto_pwhash_STRBYTES];
  int rc;
} HashWork;

static void
do_hash (gpointer data)
{
  HashWork *w = data;
  w->rc = crypto_pwhash_str (w->out, w->password, strlen (w->password), HASH_OPSLIMIT,
                             HASH_MEMLIMIT);
}

static void
do_verify (gpointer data)
{
  HashWork *w = data;
  w->rc = crypto_pwhash_str_verify (w->hash, w->password, strlen (w->password));
}

char *
rr_password_hash (const char *password)
{
  HashWork w = { NULL, password };
  on_hasher (do_hash, &w);
  return w.rc == 0 ? g_strdup (w.out) : NULL;
}

gboolean
rr_password_needs_rehash (const char *hash)
{
  return hash && crypto_pwhash_str_needs_rehash (hash, HASH_OPSLIMIT, HASH_MEMLIMIT) != 0;
}

gboolean
rr_password_check (const char *hash,
                   const char *password)
{
  HashWork w = { hash, password };
  if (hash == NULL || password == NULL)
    return FALSE;
  on_hasher (do_verify, &w);
  return w.rc == 0;
}

static RrUser *
user_from_row (RrStmt *st)
{
  RrUser *u = g_new0 (RrUser, 1);
  u->id = rr_stmt_column_int (st, 0);
  u->username = g_strdup ((const char *) rr_stmt_column_text (st, 1));
  u->display_name = g_strdup ((const char *) rr_stmt_column_text (st, 2));
  u->admin = rr_stmt_column_int (st, 3);
  return u;
}

RrUser *
rr_user_lookup (const char *username,
                char      **hash)
{
  RrStmt *st = rr_db_query (RR_Q_RR_USER_LOOKUP);
  RrUser *u = NULL;
  if (st == NULL)
    return NULL;
  rr_stmt_bind_text (st, 1, username);
  if (rr_stmt_step (st) == RR_ROW)
    {
      u = user_from_row (st);
      if (hash)
        *hash = g_strdup ((const char *) rr_stmt_column_text (st, 4));
    }
  rr_stmt_finalize (st);
  return u;
}

RrUser *
rr_user_from_token (const char *bearer)
{
  g_autofree char *h = NULL;
  RrStmt *st;
  RrUser *u = NULL;

  if (bearer == NULL || strlen (bearer) != 64)
    return NULL;
  h = rr_sha256_hex (bearer, 64);
  st = rr_db_query (RR_Q_RR_USER_FROM_TOKEN);
  if (st == NULL)
    return NULL;
  rr_stmt_bind_text (st, 1, h);
  rr_stmt_bind_int (st, 2, g_get_real_time () / G_USEC_PER_SEC);
  if (rr_stmt_step (st) == RR_ROW)
    u = user_from_row (st);
  rr_stmt_finalize (st);
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
  RrStmt *st;
  int rc;

  randombytes_buf (raw, sizeof raw);
  sodium_bin2hex (token, sizeof token, raw, sizeof raw);
  h = rr_sha256_hex (token, 64);
  *expires = now + CLAMP (life, 1, 7 * 24 * 3600);
  st = rr_db_query (RR_Q_RR_SESSION_CREATE);
  if (st == NULL)
    return NULL;
  rr_stmt_bind_text (st, 1, h);
  rr_stmt_bind_int (st, 2, user->id);
  rr_stmt_bind_int (st, 3, now);
  rr_stmt_bind_int (st, 4, *expires);
  rc = rr_stmt_step (st);
  rr_stmt_finalize (st);
  /* Old sessions go as new ones come. */
  st = rr_db_query (RR_Q_SESSIONS_PRUNE);
  rr_stmt_step (st);
  rr_stmt_finalize (st);
  return rc == RR_DONE ? g_strdup (token) : NULL;
}

void
rr_session_delete (const char *bearer)
{
  g_autofree char *h = bearer ? rr_sha256_hex (bearer, strlen (bearer)) : NULL;
  RrStmt *st = rr_db_query (RR_Q_RR_SESSION_DELETE);
  if (st == NULL)
    return;
  rr_stmt_bind_text (st, 1, h ? h : "");
  rr_stmt_step (st);
  rr_stmt_finalize (st);
}

/* Failures are kept per key - "u:name" (an account, from anywhere),
 * "a:address", "p:name address" (one account from one address) - as the
 * times of the recent ones. An attacker's failures slow down what they
 * touch: growing delays for the account and for the address, and a
 * refusal only for the account from the address that keeps failing. A
 * correct password from an address that has not been failing is never
 * refused (behind a TLS proxy every client shares one address: it is
 * slowed, never shut). */
/* On PostgreSQL the failures are rows (login_failures), so that every
 * node counts them all; times are then real time, which nodes share. On
 * SQLite, one process, they stay in memory as they always were. */
static gboolean
failures_shared (void)
{
  return rr_db == &rr_db_pg;
}

static guint
recent_failures_shared (const char *key)
{
  RrStmt *st = rr_db_query (RR_Q_LOGIN_FAILURES_COUNT);
  guint n = 0;
  rr_stmt_bind_text (st, 1, key);
  rr_stmt_bind_int (st, 2, g_get_real_time () - THROTTLE_WINDOW_US);
  if (rr_stmt_step (st) == RR_ROW)
    n = (guint) MIN (rr_stmt_column_int (st, 0), 1000);
  rr_stmt_finalize (st);
  return n;
}

static void
run_with_key (RrQueryId   q,
              const char *key,
              gint64      at)
{
  RrStmt *st = rr_db_query (q);
  rr_stmt_bind_text (st, 1, key);
  rr_stmt_bind_int (st, 2, at);
  rr_stmt_step (st);
  rr_stmt_finalize (st);
}

static guint
recent_failures (const char *key,
                 gint64      now)
{
  GArray *times;
  guint n = 0;
  if (failures_shared ())
    return recent_failures_shared (key);
  times = g_hash_table_lookup (rr_server->failures, key);
  for (guint i = 0; times && i < times->len; i++)
    if (now - g_array_index (times, gint64, i) < THROTTLE_WINDOW_US)
      n++;
  return n;
}

/* The delay for @n recent failures: none for the first few typing
 * mistakes, then doubling from 50 ms, at most 2 s. */
static gint64
delay_for (guint n)
{
  if (n < THROTTLE_FREE)
    return 0;
  return MIN ((gint64) 50000 << MIN (n - THROTTLE_FREE, 16u), THROTTLE_MAX_DELAY_US);
}

static char *
pair_key (const char *user,
          const char *client)
{
  return g_strdup_printf ("p:%s %s", user ? user : "", client ? client : "");
}

RrThrottle
rr_login_throttle (const char *user,
                   const char *client)
{
  g_autofree char *ku = g_strdup_printf ("u:%s", user ? user : "");
  g_autofree char *ka = g_strdup_printf ("a:%s", client ? client : "");
  g_autofree char *kp = pair_key (user, client);
  gint64 now = g_get_monotonic_time ();
  RrThrottle t = { FALSE, 0 };
  guint address;

  g_mutex_lock (&rr_server->failures_lock);
  address = recent_failures (ka, now);
  t.refused = recent_failures (kp, now) >= THROTTLE_PAIR_REFUSE;
  t.delay_us = MAX (delay_for (recent_failures (ku, now)), delay_for (address));
  /* A failing address may not hold more than a few threads asleep. */
  if (!t.refused && t.delay_us > 0 && address >= THROTTLE_FREE &&
      rr_server->throttle_sleepers >= THROTTLE_MAX_SLEEPERS)
    t.refused = TRUE;
  if (!t.refused && t.delay_us > 0)
    rr_server->throttle_sleepers++;
  g_mutex_unlock (&rr_server->failures_lock);
  return t;
}

void
rr_login_slept (const RrThrottle *t)
{
  if (t->refused || t->delay_us == 0)
    return;
  g_mutex_lock (&rr_server->failures_lock);
  rr_server->throttle_sleepers--;
  g_mutex_unlock (&rr_server->failures_lock);
}

void
rr_login_failed (const char *user,
                 const char *client)
{
  char *keys[3] = { g_strdup_printf ("u:%s", user ? user : ""),
                    g_strdup_printf ("a:%s", client ? client : ""), pair_key (user, client) };
  gint64 now = g_get_monotonic_time ();
  if (failures_shared ())
    {
      RrStmt *st = rr_db_query (RR_Q_LOGIN_FAILURES_PRUNE);
      /* The window's rows only: made-up user names cannot grow it without
       * end, each failure having cost a password check. */
      rr_stmt_bind_int (st, 1, g_get_real_time () - THROTTLE_WINDOW_US);
      rr_stmt_step (st);
      rr_stmt_finalize (st);
      for (int i = 0; i < 3; i++)
        {
          run_with_key (RR_Q_LOGIN_FAILURE_ADD, keys[i], g_get_real_time ());
          g_free (keys[i]);
        }
      return;
    }
  g_mutex_lock (&rr_server->failures_lock);
  /* Made-up user names must not grow the table without end: past the
   * bound, the expired go, and the addresses still count. */
  if (g_hash_table_size (rr_server->failures) >= THROTTLE_MAX_KEYS)
    {
      GHashTableIter it;
      gpointer v;
      g_hash_table_iter_init (&it, rr_server->failures);
      while (g_hash_table_iter_next (&it, NULL, &v))
        {
          GArray *times = v;
          if (times->len == 0 ||
              now - g_array_index (times, gint64, times->len - 1) >= THROTTLE_WINDOW_US)
            g_hash_table_iter_remove (&it);
        }
    }
  for (int i = 0; i < 3; i++)
    {
      GArray *times = g_hash_table_lookup (rr_server->failures, keys[i]);
      if (times == NULL && (i == 1 || g_hash_table_size (rr_server->failures) < THROTTLE_MAX_KEYS))
        {
          times = g_array_new (FALSE, FALSE, sizeof (gint64));
          g_hash_table_insert (rr_server->failures, g_strdup (keys[i]), times);
        }
      /* Only the window matters: older entries go. */
      while (times && times->len && now - g_array_index (times, gint64, 0) >= THROTTLE_WINDOW_US)
        g_array_remove_index (times, 0);
      if (times && times->len < 1000)
        g_array_append_val (times, now);
      g_free (keys[i]);
    }
  g_mutex_unlock (&rr_server->failures_lock);
}

void
rr_login_succeeded (const char *user,
                    const char *client)
{
  g_autofree char *kp = pair_key (user, client);
  if (failures_shared ())
    {
      RrStmt *st = rr_db_query (RR_Q_LOGIN_FAILURES_CLEAR);
      rr_stmt_bind_text (st, 1, kp);
      rr_stmt_step (st);
      rr_stmt_finalize (st);
      return;
    }
  g_mutex_lock (&rr_server->failures_lock);
  g_hash_table_remove (rr_server->failures, kp);
  g_mutex_unlock (&rr_server->failures_lock);
}

typedef struct
{
  const char *hash;
  const char *password;
  gint64 delay_us;
  gboolean ok;
} Check;

static void
check_unlocked (gpointer data)
{
  Check *c = data;
  if (c->delay_us > 0)
    g_usleep (c->delay_us);
  c->ok = rr_password_check (c->hash, c->password);
}

gboolean
rr_password_verify (const char *hash,
                    const char *password,
                    gint64      delay_us)
{
  /* An unknown user costs what a real one does: the same Argon2id
   * parameters against a hash of nothing anyone knows. */
  Check c = { hash ? hash : rr_server->dummy_hash, password ? password : "", delay_us, FALSE };
  rr_without_lock (check_unlocked, &c);
  return hash != NULL && password != NULL && c.ok;
}

typedef struct
{
  const char *password;
  char *hash;
} Hash;

static void
hash_unlocked (gpointer data)
{
  Hash *h = data;
  h->hash = rr_password_hash (h->password);
}

char *
rr_password_hash_unlocked (const char *password)
{
  Hash h = { password, NULL };
  rr_without_lock (hash_unlocked, &h);
  return h.hash;
}

gboolean
rr_user_create (const char  *username,
                const char  *hash,
                const char  *display_name,
                gboolean     admin,
                const char  *by,
                GError     **error)
{
  g_autofree char *now = rr_now_rfc3339 ();
  g_autofree char *details = NULL;
  RrStmt *st;
  int rc;

  if (hash == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "cannot hash the password");
      return FALSE;
    }
  st = rr_db_query (RR_Q_RR_USER_CREATE);
  if (st == NULL)
    return FALSE;
  rr_stmt_bind_text (st, 1, username);
  rr_stmt_bind_text (st, 2, display_name ? display_name : username);
  rr_stmt_bind_text (st, 3, hash);
  rr_stmt_bind_int (st, 4, admin);
  rr_stmt_bind_text (st, 5, now);
  rc = rr_stmt_step (st);
  rr_stmt_finalize (st);
  if (rc != RR_DONE)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_EXISTS, "user %s exists", username);
      return FALSE;
    }
  details = g_strdup_printf ("{\"admin\": %s}", admin ? "true" : "false");
  return rr_audit_append (by, "user.create", username, details);
}
