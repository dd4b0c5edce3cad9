/* rr-read-submitted.c: a read signed elsewhere, kept as the server holds
 * it, turned into what the lesion form shows. */
#include "rr-read-submitted.h"
#include "rr-json.h"
#include "rr-read-task.h"

#include <json-glib/json-glib.h>
#include <string.h>

/* Bounds: the kept JSON came from the network. */
#define MAX_LESIONS 200
#define MAX_FRAGMENTS 50

static JsonObject *
member_object (JsonObject *o,
               const char *name)
{
  JsonNode *n = o ? json_object_get_member (o, name) : NULL;
  return n && JSON_NODE_HOLDS_OBJECT (n) ? json_node_get_object (n) : NULL;
}

/* Oldest first, then by id: one order whatever the hash table's. */
static int
by_creation (gconstpointer a,
             gconstpointer b)
{
  const RrMeasurement *x = *(RrMeasurement *const *) a, *y = *(RrMeasurement *const *) b;
  if (x->created_us != y->created_us)
    return x->created_us < y->created_us ? -1 : 1;
  return g_strcmp0 (x->id, y->id);
}

/* The kept read: {"submission": {"read": ...}}. */
static JsonObject *
kept_read (JsonParser *p,
           const char *kept)
{
  JsonNode *root;
  if (kept == NULL || !json_parser_load_from_data (p, kept, -1, NULL))
    return NULL;
  root = json_parser_get_root (p);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    return NULL;
  return member_object (member_object (json_node_get_object (root), "submission"), "read");
}

/* One caliper object into @calipers (when given and not there yet); its
 * id, or NULL when it does not parse. */
static char *
take_caliper (JsonNode   *n,
              GHashTable *calipers)
{
  g_autofree char *text = NULL;
  g_autoptr (RrMeasurement) m = NULL;
  char *id;
  if (n == NULL || !JSON_NODE_HOLDS_OBJECT (n))
    return NULL;
  text = json_to_string (n, FALSE);
  m = rr_measurement_from_json (text, NULL);
  if (m == NULL || m->id == NULL)
    return NULL;
  id = g_strdup (m->id);
  if (calipers && !g_hash_table_contains (calipers, id))
    g_hash_table_insert (calipers, g_strdup (id), g_steal_pointer (&m));
  return id;
}

/* One timepoint's entry of a lesion in the form's words. */
static void
write_entry (JsonBuilder *b,
             const char  *kind,
             JsonNode    *cal,
             GHashTable  *calipers)
{
  JsonArray *frags = cal && JSON_NODE_HOLDS_ARRAY (cal) ? json_node_get_array (cal) : NULL;
  g_autofree char *first = NULL;

  if (frags == NULL)
    first = take_caliper (cal, calipers);
  else if (json_array_get_length (frags) > 0)
    first = take_caliper (json_array_get_element (frags, 0), calipers);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "kind");
  json_builder_add_string_value (b, kind);
  if (first)
    {
      json_builder_set_member_name (b, "caliper");
      json_builder_add_string_value (b, first);
    }
  if (frags && json_array_get_length (frags) > 1)
    {
      json_builder_set_member_name (b, "fragments");
      json_builder_begin_array (b);
      for (guint f = 1; f < MIN (json_array_get_length (frags), MAX_FRAGMENTS); f++)
        {
          g_autofree char *id = take_caliper (json_array_get_element (frags, f), calipers);
          if (id)
            json_builder_add_string_value (b, id);
        }
      json_builder_end_array (b);
    }
  json_builder_end_object (b);
}

/* What a target's or new lesion's value at a timepoint says, with its
 * caliper: the form's entry kind, or NULL when it has none to show. */
