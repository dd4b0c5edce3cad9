/* rr-qc-protocol.c: the trial's imaging protocol of cli.md, parsed
 * strictly and within bounds, for the QC checks of rr-qc.c. */
#include "rr-qc-protocol.h"

#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

RrQcProtocol *
rr_qc_protocol_new (void)
{
  RrQcProtocol *p = g_new0 (RrQcProtocol, 1);
  p->modalities = g_ptr_array_new_with_free_func (g_free);
  p->body_parts = g_ptr_array_new_with_free_func (g_free);
  p->contrast = RR_QC_CONTRAST_ANY;
  return p;
}

void
rr_qc_protocol_free (RrQcProtocol *protocol)
{
  if (protocol == NULL)
    return;
  g_ptr_array_unref (protocol->modalities);
  g_ptr_array_unref (protocol->body_parts);
  g_free (protocol);
}

gboolean
rr_qc_invalid (GError    **error,
               const char *format,
               ...)
{
  va_list ap;
  va_start (ap, format);
  g_autofree char *msg = g_strdup_vprintf (format, ap);
  va_end (ap);
  g_set_error_literal (error, RR_CORE_ERROR, RR_CORE_ERROR_INVALID, msg);
  return FALSE;
}

static gboolean
node_number (JsonNode *node,
             double   *out)
{
  GType t;
  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node))
    return FALSE;
  t = json_node_get_value_type (node);
  if (t != G_TYPE_INT64 && t != G_TYPE_DOUBLE)
    return FALSE;
  *out = json_node_get_double (node);
  return isfinite (*out);
}

/* A list of Code String values ("CT", "CHEST"), upper-cased as DICOM
 * writes them. */
static gboolean
parse_codes (JsonNode   *node,
             const char *member,
             GPtrArray  *out,
             GError    **error)
{
  JsonArray *arr;
  guint n;

  if (JSON_NODE_HOLDS_NULL (node))
    return TRUE;
  if (!JSON_NODE_HOLDS_ARRAY (node))
    return rr_qc_invalid (error, "\"%s\" must be a list of strings", member);
  arr = json_node_get_array (node);
  n = json_array_get_length (arr);
  if (n > RR_QC_MAX_LIST)
    return rr_qc_invalid (error, "\"%s\" has %u entries; at most %d", member, n, RR_QC_MAX_LIST);
  for (guint i = 0; i < n; i++)
    {
      JsonNode *e = json_array_get_element (arr, i);
      const char *s;
      gsize len;
      if (!JSON_NODE_HOLDS_VALUE (e) || json_node_get_value_type (e) != G_TYPE_STRING)
        return rr_qc_invalid (error, "\"%s\" must be a list of strings", member);
      s = json_node_get_string (e);
      len = strlen (s);
      if (len == 0 || len > RR_QC_MAX_CODE_CHARS)
        return rr_qc_invalid (error, "\"%s\" entries must have 1 to %d characters", member,
                              RR_QC_MAX_CODE_CHARS);
      for (gsize k = 0; k < len; k++)
        if (!g_ascii_isalnum (s[k]) && s[k] != '_' && s[k] != ' ')
          return rr_qc_invalid (error, "\"%s\": \"%s\" is not a DICOM code string "
                                "(letters, digits, space and _)", member, s);
      g_ptr_array_add (out, g_ascii_strup (s, -1));
    }
  return TRUE;
}

static gboolean
parse_limit (JsonNode   *node,
             const char *member,
             double      min,
             double      max,
             gboolean    min_open,
             double     *out,
             GError    **error)
{
  double v;
  if (JSON_NODE_HOLDS_NULL (node))
    return TRUE;
  if (!node_number (node, &v) || v > max || v < min || (min_open && v <= min))
    return rr_qc_invalid (error, "\"%s\" must be a number %s %g and at most %g", member,
                          min_open ? "above" : "from", min, max);
  *out = v;
  return TRUE;
}

RrQcProtocol *
rr_qc_protocol_parse (const char  *data,
                      gssize       length,
                      GError     **error)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (RrQcProtocol) p = rr_qc_protocol_new ();
  g_autoptr (GList) members = NULL;
  GError *local = NULL;
  JsonNode *root;
  JsonObject *obj;

  if (length < 0)
    length = (gssize) strlen (data);
  if (length > RR_QC_MAX_PROTOCOL_BYTES)
    {
      g_set_error (error, RR_CORE_ERROR, RR_CORE_ERROR_TOO_LARGE,
                   "a protocol of %" G_GSSIZE_FORMAT " bytes is too large (%d at most)",
                   length, RR_QC_MAX_PROTOCOL_BYTES);
      return NULL;
    }
  if (!json_parser_load_from_data (parser, data, length, &local))
    {
      rr_qc_invalid (error, "not valid JSON: %s", local->message);
      g_error_free (local);
      return NULL;
    }
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      rr_qc_invalid (error, "a protocol is a JSON object");
      return NULL;
    }
  obj = json_node_get_object (root);
  members = json_object_get_members (obj);
  /* A misspelt member would silently switch its check off: refuse it. */
  for (GList *l = members; l != NULL; l = l->next)
    {
      const char *name = l->data;
      JsonNode *node = json_object_get_member (obj, name);
      gboolean ok;
      double v;

      if (g_str_equal (name, "modality"))
        ok = parse_codes (node, name, p->modalities, error);
      else if (g_str_equal (name, "body_part"))
        ok = parse_codes (node, name, p->body_parts, error);
      else if (g_str_equal (name, "max_slice_thickness_mm"))
        ok = parse_limit (node, name, 0, RR_QC_MAX_THICKNESS_MM, TRUE,
                          &p->max_slice_thickness_mm, error);
      else if (g_str_equal (name, "min_coverage_mm"))
        ok = parse_limit (node, name, 0, RR_QC_MAX_COVERAGE_MM, FALSE,
                          &p->min_coverage_mm, error);
      else if (g_str_equal (name, "contrast"))
        {
          ok = TRUE;
          if (JSON_NODE_HOLDS_NULL (node))
            p->contrast = RR_QC_CONTRAST_ANY;
          else if (JSON_NODE_HOLDS_VALUE (node) &&
                   json_node_get_value_type (node) == G_TYPE_BOOLEAN)
            p->contrast = json_node_get_boolean (node) ? RR_QC_CONTRAST_REQUIRED
                                                       : RR_QC_CONTRAST_ABSENT;
          else
            ok = rr_qc_invalid (error, "\"contrast\" must be true, false or null");
        }
      else if (g_str_equal (name, "max_gap_slices"))
        {
          ok = TRUE;
          if (JSON_NODE_HOLDS_NULL (node))
            p->max_gap_slices = 0;
          else if (node_number (node, &v) && v >= 0 && v <= RR_QC_MAX_GAP_SLICES && v == floor (v))
            p->max_gap_slices = (guint) v;
          else
            ok = rr_qc_invalid (error, "\"max_gap_slices\" must be a whole number from 0 to %d",
                                RR_QC_MAX_GAP_SLICES);
        }
      else
        ok = rr_qc_invalid (error, "unknown member \"%s\" (modality, body_part, "
                            "max_slice_thickness_mm, min_coverage_mm, contrast, max_gap_slices)",
                            name);
      if (!ok)
        return NULL;
    }
  return g_steal_pointer (&p);
}
