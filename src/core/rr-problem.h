/* rr-problem.h: a problem found in a series (missing slices, uneven spacing...).
 * Problems are reported, never hidden; codes are stable strings for cli.md. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct
{
  char *code;
  char *message;
} RrProblem;

RrProblem *rr_problem_new   (const char *code,
                             const char *format,
                             ...) G_GNUC_PRINTF (2, 3);
void       rr_problem_free  (RrProblem *problem);
RrProblem *rr_problem_copy  (const RrProblem *problem);

/* Appends a new problem to a GPtrArray created with rr_problem_free as its
 * element free function. */
void       rr_problems_add  (GPtrArray  *problems,
                             const char *code,
                             const char *format,
                             ...) G_GNUC_PRINTF (3, 4);
gboolean   rr_problems_has  (GPtrArray  *problems,
                             const char *code);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RrProblem, rr_problem_free)

G_END_DECLS
