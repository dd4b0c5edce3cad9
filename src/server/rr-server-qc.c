/* rr-server-qc.c: a trial's imaging protocol, and the automated QC checks
 * that a QC task carries: run once, when the timepoint's studies are
 * linked, over the DICOM JSON metadata that Orthanc's DICOMweb plugin
 * answers (the same core checks as `readroom-cli qc`), and stored with the
 * task with the protocol they ran against. */
#include "rr-server-private.h"
#include "rr-qc.h"
#include "rr-qc-dicom-json.h"

void
put_protocol (RrHttpRequest *req,
              RrHttpAnswer  *resp)
{
  const char *trial = req->n_groups > 0 ? req->groups[0] : NULL;
  g_autoptr (JsonParser) parser = NULL;
  g_autoptr (RrQcProtocol) protocol = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *json = NULL;
  JsonObject *o;
  RrStmt *st;

  if (query_int (RR_Q_GET_EXPORT, trial, NULL) < 0)
    return not_found (resp);
  o = parse_object (req, resp, &parser);
  if (o == NULL)
    return;
  /* Refused here rather than when a study is linked: a protocol the
   * checks cannot read would leave every QC task of the trial unchecked. */
  protocol = rr_qc_protocol_parse (req->body, (gssize) req->body_len, &error);
  if (protocol == NULL)
    {
      g_autofree char *msg = g_strdup_printf ("Not a protocol: %s", error->message);
      return bad_request (resp, msg);
    }
  json = node_to_json (json_parser_get_root (parser));
  rr_db_begin ();
  st = rr_db_query (RR_Q_PUT_PROTOCOL);
  rr_stmt_bind_text (st, 1, trial);
  rr_stmt_bind_text (st, 2, json);
  if (!step_done (st) || !rr_audit_append (req->user->username, "trial.protocol", trial, json))
    {
      rr_db_rollback ();
      return server_failed (resp);
    }
  rr_db_commit ();
  rr_respond_json (resp, 200, g_steal_pointer (&json));
}

typedef struct
{
  const char *protocol;
  GPtrArray *studies;
  char *result;
} QcRun;

/* Without the lock: Orthanc reads every instance's header for the
 * metadata, which may take seconds on a large study. */
static void
qc_run_unlocked (gpointer data)
{
  QcRun *q = data;
  g_autoptr (RrQcProtocol) protocol = rr_qc_protocol_parse (q->protocol, -1, NULL);
  g_autoptr (GPtrArray) all = g_ptr_array_new_with_free_func ((GDestroyNotify) rr_qc_instance_free);
  g_autoptr (RrQcResult) result = NULL;

  /* A trial created with a protocol the checks cannot read (POST /trials
   * keeps any object) is left unchecked: "automated" is null. */
  if (protocol == NULL || rr_server->rest_get_plugins == NULL)
    return;
  for (guint i = 0; i < q->studies->len; i++)
    {
      g_autofree char *uri = g_strdup_printf ("/dicom-web/studies/%s/metadata",
                                              (const char *) q->studies->pdata[i]);
      g_autoptr (GBytes) body = rr_server->rest_get_plugins (uri);
      g_autoptr (GPtrArray) instances = NULL;
      gsize n = 0;
      const char *text = body ? g_bytes_get_data (body, &n) : NULL;

      if (body == NULL || n > RR_QC_MAX_METADATA_BYTES)
        return;
      instances = rr_qc_instances_from_dicom_json (text, (gssize) n, NULL);
      if (instances == NULL || all->len + instances->len > RR_QC_MAX_INSTANCES)
        return;
      /* The instances move to @all, which frees them. */
      g_ptr_array_set_free_func (instances, NULL);
      for (guint k = 0; k < instances->len; k++)
        g_ptr_array_add (all, instances->pdata[k]);
    }
  result = rr_qc_run (protocol, (RrQcInstance * const *) all->pdata, all->len);
  q->result = rr_qc_result_to_json (result);
}

char *
qc_automated (const char  *trial,
              GPtrArray   *studies,
              char       **protocol_out)
{
  RrStmt *st = rr_db_query (RR_Q_QC_AUTOMATED);
  g_autofree char *protocol = NULL;
  QcRun q = { NULL, studies, NULL };

  rr_stmt_bind_text (st, 1, trial);
  protocol = g_strdup (st && rr_stmt_step (st) == RR_ROW ? col_text (st, 0) : "{}");
  rr_stmt_finalize (st);
  q.protocol = protocol;
  rr_without_lock (qc_run_unlocked, &q);
  *protocol_out = g_steal_pointer (&protocol);
  return q.result;
}

gboolean
qc_store (const char *task_id,
          const char *protocol,
          const char *automated)
{
  RrStmt *st = rr_db_query (RR_Q_QC_STORE);
  rr_stmt_bind_text (st, 1, task_id);
  rr_stmt_bind_text (st, 2, protocol);
  if (automated)
    rr_stmt_bind_text (st, 3, automated);
  return step_done (st);
}

