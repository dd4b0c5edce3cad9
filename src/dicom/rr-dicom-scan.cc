/* rr-dicom-scan.cc: reads DICOM headers (pixel data left on disk), walks
 * folders and DICOMDIRs, and groups instances into studies and series. */
#include "rr-dicom-private.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dctk.h>
#include <dcmtk/oflog/oflog.h>
#include <dcmtk/dcmdata/dcfcache.h>
#include <dcmtk/dcmdata/dcistrmb.h>
#include <dcmtk/dcmdata/dcistrmf.h>

#include <glib/gstdio.h>
#include <fcntl.h>
#include <unistd.h>
#include <string.h>
#include <sys/stat.h>
#include <new>
#include <algorithm>
#include <vector>

G_DEFINE_QUARK (rr-dicom-error-quark, rr_dicom_error)

static gpointer
init_once (gpointer data)
{
  OFLog::configure (OFLogger::FATAL_LOG_LEVEL);
  /* Load the data dictionary now, once, rather than inside the first scan. */
  if (!dcmDataDict.isDictionaryLoaded ())
    g_warning ("the DICOM data dictionary could not be loaded");
  return NULL;
}

extern "C" void
rr_dicom_init (void)
{
  static GOnce once = G_ONCE_INIT;
  g_once (&once, init_once, NULL);
}

extern "C" guint
rr_dicom_default_threads (void)
{
  return MAX (1u, g_get_num_processors ());
}

struct ParallelCtx
{
  guint n;
  gint next;
  void (*func) (guint, gpointer);
  gpointer data;
};

static gpointer
parallel_worker (gpointer p)
{
  ParallelCtx *ctx = (ParallelCtx *) p;
  for (;;)
    {
      guint i = (guint) g_atomic_int_add (&ctx->next, 1);
      if (i >= ctx->n)
        break;
      ctx->func (i, ctx->data);
    }
  return NULL;
}

extern "C" void
rr_parallel_for (guint     n,
                 guint     n_threads,
                 void    (*func) (guint i, gpointer data),
                 gpointer  data)
{
  ParallelCtx ctx = { n, 0, func, data };
  GThread *threads[64];
  guint nt = MIN (MIN (n_threads ? n_threads : rr_dicom_default_threads (), 64u), MAX (n, 1u));

  for (guint t = 1; t < nt; t++)
    threads[t] = g_thread_new ("rr-dicom", parallel_worker, &ctx);
  parallel_worker (&ctx);
  for (guint t = 1; t < nt; t++)
    g_thread_join (threads[t]);
}

/* ---- attribute helpers ---- */

/* The elements of one item by tag: one pass over its list, then a binary
 * search per lookup, where dcmtk walks the list from its start each time
 * (a file's header is read with some forty lookups). */
class Attrs
{
public:
  explicit Attrs (DcmItem *item)
  {
    for (DcmObject *o = item->nextInContainer (NULL); o != NULL; o = item->nextInContainer (o))
      els_.push_back (Entry { key (o->getTag ()), OFstatic_cast (DcmElement *, o) });
    std::sort (els_.begin (), els_.end (),
               [] (const Entry &x, const Entry &y) { return x.key < y.key; });
  }

  DcmElement *
  find (const DcmTagKey &tag) const
  {
    guint32 k = key (tag);
    auto it = std::lower_bound (els_.begin (), els_.end (), k,
                                [] (const Entry &e, guint32 v) { return e.key < v; });
    return it != els_.end () && it->key == k ? it->elem : NULL;
  }

private:
  struct Entry
  {
    guint32 key;
    DcmElement *elem;
  };
  static guint32
  key (const DcmTagKey &t)
  {
    return (guint32) t.getGroup () << 16 | t.getElement ();
  }
  std::vector<Entry> els_;
};

static DcmElement *
lookup (const Attrs &a, const DcmTagKey &tag)
{
  return a.find (tag);
}

static DcmElement *
lookup (DcmItem *item, const DcmTagKey &tag)
{
  DcmElement *e = NULL;
  if (item == NULL || item->findAndGetElement (tag, e).bad ())
    return NULL;
  return e;
}

template <typename S>
static char *
get_str (const S &src, const DcmTagKey &tag, long pos = 0)
{
  DcmElement *e = lookup (src, tag);
  OFString s;
  if (e != NULL && e->getOFString (s, pos).good ())
    {
      g_autofree char *v = g_strdup (s.c_str ());
      return g_strdup (g_strstrip (v));
    }
  return NULL;
}

template <typename S>
static gboolean
get_f64 (const S &src, const DcmTagKey &tag, double *out, long pos = 0)
{
  DcmElement *e = lookup (src, tag);
  Float64 v;
  if (e != NULL && e->getFloat64 (v, pos).good () && std::isfinite (v))
    {
      *out = v;
      return TRUE;
    }
  return FALSE;
}

template <typename S>
static gboolean
get_u16 (const S &src, const DcmTagKey &tag, guint *out)
{
  DcmElement *e = lookup (src, tag);
  Uint16 v;
  if (e != NULL && e->getUint16 (v).good ())
    {
      *out = v;
      return TRUE;
    }
  return FALSE;
}

template <typename S>
static gboolean
get_long (const S &src, const DcmTagKey &tag, long *out)
{
  DcmElement *e = lookup (src, tag);
  Sint32 s;
  Uint16 u;
  Sint16 ss;
  if (e == NULL)
    return FALSE;
  if (e->getSint32 (s).good ())
    *out = s;
  else if (e->getUint16 (u).good ())
    *out = u;
  else if (e->getSint16 (ss).good ())
    *out = ss;
  else
    return FALSE;
  return TRUE;
}

template <typename S>
static gboolean
get_vec (const S &src, const DcmTagKey &tag, double *out, int n)
{
  for (int i = 0; i < n; i++)
    if (!get_f64 (src, tag, &out[i], i))
      return FALSE;
  return TRUE;
}

template <typename S>
static DcmSequenceOfItems *
get_seq (const S &src, const DcmTagKey &tag)
{
  DcmElement *e = lookup (src, tag);
  return e != NULL && e->ident () == EVR_SQ ? OFstatic_cast (DcmSequenceOfItems *, e) : NULL;
}

template <typename S>
static DcmItem *
seq_item (const S &src, const DcmTagKey &tag, long idx = 0)
{
  DcmSequenceOfItems *seq = get_seq (src, tag);
  if (seq == NULL || idx < 0 || (unsigned long) idx >= seq->card ())
    return NULL;
  return seq->getItem ((unsigned long) idx);
}