static const char *
value_kind (JsonNode *v,
            JsonNode *cal,
            gboolean  first_seen)
{
  if (v && JSON_NODE_HOLDS_ARRAY (v))
    return cal && JSON_NODE_HOLDS_ARRAY (cal) ? "split" : NULL;
  if (v && JSON_NODE_HOLDS_VALUE (v) && json_node_get_value_type (v) == G_TYPE_STRING)
    {
      const char *s = json_node_get_string (v);
      return g_str_equal (s, "TSTM") ? "TSTM" : g_str_equal (s, "NE") ? "NE"
             : g_str_equal (s, "MERGED") ? "merged" : NULL;
    }
  if (v && JSON_NODE_HOLDS_VALUE (v) && json_node_get_double (v) == 0)
    return "gone";
  if (cal && JSON_NODE_HOLDS_OBJECT (cal))
    return "caliper";
  /* A new lesion is there where it was first seen, sized or not. */
  return first_seen ? "present" : NULL;
}

static const char *
or_empty (const char *s)
{
  return s ? s : "";
}

static const char *
status_kind (const char *s)
{
  static const char *const map[][2] = {
    { "present", "present" }, { "absent", "gone" },
    { "unequivocal_progression", "progression" }, { "NE", "NE" },
  };
  for (guint i = 0; s && i < G_N_ELEMENTS (map); i++)
    if (g_str_equal (s, map[i][0]))
      return map[i][1];
  return NULL;
}

static void
write_lesions (JsonBuilder *b,
               JsonObject  *read,
               const char  *member,
               const char  *kind,
               JsonArray   *tps,
               GHashTable  *calipers)
{
  JsonArray *ls = rr_json_get_array (read, member);
  for (guint i = 0; ls && i < MIN (json_array_get_length (ls), MAX_LESIONS); i++)
    {
      JsonObject *l = rr_json_get_element (ls, i);
      JsonObject *values = member_object (l, "measurements");
      JsonObject *status = member_object (l, "status");
      JsonObject *cals = member_object (l, "calipers");
      const char *first = rr_json_get_string (l, "timepoint");
      if (l == NULL || rr_json_get_string (l, "id") == NULL)
        continue;
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "id");
      json_builder_add_string_value (b, rr_json_get_string (l, "id"));
      json_builder_set_member_name (b, "kind");
      json_builder_add_string_value (b, kind);
      json_builder_set_member_name (b, "organ");
      json_builder_add_string_value (b, or_empty (rr_json_get_string (l, "organ")));
      json_builder_set_member_name (b, "location");
      json_builder_add_string_value (b, or_empty (rr_json_get_string (l, "location")));
      json_builder_set_member_name (b, "nodal");
      json_builder_add_boolean_value (b, json_object_get_boolean_member_with_default (l, "nodal",
                                                                                      FALSE));
      json_builder_set_member_name (b, "equivocal");
      json_builder_add_boolean_value (b, json_object_get_boolean_member_with_default (
                                        l, "equivocal", FALSE));
      if (first)
        {
          json_builder_set_member_name (b, "timepoint");
          json_builder_add_string_value (b, first);
        }
      json_builder_set_member_name (b, "slice_thickness_mm");
      json_builder_add_double_value (b, json_object_get_double_member_with_default (
                                       l, "slice_thickness_mm", 0));
      json_builder_set_member_name (b, "entries");
      json_builder_begin_object (b);
      for (guint k = 0; tps && k < json_array_get_length (tps); k++)
        {
          const char *label = rr_json_get_string (rr_json_get_element (tps, k), "id");
          JsonNode *cal = label && cals ? json_object_get_member (cals, label) : NULL;
          const char *ek;
          if (label == NULL)
            continue;
          if (g_str_equal (kind, "non_target"))
            ek = status_kind (rr_json_get_string (status, label));
          else
            ek = value_kind (values ? json_object_get_member (values, label) : NULL, cal,
                             g_strcmp0 (first, label) == 0);
          if (ek == NULL)
            continue;
          json_builder_set_member_name (b, label);
          write_entry (b, ek, cal, calipers);
        }
      json_builder_end_object (b);
      json_builder_end_object (b);
    }
}

