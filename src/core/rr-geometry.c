/* rr-geometry.c: the few geometry helpers too large to inline.
 * Used by volumes (voxel <-> patient) and the stack planner. */
#include "rr-geometry.h"

gboolean
rr_mat3_invert (const RrMat3 *m,
                RrMat3       *out)
{
  /* The inverse's rows are the cross products of the columns over the
   * determinant. */
  RrVec3 r0 = rr_vec3_cross (m->c[1], m->c[2]);
  RrVec3 r1 = rr_vec3_cross (m->c[2], m->c[0]);
  RrVec3 r2 = rr_vec3_cross (m->c[0], m->c[1]);
  double det = rr_vec3_dot (m->c[0], r0);

  if (fabs (det) < 1e-12)
    return FALSE;

  r0 = rr_vec3_scale (r0, 1.0 / det);
  r1 = rr_vec3_scale (r1, 1.0 / det);
  r2 = rr_vec3_scale (r2, 1.0 / det);
  out->c[0] = rr_vec3 (r0.x, r1.x, r2.x);
  out->c[1] = rr_vec3 (r0.y, r1.y, r2.y);
  out->c[2] = rr_vec3 (r0.z, r1.z, r2.z);
  return TRUE;
}
