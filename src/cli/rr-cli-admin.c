/* rr-cli-admin.c: readroom-cli admin: trial administration against a
 * readroom-server over its API: users, trials, members, uploading a
 * timepoint's studies and linking them, export. Passwords come from the
 * environment or a prompt, never from the command line. */
#include "rr-cli.h"
#include "rr-qc-protocol.h"
#include "rr-sync.h"

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

/* Requests go through the sync client: the same transport, certificate
 * checks and error words as the workstation. */
typedef RrSyncClient Client;

static GBytes *
call (Client      *c,
      const char  *method,
      const char  *path,
      const void  *body,
      gsize        size,
      const char  *content_type,
      long        *status,
      GError     **error)
{
  return rr_sync_request (c, method, path, body, size, content_type, NULL, status, error);
}

/* The server's error code ("not_found"), or NULL. */
static char *
error_code (GBytes *body)
{
  g_autoptr (JsonParser) p = json_parser_new ();
  gsize n;
  const char *data = g_bytes_get_data (body, &n);
  JsonObject *o;
  if (!json_parser_load_from_data (p, data, (gssize) n, NULL) ||
      !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (p)))
    return NULL;
  o = json_node_get_object (json_parser_get_root (p));
  if (!json_object_has_member (o, "error") ||
      !JSON_NODE_HOLDS_OBJECT (json_object_get_member (o, "error")))
    return NULL;
  return g_strdup (json_object_get_string_member_with_default (
    json_object_get_object_member (o, "error"), "code", NULL));
}

/* The server's error message, or the body as text. */
static char *
error_text (GBytes *body)
{
  g_autoptr (JsonParser) p = json_parser_new ();
  gsize n;
  const char *data = g_bytes_get_data (body, &n);
  if (json_parser_load_from_data (p, data, (gssize) n, NULL) &&
      JSON_NODE_HOLDS_OBJECT (json_parser_get_root (p)))
    {
      JsonObject *o = json_node_get_object (json_parser_get_root (p));
      if (json_object_has_member (o, "error") &&
          JSON_NODE_HOLDS_OBJECT (json_object_get_member (o, "error")))
        return g_strdup (json_object_get_string_member_with_default (
          json_object_get_object_member (o, "error"), "message", "error"));
    }
  return g_strndup (data, MIN (n, 500));
}

/* Why the server did not do it, in an administrator's words: @missing
 * ("no user 'nobody'") for a 404 not_found, which names no resource
 * (server-api.md), else the server's own message. */
static void
say_refusal (long        status,
             GBytes     *body,
             const char *missing)
{
  g_autofree char *code = error_code (body);
  g_autofree char *why = error_text (body);
  if (status == 404 && missing && g_strcmp0 (code, "not_found") == 0)
    g_printerr ("readroom-cli admin: %s\n", missing);
  else if (status == 401)
    g_printerr ("readroom-cli admin: the server ended the session; run the command again\n");
  else if (code)
    /* The reason first; the code and status after it, for scripts and
     * for reports to whoever runs the server. */
    g_printerr ("readroom-cli admin: %s (%s, HTTP %ld)\n", why, code, status);
  else
    g_printerr ("readroom-cli admin: the server answered %ld: %s\n", status, why);
}

/* The server could not be reached, said once (an interactive command does
 * not wait for it to come back). */
static void
say_unreachable (GError *error)
{
  g_printerr ("readroom-cli admin: %s. Nothing was changed.\n", error->message);
}

/* A JSON call that must answer @expect; says why not (@missing: what a
 * 404 means on this route). */
static JsonNode *
call_json (Client     *c,
           const char *method,
           const char *path,
           const char *json,
           long        expect,
           const char *missing)
{
  g_autoptr (GError) error = NULL;
  long status = 0;
  g_autoptr (GBytes) body = call (c, method, path, json, json ? strlen (json) : 0, NULL, &status,
                                  &error);
  g_autoptr (JsonParser) p = json_parser_new ();
  if (body == NULL)
    {
      say_unreachable (error);
      return NULL;
    }
  if (status != expect)
    {
      say_refusal (status, body, missing);
      return NULL;
    }
  if (g_bytes_get_size (body) == 0)
    return json_node_new (JSON_NODE_NULL);
  if (!json_parser_load_from_data (p, g_bytes_get_data (body, NULL),
                                   (gssize) g_bytes_get_size (body), NULL))
    return json_node_new (JSON_NODE_NULL);
  return json_node_copy (json_parser_get_root (p));
}

