/* rr-plugin.c: the Orthanc side of the plugin: initialisation, the
 * /readroom/v1 route, the filter every HTTP request passes through, and
 * the calls into Orthanc the handlers need. */
#include "rr-server.h"
#include "rr-access.h"
#include "rr-orthanc-calls.h"
#include "rr-server-private.h"

#include <orthanc/OrthancCPlugin.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static OrthancPluginContext *context;
static RrServer server;
/* The filter and the route run on the same HTTP thread, one after the
 * other: the filter leaves the client's address for the route. */
static __thread char client_address[64];

static void
log_warning (const char *format,
             ...) G_GNUC_PRINTF (1, 2);

static void
log_warning (const char *format,
             ...)
{
  va_list args;
  g_autofree char *msg = NULL;
  va_start (args, format);
  msg = g_strdup_vprintf (format, args);
  va_end (args);
  OrthancPluginLogWarning (context, msg);
}

/* ---- calls into Orthanc (they skip the filter) ---- */

static char *
lookup_study (const char *uid)
{
  char *id = rr_orthanc_lookup_study (context, uid);
  char *copy = id ? g_strdup (id) : NULL;
  if (id)
    OrthancPluginFreeString (context, id);
  return copy;
}

static char *
lookup_instance (const char *uid)
{
  char *id = rr_orthanc_lookup_instance (context, uid);
  char *copy = id ? g_strdup (id) : NULL;
  if (id)
    OrthancPluginFreeString (context, id);
  return copy;
}

static char *
dicom_json (const void *body,
            gsize       size)
{
  char *json, *copy;
  if (size > G_MAXUINT32)
    return NULL;
  json = rr_orthanc_dicom_to_json (context, body, (uint32_t) size);
  copy = json ? g_strdup (json) : NULL;
  if (json)
    OrthancPluginFreeString (context, json);
  return copy;
}

static GBytes *
take_buffer (OrthancPluginErrorCode       code,
             OrthancPluginMemoryBuffer   *buffer)
{
  GBytes *b;
  if (code != OrthancPluginErrorCode_Success)
    return NULL;
  b = g_bytes_new (buffer->data, buffer->size);
  OrthancPluginFreeMemoryBuffer (context, buffer);
  return b;
}

static GBytes *
rest_get (const char *uri)
{
  OrthancPluginMemoryBuffer buffer = { 0 };
  return take_buffer (rr_orthanc_rest_get (context, &buffer, uri), &buffer);
}

static GBytes *
rest_get_plugins (const char *uri)
{
  OrthancPluginMemoryBuffer buffer = { 0 };
  return take_buffer (rr_orthanc_rest_get_plugins (context, &buffer, uri), &buffer);
}

static GBytes *
rest_post (const char  *uri,
           const void  *body,
           gsize        size,
           int         *code)
{
  OrthancPluginMemoryBuffer buffer = { 0 };
  OrthancPluginErrorCode rc;
  if (size > G_MAXUINT32)
    {
      *code = OrthancPluginErrorCode_ParameterOutOfRange;
      return NULL;
    }
  rc = rr_orthanc_rest_post (context, &buffer, uri, body, (uint32_t) size);
  *code = rc;
  return take_buffer (rc, &buffer);
}

static gboolean
rest_delete (const char *uri)
{
  return rr_orthanc_rest_delete (context, uri) == OrthancPluginErrorCode_Success;
}

/* ---- the API route ---- */

static const char *
method_name (OrthancPluginHttpMethod m)
{
  switch (m)
    {
    case OrthancPluginHttpMethod_Get:
      return "GET";
    case OrthancPluginHttpMethod_Post:
      return "POST";
    case OrthancPluginHttpMethod_Put:
      return "PUT";
    case OrthancPluginHttpMethod_Delete:
      return "DELETE";
    default:
      return "OTHER";
    }
}

/* Runs the API for one request and sends its answer. @body is the
 * request's body in memory, or the upload's file mapped. */
