/* rr-worklist.c: the tasks as the local database has them (so the list is
 * there offline), refreshed from the server on a worker thread; each sync
 * runs on its own thread with its own database connection, and reports to
 * the main loop. The server is polled while offline; when it answers
 * again, the outbox goes first, then the list. */
#include "rr-worklist.h"
#include "rr-store.h"
#include "rr-sync.h"
#include "rr-read-task.h"
#include "rr-json.h"

#include <adwaita.h>
#include <glib/gi18n.h>
#include <json-glib/json-glib.h>
#include <string.h>

#define POLL_SECONDS 15

struct _RrWorklist
{
  GtkWidget parent_instance;

  GtkLabel *status;
  GtkButton *refresh_button;
  GtkButton *download_all_button;
  GtkListBox *list;
  GtkButton *sign_in_button;      /* shown when the server ended the session */

  char *server, *username, *token, *ca_file;
  RrStore *store;                 /* the main thread's connection */
  gint64 account;
  char *cache_dir;
  GCancellable *cancellable;
  gboolean online;
  gboolean session_ended;         /* the server refused the token (401) */
  gboolean busy;                  /* a sync thread runs */
  char *pending_download;         /* a task to download after the current run ("" : all) */
  char *open_after;               /* a task clicked before it was here: opened once it is */
  GHashTable *progress;           /* task id -> GtkProgressBar (borrowed) */
  guint poll_source;
  RrStore *reader;                /* the list worker's connection (only it uses it) */
  gboolean listing;               /* a list worker runs */
  gboolean list_again;            /* ...and the list changed since it started */
  guint n_pending, n_refused;     /* outbox counts, as the last list read found them */
  guint n_missing;                /* open tasks not all here, as the last list read found */
  gboolean downloaded;            /* the last download run ended well */
  char *detail;                   /* the status line's last detail */
};

