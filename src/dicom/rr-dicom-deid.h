/* rr-dicom-deid.h: de-identification of DICOM files per PS3.15 Annex E
 * (Basic Profile, Clean Descriptors, Retain Patient Characteristics and,
 * optionally, Retain Longitudinal Temporal Information with Modified Dates). */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* The trial's secret must hold at least this many bytes. */
#define RR_DEID_MIN_KEY_BYTES 32
/* Key files beyond this are not keys. */
#define RR_DEID_MAX_KEY_BYTES 65536
/* A subject ID is a Patient ID (LO): at most 64 characters. */
#define RR_DEID_MAX_SUBJECT 64

typedef struct _RrDeid RrDeid;

typedef struct
{
  char *path;      /* the input file */
  char *code;      /* "burned_in_annotation" or "burned_in_likely" */
  char *message;
} RrDeidWarning;

typedef struct
{
  char *path;      /* the input file */
  char *message;   /* one line, naming what is wrong */
} RrDeidFailure;

typedef struct
{
  guint n_files;           /* input files looked at */
  guint n_written;
  guint n_uids;            /* distinct UIDs replaced */
  GPtrArray *warnings;     /* RrDeidWarning, in input order */
  GPtrArray *failures;     /* RrDeidFailure, in input order */
} RrDeidResult;

/* @subject becomes Patient Name and Patient ID; @key is the trial's secret
 * (at least RR_DEID_MIN_KEY_BYTES); @retain_dates shifts every date by
 * the subject's key-derived offset instead of removing it. */
RrDeid       *rr_deid_new              (const guint8  *key,
                                        gsize          key_len,
                                        const char    *subject,
                                        gboolean       retain_dates,
                                        GError       **error);
void          rr_deid_free             (RrDeid *deid);

/* For a process that only de-identifies: loads dcmtk's public data
 * dictionary alone (every private attribute is removed); the private one
 * is read only when a file's private elements need it to parse as they
 * would with it, so outputs do not change. Does nothing when DCMDICTPATH
 * is set. Call before anything else uses dcmtk, with no other thread. */
void          rr_deid_use_public_dictionary (void);

/* Reads a key file, bounded and checked (RR_DICOM_ERROR_FORMAT when it is
 * too short). */
GBytes       *rr_deid_read_key         (const char  *path,
                                        GError     **error);

/* The same UID always gives the same output for the same key: a 2.25 UID
 * from HMAC-SHA256(key, uid). */
char         *rr_deid_map_uid          (RrDeid     *deid,
                                        const char *uid);
/* Days added to every date of the subject (negative). */
int           rr_deid_date_shift_days  (RrDeid *deid);
/* Distinct UIDs replaced so far. */
guint         rr_deid_n_uids           (RrDeid *deid);

/* Learns the identifying values of a file (names, IDs, places, dates of
 * the attributes the profile takes out) so that Clean Descriptors blanks
 * them in every file de-identified afterwards, not only in this one.
 * rr_deid_tree learns every file first. A file that cannot be read is
 * skipped. */
void          rr_deid_learn            (RrDeid     *deid,
                                        const char *path);

/* De-identifies one file into @out_dir as <new SOP Instance UID>.dcm and
 * returns that path. Warnings are appended to @warnings (RrDeidWarning). */
char         *rr_deid_file             (RrDeid       *deid,
                                        const char   *in_path,
                                        const char   *out_dir,
                                        GPtrArray    *warnings,
                                        GError      **error);

/* Every file under @in (a file, a folder, or a DICOMDIR's folder) into
 * @out_dir (created if missing), on @n_threads threads (0: one per core).
 * Files that fail are listed in the result and the rest go on; NULL only
 * when @out_dir cannot be made or @in cannot be read at all. */
RrDeidResult *rr_deid_tree             (RrDeid        *deid,
                                        const char    *in,
                                        const char    *out_dir,
                                        guint          n_threads,
                                        GCancellable  *cancellable,
                                        GError       **error);
void          rr_deid_result_free      (RrDeidResult *result);
/* The files rr_deid_tree reads from @in, in its order (paths beginning
 * with @in, or its folder for a DICOMDIR); folders that cannot be walked
 * are left out as the tree leaves them out. NULL when @in cannot be read
 * or holds more than @max_files (0: no limit). */
GPtrArray    *rr_deid_source_files     (const char  *in,
                                        guint        max_files,
                                        GError     **error);

/* One attribute that de-identification changes: @before NULL when it adds
 * it, @after NULL when it removes it. Values as text, cut for showing. */
typedef struct
{
  guint32 tag;
  char *name;
  char *before;
  char *after;
} RrDeidChange;

void          rr_deid_change_free      (gpointer change);
/* What de-identifying @path changes, top-level attribute by attribute
 * (RrDeidChange; a sequence whose items change is one row), found by
 * de-identifying it into a temporary folder; warnings as rr_deid_file. */
GPtrArray    *rr_deid_preview          (RrDeid      *deid,
                                        const char  *path,
                                        GPtrArray   *warnings,
                                        GError     **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RrDeid, rr_deid_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RrDeidResult, rr_deid_result_free)

G_END_DECLS
