/* rr-server-tasks.c: tasks and the workflow: readers drawn and kept per
 * subject, hand-over when a reader leaves, the task list and one task
 * with what its kind needs, and its manifest. */
#include "rr-server-private.h"

#include <string.h>

#define DUE_DAYS 14

static void write_task (RrJsonWriter *w, const Task *t, gboolean close);

/* ---- tasks ---- */

/* The member of @trial with @role who has the fewest open tasks, not in
 * @exclude (user ids); -1 when there is none. */
gint64
least_loaded (const char *trial,
              const char *role,
              GArray     *exclude)
{
  RrStmt *st = rr_db_query (RR_Q_POOL_BY_LOAD);
  g_autofree char *like = g_strdup_printf ("%%,%s,%%", role);
  gint64 best = -1;
  rr_stmt_bind_text (st, 1, trial);
  rr_stmt_bind_text (st, 2, like);
  while (st && rr_stmt_step (st) == RR_ROW && best < 0)
    {
      gint64 id = rr_stmt_column_int (st, 0);
      gboolean skip = FALSE;
      for (guint i = 0; exclude && i < exclude->len; i++)
        skip |= g_array_index (exclude, gint64, i) == id;
      if (!skip)
        best = id;
    }
  rr_stmt_finalize (st);
  return best;
}

char *
create_task (const char *kind,
             const char *trial,
             const char *subject,
             gint64      timepoint,
             gint64      user_id,
             int         slot,
             const char *by)
{
  g_autofree char *id = g_uuid_string_random ();
  g_autofree char *now = rr_now_rfc3339 ();
  g_autofree char *due = rr_time_rfc3339 (g_get_real_time () / G_USEC_PER_SEC + DUE_DAYS * 86400);
  g_autofree char *details = NULL;
  g_autoptr (RrJsonWriter) w = rr_json_writer_new (FALSE);
  RrStmt *st = rr_db_query (RR_Q_TASK_INSERT);
  rr_stmt_bind_text (st, 1, id);
  rr_stmt_bind_text (st, 2, kind);
  rr_stmt_bind_text (st, 3, trial);
  rr_stmt_bind_text (st, 4, subject);
  rr_stmt_bind_int (st, 5, timepoint);
  rr_stmt_bind_int (st, 6, user_id);
  rr_stmt_bind_int (st, 7, slot);
  rr_stmt_bind_text (st, 8, now);
  rr_stmt_bind_text (st, 9, due);
  if (!step_done (st))
    return NULL;
  rr_json_begin_object (w);
  rr_json_key (w, "kind");
  rr_json_string (w, kind);
  rr_json_key (w, "trial");
  rr_json_string (w, trial);
  rr_json_key (w, "subject");
  rr_json_string (w, subject);
  rr_json_key (w, "timepoint");
  rr_json_int (w, timepoint);
  rr_json_key (w, "assignee");
  rr_json_int (w, user_id);
  rr_json_end_object (w);
  details = rr_json_writer_steal (w);
  if (!rr_audit_append (by, "task.create", id, details))
    return NULL;
  return g_steal_pointer (&id);
}

/* @user_id reads @subject in @slot from now on; whoever held the slot
 * before keeps no claim on the subject. */
static gboolean
set_subject_reader (const char *trial,
                    const char *subject,
                    gint64      slot,
                    gint64      user_id)
{
  static const RrQueryId sql[] = { RR_Q_SUBJECT_READER_CLEAR, RR_Q_SUBJECT_READER_SET };
  for (guint i = 0; i < G_N_ELEMENTS (sql); i++)
    {
      RrStmt *st = rr_db_query (sql[i]);
      rr_stmt_bind_text (st, 1, trial);
      rr_stmt_bind_text (st, 2, subject);
      rr_stmt_bind_int (st, 3, slot);
      rr_stmt_bind_int (st, 4, user_id);
      if (!step_done (st))
        return FALSE;
    }
  return TRUE;
}

/* The read tasks of a timepoint, by the subject's own readers (drawn from
 * the pool the first time, kept after). FALSE, with nothing created, when
 * the trial has too few readers. */
