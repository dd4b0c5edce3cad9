/* rr-dicom-private.h: what the dicom bridge's files share: the header
 * metadata of one instance and the helpers around it. C-compatible. */
#pragma once

#include "rr-dicom.h"

#include <glib/gstdio.h>

G_BEGIN_DECLS

/* Upper bounds for sizes read from files, checked before allocating. */
#define RR_DICOM_MAX_FRAMES      20000
#define RR_DICOM_MAX_FRAME_BYTES ((gsize) 512 << 20)

struct _RrDicomInstance
{
  char *path;
  char *sop_uid;
  char *sop_class;
  char *study_uid;
  char *series_uid;
  char *transfer_syntax;
  char *modality;
  char *series_description;
  char *study_description;
  char *study_date;
  char *patient_id;
  char *frame_of_reference;
  int series_number;
  int instance_number;
  gboolean is_image;

  guint rows, columns, samples;
  guint bits_allocated, bits_stored, high_bit, pixel_representation;
  guint planar_configuration;
  char *photometric;
  guint n_frames;

  gboolean has_padding;
  long padding_value;
  gboolean has_padding_limit;
  long padding_limit;

  gboolean has_window;
  double window_center, window_width;
  double slice_thickness;
  double frame_time_ms;

  goffset pixel_offset;        /* > 0: native little-endian pixels end the file
                                  here, readable without dcmtk */

  RrFrameGeom *frames;         /* n_frames */
  double *slope;               /* n_frames */
  double *intercept;           /* n_frames */

  /* PET */
  char *units;
  char *decay_correction;
  double patient_weight_kg;
  double total_dose_bq;
  double half_life_s;
  char *injection_datetime;    /* DT, or date + time joined */
  char *series_datetime;
  char *acquisition_datetime;

  /* PALETTE COLOR */
  guint16 palette_desc[3][3];  /* entries, first mapped, bits */
  guint16 *palette[3];
};

RrDicomInstance *rr_dicom_instance_read  (const char *path,
                                          GError    **error);
void             rr_dicom_instance_free  (RrDicomInstance *inst);

/* Runs func(i, data) for i in [0, n) on up to n_threads threads; stops
 * early when *stop becomes non-zero. */
void             rr_parallel_for         (guint     n,
                                          guint     n_threads,
                                          void    (*func) (guint i, gpointer data),
                                          gpointer  data);

guint            rr_dicom_default_threads (void);

/* The unreadable lists of RrDicomScan and RrDicomHeaders. */
void             rr_dicom_unreadable_add  (GPtrArray  *arr,
                                           const char *path,
                                           const char *message);
void             rr_dicom_unreadable_free (gpointer    unreadable);

/* One walk of the files under a path, shared by scanning, header reading
 * and de-identification so that they agree on what "the files under a
 * folder" are: names in byte order, each folder once (by device and inode,
 * so links cannot loop), at most 64 folders deep. What to do with a file,
 * and which folders to leave out, is the caller's. */
typedef struct
{
  /* A folder about to be listed; FALSE leaves it out. May be NULL. */
  gboolean (*folder)  (const char *path, const GStatBuf *st, gpointer data);
  /* A regular file; FALSE ends the walk. */
  gboolean (*file)    (const char *path, gpointer data);
  /* A path that could not be walked, and why. */
  void     (*problem) (const char *path, const char *message, gpointer data);
  gpointer      data;
  GCancellable *cancellable;
  GHashTable   *seen_dirs;     /* the walk's own; freed by rr_dicom_walk_clear */
} RrDicomWalk;

/* FALSE when walk->file ended the walk (or it was cancelled). */
gboolean         rr_dicom_walk           (RrDicomWalk *walk,
                                          const char  *path);
void             rr_dicom_walk_clear     (RrDicomWalk *walk);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RrDicomInstance, rr_dicom_instance_free)

/* ---- QC header facts (rr-dicom-header.cc, rr-dicom-header-raw.c) ---- */

/* The iconv name of a Specific Character Set without code extensions;
 * NULL for the default repertoire, extensions, or one not known. */
const char      *rr_dicom_header_charset (const char *specific);
/* @raw in UTF-8: converted from @charset, or with what cannot be read as
 * U+FFFD; NULL for NULL. */
char            *rr_dicom_header_text    (const char *raw,
                                          const char *charset);

/* The classic image attributes QC's geometry comes from. */
typedef struct
{
  guint16 rows, columns;
  guint frames;
  gint32 number;                  /* Instance Number */
  double ipp[3], iop[6], ps[2], step;
  gboolean have_ipp, have_iop, have_ps;
  gboolean per_frame;             /* a Per-Frame Functional Groups Sequence */
} RrDicomHeaderGeom;

/* Functional-group geometry of frame @f over the classic one. */
typedef void (*RrDicomHeaderFrameFunc) (guint        f,
                                        RrFrameGeom *g,
                                        double      *thickness,
                                        gpointer     data);

/* Sets @inst's image flag and frames from @geom. */
void             rr_dicom_header_frames  (RrQcInstance            *inst,
                                          const RrDicomHeaderGeom *geom,
                                          RrDicomHeaderFrameFunc   frame_func,
                                          gpointer                 data);

/* The usual file's QC facts from its first bytes without dcmtk; NULL
 * whenever it is not one this reader knows to the byte (rr-dicom-header.cc
 * then reads it with dcmtk, and words any refusal). */
RrQcInstance    *rr_dicom_header_read_raw (const char *path);

/* The same read by dcmtk alone, to test the raw reader against. */
RrQcInstance    *rr_dicom_header_read_dcmtk (const char *path,
                                             GError    **error);

G_END_DECLS

#ifdef __cplusplus
#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcfilefo.h>

/* The first bytes of a file, read in one go: most headers fit them. */
#define RR_DICOM_HEAD_BYTES (16 * 1024)

typedef struct
{
  guint8       bytes[RR_DICOM_HEAD_BYTES];
  gsize        len;       /* bytes read: the file's size when it is smaller */
  offile_off_t consumed;  /* where dcmtk stopped */
} RrDicomHead;

/* Parses @path's header from its first bytes in memory into @ff, dcmtk
 * stopped at Pixel Data; a value longer than @max_read_length stays in
 * the file (fetched if ever asked for), never allocated at whatever length
 * it claims. FALSE when the file cannot be read or the bytes do not parse:
 * the caller reads it from the file instead. */
gboolean rr_dicom_parse_head (const char    *path,
                              goffset        file_size,
                              Uint32         max_read_length,
                              DcmFileFormat &ff,
                              RrDicomHead   *head);
#endif
