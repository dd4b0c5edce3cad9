/* rr-upload-view.c: the site's upload page. Everything that touches the
 * network or the files runs on a worker (GTask) with its own client; the
 * main thread only shows what the workers found. The upload itself is the
 * CLI's: the trial's key from the server, de-identification into the
 * staging folder of (trial, subject, timepoint), then each file sent once
 * under the journal (rr-sync-upload.c), so stopping, a dropped
 * connection, or quitting the app loses nothing: Upload again sends the
 * rest, and so does `readroom-cli upload` with the same names. The open
 * queries and answering one live in rr-upload-view-query.c. */
#include "rr-upload-view-private.h"
#include "rr-dicom.h"
#include "rr-dicom-deid.h"
#include "rr-sync.h"
#include "rr-sync-upload.h"
#include "rr-upload-patients.h"
#include "rr-upload-staging.h"
#include "rr-json.h"

#include <adwaita.h>
#include <glib/gi18n.h>
#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>

/* Files tried for the preview before giving up (a folder may hold other
 * files before its first DICOM one). */
#define MAX_PREVIEW_TRIES 32
/* Files sent at once, as readroom-cli upload does by default. */
#define PARALLEL 4

G_DEFINE_FINAL_TYPE (RrUploadView, rr_upload_view, GTK_TYPE_WIDGET)

enum
{
  PROP_0,
  PROP_AVAILABLE,
  N_PROPS
};

static GParamSpec *props[N_PROPS];

void
rr_upload_view_account_free (Account *a)
{
  g_free (a->server);
  g_free (a->token);
  g_free (a->ca_file);
  g_free (a);
}

Account *
rr_upload_view_account_copy (RrUploadView *self)
{
  Account *a = g_new0 (Account, 1);
  a->server = g_strdup (self->server);
  a->token = g_strdup (self->token);
  a->ca_file = g_strdup (self->ca_file);
  return a;
}

RrSyncClient *
rr_upload_view_client_for (const Account *a)
{
  RrSyncClient *c = rr_sync_client_new (a->server, a->ca_file);
  rr_sync_client_set_token (c, a->token);
  return c;
}

/* ---- small widgets ---- */

void
rr_upload_view_set_name (gpointer widget, const char *name)
{
  gtk_accessible_update_property (GTK_ACCESSIBLE (widget), GTK_ACCESSIBLE_PROPERTY_LABEL, name,
                                  -1);
}

void
rr_upload_view_clear_list (GtkListBox *list)
{
  GtkWidget *child;
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (list))))
    gtk_list_box_remove (list, child);
}

GtkWidget *
rr_upload_view_add_row (GtkListBox *list, const char *text, const char *style)
{
  GtkWidget *row = gtk_list_box_row_new ();
  GtkWidget *label = gtk_label_new (text);
  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_label_set_wrap (GTK_LABEL (label), TRUE);
  gtk_label_set_selectable (GTK_LABEL (label), FALSE);
  gtk_widget_set_margin_start (label, 12);
  gtk_widget_set_margin_end (label, 12);
  gtk_widget_set_margin_top (label, 6);
  gtk_widget_set_margin_bottom (label, 6);
  if (style)
    gtk_widget_add_css_class (label, style);
  gtk_list_box_row_set_child (GTK_LIST_BOX_ROW (row), label);
  rr_upload_view_set_name (row, text);
  gtk_list_box_append (list, row);
  return row;
}

GtkWidget *
rr_upload_view_heading (const char *text)
{
  GtkWidget *l = gtk_label_new (text);
  gtk_label_set_xalign (GTK_LABEL (l), 0);
  gtk_widget_add_css_class (l, "heading");
  gtk_widget_set_margin_top (l, 12);
  return l;
}

GtkListBox *
rr_upload_view_boxed_list (const char *name)
{
  GtkWidget *list = gtk_list_box_new ();
  gtk_list_box_set_selection_mode (GTK_LIST_BOX (list), GTK_SELECTION_NONE);
  gtk_widget_add_css_class (list, "boxed-list");
  rr_upload_view_set_name (list, name);
  return GTK_LIST_BOX (list);
}

GtkEntry *
rr_upload_view_labelled_entry (GtkGrid *grid, int row, const char *title, const char *hint)
{
  GtkWidget *label = gtk_label_new (title);
  GtkWidget *entry = gtk_entry_new ();
  gtk_label_set_xalign (GTK_LABEL (label), 1);
  gtk_widget_set_hexpand (entry, TRUE);
  if (hint)
    gtk_entry_set_placeholder_text (GTK_ENTRY (entry), hint);
  /* Named, not related to its label: GTK 4.8's AT-SPI bridge crashes on
   * a relation to a widget it has not exported yet. */
  rr_upload_view_set_name (entry, title);
  gtk_grid_attach (grid, label, 0, row, 1, 1);
  gtk_grid_attach (grid, entry, 1, row, 2, 1);
  return GTK_ENTRY (entry);
}

void
rr_upload_view_set_status (RrUploadView *self, const char *text)
{
  gtk_label_set_text (self->status, text);
  rr_upload_view_set_name (self->status, text);
}

static const char *
text_of (GtkEntry *entry)
{
  return gtk_editable_get_text (GTK_EDITABLE (entry));
}

static char *
chosen_trial (RrUploadView *self)
{
  const char *t = text_of (self->trial);
  return *t ? g_strdup (t) : NULL;
}

/* Upload is for what Find Studies read and the site saw: nothing before
 * a folder was read for this subject, timepoint and visit, and studies
 * dated away from the visit only once the site says they are this
 * visit's all the same (the wrong visit's disc is the common mistake). */
static void
update_upload (RrUploadView *self)
{
  gboolean confirmed = !gtk_widget_get_visible (GTK_WIDGET (self->confirm)) ||
                       gtk_check_button_get_active (self->confirm);
  gboolean looked = !gtk_widget_get_visible (self->burned_box) ||
                    gtk_check_button_get_active (self->burned_confirm);
  gtk_widget_set_sensitive (GTK_WIDGET (self->upload), !self->busy && self->scanned &&
                                                       !self->blocked && confirmed && looked);
}

static void
set_busy (RrUploadView *self, gboolean busy)
{
  self->busy = busy;
  gtk_widget_set_sensitive (GTK_WIDGET (self->find), !busy);
  update_upload (self);
  gtk_widget_set_sensitive (GTK_WIDGET (self->choose), !busy);
  gtk_widget_set_visible (GTK_WIDGET (self->stop), busy && self->upload_cancel != NULL);
}

