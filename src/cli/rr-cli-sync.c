/* rr-cli-sync.c: readroom-cli sync: fills the workstation's cache without
 * a window, exactly as the workstation does; exit 0 only when every file
 * the open tasks need is in the cache and verified. */
#include "rr-cli.h"
#include "rr-read-draft.h"
#include "rr-store.h"
#include "rr-sync.h"

#include <stdio.h>
#include <string.h>

static void
on_progress (const RrSyncProgress *p,
             gpointer              data)
{
  g_printerr ("sync: %u/%u files, %.1f/%.1f MB%s%s\n", p->files_done, p->files_total,
              p->bytes_done / 1e6, p->bytes_total / 1e6, p->status ? " - " : "",
              p->status ? p->status : "");
}

typedef struct
{
  RrSyncProgress last;
} Totals;

static void
remember (const RrSyncProgress *p,
          gpointer              data)
{
  Totals *t = data;
  t->last = *p;
  t->last.status = NULL;
  on_progress (p, NULL);
}

/* Opens the local database and signs in (with READROOM_PASSWORD, keeping
 * the session; without it, with the kept session unless a password is
 * required). RR_EXIT_OK, or the exit code after saying why. */
static int
open_account (const char     *command,
              const char     *server,
              const char     *user,
              const char     *ca,
              const char     *db,
              gboolean        need_password,
              guint           timeout_s,
              RrStore       **store,
              RrSyncClient  **client,
              gint64         *account)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *user_json = NULL, *path = db ? g_strdup (db) : rr_store_default_path ();
  const char *password = g_getenv ("READROOM_PASSWORD");

  *store = rr_store_open (path, &error);
  if (*store == NULL)
    {
      g_printerr ("readroom-cli %s: %s\n", command, error->message);
      return RR_EXIT_INPUT;
    }
  *client = rr_sync_client_new (server, ca);
  /* The login is retried like every request, for as long as the run
   * would wait. */
  rr_sync_client_set_offline_timeout (*client, timeout_s);
  if (password && *password)
    {
      gboolean in_file = FALSE;
      user_json = rr_sync_login (*client, user, password, &error);
      if (user_json == NULL)
        {
          g_printerr ("readroom-cli %s: %s\n", command, error->message);
          return RR_EXIT_INPUT;
        }
      if (!rr_sync_token_save (rr_sync_client_get_server (*client), user,
                               rr_sync_client_get_token (*client), &in_file, &error))
        g_printerr ("readroom-cli %s: the session could not be kept: %s\n", command,
                    error->message);
      else if (in_file)
        g_printerr ("readroom-cli %s: warning: no keyring; the session is kept in a file only "
                    "you can read\n", command);
      g_clear_error (&error);
    }
  else if (need_password)
    return rr_cli_usage_error (command, "READROOM_PASSWORD is required");
  else
    {
      g_autofree char *token = rr_sync_token_load (rr_sync_client_get_server (*client), user);
      if (token == NULL)
        {
          g_printerr ("readroom-cli %s: set READROOM_PASSWORD (no session is kept for %s)\n",
                      command, user);
          return RR_EXIT_INPUT;
        }
      rr_sync_client_set_token (*client, token);
    }
  *account = rr_store_account (*store, rr_sync_client_get_server (*client), user, user_json,
                               &error);
  if (*account < 0)
    {
      g_printerr ("readroom-cli %s: %s\n", command, error->message);
      return RR_EXIT_INPUT;
    }
  return RR_EXIT_OK;
}

#define SERVERS_USAGE "--server is an http:// or https:// URL, or several nodes' URLs " \
                      "separated by commas"

/* --server as the client takes it: one URL, or the nodes of one server
 * (issue 20), which it fails over between. */
static gboolean
normalize_servers (char **server)
{
  char *list = rr_sync_servers_normalize (*server, NULL);
  if (list == NULL)
    return FALSE;
  g_free (*server);
  *server = list;
  return TRUE;
}