gboolean
create_read_tasks (const char *trial,
                   const char *subject,
                   gint64      timepoint,
                   const char *by,
                   GPtrArray  *created)
{
  gint64 n = query_int (RR_Q_TRIAL_READERS_PER_CASE, trial, NULL);
  g_autoptr (GArray) readers = g_array_new (FALSE, FALSE, sizeof (gint64));
  RrStmt *st;

  /* The subject's reader of each slot, while still an active reader of the
   * trial; the slots without one draw a reader who is not the subject's
   * other. */
  for (gint64 slot = 1; slot <= n; slot++)
    {
      gint64 uid = -1;
      st = rr_db_query (RR_Q_SUBJECT_READER_OF_SLOT);
      rr_stmt_bind_text (st, 1, trial);
      rr_stmt_bind_text (st, 2, subject);
      rr_stmt_bind_int (st, 3, slot);
      if (st && rr_stmt_step (st) == RR_ROW)
        uid = rr_stmt_column_int (st, 0);
      rr_stmt_finalize (st);
      g_array_append_val (readers, uid);
    }
  for (gint64 slot = 1; slot <= n; slot++)
    {
      gint64 *uid = &g_array_index (readers, gint64, slot - 1);
      if (*uid >= 0)
        continue;
      *uid = least_loaded (trial, "reader", readers);
      if (*uid < 0)
        return FALSE;
      if (!set_subject_reader (trial, subject, slot, *uid))
        return FALSE;
    }
  for (guint i = 0; i < readers->len; i++)
    {
      char *id = create_task ("read", trial, subject, timepoint,
                              g_array_index (readers, gint64, i), (int) i + 1, by);
      if (id == NULL)
        return FALSE;
      g_ptr_array_add (created, id);
    }
  return TRUE;
}

/* The user who holds the reads nobody could take over (a disabled row of
 * the users table, made by migration 2, that no one can log in as). */
gint64
unassigned_user (void)
{
  return query_int (RR_Q_UNASSIGNED_USER_ID, NULL, NULL);
}

/* The open reads of @user_id in @trial, who left its reader pool: each is
 * cancelled (the reader's workstation keeps their draft and says the task
 * was withdrawn), and the subject's slot passes to the least loaded other
 * reader, never the subject's other reader, with a new task for the same
 * timepoint. When no reader can take it, the new task is unassigned: it
 * waits, in an admin's task list, for PUT /tasks/{id}/assignee. Leaving
 * always succeeds. The reader's other subjects draw a new reader at their
 * next timepoint. FALSE when the database fails: the caller rolls back. */
gboolean
hand_over_reads (const char  *trial,
                 gint64       user_id,
                 const char  *by)
{
  typedef struct { char *id, *subject; gint64 timepoint, slot; } Open;
  g_autoptr (GArray) open = g_array_new (FALSE, TRUE, sizeof (Open));
  RrStmt *st = rr_db_query (RR_Q_OPEN_READS_OF_USER);
  gboolean ok = st != NULL;
  gint64 nobody = unassigned_user ();

  rr_stmt_bind_text (st, 1, trial);
  rr_stmt_bind_int (st, 2, user_id);
  while (st && rr_stmt_step (st) == RR_ROW)
    {
      Open o = { g_strdup (col_text (st, 0)), g_strdup (col_text (st, 1)),
                 rr_stmt_column_int (st, 2), rr_stmt_column_int (st, 3) };
      g_array_append_val (open, o);
    }
  rr_stmt_finalize (st);
  ok = ok && nobody >= 0;
  for (guint i = 0; ok && i < open->len; i++)
    {
      Open *o = &g_array_index (open, Open, i);
      g_autoptr (GArray) exclude = g_array_new (FALSE, FALSE, sizeof (gint64));
      g_autofree char *successor = NULL, *details = NULL;
      g_autoptr (RrJsonWriter) w = rr_json_writer_new (FALSE);
      gint64 next;

      /* The slot's successor when an earlier read of the same subject was
       * handed over already (one reader per slot); else the least loaded
       * reader who does not read the subject's other slots. */
      g_array_append_val (exclude, user_id);
      next = -1;
      st = rr_db_query (RR_Q_SUBJECT_READERS_OF_SUBJECT);
      rr_stmt_bind_text (st, 1, trial);
      rr_stmt_bind_text (st, 2, o->subject);
      while (st && rr_stmt_step (st) == RR_ROW)
        {
          gint64 other = rr_stmt_column_int (st, 0);
          if (rr_stmt_column_int (st, 1) != o->slot)
            g_array_append_val (exclude, other);
          else if (other != user_id)
            next = other;
        }
      rr_stmt_finalize (st);
      if (next < 0)
        next = least_loaded (trial, "reader", exclude);
      st = rr_db_query (RR_Q_TASK_CANCEL);
      rr_stmt_bind_text (st, 1, o->id);
      ok = step_done (st);
      if (next >= 0)
        ok = set_subject_reader (trial, o->subject, o->slot, next) && ok;
      successor = ok ? create_task ("read", trial, o->subject, o->timepoint,
                                    next >= 0 ? next : nobody, (int) o->slot, by) : NULL;
      ok = successor != NULL;
      if (ok)
        {
          rr_json_begin_object (w);
          rr_json_key (w, "reason");
          rr_json_string (w, "the reader left the trial's reader pool");
          rr_json_key (w, "successor");
          rr_json_string (w, successor);
          rr_json_key (w, "unassigned");
          rr_json_bool (w, next < 0);
          rr_json_end_object (w);
          details = rr_json_writer_steal (w);
          ok = rr_audit_append (by, "task.cancel", o->id, details);
        }
    }
  if (ok)
    {
      /* The subjects whose reads were all done: their next timepoint draws
       * a reader from the pool again. */
      st = rr_db_query (RR_Q_SUBJECT_READERS_DELETE_USER);
      rr_stmt_bind_text (st, 1, trial);
      rr_stmt_bind_int (st, 2, user_id);
      ok = step_done (st);
    }
  for (guint i = 0; i < open->len; i++)
    {
      g_free (g_array_index (open, Open, i).id);
      g_free (g_array_index (open, Open, i).subject);
    }
  return ok;
}