static void
serve (OrthancPluginRestOutput  *output,
       const char               *url,
       OrthancPluginHttpMethod   method,
       const char               *route,
       GHashTable               *headers,
       GHashTable               *query,
       const char               *body,
       gsize                     body_len)
{
  RrHttpRequest req = { 0 };
  RrHttpAnswer resp = { 0 };
  const char *data = NULL;
  gsize size = 0;

  req.method = method_name (method);
  req.path = url;
  req.body = body;
  req.body_len = body_len;
  req.headers = headers;
  req.query = query;
  req.client = client_address;
  rr_api_handle (route, &req, &resp);

  if (resp.body)
    data = g_bytes_get_data (resp.body, &size);
  for (guint i = 0; resp.headers && i + 1 < resp.headers->len; i += 2)
    OrthancPluginSetHttpHeader (context, output, resp.headers->pdata[i], resp.headers->pdata[i + 1]);
  if (resp.status == 200)
    OrthancPluginAnswerBuffer (context, output, data ? data : "", size,
                               resp.content_type ? resp.content_type : "application/json");
  else
    {
      /* Orthanc sends no Content-Type with a status other than 200. */
      if (resp.content_type && data)
        OrthancPluginSetHttpHeader (context, output, "Content-Type", resp.content_type);
      OrthancPluginSendHttpStatus (context, output, (uint16_t) (resp.status ? resp.status : 500),
                                   data, size);
    }
  rr_response_clear (&resp);
}

static OrthancPluginErrorCode
on_api (OrthancPluginRestOutput         *output,
        const char                      *url,
        const OrthancPluginHttpRequest  *request)
{
  g_autoptr (GHashTable) headers = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (GHashTable) query = g_hash_table_new (g_str_hash, g_str_equal);

  for (uint32_t i = 0; i < request->headersCount; i++)
    g_hash_table_insert (headers, (gpointer) request->headersKeys[i],
                         (gpointer) request->headersValues[i]);
  for (uint32_t i = 0; i < request->getCount; i++)
    g_hash_table_insert (query, (gpointer) request->getKeys[i], (gpointer) request->getValues[i]);
  serve (output, url, request->method, request->groupsCount > 0 ? request->groups[0] : "",
         headers, query, request->body, request->bodySize);
  return OrthancPluginErrorCode_Success;
}

/* ---- the upload route: its body streamed to a file ---- */

/* An upload may be up to 1 GiB (RR_MAX_UPLOAD). Through on_api, Orthanc
 * reads the whole body into memory before the handler runs, and holds it
 * however slowly the client sends it: a few slow uploads at once could
 * exhaust the memory. Orthanc hands a chunked route's body over in
 * pieces (64 KiB) as it reads them, a Content-Length body too: each piece
 * goes to a file of its own, unlinked from the start (nothing is left
 * behind by a crash), and the handler reads the file mapped. */
static char *upload_dir;

/* A body sent with a Content-Length Orthanc 1.10 still reads whole into
 * memory before the reader sees it (only a chunked body comes in pieces),
 * but the reader is made before that read: Content-Length bodies held at
 * once are bounded here. One alone is always let in (up to 1 GiB); past
 * the budget the next one is refused with 503 before it is read. */
#define UPLOAD_MEMORY ((guint64) 512 << 20)
/* An upload from someone who may not upload (no live token: 401; a
 * signed-in user who is neither admin nor a site member: 403) is answered
 * by the handler, its body not kept; past this size, or chunked (no
 * length to bound it), the body is not even read. */
#define UPLOAD_UNAUTHENTICATED ((guint64) 64 << 10)
/* Chunked bodies in transit are written to upload-tmp beside the
 * database: at most this much of them at once, whoever sends them. One
 * body is 1 GiB at most, so two full ones fit; past that the next piece
 * is refused (503) and the upload stops. */
