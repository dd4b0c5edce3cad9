/* test-sync-failfast.c: an interactive call of the sync client (signing,
 * an admin command: a person waits) fails at once as offline only when
 * every node of the round found no server (rr-sync.h). A node that took
 * the connection and timed out is there: it may have stored the request,
 * so a refusal by another node of the same round must not end the call at
 * once (commit 68ecbd0; before it, the last node's refusal did).
 *
 * Real sockets on 127.0.0.1: a refusing node is a port bound and never
 * listened on (the kernel answers a reset); a slow node accepts, reads the
 * request and says nothing, until curl gives the request up (the client's
 * low-speed limit: under 1 byte/s for 30 s). */
#include <gio/gio.h>
#include <string.h>

#include "rr-sync.h"

#define PATH "/readroom/v1/ping"
#define ANSWER "{\"node\": \"slow\"}"

typedef struct
{
  GSocket *listener;
  guint16 port;
  guint answer_from;   /* the connection (1, 2...) answered first; 0: none */
  gint connections;    /* accepted so far */
  gint requests;       /* of which carried the request */
  gint stop;
  GThread *thread;
} Node;

static guint16
local_port (GSocket *s)
{
  g_autoptr (GSocketAddress) a = g_socket_get_local_address (s, NULL);
  g_assert_nonnull (a);
  return g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (a));
}

static GSocket *
bound_socket (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) any = g_inet_socket_address_new (lo, 0);
  GSocket *s = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
                             G_SOCKET_PROTOCOL_TCP, &error);
  g_assert_no_error (error);
  g_assert_true (g_socket_bind (s, any, FALSE, &error));
  g_assert_no_error (error);
  return s;
}

/* Bound, so no one else takes the port meanwhile, and never listening:
 * a connection there is refused. */
static GSocket *
refusing_node (guint16 *port)
{
  GSocket *s = bound_socket ();
  *port = local_port (s);
  return s;
}

/* One connection: the request read to its blank line, then either the
 * answer or nothing until the client closes (or the test ends). */
static void
serve (Node    *node,
       GSocket *conn,
       guint    nth)
{
  GString *got = g_string_new (NULL);
  gboolean answered = FALSE;

  /* Woken every half second to see whether the test is over. */
  g_socket_set_timeout (conn, 0);
  for (;;)
    {
      char buf[4096];
      gssize n;
      g_autoptr (GError) error = NULL;
      if (g_atomic_int_get (&node->stop))
        break;
      if (!g_socket_condition_timed_wait (conn, G_IO_IN, 500 * 1000, NULL, &error))
        continue;
      n = g_socket_receive (conn, buf, sizeof buf, NULL, &error);
      if (n <= 0)
        break;   /* the client gave up and closed */
      if (got->len < 65536)
        g_string_append_len (got, buf, n);
      if (!answered && strstr (got->str, "\r\n\r\n") != NULL)
        {
          if (g_str_has_prefix (got->str, "GET " PATH " "))
            g_atomic_int_inc (&node->requests);
          if (node->answer_from != 0 && nth >= node->answer_from)
            {
              g_autofree char *reply =
                g_strdup_printf ("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                                 "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
                                 strlen (ANSWER), ANSWER);
              g_socket_send (conn, reply, strlen (reply), NULL, NULL);
              break;
            }
          answered = TRUE;   /* heard; it says nothing */
        }
    }
  g_socket_close (conn, NULL);
  g_object_unref (conn);
  g_string_free (got, TRUE);
}

static gpointer
node_thread (gpointer data)
{
  Node *node = data;
  while (!g_atomic_int_get (&node->stop))
    {
      g_autoptr (GError) error = NULL;
      GSocket *conn;
      if (!g_socket_condition_timed_wait (node->listener, G_IO_IN, 500 * 1000, NULL, &error))
        continue;
      conn = g_socket_accept (node->listener, NULL, NULL);
      if (conn != NULL)
        serve (node, conn, (guint) g_atomic_int_add (&node->connections, 1) + 1);
    }
  return NULL;
}

/* A node that accepts and reads every request; from its @answer_from-th
 * connection on (0: never) it answers 200, before that it says nothing. */