static char *
prompt_password (const char *what)
{
  struct termios old, quiet;
  char buf[1024];
  FILE *tty = fopen ("/dev/tty", "r+");
  gboolean echo_off;

  if (tty == NULL)
    return NULL;
  fprintf (tty, "%s: ", what);
  fflush (tty);
  echo_off = tcgetattr (fileno (tty), &old) == 0;
  if (echo_off)
    {
      quiet = old;
      quiet.c_lflag &= ~(tcflag_t) ECHO;
      tcsetattr (fileno (tty), TCSAFLUSH, &quiet);
    }
  if (fgets (buf, sizeof buf, tty) == NULL)
    buf[0] = '\0';
  if (echo_off)
    tcsetattr (fileno (tty), TCSAFLUSH, &old);
  fprintf (tty, "\n");
  fclose (tty);
  buf[strcspn (buf, "\n")] = '\0';
  return g_strdup (buf);
}

/* A password from @env, else from a prompt on the terminal. */
static char *
password_from (const char *env,
               const char *what)
{
  const char *v = g_getenv (env);
  if (v && *v)
    return g_strdup (v);
  return prompt_password (what);
}

static gboolean
login (Client     *c,
       const char *user)
{
  g_autofree char *password = password_from ("READROOM_PASSWORD", "Password");
  g_autofree char *user_json = NULL;
  g_autoptr (GError) error = NULL;

  if (password == NULL)
    {
      g_printerr ("readroom-cli admin: set READROOM_PASSWORD or run it on a terminal\n");
      return FALSE;
    }
  user_json = rr_sync_login (c, user, password, &error);
  memset (password, 0, strlen (password));
  if (user_json == NULL && g_error_matches (error, RR_SYNC_ERROR, RR_SYNC_ERROR_OFFLINE))
    {
      say_unreachable (error);
      return FALSE;
    }
  if (user_json == NULL)
    {
      g_printerr ("readroom-cli admin: %s\n", error->message);
      return FALSE;
    }
  return TRUE;
}

static char *
to_json (JsonBuilder *b)
{
  g_autoptr (JsonGenerator) g = json_generator_new ();
  g_autoptr (JsonNode) root = json_builder_get_root (b);
  json_generator_set_root (g, root);
  return json_generator_to_data (g, NULL);
}

static void
print_node (JsonNode *n)
{
  g_autoptr (JsonGenerator) g = json_generator_new ();
  g_autofree char *text = NULL;
  json_generator_set_root (g, n);
  json_generator_set_pretty (g, TRUE);
  text = json_generator_to_data (g, NULL);
  g_print ("%s\n", text);
}

static char *read_protocol (const char *file);

/* ---- commands ---- */

static int
user_add (Client *c, int argc, char **argv)
{
  g_autofree char *display = NULL, *password = NULL, *body = NULL;
  gboolean admin = FALSE;
  GOptionEntry entries[] = {
    { "display-name", 0, 0, G_OPTION_ARG_STRING, &display, "Name shown to people", "TEXT" },
    { "admin", 0, 0, G_OPTION_ARG_NONE, &admin, "Make the user an administrator", NULL },
    { NULL }
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("NAME");
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonNode) answer = NULL;

  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error) || argc != 2)
    return rr_cli_usage_error ("admin user add", error ? error->message : "one user name");
  password = password_from ("READROOM_NEW_PASSWORD", "New user's password");
  if (password == NULL || strlen (password) < 8)
    {
      g_printerr ("readroom-cli admin: the new password (READROOM_NEW_PASSWORD or the prompt) "
                  "needs at least 8 characters\n");
      return RR_EXIT_INPUT;
    }
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "username");
  json_builder_add_string_value (b, argv[1]);
  json_builder_set_member_name (b, "password");
  json_builder_add_string_value (b, password);
  json_builder_set_member_name (b, "display_name");
  json_builder_add_string_value (b, display ? display : argv[1]);
  json_builder_set_member_name (b, "admin");
  json_builder_add_boolean_value (b, admin);
  json_builder_end_object (b);
  body = to_json (b);
  answer = call_json (c, "POST", "/readroom/v1/users", body, 201, NULL);
  if (answer == NULL)
    return RR_EXIT_INPUT;
  print_node (answer);
  return RR_EXIT_OK;
}

/* user disable NAME / user enable NAME: a disabled user's sessions end and
 * their open reads pass to other readers, or wait unassigned for
 * `task reassign` when nobody can take one. */
static int
user_set_disabled (Client   *c,
                   int       argc,
                   char    **argv,
                   gboolean  disabled)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonNode) answer = NULL;
  g_autofree char *body = NULL, *path = NULL, *escaped = NULL, *missing = NULL;

  if (argc != 2)
    return rr_cli_usage_error (disabled ? "admin user disable" : "admin user enable",
                               "one user name");
  missing = g_strdup_printf ("no user '%s'", argv[1]);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "disabled");
  json_builder_add_boolean_value (b, disabled);
  json_builder_end_object (b);
  body = to_json (b);
  escaped = g_uri_escape_string (argv[1], NULL, FALSE);
  path = g_strdup_printf ("/readroom/v1/users/%s", escaped);
  answer = call_json (c, "PUT", path, body, 200, missing);
  if (answer == NULL)
    return RR_EXIT_INPUT;
  if (disabled)
    g_print ("User '%s' is disabled: their sessions ended, and their open reads passed to other "
             "readers (or wait, unassigned, for `task reassign`).\n", argv[1]);
  else
    g_print ("User '%s' is enabled: they can sign in again.\n", argv[1]);
  return RR_EXIT_OK;
}

