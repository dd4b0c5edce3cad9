/* rr-measurement.c: calipers and annotations in patient millimetres: the
 * shapes' editing rules, their values, and their JSON form. */
#include "rr-measurement.h"
#include "rr-json-writer.h"

#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

static const char *const kind_names[RR_MEASURE_N_KINDS] = {
  "length", "bidirectional", "ellipse", "freehand", "angle", "probe", "arrow",
};

static const char *const calibration_names[] = {
  "patient", "detector", "ultrasound", "none",
};

static const char *const slab_names[] = { "none", "mip", "minip", "mean" };

const char *
rr_measure_kind_to_string (RrMeasureKind kind)
{
  return kind < RR_MEASURE_N_KINDS ? kind_names[kind] : "unknown";
}

gboolean
rr_measure_kind_from_string (const char    *s,
                             RrMeasureKind *kind)
{
  for (guint i = 0; i < RR_MEASURE_N_KINDS; i++)
    if (g_strcmp0 (s, kind_names[i]) == 0)
      {
        *kind = i;
        return TRUE;
      }
  return FALSE;
}

guint
rr_measure_kind_min_points (RrMeasureKind kind)
{
  static const guint n[RR_MEASURE_N_KINDS] = { 2, 4, 3, 3, 3, 1, 2 };
  return kind < RR_MEASURE_N_KINDS ? n[kind] : 1;
}

/* Normalised, but a unit vector is kept bit for bit (JSON round trips). */
static RrVec3
unit (RrVec3 v)
{
  return fabs (rr_vec3_length (v) - 1) < 1e-12 ? v : rr_vec3_normalize (v);
}

RrMeasurement *
rr_measurement_new (RrMeasureKind  kind,
                    const RrPlane *plane,
                    const RrVec3  *points,
                    guint          n_points)
{
  RrMeasurement *m = g_new0 (RrMeasurement, 1);
  m->id = g_uuid_string_random ();
  m->kind = kind;
  m->points = g_array_sized_new (FALSE, FALSE, sizeof (RrVec3), n_points);
  m->plane_center = plane->center;
  m->plane_right = unit (plane->right);
  m->plane_down = unit (plane->down);
  m->slab_mode = plane->slab_mode;
  m->slab_mm = plane->slab_mode != RR_SLAB_NONE ? plane->slab_mm : 0;
  m->created_us = g_get_real_time ();
  for (guint i = 0; i < n_points; i++)
    {
      g_array_append_val (m->points, points[i]);
      rr_measurement_set_point (m, i, points[i]);
    }
  return m;
}

RrMeasurement *
rr_measurement_copy (const RrMeasurement *m)
{
  RrMeasurement *c = g_memdup2 (m, sizeof *m);
  c->id = g_strdup (m->id);
  c->points = g_array_copy (m->points);
  c->series_uid = g_strdup (m->series_uid);
  c->sop_uid = g_strdup (m->sop_uid);
  c->text = g_strdup (m->text);
  return c;
}

void
rr_measurement_free (RrMeasurement *m)
{
  if (m == NULL)
    return;
  g_free (m->id);
  g_array_unref (m->points);
  g_free (m->series_uid);
  g_free (m->sop_uid);
  g_free (m->text);
  g_free (m);
}

RrVec3
rr_measurement_normal (const RrMeasurement *m)
{
  return rr_vec3_normalize (rr_vec3_cross (m->plane_right, m->plane_down));
}

static RrVec3
project (const RrMeasurement *m,
         RrVec3               p)
{
  RrVec3 n = rr_measurement_normal (m);
  return rr_vec3_sub (p, rr_vec3_scale (n, rr_vec3_dot (rr_vec3_sub (p, m->plane_center), n)));
}

void
rr_measurement_set_point (RrMeasurement *m,
                          guint          i,
                          RrVec3         p)
{
  g_return_if_fail (i < m->points->len);
  g_array_index (m->points, RrVec3, i) = project (m, p);
}

RrVec3
rr_measurement_center (const RrMeasurement *m)
{
  RrVec3 c = { 0, 0, 0 };
  if (m->kind == RR_MEASURE_ELLIPSE || m->points->len == 0)
    return m->points->len ? rr_measurement_point (m, 0) : m->plane_center;
  for (guint i = 0; i < m->points->len; i++)
    c = rr_vec3_add (c, rr_measurement_point (m, i));
  return rr_vec3_scale (c, 1.0 / m->points->len);
}

