/* rr-server-routes.c: every route of /readroom/v1, with the role it needs,
 * in one table; and the one function that runs a handler. */
#include "rr-server-private.h"
#include "rr-db-pg.h"

typedef enum
{
  ROLE_NONE,      /* no token needed */
  ROLE_USER,      /* any live token; the handler checks the resource */
  ROLE_ADMIN,
} RouteRole;

typedef struct
{
  const char *method;
  /* Segments after /readroom/v1/; "{id}" is an identifier (letters,
   * digits, '.', '_', '-', up to 64), "{any}" any one segment that the
   * handler checks itself. Matched segments are the request's groups. */
  const char *pattern;
  RouteRole role;
  void (*handler) (RrHttpRequest *req, RrHttpAnswer *resp);
  /* The Content-Type a body must have (415 otherwise); NULL: no body. */
  const char *body;
} Route;

#define JSON "application/json"
#define DICOM "application/dicom"

static void
get_health (RrHttpRequest *req,
            RrHttpAnswer  *resp)
{
  rr_respond_json (resp, 200, g_strdup ("{\"plugin\": \"readroom\", \"version\": \""
                                        RR_SERVER_VERSION "\"}"));
}

static const Route routes[] = {
  { "GET",    "health",                                ROLE_NONE,  get_health, NULL },
  { "POST",   "sessions",                              ROLE_NONE,  post_sessions, JSON },
  { "DELETE", "sessions/current",                      ROLE_USER,  delete_session, NULL },
  { "GET",    "me",                                    ROLE_USER,  get_me, NULL },
  { "GET",    "tasks",                                 ROLE_USER,  get_tasks, NULL },
  { "GET",    "tasks/{id}",                            ROLE_USER,  get_task, NULL },
  { "GET",    "tasks/{id}/instances",                  ROLE_USER,  get_task_instances, NULL },
  { "POST",   "tasks/{id}/submission",                 ROLE_USER,  post_submission, JSON },
  { "GET",    "tasks/{id}/submission",                 ROLE_USER,  get_submission, NULL },
  { "PUT",    "tasks/{id}/assignee",                   ROLE_ADMIN, put_task_assignee, JSON },
  { "POST",   "instances",                             ROLE_USER,  post_instances, DICOM },
  { "GET",    "instances/{any}/file",                  ROLE_USER,  get_instance_file, NULL },
  { "POST",   "users",                                 ROLE_ADMIN, post_users, JSON },
  { "PUT",    "users/{id}",                            ROLE_ADMIN, put_user, JSON },
  { "GET",    "users",                                 ROLE_ADMIN, get_users, NULL },
  { "POST",   "trials",                                ROLE_ADMIN, post_trials, JSON },
  { "GET",    "trials",                                ROLE_ADMIN, get_trials, NULL },
  { "GET",    "trials/{id}",                           ROLE_ADMIN, get_trials, NULL },
  { "PUT",    "trials/{id}/members/{id}",              ROLE_ADMIN, put_member, JSON },
  { "PUT",    "trials/{id}/protocol",                  ROLE_ADMIN, put_protocol, JSON },
  { "GET",    "trials/{id}/deid",                      ROLE_USER,  get_trial_deid, NULL },
  { "POST",   "trials/{id}/subjects/{any}/timepoints", ROLE_ADMIN, post_timepoint, JSON },
  { "GET",    "trials/{id}/export",                    ROLE_ADMIN, get_export, NULL },
  { "GET",    "audit",                                 ROLE_ADMIN, get_audit, NULL },
  { "GET",    "audit/verify",                          ROLE_ADMIN, get_audit_verify, NULL },
};

/* What a reader asks for all day, answered from a snapshot of the
 * database without the server's lock (rr_db_snapshot_begin): they only
 * read, so they need not wait for a login's commit or anyone else's. A
 * handler listed here must not write (its connection is read-only) and
 * must touch no state of the server but the database. */
static void (*const snapshot_handlers[]) (RrHttpRequest *, RrHttpAnswer *) = {
  get_health, get_me, get_tasks, get_task, get_task_instances, get_instance_file, get_submission,
};

/* Administration's resources: a non-admin learns nothing about what is
 * under them (403 whatever the path, never 404). */
static const char *const admin_only[] = { "users", "trials", "audit", NULL };

/* The route for @method and @path (after /readroom/v1/), or NULL; its
 * path parameters are added to @params (which owns its strings). */