/* 0 when the trial exists, else says it does not (or why it could not be
 * asked) and returns the exit status. */
static int
trial_exists (Client     *c,
              const char *trial)
{
  g_autofree char *escaped = g_uri_escape_string (trial, NULL, FALSE);
  g_autofree char *path = g_strdup_printf ("/readroom/v1/trials/%s", escaped);
  g_autofree char *missing = g_strdup_printf ("no trial '%s'", trial);
  g_autoptr (JsonNode) answer = call_json (c, "GET", path, NULL, 200, missing);
  return answer ? RR_EXIT_OK : RR_EXIT_INPUT;
}

static int
trial_create (Client *c, int argc, char **argv)
{
  g_autofree char *name = NULL, *criteria = NULL, *adjudication = NULL, *reading = NULL;
  g_autofree char *body = NULL, *protocol_file = NULL, *protocol = NULL;
  int readers = 2, sd_min = 42;
  gboolean no_qc = FALSE, confirmation = FALSE;
  GOptionEntry entries[] = {
    { "name", 0, 0, G_OPTION_ARG_STRING, &name, "Trial name", "TEXT" },
    { "criteria", 0, 0, G_OPTION_ARG_STRING, &criteria, "recist1.1 (default) or irecist", "ID" },
    { "readers", 0, 0, G_OPTION_ARG_INT, &readers, "Readers per case (2)", "N" },
    { "no-qc", 0, 0, G_OPTION_ARG_NONE, &no_qc, "Reads start without QC", NULL },
    { "adjudication", 0, 0, G_OPTION_ARG_STRING, &adjudication, "bor or bor_or_pd_timepoint",
      "RULE" },
    { "reading", 0, 0, G_OPTION_ARG_STRING, &reading, "sequential or batch", "MODE" },
    { "sd-min-days", 0, 0, G_OPTION_ARG_INT, &sd_min, "Minimum days for SD (42)", "N" },
    { "confirmation", 0, 0, G_OPTION_ARG_NONE, &confirmation, "Responses need confirmation",
      NULL },
    { "protocol", 0, 0, G_OPTION_ARG_FILENAME, &protocol_file,
      "The QC protocol JSON (as `qc --protocol`)", "FILE" },
    { NULL }
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("ID");
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonNode) answer = NULL;

  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error) || argc != 2 || name == NULL)
    return rr_cli_usage_error ("admin trial create", error ? error->message : "ID and --name");
  if (protocol_file && (protocol = read_protocol (protocol_file)) == NULL)
    return RR_EXIT_INPUT;
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "id");
  json_builder_add_string_value (b, argv[1]);
  json_builder_set_member_name (b, "name");
  json_builder_add_string_value (b, name);
  json_builder_set_member_name (b, "criteria");
  json_builder_add_string_value (b, criteria ? criteria : "recist1.1");
  json_builder_set_member_name (b, "readers_per_case");
  json_builder_add_int_value (b, readers);
  json_builder_set_member_name (b, "qc_required");
  json_builder_add_boolean_value (b, !no_qc);
  json_builder_set_member_name (b, "adjudication");
  json_builder_add_string_value (b, adjudication ? adjudication : "bor");
  json_builder_set_member_name (b, "reading");
  json_builder_add_string_value (b, reading ? reading : "sequential");
  json_builder_set_member_name (b, "sd_min_days");
  json_builder_add_int_value (b, sd_min);
  json_builder_set_member_name (b, "confirmation");
  json_builder_add_boolean_value (b, confirmation);
  if (protocol)
    {
      /* POST /trials keeps the object as it is; read_protocol checked it. */
      g_autoptr (JsonNode) node = json_from_string (protocol, NULL);
      json_builder_set_member_name (b, "protocol");
      json_builder_add_value (b, g_steal_pointer (&node));
    }
  json_builder_end_object (b);
  body = to_json (b);
  answer = call_json (c, "POST", "/readroom/v1/trials", body, 201, NULL);
  if (answer == NULL)
    return RR_EXIT_INPUT;
  print_node (answer);
  return RR_EXIT_OK;
}