/* hand_over_reads in every trial where @user_id has reads open. */
gboolean
hand_over_all_reads (gint64      user_id,
                     const char *by)
{
  g_autoptr (GPtrArray) trials = g_ptr_array_new_with_free_func (g_free);
  RrStmt *st = rr_db_query (RR_Q_TRIALS_WITH_OPEN_READS);
  rr_stmt_bind_int (st, 1, user_id);
  while (st && rr_stmt_step (st) == RR_ROW)
    g_ptr_array_add (trials, g_strdup (col_text (st, 0)));
  rr_stmt_finalize (st);
  for (guint i = 0; i < trials->len; i++)
    if (!hand_over_reads (trials->pdata[i], user_id, by))
      return FALSE;
  return TRUE;
}

/* The user a query waiting unassigned may go to: an active site member of
 * its trial at the site its timepoint's studies were uploaded from (the
 * uploader having left), who sees the marked images through the task.
 * -1 when @username is not one. */
static gint64
query_site_member (const Task *t,
                   const char *username)
{
  g_autoptr (GPtrArray) sites = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *site = NULL;
  RrStmt *st;
  gint64 uid = -1;

  st = rr_db_query (RR_Q_TIMEPOINT_STUDY_SITES);
  rr_stmt_bind_int (st, 1, t->timepoint);
  while (st && rr_stmt_step (st) == RR_ROW)
    g_ptr_array_add (sites, g_strdup (col_text (st, 0)));
  rr_stmt_finalize (st);
  st = rr_db_query (RR_Q_SITE_MEMBER_OF_TRIAL_BY_NAME);
  rr_stmt_bind_text (st, 1, username);
  rr_stmt_bind_text (st, 2, t->trial);
  if (st && rr_stmt_step (st) == RR_ROW)
    {
      uid = rr_stmt_column_int (st, 0);
      site = g_strdup (col_text (st, 1));
    }
  rr_stmt_finalize (st);
  /* No site recorded (an admin's upload) is no site to match. */
  if (site == NULL || !g_ptr_array_find_with_equal_func (sites, site, g_str_equal, NULL))
    return -1;
  return uid;
}

/* PUT /tasks/{id}/assignee {"username"} (admin): an unassigned read goes to
 * an active reader of its trial who does not read the subject's other
 * slot; the reader keeps the subject's slot from then on. An unassigned
 * query goes to an active site member at the timepoint's site. */