/* ---- the account: trials this user uploads for, open queries ---- */

typedef struct
{
  GPtrArray *trials;      /* char *, the trials with the site role */
  GPtrArray *queries;     /* QueryTask */
  GPtrArray *unfinished;  /* RrUploadStaged */
} AccountInfo;

static void
account_info_free (AccountInfo *i)
{
  g_ptr_array_unref (i->trials);
  g_ptr_array_unref (i->queries);
  g_ptr_array_unref (i->unfinished);
  g_free (i);
}

static void
account_thread (GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  g_autoptr (RrSyncClient) client = rr_upload_view_client_for (data);
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) me = rr_sync_get_json (client, "/readroom/v1/me", &error);
  g_autoptr (JsonNode) tasks = NULL;
  AccountInfo *info;
  JsonArray *roles;

  if (me == NULL || !JSON_NODE_HOLDS_OBJECT (me))
    {
      g_task_return_error (task, error ? g_steal_pointer (&error)
                                       : g_error_new_literal (RR_SYNC_ERROR, RR_SYNC_ERROR_SERVER,
                                                              "no user"));
      return;
    }
  info = g_new0 (AccountInfo, 1);
  info->trials = g_ptr_array_new_with_free_func (g_free);
  roles = rr_json_get_array (json_node_get_object (me), "roles");
  for (guint i = 0; roles && i < json_array_get_length (roles); i++)
    {
      JsonObject *r = rr_json_get_element (roles, i);
      const char *trial = r ? json_object_get_string_member_with_default (r, "trial", NULL) : NULL;
      const char *role = r ? json_object_get_string_member_with_default (r, "role", NULL) : NULL;
      if (trial && g_strcmp0 (role, "site") == 0 &&
          !g_ptr_array_find_with_equal_func (info->trials, trial, g_str_equal, NULL))
        g_ptr_array_add (info->trials, g_strdup (trial));
    }
  /* The site's open queries: a QC reviewer asks for a new or corrected
   * upload of one subject's timepoint. */
  tasks = info->trials->len ? rr_sync_get_json (client, "/readroom/v1/tasks?status=open", NULL)
                            : NULL;
  info->queries = rr_upload_view_queries_from_json (tasks);
  info->unfinished = rr_upload_view_unfinished_for (info->trials);
  g_task_return_pointer (task, info, (GDestroyNotify) account_info_free);
}

static void
account_done (GObject *source, GAsyncResult *result, gpointer data)
{
  RrUploadView *self = RR_UPLOAD_VIEW (source);
  g_autoptr (GError) error = NULL;
  AccountInfo *info = g_task_propagate_pointer (G_TASK (result), &error);
  gboolean available;

  if (info == NULL)
    return;   /* offline or signed out: no Upload until the next sign-in */
  /* The first trial this user uploads for; another is typed in. */
  if (info->trials->len > 0 && *text_of (self->trial) == '\0')
    gtk_editable_set_text (GTK_EDITABLE (self->trial), info->trials->pdata[0]);
  rr_upload_view_show_queries (self, info->queries);
  rr_upload_view_show_unfinished (self, info->unfinished);
  g_clear_pointer (&self->site_trials, g_ptr_array_unref);
  self->site_trials = g_ptr_array_ref (info->trials);
  available = info->trials->len > 0;
  account_info_free (info);
  if (available != self->available)
    {
      self->available = available;
      g_object_notify_by_pspec (G_OBJECT (self), props[PROP_AVAILABLE]);
    }
}

void
rr_upload_view_set_account (RrUploadView *self,
                            const char   *server,
                            const char   *user,
                            const char   *token,
                            const char   *ca_file)
{
  g_autoptr (GTask) task = NULL;

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();
  g_free (self->server);
  g_free (self->user);
  g_free (self->token);
  g_free (self->ca_file);
  self->server = g_strdup (server);
  self->user = g_strdup (user);
  self->token = g_strdup (token);
  self->ca_file = ca_file && *ca_file ? g_strdup (ca_file) : NULL;
  gtk_editable_set_text (GTK_EDITABLE (self->trial), "");
  g_clear_pointer (&self->query_id, g_free);
  rr_upload_view_show_answer_mode (self);
  task = g_task_new (self, self->cancellable, account_done, NULL);
  g_task_set_task_data (task, rr_upload_view_account_copy (self),
                        (GDestroyNotify) rr_upload_view_account_free);
  g_task_run_in_thread (task, account_thread);
}

gboolean
rr_upload_view_get_available (RrUploadView *self)
{
  return self->available;
}

/* ---- finding the studies, checking dates, the preview ---- */

static void
study_free (gpointer data)
{
  RrUploadStudy *s = data;
  g_free (s->uid);
  g_free (s->date);
  g_free (s->patient);
  g_free (s->modalities);
  g_hash_table_unref (s->series);
  g_free (s);
}

typedef struct
{
  /* in */
  Account *account;
  char *path, *trial, *subject;
  /* out */
  GPtrArray *studies;      /* RrUploadStudy */
  GPtrArray *patients;     /* RrUploadPatient: the Patient IDs of every file */
  guint n_unreadable;
  GPtrArray *changes;      /* RrDeidChange, or NULL */
  GPtrArray *warnings;     /* RrDeidWarning */
  char *preview_file;
  char *preview_error;
  guint n_burned;          /* images that may show burned-in text */
  char *burned_modalities;
  GdkTexture *burned_texture;
  char *burned_file;
  guint mapping_serial;    /* the fields' edit count when it started */
} Find;

static void
deid_warning_free (gpointer data)
{
  RrDeidWarning *w = data;
  g_free (w->path);
  g_free (w->code);
  g_free (w->message);
  g_free (w);
}

static void
find_free (Find *f)
{
  rr_upload_view_account_free (f->account);
  g_free (f->path);
  g_free (f->trial);
  g_free (f->subject);
  g_clear_pointer (&f->studies, g_ptr_array_unref);
  g_clear_pointer (&f->patients, g_ptr_array_unref);
  g_clear_pointer (&f->changes, g_ptr_array_unref);
  g_clear_pointer (&f->warnings, g_ptr_array_unref);
  g_free (f->preview_file);
  g_free (f->preview_error);
  g_free (f->burned_modalities);
  g_clear_object (&f->burned_texture);
  g_free (f->burned_file);
  g_free (f);
}

static gint
compare_names (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (*(const char * const *) a, *(const char * const *) b);
}

/* Up to @max regular files under @dir, in name order, DICOMDIR aside:
 * the candidates for the preview. */
