/* rr-dicom-header-raw.c: the QC header facts of the usual file (explicit
 * VR little endian, header within its first 16 KiB, no functional groups)
 * read straight from those bytes. dcmtk builds an object per attribute,
 * looks each up in its dictionary under a lock and frees them all again:
 * for QC, which reads a few dozen values and counts the rest, that was
 * the whole cost of the header pass. Anything this reader does not know
 * to the byte is declined, and rr-dicom-header.cc reads it with dcmtk. */
#include "rr-dicom-private.h"

#include <glib/gstdio.h>
#include <fcntl.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Under AddressSanitizer (the fuzz target), the part of the buffer a
 * read did not fill is poisoned, so reading past what the file gave is
 * caught even though the buffer is larger. */
#if defined(__has_feature)
# if __has_feature(address_sanitizer)
#  define RR_ASAN 1
# endif
#endif
#if defined(__SANITIZE_ADDRESS__)
# define RR_ASAN 1
#endif
#ifdef RR_ASAN
# include <sanitizer/asan_interface.h>
# define POISON(p, n)   ASAN_POISON_MEMORY_REGION (p, n)
# define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION (p, n)
#else
# define POISON(p, n)   ((void) (p), (void) (n))
# define UNPOISON(p, n) ((void) (p), (void) (n))
#endif

#define FIRST_BYTES       4096
#define HEAD_BYTES        (16 * 1024)  /* as RR_DICOM_HEAD_BYTES */
#define MAX_STRING_BYTES  1024         /* as rr-dicom-header.cc */
#define MAX_DEPTH         16
#define MAX_ELEMENTS      200000
#define MAX_IDENTIFYING   256
#define UNDEFINED         0xffffffffu

typedef struct
{
  const guint8 *v;
  guint32 len;
  char vr[3];
  gboolean present;
} Value;

typedef struct
{
  RrQcInstance *inst;
  const guint8 *buf;
  goffset file_size;
  guint elements;
  Value charset, sop_uid, study_date, modality, description, patient_name, patient_id;
  Value identity_removed, contrast_agent, body_part, thickness, spacing, study_uid;
  Value series_uid, series_number, instance_number, ipp, iop, n_frames, rows, columns, ps;
  Value burned_in;
} Reader;

static guint16
le16 (const guint8 *p)
{
  return (guint16) (p[0] | p[1] << 8);
}

static guint32
le32 (const guint8 *p)
{
  return (guint32) p[0] | (guint32) p[1] << 8 | (guint32) p[2] << 16 | (guint32) p[3] << 24;
}

/* The VRs of PS3.5 table 6.2-1; any other two letters are declined. */
static gboolean
vr_known (const char *vr, gboolean *long_length)
{
  static const char *const shorts[] = {
    "AE", "AS", "AT", "CS", "DA", "DS", "DT", "FD", "FL", "IS", "LO", "LT", "PN", "SH", "SL",
    "SS", "ST", "TM", "UI", "UL", "US",
  };
  static const char *const longs[] = {
    "OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV",
  };
  for (guint i = 0; i < G_N_ELEMENTS (shorts); i++)
    if (memcmp (vr, shorts[i], 2) == 0)
      {
        *long_length = FALSE;
        return TRUE;
      }
  for (guint i = 0; i < G_N_ELEMENTS (longs); i++)
    if (memcmp (vr, longs[i], 2) == 0)
      {
        *long_length = TRUE;
        return TRUE;
      }
  return FALSE;
}

static gboolean
vr_is_string (const char *vr)
{
  static const char *const strings[] = {
    "AE", "AS", "CS", "DA", "DS", "DT", "IS", "LO", "LT", "PN", "SH", "ST", "TM", "UC", "UI",
    "UR", "UT",
  };
  for (guint i = 0; i < G_N_ELEMENTS (strings); i++)
    if (memcmp (vr, strings[i], 2) == 0)
      return TRUE;
  return FALSE;
}

/* Text VRs hold one value, backslashes and all (PS3.5 6.2). */
static gboolean
vr_single_valued (const char *vr)
{
  return memcmp (vr, "LT", 2) == 0 || memcmp (vr, "ST", 2) == 0 ||
         memcmp (vr, "UT", 2) == 0 || memcmp (vr, "UR", 2) == 0;
}

/* Value @pos of a string value, trimmed, as dcmtk's getOFString and
 * rr-dicom-header.cc's elem_str give it; NULL when absent, empty of
 * bytes, too long, or there is no such value. */
