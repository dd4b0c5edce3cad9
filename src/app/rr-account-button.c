/* rr-account-button.c: the person button. Signed out it is a plain "Sign
 * In" button; signed in, a menu button whose popover says who is signed in
 * (full name, user name, roles) and to which server, with Switch User and
 * Sign Out. Nothing here signs anyone out by itself: both are the window's
 * actions (win.switch-user, win.sign-out). */
#include "rr-account-button.h"
#include "rr-sync.h"
#include "rr-json.h"

#include <glib/gi18n.h>

struct _RrAccountButton
{
  GtkWidget parent_instance;

  GtkButton *sign_in;           /* shown when nobody is signed in */
  GtkMenuButton *person;        /* ...and this when someone is */
  GtkLabel *name_label, *user_label, *roles_label, *server_label;
  char *server;                 /* signed in to, or last used */
  char *user;                   /* signed in; NULL when nobody is */
  char *full_name;              /* from GET /me; NULL until it answers */
  GCancellable *cancellable;    /* the GET /me in flight */
};

G_DEFINE_FINAL_TYPE (RrAccountButton, rr_account_button, GTK_TYPE_WIDGET)

/* A role as the trial's people say it. */
static const char *
role_name (const char *role)
{
  if (g_strcmp0 (role, "reader") == 0)
    return _("Reader");
  if (g_strcmp0 (role, "adjudicator") == 0)
    return _("Adjudicator");
  if (g_strcmp0 (role, "qc") == 0)
    return _("QC reviewer");
  if (g_strcmp0 (role, "site") == 0)
    return _("Site");
  if (g_strcmp0 (role, "admin") == 0)
    return _("Administrator");
  return role;
}

/* "Reader in DEMO, Adjudicator in ONCO": the roles of the /me user object. */
static char *
roles_text (JsonObject *me)
{
  JsonArray *roles = rr_json_get_array (me, "roles");
  g_autoptr (GString) s = g_string_new (NULL);

  for (guint i = 0; roles && i < json_array_get_length (roles) && i < 32; i++)
    {
      JsonObject *r = rr_json_get_element (roles, i);
      const char *trial = r ? rr_json_get_string (r, "trial") : NULL;
      const char *role = r ? rr_json_get_string (r, "role") : NULL;
      if (role == NULL)
        continue;
      if (s->len)
        g_string_append (s, ", ");
      if (trial)
        /* TRANSLATORS: a role in a trial, e.g. "Reader in DEMO" */
        g_string_append_printf (s, _("%s in %s"), role_name (role), trial);
      else
        g_string_append (s, role_name (role));
    }
  return s->len ? g_string_free (g_steal_pointer (&s), FALSE) : NULL;
}

/* The server list, one URL a line (issue 20: several nodes). */
static char *
servers_text (const char *server)
{
  g_auto (GStrv) urls = g_strsplit (server ? server : "", ",", RR_SYNC_MAX_SERVERS);
  return g_strjoinv ("\n", urls);
}

/* The button's name and tooltip say who is signed in, and where. */
static void
update (RrAccountButton *self)
{
  g_autofree char *who = NULL, *servers = NULL, *name = NULL, *tip = NULL;
  gboolean signed_in = self->user != NULL;

  gtk_widget_set_visible (GTK_WIDGET (self->sign_in), !signed_in);
  gtk_widget_set_visible (GTK_WIDGET (self->person), signed_in);
  if (!signed_in)
    return;
  who = self->full_name ? g_strdup_printf ("%s (%s)", self->full_name, self->user)
                        : g_strdup (self->user);
  servers = servers_text (self->server);
  name = g_strdup_printf (_("Signed in as %s"), who);
  tip = g_strdup_printf (_("Signed in as %s to %s"), who, self->server);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->person),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, name,
                                  GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, tip, -1);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->person), tip);
  gtk_label_set_text (self->name_label, self->full_name ? self->full_name : self->user);
  gtk_label_set_text (self->user_label, self->user);
  gtk_widget_set_visible (GTK_WIDGET (self->user_label), self->full_name != NULL);
  gtk_label_set_text (self->server_label, servers);
}

typedef struct
{
  char *server, *token, *ca_file;
} Me;

static void
me_free (gpointer data)
{
  Me *m = data;
  g_free (m->server);
  g_free (m->token);
  g_free (m->ca_file);
  g_free (m);
}

