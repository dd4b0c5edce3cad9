/* rr-dicom-header.cc: the header facts QC checks (rr-qc.h) read from files
 * with dcmtk stopped before Pixel Data, so no pixel is read or decoded. */
#include "rr-dicom-private.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dctk.h>

#include <glib/gstdio.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <string.h>
#include <sys/stat.h>
#include <new>

#define MAX_READ_LENGTH   4096         /* larger values stay on disk unless asked for */
#define MAX_STRING_BYTES  1024         /* no fact QC reads is longer */
#define MAX_DEPTH         16           /* sequence nesting walked for private/identifying */
#define MAX_ELEMENTS      200000       /* elements walked per file */
#define MAX_IDENTIFYING   256          /* identifying attributes recorded per file */
#define MAX_FILES         200000       /* files under the paths given */

static gboolean
fail (GError **error, RrDicomError code, const char *path, const char *fmt, ...)
  G_GNUC_PRINTF (4, 5);

static gboolean
fail (GError **error, RrDicomError code, const char *path, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  g_autofree char *msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  g_set_error (error, RR_DICOM_ERROR, code, "%s: %s", path, msg);
  return FALSE;
}

/* A string value, trimmed; NULL when absent, empty of bytes, or longer
 * than any value QC reads (a value left on disk is not fetched for it). */
static char *
elem_str (DcmElement *e, long pos = 0)
{
  OFString s;
  if (e == NULL || e->getLength () == 0 || e->getLength () > MAX_STRING_BYTES ||
      e->getOFString (s, pos).bad ())
    return NULL;
  g_autofree char *v = g_strndup (s.c_str (), s.length ());
  return g_strdup (g_strstrip (v));
}

/* A text fact in UTF-8, as JSON and messages need. */
static char *
elem_text (DcmElement *e, const char *charset)
{
  g_autofree char *raw = elem_str (e);
  return rr_dicom_header_text (raw, charset);
}

static gboolean
elem_f64 (DcmElement *e, double *out, long pos = 0)
{
  Float64 v;
  if (e == NULL || e->getLength () > MAX_STRING_BYTES || e->getFloat64 (v, pos).bad () ||
      !std::isfinite (v))
    return FALSE;
  *out = v;
  return TRUE;
}

static gboolean
elem_vec (DcmElement *e, double *out, int n)
{
  for (int i = 0; i < n; i++)
    if (!elem_f64 (e, &out[i], i))
      return FALSE;
  return TRUE;
}

static DcmElement *
item_elem (DcmItem *item, const DcmTagKey &tag)
{
  DcmElement *e = NULL;
  if (item == NULL || item->findAndGetElement (tag, e, OFFalse).bad ())
    return NULL;
  return e;
}

static DcmItem *
item_seq_item (DcmItem *item, const DcmTagKey &tag)
{
  DcmItem *sub = NULL;
  if (item == NULL || item->findAndGetSequenceItem (tag, sub, 0).bad ())
    return NULL;
  return sub;
}

static guint32
tag_key (const DcmTagKey &t)
{
  return (guint32) t.getGroup () << 16 | t.getElement ();
}

/* Private and identifying attributes at any depth: a site's tool may
 * leave a name inside a sequence as well as at the top. */
