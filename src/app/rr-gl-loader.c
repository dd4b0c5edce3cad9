/* rr-gl-loader.c: a volume's GPU copy prepared on a worker thread.
 *
 * Making a 3D texture's storage is the driver's work on the thread that
 * asks: Mesa's software rasteriser (llvmpipe) zero-fills all of it, 64 MB
 * for a 256x256x500 CT, which held the window 53 to 78 ms on a quiet
 * machine (bench/stall.py, the longest stall while a task opens). Here a
 * worker makes it, in a GL context of its own that shares its textures
 * with every other GDK context of the display (GTK 4 shares them all with
 * the display's), and hands the texture to the viewport, which uploads the
 * voxels a few slices at a time between frames as before (an upload holds
 * the share group's texture lock, which GTK's frames take too: a worker
 * uploading all of it would hold them instead). glTexStorage3D takes no
 * such lock. The down-sampled copy of a volume too large for the GPU is
 * made on the same worker, first. */
#include "rr-gl-loader.h"

#include <epoxy/gl.h>
#include <string.h>

struct _RrGlLoader
{
  GdkGLContext *context;
  GMutex lock;          /* one thread at a time has the context current */
  gboolean broken;      /* it could not be made current on a worker */
};

/* A context of the display's share group, for a worker, realized. */
static GdkGLContext *
worker_context_new (GdkDisplay  *display,
                    GError     **error)
{
  g_autoptr (GdkGLContext) context = gdk_display_create_gl_context (display, error);

  if (context == NULL)
    return NULL;
  gdk_gl_context_set_required_version (context, 3, 3);
  if (!gdk_gl_context_realize (context, error))
    return NULL;
  return g_steal_pointer (&context);
}

RrGlLoader *
rr_gl_loader_new (GdkDisplay  *display,
                  GError     **error)
{
  g_autoptr (GdkGLContext) context = worker_context_new (display, error);
  RrGlLoader *loader;

  if (context == NULL)
    return NULL;
  loader = g_atomic_rc_box_new0 (RrGlLoader);
  loader->context = g_steal_pointer (&context);
  g_mutex_init (&loader->lock);
  return loader;
}

RrGlLoader *
rr_gl_loader_ref (RrGlLoader *loader)
{
  return g_atomic_rc_box_acquire (loader);
}

static void
loader_clear (gpointer data)
{
  RrGlLoader *loader = data;
  g_object_unref (loader->context);
  g_mutex_clear (&loader->lock);
}

void
rr_gl_loader_unref (RrGlLoader *loader)
{
  g_atomic_rc_box_release_full (loader, loader_clear);
}

/* With the lock held: the loader's context current on this thread, or
 * FALSE (then nothing is current). */
static gboolean
make_current (RrGlLoader *loader)
{
  if (loader->broken)
    return FALSE;
  gdk_gl_context_make_current (loader->context);
  if (gdk_gl_context_get_current () != loader->context)
    {
      loader->broken = TRUE;
      gdk_gl_context_clear_current ();
      return FALSE;
    }
  return TRUE;
}

void
rr_gl_loader_free_volume (RrGlLoader *loader,
                          RrGlVolume *glv)
{
  GdkGLContext *previous = gdk_gl_context_get_current ();

  if (glv == NULL)
    return;
  g_mutex_lock (&loader->lock);
  if (make_current (loader))
    rr_gl_volume_free (glv);
  else
    g_warning ("A GPU volume is left undeleted: no GL context to delete it in");
  gdk_gl_context_clear_current ();
  g_mutex_unlock (&loader->lock);
  if (previous != NULL)
    gdk_gl_context_make_current (previous);
}

typedef struct
{
  RrGlLoader *loader;
  RrVolume *volume;
  guint factor[3];
} Job;

static void
job_free (gpointer data)
{
  Job *job = data;
  g_clear_pointer (&job->loader, rr_gl_loader_unref);
  rr_volume_unref (job->volume);
  g_free (job);
}

void
rr_gl_prepared_free (RrGlPrepared *prepared)
{
  if (prepared == NULL)
    return;
  if (prepared->glv != NULL)
    rr_gl_loader_free_volume (prepared->loader, prepared->glv);
  g_clear_pointer (&prepared->loader, rr_gl_loader_unref);
  g_clear_pointer (&prepared->volume, rr_volume_unref);
  g_free (prepared);
}

static void
prepare_thread (GTask        *task,
                gpointer      source,
                gpointer      data,
                GCancellable *cancellable)
{
  Job *job = data;
  GError *error = NULL;
  RrGlPrepared *p = g_new0 (RrGlPrepared, 1);

  memcpy (p->factor, job->factor, sizeof p->factor);
  if (job->factor[0] * job->factor[1] * job->factor[2] > 1)
    p->volume = rr_volume_downsample (job->volume, job->factor, &error);
  else
    p->volume = rr_volume_ref (job->volume);
  if (p->volume != NULL && job->loader != NULL && !g_cancellable_is_cancelled (cancellable))
    {
      g_mutex_lock (&job->loader->lock);
      if (make_current (job->loader))
        {
          p->glv = rr_gl_volume_new_deferred (p->volume, &error);
          /* Done before the viewport's context binds it. */
          glFinish ();
          if (p->glv != NULL && g_cancellable_is_cancelled (cancellable))
            g_clear_pointer (&p->glv, rr_gl_volume_free);
          gdk_gl_context_clear_current ();
          if (p->glv != NULL)
            p->loader = rr_gl_loader_ref (job->loader);
        }
      g_mutex_unlock (&job->loader->lock);
    }
  if (error != NULL)
    {
      rr_gl_prepared_free (p);
      g_task_return_error (task, error);
      return;
    }
  g_task_return_pointer (task, p, NULL);
}

