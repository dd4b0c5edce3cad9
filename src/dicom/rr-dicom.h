/* rr-dicom.h: the C API of the DICOM engine. Scans files, folders and
 * DICOMDIRs, groups them into studies and series, and decodes series into
 * RrVolumes. dcmtk stays behind this header. */
#pragma once

#include <gio/gio.h>
#include "rr-volume.h"
#include "rr-stack.h"
#include "rr-problem.h"
#include "rr-qc.h"

G_BEGIN_DECLS

#define RR_DICOM_ERROR (rr_dicom_error_quark ())
GQuark rr_dicom_error_quark (void);

typedef enum
{
  RR_DICOM_ERROR_READ,         /* the file cannot be read or parsed */
  RR_DICOM_ERROR_FORMAT,       /* attributes are missing or inconsistent */
  RR_DICOM_ERROR_UNSUPPORTED,  /* a valid encoding we do not decode */
  RR_DICOM_ERROR_TOO_LARGE,    /* sizes beyond our bounds */
  RR_DICOM_ERROR_CANCELLED,
  RR_DICOM_ERROR_WRITE,
  RR_DICOM_ERROR_NOT_FOUND,
} RrDicomError;

typedef struct _RrDicomInstance RrDicomInstance;

typedef struct
{
  char *series_uid;
  char *modality;
  char *description;
  int number;
  gboolean is_image;          /* FALSE for SR, presentation states, KOS... */
  GPtrArray *instances;       /* RrDicomInstance, owned */
  GPtrArray *stacks;          /* RrStack; frame indices index frame_refs */
  GArray *frame_refs;         /* RrDicomFrameRef for every image frame */
  GPtrArray *problems;        /* series-level RrProblem */
  GPtrArray *transfer_syntaxes; /* char *, distinct, sorted */
  guint n_frames;
} RrDicomSeries;

typedef struct
{
  guint instance;             /* index into RrDicomSeries.instances */
  guint frame;                /* 0-based frame within that instance */
} RrDicomFrameRef;

typedef struct
{
  char *study_uid;
  char *patient_id;
  char *study_date;
  char *description;
  GPtrArray *series;          /* RrDicomSeries */
} RrDicomStudy;

typedef struct
{
  char *path;
  char *message;
} RrDicomUnreadable;

typedef struct
{
  GPtrArray *studies;         /* RrDicomStudy */
  GPtrArray *unreadable;      /* RrDicomUnreadable */
  guint n_files;              /* files looked at */
} RrDicomScan;

/* Called from worker threads, one call at a time, with @done counting up
 * by one to @total; keep it cheap (the decoders wait while it runs). */
typedef void (*RrDicomProgressFunc) (guint    done,
                                     guint    total,
                                     gpointer user_data);

/* Called from each decoding thread between two slices; may block for a
 * while, to leave the cores to another thread (a window's main thread). */
typedef void (*RrDicomYieldFunc) (gpointer user_data);

typedef struct
{
  guint n_threads;            /* 0: one per core */
  RrDicomProgressFunc progress;
  gpointer progress_data;
  RrDicomYieldFunc yield;     /* NULL: never */
  gpointer yield_data;
} RrDicomLoadOptions;

/* The log level and the data dictionary: enough to read headers. */
void            rr_dicom_init              (void);
/* rr_dicom_init and dcmtk's JPEG and RLE codecs: before decoding or
 * encoding pixels through dcmtk (the loaders and writers here call it). */
void            rr_dicom_init_codecs       (void);

RrDicomScan    *rr_dicom_scan              (const char * const  *paths,
                                            guint                n_threads,
                                            GCancellable        *cancellable,
                                            GError             **error);
void            rr_dicom_scan_free         (RrDicomScan *scan);
RrDicomSeries  *rr_dicom_scan_find_series  (RrDicomScan *scan,
                                            const char  *series_uid);

/* Geometry summary of a series' main stack, for listings. */
const RrStack  *rr_dicom_series_main_stack (const RrDicomSeries *series);
const RrDicomInstance *rr_dicom_series_instance (const RrDicomSeries *series,
                                                 guint                i);
double          rr_dicom_series_slice_thickness (const RrDicomSeries *series);
const char     *rr_dicom_instance_path     (const RrDicomInstance *instance);
const char     *rr_dicom_instance_sop_uid  (const RrDicomInstance *instance);
const char     *rr_dicom_instance_transfer_syntax (const RrDicomInstance *instance);

/* Decodes one stack of a series into a volume (modality values applied),
 * on several threads. */
RrVolume       *rr_dicom_series_load       (RrDicomSeries             *series,
                                            guint                      stack_index,
                                            const RrDicomLoadOptions  *options,
                                            GCancellable              *cancellable,
                                            GError                   **error);