static void
first_files (const char *dir, GPtrArray *out, guint max, guint depth)
{
  g_autoptr (GDir) d = depth < 16 ? g_dir_open (dir, 0, NULL) : NULL;
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  const char *name;
  if (d == NULL)
    return;
  while ((name = g_dir_read_name (d)))
    g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, compare_names);
  for (guint i = 0; i < names->len && out->len < max; i++)
    {
      g_autofree char *p = g_build_filename (dir, names->pdata[i], NULL);
      if (g_file_test (p, G_FILE_TEST_IS_DIR))
        first_files (p, out, max, depth + 1);
      else if (g_file_test (p, G_FILE_TEST_IS_REGULAR) &&
               g_ascii_strcasecmp (names->pdata[i], "DICOMDIR") != 0)
        g_ptr_array_add (out, g_steal_pointer (&p));
    }
}

static void
find_thread (GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  Find *f = data;
  const char *paths[] = { f->path, NULL };
  g_autoptr (GError) error = NULL;
  g_autoptr (RrDicomHeaders) h = rr_dicom_read_headers (paths, 0, cancellable, &error);
  g_autoptr (GHashTable) by_uid = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (RrSyncClient) client = NULL;
  g_autoptr (GBytes) key = NULL;
  g_autoptr (RrDeid) deid = NULL;
  g_autofree char *root = NULL, *base = NULL;
  g_autoptr (GPtrArray) files = g_ptr_array_new_with_free_func (g_free);
  gboolean retain = FALSE;

  if (h == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  f->studies = g_ptr_array_new_with_free_func (study_free);
  /* Every file's, not each study's first: one study may mix them. */
  f->patients = rr_upload_patients (h->instances);
  f->n_unreadable = h->unreadable->len;
  for (guint i = 0; i < h->instances->len; i++)
    {
      RrQcInstance *inst = h->instances->pdata[i];
      const char *uid = inst->study_uid ? inst->study_uid : "";
      RrUploadStudy *s = g_hash_table_lookup (by_uid, uid);
      if (s == NULL)
        {
          s = g_new0 (RrUploadStudy, 1);
          s->uid = g_strdup (uid);
          s->date = g_strdup (inst->study_date);
          s->patient = g_strdup (inst->patient_id);
          s->modalities = g_strdup ("");
          s->series = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
          g_ptr_array_add (f->studies, s);
          g_hash_table_insert (by_uid, s->uid, s);
        }
      s->n_files++;
      if (inst->series_uid)
        g_hash_table_add (s->series, g_strdup (inst->series_uid));
      if (rr_upload_view_burned_in_risk (inst))
        {
          const char *m = inst->modality && *inst->modality ? inst->modality : "?";
          f->n_burned++;
          if (f->burned_modalities == NULL)
            f->burned_modalities = g_strdup (m);
          else if (!strstr (f->burned_modalities, m))
            {
              char *more = g_strdup_printf ("%s, %s", f->burned_modalities, m);
              g_free (f->burned_modalities);
              f->burned_modalities = more;
            }
        }
      if (inst->modality && *inst->modality && !strstr (s->modalities, inst->modality))
        {
          char *m = *s->modalities ? g_strdup_printf ("%s, %s", s->modalities, inst->modality)
                                   : g_strdup (inst->modality);
          g_free (s->modalities);
          s->modalities = m;
        }
    }

  root = g_file_test (f->path, G_FILE_TEST_IS_DIR) ? g_strdup (f->path)
                                                    : g_path_get_dirname (f->path);
  base = g_path_get_basename (f->path);
  if (!g_file_test (f->path, G_FILE_TEST_IS_DIR) && g_ascii_strcasecmp (base, "DICOMDIR") != 0)
    g_ptr_array_add (files, g_strdup (f->path));
  else
    first_files (root, files, MAX_PREVIEW_TRIES, 0);
  /* One of the images that may show burned-in text, for the site to look
   * at before it confirms. */
  if (f->n_burned > 0)
    f->burned_texture = rr_upload_view_burned_in_thumbnail (files, &f->burned_file);

  /* The preview: one file de-identified with the trial's own key, as the
   * upload will do it. */
  client = rr_upload_view_client_for (f->account);
  key = rr_upload_fetch_key (client, f->trial, &retain, &error);
  deid = key ? rr_deid_new (g_bytes_get_data (key, NULL), g_bytes_get_size (key), f->subject,
                            retain, &error)
             : NULL;
  if (deid == NULL)
    {
      f->preview_error = g_strdup (error->message);
      g_task_return_boolean (task, TRUE);
      return;
    }
  f->warnings = g_ptr_array_new_with_free_func (deid_warning_free);
  for (guint i = 0; i < files->len && f->changes == NULL; i++)
    {
      g_clear_error (&error);
      rr_deid_learn (deid, files->pdata[i]);
      f->changes = rr_deid_preview (deid, files->pdata[i], f->warnings, &error);
      if (f->changes)
        f->preview_file = g_strdup (files->pdata[i]);
    }
  if (f->changes == NULL)
    f->preview_error = g_strdup (error ? error->message : _("no DICOM file to preview"));
  g_task_return_boolean (task, TRUE);
}

/* Images that may show a name or a date in their pixels: de-identification
 * cannot take text out of pixels, so the site looks before it confirms. */
static void
show_burned_in (RrUploadView *self, Find *f)
{
  g_autofree char *e = g_strdup_printf (
    ngettext ("%u image (%s) may show identifying text burned into its pixels, which "
              "de-identification cannot remove. Look at it (an example is shown below): if a "
              "name, date or ID is written in the image, do not upload it; mask or leave it "
              "out first",
              "%u images (%s) may show identifying text burned into their pixels, which "
              "de-identification cannot remove. Look at them (an example is shown below): if a "
              "name, date or ID is written in an image, do not upload it; mask or leave it "
              "out first", f->n_burned), f->n_burned, f->burned_modalities);
  rr_upload_view_add_row (self->warnings, e, "warning");
  gtk_picture_set_paintable (self->burned_picture, GDK_PAINTABLE (f->burned_texture));
  gtk_widget_set_visible (GTK_WIDGET (self->burned_picture), f->burned_texture != NULL);
  if (f->burned_texture)
    {
      g_autofree char *c = g_strdup_printf (_("Example: %s"), f->burned_file);
      gtk_label_set_text (self->burned_caption, c);
    }
  else
    gtk_label_set_text (self->burned_caption, _("No example could be shown: open the images in "
                                                "a viewer to look at them"));
  gtk_check_button_set_active (self->burned_confirm, FALSE);
  gtk_widget_set_visible (self->burned_box, TRUE);
}

static void
find_done (GObject *source, GAsyncResult *result, gpointer data)
{
  RrUploadView *self = RR_UPLOAD_VIEW (source);
  Find *f = g_task_get_task_data (G_TASK (result));
  g_autoptr (GError) error = NULL;

  guint n_date_warnings, n_errors;

  set_busy (self, FALSE);
  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        rr_upload_view_set_status (self, error->message);
      return;
    }
  for (guint i = 0; i < f->studies->len; i++)
    {
      RrUploadStudy *s = f->studies->pdata[i];
      g_autoptr (GDate) d = rr_upload_view_parse_date (s->date);
      g_autofree char *when = d ? rr_upload_view_show_date (d) : g_strdup (_("no date"));
      g_autofree char *text = g_strdup_printf (
        _("Study %u · %s · %s · %u series, %u files · patient %s"), i + 1, when,
        *s->modalities ? s->modalities : "?", g_hash_table_size (s->series), s->n_files,
        s->patient && *s->patient ? s->patient : "?");
      rr_upload_view_add_row (self->studies, text, NULL);
    }
  if (f->n_unreadable)
    {
      g_autofree char *w = g_strdup_printf (ngettext ("%u file is not DICOM and is left out",
                                                      "%u files are not DICOM and are left out",
                                                      f->n_unreadable), f->n_unreadable);
      rr_upload_view_add_row (self->warnings, w, NULL);
    }
  n_date_warnings = rr_upload_view_check_dates (self, f->studies, f->patients, &n_errors);
  for (guint i = 0; f->warnings && i < f->warnings->len; i++)
    {
      RrDeidWarning *w = f->warnings->pdata[i];
      /* Burned-in text is said once for the whole folder, below. */
      if (!g_str_has_prefix (w->code, "burned_in"))
        {
          g_autofree char *line = g_strdup_printf ("%s: %s", w->path, w->message);
          rr_upload_view_add_row (self->warnings, line, "warning");
        }
    }
  if (f->n_burned > 0)
    show_burned_in (self, f);
  if (f->changes)
    {
      g_autofree char *base = g_path_get_basename (f->preview_file);
      g_autofree char *title = g_strdup_printf (_("In %s, de-identification changes:"), base);
      rr_upload_view_add_row (self->preview, title, "heading");
      for (guint i = 0; i < f->changes->len; i++)
        {
          RrDeidChange *c = f->changes->pdata[i];
          g_autofree char *text = NULL;
          if (c->before == NULL)
            text = g_strdup_printf (_("%s (%04X,%04X): added “%s”"), c->name, c->tag >> 16,
                                    c->tag & 0xFFFF, c->after);
          else if (c->after == NULL)
            text = g_strdup_printf (_("%s (%04X,%04X): “%s” removed"), c->name, c->tag >> 16,
                                    c->tag & 0xFFFF, c->before);
          else
            text = g_strdup_printf (_("%s (%04X,%04X): “%s” → “%s”"), c->name, c->tag >> 16,
                                    c->tag & 0xFFFF, c->before, c->after);
          rr_upload_view_add_row (self->preview, text, NULL);
        }
    }
  else if (f->preview_error)
    {
      g_autofree char *text = g_strdup_printf (_("No preview: %s"), f->preview_error);
      rr_upload_view_add_row (self->preview, text, "warning");
    }
  /* A field edited while the folder was read: what was read is not
   * what Upload would send under those names. */
  self->scanned = f->studies->len > 0 && f->mapping_serial == self->mapping_serial;
  self->blocked = n_errors > 0;
  if (self->scanned && !self->blocked && n_date_warnings > 0)
    {
      g_autofree char *text = g_strdup_printf (
        _("The dates are checked: these studies are subject %s’s %s all the same"),
        text_of (self->subject), text_of (self->label));
      gtk_check_button_set_label (self->confirm, text);
      rr_upload_view_set_name (self->confirm, text);
      gtk_check_button_set_active (self->confirm, FALSE);
      gtk_widget_set_visible (GTK_WIDGET (self->confirm), TRUE);
    }
  update_upload (self);
  if (f->studies->len == 0)
    rr_upload_view_set_status (self, _("No DICOM studies were found there"));
  else if (!self->scanned)
    rr_upload_view_set_status (self, _("The folder, subject, timepoint or visit date changed "
                                       "while the folder was read: Find Studies again"));
  else if (self->blocked)
    rr_upload_view_set_status (self, _("Upload is blocked: correct what the warnings in red say, "
                                       "then Find Studies again"));
  else if (n_date_warnings > 0 || f->n_burned > 0)
    rr_upload_view_set_status (self, _("Check the warnings: Upload waits until you tick the "
                                       "confirmations under them"));
  else
    {
      g_autofree char *text = g_strdup_printf (ngettext ("%u study found: check the warnings "
                                                         "and the preview, then upload",
                                                         "%u studies found: check the warnings "
                                                         "and the preview, then upload",
                                                         f->studies->len), f->studies->len);
      rr_upload_view_set_status (self, text);
    }
}

