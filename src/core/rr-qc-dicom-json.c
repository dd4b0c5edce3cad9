/* rr-qc-dicom-json.c: QC header facts from the DICOM JSON model (PS3.18
 * F.2), what DICOMweb's /metadata answers, so a server that stores the
 * headers runs the checks without reading a file. Mirrors rr-dicom-header.cc. */
#include "rr-qc-dicom-json.h"
#include "rr-json.h"

#include <string.h>
#include <stdlib.h>

#define MAX_STRING_BYTES  1024
#define MAX_DEPTH         16
#define MAX_ELEMENTS      200000
#define MAX_IDENTIFYING   256

static gboolean
parse_tag (const char *key,
           guint32    *tag)
{
  char *end = NULL;
  if (strlen (key) != 8)
    return FALSE;
  for (int i = 0; i < 8; i++)
    if (!g_ascii_isxdigit (key[i]))
      return FALSE;
  *tag = (guint32) strtoul (key, &end, 16);
  return end == key + 8;
}

static JsonArray *
values (JsonObject *item,
        const char *key)
{
  return rr_json_get_array (rr_json_get_object (item, key), "Value");
}

static const char *
vr_of (JsonObject *item,
       const char *key)
{
  return rr_json_get_string (rr_json_get_object (item, key), "vr");
}

/* One value as text: strings as they are, person names by their
 * alphabetic group, numbers as DICOM would write them. */
static char *
value_text (JsonNode *v)
{
  if (v == NULL || JSON_NODE_HOLDS_NULL (v))
    return NULL;
  if (JSON_NODE_HOLDS_OBJECT (v))
    {
      JsonObject *pn = json_node_get_object (v);
      g_autoptr (GString) s = g_string_new (NULL);
      static const char *groups[] = { "Alphabetic", "Ideographic", "Phonetic" };
      for (guint i = 0; i < G_N_ELEMENTS (groups); i++)
        {
          JsonNode *g = json_object_get_member (pn, groups[i]);
          if (g && JSON_NODE_HOLDS_VALUE (g) && json_node_get_value_type (g) == G_TYPE_STRING)
            {
              if (s->len > 0 || i > 0)
                g_string_append_c (s, '=');
              g_string_append (s, json_node_get_string (g));
            }
        }
      /* "DOE^JANE" when only the alphabetic group is there. */
      while (s->len > 0 && s->str[s->len - 1] == '=')
        g_string_truncate (s, s->len - 1);
      return g_string_free (g_steal_pointer (&s), FALSE);
    }
  if (!JSON_NODE_HOLDS_VALUE (v))
    return NULL;
  switch (json_node_get_value_type (v))
    {
    case G_TYPE_STRING:
      return g_strdup (json_node_get_string (v));
    case G_TYPE_INT64:
      return g_strdup_printf ("%" G_GINT64_FORMAT, json_node_get_int (v));
    case G_TYPE_DOUBLE:
      {
        char buf[G_ASCII_DTOSTR_BUF_SIZE];
        return g_strdup (g_ascii_dtostr (buf, sizeof buf, json_node_get_double (v)));
      }
    default:
      return NULL;
    }
}

static char *
get_str (JsonObject *item,
         const char *key)
{
  JsonArray *a = values (item, key);
  g_autofree char *s = NULL;
  if (a == NULL || json_array_get_length (a) == 0)
    return NULL;
  s = value_text (json_array_get_element (a, 0));
  if (s == NULL || *s == '\0' || strlen (s) > MAX_STRING_BYTES)
    return NULL;
  return g_strdup (g_strstrip (s));
}

static gboolean
get_f64 (JsonObject *item,
         const char *key,
         guint       pos,
         double     *out)
{
  JsonArray *a = values (item, key);
  JsonNode *v;
  double d;
  if (a == NULL || pos >= json_array_get_length (a))
    return FALSE;
  v = json_array_get_element (a, pos);
  if (!JSON_NODE_HOLDS_VALUE (v))
    return FALSE;
  if (json_node_get_value_type (v) == G_TYPE_INT64 || json_node_get_value_type (v) == G_TYPE_DOUBLE)
    d = json_node_get_double (v);
  else if (json_node_get_value_type (v) == G_TYPE_STRING)
    {
      /* Some servers write DS and IS as strings. */
      const char *s = json_node_get_string (v);
      char *end = NULL;
      d = g_ascii_strtod (s, &end);
      if (end == s)
        return FALSE;
    }
  else
    return FALSE;
  if (!isfinite (d))
    return FALSE;
  *out = d;
  return TRUE;
}

