/* rr-sync-outbox.c: submissions saved before they are sent, sent with
 * their idempotency key until the server answers. One entry per task, in
 * explicit states (rr-store.h): "saved" is never sent and may be replaced;
 * "sending" may have reached the server, so it is settled by asking the
 * server (GET /tasks/{id}/submission) before it is sent again or reported;
 * "delivered" and "refused" are answered. The signature's password waits
 * in the keyring (or a 0600 file) only while the entry is unanswered: it is
 * written inside the transaction that saves the entry and removed inside
 * the one that records the answer, and any left without an entry is wiped
 * when the outbox is next used. */
#include "rr-sync-outbox.h"
#include "rr-sync-request.h"
#include "rr-sync-secret.h"

#include <string.h>

/* Wipes every signature password that waits for no unanswered entry (a
 * kill between saving one and committing its entry). Inside a write
 * transaction, so that a submission being saved by another process, which
 * holds the write lock until its entry is committed, is never taken for an
 * orphan. */
static gboolean
wipe_orphan_secrets (RrStore  *store,
                     GError  **error)
{
  g_autoptr (GHashTable) keep = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr (GPtrArray) waiting = NULL;

  if (!rr_store_begin (store, error))
    return FALSE;
  waiting = rr_store_outbox_unanswered (store, error);
  if (waiting == NULL)
    {
      rr_store_rollback (store);
      return FALSE;
    }
  for (guint i = 0; i < waiting->len; i++)
    {
      RrStoreOutbox *e = waiting->pdata[i];
      g_hash_table_add (keep, g_strdup_printf ("%s\n%s", e->server, e->key));
    }
  rr_sync_secret_wipe_except ("signature", keep);
  if (!rr_store_commit (store, error))
    {
      rr_store_rollback (store);
      return FALSE;
    }
  return TRUE;
}

/* Records the server's answer and removes the password in one transaction:
 * a kill before the commit leaves the entry "sending", which the next run
 * settles by asking the server, never by reporting the missing password. */
static gboolean
record_answer (RrSyncClient  *c,
               RrStore       *store,
               const char    *key,
               const char    *state,
               const char    *last_error,
               const char    *receipt,
               GError       **error)
{
  if (!rr_store_begin (store, error))
    return FALSE;
  if (!rr_store_outbox_update (store, key, state, last_error, receipt, error))
    {
      rr_store_rollback (store);
      return FALSE;
    }
  rr_sync_secret_clear ("signature", c->server, key);
  rr_sync_pause_for_tests ("READROOM_OUTBOX_PAUSE_AFTER_WIPE");
  if (!rr_store_commit (store, error))
    {
      rr_store_rollback (store);
      return FALSE;
    }
  return TRUE;
}

/* "receipt 42, submitted 2026-...": for people. */
static char *
describe_receipt (const char *receipt)
{
  g_autoptr (JsonParser) p = json_parser_new ();
  JsonObject *o;
  if (receipt == NULL || !json_parser_load_from_data (p, receipt, -1, NULL) ||
      !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (p)))
    return g_strdup ("no receipt");
  o = json_node_get_object (json_parser_get_root (p));
  if (!json_object_has_member (o, "receipt") ||
      !JSON_NODE_HOLDS_OBJECT (json_object_get_member (o, "receipt")))
    return g_strdup ("no receipt");
  o = json_object_get_object_member (o, "receipt");
  return g_strdup_printf ("receipt %s, submitted %s",
                          json_object_get_string_member_with_default (o, "id", "?"),
                          json_object_get_string_member_with_default (o, "submitted_at", "?"));
}

typedef enum
{
  HELD_ERROR = -1,           /* the server could not be asked */
  HELD_NOTHING = 0,
  HELD_OURS,                 /* under this entry's key */
  HELD_OTHER,                /* another submission of the task */
} Held;

/* Asks the server what it holds for @task_id; @receipt: {"receipt": ...}
 * as the POST answers it. */
