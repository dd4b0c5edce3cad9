/* rr-dicom-load.cc: decodes a planned stack into an RrVolume on several
 * threads: frames straight from disk, modality LUT applied, colour to RGB. */
#include "rr-dicom-private.h"
#include "rr-dicom-codec.h"

#include <dcmtk/dcmdata/dcfcache.h>
#include <glib/gstdio.h>
#include <fcntl.h>
#include <unistd.h>
#include <string.h>
#include <new>

/* ---- dates and SUV ---- */

/* Parses DICOM DA+TM / DT text ("YYYYMMDDHHMMSS.FFFFFF", colons tolerated)
 * into seconds since the epoch (UTC offsets are ignored: both times of a
 * difference come from the same scanner clock). */
static gboolean
parse_dt (const char *s, double *out)
{
  char digits[32];
  guint n = 0;
  double frac = 0;
  const char *p;

  if (s == NULL)
    return FALSE;
  for (p = s; *p && *p != '.' && *p != '+' && *p != '-' && n < sizeof digits - 1; p++)
    if (g_ascii_isdigit (*p))
      digits[n++] = *p;
    else if (*p != ':' && *p != ' ')
      return FALSE;
  digits[n] = '\0';
  if (*p == '.')
    {
      double scale = 0.1;
      for (p++; g_ascii_isdigit (*p); p++, scale /= 10)
        frac += (*p - '0') * scale;
    }
  if (n < 8 + 4)
    return FALSE;
  int Y, M, D, h, m, sec = 0;
  if (sscanf (digits, "%4d%2d%2d%2d%2d", &Y, &M, &D, &h, &m) != 5)
    return FALSE;
  if (n >= 14)
    sec = (digits[12] - '0') * 10 + (digits[13] - '0');
  GDateTime *dt = g_date_time_new_utc (Y, M, D, h, m, sec);
  if (dt == NULL)
    return FALSE;
  *out = (double) g_date_time_to_unix (dt) + frac;
  g_date_time_unref (dt);
  return TRUE;
}

static void
compute_suv (RrVolume *vol, const RrDicomInstance *inst)
{
  double t_inj, t_ref;

  if (g_strcmp0 (inst->modality, "PT") != 0)
    {
      vol->suv_state = RR_SUV_NOT_APPLICABLE;
      return;
    }
  g_free (vol->units);
  vol->units = g_strdup (inst->units ? inst->units : "");
  vol->suv_state = RR_SUV_UNAVAILABLE;
  if (g_strcmp0 (inst->units, "GML") == 0)
    {
      vol->suv_state = RR_SUV_AVAILABLE;
      vol->suv_factor = 1.0;
      return;
    }
  if (g_strcmp0 (inst->units, "BQML") != 0)
    vol->suv_reason = g_strdup_printf ("Units are '%s', not BQML", inst->units ? inst->units : "");
  else if (inst->patient_weight_kg <= 0)
    vol->suv_reason = g_strdup ("Patient Weight is missing");
  else if (inst->total_dose_bq <= 0)
    vol->suv_reason = g_strdup ("Radionuclide Total Dose is missing");
  else if (g_strcmp0 (inst->decay_correction, "ADMIN") == 0)
    {
      vol->suv_state = RR_SUV_AVAILABLE;
      vol->suv_factor = inst->patient_weight_kg * 1000.0 / inst->total_dose_bq;
    }
  else if (g_strcmp0 (inst->decay_correction, "START") != 0)
    vol->suv_reason = g_strdup_printf ("Decay Correction '%s' is not supported (START or ADMIN)",
                                       inst->decay_correction ? inst->decay_correction : "");
  else if (inst->half_life_s <= 0)
    vol->suv_reason = g_strdup ("Radionuclide Half Life is missing");
  else if (!parse_dt (inst->injection_datetime, &t_inj))
    vol->suv_reason = g_strdup ("injection time is missing");
  else if (!parse_dt (inst->series_datetime, &t_ref))
    vol->suv_reason = g_strdup ("Series Date/Time is missing");
  else if (t_ref < t_inj || t_ref - t_inj > 24 * 3600)
    vol->suv_reason = g_strdup ("injection time is after the scan or a day before it");
  else
    {
      double decayed = inst->total_dose_bq * exp2 (-(t_ref - t_inj) / inst->half_life_s);
      vol->suv_state = RR_SUV_AVAILABLE;
      vol->suv_factor = inst->patient_weight_kg * 1000.0 / decayed;
    }
}

