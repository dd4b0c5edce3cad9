/* rr-link.h: how the prior's pane scrolls with the current one
 * (the 1x2 comparison). Within one frame of reference the two are linked
 * by patient position; across frames of reference by an offset, centre on
 * centre until the reader unlinks the panes, brings the prior to the same
 * anatomy and links them again ("link here"). No GTK: the rules are
 * tested on phantoms without a window. */
#pragma once

#include "rr-volume.h"

G_BEGIN_DECLS

typedef enum
{
  RR_LINK_NONE,      /* no comparison */
  RR_LINK_POSITION,  /* same frame of reference: patient point on patient point */
  RR_LINK_OFFSET,    /* the prior's point = the current one + an offset */
  RR_LINK_UNLINKED,  /* each pane scrolls alone */
} RrLinkMode;

typedef struct
{
  gboolean comparing;
  gboolean linked;
  gboolean same_frame;   /* both series carry one Frame of Reference UID */
  RrVec3 offset;         /* while linked: prior point = current point + offset */
  RrVec3 prior_point;    /* while unlinked: the prior pane's own point */
  char *pair;            /* "current\nprior" series UIDs */
  GHashTable *kept;      /* pair -> RrVec3 *: offsets the reader set */
} RrLink;

void       rr_link_init        (RrLink *link);
void       rr_link_clear       (RrLink *link);
/* Starts comparing @prior with @current (NULL @prior: stops): the offset
 * the reader set for this pair earlier, else zero within one frame of
 * reference, else centre on centre. Linked. */
void       rr_link_start       (RrLink *link,
                                         const RrVolume *current,
                                         const RrVolume *prior);
/* The prior pane's point while the current pane is at @point. */
RrVec3     rr_link_prior_point (const RrLink *link,
                                         RrVec3               point);
/* The current pane's point that puts the prior pane on @prior_point
 * when linked (unlinked, the offset last linked with). */
RrVec3     rr_link_current_point (const RrLink *link,
                                           RrVec3               prior_point);
/* Puts the prior pane alone on @prior_point: unlinked, it stays there
 * whatever the current pane does. Linked, the caller moves the crosshair
 * instead (rr_link_current_point ()). */
void       rr_link_move_prior  (RrLink *link,
                                         RrVec3          prior_point);
/* Unlinks, keeping the prior pane where it is (@point: the current
 * pane's); or links again with the two panes' current points ("link
 * here"): the offset becomes their difference, kept for the pair. */
void       rr_link_set_linked  (RrLink *link,
                                         gboolean        linked,
                                         RrVec3          point);
RrLinkMode rr_link_mode        (const RrLink *link);
/* Forgets the offsets the reader set (the task is closed). */
void       rr_link_forget      (RrLink *link);
/* The offsets the reader set, as JSON for the task's draft:
 * {"pairs": [{"current": UID, "prior": UID, "offset": [x, y, z]}]},
 * sorted by pair so that the same offsets give the same text. */
char      *rr_link_kept_to_json (const RrLink *link);
/* Takes the offsets of rr_link_kept_to_json () back (adding to those
 * kept); the comparison going on takes its own at the next
 * rr_link_start (). FALSE with @error on a document not of that shape:
 * nothing is taken then. At most RR_LINK_MAX_KEPT pairs. */
#define RR_LINK_MAX_KEPT 1000
gboolean   rr_link_keep_from_json (RrLink      *link,
                                   const char  *json,
                                   GError     **error);

G_END_DECLS
