/* rr-cli-upload.c: `readroom-cli upload`: a site's upload. Fetches the
 * trial's de-identification key, de-identifies PATH into a staging folder
 * (deterministic: the same key gives the same files), then sends each file
 * once. A journal in the staging folder, rewritten atomically after every
 * file the server accepted, is what makes a rerun after kill -9 or a
 * dropped connection send only what was not sent. */
#include "rr-cli.h"
#include "rr-dicom.h"
#include "rr-dicom-deid.h"
#include "rr-json.h"
#include "rr-sync.h"
#include "rr-sync-request.h"
#include "rr-sync-upload.h"
#include "rr-upload-patients.h"
#include "rr-upload-staging.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

/* Patients named at most when a folder holds several. */
#define MAX_PATIENTS_NAMED 5

/* One upload is one subject, as on the app's upload page: a folder of
 * several patients is refused before anything is signed in, staged or
 * sent, and nothing overrides it. The patients are told apart by their
 * number, file count and first file, not by their Patient IDs: what the
 * terminal prints may end up in a log or a support ticket. FALSE when
 * refused (said). A folder whose headers cannot be read is left to the
 * de-identification that follows, which says which files. */
static gboolean
one_patient (const char *path)
{
  const char *paths[] = { path, NULL };
  g_autoptr (RrDicomHeaders) h = rr_dicom_read_headers (paths, 0, NULL, NULL);
  g_autoptr (GPtrArray) patients = NULL;

  if (h == NULL)
    return TRUE;
  patients = rr_upload_patients (h->instances);
  if (patients->len <= 1)
    return TRUE;
  g_printerr ("readroom-cli upload: %s holds the images of %u different patients (by Patient "
              "ID); one upload is one subject, so nothing was sent\n", path, patients->len);
  for (guint i = 0; i < patients->len && i < MAX_PATIENTS_NAMED; i++)
    {
      RrUploadPatient *p = patients->pdata[i];
      g_printerr ("  patient %u: %u file%s, the first %s\n", i + 1, p->n_files,
                  p->n_files == 1 ? "" : "s", p->first_path ? p->first_path : "?");
    }
  if (patients->len > MAX_PATIENTS_NAMED)
    g_printerr ("  and %u more\n", patients->len - MAX_PATIENTS_NAMED);
  g_printerr ("readroom-cli upload: put each patient's files in a folder of their own and "
              "upload each under its own --subject\n");
  return FALSE;
}

/* What a person reads when the server cannot be reached at all (the sync
 * client's own words speak of a background synchronisation). */