/* ---- pixel conversion ---- */

typedef struct
{
  RrVolume *vol;
  RrDicomSeries *series;
  const RrStack *stack;
  double pad_out;
  gint next;
  gint done;
  gint failed;
  GMutex lock;
  GError *error;
  GCancellable *cancellable;
  const RrDicomLoadOptions *options;
  guint codec_threads;   /* threads a codec may use inside one frame */
} LoadCtx;

static inline gint32
stored_value (const guint8 *raw, gsize s, const RrDicomInstance *inst)
{
  guint32 v;
  switch (inst->bits_allocated)
    {
    case 8:
      v = raw[s];
      break;
    case 16:
      v = ((const guint16 *) raw)[s];
      break;
    default:
      v = ((const guint32 *) raw)[s];
      break;
    }
  guint shift = inst->high_bit + 1 - inst->bits_stored;
  v >>= shift;
  if (inst->bits_stored < 32)
    {
      guint32 mask = (1u << inst->bits_stored) - 1;
      v &= mask;
      if (inst->pixel_representation == 1 && (v & (1u << (inst->bits_stored - 1))))
        v |= ~mask;
    }
  return (gint32) v;
}

static inline gboolean
is_padding (const RrDicomInstance *inst, gint32 v)
{
  if (!inst->has_padding)
    return FALSE;
  if (!inst->has_padding_limit)
    return v == inst->padding_value;
  long lo = MIN (inst->padding_value, inst->padding_limit);
  long hi = MAX (inst->padding_value, inst->padding_limit);
  return v >= lo && v <= hi;
}

template <typename T>
static void
convert_mono (const guint8 *raw, const RrDicomInstance *inst, guint frame, T *out, gsize n,
              double pad_out)
{
  double slope = inst->slope[frame], icpt = inst->intercept[frame];

  /* The common case, signed or unsigned 16 bits with an integer rescale. */
  if (inst->bits_allocated == 16 && inst->bits_stored == 16 && !inst->has_padding &&
      slope == 1.0)
    {
      if (inst->pixel_representation && icpt == 0)
        {
          const gint16 *src = (const gint16 *) raw;
          for (gsize p = 0; p < n; p++)
            out[p] = (T) src[p];
        }
      else if (inst->pixel_representation)
        {
          const gint16 *src = (const gint16 *) raw;
          for (gsize p = 0; p < n; p++)
            out[p] = (T) (src[p] + icpt);
        }
      else
        {
          const guint16 *src = (const guint16 *) raw;
          for (gsize p = 0; p < n; p++)
            out[p] = (T) (src[p] + icpt);
        }
      return;
    }
  if (inst->bits_allocated == 16 && inst->high_bit + 1 == inst->bits_stored &&
      !inst->has_padding && slope == 1.0 && inst->pixel_representation == 0)
    {
      const guint16 *src = (const guint16 *) raw;
      guint16 mask = (guint16) ((1u << inst->bits_stored) - 1);
      if (icpt == nearbyint (icpt) && fabs (icpt) < 65536)
        {
          /* Integer arithmetic: this loop vectorises. */
          gint32 ii = (gint32) icpt;
          for (gsize p = 0; p < n; p++)
            out[p] = (T) ((gint32) (src[p] & mask) + ii);
        }
      else
        for (gsize p = 0; p < n; p++)
          out[p] = (T) ((src[p] & mask) + icpt);
      return;
    }
  for (gsize p = 0; p < n; p++)
    {
      gint32 v = stored_value (raw, p, inst);
      out[p] = is_padding (inst, v) ? (T) pad_out : (T) (v * slope + icpt);
    }
}

static inline guint8
clamp8 (double v)
{
  return v <= 0 ? 0 : v >= 255 ? 255 : (guint8) (v + 0.5);
}

