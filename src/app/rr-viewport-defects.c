/* rr-viewport-defects.c: the defect tools of QC. Each shape is one of the
 * measurement model's, so selecting, moving, undoing and drawing it are
 * the caliper tools' own; only the rectangle's drawing is new here. */
#include "rr-viewport-defects.h"
#include "rr-viewport-private.h"
#include "rr-json-writer.h"
#include "rr-measure-text.h"

#include <glib/gi18n.h>

#include <json-glib/json-glib.h>

#include <math.h>

void
rr_viewport_defects_set_markers (RrViewport *view,
                                 gboolean    markers)
{
  /* A defect marks where a problem is; its size or the pixels under it
   * are no finding, and numbers beside it read as a measurement. */
  view->markers_only = markers;
}

const char *
rr_viewport_defects_tool_name (RrViewport *view,
                               int         tool)
{
  /* As the tool's button says: QC's point and line are a probe and a
   * length underneath, but the reviewer chose "Point" and "Line". */
  if (tool == RR_TOOL_DEFECT_RECT)
    return _("Rectangle");
  if (view->markers_only && tool == RR_TOOL_DEFECT_POINT)
    return _("Point");
  if (view->markers_only && tool == RR_TOOL_DEFECT_LINE)
    return _("Line");
  return rr_measure_text_kind (tool);
}

gboolean
rr_viewport_defects_is_rect (int tool)
{
  return tool == RR_TOOL_DEFECT_RECT;
}

RrMeasurement *
rr_viewport_defects_new_rect (const RrPlane *plane,
                              RrVec3         p)
{
  RrVec3 pts[4] = { p, p, p, p };
  return rr_measurement_new (RR_MEASURE_FREEHAND, plane, pts, 4);
}

void
rr_viewport_defects_drag_rect (RrMeasurement *m,
                               RrVec3         origin,
                               RrVec3         p,
                               const RrPlane *plane)
{
  RrVec3 d = rr_vec3_sub (p, origin);
  RrVec3 du = rr_vec3_scale (plane->right, rr_vec3_dot (d, plane->right));
  RrVec3 dv = rr_vec3_scale (plane->down, rr_vec3_dot (d, plane->down));

  if (m->points->len != 4)
    return;
  /* Clockwise on screen from the corner the drag began at. */
  rr_measurement_set_point (m, 0, origin);
  rr_measurement_set_point (m, 1, rr_vec3_add (origin, du));
  rr_measurement_set_point (m, 2, rr_vec3_add (origin, rr_vec3_add (du, dv)));
  rr_measurement_set_point (m, 3, rr_vec3_add (origin, dv));
}

/* Off the plane's axes by less than this, a side is along them: the
 * corners come from sums of the axes, so only rounding is left. */
#define AXIS_TOLERANCE_MM 1e-6

gboolean
rr_viewport_defects_is_rect_shape (const RrMeasurement *m)
{
  RrVec3 p[4];

  if (m == NULL || m->kind != RR_MEASURE_FREEHAND || m->points->len != 4)
    return FALSE;
  for (guint i = 0; i < 4; i++)
    p[i] = rr_measurement_point (m, i);
  /* As drawn: 0 to 1 along right, 1 to 2 along down, 2 to 3 back along
   * right, 3 to 0 back along down. */
  for (guint i = 0; i < 4; i++)
    {
      RrVec3 side = rr_vec3_sub (p[(i + 1) % 4], p[i]);
      RrVec3 across = i % 2 == 0 ? m->plane_down : m->plane_right;
      if (fabs (rr_vec3_dot (side, across)) > AXIS_TOLERANCE_MM)
        return FALSE;
    }
  return TRUE;
}

