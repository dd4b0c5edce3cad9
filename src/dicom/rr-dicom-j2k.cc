/* rr-dicom-j2k.cc: JPEG 2000 decoding and encoding with OpenJPEG for
 * encapsulated pixel data, fragments mapped to frames as PS3.5 A.4 says. */
#include "rr-dicom-private.h"
#include "rr-dicom-codec.h"

#include <dcmtk/dcmdata/dcpxitem.h>

#include <openjpeg.h>
#include <string.h>

gboolean
rr_j2k_is_syntax (const char *ts)
{
  return g_strcmp0 (ts, RR_TS_J2K_LOSSLESS) == 0 || g_strcmp0 (ts, RR_TS_J2K) == 0 ||
         g_strcmp0 (ts, "1.2.840.10008.1.2.4.201") == 0 ||
         g_strcmp0 (ts, "1.2.840.10008.1.2.4.202") == 0 ||
         g_strcmp0 (ts, "1.2.840.10008.1.2.4.203") == 0;
}

struct MemStream
{
  const guint8 *data;
  gsize len;
  gsize pos;
  GByteArray *out;
};

static OPJ_SIZE_T
mem_read (void *buf, OPJ_SIZE_T n, void *user)
{
  MemStream *m = (MemStream *) user;
  if (m->pos >= m->len)
    return (OPJ_SIZE_T) -1;
  OPJ_SIZE_T k = MIN (n, m->len - m->pos);
  memcpy (buf, m->data + m->pos, k);
  m->pos += k;
  return k;
}

static OPJ_OFF_T
mem_skip (OPJ_OFF_T n, void *user)
{
  MemStream *m = (MemStream *) user;
  gsize len = m->out ? m->out->len : m->len;
  if (n < 0 && (gsize) -n > m->pos)
    return -1;
  if (n > 0 && m->out == NULL && m->pos + n > len)
    n = len - m->pos;
  m->pos += n;
  return n;
}

static OPJ_BOOL
mem_seek (OPJ_OFF_T n, void *user)
{
  MemStream *m = (MemStream *) user;
  gsize len = m->out ? m->out->len : m->len;
  if (n < 0 || (gsize) n > len)
    return OPJ_FALSE;
  m->pos = n;
  return OPJ_TRUE;
}

static OPJ_SIZE_T
mem_write (void *buf, OPJ_SIZE_T n, void *user)
{
  MemStream *m = (MemStream *) user;
  if (m->pos + n > m->out->len)
    g_byte_array_set_size (m->out, m->pos + n);
  memcpy (m->out->data + m->pos, buf, n);
  m->pos += n;
  return n;
}

static void
quiet (const char *msg, void *data)
{
}

/* Collects the bytes of frame @frame from the fragments of @seq: one
 * fragment per frame, or frames that start at a fragment beginning with
 * the codec's start marker (FF @marker). */
static GByteArray *
frame_bytes (DcmPixelSequence *seq, guint frame, guint n_frames, guint8 marker, GError **error)
{
  unsigned long n_items = seq->card ();
  GByteArray *out = g_byte_array_new ();
  DcmPixelItem *item = NULL;

  if (n_items < 2)
    {
      g_set_error (error, RR_DICOM_ERROR, RR_DICOM_ERROR_FORMAT, "no compressed fragments");
      g_byte_array_unref (out);
      return NULL;
    }
  unsigned long n_frag = n_items - 1;
  unsigned long first = 1, last = n_items - 1; /* inclusive item range */

  if (n_frames > 1)
    {
      if (n_frag == n_frames)
        first = last = frame + 1;
      else
        {
          /* Frames start at fragments that begin with the SOC marker. */
          guint seen = 0;
          first = 0;
          for (unsigned long i = 1; i < n_items; i++)
            {
              Uint8 *d = NULL;
              if (seq->getItem (item, i).bad () || item->getUint8Array (d).bad ())
                continue;
              gboolean soc = item->getLength () >= 2 && d[0] == 0xFF && d[1] == marker;
              if (soc)
                {
                  if (seen == frame)
                    first = i;
                  else if (seen == frame + 1)
                    {
                      last = i - 1;
                      break;
                    }
                  seen++;
                }
            }
          if (first == 0)
            {
              g_set_error (error, RR_DICOM_ERROR, RR_DICOM_ERROR_FORMAT,
                           "frame %u not found among %lu fragments", frame + 1, n_frag);
              g_byte_array_unref (out);
              return NULL;
            }
        }
    }
  for (unsigned long i = first; i <= last; i++)
    {
      Uint8 *d = NULL;
      if (seq->getItem (item, i).bad ())
        continue;
      if (item->getLength () == 0)
        continue;
      if (item->getUint8Array (d).bad () || d == NULL)
        {
          g_set_error (error, RR_DICOM_ERROR, RR_DICOM_ERROR_READ,
                       "JPEG 2000 fragment %lu cannot be read", i);
          g_byte_array_unref (out);
          return NULL;
        }
      g_byte_array_append (out, d, item->getLength ());
    }
  return out;
}