void
rr_measurement_set_source (RrMeasurement  *m,
                           const RrVolume *v)
{
  RrVec3 n = rr_measurement_normal (m);
  double d, tol;
  guint best = 0;

  g_free (m->series_uid);
  g_free (m->sop_uid);
  m->series_uid = g_strdup (v->series_uid);
  m->sop_uid = NULL;
  m->frame = 0;
  m->calibration = v->calibration;
  if (m->slab_mode != RR_SLAB_NONE || fabs (rr_vec3_dot (n, v->normal)) < 0.99999)
    return;
  d = rr_vec3_dot (m->plane_center, v->normal);
  for (guint k = 1; k < v->dims[2]; k++)
    if (fabs (v->slice_d[k] - d) < fabs (v->slice_d[best] - d))
      best = k;
  tol = v->dims[2] > 1 ? 0.1 * v->spacing[2] : 0.01;
  if (fabs (v->slice_d[best] - d) <= tol && v->slice_sop[best] != NULL)
    {
      m->sop_uid = g_strdup (v->slice_sop[best]);
      m->frame = v->slice_frame[best];
    }
}

/* ---- editing ---- */

typedef struct
{
  RrVec3 dir, perp;        /* unit long axis a->b, and n x dir */
  double length;           /* |b - a| */
  double t;                /* where the short axis crosses, 0..1 along a->b */
  double c, d;             /* the short axis' ends on the +perp and -perp sides */
} Bidi;

static void
bidi_get (const RrMeasurement *m,
          Bidi                *b)
{
  RrVec3 pa = rr_measurement_point (m, 0), pb = rr_measurement_point (m, 1);
  RrVec3 pc = rr_measurement_point (m, 2), pd = rr_measurement_point (m, 3);
  RrVec3 l = rr_vec3_sub (pb, pa), mid, x;

  b->length = rr_vec3_length (l);
  b->dir = b->length > 0 ? rr_vec3_scale (l, 1 / b->length) : m->plane_right;
  b->perp = rr_vec3_normalize (rr_vec3_cross (rr_measurement_normal (m), b->dir));
  mid = rr_vec3_scale (rr_vec3_add (pc, pd), 0.5);
  b->t = b->length > 0 ? CLAMP (rr_vec3_dot (rr_vec3_sub (mid, pa), b->dir) / b->length, 0, 1)
                       : 0.5;
  x = rr_vec3_add (pa, rr_vec3_scale (l, b->t));
  b->c = MAX (0, rr_vec3_dot (rr_vec3_sub (pc, x), b->perp));
  b->d = MAX (0, -rr_vec3_dot (rr_vec3_sub (pd, x), b->perp));
}

/* Places c and d from a and b and the shape's parameters. */
static void
bidi_put (RrMeasurement *m,
          const Bidi    *b)
{
  RrVec3 pa = rr_measurement_point (m, 0), pb = rr_measurement_point (m, 1);
  RrVec3 l = rr_vec3_sub (pb, pa);
  RrVec3 dir = rr_vec3_normalize (l);
  RrVec3 perp = rr_vec3_normalize (rr_vec3_cross (rr_measurement_normal (m), dir));
  RrVec3 x = rr_vec3_add (pa, rr_vec3_scale (l, b->t));

  g_array_index (m->points, RrVec3, 2) = rr_vec3_add (x, rr_vec3_scale (perp, b->c));
  g_array_index (m->points, RrVec3, 3) = rr_vec3_sub (x, rr_vec3_scale (perp, b->d));
}

/* When the short axis outgrows the long one the two trade places: the old
 * short axis c->d becomes the long axis, the old long axis its short one
 * (b on the new +perp side, which is the old a->b direction). */
