/* rr-link.c: the rules that link the prior's pane to the
 * current one. Radiology viewers sync two series by patient position when
 * they share a frame of reference (the scanner's coordinates mean the same
 * anatomy in both) and otherwise let the reader say which two slices
 * match; this follows them. */
#include "rr-link.h"
#include "rr-json.h"
#include "rr-json-writer.h"

#include <math.h>
#include <stdlib.h>

#include <string.h>

/* Below this the reader's offset is the frame's own: still "by position". */
#define SAME_POINT_MM 0.01

void
rr_link_init (RrLink *link)
{
  memset (link, 0, sizeof *link);
  link->linked = TRUE;
  link->kept = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
}

void
rr_link_clear (RrLink *link)
{
  g_clear_pointer (&link->pair, g_free);
  g_clear_pointer (&link->kept, g_hash_table_unref);
}

void
rr_link_start (RrLink *link,
                        const RrVolume *current,
                        const RrVolume *prior)
{
  const RrVec3 *kept;

  g_clear_pointer (&link->pair, g_free);
  link->comparing = current != NULL && prior != NULL;
  link->linked = TRUE;
  link->same_frame = FALSE;
  link->offset = rr_vec3 (0, 0, 0);
  if (!link->comparing)
    return;
  link->same_frame = current->frame_of_reference && prior->frame_of_reference &&
                     g_str_equal (current->frame_of_reference, prior->frame_of_reference);
  link->pair = g_strdup_printf ("%s\n%s", current->series_uid ? current->series_uid : "",
                                prior->series_uid ? prior->series_uid : "");
  kept = g_hash_table_lookup (link->kept, link->pair);
  if (kept)
    link->offset = *kept;
  else if (!link->same_frame)
    /* Nothing says where the prior's anatomy is: start centre on centre,
     * as a reader would put two films side by side. */
    link->offset = rr_vec3_sub (rr_volume_center (prior), rr_volume_center (current));
  link->prior_point = rr_vec3_add (rr_volume_center (current), link->offset);
}

RrVec3
rr_link_prior_point (const RrLink *link,
                              RrVec3               point)
{
  return link->linked ? rr_vec3_add (point, link->offset) : link->prior_point;
}

RrVec3
rr_link_current_point (const RrLink *link,
                                RrVec3               prior_point)
{
  return rr_vec3_sub (prior_point, link->offset);
}

void
rr_link_move_prior (RrLink *link,
                             RrVec3          prior_point)
{
  link->prior_point = prior_point;
}

void
rr_link_set_linked (RrLink *link,
                             gboolean        linked,
                             RrVec3          point)
{
  if (!link->comparing || linked == link->linked)
    return;
  if (!linked)
    {
      /* The prior pane stays where it was when the link was cut. */
      link->prior_point = rr_vec3_add (point, link->offset);
      link->linked = FALSE;
      return;
    }
  /* "Link here": what each pane shows now is the same anatomy. */
  link->offset = rr_vec3_sub (link->prior_point, point);
  link->linked = TRUE;
  if (link->pair)
    g_hash_table_insert (link->kept, g_strdup (link->pair), g_memdup2 (&link->offset,
                                                                       sizeof link->offset));
}

RrLinkMode
rr_link_mode (const RrLink *link)
{
  if (!link->comparing)
    return RR_LINK_NONE;
  if (!link->linked)
    return RR_LINK_UNLINKED;
  if (link->same_frame && rr_vec3_length (link->offset) < SAME_POINT_MM)
    return RR_LINK_POSITION;
  return RR_LINK_OFFSET;
}

void
rr_link_forget (RrLink *link)
{
  g_hash_table_remove_all (link->kept);
}

static int
compare_keys (const void *a,
              const void *b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

char *
rr_link_kept_to_json (const RrLink *link)
{
  g_autoptr (RrJsonWriter) w = rr_json_writer_new (FALSE);
  guint n = 0;
  g_autofree gpointer *keys = g_hash_table_get_keys_as_array (link->kept, &n);

  qsort (keys, n, sizeof *keys, compare_keys);
  rr_json_begin_object (w);
  rr_json_key (w, "pairs");
  rr_json_begin_array (w);
  for (guint i = 0; i < n; i++)
    {
      const RrVec3 *o = g_hash_table_lookup (link->kept, keys[i]);
      g_auto (GStrv) uids = g_strsplit (keys[i], "\n", 2);
      rr_json_begin_object (w);
      rr_json_key (w, "current");
      rr_json_string (w, uids[0] ? uids[0] : "");
      rr_json_key (w, "prior");
      rr_json_string (w, uids[0] && uids[1] ? uids[1] : "");
      rr_json_key (w, "offset");
      rr_json_begin_array (w);
      rr_json_double (w, o->x);
      rr_json_double (w, o->y);
      rr_json_double (w, o->z);
      rr_json_end_array (w);
      rr_json_end_object (w);
    }
  rr_json_end_array (w);
  rr_json_end_object (w);
  return rr_json_writer_steal (w);
}

gboolean
rr_link_keep_from_json (RrLink      *link,
                        const char  *json,
                        GError     **error)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GHashTable) got = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  JsonArray *pairs;
  GHashTableIter it;
  gpointer key, value;

  if (!json_parser_load_from_data (parser, json, -1, error))
    return FALSE;
  pairs = JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser))
            ? rr_json_get_array (json_node_get_object (json_parser_get_root (parser)), "pairs")
            : NULL;
  if (pairs == NULL || json_array_get_length (pairs) > RR_LINK_MAX_KEPT)
    {
      g_set_error (error, RR_CORE_ERROR, RR_CORE_ERROR_INVALID,
                   "linked-scroll offsets: no \"pairs\" array of at most %d", RR_LINK_MAX_KEPT);
      return FALSE;
    }
  for (guint i = 0; i < json_array_get_length (pairs); i++)
    {
      JsonObject *o = rr_json_get_element (pairs, i);
      const char *current = rr_json_get_string (o, "current");
      const char *prior = rr_json_get_string (o, "prior");
      JsonArray *off = rr_json_get_array (o, "offset");
      double v[3];
      /* A UID is at most 64 characters (PS3.5 9.1). */
      if (current == NULL || prior == NULL || strlen (current) > 64 || strlen (prior) > 64 ||
          off == NULL || json_array_get_length (off) != 3)
        goto invalid;
      for (guint k = 0; k < 3; k++)
        {
          JsonNode *n = json_array_get_element (off, k);
          if (!JSON_NODE_HOLDS_VALUE (n) || (json_node_get_value_type (n) != G_TYPE_DOUBLE &&
                                              json_node_get_value_type (n) != G_TYPE_INT64))
            goto invalid;
          v[k] = json_node_get_double (n);
          if (!isfinite (v[k]))
            goto invalid;
        }
      {
        RrVec3 offset = rr_vec3 (v[0], v[1], v[2]);
        g_hash_table_insert (got, g_strdup_printf ("%s\n%s", current, prior),
                             g_memdup2 (&offset, sizeof offset));
      }
    }
  g_hash_table_iter_init (&it, got);
  while (g_hash_table_iter_next (&it, &key, &value))
    {
      g_hash_table_iter_steal (&it);
      g_hash_table_insert (link->kept, key, value);
    }
  return TRUE;

invalid:
  g_set_error (error, RR_CORE_ERROR, RR_CORE_ERROR_INVALID,
               "linked-scroll offsets: a pair without two UIDs and a finite offset [x, y, z]");
  return FALSE;
}
