/* rr-server-trials.c: trials, their members, and timepoints linked to
 * stored studies (which open the first tasks of the workflow). */
#include "rr-server-private.h"

#include <sodium.h>

/* ---- trials and members ---- */

static void
write_trial (RrJsonWriter *w,
             RrStmt *st)
{
  rr_json_begin_object (w);
  rr_json_key (w, "id");
  rr_json_string (w, col_text (st, 0));
  rr_json_key (w, "name");
  rr_json_string (w, col_text (st, 1));
  rr_json_key (w, "criteria");
  rr_json_string (w, col_text (st, 2));
  rr_json_key (w, "readers_per_case");
  rr_json_int (w, rr_stmt_column_int (st, 3));
  rr_json_key (w, "qc_required");
  rr_json_bool (w, rr_stmt_column_int (st, 4));
  rr_json_key (w, "adjudication");
  rr_json_string (w, col_text (st, 5));
  rr_json_key (w, "reading");
  rr_json_string (w, col_text (st, 6));
  rr_json_key (w, "sd_min_days");
  rr_json_int (w, rr_stmt_column_int (st, 7));
  rr_json_key (w, "confirmation");
  rr_json_bool (w, rr_stmt_column_int (st, 8));
  rr_json_key (w, "protocol");
  rr_json_raw (w, col_text (st, 9));
  rr_json_end_object (w);
}

/* Gives @trial its de-identification secret unless it has one: 32 random
 * bytes, base64. Whether to keep dates (shifted) is the protocol's
 * "retain_dates" when it says so. Called inside the caller's transaction. */
static gboolean
trial_deid_ensure (const char *trial)
{
  guint8 raw[32];
  char b64[sodium_base64_ENCODED_LEN (32, sodium_base64_VARIANT_ORIGINAL)];
  RrStmt *st;

  randombytes_buf (raw, sizeof raw);
  sodium_bin2base64 (b64, sizeof b64, raw, sizeof raw, sodium_base64_VARIANT_ORIGINAL);
  sodium_memzero (raw, sizeof raw);
  st = rr_db_query (RR_Q_TRIAL_DEID_ENSURE);
  rr_stmt_bind_text (st, 1, trial);
  rr_stmt_bind_text (st, 2, b64);
  sodium_memzero (b64, sizeof b64);
  return step_done (st);
}

