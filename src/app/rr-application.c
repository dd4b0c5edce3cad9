/* rr-application.c: one window per activation; `readroom FOLDER` opens
 * the folder; app-wide actions (about, shortcuts, quit). */
#include "rr-application.h"
#include "rr-frame-pool.h"
#include "rr-frame-sync.h"
#include "rr-heap.h"
#include "rr-loop-gate.h"
#include "rr-gl-probe.h"
#include "rr-window.h"
#include "rr-dicom.h"
#include "rr-watchdog.h"

#include <glib/gi18n.h>

struct _RrApplication
{
  AdwApplication parent_instance;
  char *server;     /* --server: the session kept for --user opens its worklist */
  char *user;
};

G_DEFINE_FINAL_TYPE (RrApplication, rr_application, ADW_TYPE_APPLICATION)

/* The heap a task's page and its first frames will take: about six
 * frames of a window as large as its monitor (measured: docs/bench.md).
 * The window itself is not laid out yet at its first frame. */
static gsize
heap_to_warm (GtkWidget *window)
{
  GdkSurface *surface = gtk_native_get_surface (GTK_NATIVE (window));
  GdkMonitor *monitor = surface ? gdk_display_get_monitor_at_surface (
                                    gtk_widget_get_display (window), surface) : NULL;
  GdkRectangle area = { 0, 0, 1920, 1080 };
  int scale = 1;

  if (monitor != NULL)
    {
      gdk_monitor_get_geometry (monitor, &area);
      scale = gdk_monitor_get_scale_factor (monitor);
    }
  return 6 * 4 * (gsize) area.width * area.height * scale * scale;
}

/* The second frame begins once the first is drawn. */
static gboolean
second_frame (GtkWidget     *widget,
              GdkFrameClock *clock,
              gpointer       data)
{
  guint *frames = data;
  if (++*frames == 1)
    {
      GskRenderer *renderer = gtk_native_get_renderer (GTK_NATIVE (widget));
      g_autofree char *line =
        g_strdup_printf ("renderer %s; %s", renderer ? G_OBJECT_TYPE_NAME (renderer) : "none",
                         rr_gl_probe_summary ());
      rr_watchdog_log (line);
      rr_frame_pool_hold (GTK_WINDOW (widget));
      rr_heap_warm (heap_to_warm (widget));
      rr_loop_gate_watch ();
      rr_watchdog_watch_frames (widget);
    }
  if (*frames < 2)
    return G_SOURCE_CONTINUE;
  rr_watchdog_started ();
  return G_SOURCE_REMOVE;
}

static void
present (GtkWindow *win)
{
  static guint frames;
  static gboolean watching;
  gtk_window_present (win);
  if (watching)
    return;
  watching = TRUE;
  if (rr_frame_sync_fit_display (win))
    rr_watchdog_log ("frame synchronisation off: no window manager on the display");
  gtk_widget_add_tick_callback (GTK_WIDGET (win), second_frame, &frames, NULL);
}

static void
rr_application_activate (GApplication *app)
{
  GtkWindow *win = gtk_application_get_active_window (GTK_APPLICATION (app));
  if (win == NULL)
    {
      RrApplication *self = RR_APPLICATION (app);
      win = GTK_WINDOW (rr_window_new (ADW_APPLICATION (app)));
      if (self->server && self->user)
        rr_window_use_account (RR_WINDOW (win), self->server, self->user);
    }
  present (win);
}

static int
rr_application_handle_local_options (GApplication *app,
                                     GVariantDict *options)
{
  RrApplication *self = RR_APPLICATION (app);
  g_variant_dict_lookup (options, "server", "s", &self->server);
  g_variant_dict_lookup (options, "user", "s", &self->user);
  return -1;
}

static void
rr_application_open (GApplication  *app,
                     GFile        **files,
                     int            n_files,
                     const char    *hint)
{
  RrWindow *win = RR_WINDOW (gtk_application_get_active_window (GTK_APPLICATION (app)));
  if (win == NULL)
    win = rr_window_new (ADW_APPLICATION (app));
  present (GTK_WINDOW (win));
  if (n_files > 0)
    rr_window_open_folder (win, files[0]);
}

