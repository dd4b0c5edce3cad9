/* rr-reslice.c: trilinear resampling of a volume on a plane, with slabs.
 * Regular volumes step incrementally in voxel space; stacks with uneven
 * spacing map each sample through the exact slice positions. */
#include "rr-reslice.h"

#include <math.h>
#include <string.h>

void
rr_plane_init_standard (RrPlane     *plane,
                        RrPlaneKind  kind,
                        RrVec3       center,
                        double       mm_per_pixel,
                        guint        width,
                        guint        height)
{
  memset (plane, 0, sizeof *plane);
  plane->center = center;
  plane->mm_per_pixel = mm_per_pixel;
  plane->width = width;
  plane->height = height;
  switch (kind)
    {
    case RR_PLANE_AXIAL:     /* from the feet: patient right on the left, anterior up */
      plane->right = rr_vec3 (1, 0, 0);
      plane->down = rr_vec3 (0, 1, 0);
      break;
    case RR_PLANE_CORONAL:   /* from the front: patient right on the left, superior up */
      plane->right = rr_vec3 (1, 0, 0);
      plane->down = rr_vec3 (0, 0, -1);
      break;
    case RR_PLANE_SAGITTAL:  /* from the patient's left: anterior on the left, superior up */
      plane->right = rr_vec3 (0, 1, 0);
      plane->down = rr_vec3 (0, 0, -1);
      break;
    }
}

gboolean
rr_plane_init_oblique (RrPlane *plane,
                       RrVec3   normal,
                       RrVec3   up,
                       RrVec3   center,
                       double   mm_per_pixel,
                       guint    width,
                       guint    height)
{
  RrVec3 n = rr_vec3_normalize (normal);
  RrVec3 u = rr_vec3_sub (up, rr_vec3_scale (n, rr_vec3_dot (up, n)));

  if (rr_vec3_length (n) < 0.5 || rr_vec3_length (u) < 1e-6)
    return FALSE;
  memset (plane, 0, sizeof *plane);
  plane->center = center;
  plane->mm_per_pixel = mm_per_pixel;
  plane->width = width;
  plane->height = height;
  plane->down = rr_vec3_scale (rr_vec3_normalize (u), -1);
  /* right x down = normal, so right = down x normal. */
  plane->right = rr_vec3_cross (plane->down, n);
  return TRUE;
}

RrVec3
rr_plane_normal (const RrPlane *plane)
{
  return rr_vec3_cross (plane->right, plane->down);
}

RrVec3
rr_plane_pixel_to_patient (const RrPlane *plane,
                           double         x,
                           double         y)
{
  double dx = (x + 0.5 - plane->width / 2.0) * plane->mm_per_pixel;
  double dy = (y + 0.5 - plane->height / 2.0) * plane->mm_per_pixel;
  return rr_vec3_add (plane->center, rr_vec3_add (rr_vec3_scale (plane->right, dx),
                                                  rr_vec3_scale (plane->down, dy)));
}

double
rr_plane_fit_mm_per_pixel (const RrPlane  *plane,
                           const RrVolume *v)
{
  double ext_x = 0, ext_y = 0;
  /* Project the eight corners on the image axes. */
  double lo_x = G_MAXDOUBLE, hi_x = -G_MAXDOUBLE, lo_y = G_MAXDOUBLE, hi_y = -G_MAXDOUBLE;
  for (int c = 0; c < 8; c++)
    {
      RrVec3 p = rr_volume_voxel_to_patient (v, (c & 1) ? v->dims[0] - 0.5 : -0.5,
                                             (c & 2) ? v->dims[1] - 0.5 : -0.5,
                                             (c & 4) ? v->dims[2] - 0.5 : -0.5);
      double x = rr_vec3_dot (p, plane->right), y = rr_vec3_dot (p, plane->down);
      lo_x = MIN (lo_x, x), hi_x = MAX (hi_x, x);
      lo_y = MIN (lo_y, y), hi_y = MAX (hi_y, y);
    }
  ext_x = hi_x - lo_x;
  ext_y = hi_y - lo_y;
  return MAX (MAX (ext_x / MAX (plane->width, 1u), ext_y / MAX (plane->height, 1u)), 1e-3);
}

