/* rr-sync-upload.c: the parts of a site's upload that talk to the server
 * or keep its state on disk, for `readroom-cli upload` and the app's
 * upload page alike. A journal in the staging folder, rewritten
 * atomically after every file the server accepted, is what makes a rerun
 * after kill -9 or a dropped connection send only what was not sent. */
/* syncfs (2) */
#define _GNU_SOURCE
#include "rr-sync-upload.h"
#include "rr-sync-request.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#define JOURNAL "journal"
/* Journal lines are "<file name> <study UID>"; a file name is a UID plus
 * ".dcm", so both are short. */
#define MAX_JOURNAL_BYTES (64 << 20)
/* The trial's key: what `deid` takes (RR_DEID_MIN_KEY_BYTES and
 * RR_DEID_MAX_KEY_BYTES in rr-dicom-deid.h, which checks it again). */
#define MIN_KEY_BYTES 32
#define MAX_KEY_BYTES 65536
/* A trial, subject or timepoint names a folder: an ID of at most 64. */
#define MAX_PART 64

struct _RrUploadJournal
{
  char *staging;
  GHashTable *sent;      /* file name -> study UID */
  GString *text;         /* the journal as it is on disk */
};

static gboolean
plain_name (const char *s)
{
  return s && *s && strlen (s) <= MAX_PART && !strpbrk (s, "/\\") && !g_str_equal (s, ".") &&
         !g_str_equal (s, "..");
}

char *
rr_upload_staging_dir (const char *trial,
                       const char *subject,
                       const char *label)
{
  if (!plain_name (trial) || !plain_name (subject) || !plain_name (label))
    return NULL;
  return g_build_filename (g_get_user_cache_dir (), "readroom", "upload", trial, subject, label,
                           NULL);
}

GBytes *
rr_upload_fetch_key (RrSyncClient  *client,
                     const char    *trial,
                     gboolean      *retain_dates,
                     GError       **error)
{
  g_autofree char *path = g_strdup_printf ("/readroom/v1/trials/%s/deid", trial);
  g_autoptr (JsonNode) doc = rr_sync_get_json (client, path, error);
  JsonObject *o;
  const char *b64;
  guchar *raw;
  gsize n = 0;

  if (doc == NULL)
    return NULL;
  o = JSON_NODE_HOLDS_OBJECT (doc) ? json_node_get_object (doc) : NULL;
  b64 = o ? json_object_get_string_member_with_default (o, "key", NULL) : NULL;
  /* Base64 of at most MAX_KEY_BYTES, checked before decoding. */
  if (b64 == NULL || strlen (b64) > MAX_KEY_BYTES * 4 / 3 + 4)
    {
      g_set_error (error, RR_SYNC_ERROR, RR_SYNC_ERROR_SERVER, "the server sent no trial key");
      return NULL;
    }
  raw = g_base64_decode (b64, &n);
  if (n < MIN_KEY_BYTES)
    {
      g_free (raw);
      g_set_error (error, RR_SYNC_ERROR, RR_SYNC_ERROR_SERVER,
                   "the server's trial key is shorter than %d bytes", MIN_KEY_BYTES);
      return NULL;
    }
  *retain_dates = json_object_get_boolean_member_with_default (o, "retain_dates", FALSE);
  return g_bytes_new_take (raw, n);
}

void
rr_upload_journal_free (RrUploadJournal *j)
{
  if (j == NULL)
    return;
  g_free (j->staging);
  g_hash_table_unref (j->sent);
  g_string_free (j->text, TRUE);
  g_free (j);
}

/* A torn last line cannot happen (the file is replaced whole), but a line
 * that does not parse is dropped rather than trusted. */
