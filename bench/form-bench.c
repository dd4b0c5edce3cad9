/* form-bench.c: what the lesion form does on every caliper change, for a
 * read of 5 targets over 10 timepoints (Baseline and 9 follow-ups): the
 * read JSON built from the draft and its calipers, parsed, evaluated by
 * the criteria engine, and the responses and each row's value put in
 * words. One edit moves a caliper's end by a fraction of a millimetre,
 * as a drag does. Prints the median and the 95th percentile per edit, in
 * milliseconds. The widgets' own update (setting a few labels) is not in
 * it: it needs a display. */
#include "rr-read-draft.h"
#include "rr-criteria.h"
#include "rr-response-text.h"

#include <stdio.h>
#include <stdlib.h>

#define TARGETS 5
#define TIMEPOINTS 10

static GHashTable *calipers;

static const RrMeasurement *
lookup (const char *id,
        gpointer    data)
{
  return g_hash_table_lookup (calipers, id);
}

static const char *
caliper (double len,
         int    k)
{
  RrPlane pl;
  RrVec3 p[2] = { { 10, 10, k }, { 10 + len, 10, k } };
  RrMeasurement *m;
  rr_plane_init_standard (&pl, RR_PLANE_AXIAL, rr_vec3 (0, 0, k), 1, 10, 10);
  m = rr_measurement_new (RR_MEASURE_BIDIRECTIONAL, &pl, p, 2);
  rr_measurement_init_bidirectional (m, p[0], p[1]);
  m->series_uid = g_strdup ("1.2.3");
  g_hash_table_insert (calipers, m->id, m);
  return m->id;
}

static int
by_value (const void *a,
          const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return (x > y) - (x < y);
}

int
main (int    argc,
      char **argv)
{
  static const char *const organs[TARGETS] = { "liver", "liver", "lung", "lung", "kidney" };
  g_autoptr (GString) task = g_string_new ("{\"criteria\": \"recist1.1\", \"timepoints\": [");
  g_autoptr (GError) error = NULL;
  g_autoptr (RrReadDraft) d = NULL;
  int edits = argc > 1 ? atoi (argv[1]) : 2000;
  double *ms;

  if (edits < 10 || edits > 1000000)
    edits = 2000;
  ms = g_new (double, edits);
  calipers = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                    (GDestroyNotify) rr_measurement_free);
  for (int k = 0; k < TIMEPOINTS; k++)
    g_string_append_printf (task, "%s{\"label\": \"%s%d\", \"day\": %d}", k ? ", " : "",
                            k ? "FU" : "BL", k, k * 42);
  g_string_append (task, "]}");
  d = rr_read_draft_new_for_task (task->str, &error);
  if (d == NULL)
    {
      g_printerr ("%s\n", error->message);
      return 1;
    }
  for (int i = 0; i < TARGETS; i++)
    {
      RrDraftLesion *l = rr_read_draft_add (d, RR_LESION_TARGET, 0, caliper (30 + 4 * i, 0),
                                            &error);
      g_free (l->organ);
      l->organ = g_strdup (organs[i]);
      for (int k = 1; k < TIMEPOINTS; k++)
        rr_read_draft_set_entry (l, k, RR_ENTRY_CALIPER, caliper (30 + 4 * i - k, k));
    }

  for (int e = 0; e < edits; e++)
    {
      RrDraftLesion *l = d->lesions->pdata[e % TARGETS];
      RrMeasurement *m = g_hash_table_lookup (calipers, l->entries[TIMEPOINTS - 1].caliper);
      gint64 t0 = g_get_monotonic_time ();
      g_autofree char *json = NULL, *summary = NULL;
      g_autoptr (RrRead) read = NULL;
      g_autoptr (RrCriteriaResult) result = NULL;

      /* The drag: the caliper's end moves 0.1 mm, back and forth. */
      rr_measurement_set_point (m, 1, rr_vec3_add (rr_measurement_point (m, 1),
                                                   rr_vec3 (e % 2 ? -0.1 : 0.1, 0, 0)));
      json = rr_read_draft_build_values (d, lookup, NULL);
      read = rr_read_parse (json, -1, &error);
      result = read ? rr_criteria_evaluate (read, &error) : NULL;
      if (result == NULL)
        {
          g_printerr ("%s\n", error->message);
          return 1;
        }
      summary = rr_response_summary (read, result);
      for (guint i = 0; i < d->lesions->len; i++)
        {
          g_autofree char *v = rr_mm_text (MAX (rr_read_draft_entry_tenths (
            d->lesions->pdata[i], TIMEPOINTS - 1, lookup, NULL), 0));
          (void) v;
        }
      ms[e] = (g_get_monotonic_time () - t0) / 1000.0;
    }
  qsort (ms, edits, sizeof *ms, by_value);
  printf ("edits %d\nmedian-ms %.4f\np95-ms %.4f\n", edits, ms[edits / 2],
          ms[(int) (edits * 0.95)]);
  g_free (ms);
  g_hash_table_unref (calipers);
  return 0;
}
