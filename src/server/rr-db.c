/* rr-db.c: what both backends share: the SQL files read from the plugin's
 * resources, and the calls handlers make, passed to the backend opened. A
 * statement that could not be had (NULL) binds nothing, steps to RR_ERROR
 * and reads as no value, so a handler checks one result, not each call. */
#include "rr-db.h"

#include <gio/gio.h>
#include <string.h>

const RrDbBackend *rr_db = &rr_db_sqlite;

static const char *const query_names[] = {
#define RR_QUERY_NAME(name) #name,
  RR_QUERIES (RR_QUERY_NAME)
#undef RR_QUERY_NAME
};

G_STATIC_ASSERT (G_N_ELEMENTS (query_names) == RR_N_QUERIES);

const char *
rr_db_query_name (RrQueryId id)
{
  return id < RR_N_QUERIES ? query_names[id] : "?";
}

static GBytes *
sql_file (const char  *backend,
          const char  *file,
          GError     **error)
{
  g_autofree char *path = g_strdup_printf ("/org/readroom/server/sql/%s/%s", backend, file);
  return g_resources_lookup_data (path, G_RESOURCE_LOOKUP_FLAGS_NONE, error);
}

static int
query_index (const char *name)
{
  for (int i = 0; i < RR_N_QUERIES; i++)
    if (g_ascii_strcasecmp (query_names[i], name) == 0)
      return i;
  return -1;
}

/* "-- name: x" starts a query; it runs to the line that ends with ';'
 * (the semicolon dropped: libpq's prepare takes one statement). Other
 * comment lines are the file's notes. */
char **
rr_db_load_queries (const char  *backend,
                    GError     **error)
{
  g_autoptr (GBytes) data = sql_file (backend, "queries.sql", error);
  g_auto (GStrv) lines = NULL;
  g_auto (GStrv) sql = g_new0 (char *, RR_N_QUERIES + 1);
  g_autoptr (GString) cur = NULL;
  int at = -1;

  if (data == NULL)
    return NULL;
  lines = g_strsplit (g_bytes_get_data (data, NULL), "\n", -1);
  for (guint i = 0; lines[i]; i++)
    {
      const char *line = lines[i];
      if (g_str_has_prefix (line, "-- name: "))
        {
          if (cur)
            {
              g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                           "%s: query %s has no ending ';'", backend, query_names[at]);
              return NULL;
            }
          at = query_index (g_strstrip (lines[i] + 9));
          if (at < 0 || sql[at])
            {
              g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                           "%s: query %s is %s", backend, lines[i] + 9,
                           at < 0 ? "not a known name" : "defined twice");
              return NULL;
            }
          cur = g_string_new (NULL);
          continue;
        }
      if (cur == NULL || g_str_has_prefix (line, "--"))
        continue;
      if (cur->len)
        g_string_append_c (cur, '\n');
      g_string_append (cur, line);
      g_strchomp (cur->str);
      cur->len = strlen (cur->str);
      if (cur->len && cur->str[cur->len - 1] == ';')
        {
          g_string_truncate (cur, cur->len - 1);
          sql[at] = g_string_free (g_steal_pointer (&cur), FALSE);
        }
    }
  for (int i = 0; i < RR_N_QUERIES; i++)
    if (sql[i] == NULL)
      {
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                     "%s: query %s is not defined", backend, query_names[i]);
        return NULL;
      }
  return g_steal_pointer (&sql);
}

char **
rr_db_load_migrations (const char  *backend,
                       GError     **error)
{
  g_autoptr (GPtrArray) steps = g_ptr_array_new_with_free_func (g_free);

  for (guint n = 1;; n++)
    {
      g_autofree char *file = g_strdup_printf ("migrations/%03u.sql", n);
      g_autoptr (GBytes) data = sql_file (backend, file, NULL);
      if (data == NULL)
        break;
      g_ptr_array_add (steps, g_strndup (g_bytes_get_data (data, NULL), g_bytes_get_size (data)));
    }
  if (steps->len == 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "%s: no migrations", backend);
      return NULL;
    }
  g_ptr_array_add (steps, NULL);
  return (char **) g_ptr_array_free (g_steal_pointer (&steps), FALSE);
}

RrStmt *
rr_db_query (RrQueryId id)
{
  return rr_db->query (id);
}

void
rr_stmt_bind_int (RrStmt *st,
                  int     i,
                  gint64  v)
{
  if (st)
    rr_db->bind_int (st, i, v);
}

void
rr_stmt_bind_text (RrStmt     *st,
                   int         i,
                   const char *s)
{
  if (st && s)
    rr_db->bind_text (st, i, s);
  else if (st)
    rr_db->bind_null (st, i);
}

void
rr_stmt_bind_null (RrStmt *st,
                   int     i)
{
  if (st)
    rr_db->bind_null (st, i);
}

int
rr_stmt_step (RrStmt *st)
{
  return st ? rr_db->step (st) : RR_ERROR;
}

gint64
rr_stmt_column_int (RrStmt *st,
                    int     i)
{
  return st ? rr_db->column_int (st, i) : 0;
}

const char *
rr_stmt_column_text (RrStmt *st,
                     int     i)
{
  return st ? rr_db->column_text (st, i) : NULL;
}

gboolean
rr_stmt_column_is_null (RrStmt *st,
                        int     i)
{
  return st ? rr_db->column_is_null (st, i) : TRUE;
}

void
rr_stmt_finalize (RrStmt *st)
{
  if (st)
    rr_db->finalize (st);
}

gint64
rr_db_changes (void)
{
  return rr_db->changes ();
}
