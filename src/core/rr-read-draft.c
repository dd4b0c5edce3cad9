/* rr-read-draft.c: the lesion form's model, its saved form, and the read
 * JSON (cli.md) built from it with every caliper. */
#include "rr-read-draft.h"
#include "rr-criteria.h"
#include "rr-json-writer.h"
#include "rr-read-private.h"

#include <math.h>
#include <string.h>

static const char *const entry_names[] = {
  [RR_ENTRY_NONE] = "none", [RR_ENTRY_CALIPER] = "caliper", [RR_ENTRY_TSTM] = "TSTM",
  [RR_ENTRY_NE] = "NE", [RR_ENTRY_GONE] = "gone", [RR_ENTRY_PRESENT] = "present",
  [RR_ENTRY_PROGRESSION] = "progression", [RR_ENTRY_SPLIT] = "split",
  [RR_ENTRY_MERGED] = "merged",
};
static const char *const kind_names[] = { "target", "non_target", "new" };

/* Bounds for what a saved form may hold (it is read back from disk). */
#define MAX_LESIONS 200
#define MAX_TIMEPOINTS 100
#define MAX_FRAGMENTS 50

static void
lesion_free (gpointer p)
{
  RrDraftLesion *l = p;
  g_free (l->id);
  g_free (l->organ);
  g_free (l->location);
  for (guint k = 0; k < l->n_entries; k++)
    {
      g_free (l->entries[k].caliper);
      g_strfreev (l->entries[k].fragments);
    }
  g_free (l->entries);
  g_free (l);
}

void
rr_read_draft_free (RrReadDraft *d)
{
  if (d == NULL)
    return;
  g_ptr_array_unref (d->lesions);
  g_ptr_array_unref (d->timepoints);
  g_free (d->criteria);
  g_free (d);
}

static gint
by_day (gconstpointer a,
        gconstpointer b)
{
  const RrTimepoint *x = *(RrTimepoint *const *) a, *y = *(RrTimepoint *const *) b;
  return (x->day > y->day) - (x->day < y->day);
}

RrReadDraft *
rr_read_draft_new_for_task (const char  *task_json,
                            GError     **error)
{
  g_autoptr (JsonParser) p = json_parser_new ();
  g_autoptr (RrReadDraft) d = g_new0 (RrReadDraft, 1);
  JsonObject *o;
  JsonNode *tps;

  d->timepoints = g_ptr_array_new_with_free_func (rr_timepoint_free);
  d->lesions = g_ptr_array_new_with_free_func (lesion_free);
  if (!json_parser_load_from_data (p, task_json ? task_json : "", -1, error))
    return NULL;
  if (!JSON_NODE_HOLDS_OBJECT (json_parser_get_root (p)))
    {
      g_set_error (error, RR_READ_ERROR, RR_READ_ERROR_INVALID, "the task is not an object");
      return NULL;
    }
  o = json_node_get_object (json_parser_get_root (p));
  d->criteria = g_strdup (json_object_get_string_member_with_default (o, "criteria", "recist1.1"));
  tps = json_object_get_member (o, "timepoints");
  if (tps == NULL || !JSON_NODE_HOLDS_ARRAY (tps) ||
      json_array_get_length (json_node_get_array (tps)) == 0 ||
      json_array_get_length (json_node_get_array (tps)) > MAX_TIMEPOINTS)
    {
      g_set_error (error, RR_READ_ERROR, RR_READ_ERROR_INVALID,
                   "the task has no timepoints (or more than %d)", MAX_TIMEPOINTS);
      return NULL;
    }
  for (guint i = 0; i < json_array_get_length (json_node_get_array (tps)); i++)
    {
      JsonNode *e = json_array_get_element (json_node_get_array (tps), i);
      JsonObject *t = JSON_NODE_HOLDS_OBJECT (e) ? json_node_get_object (e) : NULL;
      const char *label = t ? json_object_get_string_member_with_default (t, "label", NULL) : NULL;
      RrTimepoint *tp;
      if (label == NULL || *label == '\0')
        {
          g_set_error (error, RR_READ_ERROR, RR_READ_ERROR_INVALID,
                       "timepoint %u of the task has no label", i + 1);
          return NULL;
        }
      tp = g_new0 (RrTimepoint, 1);
      tp->id = g_strdup (label);
      tp->day = (int) json_object_get_int_member_with_default (t, "day", 0);
      g_ptr_array_add (d->timepoints, tp);
    }
  /* The server lists them in order; a client never trusts that for the
   * baseline. */
  g_ptr_array_sort (d->timepoints, by_day);
  return g_steal_pointer (&d);
}

