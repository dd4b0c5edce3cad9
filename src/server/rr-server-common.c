/* rr-server-common.c: what every handler shares: answers in the error format,
 * checked members of request bodies, small database helpers, the user
 * object, and whether a user may see a study. */
#include "rr-server-private.h"

/* ---- answers ---- */

void
rr_response_clear (RrHttpAnswer *resp)
{
  g_clear_pointer (&resp->body, g_bytes_unref);
  g_clear_pointer (&resp->content_type, g_free);
  g_clear_pointer (&resp->headers, g_ptr_array_unref);
  g_clear_pointer (&resp->stream, g_free);
}

void
rr_respond_json (RrHttpAnswer *resp,
                 int         status,
                 char       *json)
{
  rr_response_clear (resp);
  resp->status = status;
  resp->body = json ? g_bytes_new_take (json, strlen (json)) : NULL;
  resp->content_type = g_strdup ("application/json");
}

void
rr_respond_error (RrHttpAnswer *resp,
                  int         status,
                  const char *code,
                  const char *message,
                  const char *details_json)
{
  g_autoptr (RrJsonWriter) w = rr_json_writer_new (FALSE);
  rr_json_begin_object (w);
  rr_json_key (w, "error");
  rr_json_begin_object (w);
  rr_json_key (w, "code");
  rr_json_string (w, code);
  rr_json_key (w, "message");
  rr_json_string (w, message);
  rr_json_key (w, "details");
  rr_json_raw (w, details_json ? details_json : "[]");
  rr_json_end_object (w);
  rr_json_end_object (w);
  rr_respond_json (resp, status, rr_json_writer_steal (w));
}

void
rr_test_delay (const char *name)
{
  const char *delay = g_getenv (name);
  if (delay)
    g_usleep (MIN (g_ascii_strtoull (delay, NULL, 10), 5000) * 1000);
}

void
bad_request (RrHttpAnswer *resp,
             const char *message)
{
  rr_respond_error (resp, 400, "invalid_request", message, NULL);
}

void
not_found (RrHttpAnswer *resp)
{
  rr_respond_error (resp, 404, "not_found", "No such resource", NULL);
}

void
forbidden (RrHttpAnswer *resp)
{
  rr_respond_error (resp, 403, "forbidden", "Not allowed for this user", NULL);
}

void
server_failed (RrHttpAnswer *resp)
{
  rr_respond_error (resp, 503, "unavailable", "The server could not complete the request; "
                    "nothing was changed", NULL);
}

/* ---- request bodies ---- */

gboolean
rr_json_load (JsonParser  *parser,
              const char  *data,
              gssize       len,
              GError     **error)
{
  gsize n = len < 0 ? (data ? strlen (data) : 0) : (gsize) len;
  switch (rr_json_guard (data, n, RR_MAX_JSON, RR_JSON_MAX_DEPTH))
    {
    case RR_JSON_GUARD_OK:
      break;
    case RR_JSON_GUARD_TOO_LARGE:
      g_set_error (error, JSON_PARSER_ERROR, JSON_PARSER_ERROR_INVALID_DATA, "too large");
      return FALSE;
    case RR_JSON_GUARD_TOO_DEEP:
      g_set_error (error, JSON_PARSER_ERROR, JSON_PARSER_ERROR_INVALID_DATA,
                   "nested deeper than %d levels", RR_JSON_MAX_DEPTH);
      return FALSE;
    case RR_JSON_GUARD_UNBALANCED:
    default:
      g_set_error (error, JSON_PARSER_ERROR, JSON_PARSER_ERROR_PARSE, "unbalanced brackets or quotes");
      return FALSE;
    }
  return json_parser_load_from_data (parser, data ? data : "", (gssize) n, error);
}

JsonObject *
parse_object (RrHttpRequest  *req,
              RrHttpAnswer *resp,
              JsonParser **parser)
{
  JsonNode *root;
  g_autoptr (GError) error = NULL;

  if (req->body_len > RR_MAX_BODY)
    {
      rr_respond_error (resp, 413, "too_large", "The body is larger than 8 MiB", NULL);
      return NULL;
    }
  if (req->body == NULL || req->body_len == 0)
    {
      bad_request (resp, "A JSON body is required");
      return NULL;
    }
  *parser = json_parser_new ();
  if (!rr_json_load (*parser, req->body, (gssize) req->body_len, &error))
    {
      g_autofree char *msg = g_strdup_printf ("The body is not JSON: %s", error->message);
      bad_request (resp, msg);
      return NULL;
    }
  root = json_parser_get_root (*parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      bad_request (resp, "The body must be a JSON object");
      return NULL;
    }
  return json_node_get_object (root);
}