void
post_trials (RrHttpRequest  *req,
             RrHttpAnswer *resp)
{
  static const char *const adjudications[] = { "bor", "bor_or_pd_timepoint", NULL };
  static const char *const readings[] = { "sequential", "batch", NULL };
  g_autoptr (JsonParser) parser = NULL;
  JsonObject *o = parse_object (req, resp, &parser);
  gboolean ok = o != NULL;
  const char *id = o ? member_string (o, "id", TRUE, 64, &ok, resp) : NULL;
  const char *name = o ? member_string (o, "name", TRUE, 200, &ok, resp) : NULL;
  const char *criteria = o ? member_string (o, "criteria", FALSE, 32, &ok, resp) : NULL;
  gint64 readers = o ? member_int (o, "readers_per_case", 2, 1, 2, &ok, resp) : 2;
  gboolean qc = o ? member_bool (o, "qc_required", TRUE, &ok, resp) : TRUE;
  const char *adjudication = o ? member_string (o, "adjudication", FALSE, 32, &ok, resp) : NULL;
  const char *reading = o ? member_string (o, "reading", FALSE, 32, &ok, resp) : NULL;
  gint64 sd_min = o ? member_int (o, "sd_min_days", 42, 0, 3650, &ok, resp) : 42;
  gboolean confirmation = o ? member_bool (o, "confirmation", FALSE, &ok, resp) : FALSE;
  JsonNode *protocol = o ? json_object_get_member (o, "protocol") : NULL;
  g_autofree char *protocol_json = NULL, *now = NULL;
  RrStmt *st;

  if (!ok)
    return;
  criteria = criteria ? criteria : "recist1.1";
  adjudication = adjudication ? adjudication : "bor";
  reading = reading ? reading : "sequential";
  if (!valid_id (id, 64))
    return bad_request (resp, "A trial id is letters, digits, '.', '_' and '-'");
  if (rr_criteria_lookup (criteria) == NULL)
    return bad_request (resp, "Unknown criteria");
  if (!one_of (adjudication, adjudications) || !one_of (reading, readings))
    return bad_request (resp, "adjudication is bor or bor_or_pd_timepoint; reading is "
                              "sequential or batch");
  if (protocol && !JSON_NODE_HOLDS_NULL (protocol) && !JSON_NODE_HOLDS_OBJECT (protocol))
    return bad_request (resp, "\"protocol\" must be an object");
  protocol_json = protocol && JSON_NODE_HOLDS_OBJECT (protocol) ? node_to_json (protocol)
                                                               : g_strdup ("{}");
  if (query_int (RR_Q_TRIAL_EXISTS, id, NULL) > 0)
    return rr_respond_error (resp, 409, "conflict", "That trial exists", NULL);
  now = rr_now_rfc3339 ();
  rr_db_begin ();
  st = rr_db_query (RR_Q_TRIAL_INSERT);
  rr_stmt_bind_text (st, 1, id);
  rr_stmt_bind_text (st, 2, name);
  rr_stmt_bind_text (st, 3, criteria);
  rr_stmt_bind_int (st, 4, readers);
  rr_stmt_bind_int (st, 5, qc);
  rr_stmt_bind_text (st, 6, adjudication);
  rr_stmt_bind_text (st, 7, reading);
  rr_stmt_bind_int (st, 8, sd_min);
  rr_stmt_bind_int (st, 9, confirmation);
  rr_stmt_bind_text (st, 10, protocol_json);
  rr_stmt_bind_text (st, 11, now);
  if (!step_done (st) || !trial_deid_ensure (id) ||
      !rr_audit_append (req->user->username, "trial.create", id, req->body))
    {
      rr_db_rollback ();
      return server_failed (resp);
    }
  rr_db_commit ();
  st = rr_db_query (RR_Q_TRIAL_GET);
  rr_stmt_bind_text (st, 1, id);
  if (rr_stmt_step (st) == RR_ROW)
    {
      g_autoptr (RrJsonWriter) w = rr_json_writer_new (FALSE);
      write_trial (w, st);
      rr_respond_json (resp, 201, rr_json_writer_steal (w));
    }
  rr_stmt_finalize (st);
}

void
get_trials (RrHttpRequest *req,
            RrHttpAnswer  *resp)
{
  const char *one = req->n_groups > 0 ? req->groups[0] : NULL;
  g_autoptr (RrJsonWriter) w = rr_json_writer_new (FALSE);
  RrStmt *st = rr_db_query (one ? RR_Q_TRIAL_GET : RR_Q_TRIALS_LIST);
  gboolean found = FALSE;
  if (one)
    rr_stmt_bind_text (st, 1, one);
  if (!one)
    rr_json_begin_array (w);
  while (st && rr_stmt_step (st) == RR_ROW)
    {
      write_trial (w, st);
      found = TRUE;
    }
  rr_stmt_finalize (st);
  if (!one)
    rr_json_end_array (w);
  if (one && !found)
    return not_found (resp);
  rr_respond_json (resp, 200, rr_json_writer_steal (w));
}