static void
walk_phi (DcmItem *item, RrQcInstance *inst, int depth, guint *budget)
{
  for (DcmObject *o = item->nextInContainer (NULL); o != NULL && *budget > 0;
       o = item->nextInContainer (o))
    {
      DcmTagKey t = o->getTag ();
      (*budget)--;
      if (t.getGroup () & 1)
        {
          inst->n_private++;
          continue;
        }
      if (rr_qc_identifying_lookup (tag_key (t)) != NULL &&
          inst->identifying->len < MAX_IDENTIFYING)
        {
          gboolean filled;
          if (o->ident () == EVR_SQ)
            filled = OFstatic_cast (DcmSequenceOfItems *, o)->card () > 0;
          else if (o->getLength () > MAX_STRING_BYTES)
            filled = TRUE;
          else
            {
              /* Every value of a multi-valued attribute, not only the first. */
              OFString s;
              g_autofree char *all = NULL;
              if (OFstatic_cast (DcmElement *, o)->getOFStringArray (s).good ())
                all = g_strndup (s.c_str (), s.length ());
              filled = rr_qc_value_identifies (all);
            }
          if (filled)
            {
              guint32 k = tag_key (t);
              g_array_append_val (inst->identifying, k);
            }
        }
      if (o->ident () == EVR_SQ && depth < MAX_DEPTH)
        {
          DcmSequenceOfItems *seq = OFstatic_cast (DcmSequenceOfItems *, o);
          for (unsigned long i = 0; i < seq->card () && *budget > 0; i++)
            walk_phi (seq->getItem (i), inst, depth + 1, budget);
        }
    }
}

/* Geometry from a functional-group item (enhanced objects), over what the
 * classic attributes gave. */
static void
apply_functional_groups (DcmItem *fg, RrFrameGeom *g, double *thickness)
{
  DcmItem *pos = item_seq_item (fg, DCM_PlanePositionSequence);
  DcmItem *ori = item_seq_item (fg, DCM_PlaneOrientationSequence);
  DcmItem *meas = item_seq_item (fg, DCM_PixelMeasuresSequence);
  double v[6];

  if (pos && elem_vec (item_elem (pos, DCM_ImagePositionPatient), v, 3))
    {
      g->position = rr_vec3 (v[0], v[1], v[2]);
      g->has_geometry = TRUE;
    }
  if (ori && elem_vec (item_elem (ori, DCM_ImageOrientationPatient), v, 6))
    {
      g->row_dir = rr_vec3 (v[0], v[1], v[2]);
      g->col_dir = rr_vec3 (v[3], v[4], v[5]);
    }
  if (meas)
    {
      if (elem_vec (item_elem (meas, DCM_PixelSpacing), v, 2))
        {
          g->row_spacing = v[0];
          g->col_spacing = v[1];
          g->calibration = RR_CALIBRATION_PATIENT;
        }
      elem_f64 (item_elem (meas, DCM_SliceThickness), thickness);
    }
}

/* The top-level attributes QC reads, taken in one pass over the dataset
 * rather than one list search each. */
typedef struct
{
  DcmElement *ipp, *iop, *ps, *rows, *columns, *n_frames, *spacing, *instance_number;
  DcmElement *series_number;
  DcmSequenceOfItems *shared, *per_frame;
} Top;

/* Functional groups over the classic attributes, frame by frame. */
static void
frame_groups (guint f, RrFrameGeom *g, double *thickness, gpointer data)
{
  const Top *top = (const Top *) data;
  DcmItem *shared = top->shared && top->shared->card () > 0 ? top->shared->getItem (0) : NULL;
  if (shared)
    apply_functional_groups (shared, g, thickness);
  if (top->per_frame && f < top->per_frame->card ())
    apply_functional_groups (top->per_frame->getItem (f), g, thickness);
}

static gboolean
read_geometry (RrQcInstance *inst, const Top *top, const char *path, GError **error)
{
  RrDicomHeaderGeom geom = {};
  Sint32 number = 0;

  if (top->rows == NULL || top->columns == NULL || top->rows->getUint16 (geom.rows).bad () ||
      top->columns->getUint16 (geom.columns).bad () || geom.rows == 0 || geom.columns == 0)
    return TRUE;   /* not an image: no Rows and Columns */
  geom.frames = 1;
  if (top->n_frames != NULL)
    {
      g_autofree char *nf = elem_str (top->n_frames);
      char *end = NULL;
      gint64 v = nf ? g_ascii_strtoll (nf, &end, 10) : 0;
      if (nf == NULL || end == nf || v < 1 || v > RR_DICOM_MAX_FRAMES)
        return fail (error, RR_DICOM_ERROR_FORMAT, path,
                     "NumberOfFrames '%s' is out of range (1..%d)", nf ? nf : "",
                     RR_DICOM_MAX_FRAMES);
      geom.frames = (guint) v;
    }
  if (top->instance_number)
    top->instance_number->getSint32 (number);
  geom.number = number;
  geom.have_ipp = elem_vec (top->ipp, geom.ipp, 3);
  geom.have_iop = elem_vec (top->iop, geom.iop, 6);
  geom.have_ps = elem_vec (top->ps, geom.ps, 2);
  elem_f64 (top->spacing, &geom.step);
  geom.per_frame = top->per_frame != NULL;
  rr_dicom_header_frames (inst, &geom, frame_groups, (gpointer) top);
  return TRUE;
}