static guint
bidi_swap_if_needed (RrMeasurement *m,
                     guint          handle)
{
  static const guint map[4] = { 3, 2, 0, 1 };
  RrVec3 pa = rr_measurement_point (m, 0), pb = rr_measurement_point (m, 1);
  RrVec3 pc = rr_measurement_point (m, 2), pd = rr_measurement_point (m, 3);

  if (rr_vec3_length (rr_vec3_sub (pd, pc)) <= rr_vec3_length (rr_vec3_sub (pb, pa)))
    return handle;
  g_array_index (m->points, RrVec3, 0) = pc;
  g_array_index (m->points, RrVec3, 1) = pd;
  g_array_index (m->points, RrVec3, 2) = pb;
  g_array_index (m->points, RrVec3, 3) = pa;
  return handle < 4 ? map[handle] : handle;
}

void
rr_measurement_init_bidirectional (RrMeasurement *m,
                                   RrVec3         a,
                                   RrVec3         b)
{
  Bidi s = { .t = 0.5 };
  RrVec3 zero = { 0, 0, 0 };

  g_array_set_size (m->points, 4);
  g_array_index (m->points, RrVec3, 0) = project (m, a);
  g_array_index (m->points, RrVec3, 1) = project (m, b);
  g_array_index (m->points, RrVec3, 2) = zero;
  g_array_index (m->points, RrVec3, 3) = zero;
  /* Both short-axis ends at the crossing: the reader has not measured a
   * short axis, and a size made up from the long one (a node's size is
   * its short axis) must never reach a form. */
  s.c = s.d = 0;
  bidi_put (m, &s);
}

gboolean
rr_measurement_has_short_axis (const RrMeasurement *m)
{
  if (m->kind != RR_MEASURE_BIDIRECTIONAL || m->points->len < 4)
    return FALSE;
  return rr_vec3_length (rr_vec3_sub (rr_measurement_point (m, 3),
                                      rr_measurement_point (m, 2))) >= RR_SHORT_AXIS_MIN_MM;
}

static guint
move_bidi (RrMeasurement *m,
           guint          i,
           RrVec3         p)
{
  Bidi b;
  RrVec3 pa, x;
  double s;

  bidi_get (m, &b);
  if (i < 2)
    {
      RrVec3 other = rr_measurement_point (m, 1 - i);
      if (rr_vec3_length (rr_vec3_sub (p, other)) < 1e-3)
        return i;  /* a long axis needs two ends */
      g_array_index (m->points, RrVec3, i) = p;
    }
  else
    {
      /* The short axis slides along the long one (staying on it) and
       * grows or shrinks on the dragged side only. */
      pa = rr_measurement_point (m, 0);
      s = CLAMP (rr_vec3_dot (rr_vec3_sub (p, pa), b.dir), 0, b.length);
      x = rr_vec3_add (pa, rr_vec3_scale (b.dir, s));
      b.t = b.length > 0 ? s / b.length : 0.5;
      /* A short axis not yet measured has both ends at the crossing: the
       * end grabbed goes to the side the pointer is on, the other stays
       * for the reader to place. */
      if (b.c + b.d < RR_SHORT_AXIS_MIN_MM)
        i = rr_vec3_dot (rr_vec3_sub (p, x), b.perp) >= 0 ? 2 : 3;
      if (i == 2)
        b.c = MAX (0, rr_vec3_dot (rr_vec3_sub (p, x), b.perp));
      else
        b.d = MAX (0, -rr_vec3_dot (rr_vec3_sub (p, x), b.perp));
    }
  bidi_put (m, &b);
  return bidi_swap_if_needed (m, i);
}

static guint
move_ellipse (RrMeasurement *m,
              guint          i,
              RrVec3         p)
{
  RrVec3 c = rr_measurement_point (m, 0), n = rr_measurement_normal (m);
  RrVec3 e1 = rr_vec3_sub (rr_measurement_point (m, 1), c);
  RrVec3 e2 = rr_vec3_sub (rr_measurement_point (m, 2), c);
  RrVec3 u, w;

  if (i == 0)
    {
      rr_measurement_translate (m, rr_vec3_sub (p, c));
      return 0;
    }
  if (i == 1)
    {
      /* The first axis follows the handle; the second turns with it and
       * keeps its length. */
      u = rr_vec3_sub (p, c);
      if (rr_vec3_length (u) < 1e-3)
        return i;
      w = rr_vec3_normalize (rr_vec3_cross (n, u));
      if (rr_vec3_dot (w, e2) < 0)
        w = rr_vec3_scale (w, -1);
      g_array_index (m->points, RrVec3, 1) = p;
      g_array_index (m->points, RrVec3, 2) = rr_vec3_add (c, rr_vec3_scale (w, rr_vec3_length (e2)));
      return i;
    }
  /* The second axis keeps its direction, perpendicular to the first. */
  w = rr_vec3_normalize (rr_vec3_cross (n, e1));
  {
    double len = fabs (rr_vec3_dot (rr_vec3_sub (p, c), w));
    if (len < 1e-3)
      return i;
    if (rr_vec3_dot (w, rr_vec3_sub (p, c)) < 0)
      w = rr_vec3_scale (w, -1);
    g_array_index (m->points, RrVec3, 2) = rr_vec3_add (c, rr_vec3_scale (w, len));
  }
  return i;
}

