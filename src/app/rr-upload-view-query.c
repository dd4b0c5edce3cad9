/* rr-upload-view-query.c: the upload page's queries: the site's open
 * query tasks, and the one being answered (the reviewer's findings, each
 * drawn on the image it marks, the site's response and the password that
 * signs it). A re-upload answers. */
#include "rr-upload-view-private.h"
#include "rr-dicom.h"
#include "rr-finding-preview.h"
#include "rr-qc-view.h"
#include "rr-json.h"
#include "rr-thumbnail.h"

#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <unistd.h>

/* A query's findings shown at most (the reviewer's list is short). */
#define MAX_FINDINGS_SHOWN 100
/* Images fetched to draw findings on, at most: one each for the first
 * findings that mark an image; the rest are listed as text. */
#define MAX_IMAGES_SHOWN 24
/* The largest file fetched to draw a finding on (a whole multi-frame
 * series can be one file): the server's answers stop at 64 MiB too. */
#define MAX_IMAGE_FILE_BYTES ((gint64) 64 << 20)

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

/* One finding of the query as the site sees it: its line, and the image
 * it marks with its shape drawn, or why that image is not shown. */
typedef struct
{
  char *text;
  char *sop, *shape;       /* NULL: no image marked (a whole series), no shape */
  guint frame;
  GdkTexture *texture;     /* NULL: no image shown */
  double aspect;           /* a pixel's height over its width */
  char *note;              /* why the marked image is not shown */
} QueryFinding;

static void
query_finding_free (gpointer data)
{
  QueryFinding *f = data;
  g_free (f->text);
  g_free (f->sop);
  g_free (f->shape);
  g_clear_object (&f->texture);
  g_free (f->note);
  g_free (f);
}

typedef struct
{
  Account *account;
  char *id;
  GPtrArray *findings;     /* QueryFinding */
} QueryDetail;

static void
query_detail_free (QueryDetail *d)
{
  rr_upload_view_account_free (d->account);
  g_free (d->id);
  g_clear_pointer (&d->findings, g_ptr_array_unref);
  g_free (d);
}

static JsonObject *
find_instance (JsonArray *instances, const char *sop)
{
  for (guint i = 0; instances && i < json_array_get_length (instances); i++)
    {
      JsonObject *o = rr_json_get_element (instances, i);
      if (o && g_strcmp0 (rr_json_get_string (o, "sop"), sop) == 0)
        return o;
    }
  return NULL;
}

/* The file of @sop, as the server stores it (the site's own upload, so
 * de-identified), checked against its MD5 and written to a temporary file
 * the caller removes. */
static char *
fetch_instance (RrSyncClient *client, JsonObject *inst, GError **error)
{
  const char *url = rr_json_get_string (inst, "url");
  const char *md5 = rr_json_get_string (inst, "md5");
  gint64 size = json_object_get_int_member_with_default (inst, "size", -1);
  g_autoptr (GBytes) body = NULL;
  g_autofree char *sum = NULL, *tmp = NULL;
  long status = 0;
  int fd;

  if (url == NULL || url[0] != '/')
    {
      g_set_error_literal (error, RR_SYNC_ERROR, RR_SYNC_ERROR_SERVER,
                           _("the server gave no address for it"));
      return NULL;
    }
  if (size < 0 || size > MAX_IMAGE_FILE_BYTES)
    {
      g_set_error_literal (error, RR_SYNC_ERROR, RR_SYNC_ERROR_SERVER,
                           _("its file is too large to show here"));
      return NULL;
    }
  body = rr_sync_request (client, "GET", url, NULL, 0, NULL, NULL, &status, error);
  if (body == NULL)
    return NULL;
  if (status != 200)
    {
      g_set_error (error, RR_SYNC_ERROR, RR_SYNC_ERROR_SERVER, _("the server answered %ld"),
                   status);
      return NULL;
    }
  sum = g_compute_checksum_for_bytes (G_CHECKSUM_MD5, body);
  if ((gint64) g_bytes_get_size (body) != size || md5 == NULL ||
      g_ascii_strcasecmp (sum, md5) != 0)
    {
      g_set_error_literal (error, RR_SYNC_ERROR, RR_SYNC_ERROR_SERVER,
                           _("its file arrived damaged"));
      return NULL;
    }
  fd = g_file_open_tmp ("readroom-query-XXXXXX.dcm", &tmp, error);
  if (fd < 0)
    return NULL;
  close (fd);
  if (!g_file_set_contents (tmp, g_bytes_get_data (body, NULL), (gssize) g_bytes_get_size (body),
                            error))
    {
      g_unlink (tmp);
      return NULL;
    }
  return g_steal_pointer (&tmp);
}

