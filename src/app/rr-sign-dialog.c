/* rr-sign-dialog.c: the signature manifestation of 21 CFR Part 11 (11.50):
 * who signs (full name), when, and what the signature means, shown with
 * the whole read; the password re-entered. The outbox and the network
 * run on a worker with its own database connection. */
#include "rr-sign-dialog.h"
#include "rr-read-draft.h"
#include "rr-criteria.h"
#include "rr-response-text.h"
#include "rr-store.h"
#include "rr-sync.h"
#include "rr-session.h"

#include <glib/gi18n.h>
#include <json-glib/json-glib.h>
#include <string.h>

struct _RrSignDialog
{
  AdwWindow parent_instance;

  GtkLabel *signer;
  GtkLabel *time;
  GtkLabel *meaning_label;
  GtkLabel *rationale_label; /* an adjudication's, in its own row: it is no part
                              * of the meaning, which the server bounds */
  AdwPasswordEntryRow *password;
  GtkLabel *status;
  GtkButton *sign;
  GtkButton *cancel;
  GCancellable *cancellable;

  char *db_path;
  gint64 account;
  char *task_id;
  char *ca_file;
  char *read_json;
  char *meaning;
  char *chosen, *rationale;  /* an adjudication (NULL: a read) */
  char *body_json;           /* any other submission, without its signature */
  GtkLabel *summary;         /* what that submission says, for people */
  GtkLabel *heading;         /* over the read shown */
  gboolean busy;
};

