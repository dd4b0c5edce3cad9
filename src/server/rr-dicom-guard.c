/* rr-dicom-guard.c: the nesting of a DICOM file's sequences, found without
 * recursion and without reading any value (rr-dicom-guard.h says why). */
#include "rr-dicom-guard.h"

#include <gio/gio.h>
#include <string.h>

#define UNDEFINED 0xffffffffu
#define ITEM 0xe000
#define ITEM_END 0xe00d
#define SEQUENCE_END 0xe0dd

typedef enum
{
  FRAME_SEQUENCE,    /* items follow, each a data set */
  FRAME_ITEM,        /* elements follow */
  FRAME_FRAGMENTS,   /* encapsulated pixel data: items of raw bytes */
} FrameKind;

typedef struct
{
  FrameKind kind;
  gboolean implicit;
  gsize end;         /* where a defined length ends; G_MAXSIZE: undefined */
  guint count;       /* elements of an item, items of a sequence so far */
} Frame;

typedef struct
{
  const guint8 *data;
  gsize len;
  gboolean big_endian;
} Bytes;

static guint16
u16 (const Bytes *b,
     gsize        at)
{
  return b->big_endian ? (guint16) (b->data[at] << 8 | b->data[at + 1])
                       : (guint16) (b->data[at] | b->data[at + 1] << 8);
}

static guint32
u32 (const Bytes *b,
     gsize        at)
{
  if (b->big_endian)
    return (guint32) b->data[at] << 24 | (guint32) b->data[at + 1] << 16 |
           (guint32) b->data[at + 2] << 8 | b->data[at + 3];
  return (guint32) b->data[at] | (guint32) b->data[at + 1] << 8 |
         (guint32) b->data[at + 2] << 16 | (guint32) b->data[at + 3] << 24;
}

static gboolean
vr_in (const guint8      *vr,
       const char *const *vrs)
{
  for (guint i = 0; vrs[i]; i++)
    if (vr[0] == (guint8) vrs[i][0] && vr[1] == (guint8) vrs[i][1])
      return TRUE;
  return FALSE;
}

/* Explicit VRs whose header has a 2-byte length (PS3.5 7.1.2). Any other
 * pair of capitals has a 4-byte length: dcmtk reads a VR it does not know
 * as a possibly new one with a 4-byte length (DcmVR::setVR, EVR_UNKNOWN),
 * and a guard that read 2 bytes there would walk other bytes than dcmtk
 * parses, letting through the very nesting it is for. */
static gboolean
long_vr (const guint8 *vr)
{
  static const char *const short_vrs[] = { "AE", "AS", "AT", "CS", "DA", "DS", "DT", "FD", "FL",
                                           "IS", "LO", "LT", "PN", "SH", "SL", "SS", "ST", "TM",
                                           "UI", "UL", "US", NULL };
  return !vr_in (vr, short_vrs);
}

/* The VRs of PS3.5 with a 4-byte length, which dcmtk 3.6.7 knows. */
static gboolean
known_long_vr (const guint8 *vr)
{
  static const char *const vrs[] = { "OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN",
                                     "UR", "UT", "UV", NULL };
  return vr_in (vr, vrs);
}

/* UN, or a VR dcmtk does not know (which it reads much as UN). */
static gboolean
un_like (const guint8 *vr)
{
  return (vr[0] == 'U' && vr[1] == 'N') || (long_vr (vr) && !known_long_vr (vr));
}

static gboolean
is_vr (const guint8 *vr)
{
  return g_ascii_isupper (vr[0]) && g_ascii_isupper (vr[1]);
}

static gboolean
all_zero (const guint8 *data,
          gsize         len)
{
  for (gsize i = 0; i < len; i++)
    if (data[i] != 0)
      return FALSE;
  return TRUE;
}

/* Where the innermost frame of a defined length ends: nothing inside may
 * pass it. */