static Node *
slow_node (guint answer_from)
{
  g_autoptr (GError) error = NULL;
  Node *node = g_new0 (Node, 1);
  node->listener = bound_socket ();
  g_assert_true (g_socket_listen (node->listener, &error));
  g_assert_no_error (error);
  node->port = local_port (node->listener);
  node->answer_from = answer_from;
  node->thread = g_thread_new ("slow-node", node_thread, node);
  return node;
}

static void
node_free (Node *node)
{
  g_atomic_int_set (&node->stop, 1);
  g_thread_join (node->thread);
  g_socket_close (node->listener, NULL);
  g_object_unref (node->listener);
  g_free (node);
}

static RrSyncClient *
interactive_client (const char *servers)
{
  g_autofree char *list = rr_sync_servers_normalize (servers, NULL);
  RrSyncClient *c;
  g_assert_nonnull (list);
  c = rr_sync_client_new (list, NULL);
  rr_sync_client_set_interactive (c, TRUE);
  return c;
}

/* Every node refused: offline at once, the refusal itself said (not the
 * offline timeout's words, which come only after trying again for it). */
static void
test_every_node_refused (void)
{
  guint16 a, b;
  g_autoptr (GSocket) sa = refusing_node (&a);
  g_autoptr (GSocket) sb = refusing_node (&b);
  g_autofree char *servers = g_strdup_printf ("http://127.0.0.1:%u,http://127.0.0.1:%u", a, b);
  RrSyncClient *c = interactive_client (servers);
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) answer = rr_sync_get_json (c, PATH, &error);

  g_assert_null (answer);
  g_assert_error (error, RR_SYNC_ERROR, RR_SYNC_ERROR_OFFLINE);
  g_assert_nonnull (strstr (error->message, "cannot be reached"));
  g_assert_null (strstr (error->message, "has not answered usefully"));
  rr_sync_client_free (c);
}

/* The slow node first, then one that refuses: the round's last node
 * refused, but the first took the request. The call goes on to another
 * round, where the slow node answers: the call succeeds. The offline
 * timeout is made longer than the slow node's 30 s so that there is
 * another round to see (the interactive 5 s would have run out). */
static void
test_slow_then_refused_goes_on (void)
{
  Node *slow = slow_node (2);
  guint16 r;
  g_autoptr (GSocket) sr = refusing_node (&r);
  g_autofree char *servers = g_strdup_printf ("http://127.0.0.1:%u,http://127.0.0.1:%u",
                                              slow->port, r);
  RrSyncClient *c = interactive_client (servers);
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) answer = NULL;

  rr_sync_client_set_offline_timeout (c, 120);
  answer = rr_sync_get_json (c, PATH, &error);
  g_assert_no_error (error);
  g_assert_nonnull (answer);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (answer));
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (answer), "node"), ==,
                   "slow");
  /* The request reached the slow node twice: the round after the refusal. */
  g_assert_cmpint (g_atomic_int_get (&slow->requests), ==, 2);
  rr_sync_client_free (c);
  node_free (slow);
}

/* The same nodes with the interactive offline timeout (5 s), as signing
 * has it: the slow node's 30 s use it up, so the call ends after one
 * round, but as the offline timeout ends it ("has not answered usefully",
 * "Nothing was lost"), not as a server that cannot be reached: the slow
 * node may hold the request. */
static void
test_slow_then_refused_not_at_once (void)
{
  Node *slow = slow_node (0);
  guint16 r;
  g_autoptr (GSocket) sr = refusing_node (&r);
  g_autofree char *servers = g_strdup_printf ("http://127.0.0.1:%u,http://127.0.0.1:%u",
                                              slow->port, r);
  RrSyncClient *c = interactive_client (servers);
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) answer = rr_sync_get_json (c, PATH, &error);

  g_assert_null (answer);
  g_assert_error (error, RR_SYNC_ERROR, RR_SYNC_ERROR_OFFLINE);
  g_assert_nonnull (strstr (error->message, "has not answered usefully"));
  g_assert_nonnull (strstr (error->message, "Nothing was lost"));
  g_assert_cmpint (g_atomic_int_get (&slow->requests), ==, 1);
  rr_sync_client_free (c);
  node_free (slow);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/sync/fail-fast/every-node-refused", test_every_node_refused);
  g_test_add_func ("/sync/fail-fast/slow-then-refused-goes-on", test_slow_then_refused_goes_on);
  g_test_add_func ("/sync/fail-fast/slow-then-refused-not-at-once",
                   test_slow_then_refused_not_at_once);
  return g_test_run ();
}