/* The subject and timepoint name folders and the server's records: the
 * same rule as the CLI's (rr_upload_staging_dir). */
static gboolean
fields_ok (RrUploadView *self, char **trial, char **staging)
{
  *trial = chosen_trial (self);
  if (*trial == NULL)
    {
      rr_upload_view_set_status (self, _("This account uploads for no trial"));
      return FALSE;
    }
  if (*text_of (self->folder) == '\0')
    {
      rr_upload_view_set_status (self, _("Choose a folder or a DICOMDIR first"));
      return FALSE;
    }
  *staging = rr_upload_staging_dir (*trial, text_of (self->subject), text_of (self->label));
  if (*staging == NULL)
    {
      rr_upload_view_set_status (self, _("Enter the subject ID and the timepoint (1 to 64 "
                                         "characters, no “/”)"));
      return FALSE;
    }
  return TRUE;
}

static void
on_find (GtkButton *button, RrUploadView *self)
{
  g_autofree char *trial = NULL, *staging = NULL;
  g_autoptr (GTask) task = NULL;
  Find *f;

  if (self->busy || !fields_ok (self, &trial, &staging))
    return;
  rr_upload_view_clear_list (self->studies);
  rr_upload_view_clear_list (self->warnings);
  rr_upload_view_clear_list (self->preview);
  self->scanned = FALSE;
  self->blocked = FALSE;
  /* The last upload's count is not this folder's. */
  gtk_widget_set_visible (GTK_WIDGET (self->progress), FALSE);
  gtk_widget_set_visible (GTK_WIDGET (self->confirm), FALSE);
  gtk_widget_set_visible (self->burned_box, FALSE);
  f = g_new0 (Find, 1);
  f->mapping_serial = self->mapping_serial;
  f->account = rr_upload_view_account_copy (self);
  f->path = g_strdup (text_of (self->folder));
  f->trial = g_steal_pointer (&trial);
  f->subject = g_strdup (text_of (self->subject));
  set_busy (self, TRUE);
  rr_upload_view_set_status (self, _("Reading the folder…"));
  task = g_task_new (self, self->cancellable, find_done, NULL);
  g_task_set_task_data (task, f, (GDestroyNotify) find_free);
  g_task_run_in_thread (task, find_thread);
}

