/* rr-dicom-codec.h: C++-only helpers shared inside the dcmtk bridge:
 * JPEG 2000 through OpenJPEG (dcmtk 3.6.7 has no J2K codec) and JPEG-LS
 * through CharLS 2 (several times faster than dcmtk's bundled CharLS 1). */
#pragma once

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dctk.h>
#include <glib.h>

/* The bytes of one frame of encapsulated pixel data; frames that span
 * several fragments start with FF @marker. */
GByteArray *rr_encapsulated_frame (DcmDataset *ds,
                                   guint       frame,
                                   guint       n_frames,
                                   guint8      marker,
                                   GError    **error);

gboolean rr_jls_is_syntax       (const char *ts_uid);
/* Decodes a JPEG-LS frame into @out (pixel-interleaved samples of
 * @bits_allocated bits). */
gboolean rr_jls_decode_frame    (DcmDataset  *ds,
                                 guint        frame,
                                 guint        n_frames,
                                 guint        rows,
                                 guint        columns,
                                 guint        samples,
                                 guint        bits_allocated,
                                 guint8      *out,
                                 gsize        out_bytes,
                                 GError     **error);

GByteArray *rr_jls_encode_frame (const guint8 *pixels,
                                 guint         rows,
                                 guint         columns,
                                 guint         samples,
                                 guint         bits_allocated,
                                 guint         bits_stored,
                                 int           near_lossless,
                                 GError      **error);

gboolean rr_j2k_is_syntax       (const char *ts_uid);
/* Decodes frame @frame of an encapsulated J2K pixel data element into
 * @out as samples of @bits_allocated bits (pixel-interleaved), with up to
 * @threads threads inside the frame (code-blocks decode in parallel). */
gboolean rr_j2k_decode_frame    (DcmDataset  *ds,
                                 guint        frame,
                                 guint        n_frames,
                                 guint        rows,
                                 guint        columns,
                                 guint        samples,
                                 guint        bits_allocated,
                                 guint        threads,
                                 guint8      *out,
                                 gsize        out_bytes,
                                 GError     **error);
/* Encodes one frame (native-endian samples) to a J2K codestream. */
GByteArray *rr_j2k_encode_frame (const guint8 *pixels,
                                 guint         rows,
                                 guint         columns,
                                 guint         samples,
                                 guint         bits_allocated,
                                 guint         bits_stored,
                                 gboolean      is_signed,
                                 gboolean      lossless,
                                 GError      **error);