GByteArray *
rr_encapsulated_frame (DcmDataset *ds,
                       guint       frame,
                       guint       n_frames,
                       guint8      marker,
                       GError    **error)
{
  DcmElement *elem = NULL;
  DcmPixelSequence *seq = NULL;
  if (ds->findAndGetElement (DCM_PixelData, elem).bad () || elem == NULL)
    {
      g_set_error (error, RR_DICOM_ERROR, RR_DICOM_ERROR_FORMAT, "no Pixel Data");
      return NULL;
    }
  DcmPixelData *pd = OFstatic_cast (DcmPixelData *, elem);
  if (pd->getEncapsulatedRepresentation (ds->getOriginalXfer (), NULL, seq).bad () || !seq)
    {
      g_set_error (error, RR_DICOM_ERROR, RR_DICOM_ERROR_FORMAT,
                   "compressed pixel data is not encapsulated");
      return NULL;
    }
  return frame_bytes (seq, frame, n_frames, marker, error);
}

gboolean
rr_j2k_decode_frame (DcmDataset  *ds,
                     guint        frame,
                     guint        n_frames,
                     guint        rows,
                     guint        columns,
                     guint        samples,
                     guint        bits_allocated,
                     guint        threads,
                     guint8      *out,
                     gsize        out_bytes,
                     GError     **error)
{
  g_autoptr (GByteArray) bytes = rr_encapsulated_frame (ds, frame, n_frames, 0x4F, error);
  if (bytes == NULL)
    return FALSE;

  gboolean jp2 = bytes->len >= 12 && memcmp (bytes->data + 4, "jP  ", 4) == 0;
  opj_codec_t *codec = opj_create_decompress (jp2 ? OPJ_CODEC_JP2 : OPJ_CODEC_J2K);
  opj_dparameters_t params;
  opj_set_default_decoder_parameters (&params);
  opj_set_info_handler (codec, quiet, NULL);
  opj_set_warning_handler (codec, quiet, NULL);
  opj_set_error_handler (codec, quiet, NULL);
  opj_image_t *image = NULL;
  MemStream ms = { bytes->data, bytes->len, 0, NULL };
  opj_stream_t *stream = opj_stream_create (64 * 1024, OPJ_TRUE);
  opj_stream_set_user_data (stream, &ms, NULL);
  opj_stream_set_user_data_length (stream, bytes->len);
  opj_stream_set_read_function (stream, mem_read);
  opj_stream_set_skip_function (stream, mem_skip);
  opj_stream_set_seek_function (stream, mem_seek);

  gboolean ok = opj_setup_decoder (codec, &params);
  /* OpenJPEG's own pool decodes code-blocks in parallel (set between
   * setup and header, as it requires); a frame too small to have many
   * would only pay for starting the threads. A library built without
   * threads refuses, and decodes on this thread alone. */
  if (ok && threads > 1 && (gsize) rows * columns >= 256 * 256)
    opj_codec_set_threads (codec, (int) MIN (threads, 64u));
  ok = ok && opj_read_header (stream, codec, &image) &&
       opj_decode (codec, stream, image) && opj_end_decompress (codec, stream);
  if (!ok)
    g_set_error (error, RR_DICOM_ERROR, RR_DICOM_ERROR_READ, "JPEG 2000 frame %u is corrupt",
                 frame + 1);
  else if (image->numcomps < samples ||
           image->comps[0].w != columns || image->comps[0].h != rows)
    {
      g_set_error (error, RR_DICOM_ERROR, RR_DICOM_ERROR_FORMAT,
                   "JPEG 2000 frame is %ux%u with %u components; the header says %ux%u x%u",
                   image->comps[0].w, image->comps[0].h, image->numcomps, columns, rows,
                   samples);
      ok = FALSE;
    }
  else
    {
      gsize n = (gsize) rows * columns;
      if (n * samples * (bits_allocated / 8) > out_bytes)
        {
          g_set_error (error, RR_DICOM_ERROR, RR_DICOM_ERROR_FORMAT,
                       "JPEG 2000 frame larger than its buffer");
          ok = FALSE;
        }
      for (guint c = 0; ok && c < samples; c++)
        {
          const OPJ_INT32 *src = image->comps[c].data;
          if (image->comps[c].w != columns || image->comps[c].h != rows)
            {
              g_set_error (error, RR_DICOM_ERROR, RR_DICOM_ERROR_UNSUPPORTED,
                           "subsampled JPEG 2000 components are not supported");
              ok = FALSE;
              break;
            }
          if (bits_allocated == 8)
            for (gsize p = 0; p < n; p++)
              out[p * samples + c] = (guint8) src[p];
          else if (bits_allocated == 16)
            {
              guint16 *o = (guint16 *) out;
              for (gsize p = 0; p < n; p++)
                o[p * samples + c] = (guint16) src[p];
            }
          else
            {
              guint32 *o = (guint32 *) out;
              for (gsize p = 0; p < n; p++)
                o[p * samples + c] = (guint32) src[p];
            }
        }
    }
  if (image)
    opj_image_destroy (image);
  opj_stream_destroy (stream);
  opj_destroy_codec (codec);
  return ok;
}