#define UPLOAD_DISK ((guint64) 2 << 30)
static GMutex budget_lock;
static guint64 budget_used;     /* Content-Length bodies, in memory */
static guint64 disk_used;       /* chunked bodies, on disk */
static OrthancPluginErrorCode busy_code, disk_full_code, refused_code, forbidden_code;
static OrthancPluginErrorCode too_large_code;

typedef struct
{
  int fd;
  guint64 size;
  gboolean too_large;         /* more than RR_MAX_UPLOAD was sent */
  gboolean disk_full;         /* past UPLOAD_DISK of chunked bodies in transit */
  gboolean failed;            /* the file could not be written */
  int error;                  /* why (errno) */
  gboolean discard;           /* no live token: the body is dropped */
  guint64 reserved;           /* of the memory budget, until finalized */
  gboolean chunked;           /* no Content-Length: charged to the disk budget */
  guint64 on_disk;            /* of the disk budget, until finalized */
  OrthancPluginHttpMethod method;
  char *url;
  char *route;
  GHashTable *headers;        /* copies: the request is gone by execute */
  GHashTable *query;
} Upload;

static void
upload_free (Upload *u)
{
  if (u->reserved || u->on_disk)
    {
      g_mutex_lock (&budget_lock);
      budget_used -= u->reserved;
      disk_used -= u->on_disk;
      g_mutex_unlock (&budget_lock);
    }
  if (u->fd >= 0)
    close (u->fd);
  g_free (u->url);
  g_free (u->route);
  g_clear_pointer (&u->headers, g_hash_table_unref);
  g_clear_pointer (&u->query, g_hash_table_unref);
  g_free (u);
}

static GHashTable *
copy_pairs (uint32_t            n,
            const char *const  *keys,
            const char *const  *values)
{
  GHashTable *t = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  for (uint32_t i = 0; i < n; i++)
    g_hash_table_insert (t, g_strdup (keys[i]), g_strdup (values[i]));
  return t;
}

static OrthancPluginErrorCode
upload_begin (OrthancPluginServerChunkedRequestReader **reader,
              const char                               *url,
              const OrthancPluginHttpRequest           *request)
{
  Upload *u = g_new0 (Upload, 1);
  g_autofree char *path = g_build_filename (upload_dir, "upload-XXXXXX", NULL);
  const char *auth, *length;
  guint64 n = 0;
  RrUploadRight right;

  u->fd = -1;
  u->method = request->method;
  u->url = g_strdup (url);
  u->route = g_strdup (request->groupsCount > 0 ? request->groups[0] : "");
  u->headers = copy_pairs (request->headersCount, request->headersKeys, request->headersValues);
  u->query = copy_pairs (request->getCount, request->getKeys, request->getValues);
  auth = g_hash_table_lookup (u->headers, "authorization");
  length = g_hash_table_lookup (u->headers, "content-length");
  if (length && !g_ascii_string_to_unsigned (length, 10, 0, RR_MAX_UPLOAD, &n, NULL))
    n = RR_MAX_UPLOAD;  /* the filter let it through: Orthanc will say what is wrong */
  /* Nobody's body, nor a reader's, is kept: the handler answers 401 or
   * 403 as it would have. A large one, or one with no length, is refused
   * before Orthanc reads any of it: only admins and site members hold
   * the budgets below. */
  right = rr_api_upload_right (auth);
  if (right != RR_UPLOAD_ALLOWED)
    {
      if (!length || n > UPLOAD_UNAUTHENTICATED)
        {
          upload_free (u);
          return right == RR_UPLOAD_NO_TOKEN ? refused_code : forbidden_code;
        }
      u->discard = TRUE;
      *reader = (OrthancPluginServerChunkedRequestReader *) u;
      return OrthancPluginErrorCode_Success;
    }
  u->chunked = length == NULL;
  if (length)
    {
      gboolean fits;
      g_mutex_lock (&budget_lock);
      fits = budget_used == 0 || budget_used + n <= UPLOAD_MEMORY;
      if (fits)
        budget_used += n;
      g_mutex_unlock (&budget_lock);
      if (!fits)
        {
          upload_free (u);
          return busy_code;
        }
      u->reserved = n;
    }
  u->fd = g_mkstemp_full (path, O_RDWR | O_CLOEXEC, 0600);
  if (u->fd < 0)
    {
      u->failed = TRUE;
      u->error = errno;
    }
  else
    unlink (path);
  *reader = (OrthancPluginServerChunkedRequestReader *) u;
  return OrthancPluginErrorCode_Success;
}