enum
{
  SIGNAL_FINISHED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (RrSignDialog, rr_sign_dialog, ADW_TYPE_WINDOW)

/* What is signed, in the words of the messages: a read, an
 * adjudication, a QC decision or an answer to a query. */
typedef enum
{
  SIGNED_READ,
  SIGNED_ADJUDICATION,
  SIGNED_QC,
  SIGNED_QUERY,
} Signed;

static Signed
what_is_signed (RrSignDialog *self)
{
  g_autoptr (JsonNode) body = NULL;
  if (self->chosen)
    return SIGNED_ADJUDICATION;
  if (self->body_json == NULL)
    return SIGNED_READ;
  body = json_from_string (self->body_json, NULL);
  /* server-api.md: a QC decision has "decision", a query's answer
   * "response". */
  if (body && JSON_NODE_HOLDS_OBJECT (body) &&
      json_object_has_member (json_node_get_object (body), "response"))
    return SIGNED_QUERY;
  return SIGNED_QC;
}

static char *
refusal_text (Signed      what,
              const char *reason)
{
  /* A wrong password is the signer's to fix here, at once. */
  if (g_strcmp0 (reason, RR_SYNC_REFUSED_PASSWORD) == 0)
    switch (what)
      {
      case SIGNED_ADJUDICATION:
        return g_strdup (_("Wrong password: the adjudication is not signed. Enter your password "
                           "again."));
      case SIGNED_QC:
        return g_strdup (_("Wrong password: the QC decision is not signed. Enter your password "
                           "again."));
      case SIGNED_QUERY:
        return g_strdup (_("Wrong password: the answer to the query is not signed. Enter your "
                           "password again."));
      case SIGNED_READ:
      default:
        return g_strdup (_("Wrong password: the read is not signed. Enter your password "
                           "again."));
      }
  switch (what)
    {
    case SIGNED_ADJUDICATION:
      return g_strdup_printf (_("The server refused the adjudication: %s"), reason);
    case SIGNED_QC:
      return g_strdup_printf (_("The server refused the QC decision: %s"), reason);
    case SIGNED_QUERY:
      return g_strdup_printf (_("The server refused the answer to the query: %s"), reason);
    case SIGNED_READ:
    default:
      return g_strdup_printf (_("The server refused the read: %s"), reason);
    }
}

/* ---- who signs, on a worker ---- */

typedef struct
{
  char *db_path, *ca_file;
  gint64 account;
  char *password;     /* only for the submission */
  char *task_id;
  char *read_json;
  char *meaning;
  char *chosen, *rationale;
  char *body_json;
  /* results */
  char *name, *state, *message;
} Job;

static void
job_free (Job *j)
{
  g_free (j->db_path);
  g_free (j->ca_file);
  if (j->password)
    memset (j->password, 0, strlen (j->password));
  g_free (j->password);
  g_free (j->task_id);
  g_free (j->read_json);
  g_free (j->meaning);
  g_free (j->chosen);
  g_free (j->rationale);
  g_free (j->body_json);
  g_free (j->name);
  g_free (j->state);
  g_free (j->message);
  g_free (j);
}

/* The account's client, signed in with its kept token. */
static RrSyncClient *
client_for (RrStore  *store,
            Job      *j,
            char    **username,
            char    **user_json,
            GError  **error)
{
  g_autofree char *server = NULL;
  if (!rr_store_get_account (store, j->account, &server, username, user_json, error))
    return NULL;
  return rr_session_client_new (server, *username, j->ca_file);
}

static char *
display_name (const char *user_json)
{
  g_autoptr (JsonParser) p = json_parser_new ();
  if (user_json && json_parser_load_from_data (p, user_json, -1, NULL) &&
      JSON_NODE_HOLDS_OBJECT (json_parser_get_root (p)))
    {
      const char *n = json_object_get_string_member_with_default (
        json_node_get_object (json_parser_get_root (p)), "display_name", NULL);
      if (n && *n)
        return g_strdup (n);
    }
  return NULL;
}

static void
signer_thread (GTask        *task,
               gpointer      source,
               gpointer      data,
               GCancellable *cancellable)
{
  Job *j = data;
  g_autoptr (GError) error = NULL;
  g_autoptr (RrStore) store = rr_store_open (j->db_path, &error);
  g_autoptr (RrSyncClient) c = NULL;
  g_autofree char *user = NULL, *user_json = NULL;

  if (store == NULL || (c = client_for (store, j, &user, &user_json, &error)) == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  j->name = display_name (user_json);
  /* The dialog is open meanwhile: a refused connection ends the lookup at
   * once ("full name not known offline"), not after 20 s of retries. */
  rr_sync_client_set_interactive (c, TRUE);
  if (j->name == NULL)
    {
      /* Not kept yet: the server knows the full name. */
      g_autoptr (JsonNode) me = rr_sync_get_json (c, "/readroom/v1/me", NULL);
      if (me && JSON_NODE_HOLDS_OBJECT (me))
        {
          g_autoptr (JsonGenerator) g = json_generator_new ();
          g_autofree char *json = NULL;
          json_generator_set_root (g, me);
          json = json_generator_to_data (g, NULL);
          j->name = display_name (json);
          rr_store_account (store, rr_sync_client_get_server (c), user, json, NULL);
        }
    }
  j->message = g_strdup (user);
  g_task_return_boolean (task, TRUE);
}

static void
signer_done (GObject      *source,
             GAsyncResult *result,
             gpointer      data)
{
  RrSignDialog *self = RR_SIGN_DIALOG (source);
  Job *j = g_task_get_task_data (G_TASK (result));
  g_autoptr (GError) error = NULL;
  g_autofree char *text = NULL;
  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      gtk_label_set_text (self->signer, error->message);
      return;
    }
  if (j->name)
    text = g_strdup_printf (_("%s (user %s)"), j->name, j->message);
  else
    text = g_strdup_printf (_("user %s (full name not known offline)"), j->message);
  gtk_label_set_text (self->signer, text);
}

/* ---- signing and submitting, on a worker ---- */

static void
submit_thread (GTask        *task,
               gpointer      source,
               gpointer      data,
               GCancellable *cancellable)
{
  Job *j = data;
  g_autoptr (GError) error = NULL;
  g_autoptr (RrStore) store = rr_store_open (j->db_path, &error);
  g_autoptr (RrSyncClient) c = NULL;
  g_autoptr (JsonParser) p = json_parser_new ();
  g_autoptr (JsonNode) body = NULL;
  g_autofree char *user = NULL, *user_json = NULL, *key = NULL;

  if (store == NULL || (c = client_for (store, j, &user, &user_json, &error)) == NULL ||
      !json_parser_load_from_data (p, j->read_json, -1, &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  /* Offline means the outbox at once; its sender waits for the server. */
  rr_sync_client_set_interactive (c, TRUE);
  if (j->body_json)
    {
      /* A QC decision or another submission given whole: only the
       * signature is added. */
      g_autoptr (JsonParser) bp = json_parser_new ();
      JsonObject *sig = json_object_new ();
      if (!json_parser_load_from_data (bp, j->body_json, -1, &error) ||
          !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (bp)))
        {
          json_object_unref (sig);
          g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                                   _("The submission is not a JSON object"));
          return;
        }
      json_object_set_string_member (sig, "meaning", j->meaning);
      json_object_set_object_member (json_node_get_object (json_parser_get_root (bp)),
                                     "signature", sig);
      body = json_node_copy (json_parser_get_root (bp));
    }
  else if (j->chosen)
    {
      /* An adjudication: the choice and its rationale are the submission;
       * the chosen read was only shown. */
      JsonObject *o = json_object_new (), *sig = json_object_new ();
      json_object_set_string_member (o, "chosen", j->chosen);
      json_object_set_string_member (o, "rationale", j->rationale);
      json_object_set_string_member (sig, "meaning", j->meaning);
      json_object_set_object_member (o, "signature", sig);
      body = json_node_init_object (json_node_alloc (), o);
      json_object_unref (o);
    }
  else
    body = rr_read_submission_new (json_parser_get_root (p), j->meaning);
  key = rr_sync_submit (c, store, j->account, j->task_id, body, j->password, &error);
  if (key == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  if (!rr_sync_deliver (c, store, j->account, NULL, NULL, &error))
    {
      j->state = g_strdup ("pending");
      j->message = g_strdup (error->message);
      g_task_return_boolean (task, TRUE);
      return;
    }
  {
    g_autoptr (GPtrArray) all = rr_store_outbox_list (store, j->account, NULL, NULL);
    for (guint i = 0; all && i < all->len; i++)
      {
        RrStoreOutbox *o = all->pdata[i];
        if (g_str_equal (o->key, key))
          {
            j->state = g_strdup (o->state);
            j->message = g_strdup (o->last_error ? o->last_error : "");
          }
      }
  }
  if (j->state == NULL)
    j->state = g_strdup ("pending");
  g_task_return_boolean (task, TRUE);
}

static void
submit_done (GObject      *source,
             GAsyncResult *result,
             gpointer      data)
{
  RrSignDialog *self = RR_SIGN_DIALOG (source);
  Job *j = g_task_get_task_data (G_TASK (result));
  g_autoptr (GError) error = NULL;

  self->busy = FALSE;
  gtk_widget_set_sensitive (GTK_WIDGET (self->sign), TRUE);
  gtk_widget_set_sensitive (GTK_WIDGET (self->cancel), TRUE);
  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      g_autofree char *msg = g_strdup_printf (_("Not submitted: %s"), error->message);
      gtk_label_set_text (self->status, msg);
      return;
    }
  g_signal_emit (self, signals[SIGNAL_FINISHED], 0, j->state, j->message);
  if (g_str_equal (j->state, "refused"))
    {
      g_autofree char *msg = refusal_text (what_is_signed (self), j->message);
      gtk_label_set_text (self->status, msg);
      gtk_editable_set_text (GTK_EDITABLE (self->password), "");
      gtk_widget_grab_focus (GTK_WIDGET (self->password));
      return;
    }
  /* Signed: the workspace behind says what became of it (the receipt, or
   * that it waits in the outbox), so the dialog has done its part. */
  gtk_window_destroy (GTK_WINDOW (self));
}

static void
on_sign (RrSignDialog *self)
{
  g_autoptr (GTask) task = NULL;
  const char *password = gtk_editable_get_text (GTK_EDITABLE (self->password));
  Job *j;

  if (self->busy)
    return;
  if (*password == '\0')
    {
      gtk_label_set_text (self->status, _("Enter your password to sign"));
      gtk_widget_grab_focus (GTK_WIDGET (self->password));
      return;
    }
  j = g_new0 (Job, 1);
  j->db_path = g_strdup (self->db_path);
  j->ca_file = g_strdup (self->ca_file);
  j->account = self->account;
  j->password = g_strdup (password);
  j->task_id = g_strdup (self->task_id);
  j->read_json = g_strdup (self->read_json);
  j->meaning = g_strdup (self->meaning);
  j->chosen = g_strdup (self->chosen);
  j->rationale = g_strdup (self->rationale);
  j->body_json = g_strdup (self->body_json);
  self->busy = TRUE;
  gtk_widget_set_sensitive (GTK_WIDGET (self->sign), FALSE);
  gtk_widget_set_sensitive (GTK_WIDGET (self->cancel), FALSE);
  gtk_label_set_text (self->status, _("Signing and sending…"));
  task = g_task_new (self, self->cancellable, submit_done, NULL);
  g_task_set_task_data (task, j, (GDestroyNotify) job_free);
  g_task_run_in_thread (task, submit_thread);
}

/* ---- the read, for people ---- */

static GtkWidget *
cell (const char *text,
      gboolean    heading)
{
  GtkWidget *l = gtk_label_new (text);
  gtk_label_set_xalign (GTK_LABEL (l), 0);
  if (heading)
    gtk_widget_add_css_class (l, "heading");
  return l;
}

/* The read as the lesion form, the PDF and the SR give it: organs by
 * name, locations, every value in the same words (rr-response-text). */
static GtkWidget *
lesion_table (const RrRead *read)
{
  GtkWidget *grid = gtk_grid_new ();
  guint row = 1, n = read->timepoints->len;

  gtk_grid_set_column_spacing (GTK_GRID (grid), 12);
  gtk_grid_set_row_spacing (GTK_GRID (grid), 4);
  gtk_grid_attach (GTK_GRID (grid), cell (_("Lesion"), TRUE), 0, 0, 1, 1);
  gtk_grid_attach (GTK_GRID (grid), cell (_("Organ"), TRUE), 1, 0, 1, 1);
  gtk_grid_attach (GTK_GRID (grid), cell (_("Location"), TRUE), 2, 0, 1, 1);
  for (guint k = 0; k < n; k++)
    gtk_grid_attach (GTK_GRID (grid),
                     cell (((RrTimepoint *) read->timepoints->pdata[k])->id, TRUE), 3 + k, 0, 1,
                     1);
  for (guint s = 0; s < 3; s++)
    {
      GPtrArray *ls = s == 0 ? read->targets : s == 1 ? read->non_targets : read->new_lesions;
      for (guint i = 0; i < ls->len; i++, row++)
        {
          const char *id, *organ, *location;
          gboolean nodal;
          g_autofree char *organ_text = NULL;
          if (s == 0)
            {
              RrTargetLesion *l = ls->pdata[i];
              id = l->id, organ = l->organ, location = l->location, nodal = l->nodal;
            }
          else if (s == 1)
            {
              RrNonTargetLesion *l = ls->pdata[i];
              id = l->id, organ = l->organ, location = l->location, nodal = l->nodal;
            }
          else
            {
              RrNewLesion *l = ls->pdata[i];
              id = l->id, organ = l->organ, location = l->location, nodal = l->nodal;
            }
          organ_text = g_strdup_printf ("%s%s", rr_organ_words (organ),
                                        nodal ? _(" (nodal)") : "");
          gtk_grid_attach (GTK_GRID (grid), cell (id, FALSE), 0, row, 1, 1);
          gtk_grid_attach (GTK_GRID (grid), cell (organ_text, FALSE), 1, row, 1, 1);
          gtk_grid_attach (GTK_GRID (grid), cell (location ? location : "", FALSE), 2, row, 1,
                           1);
          for (guint k = 0; k < n; k++)
            {
              g_autofree char *v = NULL;
              if (s == 0)
                v = rr_meas_words (&((RrTargetLesion *) ls->pdata[i])->meas[k]);
              else if (s == 1)
                v = g_strdup (rr_nt_status_words (((RrNonTargetLesion *) ls->pdata[i])->status[k]));
              else
                {
                  RrNewLesion *l = ls->pdata[i];
                  /* Its size where it has one (iRECIST's new-lesion sum);
                   * else that it is there, from where it was first seen. */
                  if (k < l->timepoint)
                    v = g_strdup ("");
                  else if ((v = rr_meas_words (&l->meas[k])) == NULL && k == l->timepoint)
                    v = g_strdup (_("present"));
                  if (v && k == l->timepoint && l->equivocal)
                    {
                      g_autofree char *plain = g_steal_pointer (&v);
                      v = g_strdup_printf (_("%s, equivocal"), plain);
                    }
                }
              gtk_grid_attach (GTK_GRID (grid), cell (v ? v : "—", FALSE), 3 + k, row, 1, 1);
            }
        }
    }
  return grid;
}

/* ---- the window ---- */

static GtkWidget *
field (GtkWidget  *box,
       const char *title,
       const char *value)
{
  GtkWidget *row = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  GtkWidget *t = cell (title, TRUE), *v = cell (value, FALSE);
  gtk_label_set_wrap (GTK_LABEL (v), TRUE);
  gtk_label_set_selectable (GTK_LABEL (v), TRUE);
  gtk_widget_set_size_request (t, 90, -1);
  gtk_box_append (GTK_BOX (row), t);
  gtk_box_append (GTK_BOX (row), v);
  gtk_box_append (GTK_BOX (box), row);
  return v;
}

static void
rr_sign_dialog_dispose (GObject *object)
{
  RrSignDialog *self = RR_SIGN_DIALOG (object);
  g_cancellable_cancel (self->cancellable);
  G_OBJECT_CLASS (rr_sign_dialog_parent_class)->dispose (object);
}

static void
rr_sign_dialog_finalize (GObject *object)
{
  RrSignDialog *self = RR_SIGN_DIALOG (object);
  g_clear_object (&self->cancellable);
  g_free (self->db_path);
  g_free (self->task_id);
  g_free (self->ca_file);
  g_free (self->read_json);
  g_free (self->meaning);
  g_free (self->chosen);
  g_free (self->rationale);
  g_free (self->body_json);
  G_OBJECT_CLASS (rr_sign_dialog_parent_class)->finalize (object);
}

static void
rr_sign_dialog_class_init (RrSignDialogClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  object_class->dispose = rr_sign_dialog_dispose;
  object_class->finalize = rr_sign_dialog_finalize;
  /* A dialog to assistive technologies, as the sign-in dialog is a
   * window: left generic, GTK 4.8's AT-SPI bridge loses track of it when
   * it closes. */
  gtk_widget_class_set_accessible_role (GTK_WIDGET_CLASS (klass), GTK_ACCESSIBLE_ROLE_DIALOG);
  /* "finished" (state, message): what became of the submission. */
  signals[SIGNAL_FINISHED] = g_signal_new ("finished", G_TYPE_FROM_CLASS (klass),
                                           G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE,
                                           2, G_TYPE_STRING, G_TYPE_STRING);
}

static void
rr_sign_dialog_init (RrSignDialog *self)
{
  self->cancellable = g_cancellable_new ();
  self->meaning = g_strdup (_("I am the author of this read: it is my assessment of these "
                              "images, and I approve it"));
}

RrSignDialog *
rr_sign_dialog_new (GtkWindow  *parent,
                    const char *db_path,
                    gint64      account,
                    const char *task_id,
                    const char *ca_file,
                    const char *read_json)
{
  RrSignDialog *self = g_object_new (RR_TYPE_SIGN_DIALOG, "transient-for", parent, "modal", TRUE,
                                     "default-width", 640, "default-height", 600,
                                     "title", _("Sign and Submit"), NULL);
  GtkWidget *outer = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  GtkWidget *header = adw_header_bar_new ();
  GtkWidget *scroll = gtk_scrolled_window_new ();
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 12);
  GtkWidget *buttons = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  GtkWidget *cancel = gtk_button_new_with_mnemonic (_("_Cancel"));
  g_autoptr (JsonParser) p = json_parser_new ();
  g_autoptr (GTask) task = NULL;
  g_autoptr (RrRead) read = NULL;
  g_autoptr (GError) error = NULL;
  Job *j;

