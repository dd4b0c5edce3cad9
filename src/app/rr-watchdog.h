/* rr-watchdog.h: logs main-loop stalls (READROOM_WATCHDOG_LOG=path). */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

void rr_watchdog_start   (void);
void rr_watchdog_started (void);
/* Notes the phases of frames in the breadcrumbs (@widget: unused, kept for
 * the caller that knows when the first window is up). */
void rr_watchdog_watch_frames (GtkWidget *widget);
/* Names the part of the application's work the main thread is in (a
 * static string; NULL once it is over), for the stall log: a frame's
 * samples then say which widget's part they were taken in. */
void rr_watchdog_note    (const char *what);
/* Writes @line into the log, when there is one (the tests read it). */
void rr_watchdog_log     (const char *line);

G_END_DECLS
