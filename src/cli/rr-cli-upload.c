/* rr-cli-upload.c: `readroom-cli upload`: a site's upload. Fetches the
 * trial's de-identification key, de-identifies PATH into a staging folder
 * (deterministic: the same key gives the same files), then sends each file
 * once. A journal in the staging folder, rewritten atomically after every
 * file the server accepted, is what makes a rerun after kill -9 or a
 * dropped connection send only what was not sent. */
#include "rr-cli.h"
#include "rr-dicom-deid.h"
#include "rr-sync.h"
#include "rr-sync-request.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>

/* What the server takes in one request (server-api.md: up to 1 GiB). */
#define MAX_FILE_BYTES ((goffset) 1 << 30)
/* The marker that de-identification into the staging folder finished. */
#define DEID_DONE "deid.done"
#define JOURNAL "journal"
/* Journal lines are "<file name> <study UID>"; a file name is a UID plus
 * ".dcm", so both are short. */
#define MAX_JOURNAL_BYTES (64 << 20)

typedef struct
{
  char *staging;
  GHashTable *sent;      /* file name -> study UID */
  GString *text;         /* the journal as it is on disk */
} Journal;

static void
journal_clear (Journal *j)
{
  g_clear_pointer (&j->staging, g_free);
  g_clear_pointer (&j->sent, g_hash_table_unref);
  if (j->text)
    g_string_free (j->text, TRUE);
  j->text = NULL;
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Journal, journal_clear)

/* Reads the journal of @staging (none yet: empty). A torn last line
 * cannot happen (the file is replaced whole), but a line that does not
 * parse is dropped rather than trusted. */
static gboolean
journal_load (Journal     *j,
              const char  *staging,
              GError     **error)
{
  g_autofree char *path = g_build_filename (staging, JOURNAL, NULL);
  g_autofree char *data = NULL;
  g_auto (GStrv) lines = NULL;
  GStatBuf sb;

  j->staging = g_strdup (staging);
  j->sent = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  j->text = g_string_new (NULL);
  if (g_stat (path, &sb) != 0)
    return TRUE;
  if (sb.st_size > MAX_JOURNAL_BYTES)
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_FAILED, "%s: too large for a journal", path);
      return FALSE;
    }
  if (!g_file_get_contents (path, &data, NULL, error))
    return FALSE;
  lines = g_strsplit (data, "\n", -1);
  for (guint i = 0; lines[i]; i++)
    {
      g_auto (GStrv) f = g_strsplit (lines[i], " ", 3);
      if (g_strv_length (f) != 2 || !*f[0] || !*f[1])
        continue;
      g_hash_table_replace (j->sent, g_strdup (f[0]), g_strdup (f[1]));
      g_string_append_printf (j->text, "%s %s\n", f[0], f[1]);
    }
  return TRUE;
}

/* Records @name as sent: the whole journal written to a new file and
 * renamed over the old one (g_file_set_contents syncs first), so a kill at
 * any point leaves either the old journal or the new one. */
static gboolean
journal_add (Journal     *j,
             const char  *name,
             const char  *study,
             GError     **error)
{
  g_autofree char *path = g_build_filename (j->staging, JOURNAL, NULL);

  g_string_append_printf (j->text, "%s %s\n", name, study);
  if (!g_file_set_contents (path, j->text->str, (gssize) j->text->len, error))
    return FALSE;
  g_hash_table_replace (j->sent, g_strdup (name), g_strdup (study));
  return TRUE;
}

/* Signs in as the other commands do: with READROOM_PASSWORD (keeping the
 * session), else with the session kept for (server, user). */
