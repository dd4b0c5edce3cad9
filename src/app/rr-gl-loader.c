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

RrGlLoader *
rr_gl_loader_new (GdkDisplay  *display,
                  GError     **error)
{
  g_autoptr (GdkGLContext) context = gdk_display_create_gl_context (display, error);
  RrGlLoader *loader;

  if (context == NULL)
    return NULL;
  gdk_gl_context_set_required_version (context, 3, 3);
  if (!gdk_gl_context_realize (context, error))
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