/* On the worker: @f's marked image (its frame), windowed as the viewer
 * opens it. */
static GdkTexture *
finding_image (RrSyncClient *client, JsonArray *instances, QueryFinding *f, GError **error)
{
  JsonObject *inst = find_instance (instances, f->sop);
  g_autofree char *path = NULL;
  g_autoptr (RrVolume) v = NULL;
  double c, w;
  guint k = 0;
  gboolean found = FALSE;

  if (inst == NULL)
    {
      g_set_error_literal (error, RR_SYNC_ERROR, RR_SYNC_ERROR_SERVER,
                           _("it is not among the query's images"));
      return NULL;
    }
  path = fetch_instance (client, inst, error);
  if (path == NULL)
    return NULL;
  v = rr_dicom_load_path (path, error);
  g_unlink (path);
  if (v == NULL)
    return NULL;
  for (guint i = 0; i < v->dims[2] && !found; i++)
    if (v->slice_sop && g_strcmp0 (v->slice_sop[i], f->sop) == 0 &&
        (v->slice_frame == NULL || v->slice_frame[i] == f->frame))
      found = TRUE, k = i;
  if (!found)
    {
      g_set_error (error, RR_SYNC_ERROR, RR_SYNC_ERROR_SERVER,
                   _("its file holds no frame %u"), f->frame + 1);
      return NULL;
    }
  rr_volume_default_window (v, &c, &w);
  f->aspect = v->spacing[0] > 0 && v->spacing[1] > 0 ? v->spacing[1] / v->spacing[0] : 1;
  return rr_slice_texture (v, k, c, w);
}

