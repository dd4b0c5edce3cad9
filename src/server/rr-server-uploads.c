/* rr-server-uploads.c: uploads through Orthanc, the index of what a
 * study holds, and the stored files served as they are. */
#include "rr-server-private.h"
#include "rr-dicom-guard.h"

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
      RrStmt *st;

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
      st = rr_db_query (RR_Q_INSTANCE_UPSERT);
      rr_stmt_bind_text (st, 1, sop);
      rr_stmt_bind_text (st, 2, study_uid);
      rr_stmt_bind_text (st, 3, series_uid);
      rr_stmt_bind_text (st, 4, id);
      rr_stmt_bind_int (st, 5, size);
      rr_stmt_bind_text (st, 6, md5_text);
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
  /* A test widens the window between the store and the records written
   * after it, where parallel files of a new study meet (test_upload). */
  rr_test_delay ("READROOM_TEST_STORE_DELAY_MS");
}

/* Orthanc refused the file itself (not DICOM), or could not store it. */
static gboolean
store_refused_file (int code)
{
  return code == 8 /* BadRequest */ || code == 15 /* BadFileFormat */ ||
         code == 3 /* ParameterOutOfRange */ || code == 5 /* BadParameterType */ ||
         code == 20 /* CorruptedFile */ || code == 21 /* InexistentTag */;
}

/* The string value of tag @tag ("0020,000d") in Orthanc's JSON. */
static char *
short_tag (JsonObject *tags,
           const char *tag)
{
  JsonNode *n = json_object_get_member (tags, tag);
  if (n && JSON_NODE_HOLDS_OBJECT (n))   /* {"Type": ..., "Value": ...} in "Full" */
    n = json_object_get_member (json_node_get_object (n), "Value");
  if (n == NULL || json_node_get_value_type (n) != G_TYPE_STRING)
    return NULL;
  return g_strstrip (g_strdup (json_node_get_string (n)));
}

/* The site @user uploads for in @trial (the X-Readroom-Trial header), or
 * without one in the first trial where the user is a site member; NULL
 * when the user is none. */
static gboolean
upload_site (const RrUser  *user,
             const char    *trial_header,
             char         **trial,
             char         **site)
{
  RrStmt *st = rr_db_query (RR_Q_SITE_MEMBERSHIP);
  gboolean found = FALSE;
  rr_stmt_bind_int (st, 1, user->id);
  if (trial_header)
    rr_stmt_bind_text (st, 2, trial_header);
  if (st && rr_stmt_step (st) == RR_ROW)
    {
      *trial = g_strdup (col_text (st, 0));
      *site = g_strdup (col_text (st, 1));
      found = TRUE;
    }
  rr_stmt_finalize (st);
  return found;
}

/* Studies whose first instances are being stored (the lock is released
 * for the store) before their row exists: study UID -> Pending. Without
 * it, a site sending a new study's files in parallel would find the study
 * in Orthanc with no row yet, and be refused as if it were someone
 * else's. On SQLite, touched under the lock only; on PostgreSQL it is
 * rows (pending_uploads), so that every node sees them, with an expiry
 * for a node that stopped while storing. */
#define PENDING_SECONDS 600
typedef struct
{
  gint64 user_id;
  char *trial, *site;
  guint count;
} Pending;

static GHashTable *pending_studies;

static void
pending_free (gpointer data)
{
  Pending *p = data;
  g_free (p->trial);
  g_free (p->site);
  g_free (p);
}

static gboolean
pending_shared (void)
{
  return rr_db == &rr_db_pg;
}

static gboolean
pending_row (RrStmt  *st,
             Pending *p)
{
  gboolean found = rr_stmt_step (st) == RR_ROW;
  if (found)
    {
      p->user_id = rr_stmt_column_int (st, 0);
      p->trial = g_strdup (rr_stmt_column_text (st, 1));
      p->site = g_strdup (rr_stmt_column_text (st, 2));
    }
  rr_stmt_finalize (st);
  return found;
}

/* Is @study_uid being stored, by whom, for what (*p, its strings the
 * caller's to free)? */
static gboolean
pending_lookup (const char *study_uid,
                Pending    *p)
{
  Pending *mine;
  if (pending_shared ())
    {
      RrStmt *st = rr_db_query (RR_Q_PENDING_UPLOAD_GET);
      rr_stmt_bind_text (st, 1, study_uid);
      rr_stmt_bind_int (st, 2, g_get_real_time () / G_USEC_PER_SEC);
      return pending_row (st, p);
    }
  mine = pending_studies ? g_hash_table_lookup (pending_studies, study_uid) : NULL;
  if (mine)
    {
      p->user_id = mine->user_id;
      p->trial = g_strdup (mine->trial);
      p->site = g_strdup (mine->site);
    }
  return mine != NULL;
}