static gboolean
read_facts (DcmDataset *ds, RrQcInstance *inst, const char *path, GError **error)
{
  Top top = {};
  guint budget = MAX_ELEMENTS;
  g_autofree char *specific = NULL;
  const char *cs;

  {
    DcmElement *e = NULL;
    if (ds->findAndGetElement (DCM_SpecificCharacterSet, e, OFFalse).good ())
      specific = elem_str (e);
  }
  cs = rr_dicom_header_charset (specific);

  for (DcmObject *o = ds->nextInContainer (NULL); o != NULL; o = ds->nextInContainer (o))
    {
      DcmElement *e = OFstatic_cast (DcmElement *, o);
      switch (tag_key (o->getTag ()))
        {
        case 0x00080018: inst->sop_uid = elem_text (e, cs); break;
        case 0x00080020: inst->study_date = elem_text (e, cs); break;
        case 0x00080060: inst->modality = elem_text (e, cs); break;
        case 0x0008103e: inst->series_description = elem_text (e, cs); break;
        case 0x00100010:
          /* A name too long to read still names someone. */
          inst->patient_name = e->getLength () > MAX_STRING_BYTES ? g_strdup (RR_QC_OVERLONG_VALUE)
                                                                   : elem_text (e, cs);
          break;
        case 0x00100020: inst->patient_id = elem_text (e, cs); break;
        case 0x00120062: inst->identity_removed = elem_text (e, cs); break;
        case 0x00180010: inst->contrast_agent = elem_text (e, cs); break;
        case 0x00180012:
          if (o->ident () == EVR_SQ)
            inst->n_contrast_items = (guint) OFstatic_cast (DcmSequenceOfItems *, o)->card ();
          break;
        case 0x00180015: inst->body_part = elem_text (e, cs); break;
        case 0x00180050: elem_f64 (e, &inst->slice_thickness); break;
        case 0x00180088: top.spacing = e; break;
        case 0x0020000d: inst->study_uid = elem_text (e, cs); break;
        case 0x0020000e: inst->series_uid = elem_text (e, cs); break;
        case 0x00200011: top.series_number = e; break;
        case 0x00200013: top.instance_number = e; break;
        case 0x00200032: top.ipp = e; break;
        case 0x00200037: top.iop = e; break;
        case 0x00280008: top.n_frames = e; break;
        case 0x00280010: top.rows = e; break;
        case 0x00280011: top.columns = e; break;
        case 0x00280030: top.ps = e; break;
        case 0x00280301: inst->burned_in_annotation = elem_text (e, cs); break;
        case 0x52009229:
          if (o->ident () == EVR_SQ)
            top.shared = OFstatic_cast (DcmSequenceOfItems *, o);
          break;
        case 0x52009230:
          if (o->ident () == EVR_SQ)
            top.per_frame = OFstatic_cast (DcmSequenceOfItems *, o);
          break;
        default:
          break;
        }
    }
  if (inst->sop_uid == NULL || *inst->sop_uid == '\0')
    return fail (error, RR_DICOM_ERROR_READ, path,
                 "not a DICOM instance (no SOP Instance UID in the dataset; truncated?)");
  if (top.series_number)
    {
      Sint32 s;
      if (top.series_number->getSint32 (s).good ())
        inst->series_number = s;
    }
  if (top.per_frame && top.per_frame->card () > RR_DICOM_MAX_FRAMES)
    return fail (error, RR_DICOM_ERROR_TOO_LARGE, path, "more than %d per-frame groups",
                 RR_DICOM_MAX_FRAMES);
  walk_phi (ds, inst, 0, &budget);
  if (budget == 0)
    return fail (error, RR_DICOM_ERROR_TOO_LARGE, path, "more than %d attributes in the header",
                 MAX_ELEMENTS);
  return read_geometry (inst, &top, path, error);
}