int
rr_cli_sync (int argc, char **argv)
{
  g_autofree char *server = NULL, *user = NULL, *task = NULL, *ca = NULL, *db = NULL;
  g_autofree char *cache = NULL;
  int parallel = 4, timeout = 300;
  GOptionEntry entries[] = {
    { "server", 0, 0, G_OPTION_ARG_STRING, &server, "Server URL", "URL" },
    { "user", 0, 0, G_OPTION_ARG_STRING, &user, "User name", "NAME" },
    { "task", 0, 0, G_OPTION_ARG_STRING, &task, "Only this task", "ID" },
    { "parallel", 0, 0, G_OPTION_ARG_INT, &parallel, "Connections at once (4)", "N" },
    { "ca-file", 0, 0, G_OPTION_ARG_FILENAME, &ca, "Extra CA certificates (PEM)", "FILE" },
    { "offline-timeout", 0, 0, G_OPTION_ARG_INT, &timeout,
      "Seconds without progress, whatever fails, before giving up (300)", "S" },
    { "database", 0, 0, G_OPTION_ARG_FILENAME, &db, "The local database (the workstation's)", "FILE" },
    { "cache", 0, 0, G_OPTION_ARG_FILENAME, &cache, "The instance cache (the workstation's)", "DIR" },
    { NULL }
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new (NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (RrStore) store = NULL;
  g_autoptr (RrSyncClient) client = NULL;
  RrSyncOptions options = { 0 };
  Totals totals = { 0 };
  gint64 account;
  int rc;

  g_option_context_set_summary (ctx, "Fills the local cache with every file the user's open tasks "
                                     "need. The password comes from READROOM_PASSWORD, or the "
                                     "session kept in the keyring.");
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error) || argc != 1 || !server || !user)
    return rr_cli_usage_error ("sync", error ? error->message : "--server URL --user NAME");
  if (!normalize_servers (&server))
    return rr_cli_usage_error ("sync", SERVERS_USAGE);
  if (parallel < 1 || parallel > 32 || timeout < 1)
    return rr_cli_usage_error ("sync", "--parallel is 1 to 32; --offline-timeout at least 1");
  if (cache == NULL)
    cache = rr_store_cache_dir ();
  rc = open_account ("sync", server, user, ca, db, FALSE, (guint) timeout, &store, &client,
                     &account);
  if (rc != RR_EXIT_OK)
    return rc;
  /* What waits in the outbox goes first. */
  {
    guint delivered = 0, refused = 0;
    if (!rr_sync_deliver (client, store, account, &delivered, &refused, &error))
      {
        g_printerr ("readroom-cli sync: the outbox waits: %s\n", error->message);
        g_clear_error (&error);
      }
    else if (delivered || refused)
      g_print ("outbox: %u delivered, %u refused\n", delivered, refused);
  }
  options.parallel = (guint) parallel;
  options.offline_timeout_s = (guint) timeout;
  options.task_id = task;
  options.progress = remember;
  options.progress_data = &totals;
  if (!rr_sync_run (client, store, account, cache, &options, NULL, &error))
    {
      g_printerr ("readroom-cli sync: %s\n", error->message);
      return RR_EXIT_INPUT;
    }
  g_print ("synced %u files (%u fetched, %" G_GUINT64_FORMAT " bytes), all verified\n",
           totals.last.files_done, totals.last.files_fetched, totals.last.bytes_fetched);
  return RR_EXIT_OK;
}