RrUploadJournal *
rr_upload_journal_load (const char  *staging,
                        GError     **error)
{
  g_autofree char *path = g_build_filename (staging, JOURNAL, NULL);
  g_autofree char *data = NULL;
  g_auto (GStrv) lines = NULL;
  g_autoptr (RrUploadJournal) j = g_new0 (RrUploadJournal, 1);
  GStatBuf sb;

  j->staging = g_strdup (staging);
  j->sent = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  j->text = g_string_new (NULL);
  if (g_stat (path, &sb) != 0)
    return g_steal_pointer (&j);
  if (sb.st_size > MAX_JOURNAL_BYTES)
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_FAILED, "%s: too large for a journal", path);
      return NULL;
    }
  if (!g_file_get_contents (path, &data, NULL, error))
    return NULL;
  lines = g_strsplit (data, "\n", -1);
  for (guint i = 0; lines[i]; i++)
    {
      g_auto (GStrv) f = g_strsplit (lines[i], " ", 3);
      if (g_strv_length (f) != 2 || !*f[0] || !*f[1])
        continue;
      g_hash_table_replace (j->sent, g_strdup (f[0]), g_strdup (f[1]));
      g_string_append_printf (j->text, "%s %s\n", f[0], f[1]);
    }
  return g_steal_pointer (&j);
}

const char *
rr_upload_journal_study (RrUploadJournal *j,
                         const char      *name)
{
  return g_hash_table_lookup (j->sent, name);
}

guint
rr_upload_journal_count (RrUploadJournal *j)
{
  return g_hash_table_size (j->sent);
}

/* The journal is written to a new file and renamed over the old one: a
 * kill at any point leaves one or the other whole. It is not synced to
 * the disk file by file (an fsync per file is what made the upload slower
 * than curl posting the same files, bench/upload.py): a kill -9 loses
 * nothing, as the kernel keeps the written pages; a power cut may lose the
 * last lines, whose files the rerun sends again and the server stores
 * once. */
gboolean
rr_upload_journal_add (RrUploadJournal  *j,
                       const char       *name,
                       const char       *study,
                       GError          **error)
{
  g_autofree char *path = g_build_filename (j->staging, JOURNAL, NULL);
  g_autofree char *fresh = g_build_filename (j->staging, JOURNAL ".new", NULL);

  g_string_append_printf (j->text, "%s %s\n", name, study);
  if (!g_file_set_contents_full (fresh, j->text->str, (gssize) j->text->len,
                                 G_FILE_SET_CONTENTS_NONE, 0600, error))
    return FALSE;
  if (g_rename (fresh, path) != 0)
    {
      int saved = errno;
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved), "%s: %s", path,
                   g_strerror (saved));
      return FALSE;
    }
  g_hash_table_replace (j->sent, g_strdup (name), g_strdup (study));
  return TRUE;
}

static gint
compare_names (gconstpointer a,
               gconstpointer b)
{
  return g_strcmp0 (*(const char * const *) a, *(const char * const *) b);
}

GPtrArray *
rr_upload_staged_files (const char  *staging,
                        GError     **error)
{
  g_autoptr (GDir) dir = g_dir_open (staging, 0, error);
  GPtrArray *names;
  const char *name;

  if (dir == NULL)
    return NULL;
  names = g_ptr_array_new_with_free_func (g_free);
  while ((name = g_dir_read_name (dir)))
    if (g_str_has_suffix (name, ".dcm"))
      g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, compare_names);
  return names;
}

/* The error answer's code and details ("phi_present: ... [0010,0010]"):
 * what a site needs to act on a refusal. */
