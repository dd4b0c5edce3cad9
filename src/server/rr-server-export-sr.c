/* rr-server-export-sr.c: GET /trials/{t}/export?format=sr, a zip of one
 * DICOM SR (TID 1500) per submitted read and per final assessment.
 *
 * The SRs are written by the dicom layer (rr_dicom_sr_export, the code of
 * `readroom-cli sr export`): the plugin calls its C API and never sees
 * dcmtk. Orthanc itself is linked against the same shared dcmtk, so the
 * process holds one copy of it. The SR needs the images' headers (patient
 * and study attributes, each referenced frame's geometry for the SCOORD):
 * the few files it needs are copied out of Orthanc into a temporary folder,
 * scanned there, and the folder is removed. */
#include "rr-server-private.h"
#include "rr-dicom-sr.h"
#include "rr-json.h"

#include <glib/gstdio.h>
#include <zip.h>

/* One SR to write: a read as submitted, or a timepoint's final. */
typedef struct
{
  char *subject, *label;      /* the task's timepoint: the SR taken from the read */
  char *entry;                /* the name in the zip */
  char *read_json;            /* the read, with its key and signatures added */
  GPtrArray *orthanc_ids;     /* the instances its images need */
  char *written;              /* the SR file, once written */
} SrJob;

static void
sr_job_free (gpointer data)
{
  SrJob *j = data;
  g_free (j->subject);
  g_free (j->label);
  g_free (j->entry);
  g_free (j->read_json);
  g_ptr_array_unref (j->orthanc_ids);
  g_free (j->written);
  g_free (j);
}

typedef struct
{
  const char *trial;
  GPtrArray *jobs;            /* SrJob */
  GHashTable *entries;        /* the names in the zip so far */
  char *dir;                  /* temporary folder */
  char *failure;              /* what went wrong, for the answer */
} SrExport;

/* A name part of a zip entry: subjects and labels are free text, and a
 * "/" or ".." inside one must not make a path out of it. */
static char *
entry_part (const char *s)
{
  GString *out = g_string_new (NULL);
  for (const char *p = s; *p && out->len < 64; p++)
    g_string_append_c (out, g_ascii_isalnum (*p) || *p == '-' || *p == '_' ? *p : '_');
  if (out->len == 0)
    g_string_append_c (out, '_');
  return g_string_free (out, FALSE);
}

static void
add_instance (GPtrArray  *ids,
              GHashTable *seen,
              const char *orthanc_id)
{
  if (orthanc_id && !g_hash_table_contains (seen, orthanc_id))
    {
      g_hash_table_add (seen, g_strdup (orthanc_id));
      g_ptr_array_add (ids, g_strdup (orthanc_id));
    }
}

static void
add_query (GPtrArray  *ids,
           GHashTable *seen,
           RrQueryId   q,
           const char *a,
           const char *b)
{
  RrStmt *st = rr_db_query (q);
  if (st == NULL)
    return;
  rr_stmt_bind_text (st, 1, a);
  if (b)
    rr_stmt_bind_text (st, 2, b);
  while (rr_stmt_step (st) == RR_ROW)
    add_instance (ids, seen, col_text (st, 0));
  rr_stmt_finalize (st);
}

/* The calipers of one lesion member: one object or an array of them. */
static void
add_calipers (GPtrArray  *ids,
              GHashTable *seen,
              JsonNode   *n)
{
  if (n == NULL)
    return;
  if (JSON_NODE_HOLDS_ARRAY (n))
    {
      JsonArray *a = json_node_get_array (n);
      for (guint i = 0; i < json_array_get_length (a); i++)
        add_calipers (ids, seen, json_array_get_element (a, i));
      return;
    }
  if (!JSON_NODE_HOLDS_OBJECT (n))
    return;
  JsonObject *c = json_node_get_object (n);
  const char *sop = json_object_get_string_member_with_default (c, "sop_uid", NULL);
  const char *series = json_object_get_string_member_with_default (c, "series_uid", NULL);
  if (sop)
    add_query (ids, seen, RR_Q_INSTANCE_BY_SOP, sop, NULL);
  else if (series)
    /* An MPR caliper: the SR's evidence lists the whole series. */
    add_query (ids, seen, RR_Q_INSTANCES_BY_SERIES, series, NULL);
}

/* Which of the stored instances the SR of @read needs: every instance a
 * caliper names, and one instance of every series of the timepoints'
 * studies (the patient and study attributes, and the study of a timepoint
 * without calipers). */
