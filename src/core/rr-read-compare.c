/* rr-read-compare.c: two reads of one case side by side. Lesion ids carry
 * no identity across readers (each numbers its own T1, T2...), so lesions
 * are paired by a tracking identity both carry, else by where they are:
 * the organ, whether the lesion is a node, and where its calipers lie in
 * patient coordinates. */
#include "rr-read-compare.h"
#include "rr-json.h"

#include <math.h>

#define RR_READ_DIFF_RATIO 0.20
#define RR_READ_PAIR_MIN_MM 15.0

void
rr_read_diff_free (RrReadDiff *diff)
{
  if (diff == NULL)
    return;
  g_free (diff->timepoint);
  g_free (diff->lesion_1);
  g_free (diff->lesion_2);
  g_free (diff);
}

static gboolean
same_place (JsonObject *a,
            JsonObject *b)
{
  gboolean na = FALSE, nb = FALSE;
  JsonNode *n;
  if ((n = json_object_get_member (a, "nodal")) && JSON_NODE_HOLDS_VALUE (n) &&
      json_node_get_value_type (n) == G_TYPE_BOOLEAN)
    na = json_node_get_boolean (n);
  if ((n = json_object_get_member (b, "nodal")) && JSON_NODE_HOLDS_VALUE (n) &&
      json_node_get_value_type (n) == G_TYPE_BOOLEAN)
    nb = json_node_get_boolean (n);
  return na == nb &&
         g_strcmp0 (rr_json_get_string (a, "organ"), rr_json_get_string (b, "organ")) == 0;
}

/* A size (fragments added); FALSE when there is none to compare (NE,
 * merged, missing). */
static gboolean
size_at (JsonObject *lesion,
         const char *tp,
         double     *mm)
{
  JsonObject *ms = rr_json_get_object (lesion, "measurements");
  JsonNode *v;
  if (ms == NULL || (v = json_object_get_member (ms, tp)) == NULL)
    return FALSE;
  if (JSON_NODE_HOLDS_VALUE (v) && (json_node_get_value_type (v) == G_TYPE_DOUBLE ||
                                    json_node_get_value_type (v) == G_TYPE_INT64))
    {
      *mm = json_node_get_double (v);
      return TRUE;
    }
  if (JSON_NODE_HOLDS_ARRAY (v))
    {
      JsonArray *a = json_node_get_array (v);
      double s = 0;
      for (guint i = 0; i < json_array_get_length (a); i++)
        {
          JsonNode *e = json_array_get_element (a, i);
          if (!JSON_NODE_HOLDS_VALUE (e) || (json_node_get_value_type (e) != G_TYPE_DOUBLE &&
                                             json_node_get_value_type (e) != G_TYPE_INT64))
            return FALSE;
          s += json_node_get_double (e);
        }
      *mm = s;
      return TRUE;
    }
  return FALSE;
}

static RrReadDiff *
diff_new (RrReadDiffKind kind,
          const char    *tp,
          guint          reader,
          JsonObject    *l1,
          JsonObject    *l2)
{
  RrReadDiff *d = g_new0 (RrReadDiff, 1);
  d->kind = kind;
  d->timepoint = g_strdup (tp);
  d->reader = reader;
  d->lesion_1 = g_strdup (rr_json_get_string (l1, "id"));
  d->lesion_2 = g_strdup (rr_json_get_string (l2, "id"));
  return d;
}

/* Where a caliper is, in patient mm: its points' mean (an ellipse's first
 * point, its centre), and its extent, the largest distance between two of
 * its points. A split lesion's fragments count together. FALSE when @c
 * holds no point. */
