/* rr-read-export.c: "Save Report…" and "Export SR…" under a locked read.
 * The files are written on a worker thread (scanning the cached images
 * and drawing key images take seconds); the widget says what was written,
 * or why not. */
#include "rr-read-export.h"
#include "rr-dicom-sr.h"
#include "rr-report.h"

#include <glib/gi18n.h>
#include <json-glib/json-glib.h>

struct _RrReadExport
{
  GtkWidget parent_instance;

  GtkWidget *buttons;
  GtkWidget *report_button;
  GtkWidget *sr_button;
  GtkLabel *status;

  char *read_json;            /* the read, signatures included */
  GPtrArray *files;           /* char *: the cached images of the subject */
  char *name;                 /* "<subject>-<timepoint>", for file names */
  char *subject;              /* the trial's subject ID, for the SRs' names */
  GCancellable *cancellable;
  gboolean busy;
};

G_DEFINE_FINAL_TYPE (RrReadExport, rr_read_export, GTK_TYPE_WIDGET)

typedef enum
{
  JOB_REPORT,
  JOB_SR,
} JobKind;

typedef struct
{
  JobKind kind;
  char *read_json;
  GPtrArray *files;
  char *target;               /* the PDF, or the SRs' folder */
  char *subject;
} Job;

static void
job_free (gpointer data)
{
  Job *j = data;
  g_free (j->read_json);
  g_ptr_array_unref (j->files);
  g_free (j->target);
  g_free (j->subject);
  g_free (j);
}

static void
set_busy (RrReadExport *self,
          gboolean      busy)
{
  self->busy = busy;
  if (self->report_button == NULL)    /* disposed */
    return;
  gtk_widget_set_sensitive (self->report_button, !busy && self->read_json != NULL);
  gtk_widget_set_sensitive (self->sr_button, !busy && self->read_json != NULL);
}

/* On the worker: scan the images, then write. */
static void
job_run (GTask        *task,
         gpointer      source,
         gpointer      data,
         GCancellable *cancellable)
{
  Job *j = data;
  g_autoptr (GPtrArray) paths = g_ptr_array_new ();
  g_autoptr (RrDicomScan) scan = NULL;
  g_autoptr (GPtrArray) written = NULL;
  GError *error = NULL;

  for (guint i = 0; i < j->files->len; i++)
    g_ptr_array_add (paths, j->files->pdata[i]);
  g_ptr_array_add (paths, NULL);
  scan = rr_dicom_scan ((const char * const *) paths->pdata, 0, cancellable, &error);
  if (scan == NULL)
    return g_task_return_error (task, error);
  if (j->kind == JOB_REPORT)
    {
      if (!rr_report_write_pdf (j->read_json, -1, scan, j->target, &error))
        return g_task_return_error (task, error);
      return g_task_return_pointer (task, g_strdup_printf (_("Report saved to %s"), j->target),
                                    g_free);
    }
  /* The folder is the user's, with other subjects' reports: named by
   * subject, and beside a file of the same name, never over it. */
  {
    RrDicomSrOptions options = { "readroom", j->subject };
    written = rr_dicom_sr_export_full (j->read_json, -1, scan, j->target, &options, &error);
  }
  if (written == NULL)
    return g_task_return_error (task, error);
  {
    g_autoptr (GString) names = g_string_new (NULL);
    for (guint i = 0; i < written->len; i++)
      {
        g_autofree char *base = g_path_get_basename (written->pdata[i]);
        g_string_append_printf (names, "%s%s", i ? ", " : "", base);
      }
    g_task_return_pointer (task, g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                                               "%u structured report saved in %s: %s",
                                                               "%u structured reports saved in %s: %s",
                                                               written->len),
                                                  written->len, j->target, names->str), g_free);
  }
}

static void
job_done (GObject      *source,
          GAsyncResult *result,
          gpointer      data)
{
  g_autoptr (RrReadExport) self = data;
  g_autoptr (GError) error = NULL;
  g_autofree char *text = g_task_propagate_pointer (G_TASK (result), &error);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) || self->status == NULL)
    return;
  set_busy (self, FALSE);
  if (text)
    gtk_label_set_text (self->status, text);
  else
    {
      g_autofree char *msg = g_strdup_printf (_("Nothing was saved: %s"), error->message);
      gtk_label_set_text (self->status, msg);
    }
}