static char *
refusal_words (GBytes *answer)
{
  g_autoptr (JsonParser) p = json_parser_new ();
  g_autofree char *said = rr_sync_answer_error (g_bytes_get_data (answer, NULL),
                                                g_bytes_get_size (answer));
  GString *s = g_string_new (said ? said : "");
  JsonNode *root, *details;

  if (json_parser_load_from_data (p, g_bytes_get_data (answer, NULL),
                                  (gssize) g_bytes_get_size (answer), NULL) &&
      (root = json_parser_get_root (p)) && JSON_NODE_HOLDS_OBJECT (root) &&
      json_object_has_member (json_node_get_object (root), "error"))
    {
      JsonObject *e = json_object_get_object_member (json_node_get_object (root), "error");
      details = e ? json_object_get_member (e, "details") : NULL;
      if (details && JSON_NODE_HOLDS_ARRAY (details))
        {
          JsonArray *a = json_node_get_array (details);
          g_string_append (s, " [");
          for (guint i = 0; i < json_array_get_length (a) && i < 32; i++)
            {
              JsonNode *d = json_array_get_element (a, i);
              if (json_node_get_value_type (d) == G_TYPE_STRING)
                g_string_append_printf (s, "%s%s", i ? " " : "", json_node_get_string (d));
            }
          g_string_append (s, "]");
        }
    }
  return g_string_free (s, FALSE);
}

char *
rr_upload_send_file (RrSyncClient       *client,
                     const char         *trial,
                     const char         *path,
                     gboolean           *already_stored,
                     RrUploadRetryFunc   retrying,
                     gpointer            user_data,
                     GError            **error)
{
  g_autofree char *header = g_strdup_printf ("X-Readroom-Trial: %s", trial);
  const char *headers[] = { header, NULL };
  g_autofree char *data = NULL;
  gsize size = 0;
  GStatBuf sb;

  if (g_stat (path, &sb) != 0 || sb.st_size > RR_UPLOAD_MAX_FILE_BYTES)
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_FAILED, "%s: missing or over 1 GiB", path);
      return NULL;
    }
  if (!g_file_get_contents (path, &data, &size, error))
    return NULL;
  for (;;)
    {
      g_autoptr (GError) failure = NULL;
      long status = 0;
      const char *base = rr_sync_client_base (client);
      g_autoptr (GBytes) answer = rr_sync_request (client, "POST", "/readroom/v1/instances", data,
                                                   size, "application/dicom", headers, &status,
                                                   &failure);
      if (answer && !rr_sync_retryable (status))
        {
          g_autoptr (JsonParser) p = json_parser_new ();
          JsonNode *root;
          const char *study;

          rr_sync_note_progress (client);
          if (status != 201)
            {
              g_autofree char *said = refusal_words (answer);
              g_set_error (error, RR_SYNC_ERROR, status == 401 ? RR_SYNC_ERROR_AUTH
                                                               : RR_SYNC_ERROR_SERVER,
                           "%s: refused (%ld %s)", path, status, said);
              return NULL;
            }
          root = json_parser_load_from_data (p, g_bytes_get_data (answer, NULL),
                                             (gssize) g_bytes_get_size (answer), NULL)
                   ? json_parser_get_root (p) : NULL;
          study = root && JSON_NODE_HOLDS_OBJECT (root)
                    ? json_object_get_string_member_with_default (json_node_get_object (root),
                                                                  "study", NULL)
                    : NULL;
          if (study == NULL || strlen (study) > 64 || strchr (study, ' ') || strchr (study, '\n'))
            {
              g_set_error (error, RR_SYNC_ERROR, RR_SYNC_ERROR_SERVER,
                           "%s: the server's answer names no study", path);
              return NULL;
            }
          /* Orthanc's word, passed on by the server: the same instance
           * (SOP Instance UID) was already stored, so this file added
           * nothing. */
          if (already_stored)
            *already_stored = g_strcmp0 (json_object_get_string_member_with_default (
                                           json_node_get_object (root), "status", ""),
                                         "AlreadyStored") == 0;
          return g_strdup (study);
        }
      /* The same file again, as every retry here: the next node, when
       * there is one, gets it at once. */
      if (rr_sync_fail_over (client, base, answer ? status : 0))
        continue;
      if (!rr_sync_note_failure (client, failure ? failure->message : "the upload failed",
                                 error))
        return NULL;
      if (retrying)
        retrying (client->last_failure ? client->last_failure : "", user_data);
      g_usleep ((gulong) rr_sync_backoff_us (client->failures));
    }
}