void
rr_viewport_defects_move_corner (RrMeasurement *m,
                                 guint          i,
                                 RrVec3         p)
{
  RrVec3 o, d, du, dv;

  g_return_if_fail (m->points->len == 4 && i < 4);
  /* The opposite corner stays; the dragged one follows the pointer in the
   * plane; the two beside it keep one coordinate each of either. */
  o = rr_measurement_point (m, (i + 2) % 4);
  d = rr_vec3_sub (p, o);
  du = rr_vec3_scale (m->plane_right, rr_vec3_dot (d, m->plane_right));
  dv = rr_vec3_scale (m->plane_down, rr_vec3_dot (d, m->plane_down));
  rr_measurement_set_point (m, i, rr_vec3_add (o, rr_vec3_add (du, dv)));
  /* The side from an even corner to the next runs along right. */
  rr_measurement_set_point (m, (i + 1) % 4, rr_vec3_add (o, i % 2 == 0 ? dv : du));
  rr_measurement_set_point (m, (i + 3) % 4, rr_vec3_add (o, i % 2 == 0 ? du : dv));
}

static void
add_point (RrJsonWriter   *w,
           const RrVolume *volume,
           RrVec3          p)
{
  double i = 0, j = 0, k = 0;
  rr_volume_patient_to_voxel (volume, p, &i, &j, &k);
  rr_json_begin_array (w);
  rr_json_double (w, round (i * 10) / 10);
  rr_json_double (w, round (j * 10) / 10);
  rr_json_end_array (w);
}

char *
rr_viewport_defects_shape_json (const RrMeasurement *m,
                                const RrVolume      *volume)
{
  g_autoptr (RrJsonWriter) w = NULL;
  const char *type;

  if (m == NULL || volume == NULL)
    return NULL;
  if (m->kind == RR_MEASURE_PROBE && m->points->len == 1)
    type = "point";
  else if (m->kind == RR_MEASURE_LENGTH && m->points->len == 2)
    type = "line";
  else if (m->kind == RR_MEASURE_FREEHAND && m->points->len == 4)
    type = "rect";
  else
    return NULL;
  w = rr_json_writer_new (FALSE);
  rr_json_begin_object (w);
  rr_json_key (w, "type");
  rr_json_string (w, type);
  rr_json_key (w, "points");
  rr_json_begin_array (w);
  add_point (w, volume, rr_measurement_point (m, 0));
  if (m->points->len == 2)
    add_point (w, volume, rr_measurement_point (m, 1));
  else if (m->points->len == 4)
    add_point (w, volume, rr_measurement_point (m, 2));
  rr_json_end_array (w);
  rr_json_end_object (w);
  return rr_json_writer_steal (w);
}

gboolean
rr_viewport_defects_image (const RrMeasurement *m,
                           const RrVolume      *volume,
                           const char         **sop,
                           guint               *frame)
{
  double d, best_gap = G_MAXDOUBLE;
  guint best = 0;

  if (m == NULL || volume == NULL || volume->slice_sop == NULL || volume->dims[2] == 0 ||
      fabs (rr_vec3_dot (rr_measurement_normal (m), volume->normal)) < 0.999)
    return FALSE;
  /* The acquired image nearest the plane the shape was drawn on: a
   * plane between two slices (the volume's middle, shown first) still
   * marks the image the reviewer sees. */
  d = rr_vec3_dot (rr_measurement_center (m), volume->normal);
  for (guint k = 0; k < volume->dims[2]; k++)
    if (volume->slice_sop[k] && fabs (volume->slice_d[k] - d) < best_gap)
      {
        best_gap = fabs (volume->slice_d[k] - d);
        best = k;
      }
  if (best_gap == G_MAXDOUBLE)
    return FALSE;
  *sop = volume->slice_sop[best];
  *frame = volume->slice_frame ? volume->slice_frame[best] : 0;
  return TRUE;
}

/* [column, row] of a shape, checked: two finite numbers. */
static gboolean
shape_point (JsonArray *points,
             guint      i,
             double    *col,
             double    *row)
{
  JsonNode *n = i < json_array_get_length (points) ? json_array_get_element (points, i) : NULL;
  JsonArray *a = n && JSON_NODE_HOLDS_ARRAY (n) ? json_node_get_array (n) : NULL;
  if (a == NULL || json_array_get_length (a) != 2)
    return FALSE;
  for (guint c = 0; c < 2; c++)
    {
      JsonNode *v = json_array_get_element (a, c);
      if (!JSON_NODE_HOLDS_VALUE (v) || (json_node_get_value_type (v) != G_TYPE_DOUBLE &&
                                         json_node_get_value_type (v) != G_TYPE_INT64) ||
          !isfinite (json_node_get_double (v)))
        return FALSE;
    }
  *col = json_array_get_double_element (a, 0);
  *row = json_array_get_double_element (a, 1);
  return TRUE;
}

