/* rr-server-uploads.c: uploads through Orthanc, the index of what a
 * study holds, and the stored files served as they are. */
#include "rr-server-private.h"

/* ---- Orthanc: studies and their instances ---- */

static JsonNode *
orthanc_json (const char *uri)
{
  g_autoptr (GBytes) b = rr_server->rest_get ? rr_server->rest_get (uri) : NULL;
  g_autoptr (JsonParser) p = NULL;
  gsize n;
  const char *data;
  if (b == NULL)
    return NULL;
  data = g_bytes_get_data (b, &n);
  p = json_parser_new ();
  if (!rr_json_load (p, data, (gssize) n, NULL) || json_parser_get_root (p) == NULL)
    return NULL;
  return json_node_copy (json_parser_get_root (p));
}

static const char *
tag_of (JsonObject *o,
        const char *tag)
{
  JsonNode *m = json_object_get_member (o, "MainDicomTags");
  if (m == NULL || !JSON_NODE_HOLDS_OBJECT (m))
    return NULL;
  m = json_object_get_member (json_node_get_object (m), tag);
  return m && json_node_get_value_type (m) == G_TYPE_STRING ? json_node_get_string (m) : NULL;
}

/* Records what a stored study holds: its instances with size and MD5, so
 * the manifest is one query. Called when the study is linked. */
