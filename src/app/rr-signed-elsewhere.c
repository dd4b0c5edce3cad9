/* rr-signed-elsewhere.c: a kept submission split as the outbox keeps
 * one signed here. */
#include "rr-signed-elsewhere.h"
#include "rr-json.h"

#include <json-glib/json-glib.h>

gboolean
rr_signed_elsewhere (RrStore     *store,
                     gint64       account,
                     const char  *task_id,
                     char       **body,
                     char       **receipt)
{
  g_autofree char *kept = rr_store_get_submission (store, account, task_id, NULL);
  g_autoptr (JsonParser) p = json_parser_new ();
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonNode) answer = NULL;
  JsonNode *root;
  JsonObject *o = NULL;

  *body = NULL;
  *receipt = NULL;
  if (kept && json_parser_load_from_data (p, kept, -1, NULL) &&
      (root = json_parser_get_root (p)) && JSON_NODE_HOLDS_OBJECT (root))
    o = json_node_get_object (root);
  /* The sync keeps only the contract's shape; a row from elsewhere that
   * is not is no signed document. */
  if (rr_json_get_object (o, "submission") == NULL || rr_json_get_object (o, "receipt") == NULL)
    return FALSE;
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "receipt");
  json_builder_add_value (b, json_node_copy (json_object_get_member (o, "receipt")));
  json_builder_end_object (b);
  answer = json_builder_get_root (b);
  *body = json_to_string (json_object_get_member (o, "submission"), FALSE);
  *receipt = json_to_string (answer, FALSE);
  return TRUE;
}