static gboolean
get_vec (JsonObject *item,
         const char *key,
         double     *out,
         guint       n)
{
  for (guint i = 0; i < n; i++)
    if (!get_f64 (item, key, i, &out[i]))
      return FALSE;
  return TRUE;
}

static JsonObject *
seq_item (JsonObject *item,
          const char *key,
          guint       index)
{
  return rr_json_get_element (values (item, key), index);
}

/* With @phi, a value that is only the dummy de-identification wrote does
 * not count (rr_qc_value_identifies). */
static gboolean
attribute_filled (JsonObject *item,
                  const char *key,
                  gboolean    phi)
{
  JsonObject *attr = rr_json_get_object (item, key);
  JsonArray *a;
  g_autoptr (GString) all = g_string_new (NULL);
  if (attr == NULL)
    return FALSE;
  if (json_object_has_member (attr, "InlineBinary") || json_object_has_member (attr, "BulkDataURI"))
    return TRUE;
  a = values (item, key);
  if (a == NULL || json_array_get_length (a) == 0)
    return FALSE;
  if (g_strcmp0 (vr_of (item, key), "SQ") == 0)
    return TRUE;
  for (guint i = 0; i < json_array_get_length (a); i++)
    {
      g_autofree char *t = value_text (json_array_get_element (a, i));
      if (t)
        g_string_append (all, t);
      g_string_append_c (all, '\\');
    }
  return phi ? rr_qc_value_identifies (all->str) : !rr_qc_value_is_empty (all->str);
}

/* As rr-dicom-header.cc: private attributes counted (not entered), and
 * identifying ones recorded, at any depth. */
static void
walk_phi (JsonObject   *item,
          RrQcInstance *inst,
          int           depth,
          guint        *budget)
{
  g_autoptr (GList) keys = json_object_get_members (item);
  keys = g_list_sort (keys, (GCompareFunc) g_ascii_strcasecmp);
  for (GList *l = keys; l != NULL && *budget > 0; l = l->next)
    {
      guint32 tag;
      (*budget)--;
      if (!parse_tag (l->data, &tag))
        continue;
      if ((tag >> 16) & 1)
        {
          inst->n_private++;
          continue;
        }
      if (rr_qc_identifying_lookup (tag) != NULL && inst->identifying->len < MAX_IDENTIFYING &&
          attribute_filled (item, l->data, TRUE))
        g_array_append_val (inst->identifying, tag);
      if (g_strcmp0 (vr_of (item, l->data), "SQ") == 0 && depth < MAX_DEPTH)
        {
          JsonArray *a = values (item, l->data);
          for (guint i = 0; a && i < json_array_get_length (a) && *budget > 0; i++)
            {
              JsonObject *o = rr_json_get_element (a, i);
              if (o)
                walk_phi (o, inst, depth + 1, budget);
            }
        }
    }
}

static void
apply_functional_groups (JsonObject  *fg,
                         RrFrameGeom *g,
                         double      *thickness)
{
  JsonObject *pos = seq_item (fg, "00209113", 0);
  JsonObject *ori = seq_item (fg, "00209116", 0);
  JsonObject *meas = seq_item (fg, "00289110", 0);
  double v[6];

  if (pos && get_vec (pos, "00200032", v, 3))
    {
      g->position = rr_vec3 (v[0], v[1], v[2]);
      g->has_geometry = TRUE;
    }
  if (ori && get_vec (ori, "00200037", v, 6))
    {
      g->row_dir = rr_vec3 (v[0], v[1], v[2]);
      g->col_dir = rr_vec3 (v[3], v[4], v[5]);
    }
  if (meas)
    {
      if (get_vec (meas, "00280030", v, 2))
        {
          g->row_spacing = v[0];
          g->col_spacing = v[1];
          g->calibration = RR_CALIBRATION_PATIENT;
        }
      get_f64 (meas, "00180050", 0, thickness);
    }
}