/* ---- sending on several connections ---- */

#define MAX_PARALLEL 16

typedef struct
{
  GMutex lock;
  RrSyncClient *client;
  const char *trial, *staging;
  GPtrArray *names;
  RrUploadJournal *journal;
  guint next;                  /* the next name to look at */
  guint files_done, files_total;
  guint64 bytes_done, bytes_total;
  guint n_sent;
  guint n_already;             /* of n_sent, those the server already held */
  GError *error;               /* the first failure: everyone stops */
  RrUploadProgressFunc progress;
  gpointer user_data;
  GCancellable *cancellable;
} Sending;

typedef struct
{
  Sending *s;
  RrSyncClient *client;
} Sender;

static void
retry_note (const char *what,
            gpointer    data)
{
  Sender *w = data;
  g_mutex_lock (&w->s->lock);
  if (w->s->progress)
    w->s->progress (w->s->files_done, w->s->files_total, w->s->bytes_done, w->s->bytes_total,
                    what, w->s->user_data);
  g_mutex_unlock (&w->s->lock);
}

static gpointer
sender_thread (gpointer data)
{
  Sender *w = data;
  Sending *s = w->s;

  for (;;)
    {
      const char *name = NULL;
      g_autofree char *path = NULL, *study = NULL;
      g_autoptr (GError) error = NULL;
      gboolean already = FALSE;
      GStatBuf sb;

      g_mutex_lock (&s->lock);
      if (s->error == NULL)
        g_cancellable_set_error_if_cancelled (s->cancellable, &s->error);
      while (s->error == NULL && s->next < s->names->len &&
             rr_upload_journal_study (s->journal, s->names->pdata[s->next]))
        s->next++;
      if (s->error == NULL && s->next < s->names->len)
        name = s->names->pdata[s->next++];
      g_mutex_unlock (&s->lock);
      if (name == NULL)
        break;

      path = g_build_filename (s->staging, name, NULL);
      study = rr_upload_send_file (w->client, s->trial, path, &already, retry_note, w,
                                    &error);
      g_mutex_lock (&s->lock);
      if (study && !rr_upload_journal_add (s->journal, name, study, &error))
        g_clear_pointer (&study, g_free);
      if (study == NULL)
        {
          if (s->error == NULL)
            s->error = g_steal_pointer (&error);
        }
      else
        {
          s->files_done++;
          s->n_sent++;
          if (already)
            s->n_already++;
          if (g_stat (path, &sb) == 0)
            s->bytes_done += (guint64) sb.st_size;
          if (s->progress)
            s->progress (s->files_done, s->files_total, s->bytes_done, s->bytes_total, NULL,
                         s->user_data);
        }
      g_mutex_unlock (&s->lock);
    }
  return NULL;
}