static RrDraftLesion *
lesion_new (RrReadDraft  *d,
            RrLesionKind  kind,
            const char   *id)
{
  RrDraftLesion *l = g_new0 (RrDraftLesion, 1);
  l->id = g_strdup (id);
  l->kind = kind;
  l->organ = g_strdup ("");
  l->entries = g_new0 (RrDraftEntry, d->timepoints->len);
  l->n_entries = d->timepoints->len;
  g_ptr_array_add (d->lesions, l);
  return l;
}

RrDraftLesion *
rr_read_draft_find (RrReadDraft *d,
                    const char  *id)
{
  for (guint i = 0; id && i < d->lesions->len; i++)
    if (g_str_equal (((RrDraftLesion *) d->lesions->pdata[i])->id, id))
      return d->lesions->pdata[i];
  return NULL;
}

RrDraftLesion *
rr_read_draft_find_caliper (RrReadDraft *d,
                            const char  *caliper,
                            guint       *tp)
{
  for (guint i = 0; caliper && i < d->lesions->len; i++)
    {
      RrDraftLesion *l = d->lesions->pdata[i];
      for (guint k = 0; k < d->timepoints->len; k++)
        if (g_strcmp0 (l->entries[k].caliper, caliper) == 0 ||
            (l->entries[k].fragments &&
             g_strv_contains ((const char *const *) l->entries[k].fragments, caliper)))
          {
            if (tp)
              *tp = k;
            return l;
          }
    }
  return NULL;
}

guint
rr_read_draft_count (const RrReadDraft *d,
                     RrLesionKind       kind)
{
  guint n = 0;
  for (guint i = 0; i < d->lesions->len; i++)
    n += ((RrDraftLesion *) d->lesions->pdata[i])->kind == kind;
  return n;
}

char *
rr_read_draft_unassessed (const RrReadDraft *d,
                          guint              tp)
{
  GString *ids = NULL;
  for (guint i = 0; i < d->lesions->len; i++)
    {
      const RrDraftLesion *l = d->lesions->pdata[i];
      /* A new lesion is assessed from the timepoint it was first seen. */
      if (tp >= l->n_entries || (l->kind == RR_LESION_NEW && tp < l->timepoint) ||
          l->entries[tp].kind != RR_ENTRY_NONE)
        continue;
      if (ids == NULL)
        ids = g_string_new (l->id);
      else
        g_string_append_printf (ids, ", %s", l->id);
    }
  return ids ? g_string_free (ids, FALSE) : NULL;
}

RrDraftLesion *
rr_read_draft_add (RrReadDraft  *d,
                   RrLesionKind  kind,
                   guint         tp,
                   const char   *caliper,
                   GError      **error)
{
  const char *prefix = kind == RR_LESION_TARGET ? "T" : kind == RR_LESION_NON_TARGET ? "N" : "NEW";
  RrDraftLesion *l;

  if (tp >= d->timepoints->len)
    {
      g_set_error (error, RR_READ_ERROR, RR_READ_ERROR_INVALID, "no timepoint %u", tp);
      return NULL;
    }
  /* RECIST 1.1: at most five targets (criteria.md); refused here rather
   * than left for the reader to find at submission. */
  if (kind == RR_LESION_TARGET && rr_read_draft_count (d, RR_LESION_TARGET) >= 5)
    {
      g_set_error (error, RR_READ_ERROR, RR_READ_ERROR_INVALID,
                   "A read has at most five target lesions");
      return NULL;
    }
  if (kind == RR_LESION_TARGET && tp != 0)
    {
      g_set_error (error, RR_READ_ERROR, RR_READ_ERROR_INVALID,
                   "Target lesions are chosen at baseline");
      return NULL;
    }
  if (d->lesions->len >= MAX_LESIONS)
    {
      g_set_error (error, RR_READ_ERROR, RR_READ_ERROR_INVALID, "Too many lesions");
      return NULL;
    }
  for (guint n = 1;; n++)
    {
      g_autofree char *id = g_strdup_printf ("%s%u", prefix, n);
      if (rr_read_draft_find (d, id) == NULL)
        {
          l = lesion_new (d, kind, id);
          break;
        }
    }
  if (kind == RR_LESION_NEW)
    {
      l->timepoint = tp;
      rr_read_draft_set_entry (l, tp, caliper ? RR_ENTRY_CALIPER : RR_ENTRY_PRESENT, caliper);
    }
  else if (kind == RR_LESION_NON_TARGET)
    rr_read_draft_set_entry (l, tp, RR_ENTRY_PRESENT, caliper);
  else
    rr_read_draft_set_entry (l, tp, caliper ? RR_ENTRY_CALIPER : RR_ENTRY_NONE, caliper);
  return l;
}