static GPtrArray *
instances_of_read (const char *trial,
                   const char *subject,
                   JsonObject *read)
{
  GPtrArray *ids = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  const char *arrays[] = { "target_lesions", "non_target_lesions", "new_lesions" };
  JsonArray *tps = rr_json_get_array (read, "timepoints");

  for (guint i = 0; tps && i < json_array_get_length (tps); i++)
    {
      JsonNode *n = json_array_get_element (tps, i);
      const char *label = JSON_NODE_HOLDS_OBJECT (n)
                          ? json_object_get_string_member_with_default (json_node_get_object (n),
                                                                        "id", NULL) : NULL;
      RrStmt *st;
      if (label == NULL)
        continue;
      st = rr_db_query (RR_Q_READ_FIRST_INSTANCE);
      if (st == NULL)
        continue;
      rr_stmt_bind_text (st, 1, trial);
      rr_stmt_bind_text (st, 2, subject);
      rr_stmt_bind_text (st, 3, label);
      while (rr_stmt_step (st) == RR_ROW)
        add_instance (ids, seen, col_text (st, 0));
      rr_stmt_finalize (st);
    }
  for (guint a = 0; a < G_N_ELEMENTS (arrays); a++)
    {
      JsonArray *lesions = rr_json_get_array (read, arrays[a]);
      for (guint i = 0; lesions && i < json_array_get_length (lesions); i++)
        {
          JsonNode *l = json_array_get_element (lesions, i);
          JsonObject *cs;
          GList *members;
          if (!JSON_NODE_HOLDS_OBJECT (l))
            continue;
          cs = rr_json_get_object (json_node_get_object (l), "calipers");
          members = cs ? json_object_get_members (cs) : NULL;
          for (GList *m = members; m; m = m->next)
            add_calipers (ids, seen, json_object_get_member (cs, m->data));
          g_list_free (members);
        }
    }
  return ids;
}

static JsonNode *
signature_node (const char *name,
                const char *time,
                const char *meaning)
{
  JsonObject *o = json_object_new ();
  JsonNode *n = json_node_new (JSON_NODE_OBJECT);
  json_object_set_string_member (o, "name", name);
  json_object_set_string_member (o, "time", time);
  json_object_set_string_member (o, "meaning", meaning);
  json_node_take_object (n, o);
  return n;
}

/* A job for a stored submission's read: @key makes its UIDs its own, and
 * the signatures become the SR's verifying observers. */
static SrJob *
job_new (SrExport    *ex,
         const char  *subject,
         const char  *label,
         const char  *entry,
         const char  *body,
         const char  *key,
         JsonNode   **signatures,
         guint        n_signatures)
{
  g_autoptr (JsonParser) p = json_parser_new ();
  JsonObject *b, *read;
  JsonArray *sigs;
  SrJob *j;

  if (!rr_json_load (p, body, -1, NULL))
    return NULL;
  b = JSON_NODE_HOLDS_OBJECT (json_parser_get_root (p))
      ? json_node_get_object (json_parser_get_root (p)) : NULL;
  read = b ? rr_json_get_object (b, "read") : NULL;
  if (read == NULL)
    return NULL;
  json_object_set_string_member (read, "id", key);
  sigs = json_array_new ();
  for (guint i = 0; i < n_signatures; i++)
    json_array_add_element (sigs, signatures[i]);
  json_object_remove_member (read, "signature");
  json_object_set_array_member (read, "signatures", sigs);
  j = g_new0 (SrJob, 1);
  j->subject = g_strdup (subject);
  j->label = g_strdup (label);
  j->entry = g_strdup (entry);
  /* Two subjects or labels that differ only in what entry_part replaces
   * ("S 1", "S/1") must not make one name. */
  for (guint n = 2; g_hash_table_contains (ex->entries, j->entry); n++)
    {
      g_autofree char *stem = g_strndup (entry, strlen (entry) - strlen (".dcm"));
      g_free (j->entry);
      j->entry = g_strdup_printf ("%s-%u.dcm", stem, n);
    }
  g_hash_table_add (ex->entries, g_strdup (j->entry));
  {
    JsonNode *n = json_node_new (JSON_NODE_OBJECT);
    json_node_set_object (n, read);
    j->read_json = node_to_json (n);
    json_node_unref (n);
  }
  j->orthanc_ids = instances_of_read (ex->trial, subject, read);
  return j;
}

