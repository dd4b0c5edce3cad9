/* rr-upload-view-private.h: what the upload page's files share: the
 * widget's fields, the account a worker signs in with, and small widgets. */
#pragma once

#include <adwaita.h>
#include <json-glib/json-glib.h>
#include "rr-upload-view.h"
#include "rr-sync.h"
#include "rr-qc.h"

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
  /* Images that may show burned-in text: one of them, and the site's
   * word that it looked. */
  GtkWidget *burned_box;
  GtkPicture *burned_picture;
  GtkLabel *burned_caption;
  GtkCheckButton *burned_confirm;
  /* Uploads stopped before they finished (a kill, a quit), to resume. */
  GtkListBox *unfinished;
  GtkWidget *unfinished_heading;
  GPtrArray *unfinished_items;     /* RrUploadStaged */
  GPtrArray *site_trials;          /* char *: the trials this user uploads for */
  gboolean scanned;
  gboolean blocked;                /* Find Studies found what no box overrides */
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

/* One study as Find Studies read it. */
typedef struct
{
  char *uid, *date, *patient, *modalities;
  guint n_files;
  GHashTable *series;
} RrUploadStudy;

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

/* rr-upload-view-checks.c: the checks of what Find Studies read. */
/* A whole YYYY-MM-DD or YYYYMMDD calendar date, else NULL. */
G_GNUC_INTERNAL GDate        *rr_upload_view_parse_date      (const char   *s);
G_GNUC_INTERNAL char         *rr_upload_view_show_date       (const GDate  *d);
/* The nominal study day of a timepoint label ("Baseline" 0, "Week 8"
 * 56, "Day 15" 15, "Month 6" 180); FALSE for a label it cannot read. */
G_GNUC_INTERNAL gboolean      rr_upload_view_nominal_day     (const char   *label,
                                                              int          *day);
/* Burned In Annotation YES, or a modality that usually burns text in
 * (US, SC, XC, OT) without Burned In Annotation NO. */
G_GNUC_INTERNAL gboolean      rr_upload_view_burned_in_risk  (const RrQcInstance *inst);
/* On a worker: the middle frame of the first of @files at risk, and its
 * name in @which; NULL when none could be shown. */
G_GNUC_INTERNAL GdkTexture   *rr_upload_view_burned_in_thumbnail (GPtrArray *files,
                                                                  char     **which);
/* Adds the date and patient warnings (confirmable: the count returned)
 * and errors (@n_errors: Upload is blocked) to the Warnings list;
 * @patients: rr_upload_patients () of every file. */
G_GNUC_INTERNAL guint         rr_upload_view_check_dates     (RrUploadView *self,
                                                              GPtrArray    *studies,
                                                              GPtrArray    *patients,
                                                              guint        *n_errors);

/* rr-upload-view-resume.c: the unfinished uploads, offered again. */
/* On a worker: the unfinished uploads (RrUploadStaged) for @trials. */
G_GNUC_INTERNAL GPtrArray    *rr_upload_view_unfinished_for     (GPtrArray    *trials);
G_GNUC_INTERNAL void          rr_upload_view_show_unfinished    (RrUploadView *self,
                                                                 GPtrArray    *items);
G_GNUC_INTERNAL void          rr_upload_view_add_resume_widgets (RrUploadView *self,
                                                                 GtkBox       *box);
/* Find Studies with the fields as they are. */
G_GNUC_INTERNAL void          rr_upload_view_find               (RrUploadView *self);

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