static void
query_detail_thread (GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  QueryDetail *d = data;
  g_autoptr (RrSyncClient) client = rr_upload_view_client_for (d->account);
  g_autoptr (GError) error = NULL;
  g_autofree char *esc = g_uri_escape_string (d->id, NULL, FALSE);
  g_autofree char *path = g_strdup_printf ("/readroom/v1/tasks/%s", esc);
  g_autofree char *instances_path = g_strdup_printf ("/readroom/v1/tasks/%s/instances", esc);
  g_autoptr (JsonNode) doc = rr_sync_get_json (client, path, &error);
  g_autoptr (JsonNode) instances = NULL;
  g_autoptr (GError) instances_error = NULL;
  JsonObject *o = doc && JSON_NODE_HOLDS_OBJECT (doc) ? json_node_get_object (doc) : NULL;
  JsonArray *a = rr_json_get_array (o, "findings");
  guint n_images = 0;

  if (o == NULL)
    {
      g_task_return_error (task, error ? g_steal_pointer (&error)
                                       : g_error_new_literal (RR_SYNC_ERROR, RR_SYNC_ERROR_SERVER,
                                                              _("the server sent no task")));
      return;
    }
  d->findings = g_ptr_array_new_with_free_func (query_finding_free);
  for (guint i = 0; a && i < json_array_get_length (a) && i < MAX_FINDINGS_SHOWN; i++)
    {
      JsonObject *f = rr_json_get_element (a, i);
      g_autofree char *category = NULL;
      const char *severity, *comment;
      JsonObject *shape;
      QueryFinding *q;
      if (f == NULL)
        continue;
      category = rr_qc_category_text (json_object_get_string_member_with_default (f, "category",
                                                                              "finding"));
      severity = json_object_get_string_member_with_default (f, "severity", "");
      comment = json_object_get_string_member_with_default (f, "comment", "");
      q = g_new0 (QueryFinding, 1);
      q->text = comment && *comment
                  ? g_strdup_printf ("%s · %s — %s", category, severity, comment)
                  : g_strdup_printf ("%s · %s", category, severity);
      q->sop = g_strdup (rr_json_get_string (f, "sop"));
      q->frame = (guint) CLAMP (json_object_get_int_member_with_default (f, "frame", 0), 0,
                                G_MAXINT);
      shape = rr_json_get_object (f, "shape");
      if (shape)
        {
          g_autoptr (JsonNode) n = json_node_init_object (json_node_alloc (), shape);
          q->shape = json_to_string (n, FALSE);
        }
      g_ptr_array_add (d->findings, q);
    }
  /* Each marked image: the site's own upload, which the server lets it
   * read; fetched only now, for the findings on it. */
  for (guint i = 0; i < d->findings->len; i++)
    {
      QueryFinding *q = d->findings->pdata[i];
      g_autoptr (GError) local = NULL;
      if (q->sop == NULL || g_cancellable_is_cancelled (cancellable))
        continue;
      if (n_images == MAX_IMAGES_SHOWN)
        {
          q->note = g_strdup (_("Its image is not shown: open the query from the worklist to "
                                "see every finding on its image"));
          continue;
        }
      n_images++;
      if (instances == NULL && instances_error == NULL)
        instances = rr_sync_get_json (client, instances_path, &instances_error);
      if (instances_error)
        {
          q->note = g_strdup_printf (_("Its image could not be fetched: %s"),
                                     instances_error->message);
          continue;
        }
      q->texture = finding_image (client,
                                  instances && JSON_NODE_HOLDS_ARRAY (instances)
                                    ? json_node_get_array (instances) : NULL,
                                  q, &local);
      if (q->texture == NULL)
        q->note = g_strdup_printf (_("Its image could not be shown: %s"),
                                   local ? local->message : _("it could not be read"));
    }
  g_task_return_boolean (task, TRUE);
}

/* A finding's row: its line, then the image it marks with the shape
 * drawn (or why that image is not shown). */
static void
add_finding_row (GtkListBox *list, QueryFinding *f)
{
  GtkWidget *row = rr_upload_view_add_row (list, f->text, NULL);
  GtkWidget *label = gtk_list_box_row_get_child (GTK_LIST_BOX_ROW (row));
  GtkWidget *box;

  if (f->texture == NULL && f->note == NULL)
    return;
  box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
  g_object_ref (label);
  gtk_list_box_row_set_child (GTK_LIST_BOX_ROW (row), box);
  gtk_box_append (GTK_BOX (box), label);
  g_object_unref (label);
  if (f->texture)
    {
      g_autofree char *name = g_strdup_printf (_("On its image: %s"), f->text);
      GtkWidget *preview = rr_finding_preview_new (f->texture, f->aspect, f->shape, name);
      gtk_widget_set_margin_start (preview, 12);
      gtk_widget_set_margin_bottom (preview, 6);
      gtk_box_append (GTK_BOX (box), preview);
    }
  else
    {
      GtkWidget *note = gtk_label_new (f->note);
      gtk_label_set_xalign (GTK_LABEL (note), 0);
      gtk_label_set_wrap (GTK_LABEL (note), TRUE);
      gtk_widget_set_margin_start (note, 12);
      gtk_widget_set_margin_end (note, 12);
      gtk_widget_set_margin_bottom (note, 6);
      gtk_widget_add_css_class (note, "dim-label");
      gtk_box_append (GTK_BOX (box), note);
    }
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
  for (guint i = 0; i < d->findings->len; i++)
    add_finding_row (self->query_findings, d->findings->pdata[i]);
  if (d->findings->len == 0)
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