static Held
ask_server (RrSyncClient  *c,
            const char    *task_id,
            const char    *key,
            char         **receipt,
            GError       **error)
{
  g_autofree char *path = g_strdup_printf ("/readroom/v1/tasks/%s/submission", task_id);
  g_autoptr (JsonParser) p = json_parser_new ();
  g_autoptr (JsonGenerator) g = json_generator_new ();
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonNode) root = NULL;
  long status = 0;
  g_autoptr (GBytes) out = rr_sync_call (c, "GET", path, NULL, NULL, &status, error);
  JsonObject *o;
  gsize n;
  const char *data;

  if (out == NULL)
    return HELD_ERROR;
  if (status == 404)
    return HELD_NOTHING;
  if (status == 401)
    {
      g_set_error (error, RR_SYNC_ERROR, RR_SYNC_ERROR_AUTH, "The session ended; log in again");
      return HELD_ERROR;
    }
  data = g_bytes_get_data (out, &n);
  if (status != 200 || !json_parser_load_from_data (p, data, (gssize) n, NULL) ||
      !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (p)) ||
      !JSON_NODE_HOLDS_OBJECT (json_object_get_member (
        json_node_get_object (json_parser_get_root (p)), "receipt")))
    {
      g_set_error (error, RR_SYNC_ERROR, RR_SYNC_ERROR_SERVER,
                   "GET %s: the server answered %ld, not the contract's submission", path, status);
      return HELD_ERROR;
    }
  o = json_node_get_object (json_parser_get_root (p));
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "receipt");
  json_builder_add_value (b, json_node_copy (json_object_get_member (o, "receipt")));
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  json_generator_set_root (g, root);
  *receipt = json_generator_to_data (g, NULL);
  return g_strcmp0 (json_object_get_string_member_with_default (o, "idempotency_key", ""), key) == 0
         ? HELD_OURS : HELD_OTHER;
}

/* An entry that may have reached the server, settled by asking it: what it
 * holds under this key is delivered; another submission of the task means
 * this one is refused, with that one's receipt. *@settled FALSE: the
 * server holds nothing, the entry is still to be sent. */
static gboolean
settle (RrSyncClient   *c,
        RrStore        *store,
        RrStoreOutbox  *entry,
        gboolean       *settled,
        GError        **error)
{
  g_autofree char *receipt = NULL, *words = NULL, *message = NULL;
  GError *local = NULL;
  Held held = ask_server (c, entry->task_id, entry->key, &receipt, &local);

  *settled = FALSE;
  switch (held)
    {
    case HELD_ERROR:
      rr_store_outbox_update (store, entry->key, "pending", local->message, NULL, NULL);
      g_propagate_error (error, local);
      return FALSE;
    case HELD_NOTHING:
      return TRUE;
    case HELD_OURS:
      *settled = TRUE;
      return record_answer (c, store, entry->key, "delivered", NULL, receipt, error);
    case HELD_OTHER:
    default:
      *settled = TRUE;
      words = describe_receipt (receipt);
      message = g_strdup_printf ("the server already holds another read of this task (%s); this "
                                 "one was not sent", words);
      return record_answer (c, store, entry->key, "refused", message, receipt, error);
    }
}

static char *
answer_message (GBytes *answer)
{
  g_autoptr (JsonParser) p = json_parser_new ();
  gsize n = 0;
  const char *data = answer ? g_bytes_get_data (answer, &n) : NULL;
  if (data && json_parser_load_from_data (p, data, (gssize) n, NULL) &&
      JSON_NODE_HOLDS_OBJECT (json_parser_get_root (p)))
    {
      JsonObject *o = json_node_get_object (json_parser_get_root (p));
      if (json_object_has_member (o, "error") &&
          JSON_NODE_HOLDS_OBJECT (json_object_get_member (o, "error")))
        {
          JsonObject *e = json_object_get_object_member (o, "error");
          GString *text = g_string_new (json_object_get_string_member_with_default (e, "message",
                                                                                    "refused"));
          JsonArray *details = json_object_has_member (e, "details") &&
                               JSON_NODE_HOLDS_ARRAY (json_object_get_member (e, "details"))
                                 ? json_object_get_array_member (e, "details") : NULL;
          /* A 422's list of differences is the reader's to act on: kept,
           * one a line, in the entry's last error (at most 50 of them). */
          for (guint i = 0; details && i < MIN (json_array_get_length (details), 50); i++)
            {
              JsonNode *item = json_array_get_element (details, i);
              JsonObject *d = JSON_NODE_HOLDS_OBJECT (item) ? json_node_get_object (item) : NULL;
              const char *field = d ? json_object_get_string_member_with_default (d, "field",
                                                                                 NULL) : NULL;
              if (d == NULL)
                continue;
              if (field)
                g_string_append_printf (
                  text, "\n%s: submitted %s, the server computed %s", field,
                  json_object_get_string_member_with_default (d, "submitted", ""),
                  json_object_get_string_member_with_default (d, "recomputed", ""));
              else
                g_string_append_printf (
                  text, "\n%s", json_object_get_string_member_with_default (
                    d, "message", json_object_get_string_member_with_default (d, "rule", "")));
            }
          return g_string_free (text, FALSE);
        }
    }
  return g_strdup ("refused");
}

/* Sends one outbox entry with its key (after settling it if it may have
 * been sent); records the answer. FALSE with @error when it could not be
 * answered (it waits, "sending" once it may have been sent). */