static gboolean
pending_is (const Pending *p,
            const RrUser  *user,
            const char    *trial,
            const char    *site)
{
  return p->user_id == user->id && g_strcmp0 (p->trial, trial) == 0 &&
         g_strcmp0 (p->site, site) == 0;
}

/* FALSE when another user's store of the study won the race (another
 * node, between the check and here); admins store regardless. */
static gboolean
pending_add (const RrUser *user,
             const char   *trial,
             const char   *site,
             const char   *study_uid)
{
  Pending *p;
  if (pending_shared ())
    {
      RrStmt *st = rr_db_query (RR_Q_PENDING_UPLOAD_ADD);
      Pending first = { 0 };
      gboolean ok;
      rr_stmt_bind_text (st, 1, study_uid);
      rr_stmt_bind_int (st, 2, user->id);
      rr_stmt_bind_text (st, 3, trial);
      rr_stmt_bind_text (st, 4, site);
      rr_stmt_bind_int (st, 5, g_get_real_time () / G_USEC_PER_SEC + PENDING_SECONDS);
      ok = pending_row (st, &first) && (user->admin || pending_is (&first, user, trial, site));
      g_free (first.trial);
      g_free (first.site);
      return ok;
    }
  if (pending_studies == NULL)
    pending_studies = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, pending_free);
  p = g_hash_table_lookup (pending_studies, study_uid);
  if (p == NULL)
    {
      p = g_new0 (Pending, 1);
      p->user_id = user->id;
      p->trial = g_strdup (trial);
      p->site = g_strdup (site);
      g_hash_table_insert (pending_studies, g_strdup (study_uid), p);
    }
  p->count++;
  return TRUE;
}

static void
pending_done (const char *study_uid)
{
  Pending *p;
  if (pending_shared ())
    {
      RrStmt *st = rr_db_query (RR_Q_PENDING_UPLOAD_RELEASE);
      rr_stmt_bind_text (st, 1, study_uid);
      rr_stmt_step (st);
      rr_stmt_finalize (st);
      st = rr_db_query (RR_Q_PENDING_UPLOAD_REMOVE);
      rr_stmt_bind_text (st, 1, study_uid);
      rr_stmt_bind_int (st, 2, g_get_real_time () / G_USEC_PER_SEC);
      rr_stmt_step (st);
      rr_stmt_finalize (st);
      return;
    }
  p = pending_studies ? g_hash_table_lookup (pending_studies, study_uid) : NULL;
  if (p && --p->count == 0)
    g_hash_table_remove (pending_studies, study_uid);
}

/* What the server records of @study_uid for this user: whether it is
 * pending (another request storing its first files) and whose, and
 * whether it has a row and whether the user's. */
typedef struct
{
  gboolean pending, pending_theirs, known, own;
} Claim;

static Claim
study_claim (const RrUser *user,
             const char   *trial,
             const char   *site,
             const char   *study_uid)
{
  Claim c = { 0 };
  Pending pending = { 0 };
  RrStmt *st;

  /* The pending row is read before the study's. The request storing a
   * study removes its pending row and writes the study's in one
   * transaction (on PostgreSQL, where requests run side by side, each
   * statement here sees what was committed when it ran): read the other
   * way round, a commit between the two reads showed neither, then the
   * study in Orthanc, and a site's parallel upload of its own study was
   * refused (server-on-postgres upload, 1 in some runs). */
  c.pending = pending_lookup (study_uid, &pending);
  c.pending_theirs = c.pending && pending_is (&pending, user, trial, site);
  g_free (pending.trial);
  g_free (pending.site);
  /* ...and a test widens the window between the two (test_upload). */
  rr_test_delay ("READROOM_TEST_CHECK_DELAY_MS");
  st = rr_db_query (RR_Q_STUDY_IS_OWN);
  rr_stmt_bind_text (st, 1, study_uid);
  rr_stmt_bind_int (st, 2, user->id);
  rr_stmt_bind_text (st, 3, trial);
  rr_stmt_bind_text (st, 4, site);
  c.known = st && rr_stmt_step (st) == RR_ROW;
  if (c.known)
    c.own = rr_stmt_column_int (st, 0);
  rr_stmt_finalize (st);
  return c;
}

/* Whether @c lets the user add to the study: its own row, or its own
 * pending store; FALSE with *undecided when the server knows nothing of
 * the study. */