static char *
value_str (const Value *v, guint pos)
{
  const char *p, *end;
  if (!v->present || v->len == 0 || v->len > MAX_STRING_BYTES || !vr_is_string (v->vr))
    return NULL;
  p = (const char *) v->v;
  end = p + v->len;
  if (!vr_single_valued (v->vr))
    for (guint i = 0; i < pos; i++)
      {
        const char *bs = memchr (p, '\\', end - p);
        if (bs == NULL)
          return NULL;
        p = bs + 1;
      }
  else if (pos > 0)
    return NULL;
  if (!vr_single_valued (v->vr))
    {
      const char *bs = memchr (p, '\\', end - p);
      if (bs != NULL)
        end = bs;
    }
  /* g_strndup stops at a NUL, as the C string dcmtk hands over does. */
  g_autofree char *s = g_strndup (p, end - p);
  return g_strdup (g_strstrip (s));
}

/* A DS value as a double; FALSE when absent or not a clean number. */
static gboolean
value_f64 (const Value *v, guint pos, double *out)
{
  g_autofree char *s = value_str (v, pos);
  char *end = NULL;
  double d;
  if (s == NULL || *s == '\0')
    return FALSE;
  d = g_ascii_strtod (s, &end);
  if (end == s || *end != '\0' || !isfinite (d))
    return FALSE;
  *out = d;
  return TRUE;
}

static gboolean
value_vec (const Value *v, double *out, guint n)
{
  for (guint i = 0; i < n; i++)
    if (!value_f64 (v, i, &out[i]))
      return FALSE;
  return TRUE;
}

/* What this reader cannot vouch for is left to dcmtk: a geometry value
 * in another VR than the standard's. */
static gboolean
vr_is (const Value *v, const char *vr)
{
  return !v->present || memcmp (v->vr, vr, 2) == 0;
}

static Value *
top_slot (Reader *r, guint32 tag)
{
  switch (tag)
    {
    case 0x00080005: return &r->charset;
    case 0x00080018: return &r->sop_uid;
    case 0x00080020: return &r->study_date;
    case 0x00080060: return &r->modality;
    case 0x0008103e: return &r->description;
    case 0x00100010: return &r->patient_name;
    case 0x00100020: return &r->patient_id;
    case 0x00120062: return &r->identity_removed;
    case 0x00180010: return &r->contrast_agent;
    case 0x00180015: return &r->body_part;
    case 0x00180050: return &r->thickness;
    case 0x00180088: return &r->spacing;
    case 0x0020000d: return &r->study_uid;
    case 0x0020000e: return &r->series_uid;
    case 0x00200011: return &r->series_number;
    case 0x00200013: return &r->instance_number;
    case 0x00200032: return &r->ipp;
    case 0x00200037: return &r->iop;
    case 0x00280008: return &r->n_frames;
    case 0x00280010: return &r->rows;
    case 0x00280011: return &r->columns;
    case 0x00280030: return &r->ps;
    case 0x00280301: return &r->burned_in;
    default: return NULL;
    }
}

static gboolean parse_items (Reader *r, const guint8 **pp, const guint8 *end, int depth,
                             gboolean counted, gboolean until_delimiter, gboolean *stopped);

/* A sequence's items from *@pp, to @end or its delimiter; its item count
 * in @n_items. */
static gboolean
parse_sequence (Reader *r, const guint8 **pp, const guint8 *end, gboolean undefined,
                int depth, gboolean counted, guint *n_items)
{
  const guint8 *p = *pp;
  *n_items = 0;
  for (;;)
    {
      guint16 g, e;
      guint32 len;
      if (!undefined && p == end)
        break;
      if (end - p < 8)
        return FALSE;
      g = le16 (p);
      e = le16 (p + 2);
      len = le32 (p + 4);
      p += 8;
      if (g != 0xfffe)
        return FALSE;
      if (e == 0xe0dd && undefined)
        break;
      if (e != 0xe000)
        return FALSE;
      (*n_items)++;
      if (len == UNDEFINED)
        {
          gboolean stopped = FALSE;
          if (!parse_items (r, &p, end, depth + 1, counted, TRUE, &stopped))
            return FALSE;
        }
      else
        {
          const guint8 *item_end;
          gboolean stopped = FALSE;
          if (len > (guint32) (end - p))
            return FALSE;
          item_end = p + len;
          if (!parse_items (r, &p, item_end, depth + 1, counted, FALSE, &stopped) ||
              p != item_end)
            return FALSE;
        }
    }
  *pp = p;
  return TRUE;
}

