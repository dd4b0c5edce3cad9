/* rr-sync-request.h: what the parts of the sync client share about a
 * request: the client itself, the options every curl handle gets, and a
 * transport failure in words people understand. */
#pragma once

#include <curl/curl.h>
#include "rr-sync.h"

G_BEGIN_DECLS

struct _RrSyncClient
{
  char *server;
  char *ca_file;
  char *token;
  CURL *curl;            /* for the API calls; downloads have their own */
};

/* Certificates verified (never switched off), the extra CA file,
 * keep-alive, sane timeouts. */
void      rr_sync_common_options      (RrSyncClient *client,
                                       CURL         *handle);
void      rr_sync_transport_error     (GError      **error,
                                       CURLcode      rc,
                                       const char   *server,
                                       const char   *detail);
/* @method @path with @body (JSON or NULL); the answer parsed when its
 * status is @expect, else an error (RR_SYNC_ERROR_AUTH for 401). */
JsonNode *rr_sync_call_json           (RrSyncClient  *client,
                                       const char    *method,
                                       const char    *path,
                                       const char    *body,
                                       long           expect,
                                       GError       **error);

/* Sleeps for the seconds in the environment variable @what, if set: a
 * named point where a test kills the process. */
void      rr_sync_pause_for_tests     (const char   *what);

G_END_DECLS
