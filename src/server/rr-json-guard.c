/* rr-json-guard.c: one pass over the bytes, counting nesting outside
 * strings; it never recurses, so no input can exhaust its stack. */
#include "rr-json-guard.h"

RrJsonGuard
rr_json_guard (const char *data,
               gsize       len,
               gsize       max_len,
               guint       max_depth)
{
  guint depth = 0;
  gboolean in_string = FALSE;

  if (len > max_len)
    return RR_JSON_GUARD_TOO_LARGE;
  if (data == NULL)
    return len ? RR_JSON_GUARD_UNBALANCED : RR_JSON_GUARD_OK;
  for (gsize i = 0; i < len; i++)
    {
      char c = data[i];
      if (in_string)
        {
          if (c == '\\')
            i++;  /* whatever is escaped cannot end the string */
          else if (c == '"')
            in_string = FALSE;
          continue;
        }
      switch (c)
        {
        case '"':
          in_string = TRUE;
          break;
        case '[':
        case '{':
          if (++depth > max_depth)
            return RR_JSON_GUARD_TOO_DEEP;
          break;
        case ']':
        case '}':
          if (depth == 0)
            return RR_JSON_GUARD_UNBALANCED;
          depth--;
          break;
        default:
          break;
        }
    }
  return in_string || depth ? RR_JSON_GUARD_UNBALANCED : RR_JSON_GUARD_OK;
}