static void
convert_color (const guint8 *raw, const RrDicomInstance *inst, const char *model,
               guint planar, guint8 *out, gsize n)
{
  gboolean ybr = g_str_has_prefix (model, "YBR_FULL") && !g_str_equal (model, "YBR_FULL_422");
  gboolean ybr422 = g_str_equal (model, "YBR_FULL_422") || g_str_equal (model, "YBR_PARTIAL_422");
  guint shift = inst->bits_allocated > 8 ? (inst->bits_stored > 8 ? inst->bits_stored - 8 : 0) : 0;

  if (g_str_equal (model, "PALETTE COLOR"))
    {
      for (gsize p = 0; p < n; p++)
        {
          gint32 v = stored_value (raw, p, inst);
          for (int c = 0; c < 3; c++)
            {
              guint entries = inst->palette_desc[c][0] ? inst->palette_desc[c][0] : 65536;
              gint32 first = inst->pixel_representation ? (gint16) inst->palette_desc[c][1]
                                                        : inst->palette_desc[c][1];
              gint32 idx = CLAMP (v - first, 0, (gint32) entries - 1);
              out[p * 3 + c] = (guint8) (inst->palette[c][idx] >> 8);
            }
        }
      return;
    }

  auto sample = [&] (gsize p, int c) -> double {
    gsize s = planar ? (gsize) c * n + p : p * 3 + c;
    if (inst->bits_allocated == 8)
      return raw[s];
    if (inst->bits_allocated == 32)
      return ((const guint32 *) raw)[s] >> shift;
    return ((const guint16 *) raw)[s] >> shift;
  };

  if (ybr422)
    {
      /* Y0 Y1 Cb Cr for every two pixels of a row. */
      guint cols = inst->columns;
      for (gsize p = 0; p < n; p++)
        {
          gsize row = p / cols, col = p % cols;
          gsize pair = (row * cols + (col & ~(gsize) 1)) * 2;
          const guint8 *q = raw + pair;
          double y = q[col & 1], cb = q[2], cr = q[3];
          out[p * 3 + 0] = clamp8 (y + 1.402 * (cr - 128));
          out[p * 3 + 1] = clamp8 (y - 0.344136 * (cb - 128) - 0.714136 * (cr - 128));
          out[p * 3 + 2] = clamp8 (y + 1.772 * (cb - 128));
        }
      return;
    }
  for (gsize p = 0; p < n; p++)
    {
      double a = sample (p, 0), b = sample (p, 1), c = sample (p, 2);
      if (ybr)
        {
          out[p * 3 + 0] = clamp8 (a + 1.402 * (c - 128));
          out[p * 3 + 1] = clamp8 (a - 0.344136 * (b - 128) - 0.714136 * (c - 128));
          out[p * 3 + 2] = clamp8 (a + 1.772 * (b - 128));
        }
      else
        {
          out[p * 3 + 0] = (guint8) a;
          out[p * 3 + 1] = (guint8) b;
          out[p * 3 + 2] = (guint8) c;
        }
    }
}

static gsize
raw_frame_bytes (const RrDicomInstance *inst, gboolean encapsulated)
{
  gsize n = (gsize) inst->rows * inst->columns * (inst->bits_allocated / 8);
  if (inst->samples == 3)
    {
      if (!encapsulated && g_str_has_suffix (inst->photometric, "_422"))
        return n * 2;
      return n * 3;
    }
  return n;
}

/* ---- the worker ---- */

struct Worker
{
  LoadCtx *ctx;
  guint cur = G_MAXUINT;
  DcmFileFormat *ff = NULL;
  DcmFileCache cache;
  Uint32 next_fragment = 0;
  guint last_frame = G_MAXUINT;
  guint8 *buf = NULL;
  gsize buf_size = 0;
  int fd = -1;              /* the native fast path's open file */
  guint fd_instance = G_MAXUINT;

  ~Worker ()
  {
    delete ff;
    g_free (buf);
    if (fd >= 0)
      close (fd);
  }
};

/* The scratch buffer for one frame, grown when a frame needs more. */
static gboolean
ensure_buffer (Worker *w, gsize need, const char *path, GError **error)
{
  if (need + 2 <= w->buf_size)
    return TRUE;
  g_free (w->buf);
  w->buf_size = need + 2;
  w->buf = (guint8 *) g_try_malloc (w->buf_size);
  if (w->buf != NULL)
    return TRUE;
  w->buf_size = 0;
  g_set_error (error, RR_DICOM_ERROR, RR_DICOM_ERROR_TOO_LARGE, "%s: out of memory", path);
  return FALSE;
}

/* The fast path for native little-endian pixels at a known offset: one
 * pread per frame, converted in place when the sizes allow it. */