static gboolean
caliper_place (JsonNode *c,
               double    centre[3],
               double   *extent)
{
  g_autoptr (GPtrArray) pts = g_ptr_array_new ();
  double sum[3] = { 0, 0, 0 };
  guint n_parts = 1;

  if (c && JSON_NODE_HOLDS_ARRAY (c))
    n_parts = json_array_get_length (json_node_get_array (c));
  for (guint f = 0; c && f < n_parts; f++)
    {
      JsonNode *part = JSON_NODE_HOLDS_ARRAY (c)
                         ? json_array_get_element (json_node_get_array (c), f) : c;
      JsonObject *o = part && JSON_NODE_HOLDS_OBJECT (part) ? json_node_get_object (part) : NULL;
      JsonArray *ps = rr_json_get_array (o, "points");
      guint np = ps ? json_array_get_length (ps) : 0;
      if (np > 0 && g_strcmp0 (rr_json_get_string (o, "kind"), "ellipse") == 0)
        np = 1;
      for (guint i = 0; i < np; i++)
        {
          JsonNode *pn = json_array_get_element (ps, i);
          JsonArray *p = pn && JSON_NODE_HOLDS_ARRAY (pn) ? json_node_get_array (pn) : NULL;
          if (p == NULL || json_array_get_length (p) != 3)
            return FALSE;
          for (guint k = 0; k < 3; k++)
            {
              JsonNode *e = json_array_get_element (p, k);
              if (!JSON_NODE_HOLDS_VALUE (e) || (json_node_get_value_type (e) != G_TYPE_DOUBLE &&
                                                 json_node_get_value_type (e) != G_TYPE_INT64) ||
                  !isfinite (json_node_get_double (e)))
                return FALSE;
            }
          g_ptr_array_add (pts, p);
        }
    }
  if (pts->len == 0)
    return FALSE;
  *extent = 0;
  for (guint i = 0; i < pts->len; i++)
    for (guint k = 0; k < 3; k++)
      sum[k] += json_array_get_double_element (pts->pdata[i], k);
  for (guint k = 0; k < 3; k++)
    centre[k] = sum[k] / pts->len;
  for (guint i = 0; i < pts->len; i++)
    for (guint j = i + 1; j < pts->len; j++)
      {
        double d2 = 0;
        for (guint k = 0; k < 3; k++)
          {
            double d = json_array_get_double_element (pts->pdata[i], k) -
                       json_array_get_double_element (pts->pdata[j], k);
            d2 += d * d;
          }
        *extent = MAX (*extent, sqrt (d2));
      }
  return TRUE;
}

static JsonNode *
caliper_at (JsonObject *lesion,
            const char *tp)
{
  JsonObject *cs = rr_json_get_object (lesion, "calipers");
  return cs ? json_object_get_member (cs, tp) : NULL;
}

/* The distance between the calipers of @la and @lb at the first of @tps
 * (or at @tp alone) where both have one; FALSE when there is none.
 * @tolerance: how far apart two calipers of one lesion can lie: the sum
 * of their extents. Each reader's caliper spans the lesion as that reader
 * sees it, and readers who disagree on its size (the cases adjudicated)
 * also disagree on its edges, and often on the slice where it is
 * largest; never less than RR_READ_PAIR_MIN_MM, which absorbs the drift
 * of a small lesion's caliper from reader to reader. */
static gboolean
caliper_distance (JsonObject *la,
                  JsonObject *lb,
                  JsonArray  *tps,
                  const char *tp,
                  double     *distance,
                  double     *tolerance)
{
  guint n = tp ? 1 : tps ? json_array_get_length (tps) : 0;
  for (guint k = 0; k < n; k++)
    {
      const char *at = tp ? tp : rr_json_get_string (rr_json_get_element (tps, k), "id");
      double ca[3], cb[3], ea, eb, d2 = 0;
      if (at == NULL || !caliper_place (caliper_at (la, at), ca, &ea) ||
          !caliper_place (caliper_at (lb, at), cb, &eb))
        continue;
      for (guint i = 0; i < 3; i++)
        d2 += (ca[i] - cb[i]) * (ca[i] - cb[i]);
      *distance = sqrt (d2);
      *tolerance = MAX (RR_READ_PAIR_MIN_MM, ea + eb);
      return TRUE;
    }
  return FALSE;
}

typedef struct
{
  guint i, j;
  double distance;
} Candidate;