static int
member_set (Client *c, int argc, char **argv)
{
  g_autofree char *roles = NULL, *site = NULL, *body = NULL, *path = NULL, *missing = NULL;
  g_autofree char *trial = NULL, *user = NULL;
  int rc;
  GOptionEntry entries[] = {
    { "roles", 0, 0, G_OPTION_ARG_STRING, &roles, "site,qc,reader,adjudicator", "LIST" },
    { "site", 0, 0, G_OPTION_ARG_STRING, &site, "The site a site member uploads for", "ID" },
    { NULL }
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("TRIAL USER");
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonNode) answer = NULL;
  g_auto (GStrv) list = NULL;

  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error) || argc != 3 || roles == NULL)
    return rr_cli_usage_error ("admin member set", error ? error->message : "TRIAL USER --roles");
  list = g_strsplit (roles, ",", -1);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "roles");
  json_builder_begin_array (b);
  for (guint i = 0; list[i]; i++)
    if (*list[i])
      json_builder_add_string_value (b, g_strstrip (list[i]));
  json_builder_end_array (b);
  if (site)
    {
      json_builder_set_member_name (b, "site");
      json_builder_add_string_value (b, site);
    }
  json_builder_end_object (b);
  body = to_json (b);
  /* The server's 404 does not say which of the two is missing: the trial
   * is asked first. */
  if ((rc = trial_exists (c, argv[1])) != RR_EXIT_OK)
    return rc;
  trial = g_uri_escape_string (argv[1], NULL, FALSE);
  user = g_uri_escape_string (argv[2], NULL, FALSE);
  path = g_strdup_printf ("/readroom/v1/trials/%s/members/%s", trial, user);
  missing = g_strdup_printf ("no user '%s'", argv[2]);
  answer = call_json (c, "PUT", path, body, 200, missing);
  if (answer == NULL)
    return RR_EXIT_INPUT;
  print_node (answer);
  return RR_EXIT_OK;
}

/* The server refuses a protocol longer than this (rr-qc-protocol.h). */
#define MAX_PROTOCOL_BYTES RR_QC_MAX_PROTOCOL_BYTES

/* The protocol JSON in @file, checked with the parser QC and the server
 * use, so a protocol `qc` could not read is refused here, naming the file
 * and the reason, before anything is sent. NULL when it is not one. */
static char *
read_protocol (const char *file)
{
  g_autofree char *data = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (RrQcProtocol) protocol = NULL;
  GStatBuf sb;
  gsize n = 0;

  /* Sized before it is read: the file could be anything. */
  if (g_stat (file, &sb) != 0 || !S_ISREG (sb.st_mode))
    {
      g_printerr ("readroom-cli admin: %s: not a readable file\n", file);
      return NULL;
    }
  if (sb.st_size > MAX_PROTOCOL_BYTES)
    {
      g_printerr ("readroom-cli admin: %s: a protocol is at most %d bytes\n", file,
                  MAX_PROTOCOL_BYTES);
      return NULL;
    }
  if (!g_file_get_contents (file, &data, &n, &error))
    {
      g_printerr ("readroom-cli admin: %s\n", error->message);
      return NULL;
    }
  if (n > MAX_PROTOCOL_BYTES || memchr (data, '\0', n) != NULL)
    {
      g_printerr ("readroom-cli admin: %s: not a protocol\n", file);
      return NULL;
    }
  protocol = rr_qc_protocol_parse (data, (gssize) n, &error);
  if (protocol == NULL)
    {
      g_printerr ("readroom-cli admin: %s: not a protocol: %s\n", file, error->message);
      return NULL;
    }
  return g_steal_pointer (&data);
}

static int
trial_protocol (Client *c, int argc, char **argv)
{
  g_autofree char *data = NULL, *path = NULL, *missing = NULL;
  g_autoptr (JsonNode) answer = NULL;

  if (argc != 3)
    return rr_cli_usage_error ("admin trial protocol", "TRIAL FILE");
  if ((data = read_protocol (argv[2])) == NULL)
    return RR_EXIT_INPUT;
  path = g_strdup_printf ("/readroom/v1/trials/%s/protocol", argv[1]);
  missing = g_strdup_printf ("no trial '%s'", argv[1]);
  answer = call_json (c, "PUT", path, data, 200, missing);
  if (answer == NULL)
    return RR_EXIT_INPUT;
  print_node (answer);
  return RR_EXIT_OK;
}

static void
list_files (const char *dir,
            GPtrArray  *out)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;
  while (d && (name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);
      if (g_file_test (path, G_FILE_TEST_IS_DIR))
        list_files (path, out);
      else if (g_ascii_strcasecmp (name, "DICOMDIR") != 0)
        g_ptr_array_add (out, g_steal_pointer (&path));
    }
}