static gboolean
read_native (Worker *w, guint instance, RrDicomInstance *inst, guint frame, guint k,
             GError **error)
{
  RrVolume *vol = w->ctx->vol;
  gsize n = (gsize) vol->dims[0] * vol->dims[1];
  gsize need = n * (inst->bits_allocated / 8);
  void *dst = rr_volume_slice_data (vol, k);
  gboolean in_place = vol->type == RR_VOXEL_INT16 && inst->bits_allocated == 16;
  guint8 *buf;

  if (!in_place && !ensure_buffer (w, need, inst->path, error))
    return FALSE;
  buf = in_place ? (guint8 *) dst : w->buf;
  /* Frames of one multi-frame file come in a row: keep it open. */
  if (w->fd_instance != instance)
    {
      if (w->fd >= 0)
        close (w->fd);
      w->fd_instance = G_MAXUINT;
      w->fd = g_open (inst->path, O_RDONLY, 0);
      if (w->fd < 0)
        {
          g_set_error (error, RR_DICOM_ERROR, RR_DICOM_ERROR_READ, "%s: %s", inst->path,
                       g_strerror (errno));
          return FALSE;
        }
      w->fd_instance = instance;
    }
  int fd = w->fd;
  gsize got = 0;
  goffset at = inst->pixel_offset + (goffset) need * frame;
  while (got < need)
    {
      ssize_t r = pread (fd, buf + got, need - got, at + got);
      if (r <= 0)
        break;
      got += r;
    }
  if (got < need)
    {
      g_set_error (error, RR_DICOM_ERROR, RR_DICOM_ERROR_READ,
                   "%s: frame %u is cut short (file truncated?)", inst->path, frame + 1);
      return FALSE;
    }
#if G_BYTE_ORDER == G_BIG_ENDIAN
  if (inst->bits_allocated == 16)
    for (gsize p = 0; p < n; p++)
      ((guint16 *) buf)[p] = GUINT16_FROM_LE (((guint16 *) buf)[p]);
  else if (inst->bits_allocated == 32)
    for (gsize p = 0; p < n; p++)
      ((guint32 *) buf)[p] = GUINT32_FROM_LE (((guint32 *) buf)[p]);
#endif
  if (vol->type == RR_VOXEL_INT16)
    convert_mono<gint16> (buf, inst, frame, (gint16 *) dst, n, w->ctx->pad_out);
  else
    convert_mono<float> (buf, inst, frame, (float *) dst, n, w->ctx->pad_out);
  return TRUE;
}

