/* rr-gl-loader.h: prepares a volume's GPU copy on a worker thread. */
#pragma once

#include <gtk/gtk.h>

#include "rr-gl-reslicer.h"

G_BEGIN_DECLS

/* A GL context of its own, sharing textures with every other GDK context
 * of the display (the viewport's included), for a worker to make them in. */
typedef struct _RrGlLoader RrGlLoader;

/* On the main thread, once: 5 to 15 ms (a context made and realized). */
RrGlLoader   *rr_gl_loader_new         (GdkDisplay  *display,
                                        GError     **error);
RrGlLoader   *rr_gl_loader_ref         (RrGlLoader  *loader);
void          rr_gl_loader_unref       (RrGlLoader  *loader);
/* Deletes @glv's texture in the loader's context: for when no context of
 * the share group is current (it waits for a worker using the loader). */
void          rr_gl_loader_free_volume (RrGlLoader  *loader,
                                        RrGlVolume  *glv);

typedef struct
{
  RrGlLoader *loader;    /* the context @glv was made in, or NULL */
  RrVolume *volume;      /* what the GPU is to hold: the volume, or its down-sampled copy */
  RrGlVolume *glv;       /* its texture, storage made but voxels not yet uploaded; NULL
                            without a loader (the main thread makes it then) */
  guint factor[3];       /* the down-sampling factors, all 1 if none */
} RrGlPrepared;

/* On a worker: down-samples @volume by @factor (when any is above 1) and,
 * with a @loader, makes the texture's storage in its context. */
void          rr_gl_prepare_async      (gpointer             source_object,
                                        RrGlLoader          *loader,
                                        RrVolume            *volume,
                                        const guint          factor[3],
                                        GCancellable        *cancellable,
                                        GAsyncReadyCallback  callback,
                                        gpointer             data);
/* The result even when @cancellable was cancelled meanwhile: the caller
 * deletes its texture with a context of the share group current (or
 * rr_gl_loader_free_volume) and frees it with rr_gl_prepared_free. */
RrGlPrepared *rr_gl_prepare_finish     (GAsyncResult        *result,
                                        GError             **error);
/* A texture still in @prepared is deleted in the loader's context: take
 * it, or delete it in a context that is current, where waiting for a
 * worker would hold the window. */
void          rr_gl_prepared_free      (RrGlPrepared        *prepared);

/* Once a process, on a worker: the driver's first compile and draws of the
 * reslice program (a software rasteriser's set-up, hundreds of ms), in a
 * context of its own. @callback comes when they are done, or at once when
 * they were; a viewport realized after it costs the window a frame, not a
 * stall. Nothing to report: without GL the viewports find out themselves. */
void          rr_gl_warm_up_async      (GdkDisplay          *display,
                                        gpointer             source_object,
                                        GAsyncReadyCallback  callback,
                                        gpointer             data);
void          rr_gl_warm_up_finish     (GAsyncResult        *result);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RrGlLoader, rr_gl_loader_unref)

G_END_DECLS