/* Pixel size from the first Ultrasound Region calibrated in centimetres in
 * both directions (Physical Units 3), as Pixel Spacing: rows, columns. */
template <typename S>
static gboolean
ultrasound_spacing (const S &ds, double ps[2])
{
  DcmItem *region;
  for (long i = 0; i < 64 && (region = seq_item (ds, DCM_SequenceOfUltrasoundRegions, i)); i++)
    {
      guint ux = 0, uy = 0;
      double dx = 0, dy = 0;
      if (get_u16 (region, DCM_PhysicalUnitsXDirection, &ux) &&
          get_u16 (region, DCM_PhysicalUnitsYDirection, &uy) && ux == 3 && uy == 3 &&
          get_f64 (region, DCM_PhysicalDeltaX, &dx) && get_f64 (region, DCM_PhysicalDeltaY, &dy) &&
          dx > 0 && dy > 0)
        {
          ps[0] = fabs (dy) * 10;
          ps[1] = fabs (dx) * 10;
          return TRUE;
        }
    }
  return FALSE;
}

template <typename S>
static char *
join_datetime (const S &item, const DcmTagKey &date, const DcmTagKey &time)
{
  g_autofree char *d = get_str (item, date);
  g_autofree char *t = get_str (item, time);
  if (d == NULL || t == NULL)
    return NULL;
  return g_strconcat (d, t, NULL);
}

extern "C" void
rr_dicom_instance_free (RrDicomInstance *inst)
{
  if (inst == NULL)
    return;
  g_free (inst->path);
  g_free (inst->sop_uid);
  g_free (inst->sop_class);
  g_free (inst->study_uid);
  g_free (inst->series_uid);
  g_free (inst->transfer_syntax);
  g_free (inst->modality);
  g_free (inst->series_description);
  g_free (inst->study_description);
  g_free (inst->study_date);
  g_free (inst->patient_id);
  g_free (inst->frame_of_reference);
  g_free (inst->photometric);
  g_free (inst->frames);
  g_free (inst->slope);
  g_free (inst->intercept);
  g_free (inst->units);
  g_free (inst->decay_correction);
  g_free (inst->injection_datetime);
  g_free (inst->series_datetime);
  g_free (inst->acquisition_datetime);
  for (int c = 0; c < 3; c++)
    g_free (inst->palette[c]);
  g_free (inst);
}

/* Geometry of one frame from a functional-group item (enhanced objects). */
static void
apply_functional_groups (DcmItem *fg, RrFrameGeom *g, double *slope, double *intercept,
                         double *thickness)
{
  DcmItem *pos = seq_item (fg, DCM_PlanePositionSequence);
  DcmItem *ori = seq_item (fg, DCM_PlaneOrientationSequence);
  DcmItem *meas = seq_item (fg, DCM_PixelMeasuresSequence);
  DcmItem *pvt = seq_item (fg, DCM_PixelValueTransformationSequence);
  double v[6];

  if (pos && get_vec (pos, DCM_ImagePositionPatient, v, 3))
    {
      g->position = rr_vec3 (v[0], v[1], v[2]);
      g->has_geometry = TRUE;
    }
  if (ori && get_vec (ori, DCM_ImageOrientationPatient, v, 6))
    {
      g->row_dir = rr_vec3 (v[0], v[1], v[2]);
      g->col_dir = rr_vec3 (v[3], v[4], v[5]);
    }
  if (meas)
    {
      if (get_vec (meas, DCM_PixelSpacing, v, 2))
        {
          g->row_spacing = v[0];
          g->col_spacing = v[1];
          g->calibration = RR_CALIBRATION_PATIENT;
        }
      get_f64 (meas, DCM_SliceThickness, thickness);
    }
  if (pvt)
    {
      get_f64 (pvt, DCM_RescaleSlope, slope);
      get_f64 (pvt, DCM_RescaleIntercept, intercept);
    }
}

static gboolean
fail (GError **error, RrDicomError code, const char *path, const char *fmt, ...) G_GNUC_PRINTF (4, 5);

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

static gboolean
read_palette (DcmItem *ds, RrDicomInstance *inst, const char *path, GError **error)
{
  static const DcmTagKey desc_tags[3] = {
    DCM_RedPaletteColorLookupTableDescriptor,
    DCM_GreenPaletteColorLookupTableDescriptor,
    DCM_BluePaletteColorLookupTableDescriptor
  };
  static const DcmTagKey data_tags[3] = {
    DCM_RedPaletteColorLookupTableData,
    DCM_GreenPaletteColorLookupTableData,
    DCM_BluePaletteColorLookupTableData
  };
  for (int c = 0; c < 3; c++)
    {
      const Uint16 *words = NULL;
      unsigned long count = 0;
      guint entries;
      for (int k = 0; k < 3; k++)
        {
          Uint16 v = 0;
          if (ds->findAndGetUint16 (desc_tags[c], v, k).good ())
            inst->palette_desc[c][k] = v;
          else
            {
              Sint16 s = 0;
              if (k == 1 && ds->findAndGetSint16 (desc_tags[c], s, k).good ())
                inst->palette_desc[c][k] = (guint16) s;
              else
                return fail (error, RR_DICOM_ERROR_FORMAT, path,
                             "PALETTE COLOR without a complete lookup table descriptor");
            }
        }
      entries = inst->palette_desc[c][0] ? inst->palette_desc[c][0] : 65536;
      if (inst->palette_desc[c][2] != 8 && inst->palette_desc[c][2] != 16)
        return fail (error, RR_DICOM_ERROR_UNSUPPORTED, path,
                     "palette entries of %u bits are not supported", inst->palette_desc[c][2]);
      if (ds->findAndGetUint16Array (data_tags[c], words, &count).bad () || words == NULL)
        return fail (error, RR_DICOM_ERROR_UNSUPPORTED, path,
                     "PALETTE COLOR without lookup table data (segmented palettes "
                     "are not supported)");
      inst->palette[c] = g_new0 (guint16, entries);
      if (inst->palette_desc[c][2] == 8 && count * 2 >= entries)
        {
          /* 8-bit entries packed two per word */
          const guint8 *bytes = (const guint8 *) words;
          for (guint e = 0; e < entries; e++)
            inst->palette[c][e] = (guint16) (bytes[e] << 8);
        }
      else if (count >= entries)
        memcpy (inst->palette[c], words, entries * sizeof (guint16));
      else
        return fail (error, RR_DICOM_ERROR_FORMAT, path,
                     "palette holds %lu entries, its descriptor says %u", count, entries);
    }
  return TRUE;
}

