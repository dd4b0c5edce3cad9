/* rr-read-export.h: "Save Report…" (the PDF of src/report) and "Export
 * SR…" (one TID 1500 report per timepoint) for a read that is signed and
 * in the server's hands, or for a locked adjudication's final read. */
#pragma once

#include <gtk/gtk.h>
#include <json-glib/json-glib.h>
#include "rr-store.h"

G_BEGIN_DECLS

#define RR_TYPE_READ_EXPORT (rr_read_export_get_type ())
G_DECLARE_FINAL_TYPE (RrReadExport, rr_read_export, RR, READ_EXPORT, GtkWidget)

GtkWidget  *rr_read_export_new      (void);

/* The read of @task_id as it was delivered to the server (its outbox
 * entry), signed by the account's user; hidden when there is none (not
 * submitted from here, or still waiting). @store is read on the calling
 * (main) thread only. */
void        rr_read_export_set_task (RrReadExport *self,
                                     RrStore      *store,
                                     gint64        account,
                                     const char   *task_id);

/* An adjudication task's final: of @read1 and @read2 (the two reads as
 * the task gave them; borrowed), the one its delivered decision chose,
 * signed by the adjudicator; hidden until the decision is delivered. */
void        rr_read_export_set_adjudicated (RrReadExport *self,
                                            RrStore      *store,
                                            gint64        account,
                                            const char   *task_id,
                                            JsonObject   *read1,
                                            JsonObject   *read2);

/* @read_json (read JSON, cli.md) of @task_id's subject, the images from
 * the cache of the account's tasks of that subject; NULL hides. */
void        rr_read_export_set_read (RrReadExport *self,
                                     const char   *read_json,
                                     RrStore      *store,
                                     gint64        account,
                                     const char   *task_id);

G_END_DECLS