static int
upload (Client *c, int argc, char **argv)
{
  g_autofree char *trial = NULL, *subject = NULL, *label = NULL, *body = NULL, *path = NULL;
  g_autofree char *missing = NULL;
  int day = G_MININT;
  GOptionEntry entries[] = {
    { "trial", 0, 0, G_OPTION_ARG_STRING, &trial, "Trial id", "ID" },
    { "subject", 0, 0, G_OPTION_ARG_STRING, &subject, "Subject id", "ID" },
    { "timepoint", 0, 0, G_OPTION_ARG_STRING, &label, "Timepoint label (\"Baseline\")", "LABEL" },
    { "day", 0, 0, G_OPTION_ARG_INT, &day, "Study day (0 at baseline)", "N" },
    { NULL }
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("DIR");
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) files = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GHashTable) studies = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonNode) answer = NULL;
  guint sent = 0, refused = 0;

  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error) || argc != 2 || !trial || !subject ||
      !label || day == G_MININT)
    return rr_cli_usage_error ("admin upload", error ? error->message
                                                     : "DIR --trial --subject --timepoint --day");
  list_files (argv[1], files);
  g_ptr_array_sort (files, (GCompareFunc) g_strcmp0);
  if (files->len == 0)
    {
      g_printerr ("readroom-cli admin: %s: no files\n", argv[1]);
      return RR_EXIT_INPUT;
    }
  for (guint i = 0; i < files->len; i++)
    {
      g_autofree char *data = NULL;
      gsize n;
      long status = 0;
      g_autoptr (GBytes) reply = NULL;
      g_autoptr (JsonParser) p = json_parser_new ();
      if (!g_file_get_contents (files->pdata[i], &data, &n, &error))
        {
          g_printerr ("readroom-cli admin: %s\n", error->message);
          return RR_EXIT_INPUT;
        }
      reply = call (c, "POST", "/readroom/v1/instances", data, n, "application/dicom", &status,
                    &error);
      if (reply == NULL)
        {
          say_unreachable (error);
          return RR_EXIT_INPUT;
        }
      if (status != 201)
        {
          /* Not DICOM (a README beside the images): skipped, and said. */
          g_autofree char *why = error_text (reply);
          g_printerr ("readroom-cli admin: %s: not stored: %s\n", (char *) files->pdata[i], why);
          refused++;
          continue;
        }
      if (json_parser_load_from_data (p, g_bytes_get_data (reply, NULL),
                                      (gssize) g_bytes_get_size (reply), NULL))
        g_hash_table_add (studies, g_strdup (json_object_get_string_member_with_default (
                                     json_node_get_object (json_parser_get_root (p)), "study", "")));
      sent++;
    }
  if (g_hash_table_size (studies) == 0)
    {
      g_printerr ("readroom-cli admin: %s: no DICOM file was stored\n", argv[1]);
      return RR_EXIT_INPUT;
    }
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "label");
  json_builder_add_string_value (b, label);
  json_builder_set_member_name (b, "day");
  json_builder_add_int_value (b, day);
  json_builder_set_member_name (b, "studies");
  json_builder_begin_array (b);
  {
    GHashTableIter it;
    gpointer k;
    g_hash_table_iter_init (&it, studies);
    while (g_hash_table_iter_next (&it, &k, NULL))
      json_builder_add_string_value (b, k);
  }
  json_builder_end_array (b);
  json_builder_end_object (b);
  body = to_json (b);
  path = g_strdup_printf ("/readroom/v1/trials/%s/subjects/%s/timepoints", trial, subject);
  missing = g_strdup_printf ("no trial '%s'", trial);
  answer = call_json (c, "POST", path, body, 201, missing);
  if (answer == NULL)
    return RR_EXIT_INPUT;
  g_printerr ("readroom-cli admin: %u files stored (%u skipped), %u studies linked to %s %s %s\n",
              sent, refused, g_hash_table_size (studies), trial, subject, label);
  print_node (answer);
  return RR_EXIT_OK;
}

/* "text", or "-" for none: a table's empty cell. */
static const char *
cell (JsonObject *o,
      const char *member)
{
  const char *v = json_object_get_string_member_with_default (o, member, NULL);
  return v && *v ? v : "-";
}

/* The common part of `trial list` and `user list`: their one option,
 * the list from @path, printed whole with --json. Returns -1 with *@list
 * (owned by @answer) for the caller to print as a table, else the exit
 * code. */
static int
fetch_list (Client      *c,
            int          argc,
            char       **argv,
            const char  *command,
            const char  *path,
            JsonNode   **answer,
            JsonArray  **list)
{
  gboolean json = FALSE;
  GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "The server's JSON", NULL },
    { NULL }
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new (NULL);
  g_autoptr (GError) error = NULL;

  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error) || argc != 1)
    return rr_cli_usage_error (command, error ? error->message : "no arguments");
  *answer = call_json (c, "GET", path, NULL, 200, NULL);
  if (*answer == NULL || !JSON_NODE_HOLDS_ARRAY (*answer))
    return RR_EXIT_INPUT;
  if (json)
    {
      print_node (*answer);
      return RR_EXIT_OK;
    }
  *list = json_node_get_array (*answer);
  return -1;
}

/* trial list [--json]: every trial, one line each (or the server's
 * JSON). */
