/* Overlay text fitted into a pane (src/app/rr-text-fit.c): what fits is
 * kept whole; what does not is cut at a character boundary and ends with
 * an ellipsis, its ink inside the width; never a split UTF-8 sequence. */
#include "rr-text-fit.h"

#include <string.h>

static cairo_t *
make_cr (void)
{
  cairo_surface_t *s = cairo_image_surface_create (CAIRO_FORMAT_RGB24, 8, 8);
  cairo_t *cr = cairo_create (s);
  cairo_surface_destroy (s);
  cairo_select_font_face (cr, "monospace", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size (cr, 12);
  return cr;
}

static double
ink_right (cairo_t *cr, const char *text)
{
  cairo_text_extents_t ext;
  cairo_text_extents (cr, text, &ext);
  return MAX (ext.x_advance, ext.x_bearing + ext.width);
}

static void
test_fit (void)
{
  cairo_t *cr = make_cr ();
  const char *caption = "Coronal MIP 30 mm  Study 2  CT chest-abdomen phantom — 2.5 mm";
  double full = ink_right (cr, caption);
  g_autofree char *whole = rr_text_fit (cr, caption, full + 1);

  g_assert_cmpstr (whole, ==, caption);
  for (double w = full - 1; w > 0; w -= 7)
    {
      g_autofree char *fit = rr_text_fit (cr, caption, w);
      gsize n = strlen (fit);
      g_assert_true (g_utf8_validate (fit, -1, NULL));
      g_assert_cmpfloat (ink_right (cr, fit), <=, w);
      if (n == 0)
        continue;
      /* A prefix of the caption, then the ellipsis, no space before it. */
      g_assert_true (g_str_has_suffix (fit, "…"));
      n -= strlen ("…");
      g_assert_cmpint (strncmp (fit, caption, n), ==, 0);
      g_assert_true (n == 0 || fit[n - 1] != ' ');
      /* The longest such prefix: one more character would not fit. */
      if (n + 1 < strlen (caption) && caption[n] != ' ')
        {
          g_autofree char *more = g_strdup_printf ("%.*s…",
                                                   (int) (g_utf8_next_char (caption + n) - caption),
                                                   caption);
          g_assert_cmpfloat (ink_right (cr, more), >, w);
        }
    }
  {
    /* The em dash is three bytes: a cut lands before or after it. */
    double at = ink_right (cr, "Coronal MIP 30 mm  Study 2  CT chest-abdomen phantom —…");
    g_autofree char *fit = rr_text_fit (cr, caption, at - 1);
    g_assert_true (g_utf8_validate (fit, -1, NULL));
    g_assert_cmpstr (fit, ==, "Coronal MIP 30 mm  Study 2  CT chest-abdomen phantom…");
  }
  {
    g_autofree char *none = rr_text_fit (cr, caption, 2);
    g_assert_cmpstr (none, ==, "");
  }
  cairo_destroy (cr);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/text-fit/fit", test_fit);
  return g_test_run ();
}
