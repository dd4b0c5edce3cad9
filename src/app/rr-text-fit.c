/* rr-text-fit.c: overlay text cut to a width with an ellipsis. A caption
 * clipped at a pane's edge is cut mid-glyph and reads as something else
 * ("W 40" of "W 400"); an ellipsis says there is more. */
#include "rr-text-fit.h"

#include <string.h>

static double
advance (cairo_t *cr, const char *text)
{
  cairo_text_extents_t ext;
  cairo_text_extents (cr, text, &ext);
  /* The ink may reach past the advance (italic, a wide last glyph). */
  return MAX (ext.x_advance, ext.x_bearing + ext.width);
}

/* @text's first @n bytes, trailing spaces dropped, then "…". */
static char *
cut (const char *text, gsize n)
{
  while (n > 0 && text[n - 1] == ' ')
    n--;
  return g_strdup_printf ("%.*s…", (int) n, text);
}

char *
rr_text_fit (cairo_t    *cr,
             const char *text,
             double      max_width)
{
  g_autofree gsize *bounds = NULL;
  glong n_chars;
  glong lo, hi;

  g_return_val_if_fail (text != NULL, NULL);
  if (advance (cr, text) <= max_width)
    return g_strdup (text);
  if (!g_utf8_validate (text, -1, NULL))
    return g_strdup ("");
  /* The byte offset of each character boundary, then the longest
   * prefix that fits with its ellipsis, by bisection (the width only
   * grows with the prefix). */
  n_chars = g_utf8_strlen (text, -1);
  bounds = g_new (gsize, n_chars + 1);
  {
    const char *p = text;
    for (glong i = 0; i <= n_chars; i++, p = g_utf8_next_char (p))
      {
        bounds[i] = (gsize) (p - text);
        if (*p == '\0')
          break;
      }
  }
  lo = -1, hi = n_chars;  /* lo fits (or is "nothing"), hi does not */
  while (hi - lo > 1)
    {
      glong mid = (lo + hi) / 2;
      g_autofree char *t = cut (text, bounds[mid]);
      if (advance (cr, t) <= max_width)
        lo = mid;
      else
        hi = mid;
    }
  return lo < 0 ? g_strdup ("") : cut (text, bounds[lo]);
}
