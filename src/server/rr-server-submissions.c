/* rr-server-submissions.c: signed submissions of QC decisions, reads,
 * adjudications and answers to queries, checked against the criteria,
 * idempotent by key, and the workflow steps they drive. */
#include "rr-server-private.h"

/* ---- submissions ---- */

static void
write_receipt (RrJsonWriter *w,
               const char   *id,
               const char   *at,
               const char   *responses)
{
  rr_json_begin_object (w);
  rr_json_key (w, "receipt");
  rr_json_begin_object (w);
  rr_json_key (w, "id");
  rr_json_string (w, id);
  rr_json_key (w, "submitted_at");
  rr_json_string (w, at);
  rr_json_key (w, "responses");
  rr_json_raw (w, responses && *responses ? responses : "null");
  rr_json_end_object (w);
  rr_json_end_object (w);
}

/* GET /tasks/{id}/submission: what the server holds for a task, so a
 * client that lost the answer to its POST (a crash, a dropped connection)
 * settles its outbox by asking instead of sending again. The submitter and
 * an admin may ask; so may the adjudicator of the case, for its reads. */
static gboolean
adjudicates (const RrUser *user,
             const Task   *t)
{
  RrStmt *st;
  gboolean yes;

  if (!g_str_equal (t->kind, "read"))
    return FALSE;
  st = rr_db_query (RR_Q_ADJUDICATION_TASK_EXISTS);
  rr_stmt_bind_int (st, 1, user->id);
  rr_stmt_bind_text (st, 2, t->trial);
  rr_stmt_bind_text (st, 3, t->subject);
  rr_stmt_bind_int (st, 4, t->timepoint);
  yes = st && rr_stmt_step (st) == RR_ROW;
  rr_stmt_finalize (st);
  return yes && task_role_held (user, t->trial, "adjudication");
}

void
get_submission (RrHttpRequest *req,
                RrHttpAnswer  *resp)
{
  const char *id = req->n_groups > 0 ? req->groups[0] : NULL;
  g_auto (Task) t = { 0 };
  g_autoptr (RrJsonWriter) w = NULL;
  RrStmt *st;
  RrUser any = { .admin = TRUE };
  gboolean blinded;

  /* Look the task up as an admin would, then decide: a task that the
   * caller may not see is a 404 like one that does not exist. */
  if (!task_get (&any, id, &t))
    return not_found (resp);
  /* The holder's own submission stays theirs after their role is taken
   * away: what they signed, and how their outbox settles a lost answer. */
  if (!req->user->admin && !(t.user_id == req->user->id &&
                             (g_str_equal (t.status, "submitted") ||
                              task_role_held (req->user, t.trial, t.kind))) &&
      !adjudicates (req->user, &t))
    return not_found (resp);
  /* The adjudicator sees the read as GET /tasks/{id} shows it: by its
   * label, never by its reader's name (the username here told it who read
   * the case), and without the reader's idempotency key. */
  blinded = !req->user->admin && t.user_id != req->user->id;

  st = rr_db_query (RR_Q_SUBMISSION_OF_TASK);
  rr_stmt_bind_text (st, 1, t.id);
  if (st == NULL || rr_stmt_step (st) != RR_ROW)
    {
      rr_stmt_finalize (st);
      return rr_respond_error (resp, 404, "not_found", "Nothing was submitted for this task", NULL);
    }
  w = rr_json_writer_new (FALSE);
  rr_json_begin_object (w);
  rr_json_key (w, "task");
  rr_json_string (w, t.id);
  if (!blinded)
    {
      rr_json_key (w, "idempotency_key");
      rr_json_string (w, col_text (st, 1));
    }
  rr_json_key (w, "signed_by");
  rr_json_string (w, blinded ? (t.slot == 2 ? "Reader 2" : "Reader 1") : col_text (st, 6));
  rr_json_key (w, "meaning");
  rr_json_string (w, col_text (st, 5));
  rr_json_key (w, "submission");
  if (blinded)
    {
      g_autofree char *submission = blind_read (col_text (st, 4), "read");
      rr_json_raw (w, submission);
    }
  else
    rr_json_raw (w, col_text (st, 4));
  rr_json_key (w, "receipt");
  rr_json_begin_object (w);
  rr_json_key (w, "id");
  rr_json_string (w, col_text (st, 0));
  rr_json_key (w, "submitted_at");
  rr_json_string (w, col_text (st, 2));
  rr_json_key (w, "responses");
  rr_json_raw (w, *col_text (st, 3) ? col_text (st, 3) : "null");
  rr_json_end_object (w);
  rr_json_end_object (w);
  rr_stmt_finalize (st);
  rr_respond_json (resp, 200, rr_json_writer_steal (w));
}

