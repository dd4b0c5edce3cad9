/* rr-db-pg.h: the request transaction of the PostgreSQL backend, which
 * rr_with_lock opens and closes in place of the process lock. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Takes a pooled connection for this thread and begins the request's
 * transaction. */
gboolean rr_db_pg_request_begin (void);
/* Commits (or, after a lost race, rolls back) and gives the connection
 * back: FALSE when the request must run again. *@committed: whether it
 * committed. */
gboolean rr_db_pg_request_end   (gboolean *committed);

G_END_DECLS
