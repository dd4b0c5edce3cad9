/* rr-stack.c: series assembly by patient position along the slice normal,
 * never by file name or instance number, with problems reported. */
#include "rr-stack.h"

#include <stdlib.h>

#define POS_EPS_MM      0.01   /* two positions closer than this coincide */
#define SPACING_TOL     0.05   /* relative tolerance on regular spacing */
#define MAX_GAP_SLICES  32     /* a larger gap is uneven spacing, not missing */

void
rr_stack_free (RrStack *stack)
{
  if (stack == NULL)
    return;
  g_array_unref (stack->order);
  g_array_unref (stack->positions);
  g_ptr_array_unref (stack->problems);
  g_free (stack);
}

static RrStack *
stack_new (void)
{
  RrStack *s = g_new0 (RrStack, 1);
  s->order = g_array_new (FALSE, FALSE, sizeof (guint));
  s->positions = g_array_new (FALSE, FALSE, sizeof (RrVec3));
  s->problems = g_ptr_array_new_with_free_func ((GDestroyNotify) rr_problem_free);
  return s;
}

static gboolean
same_plane_kind (const RrFrameGeom *a,
                 const RrFrameGeom *b)
{
  if (a->rows != b->rows || a->columns != b->columns)
    return FALSE;
  if (a->has_geometry != b->has_geometry)
    return FALSE;
  if (!a->has_geometry)
    return TRUE;
  if (rr_vec3_dot (a->row_dir, b->row_dir) < 0.9999 ||
      rr_vec3_dot (a->col_dir, b->col_dir) < 0.9999)
    return FALSE;
  if (fabs (a->row_spacing - b->row_spacing) > 1e-3 * MAX (1.0, a->row_spacing) ||
      fabs (a->col_spacing - b->col_spacing) > 1e-3 * MAX (1.0, a->col_spacing))
    return FALSE;
  return TRUE;
}

typedef struct
{
  guint index;
  double d;
  double hint;
} SortEntry;

static int
sort_entry_cmp (const void *pa,
                const void *pb)
{
  const SortEntry *a = pa, *b = pb;
  if (a->d < b->d)
    return -1;
  if (a->d > b->d)
    return 1;
  if (a->hint < b->hint)
    return -1;
  if (a->hint > b->hint)
    return 1;
  return a->index < b->index ? -1 : a->index > b->index;
}

static int
double_cmp (const void *pa,
            const void *pb)
{
  double a = *(const double *) pa, b = *(const double *) pb;
  return a < b ? -1 : a > b;
}

/* Orders the unique positions of one stack and finds gaps, uneven spacing
 * and tilt. @idx are indices into @frames, sorted along the normal. */
