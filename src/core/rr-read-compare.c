/* rr-read-compare.c: two reads of one case side by side. Lesions carry no
 * identity across readers (each numbers its own T1, T2...), so they are
 * paired by where they are: the organ, and whether the lesion is a node. */
#include "rr-read-compare.h"

#include <math.h>

#define RR_READ_DIFF_RATIO 0.20

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

static JsonArray *
array_of (JsonObject *o,
          const char *name)
{
  JsonNode *n = o ? json_object_get_member (o, name) : NULL;
  return n && JSON_NODE_HOLDS_ARRAY (n) ? json_node_get_array (n) : NULL;
}

static JsonObject *
lesion_at (JsonArray *a,
           guint      i)
{
  JsonNode *n = json_array_get_element (a, i);
  return n && JSON_NODE_HOLDS_OBJECT (n) ? json_node_get_object (n) : NULL;
}

static const char *
str_of (JsonObject *o,
        const char *name)
{
  JsonNode *n = o ? json_object_get_member (o, name) : NULL;
  return n && JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_STRING
           ? json_node_get_string (n) : NULL;
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
  return na == nb && g_strcmp0 (str_of (a, "organ"), str_of (b, "organ")) == 0;
}

/* A size (fragments added); FALSE when there is none to compare (NE,
 * merged, missing). */
static gboolean
size_at (JsonObject *lesion,
         const char *tp,
         double     *mm)
{
  JsonNode *ms = json_object_get_member (lesion, "measurements");
  JsonNode *v;
  if (ms == NULL || !JSON_NODE_HOLDS_OBJECT (ms) ||
      (v = json_object_get_member (json_node_get_object (ms), tp)) == NULL)
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
  d->lesion_1 = g_strdup (str_of (l1, "id"));
  d->lesion_2 = g_strdup (str_of (l2, "id"));
  return d;
}

/* Pairs the lesions of @a with those of @b at the same place, first come
 * first served; pair[i] is b's index for a's i, or -1. @tp, when given,
 * keeps only new lesions first seen there. */
static void
pair_lesions (JsonArray  *a,
              JsonArray  *b,
              const char *tp,
              GArray     *pair_a,
              GArray     *used_b)
{
  guint nb = b ? json_array_get_length (b) : 0;
  g_array_set_size (used_b, nb);
  for (guint j = 0; j < nb; j++)
    g_array_index (used_b, gboolean, j) = FALSE;
  for (guint i = 0; a && i < json_array_get_length (a); i++)
    {
      JsonObject *la = lesion_at (a, i);
      int found = -1;
      if (la && (tp == NULL || g_strcmp0 (str_of (la, "timepoint"), tp) == 0))
        for (guint j = 0; j < nb && found < 0; j++)
          {
            JsonObject *lb = lesion_at (b, j);
            if (lb && !g_array_index (used_b, gboolean, j) &&
                (tp == NULL || g_strcmp0 (str_of (lb, "timepoint"), tp) == 0) &&
                same_place (la, lb))
              found = (int) j;
          }
      if (found >= 0)
        g_array_index (used_b, gboolean, found) = TRUE;
      g_array_append_val (pair_a, found);
    }
}

GPtrArray *
rr_read_compare (JsonObject *read_1,
                 JsonObject *read_2)
{
  GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify) rr_read_diff_free);
  JsonArray *t1 = array_of (read_1, "target_lesions"), *t2 = array_of (read_2, "target_lesions");
  JsonArray *n1 = array_of (read_1, "new_lesions"), *n2 = array_of (read_2, "new_lesions");
  JsonArray *tps = array_of (read_1, "timepoints");
  g_autoptr (GArray) pair = g_array_new (FALSE, FALSE, sizeof (int));
  g_autoptr (GArray) used = g_array_new (FALSE, FALSE, sizeof (gboolean));

  /* Targets: unpaired ones are a different choice; paired ones are
   * compared at every timepoint both measured. */
  pair_lesions (t1, t2, NULL, pair, used);
  for (guint i = 0; i < pair->len; i++)
    {
      JsonObject *l1 = lesion_at (t1, i), *l2;
      int j = g_array_index (pair, int, i);
      if (l1 == NULL)
        continue;
      if (j < 0)
        {
          g_ptr_array_add (out, diff_new (RR_READ_DIFF_TARGET_CHOICE, NULL, 1, l1, NULL));
          continue;
        }
      l2 = lesion_at (t2, (guint) j);
      for (guint k = 0; tps && k < json_array_get_length (tps); k++)
        {
          const char *tp = str_of (lesion_at (tps, k), "id");
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
    if (!g_array_index (used, gboolean, j) && lesion_at (t2, j))
      g_ptr_array_add (out, diff_new (RR_READ_DIFF_TARGET_CHOICE, NULL, 2, NULL,
                                      lesion_at (t2, j)));

  /* New lesions, timepoint by timepoint. */
  for (guint k = 0; tps && k < json_array_get_length (tps); k++)
    {
      const char *tp = str_of (lesion_at (tps, k), "id");
      if (tp == NULL)
        continue;
      g_array_set_size (pair, 0);
      pair_lesions (n1, n2, tp, pair, used);
      for (guint i = 0; i < pair->len; i++)
        {
          JsonObject *l1 = lesion_at (n1, i);
          if (l1 && g_strcmp0 (str_of (l1, "timepoint"), tp) == 0 &&
              g_array_index (pair, int, i) < 0)
            g_ptr_array_add (out, diff_new (RR_READ_DIFF_NEW_LESION, tp, 1, l1, NULL));
        }
      for (guint j = 0; j < used->len; j++)
        {
          JsonObject *l2 = lesion_at (n2, j);
          if (l2 && !g_array_index (used, gboolean, j) &&
              g_strcmp0 (str_of (l2, "timepoint"), tp) == 0)
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
