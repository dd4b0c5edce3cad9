/* main.c: starts the Readroom workstation.
 * `readroom [FOLDER]` opens a folder of DICOM files at once. */
#include "rr-application.h"

#include <glib/gi18n.h>
#include <locale.h>
#include <malloc.h>

int
main (int argc, char **argv)
{
  g_autoptr (RrApplication) app = NULL;

  /* The images GTK paints the window's frames into and the viewer's pane
   * images are megabytes each (a whole frame of a 1280x860 window 4.4 MB,
   * a pane's image 2 MB). glibc maps such blocks anew, often, and the
   * kernel faults their pages in on the main thread, in the frame the
   * reader waits for. Kept in the heap, they reuse pages already in
   * memory: bench/stall.py counted 4,000 page faults of the main thread
   * while a task opens with glibc's thresholds, 2,800 with these. They are
   * the ones glibc's own dynamic thresholds reach by themselves once a
   * 32 MB block has been freed (mallopt(3)); the volumes, larger, are
   * still mapped apart and given back whole. READROOM_MALLOC=glibc leaves
   * glibc's (to compare). */
  if (g_strcmp0 (g_getenv ("READROOM_MALLOC"), "glibc") != 0)
    {
      mallopt (M_MMAP_THRESHOLD, 32 * 1024 * 1024);
      mallopt (M_TRIM_THRESHOLD, 64 * 1024 * 1024);
    }
  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);
  app = rr_application_new ();
  return g_application_run (G_APPLICATION (app), argc, argv);
}