gboolean
rr_read_draft_remove (RrReadDraft *d,
                      const char  *id)
{
  RrDraftLesion *l = rr_read_draft_find (d, id);
  if (l == NULL)
    return FALSE;
  return g_ptr_array_remove (d->lesions, l);
}

void
rr_read_draft_set_entry (RrDraftLesion *l,
                         guint          tp,
                         RrEntryKind    kind,
                         const char    *caliper)
{
  g_free (l->entries[tp].caliper);
  g_clear_pointer (&l->entries[tp].fragments, g_strfreev);
  l->entries[tp].kind = kind;
  l->entries[tp].caliper = g_strdup (caliper);
}

gboolean
rr_read_draft_add_fragment (RrDraftLesion *l,
                            guint          tp,
                            const char    *caliper)
{
  RrDraftEntry *e = &l->entries[tp];
  guint n = e->fragments ? g_strv_length (e->fragments) : 0;

  if (caliper == NULL || e->caliper == NULL ||
      (e->kind != RR_ENTRY_CALIPER && e->kind != RR_ENTRY_SPLIT) || n + 1 >= MAX_FRAGMENTS ||
      g_str_equal (e->caliper, caliper) ||
      (e->fragments && g_strv_contains ((const char *const *) e->fragments, caliper)))
    return FALSE;
  e->kind = RR_ENTRY_SPLIT;
  e->fragments = g_renew (char *, e->fragments, n + 2);
  e->fragments[n] = g_strdup (caliper);
  e->fragments[n + 1] = NULL;
  return TRUE;
}

gint64
rr_read_draft_entry_tenths (const RrDraftLesion *l,
                            guint                tp,
                            RrCaliperLookup      lookup,
                            gpointer             data)
{
  const RrDraftEntry *e = &l->entries[tp];
  gint64 sum;

  switch (e->kind)
    {
    case RR_ENTRY_CALIPER:
      return rr_read_draft_caliper_tenths (e->caliper ? lookup (e->caliper, data) : NULL,
                                           l->nodal);
    case RR_ENTRY_SPLIT:
      sum = rr_read_draft_caliper_tenths (e->caliper ? lookup (e->caliper, data) : NULL,
                                          l->nodal);
      for (guint i = 0; sum >= 0 && e->fragments && e->fragments[i]; i++)
        {
          gint64 t = rr_read_draft_caliper_tenths (lookup (e->fragments[i], data), l->nodal);
          sum = t < 0 ? -1 : sum + t;
        }
      return sum;
    case RR_ENTRY_GONE:
    case RR_ENTRY_MERGED:
      return 0;
    case RR_ENTRY_TSTM:
      return 50;
    default:
      return -1;
    }
}

gint64
rr_read_draft_caliper_tenths (const RrMeasurement *m,
                              gboolean             nodal)
{
  RrMeasureValues v;
  double mm;
  if (m == NULL)
    return -1;
  if (m->kind != RR_MEASURE_LENGTH && m->kind != RR_MEASURE_BIDIRECTIONAL)
    return -1;
  /* A node's size is the short axis the reader measured; one the tool
   * placed and nobody moved gives none (the value stays missing). */
  if (nodal && m->kind == RR_MEASURE_BIDIRECTIONAL && !rr_measurement_has_short_axis (m))
    return -1;
  rr_measurement_compute (m, NULL, &v);
  mm = nodal && m->kind == RR_MEASURE_BIDIRECTIONAL ? v.width : v.length;
  if (!isfinite (mm) || mm < 0 || mm > 10000)
    return -1;
  /* Half away from zero, like the engine reads a number given finer. */
  return (gint64) floor (mm * 10.0 + 0.5);
}

