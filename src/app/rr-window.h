/* rr-window.h: the main window: a folder's series beside a 2D viewer.
 * Later issues add the worklist, the GL viewer and the reading forms. */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define RR_TYPE_WINDOW (rr_window_get_type ())
G_DECLARE_FINAL_TYPE (RrWindow, rr_window, RR, WINDOW, AdwApplicationWindow)

RrWindow *rr_window_new         (AdwApplication *app);
void      rr_window_open_folder (RrWindow       *self,
                                 GFile          *folder);

G_END_DECLS