static int
trial_list (Client *c, int argc, char **argv)
{
  g_autoptr (JsonNode) answer = NULL;
  JsonArray *a = NULL;
  int status = fetch_list (c, argc, argv, "admin trial list", "/readroom/v1/trials", &answer, &a);

  if (status >= 0)
    return status;
  g_print ("%-16s %-10s %-7s %-3s %s\n", "TRIAL", "CRITERIA", "READERS", "QC", "NAME");
  for (guint i = 0; i < json_array_get_length (a); i++)
    {
      JsonObject *o = json_array_get_object_element (a, i);
      if (o == NULL)
        continue;
      g_print ("%-16s %-10s %-7" G_GINT64_FORMAT " %-3s %s\n", cell (o, "id"),
               cell (o, "criteria"), json_object_get_int_member_with_default (o, "readers_per_case", 0),
               json_object_get_boolean_member_with_default (o, "qc_required", FALSE) ? "yes" : "no",
               cell (o, "name"));
    }
  return RR_EXIT_OK;
}

/* user list [--json]: every account, its roles per trial, and whether it
 * is disabled. */
static int
user_list (Client *c, int argc, char **argv)
{
  g_autoptr (JsonNode) answer = NULL;
  JsonArray *a = NULL;
  int status = fetch_list (c, argc, argv, "admin user list", "/readroom/v1/users", &answer, &a);

  if (status >= 0)
    return status;
  g_print ("%-16s %-8s %-24s %s\n", "USER", "STATE", "NAME", "ROLES");
  for (guint i = 0; i < json_array_get_length (a); i++)
    {
      JsonObject *o = json_array_get_object_element (a, i);
      JsonArray *roles;
      g_autoptr (GString) text = g_string_new (NULL);
      if (o == NULL)
        continue;
      roles = json_object_has_member (o, "roles") ? json_object_get_array_member (o, "roles")
                                                  : NULL;
      for (guint k = 0; roles && k < json_array_get_length (roles); k++)
        {
          JsonObject *r = json_array_get_object_element (roles, k);
          const char *trial = r ? json_object_get_string_member_with_default (r, "trial", NULL)
                                : NULL;
          if (r == NULL)
            continue;
          /* "T1:reader", or "admin" for the server-wide role. */
          g_string_append_printf (text, "%s%s%s%s", text->len ? " " : "", trial ? trial : "",
                                  trial ? ":" : "", cell (r, "role"));
        }
      g_print ("%-16s %-8s %-24s %s\n", cell (o, "username"),
               json_object_get_boolean_member_with_default (o, "disabled", FALSE) ? "disabled"
                                                                                 : "active",
               cell (o, "display_name"), text->len ? text->str : "-");
    }
  return RR_EXIT_OK;
}

/* timepoint link TRIAL SUBJECT --timepoint LABEL --day N STUDY...: links
 * studies a site uploaded (their Study Instance UIDs, as the site's upload
 * printed them) to the subject's timepoint, which opens its QC task (or,
 * without QC, its reads). */
static int
timepoint_link (Client *c, int argc, char **argv)
{
  g_autofree char *label = NULL, *body = NULL, *path = NULL, *trial = NULL, *subject = NULL;
  int day = G_MININT, rc;
  GOptionEntry entries[] = {
    { "timepoint", 0, 0, G_OPTION_ARG_STRING, &label, "Timepoint label (\"Baseline\")", "LABEL" },
    { "day", 0, 0, G_OPTION_ARG_INT, &day, "Study day (0 at baseline)", "N" },
    { NULL }
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("TRIAL SUBJECT STUDY_UID...");
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonNode) answer = NULL;

  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error) || argc < 4 || !label ||
      day == G_MININT)
    return rr_cli_usage_error ("admin timepoint link",
                               error ? error->message
                                     : "TRIAL SUBJECT STUDY_UID... --timepoint LABEL --day N");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "label");
  json_builder_add_string_value (b, label);
  json_builder_set_member_name (b, "day");
  json_builder_add_int_value (b, day);
  json_builder_set_member_name (b, "studies");
  json_builder_begin_array (b);
  for (int i = 3; i < argc; i++)
    json_builder_add_string_value (b, argv[i]);
  json_builder_end_array (b);
  json_builder_end_object (b);
  body = to_json (b);
  /* The route's 404 does not say what is missing: the trial is asked
   * first, so a 404 after it is a study the server does not hold. */
  if ((rc = trial_exists (c, argv[1])) != RR_EXIT_OK)
    return rc;
  trial = g_uri_escape_string (argv[1], NULL, FALSE);
  subject = g_uri_escape_string (argv[2], NULL, FALSE);
  path = g_strdup_printf ("/readroom/v1/trials/%s/subjects/%s/timepoints", trial, subject);
  answer = call_json (c, "POST", path, body, 201, NULL);
  if (answer == NULL)
    return RR_EXIT_INPUT;
  g_printerr ("readroom-cli admin: %d %s linked to %s %s %s\n", argc - 3,
              argc - 3 == 1 ? "study" : "studies", argv[1], argv[2], label);
  print_node (answer);
  return RR_EXIT_OK;
}

