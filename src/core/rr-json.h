/* rr-json.h: typed, NULL-tolerant lookups into parsed JSON (json-glib), for
 * documents from disk or the network whose shape is not to be trusted. */
#pragma once

#include <json-glib/json-glib.h>

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

G_END_DECLS
