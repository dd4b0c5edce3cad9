/* rr-upload-view-query.c: the upload page's queries: the site's open
 * query tasks, and the one being answered (the reviewer's findings, the
 * site's response and the password that signs it). A re-upload answers. */
#include "rr-upload-view-private.h"
#include "rr-qc-view.h"
#include "rr-json.h"

#include <glib/gi18n.h>

/* A query's findings shown at most (the reviewer's list is short). */
#define MAX_FINDINGS_SHOWN 100

static void
query_task_free (gpointer data)
{
  QueryTask *q = data;
  g_free (q->id);
  g_free (q->trial);
  g_free (q->subject);
  g_free (q->label);
  g_free (q);
}

GPtrArray *
rr_upload_view_queries_from_json (JsonNode *tasks)
{
  GPtrArray *queries = g_ptr_array_new_with_free_func (query_task_free);

  for (guint i = 0; tasks && JSON_NODE_HOLDS_ARRAY (tasks) &&
                    i < json_array_get_length (json_node_get_array (tasks)); i++)
    {
      JsonObject *t = rr_json_get_element (json_node_get_array (tasks), i);
      JsonArray *tps;
      JsonObject *last;
      QueryTask *q;
      if (t == NULL || g_strcmp0 (json_object_get_string_member_with_default (t, "kind", NULL),
                                  "query") != 0)
        continue;
      tps = rr_json_get_array (t, "timepoints");
      if (tps == NULL || json_array_get_length (tps) == 0)
        continue;
      last = rr_json_get_element (tps, json_array_get_length (tps) - 1);
      if (rr_json_get_string (t, "id") == NULL)
        continue;
      q = g_new0 (QueryTask, 1);
      q->id = g_strdup (rr_json_get_string (t, "id"));
      q->trial = g_strdup (json_object_get_string_member_with_default (t, "trial", ""));
      q->subject = g_strdup (json_object_get_string_member_with_default (t, "subject", ""));
      q->label = g_strdup (last ? json_object_get_string_member_with_default (last, "label", "")
                                : "");
      q->day = last ? (int) json_object_get_int_member_with_default (last, "day", 0) : 0;
      g_ptr_array_add (queries, q);
    }
  return queries;
}

void
rr_upload_view_show_queries (RrUploadView *self,
                             GPtrArray    *queries)
{
  rr_upload_view_clear_list (self->queries);
  g_clear_pointer (&self->query_tasks, g_ptr_array_unref);
  self->query_tasks = g_ptr_array_ref (queries);
  for (guint i = 0; i < queries->len; i++)
    {
      QueryTask *q = queries->pdata[i];
      g_autofree char *text = g_strdup_printf (_("Query · %s · subject %s · %s (day %d)"),
                                               q->trial, q->subject, q->label, q->day);
      rr_upload_view_add_row (self->queries, text, NULL);
    }
  gtk_widget_set_visible (GTK_WIDGET (self->queries_empty), queries->len == 0);
}

typedef struct
{
  Account *account;
  char *id;
  GPtrArray *lines;        /* char *, one a finding */
} QueryDetail;

static void
query_detail_free (QueryDetail *d)
{
  rr_upload_view_account_free (d->account);
  g_free (d->id);
  g_clear_pointer (&d->lines, g_ptr_array_unref);
  g_free (d);
}

static void
query_detail_thread (GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  QueryDetail *d = data;
  g_autoptr (RrSyncClient) client = rr_upload_view_client_for (d->account);
  g_autoptr (GError) error = NULL;
  g_autofree char *esc = g_uri_escape_string (d->id, NULL, FALSE);
  g_autofree char *path = g_strdup_printf ("/readroom/v1/tasks/%s", esc);
  g_autoptr (JsonNode) doc = rr_sync_get_json (client, path, &error);
  JsonObject *o = doc && JSON_NODE_HOLDS_OBJECT (doc) ? json_node_get_object (doc) : NULL;
  JsonArray *a = rr_json_get_array (o, "findings");

  if (o == NULL)
    {
      g_task_return_error (task, error ? g_steal_pointer (&error)
                                       : g_error_new_literal (RR_SYNC_ERROR, RR_SYNC_ERROR_SERVER,
                                                              _("the server sent no task")));
      return;
    }
  d->lines = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; a && i < json_array_get_length (a) && i < MAX_FINDINGS_SHOWN; i++)
    {
      JsonObject *f = rr_json_get_element (a, i);
      g_autofree char *category = NULL;
      const char *severity, *comment;
      if (f == NULL)
        continue;
      category = rr_qc_category_text (json_object_get_string_member_with_default (f, "category",
                                                                              "finding"));
      severity = json_object_get_string_member_with_default (f, "severity", "");
      comment = json_object_get_string_member_with_default (f, "comment", "");
      g_ptr_array_add (d->lines, comment && *comment
                                   ? g_strdup_printf ("%s · %s — %s", category, severity,
                                                      comment)
                                   : g_strdup_printf ("%s · %s", category, severity));
    }
  g_task_return_boolean (task, TRUE);
}