static gsize
bound (GArray *stack)
{
  for (guint i = stack->len; i > 0; i--)
    if (g_array_index (stack, Frame, i - 1).end != G_MAXSIZE)
      return g_array_index (stack, Frame, i - 1).end;
  return G_MAXSIZE;   /* not reached: the root ends with the bytes */
}

/* Walks a data set from @pos to the end of @b. */
static RrDicomGuard
walk (const Bytes *b,
      gsize        pos,
      gboolean     implicit,
      guint        max_depth)
{
  g_autoptr (GArray) stack = g_array_new (FALSE, FALSE, sizeof (Frame));
  Frame root = { FRAME_ITEM, implicit, b->len, 0 };
  guint depth = 0;

  g_array_append_val (stack, root);
  for (;;)
    {
      Frame *top = &g_array_index (stack, Frame, stack->len - 1);
      guint16 group, element;
      guint32 length;
      gsize limit;

      /* Close what ends here (defined lengths). */
      if (stack->len > 1 && top->end != G_MAXSIZE && pos >= top->end)
        {
          if (pos > top->end)
            return RR_DICOM_GUARD_MALFORMED;
          if (top->kind == FRAME_SEQUENCE)
            depth--;
          g_array_set_size (stack, stack->len - 1);
          continue;
        }
      if (pos == b->len)
        return RR_DICOM_GUARD_OK;   /* what is left open ends with the file, as dcmtk reads it */
      /* Zeros padding the file after its last element: nothing dcmtk
       * would read as a sequence. */
      if (stack->len == 1 && all_zero (b->data + pos, b->len - pos))
        return RR_DICOM_GUARD_OK;
      limit = bound (stack);
      if (limit - pos < 8)
        return RR_DICOM_GUARD_MALFORMED;
      group = u16 (b, pos);
      element = u16 (b, pos + 2);

      if (top->kind != FRAME_ITEM)
        {
          /* In a sequence or pixel data: items, then perhaps its end. */
          length = u32 (b, pos + 4);
          pos += 8;
          if (group != 0xfffe)
            return RR_DICOM_GUARD_MALFORMED;
          if (element == SEQUENCE_END)
            {
              if (top->end != G_MAXSIZE)
                return RR_DICOM_GUARD_MALFORMED;
              if (top->kind == FRAME_SEQUENCE)
                depth--;
              g_array_set_size (stack, stack->len - 1);
            }
          else if (element != ITEM)
            return RR_DICOM_GUARD_MALFORMED;
          else if (top->kind == FRAME_FRAGMENTS)
            {
              /* A fragment: raw bytes, skipped. */
              if (length == UNDEFINED || length > limit - pos)
                return RR_DICOM_GUARD_MALFORMED;
              pos += length;
            }
          else
            {
              Frame item = { FRAME_ITEM, top->implicit, G_MAXSIZE, 0 };
              if (++top->count > RR_DICOM_MAX_ITEMS)
                return RR_DICOM_GUARD_TOO_MANY;
              if (length != UNDEFINED)
                {
                  if (length > limit - pos)
                    return RR_DICOM_GUARD_MALFORMED;
                  item.end = pos + length;
                }
              g_array_append_val (stack, item);
            }
          continue;
        }

      /* In a data set: elements, or the item's end. */
      if (group == 0xfffe)
        {
          if (element != ITEM_END || stack->len == 1 || top->end != G_MAXSIZE)
            return RR_DICOM_GUARD_MALFORMED;
          pos += 8;
          g_array_set_size (stack, stack->len - 1);
          continue;
        }
      if (++top->count > RR_DICOM_MAX_ELEMENTS)
        return RR_DICOM_GUARD_TOO_MANY;
      {
        const guint8 *vr = NULL;
        gboolean sequence = FALSE, fragments = FALSE, inner_implicit = top->implicit;

        if (top->implicit)
          {
            length = u32 (b, pos + 4);
            pos += 8;
          }
        else
          {
            vr = b->data + pos + 4;
            if (!is_vr (vr))
              return RR_DICOM_GUARD_MALFORMED;
            if (long_vr (vr))
              {
                if (limit - pos < 12)
                  return RR_DICOM_GUARD_MALFORMED;
                length = u32 (b, pos + 8);
                pos += 12;
              }
            else
              {
                length = u16 (b, pos + 6);
                pos += 8;
              }
          }
        /* What dcmtk does with these is not the guard's to guess: a VR
         * it does not know with an undefined length, and UN in the
         * retired big endian syntax (dcmtk reads UN's items in implicit
         * VR little endian whatever the file's byte order). */
        if (vr && !(vr[0] == 'U' && vr[1] == 'N') && un_like (vr) && length == UNDEFINED)
          return RR_DICOM_GUARD_MALFORMED;
        if (vr && b->big_endian && vr[0] == 'U' && vr[1] == 'N')
          return RR_DICOM_GUARD_MALFORMED;
        if (length == UNDEFINED)
          {
            /* Pixel data's fragments; anything else dcmtk reads as a
             * sequence (UN in implicit VR, PS3.5 6.2.2). */
            if ((group == 0x7fe0 && element == 0x0010) ||
                (vr && ((vr[0] == 'O' && (vr[1] == 'B' || vr[1] == 'W')))))
              fragments = TRUE;
            else
              {
                sequence = TRUE;
                if (vr && vr[0] == 'U' && vr[1] == 'N')
                  inner_implicit = TRUE;
              }
          }
        else
          {
            if (length > limit - pos)
              return RR_DICOM_GUARD_MALFORMED;
            if (vr && vr[0] == 'S' && vr[1] == 'Q')
              sequence = TRUE;
            /* Implicit VR (or UN, or a VR dcmtk does not know, which it may
             * read as its dictionary says): a value that starts with an
             * item may be a sequence. */
            else if ((vr == NULL || un_like (vr)) && length >= 8 &&
                     u16 (b, pos) == 0xfffe && u16 (b, pos + 2) == ITEM)
              {
                sequence = TRUE;
                inner_implicit = TRUE;
              }
            if (!sequence)
              {
                pos += length;
                continue;
              }
          }
        {
          Frame f = { fragments ? FRAME_FRAGMENTS : FRAME_SEQUENCE, inner_implicit,
                      length == UNDEFINED ? G_MAXSIZE : pos + length, 0 };
          if (sequence && ++depth > max_depth)
            return RR_DICOM_GUARD_TOO_DEEP;
          g_array_append_val (stack, f);
        }
      }
    }
}