/* ---- the saved form ---- */

char *
rr_read_draft_to_json (const RrReadDraft *d)
{
  g_autoptr (RrJsonWriter) w = rr_json_writer_new (FALSE);
  rr_json_begin_object (w);
  rr_json_key (w, "version");
  rr_json_int (w, 1);
  rr_json_key (w, "criteria");
  rr_json_string (w, d->criteria);
  rr_json_key (w, "lesions");
  rr_json_begin_array (w);
  for (guint i = 0; i < d->lesions->len; i++)
    {
      const RrDraftLesion *l = d->lesions->pdata[i];
      rr_json_begin_object (w);
      rr_json_key (w, "id");
      rr_json_string (w, l->id);
      rr_json_key (w, "kind");
      rr_json_string (w, kind_names[l->kind]);
      rr_json_key (w, "organ");
      rr_json_string (w, l->organ);
      rr_json_key (w, "location");
      rr_json_string (w, l->location ? l->location : "");
      rr_json_key (w, "nodal");
      rr_json_bool (w, l->nodal);
      rr_json_key (w, "equivocal");
      rr_json_bool (w, l->equivocal);
      rr_json_key (w, "timepoint");
      rr_json_string (w, ((RrTimepoint *) d->timepoints->pdata[l->timepoint])->id);
      rr_json_key (w, "slice_thickness_mm");
      rr_json_double (w, l->slice_thickness_mm);
      rr_json_key (w, "entries");
      rr_json_begin_object (w);
      for (guint k = 0; k < d->timepoints->len; k++)
        if (l->entries[k].kind != RR_ENTRY_NONE || l->entries[k].caliper)
          {
            rr_json_key (w, ((RrTimepoint *) d->timepoints->pdata[k])->id);
            rr_json_begin_object (w);
            rr_json_key (w, "kind");
            rr_json_string (w, entry_names[l->entries[k].kind]);
            if (l->entries[k].caliper)
              {
                rr_json_key (w, "caliper");
                rr_json_string (w, l->entries[k].caliper);
              }
            if (l->entries[k].fragments)
              {
                rr_json_key (w, "fragments");
                rr_json_begin_array (w);
                for (guint f = 0; l->entries[k].fragments[f]; f++)
                  rr_json_string (w, l->entries[k].fragments[f]);
                rr_json_end_array (w);
              }
            rr_json_end_object (w);
          }
      rr_json_end_object (w);
      rr_json_end_object (w);
    }
  rr_json_end_array (w);
  rr_json_end_object (w);
  return rr_json_writer_steal (w);
}

static int
timepoint_of (const RrReadDraft *d,
              const char        *label)
{
  for (guint k = 0; label && k < d->timepoints->len; k++)
    if (g_str_equal (((RrTimepoint *) d->timepoints->pdata[k])->id, label))
      return (int) k;
  return -1;
}

