/* rr-frame-gate.h: background work that steps aside while the window
 * draws a frame. */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

/* Marks the frames of @window's frame clock, from "before-paint" to
 * "after-paint", for rr_frame_gate_pass. Once is enough; the window must
 * be realized. READROOM_FRAME_GATE=0 turns it off. */
void  rr_frame_gate_watch (GtkWindow *window);

/* The window is busy (a frame, or a view being built): until the matching
 * release, passes wait. Holds nest. */
void  rr_frame_gate_hold    (void);
void  rr_frame_gate_release (void);

/* Any thread but the main one, between two steps of its work (a slice
 * decoded): waits while the window is busy, at most 0.1 s, so that it has
 * the cores to itself meanwhile. */
void  rr_frame_gate_pass  (void);

/* How many passes so far found a frame being drawn (and waited). */
guint rr_frame_gate_waits (void);

G_END_DECLS