char *
rr_orientation_label (RrVec3 d)
{
  struct
  {
    double mag;
    char c;
  } parts[3] = {
    { fabs (d.x), d.x > 0 ? 'L' : 'R' },
    { fabs (d.y), d.y > 0 ? 'P' : 'A' },
    { fabs (d.z), d.z > 0 ? 'S' : 'I' },
  };
  GString *s = g_string_new (NULL);
  /* Sort by magnitude, largest first. */
  for (int a = 0; a < 3; a++)
    for (int b = a + 1; b < 3; b++)
      if (parts[b].mag > parts[a].mag)
        {
          typeof (parts[0]) t = parts[a];
          parts[a] = parts[b];
          parts[b] = t;
        }
  for (int a = 0; a < 3; a++)
    if (a == 0 || parts[a].mag >= 0.3)
      g_string_append_c (s, parts[a].c);
  return g_string_free (s, FALSE);
}

static inline float
voxel (const RrVolume *v, gsize idx)
{
  switch (v->type)
    {
    case RR_VOXEL_INT16:
      return ((const gint16 *) v->voxels)[idx];
    case RR_VOXEL_FLOAT32:
      return ((const float *) v->voxels)[idx];
    default:
      {
        const guint8 *p = (const guint8 *) v->voxels + idx * 3;
        return 0.299f * p[0] + 0.587f * p[1] + 0.114f * p[2];
      }
    }
}

/* Trilinear sample at continuous voxel coordinates (voxel centres at
 * integers); NAN outside. */
static inline float
sample (const RrVolume *v, double i, double j, double k)
{
  const guint nx = v->dims[0], ny = v->dims[1], nz = v->dims[2];
  double fi, fj, fk;
  int i0, j0, k0, i1, j1, k1;
  gsize sx = 1, sy = nx, sz = (gsize) nx * ny;

  if (i < -0.5 || j < -0.5 || k < -0.5 || i > nx - 0.5 || j > ny - 0.5 || k > nz - 0.5)
    return NAN;
  /* Clamp to the outer voxel centres: the half voxel at the border holds
   * the border value. */
  i = CLAMP (i, 0, nx - 1);
  j = CLAMP (j, 0, ny - 1);
  k = CLAMP (k, 0, nz - 1);
  i0 = (int) i, j0 = (int) j, k0 = (int) k;
  i1 = MIN (i0 + 1, (int) nx - 1);
  j1 = MIN (j0 + 1, (int) ny - 1);
  k1 = MIN (k0 + 1, (int) nz - 1);
  fi = i - i0, fj = j - j0, fk = k - k0;
  if (v->type == RR_VOXEL_INT16)
    {
      const gint16 *d = v->voxels;
      gsize b = k0 * sz + j0 * sy + i0 * sx;
      gsize di = (gsize) (i1 - i0), dj = (gsize) (j1 - j0) * sy, dk = (gsize) (k1 - k0) * sz;
      float c00 = d[b] + (d[b + di] - d[b]) * (float) fi;
      float c10 = d[b + dj] + (d[b + dj + di] - d[b + dj]) * (float) fi;
      float c01 = d[b + dk] + (d[b + dk + di] - d[b + dk]) * (float) fi;
      float c11 = d[b + dk + dj] + (d[b + dk + dj + di] - d[b + dk + dj]) * (float) fi;
      float c0 = c00 + (c10 - c00) * (float) fj;
      float c1 = c01 + (c11 - c01) * (float) fj;
      return c0 + (c1 - c0) * (float) fk;
    }
  else
    {
      gsize b = k0 * sz + j0 * sy + i0 * sx;
      gsize di = (gsize) (i1 - i0), dj = (gsize) (j1 - j0) * sy, dk = (gsize) (k1 - k0) * sz;
      float c00 = voxel (v, b) + (voxel (v, b + di) - voxel (v, b)) * (float) fi;
      float c10 = voxel (v, b + dj) + (voxel (v, b + dj + di) - voxel (v, b + dj)) * (float) fi;
      float c01 = voxel (v, b + dk) + (voxel (v, b + dk + di) - voxel (v, b + dk)) * (float) fi;
      float c11 = voxel (v, b + dk + dj) +
                  (voxel (v, b + dk + dj + di) - voxel (v, b + dk + dj)) * (float) fi;
      float c0 = c00 + (c10 - c00) * (float) fj;
      float c1 = c01 + (c11 - c01) * (float) fj;
      return c0 + (c1 - c0) * (float) fk;
    }
}

typedef struct
{
  const RrVolume *v;
  const RrPlane *plane;
  float outside;
  float *out;
  gboolean regular;
  RrMat3 inv;
  RrVec3 origin;
  gint next_row;
} Job;

