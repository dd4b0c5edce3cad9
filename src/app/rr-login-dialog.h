/* rr-login-dialog.h: signs the reader in: server, user name, password;
 * TLS and connection errors said in plain words. */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define RR_TYPE_LOGIN_DIALOG (rr_login_dialog_get_type ())
G_DECLARE_FINAL_TYPE (RrLoginDialog, rr_login_dialog, RR, LOGIN_DIALOG, AdwWindow)

/* "signed-in" (server, username, token, user_json, ca_file) is emitted on
 * success, then the dialog closes. @ca_file: extra certificate
 * authorities (PEM), "" for the system's only. */
RrLoginDialog *rr_login_dialog_new (GtkWindow  *parent,
                                    const char *server,
                                    const char *username,
                                    const char *ca_file);

G_END_DECLS