static gboolean
claim_allows (const Claim *c,
              gboolean    *undecided)
{
  *undecided = FALSE;
  if (c->known)
    return c->own;
  if (c->pending)
    return c->pending_theirs;
  *undecided = TRUE;
  return FALSE;
}

/* May a site user add @sop to @study_uid? Only to a study it uploaded
 * itself for the same trial and site (or a new one), and never an
 * instance that someone else uploaded, wherever it is. */
static gboolean
upload_allowed (const RrUser *user,
                const char   *trial,
                const char   *site,
                const char   *study_uid,
                const char   *sop)
{
  RrStmt *st;
  gboolean ok, undecided;
  g_autofree char *stored_study = NULL, *stored_sop = NULL;
  Claim claim = study_claim (user, trial, site, study_uid);

  if (!claim_allows (&claim, &undecided) && !undecided)
    return FALSE;
  /* Neither row: a study Orthanc holds is not theirs, unless its first
   * store began after the reads above. That store's pending row is
   * committed before the file reaches Orthanc and stays until the study's
   * row is committed: read again after Orthanc's answer, one of the two
   * shows it. Without this, on PostgreSQL, a site's own file was refused
   * (server-on-postgres upload: 16 files of a new study sent at once, one
   * refused). A test widens the window (test_upload). */
  if (undecided && rr_server->lookup_study)
    {
      rr_test_delay ("READROOM_TEST_LOOKUP_DELAY_MS");
      stored_study = rr_server->lookup_study (study_uid);
      if (stored_study != NULL)
        {
          claim = study_claim (user, trial, site, study_uid);
          if (!claim_allows (&claim, &undecided))
            return FALSE;
        }
    }
  /* The instance: new, or one this user uploaded. */
  st = rr_db_query (RR_Q_UPLOAD_IS_OWN);
  rr_stmt_bind_text (st, 1, sop);
  rr_stmt_bind_int (st, 2, user->id);
  if (st && rr_stmt_step (st) == RR_ROW)
    {
      ok = rr_stmt_column_int (st, 0);
      rr_stmt_finalize (st);
      return ok;
    }
  rr_stmt_finalize (st);
  if (rr_server->lookup_instance && (stored_sop = rr_server->lookup_instance (sop)))
    return FALSE;
  return TRUE;
}

/* What the checks of an upload's bytes found (check_unlocked). */
typedef struct
{
  const RrHttpRequest *req;
  RrDicomGuard guard;
  char *study_uid, *series_uid, *sop, *phi;
} Check;