guint
rr_measurement_move_handle (RrMeasurement *m,
                            guint          i,
                            RrVec3         p)
{
  g_return_val_if_fail (i < m->points->len, i);
  p = project (m, p);
  switch (m->kind)
    {
    case RR_MEASURE_BIDIRECTIONAL:
      return move_bidi (m, i, p);
    case RR_MEASURE_ELLIPSE:
      return move_ellipse (m, i, p);
    default:
      g_array_index (m->points, RrVec3, i) = p;
      return i;
    }
}

void
rr_measurement_translate (RrMeasurement *m,
                          RrVec3         d)
{
  RrVec3 n = rr_measurement_normal (m);
  d = rr_vec3_sub (d, rr_vec3_scale (n, rr_vec3_dot (d, n)));
  for (guint i = 0; i < m->points->len; i++)
    g_array_index (m->points, RrVec3, i) = rr_vec3_add (rr_measurement_point (m, i), d);
}

GArray *
rr_measurement_outline (const RrMeasurement *m,
                        guint                n)
{
  GArray *out = g_array_sized_new (FALSE, FALSE, sizeof (RrVec3), n);
  if (m->kind != RR_MEASURE_ELLIPSE)
    {
      g_array_append_vals (out, m->points->data, m->points->len);
      return out;
    }
  RrVec3 c = rr_measurement_point (m, 0);
  RrVec3 e1 = rr_vec3_sub (rr_measurement_point (m, 1), c);
  RrVec3 e2 = rr_vec3_sub (rr_measurement_point (m, 2), c);
  for (guint k = 0; k < n; k++)
    {
      double a = 2 * G_PI * k / n;
      RrVec3 p = rr_vec3_add (c, rr_vec3_add (rr_vec3_scale (e1, cos (a)), rr_vec3_scale (e2, sin (a))));
      g_array_append_val (out, p);
    }
  return out;
}

/* ---- values ---- */

/* In-plane coordinates of a point: along right and down from the centre. */
static void
plane_uv (const RrMeasurement *m,
          RrVec3               p,
          double              *u,
          double              *v)
{
  RrVec3 r = rr_vec3_sub (p, m->plane_center);
  *u = rr_vec3_dot (r, m->plane_right);
  *v = rr_vec3_dot (r, m->plane_down);
}

static gboolean
inside_polygon (const double *uv,
                guint         n,
                double        u,
                double        v)
{
  gboolean in = FALSE;
  for (guint i = 0, j = n - 1; i < n; j = i++)
    {
      double ui = uv[2 * i], vi = uv[2 * i + 1], uj = uv[2 * j], vj = uv[2 * j + 1];
      if ((vi > v) != (vj > v) && u < (uj - ui) * (v - vi) / (vj - vi) + ui)
        in = !in;
    }
  return in;
}

/* The sampling step along a plane axis: the voxel spacing when the axis
 * runs along a voxel axis (so the samples are the voxels themselves on an
 * acquired slice), otherwise the finest spacing. */
static double
axis_step (const RrVolume *v,
           RrVec3          axis)
{
  if (fabs (rr_vec3_dot (axis, v->row_dir)) > 0.99999)
    return v->spacing[0];
  if (fabs (rr_vec3_dot (axis, v->col_dir)) > 0.99999)
    return v->spacing[1];
  if (fabs (rr_vec3_dot (axis, v->normal)) > 0.99999)
    return v->spacing[2];
  return MIN (MIN (v->spacing[0], v->spacing[1]), v->spacing[2]);
}

