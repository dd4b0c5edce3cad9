/* rr-server.h: what the plugin's files share: the server state (its own
 * database through rr-db.h: SQLite behind one lock, or PostgreSQL one
 * transaction a request), requests and answers as plain data,
 * users and sessions, the audit trail, and the calls into Orthanc. */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>
#include "rr-db.h"
#include "rr-json-guard.h"

G_BEGIN_DECLS

#define RR_SERVER_VERSION "0.1.0"
#define RR_MAX_BODY (8u << 20)          /* JSON bodies; DICOM uploads may be larger */
#define RR_MAX_UPLOAD (1024u << 20)
#define RR_MAX_LOGIN (64u << 10)          /* POST /sessions */
#define RR_MAX_JSON (64u << 20)         /* any JSON the plugin parses, Orthanc's answers too */

typedef struct
{
  gint64 id;
  char *username;
  char *display_name;
  gboolean admin;
} RrUser;

void rr_user_free (RrUser *user);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RrUser, rr_user_free)

/* One request as the handlers see it. */
typedef struct
{
  const char *method;         /* "GET", "POST", "PUT", "DELETE" */
  const char *path;
  char **groups;              /* regex groups of the route */
  guint n_groups;
  const char *body;
  gsize body_len;
  GHashTable *headers;        /* lower-case keys */
  GHashTable *query;
  const char *client;         /* the client's address */
  RrUser *user;               /* set by the dispatcher from the token, or NULL */
} RrHttpRequest;

/* One answer. A body is JSON unless content_type says otherwise. */
typedef struct
{
  int status;
  GBytes *body;
  char *content_type;
  GPtrArray *headers;         /* name, value, name, value... */
  char *stream;               /* an Orthanc instance whose stored file is the answer,
                               * read after the lock is released */
} RrHttpAnswer;

typedef struct _RrServer RrServer;

struct _RrServer
{
  GMutex lock;                /* SQLite: one writing request at a time */
  char *db_path;              /* SQLite: the database file; the audit key and anchor beside it */
  char *shared_dir;           /* PostgreSQL: the folder every node shares (key, anchors) */
  char *node;                 /* PostgreSQL: this node's name (its anchor file) */
  char *launcher_token;       /* lets the launcher read /plugins */
  GHashTable *failures;       /* SQLite: login failures per user and address (rate limit) */
  GMutex failures_lock;
  unsigned char audit_key[32];
  char *dummy_hash;           /* what an unknown user's password is checked against */
  guint throttle_sleepers;    /* requests asleep on a login delay (failures_lock) */  /* from its own file beside the database */
  /* Calls into Orthanc (set by the plugin; tests may stub them). */
  char *(*lookup_study) (const char *study_uid);                 /* Orthanc id or NULL */
  char *(*lookup_instance) (const char *sop_uid);                /* Orthanc id or NULL */
  char *(*dicom_json) (const void *body, gsize size);            /* tags by number, or NULL */
  GBytes *(*rest_get) (const char *uri);                         /* NULL on error */
  GBytes *(*rest_get_plugins) (const char *uri);                 /* other plugins' routes too */
  /* NULL on error, with Orthanc's error code in *code. */
  GBytes *(*rest_post) (const char *uri, const void *body, gsize size, int *code);
  gboolean (*rest_delete) (const char *uri);
};

extern RrServer *rr_server;

/* rr-server-db.c */
/* The plugin's state in the SQLite file @path, or with @postgres (a
 * libpq URI) in PostgreSQL, the audit key and anchors then in
 * server->shared_dir. */
gboolean    rr_server_db_open      (RrServer    *server,
                                    const char  *path,
                                    const char  *postgres,
                                    GError     **error);
/* After the request's transaction committed (PostgreSQL): anchors the
 * audit head it appended; after a rollback, forgets it. */
void        rr_db_request_ended    (gboolean committed);
void        rr_server_db_close     (RrServer *server);
gboolean    rr_db_begin            (void);
/* Between these two, this thread's statements run on a read-only
 * connection of its own, in one transaction that sees the last commit,
 * without the server's lock; writing fails. */
gboolean    rr_db_snapshot_begin   (void);
void        rr_db_snapshot_end     (void);
gboolean    rr_db_commit           (void);
void        rr_db_rollback         (void);
/* Appends one event to the hash-chained trail (inside the caller's
 * transaction). @details is JSON or NULL. */
gboolean    rr_audit_append        (const char *user,
                                    const char *action,
                                    const char *object,
                                    const char *details);
/* HMAC-SHA256 under the server's audit key, in hex: a digest of
 * something secret (a body with a password) that cannot be inverted by
 * trying candidates without the key. */