gboolean
rr_read_draft_load (RrReadDraft  *d,
                    const char   *json,
                    GError      **error)
{
  g_autoptr (JsonParser) p = json_parser_new ();
  JsonObject *o;
  JsonNode *ls;

  if (!json_parser_load_from_data (p, json, -1, error))
    return FALSE;
  if (!JSON_NODE_HOLDS_OBJECT (json_parser_get_root (p)))
    {
      g_set_error (error, RR_READ_ERROR, RR_READ_ERROR_INVALID, "the saved form is not an object");
      return FALSE;
    }
  o = json_node_get_object (json_parser_get_root (p));
  ls = json_object_get_member (o, "lesions");
  if (ls == NULL || !JSON_NODE_HOLDS_ARRAY (ls) ||
      json_array_get_length (json_node_get_array (ls)) > MAX_LESIONS)
    {
      g_set_error (error, RR_READ_ERROR, RR_READ_ERROR_INVALID,
                   "the saved form has no list of lesions (or more than %d)", MAX_LESIONS);
      return FALSE;
    }
  g_ptr_array_set_size (d->lesions, 0);
  for (guint i = 0; i < json_array_get_length (json_node_get_array (ls)); i++)
    {
      JsonNode *e = json_array_get_element (json_node_get_array (ls), i);
      JsonObject *lo = JSON_NODE_HOLDS_OBJECT (e) ? json_node_get_object (e) : NULL;
      const char *id = lo ? json_object_get_string_member_with_default (lo, "id", NULL) : NULL;
      const char *kind = lo ? json_object_get_string_member_with_default (lo, "kind", "") : "";
      JsonNode *en = lo ? json_object_get_member (lo, "entries") : NULL;
      RrDraftLesion *l;
      int k, tp;
      if (id == NULL || *id == '\0' || strlen (id) > 64 || rr_read_draft_find (d, id))
        continue;
      for (k = 0; k < 3 && !g_str_equal (kind, kind_names[k]); k++)
        ;
      if (k == 3)
        continue;
      l = lesion_new (d, (RrLesionKind) k, id);
      g_free (l->organ);
      l->organ = g_strdup (json_object_get_string_member_with_default (lo, "organ", ""));
      l->location = g_strdup (json_object_get_string_member_with_default (lo, "location", ""));
      l->nodal = json_object_get_boolean_member_with_default (lo, "nodal", FALSE);
      l->equivocal = json_object_get_boolean_member_with_default (lo, "equivocal", FALSE);
      l->slice_thickness_mm = json_object_get_double_member_with_default (lo, "slice_thickness_mm",
                                                                          0);
      tp = timepoint_of (d, json_object_get_string_member_with_default (lo, "timepoint", NULL));
      l->timepoint = tp < 0 ? 0 : (guint) tp;
      for (guint t = 0; en && JSON_NODE_HOLDS_OBJECT (en) && t < d->timepoints->len; t++)
        {
          const char *label = ((RrTimepoint *) d->timepoints->pdata[t])->id;
          JsonNode *x = json_object_get_member (json_node_get_object (en), label);
          JsonObject *xo = x && JSON_NODE_HOLDS_OBJECT (x) ? json_node_get_object (x) : NULL;
          const char *ek = xo ? json_object_get_string_member_with_default (xo, "kind", "") : "";
          JsonNode *fr = xo ? json_object_get_member (xo, "fragments") : NULL;
          for (guint n = 0; xo && n < G_N_ELEMENTS (entry_names); n++)
            if (g_str_equal (ek, entry_names[n]))
              rr_read_draft_set_entry (l, t, (RrEntryKind) n == RR_ENTRY_SPLIT
                                               ? RR_ENTRY_CALIPER : (RrEntryKind) n,
                                       json_object_get_string_member_with_default (xo, "caliper",
                                                                                   NULL));
          /* A split's other fragments (bounded: the form is read from disk). */
          if (g_str_equal (ek, "split") && fr && JSON_NODE_HOLDS_ARRAY (fr))
            for (guint f = 0; f < MIN (json_array_get_length (json_node_get_array (fr)),
                                       MAX_FRAGMENTS); f++)
              {
                const char *fid = json_array_get_string_element (json_node_get_array (fr), f);
                if (fid && strlen (fid) <= 64)
                  rr_read_draft_add_fragment (l, t, fid);
              }
        }
    }
  return TRUE;
}

/* ---- the read JSON ---- */

static void
write_calipers (RrJsonWriter        *w,
                const RrReadDraft   *d,
                const RrDraftLesion *l,
                RrCaliperLookup      lookup,
                gpointer             data)
{
  gboolean any = FALSE;
  for (guint k = 0; k < d->timepoints->len; k++)
    {
      const RrDraftEntry *e = &l->entries[k];
      const RrMeasurement *m = e->caliper ? lookup (e->caliper, data) : NULL;
      g_autofree char *json = NULL;
      if (m == NULL)
        continue;
      if (!any)
        {
          rr_json_key (w, "calipers");
          rr_json_begin_object (w);
          any = TRUE;
        }
      json = rr_measurement_to_json (m);
      rr_json_key (w, ((RrTimepoint *) d->timepoints->pdata[k])->id);
      if (e->kind != RR_ENTRY_SPLIT)
        {
          rr_json_raw (w, json);
          continue;
        }
      /* A split lesion: one caliper per fragment, in the order of the
       * sizes (read-json.md). */
      rr_json_begin_array (w);
      rr_json_raw (w, json);
      for (guint f = 0; e->fragments && e->fragments[f]; f++)
        {
          const RrMeasurement *fm = lookup (e->fragments[f], data);
          if (fm)
            {
              g_autofree char *fj = rr_measurement_to_json (fm);
              rr_json_raw (w, fj);
            }
        }
      rr_json_end_array (w);
    }
  if (any)
    rr_json_end_object (w);
}