/* Where Pixel Data is: the element (the header read by dcmtk from the
 * file), or its value's offset and length (the header parsed from memory,
 * with dcmtk stopped at Pixel Data). */
typedef struct
{
  gboolean present;
  DcmElement *elem;
  Uint32 len;
  goffset value_start;
} PixelInfo;

static gboolean
read_image_attributes (DcmDataset *ds, const Attrs &a, RrDicomInstance *inst, const char *path,
                       goffset file_size, const PixelInfo *px, GError **error)
{
  DcmElement *pixel_elem = px->elem;
  long frames = 1;
  gsize frame_bytes;
  double iop[6], ipp[3], ps[2];
  gboolean have_iop, have_ipp, have_ps;
  RrCalibration calibration;
  double slope = 1, intercept = 0;
  DcmItem *shared = seq_item (a, DCM_SharedFunctionalGroupsSequence);
  DcmSequenceOfItems *per_frame = NULL;

  if (!get_u16 (a, DCM_Rows, &inst->rows) || !get_u16 (a, DCM_Columns, &inst->columns) ||
      inst->rows == 0 || inst->columns == 0)
    return fail (error, RR_DICOM_ERROR_FORMAT, path, "Rows or Columns missing or zero");
  if (!get_u16 (a, DCM_SamplesPerPixel, &inst->samples))
    inst->samples = 1;
  if (!get_u16 (a, DCM_BitsAllocated, &inst->bits_allocated))
    return fail (error, RR_DICOM_ERROR_FORMAT, path, "BitsAllocated missing");
  if (!get_u16 (a, DCM_BitsStored, &inst->bits_stored))
    inst->bits_stored = inst->bits_allocated;
  if (!get_u16 (a, DCM_HighBit, &inst->high_bit))
    inst->high_bit = inst->bits_stored - 1;
  get_u16 (a, DCM_PixelRepresentation, &inst->pixel_representation);
  get_u16 (a, DCM_PlanarConfiguration, &inst->planar_configuration);
  inst->photometric = get_str (a, DCM_PhotometricInterpretation);
  if (inst->photometric == NULL)
    inst->photometric = g_strdup (inst->samples == 3 ? "RGB" : "MONOCHROME2");

  if (inst->bits_allocated != 8 && inst->bits_allocated != 16 && inst->bits_allocated != 32)
    return fail (error, RR_DICOM_ERROR_UNSUPPORTED, path,
                 "BitsAllocated %u is not supported (8, 16 or 32)", inst->bits_allocated);
  if (inst->bits_stored == 0 || inst->bits_stored > inst->bits_allocated ||
      inst->high_bit >= inst->bits_allocated || inst->high_bit + 1 < inst->bits_stored)
    return fail (error, RR_DICOM_ERROR_FORMAT, path,
                 "BitsStored %u / HighBit %u do not fit BitsAllocated %u",
                 inst->bits_stored, inst->high_bit, inst->bits_allocated);
  if (inst->samples != 1 && inst->samples != 3)
    return fail (error, RR_DICOM_ERROR_UNSUPPORTED, path,
                 "SamplesPerPixel %u is not supported", inst->samples);
  if (inst->pixel_representation > 1)
    return fail (error, RR_DICOM_ERROR_FORMAT, path, "PixelRepresentation %u is invalid",
                 inst->pixel_representation);

  {
    OFString nf;
    DcmElement *nfe = lookup (a, DCM_NumberOfFrames);
    if (nfe != NULL && nfe->getOFString (nf, 0).good ())
      {
        char *end = NULL;
        gint64 v = g_ascii_strtoll (nf.c_str (), &end, 10);
        if (end == nf.c_str () || v < 1 || v > RR_DICOM_MAX_FRAMES)
          return fail (error, RR_DICOM_ERROR_FORMAT, path,
                       "NumberOfFrames '%s' is out of range (1..%d)", nf.c_str (),
                       RR_DICOM_MAX_FRAMES);
        frames = (long) v;
      }
  }
  inst->n_frames = (guint) frames;

  if (g_str_has_suffix (inst->photometric, "_422") && inst->samples == 3 &&
      DcmXfer (ds->getOriginalXfer ()).isNotEncapsulated () && inst->columns % 2 != 0)
    return fail (error, RR_DICOM_ERROR_FORMAT, path, "%s needs an even number of columns",
                 inst->photometric);
  if (!g_size_checked_mul (&frame_bytes, inst->rows, inst->columns) ||
      !g_size_checked_mul (&frame_bytes, frame_bytes,
                           (inst->samples == 3 && g_str_has_suffix (inst->photometric, "_422") &&
                            DcmXfer (ds->getOriginalXfer ()).isNotEncapsulated ()) ? 2 : inst->samples) ||
      !g_size_checked_mul (&frame_bytes, frame_bytes, inst->bits_allocated / 8) ||
      frame_bytes > RR_DICOM_MAX_FRAME_BYTES)
    return fail (error, RR_DICOM_ERROR_TOO_LARGE, path, "a frame of %ux%u is too large",
                 inst->columns, inst->rows);

  if (!px->present)
    return fail (error, RR_DICOM_ERROR_FORMAT, path, "no Pixel Data");
  {
    DcmXfer xfer (ds->getOriginalXfer ());
    Uint32 len = pixel_elem ? pixel_elem->getLength () : px->len;
    if (!xfer.isEncapsulated ())
      {
        gsize need;
        if (!g_size_checked_mul (&need, frame_bytes, inst->n_frames))
          return fail (error, RR_DICOM_ERROR_TOO_LARGE, path, "pixel data size overflows");
        if (len == DCM_UndefinedLength || (gsize) len < need)
          return fail (error, RR_DICOM_ERROR_FORMAT, path,
                       "Pixel Data holds %u bytes but %u x %u x %u frame(s) need %"
                       G_GSIZE_FORMAT, len == DCM_UndefinedLength ? 0u : len,
                       inst->columns, inst->rows, inst->n_frames, need);
        if (xfer.getStreamCompression () == ESC_none && (goffset) len > file_size)
          return fail (error, RR_DICOM_ERROR_FORMAT, path,
                       "Pixel Data claims %u bytes but the file has %" G_GOFFSET_FORMAT
                       " (truncated)", len, file_size);
        /* Native little-endian pixels are later read with pread, without a
         * second parse: where the header read from memory put them... */
        if (pixel_elem == NULL)
          {
            if (px->value_start + (goffset) len > file_size)
              return fail (error, RR_DICOM_ERROR_FORMAT, path,
                           "Pixel Data is cut short: the file is truncated");
            inst->pixel_offset = px->value_start;
          }
        /* ...or, read by dcmtk from the file, when they end it (the usual
         * layout). */
        else if (xfer.isLittleEndian () && xfer.getStreamCompression () == ESC_none &&
                 (goffset) len + 12 <= file_size)
          {
            goffset start = file_size - len;
            guint8 hdr[12];
            int fd = g_open (path, O_RDONLY, 0);
            if (fd >= 0)
              {
                if (pread (fd, hdr, 12, start - 12) == 12)
                  {
                    guint8 le[4] = { (guint8) len, (guint8) (len >> 8), (guint8) (len >> 16),
                                     (guint8) (len >> 24) };
                    gboolean explicit_vr = memcmp (hdr, "\xe0\x7f\x10\x00", 4) == 0 &&
                                           (memcmp (hdr + 4, "OW\0\0", 4) == 0 ||
                                            memcmp (hdr + 4, "OB\0\0", 4) == 0) &&
                                           memcmp (hdr + 8, le, 4) == 0;
                    gboolean implicit_vr = memcmp (hdr + 4, "\xe0\x7f\x10\x00", 4) == 0 &&
                                           memcmp (hdr + 8, le, 4) == 0;
                    if (explicit_vr || implicit_vr)
                      inst->pixel_offset = start;
                  }
                close (fd);
              }
          }
        /* The value stays on disk: read its last bytes to prove they exist
         * (found above to end the file, they do). */
        if (xfer.getStreamCompression () == ESC_none && len >= 2 && inst->pixel_offset == 0 &&
            pixel_elem != NULL)
          {
            Uint8 tail[2];
            DcmFileCache cache;
            if (pixel_elem->getPartialValue (tail, len - 2, 2, &cache).bad ())
              return fail (error, RR_DICOM_ERROR_FORMAT, path,
                           "Pixel Data is cut short: the file is truncated");
          }
      }
  }

  if (g_str_equal (inst->photometric, "PALETTE COLOR") && !read_palette (ds, inst, path, error))
    return FALSE;

  /* Classic geometry. */
  have_iop = get_vec (a, DCM_ImageOrientationPatient, iop, 6);
  have_ipp = get_vec (a, DCM_ImagePositionPatient, ipp, 3);
  have_ps = get_vec (a, DCM_PixelSpacing, ps, 2);
  calibration = RR_CALIBRATION_PATIENT;
  if (!have_ps && (have_ps = get_vec (a, DCM_ImagerPixelSpacing, ps, 2)))
    calibration = RR_CALIBRATION_DETECTOR;
  if (!have_ps && (have_ps = ultrasound_spacing (a, ps)))
    calibration = RR_CALIBRATION_ULTRASOUND;
  if (!have_ps || !(ps[0] > 0 && ps[1] > 0 && ps[0] < 1e4 && ps[1] < 1e4))
    calibration = RR_CALIBRATION_NONE;
  get_f64 (a, DCM_RescaleSlope, &slope);
  get_f64 (a, DCM_RescaleIntercept, &intercept);
  if (slope == 0)
    slope = 1;
  get_f64 (a, DCM_SliceThickness, &inst->slice_thickness);
  if (get_f64 (a, DCM_WindowCenter, &inst->window_center) &&
      get_f64 (a, DCM_WindowWidth, &inst->window_width) && inst->window_width > 0)
    inst->has_window = TRUE;
  get_f64 (a, DCM_FrameTime, &inst->frame_time_ms);

  per_frame = get_seq (a, DCM_PerFrameFunctionalGroupsSequence);

  inst->frames = g_new0 (RrFrameGeom, inst->n_frames);
  inst->slope = g_new (double, inst->n_frames);
  inst->intercept = g_new (double, inst->n_frames);
  for (guint f = 0; f < inst->n_frames; f++)
    {
      RrFrameGeom *g = &inst->frames[f];
      double fs = slope, fi = intercept;
      g->rows = inst->rows;
      g->columns = inst->columns;
      g->row_spacing = have_ps ? ps[0] : 0;
      g->col_spacing = have_ps ? ps[1] : 0;
      g->calibration = calibration;
      g->order_hint = (double) inst->instance_number * 100000.0 + f;
      if (have_iop)
        {
          g->row_dir = rr_vec3 (iop[0], iop[1], iop[2]);
          g->col_dir = rr_vec3 (iop[3], iop[4], iop[5]);
        }
      if (have_ipp && have_iop)
        {
          g->position = rr_vec3 (ipp[0], ipp[1], ipp[2]);
          g->has_geometry = TRUE;
        }
      if (shared)
        apply_functional_groups (shared, g, &fs, &fi, &inst->slice_thickness);
      if (per_frame && f < per_frame->card ())
        apply_functional_groups (per_frame->getItem (f), g, &fs, &fi, &inst->slice_thickness);
      if (g->has_geometry && inst->n_frames > 1 && per_frame == NULL)
        {
          /* A classic multi-frame with one position: frames step along the
           * normal by the slice spacing when there is one (NM tomo), or
           * carry no geometry (cine). */
          double step = 0;
          RrVec3 n = rr_vec3_normalize (rr_vec3_cross (g->row_dir, g->col_dir));
          if (get_f64 (a, DCM_SpacingBetweenSlices, &step) && step != 0)
            g->position = rr_vec3_add (g->position, rr_vec3_scale (n, step * f));
          else
            g->has_geometry = FALSE;
        }
      if (g->has_geometry &&
          (rr_vec3_length (g->row_dir) < 0.5 || rr_vec3_length (g->col_dir) < 0.5 ||
           fabs (rr_vec3_dot (rr_vec3_normalize (g->row_dir),
                              rr_vec3_normalize (g->col_dir))) > 0.01))
        return fail (error, RR_DICOM_ERROR_FORMAT, path,
                     "Image Orientation (Patient) is not two orthogonal unit vectors");
      if (g->has_geometry && (g->row_spacing <= 0 || g->col_spacing <= 0))
        return fail (error, RR_DICOM_ERROR_FORMAT, path, "Pixel Spacing missing or not positive");
      if (fs == 0)
        fs = 1;
      inst->slope[f] = fs;
      inst->intercept[f] = fi;
    }
  if (per_frame)
    {
      DcmItem *fg0 = per_frame->card () > 0 ? per_frame->getItem (0) : NULL;
      DcmItem *voi = seq_item (fg0, DCM_FrameVOILUTSequence);
      if (voi == NULL)
        voi = seq_item (shared, DCM_FrameVOILUTSequence);
      if (voi && get_f64 (voi, DCM_WindowCenter, &inst->window_center) &&
          get_f64 (voi, DCM_WindowWidth, &inst->window_width) && inst->window_width > 0)
        inst->has_window = TRUE;
    }

  {
    long v;
    if (get_long (a, DCM_PixelPaddingValue, &v))
      {
        /* US or SS, as Pixel Representation says; files often write the
         * signed value with the VR US. */
        if (inst->pixel_representation == 1 && v > G_MAXINT16)
          v -= 65536;
        inst->has_padding = TRUE;
        inst->padding_value = v;
        if (get_long (a, DCM_PixelPaddingRangeLimit, &v))
          {
            if (inst->pixel_representation == 1 && v > G_MAXINT16)
              v -= 65536;
            inst->has_padding_limit = TRUE;
            inst->padding_limit = v;
          }
      }
  }

  /* PET quantities for SUV. */
  inst->units = get_str (a, DCM_Units);
  inst->decay_correction = get_str (a, DCM_DecayCorrection);
  get_f64 (a, DCM_PatientWeight, &inst->patient_weight_kg);
  inst->series_datetime = join_datetime (a, DCM_SeriesDate, DCM_SeriesTime);
  inst->acquisition_datetime = join_datetime (a, DCM_AcquisitionDate, DCM_AcquisitionTime);
  if (DcmItem *rp = seq_item (a, DCM_RadiopharmaceuticalInformationSequence))
    {
      get_f64 (rp, DCM_RadionuclideTotalDose, &inst->total_dose_bq);
      get_f64 (rp, DCM_RadionuclideHalfLife, &inst->half_life_s);
      inst->injection_datetime = get_str (rp, DCM_RadiopharmaceuticalStartDateTime);
      if (inst->injection_datetime == NULL)
        {
          g_autofree char *t = get_str (rp, DCM_RadiopharmaceuticalStartTime);
          g_autofree char *d = get_str (a, DCM_SeriesDate);
          if (t && d)
            inst->injection_datetime = g_strconcat (d, t, NULL);
        }
    }
  return TRUE;
}