/* The header parsed from its first bytes in memory, dcmtk stopped at
 * Pixel Data; FALSE when it does not fit them (or is deflated, whose
 * offsets are not the file's), to be read from the file instead. */
static gboolean
read_head (const char *path, goffset file_size, DcmFileFormat &ff)
{
  RrDicomHead head;

  if (!rr_dicom_parse_head (path, file_size, MAX_READ_LENGTH, ff, &head))
    return FALSE;
  return DcmXfer (ff.getDataset ()->getOriginalXfer ()).getStreamCompression () == ESC_none;
}

static RrQcInstance *
header_read (const char *path,
             gboolean    raw,
             GError    **error)
{
  try
    {
      DcmFileFormat ff;
      GStatBuf st;
      if (raw)
        {
          RrQcInstance *inst = rr_dicom_header_read_raw (path);
          if (inst != NULL)
            return inst;
        }
      if (g_stat (path, &st) != 0)
        {
          fail (error, RR_DICOM_ERROR_READ, path, "%s", g_strerror (errno));
          return NULL;
        }
      if (st.st_size < 8)
        {
          fail (error, RR_DICOM_ERROR_READ, path, "file too small to be DICOM");
          return NULL;
        }
      /* The dictionary is loaded only for a file the raw reader declines. */
      rr_dicom_init ();
      if (!read_head (path, st.st_size, ff))
        {
          ff.clear ();
          OFCondition cond = ff.loadFileUntilTag (path, EXS_Unknown, EGL_noChange,
                                                  MAX_READ_LENGTH, ERM_autoDetect,
                                                  DCM_PixelData);
          if (cond.bad ())
            {
              fail (error, RR_DICOM_ERROR_READ, path, "not readable as DICOM (%s)",
                    cond.text ());
              return NULL;
            }
        }
      g_autoptr (RrQcInstance) inst = rr_qc_instance_new ();
      if (!read_facts (ff.getDataset (), inst, path, error))
        return NULL;
      return (RrQcInstance *) g_steal_pointer (&inst);
    }
  catch (const std::bad_alloc &)
    {
      fail (error, RR_DICOM_ERROR_TOO_LARGE, path, "out of memory while reading");
    }
  catch (...)
    {
      fail (error, RR_DICOM_ERROR_READ, path, "unexpected error while reading");
    }
  return NULL;
}

extern "C" RrQcInstance *
rr_dicom_header_read (const char *path,
                      GError    **error)
{
  return header_read (path, TRUE, error);
}

extern "C" RrQcInstance *
rr_dicom_header_read_dcmtk (const char *path,
                            GError    **error)
{
  return header_read (path, FALSE, error);
}

/* ---- many files ---- */

static gboolean
is_dicomdir (const char *path)
{
  g_autofree char *base = g_path_get_basename (path);
  return g_ascii_strcasecmp (base, "DICOMDIR") == 0;
}

struct HeadersWalk
{
  GPtrArray *files;
  GPtrArray *unreadable;
};

/* A DICOMDIR is not an image: the files it lists are in the folders beside
 * it, walked instead. */
static gboolean
headers_file (const char *path, gpointer data)
{
  HeadersWalk *hw = (HeadersWalk *) data;
  if (!is_dicomdir (path))
    g_ptr_array_add (hw->files, g_strdup (path));
  return hw->files->len <= MAX_FILES;
}