static gboolean
deliver_one (RrSyncClient   *c,
             RrStore        *store,
             RrStoreOutbox  *entry,
             GError        **error)
{
  g_autofree char *password = NULL;
  g_autoptr (JsonParser) p = json_parser_new ();
  g_autoptr (JsonGenerator) g = json_generator_new ();
  g_autoptr (GBytes) answer = NULL;
  g_autofree char *path = g_strdup_printf ("/readroom/v1/tasks/%s/submission", entry->task_id);
  g_autofree char *idem = g_strdup_printf ("Idempotency-Key: %s", entry->key);
  const char *headers[] = { idem, NULL };
  g_autofree char *body = NULL, *message = NULL;
  g_autoptr (GError) local = NULL;
  JsonObject *o, *sig;
  long status = 0;

  if (g_str_equal (entry->state, "sending"))
    {
      gboolean settled;
      if (!settle (c, store, entry, &settled, error))
        return FALSE;
      if (settled)
        return TRUE;
    }
  if (!json_parser_load_from_data (p, entry->body, -1, NULL) ||
      !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (p)))
    return record_answer (c, store, entry->key, "refused", "the saved submission is not JSON",
                          NULL, error);
  /* Only now, the server holding nothing of it, is a missing password the
   * reader's to fix. */
  password = rr_sync_secret_load ("signature", c->server, entry->key);
  if (password == NULL)
    return record_answer (c, store, entry->key, "refused", "the signature's password was not "
                          "kept; sign again", NULL, error);
  o = json_node_get_object (json_parser_get_root (p));
  if (!json_object_has_member (o, "signature") ||
      !JSON_NODE_HOLDS_OBJECT (json_object_get_member (o, "signature")))
    json_object_set_object_member (o, "signature", json_object_new ());
  sig = json_object_get_object_member (o, "signature");
  json_object_set_string_member (sig, "password", password);
  json_generator_set_root (g, json_parser_get_root (p));
  body = json_generator_to_data (g, NULL);
  memset (password, 0, strlen (password));

  /* From here the server may have it. */
  if (g_str_equal (entry->state, "saved") &&
      !rr_store_outbox_update (store, entry->key, "sending", NULL, NULL, error))
    {
      memset (body, 0, strlen (body));
      return FALSE;
    }
  rr_sync_pause_for_tests ("READROOM_OUTBOX_PAUSE_BEFORE_SEND");
  /* The same key and body again are answered with the same receipt: safe
   * to try again under the retry policy. */
  answer = rr_sync_call (c, "POST", path, body, headers, &status, &local);
  memset (body, 0, strlen (body));
  if (answer == NULL)
    {
      rr_store_outbox_update (store, entry->key, "pending", local->message, NULL, NULL);
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
  rr_sync_pause_for_tests ("READROOM_OUTBOX_PAUSE_AFTER_SEND");
  message = answer_message (answer);
  if (status == 200 || status == 201)
    {
      g_autofree char *receipt = g_strndup (g_bytes_get_data (answer, NULL),
                                            g_bytes_get_size (answer));
      return record_answer (c, store, entry->key, "delivered", NULL, receipt, error);
    }
  if (status == 409)
    {
      /* Submitted already: by this entry (a lost answer) or another one;
       * the server says which, with the receipt. */
      gboolean settled;
      if (!settle (c, store, entry, &settled, error))
        return FALSE;
      if (settled)
        return TRUE;
    }
  if (status == 401)
    {
      /* The session, or the signature? Only the signature is the reader's
       * to fix; a dead session keeps the entry waiting. */
      g_autoptr (GError) me = NULL;
      g_autoptr (JsonNode) who = rr_sync_get_json (c, "/readroom/v1/me", &me);
      if (who == NULL)
        {
          rr_store_outbox_update (store, entry->key, "pending", me->message, NULL, NULL);
          g_propagate_error (error, g_steal_pointer (&me));
          return FALSE;
        }
      return record_answer (c, store, entry->key, "refused", RR_SYNC_REFUSED_PASSWORD, NULL,
                            error);
    }
  /* 400, 404 (no longer the reader's), 409, 422: the
   * server will not take it; the reader is told, the draft stays. */
  return record_answer (c, store, entry->key, "refused", message, NULL, error);
}

gboolean
rr_sync_deliver (RrSyncClient  *c,
                 RrStore       *store,
                 gint64         account,
                 guint         *delivered,
                 guint         *refused,
                 GError       **error)
{
  g_autoptr (GPtrArray) pending = NULL;
  if (delivered)
    *delivered = 0;
  if (refused)
    *refused = 0;
  if (!wipe_orphan_secrets (store, error))
    return FALSE;
  pending = rr_store_outbox_list (store, account, "pending", error);
  if (pending == NULL)
    return FALSE;
  for (guint i = 0; i < pending->len; i++)
    {
      RrStoreOutbox *e = pending->pdata[i];
      g_autoptr (RrStoreOutbox) now = NULL;
      if (!deliver_one (c, store, e, error))
        return FALSE;
      now = rr_store_outbox_for_task (store, account, e->task_id, NULL);
      if (now && g_str_equal (now->key, e->key))
        {
          if (delivered && g_str_equal (now->state, "delivered"))
            (*delivered)++;
          if (refused && g_str_equal (now->state, "refused"))
            (*refused)++;
        }
    }
  return TRUE;
}