/* A string member: NULL when absent; @ok turns FALSE (and the answer is
 * set) when present but not a string of 1..@max characters. */
const char *
member_string (JsonObject *o,
               const char *name,
               gboolean    required,
               gsize       max,
               gboolean   *ok,
               RrHttpAnswer *resp)
{
  JsonNode *n = json_object_get_member (o, name);
  const char *s;
  if (!*ok)
    return NULL;
  if (n == NULL || JSON_NODE_HOLDS_NULL (n))
    {
      if (required)
        {
          g_autofree char *msg = g_strdup_printf ("\"%s\" is required", name);
          bad_request (resp, msg);
          *ok = FALSE;
        }
      return NULL;
    }
  if (json_node_get_value_type (n) != G_TYPE_STRING ||
      (s = json_node_get_string (n)) == NULL || *s == '\0' || strlen (s) > max ||
      !g_utf8_validate (s, -1, NULL))
    {
      g_autofree char *msg = g_strdup_printf ("\"%s\" must be a string of 1 to %zu characters",
                                              name, max);
      bad_request (resp, msg);
      *ok = FALSE;
      return NULL;
    }
  return s;
}

gint64
member_int (JsonObject *o,
            const char *name,
            gint64      fallback,
            gint64      lo,
            gint64      hi,
            gboolean   *ok,
            RrHttpAnswer *resp)
{
  JsonNode *n = json_object_get_member (o, name);
  gint64 v;
  if (!*ok || n == NULL || JSON_NODE_HOLDS_NULL (n))
    return fallback;
  if (json_node_get_value_type (n) != G_TYPE_INT64 || (v = json_node_get_int (n)) < lo || v > hi)
    {
      g_autofree char *msg = g_strdup_printf ("\"%s\" must be an integer from %" G_GINT64_FORMAT
                                              " to %" G_GINT64_FORMAT, name, lo, hi);
      bad_request (resp, msg);
      *ok = FALSE;
      return fallback;
    }
  return v;
}

gboolean
member_bool (JsonObject *o,
             const char *name,
             gboolean    fallback,
             gboolean   *ok,
             RrHttpAnswer *resp)
{
  JsonNode *n = json_object_get_member (o, name);
  if (!*ok || n == NULL || JSON_NODE_HOLDS_NULL (n))
    return fallback;
  if (json_node_get_value_type (n) != G_TYPE_BOOLEAN)
    {
      g_autofree char *msg = g_strdup_printf ("\"%s\" must be true or false", name);
      bad_request (resp, msg);
      *ok = FALSE;
      return fallback;
    }
  return json_node_get_boolean (n);
}

gboolean
one_of (const char *s,
        const char *const *words)
{
  for (guint i = 0; words[i]; i++)
    if (g_strcmp0 (s, words[i]) == 0)
      return TRUE;
  return FALSE;
}

/* Identifiers in paths and bodies: letters, digits, '.', '_', '-'. */
gboolean
valid_id (const char *s,
          gsize       max)
{
  gsize n = s ? strlen (s) : 0;
  if (n == 0 || n > max)
    return FALSE;
  for (gsize i = 0; i < n; i++)
    if (!g_ascii_isalnum (s[i]) && s[i] != '.' && s[i] != '_' && s[i] != '-')
      return FALSE;
  return TRUE;
}

char *
node_to_json (JsonNode *n)
{
  g_autoptr (JsonGenerator) g = json_generator_new ();
  json_generator_set_root (g, n);
  return json_generator_to_data (g, NULL);
}

/* The members read-json.md lets a read carry for its PDF report, which
 * name its reader: an adjudicator sees a read by its label alone. */
static const char *const reader_names[] = { "user", "reader", "signature", "signatures", NULL };

/* @json (a read, or with @member a document holding one there) as the
 * adjudicator may see it: without the read's own naming members. A text
 * that does not parse comes back as "null", never as it was. */