static RrSyncClient *
sign_in (const char *server,
         const char *user,
         const char *ca)
{
  g_autoptr (GError) error = NULL;
  RrSyncClient *client = rr_sync_client_new (server, ca);
  const char *password = g_getenv ("READROOM_PASSWORD");

  if (password && *password)
    {
      g_autofree char *user_json = rr_sync_login (client, user, password, &error);
      gboolean in_file = FALSE;
      if (user_json == NULL)
        {
          g_printerr ("readroom-cli upload: %s\n", error->message);
          rr_sync_client_free (client);
          return NULL;
        }
      if (!rr_sync_token_save (rr_sync_client_get_server (client), user,
                               rr_sync_client_get_token (client), &in_file, &error))
        g_printerr ("readroom-cli upload: the session could not be kept: %s\n", error->message);
      else if (in_file)
        g_printerr ("readroom-cli upload: warning: no keyring; the session is kept in a file "
                    "only you can read\n");
      return client;
    }
  {
    g_autofree char *token = rr_sync_token_load (rr_sync_client_get_server (client), user);
    if (token == NULL)
      {
        g_printerr ("readroom-cli upload: set READROOM_PASSWORD (no session is kept for %s)\n",
                    user);
        rr_sync_client_free (client);
        return NULL;
      }
    rr_sync_client_set_token (client, token);
  }
  return client;
}

/* The trial's key and whether dates are kept (shifted). */
static GBytes *
fetch_key (RrSyncClient  *client,
           const char    *trial,
           gboolean      *retain_dates,
           GError       **error)
{
  g_autofree char *path = g_strdup_printf ("/readroom/v1/trials/%s/deid", trial);
  g_autoptr (JsonNode) doc = rr_sync_get_json (client, path, error);
  JsonObject *o;
  const char *b64;
  guchar *raw;
  gsize n = 0;

  if (doc == NULL)
    return NULL;
  o = JSON_NODE_HOLDS_OBJECT (doc) ? json_node_get_object (doc) : NULL;
  b64 = o ? json_object_get_string_member_with_default (o, "key", NULL) : NULL;
  /* Base64 of at most RR_DEID_MAX_KEY_BYTES, checked before decoding. */
  if (b64 == NULL || strlen (b64) > RR_DEID_MAX_KEY_BYTES * 4 / 3 + 4)
    {
      g_set_error (error, RR_SYNC_ERROR, RR_SYNC_ERROR_SERVER, "the server sent no trial key");
      return NULL;
    }
  raw = g_base64_decode (b64, &n);
  if (n < RR_DEID_MIN_KEY_BYTES)
    {
      g_free (raw);
      g_set_error (error, RR_SYNC_ERROR, RR_SYNC_ERROR_SERVER,
                   "the server's trial key is shorter than %d bytes", RR_DEID_MIN_KEY_BYTES);
      return NULL;
    }
  *retain_dates = json_object_get_boolean_member_with_default (o, "retain_dates", FALSE);
  return g_bytes_new_take (raw, n);
}

/* POSTs one file under the client's retry policy: tried again while the
 * server cannot be reached or fails (5xx, 429), until the offline timeout
 * runs out without progress. The study UID the server filed it under, or
 * NULL with @error. */