static int
by_distance (gconstpointer a,
             gconstpointer b)
{
  double da = ((const Candidate *) a)->distance, db = ((const Candidate *) b)->distance;
  return da < db ? -1 : da > db ? 1 : 0;
}

/* Pairs the lesions of @a with those of @b; pair_a[i] is b's index for
 * a's i, or -1, and used_b[j] says whether b's j is paired. @tp, when
 * given, keeps only new lesions first seen there (and compares their
 * calipers there); else calipers are compared at the first of @tps where
 * both lesions have one. In order:
 * 1. two lesions that both carry a "tracking_uid" are one lesion when it
 *    is the same, and never otherwise;
 * 2. lesions at the same place (organ, nodal or not) whose calipers lie
 *    within the tolerance are paired nearest first;
 * 3. at the same place, lesions that cannot be compared by position (one
 *    of them has no caliper at a timepoint the other has one) are paired
 *    in the order each reader listed them. Two lesions whose calipers lie
 *    too far apart are two lesions. */
static void
pair_lesions (JsonArray  *a,
              JsonArray  *b,
              JsonArray  *tps,
              const char *tp,
              GArray     *pair_a,
              GArray     *used_b)
{
  guint na = a ? json_array_get_length (a) : 0, nb = b ? json_array_get_length (b) : 0;
  g_autoptr (GArray) cands = g_array_new (FALSE, FALSE, sizeof (Candidate));

  g_array_set_size (used_b, nb);
  g_array_set_size (pair_a, na);
  for (guint j = 0; j < nb; j++)
    g_array_index (used_b, gboolean, j) = FALSE;
  for (guint i = 0; i < na; i++)
    g_array_index (pair_a, int, i) = -1;

#define IN_TP(l) \
  ((l) && (tp == NULL || g_strcmp0 (rr_json_get_string ((l), "timepoint"), tp) == 0))
#define FREE_B(j) (!g_array_index (used_b, gboolean, (j)))

  for (guint i = 0; i < na; i++)
    {
      JsonObject *la = rr_json_get_element (a, i);
      const char *ua = la ? rr_json_get_string (la, "tracking_uid") : NULL;
      for (guint j = 0; ua && IN_TP (la) && j < nb; j++)
        {
          JsonObject *lb = rr_json_get_element (b, j);
          if (IN_TP (lb) && FREE_B (j) &&
              g_strcmp0 (ua, rr_json_get_string (lb, "tracking_uid")) == 0)
            {
              g_array_index (pair_a, int, i) = (int) j;
              g_array_index (used_b, gboolean, j) = TRUE;
              break;
            }
        }
    }

  /* The candidates of steps 2 and 3: same place, both free, not two
   * different tracking identities. */
  for (guint i = 0; i < na; i++)
    {
      JsonObject *la = rr_json_get_element (a, i);
      if (!IN_TP (la) || g_array_index (pair_a, int, i) >= 0)
        continue;
      for (guint j = 0; j < nb; j++)
        {
          JsonObject *lb = rr_json_get_element (b, j);
          Candidate c = { i, j, G_MAXDOUBLE };
          double tolerance;
          if (!IN_TP (lb) || !FREE_B (j) || !same_place (la, lb) ||
              (rr_json_get_string (la, "tracking_uid") && rr_json_get_string (lb, "tracking_uid")))
            continue;
          if (caliper_distance (la, lb, tps, tp, &c.distance, &tolerance) &&
              c.distance > tolerance)
            continue;
          g_array_append_val (cands, c);
        }
    }
  /* Measured pairs nearest first; the unmeasured (G_MAXDOUBLE) after, in
   * the readers' order, which the stable sort keeps. */
  g_array_sort (cands, by_distance);
  for (guint k = 0; k < cands->len; k++)
    {
      Candidate *c = &g_array_index (cands, Candidate, k);
      if (g_array_index (pair_a, int, c->i) < 0 && FREE_B (c->j))
        {
          g_array_index (pair_a, int, c->i) = (int) c->j;
          g_array_index (used_b, gboolean, c->j) = TRUE;
        }
    }
#undef IN_TP
#undef FREE_B
}

