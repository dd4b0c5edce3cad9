/* rr-parse.c: strict parsing of comma-separated numbers for command lines
 * (readroom-cli render, readroom-phantom). */
#include "rr-parse.h"

#include <math.h>

gboolean
rr_parse_doubles (const char *text,
                  double     *out,
                  int         min,
                  int         max,
                  int        *n_out)
{
  g_auto (GStrv) parts = NULL;
  int n;

  if (text == NULL)
    return FALSE;
  parts = g_strsplit (text, ",", -1);
  n = (int) g_strv_length (parts);
  if (n < min || n > max)
    return FALSE;
  for (int i = 0; i < n; i++)
    {
      char *end = NULL;
      out[i] = g_ascii_strtod (parts[i], &end);
      if (end == parts[i] || *end != '\0' || !isfinite (out[i]))
        return FALSE;
    }
  if (n_out)
    *n_out = n;
  return TRUE;
}