void
rr_upload_view_find (RrUploadView *self)
{
  on_find (NULL, self);
}

/* The folder, subject, timepoint or visit date edited: what Find Studies
 * read no longer answers for them (another folder, other dates to check,
 * another pseudonym in the preview). */
static void
on_mapping_changed (GtkEditable *editable, RrUploadView *self)
{
  self->mapping_serial++;
  if (!self->scanned && !gtk_widget_get_visible (GTK_WIDGET (self->confirm)))
    return;
  self->scanned = FALSE;
  gtk_widget_set_visible (GTK_WIDGET (self->confirm), FALSE);
  gtk_widget_set_visible (self->burned_box, FALSE);
  update_upload (self);
  if (!self->busy)
    rr_upload_view_set_status (self, _("Find Studies again: the folder, subject, timepoint or "
                                       "visit date changed"));
}

static void
folder_chosen (GtkNativeDialog *dialog, int response, RrUploadView *self)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr (GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      g_autofree char *path = file ? g_file_get_path (file) : NULL;
      if (path)
        {
          gtk_editable_set_text (GTK_EDITABLE (self->folder), path);
          on_find (NULL, self);
        }
    }
  gtk_native_dialog_destroy (dialog);
  g_object_unref (dialog);
}

static void
on_choose (GtkButton *button, RrUploadView *self)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  GtkFileChooserNative *dialog = gtk_file_chooser_native_new (
    _("Choose the Folder or Disc of a Visit"), GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
    GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER, _("_Choose"), _("_Cancel"));
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (dialog), TRUE);
  g_signal_connect_object (dialog, "response", G_CALLBACK (folder_chosen), self, 0);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (dialog));
}

/* ---- the upload ---- */

typedef struct
{
  Account *account;
  char *path, *trial, *subject, *label, *staging, *visit;
  int day;
  char *query, *response;          /* an answer to a query, or NULL */
  char *password;                  /* signs the answer; wiped when freed */
  RrUploadView *view;              /* for progress only, on the main thread */
  char *outcome;
  gboolean answered;
} Upload;

static void
upload_free (Upload *u)
{
  rr_upload_view_account_free (u->account);
  g_free (u->path);
  g_free (u->trial);
  g_free (u->subject);
  g_free (u->label);
  g_free (u->staging);
  g_free (u->visit);
  g_free (u->query);
  g_free (u->response);
  if (u->password)
    memset (u->password, 0, strlen (u->password));
  g_free (u->password);
  g_free (u->outcome);
  g_clear_object (&u->view);
  g_free (u);
}

typedef struct
{
  RrUploadView *view;
  guint files_done, files_total;
  guint64 bytes_done, bytes_total;
  char *note;
} Progress;

static gboolean
show_progress (gpointer data)
{
  Progress *p = data;
  RrUploadView *self = p->view;
  if (self->busy && self->upload_cancel)
    {
      g_autofree char *text = NULL;
      if (p->files_total > 0)
        {
          text = g_strdup_printf (_("Sent %u of %u files, %.1f of %.1f MB"), p->files_done,
                                  p->files_total, p->bytes_done / 1e6, p->bytes_total / 1e6);
          gtk_progress_bar_set_fraction (self->progress,
                                         p->bytes_total ? (double) p->bytes_done / p->bytes_total
                                                        : 0);
          gtk_progress_bar_set_text (self->progress, text);
          rr_upload_view_set_name (self->progress, text);
        }
      else if (p->note)
        {
          /* Before any file is sent (de-identifying): the bar says so. */
          gtk_progress_bar_set_fraction (self->progress, 0);
          gtk_progress_bar_set_text (self->progress, p->note);
          rr_upload_view_set_name (self->progress, p->note);
        }
      if (p->note)
        rr_upload_view_set_status (self, p->note);
      else if (text)
        rr_upload_view_set_status (self, text);
    }
  g_object_unref (p->view);
  g_free (p->note);
  g_free (p);
  return G_SOURCE_REMOVE;
}

static void
report (Upload *u, guint files_done, guint files_total, guint64 bytes_done, guint64 bytes_total,
        const char *note)
{
  Progress *p = g_new0 (Progress, 1);
  p->view = g_object_ref (u->view);
  p->files_done = files_done;
  p->files_total = files_total;
  p->bytes_done = bytes_done;
  p->bytes_total = bytes_total;
  p->note = g_strdup (note);
  g_main_context_invoke (NULL, show_progress, p);
}

static void
on_sent (guint files_done, guint files_total, guint64 bytes_done, guint64 bytes_total,
         const char *note, gpointer data)
{
  g_autofree char *retry = note ? g_strdup_printf (_("%s; trying again"), note) : NULL;
  report (data, files_done, files_total, bytes_done, bytes_total, retry);
}

/* What the server held before, in words after the outcome (empty when
 * every file was new), so sending a visit twice does not read as twice
 * the images. */
static char *
held_words (guint n_new, guint n_held)
{
  if (n_held == 0)
    return g_strdup ("");
  if (n_new == 0)
    return g_strdup_printf (ngettext (". It was not new: the server already held it",
                                      ". None was new: the server already held all %u", n_held),
                            n_held);
  return g_strdup_printf (_("; %u of them new, the server already held the other %u"), n_new,
                          n_held);
}