char *
blind_read (const char *json,
            const char *member)
{
  g_autoptr (JsonParser) p = json_parser_new ();
  JsonNode *root, *read;

  if (json == NULL || !rr_json_load (p, json, -1, NULL) || json_parser_get_root (p) == NULL)
    return g_strdup ("null");
  root = json_parser_get_root (p);
  read = root;
  if (member && JSON_NODE_HOLDS_OBJECT (root))
    read = json_object_get_member (json_node_get_object (root), member);
  if (read && JSON_NODE_HOLDS_OBJECT (read))
    for (guint i = 0; reader_names[i]; i++)
      json_object_remove_member (json_node_get_object (read), reader_names[i]);
  return node_to_json (root);
}

/* ---- database helpers ---- */

const char *
col_text (RrStmt *st,
          int     i)
{
  const char *s = (const char *) rr_stmt_column_text (st, i);
  return s ? s : "";
}

gint64
query_int (RrQueryId    q,
           const char *a,
           const char *b)
{
  RrStmt *st = rr_db_query (q);
  gint64 v = -1;
  if (st == NULL)
    return -1;
  if (a)
    rr_stmt_bind_text (st, 1, a);
  if (b)
    rr_stmt_bind_text (st, 2, b);
  if (rr_stmt_step (st) == RR_ROW)
    v = rr_stmt_column_int (st, 0);
  rr_stmt_finalize (st);
  return v;
}

gboolean
task_unchanged (const Task *t)
{
  RrStmt *st = rr_db_query (RR_Q_TASK_VERSION);
  gboolean same;

  rr_stmt_bind_text (st, 1, t->id);
  same = rr_stmt_step (st) == RR_ROW && rr_stmt_column_int (st, 0) == t->version;
  rr_stmt_finalize (st);
  if (!same)
    rr_db->retry ();
  return same;
}

gboolean
step_done (RrStmt *st)
{
  int rc = st ? rr_stmt_step (st) : RR_ERROR;
  rr_stmt_finalize (st);
  return rc == RR_DONE;
}

void
write_user (RrJsonWriter *w,
            gint64        id,
            const char   *username,
            const char   *display_name,
            gboolean      admin)
{
  RrStmt *st = rr_db_query (RR_Q_MEMBER_ROLES_OF_USER);
  rr_json_begin_object (w);
  rr_json_key (w, "id");
  rr_json_int (w, id);
  rr_json_key (w, "username");
  rr_json_string (w, username);
  rr_json_key (w, "display_name");
  rr_json_string (w, display_name);
  rr_json_key (w, "roles");
  rr_json_begin_array (w);
  if (admin)
    {
      rr_json_begin_object (w);
      rr_json_key (w, "trial");
      rr_json_null (w);
      rr_json_key (w, "role");
      rr_json_string (w, "admin");
      rr_json_end_object (w);
    }
  rr_stmt_bind_int (st, 1, id);
  while (st && rr_stmt_step (st) == RR_ROW)
    {
      g_auto (GStrv) roles = g_strsplit (col_text (st, 1), ",", -1);
      for (guint i = 0; roles[i]; i++)
        if (*roles[i])
          {
            rr_json_begin_object (w);
            rr_json_key (w, "trial");
            rr_json_string (w, col_text (st, 0));
            rr_json_key (w, "role");
            rr_json_string (w, roles[i]);
            rr_json_end_object (w);
          }
    }
  rr_stmt_finalize (st);
  rr_json_end_array (w);
  rr_json_end_object (w);
}

char *
member_site (const RrUser *user)
{
  RrStmt *st = rr_db_query (RR_Q_MEMBER_SITE_OF_USER);
  char *site = NULL;
  rr_stmt_bind_int (st, 1, user->id);
  if (st && rr_stmt_step (st) == RR_ROW)
    site = g_strdup (col_text (st, 0));
  rr_stmt_finalize (st);
  return site;
}

gboolean
rr_api_user_may_see_study (const RrUser *user,
                           const char   *study_uid)
{
  RrStmt *st;
  gboolean yes = FALSE;

  if (user->admin)
    return TRUE;
  /* Its own uploads (site), or a study of one of its tasks: the task's
   * timepoint, and for reads and adjudications the subject's earlier ones
   * that passed QC (or needed none): exactly what GET /tasks/{id} lists.
   * A timepoint that QC failed (PHI burnt in, another subject's images)
   * stayed readable through DICOMweb to every later reader. */
  st = rr_db_query (RR_Q_USER_MAY_SEE_STUDY);
  if (st == NULL)
    return FALSE;
  rr_stmt_bind_int (st, 1, user->id);
  rr_stmt_bind_text (st, 2, study_uid);
  yes = rr_stmt_step (st) == RR_ROW;
  rr_stmt_finalize (st);
  return yes;
}