static OrthancPluginErrorCode
upload_chunk (OrthancPluginServerChunkedRequestReader *reader,
              const void                              *data,
              uint32_t                                 size)
{
  Upload *u = (Upload *) reader;
  const char *p = data;

  /* The filter refused a Content-Length over the limit; the size is
   * checked again before each write, whatever Orthanc passes on. Past
   * the limit (or the disk budget) the piece is refused with an error
   * code; Orthanc 1.10 ignores a reader's error here (it reads the body
   * to its end and calls upload_execute, which answers 413 or 503), so
   * nothing more is written. Once a write failed, the rest is dropped
   * for the handler's 507. A discarded body is 64 KiB at most
   * (upload_begin). */
  if (u->too_large)
    return too_large_code;
  if (u->disk_full)
    return disk_full_code;
  if (u->failed || u->discard)
    return OrthancPluginErrorCode_Success;
  if (size > RR_MAX_UPLOAD - MIN (u->size, RR_MAX_UPLOAD))
    {
      u->too_large = TRUE;
      return too_large_code;
    }
  if (u->chunked)
    {
      gboolean fits;
      g_mutex_lock (&budget_lock);
      fits = disk_used + size <= UPLOAD_DISK;
      if (fits)
        disk_used += size;
      g_mutex_unlock (&budget_lock);
      if (!fits)
        {
          u->disk_full = TRUE;
          return disk_full_code;
        }
      u->on_disk += size;
    }
  while (size > 0)
    {
      ssize_t n = write (u->fd, p, size);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        {
          u->failed = TRUE;
          u->error = n < 0 ? errno : ENOSPC;
          return OrthancPluginErrorCode_Success;
        }
      p += n;
      size -= (uint32_t) n;
      u->size += (guint64) n;
    }
  return OrthancPluginErrorCode_Success;
}

static OrthancPluginErrorCode
upload_execute (OrthancPluginServerChunkedRequestReader *reader,
                OrthancPluginRestOutput                 *output)
{
  Upload *u = (Upload *) reader;
  void *map = NULL;

  if (u->too_large && !u->discard)
    {
      static const char too_large[] = "{\"error\": {\"code\": \"too_large\", \"message\": "
                                      "\"The body is one DICOM file (up to 1 GiB)\"}}";
      OrthancPluginSetHttpHeader (context, output, "Content-Type", "application/json");
      OrthancPluginSendHttpStatus (context, output, 413, too_large, sizeof too_large - 1);
      return OrthancPluginErrorCode_Success;
    }
  if (u->disk_full)
    {
      static const char busy[] = "{\"error\": {\"code\": \"rate_limited\", \"message\": "
                                 "\"The server holds as many uploads in transit as it can; "
                                 "try again shortly\"}}";
      OrthancPluginSetHttpHeader (context, output, "Content-Type", "application/json");
      OrthancPluginSendHttpStatus (context, output, 503, busy, sizeof busy - 1);
      return OrthancPluginErrorCode_Success;
    }
  if (!u->failed && !u->discard && u->size > 0)
    {
      map = mmap (NULL, u->size, PROT_READ, MAP_PRIVATE, u->fd, 0);
      if (map == MAP_FAILED)
        {
          map = NULL;
          u->failed = TRUE;
          u->error = errno;
        }
    }
  if (u->failed && !u->discard)
    {
      /* The disk is full or the folder unwritable: nothing was stored. */
      static const char failed[] = "{\"error\": {\"code\": \"storage_failed\", \"message\": "
                                   "\"The server could not store the file; nothing was stored. "
                                   "Try again later\"}}";
      log_warning ("readroom: an upload could not be written to %s: %s", upload_dir,
                   g_strerror (u->error));
      OrthancPluginSetHttpHeader (context, output, "Content-Type", "application/json");
      OrthancPluginSendHttpStatus (context, output, 507, failed, sizeof failed - 1);
      return OrthancPluginErrorCode_Success;
    }
  serve (output, u->url, u->method, u->route, u->headers, u->query, map, u->size);
  if (map)
    munmap (map, u->size);
  return OrthancPluginErrorCode_Success;
}

