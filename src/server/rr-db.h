/* rr-db.h: the plugin's storage interface. Handlers name queries
 * (RrQueryId, listed in rr-db-queries.h) and never hold SQL text; each
 * backend keeps the SQL of every query in sql/<backend>/queries.sql and its
 * numbered schema steps in sql/<backend>/migrations/NNN.sql (the same
 * number is the same schema on both), compiled into the plugin as a
 * GResource. Two backends: SQLite (rr-db-sqlite.c, the default, one
 * process) and PostgreSQL through libpq (rr-db-pg.c, several nodes). */
#pragma once

#include <glib.h>

#include "rr-db-queries.h"

G_BEGIN_DECLS

typedef enum
{
#define RR_QUERY_ENUM(name) RR_Q_##name,
  RR_QUERIES (RR_QUERY_ENUM)
#undef RR_QUERY_ENUM
  RR_N_QUERIES
} RrQueryId;

/* What rr_stmt_step says. */
enum
{
  RR_ERROR = -1,
  RR_DONE = 0,
  RR_ROW = 1,
};

typedef enum
{
  RR_TX_WRITE,                 /* reads and writes, as today's BEGIN IMMEDIATE */
  RR_TX_SERIALIZABLE,          /* PostgreSQL: SERIALIZABLE; SQLite: as RR_TX_WRITE */
} RrTxKind;

/* One query being run: its parameters bound, then stepped row by row. */
typedef struct _RrStmt RrStmt;

typedef struct
{
  const char *name;            /* its folder under sql/ */
  /* Connects to @where (a file, a URI), migrates (from the schema
   * version it says in *@from_version), prepares every query. */
  gboolean (*open) (const char *where, int *from_version, GError **error);
  void (*close) (void);
  gboolean (*begin) (RrTxKind kind);
  gboolean (*commit) (void);
  void (*rollback) (void);
  /* Is a commit now only the end of a savepoint inside the request's
   * transaction (the real commit comes when the request ends)? */
  gboolean (*nested) (void);
  /* A read-only transaction of this thread's own (see rr_db_snapshot_begin). */
  gboolean (*snapshot_begin) (void);
  void (*snapshot_end) (void);
  RrStmt *(*query) (RrQueryId id);
  void (*bind_int) (RrStmt *st, int i, gint64 v);
  void (*bind_text) (RrStmt *st, int i, const char *s);
  void (*bind_null) (RrStmt *st, int i);
  int (*step) (RrStmt *st);
  gint64 (*column_int) (RrStmt *st, int i);
  const char *(*column_text) (RrStmt *st, int i);
  gboolean (*column_is_null) (RrStmt *st, int i);
  void (*finalize) (RrStmt *st);
  /* Rows changed by the last statement this thread ran. */
  gint64 (*changes) (void);
  /* Serialises appends to the audit chain until the transaction ends. */
  gboolean (*lock_audit) (void);
  /* Did the last failure of this thread's transaction come from a race
   * that running it again resolves (serialization failure, deadlock, an
   * expected unique violation)? */
  gboolean (*error_is_retry) (void);
  /* Has the request run again from the start (FALSE: this backend never
   * does; the caller answers as things are). */
  gboolean (*retry) (void);
} RrDbBackend;

extern const RrDbBackend rr_db_sqlite;
extern const RrDbBackend rr_db_pg;
/* The backend the server opened (rr_server_db_open). */
extern const RrDbBackend *rr_db;

/* The SQL of every query of @backend, indexed by RrQueryId (owned by the
 * caller, g_strfreev): FALSE when one is missing, defined twice, or not
 * a known name. */
char      **rr_db_load_queries      (const char  *backend,
                                     GError     **error);
/* The migrations of @backend in order (001.sql, 002.sql... up to the first
 * missing number); NULL-terminated. */
char      **rr_db_load_migrations   (const char  *backend,
                                     GError     **error);
const char *rr_db_query_name        (RrQueryId id);

RrStmt     *rr_db_query             (RrQueryId id);
void        rr_stmt_bind_int        (RrStmt     *st,
                                     int         i,
                                     gint64      v);
/* @s NULL binds NULL. */
void        rr_stmt_bind_text       (RrStmt     *st,
                                     int         i,
                                     const char *s);
void        rr_stmt_bind_null       (RrStmt     *st,
                                     int         i);
int         rr_stmt_step            (RrStmt     *st);
gint64      rr_stmt_column_int      (RrStmt     *st,
                                     int         i);
const char *rr_stmt_column_text     (RrStmt     *st,
                                     int         i);
gboolean    rr_stmt_column_is_null  (RrStmt     *st,
                                     int         i);
void        rr_stmt_finalize        (RrStmt     *st);
gint64      rr_db_changes           (void);

G_END_DECLS
