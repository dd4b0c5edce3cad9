/* rr-sync-submission.c: the reader's own submitted read, as the server
 * holds it, kept in the local database. */
#include "rr-sync-submission.h"
#include "rr-sync-request.h"

static JsonObject *
object_member (JsonObject *o,
               const char *name)
{
  JsonNode *n = o ? json_object_get_member (o, name) : NULL;
  return n && JSON_NODE_HOLDS_OBJECT (n) ? json_node_get_object (n) : NULL;
}

gboolean
rr_sync_fetch_submission (RrSyncClient  *client,
                          RrStore       *store,
                          gint64         account,
                          const char    *task_id,
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
  /* What the read form needs: the read (its calipers and values) and the
   * receipt it was locked with. */
  sub = object_member (o, "submission");
  if (o == NULL ||
      g_strcmp0 (json_object_get_string_member_with_default (o, "task", NULL), task_id) != 0 ||
      object_member (sub, "read") == NULL || object_member (o, "receipt") == NULL)
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