/* Compares the responses a read came with to the server's own: the words
 * that decide the trial's endpoint. Differences are listed in @details. */
static gboolean
responses_match (JsonNode *given,
                 const char *ours,
                 RrJsonWriter *details)
{
  g_autoptr (JsonParser) p = json_parser_new ();
  JsonObject *a, *b;
  JsonArray *ta, *tb;
  gboolean same = TRUE;
  static const char *const fields[] = { "target", "non_target", "new_lesions", "overall", NULL };

  if (given == NULL || !JSON_NODE_HOLDS_OBJECT (given) ||
      !rr_json_load (p, ours, -1, NULL))
    {
      rr_json_begin_object (details);
      rr_json_key (details, "rule");
      rr_json_string (details, "responses_missing");
      rr_json_key (details, "message");
      rr_json_string (details, "The read must carry the responses it was submitted with");
      rr_json_end_object (details);
      return FALSE;
    }
  a = json_node_get_object (given);
  b = json_node_get_object (json_parser_get_root (p));
#define CHECK(name, x, y)                                                                     \
  if (g_strcmp0 (x, y) != 0)                                                                  \
    {                                                                                         \
      rr_json_begin_object (details);                                                         \
      rr_json_key (details, "rule");                                                          \
      rr_json_string (details, "responses_differ");                                           \
      rr_json_key (details, "field");                                                         \
      rr_json_string (details, name);                                                         \
      rr_json_key (details, "submitted");                                                     \
      rr_json_string (details, (x) ? (x) : "");                                               \
      rr_json_key (details, "recomputed");                                                    \
      rr_json_string (details, (y) ? (y) : "");                                               \
      rr_json_end_object (details);                                                           \
      same = FALSE;                                                                           \
    }
  CHECK ("best_overall_response",
         json_object_get_string_member_with_default (a, "best_overall_response", NULL),
         json_object_get_string_member_with_default (b, "best_overall_response", NULL));
  {
    JsonNode *x = json_object_get_member (a, "progression_timepoint");
    JsonNode *y = json_object_get_member (b, "progression_timepoint");
    const char *xs = x && json_node_get_value_type (x) == G_TYPE_STRING ? json_node_get_string (x) : NULL;
    const char *ys = y && json_node_get_value_type (y) == G_TYPE_STRING ? json_node_get_string (y) : NULL;
    CHECK ("progression_timepoint", xs, ys);
  }
  ta = json_object_has_member (a, "timepoints") &&
       JSON_NODE_HOLDS_ARRAY (json_object_get_member (a, "timepoints"))
         ? json_object_get_array_member (a, "timepoints") : NULL;
  tb = json_object_get_array_member (b, "timepoints");
  if (ta == NULL || json_array_get_length (ta) != json_array_get_length (tb))
    {
      CHECK ("timepoints", "different", "");
    }
  else
    for (guint i = 0; i < json_array_get_length (tb); i++)
      {
        JsonNode *ea = json_array_get_element (ta, i);
        JsonObject *ob = json_array_get_object_element (tb, i);
        JsonObject *oa = JSON_NODE_HOLDS_OBJECT (ea) ? json_node_get_object (ea) : NULL;
        for (guint f = 0; fields[f]; f++)
          {
            g_autofree char *name = g_strdup_printf ("timepoints[%u].%s", i, fields[f]);
            const char *x = oa ? json_object_get_string_member_with_default (oa, fields[f], NULL)
                               : NULL;
            const char *y = json_object_get_string_member_with_default (ob, fields[f], NULL);
            CHECK (name, x, y);
          }
      }
#undef CHECK
  return same;
}

