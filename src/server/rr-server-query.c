/* rr-server-query.c: the query loop of QC (server-api.md). A QC `fail` or
 * `query` opens a `query` task for the site user who uploaded the
 * timepoint's studies, carrying the reviewer's findings; the site answers
 * it with a response and the studies the timepoint holds from then on
 * (re-uploaded, corrected), which links them, closes the query and opens a
 * fresh QC task checked against the trial's protocol. Every step is an
 * audit event, so the query's history is the trail's. */
#include "rr-server-private.h"

#define MAX_RESPONSE_CHARS 10000
#define MAX_ANSWER_STUDIES 64

struct _QueryAnswer
{
  char *response;
  GPtrArray *studies;     /* the timepoint's studies from now on */
  GPtrArray *unlinked;    /* its studies that the answer leaves out */
  char *protocol;
  char *automated;
};

void
query_answer_free (QueryAnswer *a)
{
  if (a == NULL)
    return;
  g_free (a->response);
  g_ptr_array_unref (a->studies);
  g_ptr_array_unref (a->unlinked);
  g_free (a->protocol);
  g_free (a->automated);
  g_free (a);
}

/* Who answers: the uploader of the timepoint's studies while still an
 * active site member of the trial; else nobody (the query waits,
 * unassigned, in an admin's list). */
static gint64
uploader (const Task *qc)
{
  sqlite3_stmt *st = rr_db_prepare (
    "SELECT s.uploaded_by FROM timepoint_studies ts JOIN studies s ON s.study_uid = ts.study_uid"
    " JOIN users u ON u.id = s.uploaded_by JOIN members m ON m.user_id = u.id AND m.trial_id = ?2"
    " WHERE ts.timepoint_id = ?1 AND u.disabled = 0 AND (',' || m.roles || ',') LIKE '%,site,%'"
    " ORDER BY ts.study_uid LIMIT 1");
  gint64 id = -1;
  sqlite3_bind_int64 (st, 1, qc->timepoint);
  sqlite3_bind_text (st, 2, qc->trial, -1, SQLITE_TRANSIENT);
  if (st && sqlite3_step (st) == SQLITE_ROW)
    id = sqlite3_column_int64 (st, 0);
  sqlite3_finalize (st);
  return id >= 0 ? id : unassigned_user ();
}