static void
say_unreachable (const char *server, const GError *error)
{
  g_printerr ("readroom-cli upload: cannot reach the server %s (%s). Nothing was sent: check "
              "the address and the network, then run the same command again\n", server,
              error->message);
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

  /* A person waits on the first answers: a server that is not there at
   * all is said at once, not after the upload's long offline timeout
   * (which applies once files are being sent). */
  rr_sync_client_set_interactive (client, TRUE);
  if (password && *password)
    {
      g_autofree char *user_json = rr_sync_login (client, user, password, &error);
      gboolean in_file = FALSE;
      if (user_json == NULL)
        {
          if (g_error_matches (error, RR_SYNC_ERROR, RR_SYNC_ERROR_OFFLINE))
            say_unreachable (server, error);
          else
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

typedef struct
{
  const char *pause_after;     /* READROOM_TEST_UPLOAD_PAUSE_AFTER */
  gboolean started;            /* the first call says where a resumed upload starts */
  guint n_sent;
  gboolean tty;                /* stderr is a terminal: one line, rewritten */
  gboolean line_open;          /* that line is on the screen, unfinished */
} Progress;

/* Ends the progress line on a terminal before anything else is said. */
static void
end_line (Progress *p)
{
  if (p->line_open)
    g_printerr ("\n");
  p->line_open = FALSE;
}

/* Called after each file (and each retry), one call at a time. */
static void
say_progress (guint        files_done,
              guint        files_total,
              guint64      bytes_done,
              guint64      bytes_total,
              const char  *note,
              gpointer     user_data)
{
  Progress *p = user_data;
  if (note)
    {
      end_line (p);
      g_printerr ("upload: %s; trying again\n", note);
      return;
    }
  /* On a terminal one line that counts up; in a log, a line per file. */
  if (p->tty)
    {
      g_printerr ("\rupload: %u/%u files, %.1f/%.1f MB  ", files_done, files_total,
                  bytes_done / 1e6, bytes_total / 1e6);
      p->line_open = TRUE;
    }
  else
    g_printerr ("upload: %u/%u files, %.1f/%.1f MB\n", files_done, files_total,
                bytes_done / 1e6, bytes_total / 1e6);
  if (!p->started)
    {
      p->started = TRUE;
      return;
    }
  /* A named point where a test kills the process mid-upload. */
  if (p->pause_after && ++p->n_sent == (guint) g_ascii_strtoull (p->pause_after, NULL, 10))
    rr_sync_pause_for_tests ("READROOM_TEST_UPLOAD_PAUSE_S");
}

/* Why the trial's key was not given, in words: the server answers 403
 * alike to a non-member and for a trial that does not exist (so as not
 * to say which trials exist), and the user's own roles tell which. */
static void
say_no_key (RrSyncClient *client,
            const char   *server,
            const char   *user,
            const char   *trial,
            const GError *error)
{
  g_autoptr (JsonNode) me = NULL;
  JsonArray *roles;

  if (g_error_matches (error, RR_SYNC_ERROR, RR_SYNC_ERROR_OFFLINE))
    {
      say_unreachable (server, error);
      return;
    }
  if (g_error_matches (error, RR_SYNC_ERROR, RR_SYNC_ERROR_AUTH))
    {
      g_printerr ("readroom-cli upload: %s is not signed in (%s): set READROOM_PASSWORD\n", user,
                  error->message);
      return;
    }
  me = rr_sync_get_json (client, "/readroom/v1/me", NULL);
  roles = me && JSON_NODE_HOLDS_OBJECT (me)
    ? rr_json_get_array (json_node_get_object (me), "roles") : NULL;
  if (roles)
    {
      for (guint i = 0; i < json_array_get_length (roles); i++)
        {
          JsonObject *r = rr_json_get_element (roles, i);
          if (r && g_strcmp0 (json_object_get_string_member_with_default (r, "trial", NULL),
                              trial) == 0 &&
              g_strcmp0 (json_object_get_string_member_with_default (r, "role", NULL),
                         "site") == 0)
            {
              g_printerr ("readroom-cli upload: the trial's key: %s\n", error->message);
              return;
            }
        }
      g_printerr ("readroom-cli upload: %s is not a site member of trial %s (or there is no "
                  "such trial): nothing was sent. The trial's administrator adds site "
                  "members\n", user, trial);
      return;
    }
  g_printerr ("readroom-cli upload: the trial's key: %s\n", error->message);
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
  g_autoptr (GError) error = NULL;
  RrUploadLink linked;

  if (!rr_upload_link (client, trial, subject, label, day, studies, &linked, &error))
    {
      g_printerr ("readroom-cli upload: the studies were sent but not linked: %s\n",
                  error->message);
      return RR_EXIT_INPUT;
    }
  if (linked == RR_UPLOAD_LINKED)
    g_print ("linked: %s %s (day %d)\n", subject, label, day);
  else
    g_print ("not linked: an administrator links the studies above to %s %s (day %d)\n",
             subject, label, day);
  return RR_EXIT_OK;
}

/* The answer to a QC query (server-api.md), signed with READROOM_PASSWORD
 * (checked before anything was sent). */
static int
answer_query (RrSyncClient *client,
              const char   *query,
              const char   *response,
              GPtrArray    *studies)
{
  g_autoptr (GError) error = NULL;

  if (!rr_upload_answer_query (client, query, response, g_getenv ("READROOM_PASSWORD"), studies,
                               &error))
    {
      g_printerr ("readroom-cli upload: the studies were sent but the query not answered: %s\n",
                  error->message);
      return RR_EXIT_INPUT;
    }
  g_print ("answered: query %s; a fresh QC task checks the studies above\n", query);
  return RR_EXIT_OK;
}

int
rr_cli_upload (int argc, char **argv)
{
  g_autofree char *server = NULL, *user = NULL, *trial = NULL, *subject = NULL;
  g_autofree char *label = NULL, *ca = NULL, *query = NULL, *response = NULL;
  int day = 0, timeout = 300, parallel = 4;
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
    { "parallel", 0, 0, G_OPTION_ARG_INT, &parallel,
      "Files sent at once, each on a keep-alive connection (4)", "N" },
    { NULL }
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("PATH");
  g_autoptr (GError) error = NULL;
  g_autoptr (RrSyncClient) client = NULL;
  g_autoptr (GBytes) key = NULL;
  g_autoptr (RrDeid) deid = NULL;
  g_autoptr (GPtrArray) names = NULL;
  g_autoptr (GPtrArray) studies = NULL;
  g_autofree char *staging = NULL, *done_path = NULL;
  g_autoptr (RrUploadJournal) journal = NULL;
  Progress progress = { g_getenv ("READROOM_TEST_UPLOAD_PAUSE_AFTER"), FALSE, 0,
                        isatty (STDERR_FILENO), FALSE };
  guint n_sent = 0;
  gboolean retain_dates = FALSE;
  int rc;

  g_option_context_set_summary (ctx,
    "A site's upload: fetches the trial's key, de-identifies the DICOM files under PATH\n"
    "(as `deid`) into $XDG_CACHE_HOME/readroom/upload/TRIAL/SUBJECT/LABEL/src-DIGEST (the\n"
    "digest of PATH's file names, sizes and times), and sends each\n"
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
  staging = rr_upload_staging_dir (trial, subject, label);
  if (staging == NULL)
    return rr_cli_usage_error ("upload", "--trial, --subject and --timepoint are 1 to 64 "
                                         "characters without '/'");
  if ((query == NULL) != (response == NULL) ||
      (query && (!*response || !*query || strlen (query) > 64 ||
                 strspn (query, "0123456789abcdefABCDEF-") != strlen (query))))
    return rr_cli_usage_error ("upload", "--query TASK and --response TEXT go together");
  /* The answer is signed: a kept session alone cannot sign it. */
  if (query && !(g_getenv ("READROOM_PASSWORD") && *g_getenv ("READROOM_PASSWORD")))
    return rr_cli_usage_error ("upload", "--query needs READROOM_PASSWORD to sign the answer");
  if (day < -36500 || day > 36500 || timeout < 1 || timeout > 86400 || parallel < 1 ||
      parallel > 16)
    return rr_cli_usage_error ("upload", "--day, --offline-timeout or --parallel out of range");
  if (!one_patient (argv[1]))
    return RR_EXIT_INPUT;

  client = sign_in (server, user, ca);
  if (client == NULL)
    return RR_EXIT_INPUT;
  key = rr_upload_fetch_key (client, trial, &retain_dates, &error);
  if (key == NULL)
    {
      say_no_key (client, server, user, trial, error);
      return RR_EXIT_INPUT;
    }
  /* Sending may ride out a dropped connection for --offline-timeout. */
  rr_sync_client_set_interactive (client, FALSE);
  rr_sync_client_set_offline_timeout (client, (guint) timeout);

  /* An answer to a query sends other files for the same timepoint: its
   * own staging folder, so the first upload's journal does not hold it. */
  if (query)
    {
      char *own = rr_upload_query_staging_dir (staging, query);
      g_free (staging);
      staging = own;
    }
  /* Within it, the folder of these source files: another folder for the
   * same visit is staged and sent afresh, the same one again resumes. */
  {
    char *own = rr_upload_source_staging_dir (staging, argv[1], &error);
    if (own == NULL)
      {
        g_printerr ("readroom-cli upload: %s\n", error->message);
        return RR_EXIT_INPUT;
      }
    g_free (staging);
    staging = own;
  }
  done_path = g_build_filename (staging, RR_UPLOAD_DEID_DONE, NULL);
  if (g_mkdir_with_parents (staging, 0700) != 0)
    {
      g_printerr ("readroom-cli upload: %s: %s\n", staging, g_strerror (errno));
      return RR_EXIT_INPUT;
    }
  {
    g_autofree char *source = g_canonicalize_filename (argv[1], NULL);
    RrUploadStaged note = { staging, source, trial, subject, label, query, NULL, day, 0, 0 };
    if (!rr_upload_staged_save (&note, &error))
      {
        g_printerr ("readroom-cli upload: %s\n", error->message);
        return RR_EXIT_INPUT;
      }
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
      if (!rr_upload_mark_deid_done (staging, &error))
        {
          g_printerr ("readroom-cli upload: %s\n", error->message);
          return RR_EXIT_INPUT;
        }
      g_printerr ("upload: %u files de-identified into %s\n", r->n_written, staging);
    }

  if (!(journal = rr_upload_journal_load (staging, &error)) ||
      !(names = rr_upload_staged_files (staging, &error)))
    {
      g_printerr ("readroom-cli upload: %s\n", error->message);
      return RR_EXIT_INPUT;
    }
  if (!rr_upload_send_all (client, trial, staging, names, journal, (guint) parallel, say_progress,
                           &progress, NULL, &n_sent, NULL, &error))
    {
      end_line (&progress);
      g_printerr ("readroom-cli upload: %s\n", error->message);
      g_printerr ("readroom-cli upload: %u of %u files sent; run the same command again "
                  "to send the rest\n", rr_upload_journal_count (journal), names->len);
      return RR_EXIT_INPUT;
    }

  end_line (&progress);
  /* The studies the files went into, each once, in the order first met. */
  studies = rr_upload_studies (journal, names);
  g_print ("sent: %u files this time, %u of %u in all\n", n_sent,
           rr_upload_journal_count (journal), names->len);
  for (guint i = 0; i < studies->len; i++)
    g_print ("study: %s\n", (const char *) studies->pdata[i]);
  rc = query ? answer_query (client, query, response, studies)
             : link_timepoint (client, trial, subject, label, day, studies);
  /* Done: no longer offered for resuming on the app's upload page. */
  if (rc == RR_EXIT_OK && !rr_upload_mark_finished (staging, &error))
    g_printerr ("readroom-cli upload: warning: %s\n", error->message);
  return rc;
}