enum
{
  SIGNAL_OPEN_TASK,
  SIGNAL_SYNCED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (RrWorklist, rr_worklist, GTK_TYPE_WIDGET)

static void start_run (RrWorklist *self, const char *task, gboolean tasks_only);
static void set_session_ended (RrWorklist *self, gboolean ended);

/* ---- the list ---- */

static const char *
kind_title (const char *kind)
{
  if (g_strcmp0 (kind, "qc") == 0)
    return _("Quality control");
  if (g_strcmp0 (kind, "adjudication") == 0)
    return _("Adjudication");
  if (g_strcmp0 (kind, "query") == 0)
    return _("QC query");
  return _("Read");
}

static void
on_download_clicked (GtkButton  *button,
                     RrWorklist *self)
{
  rr_worklist_download (self, g_object_get_data (G_OBJECT (button), "task"));
}

static void
on_row_activated (GtkListBox    *box,
                  GtkListBoxRow *row,
                  RrWorklist    *self)
{
  const char *id = g_object_get_data (G_OBJECT (row), "task");
  if (id && gtk_list_box_row_get_activatable (row))
    {
      /* A click says what the reader wants now: not an earlier task that
       * was still downloading. */
      g_clear_pointer (&self->open_after, g_free);
      g_signal_emit (self, signals[SIGNAL_OPEN_TASK], 0, id);
    }
}

/* What a task's row says, worked out on the list worker from the
 * database, so that the main thread only sets texts. */
typedef struct
{
  char *id;
  char *title, *subtitle;
  double fraction;
  gboolean all_here;
  gboolean can_download;
  gboolean done;          /* submitted, or signed and waiting to be sent */
  gboolean withdrawn;     /* the server no longer lists it for this reader */
  char *waits_for;        /* sequential reading: the earlier timepoint to submit first */
} RowInfo;

static void
row_info_free (gpointer data)
{
  RowInfo *r = data;
  g_free (r->id);
  g_free (r->title);
  g_free (r->subtitle);
  g_free (r->waits_for);
  g_free (r);
}

/* On the list worker. @tasks and @outbox: the account's, for
 * sequential reading. */
static RowInfo *
row_info_new (RrStore           *store,
              gint64             account,
              const char        *me,
              const RrStoreTask *t,
              GPtrArray         *tasks,
              GPtrArray         *outbox)
{
  g_autoptr (JsonParser) p = json_parser_new ();
  g_autoptr (GPtrArray) files = rr_store_task_instances (store, account, t->id, NULL);
  g_autoptr (GString) labels = g_string_new (NULL);
  g_autofree char *due = NULL, *offline = NULL, *draft = NULL, *withdrawn = NULL;
  const char *subject = "";
  const char *reader = NULL;
  gboolean unassigned = FALSE;
  const char *status = t->status;
  guint cached = 0;
  RowInfo *r = g_new0 (RowInfo, 1);

  if (json_parser_load_from_data (p, t->json, -1, NULL) &&
      JSON_NODE_HOLDS_OBJECT (json_parser_get_root (p)))
    {
      JsonObject *o = json_node_get_object (json_parser_get_root (p));
      JsonArray *tps = json_object_has_member (o, "timepoints")
                         ? json_object_get_array_member (o, "timepoints") : NULL;
      subject = json_object_get_string_member_with_default (o, "subject", "");
      /* An admin lists everyone's tasks: whose each one is, as the server
       * names it (an admin is not blinded, server-api.md). */
      reader = rr_json_get_string (o, "assignee");
      unassigned = json_object_has_member (o, "assignee") && reader == NULL;
      for (guint i = 0; tps && i < json_array_get_length (tps); i++)
        g_string_append_printf (labels, "%s%s", i ? ", " : "",
                                json_object_get_string_member_with_default (
                                  json_array_get_object_element (tps, i), "label", ""));
    }
  for (guint i = 0; files && i < files->len; i++)
    cached += ((RrStoreInstance *) files->pdata[i])->sha256 != NULL;
  r->id = g_strdup (t->id);
  /* What this computer sent since the list last came from the server: the
   * task's newest outbox entry says it before the next refresh does. */
  for (guint i = 0; g_strcmp0 (t->status, "open") == 0 && outbox && i < outbox->len; i++)
    {
      const RrStoreOutbox *o = outbox->pdata[i];
      if (g_strcmp0 (o->task_id, t->id) == 0)
        status = g_str_equal (o->state, "delivered") ? "submitted"
                 : rr_store_outbox_state_waiting (o->state) ? "waiting"
                 : g_str_equal (o->state, "refused") ? "refused" : t->status;
    }
  if (g_strcmp0 (t->status, "open") == 0 && !t->withdrawn)
    r->waits_for = rr_read_task_earlier_open_in (tasks, outbox, t);
  if (reader && g_strcmp0 (reader, me) != 0)
    r->title = g_strdup_printf (_("%s · subject %s · %s"), kind_title (t->kind), subject, reader);
  else if (unassigned)
    r->title = g_strdup_printf (_("%s · subject %s · unassigned"), kind_title (t->kind), subject);
  else
    r->title = g_strdup_printf (_("%s · subject %s"), kind_title (t->kind), subject);
  due = t->due_at && strlen (t->due_at) >= 10 ? g_strndup (t->due_at, 10) : g_strdup ("");
  /* A read signed elsewhere is not downloaded in the background (it is
   * not to do); clicking it fetches it. */
  if ((files == NULL || files->len == 0) && g_strcmp0 (status, "submitted") == 0)
    offline = g_strdup (_("not on this computer, opens when downloaded"));
  else if (files == NULL || files->len == 0)
    offline = g_strdup (_("not downloaded"));
  else if (cached == files->len)
    offline = g_strdup (_("available offline"));
  else
    offline = g_strdup_printf (_("%u of %u files offline"), cached, files->len);
  /* A submitted task's work is on the server (or on its way); the others'
   * is a draft here. */
  if (g_strcmp0 (status, "submitted") == 0 || g_strcmp0 (status, "waiting") == 0)
    ;
  else if (t->n_measurements > 0)
    draft = g_strdup_printf (g_dngettext (NULL, "your draft: %u measurement",
                                          "your draft: %u measurements", t->n_measurements),
                             t->n_measurements);
  else if (t->has_draft)
    draft = g_strdup (_("your draft: started"));
  /* Cancelled or reassigned there: the reader's work here stays, and says so. */
  if (t->withdrawn)
    {
      withdrawn = g_strdup (_("withdrawn on the server"));
      if (draft)
        {
          char *kept = g_strdup_printf (_("%s, kept on this computer"), draft);
          g_free (draft);
          draft = kept;
        }
    }
  {
    GString *sub = g_string_new (labels->str);
    if (withdrawn)
      g_string_append_printf (sub, " · %s", withdrawn);
    else
      {
        g_string_append_printf (sub, " · %s",
                                g_strcmp0 (status, "open") == 0 ? _("open")
                                : g_strcmp0 (status, "submitted") == 0 ? _("submitted")
                                : g_strcmp0 (status, "waiting") == 0 ? _("signed, waiting to be sent")
                                : g_strcmp0 (status, "refused") == 0 ? _("refused by the server")
                                : status);
        if (*due && (g_strcmp0 (status, "open") == 0 || g_strcmp0 (status, "refused") == 0))
          g_string_append_printf (sub, _(" · due %s"), due);
        /* Sequential reading: this one is read after the earlier one is
         * submitted; it opens read-only until then. */
        if (r->waits_for)
          g_string_append_printf (sub, _(" · submit %s first"), r->waits_for);
      }
    g_string_append_printf (sub, " · %s", offline);
    if (draft)
      g_string_append_printf (sub, " · %s", draft);
    r->subtitle = g_string_free (sub, FALSE);
  }
  r->fraction = files && files->len ? (double) cached / files->len : 0;
  r->all_here = files && files->len > 0 && cached == files->len;
  r->can_download = g_strcmp0 (status, "open") == 0 && t->on_server && !r->all_here;
  r->done = g_strcmp0 (status, "submitted") == 0 || g_strcmp0 (status, "waiting") == 0;
  r->withdrawn = t->withdrawn;
  return r;
}

/* Sets @row's texts from @r: a row is updated in place, not made again,
 * so that what the reader (or a screen reader) holds stays valid. */
static void
task_row_update (GtkWidget     *row,
                 const RowInfo *r)
{
  GtkWidget *bar = g_object_get_data (G_OBJECT (row), "bar");
  GtkWidget *button = g_object_get_data (G_OBJECT (row), "button");
  g_autofree char *label = g_strdup_printf ("%s, %s", r->title, r->subtitle);

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), r->title);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), r->subtitle);
  gtk_accessible_update_property (GTK_ACCESSIBLE (row), GTK_ACCESSIBLE_PROPERTY_LABEL, label, -1);
  gtk_progress_bar_set_fraction (GTK_PROGRESS_BAR (bar), r->fraction);
  gtk_widget_set_tooltip_text (button, r->all_here ? _("Available Offline")
                                                   : _("Make Available Offline"));
  gtk_accessible_update_property (GTK_ACCESSIBLE (button), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  r->all_here ? _("Available offline") : _("Make available offline"),
                                  -1);
  gtk_widget_set_sensitive (button, r->can_download);
  /* Nothing left to download, or nothing left to do: no download button;
   * a done task has a tick instead of the progress bar. */
  gtk_widget_set_visible (button, !r->all_here && !r->done);
  gtk_widget_set_visible (bar, !r->done);
  {
    /* Kept in place when empty, so that every row's title starts at the
     * same x. */
    GtkImage *done = g_object_get_data (G_OBJECT (row), "done");
    if (r->done)
      gtk_image_set_from_icon_name (done, "object-select-symbolic");
    else
      gtk_image_clear (done);
    gtk_accessible_update_property (GTK_ACCESSIBLE (done), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                    r->done ? _("Submitted") : "", -1);
  }
  /* Withdrawn: nothing can be submitted for it, so it does not open for
   * new work; the row still says what is kept here. */
  gtk_widget_set_sensitive (row, !r->withdrawn);
  gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (row), !r->withdrawn);
  /* Greyed, still activatable: it opens read-only and says why. */
  if (r->waits_for)
    gtk_widget_add_css_class (row, "dim-label");
  else
    gtk_widget_remove_css_class (row, "dim-label");
}

