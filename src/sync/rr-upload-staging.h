/* rr-upload-staging.h: which staging folder an upload uses, and what it
 * remembers of itself. A staging folder is keyed by what is staged (the
 * source files), not only by the subject and timepoint: another folder for
 * the same visit must be de-identified and sent, never mistaken for the
 * one staged before, while the same folder again (a rerun after a kill)
 * reuses what was staged and the journal of what was sent. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Files of a source folder looked at, at most: a visit is thousands. */
#define RR_UPLOAD_MAX_SOURCE_FILES 1000000

/* What a staging folder was made for, kept in it (upload.ini) so that an
 * unfinished upload can be offered again after the app was closed. */
typedef struct
{
  char *staging;
  char *source, *trial, *subject, *label;
  char *query;            /* the QC query it answers, or NULL */
  char *visit;            /* the visit date the site gave, or NULL */
  int day;
  guint n_staged, n_sent; /* from the folder and its journal, when listed */
} RrUploadStaged;

void             rr_upload_staged_free       (RrUploadStaged *staged);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RrUploadStaged, rr_upload_staged_free)

/* A digest (hex) of @source's files, those rr_deid_source_files lists:
 * each one's path relative to the source, size and modification time, in
 * the walk's order. A DICOMDIR stands for its folder; another single file
 * for itself. */
char            *rr_upload_source_digest     (const char  *source,
                                              GError     **error);

/* The staging folder of @source within @base (the timepoint's folder,
 * rr_upload_staging_dir, or a query's, rr_upload_query_staging_dir). */
char            *rr_upload_source_staging_dir (const char  *base,
                                               const char  *source,
                                               GError     **error);

/* Writes upload.ini into @staged->staging (atomically). */
gboolean         rr_upload_staged_save       (const RrUploadStaged *staged,
                                              GError              **error);
/* Marks the staging folder's upload as finished (sent and linked or
 * answered): it is no longer offered for resuming, nor are the folders
 * beside it staged from the same source for the same trial, subject and
 * timepoint before its files changed. */
gboolean         rr_upload_mark_finished     (const char  *staging,
                                              GError     **error);
/* The unfinished uploads under the user's cache, newest first
 * (RrUploadStaged). */
GPtrArray       *rr_upload_unfinished        (void);

G_END_DECLS
