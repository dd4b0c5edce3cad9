/* rr-sync-outbox.h: the outbox's part of the sync client. The public
 * entry points (rr_sync_submit, rr_sync_deliver) are in rr-sync.h. */
#pragma once

#include "rr-sync.h"

G_BEGIN_DECLS

G_END_DECLS
