/* readroom-server.c: runs Orthanc with the Readroom plugin on a data
 * folder: writes the configuration, starts Orthanc, and reports ready only
 * once Orthanc's /plugins lists our plugin (a missing plugin file would
 * leave Orthanc running wide open). SIGTERM stops it cleanly.
 * --postgres URI puts Orthanc's index in PostgreSQL through Debian's
 * orthanc-postgresql and the plugin's own state in the same database
 * (issue 20); the files stay in the data folder. */
#include <curl/curl.h>
#include <errno.h>
#include <glib.h>
#include <glib-unix.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef RR_PLUGIN_DIR
#define RR_PLUGIN_DIR "/usr/lib/orthanc/plugins"
#endif
#define DICOMWEB_PLUGIN "/usr/share/orthanc/plugins/libOrthancDicomWeb.so"
#ifndef PG_INDEX_PLUGIN
#define PG_INDEX_PLUGIN "/usr/share/orthanc/plugins/libOrthancPostgreSQLIndex.so"
#endif
/* Far longer than any real URI; bounds what we copy into the config. */
#define MAX_URI_LEN 4096

static GPid orthanc_pid;
static gboolean stopping;

static char *
find_plugin (void)
{
  const char *env = g_getenv ("READROOM_PLUGIN");
  g_autofree char *self = g_file_read_link ("/proc/self/exe", NULL);
  g_autofree char *dir = self ? g_path_get_dirname (self) : NULL;
  char *beside = dir ? g_build_filename (dir, "libreadroom-orthanc.so", NULL) : NULL;

  if (env && g_file_test (env, G_FILE_TEST_IS_REGULAR))
    {
      g_free (beside);
      return g_strdup (env);
    }
  if (beside && g_file_test (beside, G_FILE_TEST_IS_REGULAR))
    return beside;
  g_free (beside);
  return g_build_filename (RR_PLUGIN_DIR, "libreadroom-orthanc.so", NULL);
}

/* A libpq connection URI (postgresql:// or postgres://), printable ASCII
 * only: it goes verbatim into the configuration Orthanc parses. */
static gboolean
valid_postgres_uri (const char *uri)
{
  size_t len = strlen (uri);
  if (len == 0 || len > MAX_URI_LEN)
    return FALSE;
  if (!g_str_has_prefix (uri, "postgresql://") && !g_str_has_prefix (uri, "postgres://"))
    return FALSE;
  for (size_t i = 0; i < len; i++)
    if ((unsigned char) uri[i] < 0x21 || (unsigned char) uri[i] > 0x7e)
      return FALSE;
  return TRUE;
}