static const Route *
route_find (const char  *method,
            const char  *path,
            GPtrArray   *params)
{
  g_auto (GStrv) seg = rr_access_route_split (path);
  g_autoptr (GPtrArray) groups = g_ptr_array_new ();

  if (seg == NULL)
    return NULL;
  for (guint i = 0; i < G_N_ELEMENTS (routes); i++)
    if (g_str_equal (routes[i].method, method) &&
        rr_access_route_match (routes[i].pattern, seg, groups))
      {
        /* The groups point into @seg: copy them out. */
        for (guint k = 0; k < groups->len; k++)
          g_ptr_array_add (params, g_strdup (groups->pdata[k]));
        return &routes[i];
      }
  return NULL;
}

/* Is the request's Content-Type @type (parameters such as charset
 * aside)? */
static gboolean
has_type (const RrHttpRequest *req,
          const char          *type)
{
  const char *given = g_hash_table_lookup (req->headers, "content-type");
  gsize n = strlen (type);
  if (given == NULL)
    return FALSE;
  while (*given == ' ')
    given++;
  if (g_ascii_strncasecmp (given, type, n) != 0)
    return FALSE;
  given += n;
  while (*given == ' ')
    given++;
  return *given == '\0' || *given == ';';
}

/* Runs the handler of @route (found for @path, its groups in @groups) for
 * @req, whose user is already known. */
static void
dispatch (const Route   *route,
          const char    *path,
          GPtrArray     *groups,
          RrHttpRequest *req,
          RrHttpAnswer  *resp)
{
  req->groups = (char **) groups->pdata;
  req->n_groups = groups->len;
  /* Who asks first, whatever the body: 401 without a live token. */
  if (req->user == NULL && !(route && route->role == ROLE_NONE))
    return rr_respond_error (resp, 401, "unauthenticated", "A valid bearer token is required",
                             NULL);
  if (route == NULL || (route->role == ROLE_ADMIN && !req->user->admin))
    {
      g_autofree char *first = g_strndup (path, strcspn (path, "/"));
      if (!req->user->admin && one_of (first, admin_only))
        return forbidden (resp);
      return not_found (resp);
    }
  if (route->body && !has_type (req, route->body))
    {
      g_autofree char *msg = g_strdup_printf ("The body must be %s", route->body);
      return rr_respond_error (resp, 415, "unsupported_media_type", msg, NULL);
    }
  route->handler (req, resp);
}

static gboolean
is_snapshot_route (const Route *route)
{
  for (guint i = 0; route && i < G_N_ELEMENTS (snapshot_handlers); i++)
    if (route->handler == snapshot_handlers[i])
      return TRUE;
  return FALSE;
}

/* ---- the lock ---- */

/* Whether this thread holds the server's lock. */
static __thread gboolean holding;

typedef struct
{
  GMutexLocker *locker;
} Held;

static void
held_release (Held *h)
{
  holding = FALSE;
  g_mutex_locker_free (h->locker);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Held, held_release)

/* PostgreSQL: a request lost a race this many times is answered 503. */
#define MAX_TRIES 5

/* Whether this thread's last rr_with_lock on PostgreSQL gave up. */
static __thread gboolean gave_up;

typedef struct
{
  gboolean open;
  gboolean *again;
} Tx;

static void
tx_end (Tx *t)
{
  gboolean committed = FALSE;
  holding = FALSE;
  if (!t->open)
    return;
  *t->again = !rr_db_pg_request_end (&committed);
  rr_db_request_ended (committed);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Tx, tx_end)

/* No process lock on PostgreSQL: @func is one transaction, run again
 * from the start when it lost a race to another request or node. */
static void
with_tx (RrLockedFunc func,
         gpointer     data)
{
  gave_up = FALSE;
  for (int i = 0; i < MAX_TRIES; i++)
    {
      gboolean again = FALSE;
      {
        /* Ended on every way out, a C++ exception unwinding included. */
        g_auto (Tx) tx = { rr_db_pg_request_begin (), &again };
        if (!tx.open)
          {
            gave_up = TRUE;
            return;
          }
        holding = TRUE;
        func (data);
      }
      if (!again)
        return;
    }
  gave_up = TRUE;
}

void
rr_with_lock (RrLockedFunc func,
              gpointer     data)
{
  if (holding)
    {
      func (data);
      return;
    }
  if (rr_db == &rr_db_pg)
    {
      with_tx (func, data);
      return;
    }
  {
    /* Released when this block is left, whichever way. */
    g_auto (Held) held = { g_mutex_locker_new (&rr_server->lock) };
    holding = TRUE;
    func (data);
  }
}

