/* rr-heap.h: the main thread's heap, where the window's frames are drawn. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* glibc's thresholds for the process, set before anything allocates:
 * blocks up to 32 MB from the heap, which keeps up to 64 MB free.
 * READROOM_MALLOC=glibc leaves glibc's own (to compare). */
void rr_heap_tune      (void);

/* Brings @bytes of the main heap into memory on a thread of its own and
 * gives them back to the heap, which keeps them: the next blocks the main
 * thread takes (a frame's image, a pane's) are pages already there. At
 * most 48 MB; main thread; once (later calls do nothing). Nothing after
 * READROOM_MALLOC=glibc or READROOM_HEAP_WARM=0 (to compare), nor under
 * glibc's MALLOC_PERTURB_, which fills each block on the main thread. */
void rr_heap_warm      (gsize bytes);

/* Waits until the pages rr_heap_warm() brought in are back in the heap
 * (tests; the window does not wait). */
void rr_heap_warm_wait (void);

G_END_DECLS