static void
check_clear (Check *c)
{
  g_clear_pointer (&c->study_uid, g_free);
  g_clear_pointer (&c->series_uid, g_free);
  g_clear_pointer (&c->sop, g_free);
  g_clear_pointer (&c->phi, g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Check, check_clear)

/* Without the lock: the bytes alone, no database. The guard's walk,
 * Orthanc's parse into JSON (quadratic in a data set's elements: seconds
 * for a file just under the guard's limits) and the de-identification
 * check held every other request of the server while they ran under it. */
static void
check_unlocked (gpointer data)
{
  Check *c = data;
  g_autoptr (JsonParser) tp = NULL;
  g_autofree char *tags = NULL;

  /* dcmtk reads nested sequences by recursion on this thread: walk them
   * first, without recursion, before Orthanc parses anything. */
  c->guard = rr_dicom_guard ((const guint8 *) c->req->body, c->req->body_len,
                             RR_DICOM_MAX_DEPTH, RR_DICOM_MAX_INFLATED);
  if (c->guard != RR_DICOM_GUARD_OK)
    return;
  /* Which study and instance, before anything is stored. */
  tags = rr_server->dicom_json ? rr_server->dicom_json (c->req->body, c->req->body_len) : NULL;
  tp = json_parser_new ();
  if (tags && rr_json_load (tp, tags, -1, NULL) && JSON_NODE_HOLDS_OBJECT (json_parser_get_root (tp)))
    {
      JsonObject *t = json_node_get_object (json_parser_get_root (tp));
      c->study_uid = short_tag (t, "0020,000d");
      c->series_uid = short_tag (t, "0020,000e");
      c->sop = short_tag (t, "0008,0018");
      c->phi = rr_phi_found (t);
    }
}

void
post_instances (RrHttpRequest  *req,
                RrHttpAnswer *resp)
{
  Store store = { req, NULL, 0 };
  g_auto (Check) check = { req, RR_DICOM_GUARD_OK, NULL, NULL, NULL, NULL };
  g_autoptr (GBytes) answer = NULL;
  g_autoptr (JsonParser) p = json_parser_new ();
  g_autofree char *site = NULL, *trial = NULL;
  g_autofree char *details = NULL, *now = NULL;
  const char *study_uid, *series_uid, *sop;
  const char *trial_header = g_hash_table_lookup (req->headers, "x-readroom-trial");
  const char *parent, *status;
  JsonObject *o;
  RrStmt *st;
  g_autoptr (RrJsonWriter) w = NULL;

  if (!req->user->admin && !upload_site (req->user, trial_header, &trial, &site))
    return forbidden (resp);
  if (req->user->admin && trial_header && !valid_id (trial_header, 64))
    return rr_respond_error (resp, 400, "invalid_request", "X-Readroom-Trial is not a trial id; "
                             "nothing was stored", NULL);
  if (req->user->admin && trial_header)
    {
      /* What the study is recorded for decides where it may be linked:
       * a trial that does not exist would hold it nowhere. */
      if (query_int (RR_Q_TRIAL_EXISTS, trial_header, NULL) < 0)
        return rr_respond_error (resp, 422, "invalid_submission", "X-Readroom-Trial names no "
                                 "trial on this server; nothing was stored", NULL);
      trial = g_strdup (trial_header);
    }
  if (req->body_len == 0 || req->body_len > RR_MAX_UPLOAD)
    return rr_respond_error (resp, req->body_len ? 413 : 400,
                             req->body_len ? "too_large" : "invalid_request",
                             "The body is one DICOM file (up to 1 GiB)", NULL);
  /* What was read above may change meanwhile: everything decided from the
   * database is decided again below, under the lock. */
  rr_without_lock (check_unlocked, &check);
  switch (check.guard)
    {
    case RR_DICOM_GUARD_OK:
      break;
    case RR_DICOM_GUARD_TOO_DEEP:
      return rr_respond_error (resp, 400, "invalid_request", "The file nests sequences deeper "
                               "than " G_STRINGIFY (RR_DICOM_MAX_DEPTH) " levels", NULL);
    case RR_DICOM_GUARD_TOO_MANY:
      return rr_respond_error (resp, 400, "invalid_request", "The file holds more than "
                               G_STRINGIFY (RR_DICOM_MAX_ELEMENTS) " elements in one data set "
                               "or " G_STRINGIFY (RR_DICOM_MAX_ITEMS) " items in one sequence",
                               NULL);
    case RR_DICOM_GUARD_TOO_LARGE:
      return rr_respond_error (resp, 413, "too_large", "The deflated data set inflates beyond "
                               "256 MiB", NULL);
    case RR_DICOM_GUARD_UNSUPPORTED:
      return rr_respond_error (resp, 400, "invalid_request", "The body is not a DICOM file "
                               "(PS3.10, with its meta group) in a transfer syntax the server "
                               "reads", NULL);
    case RR_DICOM_GUARD_MALFORMED:
    default:
      return rr_respond_error (resp, 400, "invalid_request", "The file is not DICOM: its "
                               "lengths and delimiters do not fit together", NULL);
    }
  study_uid = check.study_uid;
  series_uid = check.series_uid;
  sop = check.sop;
  if (!rr_access_is_uid (study_uid) || !rr_access_is_uid (sop) || !rr_access_is_uid (series_uid))
    return rr_respond_error (resp, 400, "invalid_request", "The file is not DICOM with valid "
                             "Study, Series and SOP Instance UIDs", NULL);
  /* Nothing identifying is stored, by anyone: the file is refused before
   * Orthanc sees it. */
  if (check.phi)
    return rr_respond_error (resp, 422, "phi_present", "The file is not de-identified "
                             "(readroom-cli deid): these attributes still identify, or Patient "
                             "Identity Removed is not YES", check.phi);
  /* The user was looked up before the lock was released: one disabled,
   * or a session revoked, meanwhile is no longer signed in. */
  {
    const char *auth = g_hash_table_lookup (req->headers, "authorization");
    g_autoptr (RrUser) again = auth && g_str_has_prefix (auth, "Bearer ")
                               ? rr_user_from_token (auth + 7) : NULL;
    if (again == NULL || again->id != req->user->id || again->admin != req->user->admin)
      return rr_respond_error (resp, 401, "unauthenticated", "The session ended while the "
                               "file was checked; nothing was stored", NULL);
  }
  /* The site was looked up before the lock was released: a membership
   * taken away meanwhile refuses the file. */
  if (!req->user->admin)
    {
      g_autofree char *site_again = NULL, *trial_again = NULL;
      if (!upload_site (req->user, trial_header, &trial_again, &site_again) ||
          g_strcmp0 (trial, trial_again) != 0 || g_strcmp0 (site, site_again) != 0)
        return forbidden (resp);
    }
  /* Everything a site may not do gets one answer: whether the study or
   * the instance exists is not for it to learn. */
  if (!req->user->admin && !upload_allowed (req->user, trial, site, study_uid, sop))
    return forbidden (resp);

  /* The store writes the file: no reason to hold up other requests. The
   * study is pending meanwhile (its row is written after the store). */
  if (!pending_add (req->user, trial, site, study_uid))
    {
      pending_done (study_uid);  /* the count it added to the other's row */
      return forbidden (resp);
    }
  rr_without_lock (store_unlocked, &store);
  /* The pending row goes with the records written below: on PostgreSQL
   * the rest of the request is one transaction, on SQLite it runs under
   * the lock, so no other request sees the study with neither. */
  pending_done (study_uid);
  answer = store.answer;
  if (answer == NULL && !store_refused_file (store.code))
    /* Orthanc's own message names the storage path: not for a client. */
    return rr_respond_error (resp, 507, "storage_failed", "The server could not store the "
                             "file; nothing was stored. Try again later", NULL);
  if (answer == NULL ||
      !rr_json_load (p, g_bytes_get_data (answer, NULL), (gssize) g_bytes_get_size (answer), NULL) ||
      !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (p)))
    return rr_respond_error (resp, 400, "invalid_request", "Orthanc did not accept the file as "
                             "DICOM", NULL);
  o = json_node_get_object (json_parser_get_root (p));
  parent = json_object_get_string_member_with_default (o, "ParentStudy", NULL);
  status = json_object_get_string_member_with_default (o, "Status", "");
  if (parent == NULL)
    return rr_respond_error (resp, 400, "invalid_request", "Orthanc did not store the file", NULL);
  now = rr_now_rfc3339 ();
  w = rr_json_writer_new (FALSE);
  rr_json_begin_object (w);
  rr_json_key (w, "study");
  rr_json_string (w, study_uid);
  rr_json_key (w, "series");
  rr_json_string (w, series_uid);
  rr_json_key (w, "trial");
  if (trial)
    rr_json_string (w, trial);
  else
    rr_json_null (w);
  rr_json_key (w, "site");
  if (site)
    rr_json_string (w, site);
  else
    rr_json_null (w);
  rr_json_key (w, "status");
  rr_json_string (w, status);
  rr_json_end_object (w);
  details = rr_json_writer_steal (w);
  /* The lock was released for the store: the records and the event are
   * one transaction taken after it. */
  rr_db_begin ();
  st = rr_db_query (RR_Q_STUDY_INSERT);
  rr_stmt_bind_text (st, 1, study_uid);
  rr_stmt_bind_text (st, 2, parent);
  rr_stmt_bind_int (st, 3, req->user->id);
  if (site)
    rr_stmt_bind_text (st, 4, site);
  if (trial)
    rr_stmt_bind_text (st, 5, trial);
  if (!step_done (st))
    goto failed;
  st = rr_db_query (RR_Q_UPLOAD_INSERT);
  rr_stmt_bind_text (st, 1, sop);
  rr_stmt_bind_text (st, 2, study_uid);
  rr_stmt_bind_int (st, 3, req->user->id);
  if (trial)
    rr_stmt_bind_text (st, 4, trial);
  if (site)
    rr_stmt_bind_text (st, 5, site);
  rr_stmt_bind_text (st, 6, now);
  if (!step_done (st) || !rr_audit_append (req->user->username, "instance.upload", sop, details))
    goto failed;
  rr_db_commit ();
  w = rr_json_writer_new (FALSE);
  rr_json_begin_object (w);
  rr_json_key (w, "study");
  rr_json_string (w, study_uid);
  rr_json_key (w, "status");
  rr_json_string (w, status);
  rr_json_end_object (w);
  rr_respond_json (resp, 201, rr_json_writer_steal (w));
  return;

failed:
  rr_db_rollback ();
  server_failed (resp);
}

void
get_instance_file (RrHttpRequest *req,
                   RrHttpAnswer  *resp)
{
  const char *sop = req->groups[0];
  char **orthanc_id = &resp->stream;
  RrStmt *st;
  g_autofree char *study = NULL;

  *orthanc_id = NULL;
  if (!rr_access_is_uid (sop))
    return not_found (resp);
  st = rr_db_query (RR_Q_INSTANCE_LOCATE);
  rr_stmt_bind_text (st, 1, sop);
  if (st && rr_stmt_step (st) == RR_ROW)
    {
      study = g_strdup (col_text (st, 0));
      *orthanc_id = g_strdup (col_text (st, 1));
    }
  rr_stmt_finalize (st);
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