/* Whether an identifying attribute has something in it, as walk_phi in
 * rr-dicom-header.cc decides. */
static gboolean
filled (const Value *v)
{
  if (v->len > MAX_STRING_BYTES)
    return TRUE;
  if (!vr_is_string (v->vr))
    return v->len > 0;
  g_autofree char *all = g_strndup ((const char *) v->v, v->len);
  return rr_qc_value_identifies (all);
}

/* The elements of a dataset or item from *@pp. @counted: walk_phi would
 * visit them (not inside a private sequence). @stopped: Pixel Data
 * reached at the top, where dcmtk stops too. */
static gboolean
parse_items (Reader *r, const guint8 **pp, const guint8 *end, int depth, gboolean counted,
             gboolean until_delimiter, gboolean *stopped)
{
  const guint8 *p = *pp;

  if (depth > MAX_DEPTH)
    return FALSE;
  for (;;)
    {
      guint16 g, e;
      guint32 tag, len;
      gboolean long_length;
      Value v = { 0 };

      if (p == end && !until_delimiter)
        break;
      if (end - p < 8)
        return FALSE;
      g = le16 (p);
      e = le16 (p + 2);
      tag = (guint32) g << 16 | e;
      if (g == 0xfffe)
        {
          /* Only an undefined-length item ends on a delimiter. */
          if (!until_delimiter || e != 0xe00d || le32 (p + 4) != 0)
            return FALSE;
          p += 8;
          break;
        }
      if (depth == 0 && tag == 0x7fe00010)
        {
          /* Pixel Data cut short makes the file unreadable to dcmtk, and
           * to the viewer: declined, for dcmtk to say so. */
          guint32 plen;
          gboolean long_pixels = FALSE;
          if (end - p < 12 || !vr_known ((const char *) p + 4, &long_pixels) || !long_pixels)
            return FALSE;
          plen = le32 (p + 8);
          if (plen != UNDEFINED &&
              (goffset) (p - r->buf) + 12 + (goffset) plen > r->file_size)
            return FALSE;
          *stopped = TRUE;
          break;
        }
      memcpy (v.vr, p + 4, 2);
      if (!vr_known (v.vr, &long_length))
        return FALSE;
      if (long_length)
        {
          if (end - p < 12)
            return FALSE;
          len = le32 (p + 8);
          p += 12;
        }
      else
        {
          len = le16 (p + 6);
          p += 8;
        }
      if (++r->elements > MAX_ELEMENTS)
        return FALSE;

      if (memcmp (v.vr, "SQ", 2) == 0)
        {
          gboolean private = (g & 1) != 0;
          const guint8 *seq_end = end;
          guint n_items = 0;
          if (len != UNDEFINED)
            {
              if (len > (guint32) (end - p))
                return FALSE;
              seq_end = p + len;
            }
          /* Functional groups carry per-frame geometry dcmtk's path reads. */
          if (depth == 0 && (tag == 0x52009229 || tag == 0x52009230))
            return FALSE;
          /* In walk_phi's order: the sequence before what is inside it. */
          guint at = r->inst->identifying->len;
          if (!parse_sequence (r, &p, seq_end, len == UNDEFINED, depth,
                               counted && !private, &n_items))
            return FALSE;
          if (len != UNDEFINED && p != seq_end)
            return FALSE;
          if (counted && private)
            r->inst->n_private++;
          else if (counted && n_items > 0 && rr_qc_identifying_lookup (tag) != NULL &&
                   at < MAX_IDENTIFYING)
            {
              g_array_insert_val (r->inst->identifying, at, tag);
              if (r->inst->identifying->len > MAX_IDENTIFYING)
                g_array_set_size (r->inst->identifying, MAX_IDENTIFYING);
            }
          if (depth == 0 && tag == 0x00180012)
            r->inst->n_contrast_items = n_items;
          continue;
        }
      /* Encapsulated data, or an implicit-VR sequence under UN. */
      if (len == UNDEFINED || len > (guint32) (end - p))
        return FALSE;
      v.v = p;
      v.len = len;
      v.present = TRUE;
      p += len;
      if (counted)
        {
          if (g & 1)
            r->inst->n_private++;
          else if (rr_qc_identifying_lookup (tag) != NULL &&
                   r->inst->identifying->len < MAX_IDENTIFYING && filled (&v))
            g_array_append_val (r->inst->identifying, tag);
        }
      if (depth == 0)
        {
          Value *slot = top_slot (r, tag);
          if (slot != NULL)
            *slot = v;
        }
    }
  *pp = p;
  return TRUE;
}