static gboolean
write_config (const char *path,
              const char *data,
              const char *plugin,
              int         http_port,
              int         dicom_port,
              const char *postgres,
              GError    **error)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonGenerator) g = json_generator_new ();
  g_autoptr (JsonNode) root = NULL;
  g_autofree char *storage = g_build_filename (data, "storage", NULL);
  g_autofree char *index = g_build_filename (data, "index", NULL);
  g_autofree char *db = g_build_filename (data, "readroom.db", NULL);
  g_autofree char *text = NULL;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "Name");
  json_builder_add_string_value (b, "Readroom");
  json_builder_set_member_name (b, "StorageDirectory");
  json_builder_add_string_value (b, storage);
  json_builder_set_member_name (b, "IndexDirectory");
  json_builder_add_string_value (b, index);
  json_builder_set_member_name (b, "HttpPort");
  json_builder_add_int_value (b, http_port);
  /* Loopback clients only (Orthanc has no bind address): a deployment
   * puts TLS in front before it turns this on. */
  json_builder_set_member_name (b, "RemoteAccessAllowed");
  json_builder_add_boolean_value (b, FALSE);
  /* The plugin is the gate: bearer tokens must reach its filter. */
  json_builder_set_member_name (b, "AuthenticationEnabled");
  json_builder_add_boolean_value (b, FALSE);
  /* Orthanc's own error descriptions answer whoever passed the filter:
   * DICOMweb's "No series X in study Y" against "inexistent series X"
   * told a reader of one study which UIDs exist in the rest of the
   * archive. The plugin's errors carry their own bodies either way. */
  json_builder_set_member_name (b, "HttpDescribeErrors");
  json_builder_add_boolean_value (b, FALSE);
  json_builder_set_member_name (b, "KeepAlive");
  json_builder_add_boolean_value (b, TRUE);
  json_builder_set_member_name (b, "HttpThreadsCount");
  json_builder_add_int_value (b, 50);
  json_builder_set_member_name (b, "WebDavEnabled");
  json_builder_add_boolean_value (b, FALSE);
  json_builder_set_member_name (b, "StoreMD5ForAttachments");
  json_builder_add_boolean_value (b, TRUE);
  json_builder_set_member_name (b, "DicomServerEnabled");
  json_builder_add_boolean_value (b, dicom_port > 0);
  json_builder_set_member_name (b, "DicomPort");
  json_builder_add_int_value (b, dicom_port > 0 ? dicom_port : 4242);
  /* The DICOM port listens on every interface (Orthanc has no bind
   * address there either) and Orthanc's default lets any peer C-STORE:
   * an unauthenticated host on the network stored instances that no site
   * uploaded, unaudited, into any study whose UIDs it knew. Only the
   * modalities an admin registers (PUT /modalities/{name}, audited) may
   * store, from the host they were registered with; nobody may query or
   * retrieve over DICOM (the plugin cannot filter those). */
  json_builder_set_member_name (b, "DicomAlwaysAllowStore");
  json_builder_add_boolean_value (b, FALSE);
  json_builder_set_member_name (b, "DicomAlwaysAllowFind");
  json_builder_add_boolean_value (b, FALSE);
  json_builder_set_member_name (b, "DicomAlwaysAllowGet");
  json_builder_add_boolean_value (b, FALSE);
  json_builder_set_member_name (b, "DicomAlwaysAllowMove");
  json_builder_add_boolean_value (b, FALSE);
  json_builder_set_member_name (b, "DicomCheckModalityHost");
  json_builder_add_boolean_value (b, TRUE);
  json_builder_set_member_name (b, "StableAge");
  json_builder_add_int_value (b, 5);
  json_builder_set_member_name (b, "Plugins");
  json_builder_begin_array (b);
  json_builder_add_string_value (b, plugin);
  if (g_file_test (DICOMWEB_PLUGIN, G_FILE_TEST_IS_REGULAR))
    json_builder_add_string_value (b, DICOMWEB_PLUGIN);
  if (postgres)
    json_builder_add_string_value (b, PG_INDEX_PLUGIN);
  json_builder_end_array (b);
  if (postgres)
    {
      /* The index only: the files stay in StorageDirectory, a folder that
       * several nodes can share, where PostgreSQL large objects would put
       * terabytes of pixels in the database. */
      json_builder_set_member_name (b, "PostgreSQL");
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "EnableIndex");
      json_builder_add_boolean_value (b, TRUE);
      json_builder_set_member_name (b, "EnableStorage");
      json_builder_add_boolean_value (b, FALSE);
      json_builder_set_member_name (b, "ConnectionUri");
      json_builder_add_string_value (b, postgres);
      /* Several nodes on one database: the plugin's state is in it too,
       * so no node keeps one of its own (orthanc-postgresql supports
       * several writers). */
      json_builder_set_member_name (b, "Lock");
      json_builder_add_boolean_value (b, FALSE);
      json_builder_set_member_name (b, "MaximumConnectionRetries");
      json_builder_add_int_value (b, 10);
      json_builder_set_member_name (b, "ConnectionRetryInterval");
      json_builder_add_int_value (b, 1);
      json_builder_end_object (b);
    }
  json_builder_set_member_name (b, "DicomWeb");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "Enable");
  json_builder_add_boolean_value (b, TRUE);
  json_builder_set_member_name (b, "Root");
  json_builder_add_string_value (b, "/dicom-web/");
  json_builder_set_member_name (b, "EnableWado");
  json_builder_add_boolean_value (b, FALSE);
  json_builder_end_object (b);
  json_builder_set_member_name (b, "Readroom");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "Database");
  json_builder_add_string_value (b, db);
  if (postgres)
    {
      g_autofree char *node = g_strdup_printf ("%s-%d", g_get_host_name (), http_port);
      /* The plugin's state in the same database; the audit key and each
       * node's anchor in the storage folder the nodes share. */
      json_builder_set_member_name (b, "PostgreSQL");
      json_builder_add_string_value (b, postgres);
      json_builder_set_member_name (b, "SharedDirectory");
      json_builder_add_string_value (b, storage);
      json_builder_set_member_name (b, "Node");
      json_builder_add_string_value (b, node);
    }
  json_builder_end_object (b);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  json_generator_set_root (g, root);
  json_generator_set_pretty (g, TRUE);
  text = json_generator_to_data (g, NULL);
  return g_file_set_contents_full (path, text, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0600, error);
}

