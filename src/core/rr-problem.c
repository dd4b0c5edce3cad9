/* rr-problem.c: problem records attached to series and volumes.
 * Plain value type; see rr-problem.h. */
#include "rr-problem.h"

RrProblem *
rr_problem_new (const char *code,
                const char *format,
                ...)
{
  RrProblem *p = g_new0 (RrProblem, 1);
  va_list ap;

  p->code = g_strdup (code);
  va_start (ap, format);
  p->message = g_strdup_vprintf (format, ap);
  va_end (ap);
  return p;
}

void
rr_problem_free (RrProblem *problem)
{
  if (problem == NULL)
    return;
  g_free (problem->code);
  g_free (problem->message);
  g_free (problem);
}

RrProblem *
rr_problem_copy (const RrProblem *problem)
{
  RrProblem *p = g_new0 (RrProblem, 1);
  p->code = g_strdup (problem->code);
  p->message = g_strdup (problem->message);
  return p;
}

void
rr_problems_add (GPtrArray  *problems,
                 const char *code,
                 const char *format,
                 ...)
{
  RrProblem *p = g_new0 (RrProblem, 1);
  va_list ap;

  p->code = g_strdup (code);
  va_start (ap, format);
  p->message = g_strdup_vprintf (format, ap);
  va_end (ap);
  g_ptr_array_add (problems, p);
}

gboolean
rr_problems_has (GPtrArray  *problems,
                 const char *code)
{
  for (guint i = 0; problems != NULL && i < problems->len; i++)
    {
      const RrProblem *p = g_ptr_array_index (problems, i);
      if (g_strcmp0 (p->code, code) == 0)
        return TRUE;
    }
  return FALSE;
}