static void
query_detail_done (GObject *source, GAsyncResult *result, gpointer data)
{
  RrUploadView *self = RR_UPLOAD_VIEW (source);
  QueryDetail *d = g_task_get_task_data (G_TASK (result));
  g_autoptr (GError) error = NULL;

  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      g_autofree char *text = NULL;
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) ||
          g_strcmp0 (d->id, self->query_id) != 0)
        return;
      rr_upload_view_clear_list (self->query_findings);
      text = g_strdup_printf (_("The query's findings could not be fetched: %s"),
                              error->message);
      rr_upload_view_add_row (self->query_findings, text, "warning");
      return;
    }
  /* Another query chosen meanwhile: its own fetch fills the list. */
  if (g_strcmp0 (d->id, self->query_id) != 0)
    return;
  rr_upload_view_clear_list (self->query_findings);
  for (guint i = 0; i < d->lines->len; i++)
    rr_upload_view_add_row (self->query_findings, d->lines->pdata[i], NULL);
  if (d->lines->len == 0)
    rr_upload_view_add_row (self->query_findings, _("The reviewer marked no finding"),
                            "dim-label");
}

/* The Upload button and the answer's fields follow whether a query is
 * being answered. */
void
rr_upload_view_show_answer_mode (RrUploadView *self)
{
  gboolean answering = self->query_id != NULL;
  gtk_widget_set_visible (self->answer_box, answering);
  gtk_button_set_label (self->upload, answering ? _("_Upload and Answer") : _("_Upload"));
  gtk_button_set_use_underline (self->upload, TRUE);
  rr_upload_view_set_name (self->upload, answering ? _("Upload and Answer") : _("Start Upload"));
  if (!answering)
    {
      gtk_editable_set_text (GTK_EDITABLE (self->response), "");
      gtk_editable_set_text (GTK_EDITABLE (self->password), "");
      rr_upload_view_clear_list (self->query_findings);
    }
}

static void
on_query_activated (GtkListBox *list, GtkListBoxRow *row, RrUploadView *self)
{
  int i = gtk_list_box_row_get_index (row);
  g_autoptr (GTask) task = NULL;
  g_autofree char *title = NULL;
  QueryDetail *d;
  QueryTask *q;
  if (self->busy || self->query_tasks == NULL || i < 0 || (guint) i >= self->query_tasks->len)
    return;
  q = self->query_tasks->pdata[i];
  gtk_editable_set_text (GTK_EDITABLE (self->trial), q->trial);
  gtk_editable_set_text (GTK_EDITABLE (self->subject), q->subject);
  gtk_editable_set_text (GTK_EDITABLE (self->label), q->label);
  gtk_spin_button_set_value (self->day, q->day);
  g_free (self->query_id);
  self->query_id = g_strdup (q->id);
  rr_upload_view_show_answer_mode (self);
  title = g_strdup_printf (_("Answering the query on subject %s · %s"), q->subject, q->label);
  gtk_label_set_text (self->query_title, title);
  rr_upload_view_set_name (self->query_title, title);
  rr_upload_view_clear_list (self->query_findings);
  rr_upload_view_add_row (self->query_findings, _("Fetching the reviewer's findings…"),
                          "dim-label");
  rr_upload_view_set_status (self, _("Answer the query: choose the new or corrected images, "
                                     "write the response, enter your password, then Upload "
                                     "and Answer"));
  d = g_new0 (QueryDetail, 1);
  d->account = rr_upload_view_account_copy (self);
  d->id = g_strdup (q->id);
  task = g_task_new (self, self->cancellable, query_detail_done, NULL);
  g_task_set_task_data (task, d, (GDestroyNotify) query_detail_free);
  g_task_run_in_thread (task, query_detail_thread);
}

/* Back to an ordinary upload: the query stays open in the list. */
static void
on_leave_query (GtkButton *button, RrUploadView *self)
{
  if (self->busy)
    return;
  g_clear_pointer (&self->query_id, g_free);
  rr_upload_view_show_answer_mode (self);
  rr_upload_view_set_status (self, _("Choose the folder of one subject's visit"));
}

