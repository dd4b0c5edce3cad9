/* rr-store.h: the workstation's local database (SQLite, WAL, numbered
 * migrations): what the reader has drawn and written, kept the moment it
 * changes so a crash or kill -9 loses nothing. */
#pragma once

#include <glib.h>
#include "rr-measurement.h"

G_BEGIN_DECLS

#define RR_STORE_ERROR (rr_store_error_quark ())
GQuark rr_store_error_quark (void);

typedef enum
{
  RR_STORE_ERROR_OPEN,      /* cannot open or create the file */
  RR_STORE_ERROR_CORRUPT,   /* the integrity check failed */
  RR_STORE_ERROR_TOO_NEW,   /* written by a newer Readroom */
  RR_STORE_ERROR_FAILED,    /* a statement failed (disk full, locked...) */
} RrStoreError;

typedef struct _RrStore RrStore;

/* $XDG_DATA_HOME/readroom/readroom.db */
char       *rr_store_default_path     (void);

/* Opens (creating it and its folder when missing) the database at @path,
 * checks its integrity and brings its schema up to date. */
RrStore    *rr_store_open             (const char  *path,
                                       GError     **error);
void        rr_store_close            (RrStore *store);
const char *rr_store_get_path         (RrStore *store);
/* The schema version after migrations (PRAGMA user_version). */
int         rr_store_schema_version   (RrStore *store);
/* The newest schema this build knows. */
int         rr_store_latest_version   (void);

/* A measurement belongs to its owner: the account and the task it was
 * drawn in (@account <= 0 or @task_id NULL: the viewer's free measuring,
 * with no task open). No other owner sees or changes it. */

/* Inserts or replaces @m (by id), durable when this returns TRUE. An id
 * kept for another owner is refused. */
gboolean    rr_store_put_measurement  (RrStore              *store,
                                       gint64                account,
                                       const char           *task_id,
                                       const RrMeasurement  *m,
                                       GError              **error);
gboolean    rr_store_delete_measurement (RrStore     *store,
                                         gint64       account,
                                         const char  *task_id,
                                         const char  *id,
                                         GError     **error);
/* The owner's measurements on @series_uid (NULL: on every series of the
 * task), oldest first. Rows that no longer parse are reported in
 * @skipped (if given) and left in the database. */
GPtrArray  *rr_store_list_measurements (RrStore     *store,
                                        gint64       account,
                                        const char  *task_id,
                                        const char  *series_uid,
                                        guint       *skipped,
                                        GError     **error);

/* ---- what the server assigned, cached for offline work ---- */

typedef struct
{
  char *id, *kind, *status, *due_at;
  char *json;              /* the task as the server sent it */
  gboolean on_server;      /* FALSE: no longer listed there (reassigned); kept here */
  gboolean withdrawn;      /* not on the server, or cancelled there */
  char *subject;           /* from the task's JSON, for ordering */
  guint n_timepoints;      /* ...and how many timepoints it reads */
  gboolean has_draft;      /* the reader has worked on it here */
  guint n_measurements;    /* drawn here in this task by this account */
} RrStoreTask;

typedef struct
{
  char *sop_uid, *study_uid, *series_uid;
  gint64 size;
  char *md5;               /* as the server lists it */
  char *url;
  char *sha256;            /* set once the file is in the cache, verified */
} RrStoreInstance;

void        rr_store_task_free        (RrStoreTask *task);
void        rr_store_instance_free    (RrStoreInstance *instance);

/* FULL (the default): a committed change survives a power cut. NORMAL,
 * for records that can be rebuilt (which cached file has which hash):
 * still safe against a crash, and no fsync per commit, which on ext4 would
 * also flush every file just written into the cache. */
gboolean    rr_store_set_durable      (RrStore  *store,
                                       gboolean  durable,
                                       GError  **error);
gboolean    rr_store_begin            (RrStore  *store,
                                       GError  **error);
gboolean    rr_store_commit           (RrStore  *store,
                                       GError  **error);
void        rr_store_rollback         (RrStore *store);

/* The account (server + user name), created on first use; @user_json NULL
 * keeps what is recorded. */
gint64      rr_store_account          (RrStore     *store,
                                       const char  *server,
                                       const char  *username,
                                       const char  *user_json,
                                       GError     **error);
/* The account's server, user name and user object as the server gave it
 * (with the full name); FALSE when there is no such account. */
gboolean    rr_store_get_account      (RrStore     *store,
                                       gint64       account,
                                       char       **server,
                                       char       **username,
                                       char       **user_json,
                                       GError     **error);
gboolean    rr_store_put_task         (RrStore     *store,
                                       gint64       account,
                                       const char  *id,
                                       const char  *kind,
                                       const char  *status,
                                       const char  *due_at,
                                       const char  *json,
                                       GError     **error);
/* Marks the account's tasks not in @present as no longer on the server. */
gboolean    rr_store_mark_tasks_gone  (RrStore            *store,
                                       gint64              account,
                                       const char * const *present,
                                       GError            **error);
GPtrArray  *rr_store_list_tasks       (RrStore  *store,
                                       gint64    account,
                                       GError  **error);
/* One task of the account; NULL when there is none. */
RrStoreTask *rr_store_get_task        (RrStore     *store,
                                       gint64       account,
                                       const char  *task_id,
                                       GError     **error);
/* The reader's place in a task (JSON: the series last shown, ...): kept
 * whatever the server does with the task. get: NULL when there is none. */
