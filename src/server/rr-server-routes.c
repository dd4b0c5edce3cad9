/* rr-server-routes.c: every route of /readroom/v1 and the one place
 * that runs a handler. */
#include "rr-server-private.h"

/* ---- routing ---- */

static gboolean
is (RrHttpRequest  *req,
    const char *method)
{
  return g_str_equal (req->method, method);
}

/* Dispatches @route (the path after /readroom/v1/). Sets *@file to an
 * Orthanc instance id when the answer is a file to stream (the caller
 * reads it outside the lock). */
static void
dispatch (const char *route,
          RrHttpRequest  *req,
          RrHttpAnswer *resp,
          char      **file)
{
  g_auto (GStrv) seg = g_strsplit (route, "/", 8);
  guint n = g_strv_length (seg);
  gboolean admin = req->user && req->user->admin;

  *file = NULL;
  if (n == 1 && g_str_equal (seg[0], "health") && is (req, "GET"))
    return rr_respond_json (resp, 200, g_strdup ("{\"plugin\": \"readroom\", \"version\": \""
                                                 RR_SERVER_VERSION "\"}"));
  if (n == 1 && g_str_equal (seg[0], "sessions"))
    return is (req, "POST") ? post_sessions (req, resp) : not_found (resp);
  if (req->user == NULL)
    return rr_respond_error (resp, 401, "unauthenticated", "A valid bearer token is required", NULL);

  if (n == 2 && g_str_equal (seg[0], "sessions") && g_str_equal (seg[1], "current") && is (req, "DELETE"))
    return delete_session (req, resp);
  if (n == 1 && g_str_equal (seg[0], "me") && is (req, "GET"))
    return get_me (req, resp);
  if (n == 1 && g_str_equal (seg[0], "tasks") && is (req, "GET"))
    return get_tasks (req, resp);
  if (n >= 2 && g_str_equal (seg[0], "tasks") && valid_id (seg[1], 64))
    {
      if (n == 2 && is (req, "GET"))
        return get_task (req, resp, seg[1]);
      if (n == 3 && g_str_equal (seg[2], "instances") && is (req, "GET"))
        return get_task_instances (req, resp, seg[1]);
      if (n == 3 && g_str_equal (seg[2], "submission") && is (req, "POST"))
        return post_submission (req, resp, seg[1]);
      if (n == 3 && g_str_equal (seg[2], "submission") && is (req, "GET"))
        return get_submission (req, resp, seg[1]);
      return not_found (resp);
    }
  if (n == 1 && g_str_equal (seg[0], "instances") && is (req, "POST"))
    return post_instances (req, resp);
  if (n == 3 && g_str_equal (seg[0], "instances") && g_str_equal (seg[2], "file") && is (req, "GET"))
    return get_instance_file (req, resp, seg[1], file);

  /* Administration: an admin's only; others learn nothing (403 without
   * telling whether the thing exists). */
  if ((n >= 1 && (g_str_equal (seg[0], "users") || g_str_equal (seg[0], "trials") ||
                  g_str_equal (seg[0], "audit"))) && !admin)
    return forbidden (resp);
  if (n == 1 && g_str_equal (seg[0], "users") && is (req, "POST"))
    return post_users (req, resp);
  if (n == 2 && g_str_equal (seg[0], "users") && valid_id (seg[1], 64) && is (req, "PUT"))
    return put_user (req, resp, seg[1]);
  if (n == 1 && g_str_equal (seg[0], "trials") && is (req, "POST"))
    return post_trials (req, resp);
  if (n == 1 && g_str_equal (seg[0], "trials") && is (req, "GET"))
    return get_trials (req, resp, NULL);
  if (n >= 2 && g_str_equal (seg[0], "trials") && valid_id (seg[1], 64))
    {
      if (n == 2 && is (req, "GET"))
        return get_trials (req, resp, seg[1]);
      if (n == 4 && g_str_equal (seg[2], "members") && valid_id (seg[3], 64) && is (req, "PUT"))
        return put_member (req, resp, seg[1], seg[3]);
      if (n == 5 && g_str_equal (seg[2], "subjects") && g_str_equal (seg[4], "timepoints") &&
          is (req, "POST"))
        return post_timepoint (req, resp, seg[1], seg[3]);
      if (n == 3 && g_str_equal (seg[2], "export") && is (req, "GET"))
        return get_export (req, resp, seg[1]);
      return not_found (resp);
    }
  if (n == 1 && g_str_equal (seg[0], "audit") && is (req, "GET"))
    return get_audit (req, resp);
  if (n == 2 && g_str_equal (seg[0], "audit") && g_str_equal (seg[1], "verify") && is (req, "GET"))
    return get_audit_verify (resp);
  not_found (resp);
}

/* Serves a stored file, whole or one byte range, without the lock. */
void
rr_api_handle (const char *route,
               RrHttpRequest  *req,
               RrHttpAnswer *resp)
{
  g_autofree char *file = NULL;

  g_mutex_lock (&rr_server->lock);
  {
    const char *auth = g_hash_table_lookup (req->headers, "authorization");
    if (auth && g_str_has_prefix (auth, "Bearer "))
      req->user = rr_user_from_token (auth + 7);
    dispatch (route, req, resp, &file);
  }
  g_mutex_unlock (&rr_server->lock);
  if (file)
    answer_file (req, resp, file);
  g_clear_pointer (&req->user, rr_user_free);
}