gboolean
rr_upload_send_all (RrSyncClient          *client,
                    const char            *trial,
                    const char            *staging,
                    GPtrArray             *names,
                    RrUploadJournal       *journal,
                    guint                  n_parallel,
                    RrUploadProgressFunc   progress,
                    gpointer               user_data,
                    GCancellable          *cancellable,
                    guint                 *n_sent,
                    guint                 *n_already,
                    GError               **error)
{
  Sending s = { 0 };
  Sender workers[MAX_PARALLEL];
  GThread *threads[MAX_PARALLEL];
  guint n_left = 0;

  s.client = client;
  s.trial = trial;
  s.staging = staging;
  s.names = names;
  s.journal = journal;
  s.progress = progress;
  s.user_data = user_data;
  s.cancellable = cancellable;
  s.files_total = names->len;
  g_mutex_init (&s.lock);
  for (guint i = 0; i < names->len; i++)
    {
      g_autofree char *p = g_build_filename (staging, names->pdata[i], NULL);
      GStatBuf sb;
      gboolean sent = rr_upload_journal_study (journal, names->pdata[i]) != NULL;
      if (g_stat (p, &sb) == 0)
        {
          s.bytes_total += (guint64) sb.st_size;
          if (sent)
            s.bytes_done += (guint64) sb.st_size;
        }
      if (sent)
        s.files_done++;
      else
        n_left++;
    }
  if (progress)
    progress (s.files_done, s.files_total, s.bytes_done, s.bytes_total, NULL, user_data);
  n_parallel = CLAMP (MIN (n_parallel, n_left), 1, MAX_PARALLEL);
  /* The first connection is the caller's own (signed in, kept alive);
   * the others are clients of the same server, token and policy. */
  for (guint i = 0; i < n_parallel; i++)
    {
      workers[i].s = &s;
      if (i == 0)
        workers[i].client = client;
      else
        {
          workers[i].client = rr_sync_client_new (client->server, client->ca_file);
          rr_sync_client_set_token (workers[i].client, client->token);
          rr_sync_client_set_offline_timeout (workers[i].client, client->offline_timeout_s);
        }
    }
  for (guint i = 1; i < n_parallel; i++)
    threads[i] = g_thread_new ("rr-upload", sender_thread, &workers[i]);
  sender_thread (&workers[0]);
  for (guint i = 1; i < n_parallel; i++)
    {
      g_thread_join (threads[i]);
      rr_sync_client_free (workers[i].client);
    }
  g_mutex_clear (&s.lock);
  if (n_sent)
    *n_sent = s.n_sent;
  if (n_already)
    *n_already = s.n_already;
  if (s.error)
    {
      g_propagate_error (error, s.error);
      return FALSE;
    }
  return TRUE;
}

GPtrArray *
rr_upload_studies (RrUploadJournal *journal,
                   GPtrArray       *names)
{
  g_autoptr (GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  GPtrArray *studies = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < names->len; i++)
    {
      const char *study = rr_upload_journal_study (journal, names->pdata[i]);
      if (study && g_hash_table_add (seen, (gpointer) study))
        g_ptr_array_add (studies, g_strdup (study));
    }
  return studies;
}

gboolean
rr_upload_link (RrSyncClient  *client,
                const char    *trial,
                const char    *subject,
                const char    *label,
                int            day,
                GPtrArray     *studies,
                RrUploadLink  *result,
                GError       **error)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autoptr (JsonNode) root = NULL;
  g_autofree char *body = NULL, *path = NULL;
  g_autofree char *esc_subject = g_uri_escape_string (subject, NULL, FALSE);
  g_autoptr (GBytes) answer = NULL;
  long status = 0;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "label");
  json_builder_add_string_value (b, label);
  json_builder_set_member_name (b, "day");
  json_builder_add_int_value (b, day);
  json_builder_set_member_name (b, "studies");
  json_builder_begin_array (b);
  for (guint i = 0; i < studies->len; i++)
    json_builder_add_string_value (b, studies->pdata[i]);
  json_builder_end_array (b);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  json_generator_set_root (gen, root);
  body = json_generator_to_data (gen, NULL);
  path = g_strdup_printf ("/readroom/v1/trials/%s/subjects/%s/timepoints", trial, esc_subject);
  answer = rr_sync_call (client, "POST", path, body, NULL, &status, error);
  if (answer == NULL)
    return FALSE;
  if (status == 201 || status == 403)
    {
      /* A site may not link (server-api.md): an administrator does. */
      *result = status == 201 ? RR_UPLOAD_LINKED : RR_UPLOAD_NOT_LINKED;
      return TRUE;
    }
  {
    g_autofree char *said = rr_sync_answer_error (g_bytes_get_data (answer, NULL),
                                                  g_bytes_get_size (answer));
    g_set_error (error, RR_SYNC_ERROR, RR_SYNC_ERROR_SERVER, "the server did not link the "
                 "studies (%ld %s)", status, said ? said : "");
  }
  return FALSE;
}

