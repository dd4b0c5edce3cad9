/* rr-heap.c: the main thread's heap, where the window's frames are drawn.
 *
 * The images GTK paints the window's frames into and the viewer's pane
 * images are megabytes each (a whole frame of a 1600x1000 window 6.4 MB,
 * a pane's image 2 MB). glibc maps such blocks anew, often, and the kernel
 * faults their pages in on the main thread, in the frame the reader waits
 * for. Kept in the heap (rr_heap_tune), they reuse pages already in
 * memory: bench/stall.py counted 4,000 page faults of the main thread
 * while a task opens with glibc's thresholds, 2,800 with these. They are
 * the ones glibc's own dynamic thresholds reach by themselves once a 32 MB
 * block has been freed (mallopt(3)); the volumes, larger, are still mapped
 * apart and given back whole.
 *
 * The 2,800 left were the heap growing: a task's page, its render nodes
 * and its first frames take heap the process never had, and each page of
 * it is faulted in while a frame is drawn, 5-15 µs each in a VM, with the
 * process' memory map locked. rr_heap_warm brings that much heap into
 * memory beforehand, on a thread of its own, once the window is up, and
 * gives it back to the heap, which keeps it (below the trim threshold).
 * Measured with bench/stall.py: docs/bench.md ("4 December, session 16").
 *
 * The blocks are taken on the main thread, so that they are the main
 * arena's (the one the main thread allocates from), and freed on the
 * warming thread: free() gives a block back to the arena it came from,
 * whichever thread frees it. */
#include "rr-heap.h"

#include <malloc.h>
#include <stdlib.h>
#include <unistd.h>

#define MMAP_THRESHOLD (32 * 1024 * 1024)
#define TRIM_THRESHOLD (64 * 1024 * 1024)
#define WARM_BLOCK (8 * 1024 * 1024)          /* below MMAP_THRESHOLD: from the heap */
#define WARM_MAX (6 * WARM_BLOCK)             /* ...and all of them below TRIM_THRESHOLD */

static gboolean tuned;          /* rr_heap_tune set glibc's thresholds */
static gboolean warmed;         /* main thread only: rr_heap_warm ran */
static GMutex lock;
static GCond done;
static gboolean warming;        /* under lock: the thread has not finished */

void
rr_heap_tune (void)
{
  if (g_strcmp0 (g_getenv ("READROOM_MALLOC"), "glibc") == 0)
    return;
  tuned = mallopt (M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1
          && mallopt (M_TRIM_THRESHOLD, TRIM_THRESHOLD) == 1;
}

typedef struct
{
  guint n;
  char *blocks[WARM_MAX / WARM_BLOCK];
} Warm;

static gpointer
warm_thread (gpointer data)
{
  Warm *warm = data;
  long page = sysconf (_SC_PAGESIZE);

  if (page <= 0)
    page = 4096;
  for (guint i = 0; i < warm->n; i++)
    for (gsize at = 0; at < WARM_BLOCK; at += page)
      ((volatile char *) warm->blocks[i])[at] = 0;
  /* The last taken first: each joins the free space above it, and the
   * whole run rejoins the heap's top (or, if the main thread took heap
   * above it meanwhile, one free block of the heap). */
  for (guint i = warm->n; i-- > 0;)
    free (warm->blocks[i]);
  g_free (warm);
  g_mutex_lock (&lock);
  warming = FALSE;
  g_cond_broadcast (&done);
  g_mutex_unlock (&lock);
  return NULL;
}

void
rr_heap_warm (gsize bytes)
{
  const char *perturb = g_getenv ("MALLOC_PERTURB_");
  Warm *warm;

  /* glibc's MALLOC_PERTURB_ (meson sets it for tests) fills every block
   * it hands out on the thread that takes it, here the main thread: the
   * very work warming moves off it. */
  if (!tuned || warmed || g_strcmp0 (g_getenv ("READROOM_HEAP_WARM"), "0") == 0
      || (perturb != NULL && atoi (perturb) != 0))
    return;
  warm = g_new0 (Warm, 1);
  bytes = MIN (bytes, WARM_MAX);
  while (warm->n * (gsize) WARM_BLOCK < bytes)
    {
      /* malloc, not g_malloc: a heap that cannot grow is no failure here. */
      warm->blocks[warm->n] = malloc (WARM_BLOCK);
      if (warm->blocks[warm->n] == NULL)
        break;
      warm->n++;
    }
  warmed = TRUE;
  g_mutex_lock (&lock);
  warming = TRUE;
  g_mutex_unlock (&lock);
  g_thread_unref (g_thread_new ("rr-heap-warm", warm_thread, warm));
}

void
rr_heap_warm_wait (void)
{
  g_mutex_lock (&lock);
  while (warming)
    g_cond_wait (&done, &lock);
  g_mutex_unlock (&lock);
}