static inline float
sample_patient (const Job *job, RrVec3 p)
{
  double i, j, k;
  if (job->regular)
    {
      RrVec3 vox = rr_mat3_apply (&job->inv, rr_vec3_sub (p, job->origin));
      return sample (job->v, vox.x, vox.y, vox.z);
    }
  rr_volume_patient_to_voxel (job->v, p, &i, &j, &k);
  return sample (job->v, i, j, k);
}

static void
render_row (Job *job, guint y)
{
  const RrPlane *pl = job->plane;
  RrVec3 n = rr_plane_normal (pl);
  int n_steps = 1;
  double step = 0;
  float *row = job->out + (gsize) y * pl->width;

  if (pl->slab_mode != RR_SLAB_NONE && pl->slab_mm > 0)
    {
      /* Samples no further apart than the finest voxel spacing. */
      double fine = MIN (MIN (job->v->spacing[0], job->v->spacing[1]), job->v->spacing[2]);
      n_steps = MAX (1, (int) ceil (pl->slab_mm / MAX (fine, 1e-3))) + 1;
      step = n_steps > 1 ? pl->slab_mm / (n_steps - 1) : 0;
    }

  if (job->regular && n_steps == 1)
    {
      /* Incremental: voxel coordinates are linear along the row. */
      RrVec3 p0 = rr_plane_pixel_to_patient (pl, 0, y);
      RrVec3 v0 = rr_mat3_apply (&job->inv, rr_vec3_sub (p0, job->origin));
      RrVec3 dv = rr_mat3_apply (&job->inv, rr_vec3_scale (pl->right, pl->mm_per_pixel));
      for (guint x = 0; x < pl->width; x++)
        {
          float s = sample (job->v, v0.x + dv.x * x, v0.y + dv.y * x, v0.z + dv.z * x);
          row[x] = isnan (s) ? job->outside : s;
        }
      return;
    }

  for (guint x = 0; x < pl->width; x++)
    {
      RrVec3 p = rr_plane_pixel_to_patient (pl, x, y);
      float acc = pl->slab_mode == RR_SLAB_MINIP ? G_MAXFLOAT : -G_MAXFLOAT;
      double sum = 0;
      int count = 0;
      if (n_steps == 1)
        {
          float s = sample_patient (job, p);
          row[x] = isnan (s) ? job->outside : s;
          continue;
        }
      for (int s_i = 0; s_i < n_steps; s_i++)
        {
          RrVec3 q = rr_vec3_add (p, rr_vec3_scale (n, -pl->slab_mm / 2 + s_i * step));
          float s = sample_patient (job, q);
          if (isnan (s))
            continue;
          count++;
          sum += s;
          if (pl->slab_mode == RR_SLAB_MIP)
            acc = MAX (acc, s);
          else if (pl->slab_mode == RR_SLAB_MINIP)
            acc = MIN (acc, s);
        }
      if (count == 0)
        row[x] = job->outside;
      else if (pl->slab_mode == RR_SLAB_MEAN)
        row[x] = (float) (sum / count);
      else
        row[x] = acc;
    }
}

static gpointer
worker (gpointer data)
{
  Job *job = data;
  for (;;)
    {
      guint y = (guint) g_atomic_int_add (&job->next_row, 1);
      if (y >= job->plane->height)
        break;
      render_row (job, y);
    }
  return NULL;
}

void
rr_reslice_reference (const RrVolume *volume,
                      const RrPlane  *plane,
                      float           outside,
                      guint           n_threads,
                      float          *out)
{
  Job job = { volume, plane, outside, out, FALSE, { { { 0 } } }, { 0 }, 0 };
  GThread *threads[16];
  guint nt = n_threads ? n_threads : g_get_num_processors ();

  job.regular = rr_volume_regular_affine (volume, &job.inv, &job.origin);
  nt = CLAMP (nt, 1u, 16u);
  if (plane->width * plane->height < 4096)
    nt = 1;
  for (guint t = 1; t < nt; t++)
    threads[t] = g_thread_new ("rr-reslice", worker, &job);
  worker (&job);
  for (guint t = 1; t < nt; t++)
    g_thread_join (threads[t]);
}

void
rr_window_to_grey (const float *values,
                   gsize        n,
                   double       center,
                   double       width,
                   gboolean     invert,
                   guint8      *out)
{
  /* DICOM PS3.3 C.11.2.1.2: linear window, with the half-pixel offsets. */
  double lo = center - 0.5 - (width - 1) / 2, scale = 255.0 / MAX (width - 1, 1e-6);
  for (gsize p = 0; p < n; p++)
    {
      double t = (values[p] - lo) * scale;
      if (values[p] == RR_RESLICE_OUTSIDE)
        {
          out[p] = 0;
          continue;
        }
      guint8 g = t <= 0 ? 0 : t >= 255 ? 255 : (guint8) (t + 0.5);
      out[p] = invert ? 255 - g : g;
    }
}