static void
upload_finalize (OrthancPluginServerChunkedRequestReader *reader)
{
  upload_free ((Upload *) reader);
}

/* ---- the filter: every request Orthanc serves ---- */

/* Does a body of @length (the Content-Length header) fit the limit of the
 * API route @path? A login is a few hundred bytes; an upload one DICOM
 * file; everything else JSON. */
static gboolean
body_fits (const char *path,
           const char *length)
{
  guint64 n;
  guint64 limit = g_str_equal (path, "/readroom/v1/sessions") ? RR_MAX_LOGIN
                  : g_str_equal (path, "/readroom/v1/instances") ? RR_MAX_UPLOAD : RR_MAX_BODY;
  if (!g_ascii_string_to_unsigned (length, 10, 0, G_MAXUINT64, &n, NULL))
    return FALSE;
  return n <= limit;
}

/* The upload route reads a chunked body piece by piece into a file
 * (upload_chunk), never whole into memory: that one body may come
 * chunked, from a client with a token (checked before the body is
 * read). */
static gboolean
chunked_upload (OrthancPluginHttpMethod  method,
                const char              *path,
                const char              *coding,
                const char              *auth)
{
  return method == OrthancPluginHttpMethod_Post && g_str_equal (path, "/readroom/v1/instances") &&
         g_ascii_strcasecmp (coding, "chunked") == 0 && auth && g_str_has_prefix (auth, "Bearer ");
}

typedef struct
{
  const char *bearer;
  const char *method;
  const char *path;
  RrRouteClass route;
  const char *study;
  gboolean allow;
} FilterCheck;

/* Orthanc's own routes that delete or change stored instances (or the
 * server): refused to everyone, an admin too. The plugin's records (the
 * manifest, what a task lists, the uploads) must never disagree with what
 * Orthanc holds; the plugin changes instances itself, through calls that
 * skip this filter. */
static gboolean
changes_instances (const char *method,
                   const char *path)
{
  static const char *const resources[] = { "/instances", "/series", "/studies", "/patients",
                                           NULL };
  if (g_str_equal (method, "DELETE"))
    return TRUE;
  if (g_str_has_suffix (path, "/modify") || g_str_has_suffix (path, "/anonymize") ||
      g_str_has_prefix (path, "/tools/bulk-") || g_str_equal (path, "/tools/reset") ||
      g_str_equal (path, "/tools/shutdown") || g_str_has_prefix (path, "/tools/reconstruct"))
    return TRUE;
  if (g_str_equal (method, "PUT"))
    for (guint i = 0; resources[i]; i++)
      if (g_str_has_prefix (path, resources[i]))
        return TRUE;
  return FALSE;
}

static void
filter_check (gpointer data)
{
  FilterCheck *c = data;
  g_autoptr (RrUser) user = rr_user_from_token (c->bearer);
  if (user && user->admin)
    {
      c->allow = !changes_instances (c->method, c->path);
      /* What an admin changes through Orthanc's own routes is in the trail
       * too (the filter sees no body: the route is what is recorded). */
      if (!g_str_equal (c->method, "GET"))
        {
          g_autofree char *details = g_strdup_printf ("{\"method\": \"%s\", \"allowed\": %s}",
                                                      c->method, c->allow ? "true" : "false");
          if (rr_db_begin ())
            {
              if (rr_audit_append (user->username, "orthanc.request", c->path, details))
                rr_db_commit ();
              else
                rr_db_rollback ();
            }
        }
    }
  else if (user && c->route == RR_ROUTE_STUDY_READ)
    c->allow = rr_api_user_may_see_study (user, c->study);
}

