/* rr-sync-download.c: instance files from the server into the cache.
 * Downloads run on one thread through a libcurl multi handle (several
 * keep-alive connections); each file grows in a partial file named by its
 * SOP Instance UID, resumed with Range. A finished file goes to a checking
 * thread, which reads it back from disk and moves it into the cache under
 * its SHA-256 only after its size and MD5 match the manifest; the transfer
 * thread meanwhile receives the next ones. */
#include "rr-sync-download.h"
#include "rr-sync-request.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <openssl/evp.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_VERIFY_FAILURES 3


/* MD5 (the manifest's) and SHA-256 (the cache's name) side by side, with
 * OpenSSL's implementations: several times GChecksum's speed, and hashing is
 * most of a sync's CPU. */
typedef struct
{
  EVP_MD_CTX *md5;
  EVP_MD_CTX *sha;
} Hasher;

static void
hasher_reset (Hasher *h)
{
  if (h->md5 == NULL)
    {
      h->md5 = EVP_MD_CTX_new ();
      h->sha = EVP_MD_CTX_new ();
    }
  EVP_DigestInit_ex (h->md5, EVP_md5 (), NULL);
  EVP_DigestInit_ex (h->sha, EVP_sha256 (), NULL);
}

static void
hasher_update (Hasher     *h,
               const void *data,
               gsize       n)
{
  EVP_DigestUpdate (h->md5, data, n);
  EVP_DigestUpdate (h->sha, data, n);
}

