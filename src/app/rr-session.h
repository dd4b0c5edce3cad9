/* rr-session.h: the session token kept for a user, saved and loaded on a
 * worker (the keyring answers over D-Bus, as slowly as it likes). */
#pragma once

#include <gio/gio.h>
#include "rr-store.h"
#include "rr-sync.h"

G_BEGIN_DECLS

void      rr_session_save_async  (const char          *server,
                                  const char          *user,
                                  const char          *token,
                                  gpointer             source_object,
                                  GAsyncReadyCallback  callback,
                                  gpointer             user_data);
/* TRUE when saved; *in_file: in a file, not the keyring. */
gboolean  rr_session_save_finish (GAsyncResult        *result,
                                  gboolean            *in_file,
                                  GError             **error);
void      rr_session_load_async  (const char          *server,
                                  const char          *user,
                                  gpointer             source_object,
                                  GAsyncReadyCallback  callback,
                                  gpointer             user_data);
/* The token, or NULL when none is kept. */
char     *rr_session_load_finish (GAsyncResult        *result);

/* A client for server carrying the token kept for user (none when none is
 * kept). Asks the keyring, so it blocks: call it on a worker. */
RrSyncClient *rr_session_client_new (const char *server,
                                     const char *user,
                                     const char *ca_file);

/* Switch User: signs @account (its row in @store) out. The sign-in dialog
 * that follows asks for a user name afresh (@settings' "user" is emptied)
 * and, for a password: the session token kept for the account is
 * forgotten, then, on a worker, ended on the server. What the account
 * keeps in @store stays its own: drafts and outbox entries are the
 * account's rows, delivered when it signs in again. @account <= 0: only
 * the settings. */
void          rr_session_sign_out   (RrStore    *store,
                                     gint64      account,
                                     GSettings  *settings);

G_END_DECLS