/* Statistics of the values inside the ROI, sampled on the measurement's
 * plane (and slab) with the reference reslicer. */
static void
roi_stats (const RrMeasurement *m,
           const RrVolume      *vol,
           RrMeasureValues     *out)
{
  g_autoptr (GArray) outline = rr_measurement_outline (m, 256);
  guint n = outline->len;
  g_autofree double *uv = g_new (double, 2 * n);
  double umin = G_MAXDOUBLE, umax = -G_MAXDOUBLE, vmin = G_MAXDOUBLE, vmax = -G_MAXDOUBLE;
  double su = axis_step (vol, m->plane_right), sv = axis_step (vol, m->plane_down);
  double u0, v0, mean = 0, m2 = 0, lo = G_MAXDOUBLE, hi = -G_MAXDOUBLE, scale;
  double ec_u = 0, ec_v = 0, e1u = 0, e1v = 0, e2u = 0, e2v = 0, a2 = 0, b2 = 0;
  gint64 i0, i1, j0, j1;
  guint count = 0;
  RrVec3 anchor = rr_volume_voxel_to_patient (vol, 0, 0, 0);

  for (guint k = 0; k < n; k++)
    {
      plane_uv (m, g_array_index (outline, RrVec3, k), &uv[2 * k], &uv[2 * k + 1]);
      umin = MIN (umin, uv[2 * k]), umax = MAX (umax, uv[2 * k]);
      vmin = MIN (vmin, uv[2 * k + 1]), vmax = MAX (vmax, uv[2 * k + 1]);
    }
  if (m->kind == RR_MEASURE_ELLIPSE)
    {
      /* The exact ellipse, not its 256-gon, decides what is inside. */
      plane_uv (m, rr_measurement_point (m, 0), &ec_u, &ec_v);
      plane_uv (m, rr_measurement_point (m, 1), &e1u, &e1v);
      plane_uv (m, rr_measurement_point (m, 2), &e2u, &e2v);
      e1u -= ec_u, e1v -= ec_v, e2u -= ec_u, e2v -= ec_v;
      a2 = e1u * e1u + e1v * e1v;
      b2 = e2u * e2u + e2v * e2v;
      if (a2 <= 0 || b2 <= 0)
        return;
    }
  /* A grid through the voxel centres, bounded to a few million samples. */
  while ((umax - umin) / su * (vmax - vmin) / sv > 4e6)
    su *= 2, sv *= 2;
  plane_uv (m, anchor, &u0, &v0);
  i0 = (gint64) ceil ((umin - u0) / su), i1 = (gint64) floor ((umax - u0) / su);
  j0 = (gint64) ceil ((vmin - v0) / sv), j1 = (gint64) floor ((vmax - v0) / sv);
  if (i1 < i0 || j1 < j0)
    return;

  guint width = (guint) (i1 - i0 + 1);
  g_autofree float *row = g_new (float, width);
  scale = rr_volume_display_scale (vol, &out->units);
  for (gint64 j = j0; j <= j1; j++)
    {
      double v = v0 + j * sv, ufirst = u0 + i0 * su;
      RrPlane pl = { 0 };
      pl.right = m->plane_right;
      pl.down = m->plane_down;
      pl.mm_per_pixel = su;
      pl.width = width;
      pl.height = 1;
      pl.slab_mode = m->slab_mode;
      pl.slab_mm = m->slab_mm;
      pl.center = rr_vec3_add (m->plane_center,
                               rr_vec3_add (rr_vec3_scale (m->plane_right,
                                                           ufirst + (width - 1) / 2.0 * su),
                                            rr_vec3_scale (m->plane_down, v)));
      rr_reslice (vol, &pl, NAN, 1, row);
      for (guint x = 0; x < width; x++)
        {
          double u = ufirst + x * su, val, delta;
          gboolean in;
          if (m->kind == RR_MEASURE_ELLIPSE)
            {
              double du = u - ec_u, dv = v - ec_v;
              double p1 = (du * e1u + dv * e1v) / a2, p2 = (du * e2u + dv * e2v) / b2;
              in = p1 * p1 + p2 * p2 <= 1 + 1e-9;
            }
          else
            in = inside_polygon (uv, n, u, v);
          if (!in || !isfinite (row[x]))
            continue;
          val = row[x] * scale;
          count++;
          delta = val - mean;
          mean += delta / count;
          m2 += delta * (val - mean);
          lo = MIN (lo, val), hi = MAX (hi, val);
        }
    }
  if (count == 0)
    return;
  out->has_stats = TRUE;
  out->n_samples = count;
  out->mean = mean;
  out->sd = count > 1 ? sqrt (m2 / (count - 1)) : 0;
  out->min = lo;
  out->max = hi;
}