static char *
hex_digest (EVP_MD_CTX *ctx)
{
  unsigned char d[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  GString *s = g_string_new (NULL);
  EVP_DigestFinal_ex (ctx, d, &n);
  for (unsigned int i = 0; i < n; i++)
    g_string_append_printf (s, "%02x", d[i]);
  return g_string_free (s, FALSE);
}

/* The two digests (the hasher is spent). */
static void
hasher_finish (Hasher  *h,
               char   **md5,
               char   **sha)
{
  *md5 = hex_digest (h->md5);
  *sha = hex_digest (h->sha);
}

static void
hasher_clear (Hasher *h)
{
  g_clear_pointer (&h->md5, EVP_MD_CTX_free);
  g_clear_pointer (&h->sha, EVP_MD_CTX_free);
}

#define HASH_BUFFER (256 * 1024)
static GPrivate hash_buffer = G_PRIVATE_INIT (g_free);

/* MD5 and SHA-256 of a file in one pass, and its size. */
static gboolean
hash_file (const char *path,
           char      **md5,
           char      **sha256,
           goffset    *size)
{
  int fd = open (path, O_RDONLY | O_CLOEXEC);
  Hasher h = { 0 };
  guint8 *buf = g_private_get (&hash_buffer);
  g_autofree char *m = NULL, *s = NULL;
  ssize_t n;
  goffset total = 0;

  if (fd < 0)
    return FALSE;
  if (buf == NULL)
    {
      /* One buffer per thread, kept: files come by the hundred. */
      buf = g_malloc (HASH_BUFFER);
      g_private_set (&hash_buffer, buf);
    }
  hasher_reset (&h);
  while ((n = read (fd, buf, HASH_BUFFER)) > 0)
    {
      hasher_update (&h, buf, n);
      total += n;
    }
  {
    int e = errno;
    close (fd);
    errno = e;
  }
  hasher_finish (&h, &m, &s);
  hasher_clear (&h);
  if (n < 0)
    return FALSE;
  if (md5)
    *md5 = g_steal_pointer (&m);
  if (sha256)
    *sha256 = g_steal_pointer (&s);
  if (size)
    *size = total;
  return TRUE;
}

/* The run: what every transfer and check of one sync shares. */
typedef struct _RrSyncDownload Run;

typedef struct
{
  Run *run;
  RrStoreInstance *inst;     /* borrowed from the run's list */
  const char *base;          /* the node it went to (the client's) */
  CURL *easy;
  struct curl_slist *headers;
  int fd;
  char *part;
  goffset offset;            /* bytes already in the partial file when started */
  long status;
  gboolean status_checked;
  int write_errno;
  guint failures;            /* checksum failures */
  GByteArray *pending;       /* received, not yet written: writes go in whole pages */
  GByteArray *answer;        /* an error's body, for the message (bounded) */
  char errbuf[CURL_ERROR_SIZE];
} Transfer;

struct _RrSyncDownload
{
  RrSyncClient *client;
  RrStore *store;
  gint64 account;
  const char *cache_dir;
  char *partial_dir;
  const RrSyncOptions *options;
  RrSyncProgress progress;
  gint64 last_report;
  char *status;
  guint64 in_flight;         /* bytes received for transfers not finished */
  char *max_speed;           /* READROOM_SYNC_MAX_SPEED, for tests of interruption */
  GPtrArray *verified;       /* sop, sha256, partial file, ...: checked, not yet recorded */
  gint64 first_unrecorded;   /* when the oldest of them was checked */
  guint64 limit;             /* ...as bytes per second for the whole run, 0: none */
  gint64 limit_start;
  guint64 limit_bytes;
  GThreadPool *checker;      /* finished files are checked and moved here... */
  GAsyncQueue *checked;      /* ...and come back with the outcome (Check) */
  guint checking;            /* files with the checker */
  guint64 checking_bytes;
  GQueue queue;              /* files waiting for a transfer (Transfer) */
  GPtrArray *instances;      /* what the transfers' instances are borrowed from */
};

static void
report (Run     *run,
        gboolean force)
{
  gint64 now = g_get_monotonic_time ();
  RrSyncProgress p = run->progress;
  if (!run->options->progress || (!force && now - run->last_report < 200 * 1000))
    return;
  run->last_report = now;
  p.bytes_done += run->in_flight;
  p.status = run->status;
  run->options->progress (&p, run->options->progress_data);
}

/* The cache cannot be written: what to do about it, by the reason. */
static void
set_disk_error (GError    **error,
                const char *path,
                int         e)
{
  const char *advice;
  if (e == ENOSPC || e == EDQUOT)
    advice = "free some space and synchronise again";
  else if (e == EROFS || e == EACCES || e == EPERM)
    advice = "make the cache folder writable (or choose another cache) and synchronise again";
  else
    advice = "check the disk and synchronise again";
  g_set_error (error, RR_SYNC_ERROR, RR_SYNC_ERROR_DISK,
               "The cache cannot be written (%s): %s. Nothing was lost; %s.", path,
               g_strerror (e), advice);
}

#define WRITE_CHUNK (64 * 1024)

/* Writes what was received: whole pages, or all of it at the end. */
static gboolean
flush_pending (Transfer *t,
               gboolean  all)
{
  gsize n = all ? t->pending->len : t->pending->len / 4096 * 4096, done = 0;
  while (done < n)
    {
      ssize_t w = write (t->fd, t->pending->data + done, n - done);
      if (w < 0)
        {
          if (errno == EINTR)
            continue;
          t->write_errno = errno;
          return FALSE;
        }
      done += (gsize) w;
    }
  g_byte_array_remove_range (t->pending, 0, (guint) n);
  return TRUE;
}

static size_t
on_data (char *data, size_t size, size_t n, void *user)
{
  Transfer *t = user;
  size_t len = size * n;

  if (!t->status_checked)
    {
      curl_easy_getinfo (t->easy, CURLINFO_RESPONSE_CODE, &t->status);
      t->status_checked = TRUE;
      /* A whole file where a range was asked for: start again. */
      if (t->status == 200 && t->offset > 0)
        {
          if (ftruncate (t->fd, 0) != 0 || lseek (t->fd, 0, SEEK_SET) != 0)
            {
              t->write_errno = errno;
              return 0;
            }
          t->offset = 0;
          g_byte_array_set_size (t->pending, 0);
        }
    }
  if (t->status != 200 && t->status != 206)
    {
      /* An error's body: not part of the file; its start says why. */
      if (t->answer->len < 4096)
        g_byte_array_append (t->answer, (const guint8 *) data,
                             (guint) MIN (len, 4096 - t->answer->len));
      return len;
    }
  /* Bytes of the file: the server is making progress. */
  rr_sync_note_progress (t->run->client);
  /* curl's pieces follow the headers, so writing each as it comes would
   * touch partial pages every time: collect, write whole pages. */
  g_byte_array_append (t->pending, (const guint8 *) data, (guint) len);
  if (t->pending->len >= WRITE_CHUNK && !flush_pending (t, FALSE))
    return 0;
  if (t->run->limit)
    {
      /* A test's speed limit for the whole run (curl's own limit lets the
       * first part of a transfer through at full speed). */
      Run *run = t->run;
      gint64 due;
      run->limit_bytes += len;
      due = run->limit_start + (gint64) (run->limit_bytes * G_USEC_PER_SEC / run->limit);
      if (due > g_get_monotonic_time ())
        g_usleep (MIN (due - g_get_monotonic_time (), G_USEC_PER_SEC));
    }
  return len;
}

static gboolean
start_transfer (Run      *run,
                CURLM    *multi,
                Transfer *t,
                GError  **error)
{
  struct stat st;
  g_autofree char *url = NULL;
  g_autofree char *auth = g_strdup_printf ("Authorization: Bearer %s",
                                           run->client->token ? run->client->token : "");

  t->base = rr_sync_client_base (run->client);
  url = g_strconcat (t->base, t->inst->url, NULL);
  t->fd = open (t->part, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (t->fd < 0)
    {
      set_disk_error (error, t->part, errno);
      return FALSE;
    }
  t->offset = fstat (t->fd, &st) == 0 ? st.st_size : 0;
  if (t->offset > t->inst->size && ftruncate (t->fd, 0) == 0)
    t->offset = 0;  /* longer than the file can be: not ours to keep */
  if (t->pending == NULL)
    t->pending = g_byte_array_new ();
  g_byte_array_set_size (t->pending, 0);
  if (t->answer == NULL)
    t->answer = g_byte_array_new ();
  g_byte_array_set_size (t->answer, 0);
  t->status = 0;
  t->status_checked = FALSE;
  t->write_errno = 0;
  t->errbuf[0] = '\0';
  t->easy = curl_easy_init ();
  rr_sync_common_options (run->client, t->easy);
  t->headers = curl_slist_append (NULL, auth);
  curl_easy_setopt (t->easy, CURLOPT_URL, url);
  curl_easy_setopt (t->easy, CURLOPT_HTTPHEADER, t->headers);
  curl_easy_setopt (t->easy, CURLOPT_WRITEFUNCTION, on_data);
  curl_easy_setopt (t->easy, CURLOPT_WRITEDATA, t);
  curl_easy_setopt (t->easy, CURLOPT_PRIVATE, t);
  curl_easy_setopt (t->easy, CURLOPT_ERRORBUFFER, t->errbuf);
  /* Large reads: fewer write () calls for files of hundreds of kB. */
  curl_easy_setopt (t->easy, CURLOPT_BUFFERSIZE, 512L * 1024);
  if (t->offset > 0 && t->offset < t->inst->size)
    {
      g_autofree char *range = g_strdup_printf ("%" G_GOFFSET_FORMAT "-", t->offset);
      curl_easy_setopt (t->easy, CURLOPT_RANGE, range);
    }
  curl_multi_add_handle (multi, t->easy);
  return TRUE;
}

static void
end_transfer (CURLM    *multi,
              Transfer *t)
{
  if (t->easy)
    {
      curl_multi_remove_handle (multi, t->easy);
      curl_easy_cleanup (t->easy);
      t->easy = NULL;
    }
  curl_slist_free_all (t->headers);
  t->headers = NULL;
  if (t->fd >= 0)
    close (t->fd);
  t->fd = -1;
}

static void
transfer_free (gpointer data)
{
  Transfer *t = data;
  g_free (t->part);
  if (t->pending)
    g_byte_array_unref (t->pending);
  if (t->answer)
    g_byte_array_unref (t->answer);
  g_free (t);
}

/* Records the checked files in one short transaction, then moves them
 * into the cache. In that order, a kill at any point loses no whole file:
 * before the commit the file is still a whole partial file, checked again
 * at the next start; after it, the record names the file and the next
 * start finds it in the cache or, not moved yet, whole among the partial
 * files. */
static gboolean
flush_verified (Run     *run,
                GError **error)
{
  gboolean ok = TRUE;

  if (run->verified->len == 0)
    return TRUE;
  /* Rebuildable records: no fsync (it would also force out every file
   * just written); WAL keeps a committed record through a crash of the
   * process, and one that a power cut takes leaves its file whole among
   * the partial files. */
  rr_store_set_durable (run->store, FALSE, NULL);
  if (!rr_store_begin (run->store, error))
    {
      rr_store_set_durable (run->store, TRUE, NULL);
      return FALSE;
    }
  for (guint i = 0; i + 2 < run->verified->len; i += 3)
    if (!rr_store_set_instance_sha256 (run->store, run->account, run->verified->pdata[i],
                                       run->verified->pdata[i + 1], error))
      {
        rr_store_rollback (run->store);
        rr_store_set_durable (run->store, TRUE, NULL);
        return FALSE;
      }
  if (!rr_store_commit (run->store, error))
    {
      rr_store_rollback (run->store);
      rr_store_set_durable (run->store, TRUE, NULL);
      return FALSE;
    }
  rr_store_set_durable (run->store, TRUE, NULL);
  rr_sync_pause_for_tests ("READROOM_SYNC_PAUSE_AFTER_RECORD");
  for (guint i = 0; i + 2 < run->verified->len; i += 3)
    {
      g_autofree char *final = rr_store_cache_path (run->cache_dir, run->verified->pdata[i + 1]);
      g_autofree char *dir = g_path_get_dirname (final);
      if (g_mkdir_with_parents (dir, 0700) != 0 ||
          g_rename (run->verified->pdata[i + 2], final) != 0)
        {
          int e = errno;
          if (ok)
            set_disk_error (error, final, e);
          ok = FALSE;
        }
    }
  g_ptr_array_set_size (run->verified, 0);
  return ok;
}

/* A few files or a few milliseconds in one transaction: fewer commits, and
 * never more than that checked and not yet in the cache. */
#define RECORD_FILES 8
#define RECORD_US (50 * 1000)

static gboolean
maybe_flush_verified (Run     *run,
                      GError **error)
{
  if (run->verified->len == 0 ||
      (run->verified->len / 3 < RECORD_FILES &&
       g_get_monotonic_time () - run->first_unrecorded < RECORD_US))
    return TRUE;
  return flush_verified (run, error);
}

/* A finished partial file, checked against the manifest. */
typedef struct
{
  Transfer *t;
  char *sha;                 /* when verified: its SHA-256, its name in the cache */
  gboolean fetched;          /* by this run (not a partial file found whole) */
  gboolean verified;         /* it matched; FALSE: it did not, and is gone */
  int disk_errno;            /* it could not be read: nothing was decided */
  char *disk_path;
} Check;

static void
check_free (Check *c)
{
  g_free (c->sha);
  g_free (c->disk_path);
  g_free (c);
}

/* Reads the partial file back from disk (what is checked is what was
 * written) and compares its size and MD5 with the manifest; one that does
 * not match is removed. Touches no shared state: it runs on the checker's
 * thread. The run records it, then moves it (flush_verified). */
static void
check_file (Run   *run,
            Check *c)
{
  Transfer *t = c->t;
  g_autofree char *md5 = NULL;
  goffset size = 0;

  if (!hash_file (t->part, &md5, &c->sha, &size))
    {
      c->disk_errno = errno;
      c->disk_path = g_strdup (t->part);
      return;
    }
  if (size != t->inst->size || g_ascii_strcasecmp (md5, t->inst->md5) != 0)
    {
      g_unlink (t->part);
      return;
    }
  c->verified = TRUE;
}

static void
checker_run (gpointer data,
             gpointer user)
{
  Run *run = user;
  check_file (run, data);
  g_async_queue_push (run->checked, data);
}

/* Hands a finished file to the checker. */
static void
check_later (Run      *run,
             Transfer *t,
             gboolean  fetched)
{
  Check *c = g_new0 (Check, 1);
  c->t = t;
  c->fetched = fetched;
  run->checking++;
  run->checking_bytes += (guint64) t->inst->size;
  g_thread_pool_push (run->checker, c, NULL);
}

/* What a check decided, on the run's thread: a verified file is recorded
 * and counted; one that did not match goes back to the queue, up to
 * MAX_VERIFY_FAILURES times. FALSE with error set stops the run. */
static gboolean
settle_check (Run     *run,
              Check   *c,
              GQueue  *queue,
              GError **error)
{
  Transfer *t = c->t;
  gboolean ok = TRUE;

  if (c->disk_errno != 0)
    {
      set_disk_error (error, c->disk_path, c->disk_errno);
      g_queue_push_tail (queue, t);
      ok = FALSE;
    }
  else if (!c->verified)
    {
      if (++t->failures >= MAX_VERIFY_FAILURES)
        {
          g_set_error (error, RR_SYNC_ERROR, RR_SYNC_ERROR_VERIFY,
                       "%s failed its checksum %u times", t->inst->sop_uid, t->failures);
          transfer_free (t);
          ok = FALSE;
        }
      else
        g_queue_push_tail (queue, t);
    }
  else
    {
      g_free (t->inst->sha256);
      t->inst->sha256 = g_strdup (c->sha);
      if (run->verified->len == 0)
        run->first_unrecorded = g_get_monotonic_time ();
      g_ptr_array_add (run->verified, g_strdup (t->inst->sop_uid));
      g_ptr_array_add (run->verified, g_steal_pointer (&c->sha));
      g_ptr_array_add (run->verified, g_strdup (t->part));
      run->progress.files_done++;
      if (c->fetched)
        run->progress.files_fetched++;
      run->progress.bytes_done += (guint64) t->inst->size;
      transfer_free (t);
      ok = maybe_flush_verified (run, error);
      report (run, FALSE);
    }
  check_free (c);
  return ok;
}

/* Takes in what the checker has finished; with wait_us, waits that long
 * for the first one. Every outcome is taken even after an error (the
 * first error is kept), so that nothing verified goes unrecorded. */
static gboolean
collect_checks (Run     *run,
                GQueue  *queue,
                gint64   wait_us,
                GError **error)
{
  gboolean ok = TRUE;
  Check *c = wait_us > 0 ? g_async_queue_timeout_pop (run->checked, (guint64) wait_us)
                         : g_async_queue_try_pop (run->checked);
  while (c != NULL)
    {
      run->checking--;
      run->checking_bytes -= (guint64) c->t->inst->size;
      if (!settle_check (run, c, queue, ok ? error : NULL))
        ok = FALSE;
      c = g_async_queue_try_pop (run->checked);
    }
  return ok;
}

/* Bytes of the files still in transfer or being checked, for the
 * progress. */
static void
count_in_flight (Run       *run,
                 GPtrArray *active)
{
  run->in_flight = run->checking_bytes;
  for (guint i = 0; i < active->len; i++)
    {
      Transfer *t = active->pdata[i];
      curl_off_t got = 0;
      curl_easy_getinfo (t->easy, CURLINFO_SIZE_DOWNLOAD_T, &got);
      run->in_flight += (guint64) t->offset + (guint64) got;
    }
}

/* A request that failed (@what): tried again after the client's backoff,
 * unless nothing has progressed for the offline timeout. */
static gboolean
transfer_failed (Run      *run,
                 Transfer *t,
                 GQueue   *queue,
                 char     *what,
                 GError  **error)
{
  gboolean ok = rr_sync_note_failure (run->client, what, error);
  if (ok)
    rr_sync_download_status (run, "%s%s; trying again in %.1f s",
                             run->progress.offline ? "offline: " : "", what,
                             MAX (run->client->not_before - g_get_monotonic_time (), 0) /
                             (double) G_USEC_PER_SEC);
  g_free (what);
  g_queue_push_tail (queue, t);
  return ok;
}

/* Runs the queue to the end: TRUE when every file is verified. */
static gboolean
download (Run          *run,
          GQueue       *queue,
          GCancellable *cancellable,
          GError      **error)
{
  CURLM *multi = curl_multi_init ();
  g_autoptr (GPtrArray) active = g_ptr_array_new ();
  guint parallel = run->options->parallel ? run->options->parallel : 4;
  gboolean ok = TRUE;
  int running = 0;

  curl_multi_setopt (multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long) parallel);
  while (ok && (queue->length > 0 || active->len > 0 || run->checking > 0))
    {
      gint64 now = g_get_monotonic_time ();
      CURLMsg *msg;
      int left;

      if (g_cancellable_is_cancelled (cancellable))
        {
          g_set_error (error, RR_SYNC_ERROR, RR_SYNC_ERROR_CANCELLED, "Cancelled");
          ok = FALSE;
          break;
        }
      /* Start what may start: nothing while the backoff runs, and while
       * the server fails, one request at a time to see whether it is back
       * (a failure is the server's, not the file's). */
      while (queue->length > 0 && now >= run->client->not_before &&
             active->len < (run->client->failures > 0 ? 1 : parallel))
        {
          Transfer *t = g_queue_pop_head (queue);
          if (!start_transfer (run, multi, t, error))
            {
              ok = FALSE;
              g_queue_push_tail (queue, t);
              break;
            }
          g_ptr_array_add (active, t);
        }
      if (!ok)
        break;
      curl_multi_perform (multi, &running);
      /* Wait for the network only while every transfer still runs: one that
       * ended is handled (and the next started) at once. */
      if (running > 0 && (guint) running == active->len)
        {
          curl_multi_poll (multi, NULL, 0, 100, NULL);
          curl_multi_perform (multi, &running);
        }
      count_in_flight (run, active);

      while (ok && (msg = curl_multi_info_read (multi, &left)) != NULL)
        {
          Transfer *t = NULL;
          CURLcode rc = msg->data.result;
          curl_off_t got = 0;
          if (msg->msg != CURLMSG_DONE)
            continue;
          curl_easy_getinfo (msg->easy_handle, CURLINFO_PRIVATE, (char **) &t);
          curl_easy_getinfo (t->easy, CURLINFO_SIZE_DOWNLOAD_T, &got);
          if (t->status == 200 || t->status == 206)
            {
              run->progress.bytes_fetched += (guint64) got;
            }
          g_ptr_array_remove (active, t);
          /* The rest of what arrived goes to the file before it closes. */
          if (t->fd >= 0 && t->pending->len > 0 && !flush_pending (t, TRUE) && rc == CURLE_OK)
            rc = CURLE_WRITE_ERROR;
          end_transfer (multi, t);

          if (rc == CURLE_WRITE_ERROR && t->write_errno)
            {
              set_disk_error (error, run->cache_dir, t->write_errno);
              ok = FALSE;
              g_queue_push_tail (queue, t);
              break;
            }
          if (rc != CURLE_OK)
            {
              GError *transport = NULL;
              rr_sync_transport_error (&transport, rc, t->base, t->errbuf);
              if (transport->code == RR_SYNC_ERROR_TLS)
                {
                  g_propagate_error (error, transport);
                  ok = FALSE;
                  g_queue_push_tail (queue, t);
                  break;
                }
              /* The node is away: keep what we have, try again later,
               * on the next node when there are several. */
              rr_sync_fail_over (run->client, t->base, 0);
              run->progress.offline = TRUE;
              if (!transfer_failed (run, t, queue,
                                    g_strdup_printf ("GET %s: %s", t->inst->url,
                                                     transport->message),
                                    error))
                ok = FALSE;
              g_error_free (transport);
              continue;
            }
          if (t->status == 200 || t->status == 206 || t->status == 404 || t->status == 416)
            {
              /* An answer of the contract's: the server works. */
              rr_sync_note_progress (run->client);
              if (run->progress.offline)
                {
                  run->progress.offline = FALSE;
                  rr_sync_download_status (run, "online");
                }
            }
          if (t->status == 401)
            {
              g_set_error (error, RR_SYNC_ERROR, RR_SYNC_ERROR_AUTH, "The session ended; log in "
                           "again");
              ok = FALSE;
              g_queue_push_tail (queue, t);
              break;
            }
          if (t->status == 416)
            {
              g_unlink (t->part);
              g_queue_push_tail (queue, t);
              continue;
            }
          if (t->status == 404)
            {
              /* No longer offered (the task was cancelled or reassigned):
               * not an error of ours; the run is not complete. */
              rr_sync_download_status (run, "%s is no longer offered by the server", t->inst->sop_uid);
              g_unlink (t->part);
              transfer_free (t);
              continue;
            }
          if (t->status != 200 && t->status != 206)
            {
              /* 5xx (503 is rate_limited), or an answer outside the
               * contract: the same policy, bounded by the same timeout. */
              g_autofree char *said = rr_sync_answer_error (t->answer->data, t->answer->len);
              rr_sync_fail_over (run->client, t->base, t->status);
              if (!transfer_failed (run, t, queue,
                                    g_strdup_printf ("GET %s: the server answered %ld%s%s%s",
                                                     t->inst->url, t->status, said ? " (" : "",
                                                     said ? said : "", said ? ")" : ""),
                                    error))
                ok = FALSE;
              continue;
            }
          {
            struct stat st;
            if (g_stat (t->part, &st) == 0 && st.st_size < t->inst->size)
              {
                g_queue_push_tail (queue, t);  /* cut short: resume */
                continue;
              }
            check_later (run, t, TRUE);
          }
        }
      /* What the checker finished; when nothing else is left to do, wait
       * for it rather than spin. */
      if (ok && !collect_checks (run, queue, active->len == 0 && queue->length == 0 ? 20 * 1000 : 0,
                                 error))
        ok = FALSE;
      if (ok && !maybe_flush_verified (run, error))
        ok = FALSE;
      count_in_flight (run, active);
      if (ok && queue->length > 0 && active->len == 0)
        {
          /* Nothing runs: everything waits for the backoff (transfers
           * that just ended are replaced at once). */
          gint64 t_now = g_get_monotonic_time ();
          if (run->client->not_before > t_now)
            g_usleep ((gulong) MIN (run->client->not_before - t_now, 50 * 1000));
        }
    }
  for (guint i = 0; i < active->len; i++)
    {
      end_transfer (multi, active->pdata[i]);
      transfer_free (active->pdata[i]);
    }
  curl_multi_cleanup (multi);
  /* What the checker still holds is finished and taken in. */
  while (run->checking > 0)
    if (!collect_checks (run, queue, G_USEC_PER_SEC, ok ? error : NULL))
      ok = FALSE;
  /* What was verified is recorded, whatever stopped the run. */
  if (!flush_verified (run, ok ? error : NULL))
    ok = FALSE;
  return ok;
}

/* Files in the cache that no record names (their records lost with a cut
 * WAL or a power cut, after the files were moved in): one whose name is its
 * SHA-256 and whose size and MD5 are a queued instance's is that
 * instance's file, recorded instead of fetched again. Only files of a
 * wanted size are read. */
static gboolean
adopt_orphans (Run     *run,
               GError **error)
{
  g_autoptr (GHashTable) known = NULL;
  g_autoptr (GHashTable) sizes = g_hash_table_new (g_int64_hash, g_int64_equal);
  g_autoptr (GDir) top = NULL;
  const char *sub;

  if (run->queue.length == 0)
    return TRUE;
  known = rr_store_recorded_sha256 (run->store, error);
  if (known == NULL)
    return FALSE;
  for (GList *l = run->queue.head; l; l = l->next)
    g_hash_table_add (sizes, &((Transfer *) l->data)->inst->size);
  top = g_dir_open (run->cache_dir, 0, NULL);
  while (top && run->queue.length > 0 && (sub = g_dir_read_name (top)) != NULL)
    {
      g_autofree char *dir = g_build_filename (run->cache_dir, sub, NULL);
      g_autoptr (GDir) d = NULL;
      const char *name;
      if (strlen (sub) != 2 || (d = g_dir_open (dir, 0, NULL)) == NULL)
        continue;  /* "partial", and anything not ours */
      while ((name = g_dir_read_name (d)) != NULL)
        {
          g_autofree char *path = g_build_filename (dir, name, NULL);
          g_autofree char *want = NULL, *md5 = NULL, *sha = NULL;
          struct stat st;
          goffset size = 0;
          gint64 n;
          if (!g_str_has_suffix (name, ".dcm") || strlen (name) != 64 + 4)
            continue;
          want = g_strndup (name, 64);
          if (g_hash_table_contains (known, want) || g_stat (path, &st) != 0)
            continue;
          n = st.st_size;
          if (!g_hash_table_contains (sizes, &n) || !hash_file (path, &md5, &sha, &size) ||
              !g_str_equal (sha, want))
            continue;
          for (GList *l = run->queue.head; l; l = l->next)
            {
              Transfer *t = l->data;
              if (t->inst->size != size || g_ascii_strcasecmp (t->inst->md5, md5) != 0)
                continue;
              if (!rr_store_set_instance_sha256 (run->store, run->account, t->inst->sop_uid, sha,
                                                 error))
                return FALSE;
              g_free (t->inst->sha256);
              t->inst->sha256 = g_strdup (sha);
              run->progress.files_done++;
              run->progress.bytes_done += (guint64) size;
              g_queue_delete_link (&run->queue, l);
              transfer_free (t);
              g_hash_table_add (known, g_steal_pointer (&want));
              break;
            }
        }
    }
  return TRUE;
}

RrSyncDownload *
rr_sync_download_new (RrSyncClient         *client,
                      RrStore              *store,
                      gint64                account,
                      const char           *cache_dir,
                      const RrSyncOptions  *options)
{
  Run *run = g_new0 (Run, 1);
  run->client = client;
  run->store = store;
  run->account = account;
  run->cache_dir = cache_dir;
  run->options = options;
  run->max_speed = g_strdup (g_getenv ("READROOM_SYNC_MAX_SPEED"));
  run->limit = run->max_speed ? g_ascii_strtoull (run->max_speed, NULL, 10) : 0;
  run->verified = g_ptr_array_new_with_free_func (g_free);
  run->limit_start = g_get_monotonic_time ();
  run->partial_dir = g_build_filename (cache_dir, "partial", NULL);
  run->checked = g_async_queue_new ();
  g_queue_init (&run->queue);
  /* Checking (MD5, SHA-256, the move) beside the transfers, on the other
   * cores. */
  run->checker = g_thread_pool_new (checker_run, run,
                                    (gint) CLAMP (g_get_num_processors () - 1, 1u, 4u), FALSE,
                                    NULL);
  return run;
}

void
rr_sync_download_status (RrSyncDownload *run,
                         const char     *format,
                         ...)
{
  va_list args;
  g_free (run->status);
  va_start (args, format);
  run->status = g_strdup_vprintf (format, args);
  va_end (args);
  report (run, TRUE);
}

gboolean
rr_sync_download_files (RrSyncDownload *run,
                        GPtrArray      *instances,
                        GCancellable   *cancellable,
                        GError        **error)
{
  g_autoptr (GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  gboolean ok;

  if (g_mkdir_with_parents (run->partial_dir, 0700) != 0)
    {
      set_disk_error (error, run->partial_dir, errno);
      return FALSE;
    }
  run->instances = g_ptr_array_ref (instances);
  /* What is in the cache already is checked, not trusted: a file that no
   * longer hashes to its name is fetched again. */
  rr_sync_download_status (run, "checking the cache");
  for (guint i = 0; i < instances->len; i++)
    {
      RrStoreInstance *inst = instances->pdata[i];
      Transfer *t;
      if (!g_hash_table_add (seen, inst->sop_uid))
        continue;  /* in two tasks: one file */
      run->progress.files_total++;
      run->progress.bytes_total += (guint64) inst->size;
      if (inst->sha256)
        {
          g_autofree char *path = rr_store_cache_path (run->cache_dir, inst->sha256);
          g_autofree char *sha = NULL;
          goffset size = -1;
          if (hash_file (path, NULL, &sha, &size) && size == inst->size &&
              g_str_equal (sha, inst->sha256))
            {
              run->progress.files_done++;
              run->progress.bytes_done += (guint64) size;
              continue;
            }
          /* Corrupt or gone: forget it, fetch it again. */
          g_unlink (path);
          if (!rr_store_set_instance_sha256 (run->store, run->account, inst->sop_uid, NULL, error))
            return FALSE;
          g_clear_pointer (&inst->sha256, g_free);
        }
      t = g_new0 (Transfer, 1);
      t->run = run;
      t->inst = inst;
      t->fd = -1;
      t->part = g_strdup_printf ("%s/%s.part", run->partial_dir, inst->sop_uid);
      {
        /* A partial file that is whole (the run stopped before it was
         * checked) is checked instead of fetched again; if it does not
         * match, the check puts it back in the queue. */
        struct stat st;
        if (g_stat (t->part, &st) == 0 && st.st_size == inst->size)
          {
            check_later (run, t, FALSE);
            continue;
          }
      }
      g_queue_push_tail (&run->queue, t);
    }
  if (!adopt_orphans (run, error))
    return FALSE;
  rr_sync_download_status (run, "downloading");
  ok = download (run, &run->queue, cancellable, error);
  if (ok && run->progress.files_done < run->progress.files_total)
    {
      g_set_error (error, RR_SYNC_ERROR, RR_SYNC_ERROR_SERVER,
                   "%u of %u files could not be fetched: the server no longer offers them",
                   run->progress.files_total - run->progress.files_done,
                   run->progress.files_total);
      ok = FALSE;
    }
  if (ok)
    rr_sync_download_status (run, "done");
  return ok;
}

void
rr_sync_download_free (RrSyncDownload *run)
{
  if (run == NULL)
    return;
  /* Whatever stopped the run, what the checker holds is finished and
   * taken in (what it verified is recorded below). */
  g_thread_pool_free (run->checker, FALSE, TRUE);
  collect_checks (run, &run->queue, 0, NULL);
  g_async_queue_unref (run->checked);
  g_queue_clear_full (&run->queue, transfer_free);
  report (run, TRUE);
  g_free (run->status);
  g_free (run->partial_dir);
  g_free (run->max_speed);
  if (run->verified->len)
    flush_verified (run, NULL);
  g_ptr_array_unref (run->verified);
  if (run->instances)
    g_ptr_array_unref (run->instances);
  g_free (run);
}