int
rr_cli_submit (int argc, char **argv)
{
  g_autofree char *server = NULL, *user = NULL, *task = NULL, *read_path = NULL, *meaning = NULL;
  g_autofree char *db = NULL, *ca = NULL, *read_text = NULL, *key = NULL;
  int timeout = 60;
  GOptionEntry entries[] = {
    { "server", 0, 0, G_OPTION_ARG_STRING, &server, "Server URL", "URL" },
    { "user", 0, 0, G_OPTION_ARG_STRING, &user, "User name", "NAME" },
    { "task", 0, 0, G_OPTION_ARG_STRING, &task, "The read task", "ID" },
    { "read", 0, 0, G_OPTION_ARG_FILENAME, &read_path, "The read JSON (with its responses)", "FILE" },
    { "meaning", 0, 0, G_OPTION_ARG_STRING, &meaning, "What the signature means", "TEXT" },
    { "ca-file", 0, 0, G_OPTION_ARG_FILENAME, &ca, "Extra CA certificates (PEM)", "FILE" },
    { "database", 0, 0, G_OPTION_ARG_FILENAME, &db, "The local database", "FILE" },
    { "offline-timeout", 0, 0, G_OPTION_ARG_INT, &timeout,
      "Seconds without progress before the submission is left in the outbox (60)", "S" },
    { NULL }
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new (NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (RrStore) store = NULL;
  g_autoptr (RrSyncClient) client = NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (JsonNode) body = NULL;
  const char *password = g_getenv ("READROOM_PASSWORD");
  guint delivered = 0, refused = 0;
  gint64 account;
  int rc;

  g_option_context_set_summary (ctx, "Signs a read and submits it through the outbox: saved "
                                     "first, sent until the server answers. The password (login "
                                     "and signature) comes from READROOM_PASSWORD.");
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error) || argc != 1 || !server || !user ||
      !task || !read_path || timeout < 1)
    return rr_cli_usage_error ("submit", error ? error->message
                                               : "--server --user --task --read are required");
  if (!normalize_servers (&server))
    return rr_cli_usage_error ("submit", SERVERS_USAGE);
  if (password == NULL || *password == '\0')
    return rr_cli_usage_error ("submit", "READROOM_PASSWORD is required (it signs the read)");
  if (!g_file_get_contents (read_path, &read_text, NULL, &error) ||
      !json_parser_load_from_data (parser, read_text, -1, &error) ||
      !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    {
      g_printerr ("readroom-cli submit: %s: %s\n", read_path,
                  error ? error->message : "not a JSON object");
      return RR_EXIT_INPUT;
    }
  rc = open_account ("submit", server, user, ca, db, TRUE, (guint) timeout, &store, &client,
                     &account);
  if (rc != RR_EXIT_OK)
    return rc;
  /* A task the server does not know (a typo) is said now, naming it, and
   * nothing is saved: the outbox is for reads the server will take once
   * it is reached. Only a server that cannot be reached leaves the
   * question to the outbox. */
  {
    g_autofree char *escaped = g_uri_escape_string (task, NULL, FALSE);
    g_autofree char *path = g_strdup_printf ("/readroom/v1/tasks/%s", escaped);
    g_autoptr (GError) ask_error = NULL;
    long status = 0;
    g_autoptr (GBytes) answer = rr_sync_request (client, "GET", path, NULL, 0, NULL, NULL,
                                                 &status, &ask_error);
    if (answer && status == 404)
      {
        g_printerr ("readroom-cli submit: task %s: no such task of %s on the server; nothing "
                    "was saved or sent\n", task, user);
        return RR_EXIT_INPUT;
      }
  }
  body = rr_read_submission_new (json_parser_get_root (parser),
                                 meaning ? meaning : "Read completed");
  key = rr_sync_submit (client, store, account, task, body, password, &error);
  if (key == NULL)
    {
      g_printerr ("readroom-cli submit: %s\n", error->message);
      return RR_EXIT_INPUT;
    }
  if (!rr_sync_deliver (client, store, account, &delivered, &refused, &error))
    {
      g_printerr ("readroom-cli submit: saved in the outbox, not delivered yet: %s\n",
                  error->message);
      return RR_EXIT_INPUT;
    }
  {
    g_autoptr (GPtrArray) all = rr_store_outbox_list (store, account, NULL, NULL);
    for (guint i = 0; all && i < all->len; i++)
      {
        RrStoreOutbox *o = all->pdata[i];
        if (g_str_equal (o->key, key))
          {
            if (g_str_equal (o->state, "delivered"))
              {
                g_print ("delivered: %s\n", o->receipt);
                return RR_EXIT_OK;
              }
            g_printerr ("readroom-cli submit: task %s: refused: %s\n", task,
                        o->last_error ? o->last_error : "");
            return RR_EXIT_INPUT;
          }
      }
  }
  return RR_EXIT_INPUT;
}
