/* rr-sync-outbox.c: submissions saved before they are sent, sent with
 * their idempotency key until the server answers. */
#include "rr-sync-outbox.h"
#include "rr-sync-request.h"
#include "rr-sync-secret.h"

#include <string.h>


static long
post_submission (RrSyncClient  *c,
                 const char    *task_id,
                 const char    *key,
                 const char    *body,
                 GByteArray    *answer,
                 GError       **error)
{
  g_autofree char *path = g_strdup_printf ("/readroom/v1/tasks/%s/submission", task_id);
  g_autofree char *idem = g_strdup_printf ("Idempotency-Key: %s", key);
  const char *headers[] = { idem, NULL };
  long status = 0;
  g_autoptr (GBytes) out = rr_sync_request (c, "POST", path, body, strlen (body), NULL, headers,
                                            &status, error);
  if (out == NULL)
    return -1;
  g_byte_array_append (answer, g_bytes_get_data (out, NULL), (guint) g_bytes_get_size (out));
  return status;
}

static char *
answer_message (GByteArray *answer)
{
  g_autoptr (JsonParser) p = json_parser_new ();
  if (json_parser_load_from_data (p, (const char *) answer->data, (gssize) answer->len, NULL) &&
      JSON_NODE_HOLDS_OBJECT (json_parser_get_root (p)))
    {
      JsonObject *o = json_node_get_object (json_parser_get_root (p));
      if (json_object_has_member (o, "error") &&
          JSON_NODE_HOLDS_OBJECT (json_object_get_member (o, "error")))
        return g_strdup (json_object_get_string_member_with_default (
          json_object_get_object_member (o, "error"), "message", "refused"));
    }
  return g_strdup ("refused");
}

/* Sends one outbox entry with its key; records the answer. FALSE with
 * @error when it could not be answered (it stays pending). */
static gboolean
deliver_one (RrSyncClient   *c,
             RrStore        *store,
             RrStoreOutbox  *entry,
             GError        **error)
{
  g_autofree char *password = rr_sync_secret_load ("signature", c->server, entry->key);
  g_autoptr (JsonParser) p = json_parser_new ();
  g_autoptr (JsonGenerator) g = json_generator_new ();
  g_autoptr (GByteArray) answer = g_byte_array_new ();
  g_autofree char *body = NULL, *message = NULL;
  JsonObject *o, *sig;
  long status;

  if (!json_parser_load_from_data (p, entry->body, -1, NULL) ||
      !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (p)))
    return rr_store_outbox_update (store, entry->key, "refused", "the saved submission is not "
                                   "JSON", NULL, error);
  if (password == NULL)
    return rr_store_outbox_update (store, entry->key, "refused", "the signature's password was "
                                   "not kept; sign again", NULL, error);
  o = json_node_get_object (json_parser_get_root (p));
  if (!json_object_has_member (o, "signature") ||
      !JSON_NODE_HOLDS_OBJECT (json_object_get_member (o, "signature")))
    json_object_set_object_member (o, "signature", json_object_new ());
  sig = json_object_get_object_member (o, "signature");
  json_object_set_string_member (sig, "password", password);
  json_generator_set_root (g, json_parser_get_root (p));
  body = json_generator_to_data (g, NULL);
  memset (password, 0, strlen (password));

  status = post_submission (c, entry->task_id, entry->key, body, answer, error);
  memset (body, 0, strlen (body));
  if (status < 0)
    {
      rr_store_outbox_update (store, entry->key, "pending", (*error)->message, NULL, NULL);
      return FALSE;
    }
  rr_sync_pause_for_tests ("READROOM_OUTBOX_PAUSE_AFTER_SEND");
  message = answer_message (answer);
  if (status == 200 || status == 201)
    {
      g_autofree char *receipt = g_strndup ((const char *) answer->data, answer->len);
      rr_sync_secret_clear ("signature", c->server, entry->key);
      return rr_store_outbox_update (store, entry->key, "delivered", NULL, receipt, error);
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
    }
  if (status == 503 || status >= 500)
    {
      rr_store_outbox_update (store, entry->key, "pending", message, NULL, NULL);
      g_set_error (error, RR_SYNC_ERROR, RR_SYNC_ERROR_SERVER, "%s", message);
      return FALSE;
    }
  /* 400, 401 (the signature), 404 (no longer the reader's), 409, 422: the
   * server will not take it; the reader is told, the draft stays. */
  rr_sync_secret_clear ("signature", c->server, entry->key);
  return rr_store_outbox_update (store, entry->key, "refused", message, NULL, error);
}

gboolean
rr_sync_deliver (RrSyncClient  *c,
                 RrStore       *store,
                 gint64         account,
                 guint         *delivered,
                 guint         *refused,
                 GError       **error)
{
  g_autoptr (GPtrArray) pending = rr_store_outbox_list (store, account, "pending", error);
  if (delivered)
    *delivered = 0;
  if (refused)
    *refused = 0;
  if (pending == NULL)
    return FALSE;
  for (guint i = 0; i < pending->len; i++)
    {
      RrStoreOutbox *e = pending->pdata[i];
      g_autoptr (GPtrArray) now = NULL;
      if (!deliver_one (c, store, e, error))
        return FALSE;
      now = rr_store_outbox_list (store, account, NULL, NULL);
      for (guint k = 0; now && k < now->len; k++)
        {
          RrStoreOutbox *n = now->pdata[k];
          if (g_str_equal (n->key, e->key))
            {
              if (delivered && g_str_equal (n->state, "delivered"))
                (*delivered)++;
              if (refused && g_str_equal (n->state, "refused"))
                (*refused)++;
            }
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
  g_autofree char *key = g_uuid_string_random ();
  g_autoptr (JsonGenerator) g = json_generator_new ();
  g_autofree char *body = NULL;
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
  if (!rr_sync_secret_save ("signature", c->server, key, password, &in_file, error))
    return NULL;
  if (!rr_store_outbox_add (store, account, key, task_id, body, error))
    {
      rr_sync_secret_clear ("signature", c->server, key);
      return NULL;
    }
  rr_store_audit (store, "outbox.add", task_id, NULL, NULL);
  g_printerr ("submission for %s saved to the outbox\n", task_id);
  rr_sync_pause_for_tests ("READROOM_OUTBOX_PAUSE");
  return g_steal_pointer (&key);
}
