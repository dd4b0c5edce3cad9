/* rr-json.h: typed, NULL-tolerant lookups into parsed JSON (json-glib), for
 * documents from disk or the network whose shape is not to be trusted. */
#pragma once

#include <json-glib/json-glib.h>

#include "rr-json-writer.h"

G_BEGIN_DECLS

/* Each answers NULL when @o (or @a) is NULL, when the member or element is
 * missing, or when it holds another type, so lookups chain without checks
 * in between and json-glib never sees a wrong-typed node (which it would
 * answer with a critical). The results belong to the document. */
JsonObject *rr_json_get_object  (JsonObject *o,
                                 const char *name);
JsonArray  *rr_json_get_array   (JsonObject *o,
                                 const char *name);
const char *rr_json_get_string  (JsonObject *o,
                                 const char *name);
/* The @i-th element of @a when it is an object; NULL past the end too. */
JsonObject *rr_json_get_element (JsonArray  *a,
                                 guint       i);

/* Writes the tree @node through @w: one indentation throughout (a
 * document stored as text and embedded in another is re-indented, not
 * pasted), and numbers in their shortest exact form, which json-glib's
 * generator does not give (53.299999999999997). Integers stay integers. */
void        rr_json_write_node  (RrJsonWriter *w,
                                 JsonNode     *node);

G_END_DECLS