void
rr_measurement_compute (const RrMeasurement *m,
                        const RrVolume      *volume,
                        RrMeasureValues     *out)
{
  guint n = m->points->len;

  memset (out, 0, sizeof *out);
  out->units = "";
  out->calibrated = m->calibration != RR_CALIBRATION_NONE;
  if (n < rr_measure_kind_min_points (m->kind))
    return;
  switch (m->kind)
    {
    case RR_MEASURE_LENGTH:
    case RR_MEASURE_ARROW:
      out->length = rr_vec3_length (rr_vec3_sub (rr_measurement_point (m, 1),
                                                 rr_measurement_point (m, 0)));
      break;
    case RR_MEASURE_BIDIRECTIONAL:
      out->length = rr_vec3_length (rr_vec3_sub (rr_measurement_point (m, 1),
                                                 rr_measurement_point (m, 0)));
      out->width = rr_vec3_length (rr_vec3_sub (rr_measurement_point (m, 3),
                                                rr_measurement_point (m, 2)));
      break;
    case RR_MEASURE_ELLIPSE:
      {
        RrVec3 c = rr_measurement_point (m, 0);
        double a = rr_vec3_length (rr_vec3_sub (rr_measurement_point (m, 1), c));
        double b = rr_vec3_length (rr_vec3_sub (rr_measurement_point (m, 2), c));
        out->length = 2 * MAX (a, b);
        out->width = 2 * MIN (a, b);
        out->area = G_PI * a * b;
      }
      break;
    case RR_MEASURE_FREEHAND:
      {
        double area = 0, perimeter = 0;
        for (guint i = 0, j = n - 1; i < n; j = i++)
          {
            double ui, vi, uj, vj;
            plane_uv (m, rr_measurement_point (m, i), &ui, &vi);
            plane_uv (m, rr_measurement_point (m, j), &uj, &vj);
            area += uj * vi - ui * vj;
            perimeter += hypot (ui - uj, vi - vj);
          }
        out->area = fabs (area) / 2;
        out->length = perimeter;
      }
      break;
    case RR_MEASURE_ANGLE:
      {
        RrVec3 v = rr_measurement_point (m, 1);
        RrVec3 a = rr_vec3_sub (rr_measurement_point (m, 0), v);
        RrVec3 b = rr_vec3_sub (rr_measurement_point (m, 2), v);
        double la = rr_vec3_length (a), lb = rr_vec3_length (b);
        if (la > 0 && lb > 0)
          out->angle_deg = acos (CLAMP (rr_vec3_dot (a, b) / (la * lb), -1, 1)) * 180 / G_PI;
      }
      break;
    case RR_MEASURE_PROBE:
      if (volume)
        {
          RrPlane pl = { 0 };
          float value;
          double scale = rr_volume_display_scale (volume, &out->units);
          pl.center = rr_measurement_point (m, 0);
          pl.right = m->plane_right;
          pl.down = m->plane_down;
          pl.mm_per_pixel = 1;
          pl.width = pl.height = 1;
          pl.slab_mode = m->slab_mode;
          pl.slab_mm = m->slab_mm;
          rr_reslice (volume, &pl, NAN, 1, &value);
          if (isfinite (value))
            {
              out->has_stats = TRUE;
              out->n_samples = 1;
              out->mean = out->min = out->max = value * scale;
            }
        }
      break;
    default:
      break;
    }
  if (volume && (m->kind == RR_MEASURE_ELLIPSE || m->kind == RR_MEASURE_FREEHAND))
    roi_stats (m, volume, out);
}

/* ---- JSON ---- */

static void
write_vec (RrJsonWriter *w,
           RrVec3        p)
{
  rr_json_begin_array (w);
  rr_json_double (w, p.x);
  rr_json_double (w, p.y);
  rr_json_double (w, p.z);
  rr_json_end_array (w);
}