  self->db_path = g_strdup (db_path);
  self->account = account;
  self->task_id = g_strdup (task_id);
  self->ca_file = g_strdup (ca_file);
  self->read_json = g_strdup (read_json);

  adw_header_bar_set_show_end_title_buttons (ADW_HEADER_BAR (header), FALSE);
  gtk_box_append (GTK_BOX (outer), header);
  gtk_widget_set_margin_start (box, 18);
  gtk_widget_set_margin_end (box, 18);
  gtk_widget_set_margin_top (box, 12);
  gtk_widget_set_margin_bottom (box, 18);
  self->summary = GTK_LABEL (cell ("", FALSE));
  gtk_label_set_wrap (self->summary, TRUE);
  gtk_label_set_selectable (self->summary, TRUE);
  gtk_widget_set_visible (GTK_WIDGET (self->summary), FALSE);
  gtk_box_append (GTK_BOX (box), GTK_WIDGET (self->summary));
  /* A QC decision or a query's answer comes with the read "null". */
  if (json_parser_load_from_data (p, read_json, -1, NULL) &&
      JSON_NODE_HOLDS_OBJECT (json_parser_get_root (p)))
    read = rr_read_parse_node (json_parser_get_root (p), &error);
  if (read)
    {
      GtkWidget *table = lesion_table (read);
      g_autoptr (RrCriteriaResult) result = rr_criteria_evaluate (read, &error);
      g_autofree char *resp = result ? rr_response_summary (read, result) : NULL;
      gtk_accessible_update_property (GTK_ACCESSIBLE (table), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                      _("Lesion table"), -1);
      self->heading = GTK_LABEL (cell (_("The read"), TRUE));
      gtk_box_append (GTK_BOX (box), GTK_WIDGET (self->heading));
      gtk_box_append (GTK_BOX (box), table);
      /* The responses in the lesion form's words, from the same engine. */
      field (box, _("Responses"), resp ? resp : error->message);
    }
  self->rationale_label = GTK_LABEL (field (box, _("Rationale"), ""));
  gtk_widget_set_visible (gtk_widget_get_parent (GTK_WIDGET (self->rationale_label)), FALSE);
  gtk_box_append (GTK_BOX (box), gtk_separator_new (GTK_ORIENTATION_HORIZONTAL));
  self->signer = GTK_LABEL (field (box, _("Signed by"), _("looking up…")));
  /* The signature carries the time the server accepts it, its receipt's
   * (server-api.md, docs/sr.md): not this dialog's, nor the click's when
   * the read waits in the outbox. */
  self->time = GTK_LABEL (field (box, _("Time"),
                                 _("When the server receives it: at once if it is reachable, "
                                   "else when the outbox sends it (the receipt gives the "
                                   "time)")));
  self->meaning_label = GTK_LABEL (field (box, _("Meaning"), self->meaning));