static char *
send_file (RrSyncClient  *client,
           const char    *trial,
           const char    *path,
           GError       **error)
{
  g_autofree char *header = g_strdup_printf ("X-Readroom-Trial: %s", trial);
  const char *headers[] = { header, NULL };
  g_autofree char *data = NULL;
  gsize size = 0;
  GStatBuf sb;

  if (g_stat (path, &sb) != 0 || sb.st_size > MAX_FILE_BYTES)
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_FAILED, "%s: missing or over 1 GiB", path);
      return NULL;
    }
  if (!g_file_get_contents (path, &data, &size, error))
    return NULL;
  for (;;)
    {
      g_autoptr (GError) failure = NULL;
      long status = 0;
      g_autoptr (GBytes) answer = rr_sync_request (client, "POST", "/readroom/v1/instances", data,
                                                   size, "application/dicom", headers, &status,
                                                   &failure);
      if (answer && !rr_sync_retryable (status))
        {
          g_autoptr (JsonParser) p = json_parser_new ();
          g_autofree char *said = NULL;
          JsonNode *root;
          const char *study;

          rr_sync_note_progress (client);
          if (status != 201)
            {
              said = rr_sync_answer_error (g_bytes_get_data (answer, NULL),
                                           g_bytes_get_size (answer));
              g_set_error (error, RR_SYNC_ERROR, status == 401 ? RR_SYNC_ERROR_AUTH
                                                               : RR_SYNC_ERROR_SERVER,
                           "%s: refused (%ld %s)", path, status, said ? said : "");
              return NULL;
            }
          root = json_parser_load_from_data (p, g_bytes_get_data (answer, NULL),
                                             (gssize) g_bytes_get_size (answer), NULL)
                   ? json_parser_get_root (p) : NULL;
          study = root && JSON_NODE_HOLDS_OBJECT (root)
                    ? json_object_get_string_member_with_default (json_node_get_object (root),
                                                                  "study", NULL)
                    : NULL;
          if (study == NULL || strlen (study) > 64 || strchr (study, ' ') || strchr (study, '\n'))
            {
              g_set_error (error, RR_SYNC_ERROR, RR_SYNC_ERROR_SERVER,
                           "%s: the server's answer names no study", path);
              return NULL;
            }
          return g_strdup (study);
        }
      if (!rr_sync_note_failure (client, failure ? failure->message : "the upload failed",
                                 error))
        return NULL;
      g_printerr ("upload: %s; trying again\n", client->last_failure ? client->last_failure : "");
      g_usleep ((gulong) rr_sync_backoff_us (client->failures));
    }
}

static gint
compare_names (gconstpointer a,
               gconstpointer b)
{
  return g_strcmp0 (*(const char * const *) a, *(const char * const *) b);
}

/* The de-identified files of @staging, by name. */
static GPtrArray *
staged_files (const char  *staging,
              GError     **error)
{
  g_autoptr (GDir) dir = g_dir_open (staging, 0, error);
  GPtrArray *names;
  const char *name;

  if (dir == NULL)
    return NULL;
  names = g_ptr_array_new_with_free_func (g_free);
  while ((name = g_dir_read_name (dir)))
    if (g_str_has_suffix (name, ".dcm"))
      g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, compare_names);
  return names;
}

/* Links the studies as the subject's timepoint when the server lets this
 * user (today only admin may: server-api.md); otherwise says so. */
static int
link_timepoint (RrSyncClient *client,
                const char   *trial,
                const char   *subject,
                const char   *label,
                int           day,
                GPtrArray    *studies)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autoptr (JsonNode) root = NULL;
  g_autofree char *body = NULL, *path = NULL, *said = NULL;
  g_autofree char *esc_subject = g_uri_escape_string (subject, NULL, FALSE);
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) answer = NULL;
  long status = 0;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "label");
  json_builder_add_string_value (b, label);
  json_builder_set_member_name (b, "day");
  json_builder_add_int_value (b, day);
  json_builder_set_member_name (b, "studies");
  json_builder_begin_array (b);
  for (guint i = 0; i < studies->len; i++)
    json_builder_add_string_value (b, studies->pdata[i]);
  json_builder_end_array (b);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  json_generator_set_root (gen, root);
  body = json_generator_to_data (gen, NULL);
  path = g_strdup_printf ("/readroom/v1/trials/%s/subjects/%s/timepoints", trial, esc_subject);
  answer = rr_sync_call (client, "POST", path, body, NULL, &status, &error);
  if (answer == NULL)
    {
      g_printerr ("readroom-cli upload: the studies were sent but not linked: %s\n",
                  error->message);
      return RR_EXIT_INPUT;
    }
  if (status == 201)
    {
      g_print ("linked: %s %s (day %d)\n", subject, label, day);
      return RR_EXIT_OK;
    }
  if (status == 403)
    {
      g_print ("not linked: an administrator links the studies above to %s %s (day %d)\n",
               subject, label, day);
      return RR_EXIT_OK;
    }
  said = rr_sync_answer_error (g_bytes_get_data (answer, NULL), g_bytes_get_size (answer));
  g_printerr ("readroom-cli upload: the studies were sent but not linked (%ld %s)\n", status,
              said ? said : "");
  return RR_EXIT_INPUT;
}