/* The meta group's Transfer Syntax UID, and where the dataset starts. */
static gboolean
parse_meta (const guint8 *buf, gsize len, gsize *dataset, char *ts, gsize ts_size)
{
  const guint8 *p = buf + 132, *end = buf + len;
  *ts = '\0';
  if (len < 132 || memcmp (buf + 128, "DICM", 4) != 0)
    return FALSE;
  while (end - p >= 8 && le16 (p) == 0x0002)
    {
      gboolean long_length;
      guint32 vlen;
      guint16 e = le16 (p + 2);
      char vr[3] = { (char) p[4], (char) p[5], 0 };
      if (!vr_known (vr, &long_length))
        return FALSE;
      if (long_length)
        {
          if (end - p < 12)
            return FALSE;
          vlen = le32 (p + 8);
          p += 12;
        }
      else
        {
          vlen = le16 (p + 6);
          p += 8;
        }
      if (vlen == UNDEFINED || vlen > (guint32) (end - p))
        return FALSE;
      if (e == 0x0010)
        {
          gsize n = MIN ((gsize) vlen, ts_size - 1);
          memcpy (ts, p, n);
          ts[n] = '\0';
          g_strstrip (ts);
        }
      p += vlen;
    }
  *dataset = (gsize) (p - buf);
  return *ts != '\0';
}

static char *
text (const Value *v, const char *charset)
{
  g_autofree char *raw = value_str (v, 0);
  return rr_dicom_header_text (raw, charset);
}

/* An IS value; FALSE when absent or not a clean integer. */
static gboolean
value_int (const Value *v, gint64 *out)
{
  g_autofree char *s = value_str (v, 0);
  char *end = NULL;
  if (s == NULL || *s == '\0')
    return FALSE;
  *out = g_ascii_strtoll (s, &end, 10);
  return *end == '\0' && *out >= G_MININT32 && *out <= G_MAXINT32;
}

static gboolean
fill (Reader *r)
{
  RrQcInstance *inst = r->inst;
  g_autofree char *specific = value_str (&r->charset, 0);
  const char *cs = rr_dicom_header_charset (specific);
  RrDicomHeaderGeom geom = { 0 };
  gint64 n;
  double v[6];

  const Value *texts[] = { &r->charset, &r->sop_uid, &r->study_date, &r->modality,
                           &r->description, &r->patient_name, &r->patient_id,
                           &r->identity_removed, &r->contrast_agent, &r->body_part,
                           &r->study_uid, &r->series_uid, &r->burned_in };
  for (guint i = 0; i < G_N_ELEMENTS (texts); i++)
    if (texts[i]->present && !vr_is_string (texts[i]->vr))
      return FALSE;
  if (!vr_is (&r->thickness, "DS") || !vr_is (&r->spacing, "DS") || !vr_is (&r->ipp, "DS") ||
      !vr_is (&r->iop, "DS") || !vr_is (&r->ps, "DS") || !vr_is (&r->rows, "US") ||
      !vr_is (&r->columns, "US") || !vr_is (&r->n_frames, "IS") ||
      !vr_is (&r->series_number, "IS") || !vr_is (&r->instance_number, "IS"))
    return FALSE;
  inst->sop_uid = text (&r->sop_uid, cs);
  /* Refusals are dcmtk's to word. */
  if (inst->sop_uid == NULL || *inst->sop_uid == '\0')
    return FALSE;
  inst->study_date = text (&r->study_date, cs);
  inst->modality = text (&r->modality, cs);
  inst->series_description = text (&r->description, cs);
  inst->patient_name = r->patient_name.len > MAX_STRING_BYTES
                       ? g_strdup (RR_QC_OVERLONG_VALUE) : text (&r->patient_name, cs);
  inst->patient_id = text (&r->patient_id, cs);
  inst->identity_removed = text (&r->identity_removed, cs);
  inst->contrast_agent = text (&r->contrast_agent, cs);
  inst->body_part = text (&r->body_part, cs);
  if (value_f64 (&r->thickness, 0, v))
    inst->slice_thickness = v[0];
  inst->study_uid = text (&r->study_uid, cs);
  inst->series_uid = text (&r->series_uid, cs);
  inst->burned_in_annotation = text (&r->burned_in, cs);
  if (r->series_number.present && r->series_number.len > 0)
    {
      if (!value_int (&r->series_number, &n))
        return FALSE;
      inst->series_number = (int) n;
    }

  if (!r->rows.present || !r->columns.present || r->rows.len < 2 || r->columns.len < 2)
    return TRUE;   /* not an image */
  geom.rows = le16 (r->rows.v);
  geom.columns = le16 (r->columns.v);
  if (geom.rows == 0 || geom.columns == 0)
    return TRUE;
  geom.frames = 1;
  if (r->n_frames.present)
    {
      if (!value_int (&r->n_frames, &n) || n < 1 || n > RR_DICOM_MAX_FRAMES)
        return FALSE;
      geom.frames = (guint) n;
    }
  if (r->instance_number.present && r->instance_number.len > 0)
    {
      if (!value_int (&r->instance_number, &n))
        return FALSE;
      geom.number = (gint32) n;
    }
  geom.have_ipp = value_vec (&r->ipp, geom.ipp, 3);
  geom.have_iop = value_vec (&r->iop, geom.iop, 6);
  geom.have_ps = value_vec (&r->ps, geom.ps, 2);
  value_f64 (&r->spacing, 0, &geom.step);
  rr_dicom_header_frames (inst, &geom, NULL, NULL);
  return TRUE;
}

