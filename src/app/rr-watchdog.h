/* rr-watchdog.h: logs main-loop stalls (READROOM_WATCHDOG_LOG=path). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

void rr_watchdog_start   (void);
void rr_watchdog_started (void);

G_END_DECLS