void
put_task_assignee (RrHttpRequest *req,
                   RrHttpAnswer  *resp)
{
  const char *id = req->groups[0];
  g_autoptr (JsonParser) parser = NULL;
  JsonObject *o = parse_object (req, resp, &parser);
  gboolean ok = o != NULL;
  const char *username = o ? member_string (o, "username", TRUE, 64, &ok, resp) : NULL;
  g_auto (Task) t = { 0 };
  g_autofree char *details = NULL;
  g_autoptr (RrJsonWriter) w = NULL;
  RrStmt *st;
  gint64 uid;
  gboolean reader, other_slot, query;

  if (!ok)
    return;
  if (!task_get (req->user, id, &t))
    return not_found (resp);
  query = g_str_equal (t.kind, "query");
  if ((!query && !g_str_equal (t.kind, "read")) || !g_str_equal (t.status, "open") ||
      t.user_id != unassigned_user ())
    return rr_respond_error (resp, 409, "conflict", "Only an open, unassigned read or query "
                             "is assigned this way", NULL);
  if (query)
    {
      uid = query_site_member (&t, username);
      if (uid < 0)
        return rr_respond_error (resp, 422, "invalid_request", "That user is not an active "
                                 "site member of the trial at the site the images came from",
                                 NULL);
    }
  else
    {
      st = rr_db_query (RR_Q_READER_OF_TRIAL_BY_NAME);
      rr_stmt_bind_text (st, 1, username);
      rr_stmt_bind_text (st, 2, t.trial);
      reader = st && rr_stmt_step (st) == RR_ROW;
      uid = reader ? rr_stmt_column_int (st, 0) : -1;
      rr_stmt_finalize (st);
      if (!reader)
        return rr_respond_error (resp, 422, "invalid_request", "That user is not an active "
                                 "reader of the task's trial", NULL);
      st = rr_db_query (RR_Q_SUBJECT_READER_IN_OTHER_SLOT);
      rr_stmt_bind_text (st, 1, t.trial);
      rr_stmt_bind_text (st, 2, t.subject);
      rr_stmt_bind_int (st, 3, uid);
      rr_stmt_bind_int (st, 4, t.slot);
      other_slot = st && rr_stmt_step (st) == RR_ROW;
      rr_stmt_finalize (st);
      if (other_slot)
        return rr_respond_error (resp, 409, "conflict", "That reader reads the subject's other "
                                 "slot: the two reads must be by two people", NULL);
    }
  w = rr_json_writer_new (FALSE);
  rr_json_begin_object (w);
  rr_json_key (w, "assignee");
  rr_json_string (w, username);
  rr_json_end_object (w);
  details = rr_json_writer_steal (w);
  rr_db_begin ();
  if (!task_unchanged (&t))
    {
      rr_db_rollback ();
      return rr_respond_error (resp, 409, "conflict", "The task changed meanwhile", NULL);
    }
  st = rr_db_query (RR_Q_TASK_SET_ASSIGNEE);
  rr_stmt_bind_int (st, 1, uid);
  rr_stmt_bind_text (st, 2, t.id);
  if (!step_done (st) || (!query && !set_subject_reader (t.trial, t.subject, t.slot, uid)) ||
      !rr_audit_append (req->user->username, "task.assign", t.id, details))
    {
      rr_db_rollback ();
      return server_failed (resp);
    }
  rr_db_commit ();
  task_clear (&t);
  if (!task_get (req->user, id, &t))
    return server_failed (resp);
  w = rr_json_writer_new (FALSE);
  write_task (w, &t, TRUE);
  rr_respond_json (resp, 200, rr_json_writer_steal (w));
}

void
task_clear (Task *t)
{
  g_free (t->id);
  g_free (t->kind);
  g_free (t->trial);
  g_free (t->subject);
  g_free (t->status);
  g_free (t->created_at);
  g_free (t->due_at);
  g_free (t->criteria);
  g_free (t->reading);
}

static void
task_from_row (Task         *t,
               RrStmt *st)
{
  t->id = g_strdup (col_text (st, 0));
  t->kind = g_strdup (col_text (st, 1));
  t->trial = g_strdup (col_text (st, 2));
  t->subject = g_strdup (col_text (st, 3));
  t->status = g_strdup (col_text (st, 4));
  t->created_at = g_strdup (col_text (st, 5));
  t->due_at = g_strdup (col_text (st, 6));
  t->criteria = g_strdup (col_text (st, 7));
  t->timepoint = rr_stmt_column_int (st, 8);
  t->user_id = rr_stmt_column_int (st, 9);
  t->version = rr_stmt_column_int (st, 10);
  t->slot = rr_stmt_column_int (st, 11);
  t->day = rr_stmt_column_int (st, 12);
  t->reading = g_strdup (col_text (st, 13));
}

/* The roles @user holds in @trial (none: an empty list). */
static char **
member_roles (const RrUser *user,
              const char   *trial)
{
  RrStmt *st = rr_db_query (RR_Q_MEMBER_ROLES);
  char **roles = NULL;

  rr_stmt_bind_text (st, 1, trial);
  rr_stmt_bind_int (st, 2, user->id);
  if (st && rr_stmt_step (st) == RR_ROW)
    roles = g_strsplit (col_text (st, 0), ",", -1);
  rr_stmt_finalize (st);
  return roles ? roles : g_new0 (char *, 1);
}

/* Whether @roles has the role a task of @kind is done in. */
static gboolean
kind_role_held (const char *const *roles,
                const char        *kind)
{
  const char *role = g_str_equal (kind, "read") ? "reader"
                     : g_str_equal (kind, "adjudication") ? "adjudicator"
                     : g_str_equal (kind, "query") ? "site" : "qc";
  return g_strv_contains (roles, role);
}

/* Does @user still hold, in @trial, the role a task of @kind is done in?
 * Taking a role away (PUT /trials/{t}/members/{u}) ends the user's
 * sessions, but the tasks of the role stay theirs: at the next login the
 * QC reviewer, adjudicator or site user who left still opened, saw the
 * images of, and signed them. */
