/* rr-upload-view.h: the site's upload page: choose a folder (or a
 * DICOMDIR), see the studies found, map them to a subject and timepoint,
 * check their dates against the visit, preview what de-identification
 * changes in one file, then upload with progress, resumable (the same
 * staging folder and journal as `readroom-cli upload`). Lists the site's
 * open query tasks, which a re-upload answers. */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define RR_TYPE_UPLOAD_VIEW (rr_upload_view_get_type ())
G_DECLARE_FINAL_TYPE (RrUploadView, rr_upload_view, RR, UPLOAD_VIEW, GtkWidget)

/* The signed-in account. The view asks the server which trials the user
 * uploads for; the "available" property turns TRUE when there is one (the
 * window shows its Upload button then). */
void     rr_upload_view_set_account (RrUploadView *self,
                                     const char   *server,
                                     const char   *user,
                                     const char   *token,
                                     const char   *ca_file);
gboolean rr_upload_view_get_available (RrUploadView *self);

G_END_DECLS