/* The answered query leaves the list and the page returns to an ordinary
 * upload. */
void
rr_upload_view_query_answered (RrUploadView *self, const char *id)
{
  for (guint i = 0; self->query_tasks && i < self->query_tasks->len; i++)
    {
      QueryTask *q = self->query_tasks->pdata[i];
      GtkListBoxRow *row;
      if (g_strcmp0 (q->id, id) != 0)
        continue;
      row = gtk_list_box_get_row_at_index (self->queries, (int) i);
      if (row)
        gtk_list_box_remove (self->queries, GTK_WIDGET (row));
      g_ptr_array_remove_index (self->query_tasks, i);
      break;
    }
  gtk_widget_set_visible (GTK_WIDGET (self->queries_empty),
                          self->query_tasks == NULL || self->query_tasks->len == 0);
  if (g_strcmp0 (self->query_id, id) == 0)
    {
      g_clear_pointer (&self->query_id, g_free);
      rr_upload_view_show_answer_mode (self);
    }
}

void
rr_upload_view_add_query_widgets (RrUploadView *self,
                                  GtkBox       *box,
                                  GtkWidget    *after)
{
  GtkWidget *answer_grid, *password_label, *meaning, *leave;

  gtk_box_append (box, rr_upload_view_heading (_("Open Queries")));
  self->queries = rr_upload_view_boxed_list (_("Open Queries"));
  gtk_list_box_set_activate_on_single_click (self->queries, TRUE);
  g_signal_connect_object (self->queries, "row-activated", G_CALLBACK (on_query_activated), self,
                           0);
  gtk_box_append (box, GTK_WIDGET (self->queries));
  self->queries_empty = GTK_LABEL (gtk_label_new (_("No open query from a QC reviewer")));
  gtk_label_set_xalign (self->queries_empty, 0);
  gtk_widget_add_css_class (GTK_WIDGET (self->queries_empty), "dim-label");
  gtk_box_append (box, GTK_WIDGET (self->queries_empty));

  /* The query being answered, above the buttons: what the reviewer found,
   * the site's response, and the password that signs it. */
  self->answer_box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
  self->query_title = GTK_LABEL (rr_upload_view_heading (_("Answering a Query")));
  gtk_box_append (GTK_BOX (self->answer_box), GTK_WIDGET (self->query_title));
  self->query_findings = rr_upload_view_boxed_list (_("Query Findings"));
  gtk_box_append (GTK_BOX (self->answer_box), GTK_WIDGET (self->query_findings));
  answer_grid = gtk_grid_new ();
  gtk_grid_set_row_spacing (GTK_GRID (answer_grid), 6);
  gtk_grid_set_column_spacing (GTK_GRID (answer_grid), 12);
  self->response = rr_upload_view_labelled_entry (GTK_GRID (answer_grid), 0, _("Response"),
                                                  _("Required: what was done, for the reviewer"));
  password_label = gtk_label_new (_("Password"));
  gtk_label_set_xalign (GTK_LABEL (password_label), 1);
  self->password = gtk_password_entry_new ();
  gtk_password_entry_set_show_peek_icon (GTK_PASSWORD_ENTRY (self->password), TRUE);
  gtk_widget_set_hexpand (self->password, TRUE);
  rr_upload_view_set_name (self->password, _("Password"));
  gtk_grid_attach (GTK_GRID (answer_grid), password_label, 0, 1, 1, 1);
  gtk_grid_attach (GTK_GRID (answer_grid), self->password, 1, 1, 2, 1);
  gtk_box_append (GTK_BOX (self->answer_box), answer_grid);
  meaning = gtk_label_new (_("Your password signs the answer: “Answered the QC query”"));
  gtk_label_set_xalign (GTK_LABEL (meaning), 0);
  gtk_label_set_wrap (GTK_LABEL (meaning), TRUE);
  gtk_widget_add_css_class (meaning, "dim-label");
  gtk_box_append (GTK_BOX (self->answer_box), meaning);
  leave = gtk_button_new_with_mnemonic (_("_Leave the Query"));
  rr_upload_view_set_name (leave, _("Leave the Query"));
  /* A framed button, so its edge lines up with the fields' and the
   * buttons' below (a flat one's text sits indented by its padding). */
  gtk_widget_set_halign (leave, GTK_ALIGN_START);
  g_signal_connect_object (leave, "clicked", G_CALLBACK (on_leave_query), self, 0);
  gtk_box_append (GTK_BOX (self->answer_box), leave);
  gtk_widget_set_visible (self->answer_box, FALSE);
  gtk_box_insert_child_after (box, self->answer_box, after);
}
