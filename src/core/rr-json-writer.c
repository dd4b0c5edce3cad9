/* rr-json-writer.c: streaming JSON output with shortest round-trip numbers
 * (json-glib prints 17 significant digits: 0.69999999999999996). */
#include "rr-json-writer.h"

#include <math.h>
#include <stdlib.h>

struct _RrJsonWriter
{
  GString *out;
  gboolean pretty;
  GArray *first;   /* gboolean per open container: no member written yet */
  gboolean after_key;
};

RrJsonWriter *
rr_json_writer_new (gboolean pretty)
{
  RrJsonWriter *w = g_new0 (RrJsonWriter, 1);
  w->out = g_string_new (NULL);
  w->pretty = pretty;
  w->first = g_array_new (FALSE, FALSE, sizeof (gboolean));
  return w;
}

void
rr_json_writer_free (RrJsonWriter *w)
{
  if (w == NULL)
    return;
  g_string_free (w->out, TRUE);
  g_array_unref (w->first);
  g_free (w);
}

char *
rr_json_writer_steal (RrJsonWriter *w)
{
  char *s = g_string_free (w->out, FALSE);
  w->out = g_string_new (NULL);
  return s;
}

static void
newline (RrJsonWriter *w)
{
  if (!w->pretty)
    return;
  g_string_append_c (w->out, '\n');
  for (guint i = 0; i < w->first->len; i++)
    g_string_append (w->out, "  ");
}

/* Separator and indentation before a value or a key. */
static void
before_value (RrJsonWriter *w)
{
  if (w->after_key)
    {
      w->after_key = FALSE;
      return;
    }
  if (w->first->len > 0)
    {
      gboolean *first = &g_array_index (w->first, gboolean, w->first->len - 1);
      if (!*first)
        g_string_append_c (w->out, ',');
      *first = FALSE;
      newline (w);
    }
}

static void
open_container (RrJsonWriter *w, char c)
{
  gboolean t = TRUE;
  before_value (w);
  g_string_append_c (w->out, c);
  g_array_append_val (w->first, t);
}

static void
close_container (RrJsonWriter *w, char c)
{
  gboolean empty;
  g_return_if_fail (w->first->len > 0);
  empty = g_array_index (w->first, gboolean, w->first->len - 1);
  g_array_set_size (w->first, w->first->len - 1);
  if (!empty)
    newline (w);
  g_string_append_c (w->out, c);
  if (w->first->len == 0 && w->pretty)
    g_string_append_c (w->out, '\n');
}

void
rr_json_begin_object (RrJsonWriter *w)
{
  open_container (w, '{');
}

void
rr_json_end_object (RrJsonWriter *w)
{
  close_container (w, '}');
}

void
rr_json_begin_array (RrJsonWriter *w)
{
  open_container (w, '[');
}

void
rr_json_end_array (RrJsonWriter *w)
{
  close_container (w, ']');
}

static void
append_string (GString *out, const char *s)
{
  g_string_append_c (out, '"');
  for (const unsigned char *p = (const unsigned char *) s; *p; p++)
    switch (*p)
      {
      case '"':
        g_string_append (out, "\\\"");
        break;
      case '\\':
        g_string_append (out, "\\\\");
        break;
      case '\n':
        g_string_append (out, "\\n");
        break;
      case '\r':
        g_string_append (out, "\\r");
        break;
      case '\t':
        g_string_append (out, "\\t");
        break;
      default:
        if (*p < 0x20)
          g_string_append_printf (out, "\\u%04x", *p);
        else
          g_string_append_c (out, (char) *p);
      }
  g_string_append_c (out, '"');
}

void
rr_json_key (RrJsonWriter *w,
             const char   *key)
{
  before_value (w);
  append_string (w->out, key);
  g_string_append (w->out, w->pretty ? ": " : ":");
  w->after_key = TRUE;
}

void
rr_json_string (RrJsonWriter *w,
                const char   *value)
{
  before_value (w);
  if (value == NULL)
    g_string_append (w->out, "null");
  else
    append_string (w->out, value);
}

void
rr_json_int (RrJsonWriter *w,
             gint64        value)
{
  before_value (w);
  g_string_append_printf (w->out, "%" G_GINT64_FORMAT, value);
}

char *
rr_json_format_double (double value)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  if (!isfinite (value))
    return g_strdup ("null");
  if (value == 0)
    return g_strdup ("0");
  /* Plain decimals where they are short enough, exponents otherwise. */
  if (fabs (value) >= 1e-6 && fabs (value) < 1e15)
    for (int decimals = 0; decimals <= 17; decimals++)
      {
        char fmt[8];
        g_snprintf (fmt, sizeof fmt, "%%.%df", decimals);
        g_ascii_formatd (buf, sizeof buf, fmt, value);
        if (g_ascii_strtod (buf, NULL) == value)
          return g_strdup (buf);
      }
  for (int prec = 1; prec <= 17; prec++)
    {
      char fmt[8];
      g_snprintf (fmt, sizeof fmt, "%%.%dg", prec);
      g_ascii_formatd (buf, sizeof buf, fmt, value);
      if (g_ascii_strtod (buf, NULL) == value)
        break;
    }
  return g_strdup (buf);
}

void
rr_json_double (RrJsonWriter *w,
                double        value)
{
  g_autofree char *s = rr_json_format_double (value);
  before_value (w);
  g_string_append (w->out, s);
}

void
rr_json_tenths (RrJsonWriter *w,
                gint64        tenths)
{
  gint64 a = tenths < 0 ? -tenths : tenths;
  before_value (w);
  g_string_append_printf (w->out, "%s%" G_GINT64_FORMAT ".%d", tenths < 0 ? "-" : "", a / 10,
                          (int) (a % 10));
}

void
rr_json_bool (RrJsonWriter *w,
              gboolean      value)
{
  before_value (w);
  g_string_append (w->out, value ? "true" : "false");
}

void
rr_json_null (RrJsonWriter *w)
{
  before_value (w);
  g_string_append (w->out, "null");
}

void
rr_json_raw (RrJsonWriter *w,
             const char   *json)
{
  before_value (w);
  g_string_append (w->out, json);
}