/* Every instance Orthanc is about to store, however it came (our POST
 * /instances, Orthanc's own REST API, DICOM C-STORE): one that is not
 * de-identified is discarded, so nothing identifying reaches Orthanc's
 * storage or index by any door. POST /instances checked it already and
 * answered 422 with the details; here only the tags are logged. */
static int32_t
on_incoming_instance (const OrthancPluginDicomInstance *instance)
{
  char *json = rr_orthanc_instance_json (context, instance);
  g_autoptr (JsonParser) p = json_parser_new ();
  g_autofree char *found = NULL;

  if (json == NULL)
    return 0;
  if (rr_json_load (p, json, -1, NULL) && JSON_NODE_HOLDS_OBJECT (json_parser_get_root (p)))
    found = rr_phi_found (json_node_get_object (json_parser_get_root (p)));
  else
    found = g_strdup ("(unreadable)");
  OrthancPluginFreeString (context, json);
  if (found == NULL)
    return 1;
  log_warning ("readroom: an instance that is not de-identified was discarded: %s", found);
  return 0;
}

static int32_t
on_request (OrthancPluginHttpMethod  method,
            const char              *uri,
            const char              *ip,
            uint32_t                 headers_count,
            const char *const       *headers_keys,
            const char *const       *headers_values,
            uint32_t                 get_count,
            const char *const       *get_keys,
            const char *const       *get_values)
{
  g_autofree char *path = rr_access_normalize (uri);
  g_autofree char *study = NULL;
  const char *auth = NULL, *launcher = NULL, *type = NULL, *length = NULL, *coding = NULL;
  RrRouteClass route;
  FilterCheck check = { 0 };

  g_strlcpy (client_address, ip ? ip : "", sizeof client_address);
  if (path == NULL)
    return 0;
  for (uint32_t i = 0; i < headers_count; i++)
    if (g_str_equal (headers_keys[i], "authorization"))
      auth = headers_values[i];
    else if (g_str_equal (headers_keys[i], "x-readroom-launcher"))
      launcher = headers_values[i];
    else if (g_str_equal (headers_keys[i], "content-type"))
      type = headers_values[i];
    else if (g_str_equal (headers_keys[i], "content-length"))
      length = headers_values[i];
    else if (g_str_equal (headers_keys[i], "transfer-encoding"))
      coding = headers_values[i];
  route = rr_access_classify (method_name (method), path, &study);
  /* Orthanc 1.10 takes a multipart/form-data body apart itself and never
   * calls a plugin's route with it (it answered 200 with nothing stored):
   * refused here, the only place that sees it. */
  if (type && g_ascii_strncasecmp (type, "multipart/", 10) == 0 &&
      (route == RR_ROUTE_API || auth == NULL))
    return 0;
  /* The filter runs before Orthanc reads the body: a body over its
   * route's limit is refused before it takes any memory. */
  if (route == RR_ROUTE_API && length && !body_fits (path, length))
    return 0;
  /* A chunked body (no length) Orthanc 1.10 reads whole into memory
   * before any handler can refuse it: 150 MiB sent to /sessions grew
   * Orthanc by 150 MiB before the 413. The filter runs before that read,
   * so such a body is refused here; Readroom's clients always send a
   * length. */
  if (route == RR_ROUTE_API && coding && g_ascii_strcasecmp (coding, "identity") != 0 &&
      !chunked_upload (method, path, coding, auth))
    return 0;
  if (route == RR_ROUTE_API)
    return 1;  /* the handlers check the token and answer 401 themselves */
  /* The launcher checks that the plugin is loaded: /plugins, with the
   * secret it passed in the environment, nothing else. */
  if (launcher && server.launcher_token && method == OrthancPluginHttpMethod_Get &&
      g_str_equal (path, "/plugins") &&
      sodium_memcmp (launcher, server.launcher_token,
                     MIN (strlen (launcher), strlen (server.launcher_token))) == 0 &&
      strlen (launcher) == strlen (server.launcher_token))
    return 1;
  if (auth == NULL || !g_str_has_prefix (auth, "Bearer "))
    return 0;
  check.bearer = auth + 7;
  check.method = method_name (method);
  check.path = path;
  check.route = route;
  check.study = study;
  rr_with_lock (filter_check, &check);
  return check.allow ? 1 : 0;
}