gboolean
rr_viewport_defects_parse_shape (const char  *shape_json,
                                 const char **type,
                                 double       cr[4])
{
  g_autoptr (JsonParser) p = json_parser_new ();
  JsonObject *o;
  JsonNode *pn;
  const char *t;

  if (shape_json == NULL || !json_parser_load_from_data (p, shape_json, -1, NULL) ||
      !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (p)))
    return FALSE;
  o = json_node_get_object (json_parser_get_root (p));
  t = json_object_get_string_member_with_default (o, "type", "");
  pn = json_object_get_member (o, "points");
  if (pn == NULL || !JSON_NODE_HOLDS_ARRAY (pn) ||
      !shape_point (json_node_get_array (pn), 0, &cr[0], &cr[1]))
    return FALSE;
  cr[2] = cr[0];
  cr[3] = cr[1];
  if (g_str_equal (t, "point"))
    {
      *type = "point";
      return TRUE;
    }
  if ((g_str_equal (t, "line") || g_str_equal (t, "rect")) &&
      shape_point (json_node_get_array (pn), 1, &cr[2], &cr[3]))
    {
      *type = g_str_equal (t, "line") ? "line" : "rect";
      return TRUE;
    }
  return FALSE;
}

RrMeasurement *
rr_viewport_defects_from_shape (const char     *shape_json,
                                const RrVolume *volume,
                                const char     *sop,
                                const char     *id)
{
  const char *type = NULL;
  RrVec3 pts[4];
  RrPlane plane = { 0 };
  double cr[4], c0, r0, c1, r1;
  guint n = 0, k = 0;
  gboolean found = FALSE;
  RrMeasurement *m;

  if (volume == NULL || sop == NULL || volume->slice_sop == NULL ||
      !rr_viewport_defects_parse_shape (shape_json, &type, cr))
    return NULL;
  for (guint i = 0; i < volume->dims[2] && !found; i++)
    if (g_strcmp0 (volume->slice_sop[i], sop) == 0)
      found = TRUE, k = i;
  if (!found)
    return NULL;
  c0 = cr[0], r0 = cr[1], c1 = cr[2], r1 = cr[3];
  pts[0] = rr_volume_voxel_to_patient (volume, c0, r0, k);
  if (g_str_equal (type, "point"))
    n = 1;
  else if (g_str_equal (type, "line"))
    {
      pts[1] = rr_volume_voxel_to_patient (volume, c1, r1, k);
      n = 2;
    }
  else
    {
      /* The two corners back to the outline drawn. */
      pts[1] = rr_volume_voxel_to_patient (volume, c1, r0, k);
      pts[2] = rr_volume_voxel_to_patient (volume, c1, r1, k);
      pts[3] = rr_volume_voxel_to_patient (volume, c0, r1, k);
      n = 4;
    }
  plane.center = pts[0];
  plane.right = rr_vec3_normalize (rr_vec3_sub (rr_volume_voxel_to_patient (volume, c0 + 1, r0, k),
                                                pts[0]));
  plane.down = rr_vec3_normalize (rr_vec3_sub (rr_volume_voxel_to_patient (volume, c0, r0 + 1, k),
                                               pts[0]));
  plane.slab_mode = RR_SLAB_NONE;
  m = rr_measurement_new (n == 1 ? RR_MEASURE_PROBE : n == 2 ? RR_MEASURE_LENGTH
                                                             : RR_MEASURE_FREEHAND,
                          &plane, pts, n);
  g_free (m->id);
  m->id = g_strdup (id);
  rr_measurement_set_source (m, volume);
  return m;
}
