/* rr-sync.h: the client of server-api.md: log in, fetch the tasks, and
 * fill the local cache with every instance they need: several keep-alive
 * connections, resumed with Range, each file verified (size, MD5) and
 * recorded before it is renamed into place under its SHA-256; every
 * request retried with backoff while the server fails, for at most the
 * offline timeout without progress. TLS certificates are always verified.
 * The parts: rr-sync-request.c (requests, the retry policy),
 * rr-sync-download.c (files), rr-sync-secret.c (keyring), rr-sync-outbox.c
 * (submissions). */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include "rr-store.h"

G_BEGIN_DECLS

#define RR_SYNC_ERROR (rr_sync_error_quark ())
GQuark rr_sync_error_quark (void);

typedef enum
{
  RR_SYNC_ERROR_OFFLINE,     /* the server cannot be reached (and did not come back) */
  RR_SYNC_ERROR_AUTH,        /* wrong password, or the token is no longer valid */
  RR_SYNC_ERROR_TLS,         /* the certificate could not be verified */
  RR_SYNC_ERROR_SERVER,      /* the server answered something else than the contract */
  RR_SYNC_ERROR_DISK,        /* the cache cannot be written (full, read-only) */
  RR_SYNC_ERROR_VERIFY,      /* files kept failing their checksum */
  RR_SYNC_ERROR_CANCELLED,
  RR_SYNC_ERROR_SUBMITTED,   /* the server already holds another read of the task */
} RrSyncError;

typedef struct _RrSyncClient RrSyncClient;

/* @server: "http://127.0.0.1:8042", or several nodes of one server
 * separated by commas ("https://a:8042,https://b:8042"): a connection
 * failure, 502 or 503 on one moves on to the next (the session is valid on
 * every node). Normalise it with rr_sync_servers_normalize first. @ca_file:
 * extra CA certificates, or NULL for the system's. */
RrSyncClient *rr_sync_client_new       (const char *server,
                                        const char *ca_file);
void          rr_sync_client_free      (RrSyncClient *client);
/* @text: one URL or several separated by commas or spaces. The list
 * without blanks or trailing slashes, joined by commas; a URL without a
 * scheme gets @default_scheme ("https://"), or, when that is NULL, makes
 * the whole list invalid. NULL when there is no URL, more than
 * RR_SYNC_MAX_SERVERS, or one that is not http:// or https://. */
#define RR_SYNC_MAX_SERVERS 16
char         *rr_sync_servers_normalize (const char *text,
                                         const char *default_scheme);
const char   *rr_sync_client_get_server (RrSyncClient *client);
void          rr_sync_client_set_token (RrSyncClient *client,
                                        const char   *token);
const char   *rr_sync_client_get_token (RrSyncClient *client);
/* Every request is tried again, with a growing wait, on what may pass (no
 * answer, a reset, 5xx, 503 rate_limited) until nothing has progressed for
 * @seconds (20 by default; a sync run sets its offline_timeout_s); then it
 * fails with RR_SYNC_ERROR_OFFLINE naming the server and what failed. The
 * clock starts again here. */
void          rr_sync_client_set_offline_timeout (RrSyncClient *client,
                                                  guint         seconds);

/* For a person waiting on the answer (signing, an admin command): a server
 * that cannot be reached at all (connection refused, host or network
 * unreachable, name not found) on every node fails at once with
 * RR_SYNC_ERROR_OFFLINE instead of being tried again for the offline
 * timeout, and that timeout becomes at most 5 s for what fails during a
 * request (a reset, 503). Waiting for the server to come back is the
 * outbox's background sender's work, not the person's. */
void          rr_sync_client_set_interactive (RrSyncClient *client,
                                              gboolean      interactive);
/* POST /sessions: keeps the token and returns the user object as JSON. */
char         *rr_sync_login            (RrSyncClient  *client,
                                        const char    *username,
                                        const char    *password,
                                        GError       **error);
/* One request under the server, for tools: the answer's body and status
 * (NULL with @error when it could not be sent; certificates are verified
 * as always). @headers: extra "Name: value" lines, NULL-terminated. */
