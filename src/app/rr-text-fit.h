/* rr-text-fit.h: a line of overlay text fitted into a width, for the
 * viewer's captions in narrow panes. cairo only, no GTK: unit-tested. */
#pragma once

#include <cairo.h>
#include <glib.h>

G_BEGIN_DECLS

/* @text as drawn with @cr's current font in at most @max_width pixels:
 * itself when it fits, else cut at a character boundary (trailing
 * spaces dropped) and ended with "…"; "" when not even that fits. */
char *rr_text_fit (cairo_t    *cr,
                   const char *text,
                   double      max_width);

G_END_DECLS
