/* The header's subtitle for a task open (walk finding 18): subject and the
 * timepoint read, from the task JSON the server sends (server-api.md). */
#include "rr-task-title.h"

static void
check (const char *json,
       gboolean    withdrawn,
       const char *expected)
{
  g_autofree char *s = rr_task_title_subtitle (json, withdrawn);
  g_assert_cmpstr (s, ==, expected);
}

static void
test_subject_and_timepoint (void)
{
  /* A follow-up read lists its prior first: the one read is the last. */
  check ("{\"id\":\"t1\",\"kind\":\"read\",\"subject\":\"001\",\"timepoints\":"
         "[{\"label\":\"Baseline\",\"day\":0},{\"label\":\"Week 8\",\"day\":56}]}",
         FALSE, "Subject 001 · Week 8");
  check ("{\"subject\":\"S-001\",\"timepoints\":[{\"label\":\"Baseline\",\"day\":0}]}",
         FALSE, "Subject S-001 · Baseline");
  check ("{\"subject\":\"S-001\",\"timepoints\":[{\"label\":\"Baseline\",\"day\":0}]}",
         TRUE, "Subject S-001 · Baseline (withdrawn)");
}

static void
test_missing (void)
{
  check ("{\"subject\":\"S-002\"}", FALSE, "Subject S-002");
  check ("{\"subject\":\"S-002\",\"timepoints\":[]}", FALSE, "Subject S-002");
  check ("{\"subject\":\"S-002\",\"timepoints\":[17]}", FALSE, "Subject S-002");
  check ("{}", FALSE, "Task");
  check ("[1,2]", FALSE, "Task");
  check ("not json", TRUE, "Task (withdrawn)");
  check (NULL, FALSE, "Task");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/task-title/subject-and-timepoint", test_subject_and_timepoint);
  g_test_add_func ("/task-title/missing", test_missing);
  return g_test_run ();
}