gboolean
index_study (const char *study_uid,
             const char *orthanc_id)
{
  g_autofree char *uri = g_strdup_printf ("/studies/%s/instances", orthanc_id);
  g_autoptr (JsonNode) list = orthanc_json (uri);
  g_autoptr (GHashTable) series = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  JsonArray *a;

  if (list == NULL || !JSON_NODE_HOLDS_ARRAY (list))
    return FALSE;
  a = json_node_get_array (list);
  for (guint i = 0; i < json_array_get_length (a); i++)
    {
      JsonObject *inst = json_array_get_object_element (a, i);
      const char *id = json_object_get_string_member_with_default (inst, "ID", NULL);
      const char *parent = json_object_get_string_member_with_default (inst, "ParentSeries", NULL);
      const char *sop = tag_of (inst, "SOPInstanceUID");
      gint64 size = json_object_get_int_member_with_default (inst, "FileSize", -1);
      const char *series_uid;
      g_autofree char *md5_uri = NULL;
      g_autoptr (GBytes) md5 = NULL;
      g_autofree char *md5_text = NULL;
      sqlite3_stmt *st;

      if (id == NULL || parent == NULL || sop == NULL)
        return FALSE;
      series_uid = g_hash_table_lookup (series, parent);
      if (series_uid == NULL)
        {
          g_autofree char *s_uri = g_strdup_printf ("/series/%s", parent);
          g_autoptr (JsonNode) s = orthanc_json (s_uri);
          const char *uid = s && JSON_NODE_HOLDS_OBJECT (s)
                              ? tag_of (json_node_get_object (s), "SeriesInstanceUID") : NULL;
          if (uid == NULL)
            return FALSE;
          g_hash_table_insert (series, g_strdup (parent), g_strdup (uid));
          series_uid = g_hash_table_lookup (series, parent);
        }
      md5_uri = g_strdup_printf ("/instances/%s/attachments/dicom/md5", id);
      md5 = rr_server->rest_get (md5_uri);
      if (md5 == NULL)
        return FALSE;
      md5_text = g_strndup (g_bytes_get_data (md5, NULL), g_bytes_get_size (md5));
      g_strstrip (md5_text);
      if (size < 0)
        {
          g_autofree char *f = g_strdup_printf ("/instances/%s/attachments/dicom/size", id);
          g_autoptr (GBytes) sz = rr_server->rest_get (f);
          g_autofree char *t = sz ? g_strndup (g_bytes_get_data (sz, NULL), g_bytes_get_size (sz)) : NULL;
          size = t ? g_ascii_strtoll (t, NULL, 10) : 0;
        }
      st = rr_db_prepare ("INSERT OR REPLACE INTO instances (sop_uid, study_uid, series_uid,"
                          " orthanc_id, size, md5) VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
      sqlite3_bind_text (st, 1, sop, -1, SQLITE_TRANSIENT);
      sqlite3_bind_text (st, 2, study_uid, -1, SQLITE_TRANSIENT);
      sqlite3_bind_text (st, 3, series_uid, -1, SQLITE_TRANSIENT);
      sqlite3_bind_text (st, 4, id, -1, SQLITE_TRANSIENT);
      sqlite3_bind_int64 (st, 5, size);
      sqlite3_bind_text (st, 6, md5_text, -1, SQLITE_TRANSIENT);
      if (!step_done (st))
        return FALSE;
    }
  return TRUE;
}

typedef struct
{
  const RrHttpRequest *req;
  GBytes *answer;
  int code;
} Store;

static void
store_unlocked (gpointer data)
{
  Store *s = data;
  s->answer = rr_server->rest_post ("/instances", s->req->body, s->req->body_len, &s->code);
}

/* Orthanc refused the file itself (not DICOM), or could not store it. */
static gboolean
store_refused_file (int code)
{
  return code == 8 /* BadRequest */ || code == 15 /* BadFileFormat */ ||
         code == 3 /* ParameterOutOfRange */ || code == 5 /* BadParameterType */ ||
         code == 20 /* CorruptedFile */ || code == 21 /* InexistentTag */;
}

void
post_instances (RrHttpRequest  *req,
                RrHttpAnswer *resp)
{
  Store store = { req, NULL, 0 };
  g_autoptr (GBytes) answer = NULL;
  g_autoptr (JsonParser) p = json_parser_new ();
  g_autofree char *site = NULL, *study_uri = NULL;
  g_autoptr (JsonNode) study = NULL;
  const char *parent, *study_uid;
  JsonObject *o;
  sqlite3_stmt *st;
  g_autoptr (RrJsonWriter) w = NULL;

  if (!req->user->admin && (site = member_site (req->user)) == NULL)
    return forbidden (resp);
  if (req->body_len == 0 || req->body_len > RR_MAX_UPLOAD)
    return rr_respond_error (resp, req->body_len ? 413 : 400,
                             req->body_len ? "too_large" : "invalid_request",
                             "The body is one DICOM file (up to 1 GiB)", NULL);
  /* The store writes the file: no reason to hold up other requests. */
  rr_without_lock (store_unlocked, &store);
  answer = store.answer;
  if (answer == NULL && !store_refused_file (store.code))
    /* Orthanc's own message names the storage path: not for a client. */
    return rr_respond_error (resp, 507, "storage_failed", "The server could not store the "
                             "file; nothing was stored. Try again later", NULL);
  if (answer == NULL ||
      !rr_json_load (p, g_bytes_get_data (answer, NULL),
                                   (gssize) g_bytes_get_size (answer), NULL) ||
      !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (p)))
    return rr_respond_error (resp, 400, "invalid_request", "Orthanc did not accept the file as "
                             "DICOM", NULL);
  o = json_node_get_object (json_parser_get_root (p));
  parent = json_object_get_string_member_with_default (o, "ParentStudy", NULL);
  if (parent == NULL)
    return rr_respond_error (resp, 400, "invalid_request", "Orthanc did not store the file", NULL);
  study_uri = g_strdup_printf ("/studies/%s", parent);
  study = orthanc_json (study_uri);
  study_uid = study && JSON_NODE_HOLDS_OBJECT (study)
                ? tag_of (json_node_get_object (study), "StudyInstanceUID") : NULL;
  if (study_uid == NULL)
    return server_failed (resp);
  rr_db_begin ();
  st = rr_db_prepare ("INSERT INTO studies (study_uid, orthanc_id, uploaded_by, site)"
                      " VALUES (?1, ?2, ?3, ?4) ON CONFLICT (study_uid) DO NOTHING");
  sqlite3_bind_text (st, 1, study_uid, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (st, 2, parent, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (st, 3, req->user->id);
  if (site)
    sqlite3_bind_text (st, 4, site, -1, SQLITE_TRANSIENT);
  step_done (st);
  rr_db_commit ();
  w = rr_json_writer_new (FALSE);
  rr_json_begin_object (w);
  rr_json_key (w, "study");
  rr_json_string (w, study_uid);
  rr_json_key (w, "status");
  rr_json_string (w, json_object_get_string_member_with_default (o, "Status", ""));
  rr_json_end_object (w);
  rr_respond_json (resp, 201, rr_json_writer_steal (w));
}

void
get_instance_file (RrHttpRequest *req,
                   RrHttpAnswer  *resp)
{
  const char *sop = req->groups[0];
  char **orthanc_id = &resp->stream;
  sqlite3_stmt *st;
  g_autofree char *study = NULL;

  *orthanc_id = NULL;
  if (!rr_access_is_uid (sop))
    return not_found (resp);
  st = rr_db_prepare ("SELECT study_uid, orthanc_id FROM instances WHERE sop_uid = ?1");
  sqlite3_bind_text (st, 1, sop, -1, SQLITE_TRANSIENT);
  if (st && sqlite3_step (st) == SQLITE_ROW)
    {
      study = g_strdup (col_text (st, 0));
      *orthanc_id = g_strdup (col_text (st, 1));
    }
  sqlite3_finalize (st);
  if (study == NULL || !rr_api_user_may_see_study (req->user, study))
    {
      g_clear_pointer (orthanc_id, g_free);
      return not_found (resp);
    }
}

void
answer_file (RrHttpRequest  *req,
             RrHttpAnswer *resp,
             const char *orthanc_id)
{
  g_autofree char *uri = g_strdup_printf ("/instances/%s/file", orthanc_id);
  g_autoptr (GBytes) data = rr_server->rest_get (uri);
  const char *range = g_hash_table_lookup (req->headers, "range");
  gsize size;
  guint64 from = 0, to;

  if (data == NULL)
    return server_failed (resp);
  size = g_bytes_get_size (data);
  to = size ? size - 1 : 0;
  rr_response_clear (resp);
  resp->headers = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (resp->headers, g_strdup ("Accept-Ranges"));
  g_ptr_array_add (resp->headers, g_strdup ("bytes"));
  resp->content_type = g_strdup ("application/dicom");
  if (range && g_str_has_prefix (range, "bytes="))
    {
      /* One range: "a-b", "a-" or "-n". */
      const char *spec = range + 6;
      char *end = NULL;
      gboolean ok = TRUE;
      if (*spec == '-')
        {
          guint64 last = g_ascii_strtoull (spec + 1, &end, 10);
          ok = end != spec + 1 && *end == '\0' && last > 0;
          from = last >= size ? 0 : size - last;
        }
      else
        {
          from = g_ascii_strtoull (spec, &end, 10);
          ok = end != spec && *end == '-';
          if (ok && end[1] != '\0')
            {
              const char *b = end + 1;
              to = g_ascii_strtoull (b, &end, 10);
              ok = end != b && *end == '\0' && to >= from;
            }
          else if (ok)
            ok = end[1] == '\0';
        }
      if (!ok || from >= size)
        {
          g_autofree char *cr = g_strdup_printf ("bytes */%zu", size);
          g_ptr_array_add (resp->headers, g_strdup ("Content-Range"));
          g_ptr_array_add (resp->headers, g_steal_pointer (&cr));
          resp->status = 416;
          return;
        }
      to = MIN (to, size - 1);
      resp->status = 206;
      resp->body = g_bytes_new_from_bytes (data, from, to - from + 1);
      g_ptr_array_add (resp->headers, g_strdup ("Content-Range"));
      g_ptr_array_add (resp->headers, g_strdup_printf ("bytes %" G_GUINT64_FORMAT "-%"
                                                       G_GUINT64_FORMAT "/%zu", from, to, size));
      return;
    }
  resp->status = 200;
  resp->body = g_bytes_ref (data);
}