gboolean
task_role_held (const RrUser *user,
                const char   *trial,
                const char   *kind)
{
  g_auto (GStrv) roles = member_roles (user, trial);
  return kind_role_held ((const char *const *) roles, kind);
}

/* The task @id if @user may see it (its own; an admin: any). */
gboolean
task_get (const RrUser *user,
          const char   *id,
          Task         *t)
{
  RrStmt *st = rr_db_query (RR_Q_TASK_GET);
  gboolean found = FALSE;
  memset (t, 0, sizeof *t);
  rr_stmt_bind_text (st, 1, id);
  if (st && rr_stmt_step (st) == RR_ROW)
    {
      task_from_row (t, st);
      /* A cancelled task stays in its holder's view (the workstation says
       * it was withdrawn); it opens no image and takes no submission. */
      found = user->admin || (t->user_id == user->id &&
                              (g_str_equal (t->status, "cancelled") ||
                               task_role_held (user, t->trial, t->kind)));
      if (!found)
        task_clear (t), memset (t, 0, sizeof *t);
    }
  rr_stmt_finalize (st);
  return found;
}

/* The timepoints a task covers: its own, and for reads and adjudications
 * the subject's earlier ones that passed QC. */
RrStmt *
task_timepoints (const Task *t)
{
  RrStmt *st = rr_db_query (RR_Q_TASK_TIMEPOINTS);
  rr_stmt_bind_text (st, 1, t->trial);
  rr_stmt_bind_text (st, 2, t->subject);
  rr_stmt_bind_int (st, 3, t->timepoint);
  rr_stmt_bind_text (st, 4, t->kind);
  rr_stmt_bind_int (st, 5, t->day);
  return st;
}

static void
write_task (RrJsonWriter *w,
            const Task   *t,
            gboolean      close)
{
  RrStmt *st = task_timepoints (t);
  rr_json_begin_object (w);
  rr_json_key (w, "id");
  rr_json_string (w, t->id);
  rr_json_key (w, "kind");
  rr_json_string (w, t->kind);
  rr_json_key (w, "trial");
  rr_json_string (w, t->trial);
  rr_json_key (w, "subject");
  rr_json_string (w, t->subject);
  rr_json_key (w, "criteria");
  rr_json_string (w, t->criteria);
  /* The workstation keeps a later timepoint read-only until the earlier
   * one is submitted only when the trial reads sequentially. */
  rr_json_key (w, "reading");
  rr_json_string (w, t->reading);
  rr_json_key (w, "status");
  rr_json_string (w, t->status);
  rr_json_key (w, "timepoints");
  rr_json_begin_array (w);
  while (st && rr_stmt_step (st) == RR_ROW)
    {
      gint64 tp = rr_stmt_column_int (st, 0);
      RrStmt *ss = rr_db_query (RR_Q_TIMEPOINT_STUDY_UIDS);
      gboolean locked;
      rr_json_begin_object (w);
      rr_json_key (w, "label");
      rr_json_string (w, col_text (st, 1));
      rr_json_key (w, "day");
      rr_json_int (w, rr_stmt_column_int (st, 2));
      rr_json_key (w, "studies");
      rr_json_begin_array (w);
      rr_stmt_bind_int (ss, 1, tp);
      while (ss && rr_stmt_step (ss) == RR_ROW)
        rr_json_string (w, col_text (ss, 0));
      rr_stmt_finalize (ss);
      rr_json_end_array (w);
      /* Earlier timepoints are locked (read and submitted before); this
       * one once the task is submitted. */
      locked = tp != t->timepoint || g_str_equal (t->status, "submitted");
      rr_json_key (w, "locked");
      rr_json_bool (w, locked);
      rr_json_end_object (w);
    }
  rr_stmt_finalize (st);
  rr_json_end_array (w);
  rr_json_key (w, "created_at");
  rr_json_string (w, t->created_at);
  rr_json_key (w, "due_at");
  rr_json_string (w, t->due_at);
  rr_json_key (w, "version");
  rr_json_int (w, t->version);
  /* Who holds it: null for a read waiting for an admin to assign it. */
  rr_json_key (w, "assignee");
  {
    RrStmt *u = rr_db_query (RR_Q_USERNAME_BY_ID);
    rr_stmt_bind_int (u, 1, t->user_id);
    if (u && rr_stmt_step (u) == RR_ROW && !g_str_equal (col_text (u, 0), RR_UNASSIGNED))
      rr_json_string (w, col_text (u, 0));
    else
      rr_json_null (w);
    rr_stmt_finalize (u);
  }
  if (close)
    rr_json_end_object (w);
}

