/* fuzz-request.c: libFuzzer over what the server parses from the network
 * before any handler runs: JSON bodies (rr_json_guard, then json-glib on
 * what the guard lets through, as rr_json_load does) and URL paths (the
 * filter's normalisation and classification, the route table's split and
 * match). The first byte picks which; the rest is the input. Built with
 * clang -fsanitize=fuzzer,address by tests/fuzz/run-fuzz.sh. */
#include "rr-access.h"
#include "rr-json-guard.h"

#include <json-glib/json-glib.h>
#include <stdint.h>
#include <string.h>

/* The patterns of rr-server-routes.c's table. */
static const char *const patterns[] = {
  "health", "sessions", "sessions/current", "me", "tasks", "tasks/{id}",
  "tasks/{id}/instances", "tasks/{id}/submission", "tasks/{id}/assignee", "instances",
  "instances/{any}/file", "users", "users/{id}", "trials", "trials/{id}",
  "trials/{id}/members/{id}", "trials/{id}/deid", "trials/{id}/subjects/{any}/timepoints",
  "trials/{id}/export",
  "audit", "audit/verify",
};

static void
fuzz_json (const char *data,
           size_t      size)
{
  if (rr_json_guard (data, size, 8u << 20, RR_JSON_MAX_DEPTH) == RR_JSON_GUARD_OK)
    {
      JsonParser *p = json_parser_new ();
      json_parser_load_from_data (p, data, (gssize) size, NULL);
      g_object_unref (p);
    }
}

static void
fuzz_path (const char *data,
           size_t      size)
{
  char *text = g_strndup (data, size);
  char *norm = rr_access_normalize (text);
  char *study = NULL;
  char **seg;

  if (norm)
    {
      static const char *const methods[] = { "GET", "POST", "PUT", "DELETE" };
      for (guint m = 0; m < G_N_ELEMENTS (methods); m++)
        {
          RrRouteClass c = rr_access_classify (methods[m], norm, &study);
          /* A study route names a valid UID, and only GET reaches one. */
          if (c == RR_ROUTE_STUDY_READ && (!rr_access_is_uid (study) || m != 0))
            __builtin_trap ();
          g_clear_pointer (&study, g_free);
        }
      /* Normalising is idempotent: what passed once passes the same. */
      {
        char *again = rr_access_normalize (norm);
        if (again == NULL || strcmp (again, norm) != 0)
          __builtin_trap ();
        g_free (again);
      }
    }
  seg = rr_access_route_split (text);
  if (seg)
    {
      GPtrArray *groups = g_ptr_array_new ();
      for (guint i = 0; i < G_N_ELEMENTS (patterns); i++)
        if (rr_access_route_match (patterns[i], seg, groups))
          for (guint k = 0; k < groups->len; k++)
            if (strchr (groups->pdata[k], '/') != NULL || *(char *) groups->pdata[k] == '\0')
              __builtin_trap ();
      g_ptr_array_unref (groups);
      g_strfreev (seg);
    }
  g_free (norm);
  g_free (text);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  if (size == 0)
    return 0;
  if (data[0] & 1)
    fuzz_path ((const char *) data + 1, size - 1);
  else
    fuzz_json ((const char *) data + 1, size - 1);
  return 0;
}