/* After a read: both reads in, compared by the trial's rule; agreement is
 * final, disagreement opens an adjudication. */
static gboolean
after_read (const Task *t,
            const char *by)
{
  g_autofree char *s1 = NULL, *s2 = NULL, *id1 = NULL, *id2 = NULL, *rule = NULL;
  g_autofree char *b1 = NULL, *b2 = NULL, *p1 = NULL, *p2 = NULL, *now = NULL;
  gint64 n = query_int (RR_Q_TRIAL_READERS_PER_CASE, t->trial, NULL);
  gboolean agree;
  RrStmt *st;

  if (!read_of_slot (t->trial, t->subject, t->timepoint, 1, NULL, &s1, &id1))
    return TRUE;
  now = rr_now_rfc3339 ();
  if (n >= 2 && !read_of_slot (t->trial, t->subject, t->timepoint, 2, NULL, &s2, &id2))
    return TRUE;
  st = rr_db_query (RR_Q_TRIAL_ADJUDICATION);
  rr_stmt_bind_text (st, 1, t->trial);
  if (rr_stmt_step (st) == RR_ROW)
    rule = g_strdup (col_text (st, 0));
  rr_stmt_finalize (st);
  outcome (s1, &b1, &p1);
  if (n >= 2)
    outcome (s2, &b2, &p2);
  agree = n < 2 || (g_strcmp0 (b1, b2) == 0 &&
                    (g_strcmp0 (rule, "bor_or_pd_timepoint") != 0 || g_strcmp0 (p1, p2) == 0));
  if (agree)
    {
      st = rr_db_query (RR_Q_FINAL_AGREEMENT_INSERT);
      rr_stmt_bind_int (st, 1, t->timepoint);
      rr_stmt_bind_text (st, 2, id1);
      rr_stmt_bind_text (st, 3, now);
      if (!step_done (st))
        return FALSE;
      {
        g_autofree char *object = g_strdup_printf ("%s/%s/%" G_GINT64_FORMAT, t->trial, t->subject,
                                                   t->timepoint);
        g_autofree char *details = g_strdup_printf ("{\"source\": \"agreement\", \"bor\": \"%s\"}",
                                                    b1 ? b1 : "");
        return rr_audit_append (by, "final.agreement", object, details);
      }
    }
  {
    gint64 adj = least_loaded (t->trial, "adjudicator", NULL);
    g_autofree char *id = NULL;
    if (adj < 0)
      return TRUE;  /* none yet: the case waits; export shows it undecided */
    id = create_task ("adjudication", t->trial, t->subject, t->timepoint, adj, 0, by);
    return id != NULL;
  }
}

static gboolean
set_task_submitted (const Task *t)
{
  RrStmt *st = rr_db_query (RR_Q_TASK_SET_SUBMITTED);
  rr_stmt_bind_text (st, 1, t->id);
  return step_done (st) && rr_db_changes () == 1;
}

/* Sequential reading (server-api.md, "Workflow"): a reader locks each
 * timepoint before reading the next, so a later timepoint's read is
 * refused while the same slot's read of an earlier timepoint of the
 * subject is open. The label of that timepoint, or NULL when none waits
 * (or the trial reads in batch). */
static char *
earlier_open_read (const Task *t)
{
  RrStmt *st;
  char *label = NULL;

  if (!g_str_equal (t->kind, "read"))
    return NULL;
  st = rr_db_query (RR_Q_EARLIER_OPEN_READ);
  rr_stmt_bind_text (st, 1, t->trial);
  rr_stmt_bind_text (st, 2, t->subject);
  rr_stmt_bind_int (st, 3, t->slot);
  rr_stmt_bind_int (st, 4, t->day);
  if (st && rr_stmt_step (st) == RR_ROW)
    label = g_strdup (col_text (st, 0));
  rr_stmt_finalize (st);
  return label;
}