const char *
rr_dicom_header_charset (const char *specific)
{
  static const struct
  {
    const char *dicom, *iconv;
  } sets[] = {
    { "ISO_IR 100", "ISO-8859-1" }, { "ISO_IR 101", "ISO-8859-2" },
    { "ISO_IR 109", "ISO-8859-3" }, { "ISO_IR 110", "ISO-8859-4" },
    { "ISO_IR 144", "ISO-8859-5" }, { "ISO_IR 127", "ISO-8859-6" },
    { "ISO_IR 126", "ISO-8859-7" }, { "ISO_IR 138", "ISO-8859-8" },
    { "ISO_IR 148", "ISO-8859-9" }, { "ISO_IR 203", "ISO-8859-15" },
    { "ISO_IR 166", "TIS-620" }, { "ISO_IR 192", "UTF-8" },
    { "GB18030", "GB18030" }, { "GBK", "GBK" },
  };
  if (specific == NULL)
    return NULL;
  for (guint i = 0; i < G_N_ELEMENTS (sets); i++)
    if (g_str_equal (specific, sets[i].dicom))
      return sets[i].iconv;
  return NULL;
}

char *
rr_dicom_header_text (const char *raw,
                      const char *charset)
{
  gboolean ascii = TRUE;
  if (raw == NULL)
    return NULL;
  for (const char *c = raw; *c && ascii; c++)
    ascii = (guchar) *c < 0x80;
  /* Every character set above is a superset of ASCII: nothing to convert
   * (and an iconv descriptor is not opened per value). */
  if (ascii)
    return g_strdup (raw);
  if (charset != NULL && !g_str_equal (charset, "UTF-8"))
    {
      char *utf8 = g_convert (raw, -1, "UTF-8", charset, NULL, NULL, NULL);
      if (utf8 != NULL)
        return utf8;
    }
  if (g_utf8_validate (raw, -1, NULL))
    return g_strdup (raw);
  return g_utf8_make_valid (raw, -1);
}