static gboolean
decode_slice (Worker *w, guint k, GError **error)
{
  LoadCtx *ctx = w->ctx;
  RrVolume *vol = ctx->vol;
  guint fi = g_array_index (ctx->stack->order, guint, k);
  gsize n = (gsize) vol->dims[0] * vol->dims[1];

  if (fi == RR_STACK_GAP)
    {
      /* A missing slice: filled with the padding value so that it reads
       * as nothing (air for CT). */
      if (vol->type == RR_VOXEL_INT16)
        {
          gint16 *o = (gint16 *) rr_volume_slice_data (vol, k);
          for (gsize p = 0; p < n; p++)
            o[p] = (gint16) ctx->pad_out;
        }
      else if (vol->type == RR_VOXEL_FLOAT32)
        {
          float *o = (float *) rr_volume_slice_data (vol, k);
          for (gsize p = 0; p < n; p++)
            o[p] = (float) ctx->pad_out;
        }
      return TRUE;
    }

  RrDicomFrameRef ref = g_array_index (ctx->series->frame_refs, RrDicomFrameRef, fi);
  RrDicomInstance *inst = (RrDicomInstance *) ctx->series->instances->pdata[ref.instance];

  if (inst->pixel_offset > 0 && inst->samples == 1 && vol->type != RR_VOXEL_RGB8)
    return read_native (w, ref.instance, inst, ref.frame, k, error);

  if (w->cur != ref.instance)
    {
      delete w->ff;
      w->ff = new DcmFileFormat ();
      w->cur = G_MAXUINT;
      w->next_fragment = 0;
      w->last_frame = G_MAXUINT;
      OFCondition c = w->ff->loadFile (inst->path, EXS_Unknown, EGL_noChange, 4096,
                                       ERM_autoDetect);
      if (c.bad ())
        {
          g_set_error (error, RR_DICOM_ERROR, RR_DICOM_ERROR_READ, "%s: %s", inst->path,
                       c.text ());
          return FALSE;
        }
      w->cur = ref.instance;
    }

  DcmDataset *ds = w->ff->getDataset ();
  DcmXfer xfer (ds->getOriginalXfer ());
  gboolean encapsulated = xfer.isEncapsulated ();
  gsize need = raw_frame_bytes (inst, encapsulated);
  if (!ensure_buffer (w, need, inst->path, error))
    return FALSE;

  OFString model = inst->photometric;
  if (rr_jls_is_syntax (xfer.getXferID ()))
    {
      if (!rr_jls_decode_frame (ds, ref.frame, inst->n_frames, inst->rows, inst->columns,
                                inst->samples, inst->bits_allocated, w->buf, need, error))
        {
          g_prefix_error (error, "%s: ", inst->path);
          return FALSE;
        }
      if (inst->samples == 3)
        {
          convert_color (w->buf, inst, model.c_str (), 0,
                         (guint8 *) rr_volume_slice_data (vol, k), n);
          return TRUE;
        }
    }
  else if (rr_j2k_is_syntax (xfer.getXferID ()))
    {
      if (!rr_j2k_decode_frame (ds, ref.frame, inst->n_frames, inst->rows, inst->columns,
                                inst->samples, inst->bits_allocated, w->ctx->codec_threads,
                                w->buf, need, error))
        {
          g_prefix_error (error, "%s: ", inst->path);
          return FALSE;
        }
      if (g_str_has_prefix (inst->photometric, "YBR_RCT") ||
          g_str_has_prefix (inst->photometric, "YBR_ICT"))
        model = "RGB";
    }
  else
    {
      DcmElement *pix = NULL;
      if (ds->findAndGetElement (DCM_PixelData, pix).bad () || pix == NULL)
        {
          g_set_error (error, RR_DICOM_ERROR, RR_DICOM_ERROR_FORMAT, "%s: no Pixel Data",
                       inst->path);
          return FALSE;
        }
      Uint32 start = (w->last_frame != G_MAXUINT && ref.frame == w->last_frame + 1)
                       ? w->next_fragment : 0;
      OFCondition c;
      if (!encapsulated)
        /* Native data: read exactly this frame's bytes from disk, in host
         * byte order (dcmtk's frame size ignores 4:2:2 subsampling). */
        c = pix->getPartialValue (w->buf, (Uint32) (need * ref.frame), (Uint32) need, &w->cache);
      else
        c = pix->getUncompressedFrame (ds, ref.frame, start, w->buf, (Uint32) w->buf_size, model,
                                       &w->cache);
      if (c.bad ())
        {
          g_set_error (error, RR_DICOM_ERROR,
                       c == EC_CannotChangeRepresentation ? RR_DICOM_ERROR_UNSUPPORTED
                                                          : RR_DICOM_ERROR_READ,
                       "%s: frame %u %s (%s, %s)", inst->path, ref.frame + 1,
                       encapsulated ? "cannot be decoded" : "cannot be read",
                       xfer.getXferName (), c.text ());
          return FALSE;
        }
      w->next_fragment = start;
      w->last_frame = ref.frame;
      if (encapsulated)
        {
          /* dcmtk's JPEG and JPEG-LS decoders hand back pixel-interleaved
           * colour; its RLE decoder keeps the dataset's Planar
           * Configuration. */
          Uint16 pc = 0;
          if (inst->samples == 3)
            {
              ds->findAndGetUint16 (DCM_PlanarConfiguration, pc);
              if (g_str_equal (xfer.getXferID (), RR_TS_RLE))
                pc = pc ? 1 : 0;
              else
                pc = 0;
            }
          if (inst->samples == 3)
            {
              convert_color (w->buf, inst, model.c_str (), pc, (guint8 *) rr_volume_slice_data (vol, k), n);
              return TRUE;
            }
        }
    }

  void *dst = rr_volume_slice_data (vol, k);
  if (vol->type == RR_VOXEL_RGB8)
    {
      if (inst->samples == 1 && !g_str_equal (inst->photometric, "PALETTE COLOR"))
        {
          g_set_error (error, RR_DICOM_ERROR, RR_DICOM_ERROR_FORMAT,
                       "%s: greyscale frame in a colour series", inst->path);
          return FALSE;
        }
      convert_color (w->buf, inst, model.c_str (), inst->planar_configuration, (guint8 *) dst, n);
    }
  else if (vol->type == RR_VOXEL_INT16)
    convert_mono<gint16> (w->buf, inst, ref.frame, (gint16 *) dst, n, ctx->pad_out);
  else
    convert_mono<float> (w->buf, inst, ref.frame, (float *) dst, n, ctx->pad_out);
  return TRUE;
}