static GtkWidget *
task_row (RrWorklist    *self,
          const RowInfo *r)
{
  GtkWidget *row = adw_action_row_new ();
  GtkWidget *bar = gtk_progress_bar_new ();
  GtkWidget *button = gtk_button_new_from_icon_name ("folder-download-symbolic");

  GtkWidget *done = gtk_image_new ();

  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (row), TRUE);
  gtk_image_set_pixel_size (GTK_IMAGE (done), 16);
  gtk_widget_add_css_class (done, "success");
  adw_action_row_add_prefix (ADW_ACTION_ROW (row), done);
  g_object_set_data (G_OBJECT (row), "done", done);
  gtk_widget_set_valign (bar, GTK_ALIGN_CENTER);
  gtk_widget_set_size_request (bar, 120, -1);
  gtk_accessible_update_property (GTK_ACCESSIBLE (bar), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Download progress"), -1);
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), bar);
  gtk_widget_set_valign (button, GTK_ALIGN_CENTER);
  gtk_widget_add_css_class (button, "flat");
  g_object_set_data_full (G_OBJECT (button), "task", g_strdup (r->id), g_free);
  g_signal_connect_object (button, "clicked", G_CALLBACK (on_download_clicked), self, 0);
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), button);
  g_object_set_data_full (G_OBJECT (row), "task", g_strdup (r->id), g_free);
  g_object_set_data (G_OBJECT (row), "bar", bar);
  g_object_set_data (G_OBJECT (row), "button", button);
  g_hash_table_insert (self->progress, g_strdup (r->id), bar);
  task_row_update (row, r);
  return row;
}

/* The work to do first; then by kind, and each subject's timepoints in
 * reading order (chronological), as a reader goes through them; the due
 * day only between tasks of one subject and timepoint. */
static int
by_kind_subject_timepoint (gconstpointer a,
                           gconstpointer b)
{
  const RrStoreTask *x = *(RrStoreTask *const *) a, *y = *(RrStoreTask *const *) b;
  int open_x = g_strcmp0 (x->status, "open") != 0, open_y = g_strcmp0 (y->status, "open") != 0;
  int c;
  if (open_x != open_y)
    return open_x - open_y;
  if ((c = g_strcmp0 (x->kind, y->kind)) != 0)
    return c;
  if ((c = g_strcmp0 (x->subject, y->subject)) != 0)
    return c;
  if (x->n_timepoints != y->n_timepoints)
    return x->n_timepoints < y->n_timepoints ? -1 : 1;
  if ((c = strncmp (x->due_at ? x->due_at : "", y->due_at ? y->due_at : "", 10)) != 0)
    return c;
  return g_strcmp0 (x->id, y->id);
}

/* ---- the list, read on a worker ---- */

typedef struct
{
  GPtrArray *rows;        /* RowInfo *, in the list's order */
  guint pending, refused; /* submissions in the outbox */
  guint missing;          /* open tasks not all here */
} ListResult;

static void
list_result_free (gpointer data)
{
  ListResult *r = data;
  g_ptr_array_unref (r->rows);
  g_free (r);
}

typedef struct
{
  char *db_path;
  gint64 account;
} ListJob;

static void
list_job_free (gpointer data)
{
  ListJob *j = data;
  g_free (j->db_path);
  g_free (j);
}

/* The whole list out of the database: for 500 tasks, 500 queries and as
 * many JSON documents, none of it on the main thread. The worker's
 * connection is its own and kept (one list job runs at a time). */
