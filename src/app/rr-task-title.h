/* rr-task-title.h: the header bar's words for the task open. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* "Subject S-001 · Week 8" from a task's JSON (tasks list or detail): its
 * subject and the timepoint it reads (the last of its timepoints); "Task"
 * when the JSON says neither. @withdrawn adds "(withdrawn)". */
char *rr_task_title_subtitle (const char *task_json,
                              gboolean    withdrawn);

G_END_DECLS