  {
    /* As in the sign-in dialog: one boxed row, its title the field's name. */
    GtkWidget *list = gtk_list_box_new ();
    self->password = ADW_PASSWORD_ENTRY_ROW (adw_password_entry_row_new ());
    adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self->password), _("Password"));
    gtk_list_box_set_selection_mode (GTK_LIST_BOX (list), GTK_SELECTION_NONE);
    gtk_widget_add_css_class (list, "boxed-list");
    gtk_list_box_append (GTK_LIST_BOX (list), GTK_WIDGET (self->password));
    g_signal_connect_object (self->password, "entry-activated", G_CALLBACK (on_sign), self,
                             G_CONNECT_SWAPPED);
    gtk_box_append (GTK_BOX (box), list);
  }
  self->status = GTK_LABEL (cell ("", FALSE));
  gtk_label_set_wrap (self->status, TRUE);

  self->sign = GTK_BUTTON (gtk_button_new_with_mnemonic (_("_Sign and Submit")));
  gtk_widget_add_css_class (GTK_WIDGET (self->sign), "suggested-action");
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->sign), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Sign and submit"), -1);
  g_signal_connect_object (self->sign, "clicked", G_CALLBACK (on_sign), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (cancel, "clicked", G_CALLBACK (gtk_window_destroy), self,
                           G_CONNECT_SWAPPED);
  gtk_widget_set_halign (buttons, GTK_ALIGN_END);
  self->cancel = GTK_BUTTON (cancel);
  gtk_accessible_update_property (GTK_ACCESSIBLE (cancel), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Cancel"), -1);
  gtk_box_append (GTK_BOX (buttons), cancel);
  gtk_box_append (GTK_BOX (buttons), GTK_WIDGET (self->sign));

  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scroll), box);
  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (scroll), GTK_POLICY_NEVER,
                                  GTK_POLICY_AUTOMATIC);
  gtk_widget_set_vexpand (scroll, TRUE);
  gtk_box_append (GTK_BOX (outer), scroll);
  /* What became of the signing and the buttons stay under the scrolled
   * read, in sight however long the read is. */
  {
    GtkWidget *foot = gtk_box_new (GTK_ORIENTATION_VERTICAL, 12);
    gtk_widget_set_margin_start (foot, 18);
    gtk_widget_set_margin_end (foot, 18);
    gtk_widget_set_margin_top (foot, 12);
    gtk_widget_set_margin_bottom (foot, 18);
    gtk_box_append (GTK_BOX (foot), GTK_WIDGET (self->status));
    gtk_box_append (GTK_BOX (foot), buttons);
    gtk_box_append (GTK_BOX (outer), gtk_separator_new (GTK_ORIENTATION_HORIZONTAL));
    gtk_box_append (GTK_BOX (outer), foot);
  }
  adw_window_set_content (ADW_WINDOW (self), outer);
  gtk_widget_grab_focus (GTK_WIDGET (self->password));

  j = g_new0 (Job, 1);
  j->db_path = g_strdup (db_path);
  j->ca_file = g_strdup (ca_file);
  j->account = account;
  task = g_task_new (self, self->cancellable, signer_done, NULL);
  g_task_set_task_data (task, j, (GDestroyNotify) job_free);
  g_task_run_in_thread (task, signer_thread);
  return self;
}