/* The answer to a QC query (server-api.md): the studies just sent become
 * the timepoint's, signed with the user's password; the server closes the
 * query and opens a fresh QC task. */
static int
answer_query (RrSyncClient *client,
              const char   *query,
              const char   *response,
              GPtrArray    *studies)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autoptr (JsonNode) root = NULL;
  g_autofree char *body = NULL, *path = NULL, *said = NULL, *uuid = g_uuid_string_random ();
  g_autofree char *idem = g_strdup_printf ("Idempotency-Key: %s", uuid);
  g_autofree char *esc = g_uri_escape_string (query, NULL, FALSE);
  const char *headers[] = { idem, NULL };
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) answer = NULL;
  long status = 0;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "response");
  json_builder_add_string_value (b, response);
  json_builder_set_member_name (b, "studies");
  json_builder_begin_array (b);
  for (guint i = 0; i < studies->len; i++)
    json_builder_add_string_value (b, studies->pdata[i]);
  json_builder_end_array (b);
  json_builder_set_member_name (b, "signature");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "password");
  json_builder_add_string_value (b, g_getenv ("READROOM_PASSWORD"));
  json_builder_set_member_name (b, "meaning");
  json_builder_add_string_value (b, "Answered the QC query");
  json_builder_end_object (b);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  json_generator_set_root (gen, root);
  body = json_generator_to_data (gen, NULL);
  path = g_strdup_printf ("/readroom/v1/tasks/%s/submission", esc);
  answer = rr_sync_call (client, "POST", path, body, headers, &status, &error);
  if (answer == NULL)
    {
      g_printerr ("readroom-cli upload: the studies were sent but the query not answered: %s\n",
                  error->message);
      return RR_EXIT_INPUT;
    }
  if (status == 201 || status == 200)
    {
      g_print ("answered: query %s; a fresh QC task checks the studies above\n", query);
      return RR_EXIT_OK;
    }
  said = rr_sync_answer_error (g_bytes_get_data (answer, NULL), g_bytes_get_size (answer));
  g_printerr ("readroom-cli upload: the studies were sent but the query not answered (%ld %s)\n",
              status, said ? said : "");
  return RR_EXIT_INPUT;
}