/* Image storage SOP classes (PS3.4 B.5) by the component after the
 * storage root; anything else (SR, presentation states, KOS, documents,
 * registrations, RT plans...) is a non-image object. */
static gboolean
is_image_storage_class (const char *uid)
{
  static const int image[] = { 1, 2, 3, 4, 6, 7, 12, 13, 14, 20, 30, 77, 128, 130, 131 };
  const char *root = "1.2.840.10008.5.1.4.1.1.";
  if (uid == NULL || !g_str_has_prefix (uid, root))
    return FALSE;
  const char *rest = uid + strlen (root);
  char *end = NULL;
  long n = strtol (rest, &end, 10);
  if (end == rest)
    return FALSE;
  if (n == 481)
    return g_str_equal (end, ".1");
  for (guint i = 0; i < G_N_ELEMENTS (image); i++)
    if (n == image[i])
      return TRUE;
  return FALSE;
}

/* The first bytes of a file, in memory, that still tell dcmtk where they
 * came from: a value over the read limit is left in the file (a factory
 * to load it later) rather than allocated at whatever length it claims. */
class HeadStream : public DcmInputBufferStream
{
public:
  explicit HeadStream (const char *path) : path_ (path) {}
  DcmInputStreamFactory *
  newFactory () const override
  {
    return new DcmInputFileStreamFactory (path_, tell ());
  }

private:
  OFFilename path_;
};

