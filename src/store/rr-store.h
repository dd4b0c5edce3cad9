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

/* Inserts or replaces @m (by id), durable when this returns TRUE. */
gboolean    rr_store_put_measurement  (RrStore              *store,
                                       const RrMeasurement  *m,
                                       GError              **error);
gboolean    rr_store_delete_measurement (RrStore     *store,
                                         const char  *id,
                                         GError     **error);
/* The measurements of a series, oldest first. Rows that no longer parse
 * are reported in @skipped (if given) and left in the database. */
GPtrArray  *rr_store_list_measurements (RrStore     *store,
                                        const char  *series_uid,
                                        guint       *skipped,
                                        GError     **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RrStore, rr_store_close)

G_END_DECLS
