/* rr-sync-upload.h: a site's upload, shared by `readroom-cli upload` and
 * the app's upload page: the trial's de-identification key, the staging
 * folder and its journal (what the server already took), sending one
 * file, linking the studies to the subject's timepoint, and answering a
 * QC query with them. The
 * de-identification itself is the caller's (the dicom layer). */
#pragma once

#include <json-glib/json-glib.h>
#include "rr-sync.h"

G_BEGIN_DECLS

/* What the server takes in one request (server-api.md: up to 1 GiB). */
#define RR_UPLOAD_MAX_FILE_BYTES ((goffset) 1 << 30)
/* The marker that de-identification into the staging folder finished. */
#define RR_UPLOAD_DEID_DONE "deid.done"

typedef struct _RrUploadJournal RrUploadJournal;

/* The staging folder of (@trial, @subject, @label) under the user's cache:
 * the same for the CLI and the app, so either resumes the other's upload.
 * NULL when a part is not a plain name (empty, over 64 characters, '/',
 * '\\', "." or ".."). */
char            *rr_upload_staging_dir    (const char  *trial,
                                           const char  *subject,
                                           const char  *label);

/* The trial's key and whether dates are kept (shifted): GET
 * /trials/{trial}/deid, bounded and checked. */
GBytes          *rr_upload_fetch_key      (RrSyncClient  *client,
                                           const char    *trial,
                                           gboolean      *retain_dates,
                                           GError       **error);

/* The journal of @staging (none yet: empty). */
RrUploadJournal *rr_upload_journal_load   (const char  *staging,
                                           GError     **error);
void             rr_upload_journal_free   (RrUploadJournal *journal);
/* The study UID @name was filed under, or NULL when it was not sent. */
const char      *rr_upload_journal_study  (RrUploadJournal *journal,
                                           const char      *name);
guint            rr_upload_journal_count  (RrUploadJournal *journal);
/* Records @name as sent: the whole journal is written anew and renamed
 * over the old one, so a kill at any point leaves one or the other. */
gboolean         rr_upload_journal_add    (RrUploadJournal  *journal,
                                           const char       *name,
                                           const char       *study,
                                           GError          **error);

/* The de-identified files of @staging (names ending in .dcm), sorted. */
GPtrArray       *rr_upload_staged_files   (const char  *staging,
                                           GError     **error);

/* POSTs one file under the client's retry policy; @retrying (may be NULL)
 * hears each failure that will be tried again. The study UID the server
 * filed it under, or NULL with @error (a refusal names the server's
 * code, e.g. phi_present, and its details). *@already_stored (may be
 * NULL) says whether the server held that instance before. */
typedef void (*RrUploadRetryFunc) (const char *what, gpointer user_data);
char            *rr_upload_send_file      (RrSyncClient       *client,
                                           const char         *trial,
                                           const char         *path,
                                           gboolean           *already_stored,
                                           RrUploadRetryFunc   retrying,
                                           gpointer            user_data,
                                           GError            **error);

/* Sends every file of @names (in @staging) that @journal does not list,
 * on @n_parallel connections (1 to 16; each a keep-alive connection of its
 * own client with @client's server, token and retry policy), recording
 * each in the journal as the server takes it. @progress (may be NULL) is
 * called after each file, from the sending threads, one call at a time;
 * @note is NULL or a retry in words. Stops at the first refusal or when
 * @cancellable fires (the journal keeps what was sent); *@n_sent counts
 * the files sent by this call, *@n_already (may be NULL) those of them
 * the server said it already held (the same instances sent before, from
 * another staging folder or another computer). */
typedef void (*RrUploadProgressFunc) (guint        files_done,
                                      guint        files_total,
                                      guint64      bytes_done,
                                      guint64      bytes_total,
                                      const char  *note,
                                      gpointer     user_data);
gboolean         rr_upload_send_all       (RrSyncClient          *client,
                                           const char            *trial,
                                           const char            *staging,
                                           GPtrArray             *names,
                                           RrUploadJournal       *journal,
                                           guint                  n_parallel,
                                           RrUploadProgressFunc   progress,
                                           gpointer               user_data,
                                           GCancellable          *cancellable,
                                           guint                 *n_sent,
                                           guint                 *n_already,
                                           GError               **error);

/* The studies the journal holds for @names, each once, in order. */
GPtrArray       *rr_upload_studies        (RrUploadJournal *journal,
                                           GPtrArray       *names);

typedef enum
{
  RR_UPLOAD_LINKED,
  RR_UPLOAD_NOT_LINKED,   /* the server leaves linking to an administrator */
} RrUploadLink;

/* Links @studies as (@subject, @label, @day); FALSE with @error when the
 * server could not be asked or said something else than 201 or 403. */
gboolean         rr_upload_link           (RrSyncClient  *client,
                                           const char    *trial,
                                           const char    *subject,
                                           const char    *label,
                                           int            day,
                                           GPtrArray     *studies,
                                           RrUploadLink  *result,
                                           GError       **error);

/* Marks @staging as wholly de-identified: its files are flushed to the
 * disk first (one syncfs), then the marker is written durably, so after
 * a power cut the marker never stands beside empty or partial files. */
gboolean         rr_upload_mark_deid_done (const char  *staging,
                                           GError     **error);

/* The staging folder of an answer to @query within the timepoint's
 * @staging: other files for the same timepoint, so the first upload's
 * journal does not hold them. NULL when @query is not a task id. */
char            *rr_upload_query_staging_dir (const char *staging,
                                              const char *query);

/* Answers the QC query task @query (server-api.md): @studies, just sent,
 * become the timepoint's, with @response, signed with @password; the
 * server closes the query and opens a fresh QC task. FALSE with @error
 * when the server could not be asked or did not take the answer (its
 * code and message). */
gboolean         rr_upload_answer_query   (RrSyncClient  *client,
                                           const char    *query,
                                           const char    *response,
                                           const char    *password,
                                           GPtrArray     *studies,
                                           GError       **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RrUploadJournal, rr_upload_journal_free)

G_END_DECLS