int
rr_cli_upload (int argc, char **argv)
{
  g_autofree char *server = NULL, *user = NULL, *trial = NULL, *subject = NULL;
  g_autofree char *label = NULL, *ca = NULL, *query = NULL, *response = NULL;
  int day = 0, timeout = 300;
  GOptionEntry entries[] = {
    { "server", 0, 0, G_OPTION_ARG_STRING, &server, "The server (http://host:port)", "URL" },
    { "user", 0, 0, G_OPTION_ARG_STRING, &user, "The site user", "NAME" },
    { "trial", 0, 0, G_OPTION_ARG_STRING, &trial, "The trial", "T" },
    { "subject", 0, 0, G_OPTION_ARG_STRING, &subject, "The trial's subject ID", "S" },
    { "timepoint", 0, 0, G_OPTION_ARG_STRING, &label, "The timepoint's label", "LABEL" },
    { "day", 0, 0, G_OPTION_ARG_INT, &day, "The timepoint's study day (0)", "N" },
    { "ca", 0, 0, G_OPTION_ARG_FILENAME, &ca, "Extra CA certificates", "FILE" },
    { "query", 0, 0, G_OPTION_ARG_STRING, &query,
      "Answer this QC query task with the studies sent (signed: READROOM_PASSWORD)", "TASK" },
    { "response", 0, 0, G_OPTION_ARG_STRING, &response, "The answer's text, with --query",
      "TEXT" },
    { "offline-timeout", 0, 0, G_OPTION_ARG_INT, &timeout,
      "Seconds without progress before giving up (300)", "S" },
    { NULL }
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("PATH");
  g_autoptr (GError) error = NULL;
  g_autoptr (RrSyncClient) client = NULL;
  g_autoptr (GBytes) key = NULL;
  g_autoptr (RrDeid) deid = NULL;
  g_autoptr (GPtrArray) names = NULL;
  g_autoptr (GPtrArray) studies = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *staging = NULL, *done_path = NULL;
  g_auto (Journal) journal = { 0 };
  const char *pause_after = g_getenv ("READROOM_TEST_UPLOAD_PAUSE_AFTER");
  guint64 bytes_total = 0, bytes_done = 0;
  guint n_sent = 0;
  gboolean retain_dates = FALSE;

  g_option_context_set_summary (ctx,
    "A site's upload: fetches the trial's key, de-identifies the DICOM files under PATH\n"
    "(as `deid`) into $XDG_CACHE_HOME/readroom/upload/TRIAL/SUBJECT/LABEL, and sends each\n"
    "file once: a rerun after an interruption sends only what was not sent. The password\n"
    "comes from READROOM_PASSWORD, or the session kept by an earlier sign-in is used.\n"
    "With --query, the studies sent answer that QC query (a re-upload) instead of being\n"
    "linked as a new timepoint.");
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    return rr_cli_usage_error ("upload", error->message);
  if (argc != 2)
    return rr_cli_usage_error ("upload", "PATH is needed");
  if (!server || !user || !trial || !subject || !label)
    return rr_cli_usage_error ("upload", "--server, --user, --trial, --subject and --timepoint "
                                         "are needed");
  /* They name folders: no separators, no dot-dot, as the server's ids. */
  for (const char *const *s = (const char *const[]) { trial, subject, label, NULL }; *s; s++)
    if (!**s || strlen (*s) > RR_DEID_MAX_SUBJECT || strpbrk (*s, "/\\") ||
        g_str_equal (*s, ".") || g_str_equal (*s, ".."))
      return rr_cli_usage_error ("upload", "--trial, --subject and --timepoint are 1 to 64 "
                                           "characters without '/'");
  if ((query == NULL) != (response == NULL) ||
      (query && (!*response || !*query || strlen (query) > 64 ||
                 strspn (query, "0123456789abcdefABCDEF-") != strlen (query))))
    return rr_cli_usage_error ("upload", "--query TASK and --response TEXT go together");
  /* The answer is signed: a kept session alone cannot sign it. */
  if (query && !(g_getenv ("READROOM_PASSWORD") && *g_getenv ("READROOM_PASSWORD")))
    return rr_cli_usage_error ("upload", "--query needs READROOM_PASSWORD to sign the answer");
  if (day < -36500 || day > 36500 || timeout < 1 || timeout > 86400)
    return rr_cli_usage_error ("upload", "--day or --offline-timeout out of range");

  client = sign_in (server, user, ca);
  if (client == NULL)
    return RR_EXIT_INPUT;
  rr_sync_client_set_offline_timeout (client, (guint) timeout);
  key = fetch_key (client, trial, &retain_dates, &error);
  if (key == NULL)
    {
      g_printerr ("readroom-cli upload: the trial's key: %s\n", error->message);
      return RR_EXIT_INPUT;
    }

  /* An answer to a query sends other files for the same timepoint: its
   * own staging folder, so the first upload's journal does not hold it. */
  staging = g_build_filename (g_get_user_cache_dir (), "readroom", "upload", trial, subject,
                              label, query ? "query" : NULL, query, NULL);
  done_path = g_build_filename (staging, DEID_DONE, NULL);
  if (g_mkdir_with_parents (staging, 0700) != 0)
    {
      g_printerr ("readroom-cli upload: %s: %s\n", staging, g_strerror (errno));
      return RR_EXIT_INPUT;
    }
  /* De-identified once: the marker is written only after every file was.
   * A kill before it means the staging folder is made again; the same key
   * gives the same UIDs, so files already sent keep their names. */
  if (!g_file_test (done_path, G_FILE_TEST_EXISTS))
    {
      g_autoptr (RrDeidResult) r = NULL;
      deid = rr_deid_new (g_bytes_get_data (key, NULL), g_bytes_get_size (key), subject,
                          retain_dates, &error);
      r = deid ? rr_deid_tree (deid, argv[1], staging, 0, NULL, &error) : NULL;
      if (r == NULL)
        {
          g_printerr ("readroom-cli upload: %s\n", error->message);
          return RR_EXIT_INPUT;
        }
      for (guint i = 0; i < r->warnings->len; i++)
        {
          RrDeidWarning *w = r->warnings->pdata[i];
          g_printerr ("upload: warning: %s: %s\n", w->path, w->message);
        }
      if (r->failures->len > 0 || r->n_written == 0)
        {
          for (guint i = 0; i < r->failures->len; i++)
            {
              RrDeidFailure *f = r->failures->pdata[i];
              g_printerr ("readroom-cli upload: %s: %s\n", f->path, f->message);
            }
          g_printerr ("readroom-cli upload: nothing sent: %u of %u files could not be "
                      "de-identified\n", r->n_files - r->n_written, r->n_files);
          return RR_EXIT_INPUT;
        }
      if (!g_file_set_contents (done_path, "", 0, &error))
        {
          g_printerr ("readroom-cli upload: %s\n", error->message);
          return RR_EXIT_INPUT;
        }
      g_printerr ("upload: %u files de-identified into %s\n", r->n_written, staging);
    }

  if (!journal_load (&journal, staging, &error) || !(names = staged_files (staging, &error)))
    {
      g_printerr ("readroom-cli upload: %s\n", error->message);
      return RR_EXIT_INPUT;
    }
  for (guint i = 0; i < names->len; i++)
    {
      g_autofree char *path = g_build_filename (staging, names->pdata[i], NULL);
      GStatBuf sb;
      if (g_stat (path, &sb) == 0)
        {
          bytes_total += (guint64) sb.st_size;
          if (g_hash_table_contains (journal.sent, names->pdata[i]))
            bytes_done += (guint64) sb.st_size;
        }
    }

  for (guint i = 0; i < names->len; i++)
    {
      const char *name = names->pdata[i];
      g_autofree char *path = g_build_filename (staging, name, NULL);
      g_autofree char *study = NULL;
      GStatBuf sb;

      if (g_hash_table_contains (journal.sent, name))
        continue;
      study = send_file (client, trial, path, &error);
      if (study == NULL || !journal_add (&journal, name, study, &error))
        {
          g_printerr ("readroom-cli upload: %s\n", error->message);
          g_printerr ("readroom-cli upload: %u of %u files sent; run the same command again "
                      "to send the rest\n", g_hash_table_size (journal.sent), names->len);
          return RR_EXIT_INPUT;
        }
      n_sent++;
      if (g_stat (path, &sb) == 0)
        bytes_done += (guint64) sb.st_size;
      g_printerr ("upload: %u/%u files, %.1f/%.1f MB\n", g_hash_table_size (journal.sent),
                  names->len, bytes_done / 1e6, bytes_total / 1e6);
      /* A named point where a test kills the process mid-upload. */
      if (pause_after && n_sent == (guint) g_ascii_strtoull (pause_after, NULL, 10))
        rr_sync_pause_for_tests ("READROOM_TEST_UPLOAD_PAUSE_S");
    }

  /* The studies the files went into, each once, in the order first met. */
  {
    g_autoptr (GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
    for (guint i = 0; i < names->len; i++)
      {
        const char *study = g_hash_table_lookup (journal.sent, names->pdata[i]);
        if (study && g_hash_table_add (seen, (gpointer) study))
          g_ptr_array_add (studies, g_strdup (study));
      }
  }
  g_print ("sent: %u files this time, %u of %u in all\n", n_sent,
           g_hash_table_size (journal.sent), names->len);
  for (guint i = 0; i < studies->len; i++)
    g_print ("study: %s\n", (const char *) studies->pdata[i]);
  if (query)
    return answer_query (client, query, response, studies);
  return link_timepoint (client, trial, subject, label, day, studies);
}
