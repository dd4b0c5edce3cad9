/* rr-form-writer.h: saves the lesion form's drafts on one worker thread
 * with its own database connection, in order, so the main loop never
 * waits on a disk flush. */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

typedef struct _RrFormWriter RrFormWriter;

/* Called on the main loop once a save is written (@error NULL) or failed,
 * if @owner still lives. */
typedef void (*RrFormSaved) (GObject    *owner,
                             const char *error);

RrFormWriter *rr_form_writer_new  (const char   *db_path,
                                   RrFormSaved   done);
const char   *rr_form_writer_get_path (RrFormWriter *self);
/* Queues the form @json (taken) of a task. */
void          rr_form_writer_save (RrFormWriter *self,
                                   gint64        account,
                                   const char   *task_id,
                                   char         *json,
                                   GObject      *owner);
/* Returns once every queued save is written. */
void          rr_form_writer_free (RrFormWriter *self);

G_END_DECLS