gboolean
query_open (const Task *qc,
            JsonObject *decision,
            const char *by)
{
  JsonNode *fn = json_object_get_member (decision, "findings");
  g_autofree char *findings = fn && JSON_NODE_HOLDS_ARRAY (fn) ? node_to_json (fn)
                                                              : g_strdup ("[]");
  const char *verdict = json_object_get_string_member (decision, "decision");
  gint64 site = uploader (qc);
  g_autofree char *id = create_task ("query", qc->trial, qc->subject, qc->timepoint, site, 0, by);
  g_autoptr (RrJsonWriter) w = rr_json_writer_new (FALSE);
  g_autofree char *details = NULL;
  sqlite3_stmt *st;

  if (id == NULL)
    return FALSE;
  st = rr_db_prepare ("INSERT INTO queries (task_id, qc_task_id, decision, findings)"
                      " VALUES (?1, ?2, ?3, ?4)");
  sqlite3_bind_text (st, 1, id, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (st, 2, qc->id, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (st, 3, verdict, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (st, 4, findings, -1, SQLITE_TRANSIENT);
  if (!step_done (st))
    return FALSE;
  rr_json_begin_object (w);
  rr_json_key (w, "qc_task");
  rr_json_string (w, qc->id);
  rr_json_key (w, "decision");
  rr_json_string (w, verdict);
  rr_json_key (w, "findings");
  rr_json_int (w, fn && JSON_NODE_HOLDS_ARRAY (fn) ? json_array_get_length (json_node_get_array (fn))
                                                   : 0);
  rr_json_end_object (w);
  details = rr_json_writer_steal (w);
  return rr_audit_append (by, "query.open", id, details);
}

static void
refuse (RrHttpAnswer *resp,
        const char   *format,
        ...) G_GNUC_PRINTF (2, 3);

/* 422: the answer is well formed but cannot be taken. */
static void
refuse (RrHttpAnswer *resp,
        const char   *format,
        ...)
{
  va_list ap;
  va_start (ap, format);
  g_autofree char *msg = g_strdup_vprintf (format, ap);
  va_end (ap);
  rr_respond_error (resp, 422, "invalid_submission", msg, NULL);
}

QueryAnswer *
query_answer_check (const Task   *t,
                    const RrUser *user,
                    JsonObject   *o,
                    RrHttpAnswer *resp)
{
  g_autoptr (QueryAnswer) a = g_new0 (QueryAnswer, 1);
  gboolean ok = TRUE;
  const char *response = member_string (o, "response", TRUE, MAX_RESPONSE_CHARS, &ok, resp);
  JsonNode *sn = json_object_get_member (o, "studies");
  JsonArray *list;
  sqlite3_stmt *st;

  a->studies = g_ptr_array_new_with_free_func (g_free);
  a->unlinked = g_ptr_array_new_with_free_func (g_free);
  if (!ok)
    return NULL;
  a->response = g_strdup (response);
  if (sn == NULL || !JSON_NODE_HOLDS_ARRAY (sn) ||
      json_array_get_length (json_node_get_array (sn)) == 0 ||
      json_array_get_length (json_node_get_array (sn)) > MAX_ANSWER_STUDIES)
    {
      bad_request (resp, "\"studies\" must list 1 to 64 Study Instance UIDs");
      return NULL;
    }
  list = json_node_get_array (sn);
  for (guint i = 0; i < json_array_get_length (list); i++)
    {
      JsonNode *e = json_array_get_element (list, i);
      const char *uid = json_node_get_value_type (e) == G_TYPE_STRING ? json_node_get_string (e)
                                                                        : NULL;
      gint64 elsewhere, mine;
      if (!rr_access_is_uid (uid))
        {
          bad_request (resp, "\"studies\" must list Study Instance UIDs");
          return NULL;
        }
      if (g_ptr_array_find_with_equal_func (a->studies, uid, g_str_equal, NULL))
        continue;
      /* Linked to this timepoint already (more files added to the same
       * study), or an upload of this user for this trial not linked
       * anywhere: never another subject's or another site's images. */
      st = rr_db_prepare ("SELECT count (*) FROM timepoint_studies WHERE study_uid = ?1"
                          " AND timepoint_id != ?2");
      sqlite3_bind_text (st, 1, uid, -1, SQLITE_TRANSIENT);
      sqlite3_bind_int64 (st, 2, t->timepoint);
      elsewhere = st && sqlite3_step (st) == SQLITE_ROW ? sqlite3_column_int64 (st, 0) : 1;
      sqlite3_finalize (st);
      st = rr_db_prepare ("SELECT (SELECT count (*) FROM timepoint_studies WHERE study_uid = ?1"
                          " AND timepoint_id = ?2) + (SELECT count (*) FROM studies"
                          " WHERE study_uid = ?1 AND uploaded_by = ?3 AND trial_id IS ?4)");
      sqlite3_bind_text (st, 1, uid, -1, SQLITE_TRANSIENT);
      sqlite3_bind_int64 (st, 2, t->timepoint);
      sqlite3_bind_int64 (st, 3, user->id);
      sqlite3_bind_text (st, 4, t->trial, -1, SQLITE_TRANSIENT);
      mine = st && sqlite3_step (st) == SQLITE_ROW ? sqlite3_column_int64 (st, 0) : 0;
      sqlite3_finalize (st);
      if (elsewhere > 0)
        {
          refuse (resp, "Study %s is linked to another timepoint", uid);
          return NULL;
        }
      if (mine == 0)
        {
          refuse (resp, "Study %s is neither this timepoint's nor one you uploaded for "
                  "this trial", uid);
          return NULL;
        }
      g_ptr_array_add (a->studies, g_strdup (uid));
    }
  st = rr_db_prepare ("SELECT study_uid FROM timepoint_studies WHERE timepoint_id = ?1"
                      " ORDER BY study_uid");
  sqlite3_bind_int64 (st, 1, t->timepoint);
  while (st && sqlite3_step (st) == SQLITE_ROW)
    if (!g_ptr_array_find_with_equal_func (a->studies, col_text (st, 0), g_str_equal, NULL))
      g_ptr_array_add (a->unlinked, g_strdup (col_text (st, 0)));
  sqlite3_finalize (st);
  return g_steal_pointer (&a);
}

void
query_answer_run_checks (const Task  *t,
                         QueryAnswer *a)
{
  g_clear_pointer (&a->automated, g_free);
  g_clear_pointer (&a->protocol, g_free);
  a->automated = qc_automated (t->trial, a->studies, &a->protocol);
}

/* The reviewer of the fresh QC task: the one who raised the query while
 * still an active QC member of the trial, else the least loaded one. */
static gint64
reviewer (const Task *query)
{
  gint64 id = query_int ("SELECT u.id FROM queries q JOIN tasks t ON t.id = q.qc_task_id"
                         " JOIN users u ON u.id = t.user_id JOIN members m ON m.user_id = u.id"
                         " AND m.trial_id = t.trial_id WHERE q.task_id = ?1 AND u.disabled = 0"
                         " AND (',' || m.roles || ',') LIKE '%,qc,%'", query->id, NULL);
  return id >= 0 ? id : least_loaded (query->trial, "qc", NULL);
}

char *
query_answered (const Task  *t,
                QueryAnswer *a,
                const char  *by,
                gboolean    *no_reviewer)
{
  g_autoptr (RrJsonWriter) w = rr_json_writer_new (FALSE);
  g_autofree char *details = NULL, *qc = NULL;
  gint64 qc_user = reviewer (t);
  sqlite3_stmt *st;

  *no_reviewer = qc_user < 0;
  if (qc_user < 0)
    return NULL;
  for (guint i = 0; i < a->unlinked->len; i++)
    {
      st = rr_db_prepare ("DELETE FROM timepoint_studies WHERE timepoint_id = ?1 AND study_uid = ?2");
      sqlite3_bind_int64 (st, 1, t->timepoint);
      sqlite3_bind_text (st, 2, a->unlinked->pdata[i], -1, SQLITE_TRANSIENT);
      if (!step_done (st))
        return NULL;
    }
  for (guint i = 0; i < a->studies->len; i++)
    {
      const char *uid = a->studies->pdata[i];
      g_autofree char *oid = rr_server->lookup_study ? rr_server->lookup_study (uid) : NULL;
      if (oid == NULL)
        return NULL;
      st = rr_db_prepare ("INSERT INTO studies (study_uid, orthanc_id) VALUES (?1, ?2)"
                          " ON CONFLICT (study_uid) DO UPDATE SET orthanc_id = ?2");
      sqlite3_bind_text (st, 1, uid, -1, SQLITE_TRANSIENT);
      sqlite3_bind_text (st, 2, oid, -1, SQLITE_TRANSIENT);
      /* Indexed again: a re-upload may have added files to the study. */
      if (!step_done (st) || !index_study (uid, oid))
        return NULL;
      st = rr_db_prepare ("INSERT OR IGNORE INTO timepoint_studies (timepoint_id, study_uid)"
                          " VALUES (?1, ?2)");
      sqlite3_bind_int64 (st, 1, t->timepoint);
      sqlite3_bind_text (st, 2, uid, -1, SQLITE_TRANSIENT);
      if (!step_done (st))
        return NULL;
    }
  st = rr_db_prepare ("UPDATE timepoints SET qc_status = 'pending' WHERE id = ?1");
  sqlite3_bind_int64 (st, 1, t->timepoint);
  if (!step_done (st))
    return NULL;
  qc = create_task ("qc", t->trial, t->subject, t->timepoint, qc_user, 0, by);
  if (qc == NULL || !qc_store (qc, a->protocol ? a->protocol : "{}", a->automated))
    return NULL;
  st = rr_db_prepare ("UPDATE queries SET response = ?2, answer_qc_task_id = ?3 WHERE task_id = ?1");
  sqlite3_bind_text (st, 1, t->id, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (st, 2, a->response, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (st, 3, qc, -1, SQLITE_TRANSIENT);
  if (!step_done (st))
    return NULL;
  rr_json_begin_object (w);
  rr_json_key (w, "response");
  rr_json_string (w, a->response);
  rr_json_key (w, "studies");
  rr_json_begin_array (w);
  for (guint i = 0; i < a->studies->len; i++)
    rr_json_string (w, a->studies->pdata[i]);
  rr_json_end_array (w);
  rr_json_key (w, "unlinked");
  rr_json_begin_array (w);
  for (guint i = 0; i < a->unlinked->len; i++)
    rr_json_string (w, a->unlinked->pdata[i]);
  rr_json_end_array (w);
  rr_json_key (w, "qc_task");
  rr_json_string (w, qc);
  rr_json_end_object (w);
  details = rr_json_writer_steal (w);
  if (!rr_audit_append (by, "query.answer", t->id, details))
    return NULL;
  return g_steal_pointer (&qc);
}

void
write_query (RrJsonWriter *w,
             const Task   *t)
{
  sqlite3_stmt *st = rr_db_prepare ("SELECT qc_task_id, decision, findings, response,"
                                    " answer_qc_task_id FROM queries WHERE task_id = ?1");
  gboolean found;
  sqlite3_bind_text (st, 1, t->id, -1, SQLITE_TRANSIENT);
  found = st && sqlite3_step (st) == SQLITE_ROW;
  rr_json_key (w, "qc_task");
  found ? rr_json_string (w, col_text (st, 0)) : rr_json_null (w);
  rr_json_key (w, "decision");
  found ? rr_json_string (w, col_text (st, 1)) : rr_json_null (w);
  /* The findings as the reviewer drew them: each names its series, image
   * and frame, so the site sees the marked images. */
  rr_json_key (w, "findings");
  rr_json_raw (w, found ? col_text (st, 2) : "[]");
  rr_json_key (w, "response");
  found && sqlite3_column_type (st, 3) != SQLITE_NULL ? rr_json_string (w, col_text (st, 3))
                                                      : rr_json_null (w);
  rr_json_key (w, "answered_by");
  found && sqlite3_column_type (st, 4) != SQLITE_NULL ? rr_json_string (w, col_text (st, 4))
                                                      : rr_json_null (w);
  sqlite3_finalize (st);
}

void
write_qc_query (RrJsonWriter *w,
                const Task   *t)
{
  sqlite3_stmt *st = rr_db_prepare ("SELECT task_id, decision, findings, response FROM queries"
                                    " WHERE answer_qc_task_id = ?1");
  sqlite3_bind_text (st, 1, t->id, -1, SQLITE_TRANSIENT);
  rr_json_key (w, "query");
  if (st && sqlite3_step (st) == SQLITE_ROW)
    {
      rr_json_begin_object (w);
      rr_json_key (w, "id");
      rr_json_string (w, col_text (st, 0));
      rr_json_key (w, "decision");
      rr_json_string (w, col_text (st, 1));
      rr_json_key (w, "findings");
      rr_json_raw (w, col_text (st, 2));
      rr_json_key (w, "response");
      rr_json_string (w, col_text (st, 3));
      rr_json_end_object (w);
    }
  else
    rr_json_null (w);
  sqlite3_finalize (st);
}