/* ---- plugin entry points ---- */

/* Readroom.Database (the SQLite file, and the stem of its audit files);
 * with Readroom.PostgreSQL (a libpq URI) the state goes there instead, the
 * audit key and this node's anchor in Readroom.SharedDirectory. */
static char *
database_path (char **postgres)
{
  char *config = OrthancPluginGetConfiguration (context);
  g_autoptr (JsonParser) p = json_parser_new ();
  JsonObject *root, *ours;
  const char *db;
  gboolean parsed = config && rr_json_load (p, config, -1, NULL);

  if (config)
    OrthancPluginFreeString (context, config);
  if (!parsed || !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (p)))
    return NULL;
  root = json_node_get_object (json_parser_get_root (p));
  if (!json_object_has_member (root, "Readroom") ||
      !JSON_NODE_HOLDS_OBJECT (json_object_get_member (root, "Readroom")))
    return NULL;
  ours = json_object_get_object_member (root, "Readroom");
  db = json_object_get_string_member_with_default (ours, "Database", NULL);
  *postgres = g_strdup (json_object_get_string_member_with_default (ours, "PostgreSQL", NULL));
  server.shared_dir = g_strdup (json_object_get_string_member_with_default (ours,
                                                                            "SharedDirectory",
                                                                            NULL));
  server.node = g_strdup (json_object_get_string_member_with_default (ours, "Node", "node"));
  return db ? g_strdup (db) : NULL;
}

