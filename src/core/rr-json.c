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