void
rr_dicom_header_frames (RrQcInstance            *inst,
                        const RrDicomHeaderGeom *geom,
                        RrDicomHeaderFrameFunc   frame_func,
                        gpointer                 data)
{
  gboolean have_ps = geom->have_ps && geom->ps[0] > 0 && geom->ps[1] > 0 &&
                     geom->ps[0] < 1e4 && geom->ps[1] < 1e4;

  inst->is_image = TRUE;
  inst->n_frames = geom->frames;
  inst->frames = g_new0 (RrFrameGeom, inst->n_frames);
  for (guint f = 0; f < inst->n_frames; f++)
    {
      RrFrameGeom *g = &inst->frames[f];
      g->rows = geom->rows;
      g->columns = geom->columns;
      g->order_hint = (double) geom->number * 100000.0 + f;
      if (have_ps)
        {
          g->row_spacing = geom->ps[0];
          g->col_spacing = geom->ps[1];
          g->calibration = RR_CALIBRATION_PATIENT;
        }
      if (geom->have_iop)
        {
          g->row_dir = rr_vec3 (geom->iop[0], geom->iop[1], geom->iop[2]);
          g->col_dir = rr_vec3 (geom->iop[3], geom->iop[4], geom->iop[5]);
        }
      if (geom->have_ipp && geom->have_iop)
        {
          g->position = rr_vec3 (geom->ipp[0], geom->ipp[1], geom->ipp[2]);
          g->has_geometry = TRUE;
        }
      if (frame_func != NULL)
        frame_func (f, g, &inst->slice_thickness, data);
      if (g->has_geometry && inst->n_frames > 1 && !geom->per_frame)
        {
          /* A classic multi-frame with one position steps along the normal
           * by the slice spacing (NM tomo), or has no geometry (cine). */
          RrVec3 n = rr_vec3_normalize (rr_vec3_cross (g->row_dir, g->col_dir));
          if (geom->step != 0)
            g->position = rr_vec3_add (g->position, rr_vec3_scale (n, geom->step * f));
          else
            g->has_geometry = FALSE;
        }
      /* Geometry QC cannot trust is left out rather than the file refused:
       * the header's other facts still count. */
      if (g->has_geometry &&
          (rr_vec3_length (g->row_dir) < 0.5 || rr_vec3_length (g->col_dir) < 0.5 ||
           fabs (rr_vec3_dot (rr_vec3_normalize (g->row_dir),
                              rr_vec3_normalize (g->col_dir))) > 0.01 ||
           g->row_spacing <= 0 || g->col_spacing <= 0))
        g->has_geometry = FALSE;
    }
}

static RrQcInstance *
read_raw (const guint8 *buf,
          gsize         len,
          goffset       file_size)
{
  gsize at = 0;
  char ts[65];
  const guint8 *p;
  gboolean stopped = FALSE;

  if (!parse_meta (buf, len, &at, ts, sizeof ts))
    return NULL;
  /* Implicit VR, big endian and deflated data go to dcmtk; every other
   * transfer syntax encodes its dataset in explicit VR little endian. */
  if (g_str_equal (ts, "1.2.840.10008.1.2") || g_str_equal (ts, "1.2.840.10008.1.2.2") ||
      g_str_equal (ts, "1.2.840.10008.1.2.1.99"))
    return NULL;

  g_autoptr (RrQcInstance) inst = rr_qc_instance_new ();
  Reader r = { 0 };
  r.inst = inst;
  r.buf = buf;
  r.file_size = file_size;
  p = buf + at;
  if (!parse_items (&r, &p, buf + len, 0, TRUE, FALSE, &stopped))
    return NULL;
  /* Without Pixel Data the whole file must have been read. */
  if (!stopped && (goffset) len != file_size)
    return NULL;
  if (!fill (&r))
    return NULL;
  return g_steal_pointer (&inst);
}

RrQcInstance *
rr_dicom_header_read_raw (const char *path)
{
  /* Most headers end within 4 KiB: copying 16 KiB of pixels out of the
   * page cache for each file would cost more than parsing the header. A
   * header that does not fit is read again at the full 16 KiB. */
  static const gsize tries[] = { FIRST_BYTES, HEAD_BYTES };
  g_autofree guint8 *buf = g_malloc (HEAD_BYTES);
  RrQcInstance *inst = NULL;
  struct stat st;
  goffset file_size;
  int fd;

  /* fstat, not a second lookup of the path the walk stat'ed already. */
  fd = g_open (path, O_RDONLY | O_CLOEXEC, 0);
  if (fd < 0)
    return NULL;
  if (fstat (fd, &st) != 0 || !S_ISREG (st.st_mode) || st.st_size < 132)
    {
      close (fd);
      return NULL;
    }
  file_size = st.st_size;
  for (guint i = 0; i < G_N_ELEMENTS (tries) && inst == NULL; i++)
    {
      gsize len = (gsize) MIN (file_size, (goffset) tries[i]);
      if (i > 0 && (goffset) tries[i - 1] >= file_size)
        break;   /* the whole file was read already */
      UNPOISON (buf, HEAD_BYTES);
      if (pread (fd, buf, len, 0) != (ssize_t) len)
        break;
      POISON (buf + len, HEAD_BYTES - len);
      inst = read_raw (buf, len, file_size);
    }
  UNPOISON (buf, HEAD_BYTES);
  close (fd);
  return inst;
}