static gpointer
load_worker (gpointer data)
{
  LoadCtx *ctx = (LoadCtx *) data;
  Worker w;
  w.ctx = ctx;
  guint total = ctx->stack->order->len;

  try
    {
      for (;;)
        {
          if (g_atomic_int_get (&ctx->failed) || g_cancellable_is_cancelled (ctx->cancellable))
            break;
          guint k = (guint) g_atomic_int_add (&ctx->next, 1);
          if (k >= total)
            break;
          GError *error = NULL;
          if (!decode_slice (&w, k, &error))
            {
              g_mutex_lock (&ctx->lock);
              if (ctx->error == NULL)
                ctx->error = error;
              else
                g_error_free (error);
              g_mutex_unlock (&ctx->lock);
              g_atomic_int_set (&ctx->failed, 1);
              break;
            }
          /* Counted and reported under the lock, so that the calls come in
           * order, one at a time, and the last one says done == total. */
          g_mutex_lock (&ctx->lock);
          guint done = (guint) ++ctx->done;
          if (ctx->options && ctx->options->progress)
            ctx->options->progress (done, total, ctx->options->progress_data);
          g_mutex_unlock (&ctx->lock);
          if (ctx->options && ctx->options->yield)
            ctx->options->yield (ctx->options->yield_data);
        }
    }
  catch (...)
    {
      g_mutex_lock (&ctx->lock);
      if (ctx->error == NULL)
        g_set_error (&ctx->error, RR_DICOM_ERROR, RR_DICOM_ERROR_READ,
                     "unexpected error while decoding");
      g_mutex_unlock (&ctx->lock);
      g_atomic_int_set (&ctx->failed, 1);
    }
  return NULL;
}

static gboolean
is_integer (double v)
{
  return fabs (v - nearbyint (v)) < 1e-9;
}

/* int16 when every value the files can hold maps exactly into int16. */
static RrVoxelType
choose_type (RrDicomSeries *series, const RrStack *stack, double pad_out)
{
  gboolean exact = is_integer (pad_out) && pad_out >= G_MININT16 && pad_out <= G_MAXINT16;

  for (guint k = 0; k < stack->order->len; k++)
    {
      guint fi = g_array_index (stack->order, guint, k);
      if (fi == RR_STACK_GAP)
        continue;
      RrDicomFrameRef ref = g_array_index (series->frame_refs, RrDicomFrameRef, fi);
      const RrDicomInstance *inst = (const RrDicomInstance *) series->instances->pdata[ref.instance];
      if (inst->samples == 3 || g_str_equal (inst->photometric, "PALETTE COLOR"))
        return RR_VOXEL_RGB8;
      double lo, hi;
      if (inst->pixel_representation)
        {
          lo = -ldexp (1.0, inst->bits_stored - 1);
          hi = ldexp (1.0, inst->bits_stored - 1) - 1;
        }
      else
        {
          lo = 0;
          hi = ldexp (1.0, inst->bits_stored) - 1;
        }
      double s = inst->slope[ref.frame], i = inst->intercept[ref.frame];
      double a = lo * s + i, b = hi * s + i;
      if (!is_integer (s) || !is_integer (i) || MIN (a, b) < G_MININT16 || MAX (a, b) > G_MAXINT16)
        exact = FALSE;
    }
  return exact ? RR_VOXEL_INT16 : RR_VOXEL_FLOAT32;
}

static RrVolume *load_stack (RrDicomSeries *series, const RrStack *stack,
                             const RrDicomLoadOptions *options, GCancellable *cancellable,
                             GError **error);

