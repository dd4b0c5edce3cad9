/* rr-account-button.h: the header bar's person button: who is signed in,
 * to which server, with Switch User and Sign Out; "Sign In" when nobody is. */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define RR_TYPE_ACCOUNT_BUTTON (rr_account_button_get_type ())
G_DECLARE_FINAL_TYPE (RrAccountButton, rr_account_button, RR, ACCOUNT_BUTTON, GtkWidget)

/* @user signed in to @server (one URL or several, comma-separated): shown
 * at once by user name, then by full name and roles once GET /me answers
 * with @token (offline, the user name stays). */
void        rr_account_button_set_account (RrAccountButton *self,
                                           const char      *server,
                                           const char      *user,
                                           const char      *token,
                                           const char      *ca_file);
/* Nobody signed in: the button says "Sign In". The server is kept for the
 * next sign-in. */
void        rr_account_button_sign_out    (RrAccountButton *self);
/* The server signed in to, or last used (or given with --server): what the
 * sign-in dialog offers; @fallback when there was none. */
const char *rr_account_button_get_server  (RrAccountButton *self,
                                           const char      *fallback);
void        rr_account_button_set_server  (RrAccountButton *self,
                                           const char      *server);
/* TRUE when someone other than @user on @server is signed in. */
gboolean    rr_account_button_other_than  (RrAccountButton *self,
                                           const char      *server,
                                           const char      *user);

G_END_DECLS
