/* rr-sync-request.c: the client's requests to the server: one keep-alive
 * handle for the API, the options every handle gets (certificates always
 * verified), transport failures in words, and the JSON calls of
 * server-api.md (log in, GET). */
#include "rr-sync-request.h"

#include <string.h>

static gsize curl_once;

char *
rr_sync_servers_normalize (const char *text,
                           const char *default_scheme)
{
  g_auto (GStrv) parts = g_regex_split_simple ("[,\\s]+", text ? text : "", 0, 0);
  g_autoptr (GPtrArray) out = g_ptr_array_new_with_free_func (g_free);

  for (guint i = 0; parts[i]; i++)
    {
      g_autofree char *url = NULL;
      gsize n;
      if (parts[i][0] == '\0')
        continue;
      if (g_str_has_prefix (parts[i], "http://") || g_str_has_prefix (parts[i], "https://"))
        url = g_strdup (parts[i]);
      else if (default_scheme != NULL && strstr (parts[i], "://") == NULL)
        url = g_strconcat (default_scheme, parts[i], NULL);
      else
        return NULL;
      n = strlen (url);
      while (n > 0 && url[n - 1] == '/')
        url[--n] = '\0';
      /* "http://" alone (now "http:") names no host. */
      if (strstr (url, "://") == NULL || strstr (url, "://")[3] == '\0')
        return NULL;
      if (out->len == RR_SYNC_MAX_SERVERS)
        return NULL;
      g_ptr_array_add (out, g_steal_pointer (&url));
    }
  if (out->len == 0)
    return NULL;
  g_ptr_array_add (out, NULL);
  return g_strjoinv (",", (char **) out->pdata);
}

RrSyncClient *
rr_sync_client_new (const char *server,
                    const char *ca_file)
{
  RrSyncClient *c = g_new0 (RrSyncClient, 1);
  g_autofree char *list = rr_sync_servers_normalize (server, NULL);
  if (g_once_init_enter (&curl_once))
    {
      curl_global_init (CURL_GLOBAL_DEFAULT);
      g_once_init_leave (&curl_once, 1);
    }
  /* The callers check the list; one that is not a list is still used as
   * given, as a single URL, and fails as such at the first request. */
  if (list != NULL)
    {
      c->server = g_steal_pointer (&list);
      c->bases = g_strsplit (c->server, ",", -1);
    }
  else
    {
      c->server = g_strdup (server ? server : "");
      c->bases = g_new0 (char *, 2);
      c->bases[0] = g_strdup (c->server);
    }
  c->n_bases = g_strv_length (c->bases);
  c->ca_file = g_strdup (ca_file);
  c->curl = curl_easy_init ();
  c->offline_timeout_s = 20;
  return c;
}

const char *
rr_sync_client_base (RrSyncClient *c)
{
  return c->bases[c->current];
}

gboolean
rr_sync_fail_over (RrSyncClient *c,
                   const char   *base,
                   long          status)
{
  /* Only what says "this node is not there": an answer of the server's
   * own (4xx, 500) would be the same on every node. */
  if (c->n_bases < 2 || (status != 0 && status != 502 && status != 503))
    return FALSE;
  if (g_strcmp0 (base, c->bases[c->current]) != 0)
    return TRUE;  /* another request has moved on already */
  c->current = (c->current + 1) % c->n_bases;
  if (++c->passed >= c->n_bases)
    {
      c->passed = 0;
      return FALSE;
    }
  return TRUE;
}

void
rr_sync_client_free (RrSyncClient *c)
{
  if (c == NULL)
    return;
  curl_easy_cleanup (c->curl);
  g_free (c->server);
  g_strfreev (c->bases);
  g_free (c->ca_file);
  g_free (c->last_failure);
  if (c->token)
    memset (c->token, 0, strlen (c->token));
  g_free (c->token);
  g_free (c);
}

const char *
rr_sync_client_get_server (RrSyncClient *c)
{
  return c->server;
}

void
rr_sync_client_set_token (RrSyncClient *c,
                          const char   *token)
{
  g_free (c->token);
  c->token = g_strdup (token);
}

const char *
rr_sync_client_get_token (RrSyncClient *c)
{
  return c->token;
}

void
rr_sync_client_set_offline_timeout (RrSyncClient *c,
                                    guint         seconds)
{
  c->offline_timeout_s = MAX (seconds, 1u);
  /* The clock starts now, for what this client does next. */
  c->last_progress = g_get_monotonic_time ();
  c->failures = 0;
  c->not_before = 0;
}