/* A query is a task id: a UUID's characters, at most 64 (it names a
 * folder and goes into the request's path). */
static gboolean
query_id_ok (const char *query)
{
  return query && *query && strlen (query) <= MAX_PART &&
         strspn (query, "0123456789abcdefABCDEF-") == strlen (query);
}

char *
rr_upload_query_staging_dir (const char *staging,
                             const char *query)
{
  if (staging == NULL || !query_id_ok (query))
    return NULL;
  return g_build_filename (staging, "query", query, NULL);
}

gboolean
rr_upload_answer_query (RrSyncClient  *client,
                        const char    *query,
                        const char    *response,
                        const char    *password,
                        GPtrArray     *studies,
                        GError       **error)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autoptr (JsonNode) root = NULL;
  g_autofree char *body = NULL, *path = NULL, *said = NULL, *uuid = g_uuid_string_random ();
  g_autofree char *idem = g_strdup_printf ("Idempotency-Key: %s", uuid);
  g_autofree char *esc = NULL;
  const char *headers[] = { idem, NULL };
  g_autoptr (GBytes) answer = NULL;
  long status = 0;

  if (!query_id_ok (query) || response == NULL || !*response || password == NULL ||
      !*password || studies == NULL || studies->len == 0)
    {
      g_set_error (error, RR_SYNC_ERROR, RR_SYNC_ERROR_SERVER,
                   "an answer needs the query, a response, the password and the studies sent");
      return FALSE;
    }
  esc = g_uri_escape_string (query, NULL, FALSE);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "response");
  json_builder_add_string_value (b, response);
  json_builder_set_member_name (b, "studies");
  json_builder_begin_array (b);
  for (guint i = 0; i < studies->len; i++)
    json_builder_add_string_value (b, studies->pdata[i]);
  json_builder_end_array (b);
  json_builder_set_member_name (b, "signature");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "password");
  json_builder_add_string_value (b, password);
  json_builder_set_member_name (b, "meaning");
  json_builder_add_string_value (b, "Answered the QC query");
  json_builder_end_object (b);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  json_generator_set_root (gen, root);
  body = json_generator_to_data (gen, NULL);
  path = g_strdup_printf ("/readroom/v1/tasks/%s/submission", esc);
  answer = rr_sync_call (client, "POST", path, body, headers, &status, error);
  if (answer == NULL)
    return FALSE;
  if (status == 201 || status == 200)
    return TRUE;
  said = rr_sync_answer_error (g_bytes_get_data (answer, NULL), g_bytes_get_size (answer));
  g_set_error (error, RR_SYNC_ERROR, status == 401 ? RR_SYNC_ERROR_AUTH : RR_SYNC_ERROR_SERVER,
               "the query was not answered (%ld %s)", status, said ? said : "");
  return FALSE;
}

gboolean
rr_upload_mark_deid_done (const char *staging, GError **error)
{
  g_autofree char *done = g_build_filename (staging, RR_UPLOAD_DEID_DONE, NULL);
  int fd = open (staging, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  int saved;

  /* deid writes without a sync per file (the folder can be made again
   * byte for byte from the same input and key); one syncfs here is what
   * lets the marker promise that the files are whole. */
  if (fd < 0 || syncfs (fd) != 0)
    {
      saved = errno;
      if (fd >= 0)
        close (fd);
      g_set_error (error, RR_SYNC_ERROR, RR_SYNC_ERROR_DISK, "%s: %s", staging,
                   g_strerror (saved));
      return FALSE;
    }
  close (fd);
  return g_file_set_contents_full (done, "", 0,
                                   G_FILE_SET_CONTENTS_CONSISTENT | G_FILE_SET_CONTENTS_DURABLE,
                                   0600, error);
}