/* The fast path, for volumes on a regular grid with int16 or float voxels
 * (every CT and MR the viewer shows). Along an image row the voxel
 * coordinates are linear in x, so each row is stepped in 32.32 fixed
 * point: no drift over the row and no double-to-int conversion per
 * sample. The pixels whose eight neighbours are all inside the volume form
 * one run per row; that run is found once per row and sampled without
 * bounds checks or clamps. The few pixels before and after it go through
 * sample () above, so the border half voxel and the outside value are
 * exactly the reference's. Rows are handed out in chunks so that a thread
 * walks neighbouring rows, which touch the same cache lines. */

#define FIX_ONE 4294967296.0 /* 2^32 */
#define FIX_LIMIT 1073741824.0 /* 2^30 voxels: far beyond any volume */
#define ROWS_PER_CHUNK 8
#ifndef PREFETCH_AHEAD
#define PREFETCH_AHEAD 16
#endif

typedef struct
{
  const RrVolume *v;
  const RrPlane *plane;
  float outside;
  float *out;
  RrMat3 inv;
  RrVec3 origin;
  int n_steps;
  double step;
  gint next_row;
} FastJob;

/* Whether the fixed-point position @p (one axis) has both trilinear
 * neighbours inside an axis of @n voxels: 0 <= p < n - 1. */
static inline gboolean
fix_inside (gint64 p, guint n)
{
  return p >= 0 && p < ((gint64) n - 1) << 32;
}

static inline gboolean
fix_inside3 (const gint64 p[3], const gint64 d[3], gint64 x, const guint dims[3])
{
  return fix_inside (p[0] + d[0] * x, dims[0]) && fix_inside (p[1] + d[1] * x, dims[1]) &&
         fix_inside (p[2] + d[2] * x, dims[2]);
}

/* The run [*lo, *hi) of pixels whose positions p + d * x are all inside.
 * Positions are linear in x, so with both ends inside every pixel between
 * is too. The estimate in doubles is two pixels too wide on purpose: the
 * run is then cut by fix_inside3 () alone, on the very fixed-point values
 * the kernel uses, so rounding cannot take the kernel outside the volume
 * and the one test that decides it is the one the unit tests check. */
static void
interior_run (const gint64 p[3], const gint64 d[3], const guint dims[3], int width,
              int *lo, int *hi)
{
  double a = 0, b = width;
  for (int ax = 0; ax < 3; ax++)
    {
      double p0 = p[ax] / FIX_ONE, dv = d[ax] / FIX_ONE, top = dims[ax] - 1.0;
      if (dims[ax] < 2)
        a = b; /* no interior along a single-voxel axis */
      else if (dv == 0)
        {
          if (p0 < 0 || p0 >= top)
            a = b;
        }
      else
        {
          double t0 = (0 - p0) / dv, t1 = (top - p0) / dv;
          a = MAX (a, ceil (MIN (t0, t1)));
          b = MIN (b, floor (MAX (t0, t1)) + 1);
        }
    }
  if (a >= b)
    {
      *lo = *hi = 0;
      return;
    }
  *lo = (int) MAX (a - 2, 0);
  *hi = (int) MIN (b + 2, width);
  while (*lo < *hi && !fix_inside3 (p, d, *lo, dims))
    (*lo)++;
  while (*hi > *lo && !fix_inside3 (p, d, *hi - 1, dims))
    (*hi)--;
}