gboolean    rr_store_put_draft        (RrStore     *store,
                                       gint64       account,
                                       const char  *task_id,
                                       const char  *json,
                                       GError     **error);
char       *rr_store_get_draft        (RrStore     *store,
                                       gint64       account,
                                       const char  *task_id,
                                       GError     **error);
/* The task's lesion form (JSON), kept beside its draft and as durable;
 * get: NULL when there is none. */
gboolean    rr_store_put_form         (RrStore     *store,
                                       gint64       account,
                                       const char  *task_id,
                                       const char  *json,
                                       GError     **error);
char       *rr_store_get_form         (RrStore     *store,
                                       gint64       account,
                                       const char  *task_id,
                                       GError     **error);
/* The offsets the reader linked the comparison's panes by in the task
 * (JSON of rr_link_kept_to_json ()), kept beside its draft; get: NULL
 * when there are none. */
gboolean    rr_store_put_links        (RrStore     *store,
                                       gint64       account,
                                       const char  *task_id,
                                       const char  *json,
                                       GError     **error);
char       *rr_store_get_links        (RrStore     *store,
                                       gint64       account,
                                       const char  *task_id,
                                       GError     **error);
/* The reader's own submitted read of @task_id as GET
 * /tasks/{id}/submission answers it ({"submission": {"read": ...},
 * "receipt": ...}), kept when it was signed on another computer; get:
 * NULL when none is kept. */
gboolean    rr_store_put_submission   (RrStore     *store,
                                       gint64       account,
                                       const char  *task_id,
                                       const char  *json,
                                       GError     **error);
char       *rr_store_get_submission   (RrStore     *store,
                                       gint64       account,
                                       const char  *task_id,
                                       GError     **error);
/* Records a manifest entry of @task_id. A file whose size or MD5 changed
 * on the server loses its cached state and is fetched again. */
gboolean    rr_store_put_instance     (RrStore                *store,
                                       gint64                  account,
                                       const char             *task_id,
                                       const RrStoreInstance  *instance,
                                       GError                **error);
/* The instances of @task_id (NULL: of every task of the account). */
GPtrArray  *rr_store_task_instances   (RrStore     *store,
                                       gint64       account,
                                       const char  *task_id,
                                       GError     **error);
gboolean    rr_store_set_instance_sha256 (RrStore     *store,
                                          gint64       account,
                                          const char  *sop_uid,
                                          const char  *sha256,
                                          GError     **error);
/* Every SHA-256 recorded for a cached file, of any account (a set). */
GHashTable *rr_store_recorded_sha256  (RrStore  *store,
                                       GError  **error);
gboolean    rr_store_audit            (RrStore     *store,
                                       const char  *action,
                                       const char  *object,
                                       const char  *details,
                                       GError     **error);

/* The outbox: a submission is saved here before it is sent, and stays
 * until the server has answered it; one entry per task. state: "saved"
 * (never sent: may be replaced), "sending" (may have reached the server:
 * settled by asking it before anything else), "delivered" (the server
 * holds it; receipt kept), "refused" (the server said why, in last_error;
 * the reader must act). "pending", as a state asked for, means saved or
 * sending. */
typedef struct
{
  char *key;               /* the Idempotency-Key */
  char *task_id;
  char *body;              /* the submission, without the signature's password */
  char *state;
  int attempts;
  char *last_error;
  char *receipt;
  char *server;            /* the account's */
} RrStoreOutbox;

void        rr_store_outbox_free      (RrStoreOutbox *entry);
/* A new entry, "saved". */
gboolean    rr_store_outbox_add       (RrStore     *store,
                                       gint64       account,
                                       const char  *key,
                                       const char  *task_id,
                                       const char  *body,
                                       GError     **error);
/* Whether an entry in @state still waits for the server's answer. */
static inline gboolean
rr_store_outbox_state_waiting (const char *state)
{
  return g_strcmp0 (state, "saved") == 0 || g_strcmp0 (state, "sending") == 0;
}

/* The account's entries in @state (NULL: all), oldest first. */
GPtrArray  *rr_store_outbox_list      (RrStore     *store,
                                       gint64       account,
                                       const char  *state,
                                       GError     **error);
/* The task's entry (the newest), or NULL. */
RrStoreOutbox *rr_store_outbox_for_task (RrStore     *store,
                                         gint64       account,
                                         const char  *task_id,
                                         GError     **error);
/* Every account's entries not answered yet (saved, sending). */
GPtrArray  *rr_store_outbox_unanswered (RrStore  *store,
                                        GError  **error);
/* Gives an entry not delivered a new key and body, "saved" again: the
 * corrected read replaces the one that did not reach the server. */
gboolean    rr_store_outbox_replace   (RrStore     *store,
                                       const char  *old_key,
                                       const char  *key,
                                       const char  *body,
                                       GError     **error);
/* @state "pending" keeps the state and records @last_error. */
gboolean    rr_store_outbox_update    (RrStore     *store,
                                       const char  *key,
                                       const char  *state,
                                       const char  *last_error,
                                       const char  *receipt,
                                       GError     **error);

/* $XDG_CACHE_HOME/readroom/instances, and a file's place in it. */
char       *rr_store_cache_dir        (void);
char       *rr_store_cache_path       (const char *cache_dir,
                                       const char *sha256);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RrStore, rr_store_close)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RrStoreTask, rr_store_task_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RrStoreInstance, rr_store_instance_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RrStoreOutbox, rr_store_outbox_free)

G_END_DECLS