static void
headers_problem (const char *path, const char *message, gpointer data)
{
  rr_dicom_unreadable_add (((HeadersWalk *) data)->unreadable, path, message);
}

struct HeadersCtx
{
  GPtrArray *files;
  RrQcInstance **results;
  char **errors;
  GCancellable *cancellable;
};

static void
read_one (guint i, gpointer data)
{
  HeadersCtx *ctx = (HeadersCtx *) data;
  GError *error = NULL;
  if (g_cancellable_is_cancelled (ctx->cancellable))
    return;
  ctx->results[i] = rr_dicom_header_read ((const char *) ctx->files->pdata[i], &error);
  if (ctx->results[i] == NULL)
    {
      ctx->errors[i] = g_strdup (error->message);
      g_error_free (error);
    }
}

extern "C" void
rr_dicom_headers_free (RrDicomHeaders *headers)
{
  if (headers == NULL)
    return;
  g_ptr_array_unref (headers->instances);
  g_ptr_array_unref (headers->unreadable);
  g_free (headers);
}

extern "C" RrDicomHeaders *
rr_dicom_read_headers (const char * const  *paths,
                       guint                n_threads,
                       GCancellable        *cancellable,
                       GError             **error)
{
  g_autoptr (RrDicomHeaders) h = g_new0 (RrDicomHeaders, 1);
  g_autoptr (GPtrArray) files = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GHashTable) seen_files = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                                             NULL);
  g_autoptr (GPtrArray) unique = g_ptr_array_new ();

  /* No rr_dicom_init: the raw reader needs no dictionary (header_read). */
  h->instances = g_ptr_array_new_with_free_func ((GDestroyNotify) rr_qc_instance_free);
  h->unreadable = g_ptr_array_new_with_free_func (rr_dicom_unreadable_free);
  HeadersWalk hw = { files, h->unreadable };
  RrDicomWalk walk = { NULL, headers_file, headers_problem, &hw, cancellable, NULL };
  for (guint i = 0; paths[i] != NULL; i++)
    {
      g_autofree char *parent = NULL;
      const char *path = paths[i];
      if (is_dicomdir (path) && g_file_test (path, G_FILE_TEST_IS_REGULAR))
        path = parent = g_path_get_dirname (path);
      if (!rr_dicom_walk (&walk, path))
        break;
    }
  rr_dicom_walk_clear (&walk);
  if (files->len > MAX_FILES)
    {
      g_set_error (error, RR_DICOM_ERROR, RR_DICOM_ERROR_TOO_LARGE,
                   "more than %d files under the paths given", MAX_FILES);
      return NULL;
    }
  /* The same file given twice (a path and its folder) counts once. */
  for (guint i = 0; i < files->len; i++)
    if (g_hash_table_add (seen_files, g_canonicalize_filename ((char *) files->pdata[i], NULL)))
      g_ptr_array_add (unique, files->pdata[i]);
  h->n_files = unique->len;

  HeadersCtx ctx = { unique, g_new0 (RrQcInstance *, unique->len + 1),
                     g_new0 (char *, unique->len + 1), cancellable };
  rr_parallel_for (unique->len, n_threads, read_one, &ctx);
  for (guint i = 0; i < unique->len; i++)
    {
      if (ctx.results[i] != NULL)
        {
          ctx.results[i]->path = g_strdup ((const char *) unique->pdata[i]);
          g_ptr_array_add (h->instances, ctx.results[i]);
        }
      else if (ctx.errors[i] != NULL)
        rr_dicom_unreadable_add (h->unreadable, (const char *) unique->pdata[i], ctx.errors[i]);
      /* Not g_strfreev: the array has a NULL wherever a file was read. */
      g_free (ctx.errors[i]);
    }
  g_free (ctx.results);
  g_free (ctx.errors);
  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return NULL;
  return (RrDicomHeaders *) g_steal_pointer (&h);
}