#define INTERIOR_KERNEL(T)                                                     \
  do                                                                           \
    {                                                                          \
      const T *vox = job->v->voxels;                                           \
      gint64 qi = pi + d[0] * PREFETCH_AHEAD, qj = pj + d[1] * PREFETCH_AHEAD; \
      gint64 qk = pk + d[2] * PREFETCH_AHEAD;                                  \
      for (int x = lo; x < hi; x++)                                            \
        {                                                                      \
          if (x + PREFETCH_AHEAD < hi)                                         \
            {                                                                  \
              const T *f = vox + (gsize) (qk >> 32) * sz                       \
                           + (gsize) (qj >> 32) * sy + (gsize) (qi >> 32);     \
              __builtin_prefetch (f);                                          \
              __builtin_prefetch (f + sy);                                     \
              __builtin_prefetch (f + sz);                                     \
              __builtin_prefetch (f + sz + sy);                                \
            }                                                                  \
          qi += d[0], qj += d[1], qk += d[2];                                  \
          const T *c = vox + (gsize) (pk >> 32) * sz + (gsize) (pj >> 32) * sy \
                       + (gsize) (pi >> 32);                                   \
          float fi = (guint32) pi * (float) (1.0 / FIX_ONE);                   \
          float fj = (guint32) pj * (float) (1.0 / FIX_ONE);                   \
          float fk = (guint32) pk * (float) (1.0 / FIX_ONE);                   \
          float c00 = c[0] + (c[1] - c[0]) * fi;                               \
          float c10 = c[sy] + (c[sy + 1] - c[sy]) * fi;                        \
          float c01 = c[sz] + (c[sz + 1] - c[sz]) * fi;                        \
          float c11 = c[sz + sy] + (c[sz + sy + 1] - c[sz + sy]) * fi;         \
          float c0 = c00 + (c10 - c00) * fj;                                   \
          float c1 = c01 + (c11 - c01) * fj;                                   \
          row[x] = c0 + (c1 - c0) * fk;                                        \
          pi += d[0], pj += d[1], pk += d[2];                                  \
        }                                                                      \
    }                                                                          \
  while (0)

/* One row of samples at voxel positions v0 + dv * x; @outside where the
 * reference gives NAN. */
static void
fast_row (const FastJob *job, RrVec3 v0, RrVec3 dv, float outside, float *row)
{
  const RrVolume *v = job->v;
  const int width = job->plane->width;
  const gsize sy = v->dims[0], sz = (gsize) v->dims[0] * v->dims[1];
  RrVec3 v1 = rr_vec3_add (v0, rr_vec3_scale (dv, width));
  int lo = 0, hi = 0, edge_lo = 0, edge_hi = width;

  if (fabs (v0.x) < FIX_LIMIT && fabs (v0.y) < FIX_LIMIT && fabs (v0.z) < FIX_LIMIT &&
      fabs (v1.x) < FIX_LIMIT && fabs (v1.y) < FIX_LIMIT && fabs (v1.z) < FIX_LIMIT)
    {
      gint64 p[3] = { llround (v0.x * FIX_ONE), llround (v0.y * FIX_ONE),
                      llround (v0.z * FIX_ONE) };
      gint64 d[3] = { llround (dv.x * FIX_ONE), llround (dv.y * FIX_ONE),
                      llround (dv.z * FIX_ONE) };
      double a = 0, b = width;
      interior_run (p, d, v->dims, width, &lo, &hi);
      if (lo < hi)
        {
          gint64 pi = p[0] + d[0] * lo, pj = p[1] + d[1] * lo, pk = p[2] + d[2] * lo;
          if (v->type == RR_VOXEL_INT16)
            INTERIOR_KERNEL (gint16);
          else
            INTERIOR_KERNEL (float);
        }
      /* Where the row may touch the volume at all (within half a voxel),
       * with a pixel to spare; beyond it every pixel is outside. */
      double vv0[3] = { v0.x, v0.y, v0.z }, dd[3] = { dv.x, dv.y, dv.z };
      for (int ax = 0; ax < 3; ax++)
        {
          if (dd[ax] == 0)
            {
              if (vv0[ax] < -0.5 || vv0[ax] > v->dims[ax] - 0.5)
                a = b;
              continue;
            }
          double t0 = (-0.5 - vv0[ax]) / dd[ax], t1 = (v->dims[ax] - 0.5 - vv0[ax]) / dd[ax];
          a = MAX (a, floor (MIN (t0, t1)) - 1);
          b = MIN (b, ceil (MAX (t0, t1)) + 2);
        }
      if (a >= b)
        edge_lo = edge_hi = 0;
      else
        edge_lo = (int) a, edge_hi = (int) b;
      if (lo == hi)
        lo = hi = edge_lo;
      edge_lo = MIN (edge_lo, lo);
      edge_hi = MAX (edge_hi, hi);
    }
  else
    lo = hi = 0;

  for (int x = 0; x < edge_lo; x++)
    row[x] = outside;
  for (int x = edge_lo; x < lo; x++)
    {
      float s = sample (v, v0.x + dv.x * x, v0.y + dv.y * x, v0.z + dv.z * x);
      row[x] = isnan (s) ? outside : s;
    }
  for (int x = MAX (hi, edge_lo); x < edge_hi; x++)
    {
      float s = sample (v, v0.x + dv.x * x, v0.y + dv.y * x, v0.z + dv.z * x);
      row[x] = isnan (s) ? outside : s;
    }
  for (int x = MAX (edge_hi, hi); x < width; x++)
    row[x] = outside;
}