void
put_member (RrHttpRequest *req,
            RrHttpAnswer  *resp)
{
  const char *trial = req->n_groups > 0 ? req->groups[0] : NULL;
  const char *username = req->n_groups > 1 ? req->groups[1] : NULL;
  static const char *const roles_ok[] = { "site", "qc", "reader", "adjudicator", NULL };
  g_autoptr (JsonParser) parser = NULL;
  JsonObject *o = parse_object (req, resp, &parser);
  gboolean ok = o != NULL;
  const char *site = o ? member_string (o, "site", FALSE, 64, &ok, resp) : NULL;
  JsonNode *rn = o ? json_object_get_member (o, "roles") : NULL;
  g_autoptr (GString) roles = g_string_new (NULL);
  gint64 uid = query_int (RR_Q_USER_ID_BY_NAME, username, NULL);
  RrStmt *st;
  g_autoptr (RrJsonWriter) w = NULL;
  g_autofree char *details = NULL;
  gboolean leaves_pool, loses_role = FALSE;

  if (!ok)
    return;
  if (query_int (RR_Q_TRIAL_EXISTS, trial, NULL) < 0 || uid < 0)
    return not_found (resp);
  if (rn == NULL || !JSON_NODE_HOLDS_ARRAY (rn) || json_array_get_length (json_node_get_array (rn)) > 4)
    return bad_request (resp, "\"roles\" must be a list of site, qc, reader, adjudicator");
  for (guint i = 0; i < json_array_get_length (json_node_get_array (rn)); i++)
    {
      JsonNode *e = json_array_get_element (json_node_get_array (rn), i);
      const char *r = json_node_get_value_type (e) == G_TYPE_STRING ? json_node_get_string (e)
                                                                      : NULL;
      if (!one_of (r, roles_ok))
        return bad_request (resp, "\"roles\" must be a list of site, qc, reader, adjudicator");
      if (!strstr (roles->str, r))
        g_string_append_printf (roles, "%s%s", roles->len ? "," : "", r);
    }
  if (strstr (roles->str, "site") && (site == NULL || !valid_id (site, 64)))
    return bad_request (resp, "A site member needs its \"site\"");
  st = rr_db_query (RR_Q_MEMBER_IS_READER);
  rr_stmt_bind_text (st, 1, trial);
  rr_stmt_bind_int (st, 2, uid);
  leaves_pool = st && rr_stmt_step (st) == RR_ROW && !strstr (roles->str, "reader");
  rr_stmt_finalize (st);
  st = rr_db_query (RR_Q_MEMBER_ROLES);
  rr_stmt_bind_text (st, 1, trial);
  rr_stmt_bind_int (st, 2, uid);
  if (st && rr_stmt_step (st) == RR_ROW)
    {
      g_auto (GStrv) old = g_strsplit (col_text (st, 0), ",", -1);
      g_auto (GStrv) now_roles = g_strsplit (roles->str, ",", -1);
      for (guint i = 0; old[i]; i++)
        loses_role |= *old[i] && !g_strv_contains ((const char *const *) now_roles, old[i]);
    }
  rr_stmt_finalize (st);
  rr_db_begin ();
  st = rr_db_query (RR_Q_MEMBER_UPSERT);
  rr_stmt_bind_text (st, 1, trial);
  rr_stmt_bind_int (st, 2, uid);
  rr_stmt_bind_text (st, 3, roles->str);
  if (site)
    rr_stmt_bind_text (st, 4, site);
  w = rr_json_writer_new (FALSE);
  rr_json_begin_object (w);
  rr_json_key (w, "trial");
  rr_json_string (w, trial);
  rr_json_key (w, "username");
  rr_json_string (w, username);
  rr_json_key (w, "roles");
  rr_json_begin_array (w);
  {
    g_auto (GStrv) parts = g_strsplit (roles->str, ",", -1);
    for (guint i = 0; parts[i]; i++)
      if (*parts[i])
        rr_json_string (w, parts[i]);
  }
  rr_json_end_array (w);
  rr_json_key (w, "site");
  if (site)
    rr_json_string (w, site);
  else
    rr_json_null (w);
  rr_json_end_object (w);
  details = rr_json_writer_steal (w);
  if (!step_done (st) || !rr_audit_append (req->user->username, "member.set",
                                           username, details))
    {
      rr_db_rollback ();
      return server_failed (resp);
    }
  /* A role taken away takes effect at once: the user's tokens die (a
   * stolen one with them) and they log in again with what is left. */
  if (loses_role && !delete_sessions_of (uid))
    {
      rr_db_rollback ();
      return server_failed (resp);
    }
  /* A reader leaving the pool hands over the reads still open, or leaves
   * them unassigned for an admin: leaving never waits for a successor. */
  if (leaves_pool && !hand_over_reads (trial, uid, req->user->username))
    {
      rr_db_rollback ();
      return server_failed (resp);
    }
  rr_db_commit ();
  rr_respond_json (resp, 200, g_steal_pointer (&details));
}