char *
rr_sync_submit (RrSyncClient  *c,
                RrStore       *store,
                gint64         account,
                const char    *task_id,
                JsonNode      *submission,
                const char    *password,
                GError       **error)
{
  g_autofree char *key = NULL, *body = NULL;
  g_autoptr (JsonGenerator) g = json_generator_new ();
  g_autoptr (RrStoreOutbox) entry = NULL;
  g_autoptr (GError) local = NULL;
  gboolean in_file;
  JsonObject *o;

  if (submission == NULL || !JSON_NODE_HOLDS_OBJECT (submission))
    {
      g_set_error (error, RR_SYNC_ERROR, RR_SYNC_ERROR_SERVER, "A submission is a JSON object");
      return NULL;
    }
  /* The password never goes into the database: it waits in the keyring
   * (or a 0600 file) until the server has answered. */
  o = json_node_get_object (submission);
  if (json_object_has_member (o, "signature") &&
      JSON_NODE_HOLDS_OBJECT (json_object_get_member (o, "signature")))
    json_object_remove_member (json_object_get_object_member (o, "signature"), "password");
  json_generator_set_root (g, submission);
  body = json_generator_to_data (g, NULL);
  if (!wipe_orphan_secrets (store, error))
    return NULL;

  /* One entry per task. One that may have been sent is settled first. */
  entry = rr_store_outbox_for_task (store, account, task_id, &local);
  if (entry == NULL && local)
    {
      g_propagate_error (error, g_steal_pointer (&local));
      return NULL;
    }
  if (entry && g_str_equal (entry->state, "sending"))
    {
      gboolean settled;
      if (!settle (c, store, entry, &settled, &local))
        {
          g_set_error (error, RR_SYNC_ERROR, local->code, "An earlier submission of this task may "
                       "already have reached the server, and the server cannot be asked now (%s). "
                       "Nothing was replaced; submit again when it can be reached.",
                       local->message);
          return NULL;
        }
      g_clear_pointer (&entry, rr_store_outbox_free);
      entry = rr_store_outbox_for_task (store, account, task_id, error);
      if (entry == NULL)
        return NULL;
    }
  if (entry && g_str_equal (entry->body, body) && !g_str_equal (entry->state, "refused"))
    {
      /* The same read again (a submit run again after a crash): the entry
       * it already has, delivered or waiting, with its password renewed
       * while it waits. */
      if (!g_str_equal (entry->state, "delivered") &&
          !rr_sync_secret_save ("signature", c->server, entry->key, password, &in_file, error))
        return NULL;
      return g_strdup (entry->key);
    }
  if (entry && (g_str_equal (entry->state, "delivered") ||
                (g_str_equal (entry->state, "refused") && entry->receipt)))
    {
      g_autofree char *words = describe_receipt (entry->receipt);
      g_set_error (error, RR_SYNC_ERROR, RR_SYNC_ERROR_SUBMITTED,
                   "The server already holds a read of task %s (%s); this one was not sent",
                   task_id, words);
      return NULL;
    }

  /* Saved, or replacing one never sent (the corrected read wins): the
   * entry and its password in one transaction. */
  key = g_uuid_string_random ();
  if (!rr_store_begin (store, error))
    return NULL;
  if (!(entry ? rr_store_outbox_replace (store, entry->key, key, body, error)
              : rr_store_outbox_add (store, account, key, task_id, body, error)) ||
      !rr_sync_secret_save ("signature", c->server, key, password, &in_file, error))
    {
      rr_store_rollback (store);
      rr_sync_secret_clear ("signature", c->server, key);
      return NULL;
    }
  rr_sync_pause_for_tests ("READROOM_OUTBOX_PAUSE_BEFORE_SAVE");
  if (!rr_store_commit (store, error))
    {
      rr_store_rollback (store);
      rr_sync_secret_clear ("signature", c->server, key);
      return NULL;
    }
  if (entry)
    rr_sync_secret_clear ("signature", c->server, entry->key);
  rr_store_audit (store, entry ? "outbox.replace" : "outbox.add", task_id, NULL, NULL);
  g_printerr ("submission for %s saved to the outbox%s\n", task_id,
              entry ? " (replacing the one not sent)" : "");
  rr_sync_pause_for_tests ("READROOM_OUTBOX_PAUSE");
  return g_steal_pointer (&key);
}