extern "C" RrVolume *
rr_dicom_series_load (RrDicomSeries             *series,
                      guint                      stack_index,
                      const RrDicomLoadOptions  *options,
                      GCancellable              *cancellable,
                      GError                   **error)
{
  rr_dicom_init_codecs ();
  if (series->stacks == NULL || stack_index >= series->stacks->len)
    {
      g_set_error (error, RR_DICOM_ERROR, RR_DICOM_ERROR_NOT_FOUND,
                   "series %s has no image stack %u", series->series_uid, stack_index);
      return NULL;
    }
  return load_stack (series, (const RrStack *) series->stacks->pdata[stack_index], options,
                     cancellable, error);
}

extern "C" RrVolume *
rr_dicom_series_load_slice (RrDicomSeries  *series,
                            guint           stack_index,
                            int             k,
                            GCancellable   *cancellable,
                            GError        **error)
{
  rr_dicom_init_codecs ();
  if (series->stacks == NULL || stack_index >= series->stacks->len)
    {
      g_set_error (error, RR_DICOM_ERROR, RR_DICOM_ERROR_NOT_FOUND,
                   "series %s has no image stack %u", series->series_uid, stack_index);
      return NULL;
    }
  const RrStack *full = (const RrStack *) series->stacks->pdata[stack_index];
  guint n = full->order->len;
  guint pick = k < 0 ? n / 2 : MIN ((guint) k, n - 1);
  /* Step to the nearest slice that exists. */
  for (guint d = 0; d < n; d++)
    {
      if (pick + d < n && g_array_index (full->order, guint, pick + d) != RR_STACK_GAP)
        {
          pick += d;
          break;
        }
      if (pick >= d && g_array_index (full->order, guint, pick - d) != RR_STACK_GAP)
        {
          pick -= d;
          break;
        }
    }
  RrStack one = *full;
  one.order = g_array_new (FALSE, FALSE, sizeof (guint));
  one.positions = g_array_new (FALSE, FALSE, sizeof (RrVec3));
  g_array_append_val (one.order, g_array_index (full->order, guint, pick));
  g_array_append_val (one.positions, g_array_index (full->positions, RrVec3, pick));
  RrDicomLoadOptions opts = { 1, NULL, NULL };
  RrVolume *v = load_stack (series, &one, &opts, cancellable, error);
  g_array_unref (one.order);
  g_array_unref (one.positions);
  return v;
}

