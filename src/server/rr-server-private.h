/* rr-server-private.h: what the handler files of the plugin share: the
 * answers in the error format, checked members of request bodies, small
 * database helpers, tasks as rows, the workflow steps that several
 * resources drive, and every handler (rr-server-routes.c lists them). Not
 * installed; everything here is hidden inside the plugin. */
#pragma once

#include "rr-server.h"
#include "rr-access.h"
#include "rr-criteria.h"
#include "rr-json-writer.h"
#include "rr-read.h"

#include <math.h>
#include <string.h>

G_BEGIN_DECLS

typedef struct
{
  char *id, *kind, *trial, *subject, *status, *created_at, *due_at, *criteria;
  char *reading;                  /* the trial's: sequential or batch */
  gint64 timepoint, user_id, version, slot, day;
} Task;

G_GNUC_INTERNAL void task_clear (Task *t);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Task, task_clear)

/* The user name that holds reads nobody could take over: not a valid
 * user name (valid_id refuses the parentheses), so no one logs in as it. */
#define RR_UNASSIGNED "(unassigned)"

/* Sleeps for the milliseconds the environment variable @name gives (at
 * most 5 s): tests widen the windows where parallel requests meet. */
G_GNUC_INTERNAL void rr_test_delay (const char *name);
G_GNUC_INTERNAL void bad_request (RrHttpAnswer *resp, const char *message);
G_GNUC_INTERNAL void not_found (RrHttpAnswer *resp);
G_GNUC_INTERNAL void forbidden (RrHttpAnswer *resp);
G_GNUC_INTERNAL void server_failed (RrHttpAnswer *resp);
G_GNUC_INTERNAL JsonObject * parse_object (RrHttpRequest *req, RrHttpAnswer *resp, JsonParser **parser);
G_GNUC_INTERNAL const char * member_string (JsonObject *o, const char *name, gboolean required, gsize max, gboolean *ok, RrHttpAnswer *resp);
G_GNUC_INTERNAL gint64 member_int (JsonObject *o, const char *name, gint64 fallback, gint64 lo, gint64 hi, gboolean *ok, RrHttpAnswer *resp);
G_GNUC_INTERNAL gboolean member_bool (JsonObject *o, const char *name, gboolean fallback, gboolean *ok, RrHttpAnswer *resp);
G_GNUC_INTERNAL gboolean one_of (const char *s, const char *const *words);
G_GNUC_INTERNAL gboolean valid_id (const char *s, gsize max);
G_GNUC_INTERNAL char * node_to_json (JsonNode *n);
G_GNUC_INTERNAL char * blind_read (const char *json, const char *member);
G_GNUC_INTERNAL const char * col_text (RrStmt *st, int i);
G_GNUC_INTERNAL gint64 query_int (RrQueryId q, const char *a, const char *b);
G_GNUC_INTERNAL gboolean step_done (RrStmt *st);
G_GNUC_INTERNAL void write_user (RrJsonWriter *w, gint64 id, const char *username, const char *display_name, gboolean admin);
G_GNUC_INTERNAL char * member_site (const RrUser *user);
G_GNUC_INTERNAL gboolean delete_sessions_of (gint64 user_id);
G_GNUC_INTERNAL void audit_failure (const char *action, const char *user, const char *object, const char *client, const char *reason);
G_GNUC_INTERNAL void post_sessions (RrHttpRequest *req, RrHttpAnswer *resp);
G_GNUC_INTERNAL void delete_session (RrHttpRequest *req, RrHttpAnswer *resp);
G_GNUC_INTERNAL void get_me (RrHttpRequest *req, RrHttpAnswer *resp);
G_GNUC_INTERNAL void post_users (RrHttpRequest *req, RrHttpAnswer *resp);
G_GNUC_INTERNAL void put_user (RrHttpRequest *req, RrHttpAnswer *resp);
G_GNUC_INTERNAL void get_users (RrHttpRequest *req, RrHttpAnswer *resp);
G_GNUC_INTERNAL void post_trials (RrHttpRequest *req, RrHttpAnswer *resp);
G_GNUC_INTERNAL void get_trials (RrHttpRequest *req, RrHttpAnswer *resp);
G_GNUC_INTERNAL void put_member (RrHttpRequest *req, RrHttpAnswer *resp);
G_GNUC_INTERNAL void post_timepoint (RrHttpRequest *req, RrHttpAnswer *resp);
G_GNUC_INTERNAL void get_trial_deid (RrHttpRequest *req, RrHttpAnswer *resp);
G_GNUC_INTERNAL gboolean index_study (const char *study_uid, const char *orthanc_id);
G_GNUC_INTERNAL void post_instances (RrHttpRequest *req, RrHttpAnswer *resp);
/* The attributes of an upload's tags (Orthanc's "Full" JSON) that show it
 * is not de-identified, as a JSON array, or NULL (rr-server-phi.c). */
