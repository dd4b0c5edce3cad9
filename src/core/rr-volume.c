/* rr-volume.c: allocation, geometry and sampling of RrVolume.
 * Every size is checked for overflow and bounded before allocating. */
#include "rr-volume.h"

#include <math.h>
#include <string.h>
#include <stdlib.h>
#ifdef __linux__
#include <sys/mman.h>
#endif

G_DEFINE_QUARK (rr-core-error-quark, rr_core_error)

gsize
rr_voxel_type_size (RrVoxelType type)
{
  switch (type)
    {
    case RR_VOXEL_INT16:
      return 2;
    case RR_VOXEL_FLOAT32:
      return 4;
    case RR_VOXEL_RGB8:
      return 3;
    default:
      g_return_val_if_reached (0);
    }
}

/* Volumes are large and written once, slice by slice, often by several
 * threads: on Linux map them directly (zeroed, faulted in lazily where they
 * are written) and ask for transparent huge pages, which saves a page fault
 * per 4 KiB. */
static gpointer
voxels_alloc (gsize total, gboolean *mapped)
{
  *mapped = FALSE;
#ifdef __linux__
  if (total >= ((gsize) 8 << 20))
    {
      void *p = mmap (NULL, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (p == MAP_FAILED)
        return NULL;
      madvise (p, total, MADV_HUGEPAGE);
      *mapped = TRUE;
      return p;
    }
#endif
  return g_try_malloc0 (total);
}

static void
voxels_free (RrVolume *v)
{
#ifdef __linux__
  if (v->voxels_mapped)
    {
      munmap (v->voxels, v->n_bytes);
      return;
    }
#endif
  g_free (v->voxels);
}

RrVolume *
rr_volume_new (const guint  dims[3],
               RrVoxelType  type,
               GError     **error)
{
  gsize plane, total;
  g_autoptr (RrVolume) v = NULL;

  if (dims[0] == 0 || dims[1] == 0 || dims[2] == 0 ||
      dims[0] > RR_VOLUME_MAX_DIM || dims[1] > RR_VOLUME_MAX_DIM ||
      dims[2] > RR_VOLUME_MAX_SLICES)
    {
      g_set_error (error, RR_CORE_ERROR, RR_CORE_ERROR_INVALID,
                   "Volume dimensions %ux%ux%u are out of range",
                   dims[0], dims[1], dims[2]);
      return NULL;
    }
  if (!g_size_checked_mul (&plane, dims[0], dims[1]) ||
      !g_size_checked_mul (&plane, plane, rr_voxel_type_size (type)) ||
      !g_size_checked_mul (&total, plane, dims[2]) ||
      total > RR_VOLUME_MAX_BYTES)
    {
      g_set_error (error, RR_CORE_ERROR, RR_CORE_ERROR_TOO_LARGE,
                   "Volume of %ux%ux%u voxels is too large",
                   dims[0], dims[1], dims[2]);
      return NULL;
    }

  v = g_new0 (RrVolume, 1);
  v->ref_count = 1;
  memcpy (v->dims, dims, sizeof v->dims);
  v->type = type;
  v->n_bytes = total;
  v->voxels = voxels_alloc (total, &v->voxels_mapped);
  if (v->voxels == NULL)
    {
      g_set_error (error, RR_CORE_ERROR, RR_CORE_ERROR_TOO_LARGE,
                   "Not enough memory for a volume of %" G_GSIZE_FORMAT " bytes",
                   total);
      return NULL;
    }
  v->slice_pos = g_new0 (RrVec3, dims[2]);
  v->slice_d = g_new0 (double, dims[2]);
  v->slice_sop = g_new0 (char *, dims[2] + 1);
  v->slice_frame = g_new0 (guint, dims[2]);
  v->spacing[0] = v->spacing[1] = v->spacing[2] = 1.0;
  v->row_dir = rr_vec3 (1, 0, 0);
  v->col_dir = rr_vec3 (0, 1, 0);
  v->normal = rr_vec3 (0, 0, 1);
  v->units = g_strdup ("");
  return g_steal_pointer (&v);
}

RrVolume *
rr_volume_ref (RrVolume *volume)
{
  g_return_val_if_fail (volume != NULL, NULL);
  g_atomic_int_inc (&volume->ref_count);
  return volume;
}

void
rr_volume_unref (RrVolume *volume)
{
  if (volume == NULL || !g_atomic_int_dec_and_test (&volume->ref_count))
    return;
  voxels_free (volume);
  g_free (volume->slice_pos);
  g_free (volume->slice_d);
  /* Not g_strfreev: a gap's NULL would end it, and the slices after it
   * would leak. */
  for (guint k = 0; volume->slice_sop && k < volume->dims[2]; k++)
    g_free (volume->slice_sop[k]);
  g_free (volume->slice_sop);
  g_free (volume->slice_frame);
  g_free (volume->modality);
  g_free (volume->series_uid);
  g_free (volume->description);
  g_free (volume->frame_of_reference);
  g_free (volume->units);
  g_free (volume->suv_reason);
  g_free (volume);
}

gsize
rr_volume_slice_bytes (const RrVolume *volume)
{
  return (gsize) volume->dims[0] * volume->dims[1] * rr_voxel_type_size (volume->type);
}

gpointer
rr_volume_slice_data (RrVolume *volume,
                      guint     k)
{
  g_return_val_if_fail (k < volume->dims[2], NULL);
  return (guint8 *) volume->voxels + (gsize) k * rr_volume_slice_bytes (volume);
}

gboolean
rr_volume_finish_geometry (RrVolume  *volume,
                           GError   **error)
{
  guint nz = volume->dims[2];

  volume->row_dir = rr_vec3_normalize (volume->row_dir);
  volume->col_dir = rr_vec3_normalize (volume->col_dir);
  volume->normal = rr_vec3_normalize (rr_vec3_cross (volume->row_dir, volume->col_dir));
  if (rr_vec3_length (volume->normal) < 0.5)
    {
      g_set_error (error, RR_CORE_ERROR, RR_CORE_ERROR_INVALID,
                   "Row and column directions are parallel");
      return FALSE;
    }
  for (guint k = 0; k < nz; k++)
    {
      volume->slice_d[k] = rr_vec3_dot (volume->slice_pos[k], volume->normal);
      if (k > 0 && !(volume->slice_d[k] > volume->slice_d[k - 1]))
        {
          g_set_error (error, RR_CORE_ERROR, RR_CORE_ERROR_INVALID,
                       "Slices are not in increasing order along the normal");
          return FALSE;
        }
    }
  if (nz > 1)
    volume->spacing[2] = (volume->slice_d[nz - 1] - volume->slice_d[0]) / (nz - 1);
  else if (volume->slice_thickness > 0)
    volume->spacing[2] = volume->slice_thickness;
  return TRUE;
}

static RrVec3
slice_origin (const RrVolume *v,
              double          k)
{
  guint nz = v->dims[2];
  guint k0;

  if (nz == 1)
    return rr_vec3_add (v->slice_pos[0], rr_vec3_scale (v->normal, k * v->spacing[2]));
  /* Outside the stack, extend with the end steps. */
  if (k <= 0)
    k0 = 0;
  else if (k >= nz - 1)
    k0 = nz - 2;
  else
    k0 = (guint) floor (k);
  return rr_vec3_lerp (v->slice_pos[k0], v->slice_pos[k0 + 1], k - k0);
}

RrVec3
rr_volume_voxel_to_patient (const RrVolume *volume,
                            double          i,
                            double          j,
                            double          k)
{
  RrVec3 o = slice_origin (volume, k);
  o = rr_vec3_add (o, rr_vec3_scale (volume->row_dir, i * volume->spacing[0]));
  return rr_vec3_add (o, rr_vec3_scale (volume->col_dir, j * volume->spacing[1]));
}

gboolean
rr_volume_patient_to_voxel (const RrVolume *volume,
                            RrVec3          p,
                            double         *i,
                            double         *j,
                            double         *k)
{
  guint nz = volume->dims[2];
  double d = rr_vec3_dot (p, volume->normal);
  double kk;
  RrVec3 o, rel;

  if (nz == 1)
    kk = (d - volume->slice_d[0]) / volume->spacing[2];
  else
    {
      /* Binary search for the slice pair around d; slice_d increases. */
      guint lo = 0, hi = nz - 1;
      if (d <= volume->slice_d[0])
        lo = 0, hi = 1;
      else if (d >= volume->slice_d[nz - 1])
        lo = nz - 2, hi = nz - 1;
      else
        while (hi - lo > 1)
          {
            guint mid = (lo + hi) / 2;
            if (volume->slice_d[mid] <= d)
              lo = mid;
            else
              hi = mid;
          }
      kk = lo + (d - volume->slice_d[lo]) / (volume->slice_d[hi] - volume->slice_d[lo]);
    }
  o = slice_origin (volume, kk);
  rel = rr_vec3_sub (p, o);
  *i = rr_vec3_dot (rel, volume->row_dir) / volume->spacing[0];
  *j = rr_vec3_dot (rel, volume->col_dir) / volume->spacing[1];
  *k = kk;
  return *i > -0.5 && *j > -0.5 && kk > -0.5 &&
         *i < volume->dims[0] - 0.5 && *j < volume->dims[1] - 0.5 &&
         kk < volume->dims[2] - 0.5;
}

gboolean
rr_volume_regular_affine (const RrVolume *v,
                          RrMat3         *inv,
                          RrVec3         *origin)
{
  guint nz = v->dims[2];
  RrMat3 m;
  RrVec3 step;

  if (nz > 1)
    {
      step = rr_vec3_scale (rr_vec3_sub (v->slice_pos[nz - 1], v->slice_pos[0]), 1.0 / (nz - 1));
      for (guint k = 1; k + 1 < nz; k++)
        {
          RrVec3 expect = rr_vec3_add (v->slice_pos[0], rr_vec3_scale (step, k));
          if (rr_vec3_length (rr_vec3_sub (expect, v->slice_pos[k])) > 1e-3 * v->spacing[2] + 1e-6)
            return FALSE;
        }
    }
  else
    step = rr_vec3_scale (v->normal, v->spacing[2]);
  m.c[0] = rr_vec3_scale (v->row_dir, v->spacing[0]);
  m.c[1] = rr_vec3_scale (v->col_dir, v->spacing[1]);
  m.c[2] = step;
  *origin = v->slice_pos[0];
  return rr_mat3_invert (&m, inv);
}

double
rr_volume_value_at (const RrVolume *volume,
                    guint           i,
                    guint           j,
                    guint           k)
{
  gsize idx;

  if (i >= volume->dims[0] || j >= volume->dims[1] || k >= volume->dims[2])
    return NAN;
  idx = ((gsize) k * volume->dims[1] + j) * volume->dims[0] + i;
  switch (volume->type)
    {
    case RR_VOXEL_INT16:
      return ((const gint16 *) volume->voxels)[idx];
    case RR_VOXEL_FLOAT32:
      return ((const float *) volume->voxels)[idx];
    case RR_VOXEL_RGB8:
      {
        const guint8 *px = (const guint8 *) volume->voxels + idx * 3;
        return 0.299 * px[0] + 0.587 * px[1] + 0.114 * px[2];
      }
    default:
      return NAN;
    }
}

double
rr_volume_sample_patient (const RrVolume *volume,
                          RrVec3          p)
{
  double i, j, k;

  if (!rr_volume_patient_to_voxel (volume, p, &i, &j, &k))
    return NAN;
  return rr_volume_value_at (volume, (guint) floor (i + 0.5), (guint) floor (j + 0.5),
                             (guint) floor (k + 0.5));
}

RrVec3
rr_volume_center (const RrVolume *volume)
{
  return rr_volume_voxel_to_patient (volume, (volume->dims[0] - 1) / 2.0,
                                     (volume->dims[1] - 1) / 2.0,
                                     (volume->dims[2] - 1) / 2.0);
}

void
rr_volume_value_range (const RrVolume *volume,
                       double         *min,
                       double         *max)
{
  gsize n = (gsize) volume->dims[0] * volume->dims[1] * volume->dims[2];
  double lo = G_MAXDOUBLE, hi = -G_MAXDOUBLE;

  if (volume->type == RR_VOXEL_INT16)
    {
      const gint16 *p = volume->voxels;
      gint16 l = G_MAXINT16, h = G_MININT16;
      for (gsize x = 0; x < n; x++)
        {
          l = MIN (l, p[x]);
          h = MAX (h, p[x]);
        }
      lo = l, hi = h;
    }
  else if (volume->type == RR_VOXEL_FLOAT32)
    {
      const float *p = volume->voxels;
      /* A rescale slope of 1E39 is a finite double but an infinite float:
       * such voxels have no place on a window. */
      for (gsize x = 0; x < n; x++)
        if (isfinite (p[x]))
          {
            lo = MIN (lo, p[x]);
            hi = MAX (hi, p[x]);
          }
    }
  else
    lo = 0, hi = 255;
  *min = lo;
  *max = hi;
}

double
rr_volume_value_quantile (const RrVolume *volume,
                          double          q)
{
  enum { BINS = 65536 };
  gsize n = (gsize) volume->dims[0] * volume->dims[1] * volume->dims[2], total = 0, want, seen = 0;
  g_autofree guint64 *hist = NULL;
  double lo, hi, scale;

  rr_volume_value_range (volume, &lo, &hi);
  if (volume->type == RR_VOXEL_RGB8 || n == 0 || !(hi > lo))
    return volume->type == RR_VOXEL_RGB8 ? 255 * CLAMP (q, 0, 1) : lo;
  /* A histogram rather than a sort: one pass, no copy of a volume that
   * may be gigabytes. int16 values get a bin each, exactly. */
  hist = g_new0 (guint64, BINS);
  scale = (BINS - 1) / (hi - lo);
  if (volume->type == RR_VOXEL_INT16)
    {
      const gint16 *p = volume->voxels;
      for (gsize x = 0; x < n; x++)
        hist[(guint) lround ((p[x] - lo) * scale)]++;
      total = n;
    }
  else
    {
      const float *p = volume->voxels;
      for (gsize x = 0; x < n; x++)
        if (isfinite (p[x]))
          hist[CLAMP (lround ((p[x] - lo) * scale), 0, BINS - 1)]++, total++;
    }
  if (total == 0)
    return lo;
  want = (gsize) ceil (CLAMP (q, 0, 1) * total);
  for (guint b = 0; b < BINS; b++)
    {
      seen += hist[b];
      if (seen >= MAX (want, 1))
        return lo + b / scale;
    }
  return hi;
}

double
rr_volume_display_scale (const RrVolume *volume,
                         const char    **units)
{
  if (volume->suv_state == RR_SUV_AVAILABLE && volume->suv_factor > 0)
    {
      *units = "SUVbw";
      return volume->suv_factor;
    }
  *units = volume->units ? volume->units : "";
  return 1;
}

void
rr_volume_default_window (const RrVolume *volume,
                          double         *center,
                          double         *width)
{
  double lo, hi;
  const char *units;

  if (volume->type == RR_VOXEL_RGB8)
    {
      *center = 127.5;
      *width = 256;
      return;
    }
  if (g_strcmp0 (volume->modality, "PT") == 0)
    {
      double scale = rr_volume_display_scale (volume, &units);
      /* SUVbw 0 to 5, as OHIF opens PET: its PT "Default" preset
       * (OHIF/Viewers extensions/cornerstone/.../WindowLevelActionMenu/
       * defaultWindowLevelPresets.ts: window 5, level 2.5) and the TMTV
       * mode's PET viewports (voi windowWidth 5, windowCenter 2.5). A
       * fixed SUV window shows every patient and timepoint alike, so the
       * reader compares uptake, not display settings. */
      if (g_strcmp0 (units, "SUVbw") == 0)
        {
          *center = 2.5 / scale;
          *width = 5 / scale;
          return;
        }
      /* No SUV (no weight, dose or times): counts or Bq/ml that differ
       * per patient, so the values decide: 0 to the 99.5th percentile. */
      hi = rr_volume_value_quantile (volume, 0.995);
      if (hi > 0)
        {
          *center = hi / 2;
          *width = hi;
          return;
        }
    }
  if (volume->has_window && volume->window_width > 0)
    {
      *center = volume->window_center;
      *width = volume->window_width;
      return;
    }
  rr_volume_value_range (volume, &lo, &hi);
  *center = (lo + hi) / 2;
  *width = MAX (hi - lo, 1);
}

RrVolume *
rr_volume_downsample (const RrVolume *v,
                      const guint     factor[3],
                      GError        **error)
{
  guint f[3], dims[3];
  RrVolume *out;

  for (int a = 0; a < 3; a++)
    {
      f[a] = MAX (factor[a], 1u);
      dims[a] = MAX (v->dims[a] / f[a], 1u);
      f[a] = MIN (f[a], v->dims[a]);
    }
  out = rr_volume_new (dims, v->type, error);
  if (out == NULL)
    return NULL;
  out->calibration = v->calibration;
  out->row_dir = v->row_dir;
  out->col_dir = v->col_dir;
  out->spacing[0] = v->spacing[0] * f[0];
  out->spacing[1] = v->spacing[1] * f[1];
  out->slice_thickness = v->slice_thickness * f[2];
  for (guint k = 0; k < dims[2]; k++)
    {
      /* The centre of the block of slices, and of the block of pixels. */
      RrVec3 p = rr_vec3 (0, 0, 0);
      for (guint b = 0; b < f[2]; b++)
        p = rr_vec3_add (p, v->slice_pos[k * f[2] + b]);
      p = rr_vec3_scale (p, 1.0 / f[2]);
      p = rr_vec3_add (p, rr_vec3_scale (v->row_dir, (f[0] - 1) / 2.0 * v->spacing[0]));
      p = rr_vec3_add (p, rr_vec3_scale (v->col_dir, (f[1] - 1) / 2.0 * v->spacing[1]));
      out->slice_pos[k] = p;
    }
  if (!rr_volume_finish_geometry (out, error))
    {
      rr_volume_unref (out);
      return NULL;
    }
  for (guint k = 0; k < dims[2]; k++)
    for (guint j = 0; j < dims[1]; j++)
      for (guint i = 0; i < dims[0]; i++)
        {
          double acc[3] = { 0, 0, 0 };
          guint n = f[0] * f[1] * f[2];
          gsize o = ((gsize) k * dims[1] + j) * dims[0] + i;
          for (guint c = 0; c < f[2]; c++)
            for (guint b = 0; b < f[1]; b++)
              {
                gsize row = ((gsize) (k * f[2] + c) * v->dims[1] + (j * f[1] + b)) * v->dims[0] +
                            i * f[0];
                for (guint a = 0; a < f[0]; a++)
                  {
                    if (v->type == RR_VOXEL_INT16)
                      acc[0] += ((const gint16 *) v->voxels)[row + a];
                    else if (v->type == RR_VOXEL_FLOAT32)
                      acc[0] += ((const float *) v->voxels)[row + a];
                    else
                      for (int ch = 0; ch < 3; ch++)
                        acc[ch] += ((const guint8 *) v->voxels)[(row + a) * 3 + ch];
                  }
              }
          if (v->type == RR_VOXEL_INT16)
            ((gint16 *) out->voxels)[o] = (gint16) lround (acc[0] / n);
          else if (v->type == RR_VOXEL_FLOAT32)
            ((float *) out->voxels)[o] = (float) (acc[0] / n);
          else
            for (int ch = 0; ch < 3; ch++)
              ((guint8 *) out->voxels)[o * 3 + ch] = (guint8) lround (acc[ch] / n);
        }
  out->modality = g_strdup (v->modality);
  out->series_uid = g_strdup (v->series_uid);
  out->description = g_strdup (v->description);
  out->frame_of_reference = g_strdup (v->frame_of_reference);
  out->has_window = v->has_window;
  out->window_center = v->window_center;
  out->window_width = v->window_width;
  out->invert = v->invert;
  g_free (out->units);
  out->units = g_strdup (v->units);
  out->suv_state = v->suv_state;
  out->suv_factor = v->suv_factor;
  out->suv_reason = g_strdup (v->suv_reason);
  out->frame_time_ms = v->frame_time_ms;
  return out;
}