static gboolean
read_geometry (JsonObject   *obj,
               RrQcInstance *inst,
               GError      **error)
{
  double rows = 0, columns = 0, frames = 1, number = 0, step = 0;
  double ipp[3], iop[6], ps[2];
  gboolean have_ipp, have_iop, have_ps;
  JsonObject *shared = seq_item (obj, "52009229", 0);
  JsonArray *per_frame = g_strcmp0 (vr_of (obj, "52009230"), "SQ") == 0
                         ? values (obj, "52009230") : NULL;

  if (!get_f64 (obj, "00280010", 0, &rows) || !get_f64 (obj, "00280011", 0, &columns) ||
      rows < 1 || columns < 1 || rows > 65535 || columns > 65535)
    return TRUE;   /* not an image */
  inst->is_image = TRUE;
  if (json_object_has_member (obj, "00280008") &&
      (!get_f64 (obj, "00280008", 0, &frames) || frames < 1 || frames > RR_QC_MAX_FRAMES ||
       frames != floor (frames)))
    return rr_qc_invalid (error, "NumberOfFrames is out of range (1..%d)", RR_QC_MAX_FRAMES);
  if (per_frame && json_array_get_length (per_frame) > RR_QC_MAX_FRAMES)
    return rr_qc_invalid (error, "more than %d per-frame groups", RR_QC_MAX_FRAMES);
  get_f64 (obj, "00200013", 0, &number);
  have_ipp = get_vec (obj, "00200032", ipp, 3);
  have_iop = get_vec (obj, "00200037", iop, 6);
  have_ps = get_vec (obj, "00280030", ps, 2) && ps[0] > 0 && ps[1] > 0 && ps[0] < 1e4 &&
            ps[1] < 1e4;
  get_f64 (obj, "00180088", 0, &step);

  inst->n_frames = (guint) frames;
  inst->frames = g_new0 (RrFrameGeom, inst->n_frames);
  for (guint f = 0; f < inst->n_frames; f++)
    {
      RrFrameGeom *g = &inst->frames[f];
      g->rows = (guint) rows;
      g->columns = (guint) columns;
      g->order_hint = number * 100000.0 + f;
      if (have_ps)
        {
          g->row_spacing = ps[0];
          g->col_spacing = ps[1];
          g->calibration = RR_CALIBRATION_PATIENT;
        }
      if (have_iop)
        {
          g->row_dir = rr_vec3 (iop[0], iop[1], iop[2]);
          g->col_dir = rr_vec3 (iop[3], iop[4], iop[5]);
        }
      if (have_ipp && have_iop)
        {
          g->position = rr_vec3 (ipp[0], ipp[1], ipp[2]);
          g->has_geometry = TRUE;
        }
      if (shared)
        apply_functional_groups (shared, g, &inst->slice_thickness);
      if (rr_json_get_element (per_frame, f))
        apply_functional_groups (rr_json_get_element (per_frame, f), g, &inst->slice_thickness);
      if (g->has_geometry && inst->n_frames > 1 && per_frame == NULL)
        {
          RrVec3 n = rr_vec3_normalize (rr_vec3_cross (g->row_dir, g->col_dir));
          if (step != 0)
            g->position = rr_vec3_add (g->position, rr_vec3_scale (n, step * f));
          else
            g->has_geometry = FALSE;
        }
      if (g->has_geometry &&
          (rr_vec3_length (g->row_dir) < 0.5 || rr_vec3_length (g->col_dir) < 0.5 ||
           fabs (rr_vec3_dot (rr_vec3_normalize (g->row_dir),
                              rr_vec3_normalize (g->col_dir))) > 0.01 ||
           g->row_spacing <= 0 || g->col_spacing <= 0))
        g->has_geometry = FALSE;
    }
  return TRUE;
}