static void
list_thread (GTask        *task,
             gpointer      source,
             gpointer      data,
             GCancellable *cancellable)
{
  RrWorklist *self = source;
  ListJob *job = data;
  GError *error = NULL;
  g_autoptr (GPtrArray) tasks = NULL;
  g_autoptr (GPtrArray) pending = NULL, refused = NULL, outbox = NULL;
  g_autofree char *me = NULL;
  ListResult *result;

  if (self->reader && g_strcmp0 (rr_store_get_path (self->reader), job->db_path) != 0)
    g_clear_pointer (&self->reader, rr_store_close);
  if (self->reader == NULL && (self->reader = rr_store_open (job->db_path, &error)) == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  tasks = rr_store_list_tasks (self->reader, job->account, &error);
  if (tasks == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  g_ptr_array_sort (tasks, by_kind_subject_timepoint);
  outbox = rr_store_outbox_list (self->reader, job->account, NULL, NULL);
  rr_store_get_account (self->reader, job->account, NULL, &me, NULL, NULL);
  result = g_new0 (ListResult, 1);
  result->rows = g_ptr_array_new_with_free_func (row_info_free);
  for (guint i = 0; i < tasks->len && !g_cancellable_is_cancelled (cancellable); i++)
    {
      RowInfo *r = row_info_new (self->reader, job->account, me, tasks->pdata[i], tasks, outbox);
      result->missing += r->can_download && !r->withdrawn;
      g_ptr_array_add (result->rows, r);
    }
  pending = rr_store_outbox_list (self->reader, job->account, "pending", NULL);
  refused = rr_store_outbox_list (self->reader, job->account, "refused", NULL);
  result->pending = pending ? pending->len : 0;
  result->refused = refused ? refused->len : 0;
  g_task_return_pointer (task, result, list_result_free);
}

static void update_status (RrWorklist *self, const char *detail);
static void rebuild (RrWorklist *self);

static void
list_done (GObject      *source,
           GAsyncResult *res,
           gpointer      data)
{
  RrWorklist *self = RR_WORKLIST (source);
  g_autoptr (GError) error = NULL;
  ListResult *result = g_task_propagate_pointer (G_TASK (res), &error);
  GtkWidget *child;
  gboolean same = TRUE;
  guint i = 0;

  self->listing = FALSE;
  if (result == NULL || self->store == NULL)
    {
      if (result == NULL && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        update_status (self, error->message);
      g_clear_pointer (&result, list_result_free);
      goto again;
    }
  /* The same tasks in the same order (the usual case: a refresh, a draft
   * saved): each row is updated where it is. */
  for (child = gtk_widget_get_first_child (GTK_WIDGET (self->list)); child;
       child = gtk_widget_get_next_sibling (child))
    {
      const char *id = g_object_get_data (G_OBJECT (child), "task");
      if (id == NULL)
        continue;
      if (i >= result->rows->len || g_strcmp0 (id, ((RowInfo *) result->rows->pdata[i])->id) != 0)
        same = FALSE;
      i++;
    }
  if (same && i == result->rows->len)
    {
      i = 0;
      for (child = gtk_widget_get_first_child (GTK_WIDGET (self->list)); child;
           child = gtk_widget_get_next_sibling (child))
        if (g_object_get_data (G_OBJECT (child), "task"))
          task_row_update (child, result->rows->pdata[i++]);
    }
  else
    {
      /* Tasks came, went or moved: the rows that stay are updated and,
       * only where their place changed, moved; the others come and go. A
       * list made again from nothing lost a click on a row made a moment
       * before (a walk found it), and a screen reader's place in it. */
      g_autoptr (GHashTable) wanted = g_hash_table_new (g_str_hash, g_str_equal);
      g_autoptr (GHashTable) rows = g_hash_table_new (g_str_hash, g_str_equal);
      GtkWidget *next;

      for (i = 0; i < result->rows->len; i++)
        g_hash_table_add (wanted, ((RowInfo *) result->rows->pdata[i])->id);
      for (child = gtk_widget_get_first_child (GTK_WIDGET (self->list)); child; child = next)
        {
          const char *id = g_object_get_data (G_OBJECT (child), "task");
          next = gtk_widget_get_next_sibling (child);
          if (id != NULL && g_hash_table_contains (wanted, id) &&
              !g_hash_table_contains (rows, id))
            {
              g_hash_table_insert (rows, (gpointer) id, child);
              continue;
            }
          if (id != NULL && g_hash_table_lookup (rows, id) == NULL)
            g_hash_table_remove (self->progress, id);
          gtk_list_box_remove (self->list, child);
        }
      for (i = 0; i < result->rows->len; i++)
        {
          const RowInfo *info = result->rows->pdata[i];
          GtkWidget *row = g_hash_table_lookup (rows, info->id);
          GtkWidget *at = GTK_WIDGET (gtk_list_box_get_row_at_index (self->list, (int) i));
          if (row == NULL)
            {
              gtk_list_box_insert (self->list, task_row (self, info), (int) i);
              continue;
            }
          task_row_update (row, info);
          if (row != at)
            {
              g_object_ref (row);
              gtk_list_box_remove (self->list, row);
              gtk_list_box_insert (self->list, row, (int) i);
              g_object_unref (row);
            }
        }
    }
  self->n_pending = result->pending;
  self->n_refused = result->refused;
  self->n_missing = result->missing;
  update_status (self, self->detail);
  list_result_free (result);
again:
  if (self->list_again)
    {
      self->list_again = FALSE;
      rebuild (self);
    }
}

/* The list as the database has it now: read on the worker, shown when
 * read. A request while one runs is served once it is done. */
static void
rebuild (RrWorklist *self)
{
  g_autoptr (GTask) task = NULL;
  ListJob *job;

  if (self->store == NULL)
    return;
  if (self->listing)
    {
      self->list_again = TRUE;
      return;
    }
  self->listing = TRUE;
  job = g_new0 (ListJob, 1);
  job->db_path = g_strdup (rr_store_get_path (self->store));
  job->account = self->account;
  task = g_task_new (self, self->cancellable, list_done, NULL);
  g_task_set_task_data (task, job, list_job_free);
  g_task_run_in_thread (task, list_thread);
}

/* From the counts the last list read found: no query on the main thread. */
static void
update_status (RrWorklist *self,
               const char *detail)
{
  GString *s = g_string_new (self->session_ended
                             ? _("Signed out by the server: the session ended or the account "
                                 "was disabled. Sign in again to refresh the list and send "
                                 "your work")
                             : self->online ? _("Online")
                             : _("Offline: working from the cache; Readroom reconnects by "
                                 "itself"));
  if (detail != self->detail)
    {
      g_free (self->detail);
      self->detail = g_strdup (detail);
    }
  g_string_append_printf (s, " · %s", self->username ? self->username : "");
  if (self->n_pending && !self->online && !self->session_ended)
    g_string_append_printf (s, g_dngettext (NULL, " · %u submission saved here; it will be sent "
                                            "when the server is reachable",
                                            " · %u submissions saved here; they will be sent "
                                            "when the server is reachable", self->n_pending),
                            self->n_pending);
  else if (self->n_pending)
    g_string_append_printf (s, g_dngettext (NULL, " · %u submission waiting to be sent",
                                            " · %u submissions waiting to be sent",
                                            self->n_pending), self->n_pending);
  if (self->n_refused)
    g_string_append_printf (s, g_dngettext (NULL, " · %u submission refused by the server",
                                            " · %u submissions refused by the server",
                                            self->n_refused), self->n_refused);
  if (detail && *detail)
    g_string_append_printf (s, " · %s", detail);
  /* Complete only when every open task is here: a read signed elsewhere
   * is not downloaded by a run, and is not missing from it. */
  else if (self->downloaded && self->n_missing == 0)
    g_string_append_printf (s, " · %s", _("downloads complete"));
  else if (self->downloaded)
    g_string_append_printf (s, g_dngettext (NULL, " · %u open task not on this computer yet",
                                            " · %u open tasks not on this computer yet",
                                            self->n_missing), self->n_missing);
  gtk_label_set_text (self->status, s->str);
  g_string_free (s, TRUE);
}

/* ---- sync on a worker ---- */

typedef struct
{
  RrWorklist *self;          /* a reference */
  char *server, *username, *token, *cache_dir, *db_path, *task, *ca_file;
  gboolean tasks_only;
  gboolean offline;
} SyncJob;

typedef struct
{
  RrWorklist *self;
  char *task;
  double fraction;
  char *status;
  gboolean offline;
} Report;

static void
report_free (gpointer data)
{
  Report *r = data;
  g_object_unref (r->self);
  g_free (r->task);
  g_free (r->status);
  g_free (r);
}

static gboolean
apply_report (gpointer data)
{
  Report *r = data;
  RrWorklist *self = r->self;
  if (self->store)
    {
      self->online = !r->offline;
      if (r->task)
        {
          GtkProgressBar *bar = g_hash_table_lookup (self->progress, r->task);
          if (bar)
            gtk_progress_bar_set_fraction (bar, r->fraction);
        }
      update_status (self, r->status);
    }
  return G_SOURCE_REMOVE;
}

static void
on_progress (const RrSyncProgress *p,
             gpointer              data)
{
  SyncJob *job = data;
  Report *r = g_new0 (Report, 1);
  r->self = g_object_ref (job->self);
  r->task = g_strdup (job->task);
  r->fraction = p->bytes_total ? (double) p->bytes_done / p->bytes_total : 0;
  r->offline = p->offline;
  /* While the server fails, what failed and when it is tried again (the
   * sync's own words); otherwise the files. */
  if (p->offline && p->status)
    r->status = g_strdup (p->status);
  else
    r->status = job->tasks_only ? NULL
                                : g_strdup_printf (_("%u of %u files (%.0f of %.0f MB)"),
                                                   p->files_done, p->files_total,
                                                   p->bytes_done / 1e6, p->bytes_total / 1e6);
  g_main_context_invoke_full (NULL, G_PRIORITY_DEFAULT, apply_report, r, report_free);
}

static void
job_free (gpointer data)
{
  SyncJob *j = data;
  g_object_unref (j->self);
  g_free (j->server);
  g_free (j->username);
  if (j->token)
    memset (j->token, 0, strlen (j->token));
  g_free (j->token);
  g_free (j->cache_dir);
  g_free (j->db_path);
  g_free (j->task);
  g_free (j->ca_file);
  g_free (j);
}

static void
sync_thread (GTask        *task,
             gpointer      source,
             gpointer      data,
             GCancellable *cancellable)
{
  SyncJob *job = data;
  GError *error = NULL;
  g_autoptr (RrStore) store = rr_store_open (job->db_path, &error);
  g_autoptr (RrSyncClient) client = NULL;
  RrSyncOptions options = { 0 };
  gint64 account;

  if (store == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  client = rr_sync_client_new (job->server, job->ca_file);
  rr_sync_client_set_token (client, job->token);
  account = rr_store_account (store, job->server, job->username, NULL, &error);
  if (account < 0)
    {
      g_task_return_error (task, error);
      return;
    }
  /* What waits in the outbox goes before anything else. */
  if (!rr_sync_deliver (client, store, account, NULL, NULL, &error))
    {
      job->offline = g_error_matches (error, RR_SYNC_ERROR, RR_SYNC_ERROR_OFFLINE);
      g_task_return_error (task, error);
      return;
    }
  options.task_id = job->task;
  options.tasks_only = job->tasks_only;
  options.offline_timeout_s = 20;
  options.progress = on_progress;
  options.progress_data = job;
  if (!rr_sync_run (client, store, account, job->cache_dir, &options, cancellable, &error))
    {
      job->offline = g_error_matches (error, RR_SYNC_ERROR, RR_SYNC_ERROR_OFFLINE);
      g_task_return_error (task, error);
      return;
    }
  g_task_return_boolean (task, TRUE);
}

static gboolean poll_server (gpointer data);

/* After a download run: the task clicked before it was here opens, if its
 * files came and the list is still what the reader looks at; it is
 * forgotten unless another run, queued meanwhile, may still bring them
 * (the row says why it did not come; clicking again tries again). */
static void
open_when_here (RrWorklist *self)
{
  g_autoptr (GHashTable) labels = NULL;
  g_auto (GStrv) files = rr_worklist_task_files (self, self->open_after, &labels);
  g_autofree char *id = NULL;

  if (files == NULL && self->pending_download != NULL)
    return;
  id = g_steal_pointer (&self->open_after);
  if (files != NULL && gtk_widget_get_mapped (GTK_WIDGET (self)))
    g_signal_emit (self, signals[SIGNAL_OPEN_TASK], 0, id);
}

static void
sync_done (GObject      *source,
           GAsyncResult *result,
           gpointer      data)
{
  RrWorklist *self = RR_WORKLIST (source);
  SyncJob *job = g_task_get_task_data (G_TASK (result));
  g_autoptr (GError) error = NULL;
  gboolean ok = g_task_propagate_boolean (G_TASK (result), &error);

  self->busy = FALSE;
  if (g_error_matches (error, RR_SYNC_ERROR, RR_SYNC_ERROR_CANCELLED) ||
      g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) || self->store == NULL)
    return;
  /* A refused token is not "online": nothing can be fetched or sent until
   * the reader signs in again, and asking again with it is no use. */
  set_session_ended (self, g_error_matches (error, RR_SYNC_ERROR, RR_SYNC_ERROR_AUTH));
  self->online = ok || (!job->offline && !self->session_ended);
  rebuild (self);
  /* An open task may have been withdrawn meanwhile: its form says so. */
  g_signal_emit (self, signals[SIGNAL_SYNCED], 0);
  if (!job->tasks_only)
    self->downloaded = ok;
  update_status (self, ok ? NULL : self->session_ended ? NULL : error->message);
  if (self->session_ended)
    {
      g_clear_handle_id (&self->poll_source, g_source_remove);
      g_clear_pointer (&self->pending_download, g_free);
      g_clear_pointer (&self->open_after, g_free);
      return;
    }
  if (!job->tasks_only && self->open_after)
    open_when_here (self);
  /* Offline: keep asking the server; it resumes by itself. */
  if (!self->online && self->poll_source == 0)
    self->poll_source = g_timeout_add_seconds (POLL_SECONDS, poll_server, self);
  if (self->pending_download)
    {
      g_autofree char *next = g_steal_pointer (&self->pending_download);
      start_run (self, *next ? next : NULL, FALSE);
    }
}

static void
set_session_ended (RrWorklist *self,
                   gboolean    ended)
{
  self->session_ended = ended;
  gtk_widget_set_visible (GTK_WIDGET (self->sign_in_button), ended);
}

static void
start_run (RrWorklist *self,
           const char *task,
           gboolean    tasks_only)
{
  g_autoptr (GTask) t = NULL;
  SyncJob *job;

  if (self->store == NULL)
    return;
  if (self->busy)
    {
      if (!tasks_only)
        {
          g_free (self->pending_download);
          self->pending_download = g_strdup (task ? task : "");
        }
      return;
    }
  self->busy = TRUE;
  job = g_new0 (SyncJob, 1);
  job->self = g_object_ref (self);
  job->server = g_strdup (self->server);
  job->username = g_strdup (self->username);
  job->token = g_strdup (self->token);
  job->cache_dir = g_strdup (self->cache_dir);
  job->db_path = g_strdup (rr_store_get_path (self->store));
  job->task = g_strdup (task);
  job->ca_file = g_strdup (self->ca_file);
  job->tasks_only = tasks_only;
  t = g_task_new (self, self->cancellable, sync_done, NULL);
  g_task_set_task_data (t, job, job_free);
  g_task_run_in_thread (t, sync_thread);
  if (!tasks_only)
    self->downloaded = FALSE;
  update_status (self, tasks_only ? _("refreshing the task list") : _("downloading"));
}

static gboolean
poll_server (gpointer data)
{
  RrWorklist *self = data;
  if (self->online || self->session_ended)
    {
      self->poll_source = 0;
      return G_SOURCE_REMOVE;
    }
  start_run (self, NULL, TRUE);
  return G_SOURCE_CONTINUE;
}

/* ---- public ---- */

typedef struct
{
  char *path, *server, *username;
} OpenJob;

static void
open_job_free (gpointer data)
{
  OpenJob *j = data;
  g_free (j->path);
  g_free (j->server);
  g_free (j->username);
  g_free (j);
}

typedef struct
{
  RrStore *store;
  gint64 account;
} Opened;

static void
opened_free (gpointer data)
{
  Opened *o = data;
  g_clear_pointer (&o->store, rr_store_close);
  g_free (o);
}

static void
open_thread (GTask        *task,
             gpointer      source,
             gpointer      data,
             GCancellable *cancellable)
{
  OpenJob *job = data;
  GError *error = NULL;
  g_autoptr (RrStore) store = rr_store_open (job->path, &error);
  gint64 account;
  Opened *o;

  if (store == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  account = rr_store_account (store, job->server, job->username, NULL, &error);
  if (account < 0)
    {
      g_task_return_error (task, error);
      return;
    }
  o = g_new0 (Opened, 1);
  o->store = g_steal_pointer (&store);
  o->account = account;
  g_task_return_pointer (task, o, opened_free);
}

static void
open_done (GObject      *source,
           GAsyncResult *result,
           gpointer      data)
{
  RrWorklist *self = RR_WORKLIST (source);
  g_autoptr (GError) error = NULL;
  Opened *o = g_task_propagate_pointer (G_TASK (result), &error);

  if (o == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        gtk_label_set_text (self->status, error->message);
      return;
    }
  /* The connection moves to the main thread, which alone uses it now. */
  self->store = g_steal_pointer (&o->store);
  self->account = o->account;
  opened_free (o);
  self->online = TRUE;
  rebuild (self);
  update_status (self, NULL);
  start_run (self, NULL, TRUE);
}

void
rr_worklist_set_account (RrWorklist *self,
                         const char *server,
                         const char *username,
                         const char *token,
                         const char *ca_file)
{
  g_autoptr (GTask) task = NULL;
  OpenJob *job;

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();
  g_clear_pointer (&self->store, rr_store_close);
  g_free (self->server);
  g_free (self->username);
  g_free (self->token);
  self->server = g_strdup (server);
  self->username = g_strdup (username);
  self->token = g_strdup (token);
  g_free (self->ca_file);
  self->ca_file = ca_file && *ca_file ? g_strdup (ca_file) : NULL;
  self->busy = FALSE;
  set_session_ended (self, FALSE);
  /* Opening checks the whole database and may migrate it, and the account
   * may be written: on a worker, the window answering meanwhile. */
  gtk_label_set_text (self->status, _("Opening the local database…"));
  job = g_new0 (OpenJob, 1);
  job->path = rr_store_default_path ();
  job->server = g_strdup (server);
  job->username = g_strdup (username);
  task = g_task_new (self, self->cancellable, open_done, NULL);
  g_task_set_task_data (task, job, open_job_free);
  g_task_run_in_thread (task, open_thread);
}

void
rr_worklist_sign_out (RrWorklist *self)
{
  GtkWidget *child;

  g_return_if_fail (RR_IS_WORKLIST (self));
  /* What runs for the account stops (a list or a sync in flight ends
   * cancelled, its result dropped), and its tasks go: a page not shown is
   * still in the accessibility tree. */
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();
  g_clear_handle_id (&self->poll_source, g_source_remove);
  g_clear_pointer (&self->store, rr_store_close);
  self->account = 0;
  g_clear_pointer (&self->pending_download, g_free);
  g_clear_pointer (&self->open_after, g_free);
  g_clear_pointer (&self->server, g_free);
  g_clear_pointer (&self->username, g_free);
  if (self->token)
    memset (self->token, 0, strlen (self->token));
  g_clear_pointer (&self->token, g_free);
  g_hash_table_remove_all (self->progress);
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->list))))
    gtk_list_box_remove (self->list, child);
  self->n_pending = self->n_refused = self->n_missing = 0;
  self->downloaded = FALSE;
  set_session_ended (self, FALSE);
  g_clear_pointer (&self->detail, g_free);
  gtk_label_set_text (self->status, "");
}