void
rr_sync_client_set_interactive (RrSyncClient *c,
                                gboolean      interactive)
{
  c->interactive = interactive;
  if (interactive)
    rr_sync_client_set_offline_timeout (c, MIN (c->offline_timeout_s, 5u));
}

gboolean
rr_sync_retryable (long status)
{
  return status == 0 || status >= 500 || status == 429;
}

#define BACKOFF_FIRST_US (250 * 1000)
#define BACKOFF_MAX_US (8 * G_USEC_PER_SEC)

gint64
rr_sync_backoff_us (guint failures)
{
  gint64 us;
  if (failures == 0)
    return 0;
  us = MIN ((gint64) BACKOFF_FIRST_US << MIN (failures - 1, 10u), (gint64) BACKOFF_MAX_US);
  /* Half fixed, half random ("equal jitter"). */
  return us / 2 + g_random_int_range (0, (gint32) (us / 2) + 1);
}

void
rr_sync_note_progress (RrSyncClient *c)
{
  c->last_progress = g_get_monotonic_time ();
  c->failures = 0;
  c->not_before = 0;
  c->passed = 0;
}

gboolean
rr_sync_note_failure (RrSyncClient  *c,
                      const char    *what,
                      GError       **error)
{
  gint64 now = g_get_monotonic_time ();
  if (c->last_progress == 0)
    c->last_progress = now;
  g_free (c->last_failure);
  c->last_failure = g_strdup (what);
  c->failures++;
  if (now - c->last_progress >= (gint64) c->offline_timeout_s * G_USEC_PER_SEC)
    {
      g_set_error (error, RR_SYNC_ERROR, RR_SYNC_ERROR_OFFLINE,
                   "The server %s has not answered usefully for %u s (%u failed requests; the "
                   "last: %s). Nothing was lost: what was fetched is kept, and the next "
                   "synchronisation goes on from there.", c->server, c->offline_timeout_s,
                   c->failures, what);
      return FALSE;
    }
  /* The last try falls at the end of the timeout, not after it. */
  c->not_before = MIN (now + rr_sync_backoff_us (c->failures),
                       c->last_progress + (gint64) c->offline_timeout_s * G_USEC_PER_SEC);
  return TRUE;
}

char *
rr_sync_answer_error (const void *data,
                      gsize       size)
{
  g_autoptr (JsonParser) p = json_parser_new ();
  JsonObject *o, *e;
  if (data == NULL || size == 0 || size > (1u << 20) ||
      !json_parser_load_from_data (p, data, (gssize) size, NULL) ||
      !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (p)))
    return NULL;
  o = json_node_get_object (json_parser_get_root (p));
  if (!json_object_has_member (o, "error") ||
      !JSON_NODE_HOLDS_OBJECT (json_object_get_member (o, "error")))
    return NULL;
  e = json_object_get_object_member (o, "error");
  return g_strdup_printf ("%s: %s", json_object_get_string_member_with_default (e, "code", "?"),
                          json_object_get_string_member_with_default (e, "message", ""));
}