RrQcInstance *
rr_qc_instance_from_dicom_json (JsonObject  *obj,
                                GError     **error)
{
  g_autoptr (RrQcInstance) inst = rr_qc_instance_new ();
  guint budget = MAX_ELEMENTS;
  double v;

  inst->sop_uid = get_str (obj, "00080018");
  if (inst->sop_uid == NULL)
    {
      rr_qc_invalid (error, "an instance without SOP Instance UID (0008,0018)");
      return NULL;
    }
  inst->study_date = get_str (obj, "00080020");
  inst->modality = get_str (obj, "00080060");
  inst->series_description = get_str (obj, "0008103E");
  inst->patient_name = get_str (obj, "00100010");
  if (inst->patient_name == NULL && attribute_filled (obj, "00100010", FALSE))
    /* A name too long to read still names someone (as rr-dicom-header.cc). */
    inst->patient_name = g_strdup (RR_QC_OVERLONG_VALUE);
  inst->patient_id = get_str (obj, "00100020");
  inst->identity_removed = get_str (obj, "00120062");
  inst->contrast_agent = get_str (obj, "00180010");
  if (g_strcmp0 (vr_of (obj, "00180012"), "SQ") == 0 && values (obj, "00180012"))
    inst->n_contrast_items = json_array_get_length (values (obj, "00180012"));
  inst->body_part = get_str (obj, "00180015");
  get_f64 (obj, "00180050", 0, &inst->slice_thickness);
  inst->study_uid = get_str (obj, "0020000D");
  inst->series_uid = get_str (obj, "0020000E");
  if (get_f64 (obj, "00200011", 0, &v) && v >= G_MININT && v <= G_MAXINT)
    inst->series_number = (int) v;
  inst->burned_in_annotation = get_str (obj, "00280301");
  walk_phi (obj, inst, 0, &budget);
  if (budget == 0)
    {
      rr_qc_invalid (error, "more than %d attributes in one instance", MAX_ELEMENTS);
      return NULL;
    }
  if (!read_geometry (obj, inst, error))
    return NULL;
  return g_steal_pointer (&inst);
}

GPtrArray *
rr_qc_instances_from_dicom_json (const char  *data,
                                 gssize       length,
                                 GError     **error)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GPtrArray) out = NULL;
  GError *local = NULL;
  JsonNode *root;
  JsonArray *arr;
  guint n;

  if (length < 0)
    length = (gssize) strlen (data);
  if ((gsize) length > RR_QC_MAX_METADATA_BYTES)
    {
      g_set_error (error, RR_CORE_ERROR, RR_CORE_ERROR_TOO_LARGE,
                   "metadata of %" G_GSSIZE_FORMAT " bytes is too large", length);
      return NULL;
    }
  if (!json_parser_load_from_data (parser, data, length, &local))
    {
      rr_qc_invalid (error, "not valid JSON: %s", local->message);
      g_error_free (local);
      return NULL;
    }
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_ARRAY (root))
    {
      rr_qc_invalid (error, "DICOM JSON metadata is an array of instances");
      return NULL;
    }
  arr = json_node_get_array (root);
  n = json_array_get_length (arr);
  if (n > RR_QC_MAX_INSTANCES)
    {
      g_set_error (error, RR_CORE_ERROR, RR_CORE_ERROR_TOO_LARGE,
                   "%u instances; at most %d", n, RR_QC_MAX_INSTANCES);
      return NULL;
    }
  out = g_ptr_array_new_with_free_func ((GDestroyNotify) rr_qc_instance_free);
  for (guint i = 0; i < n; i++)
    {
      JsonNode *e = json_array_get_element (arr, i);
      RrQcInstance *inst;
      GError *err = NULL;
      if (!JSON_NODE_HOLDS_OBJECT (e))
        {
          rr_qc_invalid (error, "instance %u is not a JSON object", i);
          return NULL;
        }
      inst = rr_qc_instance_from_dicom_json (json_node_get_object (e), &err);
      if (inst == NULL)
        {
          g_propagate_prefixed_error (error, err, "instance %u: ", i);
          return NULL;
        }
      g_ptr_array_add (out, inst);
    }
  return g_steal_pointer (&out);
}
