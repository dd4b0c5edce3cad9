/* rr-sync-request.c: the client's requests to the server: one keep-alive
 * handle for the API, the options every handle gets (certificates always
 * verified), transport failures in words, and the JSON calls of
 * server-api.md (log in, GET). */
#include "rr-sync-request.h"

#include <string.h>

static gsize curl_once;

RrSyncClient *
rr_sync_client_new (const char *server,
                    const char *ca_file)
{
  RrSyncClient *c = g_new0 (RrSyncClient, 1);
  gsize n;
  if (g_once_init_enter (&curl_once))
    {
      curl_global_init (CURL_GLOBAL_DEFAULT);
      g_once_init_leave (&curl_once, 1);
    }
  c->server = g_strdup (server);
  n = strlen (c->server);
  while (n > 0 && c->server[n - 1] == '/')
    c->server[--n] = '\0';
  c->ca_file = g_strdup (ca_file);
  c->curl = curl_easy_init ();
  return c;
}

void
rr_sync_client_free (RrSyncClient *c)
{
  if (c == NULL)
    return;
  curl_easy_cleanup (c->curl);
  g_free (c->server);
  g_free (c->ca_file);
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
  g_autofree char *url = g_strconcat (c->server, path, NULL);
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
  if (rc != CURLE_OK)
    {
      rr_sync_transport_error (error, rc, c->server, errbuf);
      g_byte_array_unref (out);
      return NULL;
    }
  curl_easy_getinfo (c->curl, CURLINFO_RESPONSE_CODE, status);
  return g_byte_array_free_to_bytes (out);
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
  g_autoptr (GBytes) out = rr_sync_request (c, method, path, body, body ? strlen (body) : 0,
                                            NULL, NULL, &status, error);
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