static RrStack *
build_stack (const RrFrameGeom *frames,
             const guint       *idx,
             guint              n)
{
  RrStack *s = stack_new ();
  const RrFrameGeom *f0 = &frames[idx[0]];
  g_autofree double *gaps = NULL;
  double median = 0, min_gap = G_MAXDOUBLE, max_gap = 0, tilt_sum = 0;
  guint n_missing = 0, n_uneven = 0;

  s->has_geometry = f0->has_geometry;
  s->rows = f0->rows;
  s->columns = f0->columns;
  s->row_spacing = f0->row_spacing > 0 ? f0->row_spacing : 1.0;
  s->col_spacing = f0->col_spacing > 0 ? f0->col_spacing : 1.0;
  s->calibration = f0->row_spacing > 0 && f0->col_spacing > 0 ? f0->calibration
                                                               : RR_CALIBRATION_NONE;
  s->row_dir = f0->has_geometry ? rr_vec3_normalize (f0->row_dir) : rr_vec3 (1, 0, 0);
  s->col_dir = f0->has_geometry ? rr_vec3_normalize (f0->col_dir) : rr_vec3 (0, 1, 0);
  s->normal = rr_vec3_normalize (rr_vec3_cross (s->row_dir, s->col_dir));
  s->slice_spacing = 1.0;

  if (!s->has_geometry || n < 2)
    {
      for (guint k = 0; k < n; k++)
        {
          RrVec3 p = f0->has_geometry ? frames[idx[k]].position
                                      : rr_vec3_scale (s->normal, (double) k);
          g_array_append_val (s->order, idx[k]);
          g_array_append_val (s->positions, p);
        }
      return s;
    }

  gaps = g_new (double, n - 1);
  for (guint k = 0; k + 1 < n; k++)
    {
      RrVec3 dp = rr_vec3_sub (frames[idx[k + 1]].position, frames[idx[k]].position);
      double along = rr_vec3_dot (dp, s->normal);
      RrVec3 lateral = rr_vec3_sub (dp, rr_vec3_scale (s->normal, along));
      gaps[k] = along;
      min_gap = MIN (min_gap, along);
      max_gap = MAX (max_gap, along);
      tilt_sum += atan2 (rr_vec3_length (lateral), along);
    }
  {
    g_autofree double *sorted = g_memdup2 (gaps, sizeof (double) * (n - 1));
    qsort (sorted, n - 1, sizeof (double), double_cmp);
    median = sorted[(n - 1) / 2];
  }
  s->slice_spacing = median;
  s->tilt_deg = tilt_sum / (n - 1) * 180.0 / G_PI;
  if (s->tilt_deg < 0.05)
    s->tilt_deg = 0;

  for (guint k = 0; k + 1 < n; k++)
    {
      double r = gaps[k] / median;
      double nearest = floor (r + 0.5);
      if (fabs (gaps[k] - median) <= SPACING_TOL * median + POS_EPS_MM)
        continue;
      if (nearest >= 2 && nearest <= MAX_GAP_SLICES + 1 &&
          fabs (r - nearest) <= SPACING_TOL)
        n_missing += (guint) nearest - 1;
      else
        n_uneven++;
    }

  for (guint k = 0; k < n; k++)
    {
      RrVec3 p = frames[idx[k]].position;
      g_array_append_val (s->order, idx[k]);
      g_array_append_val (s->positions, p);
      if (k + 1 < n && n_uneven == 0 && n_missing > 0)
        {
          double r = gaps[k] / median;
          guint nearest = (guint) floor (r + 0.5);
          if (fabs (gaps[k] - median) > SPACING_TOL * median + POS_EPS_MM && nearest >= 2)
            {
              RrVec3 q = frames[idx[k + 1]].position;
              for (guint g = 1; g < nearest; g++)
                {
                  guint gap = RR_STACK_GAP;
                  RrVec3 pg = rr_vec3_lerp (p, q, (double) g / nearest);
                  g_array_append_val (s->order, gap);
                  g_array_append_val (s->positions, pg);
                  s->n_gaps++;
                }
            }
        }
    }

  if (n_missing > 0 && n_uneven == 0)
    rr_problems_add (s->problems, "missing_slices",
                     "%u slice(s) missing from a regular spacing of %.3g mm; "
                     "the gaps are kept empty so that geometry stays right",
                     n_missing, median);
  else if (n_missing > 0 || n_uneven > 0)
    rr_problems_add (s->problems, "uneven_spacing",
                     "slice spacing varies from %.3g to %.3g mm (typical %.3g mm)",
                     min_gap, max_gap, median);
  if (s->tilt_deg > 0)
    rr_problems_add (s->problems, "gantry_tilt",
                     "slices are tilted by %.2f degrees (gantry tilt); geometry follows it",
                     s->tilt_deg);
  return s;
}

static int
stack_size_cmp (gconstpointer pa,
                gconstpointer pb)
{
  const RrStack *a = *(RrStack * const *) pa, *b = *(RrStack * const *) pb;
  return (int) b->order->len - (int) a->order->len;
}

