/* rr-parse.h: parsing of the small numeric lists that command lines take
 * ("X,Y,Z", "W,H"), strictly and without locale surprises. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Parses @min to @max comma-separated finite numbers into @out; the count
 * goes to @n_out when not NULL. FALSE on anything else. */
gboolean rr_parse_doubles (const char *text,
                           double     *out,
                           int         min,
                           int         max,
                           int        *n_out);

G_END_DECLS