gboolean
rr_dicom_parse_head (const char    *path,
                     goffset        file_size,
                     Uint32         max_read_length,
                     DcmFileFormat &ff,
                     RrDicomHead   *head)
{
  int fd = g_open (path, O_RDONLY | O_CLOEXEC, 0);
  ssize_t n;

  head->len = (gsize) MIN (file_size, (goffset) RR_DICOM_HEAD_BYTES);
  head->consumed = 0;
  if (fd < 0)
    return FALSE;
  n = pread (fd, head->bytes, head->len, 0);
  close (fd);
  if (n != (ssize_t) head->len)
    return FALSE;

  HeadStream in (path);
  in.setBuffer (head->bytes, (offile_off_t) head->len);
  if ((goffset) head->len == file_size)
    in.setEos ();
  ff.transferInit ();
  OFCondition cond = ff.readUntilTag (in, EXS_Unknown, EGL_noChange, max_read_length,
                                      DCM_PixelData);
  ff.transferEnd ();
  head->consumed = in.tell ();
  in.releaseBuffer ();
  return cond.good ();
}

/* The usual file: its header read in one go and parsed from memory, dcmtk
 * stopped at Pixel Data, whose value's place we take from the bytes dcmtk
 * consumed. FALSE (and @ff to be read again from the file) for anything
 * else: a header larger than RR_DICOM_HEAD_BYTES, big-endian or deflated data, no
 * Pixel Data where the file goes on, a parse error. */
static gboolean
read_head (const char    *path,
           goffset        file_size,
           DcmFileFormat &ff,
           PixelInfo     *px)
{
  RrDicomHead h;

  memset (px, 0, sizeof *px);
  if (!rr_dicom_parse_head (path, file_size, 4096, ff, &h))
    return FALSE;

  DcmXfer xfer (ff.getDataset ()->getOriginalXfer ());
  if (!xfer.isLittleEndian () || xfer.getStreamCompression () != ESC_none)
    return FALSE;
  const guint8 *head = h.bytes;
  gsize want = h.len;
  offile_off_t at = h.consumed;
  guint hdr = xfer.isExplicitVR () ? 12 : 8;
  if (at >= (offile_off_t) hdr && at <= (offile_off_t) want &&
      memcmp (head + at - hdr, "\xe0\x7f\x10\x00", 4) == 0 &&
      (hdr == 8 || memcmp (head + at - 8, "OB\0\0", 4) == 0 ||
       memcmp (head + at - 8, "OW\0\0", 4) == 0))
    {
      /* Stopped at Pixel Data, its tag and length consumed. */
      const guint8 *l = head + at - 4;
      px->present = TRUE;
      px->len = (Uint32) l[0] | (Uint32) l[1] << 8 | (Uint32) l[2] << 16 | (Uint32) l[3] << 24;
      px->value_start = (goffset) at;
      return TRUE;
    }
  /* No Pixel Data: only when the whole file was parsed. */
  return (goffset) want == file_size && (goffset) at == file_size;
}