void
rr_gl_prepare_async (gpointer             source_object,
                     RrGlLoader          *loader,
                     RrVolume            *volume,
                     const guint          factor[3],
                     GCancellable        *cancellable,
                     GAsyncReadyCallback  callback,
                     gpointer             data)
{
  g_autoptr (GTask) task = g_task_new (source_object, cancellable, callback, data);
  Job *job = g_new0 (Job, 1);

  job->loader = loader ? rr_gl_loader_ref (loader) : NULL;
  job->volume = rr_volume_ref (volume);
  memcpy (job->factor, factor, sizeof job->factor);
  g_task_set_task_data (task, job, job_free);
  /* The texture comes back whatever happened meanwhile, to be deleted. */
  g_task_set_check_cancellable (task, FALSE);
  g_task_set_source_tag (task, rr_gl_prepare_async);
  g_task_run_in_thread (task, prepare_thread);
}

RrGlPrepared *
rr_gl_prepare_finish (GAsyncResult  *result,
                      GError       **error)
{
  g_return_val_if_fail (G_IS_TASK (result), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}


/* The driver's once-a-process costs, paid on a worker. With Mesa's
 * software rasteriser the first context to compile and draw a program
 * sets up the GLSL compiler's built-ins and LLVM (190 ms of a quiet
 * machine's CPU, 250 ms and more of a loaded one's, measured on the main
 * thread when the first viewport was realized); a viewport realized after
 * them costs 10 to 35 ms. The draws here also have the driver build the
 * program's code for the volume shapes a task brings: a texture's format,
 * and whether each side is a power of two, select the code. */
static struct
{
  gboolean started;
  gboolean done;
  GPtrArray *waiting;    /* GTasks of the callers, returned when done */
  GdkGLContext *context; /* the worker's, released on the main thread */
} warm;

static void
warm_thread (GTask        *task,
             gpointer      source,
             gpointer      data,
             GCancellable *cancellable)
{
  GdkGLContext *context = data;
  static const struct { RrVoxelType type; guint dims[3]; } shapes[] = {
    { RR_VOXEL_INT16, { 2, 2, 2 } },    /* CT and MR: 512 x 512 x any number of slices */
    { RR_VOXEL_INT16, { 2, 2, 3 } },
    { RR_VOXEL_INT16, { 3, 3, 3 } },    /* MR's 320 x 260 and the like */
    { RR_VOXEL_FLOAT32, { 2, 2, 3 } },  /* PET in SUV */
  };

  gdk_gl_context_make_current (context);
  if (gdk_gl_context_get_current () == context)
    {
      g_autoptr (GError) error = NULL;
      RrGlReslicer *r = rr_gl_reslicer_new (&error);
      if (r != NULL)
        {
          for (guint i = 0; i < G_N_ELEMENTS (shapes); i++)
            rr_gl_reslicer_warm_volume (r, shapes[i].type, shapes[i].dims);
          rr_gl_reslicer_free (r);
        }
      else
        g_debug ("GL warm-up: %s", error->message);
    }
  gdk_gl_context_clear_current ();
  g_task_return_boolean (task, TRUE);
}

/* One caller an idle: each realizes a viewport then (10 to 45 ms), and
 * idles ready together run in one turn of the main loop, as one stall. */
static gboolean
return_next (gpointer data)
{
  GTask *task;

  if (warm.waiting == NULL || warm.waiting->len == 0)
    {
      g_clear_pointer (&warm.waiting, g_ptr_array_unref);
      return G_SOURCE_REMOVE;
    }
  task = g_ptr_array_steal_index (warm.waiting, 0);
  g_task_return_boolean (task, TRUE);
  g_object_unref (task);
  return G_SOURCE_CONTINUE;
}

static void
warm_done (GObject      *source,
           GAsyncResult *result,
           gpointer      data)
{
  warm.done = TRUE;
  g_clear_object (&warm.context);
  g_idle_add_full (G_PRIORITY_LOW, return_next, NULL, NULL);
}

void
rr_gl_warm_up_async (GdkDisplay          *display,
                     gpointer             source_object,
                     GAsyncReadyCallback  callback,
                     gpointer             data)
{
  GTask *task = g_task_new (source_object, NULL, callback, data);

  g_task_set_source_tag (task, rr_gl_warm_up_async);
  if (!warm.started)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (GdkGLContext) context = NULL;

      warm.started = TRUE;
      context = worker_context_new (display, &error);
      if (context == NULL)
        {
          /* The viewports find out for themselves. */
          g_debug ("GL warm-up: %s", error->message);
          warm.done = TRUE;
        }
      else
        {
          g_autoptr (GTask) worker = g_task_new (NULL, NULL, warm_done, NULL);
          warm.context = g_steal_pointer (&context);
          g_task_set_task_data (worker, warm.context, NULL);
          g_task_set_source_tag (worker, warm_thread);
          g_task_run_in_thread (worker, warm_thread);
        }
    }
  if (warm.done && warm.waiting == NULL)
    {
      g_task_return_boolean (task, TRUE);
      g_object_unref (task);
      return;
    }
  if (warm.waiting == NULL)
    warm.waiting = g_ptr_array_new_with_free_func (g_object_unref);
  g_ptr_array_add (warm.waiting, task);
}

void
rr_gl_warm_up_finish (GAsyncResult *result)
{
  g_task_propagate_boolean (G_TASK (result), NULL);
}