void
rr_worklist_reload (RrWorklist *self)
{
  g_return_if_fail (RR_IS_WORKLIST (self));
  rebuild (self);
}

gint64
rr_worklist_get_account (RrWorklist *self)
{
  g_return_val_if_fail (RR_IS_WORKLIST (self), -1);
  return self->store && self->account > 0 ? self->account : -1;
}

void
rr_worklist_download (RrWorklist *self,
                      const char *task_id)
{
  start_run (self, task_id, FALSE);
}

void
rr_worklist_download_and_open (RrWorklist *self,
                               const char *task_id)
{
  g_return_if_fail (RR_IS_WORKLIST (self));
  g_free (self->open_after);
  self->open_after = g_strdup (task_id);
  start_run (self, task_id, FALSE);
}

GStrv
rr_worklist_task_files (RrWorklist  *self,
                        const char  *task_id,
                        GHashTable **study_labels)
{
  g_autoptr (GPtrArray) files = self->store ? rr_store_task_instances (self->store, self->account,
                                                                       task_id, NULL) : NULL;
  /* The one task by its id: listing all 500 to find it stalled the
   * window on every open. */
  g_autoptr (RrStoreTask) t = self->store ? rr_store_get_task (self->store, self->account,
                                                               task_id, NULL) : NULL;
  g_autoptr (GStrvBuilder) b = g_strv_builder_new ();
  guint n = 0;

  *study_labels = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  if (t)
    {
      g_autoptr (JsonParser) p = json_parser_new ();
      JsonArray *tps = NULL;
      if (json_parser_load_from_data (p, t->json, -1, NULL) &&
          JSON_NODE_HOLDS_OBJECT (json_parser_get_root (p)))
        {
          JsonObject *o = json_node_get_object (json_parser_get_root (p));
          if (json_object_has_member (o, "timepoints"))
            tps = json_object_get_array_member (o, "timepoints");
        }
      for (guint k = 0; tps && k < json_array_get_length (tps); k++)
        {
          JsonObject *tp = json_array_get_object_element (tps, k);
          JsonArray *studies = json_object_get_array_member (tp, "studies");
          for (guint s = 0; studies && s < json_array_get_length (studies); s++)
            g_hash_table_insert (*study_labels,
                                 g_strdup (json_array_get_string_element (studies, s)),
                                 g_strdup (json_object_get_string_member_with_default (tp, "label",
                                                                                       "")));
        }
    }
  for (guint i = 0; files && i < files->len; i++)
    {
      RrStoreInstance *inst = files->pdata[i];
      if (inst->sha256)
        {
          g_autofree char *path = rr_store_cache_path (self->cache_dir, inst->sha256);
          g_strv_builder_add (b, path);
          n++;
        }
    }
  return n ? g_strv_builder_end (b) : NULL;
}