char       *rr_server_mac_hex      (const void *data,
                                    gsize       len);
/* Recomputes the chain: 0 when it holds, else the first broken seq. */
gint64      rr_audit_verify        (gint64      *n_events,
                                    const char **reason);
char       *rr_now_rfc3339         (void);
char       *rr_time_rfc3339        (gint64 unix_seconds);

/* rr-server-auth.c */
char       *rr_password_hash       (const char *password);
gboolean    rr_password_check      (const char *hash,
                                    const char *password);
char       *rr_sha256_hex          (const void *data,
                                    gsize       len);
RrUser     *rr_user_lookup         (const char *username,
                                    char      **hash);
RrUser     *rr_user_from_token     (const char *bearer);
/* Creates a session: the token (returned once) and its expiry. */
char       *rr_session_create      (const RrUser *user,
                                    gint64       *expires);
void        rr_session_delete      (const char *bearer);
/* Login throttling (rr-server-auth.c says how). Every rr_login_throttle
 * that is not refused is followed by rr_login_slept once its delay was
 * served (rr_password_verify serves it). */
typedef struct
{
  gboolean refused;           /* 503 rate_limited, no password checked */
  gint64 delay_us;            /* to wait before the check */
} RrThrottle;
RrThrottle  rr_login_throttle      (const char *user,
                                    const char *client);
void        rr_login_slept         (const RrThrottle *t);
void        rr_login_failed        (const char *user,
                                    const char *client);
void        rr_login_succeeded     (const char *user,
                                    const char *client);
/* Checks @password against @hash (NULL: an unknown user, checked against
 * a dummy hash at the same cost), after @delay_us, without the server's
 * lock (call it outside any transaction). */
gboolean    rr_password_verify     (const char *hash,
                                    const char *password,
                                    gint64      delay_us);
/* Was @hash made at other Argon2id parameters than today's? */
gboolean    rr_password_needs_rehash (const char *hash);
/* rr_password_hash without the server's lock (outside any transaction). */
char       *rr_password_hash_unlocked (const char *password);
/* Inserts the user with the Argon2id @hash (rr_password_hash). */
gboolean    rr_user_create         (const char  *username,
                                    const char  *hash,
                                    const char  *display_name,
                                    gboolean     admin,
                                    const char  *by,
                                    GError     **error);

/* rr-server-routes.c: the one place the server's lock is taken and
 * released. rr_with_lock runs @func holding it (at once when this thread
 * holds it already); the lock is released on every way out, a C++
 * exception unwinding through the plugin included (it is built with
 * -fexceptions). rr_without_lock, called under rr_with_lock, runs @func
 * with the lock released (slow work without the database: password
 * hashing, a store into Orthanc) and takes it back; what was read before
 * may have changed after. On PostgreSQL there is no process lock: "the
 * lock" is the request's transaction on a pooled connection, @func may run
 * again after a lost race (at most 5 times), and rr_without_lock commits
 * what came before and begins anew after. */
typedef void (*RrLockedFunc) (gpointer data);
void        rr_with_lock           (RrLockedFunc func,
                                    gpointer     data);
void        rr_without_lock        (RrLockedFunc func,
                                    gpointer     data);

/* rr-server-routes.c */
void        rr_api_handle          (const char *route,
                                    RrHttpRequest  *req,
                                    RrHttpAnswer *resp);
/* Who @authorization ("Bearer ...") names, as an uploader: for a body's
 * reader, before the body is read. */
typedef enum
{
  RR_UPLOAD_NO_TOKEN,         /* no live session: 401 */
  RR_UPLOAD_NOT_UPLOADER,     /* signed in, but neither admin nor a site member: 403 */
  RR_UPLOAD_ALLOWED,
} RrUploadRight;
RrUploadRight rr_api_upload_right (const char *authorization);
/* For the request filter: may @user see the study (DICOMweb routes)? */
gboolean    rr_api_user_may_see_study (const RrUser *user,
                                       const char   *study_uid);

/* json_parser_load_from_data behind rr_json_guard: every JSON the plugin
 * parses goes through here, so no input nests deep enough to exhaust a
 * thread's stack. @len -1: NUL-terminated. */
gboolean    rr_json_load           (JsonParser  *parser,
                                    const char  *data,
                                    gssize       len,
                                    GError     **error);

void        rr_response_clear      (RrHttpAnswer *resp);
void        rr_respond_json        (RrHttpAnswer *resp,
                                    int         status,
                                    char       *json);
void        rr_respond_error       (RrHttpAnswer *resp,
                                    int         status,
                                    const char *code,
                                    const char *message,
                                    const char *details_json);

G_END_DECLS
