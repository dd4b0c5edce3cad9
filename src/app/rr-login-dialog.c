/* rr-login-dialog.c: the login, on a worker thread so the window never
 * freezes on a server that does not answer. */
#include "rr-login-dialog.h"
#include "rr-sync.h"

#include <glib/gi18n.h>
#include <string.h>

struct _RrLoginDialog
{
  AdwWindow parent_instance;

  AdwEntryRow *server_row;
  AdwEntryRow *user_row;
  AdwEntryRow *password_row;
  AdwEntryRow *ca_row;
  GtkButton *sign_in_button;
  GtkButton *cancel_button;
  GtkLabel *message;
  GtkSpinner *spinner;
  GCancellable *cancellable;
};

enum
{
  SIGNAL_SIGNED_IN,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (RrLoginDialog, rr_login_dialog, ADW_TYPE_WINDOW)

typedef struct
{
  char *server, *user, *password, *ca;
  char *token, *user_json;
} Login;

static void
login_free (gpointer data)
{
  Login *l = data;
  g_free (l->server);
  g_free (l->user);
  g_free (l->ca);
  if (l->password)
    memset (l->password, 0, strlen (l->password));
  g_free (l->password);
  g_free (l->token);
  g_free (l->user_json);
  g_free (l);
}

static void
login_thread (GTask        *task,
              gpointer      source,
              gpointer      data,
              GCancellable *cancellable)
{
  Login *l = data;
  g_autoptr (RrSyncClient) c = rr_sync_client_new (l->server, l->ca);
  GError *error = NULL;
  /* Someone waits on this dialog: a server that refuses the connection
   * is said at once, not after the sync's 20 s of retries. */
  rr_sync_client_set_interactive (c, TRUE);
  l->user_json = rr_sync_login (c, l->user, l->password, &error);
  if (l->user_json == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  l->token = g_strdup (rr_sync_client_get_token (c));
  g_task_return_boolean (task, TRUE);
}

/* An error in words a reader can act on. */
static char *
explain (const GError *error)
{
  if (g_error_matches (error, RR_SYNC_ERROR, RR_SYNC_ERROR_AUTH))
    return g_strdup (_("The user name or password is not right."));
  if (g_error_matches (error, RR_SYNC_ERROR, RR_SYNC_ERROR_TLS))
    return g_strdup_printf (_("The server's identity could not be verified, so Readroom did not "
                              "connect. Ask your trial's IT contact. (%s)"), error->message);
  if (g_error_matches (error, RR_SYNC_ERROR, RR_SYNC_ERROR_OFFLINE))
    return g_strdup_printf (_("The server cannot be reached. Check the address and your "
                              "network. (%s)"), error->message);
  return g_strdup_printf (_("The server answered in a way Readroom does not understand: %s"),
                          error->message);
}

static void
login_done (GObject      *source,
            GAsyncResult *result,
            gpointer      data)
{
  RrLoginDialog *self = RR_LOGIN_DIALOG (source);
  g_autoptr (GError) error = NULL;
  Login *l = g_task_get_task_data (G_TASK (result));

  gtk_spinner_stop (self->spinner);
  gtk_widget_set_visible (GTK_WIDGET (self->spinner), FALSE);
  gtk_widget_set_sensitive (GTK_WIDGET (self->sign_in_button), TRUE);
  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      g_autofree char *text = NULL;
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
      text = explain (error);
      gtk_label_set_text (self->message, text);
      gtk_widget_set_visible (GTK_WIDGET (self->message), TRUE);
      return;
    }
  g_signal_emit (self, signals[SIGNAL_SIGNED_IN], 0, l->server, l->user, l->token, l->user_json,
                 l->ca ? l->ca : "");
  gtk_window_close (GTK_WINDOW (self));
}

static void
on_sign_in (RrLoginDialog *self)
{
  g_autoptr (GTask) task = NULL;
  Login *l = g_new0 (Login, 1);
  /* One URL or several nodes' (issue 20), each https:// unless it says. */
  g_autofree char *server = rr_sync_servers_normalize (gtk_editable_get_text (GTK_EDITABLE (self->server_row)),
                                                       "https://");

  if (server == NULL)
    server = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->server_row))));
  l->server = g_steal_pointer (&server);
  l->user = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->user_row))));
  l->password = g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->password_row)));
  l->ca = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->ca_row))));
  if (*l->ca == '\0')
    g_clear_pointer (&l->ca, g_free);
  else if (!g_file_test (l->ca, G_FILE_TEST_IS_REGULAR))
    {
      gtk_label_set_text (self->message, _("The certificate authority file does not exist."));
      gtk_widget_set_visible (GTK_WIDGET (self->message), TRUE);
      login_free (l);
      return;
    }
  if (*l->user == '\0' || *l->password == '\0')
    {
      gtk_label_set_text (self->message, _("Enter your user name and password."));
      gtk_widget_set_visible (GTK_WIDGET (self->message), TRUE);
      login_free (l);
      return;
    }
  gtk_widget_set_visible (GTK_WIDGET (self->message), FALSE);
  gtk_widget_set_sensitive (GTK_WIDGET (self->sign_in_button), FALSE);
  gtk_widget_set_visible (GTK_WIDGET (self->spinner), TRUE);
  gtk_spinner_start (self->spinner);
  task = g_task_new (self, self->cancellable, login_done, NULL);
  g_task_set_task_data (task, l, login_free);
  g_task_run_in_thread (task, login_thread);
}