/* ---- GObject ---- */

static void
rr_worklist_dispose (GObject *object)
{
  RrWorklist *self = RR_WORKLIST (object);
  g_cancellable_cancel (self->cancellable);
  g_clear_handle_id (&self->poll_source, g_source_remove);
  gtk_widget_dispose_template (GTK_WIDGET (object), RR_TYPE_WORKLIST);
  G_OBJECT_CLASS (rr_worklist_parent_class)->dispose (object);
}

static void
rr_worklist_finalize (GObject *object)
{
  RrWorklist *self = RR_WORKLIST (object);
  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->store, rr_store_close);
  g_clear_pointer (&self->reader, rr_store_close);
  g_clear_pointer (&self->progress, g_hash_table_unref);
  g_free (self->detail);
  g_free (self->server);
  g_free (self->username);
  if (self->token)
    memset (self->token, 0, strlen (self->token));
  g_free (self->token);
  g_free (self->cache_dir);
  g_free (self->ca_file);
  g_free (self->pending_download);
  g_free (self->open_after);
  G_OBJECT_CLASS (rr_worklist_parent_class)->finalize (object);
}

/* Back from a task: its draft may have changed. */
static void
rr_worklist_map (GtkWidget *widget)
{
  GTK_WIDGET_CLASS (rr_worklist_parent_class)->map (widget);
  rebuild (RR_WORKLIST (widget));
}