GBytes       *rr_sync_request          (RrSyncClient       *client,
                                        const char         *method,
                                        const char         *path,
                                        const void         *body,
                                        gsize               size,
                                        const char         *content_type,
                                        const char * const *headers,
                                        long               *status,
                                        GError            **error);
/* GET @path (under the server), parsed. */
JsonNode     *rr_sync_get_json         (RrSyncClient  *client,
                                        const char    *path,
                                        GError       **error);

typedef struct
{
  guint files_total;       /* files the tasks need */
  guint files_done;        /* in the cache, verified */
  guint files_fetched;     /* of which transferred this time */
  guint64 bytes_total;
  guint64 bytes_done;
  guint64 bytes_fetched;   /* transferred this time */
  gboolean offline;        /* waiting for the server to come back */
  const char *status;      /* a line for people: "offline: connection refused" */
} RrSyncProgress;

typedef void (*RrSyncProgressFunc) (const RrSyncProgress *progress,
                                    gpointer              user_data);

typedef struct
{
  guint parallel;          /* connections at once (4) */
  guint offline_timeout_s; /* how long without progress, whatever fails (300) */
  const char *task_id;     /* only this task, whatever its status unless cancelled (NULL: every
                              open task) */
  gboolean tasks_only;     /* the task list, no files */
  RrSyncProgressFunc progress;
  gpointer progress_data;
} RrSyncOptions;

/* Fetches the account's tasks into @store and every instance the open
 * ones need into @cache_dir. TRUE when every file is in the cache and
 * verified. Safe to interrupt at any point: partial files are resumed the
 * next time, no file is in the cache before it is verified, and no file
 * that was whole on disk is fetched again. */
gboolean      rr_sync_run              (RrSyncClient         *client,
                                        RrStore              *store,
                                        gint64                account,
                                        const char           *cache_dir,
                                        const RrSyncOptions  *options,
                                        GCancellable         *cancellable,
                                        GError              **error);

/* The token kept for (server, user): in the desktop keyring (libsecret),
 * or, without one, in a file readable only by the user (@in_file says
 * which, so the caller can warn). */
gboolean      rr_sync_token_save       (const char  *server,
                                        const char  *username,
                                        const char  *token,
                                        gboolean    *in_file,
                                        GError     **error);
char         *rr_sync_token_load       (const char  *server,
                                        const char  *username);

/* Saves a submission (its signature's password kept apart, in the
 * keyring) in the outbox, before anything is sent; returns its
 * idempotency key. rr_sync_deliver () sends it. One entry per task: the
 * same submission again returns the entry it already has (delivered or
 * waiting); another one replaces an entry never sent (the corrected read
 * wins); when the server already holds a read of the task, NULL with
 * RR_SYNC_ERROR_SUBMITTED, whose message gives the receipt. An earlier
 * entry that may have been sent is settled by asking the server first, so
 * this may wait for the network (up to the client's offline timeout): call
 * it off the main thread. */
char         *rr_sync_submit           (RrSyncClient  *client,
                                        RrStore       *store,
                                        gint64         account,
                                        const char    *task_id,
                                        JsonNode      *submission,
                                        const char    *password,
                                        GError       **error);
/* The reason kept for a submission refused because its signature's
 * password was wrong (server-api.md: a 401 while the session holds), in
 * words of its own whatever the server's: the signing dialog tells it
 * apart from the other refusals and asks for the password again. */
#define RR_SYNC_REFUSED_PASSWORD "the password given to sign was wrong: nothing was stored"
/* Sends every waiting submission with its key until the server answers:
 * delivered (the receipt kept) or refused (the reason kept). One that may
 * have been sent already is settled by asking the server what it holds
 * before it is sent again or reported. Signature passwords that wait for
 * no entry are wiped first. FALSE when the server could not be reached;
 * what waits keeps waiting. */
gboolean      rr_sync_deliver          (RrSyncClient  *client,
                                        RrStore       *store,
                                        gint64         account,
                                        guint         *delivered,
                                        guint         *refused,
                                        GError       **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RrSyncClient, rr_sync_client_free)

G_END_DECLS