static void
about_action (GSimpleAction *action,
              GVariant      *param,
              gpointer       user_data)
{
  GtkApplication *app = user_data;
  const char *developers[] = { "Readroom developers", NULL };
  GtkWidget *about = adw_about_window_new ();
  gtk_window_set_transient_for (GTK_WINDOW (about), gtk_application_get_active_window (app));
  g_object_set (about,
                "application-name", _("Readroom"),
                "application-icon", RR_APP_ID,
                "version", PACKAGE_VERSION,
                "developers", developers,
                "license-type", GTK_LICENSE_GPL_3_0,
                "comments", _("Clinical-trial imaging reader workstation"),
                NULL);
  gtk_window_present (GTK_WINDOW (about));
}

/* The shortcuts window exists only while it is shown: closing destroys
 * it. GTK's own help overlay (a gtk/help-overlay.ui resource) is built,
 * hidden, with the main window and stays among the toplevels without an
 * AT-SPI object path; GTK 4.8's bridge, asked for a toplevel past the
 * shown ones (a screen reader that counted them while a file chooser was
 * open, asking after it closed), answers with the last toplevel's path,
 * NULL for that window, and the application crashes. */
static void
shortcuts_action (GSimpleAction *action,
                  GVariant      *param,
                  gpointer       user_data)
{
  g_autoptr (GtkBuilder) builder =
    gtk_builder_new_from_resource ("/org/readroom/Readroom/help-overlay.ui");
  GtkWindow *win = GTK_WINDOW (gtk_builder_get_object (builder, "help_overlay"));
  gtk_window_set_transient_for (win, gtk_application_get_active_window (user_data));
  gtk_window_set_hide_on_close (win, FALSE);
  gtk_window_present (win);
}

static void
quit_action (GSimpleAction *action,
             GVariant      *param,
             gpointer       user_data)
{
  g_application_quit (G_APPLICATION (user_data));
}

static void
rr_application_startup (GApplication *app)
{
  static const GActionEntry entries[] = {
    { "about", about_action },
    { "quit", quit_action },
    { "shortcuts", shortcuts_action },
  };
  const char *quit_accels[] = { "<Primary>q", NULL };
  const char *shortcuts_accels[] = { "<Primary>question", NULL };
  g_autoptr (GtkCssProvider) css = gtk_css_provider_new ();

  /* First: a stall while starting up counts as much as any other. */
  rr_watchdog_start ();
  G_APPLICATION_CLASS (rr_application_parent_class)->startup (app);
  /* Before the first window is realized: GSK picks its renderer then. */
  rr_gl_probe_choose_renderer (gdk_display_get_default ());
  rr_dicom_init ();
  g_action_map_add_action_entries (G_ACTION_MAP (app), entries, G_N_ELEMENTS (entries), app);
  gtk_application_set_accels_for_action (GTK_APPLICATION (app), "app.quit", quit_accels);
  gtk_application_set_accels_for_action (GTK_APPLICATION (app), "app.shortcuts",
                                         shortcuts_accels);
  gtk_css_provider_load_from_resource (css, "/org/readroom/Readroom/style.css");
  gtk_style_context_add_provider_for_display (gdk_display_get_default (),
                                              GTK_STYLE_PROVIDER (css),
                                              GTK_STYLE_PROVIDER_PRIORITY_APPLICATION);
}

static void
rr_application_class_init (RrApplicationClass *klass)
{
  GApplicationClass *app_class = G_APPLICATION_CLASS (klass);
  app_class->activate = rr_application_activate;
  app_class->open = rr_application_open;
  app_class->startup = rr_application_startup;
  app_class->handle_local_options = rr_application_handle_local_options;
}

static void
rr_application_init (RrApplication *self)
{
  g_application_add_main_option (G_APPLICATION (self), "server", 0, 0, G_OPTION_ARG_STRING,
                                 _("The reading server (with --user: open its worklist with the "
                                   "session kept for that user)"), "URL");
  g_application_add_main_option (G_APPLICATION (self), "user", 0, 0, G_OPTION_ARG_STRING,
                                 _("The user name on that server"), "NAME");
}

RrApplication *
rr_application_new (void)
{
  return g_object_new (RR_TYPE_APPLICATION,
                       "application-id", RR_APP_ID,
                       "flags", G_APPLICATION_HANDLES_OPEN | G_APPLICATION_NON_UNIQUE,
                       "resource-base-path", "/org/readroom/Readroom",
                       NULL);
}
