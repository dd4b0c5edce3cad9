/* rr-sync-secret.c: secrets kept between runs: the session token, and a
 * signature's password while its submission waits in the outbox. In the
 * desktop keyring (libsecret), or without one in a file only the user can
 * read. */
#include "rr-sync-secret.h"
#include "rr-sync.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <libsecret/secret.h>

static const SecretSchema *
secret_schema (void)
{
  static const SecretSchema schema = {
    "org.readroom.Readroom.Secret", SECRET_SCHEMA_NONE,
    {
      { "kind", SECRET_SCHEMA_ATTRIBUTE_STRING },
      { "server", SECRET_SCHEMA_ATTRIBUTE_STRING },
      { "name", SECRET_SCHEMA_ATTRIBUTE_STRING },
      { "NULL", 0 },
    }
  };
  return &schema;
}

static char *
secret_file (const char *kind,
             const char *server,
             const char *name)
{
  g_autofree char *key = g_strdup_printf ("%s\n%s\n%s", kind, server, name);
  g_autofree char *file = g_compute_checksum_for_string (G_CHECKSUM_SHA256, key, -1);
  return g_build_filename (g_get_user_data_dir (), "readroom",
                           g_str_equal (kind, "token") ? "tokens" : "secrets", file, NULL);
}

gboolean
rr_sync_secret_save (const char  *kind,
                     const char  *server,
                     const char  *name,
                     const char  *value,
                     gboolean    *in_file,
                     GError     **error)
{
  g_autoptr (GError) keyring = NULL;
  g_autofree char *label = g_strdup_printf ("Readroom %s for %s on %s", kind, name, server);
  g_autofree char *path = secret_file (kind, server, name);
  g_autofree char *dir = g_path_get_dirname (path);

  *in_file = FALSE;
  if (g_getenv ("READROOM_NO_KEYRING") == NULL &&
      secret_password_store_sync (secret_schema (), SECRET_COLLECTION_DEFAULT, label, value, NULL,
                                  &keyring, "kind", kind, "server", server, "name", name, NULL))
    {
      g_unlink (path);
      return TRUE;
    }
  /* No keyring: a file only this user can read, and the caller says so. */
  *in_file = TRUE;
  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      int e = errno;
      g_set_error (error, RR_SYNC_ERROR, RR_SYNC_ERROR_DISK, "%s: %s", dir, g_strerror (e));
      return FALSE;
    }
  return g_file_set_contents_full (path, value, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0600, error);
}

char *
rr_sync_secret_load (const char *kind,
                     const char *server,
                     const char *name)
{
  g_autofree char *path = secret_file (kind, server, name);
  char *value = NULL;
  if (g_getenv ("READROOM_NO_KEYRING") == NULL)
    {
      value = secret_password_lookup_sync (secret_schema (), NULL, NULL, "kind", kind, "server",
                                           server, "name", name, NULL);
      if (value)
        {
          char *copy = g_strdup (value);
          secret_password_free (value);
          return copy;
        }
    }
  if (g_file_get_contents (path, &value, NULL, NULL))
    g_strstrip (value);
  return value;
}

void
rr_sync_secret_clear (const char *kind,
                      const char *server,
                      const char *name)
{
  g_autofree char *path = secret_file (kind, server, name);
  if (g_getenv ("READROOM_NO_KEYRING") == NULL)
    secret_password_clear_sync (secret_schema (), NULL, NULL, "kind", kind, "server", server,
                                "name", name, NULL);
  g_unlink (path);
}

gboolean
rr_sync_token_save (const char  *server,
                    const char  *username,
                    const char  *token,
                    gboolean    *in_file,
                    GError     **error)
{
  return rr_sync_secret_save ("token", server, username, token, in_file, error);
}

char *
rr_sync_token_load (const char *server,
                    const char *username)
{
  return rr_sync_secret_load ("token", server, username);
}

void
rr_sync_secret_wipe_except (const char *kind,
                            GHashTable *keep)
{
  g_autofree char *probe = secret_file (kind, "", "");
  g_autofree char *dir = g_path_get_dirname (probe);
  g_autoptr (GHashTable) files = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr (GDir) d = NULL;
  GHashTableIter it;
  gpointer k;
  const char *name;

  /* The files: named by a hash, so the names to keep are computed. */
  g_hash_table_iter_init (&it, keep);
  while (g_hash_table_iter_next (&it, &k, NULL))
    {
      g_auto (GStrv) parts = g_strsplit (k, "\n", 2);
      if (parts[0] && parts[1])
        {
          g_autofree char *path = secret_file (kind, parts[0], parts[1]);
          g_hash_table_add (files, g_path_get_basename (path));
        }
    }
  d = g_dir_open (dir, 0, NULL);
  while (d && (name = g_dir_read_name (d)) != NULL)
    if (!g_hash_table_contains (files, name))
      {
        g_autofree char *path = g_build_filename (dir, name, NULL);
        g_unlink (path);
      }
  if (g_getenv ("READROOM_NO_KEYRING") == NULL)
    {
      g_autoptr (GHashTable) attrs = secret_attributes_build (secret_schema (), "kind", kind, NULL);
      GList *items = secret_password_searchv_sync (secret_schema (), attrs, SECRET_SEARCH_ALL, NULL,
                                                   NULL);
      for (GList *l = items; l; l = l->next)
        {
          g_autoptr (GHashTable) a = secret_retrievable_get_attributes (l->data);
          const char *server = g_hash_table_lookup (a, "server");
          const char *item = g_hash_table_lookup (a, "name");
          g_autofree char *id = g_strdup_printf ("%s\n%s", server ? server : "", item ? item : "");
          if (server && item && !g_hash_table_contains (keep, id))
            secret_password_clear_sync (secret_schema (), NULL, NULL, "kind", kind, "server",
                                        server, "name", item, NULL);
        }
      g_list_free_full (items, g_object_unref);
    }
}