static gboolean
deid_into_staging (Upload *u, RrSyncClient *client, GCancellable *cancellable, GError **error)
{
  g_autofree char *done = g_build_filename (u->staging, RR_UPLOAD_DEID_DONE, NULL);
  g_autoptr (GBytes) key = NULL;
  g_autoptr (RrDeid) deid = NULL;
  g_autoptr (RrDeidResult) r = NULL;
  gboolean retain = FALSE;

  /* De-identified once: the marker is written only after every file was;
   * the same key gives the same files, so a rerun after a kill keeps the
   * names the journal knows. */
  if (g_file_test (done, G_FILE_TEST_EXISTS))
    return TRUE;
  report (u, 0, 0, 0, 0, _("De-identifying…"));
  key = rr_upload_fetch_key (client, u->trial, &retain, error);
  deid = key ? rr_deid_new (g_bytes_get_data (key, NULL), g_bytes_get_size (key), u->subject,
                            retain, error)
             : NULL;
  r = deid ? rr_deid_tree (deid, u->path, u->staging, 0, cancellable, error) : NULL;
  if (r == NULL)
    return FALSE;
  if (r->failures->len > 0 || r->n_written == 0)
    {
      RrDeidFailure *f = r->failures->len ? r->failures->pdata[0] : NULL;
      g_set_error (error, RR_SYNC_ERROR, RR_SYNC_ERROR_DISK,
                   _("Nothing sent: %u of %u files could not be de-identified%s%s"),
                   r->n_files - r->n_written, r->n_files, f ? ": " : "", f ? f->message : "");
      return FALSE;
    }
  return rr_upload_mark_deid_done (u->staging, error);
}

/* Sent and linked or answered: no longer offered for resuming. A failure
 * here costs only an offer to resume what has nothing left to send. */
static void
mark_finished (Upload *u)
{
  g_autoptr (GError) error = NULL;
  if (!rr_upload_mark_finished (u->staging, &error))
    g_warning ("%s", error->message);
}

static void
upload_thread (GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  Upload *u = data;
  g_autoptr (RrSyncClient) client = rr_upload_view_client_for (u->account);
  g_autoptr (GError) error = NULL;
  g_autoptr (RrUploadJournal) journal = NULL;
  g_autoptr (GPtrArray) names = NULL;
  g_autoptr (GPtrArray) studies = NULL;
  RrUploadLink linked;
  guint n_sent = 0, n_already = 0;
  g_autofree char *held = NULL;
  char *own;

  /* The staging folder of these source files within the timepoint's (or
   * the query's): another folder for the same visit is de-identified and
   * sent afresh, never mistaken for the one staged before; the same
   * folder again resumes. */
  if (!(own = rr_upload_source_staging_dir (u->staging, u->path, &error)))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  g_free (u->staging);
  u->staging = own;
  if (g_mkdir_with_parents (u->staging, 0700) != 0)
    {
      g_task_return_new_error (task, RR_SYNC_ERROR, RR_SYNC_ERROR_DISK, "%s: %s", u->staging,
                               g_strerror (errno));
      return;
    }
  {
    g_autofree char *from = g_canonicalize_filename (u->path, NULL);
    RrUploadStaged note = { u->staging, from, u->trial, u->subject, u->label, u->query,
                            u->visit, u->day, 0, 0 };
    if (!rr_upload_staged_save (&note, &error))
      {
        g_task_return_error (task, g_steal_pointer (&error));
        return;
      }
  }
  if (!deid_into_staging (u, client, cancellable, &error) ||
      !(journal = rr_upload_journal_load (u->staging, &error)) ||
      !(names = rr_upload_staged_files (u->staging, &error)))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  if (!rr_upload_send_all (client, u->trial, u->staging, names, journal, PARALLEL, on_sent, u,
                           cancellable, &n_sent, &n_already, &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  /* What the journal listed was taken by the server before; of what was
   * sent now, the server may have held some already (the same visit sent
   * under another timepoint, or from another computer). */
  held = held_words (n_sent - n_already, names->len - n_sent + n_already);
  studies = rr_upload_studies (journal, names);
  if (u->query)
    {
      /* The files are on the server either way: a failed answer is
       * answered again by Upload and Answer, which sends nothing twice. */
      if (!rr_upload_answer_query (client, u->query, u->response, u->password, studies, &error))
        {
          g_task_return_new_error (task, error->domain, error->code,
                                   _("the files were sent but %s"), error->message);
          return;
        }
      u->answered = TRUE;
      mark_finished (u);
      u->outcome = g_strdup_printf (ngettext ("Uploaded %u files in %u study and answered the "
                                              "query: a fresh QC task checks them%s",
                                              "Uploaded %u files in %u studies and answered the "
                                              "query: a fresh QC task checks them%s",
                                              studies->len), names->len, studies->len, held);
      g_task_return_boolean (task, TRUE);
      return;
    }
  if (!rr_upload_link (client, u->trial, u->subject, u->label, u->day, studies, &linked, &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  u->outcome = linked == RR_UPLOAD_LINKED
    ? g_strdup_printf (ngettext ("Uploaded: %u files in %u study, linked to %s %s%s",
                                 "Uploaded: %u files in %u studies, linked to %s %s%s",
                                 studies->len), names->len, studies->len, u->subject, u->label,
                       held)
    : g_strdup_printf (ngettext ("Uploaded: %u files in %u study; the trial's administrator "
                                 "links it to %s %s%s",
                                 "Uploaded: %u files in %u studies; the trial's administrator "
                                 "links them to %s %s%s", studies->len),
                       names->len, studies->len, u->subject, u->label, held);
  mark_finished (u);
  g_task_return_boolean (task, TRUE);
}

static void
upload_done (GObject *source, GAsyncResult *result, gpointer data)
{
  RrUploadView *self = RR_UPLOAD_VIEW (source);
  Upload *u = g_task_get_task_data (G_TASK (result));
  g_autoptr (GError) error = NULL;

  g_clear_object (&self->upload_cancel);
  set_busy (self, FALSE);
  /* Finished or not, the list of what is left to resume changed. */
  if (self->site_trials)
    {
      g_autoptr (GPtrArray) left = rr_upload_view_unfinished_for (self->site_trials);
      rr_upload_view_show_unfinished (self, left);
    }
  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      g_autofree char *text = g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED)
        ? g_strdup (_("Stopped: Upload again sends the rest"))
        : g_strdup_printf (_("Not finished: %s. Upload again sends the rest"), error->message);
      rr_upload_view_set_status (self, text);
      return;
    }
  gtk_progress_bar_set_fraction (self->progress, 1.0);
  rr_upload_view_set_status (self, u->outcome);
  if (u->answered)
    rr_upload_view_query_answered (self, u->query);
}

static void
on_upload (GtkButton *button, RrUploadView *self)
{
  g_autofree char *trial = NULL, *staging = NULL;
  g_autoptr (GTask) task = NULL;
  Upload *u;

  if (self->busy || !fields_ok (self, &trial, &staging))
    return;
  if (self->query_id)
    {
      char *own = rr_upload_query_staging_dir (staging, self->query_id);
      if (*text_of (self->response) == '\0')
        {
          g_free (own);
          rr_upload_view_set_status (self, _("Write the response to the query first"));
          gtk_widget_grab_focus (GTK_WIDGET (self->response));
          return;
        }
      if (*gtk_editable_get_text (GTK_EDITABLE (self->password)) == '\0')
        {
          g_free (own);
          rr_upload_view_set_status (self, _("Enter your password: it signs the answer"));
          gtk_widget_grab_focus (self->password);
          return;
        }
      /* Other files for the same timepoint: their own staging folder, as
       * the CLI's, so the first upload's journal does not hold them. */
      g_free (staging);
      staging = own;
    }
  u = g_new0 (Upload, 1);
  u->account = rr_upload_view_account_copy (self);
  u->path = g_strdup (text_of (self->folder));
  u->trial = g_steal_pointer (&trial);
  u->subject = g_strdup (text_of (self->subject));
  u->label = g_strdup (text_of (self->label));
  u->staging = g_steal_pointer (&staging);
  u->day = gtk_spin_button_get_value_as_int (self->day);
  u->visit = g_strdup (text_of (self->visit));
  if (self->query_id)
    {
      u->query = g_strdup (self->query_id);
      u->response = g_strdup (text_of (self->response));
      u->password = g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->password)));
      gtk_editable_set_text (GTK_EDITABLE (self->password), "");
    }
  u->view = g_object_ref (self);
  self->upload_cancel = g_cancellable_new ();
  set_busy (self, TRUE);
  gtk_widget_set_visible (GTK_WIDGET (self->progress), TRUE);
  /* Nothing of the previous upload's count stays on the bar. */
  gtk_progress_bar_set_fraction (self->progress, 0);
  gtk_progress_bar_set_text (self->progress, _("Preparing…"));
  rr_upload_view_set_name (self->progress, _("Preparing…"));
  rr_upload_view_set_status (self, _("Starting the upload…"));
  task = g_task_new (self, self->upload_cancel, upload_done, NULL);
  g_task_set_task_data (task, u, (GDestroyNotify) upload_free);
  g_task_run_in_thread (task, upload_thread);
}