static void
start (RrReadExport *self,
       JobKind       kind,
       GFile        *target)
{
  Job *j = g_new0 (Job, 1);
  g_autoptr (GTask) task = g_task_new (NULL, self->cancellable, job_done, g_object_ref (self));

  j->kind = kind;
  j->read_json = g_strdup (self->read_json);
  j->files = g_ptr_array_ref (self->files);
  j->target = g_file_get_path (target);
  j->subject = g_strdup (self->subject);
  g_task_set_task_data (task, j, job_free);
  set_busy (self, TRUE);
  gtk_label_set_text (self->status, kind == JOB_REPORT ? _("Writing the report…")
                                                       : _("Writing the structured reports…"));
  g_task_run_in_thread (task, job_run);
}

static void
on_chooser_response (GtkNativeDialog *dialog,
                     int              response,
                     gpointer         data)
{
  RrReadExport *self = data;
  JobKind kind = GPOINTER_TO_INT (g_object_get_data (G_OBJECT (dialog), "kind"));

  if (response == GTK_RESPONSE_ACCEPT && self->read_json && !self->busy && self->status)
    {
      g_autoptr (GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      if (file && g_file_peek_path (file))
        start (self, kind, file);
      else
        gtk_label_set_text (self->status, _("Choose a local file"));
    }
  gtk_native_dialog_destroy (dialog);
  g_object_unref (dialog);
  g_object_unref (self);
}

static void
choose (RrReadExport *self,
        JobKind       kind)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  GtkFileChooserNative *chooser;

  if (self->read_json == NULL || self->busy)
    return;
  if (kind == JOB_REPORT)
    {
      g_autofree char *name = g_strconcat (self->name, ".pdf", NULL);
      g_autoptr (GtkFileFilter) pdf = gtk_file_filter_new ();
      chooser = gtk_file_chooser_native_new (_("Save Report"), GTK_IS_WINDOW (root)
                                               ? GTK_WINDOW (root) : NULL,
                                             GTK_FILE_CHOOSER_ACTION_SAVE, _("_Save"),
                                             _("_Cancel"));
      gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (chooser), name);
      gtk_file_filter_set_name (pdf, _("PDF documents"));
      gtk_file_filter_add_mime_type (pdf, "application/pdf");
      gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (chooser), pdf);
    }
  else
    /* One file per timepoint, named after the subject and it: a folder
     * is asked for. */
    chooser = gtk_file_chooser_native_new (_("Export Structured Reports To"),
                                           GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
                                           GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER, _("_Export"),
                                           _("_Cancel"));
  {
    /* Reports are documents: they start there (the home folder without one). */
    const char *docs = g_get_user_special_dir (G_USER_DIRECTORY_DOCUMENTS);
    g_autoptr (GFile) dir = g_file_new_for_path (docs ? docs : g_get_home_dir ());
    if (g_file_query_exists (dir, NULL))
      gtk_file_chooser_set_current_folder (GTK_FILE_CHOOSER (chooser), dir, NULL);
  }
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (chooser), TRUE);
  g_object_set_data (G_OBJECT (chooser), "kind", GINT_TO_POINTER (kind));
  g_signal_connect (chooser, "response", G_CALLBACK (on_chooser_response), g_object_ref (self));
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

static void
on_report (GtkButton *button,
           gpointer   data)
{
  choose (RR_READ_EXPORT (data), JOB_REPORT);
}

static void
on_sr (GtkButton *button,
       gpointer   data)
{
  choose (RR_READ_EXPORT (data), JOB_SR);
}

/* The read as exported: with the trial's subject ID, which the report
 * names (the images' Patient ID is only the same once they are
 * de-identified for the trial), the trial, and whose read it is: the
 * signed-in reader's user name (read-json.md, "user"), or for an
 * adjudication the reader label chosen. */
static char *
with_names (const char *read_json,
            const char *subject,
            const char *trial,
            const char *user)
{
  g_autoptr (JsonParser) p = json_parser_new ();
  JsonObject *o;
  if (!json_parser_load_from_data (p, read_json, -1, NULL) ||
      !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (p)))
    return g_strdup (read_json);
  o = json_node_get_object (json_parser_get_root (p));
  if (subject && *subject && !json_object_has_member (o, "subject"))
    json_object_set_string_member (o, "subject", subject);
  if (trial && *trial && !json_object_has_member (o, "trial"))
    json_object_set_string_member (o, "trial", trial);
  if (user && *user && !json_object_has_member (o, "reader") && !json_object_has_member (o, "user"))
    json_object_set_string_member (o, "user", user);
  return json_to_string (json_parser_get_root (p), FALSE);
}