extern "C" RrDicomInstance *
rr_dicom_instance_read (const char *path,
                        GError    **error)
{
  rr_dicom_init ();
  try
    {
      DcmFileFormat ff;
      PixelInfo px;
      GStatBuf st;
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
      if (!read_head (path, st.st_size, ff, &px))
        {
          /* Values over 4 KiB stay on disk until decoding asks for them. */
          ff.clear ();
          OFCondition cond = ff.loadFile (path, EXS_Unknown, EGL_noChange, 4096, ERM_autoDetect);
          if (cond.bad ())
            {
              fail (error, RR_DICOM_ERROR_READ, path, "not readable as DICOM (%s)", cond.text ());
              return NULL;
            }
          px.elem = NULL;
          px.present = ff.getDataset ()->findAndGetElement (DCM_PixelData, px.elem).good () &&
                       px.elem != NULL;
        }
      DcmDataset *ds = ff.getDataset ();
      const Attrs a (ds);
      g_autoptr (RrDicomInstance) inst = g_new0 (RrDicomInstance, 1);
      inst->path = g_strdup (path);
      inst->sop_uid = get_str (a, DCM_SOPInstanceUID);
      if (inst->sop_uid == NULL)
        inst->sop_uid = get_str (ff.getMetaInfo (), DCM_MediaStorageSOPInstanceUID);
      inst->sop_class = get_str (a, DCM_SOPClassUID);
      if (inst->sop_class == NULL)
        inst->sop_class = get_str (ff.getMetaInfo (), DCM_MediaStorageSOPClassUID);
      if (inst->sop_uid == NULL || *inst->sop_uid == '\0' || lookup (a, DCM_SOPInstanceUID) == NULL)
        {
          fail (error, RR_DICOM_ERROR_READ, path,
                "not a DICOM instance (no SOP Instance UID in the dataset; truncated?)");
          return NULL;
        }
      inst->study_uid = get_str (a, DCM_StudyInstanceUID);
      inst->series_uid = get_str (a, DCM_SeriesInstanceUID);
      if (inst->study_uid == NULL)
        inst->study_uid = g_strdup ("");
      if (inst->series_uid == NULL)
        inst->series_uid = g_strdup ("");
      inst->transfer_syntax = g_strdup (DcmXfer (ds->getOriginalXfer ()).getXferID ());
      inst->modality = get_str (a, DCM_Modality);
      if (inst->modality == NULL)
        inst->modality = g_strdup ("OT");
      inst->series_description = get_str (a, DCM_SeriesDescription);
      inst->study_description = get_str (a, DCM_StudyDescription);
      inst->study_date = get_str (a, DCM_StudyDate);
      inst->patient_id = get_str (a, DCM_PatientID);
      inst->frame_of_reference = get_str (a, DCM_FrameOfReferenceUID);
      {
        long v = 0;
        Sint32 s;
        DcmElement *e = lookup (a, DCM_SeriesNumber);
        if (e != NULL && e->getSint32 (s).good ())
          inst->series_number = s;
        e = lookup (a, DCM_InstanceNumber);
        if (e != NULL && e->getSint32 (s).good ())
          inst->instance_number = s;
        (void) v;
      }
      inst->is_image = px.present || lookup (a, DCM_FloatPixelData) != NULL;
      if (inst->is_image && lookup (a, DCM_FloatPixelData) != NULL)
        {
          fail (error, RR_DICOM_ERROR_UNSUPPORTED, path, "Float Pixel Data is not supported");
          return NULL;
        }
      if (!inst->is_image && is_image_storage_class (inst->sop_class))
        {
          fail (error, RR_DICOM_ERROR_FORMAT, path,
                "an image object without Pixel Data (truncated?)");
          return NULL;
        }
      if (inst->is_image && !read_image_attributes (ds, a, inst, path, st.st_size, &px, error))
        return NULL;
      return (RrDicomInstance *) g_steal_pointer (&inst);
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

/* ---- walking ---- */

typedef struct
{
  GPtrArray *files;        /* char * */
  GHashTable *seen_files;  /* canonical path */
  GPtrArray *unreadable;
} Walk;

static void
walk_add_file (Walk *w, const char *path)
{
  g_autofree char *canon = g_canonicalize_filename (path, NULL);
  if (g_hash_table_contains (w->seen_files, canon))
    return;
  g_hash_table_add (w->seen_files, g_strdup (canon));
  g_ptr_array_add (w->files, g_strdup (path));
}

static char *
dicomdir_resolve (const char *base, const char *file_id)
{
  g_auto (GStrv) parts = g_strsplit (file_id, "\\", -1);
  g_autofree char *rel = g_build_filenamev (parts);
  char *p = g_build_filename (base, rel, NULL);
  if (g_file_test (p, G_FILE_TEST_IS_REGULAR))
    return p;
  g_free (p);
  /* Media written on case-insensitive systems. */
  g_autofree char *lower = g_ascii_strdown (rel, -1);
  p = g_build_filename (base, lower, NULL);
  if (g_file_test (p, G_FILE_TEST_IS_REGULAR))
    return p;
  g_free (p);
  return NULL;
}

static gboolean
walk_dicomdir (Walk *w, const char *path)
{
  try
    {
      DcmFileFormat ff;
      if (ff.loadFile (path, EXS_Unknown, EGL_noChange, 4096, ERM_fileOnly).bad ())
        return FALSE;
      OFString cls;
      ff.getMetaInfo ()->findAndGetOFString (DCM_MediaStorageSOPClassUID, cls);
      if (cls != UID_MediaStorageDirectoryStorage)
        return FALSE;
      g_autofree char *base = g_path_get_dirname (path);
      DcmSequenceOfItems *records = NULL;
      if (ff.getDataset ()->findAndGetSequence (DCM_DirectoryRecordSequence, records).good ())
        for (unsigned long i = 0; i < records->card (); i++)
          {
            OFString id;
            DcmItem *rec = records->getItem (i);
            if (rec->findAndGetOFStringArray (DCM_ReferencedFileID, id).bad () || id.empty ())
              continue;
            g_autofree char *file = dicomdir_resolve (base, id.c_str ());
            if (file)
              walk_add_file (w, file);
            else
              {
                g_autofree char *msg = g_strdup_printf ("DICOMDIR %s refers to a missing file",
                                                        path);
                rr_dicom_unreadable_add (w->unreadable, id.c_str (), msg);
              }
          }
      return TRUE;
    }
  catch (...)
    {
      return FALSE;
    }
}

static gboolean
looks_like_dicomdir (const char *path)
{
  g_autofree char *base = g_path_get_basename (path);
  return g_ascii_strcasecmp (base, "DICOMDIR") == 0;
}

static gboolean
walk_one (RrDicomWalk *walk, const char *path, int depth)
{
  GStatBuf st;
  if (g_cancellable_is_cancelled (walk->cancellable))
    return FALSE;
  if (depth > 64)
    {
      walk->problem (path, "folders nested deeper than 64", walk->data);
      return TRUE;
    }
  if (g_stat (path, &st) != 0)
    {
      walk->problem (path, g_strerror (errno), walk->data);
      return TRUE;
    }
  if (S_ISDIR (st.st_mode))
    {
      if (walk->folder != NULL && !walk->folder (path, &st, walk->data))
        return TRUE;
      g_autofree char *key = g_strdup_printf ("%lu:%lu", (unsigned long) st.st_dev,
                                              (unsigned long) st.st_ino);
      if (g_hash_table_contains (walk->seen_dirs, key))
        return TRUE;
      g_hash_table_add (walk->seen_dirs, g_steal_pointer (&key));
      g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
      if (dir == NULL)
        {
          walk->problem (path, "folder cannot be opened", walk->data);
          return TRUE;
        }
      g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
      const char *name;
      while ((name = g_dir_read_name (dir)) != NULL)
        g_ptr_array_add (names, g_strdup (name));
      g_ptr_array_sort (names, (GCompareFunc) [] (gconstpointer a, gconstpointer b) {
        return strcmp (*(char * const *) a, *(char * const *) b);
      });
      for (guint i = 0; i < names->len; i++)
        {
          g_autofree char *child = g_build_filename (path, (char *) names->pdata[i], NULL);
          if (!walk_one (walk, child, depth + 1))
            return FALSE;
        }
      return TRUE;
    }
  if (S_ISREG (st.st_mode))
    return walk->file (path, walk->data);
  return TRUE;
}

extern "C" gboolean
rr_dicom_walk (RrDicomWalk *walk,
               const char  *path)
{
  if (walk->seen_dirs == NULL)
    walk->seen_dirs = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  return walk_one (walk, path, 0);
}

extern "C" void
rr_dicom_walk_clear (RrDicomWalk *walk)
{
  g_clear_pointer (&walk->seen_dirs, g_hash_table_unref);
}

static gboolean
scan_file (const char *path, gpointer data)
{
  Walk *w = (Walk *) data;
  if (!(looks_like_dicomdir (path) && walk_dicomdir (w, path)))
    walk_add_file (w, path);
  return TRUE;
}

static void
scan_problem (const char *path, const char *message, gpointer data)
{
  rr_dicom_unreadable_add (((Walk *) data)->unreadable, path, message);
}

/* ---- grouping ---- */

extern "C" void
rr_dicom_unreadable_free (gpointer p)
{
  RrDicomUnreadable *u = (RrDicomUnreadable *) p;
  g_free (u->path);
  g_free (u->message);
  g_free (u);
}

extern "C" void
rr_dicom_unreadable_add (GPtrArray *arr, const char *path, const char *message)
{
  RrDicomUnreadable *u = g_new0 (RrDicomUnreadable, 1);
  u->path = g_strdup (path);
  u->message = g_strdup (message);
  g_ptr_array_add (arr, u);
}

static void
series_free (gpointer p)
{
  RrDicomSeries *s = (RrDicomSeries *) p;
  g_free (s->series_uid);
  g_free (s->modality);
  g_free (s->description);
  g_ptr_array_unref (s->instances);
  if (s->stacks)
    g_ptr_array_unref (s->stacks);
  g_array_unref (s->frame_refs);
  g_ptr_array_unref (s->problems);
  g_ptr_array_unref (s->transfer_syntaxes);
  g_free (s);
}

static void
study_free (gpointer p)
{
  RrDicomStudy *s = (RrDicomStudy *) p;
  g_free (s->study_uid);
  g_free (s->patient_id);
  g_free (s->study_date);
  g_free (s->description);
  g_ptr_array_unref (s->series);
  g_free (s);
}

extern "C" void
rr_dicom_scan_free (RrDicomScan *scan)
{
  if (scan == NULL)
    return;
  g_ptr_array_unref (scan->studies);
  g_ptr_array_unref (scan->unreadable);
  g_free (scan);
}

static void
series_plan (RrDicomSeries *s)
{
  g_autofree RrFrameGeom *geoms = NULL;
  guint n = 0;

  for (guint i = 0; i < s->instances->len; i++)
    {
      RrDicomInstance *inst = (RrDicomInstance *) s->instances->pdata[i];
      if (inst->is_image)
        n += inst->n_frames;
    }
  s->n_frames = n;
  geoms = g_new0 (RrFrameGeom, MAX (n, 1u));
  n = 0;
  for (guint i = 0; i < s->instances->len; i++)
    {
      RrDicomInstance *inst = (RrDicomInstance *) s->instances->pdata[i];
      gboolean known = FALSE;
      for (guint t = 0; t < s->transfer_syntaxes->len; t++)
        if (g_str_equal (s->transfer_syntaxes->pdata[t], inst->transfer_syntax))
          known = TRUE;
      if (!known)
        g_ptr_array_add (s->transfer_syntaxes, g_strdup (inst->transfer_syntax));
      if (!inst->is_image)
        continue;
      for (guint f = 0; f < inst->n_frames; f++)
        {
          RrDicomFrameRef ref = { i, f };
          g_array_append_val (s->frame_refs, ref);
          geoms[n++] = inst->frames[f];
        }
    }
  g_ptr_array_sort (s->transfer_syntaxes, (GCompareFunc) [] (gconstpointer a, gconstpointer b) {
    return strcmp (*(char * const *) a, *(char * const *) b);
  });
  s->is_image = n > 0;
  s->stacks = rr_stack_plan (geoms, n, s->problems);
}

/* ctx.errors has a hole at every file that was read, so g_strfreev, which
 * stops at the first NULL, would leak the messages after it. */
static void
errors_free (char  **errors,
             guint   n)
{
  for (guint i = 0; i < n; i++)
    g_free (errors[i]);
  g_free (errors);
}

struct ReadCtx
{
  GPtrArray *files;
  RrDicomInstance **results;
  char **errors;
  GCancellable *cancellable;
};

static void
read_one (guint i, gpointer data)
{
  ReadCtx *ctx = (ReadCtx *) data;
  GError *error = NULL;
  if (g_cancellable_is_cancelled (ctx->cancellable))
    return;
  ctx->results[i] = rr_dicom_instance_read ((const char *) ctx->files->pdata[i], &error);
  if (ctx->results[i] == NULL)
    {
      ctx->errors[i] = g_strdup (error->message);
      g_error_free (error);
    }
}

extern "C" RrDicomScan *
rr_dicom_scan (const char * const  *paths,
               guint                n_threads,
               GCancellable        *cancellable,
               GError             **error)
{
  g_autoptr (RrDicomScan) scan = g_new0 (RrDicomScan, 1);
  Walk w;
  g_autoptr (GHashTable) studies = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (GHashTable) series = g_hash_table_new (g_str_hash, g_str_equal);

  rr_dicom_init ();
  scan->studies = g_ptr_array_new_with_free_func (study_free);
  scan->unreadable = g_ptr_array_new_with_free_func (rr_dicom_unreadable_free);

  w.files = g_ptr_array_new_with_free_func (g_free);
  w.seen_files = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  w.unreadable = scan->unreadable;
  RrDicomWalk walk = { NULL, scan_file, scan_problem, &w, cancellable, NULL };
  for (guint i = 0; paths[i] != NULL; i++)
    rr_dicom_walk (&walk, paths[i]);
  rr_dicom_walk_clear (&walk);
  g_hash_table_unref (w.seen_files);
  g_autoptr (GPtrArray) files = w.files;
  scan->n_files = files->len;

  ReadCtx ctx = { files, g_new0 (RrDicomInstance *, files->len + 1),
                  g_new0 (char *, files->len + 1), cancellable };
  rr_parallel_for (files->len, n_threads, read_one, &ctx);

  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    {
      for (guint i = 0; i < files->len; i++)
        rr_dicom_instance_free (ctx.results[i]);
      g_free (ctx.results);
      errors_free (ctx.errors, files->len);
      return NULL;
    }

  for (guint i = 0; i < files->len; i++)
    {
      RrDicomInstance *inst = ctx.results[i];
      if (inst == NULL)
        {
          rr_dicom_unreadable_add (scan->unreadable, (const char *) files->pdata[i], ctx.errors[i]);
          continue;
        }
      RrDicomStudy *st = (RrDicomStudy *) g_hash_table_lookup (studies, inst->study_uid);
      if (st == NULL)
        {
          st = g_new0 (RrDicomStudy, 1);
          st->study_uid = g_strdup (inst->study_uid);
          st->patient_id = g_strdup (inst->patient_id);
          st->study_date = g_strdup (inst->study_date);
          st->description = g_strdup (inst->study_description);
          st->series = g_ptr_array_new_with_free_func (series_free);
          g_ptr_array_add (scan->studies, st);
          g_hash_table_insert (studies, st->study_uid, st);
        }
      g_autofree char *key = g_strconcat (inst->study_uid, "|", inst->series_uid, NULL);
      RrDicomSeries *se = (RrDicomSeries *) g_hash_table_lookup (series, key);
      if (se == NULL)
        {
          se = g_new0 (RrDicomSeries, 1);
          se->series_uid = g_strdup (inst->series_uid);
          se->modality = g_strdup (inst->modality);
          se->description = g_strdup (inst->series_description ? inst->series_description : "");
          se->number = inst->series_number;
          se->instances = g_ptr_array_new_with_free_func ((GDestroyNotify) rr_dicom_instance_free);
          se->frame_refs = g_array_new (FALSE, FALSE, sizeof (RrDicomFrameRef));
          se->problems = g_ptr_array_new_with_free_func ((GDestroyNotify) rr_problem_free);
          se->transfer_syntaxes = g_ptr_array_new_with_free_func (g_free);
          g_ptr_array_add (st->series, se);
          g_hash_table_insert (series, g_strdup (key), se);
        }
      g_ptr_array_add (se->instances, inst);
    }
  g_free (ctx.results);
  errors_free (ctx.errors, files->len);
  {
    GHashTableIter it;
    gpointer k;
    g_hash_table_iter_init (&it, series);
    while (g_hash_table_iter_next (&it, &k, NULL))
      g_free (k);
  }

  for (guint i = 0; i < scan->studies->len; i++)
    {
      RrDicomStudy *st = (RrDicomStudy *) scan->studies->pdata[i];
      g_ptr_array_sort (st->series, (GCompareFunc) [] (gconstpointer a, gconstpointer b) {
        const RrDicomSeries *x = *(RrDicomSeries * const *) a;
        const RrDicomSeries *y = *(RrDicomSeries * const *) b;
        if (x->number != y->number)
          return x->number < y->number ? -1 : 1;
        return strcmp (x->series_uid, y->series_uid);
      });
      for (guint j = 0; j < st->series->len; j++)
        series_plan ((RrDicomSeries *) st->series->pdata[j]);
    }
  return (RrDicomScan *) g_steal_pointer (&scan);
}

extern "C" RrDicomSeries *
rr_dicom_scan_find_series (RrDicomScan *scan,
                           const char  *series_uid)
{
  for (guint i = 0; i < scan->studies->len; i++)
    {
      RrDicomStudy *st = (RrDicomStudy *) scan->studies->pdata[i];
      for (guint j = 0; j < st->series->len; j++)
        {
          RrDicomSeries *se = (RrDicomSeries *) st->series->pdata[j];
          if (g_strcmp0 (se->series_uid, series_uid) == 0)
            return se;
        }
    }
  return NULL;
}

extern "C" const RrStack *
rr_dicom_series_main_stack (const RrDicomSeries *series)
{
  if (series->stacks == NULL || series->stacks->len == 0)
    return NULL;
  return (const RrStack *) series->stacks->pdata[0];
}

extern "C" const RrDicomInstance *
rr_dicom_series_instance (const RrDicomSeries *series,
                          guint                i)
{
  g_return_val_if_fail (i < series->instances->len, NULL);
  return (const RrDicomInstance *) series->instances->pdata[i];
}

extern "C" double
rr_dicom_series_slice_thickness (const RrDicomSeries *series)
{
  for (guint i = 0; i < series->instances->len; i++)
    {
      const RrDicomInstance *inst = (const RrDicomInstance *) series->instances->pdata[i];
      if (inst->is_image && inst->slice_thickness > 0)
        return inst->slice_thickness;
    }
  return 0;
}

extern "C" const char *
rr_dicom_instance_path (const RrDicomInstance *instance)
{
  return instance->path;
}

extern "C" const char *
rr_dicom_instance_sop_uid (const RrDicomInstance *instance)
{
  return instance->sop_uid;
}

extern "C" const char *
rr_dicom_instance_transfer_syntax (const RrDicomInstance *instance)
{
  return instance->transfer_syntax;
}