static void
on_stop (GtkButton *button, RrUploadView *self)
{
  if (self->upload_cancel)
    g_cancellable_cancel (self->upload_cancel);
}

/* ---- the object ---- */

static void
rr_upload_view_get_property (GObject *object, guint id, GValue *value, GParamSpec *pspec)
{
  RrUploadView *self = RR_UPLOAD_VIEW (object);
  switch (id)
    {
    case PROP_AVAILABLE:
      g_value_set_boolean (value, self->available);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, id, pspec);
    }
}

static void
rr_upload_view_dispose (GObject *object)
{
  RrUploadView *self = RR_UPLOAD_VIEW (object);
  g_cancellable_cancel (self->cancellable);
  if (self->upload_cancel)
    g_cancellable_cancel (self->upload_cancel);
  g_clear_pointer (&self->scroller, gtk_widget_unparent);
  G_OBJECT_CLASS (rr_upload_view_parent_class)->dispose (object);
}

static void
rr_upload_view_finalize (GObject *object)
{
  RrUploadView *self = RR_UPLOAD_VIEW (object);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->upload_cancel);
  g_clear_pointer (&self->query_tasks, g_ptr_array_unref);
  g_clear_pointer (&self->unfinished_items, g_ptr_array_unref);
  g_clear_pointer (&self->site_trials, g_ptr_array_unref);
  g_free (self->query_id);
  g_free (self->server);
  g_free (self->user);
  g_free (self->token);
  g_free (self->ca_file);
  G_OBJECT_CLASS (rr_upload_view_parent_class)->finalize (object);
}

static void
rr_upload_view_class_init (RrUploadViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->get_property = rr_upload_view_get_property;
  object_class->dispose = rr_upload_view_dispose;
  object_class->finalize = rr_upload_view_finalize;
  props[PROP_AVAILABLE] = g_param_spec_boolean ("available", NULL, NULL, FALSE,
                                                G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, props);
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
}