static int
export (Client *c, int argc, char **argv)
{
  g_autofree char *format = NULL, *output = NULL, *path = NULL;
  GOptionEntry entries[] = {
    { "format", 0, 0, G_OPTION_ARG_STRING, &format, "csv, json or sr (a zip of DICOM SRs) (json)", "FORMAT" },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output, "Write to FILE (stdout)", "FILE" },
    { NULL }
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("TRIAL");
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) body = NULL;
  long status = 0;

  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error) || argc != 2)
    return rr_cli_usage_error ("admin export", error ? error->message : "one trial id");
  path = g_strdup_printf ("/readroom/v1/trials/%s/export?format=%s", argv[1],
                          format ? format : "json");
  body = call (c, "GET", path, NULL, 0, NULL, &status, &error);
  if (body == NULL)
    {
      say_unreachable (error);
      return RR_EXIT_INPUT;
    }
  if (status != 200)
    {
      g_autofree char *missing = g_strdup_printf ("no trial '%s'", argv[1]);
      say_refusal (status, body, missing);
      return RR_EXIT_INPUT;
    }
  if (output)
    {
      if (!g_file_set_contents (output, g_bytes_get_data (body, NULL),
                                (gssize) g_bytes_get_size (body), &error))
        {
          g_printerr ("readroom-cli admin: %s\n", error->message);
          return RR_EXIT_INPUT;
        }
    }
  else
    fwrite (g_bytes_get_data (body, NULL), 1, g_bytes_get_size (body), stdout);
  return RR_EXIT_OK;
}

/* task reassign TASK USER: an unassigned read (its reader left and nobody
 * could take it) goes to USER, an active reader of its trial; an
 * unassigned query (its uploader left) to a site member at its site. The
 * unassigned tasks are those of `GET /tasks` whose assignee is null. */
static int
task_reassign (Client *c, int argc, char **argv)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonNode) answer = NULL;
  g_autofree char *body = NULL, *path = NULL, *escaped = NULL, *missing = NULL;

  if (argc != 3)
    return rr_cli_usage_error ("admin task reassign", "TASK USER");
  missing = g_strdup_printf ("no task %s", argv[1]);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "username");
  json_builder_add_string_value (b, argv[2]);
  json_builder_end_object (b);
  body = to_json (b);
  escaped = g_uri_escape_string (argv[1], NULL, FALSE);
  path = g_strdup_printf ("/readroom/v1/tasks/%s/assignee", escaped);
  answer = call_json (c, "PUT", path, body, 200, missing);
  if (answer == NULL)
    return RR_EXIT_INPUT;
  print_node (answer);
  return RR_EXIT_OK;
}

/* audit verify: the server's check of its audit trail, printed; exit 1
 * when it does not hold. */
static int
audit_verify (Client *c, int argc, char **argv)
{
  g_autoptr (JsonNode) answer = NULL;
  JsonObject *o;

  if (argc != 1)
    return rr_cli_usage_error ("admin audit verify", "no arguments");
  answer = call_json (c, "GET", "/readroom/v1/audit/verify", NULL, 200, NULL);
  if (answer == NULL || !JSON_NODE_HOLDS_OBJECT (answer))
    return RR_EXIT_INPUT;
  print_node (answer);
  o = json_node_get_object (answer);
  if (json_object_get_boolean_member_with_default (o, "ok", FALSE))
    {
      g_printerr ("audit trail verified: %" G_GINT64_FORMAT " events\n",
                  json_object_get_int_member_with_default (o, "events", 0));
      return RR_EXIT_OK;
    }
  g_printerr ("audit trail BROKEN at event %" G_GINT64_FORMAT ": %s\n",
              json_object_get_int_member_with_default (o, "broken_at", 0),
              json_object_get_string_member_with_default (o, "reason", "the chain does not hold"));
  return RR_EXIT_INPUT;
}

static void
usage (void)
{
  g_print ("Usage: readroom-cli admin --server URL [--user NAME] COMMAND ...\n\n"
           "  user add NAME [--display-name TEXT] [--admin]   (password: READROOM_NEW_PASSWORD)\n"
           "  user disable NAME | user enable NAME   (a disabled reader's open reads pass on)\n"
           "  user list [--json]   (every account, its roles, and whether it is disabled)\n"
           "  trial create ID --name TEXT [--criteria ID] [--readers N] [--no-qc]\n"
           "               [--protocol FILE] ...\n"
           "  trial list [--json]\n"
           "  trial protocol TRIAL FILE   (the protocol JSON of `qc`, which QC tasks check)\n"
           "  member set TRIAL USER --roles site,qc,reader,adjudicator [--site ID]\n"
           "  upload DIR --trial T --subject S --timepoint LABEL --day N\n"
           "  timepoint link TRIAL SUBJECT STUDY_UID... --timepoint LABEL --day N\n"
           "               (studies a site uploaded, to the subject's timepoint)\n"
           "  export TRIAL [--format csv|json|sr] [-o FILE]\n"
           "  task reassign TASK USER   (an unassigned read or query, to a reader or site member)\n"
           "  audit verify   (the audit trail checked by the server; exit 1 when broken)\n\n"
           "The password of --user (admin) comes from READROOM_PASSWORD or a prompt.\n");
}