/* Under the lock: what to write, from the database. */
static void
collect (SrExport *ex)
{
  RrStmt *st;

  /* Every submitted read, by subject, timepoint and slot. */
  st = rr_db_query (RR_Q_EXPORT_READS);
  rr_stmt_bind_text (st, 1, ex->trial);
  while (st && rr_stmt_step (st) == RR_ROW)
    {
      g_autofree char *subject = entry_part (col_text (st, 0));
      g_autofree char *label = entry_part (col_text (st, 1));
      g_autofree char *entry = g_strdup_printf ("%s/%s/reader-%" G_GINT64_FORMAT ".dcm", subject, label,
                                                rr_stmt_column_int (st, 2));
      JsonNode *sig = signature_node (col_text (st, 5), col_text (st, 6), col_text (st, 7));
      SrJob *j = job_new (ex, col_text (st, 0), col_text (st, 1), entry, col_text (st, 4),
                          col_text (st, 3), &sig, 1);
      if (j == NULL)
        {
          json_node_unref (sig);
          ex->failure = g_strdup_printf ("the read of %s at %s cannot be parsed",
                                         col_text (st, 0), col_text (st, 1));
          break;
        }
      g_ptr_array_add (ex->jobs, j);
    }
  rr_stmt_finalize (st);
  if (ex->failure)
    return;

  /* Every final: the read it was decided on, signed by its reader and, when
   * adjudicated, by the adjudicator; its own UIDs, beside the read's. */
  st = rr_db_query (RR_Q_EXPORT_FINALS);
  rr_stmt_bind_text (st, 1, ex->trial);
  while (st && rr_stmt_step (st) == RR_ROW)
    {
      g_autofree char *subject = entry_part (col_text (st, 0));
      g_autofree char *label = entry_part (col_text (st, 1));
      g_autofree char *entry = g_strdup_printf ("%s/%s/final.dcm", subject, label);
      g_autofree char *key = g_strdup_printf ("final:%s", col_text (st, 3));
      JsonNode *sigs[2];
      guint n = 0;
      SrJob *j;
      sigs[n++] = signature_node (col_text (st, 5), col_text (st, 6), col_text (st, 7));
      if (!rr_stmt_column_is_null (st, 8))
        sigs[n++] = signature_node (col_text (st, 8), col_text (st, 9), col_text (st, 10));
      j = job_new (ex, col_text (st, 0), col_text (st, 1), entry, col_text (st, 4), key, sigs, n);
      if (j == NULL)
        {
          for (guint i = 0; i < n; i++)
            json_node_unref (sigs[i]);
          ex->failure = g_strdup_printf ("the final of %s at %s cannot be parsed",
                                         col_text (st, 0), col_text (st, 1));
          break;
        }
      g_ptr_array_add (ex->jobs, j);
    }
  rr_stmt_finalize (st);
}

/* The SR of the job's own timepoint among those the export wrote: the one
 * whose file is named after the label (rr_dicom_sr_file_name, no subject). */
static char *
pick_written (GPtrArray  *paths,
              const char *label)
{
  g_autofree char *want = rr_dicom_sr_file_name (NULL, label);
  for (guint i = 0; want && i < paths->len; i++)
    {
      g_autofree char *base = g_path_get_basename (paths->pdata[i]);
      if (g_str_equal (base, want))
        return g_strdup (paths->pdata[i]);
    }
  return NULL;
}

/* Without the lock: the images out of Orthanc, the SRs, one by one. */
static void
write_all (gpointer data)
{
  SrExport *ex = data;
  g_autofree char *images = g_build_filename (ex->dir, "images", NULL);

  if (g_mkdir (images, 0700) != 0)
    {
      ex->failure = g_strdup ("cannot make a temporary folder");
      return;
    }
  for (guint i = 0; i < ex->jobs->len && ex->failure == NULL; i++)
    {
      SrJob *j = ex->jobs->pdata[i];
      g_autoptr (GPtrArray) files = g_ptr_array_new_with_free_func (g_free);
      g_autoptr (GPtrArray) written = NULL;
      g_autoptr (RrDicomScan) scan = NULL;
      g_autoptr (GError) error = NULL;
      g_autofree char *out = g_strdup_printf ("%s/sr-%u", ex->dir, i);

      for (guint k = 0; k < j->orthanc_ids->len; k++)
        {
          const char *id = j->orthanc_ids->pdata[k];
          g_autofree char *name = g_strconcat (id, ".dcm", NULL);
          char *path = g_build_filename (images, name, NULL);
          g_ptr_array_add (files, path);
          if (!g_file_test (path, G_FILE_TEST_EXISTS))
            {
              g_autofree char *uri = g_strdup_printf ("/instances/%s/file", id);
              g_autoptr (GBytes) bytes = rr_server->rest_get (uri);
              gsize size = 0;
              gconstpointer d = bytes ? g_bytes_get_data (bytes, &size) : NULL;
              if (d == NULL || !g_file_set_contents (path, d, size, NULL))
                {
                  ex->failure = g_strdup_printf ("an image of %s at %s cannot be read from "
                                                 "the archive", j->subject, j->label);
                  break;
                }
            }
        }
      if (ex->failure)
        break;
      g_ptr_array_add (files, NULL);
      scan = rr_dicom_scan ((const char * const *) files->pdata, 1, NULL, &error);
      if (scan)
        {
          RrDicomSrOptions options = { "readroom-server", NULL };
          written = rr_dicom_sr_export_full (j->read_json, -1, scan, out, &options, &error);
        }
      if (written)
        j->written = pick_written (written, j->label);
      if (j->written == NULL)
        ex->failure = g_strdup_printf ("the SR of %s at %s (%s): %s", j->subject, j->label,
                                       j->entry, error ? error->message
                                       : "the timepoint is not in the read");
    }
}