static void
rr_upload_view_init (RrUploadView *self)
{
  GtkWidget *clamp = adw_clamp_new ();
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
  GtkWidget *grid = gtk_grid_new ();
  GtkWidget *buttons = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  GtkWidget *day_label = gtk_label_new (_("Study day"));
  GtkWidget *title = gtk_label_new (_("Upload a Visit's Images"));

  self->cancellable = g_cancellable_new ();
  self->scroller = gtk_scrolled_window_new ();
  gtk_widget_set_parent (self->scroller, GTK_WIDGET (self));
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (self->scroller), clamp);
  adw_clamp_set_maximum_size (ADW_CLAMP (clamp), 900);
  adw_clamp_set_child (ADW_CLAMP (clamp), box);
  gtk_widget_set_margin_start (box, 12);
  gtk_widget_set_margin_end (box, 12);
  gtk_widget_set_margin_top (box, 12);
  gtk_widget_set_margin_bottom (box, 12);
  gtk_widget_add_css_class (title, "title-2");
  gtk_label_set_xalign (GTK_LABEL (title), 0);
  gtk_box_append (GTK_BOX (box), title);
  rr_upload_view_add_resume_widgets (self, GTK_BOX (box));

  gtk_grid_set_row_spacing (GTK_GRID (grid), 6);
  gtk_grid_set_column_spacing (GTK_GRID (grid), 12);
  self->trial = rr_upload_view_labelled_entry (GTK_GRID (grid), 0, _("Trial"),
                                               _("The trial's ID"));
  self->subject = rr_upload_view_labelled_entry (GTK_GRID (grid), 1, _("Subject"),
                                                 _("The trial's subject ID"));
  self->label = rr_upload_view_labelled_entry (GTK_GRID (grid), 2, _("Timepoint"),
                                               _("Baseline, Week 8…"));
  self->day = GTK_SPIN_BUTTON (gtk_spin_button_new_with_range (-36500, 36500, 1));
  gtk_spin_button_set_value (self->day, 0);
  rr_upload_view_set_name (self->day, _("Study day"));
  gtk_label_set_xalign (GTK_LABEL (day_label), 1);
  gtk_grid_attach (GTK_GRID (grid), day_label, 0, 3, 1, 1);
  gtk_grid_attach (GTK_GRID (grid), GTK_WIDGET (self->day), 1, 3, 2, 1);
  self->visit = rr_upload_view_labelled_entry (GTK_GRID (grid), 4, _("Visit date"),
                                               _("YYYY-MM-DD"));
  self->folder = rr_upload_view_labelled_entry (GTK_GRID (grid), 5, _("Folder"),
                                                _("A folder, a disc, or a DICOMDIR"));
  gtk_editable_set_text (GTK_EDITABLE (self->label), "Baseline");
  gtk_box_append (GTK_BOX (box), grid);

  self->choose = GTK_BUTTON (gtk_button_new_with_mnemonic (_("_Choose Folder…")));
  self->find = GTK_BUTTON (gtk_button_new_with_mnemonic (_("_Find Studies")));
  self->upload = GTK_BUTTON (gtk_button_new_with_mnemonic (_("_Upload")));
  self->stop = GTK_BUTTON (gtk_button_new_with_mnemonic (_("_Stop")));
  rr_upload_view_set_name (self->choose, _("Choose Folder"));
  rr_upload_view_set_name (self->find, _("Find Studies"));
  rr_upload_view_set_name (self->upload, _("Start Upload"));
  rr_upload_view_set_name (self->stop, _("Stop"));
  gtk_widget_add_css_class (GTK_WIDGET (self->upload), "suggested-action");
  gtk_widget_set_visible (GTK_WIDGET (self->stop), FALSE);
  gtk_box_append (GTK_BOX (buttons), GTK_WIDGET (self->choose));
  gtk_box_append (GTK_BOX (buttons), GTK_WIDGET (self->find));
  gtk_box_append (GTK_BOX (buttons), GTK_WIDGET (self->upload));
  gtk_box_append (GTK_BOX (buttons), GTK_WIDGET (self->stop));
  gtk_box_append (GTK_BOX (box), buttons);
  g_signal_connect_object (self->choose, "clicked", G_CALLBACK (on_choose), self, 0);
  g_signal_connect_object (self->find, "clicked", G_CALLBACK (on_find), self, 0);
  g_signal_connect_object (self->upload, "clicked", G_CALLBACK (on_upload), self, 0);
  g_signal_connect_object (self->stop, "clicked", G_CALLBACK (on_stop), self, 0);
  {
    GtkEntry *mapping[] = { self->trial, self->subject, self->label, self->visit, self->folder };
    for (guint i = 0; i < G_N_ELEMENTS (mapping); i++)
      g_signal_connect_object (mapping[i], "changed", G_CALLBACK (on_mapping_changed), self, 0);
    /* The study day is checked against the timepoint too. */
    g_signal_connect_object (self->day, "value-changed", G_CALLBACK (on_mapping_changed), self,
                             0);
  }

  self->status = GTK_LABEL (gtk_label_new (_("Choose the folder of one subject's visit")));
  gtk_label_set_xalign (self->status, 0);
  gtk_label_set_wrap (self->status, TRUE);
  rr_upload_view_set_name (self->status, gtk_label_get_text (self->status));
  gtk_box_append (GTK_BOX (box), GTK_WIDGET (self->status));
  self->progress = GTK_PROGRESS_BAR (gtk_progress_bar_new ());
  gtk_progress_bar_set_show_text (self->progress, TRUE);
  gtk_widget_set_visible (GTK_WIDGET (self->progress), FALSE);
  rr_upload_view_set_name (self->progress, _("Upload progress"));
  gtk_box_append (GTK_BOX (box), GTK_WIDGET (self->progress));

  gtk_box_append (GTK_BOX (box), rr_upload_view_heading (_("Studies Found")));
  self->studies = rr_upload_view_boxed_list (_("Studies Found"));
  gtk_box_append (GTK_BOX (box), GTK_WIDGET (self->studies));
  gtk_box_append (GTK_BOX (box), rr_upload_view_heading (_("Warnings")));
  self->warnings = rr_upload_view_boxed_list (_("Warnings"));
  gtk_box_append (GTK_BOX (box), GTK_WIDGET (self->warnings));
  /* The confirmations, right under the warnings they answer. */
  self->confirm = GTK_CHECK_BUTTON (gtk_check_button_new ());
  gtk_widget_set_visible (GTK_WIDGET (self->confirm), FALSE);
  gtk_box_append (GTK_BOX (box), GTK_WIDGET (self->confirm));
  g_signal_connect_object (self->confirm, "toggled", G_CALLBACK (update_upload), self,
                           G_CONNECT_SWAPPED);
  /* The example image beside the caption and the confirmation, so that
   * the box the site ticks stays in sight of the image it looked at. */
  self->burned_box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  {
    GtkWidget *side = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
    self->burned_picture = GTK_PICTURE (gtk_picture_new ());
    gtk_picture_set_can_shrink (self->burned_picture, TRUE);
    gtk_picture_set_content_fit (self->burned_picture, GTK_CONTENT_FIT_CONTAIN);
    gtk_widget_set_size_request (GTK_WIDGET (self->burned_picture), 160, 160);
    rr_upload_view_set_name (self->burned_picture, _("An image that may show burned-in text"));
    self->burned_caption = GTK_LABEL (gtk_label_new (NULL));
    gtk_label_set_xalign (self->burned_caption, 0);
    gtk_label_set_wrap (self->burned_caption, TRUE);
    gtk_widget_add_css_class (GTK_WIDGET (self->burned_caption), "dim-label");
    self->burned_confirm = GTK_CHECK_BUTTON (gtk_check_button_new_with_label (
      _("I have checked these images carry no burned-in text")));
    rr_upload_view_set_name (self->burned_confirm,
                             _("I have checked these images carry no burned-in text"));
    g_signal_connect_object (self->burned_confirm, "toggled", G_CALLBACK (update_upload), self,
                             G_CONNECT_SWAPPED);
    gtk_widget_set_valign (side, GTK_ALIGN_CENTER);
    gtk_box_append (GTK_BOX (side), GTK_WIDGET (self->burned_caption));
    gtk_box_append (GTK_BOX (side), GTK_WIDGET (self->burned_confirm));
    gtk_box_append (GTK_BOX (self->burned_box), GTK_WIDGET (self->burned_picture));
    gtk_box_append (GTK_BOX (self->burned_box), side);
  }
  gtk_widget_set_visible (self->burned_box, FALSE);
  gtk_box_append (GTK_BOX (box), self->burned_box);
  gtk_box_append (GTK_BOX (box), rr_upload_view_heading (_("De-identification Preview")));
  self->preview = rr_upload_view_boxed_list (_("De-identification Preview"));
  gtk_box_append (GTK_BOX (box), GTK_WIDGET (self->preview));
  rr_upload_view_add_query_widgets (self, GTK_BOX (box), grid);
  update_upload (self);
}