static void
me_thread (GTask        *task,
           gpointer      source,
           gpointer      data,
           GCancellable *cancellable)
{
  Me *m = data;
  g_autoptr (RrSyncClient) c = rr_sync_client_new (m->server, m->ca_file);
  GError *error = NULL;
  JsonNode *me;

  rr_sync_client_set_token (c, m->token);
  /* A name for the button is not worth a long wait: offline, the user
   * name stays. */
  rr_sync_client_set_offline_timeout (c, 10);
  me = rr_sync_get_json (c, "/readroom/v1/me", &error);
  if (me == NULL)
    g_task_return_error (task, error);
  else if (!JSON_NODE_HOLDS_OBJECT (me))
    {
      json_node_unref (me);
      g_task_return_new_error (task, RR_SYNC_ERROR, RR_SYNC_ERROR_SERVER, "no user object");
    }
  else
    g_task_return_pointer (task, me, (GDestroyNotify) json_node_unref);
}

static void
me_done (GObject      *source,
         GAsyncResult *result,
         gpointer      data)
{
  RrAccountButton *self = RR_ACCOUNT_BUTTON (source);
  g_autoptr (JsonNode) me = g_task_propagate_pointer (G_TASK (result), NULL);
  g_autofree char *roles = NULL;
  const char *name;

  if (me == NULL || self->user == NULL)
    return;     /* offline, cancelled, or signed out meanwhile */
  name = rr_json_get_string (json_node_get_object (me), "display_name");
  g_free (self->full_name);
  /* JSON strings are UTF-8; a name longer than a header holds is cut. */
  self->full_name = name && *name ? g_utf8_substring (name, 0, MIN (g_utf8_strlen (name, -1), 80))
                                  : NULL;
  roles = roles_text (json_node_get_object (me));
  gtk_label_set_text (self->roles_label, roles ? roles : "");
  gtk_widget_set_visible (GTK_WIDGET (self->roles_label), roles != NULL);
  update (self);
}

void
rr_account_button_set_account (RrAccountButton *self,
                               const char      *server,
                               const char      *user,
                               const char      *token,
                               const char      *ca_file)
{
  g_autoptr (GTask) task = NULL;
  Me *m;

  g_return_if_fail (RR_IS_ACCOUNT_BUTTON (self));
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();
  g_free (self->server);
  self->server = g_strdup (server);
  g_free (self->user);
  self->user = g_strdup (user);
  g_clear_pointer (&self->full_name, g_free);
  gtk_widget_set_visible (GTK_WIDGET (self->roles_label), FALSE);
  update (self);
  if (token == NULL)
    return;
  m = g_new0 (Me, 1);
  m->server = g_strdup (server);
  m->token = g_strdup (token);
  m->ca_file = ca_file && *ca_file ? g_strdup (ca_file) : NULL;
  task = g_task_new (self, self->cancellable, me_done, NULL);
  g_task_set_task_data (task, m, me_free);
  g_task_run_in_thread (task, me_thread);
}

void
rr_account_button_sign_out (RrAccountButton *self)
{
  g_return_if_fail (RR_IS_ACCOUNT_BUTTON (self));
  g_cancellable_cancel (self->cancellable);
  gtk_menu_button_popdown (self->person);
  g_clear_pointer (&self->user, g_free);
  g_clear_pointer (&self->full_name, g_free);
  /* Nothing of who was signed in stays in the tree (blinding). */
  gtk_label_set_text (self->name_label, "");
  gtk_label_set_text (self->user_label, "");
  gtk_label_set_text (self->roles_label, "");
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->person),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, "",
                                  GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, "", -1);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->person), NULL);
  update (self);
}

const char *
rr_account_button_get_server (RrAccountButton *self,
                              const char      *fallback)
{
  g_return_val_if_fail (RR_IS_ACCOUNT_BUTTON (self), NULL);
  return self->server ? self->server : fallback;
}

void
rr_account_button_set_server (RrAccountButton *self,
                              const char      *server)
{
  g_return_if_fail (RR_IS_ACCOUNT_BUTTON (self));
  if (server == NULL || *server == '\0' || self->user)
    return;
  g_free (self->server);
  self->server = g_strdup (server);
}

gboolean
rr_account_button_other_than (RrAccountButton *self,
                              const char      *server,
                              const char      *user)
{
  g_return_val_if_fail (RR_IS_ACCOUNT_BUTTON (self), FALSE);
  return self->user && (g_strcmp0 (self->user, user) != 0 ||
                        g_strcmp0 (self->server, server) != 0);
}

static GtkLabel *
popover_label (GtkBox     *box,
               const char *style)
{
  GtkLabel *l = GTK_LABEL (gtk_label_new (NULL));
  gtk_label_set_xalign (l, 0);
  gtk_label_set_wrap (l, TRUE);
  gtk_label_set_wrap_mode (l, PANGO_WRAP_WORD_CHAR);
  gtk_label_set_max_width_chars (l, 40);
  if (style)
    gtk_widget_add_css_class (GTK_WIDGET (l), style);
  gtk_box_append (box, GTK_WIDGET (l));
  return l;
}

