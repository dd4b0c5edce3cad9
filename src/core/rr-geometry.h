/* rr-geometry.h: small vector algebra in patient millimetres.
 * Inline so the reslicer and the stack planner pay nothing for it. */
#pragma once

#include <glib.h>
#include <math.h>

G_BEGIN_DECLS

typedef struct
{
  double x, y, z;
} RrVec3;

static inline RrVec3
rr_vec3 (double x,
         double y,
         double z)
{
  RrVec3 v = { x, y, z };
  return v;
}

static inline RrVec3
rr_vec3_add (RrVec3 a,
             RrVec3 b)
{
  return rr_vec3 (a.x + b.x, a.y + b.y, a.z + b.z);
}

static inline RrVec3
rr_vec3_sub (RrVec3 a,
             RrVec3 b)
{
  return rr_vec3 (a.x - b.x, a.y - b.y, a.z - b.z);
}

static inline RrVec3
rr_vec3_scale (RrVec3 a,
               double s)
{
  return rr_vec3 (a.x * s, a.y * s, a.z * s);
}

static inline double
rr_vec3_dot (RrVec3 a,
             RrVec3 b)
{
  return a.x * b.x + a.y * b.y + a.z * b.z;
}

static inline RrVec3
rr_vec3_cross (RrVec3 a,
               RrVec3 b)
{
  return rr_vec3 (a.y * b.z - a.z * b.y,
                  a.z * b.x - a.x * b.z,
                  a.x * b.y - a.y * b.x);
}

static inline double
rr_vec3_length (RrVec3 a)
{
  return sqrt (rr_vec3_dot (a, a));
}

static inline RrVec3
rr_vec3_normalize (RrVec3 a)
{
  double l = rr_vec3_length (a);
  return l > 0 ? rr_vec3_scale (a, 1.0 / l) : a;
}

static inline RrVec3
rr_vec3_lerp (RrVec3 a,
              RrVec3 b,
              double t)
{
  return rr_vec3_add (a, rr_vec3_scale (rr_vec3_sub (b, a), t));
}

/* What a pixel's size in millimetres rests on. */
typedef enum
{
  RR_CALIBRATION_PATIENT,    /* Pixel Spacing: millimetres in the patient */
  RR_CALIBRATION_DETECTOR,   /* Imager Pixel Spacing: at the detector plane */
  RR_CALIBRATION_ULTRASOUND, /* the Ultrasound Regions' physical deltas */
  RR_CALIBRATION_NONE,       /* nothing: sizes are in pixels */
} RrCalibration;

/* Column-major 3x3 matrix: columns are the images of the unit vectors. */
typedef struct
{
  RrVec3 c[3];
} RrMat3;

static inline RrVec3
rr_mat3_apply (const RrMat3 *m,
               RrVec3        v)
{
  return rr_vec3_add (rr_vec3_add (rr_vec3_scale (m->c[0], v.x),
                                   rr_vec3_scale (m->c[1], v.y)),
                      rr_vec3_scale (m->c[2], v.z));
}

gboolean rr_mat3_invert (const RrMat3 *m,
                         RrMat3       *out);

G_END_DECLS