void
post_submission (RrHttpRequest *req,
                 RrHttpAnswer  *resp)
{
  const char *id = req->n_groups > 0 ? req->groups[0] : NULL;
  g_auto (Task) t = { 0 };
  const char *key = g_hash_table_lookup (req->headers, "idempotency-key");
  g_autofree char *body_hash = NULL, *responses = NULL, *now = NULL, *sub_id = NULL;
  g_autofree char *password_hash = NULL, *stored = NULL, *earlier = NULL;
  g_autoptr (JsonParser) parser = NULL;
  g_autoptr (RrUser) signer = NULL;
  g_autoptr (QueryAnswer) answer = NULL;
  JsonObject *o, *sig;
  const char *password, *meaning;
  gboolean ok = TRUE, verified;
  RrThrottle throttle;
  RrStmt *st;

  if (!task_get (req->user, id, &t))
    {
      /* A holder whose role was taken away after they submitted may send
       * that submission again (its answer was lost) and get its receipt,
       * or the 409 their outbox settles by asking; nothing more. */
      RrUser any = { .admin = TRUE };
      if (!task_get (&any, id, &t) || t.user_id != req->user->id ||
          !g_str_equal (t.status, "submitted"))
        return not_found (resp);
    }
  else if (req->user->admin && t.user_id != req->user->id)
    return not_found (resp);
  if (key == NULL || strlen (key) < 8 || strlen (key) > 128 || !valid_id (key, 128))
    return bad_request (resp, "An Idempotency-Key header (8-128 letters, digits, '-') is required");
  if (req->body_len > RR_MAX_BODY)
    return rr_respond_error (resp, 413, "too_large", "The body is larger than 8 MiB", NULL);
  /* Keyed: the raw body holds the signature's password, and a plain
   * digest of it can be inverted by trying candidate passwords. */
  body_hash = rr_server_mac_hex (req->body ? req->body : "", req->body_len);

  /* The same submission again: the same receipt. Anything else: 409. */
  st = rr_db_query (RR_Q_SUBMISSION_RECEIPT);
  rr_stmt_bind_text (st, 1, t.id);
  if (st && rr_stmt_step (st) == RR_ROW)
    {
      if (g_str_equal (col_text (st, 1), key) && g_str_equal (col_text (st, 2), body_hash))
        {
          g_autoptr (RrJsonWriter) w = rr_json_writer_new (FALSE);
          write_receipt (w, col_text (st, 0), col_text (st, 3), col_text (st, 4));
          rr_stmt_finalize (st);
          return rr_respond_json (resp, 200, rr_json_writer_steal (w));
        }
      rr_stmt_finalize (st);
      return rr_respond_error (resp, 409, "conflict", "This task was submitted already", NULL);
    }
  rr_stmt_finalize (st);
  if (!g_str_equal (t.status, "open"))
    return rr_respond_error (resp, 409, "conflict", "This task is not open", NULL);
  /* Before the body is read: nothing in it can change the order. */
  earlier = earlier_open_read (&t);
  if (earlier)
    {
      g_autoptr (RrJsonWriter) d = rr_json_writer_new (FALSE);
      g_autofree char *msg = g_strdup_printf ("Sequential reading: submit the read of %s first",
                                              earlier);
      g_autofree char *open = g_strdup_printf ("The read of %s is still open", earlier);
      g_autofree char *details = NULL;
      rr_json_begin_array (d);
      rr_json_begin_object (d);
      rr_json_key (d, "rule");
      rr_json_string (d, "sequential_reading");
      rr_json_key (d, "timepoint");
      rr_json_string (d, earlier);
      rr_json_key (d, "message");
      rr_json_string (d, open);
      rr_json_end_object (d);
      rr_json_end_array (d);
      details = rr_json_writer_steal (d);
      return rr_respond_error (resp, 409, "conflict", msg, details);
    }

  o = parse_object (req, resp, &parser);
  if (o == NULL)
    return;
  if (!json_object_has_member (o, "signature") ||
      !JSON_NODE_HOLDS_OBJECT (json_object_get_member (o, "signature")))
    return bad_request (resp, "\"signature\" {\"password\", \"meaning\"} is required");
  sig = json_object_get_object_member (o, "signature");
  password = member_string (sig, "password", TRUE, 1024, &ok, resp);
  /* Bounded in bytes first (4 per character at most), then in characters,
   * as the message says: a meaning in another language fits as well. */
  meaning = member_string (sig, "meaning", TRUE, 4 * 200, &ok, resp);
  if (!ok)
    return;
  if (g_utf8_strlen (meaning, -1) > 200)
    return bad_request (resp, "\"meaning\" must be a string of 1 to 200 characters");

  /* The document is checked before the signature is: a 422 tells what is
   * wrong without spending a password attempt. */
  if (g_str_equal (t.kind, "read"))
    {
      JsonNode *rn = json_object_get_member (o, "read");
      g_autoptr (GError) error = NULL;
      g_autoptr (RrRead) read = NULL;
      g_autoptr (RrCriteriaResult) result = NULL;
      g_autoptr (RrJsonWriter) details = rr_json_writer_new (FALSE);
      g_autoptr (GPtrArray) labels = g_ptr_array_new_with_free_func (g_free);
      g_autoptr (GArray) days = g_array_new (FALSE, FALSE, sizeof (gint64));
      gboolean valid = TRUE;

      if (rn == NULL || !JSON_NODE_HOLDS_OBJECT (rn))
        return bad_request (resp, "\"read\" (the read JSON) is required");
      read = rr_read_parse_node (rn, &error);
      if (read == NULL)
        {
          g_autofree char *msg = g_strdup_printf ("The read is not valid: %s", error->message);
          return rr_respond_error (resp, 422, "invalid_submission", msg, NULL);
        }
      if (g_strcmp0 (read->criteria, t.criteria) != 0)
        return rr_respond_error (resp, 422, "invalid_submission",
                                 "The read uses other criteria than the trial", NULL);
      st = task_timepoints (&t);
      while (st && rr_stmt_step (st) == RR_ROW)
        {
          gint64 d = rr_stmt_column_int (st, 2);
          g_ptr_array_add (labels, g_strdup (col_text (st, 1)));
          g_array_append_val (days, d);
        }
      rr_stmt_finalize (st);
      rr_json_begin_array (details);
      if (read->timepoints->len != labels->len)
        valid = FALSE;
      for (guint i = 0; valid && i < labels->len; i++)
        {
          const RrTimepoint *tp = read->timepoints->pdata[i];
          valid = g_strcmp0 (tp->id, labels->pdata[i]) == 0 &&
                  tp->day == g_array_index (days, gint64, i);
        }
      if (!valid)
        {
          rr_json_begin_object (details);
          rr_json_key (details, "rule");
          rr_json_string (details, "timepoints");
          rr_json_key (details, "message");
          rr_json_string (details, "The read's timepoints must be the task's, by label and day, "
                                   "in order");
          rr_json_end_object (details);
        }
      result = rr_criteria_evaluate (read, &error);
      if (result == NULL)
        return rr_respond_error (resp, 422, "invalid_submission", error->message, NULL);
      responses = rr_criteria_result_to_json (result);
      for (guint i = 0; i < result->violations->len; i++)
        {
          const RrIssue *v = result->violations->pdata[i];
          rr_json_begin_object (details);
          rr_json_key (details, "rule");
          rr_json_string (details, v->rule);
          rr_json_key (details, "message");
          rr_json_string (details, v->message);
          rr_json_end_object (details);
          valid = FALSE;
        }
      if (!responses_match (json_object_get_member (json_node_get_object (rn), "responses"),
                            responses, details))
        valid = FALSE;
      rr_json_end_array (details);
      if (!valid)
        {
          g_autofree char *d = rr_json_writer_steal (details);
          return rr_respond_error (resp, 422, "invalid_submission",
                                   "The read breaks the criteria's rules or its responses differ "
                                   "from the server's", d);
        }
    }
  else if (g_str_equal (t.kind, "adjudication"))
    {
      const char *chosen = member_string (o, "chosen", TRUE, 16, &ok, resp);
      const char *rationale = member_string (o, "rationale", TRUE, 4 * 10000, &ok, resp);
      if (!ok)
        return;
      if (g_utf8_strlen (rationale, -1) > 10000)
        return bad_request (resp, "\"rationale\" must be a string of 1 to 10000 characters");
      if (!g_str_equal (chosen, "Reader 1") && !g_str_equal (chosen, "Reader 2"))
        return bad_request (resp, "\"chosen\" is \"Reader 1\" or \"Reader 2\"");
      (void) rationale;
      read_of_slot (t.trial, t.subject, t.timepoint, g_str_equal (chosen, "Reader 1") ? 1 : 2,
                    NULL, &responses, NULL);
    }
  else if (g_str_equal (t.kind, "query"))
    {
      answer = query_answer_check (&t, req->user, o, resp);
      if (answer == NULL)
        return;
    }
  else if (!qc_decision_check (o, resp))
    return;

  /* The signature: the signer's own password, checked like a login. */
  throttle = rr_login_throttle (req->user->username, req->client);
  if (throttle.refused)
    {
      /* No event: no password was checked, and a flood of refusals must
       * not become a flood of commits. */
      return rr_respond_error (resp, 503, "rate_limited", "Too many failed signatures; wait a "
                               "few minutes", NULL);
    }
  signer = rr_user_lookup (req->user->username, &password_hash);
  verified = rr_password_verify (signer ? password_hash : NULL, password, throttle.delay_us);
  rr_login_slept (&throttle);
  if (signer == NULL || !verified)
    {
      rr_login_failed (req->user->username, req->client);
      audit_failure ("signature.fail", req->user->username, t.id, req->client, "wrong password");
      return rr_respond_error (resp, 401, "unauthenticated", "The signature's password is wrong; "
                               "nothing was stored", NULL);
    }
  rr_login_succeeded (req->user->username, req->client);
  /* The fresh QC task's checks: Orthanc reads the headers with the lock
   * released, before the transaction, as when a timepoint is linked. */
  if (answer)
    query_answer_run_checks (&t, answer);
  /* The password was checked without the lock: someone else may have
   * submitted this task meanwhile. */
  if (query_int (RR_Q_SUBMISSION_EXISTS, t.id, NULL) > 0)
    {
      /* PostgreSQL runs the request again: its first check then answers
       * the same receipt to the same submission from another node. */
      rr_db->retry ();
      return rr_respond_error (resp, 409, "conflict", "This task was submitted already", NULL);
    }

  now = rr_now_rfc3339 ();
  sub_id = g_uuid_string_random ();
  rr_db_begin ();
  if (!task_unchanged (&t))
    {
      rr_db_rollback ();
      return rr_respond_error (resp, 409, "conflict", "This task changed meanwhile (submitted "
                               "or reassigned)", NULL);
    }
  st = rr_db_query (RR_Q_SUBMISSION_INSERT);
  /* The stored body keeps everything but the password. */
  json_object_remove_member (sig, "password");
  stored = node_to_json (json_parser_get_root (parser));
  {
    rr_stmt_bind_text (st, 1, sub_id);
    rr_stmt_bind_text (st, 2, t.id);
    rr_stmt_bind_text (st, 3, key);
    rr_stmt_bind_text (st, 4, body_hash);
    rr_stmt_bind_text (st, 5, stored);
    if (responses)
      rr_stmt_bind_text (st, 6, responses);
    rr_stmt_bind_int (st, 7, req->user->id);
    rr_stmt_bind_text (st, 8, meaning);
    rr_stmt_bind_text (st, 9, now);
    if (!step_done (st) || !set_task_submitted (&t))
      goto failed;
  }
  {
    g_autoptr (RrJsonWriter) d = rr_json_writer_new (FALSE);
    g_autofree char *details = NULL;
    g_autofree char *content_hash = rr_sha256_hex (stored, strlen (stored));
    g_autofree char *responses_hash = rr_sha256_hex (responses ? responses : "",
                                                     responses ? strlen (responses) : 0);
    rr_json_begin_object (d);
    rr_json_key (d, "submission");
    rr_json_string (d, sub_id);
    rr_json_key (d, "kind");
    rr_json_string (d, t.kind);
    rr_json_key (d, "signed_by");
    rr_json_string (d, signer->display_name);
    rr_json_key (d, "meaning");
    rr_json_string (d, meaning);
    /* What was stored, bound into the chain: /audit/verify recomputes
     * both from the submission's row, so an edited read breaks it. */
    rr_json_key (d, "content_sha256");
    rr_json_string (d, content_hash);
    rr_json_key (d, "responses_sha256");
    rr_json_string (d, responses_hash);
    rr_json_end_object (d);
    details = rr_json_writer_steal (d);
    if (!rr_audit_append (req->user->username, "task.submit", t.id, details))
      goto failed;
  }

  if (g_str_equal (t.kind, "read"))
    {
      if (!after_read (&t, req->user->username))
        goto failed;
    }
  else if (g_str_equal (t.kind, "adjudication"))
    {
      const char *chosen = json_object_get_string_member (o, "chosen");
      g_autofree char *chosen_sub = NULL;
      read_of_slot (t.trial, t.subject, t.timepoint, g_str_equal (chosen, "Reader 1") ? 1 : 2,
                    NULL, NULL, &chosen_sub);
      st = rr_db_query (RR_Q_FINAL_INSERT);
      rr_stmt_bind_int (st, 1, t.timepoint);
      rr_stmt_bind_text (st, 2, chosen);
      rr_stmt_bind_text (st, 3, chosen_sub ? chosen_sub : "");
      rr_stmt_bind_text (st, 4, now);
      {
        g_autoptr (RrJsonWriter) d = rr_json_writer_new (FALSE);
        g_autofree char *details = NULL;
        rr_json_begin_object (d);
        rr_json_key (d, "chosen");
        rr_json_string (d, chosen);
        rr_json_key (d, "rationale");
        rr_json_string (d, json_object_get_string_member (o, "rationale"));
        rr_json_end_object (d);
        details = rr_json_writer_steal (d);
        if (chosen_sub == NULL || !step_done (st) ||
            !rr_audit_append (req->user->username, "final.adjudicated", t.id, details))
          goto failed;
      }
    }
  else if (g_str_equal (t.kind, "query"))
    {
      gboolean no_reviewer = FALSE;
      g_autofree char *qc = query_answered (&t, answer, req->user->username, &no_reviewer);
      if (no_reviewer)
        {
          rr_db_rollback ();
          return rr_respond_error (resp, 409, "conflict", "The trial has no QC reviewer; nothing "
                                   "was stored", NULL);
        }
      if (qc == NULL)
        goto failed;
    }
  else
    {
      const char *decision = json_object_get_string_member (o, "decision");
      const char *status = g_str_equal (decision, "pass") ? "passed"
                           : g_str_equal (decision, "fail") ? "failed" : "queried";
      g_autoptr (GPtrArray) created = g_ptr_array_new_with_free_func (g_free);
      st = rr_db_query (RR_Q_TIMEPOINT_SET_QC_STATUS);
      rr_stmt_bind_text (st, 1, status);
      rr_stmt_bind_int (st, 2, t.timepoint);
      if (!step_done (st))
        goto failed;
      {
        g_autofree char *details = g_strdup_printf ("{\"qc\": \"%s\"}", status);
        if (!rr_audit_append (req->user->username, "timepoint.qc", t.id, details))
          goto failed;
      }
      if (!g_str_equal (decision, "pass") && !query_open (&t, o, req->user->username))
        goto failed;
      if (g_str_equal (decision, "pass") &&
          !create_read_tasks (t.trial, t.subject, t.timepoint, req->user->username, created))
        {
          rr_db_rollback ();
          return rr_respond_error (resp, 409, "conflict", "The trial has too few readers; nothing "
                                   "was stored", NULL);
        }
    }
  rr_db_commit ();
  {
    g_autoptr (RrJsonWriter) w = rr_json_writer_new (FALSE);
    write_receipt (w, sub_id, now, responses);
    rr_respond_json (resp, 201, rr_json_writer_steal (w));
  }
  return;

failed:
  rr_db_rollback ();
  server_failed (resp);
}