static void
popover_button (RrAccountButton *self,
                GtkBox          *box,
                const char      *label,
                const char      *action)
{
  GtkWidget *b = gtk_button_new_with_mnemonic (label);
  g_auto (GStrv) parts = g_strsplit (label, "_", -1);
  g_autofree char *name = g_strjoinv ("", parts);

  /* Named without the mnemonic's underscore (GTK 4.8 reads it aloud). */
  gtk_accessible_update_property (GTK_ACCESSIBLE (b), GTK_ACCESSIBLE_PROPERTY_LABEL, name, -1);
  gtk_label_set_xalign (GTK_LABEL (gtk_button_get_child (GTK_BUTTON (b))), 0);
  gtk_widget_add_css_class (b, "flat");
  gtk_actionable_set_action_name (GTK_ACTIONABLE (b), action);
  /* The popover goes before the action runs: a dialog then has the focus. */
  g_signal_connect_object (b, "clicked", G_CALLBACK (gtk_menu_button_popdown), self->person,
                           G_CONNECT_SWAPPED);
  gtk_box_append (box, b);
}

static void
rr_account_button_dispose (GObject *object)
{
  RrAccountButton *self = RR_ACCOUNT_BUTTON (object);
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_clear_pointer ((GtkWidget **) &self->sign_in, gtk_widget_unparent);
  g_clear_pointer ((GtkWidget **) &self->person, gtk_widget_unparent);
  G_OBJECT_CLASS (rr_account_button_parent_class)->dispose (object);
}

static void
rr_account_button_finalize (GObject *object)
{
  RrAccountButton *self = RR_ACCOUNT_BUTTON (object);
  g_free (self->server);
  g_free (self->user);
  g_free (self->full_name);
  G_OBJECT_CLASS (rr_account_button_parent_class)->finalize (object);
}

static void
rr_account_button_class_init (RrAccountButtonClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  object_class->dispose = rr_account_button_dispose;
  object_class->finalize = rr_account_button_finalize;
  gtk_widget_class_set_layout_manager_type (GTK_WIDGET_CLASS (klass), GTK_TYPE_BOX_LAYOUT);
}

static void
rr_account_button_init (RrAccountButton *self)
{
  GtkBox *box = GTK_BOX (gtk_box_new (GTK_ORIENTATION_VERTICAL, 2));
  GtkWidget *popover = gtk_popover_new ();

  self->cancellable = g_cancellable_new ();
  self->sign_in = GTK_BUTTON (gtk_button_new_from_icon_name ("avatar-default-symbolic"));
  gtk_actionable_set_action_name (GTK_ACTIONABLE (self->sign_in), "win.sign-in");
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->sign_in), _("Sign In to a Reading Server"));
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->sign_in),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, _("Sign In"), -1);
  gtk_widget_set_parent (GTK_WIDGET (self->sign_in), GTK_WIDGET (self));

  self->person = GTK_MENU_BUTTON (gtk_menu_button_new ());
  gtk_menu_button_set_icon_name (self->person, "avatar-default-symbolic");
  gtk_widget_set_visible (GTK_WIDGET (self->person), FALSE);
  gtk_widget_set_parent (GTK_WIDGET (self->person), GTK_WIDGET (self));

  gtk_widget_set_margin_top (GTK_WIDGET (box), 6);
  gtk_widget_set_margin_bottom (GTK_WIDGET (box), 6);
  gtk_widget_set_margin_start (GTK_WIDGET (box), 6);
  gtk_widget_set_margin_end (GTK_WIDGET (box), 6);
  self->name_label = popover_label (box, "heading");
  self->user_label = popover_label (box, "dim-label");
  self->roles_label = popover_label (box, NULL);
  gtk_widget_set_visible (GTK_WIDGET (self->roles_label), FALSE);
  {
    GtkLabel *caption = popover_label (box, "caption-heading");
    gtk_label_set_text (caption, _("Server"));
    gtk_widget_set_margin_top (GTK_WIDGET (caption), 6);
  }
  self->server_label = popover_label (box, "caption");
  gtk_box_append (box, gtk_separator_new (GTK_ORIENTATION_HORIZONTAL));
  popover_button (self, box, _("S_witch User…"), "win.switch-user");
  popover_button (self, box, _("Sign _Out"), "win.sign-out");
  gtk_popover_set_child (GTK_POPOVER (popover), GTK_WIDGET (box));
  gtk_menu_button_set_popover (self->person, popover);
}