int32_t
OrthancPluginInitialize (OrthancPluginContext *ctx)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *db = NULL, *postgres = NULL;
  const char *admin_password = g_getenv ("READROOM_ADMIN_PASSWORD");

  context = ctx;
  if (OrthancPluginCheckVersion (context) == 0)
    {
      OrthancPluginLogError (context, "readroom: this Orthanc is older than the plugin SDK");
      return -1;
    }
  if (sodium_init () < 0)
    {
      OrthancPluginLogError (context, "readroom: libsodium cannot start");
      return -1;
    }
  db = database_path (&postgres);
  if (db == NULL)
    {
      OrthancPluginLogError (context, "readroom: the configuration has no Readroom.Database");
      return -1;
    }
  /* Uploads are written beside the database, never to a /tmp that may
   * be memory. */
  {
    g_autofree char *dir = g_path_get_dirname (db);
    upload_dir = g_build_filename (dir, "upload-tmp", NULL);
    if (g_mkdir_with_parents (upload_dir, 0700) != 0)
      {
        g_autofree char *msg = g_strdup_printf ("readroom: cannot create %s: %s", upload_dir,
                                                g_strerror (errno));
        OrthancPluginLogError (context, msg);
        return -1;
      }
  }
  g_mutex_init (&server.lock);
  g_mutex_init (&server.failures_lock);
  g_mutex_init (&budget_lock);
  /* What a reader refused before the body is read answers: Orthanc sends
   * these itself (its own error document; a reader cannot answer). */
  busy_code = OrthancPluginRegisterErrorCode (context, 1, 503, "rate_limited: the server holds "
                                              "as many uploads as it can; try again shortly, "
                                              "or send the body chunked");
  refused_code = OrthancPluginRegisterErrorCode (context, 2, 401, "unauthenticated: a valid "
                                                 "bearer token is required");
  disk_full_code = OrthancPluginRegisterErrorCode (context, 5, 503, "rate_limited: the server "
                                                   "holds as many uploads in transit as it can; "
                                                   "try again shortly");
  forbidden_code = OrthancPluginRegisterErrorCode (context, 3, 403, "forbidden: only an admin "
                                                   "or a site member uploads");
  too_large_code = OrthancPluginRegisterErrorCode (context, 4, 413, "too_large: the body is "
                                                   "one DICOM file (up to 1 GiB)");
  server.failures = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                           (GDestroyNotify) g_array_unref);
  server.lookup_study = lookup_study;
  server.lookup_instance = lookup_instance;
  server.dicom_json = dicom_json;
  server.rest_get = rest_get;
  server.rest_get_plugins = rest_get_plugins;
  server.rest_post = rest_post;
  server.rest_delete = rest_delete;
  server.launcher_token = g_strdup (g_getenv ("READROOM_LAUNCHER_TOKEN"));
  {
    /* The hash an unknown user's password is checked against: of 32
     * random bytes nobody ever sees. */
    unsigned char secret[32];
    char hex[65];
    randombytes_buf (secret, sizeof secret);
    sodium_bin2hex (hex, sizeof hex, secret, sizeof secret);
    server.dummy_hash = rr_password_hash (hex);
    sodium_memzero (hex, sizeof hex);
  }
  rr_server = &server;
  if (!rr_server_db_open (&server, db, postgres, &error))
    {
      g_autofree char *msg = g_strdup_printf ("readroom: %s", error->message);
      OrthancPluginLogError (context, msg);
      return -1;
    }
  /* The first start with READROOM_ADMIN_PASSWORD creates the admin. */
  if (admin_password && *admin_password)
    {
      g_autoptr (RrUser) admin = rr_user_lookup ("admin", NULL);
      if (admin == NULL)
        {
          g_autofree char *hash = rr_password_hash (admin_password);
          rr_db_begin ();
          if (hash && rr_user_create ("admin", hash, "Administrator", TRUE, "readroom-server",
                                      &error))
            rr_db_commit ();
          else
            {
              rr_db_rollback ();
              log_warning ("readroom: cannot create the admin user: %s", error->message);
            }
        }
    }
  OrthancPluginSetDescription (context, "Readroom: the imaging-trial workflow and its access "
                               "control");
  /* The upload route first: Orthanc takes the first route that matches. */
  OrthancPluginRegisterChunkedRestCallback (context, "/readroom/v1/(instances)", on_api,
                                            upload_begin, on_api, upload_begin, upload_chunk,
                                            upload_execute, upload_finalize);
  OrthancPluginRegisterRestCallbackNoLock (context, "/readroom/v1/(.*)", on_api);
  OrthancPluginRegisterIncomingHttpRequestFilter2 (context, on_request);
  OrthancPluginRegisterIncomingDicomInstanceFilter (context, on_incoming_instance);
  log_warning ("readroom: ready, state in %s", postgres ? "PostgreSQL" : db);
  return 0;
}

void
OrthancPluginFinalize (void)
{
  if (rr_server == NULL)
    return;
  rr_with_lock ((RrLockedFunc) rr_server_db_close, &server);
  g_clear_pointer (&server.failures, g_hash_table_unref);
  g_clear_pointer (&server.launcher_token, g_free);
  g_clear_pointer (&server.dummy_hash, g_free);
  g_clear_pointer (&server.shared_dir, g_free);
  g_clear_pointer (&server.node, g_free);
  g_clear_pointer (&upload_dir, g_free);
  rr_server = NULL;
}

const char *
OrthancPluginGetName (void)
{
  return "readroom";
}

const char *
OrthancPluginGetVersion (void)
{
  return RR_SERVER_VERSION;
}