/* The raw deflate stream of @len bytes at @data, inflated: NULL (and
 * *too_large) beyond @max bytes, NULL when it is not deflate. */
static GBytes *
inflate_bounded (const guint8 *data,
                 gsize         len,
                 gsize         max,
                 gboolean     *too_large)
{
  g_autoptr (GZlibDecompressor) z = g_zlib_decompressor_new (G_ZLIB_COMPRESSOR_FORMAT_RAW);
  g_autoptr (GByteArray) out = g_byte_array_new ();
  guint8 chunk[65536];
  gsize in_pos = 0;

  *too_large = FALSE;
  for (;;)
    {
      gsize read = 0, written = 0;
      GConverterResult r = g_converter_convert (G_CONVERTER (z), data + in_pos, len - in_pos,
                                                chunk, sizeof chunk, G_CONVERTER_INPUT_AT_END,
                                                &read, &written, NULL);
      if (r == G_CONVERTER_ERROR)
        return NULL;
      in_pos += read;
      if (written > max - out->len)
        {
          *too_large = TRUE;
          return NULL;
        }
      g_byte_array_append (out, chunk, (guint) written);
      if (r == G_CONVERTER_FINISHED)
        break;
      if (read == 0 && written == 0)
        return NULL;
    }
  return g_byte_array_free_to_bytes (g_steal_pointer (&out));
}