void
rr_sign_dialog_set_adjudication (RrSignDialog *self,
                                 const char   *chosen,
                                 const char   *rationale,
                                 const char   *meaning)
{
  g_free (self->chosen);
  g_free (self->rationale);
  g_free (self->meaning);
  self->chosen = g_strdup (chosen);
  self->rationale = g_strdup (rationale);
  self->meaning = g_strdup (meaning);
  gtk_label_set_text (self->meaning_label, meaning);
  gtk_label_set_text (self->rationale_label, rationale);
  if (self->heading)
    {
      g_autofree char *h = g_strdup_printf (_("The adjudication: %s's read, chosen as final"),
                                            chosen);
      gtk_label_set_text (self->heading, h);
    }
  gtk_widget_set_visible (gtk_widget_get_parent (GTK_WIDGET (self->rationale_label)), TRUE);
}

void
rr_sign_dialog_set_submission (RrSignDialog *self,
                               const char   *body_json,
                               const char   *summary,
                               const char   *meaning)
{
  g_free (self->body_json);
  g_free (self->meaning);
  self->body_json = g_strdup (body_json);
  self->meaning = g_strdup (meaning);
  gtk_label_set_text (self->meaning_label, meaning);
  gtk_label_set_text (self->summary, summary ? summary : "");
  gtk_widget_set_visible (GTK_WIDGET (self->summary), summary && *summary);
}