void
get_tasks (RrHttpRequest  *req,
           RrHttpAnswer *resp)
{
  const char *status = g_hash_table_lookup (req->query, "status");
  static const char *const statuses[] = { "open", "submitted", "all", NULL };
  g_autoptr (RrJsonWriter) w = rr_json_writer_new (FALSE);
  /* Each trial's roles, asked once, not once a task (a worklist of 500
   * tasks of one trial was 500 queries). */
  g_autoptr (GHashTable) roles = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                                        (GDestroyNotify) g_strfreev);
  RrStmt *st;

  status = status ? status : "open";
  if (!one_of (status, statuses))
    return bad_request (resp, "status is open, submitted or all");
  st = rr_db_query (RR_Q_TASKS_LIST);
  rr_stmt_bind_int (st, 1, req->user->id);
  rr_stmt_bind_int (st, 2, req->user->admin);
  rr_stmt_bind_text (st, 3, status);
  rr_json_begin_array (w);
  while (st && rr_stmt_step (st) == RR_ROW)
    {
      g_auto (Task) t = { 0 };
      task_from_row (&t, st);
      if (!req->user->admin && !g_str_equal (t.status, "cancelled"))
        {
          char **held = g_hash_table_lookup (roles, t.trial);
          if (held == NULL)
            {
              held = member_roles (req->user, t.trial);
              g_hash_table_insert (roles, g_strdup (t.trial), held);
            }
          if (!kind_role_held ((const char *const *) held, t.kind))
            continue;
        }
      write_task (w, &t, TRUE);
    }
  rr_stmt_finalize (st);
  rr_json_end_array (w);
  rr_respond_json (resp, 200, rr_json_writer_steal (w));
}

/* The read submitted for (trial, subject, timepoint) in @slot. */
gboolean
read_of_slot (const char *trial,
              const char *subject,
              gint64      timepoint,
              gint64      slot,
              char      **read_json,
              char      **responses,
              char      **submission)
{
  RrStmt *st = rr_db_query (RR_Q_READ_OF_SLOT);
  gboolean found = FALSE;
  rr_stmt_bind_text (st, 1, trial);
  rr_stmt_bind_text (st, 2, subject);
  rr_stmt_bind_int (st, 3, timepoint);
  rr_stmt_bind_int (st, 4, slot);
  if (st && rr_stmt_step (st) == RR_ROW)
    {
      g_autoptr (JsonParser) p = json_parser_new ();
      found = TRUE;
      if (read_json)
        {
          /* The read itself, without the signature. */
          *read_json = NULL;
          if (rr_json_load (p, col_text (st, 0), -1, NULL))
            {
              JsonNode *r = json_object_get_member (json_node_get_object (json_parser_get_root (p)),
                                                    "read");
              *read_json = r ? node_to_json (r) : g_strdup ("null");
            }
        }
      if (responses)
        *responses = g_strdup (col_text (st, 1));
      if (submission)
        *submission = g_strdup (col_text (st, 2));
    }
  rr_stmt_finalize (st);
  return found;
}

/* best_overall_response and the progression timepoint of a result. */
void
outcome (const char  *responses,
         char       **bor,
         char       **progression)
{
  g_autoptr (JsonParser) p = json_parser_new ();
  JsonObject *o;
  *bor = NULL;
  if (progression)
    *progression = NULL;
  if (responses == NULL || !rr_json_load (p, responses, -1, NULL) ||
      !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (p)))
    return;
  o = json_node_get_object (json_parser_get_root (p));
  *bor = g_strdup (json_object_get_string_member_with_default (o, "best_overall_response", ""));
  if (progression)
    {
      JsonNode *n = json_object_get_member (o, "progression_timepoint");
      *progression = g_strdup (n && json_node_get_value_type (n) == G_TYPE_STRING
                                 ? json_node_get_string (n) : "");
    }
}

/* The overall response at the read's last timepoint. */
char *
overall_at_last (const char *responses)
{
  g_autoptr (JsonParser) p = json_parser_new ();
  JsonNode *n;
  JsonArray *a;
  if (responses == NULL || !rr_json_load (p, responses, -1, NULL) ||
      !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (p)))
    return g_strdup ("");
  n = json_object_get_member (json_node_get_object (json_parser_get_root (p)), "timepoints");
  if (n == NULL || !JSON_NODE_HOLDS_ARRAY (n) || json_array_get_length (a = json_node_get_array (n)) == 0)
    return g_strdup ("");  /* baseline only */
  return g_strdup (json_object_get_string_member_with_default (
    json_array_get_object_element (a, json_array_get_length (a) - 1), "overall", ""));
}