static void
rr_worklist_class_init (RrWorklistClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = rr_worklist_dispose;
  object_class->finalize = rr_worklist_finalize;
  widget_class->map = rr_worklist_map;
  signals[SIGNAL_SYNCED] =
    g_signal_new ("synced", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 0);
  signals[SIGNAL_OPEN_TASK] =
    g_signal_new ("open-task", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, G_TYPE_STRING);
  gtk_widget_class_set_template_from_resource (widget_class, "/org/readroom/Readroom/rr-worklist.ui");
  gtk_widget_class_bind_template_child (widget_class, RrWorklist, status);
  gtk_widget_class_bind_template_child (widget_class, RrWorklist, refresh_button);
  gtk_widget_class_bind_template_child (widget_class, RrWorklist, download_all_button);
  gtk_widget_class_bind_template_child (widget_class, RrWorklist, list);
  gtk_widget_class_set_css_name (widget_class, "rrworklist");
}

static void
on_refresh (RrWorklist *self)
{
  start_run (self, NULL, TRUE);
}

static void
on_download_all (RrWorklist *self)
{
  start_run (self, NULL, FALSE);
}

static void
rr_worklist_init (RrWorklist *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  self->progress = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->cache_dir = rr_store_cache_dir ();
  self->cancellable = g_cancellable_new ();
  gtk_list_box_set_placeholder (self->list, gtk_label_new (_("No tasks yet")));
  g_signal_connect_object (self->list, "row-activated", G_CALLBACK (on_row_activated), self, 0);
  /* The window's Sign In, with the last user offered: a new token, and
   * the list is fetched again (rr_worklist_set_account). */
  self->sign_in_button = GTK_BUTTON (gtk_button_new_with_mnemonic (_("_Sign In Again…")));
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->sign_in_button),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, _("Sign In Again"), -1);
  gtk_widget_add_css_class (GTK_WIDGET (self->sign_in_button), "suggested-action");
  gtk_widget_set_valign (GTK_WIDGET (self->sign_in_button), GTK_ALIGN_CENTER);
  gtk_actionable_set_action_name (GTK_ACTIONABLE (self->sign_in_button), "win.sign-in");
  gtk_widget_set_visible (GTK_WIDGET (self->sign_in_button), FALSE);
  gtk_box_insert_child_after (GTK_BOX (gtk_widget_get_parent (GTK_WIDGET (self->status))),
                              GTK_WIDGET (self->sign_in_button), GTK_WIDGET (self->status));
  g_signal_connect_object (self->refresh_button, "clicked", G_CALLBACK (on_refresh), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->download_all_button, "clicked", G_CALLBACK (on_download_all),
                           self, G_CONNECT_SWAPPED);
}