/* A file name part: the subject and label are free text. */
static void
append_safe (GString    *s,
             const char *text)
{
  for (const char *p = text; p && *p; p++)
    g_string_append_c (s, g_ascii_isalnum (*p) || *p == '-' || *p == '_' ? *p : '_');
}

void
rr_read_export_set_read (RrReadExport *self,
                         const char   *read_json,
                         RrStore      *store,
                         gint64        account,
                         const char   *task_id)
{
  g_autoptr (RrStoreTask) task = NULL;
  g_autoptr (GPtrArray) tasks = NULL;
  g_autoptr (JsonParser) p = json_parser_new ();
  g_autofree char *cache = NULL;
  g_autoptr (GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  GString *name = g_string_new ("read");
  const char *subject = NULL;
  JsonObject *o = NULL;

  g_return_if_fail (RR_IS_READ_EXPORT (self));
  if (self->status == NULL)             /* disposed */
    return;
  /* A job under way keeps its own copies; its answer still lands here. */
  g_clear_pointer (&self->read_json, g_free);
  g_ptr_array_set_size (self->files, 0);
  g_clear_pointer (&self->name, g_free);
  g_clear_pointer (&self->subject, g_free);
  gtk_label_set_text (self->status, "");
  if (read_json)
    task = rr_store_get_task (store, account, task_id, NULL);
  if (task && task->json && json_parser_load_from_data (p, task->json, -1, NULL) &&
      JSON_NODE_HOLDS_OBJECT (json_parser_get_root (p)))
    o = json_node_get_object (json_parser_get_root (p));
  if (o == NULL)
    {
      g_string_free (name, TRUE);
      set_busy (self, self->busy);
      gtk_widget_set_visible (GTK_WIDGET (self), FALSE);
      return;
    }
  subject = json_object_get_string_member_with_default (o, "subject", "");
  g_string_truncate (name, 0);
  append_safe (name, subject);
  if (json_object_has_member (o, "timepoints") &&
      JSON_NODE_HOLDS_ARRAY (json_object_get_member (o, "timepoints")))
    {
      JsonArray *tps = json_object_get_array_member (o, "timepoints");
      guint n = json_array_get_length (tps);
      JsonNode *last = n ? json_array_get_element (tps, n - 1) : NULL;
      if (last && JSON_NODE_HOLDS_OBJECT (last))
        {
          g_string_append_c (name, '-');
          append_safe (name, json_object_get_string_member_with_default (
                               json_node_get_object (last), "label", ""));
        }
    }
  self->name = g_string_free (name, FALSE);
  self->subject = *subject ? g_strdup (subject) : g_strdup ("read");
  {
    g_autofree char *username = NULL;
    if (read_json)
      rr_store_get_account (store, account, NULL, &username, NULL, NULL);
    self->read_json = read_json ? with_names (read_json, subject,
                                              json_object_get_string_member_with_default (
                                                o, "trial", NULL), username)
                                : NULL;
  }
  /* The images of every task of this subject: a follow-up's read holds
   * calipers on the earlier timepoints' images too. */
  cache = rr_store_cache_dir ();
  tasks = rr_store_list_tasks (store, account, NULL);
  for (guint i = 0; tasks && i < tasks->len; i++)
    {
      const RrStoreTask *t = tasks->pdata[i];
      g_autoptr (GPtrArray) instances = NULL;
      if (g_strcmp0 (t->subject, subject) != 0)
        continue;
      instances = rr_store_task_instances (store, account, t->id, NULL);
      for (guint k = 0; instances && k < instances->len; k++)
        {
          const RrStoreInstance *in = instances->pdata[k];
          char *path;
          if (in->sha256 == NULL || g_hash_table_contains (seen, in->sha256))
            continue;
          path = rr_store_cache_path (cache, in->sha256);
          g_hash_table_add (seen, g_strdup (in->sha256));
          g_ptr_array_add (self->files, path);
        }
    }
  set_busy (self, self->busy);
  gtk_widget_set_visible (GTK_WIDGET (self), TRUE);
}

/* @read (a copy is changed) signed as the outbox entry @out says: the
 * account's full name, the receipt's time, the meaning signed. */
static char *
signed_read (JsonObject          *read,
             const RrStoreOutbox *out,
             JsonObject          *body,
             RrStore             *store,
             gint64               account)
{
  g_autoptr (JsonParser) receipt = json_parser_new ();
  g_autoptr (JsonParser) user = json_parser_new ();
  g_autoptr (JsonNode) copy = NULL;
  g_autofree char *user_json = NULL;
  g_autofree char *username = NULL;
  JsonObject *sig, *r = NULL, *signature;
  JsonNode *node;
  JsonArray *sigs;
  g_autoptr (JsonParser) own = json_parser_new ();
  g_autofree char *text = NULL;

  /* A copy of our own (json_node_copy shares the object): @read may be
   * the adjudication view's. */
  node = json_node_init_object (json_node_alloc (), read);
  text = json_to_string (node, FALSE);
  json_node_unref (node);
  if (!json_parser_load_from_data (own, text, -1, NULL))
    return NULL;
  copy = json_node_copy (json_parser_get_root (own));
  node = json_object_get_member (body, "signature");
  sig = node && JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
  if (out->receipt && json_parser_load_from_data (receipt, out->receipt, -1, NULL) &&
      JSON_NODE_HOLDS_OBJECT (json_parser_get_root (receipt)))
    {
      node = json_object_get_member (json_node_get_object (json_parser_get_root (receipt)),
                                     "receipt");
      r = node && JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
    }
  rr_store_get_account (store, account, NULL, &username, &user_json, NULL);
  signature = json_object_new ();
  json_object_set_string_member (signature, "name", username ? username : "");
  if (user_json && json_parser_load_from_data (user, user_json, -1, NULL) &&
      JSON_NODE_HOLDS_OBJECT (json_parser_get_root (user)))
    {
      const char *full = json_object_get_string_member_with_default (
        json_node_get_object (json_parser_get_root (user)), "display_name", NULL);
      if (full && *full)
        json_object_set_string_member (signature, "name", full);
    }
  json_object_set_string_member (signature, "time", r ? json_object_get_string_member_with_default (
                                   r, "submitted_at", "") : "");
  json_object_set_string_member (signature, "meaning", sig ? json_object_get_string_member_with_default (
                                   sig, "meaning", "") : "");
  sigs = json_array_new ();
  json_array_add_object_element (sigs, signature);
  json_object_set_array_member (json_node_get_object (copy), "signatures", sigs);
  /* The server's receipt, which the report shows beside the signature. */
  if (r)
    json_object_set_member (json_node_get_object (copy), "receipt",
                            json_node_copy (json_object_get_member (
                              json_node_get_object (json_parser_get_root (receipt)), "receipt")));
  return json_to_string (copy, FALSE);
}

/* The task's delivered outbox entry and its body, or NULL. */
static RrStoreOutbox *
delivered (RrStore     *store,
           gint64       account,
           const char  *task_id,
           JsonParser  *body)
{
  RrStoreOutbox *out = store && task_id ? rr_store_outbox_for_task (store, account, task_id, NULL)
                                        : NULL;
  if (out && g_strcmp0 (out->state, "delivered") == 0 && out->body &&
      json_parser_load_from_data (body, out->body, -1, NULL) &&
      JSON_NODE_HOLDS_OBJECT (json_parser_get_root (body)))
    return out;
  g_clear_pointer (&out, rr_store_outbox_free);
  return NULL;
}

void
rr_read_export_set_task (RrReadExport *self,
                         RrStore      *store,
                         gint64        account,
                         const char   *task_id)
{
  g_autoptr (JsonParser) body = json_parser_new ();
  g_autoptr (RrStoreOutbox) out = NULL;
  g_autofree char *read_json = NULL;
  JsonObject *b;
  JsonNode *node;

  g_return_if_fail (RR_IS_READ_EXPORT (self));
  out = delivered (store, account, task_id, body);
  b = out ? json_node_get_object (json_parser_get_root (body)) : NULL;
  node = b ? json_object_get_member (b, "read") : NULL;
  if (node && JSON_NODE_HOLDS_OBJECT (node))
    read_json = signed_read (json_node_get_object (node), out, b, store, account);
  rr_read_export_set_read (self, read_json, store, account, task_id);
}

void
rr_read_export_set_adjudicated (RrReadExport *self,
                                RrStore      *store,
                                gint64       account,
                                const char   *task_id,
                                JsonObject   *read1,
                                JsonObject   *read2)
{
  g_autoptr (JsonParser) body = json_parser_new ();
  g_autoptr (RrStoreOutbox) out = NULL;
  g_autofree char *read_json = NULL;
  const char *chosen = NULL;
  JsonObject *b, *read = NULL;

  g_return_if_fail (RR_IS_READ_EXPORT (self));
  out = delivered (store, account, task_id, body);
  b = out ? json_node_get_object (json_parser_get_root (body)) : NULL;
  chosen = b ? json_object_get_string_member_with_default (b, "chosen", NULL) : NULL;
  if (g_strcmp0 (chosen, "Reader 1") == 0)
    read = read1;
  else if (g_strcmp0 (chosen, "Reader 2") == 0)
    read = read2;
  if (read)
    read_json = signed_read (read, out, b, store, account);
  /* The chosen read's reader, by label: the adjudicator is blinded. */
  if (read_json)
    {
      g_autoptr (JsonParser) p = json_parser_new ();
      if (json_parser_load_from_data (p, read_json, -1, NULL) &&
          JSON_NODE_HOLDS_OBJECT (json_parser_get_root (p)))
        {
          JsonObject *o = json_node_get_object (json_parser_get_root (p));
          JsonObject *adj = json_object_new ();
          json_object_remove_member (o, "user");
          json_object_set_string_member (o, "reader", chosen);
          /* The report says it is an adjudication's, with the rationale
           * as signed (the export's "adjudication"). */
          json_object_set_string_member (adj, "chosen", chosen);
          json_object_set_string_member (adj, "rationale",
                                         json_object_get_string_member_with_default (
                                           b, "rationale", ""));
          json_object_set_object_member (o, "adjudication", adj);
          g_free (read_json);
          read_json = json_to_string (json_parser_get_root (p), FALSE);
        }
    }
  rr_read_export_set_read (self, read_json, store, account, task_id);
}

static void
rr_read_export_dispose (GObject *object)
{
  RrReadExport *self = RR_READ_EXPORT (object);
  GtkWidget *child;

  g_cancellable_cancel (self->cancellable);
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self))))
    gtk_widget_unparent (child);
  /* A file chooser still open holds the widget: it must find it empty. */
  self->buttons = self->report_button = self->sr_button = NULL;
  self->status = NULL;
  G_OBJECT_CLASS (rr_read_export_parent_class)->dispose (object);
}