/* The transfer syntaxes dcmtk 3.6.7 reads, the guard with it: implicit and
 * explicit VR little endian, big endian, deflated, RLE, and the JPEG,
 * JPEG-LS, JPEG 2000, JPIP, MPEG and HEVC families (1.2.840.10008.1.2.4.50
 * to .108; not High-Throughput JPEG 2000, .201 on, which it does not know). */
static gboolean
known_syntax (const char *uid)
{
  static const char *const plain[] = { "1.2.840.10008.1.2", "1.2.840.10008.1.2.1",
                                       "1.2.840.10008.1.2.2", "1.2.840.10008.1.2.1.99",
                                       "1.2.840.10008.1.2.5", NULL };
  const char *family = "1.2.840.10008.1.2.4.";
  char *end = NULL;
  guint64 n;

  if (g_strv_contains (plain, uid))
    return TRUE;
  if (!g_str_has_prefix (uid, family) || !g_ascii_isdigit (uid[strlen (family)]))
    return FALSE;
  n = g_ascii_strtoull (uid + strlen (family), &end, 10);
  return *end == '\0' && n >= 50 && n <= 108;
}

RrDicomGuard
rr_dicom_guard (const guint8 *data,
                gsize         len,
                guint         max_depth,
                gsize         max_inflated)
{
  Bytes b = { data, len, FALSE };
  gsize pos = 0;
  char syntax[65] = "";

  if (len >= 132 && memcmp (data + 128, "DICM", 4) == 0)
    {
      /* The meta group: explicit VR Little Endian, no sequences. */
      pos = 132;
      while (len - pos >= 8 && u16 (&b, pos) == 0x0002)
        {
          guint16 element = u16 (&b, pos + 2);
          const guint8 *vr = data + pos + 4;
          guint32 length;
          if (!is_vr (vr))
            return RR_DICOM_GUARD_MALFORMED;
          if (long_vr (vr))
            {
              if (len - pos < 12)
                return RR_DICOM_GUARD_MALFORMED;
              length = u32 (&b, pos + 8);
              pos += 12;
            }
          else
            {
              length = u16 (&b, pos + 6);
              pos += 8;
            }
          if (length > len - pos)
            return RR_DICOM_GUARD_MALFORMED;
          if (element == 0x0010 && length < sizeof syntax)
            {
              memcpy (syntax, data + pos, length);
              syntax[length] = '\0';
              g_strchomp (syntax);   /* padded with a space (or a NUL, which ends it) */
            }
          pos += length;
        }
    }
  /* A bare data set, or a file that does not say its transfer syntax:
   * dcmtk guesses the byte order and the VR encoding from the first bytes
   * (DcmItem::checkTransferSyntax), and a guess of the guard's own could
   * differ from dcmtk's. The contract's body is a DICOM file. */
  if (!known_syntax (syntax))
    return RR_DICOM_GUARD_UNSUPPORTED;

  if (g_str_equal (syntax, "1.2.840.10008.1.2"))
    return walk (&b, pos, TRUE, max_depth);
  if (g_str_equal (syntax, "1.2.840.10008.1.2.2"))
    {
      b.big_endian = TRUE;
      return walk (&b, pos, FALSE, max_depth);
    }
  if (g_str_equal (syntax, "1.2.840.10008.1.2.1.99"))
    {
      gboolean too_large;
      g_autoptr (GBytes) plain = inflate_bounded (data + pos, len - pos, max_inflated,
                                                  &too_large);
      Bytes inflated;
      if (plain == NULL)
        return too_large ? RR_DICOM_GUARD_TOO_LARGE : RR_DICOM_GUARD_MALFORMED;
      inflated.data = g_bytes_get_data (plain, &inflated.len);
      inflated.big_endian = FALSE;
      return walk (&inflated, 0, FALSE, max_depth);
    }
  return walk (&b, pos, FALSE, max_depth);
}