static RrVolume *
load_stack (RrDicomSeries             *series,
            const RrStack             *stack,
            const RrDicomLoadOptions  *options,
            GCancellable              *cancellable,
            GError                   **error)
{
  guint first_fi = G_MAXUINT, mid_fi = G_MAXUINT;
  for (guint k = 0; k < stack->order->len; k++)
    {
      guint fi = g_array_index (stack->order, guint, k);
      if (fi == RR_STACK_GAP)
        continue;
      if (first_fi == G_MAXUINT)
        first_fi = fi;
      if (mid_fi == G_MAXUINT || k <= stack->order->len / 2)
        mid_fi = fi;
    }
  if (first_fi == G_MAXUINT)
    {
      g_set_error (error, RR_DICOM_ERROR, RR_DICOM_ERROR_NOT_FOUND, "empty stack");
      return NULL;
    }
  RrDicomFrameRef mref = g_array_index (series->frame_refs, RrDicomFrameRef, mid_fi);
  const RrDicomInstance *mid = (const RrDicomInstance *) series->instances->pdata[mref.instance];

  double pad_out = g_strcmp0 (series->modality, "CT") == 0 ? -1024.0 : 0.0;
  guint dims[3] = { stack->columns, stack->rows, stack->order->len };
  RrVoxelType type = choose_type (series, stack, pad_out);
  g_autoptr (RrVolume) vol = rr_volume_new (dims, type, error);
  if (vol == NULL)
    return NULL;

  vol->spacing[0] = stack->col_spacing;
  vol->spacing[1] = stack->row_spacing;
  vol->calibration = stack->calibration;
  vol->row_dir = stack->row_dir;
  vol->col_dir = stack->col_dir;
  for (guint k = 0; k < stack->order->len; k++)
    {
      guint fi = g_array_index (stack->order, guint, k);
      vol->slice_pos[k] = g_array_index (stack->positions, RrVec3, k);
      if (fi != RR_STACK_GAP)
        {
          RrDicomFrameRef ref = g_array_index (series->frame_refs, RrDicomFrameRef, fi);
          const RrDicomInstance *inst =
            (const RrDicomInstance *) series->instances->pdata[ref.instance];
          vol->slice_sop[k] = g_strdup (inst->sop_uid);
          vol->slice_frame[k] = ref.frame;
        }
    }
  vol->slice_thickness = mid->slice_thickness;
  if (!stack->has_geometry)
    vol->slice_thickness = 0;
  if (!rr_volume_finish_geometry (vol, error))
    return NULL;
  if (!stack->has_geometry && stack->order->len > 1)
    vol->spacing[2] = 1.0;
  vol->modality = g_strdup (series->modality);
  vol->series_uid = g_strdup (series->series_uid);
  vol->description = g_strdup (series->description);
  /* Two series that share it share patient coordinates: the viewer links
   * them point on point rather than centre on centre. */
  if (mid->frame_of_reference && *mid->frame_of_reference)
    vol->frame_of_reference = g_strdup (mid->frame_of_reference);
  vol->has_window = mid->has_window;
  vol->window_center = mid->window_center;
  vol->window_width = mid->window_width;
  vol->invert = g_strcmp0 (mid->photometric, "MONOCHROME1") == 0;
  vol->frame_time_ms = mid->frame_time_ms;
  if (g_strcmp0 (series->modality, "CT") == 0)
    {
      g_free (vol->units);
      vol->units = g_strdup ("HU");
    }
  compute_suv (vol, mid);

  LoadCtx ctx;
  memset (&ctx, 0, sizeof ctx);
  ctx.vol = vol;
  ctx.series = series;
  ctx.stack = stack;
  ctx.pad_out = pad_out;
  ctx.cancellable = cancellable;
  ctx.options = options;
  g_mutex_init (&ctx.lock);
  guint nt = options && options->n_threads ? options->n_threads : rr_dicom_default_threads ();
  guint budget = nt;
  nt = MIN (MIN (nt, 64u), MAX (1u, stack->order->len));
  /* One frame per thread while there are frames enough; the cores that
   * would otherwise idle (one large frame, or fewer frames than cores) go
   * to the codec inside each frame, where it can use them (JPEG 2000). */
  ctx.codec_threads = MAX (1u, budget / nt);
  GThread *threads[64];
  for (guint t = 1; t < nt; t++)
    threads[t] = g_thread_new ("rr-decode", load_worker, &ctx);
  load_worker (&ctx);
  for (guint t = 1; t < nt; t++)
    g_thread_join (threads[t]);
  g_mutex_clear (&ctx.lock);

  if (ctx.error)
    {
      g_propagate_error (error, ctx.error);
      return NULL;
    }
  if (g_cancellable_is_cancelled (cancellable))
    {
      g_set_error (error, RR_DICOM_ERROR, RR_DICOM_ERROR_CANCELLED, "loading was cancelled");
      return NULL;
    }
  /* The window every view opens with: the images' own, else their
   * range; PET in SUV (or by percentile), whatever the files say. */
  if (vol->type != RR_VOXEL_RGB8)
    rr_volume_default_window (vol, &vol->window_center, &vol->window_width);
  return (RrVolume *) g_steal_pointer (&vol);
}

extern "C" RrVolume *
rr_dicom_load_path (const char  *path,
                    GError     **error)
{
  const char *paths[] = { path, NULL };
  g_autoptr (RrDicomScan) scan = rr_dicom_scan (paths, 0, NULL, error);
  if (scan == NULL)
    return NULL;
  for (guint i = 0; i < scan->studies->len; i++)
    {
      RrDicomStudy *st = (RrDicomStudy *) scan->studies->pdata[i];
      for (guint j = 0; j < st->series->len; j++)
        {
          RrDicomSeries *se = (RrDicomSeries *) st->series->pdata[j];
          if (se->is_image)
            return rr_dicom_series_load (se, 0, NULL, NULL, error);
        }
    }
  if (scan->unreadable->len > 0)
    {
      RrDicomUnreadable *u = (RrDicomUnreadable *) scan->unreadable->pdata[0];
      g_set_error (error, RR_DICOM_ERROR, RR_DICOM_ERROR_READ, "%s", u->message);
    }
  else
    g_set_error (error, RR_DICOM_ERROR, RR_DICOM_ERROR_NOT_FOUND, "%s: no images", path);
  return NULL;
}
