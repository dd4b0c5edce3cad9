/* rr-upload-view-private.h: what the upload page's files share: the
 * widget's fields, the account a worker signs in with, and small widgets. */
#pragma once

#include <adwaita.h>
#include <json-glib/json-glib.h>
#include "rr-upload-view.h"
#include "rr-sync.h"

G_BEGIN_DECLS

struct _RrUploadView
{
  GtkWidget parent_instance;

  GtkWidget *scroller;
  GtkEntry *trial;
  GtkEntry *subject, *label, *visit, *folder;
  GtkSpinButton *day;
  GtkButton *choose, *find, *upload, *stop;
  GtkListBox *studies, *warnings, *preview, *queries;
  GtkLabel *status, *queries_empty;
  GtkProgressBar *progress;
  /* Upload sends what Find Studies showed: @scanned while the folder,
   * subject, timepoint and visit date are the ones it read with; a study
   * dated away from the visit needs @confirm ticked. */
  GtkCheckButton *confirm;
  gboolean scanned;
  guint mapping_serial;            /* counts edits of those fields */
  /* The query being answered: its findings, the response, the password
   * that signs the answer. Shown only while a query is chosen. */
  GtkWidget *answer_box;
  GtkLabel *query_title;
  GtkListBox *query_findings;
  GtkEntry *response;
  GtkWidget *password;
  char *query_id;                  /* NULL: an ordinary upload */

  char *server, *user, *token, *ca_file;
  gboolean available;
  gboolean busy;
  GCancellable *cancellable;       /* the account's workers */
  GCancellable *upload_cancel;     /* the running upload */
  GPtrArray *query_tasks;          /* QueryTask */
};

typedef struct
{
  char *id, *trial, *subject, *label;
  int day;
} QueryTask;

/* What a worker needs to sign in as the view's account (copied, since
 * the account may change while the worker runs). */
typedef struct
{
  char *server, *token, *ca_file;
} Account;

G_GNUC_INTERNAL Account      *rr_upload_view_account_copy   (RrUploadView  *self);
G_GNUC_INTERNAL void          rr_upload_view_account_free   (Account       *a);
G_GNUC_INTERNAL RrSyncClient *rr_upload_view_client_for     (const Account *a);

/* Small widgets, each named for the accessibility tree. */
G_GNUC_INTERNAL void          rr_upload_view_set_name       (gpointer       widget,
                                                             const char    *name);
G_GNUC_INTERNAL void          rr_upload_view_clear_list     (GtkListBox    *list);
G_GNUC_INTERNAL GtkWidget    *rr_upload_view_add_row        (GtkListBox    *list,
                                                             const char    *text,
                                                             const char    *style);
G_GNUC_INTERNAL GtkWidget    *rr_upload_view_heading        (const char    *text);
G_GNUC_INTERNAL GtkListBox   *rr_upload_view_boxed_list     (const char    *name);
G_GNUC_INTERNAL GtkEntry     *rr_upload_view_labelled_entry (GtkGrid       *grid,
                                                             int            row,
                                                             const char    *title,
                                                             const char    *hint);
G_GNUC_INTERNAL void          rr_upload_view_set_status     (RrUploadView  *self,
                                                             const char    *text);

/* rr-upload-view-query.c: the site's open queries and the one being
 * answered. */
/* On a worker: the open query tasks (QueryTask) of GET /tasks?status=open;
 * @tasks may be NULL or not a list (then none). */
G_GNUC_INTERNAL GPtrArray    *rr_upload_view_queries_from_json  (JsonNode     *tasks);
G_GNUC_INTERNAL void          rr_upload_view_show_queries       (RrUploadView *self,
                                                                 GPtrArray    *queries);
G_GNUC_INTERNAL void          rr_upload_view_show_answer_mode   (RrUploadView *self);
G_GNUC_INTERNAL void          rr_upload_view_query_answered     (RrUploadView *self,
                                                                 const char   *id);
/* The Open Queries list at the end of @box and the answer's fields after
 * @after. */
G_GNUC_INTERNAL void          rr_upload_view_add_query_widgets  (RrUploadView *self,
                                                                 GtkBox       *box,
                                                                 GtkWidget    *after);

G_END_DECLS
