/* rr-dicom-jls.cc: JPEG-LS decoding with CharLS 2, straight from the
 * encapsulated fragments into the frame buffer. */
#include "rr-dicom-private.h"
#include "rr-dicom-codec.h"

#include <charls/charls.h>
#include <string.h>

#define OK charls::jpegls_errc::success

gboolean
rr_jls_is_syntax (const char *ts)
{
  return g_strcmp0 (ts, RR_TS_JPEGLS_LOSSLESS) == 0 || g_strcmp0 (ts, RR_TS_JPEGLS_NEAR) == 0;
}

gboolean
rr_jls_decode_frame (DcmDataset  *ds,
                     guint        frame,
                     guint        n_frames,
                     guint        rows,
                     guint        columns,
                     guint        samples,
                     guint        bits_allocated,
                     guint8      *out,
                     gsize        out_bytes,
                     GError     **error)
{
  g_autoptr (GByteArray) bytes = rr_encapsulated_frame (ds, frame, n_frames, 0xD8, error);
  if (bytes == NULL)
    return FALSE;

  charls_jpegls_decoder *dec = charls_jpegls_decoder_create ();
  charls_frame_info fi;
  charls_interleave_mode mode = charls::interleave_mode::none;
  charls_color_transformation ct = charls::color_transformation::none;
  size_t size = 0;
  gboolean ok = FALSE;
  gsize n = (gsize) rows * columns;

  if (dec == NULL)
    {
      g_set_error (error, RR_DICOM_ERROR, RR_DICOM_ERROR_TOO_LARGE, "out of memory");
      return FALSE;
    }
  if (charls_jpegls_decoder_set_source_buffer (dec, bytes->data, bytes->len) != OK ||
      charls_jpegls_decoder_read_header (dec) != OK ||
      charls_jpegls_decoder_get_frame_info (dec, &fi) != OK ||
      charls_jpegls_decoder_get_interleave_mode (dec, &mode) != OK ||
      charls_jpegls_decoder_get_color_transformation (dec, &ct) != OK ||
      charls_jpegls_decoder_get_destination_size (dec, 0, &size) != OK)
    g_set_error (error, RR_DICOM_ERROR, RR_DICOM_ERROR_READ, "JPEG-LS frame %u is corrupt",
                 frame + 1);
  else if (fi.width != columns || fi.height != rows || (guint) fi.component_count != samples)
    g_set_error (error, RR_DICOM_ERROR, RR_DICOM_ERROR_FORMAT,
                 "JPEG-LS frame is %ux%u with %d components; the header says %ux%u x%u",
                 fi.width, fi.height, fi.component_count, columns, rows, samples);
  else if (ct != charls::color_transformation::none)
    g_set_error (error, RR_DICOM_ERROR, RR_DICOM_ERROR_UNSUPPORTED,
                 "JPEG-LS colour transformations (HP) are not DICOM");
  else if (fi.bits_per_sample > (int) bits_allocated || size > out_bytes + 2)
    g_set_error (error, RR_DICOM_ERROR, RR_DICOM_ERROR_FORMAT,
                 "JPEG-LS frame of %d bits does not fit BitsAllocated %u", fi.bits_per_sample,
                 bits_allocated);
  else
    {
      /* CharLS writes 8-bit samples as bytes and deeper ones as words. */
      gsize sample_bytes = fi.bits_per_sample <= 8 ? 1 : 2;
      g_autofree guint8 *tmp = NULL;
      guint8 *dst = out;
      if (sample_bytes != bits_allocated / 8 || (samples == 3 && mode != charls::interleave_mode::sample))
        dst = tmp = (guint8 *) g_malloc (size);
      if (charls_jpegls_decoder_decode_to_buffer (dec, dst, dst == out ? out_bytes : size, 0) != OK)
        g_set_error (error, RR_DICOM_ERROR, RR_DICOM_ERROR_READ, "JPEG-LS frame %u is corrupt",
                     frame + 1);
      else
        {
          ok = TRUE;
          if (tmp != NULL)
            for (gsize p = 0; p < n; p++)
              for (guint c = 0; c < samples; c++)
                {
                  gsize src;
                  if (samples == 1 || mode == charls::interleave_mode::sample)
                    src = p * samples + c;
                  else if (mode == charls::interleave_mode::none)
                    src = c * n + p;
                  else /* line: each row holds the rows of every component */
                    src = (p / columns) * columns * samples + c * columns + p % columns;
                  guint32 v = sample_bytes == 1 ? tmp[src] : ((const guint16 *) tmp)[src];
                  gsize d = p * samples + c;
                  if (bits_allocated == 8)
                    out[d] = (guint8) v;
                  else if (bits_allocated == 16)
                    ((guint16 *) out)[d] = (guint16) v;
                  else
                    ((guint32 *) out)[d] = v;
                }
        }
    }
  charls_jpegls_decoder_destroy (dec);
  return ok;
}

GByteArray *
rr_jls_encode_frame (const guint8 *pixels,
                     guint         rows,
                     guint         columns,
                     guint         samples,
                     guint         bits_allocated,
                     guint         bits_stored,
                     int           near_lossless,
                     GError      **error)
{
  gsize n = (gsize) rows * columns * samples;
  gsize sample_bytes = bits_stored <= 8 ? 1 : 2;
  g_autofree guint8 *src = (guint8 *) g_malloc (n * sample_bytes);
  guint32 mask = bits_stored >= 32 ? 0xffffffffu : (1u << bits_stored) - 1;

  if (bits_allocated > 16)
    {
      g_set_error (error, RR_DICOM_ERROR, RR_DICOM_ERROR_WRITE,
                   "JPEG-LS holds at most 16 bits per sample");
      return NULL;
    }
  /* Signed values travel as their bits_stored-bit patterns. */
  for (gsize p = 0; p < n; p++)
    {
      guint32 v = bits_allocated == 8 ? pixels[p] : ((const guint16 *) pixels)[p];
      v &= mask;
      if (sample_bytes == 1)
        src[p] = (guint8) v;
      else
        ((guint16 *) src)[p] = (guint16) v;
    }

  charls_jpegls_encoder *enc = charls_jpegls_encoder_create ();
  charls_frame_info fi = { columns, rows, (int32_t) bits_stored, (int32_t) samples };
  size_t size = 0, written = 0;
  GByteArray *out = NULL;
  if (enc != NULL &&
      charls_jpegls_encoder_set_frame_info (enc, &fi) == OK &&
      charls_jpegls_encoder_set_near_lossless (enc, near_lossless) == OK &&
      charls_jpegls_encoder_set_interleave_mode (enc, samples == 3 ? charls::interleave_mode::sample
                                                                   : charls::interleave_mode::none) == OK &&
      charls_jpegls_encoder_get_estimated_destination_size (enc, &size) == OK)
    {
      out = g_byte_array_sized_new (size);
      g_byte_array_set_size (out, size);
      if (charls_jpegls_encoder_set_destination_buffer (enc, out->data, size) != OK ||
          charls_jpegls_encoder_encode_from_buffer (enc, src, n * sample_bytes, 0) != OK ||
          charls_jpegls_encoder_get_bytes_written (enc, &written) != OK)
        g_clear_pointer (&out, g_byte_array_unref);
      else
        {
          g_byte_array_set_size (out, written);
          if (out->len % 2)
            g_byte_array_append (out, (const guint8 *) "\0", 1);
        }
    }
  charls_jpegls_encoder_destroy (enc);
  if (out == NULL)
    g_set_error (error, RR_DICOM_ERROR, RR_DICOM_ERROR_WRITE, "JPEG-LS encoding failed");
  return out;
}
