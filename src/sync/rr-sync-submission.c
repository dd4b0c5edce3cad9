/* rr-sync-submission.c: the user's own submission of a task (a read, a
 * QC decision, an adjudication), as the server holds it, kept in the
 * local database. */
#include "rr-sync-submission.h"
#include "rr-sync-request.h"

static JsonObject *
object_member (JsonObject *o,
               const char *name)
{
  JsonNode *n = o ? json_object_get_member (o, name) : NULL;
  return n && JSON_NODE_HOLDS_OBJECT (n) ? json_node_get_object (n) : NULL;
}

/* Whether @sub is the signed document of a task of @kind
 * (server-api.md's submissions): a read's read, a QC decision, an
 * adjudication's chosen read. */
static gboolean
is_submission_of (JsonObject *sub,
                  const char *kind)
{
  if (sub == NULL)
    return FALSE;
  if (g_strcmp0 (kind, "qc") == 0)
    return json_object_get_string_member_with_default (sub, "decision", NULL) != NULL;
  if (g_strcmp0 (kind, "adjudication") == 0)
    return json_object_get_string_member_with_default (sub, "chosen", NULL) != NULL;
  return object_member (sub, "read") != NULL;
}

gboolean
rr_sync_fetch_submission (RrSyncClient  *client,
                          RrStore       *store,
                          gint64         account,
                          const char    *task_id,
                          const char    *kind,
                          GError       **error)
{
  g_autofree char *path = g_strdup_printf ("/readroom/v1/tasks/%s/submission", task_id);
  g_autoptr (JsonParser) p = json_parser_new ();
  g_autoptr (GBytes) out = NULL;
  g_autofree char *text = NULL;
  JsonObject *o = NULL, *sub;
  long status = 0;
  gsize n;
  const char *data;

  /* The body is bounded by rr_sync_call (64 MiB). */
  out = rr_sync_call (client, "GET", path, NULL, NULL, &status, error);
  if (out == NULL)
    return FALSE;
  /* Submitted but nothing to show: the server lists the task as
   * submitted and holds no read of it (it cannot be the reader's). */
  if (status == 404)
    return TRUE;
  if (status == 401)
    {
      g_set_error (error, RR_SYNC_ERROR, RR_SYNC_ERROR_AUTH,
                   "The server did not accept the user name and password, or the session ended");
      return FALSE;
    }
  data = g_bytes_get_data (out, &n);
  if (status == 200 && json_parser_load_from_data (p, data, (gssize) n, NULL) &&
      json_parser_get_root (p) && JSON_NODE_HOLDS_OBJECT (json_parser_get_root (p)))
    o = json_node_get_object (json_parser_get_root (p));
  /* What the workspace needs: what was signed (a read with its calipers
   * and values, a QC decision with its findings, an adjudication's choice
   * and rationale) and the receipt it was locked with. */
  sub = object_member (o, "submission");
  if (o == NULL ||
      g_strcmp0 (json_object_get_string_member_with_default (o, "task", NULL), task_id) != 0 ||
      !is_submission_of (sub, kind) || object_member (o, "receipt") == NULL)
    {
      g_set_error (error, RR_SYNC_ERROR, RR_SYNC_ERROR_SERVER,
                   "GET %s: the server answered %ld, not the contract's submission", path,
                   status);
      return FALSE;
    }
  /* Kept as sent, without the signature's password (the server never
   * sends it; nothing here would keep one). */
  json_object_remove_member (sub, "signature");
  text = json_to_string (json_parser_get_root (p), FALSE);
  return rr_store_put_submission (store, account, task_id, text, error);
}