char *
rr_read_submitted_form (RrStore    *store,
                        gint64      account,
                        const char *task_id,
                        GHashTable *calipers)
{
  g_autofree char *kept = rr_store_get_submission (store, account, task_id, NULL);
  g_autoptr (JsonParser) p = json_parser_new ();
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonNode) root = NULL;
  JsonObject *read = kept_read (p, kept);
  JsonArray *tps = read ? rr_json_get_array (read, "timepoints") : NULL;

  if (read == NULL || tps == NULL)
    return NULL;
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "version");
  json_builder_add_int_value (b, 1);
  json_builder_set_member_name (b, "criteria");
  json_builder_add_string_value (b, rr_json_get_string (read, "criteria")
                                      ? rr_json_get_string (read, "criteria") : "recist1.1");
  json_builder_set_member_name (b, "lesions");
  json_builder_begin_array (b);
  write_lesions (b, read, "target_lesions", "target", tps, calipers);
  write_lesions (b, read, "non_target_lesions", "non_target", tps, calipers);
  write_lesions (b, read, "new_lesions", "new", tps, calipers);
  json_builder_end_array (b);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  return json_to_string (root, FALSE);
}

char *
rr_read_submitted_form_or_local (RrStore    *store,
                                 gint64      account,
                                 const char *task_id)
{
  char *form = rr_store_get_form (store, account, task_id, NULL);
  return form ? form : rr_read_submitted_form (store, account, task_id, NULL);
}

gboolean
rr_read_submitted_load (RrStore     *store,
                        gint64       account,
                        const char  *task_id,
                        RrReadDraft *draft,
                        GHashTable  *calipers)
{
  g_autoptr (GHashTable) mine = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                                       (GDestroyNotify) rr_measurement_free);
  g_autofree char *form = rr_read_submitted_form (store, account, task_id, mine);
  GHashTableIter it;
  gpointer k, v;

  if (form == NULL || !rr_read_draft_load (draft, form, NULL))
    return FALSE;
  /* What was signed, nothing drawn here since. */
  g_hash_table_remove_all (calipers);
  g_hash_table_iter_init (&it, mine);
  while (g_hash_table_iter_next (&it, &k, &v))
    {
      g_hash_table_iter_steal (&it);
      g_hash_table_insert (calipers, k, v);
    }
  return TRUE;
}

char *
rr_read_submitted_receipt_text (RrStore    *store,
                                gint64      account,
                                const char *task_id)
{
  g_autofree char *kept = rr_store_get_submission (store, account, task_id, NULL);
  return kept ? rr_read_task_receipt_text (kept) : NULL;
}

GPtrArray *
rr_read_submitted_measurements (RrStore    *store,
                                gint64      account,
                                const char *task_id,
                                const char *series_uid,
                                guint      *skipped,
                                GError    **error)
{
  g_autoptr (GHashTable) mine = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                                       (GDestroyNotify) rr_measurement_free);
  g_autofree char *form = rr_read_submitted_form (store, account, task_id, mine);
  GPtrArray *out;
  GHashTableIter it;
  gpointer k, v;

  if (form == NULL)
    return rr_store_list_measurements (store, account, task_id, series_uid, skipped, error);
  /* Signed elsewhere: what was signed is what the image shows, not what
   * was drawn here before; in the order they were made, as the store
   * lists its own. */
  out = g_ptr_array_new_with_free_func ((GDestroyNotify) rr_measurement_free);
  g_hash_table_iter_init (&it, mine);
  while (g_hash_table_iter_next (&it, &k, &v))
    {
      RrMeasurement *m = v;
      if (series_uid == NULL || g_strcmp0 (m->series_uid, series_uid) == 0)
        {
          /* Stolen: the measurement is the list's now, its key freed. */
          g_hash_table_iter_steal (&it);
          g_free (k);
          g_ptr_array_add (out, m);
        }
    }
  g_ptr_array_sort (out, by_creation);
  if (skipped)
    *skipped = 0;
  return out;
}