G_GNUC_INTERNAL char *rr_phi_found (JsonObject *tags);
G_GNUC_INTERNAL void get_instance_file (RrHttpRequest *req, RrHttpAnswer *resp);
G_GNUC_INTERNAL void answer_file (RrHttpRequest *req, RrHttpAnswer *resp, const char *orthanc_id);
G_GNUC_INTERNAL gint64 least_loaded (const char *trial, const char *role, GArray *exclude);
G_GNUC_INTERNAL char * create_task (const char *kind, const char *trial, const char *subject, gint64 timepoint, gint64 user_id, int slot, const char *by);
G_GNUC_INTERNAL gboolean create_read_tasks (const char *trial, const char *subject, gint64 timepoint, const char *by, GPtrArray *created);
G_GNUC_INTERNAL gboolean hand_over_reads (const char *trial, gint64 user_id, const char *by);
G_GNUC_INTERNAL gboolean hand_over_all_reads (gint64 user_id, const char *by);
G_GNUC_INTERNAL gint64 unassigned_user (void);
G_GNUC_INTERNAL void put_task_assignee (RrHttpRequest *req, RrHttpAnswer *resp);
G_GNUC_INTERNAL gboolean task_get (const RrUser *user, const char *id, Task *t);
G_GNUC_INTERNAL gboolean task_role_held (const RrUser *user, const char *trial, const char *kind);
/* Inside a transaction: locks @t's row (PostgreSQL: FOR UPDATE, until the
 * commit) and says whether it is still the version @t read. When it is
 * not, PostgreSQL runs the request again from the start (it then sees
 * what changed: a replayed receipt, a 409), dropping the caller's answer;
 * on SQLite the caller's 409 stands. */
G_GNUC_INTERNAL gboolean task_unchanged (const Task *t);
G_GNUC_INTERNAL RrStmt * task_timepoints (const Task *t);
G_GNUC_INTERNAL void get_tasks (RrHttpRequest *req, RrHttpAnswer *resp);
G_GNUC_INTERNAL gboolean read_of_slot (const char *trial, const char *subject, gint64 timepoint, gint64 slot, char **read_json, char **responses, char **submission);
G_GNUC_INTERNAL void outcome (const char *responses, char **bor, char **progression);
G_GNUC_INTERNAL char * overall_at_last (const char *responses);
G_GNUC_INTERNAL void get_task (RrHttpRequest *req, RrHttpAnswer *resp);
G_GNUC_INTERNAL void get_task_instances (RrHttpRequest *req, RrHttpAnswer *resp);
G_GNUC_INTERNAL void get_submission (RrHttpRequest *req, RrHttpAnswer *resp);
G_GNUC_INTERNAL void post_submission (RrHttpRequest *req, RrHttpAnswer *resp);
G_GNUC_INTERNAL void get_export (RrHttpRequest *req, RrHttpAnswer *resp);
G_GNUC_INTERNAL void get_export_sr (RrHttpRequest *req, RrHttpAnswer *resp, const char *trial);
G_GNUC_INTERNAL void get_audit (RrHttpRequest *req, RrHttpAnswer *resp);
G_GNUC_INTERNAL void put_protocol (RrHttpRequest *req, RrHttpAnswer *resp);
/* Under the lock, outside any transaction (it releases the lock while
 * Orthanc answers): the automated QC results of @studies against the
 * trial's protocol as rr_qc_result_to_json, or NULL when they could not be
 * computed; the protocol they ran against in *protocol_out. */
G_GNUC_INTERNAL char * qc_automated (const char *trial, GPtrArray *studies, char **protocol_out);
G_GNUC_INTERNAL gboolean qc_store (const char *task_id, const char *protocol, const char *automated);
G_GNUC_INTERNAL void write_qc (RrJsonWriter *w, const Task *t);
/* The body of a QC submission (decision, findings) as server-api.md
 * shapes it; FALSE after answering 400. */
G_GNUC_INTERNAL gboolean qc_decision_check (JsonObject *o, RrHttpAnswer *resp);
/* In the submission's transaction: the query task that a QC fail or query
 * opens for the uploading site user, with the findings, audited. */
G_GNUC_INTERNAL gboolean query_open (const Task *qc, JsonObject *decision, const char *by);
/* A site's answer to a query: checked (NULL after answering 400 or 422),
 * its automated checks run (without the lock, outside any transaction),
 * then applied in the submission's transaction: the studies linked, the
 * fresh QC task's id returned (NULL: failed; *no_reviewer: nobody to
 * review it). */
typedef struct _QueryAnswer QueryAnswer;
G_GNUC_INTERNAL void query_answer_free (QueryAnswer *a);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (QueryAnswer, query_answer_free)
G_GNUC_INTERNAL QueryAnswer * query_answer_check (const Task *t, const RrUser *user, JsonObject *o, RrHttpAnswer *resp);
G_GNUC_INTERNAL void query_answer_run_checks (const Task *t, QueryAnswer *a);
G_GNUC_INTERNAL char * query_answered (const Task *t, QueryAnswer *a, const char *by, gboolean *no_reviewer);
/* GET /tasks/{id}: a query's QC task, decision, findings and answer; a
 * QC task's "query" (the one it follows, or null). */
G_GNUC_INTERNAL void write_query (RrJsonWriter *w, const Task *t);
G_GNUC_INTERNAL void write_qc_query (RrJsonWriter *w, const Task *t);
G_GNUC_INTERNAL void get_audit_verify (RrHttpRequest *req, RrHttpAnswer *resp);

G_END_DECLS
