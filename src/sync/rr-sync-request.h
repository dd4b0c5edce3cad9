/* rr-sync-request.h: what the parts of the sync client share about a
 * request: the client itself, the options every curl handle gets, and a
 * transport failure in words people understand. */
#pragma once

#include <curl/curl.h>
#include "rr-sync.h"

G_BEGIN_DECLS

struct _RrSyncClient
{
  char *server;          /* the list as given (normalised): the account's name */
  char **bases;          /* its URLs, tried in turn (issue 20: several nodes) */
  guint n_bases;
  guint current;         /* the one requests go to now */
  guint passed;          /* nodes failed over since the last useful answer */
  char *ca_file;
  char *token;
  CURL *curl;            /* for the API calls; downloads have their own */
  /* The retry policy, one for every request (API and files): */
  guint offline_timeout_s;  /* how long without progress before giving up */
  gint64 last_progress;     /* monotonic: the last answer that was not a failure */
  guint failures;           /* failed requests since */
  gint64 not_before;        /* no request before this (the backoff) */
  char *last_failure;       /* the last of them, in words */
  gboolean interactive;     /* unreachable fails at once (rr_sync_client_set_interactive) */
  gboolean unreachable;     /* the last request found no server to talk to */
};

/* Certificates verified (never switched off), the extra CA file,
 * keep-alive, sane timeouts. */
void      rr_sync_common_options      (RrSyncClient *client,
                                       CURL         *handle);
void      rr_sync_transport_error     (GError      **error,
                                       CURLcode      rc,
                                       const char   *server,
                                       const char   *detail);
/* @method @path with @body (JSON or NULL) under the retry policy: the
 * first answer that is not a failure, whatever its status; NULL with
 * @error when the offline timeout ran out (or TLS failed). */
GBytes   *rr_sync_call                (RrSyncClient       *client,
                                       const char         *method,
                                       const char         *path,
                                       const char         *body,
                                       const char * const *headers,
                                       long               *status,
                                       GError            **error);
/* @method @path with @body (JSON or NULL); the answer parsed when its
 * status is @expect, else an error (RR_SYNC_ERROR_AUTH for 401). */
JsonNode *rr_sync_call_json           (RrSyncClient  *client,
                                       const char    *method,
                                       const char    *path,
                                       const char    *body,
                                       long           expect,
                                       GError       **error);

/* The node requests go to now: one of the server's URLs. */
const char *rr_sync_client_base       (RrSyncClient *client);
/* A request to @base ended in @status (0: no answer): on a connection
 * failure, 502 or 503 the client moves on to the next URL. TRUE when that
 * URL has not been tried since the last useful answer, so the request may
 * go there at once; FALSE when every node has failed in turn (then the
 * usual backoff applies, and the next try still goes to the next node). */
gboolean    rr_sync_fail_over         (RrSyncClient *client,
                                       const char   *base,
                                       long          status);

/* A failure worth trying again: no answer (status 0), 5xx (503 is
 * rate_limited), 429. */
gboolean  rr_sync_retryable           (long          status);
/* The wait after @failures failures in a row: exponential, capped, with
 * jitter so that clients do not come back together. */
gint64    rr_sync_backoff_us          (guint         failures);
/* The server answered (not a failure): the clock of the offline timeout
 * starts again, and so does the backoff. */
void      rr_sync_note_progress       (RrSyncClient *client);
/* A failed request (@what, in words); sets the backoff. FALSE with @error
 * (RR_SYNC_ERROR_OFFLINE, naming the server and @what) when nothing has
 * progressed for the offline timeout. */
gboolean  rr_sync_note_failure        (RrSyncClient *client,
                                       const char   *what,
                                       GError      **error);
/* What an error answer says (its "error" object: "code: message"), or
 * NULL. */
char     *rr_sync_answer_error        (const void   *data,
                                       gsize         size);

/* Sleeps for the seconds in the environment variable @what, if set: a
 * named point where a test kills the process. */
void      rr_sync_pause_for_tests     (const char   *what);

G_END_DECLS
