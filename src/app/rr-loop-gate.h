/* rr-loop-gate.h: background work that steps aside while the window's
 * main loop is busy. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* From now on the gate is held while the main thread works: from the
 * moment the default main context's poll returns until it polls again
 * (a frame drawn, a view built, a callback run). Main thread, once.
 * READROOM_LOOP_GATE=0 leaves it open (to compare). */
void  rr_loop_gate_watch   (void);

/* Hold the gate, or release it (any thread; holds nest). */
void  rr_loop_gate_hold    (void);
void  rr_loop_gate_release (void);

/* Any thread but the main one, between two steps of its work (a slice
 * decoded): waits while the gate is held, at most 0.1 s each time, so
 * that the main thread has the cores meanwhile. */
void  rr_loop_gate_pass    (void);

/* How many passes so far found the gate held (and waited). */
guint rr_loop_gate_waits   (void);

G_END_DECLS
