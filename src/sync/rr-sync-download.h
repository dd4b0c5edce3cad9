/* rr-sync-download.h: instance files from the server into the cache,
 * verified (size, MD5) before they are named by their SHA-256, with the
 * progress of the run. */
#pragma once

#include "rr-sync.h"

G_BEGIN_DECLS

typedef struct _RrSyncDownload RrSyncDownload;

RrSyncDownload *rr_sync_download_new    (RrSyncClient         *client,
                                         RrStore              *store,
                                         gint64                account,
                                         const char           *cache_dir,
                                         const RrSyncOptions  *options);
/* A line for people, reported at once through the options' progress. */
void            rr_sync_download_status (RrSyncDownload *download,
                                         const char     *format,
                                         ...) G_GNUC_PRINTF (2, 3);
/* Brings every one of @instances (RrStoreInstance, one per file) into the
 * cache: those already there are checked, not trusted. TRUE when every one
 * is verified. */
gboolean        rr_sync_download_files  (RrSyncDownload *download,
                                         GPtrArray      *instances,
                                         GCancellable   *cancellable,
                                         GError        **error);
/* Waits for what is being checked and records what was verified. */
void            rr_sync_download_free   (RrSyncDownload *download);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RrSyncDownload, rr_sync_download_free)

G_END_DECLS