GPtrArray *
rr_read_compare (JsonObject *read_1,
                 JsonObject *read_2)
{
  GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify) rr_read_diff_free);
  JsonArray *t1 = rr_json_get_array (read_1, "target_lesions");
  JsonArray *t2 = rr_json_get_array (read_2, "target_lesions");
  JsonArray *n1 = rr_json_get_array (read_1, "new_lesions");
  JsonArray *n2 = rr_json_get_array (read_2, "new_lesions");
  JsonArray *tps = rr_json_get_array (read_1, "timepoints");
  g_autoptr (GArray) pair = g_array_new (FALSE, FALSE, sizeof (int));
  g_autoptr (GArray) used = g_array_new (FALSE, FALSE, sizeof (gboolean));

  /* Targets: unpaired ones are a different choice; paired ones are
   * compared at every timepoint both measured. */
  pair_lesions (t1, t2, tps, NULL, pair, used);
  for (guint i = 0; i < pair->len; i++)
    {
      JsonObject *l1 = rr_json_get_element (t1, i), *l2;
      int j = g_array_index (pair, int, i);
      if (l1 == NULL)
        continue;
      if (j < 0)
        {
          g_ptr_array_add (out, diff_new (RR_READ_DIFF_TARGET_CHOICE, NULL, 1, l1, NULL));
          continue;
        }
      l2 = rr_json_get_element (t2, (guint) j);
      for (guint k = 0; tps && k < json_array_get_length (tps); k++)
        {
          const char *tp = rr_json_get_string (rr_json_get_element (tps, k), "id");
          double a, b;
          if (tp && size_at (l1, tp, &a) && size_at (l2, tp, &b) &&
              fabs (a - b) > RR_READ_DIFF_RATIO * MIN (a, b) + 1e-9)
            {
              RrReadDiff *d = diff_new (RR_READ_DIFF_MEASUREMENT, tp, 0, l1, l2);
              d->mm_1 = a;
              d->mm_2 = b;
              g_ptr_array_add (out, d);
            }
        }
    }
  for (guint j = 0; j < used->len; j++)
    if (!g_array_index (used, gboolean, j) && rr_json_get_element (t2, j))
      g_ptr_array_add (out, diff_new (RR_READ_DIFF_TARGET_CHOICE, NULL, 2, NULL,
                                      rr_json_get_element (t2, j)));

  /* New lesions, timepoint by timepoint. */
  for (guint k = 0; tps && k < json_array_get_length (tps); k++)
    {
      const char *tp = rr_json_get_string (rr_json_get_element (tps, k), "id");
      if (tp == NULL)
        continue;
      g_array_set_size (pair, 0);
      pair_lesions (n1, n2, tps, tp, pair, used);
      for (guint i = 0; i < pair->len; i++)
        {
          JsonObject *l1 = rr_json_get_element (n1, i);
          if (l1 && g_strcmp0 (rr_json_get_string (l1, "timepoint"), tp) == 0 &&
              g_array_index (pair, int, i) < 0)
            g_ptr_array_add (out, diff_new (RR_READ_DIFF_NEW_LESION, tp, 1, l1, NULL));
        }
      for (guint j = 0; j < used->len; j++)
        {
          JsonObject *l2 = rr_json_get_element (n2, j);
          if (l2 && !g_array_index (used, gboolean, j) &&
              g_strcmp0 (rr_json_get_string (l2, "timepoint"), tp) == 0)
            g_ptr_array_add (out, diff_new (RR_READ_DIFF_NEW_LESION, tp, 2, NULL, l2));
        }
    }
  return out;
}

gboolean
rr_read_diff_concerns (const RrReadDiff *diff,
                       guint             reader,
                       const char       *lesion_id)
{
  return g_strcmp0 (reader == 1 ? diff->lesion_1 : diff->lesion_2, lesion_id) == 0;
}
