/* rr-login-dialog.h: signs the reader in: server, user name, password;
 * TLS and connection errors said in plain words. */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define RR_TYPE_LOGIN_DIALOG (rr_login_dialog_get_type ())
G_DECLARE_FINAL_TYPE (RrLoginDialog, rr_login_dialog, RR, LOGIN_DIALOG, AdwWindow)

/* "signed-in" (server, username, token, user_json) is emitted on success,
 * then the dialog closes. */
RrLoginDialog *rr_login_dialog_new (GtkWindow  *parent,
                                    const char *server,
                                    const char *username);

G_END_DECLS
