/* rr-viewport-defects.c: the defect tools of QC. Each shape is one of the
 * measurement model's, so selecting, moving, undoing and drawing it are
 * the caliper tools' own; only the rectangle's drawing is new here. */
#include "rr-viewport-defects.h"
#include "rr-json-writer.h"

#include <math.h>

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