/* Decodes one slice of a stack (k < 0: the middle one), for thumbnails
 * and for showing something while the rest decodes. */
RrVolume       *rr_dicom_series_load_slice (RrDicomSeries  *series,
                                            guint           stack_index,
                                            int             k,
                                            GCancellable   *cancellable,
                                            GError        **error);

/* Loads everything a single file or folder holds, for tools and tests:
 * the main stack of the first image series. */
RrVolume       *rr_dicom_load_path         (const char    *path,
                                            GError       **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RrDicomScan, rr_dicom_scan_free)

/* Header facts for QC (rr-qc.h), read without pixel data. */
typedef struct
{
  GPtrArray *instances;       /* RrQcInstance, in file name order */
  GPtrArray *unreadable;      /* RrDicomUnreadable */
  guint n_files;              /* files looked at */
} RrDicomHeaders;

RrQcInstance   *rr_dicom_header_read       (const char     *path,
                                            GError        **error);
RrDicomHeaders *rr_dicom_read_headers      (const char * const  *paths,
                                            guint                n_threads,
                                            GCancellable        *cancellable,
                                            GError             **error);
void            rr_dicom_headers_free      (RrDicomHeaders *headers);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RrDicomHeaders, rr_dicom_headers_free)

/* Writing: a small dataset builder so that C code (the phantom, SR export,
 * tests that need broken files) can make DICOM without seeing dcmtk. */

typedef struct _RrDicomDataset RrDicomDataset;

#define RR_TAG(g, e) ((guint32) (((guint32) (g) << 16) | (guint32) (e)))

RrDicomDataset *rr_dicom_dataset_new       (void);
void            rr_dicom_dataset_free      (RrDicomDataset *ds);
gboolean        rr_dicom_dataset_set_string (RrDicomDataset *ds,
                                             guint32         tag,
                                             const char     *value,
                                             GError        **error);
gboolean        rr_dicom_dataset_set_uint16 (RrDicomDataset *ds,
                                             guint32         tag,
                                             guint16         value,
                                             GError        **error);
/* Words with an explicit VR ("US", "SS" or "OW"), for attributes whose
 * dictionary VR depends on context (palette descriptors and data). */
gboolean        rr_dicom_dataset_set_words (RrDicomDataset *ds,
                                            guint32         tag,
                                            const char     *vr,
                                            const guint16  *values,
                                            gsize           n,
                                            GError        **error);
gboolean        rr_dicom_dataset_set_bytes (RrDicomDataset *ds,
                                            guint32         tag,
                                            const guint8   *data,
                                            gsize           len,
                                            GError        **error);
/* Pixel data as native-endian words (bits_allocated 16) or bytes (8). */
gboolean        rr_dicom_dataset_set_pixels (RrDicomDataset *ds,
                                             gconstpointer   data,
                                             gsize           n_bytes,
                                             guint           bits_allocated,
                                             GError        **error);
/* Appends an item to a sequence (creating it) and returns the item,
 * owned by @ds. */
RrDicomDataset *rr_dicom_dataset_add_item  (RrDicomDataset *ds,
                                            guint32         sequence_tag);
/* Writes a Part 10 file in @transfer_syntax (a UID), compressing when the
 * syntax asks for it. */
gboolean        rr_dicom_dataset_write     (RrDicomDataset *ds,
                                            const char     *path,
                                            const char     *transfer_syntax,
                                            GError        **error);
char           *rr_dicom_make_uid          (const char *root);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RrDicomDataset, rr_dicom_dataset_free)

/* Transfer syntax UIDs the engine reads and the phantom writes. */
#define RR_TS_IMPLICIT_LE      "1.2.840.10008.1.2"
#define RR_TS_EXPLICIT_LE      "1.2.840.10008.1.2.1"
#define RR_TS_DEFLATED_LE      "1.2.840.10008.1.2.1.99"
#define RR_TS_EXPLICIT_BE      "1.2.840.10008.1.2.2"
#define RR_TS_JPEG_BASELINE    "1.2.840.10008.1.2.4.50"
#define RR_TS_JPEG_EXTENDED    "1.2.840.10008.1.2.4.51"
#define RR_TS_JPEG_LOSSLESS    "1.2.840.10008.1.2.4.57"
#define RR_TS_JPEG_LOSSLESS_SV1 "1.2.840.10008.1.2.4.70"
#define RR_TS_JPEGLS_LOSSLESS  "1.2.840.10008.1.2.4.80"
#define RR_TS_JPEGLS_NEAR      "1.2.840.10008.1.2.4.81"
#define RR_TS_J2K_LOSSLESS     "1.2.840.10008.1.2.4.90"
#define RR_TS_J2K              "1.2.840.10008.1.2.4.91"
#define RR_TS_RLE              "1.2.840.10008.1.2.5"

G_END_DECLS