GByteArray *
rr_j2k_encode_frame (const guint8 *pixels,
                     guint         rows,
                     guint         columns,
                     guint         samples,
                     guint         bits_allocated,
                     guint         bits_stored,
                     gboolean      is_signed,
                     gboolean      lossless,
                     GError      **error)
{
  opj_cparameters_t params;
  opj_image_cmptparm_t cp[3];
  opj_set_default_encoder_parameters (&params);
  params.tcp_numlayers = 1;
  params.tcp_rates[0] = lossless ? 0 : 10;
  params.cp_disto_alloc = 1;
  params.irreversible = lossless ? 0 : 1;
  params.tcp_mct = samples == 3 ? 1 : 0;
  memset (cp, 0, sizeof cp);
  for (guint c = 0; c < samples; c++)
    {
      cp[c].dx = cp[c].dy = 1;
      cp[c].w = columns;
      cp[c].h = rows;
      cp[c].prec = bits_stored;
      cp[c].sgnd = is_signed;
    }
  opj_image_t *image = opj_image_create (samples, cp,
                                         samples == 3 ? OPJ_CLRSPC_SRGB : OPJ_CLRSPC_GRAY);
  if (image == NULL)
    {
      g_set_error (error, RR_DICOM_ERROR, RR_DICOM_ERROR_WRITE, "cannot create J2K image");
      return NULL;
    }
  image->x1 = columns;
  image->y1 = rows;
  gsize n = (gsize) rows * columns;
  for (guint c = 0; c < samples; c++)
    for (gsize p = 0; p < n; p++)
      {
        gsize s = p * samples + c;
        OPJ_INT32 v;
        if (bits_allocated == 8)
          v = is_signed ? (gint8) pixels[s] : pixels[s];
        else
          v = is_signed ? ((const gint16 *) pixels)[s] : ((const guint16 *) pixels)[s];
        image->comps[c].data[p] = v;
      }
  opj_codec_t *codec = opj_create_compress (OPJ_CODEC_J2K);
  opj_set_info_handler (codec, quiet, NULL);
  opj_set_warning_handler (codec, quiet, NULL);
  opj_set_error_handler (codec, quiet, NULL);
  GByteArray *out = g_byte_array_new ();
  MemStream ms = { NULL, 0, 0, out };
  opj_stream_t *stream = opj_stream_create (64 * 1024, OPJ_FALSE);
  opj_stream_set_user_data (stream, &ms, NULL);
  opj_stream_set_write_function (stream, mem_write);
  opj_stream_set_skip_function (stream, mem_skip);
  opj_stream_set_seek_function (stream, mem_seek);
  gboolean ok = opj_setup_encoder (codec, &params, image) &&
                opj_start_compress (codec, image, stream) &&
                opj_encode (codec, stream) && opj_end_compress (codec, stream);
  opj_stream_destroy (stream);
  opj_destroy_codec (codec);
  opj_image_destroy (image);
  if (!ok)
    {
      g_byte_array_unref (out);
      g_set_error (error, RR_DICOM_ERROR, RR_DICOM_ERROR_WRITE, "JPEG 2000 encoding failed");
      return NULL;
    }
  if (out->len % 2)
    g_byte_array_append (out, (const guint8 *) "\0", 1);
  return out;
}
