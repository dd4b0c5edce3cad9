/* rr-access.c: the allow-list of route shapes. A non-admin reaches our
 * API (whose handlers check everything) and, with GET, a study's DICOMweb
 * resources once the study check passes. Nothing else: not Orthanc's REST,
 * not its explorer, not Lua, not QIDO over the archive, not
 * /dicom-web/servers. */
#include "rr-access.h"

#include <string.h>

gboolean
rr_access_is_uid (const char *s)
{
  gsize n = s ? strlen (s) : 0;
  if (n == 0 || n > 64 || s[0] == '.' || s[n - 1] == '.')
    return FALSE;
  for (gsize i = 0; i < n; i++)
    if (!g_ascii_isdigit (s[i]) && !(s[i] == '.' && s[i + 1] != '.'))
      return FALSE;
  return TRUE;
}

char *
rr_access_normalize (const char *path)
{
  g_auto (GStrv) parts = NULL;
  g_autoptr (GPtrArray) out = g_ptr_array_new ();
  GString *s;

  if (path == NULL || path[0] != '/' || strlen (path) > 4096)
    return NULL;
  /* Orthanc has decoded the escapes once already and routes what it
   * decoded. Decoding again would let "%2F.." climb out of a wildcard
   * route (/instances/{id}/content/...) into an allowed prefix while
   * Orthanc still serves the wildcard: what is left is taken literally. */
  parts = g_strsplit (path, "/", -1);
  for (guint i = 0; parts[i]; i++)
    {
      if (parts[i][0] == '\0' || g_str_equal (parts[i], "."))
        continue;
      if (g_str_equal (parts[i], ".."))
        {
          if (out->len == 0)
            return NULL;
          g_ptr_array_remove_index (out, out->len - 1);
          continue;
        }
      g_ptr_array_add (out, parts[i]);
    }
  s = g_string_new (NULL);
  for (guint i = 0; i < out->len; i++)
    g_string_append_printf (s, "/%s", (const char *) out->pdata[i]);
  if (s->len == 0)
    g_string_append_c (s, '/');
  return g_string_free (s, FALSE);
}

RrRouteClass
rr_access_classify (const char  *method,
                    const char  *path,
                    char       **study)
{
  g_auto (GStrv) seg = NULL;
  guint n;

  *study = NULL;
  if (path == NULL)
    return RR_ROUTE_DENY;
  if (g_str_has_prefix (path, "/readroom/v1/") || g_str_equal (path, "/readroom/v1"))
    return RR_ROUTE_API;
  if (g_strcmp0 (method, "GET") != 0)
    return RR_ROUTE_DENY;

  /* WADO-RS under one study:
   *   /dicom-web/studies/{study}[/metadata]
   *   /dicom-web/studies/{study}/series/{series}[/metadata]
   *   /dicom-web/studies/{study}/series/{series}/instances/{sop}[/metadata|/frames/{n}]
   * Segments are compared as Orthanc routes them (case kept). */
  seg = g_strsplit (path + 1, "/", -1);
  n = g_strv_length (seg);
  if (n < 3 || !g_str_equal (seg[0], "dicom-web") || !g_str_equal (seg[1], "studies") ||
      !rr_access_is_uid (seg[2]))
    return RR_ROUTE_DENY;
  if (n == 3 || (n == 4 && g_str_equal (seg[3], "metadata")))
    goto study;
  if (n < 5 || !g_str_equal (seg[3], "series") || !rr_access_is_uid (seg[4]))
    return RR_ROUTE_DENY;
  if (n == 5 || (n == 6 && g_str_equal (seg[5], "metadata")))
    goto study;
  if (n < 7 || !g_str_equal (seg[5], "instances") || !rr_access_is_uid (seg[6]))
    return RR_ROUTE_DENY;
  if (n == 7 || (n == 8 && g_str_equal (seg[7], "metadata")))
    goto study;
  if (n == 9 && g_str_equal (seg[7], "frames"))
    {
      for (const char *c = seg[8]; *c; c++)
        if (!g_ascii_isdigit (*c) && *c != ',')
          return RR_ROUTE_DENY;
      goto study;
    }
  return RR_ROUTE_DENY;

study:
  *study = g_strdup (seg[2]);
  return RR_ROUTE_STUDY_READ;
}

/* Identifiers in paths: letters, digits, '.', '_', '-', 1 to 64. */
static gboolean
is_identifier (const char *s)
{
  gsize n = strlen (s);
  if (n == 0 || n > 64)
    return FALSE;
  for (gsize i = 0; i < n; i++)
    if (!g_ascii_isalnum (s[i]) && s[i] != '.' && s[i] != '_' && s[i] != '-')
      return FALSE;
  return TRUE;
}

char **
rr_access_route_split (const char *path)
{
  char **seg;
  if (path == NULL || strlen (path) > 1024)
    return NULL;
  seg = g_strsplit (path, "/", RR_ACCESS_MAX_SEGMENTS + 1);
  if (g_strv_length (seg) > RR_ACCESS_MAX_SEGMENTS)
    {
      g_strfreev (seg);
      return NULL;
    }
  return seg;
}

gboolean
rr_access_route_match (const char  *pattern,
                       char       **seg,
                       GPtrArray   *groups)
{
  g_auto (GStrv) pat = g_strsplit (pattern, "/", -1);
  guint i;

  g_ptr_array_set_size (groups, 0);
  for (i = 0; pat[i] && seg[i]; i++)
    {
      if (g_str_equal (pat[i], "{id}"))
        {
          if (!is_identifier (seg[i]))
            return FALSE;
          g_ptr_array_add (groups, seg[i]);
        }
      else if (g_str_equal (pat[i], "{any}"))
        {
          if (*seg[i] == '\0')
            return FALSE;
          g_ptr_array_add (groups, seg[i]);
        }
      else if (!g_str_equal (pat[i], seg[i]))
        return FALSE;
    }
  return pat[i] == NULL && seg[i] == NULL;
}
