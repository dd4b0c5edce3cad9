/* rr-window.h: the main window: the worklist of the signed-in reader, and
 * a task's (or a folder's) series beside the viewer. */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define RR_TYPE_WINDOW (rr_window_get_type ())
G_DECLARE_FINAL_TYPE (RrWindow, rr_window, RR, WINDOW, AdwApplicationWindow)

RrWindow *rr_window_new         (AdwApplication *app);
void      rr_window_open_folder (RrWindow       *self,
                                 GFile          *folder);
/* Shows the worklist of @user on @server with the session kept for it (in
 * the keyring); asks for the password when there is none. */
void      rr_window_use_account (RrWindow       *self,
                                 const char     *server,
                                 const char     *user);

G_END_DECLS