static void
write_common (RrJsonWriter        *w,
              const RrDraftLesion *l)
{
  rr_json_key (w, "id");
  rr_json_string (w, l->id);
  rr_json_key (w, "organ");
  rr_json_string (w, l->organ);
  rr_json_key (w, "nodal");
  rr_json_bool (w, l->nodal);
  if (l->location && *l->location)
    {
      rr_json_key (w, "location");
      rr_json_string (w, l->location);
    }
}

/* A lesion's "measurements": each timepoint's value as cli.md and
 * read-json.md write it (a target's; a new lesion's sizes, iRECIST). */
static void
write_measurements (RrJsonWriter        *w,
                    const RrReadDraft   *d,
                    const RrDraftLesion *l,
                    RrCaliperLookup      lookup,
                    gpointer             data)
{
  rr_json_key (w, "measurements");
  rr_json_begin_object (w);
  for (guint k = 0; k < d->timepoints->len; k++)
    {
      const RrDraftEntry *e = &l->entries[k];
      const char *label = ((RrTimepoint *) d->timepoints->pdata[k])->id;
      gint64 tenths = -1;
      switch (e->kind)
        {
        case RR_ENTRY_CALIPER:
          tenths = rr_read_draft_caliper_tenths (e->caliper ? lookup (e->caliper, data) : NULL,
                                                 l->nodal);
          if (tenths >= 0)
            {
              rr_json_key (w, label);
              rr_json_tenths (w, tenths);
            }
          break;
        case RR_ENTRY_TSTM:
        case RR_ENTRY_NE:
          rr_json_key (w, label);
          rr_json_string (w, entry_names[e->kind]);
          break;
        case RR_ENTRY_GONE:
          rr_json_key (w, label);
          rr_json_tenths (w, 0);
          break;
        case RR_ENTRY_MERGED:
          rr_json_key (w, label);
          rr_json_string (w, "MERGED");
          break;
        case RR_ENTRY_SPLIT:
          {
            /* The fragments' sizes, each as measured; all or none. */
            gint64 first = rr_read_draft_caliper_tenths (e->caliper ? lookup (e->caliper, data)
                                                                    : NULL, l->nodal);
            gboolean whole = first >= 0;
            for (guint f = 0; whole && e->fragments && e->fragments[f]; f++)
              whole = rr_read_draft_caliper_tenths (lookup (e->fragments[f], data),
                                                    l->nodal) >= 0;
            if (!whole)
              break;
            rr_json_key (w, label);
            rr_json_begin_array (w);
            rr_json_tenths (w, first);
            for (guint f = 0; e->fragments && e->fragments[f]; f++)
              rr_json_tenths (w, rr_read_draft_caliper_tenths (lookup (e->fragments[f], data),
                                                               l->nodal));
            rr_json_end_array (w);
          }
          break;
        default:
          break;
        }
    }
  rr_json_end_object (w);
}