char *
rr_measurement_to_json (const RrMeasurement *m)
{
  g_autoptr (RrJsonWriter) w = rr_json_writer_new (FALSE);

  rr_json_begin_object (w);
  rr_json_key (w, "id");
  rr_json_string (w, m->id);
  rr_json_key (w, "kind");
  rr_json_string (w, rr_measure_kind_to_string (m->kind));
  rr_json_key (w, "points");
  rr_json_begin_array (w);
  for (guint i = 0; i < m->points->len; i++)
    write_vec (w, rr_measurement_point (m, i));
  rr_json_end_array (w);
  rr_json_key (w, "plane");
  rr_json_begin_object (w);
  rr_json_key (w, "center");
  write_vec (w, m->plane_center);
  rr_json_key (w, "right");
  write_vec (w, m->plane_right);
  rr_json_key (w, "down");
  write_vec (w, m->plane_down);
  rr_json_key (w, "slab");
  rr_json_string (w, slab_names[m->slab_mode]);
  rr_json_key (w, "slab_mm");
  rr_json_double (w, m->slab_mm);
  rr_json_end_object (w);
  rr_json_key (w, "series_uid");
  if (m->series_uid)
    rr_json_string (w, m->series_uid);
  else
    rr_json_null (w);
  rr_json_key (w, "sop_uid");
  if (m->sop_uid)
    rr_json_string (w, m->sop_uid);
  else
    rr_json_null (w);
  rr_json_key (w, "frame");
  rr_json_int (w, m->frame);
  rr_json_key (w, "calibration");
  rr_json_string (w, calibration_names[m->calibration]);
  if (m->text)
    {
      rr_json_key (w, "text");
      rr_json_string (w, m->text);
    }
  rr_json_key (w, "created_us");
  rr_json_int (w, m->created_us);
  rr_json_end_object (w);
  return rr_json_writer_steal (w);
}

static gboolean
fail (GError    **error,
      const char *what)
{
  g_set_error (error, RR_CORE_ERROR, RR_CORE_ERROR_INVALID, "measurement: %s", what);
  return FALSE;
}

static gboolean
read_vec (JsonNode *n,
          RrVec3   *out)
{
  JsonArray *a;
  double v[3];

  if (n == NULL || !JSON_NODE_HOLDS_ARRAY (n))
    return FALSE;
  a = json_node_get_array (n);
  if (json_array_get_length (a) != 3)
    return FALSE;
  for (guint i = 0; i < 3; i++)
    {
      JsonNode *e = json_array_get_element (a, i);
      if (json_node_get_value_type (e) != G_TYPE_DOUBLE &&
          json_node_get_value_type (e) != G_TYPE_INT64)
        return FALSE;
      v[i] = json_node_get_double (e);
      if (!isfinite (v[i]) || fabs (v[i]) > 1e7)
        return FALSE;
    }
  *out = rr_vec3 (v[0], v[1], v[2]);
  return TRUE;
}

static const char *
opt_string (JsonObject *o,
            const char *member,
            gboolean   *ok)
{
  JsonNode *n = json_object_get_member (o, member);
  if (n == NULL || JSON_NODE_HOLDS_NULL (n))
    return NULL;
  if (json_node_get_value_type (n) != G_TYPE_STRING || strlen (json_node_get_string (n)) > 4096)
    {
      *ok = FALSE;
      return NULL;
    }
  return json_node_get_string (n);
}

static gboolean
pick (const char *const *names,
      guint              n,
      const char        *s,
      guint             *out)
{
  for (guint i = 0; i < n; i++)
    if (g_strcmp0 (names[i], s) == 0)
      {
        *out = i;
        return TRUE;
      }
  return FALSE;
}