/* ---- timepoints ---- */

void
post_timepoint (RrHttpRequest *req,
                RrHttpAnswer  *resp)
{
  const char *trial = req->n_groups > 0 ? req->groups[0] : NULL;
  const char *subject = req->n_groups > 1 ? req->groups[1] : NULL;
  g_autoptr (JsonParser) parser = NULL;
  JsonObject *o = parse_object (req, resp, &parser);
  gboolean ok = o != NULL;
  const char *label = o ? member_string (o, "label", TRUE, 64, &ok, resp) : NULL;
  gint64 day = o ? member_int (o, "day", 0, -3650, 36500, &ok, resp) : 0;
  JsonNode *sn = o ? json_object_get_member (o, "studies") : NULL;
  g_autoptr (GPtrArray) studies = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) created = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (RrJsonWriter) w = NULL;
  g_autofree char *now = rr_now_rfc3339 (), *details = NULL;
  g_autofree char *automated = NULL, *protocol = NULL;
  gint64 tp, qc_required;
  RrStmt *st;

  if (!ok)
    return;
  if (!json_object_has_member (o, "day"))
    return bad_request (resp, "\"day\" is required");
  if (query_int (RR_Q_TRIAL_EXISTS, trial, NULL) < 0)
    return not_found (resp);
  if (!valid_id (subject, 64))
    return bad_request (resp, "A subject id is letters, digits, '.', '_' and '-'");
  if (sn == NULL || !JSON_NODE_HOLDS_ARRAY (sn) || json_array_get_length (json_node_get_array (sn)) == 0
      || json_array_get_length (json_node_get_array (sn)) > 64)
    return bad_request (resp, "\"studies\" must list 1 to 64 Study Instance UIDs");
  for (guint i = 0; i < json_array_get_length (json_node_get_array (sn)); i++)
    {
      JsonNode *e = json_array_get_element (json_node_get_array (sn), i);
      const char *uid = json_node_get_value_type (e) == G_TYPE_STRING ? json_node_get_string (e)
                                                                        : NULL;
      if (!rr_access_is_uid (uid))
        return bad_request (resp, "\"studies\" must list Study Instance UIDs");
      /* Twice in one list: the link's own key would refuse the second
       * (a 500), after the checks below had passed both. */
      if (g_ptr_array_find_with_equal_func (studies, uid, g_str_equal, NULL))
        return bad_request (resp, "\"studies\" lists a study twice");
      g_ptr_array_add (studies, g_strdup (uid));
    }
  qc_required = query_int (RR_Q_TRIAL_QC_REQUIRED, trial, NULL);
  /* The checks run first, before anything is checked against the
   * database: they release the lock while Orthanc reads the headers. */
  if (qc_required)
    automated = qc_automated (trial, studies, &protocol);
  {
    RrStmt *dup = rr_db_query (RR_Q_TIMEPOINT_CLASH);
    gboolean exists;
    rr_stmt_bind_text (dup, 1, trial);
    rr_stmt_bind_text (dup, 2, subject);
    rr_stmt_bind_text (dup, 3, label);
    rr_stmt_bind_int (dup, 4, day);
    exists = rr_stmt_step (dup) == RR_ROW;
    rr_stmt_finalize (dup);
    if (exists)
      return rr_respond_error (resp, 409, "conflict", "The subject has a timepoint with that "
                               "label or day", NULL);
  }
  /* A study is one visit of one subject of one trial: never one a site
   * uploaded for another trial (its images would reach this trial's QC
   * and readers), nor one linked already (the same images read as two
   * visits, or as two subjects'). */
  for (guint i = 0; i < studies->len; i++)
    {
      const char *uid = studies->pdata[i];
      g_autofree char *msg = NULL;
      RrStmt *q = rr_db_query (RR_Q_STUDY_UPLOAD_TRIAL);
      rr_stmt_bind_text (q, 1, uid);
      if (q && rr_stmt_step (q) == RR_ROW && !g_str_equal (col_text (q, 0), trial))
        msg = g_strdup_printf ("Study %s was uploaded for trial %s", uid, col_text (q, 0));
      rr_stmt_finalize (q);
      q = msg ? NULL : rr_db_query (RR_Q_STUDY_LINKED_ELSEWHERE);
      rr_stmt_bind_text (q, 1, uid);
      rr_stmt_bind_int (q, 2, -1);   /* any timepoint: this one is not made yet */
      if (q && (rr_stmt_step (q) != RR_ROW || rr_stmt_column_int (q, 0) != 0))
        msg = g_strdup_printf ("Study %s is linked to another timepoint already", uid);
      rr_stmt_finalize (q);
      if (msg)
        return rr_respond_error (resp, 422, "invalid_submission", msg, NULL);
    }
  /* On PostgreSQL two nodes may both pass the checks above for the same
   * study, or the same subject's day; the unique indexes of migration 8
   * refuse the second write, whose request then runs again and is
   * refused by them (test_twonodes). A test widens the window. */
  rr_test_delay ("READROOM_TEST_LINK_DELAY_MS");
  rr_db_begin ();
  st = rr_db_query (RR_Q_TIMEPOINT_INSERT);
  rr_stmt_bind_text (st, 1, trial);
  rr_stmt_bind_text (st, 2, subject);
  rr_stmt_bind_text (st, 3, label);
  rr_stmt_bind_int (st, 4, day);
  rr_stmt_bind_text (st, 5, qc_required ? "pending" : "none");
  rr_stmt_bind_text (st, 6, now);
  /* RETURNING: both backends give the new id the same way. */
  if (rr_stmt_step (st) != RR_ROW)
    {
      rr_stmt_finalize (st);
      goto failed;
    }
  tp = rr_stmt_column_int (st, 0);
  rr_stmt_finalize (st);
  for (guint i = 0; i < studies->len; i++)
    {
      const char *uid = studies->pdata[i];
      g_autofree char *oid = rr_server->lookup_study ? rr_server->lookup_study (uid) : NULL;
      if (oid == NULL)
        {
          g_autofree char *msg = g_strdup_printf ("Study %s is not stored on this server", uid);
          rr_db_rollback ();
          return rr_respond_error (resp, 422, "invalid_submission", msg, NULL);
        }
      st = rr_db_query (RR_Q_STUDY_UPSERT);
      rr_stmt_bind_text (st, 1, uid);
      rr_stmt_bind_text (st, 2, oid);
      if (!step_done (st) || !index_study (uid, oid))
        goto failed;
      st = rr_db_query (RR_Q_TIMEPOINT_STUDY_LINK);
      rr_stmt_bind_int (st, 1, tp);
      rr_stmt_bind_text (st, 2, uid);
      if (!step_done (st))
        goto failed;
    }
  w = rr_json_writer_new (FALSE);
  rr_json_begin_object (w);
  rr_json_key (w, "trial");
  rr_json_string (w, trial);
  rr_json_key (w, "subject");
  rr_json_string (w, subject);
  rr_json_key (w, "label");
  rr_json_string (w, label);
  rr_json_key (w, "day");
  rr_json_int (w, day);
  rr_json_key (w, "studies");
  rr_json_begin_array (w);
  for (guint i = 0; i < studies->len; i++)
    rr_json_string (w, studies->pdata[i]);
  rr_json_end_array (w);
  rr_json_end_object (w);
  details = rr_json_writer_steal (w);
  {
    g_autofree char *object = g_strdup_printf ("%s/%s/%s", trial, subject, label);
    if (!rr_audit_append (req->user->username, "timepoint.link", object, details))
      goto failed;
  }
  /* The work it calls for: QC first, or the reads. */
  if (qc_required)
    {
      gint64 qc = least_loaded (trial, "qc", NULL);
      char *id;
      if (qc < 0)
        {
          rr_db_rollback ();
          return rr_respond_error (resp, 409, "conflict", "The trial has no QC reviewer", NULL);
        }
      id = create_task ("qc", trial, subject, tp, qc, 0, req->user->username);
      if (id == NULL)
        goto failed;
      if (!qc_store (id, protocol, automated))
        {
          g_free (id);
          goto failed;
        }
      g_ptr_array_add (created, id);
    }
  else if (!create_read_tasks (trial, subject, tp, req->user->username, created))
    {
      rr_db_rollback ();
      return rr_respond_error (resp, 409, "conflict", "The trial has too few readers", NULL);
    }
  rr_db_commit ();
  w = rr_json_writer_new (FALSE);
  rr_json_begin_object (w);
  rr_json_key (w, "timepoint");
  rr_json_raw (w, details);
  rr_json_key (w, "tasks");
  rr_json_begin_array (w);
  for (guint i = 0; i < created->len; i++)
    rr_json_string (w, created->pdata[i]);
  rr_json_end_array (w);
  rr_json_end_object (w);
  rr_respond_json (resp, 201, rr_json_writer_steal (w));
  return;

