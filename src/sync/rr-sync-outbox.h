/* rr-sync-outbox.h: the outbox's part of the sync client. The public
 * entry points (rr_sync_submit, rr_sync_deliver) are in rr-sync.h. */
#pragma once

#include "rr-sync.h"

G_BEGIN_DECLS

/* Sleeps for the seconds in the environment variable @what, if set: a
 * named point where a test kills the process. */
void rr_sync_pause_for_tests (const char *what);

G_END_DECLS