static void
write_discrepancy (RrJsonWriter *w,
                   const char   *kind,
                   const char   *timepoint,
                   const char   *a,
                   const char   *b)
{
  rr_json_begin_object (w);
  rr_json_key (w, "kind");
  rr_json_string (w, kind);
  rr_json_key (w, "timepoint");
  if (timepoint)
    rr_json_string (w, timepoint);
  else
    rr_json_null (w);
  rr_json_key (w, "reader_1");
  rr_json_string (w, a ? a : "");
  rr_json_key (w, "reader_2");
  rr_json_string (w, b ? b : "");
  rr_json_end_object (w);
}

/* The timepoint of @result whose id is @id, or NULL. */
static JsonObject *
timepoint_of (JsonObject *result,
              const char *id)
{
  JsonNode *n = result ? json_object_get_member (result, "timepoints") : NULL;
  JsonArray *a = n && JSON_NODE_HOLDS_ARRAY (n) ? json_node_get_array (n) : NULL;
  for (guint i = 0; a && i < json_array_get_length (a); i++)
    {
      JsonNode *e = json_array_get_element (a, i);
      JsonObject *o = JSON_NODE_HOLDS_OBJECT (e) ? json_node_get_object (e) : NULL;
      if (o && g_strcmp0 (json_object_get_string_member_with_default (o, "id", ""), id) == 0)
        return o;
    }
  return NULL;
}

static JsonObject *
result_object (JsonParser *p,
               const char *responses)
{
  if (responses == NULL || !rr_json_load (p, responses, -1, NULL) ||
      !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (p)))
    return NULL;
  return json_node_get_object (json_parser_get_root (p));
}

/* Where two reads' results differ, as server-api.md shapes it: the read's
 * outcome (best overall response, progression timepoint; no timepoint),
 * then each timepoint's category responses, in Reader 1's order and then
 * any timepoint only Reader 2 assessed. */
static void
write_discrepancies (RrJsonWriter *w,
                     const char   *r1,
                     const char   *r2)
{
  static const char *const kinds[] = { "target", "non_target", "new_lesions", "overall" };
  g_autoptr (JsonParser) p1 = json_parser_new ();
  g_autoptr (JsonParser) p2 = json_parser_new ();
  g_autofree char *b1 = NULL, *b2 = NULL, *g1 = NULL, *g2 = NULL;
  JsonObject *o1 = result_object (p1, r1), *o2 = result_object (p2, r2);

  outcome (r1, &b1, &g1);
  outcome (r2, &b2, &g2);
  rr_json_begin_array (w);
  if (g_strcmp0 (b1, b2) != 0)
    write_discrepancy (w, "bor", NULL, b1, b2);
  if (g_strcmp0 (g1, g2) != 0)
    write_discrepancy (w, "progression_timepoint", NULL, g1, g2);
  for (guint pass = 0; pass < 2; pass++)
    {
      JsonObject *mine = pass == 0 ? o1 : o2, *other = pass == 0 ? o2 : o1;
      JsonNode *n = mine ? json_object_get_member (mine, "timepoints") : NULL;
      JsonArray *a = n && JSON_NODE_HOLDS_ARRAY (n) ? json_node_get_array (n) : NULL;
      for (guint i = 0; a && i < json_array_get_length (a); i++)
        {
          JsonNode *e = json_array_get_element (a, i);
          JsonObject *t = JSON_NODE_HOLDS_OBJECT (e) ? json_node_get_object (e) : NULL;
          const char *id = t ? json_object_get_string_member_with_default (t, "id", "") : "";
          JsonObject *u = timepoint_of (other, id);
          if (t == NULL || (pass == 1 && u != NULL))
            continue;  /* the second pass adds only Reader 2's own timepoints */
          for (guint k = 0; k < G_N_ELEMENTS (kinds); k++)
            {
              const char *x = json_object_get_string_member_with_default (t, kinds[k], "");
              const char *y = u ? json_object_get_string_member_with_default (u, kinds[k], "") : "";
              if (g_strcmp0 (x, y) != 0)
                write_discrepancy (w, kinds[k], id, pass == 0 ? x : y, pass == 0 ? y : x);
            }
        }
    }
  rr_json_end_array (w);
}

