/* rr-sync-secret.h: secrets kept between runs (the session token, a
 * signature's password while its submission waits), by kind, server and
 * name: in the keyring, or without one in a 0600 file (@in_file). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

gboolean  rr_sync_secret_save  (const char  *kind,
                                const char  *server,
                                const char  *name,
                                const char  *value,
                                gboolean    *in_file,
                                GError     **error);
char     *rr_sync_secret_load  (const char  *kind,
                                const char  *server,
                                const char  *name);
void      rr_sync_secret_clear (const char  *kind,
                                const char  *server,
                                const char  *name);

/* Removes every secret of @kind, in the keyring and in files, whose
 * "server\nname" is not in @keep (a set of strings). */
void      rr_sync_secret_wipe_except (const char *kind,
                                      GHashTable *keep);

G_END_DECLS
