/* main.c: starts the Readroom workstation.
 * `readroom [FOLDER]` opens a folder of DICOM files at once. */
#include "rr-application.h"
#include "rr-heap.h"

#include <glib/gi18n.h>
#include <locale.h>

int
main (int argc, char **argv)
{
  g_autoptr (RrApplication) app = NULL;

  /* Before anything allocates: rr-heap.c says why. */
  rr_heap_tune ();
  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);
  app = rr_application_new ();
  return g_application_run (G_APPLICATION (app), argc, argv);
}