void
rr_without_lock (RrLockedFunc func,
                 gpointer     data)
{
  gboolean committed = FALSE;

  if (!holding)
    {
      func (data);
      return;
    }
  if (rr_db == &rr_db_pg)
    {
      /* What was done so far commits, as the lock's release would let
       * others see it; the rest of the request is a new transaction. */
      holding = FALSE;
      rr_db_pg_request_end (&committed);
      rr_db_request_ended (committed);
      func (data);
      rr_db_pg_request_begin ();
      holding = TRUE;
      return;
    }
  holding = FALSE;
  g_mutex_unlock (&rr_server->lock);
  func (data);
  g_mutex_lock (&rr_server->lock);
  holding = TRUE;
}

typedef struct
{
  gboolean open;
} Snapshot;

static void
snapshot_end (Snapshot *s)
{
  if (s->open)
    rr_db_snapshot_end ();
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Snapshot, snapshot_end)

typedef struct
{
  const char *path;
  const Route *route;
  GPtrArray *groups;
  RrHttpRequest *req;
  RrHttpAnswer *resp;
} Call;

/* Who the token names, then the handler: under the lock, or in a
 * snapshot, the same steps. */
static void
call (gpointer data)
{
  Call *c = data;
  const char *auth = g_hash_table_lookup (c->req->headers, "authorization");
  /* From the start when run again after a lost race (PostgreSQL). */
  g_clear_pointer (&c->req->user, rr_user_free);
  rr_response_clear (c->resp);
  if (auth && g_str_has_prefix (auth, "Bearer "))
    c->req->user = rr_user_from_token (auth + 7);
  dispatch (c->route, c->path, c->groups, c->req, c->resp);
}

typedef struct
{
  const char *bearer;
  RrUploadRight right;
} UploadCheck;

/* An admin, or a site member of some trial (the query post_instances asks
 * with no trial named): the only users whose body is worth reading. */
static void
upload_check (gpointer data)
{
  UploadCheck *c = data;
  g_autoptr (RrUser) user = rr_user_from_token (c->bearer);
  RrStmt *st;

  if (user == NULL)
    return;
  c->right = RR_UPLOAD_NOT_UPLOADER;
  if (user->admin)
    {
      c->right = RR_UPLOAD_ALLOWED;
      return;
    }
  st = rr_db_query (RR_Q_SITE_MEMBERSHIP);
  if (st == NULL)
    return;
  rr_stmt_bind_int (st, 1, user->id);
  if (rr_stmt_step (st) == RR_ROW)
    c->right = RR_UPLOAD_ALLOWED;
  rr_stmt_finalize (st);
}

RrUploadRight
rr_api_upload_right (const char *authorization)
{
  UploadCheck c = { NULL, RR_UPLOAD_NO_TOKEN };
  if (authorization == NULL || !g_str_has_prefix (authorization, "Bearer "))
    return RR_UPLOAD_NO_TOKEN;
  c.bearer = authorization + 7;
  if (rr_db_snapshot_begin ())
    {
      g_auto (Snapshot) snap = { TRUE };
      upload_check (&c);
    }
  else
    rr_with_lock (upload_check, &c);
  return c.right;
}

void
rr_api_handle (const char    *route,
               RrHttpRequest *req,
               RrHttpAnswer  *resp)
{
  g_autofree char *file = NULL;
  g_autoptr (GPtrArray) groups = g_ptr_array_new_with_free_func (g_free);
  Call c = { route, route_find (req->method, route, groups), groups, req, resp };

  /* A snapshot that cannot be had (no reader connection) falls back to the
   * lock: slower, never wrong. */
  if (is_snapshot_route (c.route) && rr_db_snapshot_begin ())
    {
      /* Ended on every way out, a C++ exception unwinding included. */
      g_auto (Snapshot) snap = { TRUE };
      call (&c);
    }
  else
    {
      rr_with_lock (call, &c);
      if (gave_up)
        {
          rr_response_clear (resp);
          rr_respond_error (resp, 503, "rate_limited", "The server is busy; try again", NULL);
        }
    }
  file = g_steal_pointer (&resp->stream);
  if (file)
    answer_file (req, resp, file);
  req->groups = NULL;
  req->n_groups = 0;
  g_clear_pointer (&req->user, rr_user_free);
}