GPtrArray *
rr_stack_plan (const RrFrameGeom *frames,
               guint              n,
               GPtrArray         *problems)
{
  GPtrArray *stacks = g_ptr_array_new_with_free_func ((GDestroyNotify) rr_stack_free);
  g_autofree guint *group = g_new0 (guint, MAX (n, 1));
  g_autoptr (GArray) reps = g_array_new (FALSE, FALSE, sizeof (guint));
  gboolean mixed_size = FALSE, mixed_orient = FALSE;

  if (n == 0)
    return stacks;

  /* Group frames of the same orientation, size and pixel spacing. */
  for (guint f = 0; f < n; f++)
    {
      guint gi;
      for (gi = 0; gi < reps->len; gi++)
        if (same_plane_kind (&frames[g_array_index (reps, guint, gi)], &frames[f]))
          break;
      if (gi == reps->len)
        {
          const RrFrameGeom *r0 = reps->len ? &frames[g_array_index (reps, guint, 0)] : NULL;
          if (r0 && (r0->rows != frames[f].rows || r0->columns != frames[f].columns))
            mixed_size = TRUE;
          else if (r0)
            mixed_orient = TRUE;
          g_array_append_val (reps, f);
        }
      group[f] = gi;
    }
  if (mixed_orient)
    rr_problems_add (problems, "mixed_orientation",
                     "frames have %u different orientations or pixel spacings; "
                     "each is a separate stack", reps->len);
  if (mixed_size)
    rr_problems_add (problems, "mixed_size",
                     "frames have different rows or columns; each size is a separate stack");

  for (guint gi = 0; gi < reps->len; gi++)
    {
      g_autoptr (GArray) entries = g_array_new (FALSE, FALSE, sizeof (SortEntry));
      const RrFrameGeom *rep = &frames[g_array_index (reps, guint, gi)];
      RrVec3 normal = rr_vec3_normalize (rr_vec3_cross (rep->row_dir, rep->col_dir));
      g_autoptr (GArray) clusters = g_array_new (FALSE, FALSE, sizeof (guint)); /* start */
      guint n_entries, m = 0;
      gboolean uniform = TRUE;

      for (guint f = 0; f < n; f++)
        if (group[f] == gi)
          {
            SortEntry e = { f, rep->has_geometry ? rr_vec3_dot (frames[f].position, normal) : 0,
                            frames[f].order_hint };
            g_array_append_val (entries, e);
          }
      n_entries = entries->len;

      if (!rep->has_geometry)
        {
          g_autofree guint *idx = g_new (guint, n_entries);
          /* No geometry: keep acquisition order (frames of a cine, say). */
          for (guint k = 0; k < n_entries; k++)
            g_array_index (entries, SortEntry, k).d = 0;
          qsort (entries->data, n_entries, sizeof (SortEntry), sort_entry_cmp);
          for (guint k = 0; k < n_entries; k++)
            idx[k] = g_array_index (entries, SortEntry, k).index;
          g_ptr_array_add (stacks, build_stack (frames, idx, n_entries));
          continue;
        }

      qsort (entries->data, n_entries, sizeof (SortEntry), sort_entry_cmp);

      /* Clusters of coinciding positions. */
      for (guint k = 0; k < n_entries; k++)
        {
          const SortEntry *e = &g_array_index (entries, SortEntry, k);
          if (k == 0 ||
              rr_vec3_length (rr_vec3_sub (frames[e->index].position,
                                           frames[g_array_index (entries, SortEntry, k - 1).index].position))
              > POS_EPS_MM)
            g_array_append_val (clusters, k);
        }
      for (guint c = 0; c < clusters->len; c++)
        {
          guint start = g_array_index (clusters, guint, c);
          guint end = c + 1 < clusters->len ? g_array_index (clusters, guint, c + 1) : n_entries;
          guint size = end - start;
          if (c == 0)
            m = size;
          else if (size != m)
            uniform = FALSE;
        }

      if (m > 1 && uniform && clusters->len > 1)
        {
          /* Every position appears m times: m interleaved stacks (phases,
           * echoes, repeated acquisitions). Split by acquisition order. */
          rr_problems_add (problems, "multiple_stacks",
                           "%u frames at each of %u positions: split into %u stacks",
                           m, clusters->len, m);
          for (guint r = 0; r < m; r++)
            {
              g_autofree guint *idx = g_new (guint, clusters->len);
              for (guint c = 0; c < clusters->len; c++)
                idx[c] = g_array_index (entries, SortEntry,
                                        g_array_index (clusters, guint, c) + r).index;
              g_ptr_array_add (stacks, build_stack (frames, idx, clusters->len));
            }
        }
      else
        {
          g_autofree guint *idx = g_new (guint, clusters->len);
          guint dropped = n_entries - clusters->len;
          RrStack *s;
          for (guint c = 0; c < clusters->len; c++)
            idx[c] = g_array_index (entries, SortEntry, g_array_index (clusters, guint, c)).index;
          s = build_stack (frames, idx, clusters->len);
          if (dropped > 0)
            rr_problems_add (s->problems, "duplicate_positions",
                             "%u frame(s) share a position with another; "
                             "the first acquired at each position is used", dropped);
          g_ptr_array_add (stacks, s);
        }
    }

  g_ptr_array_sort (stacks, stack_size_cmp);
  return stacks;
}
