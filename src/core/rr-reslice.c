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
rr_reslice (const RrVolume *volume,
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