void
rr_sync_common_options (RrSyncClient *c,
                        CURL         *h)
{
  curl_easy_setopt (h, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt (h, CURLOPT_SSL_VERIFYHOST, 2L);
  if (c->ca_file)
    curl_easy_setopt (h, CURLOPT_CAINFO, c->ca_file);
  curl_easy_setopt (h, CURLOPT_CONNECTTIMEOUT, 10L);
  curl_easy_setopt (h, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt (h, CURLOPT_LOW_SPEED_TIME, 30L);
  curl_easy_setopt (h, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt (h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt (h, CURLOPT_NOPROXY, "127.0.0.1,localhost,::1");
}

void
rr_sync_transport_error (GError     **error,
                         CURLcode     rc,
                         const char  *server,
                         const char  *detail)
{
  switch (rc)
    {
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_CERTPROBLEM:
      g_set_error (error, RR_SYNC_ERROR, RR_SYNC_ERROR_TLS,
                   "The server's certificate could not be verified (%s): %s", server,
                   detail && *detail ? detail : curl_easy_strerror (rc));
      break;
    case CURLE_COULDNT_RESOLVE_HOST:
      g_set_error (error, RR_SYNC_ERROR, RR_SYNC_ERROR_OFFLINE,
                   "The server's name could not be found (%s)", server);
      break;
    default:
      g_set_error (error, RR_SYNC_ERROR, RR_SYNC_ERROR_OFFLINE,
                   "The server cannot be reached (%s): %s", server,
                   detail && *detail ? detail : curl_easy_strerror (rc));
    }
}

static size_t
collect (char *data, size_t size, size_t n, void *user)
{
  GByteArray *out = user;
  if (out->len + size * n > (64u << 20))
    return 0;  /* no answer of ours is that large */
  g_byte_array_append (out, (const guint8 *) data, (guint) (size * n));
  return size * n;
}

GBytes *
rr_sync_request (RrSyncClient       *c,
                 const char         *method,
                 const char         *path,
                 const void         *body,
                 gsize               size,
                 const char         *content_type,
                 const char * const *headers,
                 long               *status,
                 GError            **error)
{
  const char *base = rr_sync_client_base (c);
  g_autofree char *url = g_strconcat (base, path, NULL);
  g_autofree char *auth = c->token ? g_strdup_printf ("Authorization: Bearer %s", c->token) : NULL;
  g_autofree char *type = g_strdup_printf ("Content-Type: %s",
                                           content_type ? content_type : "application/json");
  GByteArray *out = g_byte_array_new ();
  struct curl_slist *list = curl_slist_append (NULL, type);
  char errbuf[CURL_ERROR_SIZE] = "";
  CURLcode rc;

  if (auth)
    list = curl_slist_append (list, auth);
  for (guint i = 0; headers && headers[i]; i++)
    list = curl_slist_append (list, headers[i]);
  curl_easy_reset (c->curl);
  rr_sync_common_options (c, c->curl);
  curl_easy_setopt (c->curl, CURLOPT_URL, url);
  curl_easy_setopt (c->curl, CURLOPT_CUSTOMREQUEST, method);
  curl_easy_setopt (c->curl, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt (c->curl, CURLOPT_WRITEFUNCTION, collect);
  curl_easy_setopt (c->curl, CURLOPT_WRITEDATA, out);
  curl_easy_setopt (c->curl, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt (c->curl, CURLOPT_TIMEOUT, 600L);
  if (body)
    {
      curl_easy_setopt (c->curl, CURLOPT_POSTFIELDS, body);
      curl_easy_setopt (c->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) size);
    }
  rc = curl_easy_perform (c->curl);
  curl_slist_free_all (list);
  /* Nothing listens there, or there is no route or no such name: not a
   * request that failed half-way, so trying it again at once will not
   * pass either. */
  c->unreachable = rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST ||
                   rc == CURLE_COULDNT_RESOLVE_PROXY;
  if (rc != CURLE_OK)
    {
      rr_sync_transport_error (error, rc, base, errbuf);
      g_byte_array_unref (out);
      return NULL;
    }
  curl_easy_getinfo (c->curl, CURLINFO_RESPONSE_CODE, status);
  return g_byte_array_free_to_bytes (out);
}

/* Waits until the backoff allows the next request. */
static void
wait_backoff (RrSyncClient *c)
{
  gint64 now = g_get_monotonic_time ();
  if (c->not_before > now)
    g_usleep ((gulong) (c->not_before - now));
}

GBytes *
rr_sync_call (RrSyncClient       *c,
              const char         *method,
              const char         *path,
              const char         *body,
              const char * const *headers,
              long               *status,
              GError            **error)
{
  /* Whether every node tried since the last round began found no server
   * (refused, unreachable, no such name); a node that timed out or
   * answered 5xx is there and may have stored the request. */
  gboolean round_unreachable = TRUE;

  /* Tried again on what may pass (no answer, 5xx, 503 rate_limited) until
   * the offline timeout runs out without progress. */
  for (;;)
    {
      g_autoptr (GError) local = NULL;
      g_autofree char *what = NULL;
      g_autoptr (GBytes) out = NULL;
      const char *base;
      wait_backoff (c);
      *status = 0;
      /* The node is noted before the request: a failure moves on from it. */
      base = rr_sync_client_base (c);
      out = rr_sync_request (c, method, path, body, body ? strlen (body) : 0, NULL, headers,
                             status, &local);
      if (out == NULL && local->code == RR_SYNC_ERROR_TLS)
        {
          g_propagate_error (error, g_steal_pointer (&local));
          return NULL;
        }
      if (out != NULL && !rr_sync_retryable (*status))
        {
          rr_sync_note_progress (c);
          return g_steal_pointer (&out);
        }
      /* Another node not tried since the last answer goes at once; the
       * request is the same (a submission keeps its Idempotency-Key), so
       * one that reached a node before it fell is not stored twice. */
      if (out != NULL || !c->unreachable)
        round_unreachable = FALSE;
      if (rr_sync_fail_over (c, base, out == NULL ? 0 : *status))
        continue;
      if (out == NULL && c->interactive && round_unreachable)
        {
          /* Every node refused or is not there: offline now, said at once
           * (the failed-over nodes were tried above). */
          g_free (c->last_failure);
          c->last_failure = g_strdup (local->message);
          g_propagate_error (error, g_steal_pointer (&local));
          return NULL;
        }
      round_unreachable = TRUE;   /* the next round, after the backoff */
      if (out == NULL)
        what = g_strdup_printf ("%s %s: %s", method, path, local->message);
      else
        {
          g_autofree char *said = rr_sync_answer_error (g_bytes_get_data (out, NULL),
                                                        g_bytes_get_size (out));
          what = g_strdup_printf ("%s %s: the server answered %ld%s%s%s", method, path, *status,
                                  said ? " (" : "", said ? said : "", said ? ")" : "");
        }
      if (!rr_sync_note_failure (c, what, error))
        return NULL;
    }
}

JsonNode *
rr_sync_call_json (RrSyncClient  *c,
                   const char    *method,
                   const char    *path,
                   const char    *body,
                   long           expect,
                   GError       **error)
{
  g_autoptr (JsonParser) p = json_parser_new ();
  long status = 0;
  g_autoptr (GBytes) out = rr_sync_call (c, method, path, body, NULL, &status, error);
  gsize n;
  const char *data;

  if (out == NULL)
    return NULL;
  if (status == 401)
    {
      g_set_error (error, RR_SYNC_ERROR, RR_SYNC_ERROR_AUTH,
                   "The server did not accept the user name and password, or the session ended");
      return NULL;
    }
  data = g_bytes_get_data (out, &n);
  if (status != expect || !json_parser_load_from_data (p, data, (gssize) n, NULL) ||
      json_parser_get_root (p) == NULL)
    {
      g_set_error (error, RR_SYNC_ERROR, RR_SYNC_ERROR_SERVER,
                   "%s %s: the server answered %ld", method, path, status);
      return NULL;
    }
  return json_node_copy (json_parser_get_root (p));
}

char *
rr_sync_login (RrSyncClient  *c,
               const char    *username,
               const char    *password,
               GError       **error)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonGenerator) g = json_generator_new ();
  g_autoptr (JsonNode) root = NULL, answer = NULL;
  g_autofree char *body = NULL;
  JsonObject *o;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "username");
  json_builder_add_string_value (b, username);
  json_builder_set_member_name (b, "password");
  json_builder_add_string_value (b, password);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  json_generator_set_root (g, root);
  body = json_generator_to_data (g, NULL);
  g_clear_pointer (&c->token, g_free);
  answer = rr_sync_call_json (c, "POST", "/readroom/v1/sessions", body, 201, error);
  memset (body, 0, strlen (body));
  if (answer == NULL)
    return NULL;
  o = JSON_NODE_HOLDS_OBJECT (answer) ? json_node_get_object (answer) : NULL;
  if (o == NULL || !json_object_has_member (o, "token") || !json_object_has_member (o, "user"))
    {
      g_set_error (error, RR_SYNC_ERROR, RR_SYNC_ERROR_SERVER, "The login answer is not the "
                   "contract's");
      return NULL;
    }
  c->token = g_strdup (json_object_get_string_member (o, "token"));
  g_clear_object (&g);
  g = json_generator_new ();
  json_generator_set_root (g, json_object_get_member (o, "user"));
  return json_generator_to_data (g, NULL);
}

JsonNode *
rr_sync_get_json (RrSyncClient  *c,
                  const char    *path,
                  GError       **error)
{
  return rr_sync_call_json (c, "GET", path, NULL, 200, error);
}

void
rr_sync_pause_for_tests (const char *what)
{
  const char *v = g_getenv (what);
  if (v)
    {
      g_printerr ("%s: pausing %s s\n", what, v);
      g_usleep ((gulong) (g_ascii_strtod (v, NULL) * G_USEC_PER_SEC));
    }
}