static void
remove_tree (const char *path)
{
  g_autoptr (GDir) d = g_dir_open (path, 0, NULL);
  const char *name;
  while (d && (name = g_dir_read_name (d)))
    {
      g_autofree char *p = g_build_filename (path, name, NULL);
      if (g_file_test (p, G_FILE_TEST_IS_DIR) && !g_file_test (p, G_FILE_TEST_IS_SYMLINK))
        remove_tree (p);
      else
        g_unlink (p);
    }
  g_rmdir (path);
}

/* The zip, written by libzip into the temporary folder and read back. */
static GBytes *
zip_jobs (SrExport *ex)
{
  g_autofree char *path = g_build_filename (ex->dir, "export.zip", NULL);
  int err = 0;
  zip_t *z = zip_open (path, ZIP_CREATE | ZIP_TRUNCATE, &err);
  char *data = NULL;
  gsize size = 0;

  if (z == NULL)
    return NULL;
  for (guint i = 0; i < ex->jobs->len; i++)
    {
      SrJob *j = ex->jobs->pdata[i];
      zip_source_t *src = zip_source_file (z, j->written, 0, -1);
      if (src == NULL || zip_file_add (z, j->entry, src, ZIP_FL_ENC_UTF_8) < 0)
        {
          if (src)
            zip_source_free (src);
          zip_discard (z);
          return NULL;
        }
    }
  if (zip_close (z) != 0)
    {
      zip_discard (z);
      return NULL;
    }
  if (!g_file_get_contents (path, &data, &size, NULL))
    return NULL;
  return g_bytes_new_take (data, size);
}

void
get_export_sr (RrHttpRequest *req,
               RrHttpAnswer  *resp,
               const char    *trial)
{
  SrExport ex = { trial, g_ptr_array_new_with_free_func (sr_job_free),
                  g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL), NULL, NULL };
  g_autoptr (GBytes) zip = NULL;

  ex.dir = g_dir_make_tmp ("readroom-sr-XXXXXX", NULL);
  if (ex.dir == NULL)
    {
      g_ptr_array_unref (ex.jobs);
      g_hash_table_unref (ex.entries);
      return server_failed (resp);
    }
  collect (&ex);
  /* Copying images and writing SRs needs no database: let others in. */
  if (ex.failure == NULL)
    rr_without_lock (write_all, &ex);
  if (ex.failure == NULL)
    zip = zip_jobs (&ex);
  remove_tree (ex.dir);
  g_free (ex.dir);
  g_ptr_array_unref (ex.jobs);
  g_hash_table_unref (ex.entries);
  if (ex.failure)
    {
      g_autofree char *message = g_strdup_printf ("The SR export failed: %s", ex.failure);
      g_free (ex.failure);
      return rr_respond_error (resp, 503, "unavailable", message, NULL);
    }
  if (zip == NULL)
    return server_failed (resp);
  rr_response_clear (resp);
  resp->status = 200;
  resp->content_type = g_strdup ("application/zip");
  /* The trial's id is checked (valid_id) where the trial was made. */
  resp->headers = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (resp->headers, g_strdup ("Content-Disposition"));
  g_ptr_array_add (resp->headers, g_strdup_printf ("attachment; filename=\"%s-sr.zip\"", trial));
  resp->body = g_steal_pointer (&zip);
}
