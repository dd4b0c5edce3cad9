/* rr-json.c: typed lookups into parsed JSON that answer NULL for anything
 * missing or of the wrong type, shared by every layer that reads JSON. */
#include "rr-json.h"

JsonObject *
rr_json_get_object (JsonObject *o,
                    const char *name)
{
  JsonNode *n = o ? json_object_get_member (o, name) : NULL;
  return n && JSON_NODE_HOLDS_OBJECT (n) ? json_node_get_object (n) : NULL;
}

JsonArray *
rr_json_get_array (JsonObject *o,
                   const char *name)
{
  JsonNode *n = o ? json_object_get_member (o, name) : NULL;
  return n && JSON_NODE_HOLDS_ARRAY (n) ? json_node_get_array (n) : NULL;
}

const char *
rr_json_get_string (JsonObject *o,
                    const char *name)
{
  JsonNode *n = o ? json_object_get_member (o, name) : NULL;
  return n && JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_STRING
           ? json_node_get_string (n) : NULL;
}

JsonObject *
rr_json_get_element (JsonArray *a,
                     guint      i)
{
  JsonNode *n;
  /* json_array_get_element is a critical past the end, not a NULL. */
  if (a == NULL || i >= json_array_get_length (a))
    return NULL;
  n = json_array_get_element (a, i);
  return n && JSON_NODE_HOLDS_OBJECT (n) ? json_node_get_object (n) : NULL;
}

void
rr_json_write_node (RrJsonWriter *w,
                    JsonNode     *node)
{
  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    {
      rr_json_null (w);
      return;
    }
  if (JSON_NODE_HOLDS_OBJECT (node))
    {
      JsonObject *o = json_node_get_object (node);
      g_autoptr (GList) members = json_object_get_members (o);
      rr_json_begin_object (w);
      /* json-glib keeps the members in the order they were read. */
      for (GList *l = members; l; l = l->next)
        {
          rr_json_key (w, l->data);
          rr_json_write_node (w, json_object_get_member (o, l->data));
        }
      rr_json_end_object (w);
      return;
    }
  if (JSON_NODE_HOLDS_ARRAY (node))
    {
      JsonArray *a = json_node_get_array (node);
      rr_json_begin_array (w);
      for (guint i = 0; i < json_array_get_length (a); i++)
        rr_json_write_node (w, json_array_get_element (a, i));
      rr_json_end_array (w);
      return;
    }
  switch (json_node_get_value_type (node))
    {
    case G_TYPE_INT64:
      rr_json_int (w, json_node_get_int (node));
      break;
    case G_TYPE_DOUBLE:
      rr_json_double (w, json_node_get_double (node));
      break;
    case G_TYPE_BOOLEAN:
      rr_json_bool (w, json_node_get_boolean (node));
      break;
    case G_TYPE_STRING:
      rr_json_string (w, json_node_get_string (node));
      break;
    default:
      rr_json_null (w);
      break;
    }
}
