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
  RrStmt *st = rr_db_query (RR_Q_UPLOADER);
  gint64 id = -1;
  rr_stmt_bind_int (st, 1, qc->timepoint);
  rr_stmt_bind_text (st, 2, qc->trial);
  if (st && rr_stmt_step (st) == RR_ROW)
    id = rr_stmt_column_int (st, 0);
  rr_stmt_finalize (st);
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
  RrStmt *st;

  if (id == NULL)
    return FALSE;
  st = rr_db_query (RR_Q_QUERY_OPEN);
  rr_stmt_bind_text (st, 1, id);
  rr_stmt_bind_text (st, 2, qc->id);
  rr_stmt_bind_text (st, 3, verdict);
  rr_stmt_bind_text (st, 4, findings);
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
  RrStmt *st;

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
      st = rr_db_query (RR_Q_QUERY_ANSWER_CHECK);
      rr_stmt_bind_text (st, 1, uid);
      rr_stmt_bind_int (st, 2, t->timepoint);
      elsewhere = st && rr_stmt_step (st) == RR_ROW ? rr_stmt_column_int (st, 0) : 1;
      rr_stmt_finalize (st);
      st = rr_db_query (RR_Q_QUERY_ANSWER_CHECK_2);
      rr_stmt_bind_text (st, 1, uid);
      rr_stmt_bind_int (st, 2, t->timepoint);
      rr_stmt_bind_int (st, 3, user->id);
      rr_stmt_bind_text (st, 4, t->trial);
      mine = st && rr_stmt_step (st) == RR_ROW ? rr_stmt_column_int (st, 0) : 0;
      rr_stmt_finalize (st);
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
  st = rr_db_query (RR_Q_QUERY_ANSWER_CHECK_3);
  rr_stmt_bind_int (st, 1, t->timepoint);
  while (st && rr_stmt_step (st) == RR_ROW)
    if (!g_ptr_array_find_with_equal_func (a->studies, col_text (st, 0), g_str_equal, NULL))
      g_ptr_array_add (a->unlinked, g_strdup (col_text (st, 0)));
  rr_stmt_finalize (st);
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
  gint64 id = query_int (RR_Q_REVIEWER, query->id, NULL);
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
  RrStmt *st;

  *no_reviewer = qc_user < 0;
  if (qc_user < 0)
    return NULL;
  for (guint i = 0; i < a->unlinked->len; i++)
    {
      st = rr_db_query (RR_Q_QUERY_ANSWERED);
      rr_stmt_bind_int (st, 1, t->timepoint);
      rr_stmt_bind_text (st, 2, a->unlinked->pdata[i]);
      if (!step_done (st))
        return NULL;
    }
  for (guint i = 0; i < a->studies->len; i++)
    {
      const char *uid = a->studies->pdata[i];
      g_autofree char *oid = rr_server->lookup_study ? rr_server->lookup_study (uid) : NULL;
      if (oid == NULL)
        return NULL;
      st = rr_db_query (RR_Q_QUERY_ANSWERED_2);
      rr_stmt_bind_text (st, 1, uid);
      rr_stmt_bind_text (st, 2, oid);
      /* Indexed again: a re-upload may have added files to the study. */
      if (!step_done (st) || !index_study (uid, oid))
        return NULL;
      st = rr_db_query (RR_Q_QUERY_ANSWERED_3);
      rr_stmt_bind_int (st, 1, t->timepoint);
      rr_stmt_bind_text (st, 2, uid);
      if (!step_done (st))
        return NULL;
    }
  st = rr_db_query (RR_Q_QUERY_ANSWERED_4);
  rr_stmt_bind_int (st, 1, t->timepoint);
  if (!step_done (st))
    return NULL;
  qc = create_task ("qc", t->trial, t->subject, t->timepoint, qc_user, 0, by);
  if (qc == NULL || !qc_store (qc, a->protocol ? a->protocol : "{}", a->automated))
    return NULL;
  st = rr_db_query (RR_Q_QUERY_ANSWERED_5);
  rr_stmt_bind_text (st, 1, t->id);
  rr_stmt_bind_text (st, 2, a->response);
  rr_stmt_bind_text (st, 3, qc);
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
  RrStmt *st = rr_db_query (RR_Q_WRITE_QUERY);
  gboolean found;
  rr_stmt_bind_text (st, 1, t->id);
  found = st && rr_stmt_step (st) == RR_ROW;
  rr_json_key (w, "qc_task");
  found ? rr_json_string (w, col_text (st, 0)) : rr_json_null (w);
  rr_json_key (w, "decision");
  found ? rr_json_string (w, col_text (st, 1)) : rr_json_null (w);
  /* The findings as the reviewer drew them: each names its series, image
   * and frame, so the site sees the marked images. */
  rr_json_key (w, "findings");
  rr_json_raw (w, found ? col_text (st, 2) : "[]");
  rr_json_key (w, "response");
  found && !rr_stmt_column_is_null (st, 3) ? rr_json_string (w, col_text (st, 3))
                                                      : rr_json_null (w);
  rr_json_key (w, "answered_by");
  found && !rr_stmt_column_is_null (st, 4) ? rr_json_string (w, col_text (st, 4))
                                                      : rr_json_null (w);
  rr_stmt_finalize (st);
}

void
write_qc_query (RrJsonWriter *w,
                const Task   *t)
{
  RrStmt *st = rr_db_query (RR_Q_WRITE_QC_QUERY);
  rr_stmt_bind_text (st, 1, t->id);
  rr_json_key (w, "query");
  if (st && rr_stmt_step (st) == RR_ROW)
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
  rr_stmt_finalize (st);
}
