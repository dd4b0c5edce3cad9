/* rr-json-guard.h: a bounded scan of JSON text before any parser sees it.
 * json-glib recurses once per nesting level: a small body of brackets
 * exhausts a server thread's stack. Pure: no parser, no allocation. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Deeper than any document of server-api.md (a read nests 6 levels). */
#define RR_JSON_MAX_DEPTH 64

typedef enum
{
  RR_JSON_GUARD_OK,
  RR_JSON_GUARD_TOO_LARGE,
  RR_JSON_GUARD_TOO_DEEP,
  RR_JSON_GUARD_UNBALANCED,   /* brackets or a string that do not close */
} RrJsonGuard;

/* Checks @len bytes of @data (NUL not required): at most @max_len bytes,
 * at most @max_depth nested arrays and objects, brackets balanced outside
 * strings. Syntax beyond that is the parser's job. */
RrJsonGuard rr_json_guard (const char *data,
                           gsize       len,
                           gsize       max_len,
                           guint       max_depth);

G_END_DECLS
