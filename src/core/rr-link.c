/* rr-link.c: the rules that link the prior's pane to the
 * current one. Radiology viewers sync two series by patient position when
 * they share a frame of reference (the scanner's coordinates mean the same
 * anatomy in both) and otherwise let the reader say which two slices
 * match; this follows them. */
#include "rr-link.h"

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