static void
rr_read_export_finalize (GObject *object)
{
  RrReadExport *self = RR_READ_EXPORT (object);
  g_free (self->read_json);
  g_ptr_array_unref (self->files);
  g_free (self->name);
  g_free (self->subject);
  g_object_unref (self->cancellable);
  G_OBJECT_CLASS (rr_read_export_parent_class)->finalize (object);
}

static void
rr_read_export_class_init (RrReadExportClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = rr_read_export_dispose;
  object_class->finalize = rr_read_export_finalize;
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BOX_LAYOUT);
}

static void
rr_read_export_init (RrReadExport *self)
{
  GtkLayoutManager *layout = gtk_widget_get_layout_manager (GTK_WIDGET (self));

  self->files = g_ptr_array_new_with_free_func (g_free);
  self->cancellable = g_cancellable_new ();
  gtk_orientable_set_orientation (GTK_ORIENTABLE (layout), GTK_ORIENTATION_VERTICAL);
  gtk_box_layout_set_spacing (GTK_BOX_LAYOUT (layout), 6);
  /* In line with the read form's rows. */
  gtk_widget_set_margin_start (GTK_WIDGET (self), 12);
  gtk_widget_set_margin_end (GTK_WIDGET (self), 6);
  self->buttons = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  gtk_widget_set_parent (self->buttons, GTK_WIDGET (self));
  /* No mnemonics: GTK 4.8 puts the raw label ("Save _Report…") into
   * the accessible name. */
  self->report_button = gtk_button_new_with_label (_("Save Report…"));
  self->sr_button = gtk_button_new_with_label (_("Export SR…"));
  gtk_widget_set_tooltip_text (self->report_button, _("Save the read as a PDF report"));
  gtk_widget_set_tooltip_text (self->sr_button,
                               _("Export the read as DICOM structured reports (TID 1500)"));
  gtk_box_append (GTK_BOX (self->buttons), self->report_button);
  gtk_box_append (GTK_BOX (self->buttons), self->sr_button);
  g_signal_connect (self->report_button, "clicked", G_CALLBACK (on_report), self);
  g_signal_connect (self->sr_button, "clicked", G_CALLBACK (on_sr), self);
  self->status = GTK_LABEL (gtk_label_new (""));
  gtk_label_set_wrap (self->status, TRUE);
  gtk_label_set_xalign (self->status, 0);
  gtk_widget_add_css_class (GTK_WIDGET (self->status), "dim-label");
  gtk_widget_set_parent (GTK_WIDGET (self->status), GTK_WIDGET (self));
  gtk_widget_set_visible (GTK_WIDGET (self), FALSE);
}

GtkWidget *
rr_read_export_new (void)
{
  return g_object_new (RR_TYPE_READ_EXPORT, NULL);
}