static char *
build (const RrReadDraft *d,
       RrCaliperLookup    lookup,
       gpointer           data,
       gboolean           calipers)
{
  g_autoptr (RrJsonWriter) w = rr_json_writer_new (FALSE);

  rr_json_begin_object (w);
  rr_json_key (w, "criteria");
  rr_json_string (w, d->criteria);
  rr_read_write_timepoints (w, d->timepoints);

  rr_json_key (w, "target_lesions");
  rr_json_begin_array (w);
  for (guint i = 0; i < d->lesions->len; i++)
    {
      const RrDraftLesion *l = d->lesions->pdata[i];
      if (l->kind != RR_LESION_TARGET)
        continue;
      rr_json_begin_object (w);
      write_common (w, l);
      if (l->slice_thickness_mm > 0)
        {
          rr_json_key (w, "slice_thickness_mm");
          rr_json_double (w, l->slice_thickness_mm);
        }
      write_measurements (w, d, l, lookup, data);
      if (calipers)
        write_calipers (w, d, l, lookup, data);
      rr_json_end_object (w);
    }
  rr_json_end_array (w);

  rr_json_key (w, "non_target_lesions");
  rr_json_begin_array (w);
  for (guint i = 0; i < d->lesions->len; i++)
    {
      const RrDraftLesion *l = d->lesions->pdata[i];
      if (l->kind != RR_LESION_NON_TARGET)
        continue;
      rr_json_begin_object (w);
      write_common (w, l);
      rr_json_key (w, "status");
      rr_json_begin_object (w);
      for (guint k = 0; k < d->timepoints->len; k++)
        {
          const char *s = NULL;
          switch (l->entries[k].kind)
            {
            case RR_ENTRY_PRESENT:
            case RR_ENTRY_CALIPER:
              s = "present";
              break;
            case RR_ENTRY_GONE:
              s = "absent";
              break;
            case RR_ENTRY_PROGRESSION:
              s = "unequivocal_progression";
              break;
            case RR_ENTRY_NE:
              s = "NE";
              break;
            default:
              break;
            }
          if (s)
            {
              rr_json_key (w, ((RrTimepoint *) d->timepoints->pdata[k])->id);
              rr_json_string (w, s);
            }
        }
      rr_json_end_object (w);
      if (calipers)
        write_calipers (w, d, l, lookup, data);
      rr_json_end_object (w);
    }
  rr_json_end_array (w);

  rr_json_key (w, "new_lesions");
  rr_json_begin_array (w);
  for (guint i = 0; i < d->lesions->len; i++)
    {
      const RrDraftLesion *l = d->lesions->pdata[i];
      if (l->kind != RR_LESION_NEW)
        continue;
      rr_json_begin_object (w);
      write_common (w, l);
      rr_json_key (w, "timepoint");
      rr_json_string (w, ((RrTimepoint *) d->timepoints->pdata[l->timepoint])->id);
      rr_json_key (w, "equivocal");
      rr_json_bool (w, l->equivocal);
      /* Its caliper is its size (iRECIST's new-lesion targets and their
       * sum, criteria.md); RECIST 1.1 reads only that it is there. */
      write_measurements (w, d, l, lookup, data);
      if (calipers)
        write_calipers (w, d, l, lookup, data);
      rr_json_end_object (w);
    }
  rr_json_end_array (w);
  rr_json_end_object (w);
  return rr_json_writer_steal (w);
}

char *
rr_read_draft_build (const RrReadDraft *d,
                     RrCaliperLookup    lookup,
                     gpointer           data)
{
  return build (d, lookup, data, TRUE);
}

char *
rr_read_draft_build_values (const RrReadDraft *d,
                            RrCaliperLookup    lookup,
                            gpointer           data)
{
  return build (d, lookup, data, FALSE);
}

char *
rr_read_draft_build_with_responses (const RrReadDraft  *d,
                                    RrCaliperLookup     lookup,
                                    gpointer            data,
                                    GError            **error)
{
  g_autofree char *json = rr_read_draft_build (d, lookup, data);
  g_autoptr (RrRead) read = rr_read_parse (json, -1, error);
  g_autoptr (RrCriteriaResult) result = NULL;
  g_autofree char *responses = NULL;
  gsize n;

  if (read == NULL)
    return NULL;
  result = rr_criteria_evaluate (read, error);
  if (result == NULL)
    return NULL;
  responses = rr_criteria_result_to_json (result);
  /* The built read is one object: its closing brace makes room for one
   * more member. */
  n = strlen (json);
  g_assert (n >= 2 && json[n - 1] == '}');
  json[n - 1] = '\0';
  return g_strdup_printf ("%s, \"responses\": %s}", json, responses);
}

JsonNode *
rr_read_submission_new (JsonNode   *read,
                        const char *meaning)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "read");
  json_builder_add_value (b, json_node_copy (read));
  json_builder_set_member_name (b, "signature");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "meaning");
  json_builder_add_string_value (b, meaning);
  json_builder_end_object (b);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}