static size_t
collect (char *data, size_t size, size_t n, void *user)
{
  g_string_append_len (user, data, (gssize) (size * n));
  return size * n;
}

/* GET /plugins with the launcher's secret: 1 when it lists readroom, 0
 * when Orthanc answers without it, -1 while it does not answer yet. */
static int
plugin_listed (int         port,
               const char *token)
{
  CURL *curl = curl_easy_init ();
  g_autofree char *url = g_strdup_printf ("http://127.0.0.1:%d/plugins", port);
  g_autofree char *header = g_strdup_printf ("X-Readroom-Launcher: %s", token);
  struct curl_slist *headers = curl_slist_append (NULL, header);
  g_autoptr (GString) body = g_string_new (NULL);
  long status = 0;
  CURLcode rc;
  int result = -1;

  curl_easy_setopt (curl, CURLOPT_URL, url);
  curl_easy_setopt (curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt (curl, CURLOPT_WRITEFUNCTION, collect);
  curl_easy_setopt (curl, CURLOPT_WRITEDATA, body);
  curl_easy_setopt (curl, CURLOPT_TIMEOUT, 5L);
  curl_easy_setopt (curl, CURLOPT_NOPROXY, "*");
  rc = curl_easy_perform (curl);
  if (rc == CURLE_OK)
    {
      curl_easy_getinfo (curl, CURLINFO_RESPONSE_CODE, &status);
      if (status == 200)
        result = strstr (body->str, "\"readroom\"") != NULL ? 1 : 0;
      else
        result = 0;  /* answered, but not as it should: refuse */
    }
  curl_slist_free_all (headers);
  curl_easy_cleanup (curl);
  return result;
}

static gboolean
on_signal (gpointer data)
{
  stopping = TRUE;
  if (orthanc_pid > 0)
    kill (orthanc_pid, SIGTERM);
  return G_SOURCE_CONTINUE;
}

static void
on_child_exit (GPid     pid,
               gint     status,
               gpointer data)
{
  GMainLoop *loop = data;
  if (!stopping)
    g_printerr ("readroom-server: Orthanc stopped (status %d)\n", status);
  orthanc_pid = 0;
  g_spawn_close_pid (pid);
  g_main_loop_quit (loop);
}

int
main (int argc, char **argv)
{
  g_autofree char *data = NULL, *postgres = NULL;
  int http_port = 8042, dicom_port = 4242;
  GOptionEntry entries[] = {
    { "data", 0, 0, G_OPTION_ARG_FILENAME, &data, "Data folder (created)", "DIR" },
    { "http-port", 0, 0, G_OPTION_ARG_INT, &http_port, "HTTP port on 127.0.0.1 (8042)", "N" },
    { "dicom-port", 0, 0, G_OPTION_ARG_INT, &dicom_port, "DICOM port (4242; 0: off)", "N" },
    { "postgres", 0, 0, G_OPTION_ARG_STRING, &postgres,
      "Orthanc's index in PostgreSQL (libpq URI; default: SQLite in DIR)", "URI" },
    { NULL }
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new (NULL);
  g_autoptr (GError) error = NULL;
  g_autofree char *plugin = NULL, *config = NULL, *token = NULL;
  g_autoptr (GMainLoop) loop = NULL;
  g_auto (GStrv) env = NULL;
  const char *orthanc = g_getenv ("READROOM_ORTHANC");
  unsigned char raw[32];
  char hex[65];
  int listed = -1;

  g_option_context_set_summary (ctx, "Runs Orthanc with the Readroom plugin on 127.0.0.1.");
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      g_printerr ("readroom-server: %s\n", error->message);
      return 2;
    }
  if (data == NULL || http_port <= 0 || http_port > 65535 || dicom_port < 0 || dicom_port > 65535)
    {
      g_printerr ("readroom-server: --data DIR is required; ports are 1-65535 (--dicom-port 0: off)\n");
      return 2;
    }
  if (postgres && !valid_postgres_uri (postgres))
    {
      g_printerr ("readroom-server: --postgres wants a postgresql:// URI of printable "
                  "characters, at most %d\n", MAX_URI_LEN);
      return 2;
    }
  if (postgres && !g_file_test (PG_INDEX_PLUGIN, G_FILE_TEST_IS_REGULAR))
    {
      g_printerr ("readroom-server: --postgres needs %s (Debian's orthanc-postgresql)\n",
                  PG_INDEX_PLUGIN);
      return 1;
    }
  if (sodium_init () < 0 || curl_global_init (CURL_GLOBAL_DEFAULT) != CURLE_OK)
    return 1;
  if (!g_path_is_absolute (data))
    {
      g_autofree char *cwd = g_get_current_dir ();
      char *abs = g_build_filename (cwd, data, NULL);
      g_free (data);
      data = abs;
    }
  if (g_mkdir_with_parents (data, 0700) != 0)
    {
      g_printerr ("readroom-server: cannot create %s: %s\n", data, g_strerror (errno));
      return 1;
    }
  {
    /* With --postgres the plugin keeps its audit key there from the
     * start, before Orthanc would make the folder. */
    g_autofree char *storage = g_build_filename (data, "storage", NULL);
    if (postgres && g_mkdir_with_parents (storage, 0700) != 0)
      {
        g_printerr ("readroom-server: cannot create %s: %s\n", storage, g_strerror (errno));
        return 1;
      }
  }
  plugin = find_plugin ();
  if (!g_file_test (plugin, G_FILE_TEST_IS_REGULAR))
    {
      g_printerr ("readroom-server: the plugin %s is missing; not starting an open Orthanc\n",
                  plugin);
      return 1;
    }
  config = g_build_filename (data, "orthanc.json", NULL);
  if (!write_config (config, data, plugin, http_port, dicom_port, postgres, &error))
    {
      g_printerr ("readroom-server: %s\n", error->message);
      return 1;
    }

  /* A secret for this run: it lets us, and only us, read /plugins. */
  randombytes_buf (raw, sizeof raw);
  sodium_bin2hex (hex, sizeof hex, raw, sizeof raw);
  token = g_strdup (hex);
  env = g_get_environ ();
  env = g_environ_setenv (env, "READROOM_LAUNCHER_TOKEN", token, TRUE);
  {
    const char *args[] = { orthanc ? orthanc : "Orthanc", config, NULL };
    if (!g_spawn_async (data, (char **) args, env,
                        G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL, &orthanc_pid,
                        &error))
      {
        g_printerr ("readroom-server: cannot start Orthanc: %s\n", error->message);
        return 1;
      }
  }
  /* The plugin must be listed before anyone is told the server is up. */
  for (int i = 0; i < 600 && listed < 0; i++)
    {
      int status;
      if (waitpid (orthanc_pid, &status, WNOHANG) == orthanc_pid)
        {
          g_printerr ("readroom-server: Orthanc exited while starting; see its log above\n");
          return 1;
        }
      listed = plugin_listed (http_port, token);
      if (listed < 0)
        g_usleep (100 * 1000);
    }
  if (listed != 1)
    {
      g_printerr ("readroom-server: Orthanc %s the Readroom plugin; stopping it\n",
                  listed == 0 ? "runs without" : "did not start with");
      kill (orthanc_pid, SIGTERM);
      waitpid (orthanc_pid, NULL, 0);
      return 1;
    }
  /* The handlers before "ready": a SIGTERM sent the moment it is read
   * must stop Orthanc too, not kill this process and leave it running. */
  loop = g_main_loop_new (NULL, FALSE);
  g_unix_signal_add (SIGTERM, on_signal, NULL);
  g_unix_signal_add (SIGINT, on_signal, NULL);
  printf ("ready http://127.0.0.1:%d\n", http_port);
  fflush (stdout);
  g_child_watch_add (orthanc_pid, on_child_exit, loop);
  g_main_loop_run (loop);
  curl_global_cleanup ();
  return stopping ? 0 : 1;
}