static void
fast_render_row (const FastJob *job, guint y, float *acc, int *count)
{
  const RrPlane *pl = job->plane;
  float *row = job->out + (gsize) y * pl->width;
  RrVec3 p0 = rr_plane_pixel_to_patient (pl, 0, y);
  RrVec3 dv = rr_mat3_apply (&job->inv, rr_vec3_scale (pl->right, pl->mm_per_pixel));
  RrVec3 n = rr_plane_normal (pl);

  if (job->n_steps == 1)
    {
      fast_row (job, rr_mat3_apply (&job->inv, rr_vec3_sub (p0, job->origin)), dv,
                job->outside, row);
      return;
    }
  /* A slab: one plane after the other along the normal, each combined into
   * the row, so every pass is a row of the same stepping. */
  for (guint x = 0; x < pl->width; x++)
    {
      acc[x] = pl->slab_mode == RR_SLAB_MINIP ? G_MAXFLOAT :
               pl->slab_mode == RR_SLAB_MIP ? -G_MAXFLOAT : 0;
      count[x] = 0;
    }
  for (int s_i = 0; s_i < job->n_steps; s_i++)
    {
      RrVec3 q = rr_vec3_add (p0, rr_vec3_scale (n, -pl->slab_mm / 2 + s_i * job->step));
      fast_row (job, rr_mat3_apply (&job->inv, rr_vec3_sub (q, job->origin)), dv, NAN, row);
      for (guint x = 0; x < pl->width; x++)
        {
          float s = row[x];
          if (isnan (s))
            continue;
          count[x]++;
          if (pl->slab_mode == RR_SLAB_MIP)
            acc[x] = MAX (acc[x], s);
          else if (pl->slab_mode == RR_SLAB_MINIP)
            acc[x] = MIN (acc[x], s);
          else
            acc[x] += s;
        }
    }
  for (guint x = 0; x < pl->width; x++)
    row[x] = count[x] == 0 ? job->outside :
             pl->slab_mode == RR_SLAB_MEAN ? acc[x] / count[x] : acc[x];
}

static gpointer
fast_worker (gpointer data)
{
  FastJob *job = data;
  const guint h = job->plane->height;
  g_autofree float *acc = job->n_steps > 1 ? g_new (float, job->plane->width) : NULL;
  g_autofree int *count = job->n_steps > 1 ? g_new (int, job->plane->width) : NULL;

  for (;;)
    {
      guint y0 = (guint) g_atomic_int_add (&job->next_row, ROWS_PER_CHUNK);
      if (y0 >= h)
        break;
      for (guint y = y0; y < MIN (y0 + ROWS_PER_CHUNK, h); y++)
        fast_render_row (job, y, acc, count);
    }
  return NULL;
}

void
rr_reslice (const RrVolume *volume,
            const RrPlane  *plane,
            float           outside,
            guint           n_threads,
            float          *out)
{
  FastJob job = { volume, plane, outside, out, { { { 0 } } }, { 0 }, 1, 0, 0 };
  GThread *threads[16];
  guint nt = n_threads ? n_threads : g_get_num_processors ();

  if (volume->type == RR_VOXEL_RGB8 ||
      !rr_volume_regular_affine (volume, &job.inv, &job.origin))
    {
      rr_reslice_reference (volume, plane, outside, n_threads, out);
      return;
    }
  if (plane->slab_mode != RR_SLAB_NONE && plane->slab_mm > 0)
    {
      /* The reference's slab sampling: no further apart than the finest
       * voxel spacing. */
      double fine = MIN (MIN (volume->spacing[0], volume->spacing[1]), volume->spacing[2]);
      job.n_steps = MAX (1, (int) ceil (plane->slab_mm / MAX (fine, 1e-3))) + 1;
      job.step = job.n_steps > 1 ? plane->slab_mm / (job.n_steps - 1) : 0;
    }
  nt = CLAMP (nt, 1u, 16u);
  if (plane->width * plane->height < 4096)
    nt = 1;
  for (guint t = 1; t < nt; t++)
    threads[t] = g_thread_new ("rr-reslice", fast_worker, &job);
  fast_worker (&job);
  for (guint t = 1; t < nt; t++)
    g_thread_join (threads[t]);
}