void
write_qc (RrJsonWriter *w,
          const Task   *t)
{
  RrStmt *st = rr_db_query (RR_Q_WRITE_QC);
  rr_stmt_bind_text (st, 1, t->id);
  if (st && rr_stmt_step (st) == RR_ROW)
    {
      /* The protocol the checks ran against, whatever the trial says now. */
      rr_json_key (w, "protocol");
      rr_json_raw (w, col_text (st, 0));
      rr_json_key (w, "automated");
      rr_json_raw (w, rr_stmt_column_is_null (st, 1) ? "null" : col_text (st, 1));
      rr_stmt_finalize (st);
      write_qc_query (w, t);
      return;
    }
  rr_stmt_finalize (st);
  /* A task from before the checks ran on the server. */
  st = rr_db_query (RR_Q_QC_AUTOMATED);
  rr_stmt_bind_text (st, 1, t->trial);
  rr_json_key (w, "protocol");
  rr_json_raw (w, st && rr_stmt_step (st) == RR_ROW ? col_text (st, 0) : "{}");
  rr_stmt_finalize (st);
  rr_json_key (w, "automated");
  rr_json_null (w);
  write_qc_query (w, t);
}

/* A 400 with @message, as a FALSE to return. */
static gboolean
refuse (RrHttpAnswer *resp,
        const char   *message)
{
  bad_request (resp, message);
  return FALSE;
}

/* One shape of a finding: a point, rect or line of 1 to 256 [x, y]. */
static gboolean
shape_check (JsonNode     *shape,
             RrHttpAnswer *resp)
{
  static const char *const shapes[] = { "point", "rect", "line", NULL };
  JsonObject *so = JSON_NODE_HOLDS_OBJECT (shape) ? json_node_get_object (shape) : NULL;
  JsonNode *points;
  JsonArray *a;
  gboolean ok = TRUE;

  if (so == NULL)
    return refuse (resp, "A shape is a point, rect or line");
  if (!one_of (member_string (so, "type", TRUE, 16, &ok, resp), shapes))
    return ok ? refuse (resp, "A shape is a point, rect or line") : FALSE;
  points = json_object_get_member (so, "points");
  if (points == NULL || !JSON_NODE_HOLDS_ARRAY (points))
    return refuse (resp, "A shape has 1 to 256 points");
  a = json_node_get_array (points);
  if (json_array_get_length (a) == 0 || json_array_get_length (a) > 256)
    return refuse (resp, "A shape has 1 to 256 points");
  for (guint k = 0; k < json_array_get_length (a); k++)
    {
      JsonNode *pt = json_array_get_element (a, k);
      if (!JSON_NODE_HOLDS_ARRAY (pt) || json_array_get_length (json_node_get_array (pt)) != 2)
        return refuse (resp, "A point is [x, y]");
      for (guint c = 0; c < 2; c++)
        {
          JsonNode *v = json_array_get_element (json_node_get_array (pt), c);
          GType type = json_node_get_value_type (v);
          if ((type != G_TYPE_INT64 && type != G_TYPE_DOUBLE) ||
              !isfinite (json_node_get_double (v)))
            return refuse (resp, "A point is [x, y] in numbers");
        }
    }
  return TRUE;
}

gboolean
qc_decision_check (JsonObject   *o,
                   RrHttpAnswer *resp)
{
  static const char *const decisions[] = { "pass", "fail", "query", NULL };
  static const char *const categories[] = {
    "wrong_modality", "incomplete_coverage", "slice_thickness", "missing_slices",
    "motion_artifact", "contrast_phase", "phi_present", "wrong_subject_or_visit",
    "image_quality", "other", NULL
  };
  static const char *const severities[] = { "minor", "major", NULL };
  gboolean ok = TRUE;
  const char *decision = member_string (o, "decision", TRUE, 16, &ok, resp);
  JsonNode *fn = json_object_get_member (o, "findings");
  JsonArray *list;

  if (!ok)
    return FALSE;
  if (!one_of (decision, decisions))
    return refuse (resp, "\"decision\" is pass, fail or query");
  if (fn == NULL || JSON_NODE_HOLDS_NULL (fn))
    return TRUE;
  if (!JSON_NODE_HOLDS_ARRAY (fn) || json_array_get_length (json_node_get_array (fn)) > 1000)
    return refuse (resp, "\"findings\" is a list of up to 1000 findings");
  list = json_node_get_array (fn);
  for (guint i = 0; i < json_array_get_length (list); i++)
    {
      JsonNode *e = json_array_get_element (list, i);
      JsonObject *f = JSON_NODE_HOLDS_OBJECT (e) ? json_node_get_object (e) : NULL;
      const char *series, *sop;
      JsonNode *shape;

      if (f == NULL)
        return refuse (resp, "A finding is an object");
      if (!one_of (member_string (f, "category", TRUE, 64, &ok, resp), categories))
        return ok ? refuse (resp, "Unknown finding category") : FALSE;
      if (!one_of (member_string (f, "severity", TRUE, 16, &ok, resp), severities))
        return ok ? refuse (resp, "A finding's severity is minor or major") : FALSE;
      member_string (f, "comment", FALSE, 4000, &ok, resp);
      series = member_string (f, "series", FALSE, 64, &ok, resp);
      sop = member_string (f, "sop", FALSE, 64, &ok, resp);
      if (!ok)
        return FALSE;
      if ((series && !rr_access_is_uid (series)) || (sop && !rr_access_is_uid (sop)))
        return refuse (resp, "A finding's series and sop are UIDs");
      member_int (f, "frame", 0, 0, 1 << 20, &ok, resp);
      if (!ok)
        return FALSE;
      shape = json_object_get_member (f, "shape");
      if (shape && !JSON_NODE_HOLDS_NULL (shape) && !shape_check (shape, resp))
        return FALSE;
    }
  return TRUE;
}