RrMeasurement *
rr_measurement_from_json (const char  *json,
                          GError     **error)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (RrMeasurement) m = NULL;
  JsonObject *o, *plane;
  JsonNode *n;
  JsonArray *pts;
  RrMeasureKind kind;
  RrPlane pl = { 0 };
  const char *s;
  guint v;
  gboolean ok = TRUE;

  if (json == NULL || strlen (json) > 4 << 20)
    return fail (error, "missing or larger than 4 MiB"), NULL;
  if (!json_parser_load_from_data (parser, json, -1, error))
    return NULL;
  n = json_parser_get_root (parser);
  if (n == NULL || !JSON_NODE_HOLDS_OBJECT (n))
    return fail (error, "not a JSON object"), NULL;
  o = json_node_get_object (n);

  s = opt_string (o, "kind", &ok);
  if (!ok || !rr_measure_kind_from_string (s, &kind))
    return fail (error, "unknown kind"), NULL;
  n = json_object_get_member (o, "plane");
  if (n == NULL || !JSON_NODE_HOLDS_OBJECT (n))
    return fail (error, "no plane"), NULL;
  plane = json_node_get_object (n);
  if (!read_vec (json_object_get_member (plane, "center"), &pl.center) ||
      !read_vec (json_object_get_member (plane, "right"), &pl.right) ||
      !read_vec (json_object_get_member (plane, "down"), &pl.down))
    return fail (error, "the plane needs centre, right and down as three numbers each"), NULL;
  if (rr_vec3_length (pl.right) < 0.5 || rr_vec3_length (pl.down) < 0.5 ||
      fabs (rr_vec3_dot (rr_vec3_normalize (pl.right), rr_vec3_normalize (pl.down))) > 1e-3)
    return fail (error, "the plane's axes are not two orthogonal directions"), NULL;
  s = opt_string (plane, "slab", &ok);
  if (s && pick (slab_names, G_N_ELEMENTS (slab_names), s, &v))
    pl.slab_mode = v;
  else if (s || !ok)
    return fail (error, "unknown slab mode"), NULL;
  if ((n = json_object_get_member (plane, "slab_mm")) && JSON_NODE_HOLDS_VALUE (n))
    {
      pl.slab_mm = json_node_get_double (n);
      if (!isfinite (pl.slab_mm) || pl.slab_mm < 0 || pl.slab_mm > 1000)
        return fail (error, "slab thickness out of range"), NULL;
    }

  n = json_object_get_member (o, "points");
  if (n == NULL || !JSON_NODE_HOLDS_ARRAY (n))
    return fail (error, "no points"), NULL;
  pts = json_node_get_array (n);
  if (json_array_get_length (pts) < rr_measure_kind_min_points (kind) ||
      json_array_get_length (pts) > RR_MEASUREMENT_MAX_POINTS ||
      (kind != RR_MEASURE_FREEHAND &&
       json_array_get_length (pts) != rr_measure_kind_min_points (kind)))
    return fail (error, "wrong number of points for its kind"), NULL;
  m = rr_measurement_new (kind, &pl, NULL, 0);
  for (guint i = 0; i < json_array_get_length (pts); i++)
    {
      RrVec3 p;
      if (!read_vec (json_array_get_element (pts, i), &p))
        return fail (error, "a point is not three finite numbers"), NULL;
      g_array_append_val (m->points, p);
    }

  s = opt_string (o, "id", &ok);
  if (!ok || s == NULL || *s == '\0' || strlen (s) > 64)
    return fail (error, "the id must be a string of 1 to 64 characters"), NULL;
  g_free (m->id);
  m->id = g_strdup (s);
  m->series_uid = g_strdup (opt_string (o, "series_uid", &ok));
  m->sop_uid = g_strdup (opt_string (o, "sop_uid", &ok));
  m->text = g_strdup (opt_string (o, "text", &ok));
  s = opt_string (o, "calibration", &ok);
  if (!ok)
    return fail (error, "a text field is not a string"), NULL;
  if (s && pick (calibration_names, G_N_ELEMENTS (calibration_names), s, &v))
    m->calibration = v;
  else if (s)
    return fail (error, "unknown calibration"), NULL;
  if ((n = json_object_get_member (o, "frame")) && JSON_NODE_HOLDS_VALUE (n))
    {
      gint64 f = json_node_get_int (n);
      if (json_node_get_value_type (n) != G_TYPE_INT64 || f < 0 || f > G_MAXINT32)
        return fail (error, "frame out of range"), NULL;
      m->frame = (guint) f;
    }
  if ((n = json_object_get_member (o, "created_us")) && JSON_NODE_HOLDS_VALUE (n))
    m->created_us = json_node_get_int (n);
  return g_steal_pointer (&m);
}