failed:
  rr_db_rollback ();
  server_failed (resp);
}

/* GET /trials/{id}/deid: the secret that deid derives UIDs and date
 * shifts from, for the trial's site members (who upload) and admin. Never
 * in an export; each handing-out is an audit event (without the key). */
void
get_trial_deid (RrHttpRequest *req,
                RrHttpAnswer  *resp)
{
  const char *trial = req->groups[0];
  g_autoptr (RrJsonWriter) w = NULL;
  RrStmt *st;

  /* Like every other path under trials/: a non-admin who is not a site
   * member of this trial learns nothing, not even whether it exists. */
  st = rr_db_query (RR_Q_MEMBER_IS_SITE);
  rr_stmt_bind_text (st, 1, trial);
  rr_stmt_bind_int (st, 2, req->user->id);
  if (!req->user->admin && rr_stmt_step (st) != RR_ROW)
    {
      rr_stmt_finalize (st);
      return forbidden (resp);
    }
  rr_stmt_finalize (st);
  if (query_int (RR_Q_TRIAL_EXISTS, trial, NULL) < 0)
    return not_found (resp);
  rr_db_begin ();
  if (!trial_deid_ensure (trial) ||
      !rr_audit_append (req->user->username, "trial.deid_key", trial, "{}"))
    {
      rr_db_rollback ();
      return server_failed (resp);
    }
  rr_db_commit ();
  st = rr_db_query (RR_Q_TRIAL_DEID_KEY);
  rr_stmt_bind_text (st, 1, trial);
  if (st == NULL || rr_stmt_step (st) != RR_ROW)
    {
      rr_stmt_finalize (st);
      return server_failed (resp);
    }
  w = rr_json_writer_new (FALSE);
  rr_json_begin_object (w);
  rr_json_key (w, "key");
  rr_json_string (w, col_text (st, 0));
  rr_json_key (w, "retain_dates");
  rr_json_bool (w, rr_stmt_column_int (st, 1));
  rr_json_end_object (w);
  rr_stmt_finalize (st);
  rr_respond_json (resp, 200, rr_json_writer_steal (w));
}