int
rr_cli_admin (int argc, char **argv)
{
  const char *server = NULL, *user = "admin";
  g_autofree char *servers = NULL;
  g_autoptr (RrSyncClient) c = NULL;
  int i = 1, rc;

  for (; i < argc && argv[i][0] == '-'; i++)
    {
      if (g_str_equal (argv[i], "--help") || g_str_equal (argv[i], "-h"))
        {
          usage ();
          return RR_EXIT_OK;
        }
      if (g_str_equal (argv[i], "--server") && i + 1 < argc)
        server = argv[++i];
      else if (g_str_has_prefix (argv[i], "--server="))
        server = argv[i] + 9;
      else if (g_str_equal (argv[i], "--user") && i + 1 < argc)
        user = argv[++i];
      else if (g_str_has_prefix (argv[i], "--user="))
        user = argv[i] + 7;
      else
        return rr_cli_usage_error ("admin", "unknown option");
    }
  if (server == NULL || i >= argc)
    return rr_cli_usage_error ("admin", "--server URL and a command are required");
  servers = rr_sync_servers_normalize (server, NULL);
  if (servers == NULL)
    return rr_cli_usage_error ("admin", "--server is an http:// or https:// URL, or several "
                                        "nodes' URLs separated by commas");
  c = rr_sync_client_new (servers, NULL);
  /* A person waits: a server that is not there is said at once. */
  rr_sync_client_set_interactive (c, TRUE);
  if (!login (c, user))
    rc = RR_EXIT_INPUT;
  else if (i + 1 < argc && g_str_equal (argv[i], "user") && g_str_equal (argv[i + 1], "add"))
    rc = user_add (c, argc - i - 1, argv + i + 1);
  else if (i + 1 < argc && g_str_equal (argv[i], "user") &&
           (g_str_equal (argv[i + 1], "disable") || g_str_equal (argv[i + 1], "enable")))
    rc = user_set_disabled (c, argc - i - 1, argv + i + 1, g_str_equal (argv[i + 1], "disable"));
  else if (i + 1 < argc && g_str_equal (argv[i], "user") && g_str_equal (argv[i + 1], "list"))
    rc = user_list (c, argc - i - 1, argv + i + 1);
  else if (i + 1 < argc && g_str_equal (argv[i], "trial") && g_str_equal (argv[i + 1], "list"))
    rc = trial_list (c, argc - i - 1, argv + i + 1);
  else if (i + 1 < argc && g_str_equal (argv[i], "timepoint") &&
           g_str_equal (argv[i + 1], "link"))
    rc = timepoint_link (c, argc - i - 1, argv + i + 1);
  else if (i + 1 < argc && g_str_equal (argv[i], "trial") && g_str_equal (argv[i + 1], "create"))
    rc = trial_create (c, argc - i - 1, argv + i + 1);
  else if (i + 1 < argc && g_str_equal (argv[i], "trial") && g_str_equal (argv[i + 1], "protocol"))
    rc = trial_protocol (c, argc - i - 1, argv + i + 1);
  else if (i + 1 < argc && g_str_equal (argv[i], "member") && g_str_equal (argv[i + 1], "set"))
    rc = member_set (c, argc - i - 1, argv + i + 1);
  else if (i + 1 < argc && g_str_equal (argv[i], "task") && g_str_equal (argv[i + 1], "reassign"))
    rc = task_reassign (c, argc - i - 1, argv + i + 1);
  else if (i + 1 < argc && g_str_equal (argv[i], "audit") && g_str_equal (argv[i + 1], "verify"))
    rc = audit_verify (c, argc - i - 1, argv + i + 1);
  else if (g_str_equal (argv[i], "upload"))
    rc = upload (c, argc - i, argv + i);
  else if (g_str_equal (argv[i], "export"))
    rc = export (c, argc - i, argv + i);
  else
    {
      /* The words given, so a typo is seen ("trial lsit"). */
      g_autofree char *words = i + 1 < argc && argv[i + 1][0] != '-'
                                 ? g_strdup_printf ("%s %s", argv[i], argv[i + 1])
                                 : g_strdup (argv[i]);
      g_autofree char *message = g_strdup_printf ("unknown command '%s' (see --help)", words);
      rc = rr_cli_usage_error ("admin", message);
    }
  if (rr_sync_client_get_token (c))
    {
      long status;
      g_autoptr (GBytes) b = call (c, "DELETE", "/readroom/v1/sessions/current", NULL, 0, NULL,
                                   &status, NULL);
    }
  return rc;
}