static void
rr_login_dialog_dispose (GObject *object)
{
  RrLoginDialog *self = RR_LOGIN_DIALOG (object);
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  gtk_widget_dispose_template (GTK_WIDGET (object), RR_TYPE_LOGIN_DIALOG);
  G_OBJECT_CLASS (rr_login_dialog_parent_class)->dispose (object);
}

static void
rr_login_dialog_class_init (RrLoginDialogClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = rr_login_dialog_dispose;
  signals[SIGNAL_SIGNED_IN] =
    g_signal_new ("signed-in", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 5, G_TYPE_STRING, G_TYPE_STRING, G_TYPE_STRING, G_TYPE_STRING,
                  G_TYPE_STRING);
  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/readroom/Readroom/rr-login-dialog.ui");
  gtk_widget_class_bind_template_child (widget_class, RrLoginDialog, server_row);
  gtk_widget_class_bind_template_child (widget_class, RrLoginDialog, user_row);
  gtk_widget_class_bind_template_child (widget_class, RrLoginDialog, password_row);
  gtk_widget_class_bind_template_child (widget_class, RrLoginDialog, ca_row);
  gtk_widget_class_bind_template_child (widget_class, RrLoginDialog, sign_in_button);
  gtk_widget_class_bind_template_child (widget_class, RrLoginDialog, cancel_button);
  gtk_widget_class_bind_template_child (widget_class, RrLoginDialog, message);
  gtk_widget_class_bind_template_child (widget_class, RrLoginDialog, spinner);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "window.close", NULL);
}

static void
rr_login_dialog_init (RrLoginDialog *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  self->cancellable = g_cancellable_new ();
  g_signal_connect_object (self->sign_in_button, "clicked", G_CALLBACK (on_sign_in), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->password_row, "entry-activated", G_CALLBACK (on_sign_in), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->cancel_button, "clicked", G_CALLBACK (gtk_window_close), self,
                           G_CONNECT_SWAPPED);
}

RrLoginDialog *
rr_login_dialog_new (GtkWindow  *parent,
                     const char *server,
                     const char *username,
                     const char *ca_file)
{
  RrLoginDialog *self = g_object_new (RR_TYPE_LOGIN_DIALOG, "transient-for", parent, NULL);
  if (ca_file)
    gtk_editable_set_text (GTK_EDITABLE (self->ca_row), ca_file);
  if (server)
    gtk_editable_set_text (GTK_EDITABLE (self->server_row), server);
  if (username)
    gtk_editable_set_text (GTK_EDITABLE (self->user_row), username);
  return self;
}