void
get_task (RrHttpRequest *req,
          RrHttpAnswer  *resp)
{
  const char *id = req->n_groups > 0 ? req->groups[0] : NULL;
  g_auto (Task) t = { 0 };
  g_autoptr (RrJsonWriter) w = rr_json_writer_new (FALSE);

  if (!task_get (req->user, id, &t))
    return not_found (resp);
  write_task (w, &t, FALSE);
  if (g_str_equal (t.kind, "read"))
    {
      /* This reader's own locked reads of the subject, earlier timepoints. */
      RrStmt *st = rr_db_query (RR_Q_EARLIER_READS_OF_SUBJECT);
      rr_stmt_bind_int (st, 1, t.user_id);
      rr_stmt_bind_text (st, 2, t.trial);
      rr_stmt_bind_text (st, 3, t.subject);
      rr_stmt_bind_int (st, 4, t.day);
      rr_json_key (w, "prior_reads");
      rr_json_begin_array (w);
      while (st && rr_stmt_step (st) == RR_ROW)
        {
          g_autoptr (JsonParser) p = json_parser_new ();
          JsonNode *r = NULL;
          if (rr_json_load (p, col_text (st, 1), -1, NULL))
            r = json_object_get_member (json_node_get_object (json_parser_get_root (p)), "read");
          g_autofree char *read = r ? node_to_json (r) : g_strdup ("null");
          rr_json_begin_object (w);
          rr_json_key (w, "timepoint");
          rr_json_string (w, col_text (st, 0));
          rr_json_key (w, "read");
          rr_json_raw (w, read);
          rr_json_key (w, "responses");
          rr_json_raw (w, col_text (st, 2));
          rr_json_end_object (w);
        }
      rr_stmt_finalize (st);
      rr_json_end_array (w);
    }
  else if (g_str_equal (t.kind, "adjudication"))
    {
      g_autofree char *r1 = NULL, *r2 = NULL, *s1 = NULL, *s2 = NULL;
      read_of_slot (t.trial, t.subject, t.timepoint, 1, &r1, &s1, NULL);
      read_of_slot (t.trial, t.subject, t.timepoint, 2, &r2, &s2, NULL);
      rr_json_key (w, "reads");
      rr_json_begin_array (w);
      for (int k = 0; k < 2; k++)
        {
          /* By its label alone: the read's own members naming its
           * reader are left out. */
          g_autofree char *read = blind_read (k ? r2 : r1, NULL);
          rr_json_begin_object (w);
          rr_json_key (w, "reader");
          rr_json_string (w, k ? "Reader 2" : "Reader 1");
          rr_json_key (w, "read");
          rr_json_raw (w, read);
          rr_json_key (w, "responses");
          rr_json_raw (w, (k ? s2 : s1) && *(k ? s2 : s1) ? (k ? s2 : s1) : "null");
          rr_json_end_object (w);
        }
      rr_json_end_array (w);
      rr_json_key (w, "discrepancies");
      write_discrepancies (w, s1, s2);
    }
  else if (g_str_equal (t.kind, "query"))
    write_query (w, &t);
  else
    {
      write_qc (w, &t);
    }
  rr_json_end_object (w);
  rr_respond_json (resp, 200, rr_json_writer_steal (w));
}

void
get_task_instances (RrHttpRequest *req,
                    RrHttpAnswer  *resp)
{
  const char *id = req->n_groups > 0 ? req->groups[0] : NULL;
  g_auto (Task) t = { 0 };
  g_autoptr (RrJsonWriter) w = rr_json_writer_new (FALSE);
  RrStmt *tps;

  if (!task_get (req->user, id, &t))
    return not_found (resp);
  tps = task_timepoints (&t);
  rr_json_begin_array (w);
  while (tps && rr_stmt_step (tps) == RR_ROW)
    {
      RrStmt *st = rr_db_query (RR_Q_TIMEPOINT_INSTANCES);
      rr_stmt_bind_int (st, 1, rr_stmt_column_int (tps, 0));
      while (st && rr_stmt_step (st) == RR_ROW)
        {
          g_autofree char *url = g_strdup_printf ("/readroom/v1/instances/%s/file", col_text (st, 2));
          rr_json_begin_object (w);
          rr_json_key (w, "study");
          rr_json_string (w, col_text (st, 0));
          rr_json_key (w, "series");
          rr_json_string (w, col_text (st, 1));
          rr_json_key (w, "sop");
          rr_json_string (w, col_text (st, 2));
          rr_json_key (w, "size");
          rr_json_int (w, rr_stmt_column_int (st, 3));
          rr_json_key (w, "md5");
          rr_json_string (w, col_text (st, 4));
          rr_json_key (w, "url");
          rr_json_string (w, url);
          rr_json_end_object (w);
        }
      rr_stmt_finalize (st);
    }
  rr_stmt_finalize (tps);
  rr_json_end_array (w);
  rr_respond_json (resp, 200, rr_json_writer_steal (w));
}

/* The stored file as it is, whole or the range asked for. The access
 * check runs under the lock; the file is read after it is released. */
