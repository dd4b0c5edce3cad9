/* rr-dicom-write.cc: a minimal dataset builder over dcmtk for C callers,
 * writing Part 10 files in any transfer syntax the engine reads. */
#include "rr-dicom-private.h"
#include "rr-dicom-codec.h"

#include <dcmtk/dcmdata/dcpxitem.h>

#include <dcmtk/dcmdata/dcrleerg.h>
#include <dcmtk/dcmdata/dcrlerp.h>
#include <dcmtk/dcmjpeg/djrplol.h>
#include <dcmtk/dcmjpeg/djrploss.h>
#include <new>

struct _RrDicomDataset
{
  DcmItem *item;
  gboolean owned;
  GPtrArray *children; /* RrDicomDataset wrappers of items, not owning */
};

static void
wrapper_free (gpointer p)
{
  RrDicomDataset *ds = (RrDicomDataset *) p;
  if (ds->children)
    g_ptr_array_unref (ds->children);
  if (ds->owned)
    delete ds->item;
  g_free (ds);
}

extern "C" RrDicomDataset *
rr_dicom_dataset_new (void)
{
  rr_dicom_init_codecs ();
  RrDicomDataset *ds = g_new0 (RrDicomDataset, 1);
  ds->item = new DcmDataset ();
  ds->owned = TRUE;
  ds->children = g_ptr_array_new_with_free_func (wrapper_free);
  return ds;
}

extern "C" void
rr_dicom_dataset_free (RrDicomDataset *ds)
{
  if (ds)
    wrapper_free (ds);
}

static DcmTagKey
key (guint32 tag)
{
  return DcmTagKey ((Uint16) (tag >> 16), (Uint16) (tag & 0xffff));
}

static gboolean
check (OFCondition c, guint32 tag, GError **error)
{
  if (c.good ())
    return TRUE;
  g_set_error (error, RR_DICOM_ERROR, RR_DICOM_ERROR_WRITE, "(%04x,%04x): %s", tag >> 16,
               tag & 0xffff, c.text ());
  return FALSE;
}

extern "C" gboolean
rr_dicom_dataset_set_string (RrDicomDataset *ds,
                             guint32         tag,
                             const char     *value,
                             GError        **error)
{
  return check (ds->item->putAndInsertString (key (tag), value ? value : ""), tag, error);
}

extern "C" gboolean
rr_dicom_dataset_set_uint16 (RrDicomDataset *ds,
                             guint32         tag,
                             guint16         value,
                             GError        **error)
{
  return check (ds->item->putAndInsertUint16 (key (tag), value), tag, error);
}

extern "C" gboolean
rr_dicom_dataset_set_words (RrDicomDataset *ds,
                            guint32         tag,
                            const char     *vr,
                            const guint16  *values,
                            gsize           n,
                            GError        **error)
{
  DcmElement *e;
  if (n > G_MAXUINT32 / 2)
    return check (EC_TooManyBytesRequested, tag, error);
  if (g_strcmp0 (vr, "US") == 0)
    e = new DcmUnsignedShort (DcmTag (key (tag), EVR_US));
  else if (g_strcmp0 (vr, "SS") == 0)
    e = new DcmSignedShort (DcmTag (key (tag), EVR_SS));
  else if (g_strcmp0 (vr, "OW") == 0)
    e = new DcmOtherByteOtherWord (DcmTag (key (tag), EVR_OW));
  else
    return check (EC_InvalidVR, tag, error);
  OFCondition c = e->putUint16Array (values, (unsigned long) n);
  if (c.good ())
    c = ds->item->insert (e, OFTrue);
  if (c.bad ())
    delete e;
  return check (c, tag, error);
}

extern "C" gboolean
rr_dicom_dataset_set_bytes (RrDicomDataset *ds,
                            guint32         tag,
                            const guint8   *data,
                            gsize           len,
                            GError        **error)
{
  if (len > G_MAXUINT32 - 1)
    return check (EC_TooManyBytesRequested, tag, error);
  return check (ds->item->putAndInsertUint8Array (key (tag), data, (unsigned long) len), tag,
                error);
}

extern "C" gboolean
rr_dicom_dataset_set_pixels (RrDicomDataset *ds,
                             gconstpointer   data,
                             gsize           n_bytes,
                             guint           bits_allocated,
                             GError        **error)
{
  if (n_bytes > G_MAXUINT32 - 2)
    return check (EC_TooManyBytesRequested, RR_TAG (0x7fe0, 0x0010), error);
  if (bits_allocated > 8)
    return check (ds->item->putAndInsertUint16Array (DCM_PixelData, (const Uint16 *) data,
                                                     (unsigned long) (n_bytes / 2)),
                  RR_TAG (0x7fe0, 0x0010), error);
  return check (ds->item->putAndInsertUint8Array (DCM_PixelData, (const Uint8 *) data,
                                                  (unsigned long) n_bytes),
                RR_TAG (0x7fe0, 0x0010), error);
}

extern "C" RrDicomDataset *
rr_dicom_dataset_add_item (RrDicomDataset *ds,
                           guint32         sequence_tag)
{
  DcmItem *item = NULL;
  if (ds->item->findOrCreateSequenceItem (key (sequence_tag), item, -2).bad () || !item)
    return NULL;
  RrDicomDataset *child = g_new0 (RrDicomDataset, 1);
  child->item = item;
  child->owned = FALSE;
  child->children = g_ptr_array_new_with_free_func (wrapper_free);
  g_ptr_array_add (ds->children, child);
  return child;
}

extern "C" char *
rr_dicom_make_uid (const char *root)
{
  char buf[100];
  if (root != NULL)
    {
      dcmGenerateUniqueIdentifier (buf, root);
      return g_strdup (buf);
    }
  /* Without a registered root: 2.25 followed by a random 128-bit UUID in
   * decimal (PS3.5 B.2). */
  unsigned __int128 v = 0;
  for (int i = 0; i < 4; i++)
    v = (v << 32) | g_random_int ();
  v &= ~((unsigned __int128) 0xF << 76); /* version 4 */
  v |= (unsigned __int128) 0x4 << 76;
  char digits[48];
  int n = 0;
  do
    {
      digits[n++] = (char) ('0' + (int) (v % 10));
      v /= 10;
    }
  while (v != 0);
  GString *s = g_string_new ("2.25.");
  while (n > 0)
    g_string_append_c (s, digits[--n]);
  return g_string_free (s, FALSE);
}

/* Encapsulates every frame with OpenJPEG (J2K) or CharLS (JPEG-LS). */
static gboolean
encode_frames (DcmDataset *ds, E_TransferSyntax xs, GError **error)
{
  gboolean lossless = xs == EXS_JPEG2000LosslessOnly || xs == EXS_JPEGLSLossless;
  gboolean jls = xs == EXS_JPEGLSLossless || xs == EXS_JPEGLSLossy;
  Uint16 rows = 0, cols = 0, spp = 1, ba = 16, bs = 16, pr = 0;
  ds->findAndGetUint16 (DCM_Rows, rows);
  ds->findAndGetUint16 (DCM_Columns, cols);
  ds->findAndGetUint16 (DCM_SamplesPerPixel, spp);
  ds->findAndGetUint16 (DCM_BitsAllocated, ba);
  ds->findAndGetUint16 (DCM_BitsStored, bs);
  ds->findAndGetUint16 (DCM_PixelRepresentation, pr);
  long frames = 1;
  OFString nf;
  if (ds->findAndGetOFString (DCM_NumberOfFrames, nf).good ())
    frames = MAX (1, atol (nf.c_str ()));
  DcmElement *elem = NULL;
  if (ds->findAndGetElement (DCM_PixelData, elem).bad ())
    return check (EC_TagNotFound, RR_TAG (0x7fe0, 0x0010), error);
  DcmPixelData *pd = OFstatic_cast (DcmPixelData *, elem);
  const Uint8 *pixels = NULL;
  if (ba > 8)
    {
      Uint16 *w = NULL;
      pd->getUint16Array (w);
      pixels = (const Uint8 *) w;
    }
  else
    {
      Uint8 *b = NULL;
      pd->getUint8Array (b);
      pixels = b;
    }
  gsize frame_bytes = (gsize) rows * cols * spp * (ba / 8);
  DcmPixelSequence *seq = new DcmPixelSequence (DCM_PixelSequenceTag);
  DcmPixelItem *offsets = new DcmPixelItem (DCM_PixelItemTag);
  seq->insert (offsets);
  DcmOffsetList list;
  for (long f = 0; f < frames; f++)
    {
      GByteArray *code = jls ? rr_jls_encode_frame (pixels + f * frame_bytes, rows, cols, spp,
                                                    ba, bs, lossless ? 0 : 2, error)
                             : rr_j2k_encode_frame (pixels + f * frame_bytes, rows, cols, spp, ba,
                                                    bs, pr == 1, lossless, error);
      if (code == NULL)
        {
          delete seq;
          return FALSE;
        }
      seq->storeCompressedFrame (list, code->data, code->len, 0);
      g_byte_array_unref (code);
    }
  offsets->createOffsetTable (list);
  pd->putOriginalRepresentation (xs, NULL, seq);
  if (spp == 3 && !jls)
    ds->putAndInsertString (DCM_PhotometricInterpretation, lossless ? "YBR_RCT" : "YBR_ICT");
  if (!lossless)
    {
      ds->putAndInsertString (DCM_LossyImageCompression, "01");
      ds->putAndInsertString (DCM_LossyImageCompressionMethod, jls ? "ISO_14495_1" : "ISO_15444_1");
    }
  return TRUE;
}

extern "C" gboolean
rr_dicom_dataset_write (RrDicomDataset *ds,
                        const char     *path,
                        const char     *transfer_syntax,
                        GError        **error)
{
  try
    {
      DcmXfer want (transfer_syntax);
      E_TransferSyntax xs = want.getXfer ();
      if (xs == EXS_Unknown)
        {
          g_set_error (error, RR_DICOM_ERROR, RR_DICOM_ERROR_UNSUPPORTED,
                       "unknown transfer syntax %s", transfer_syntax);
          return FALSE;
        }
      /* A deep copy: compression must not change the caller's dataset. */
      DcmFileFormat ff ((DcmDataset *) ds->item);
      DcmDataset *d = ff.getDataset ();
      OFCondition c = EC_Normal;
      if (xs == EXS_JPEG2000LosslessOnly || xs == EXS_JPEG2000 || xs == EXS_JPEGLSLossless ||
          xs == EXS_JPEGLSLossy)
        {
          if (!encode_frames (d, xs, error))
            return FALSE;
        }
      else if (want.isEncapsulated ())
        {
          DJ_RPLossless lossless_params (1, 0);
          DJ_RPLossy lossy_params (90);
          DcmRLERepresentationParameter rle_params;
          const DcmRepresentationParameter *rp = NULL;
          switch (xs)
            {
            case EXS_JPEGProcess14SV1:
            case EXS_JPEGProcess14:
              rp = &lossless_params;
              break;
            case EXS_JPEGProcess1:
            case EXS_JPEGProcess2_4:
              rp = &lossy_params;
              break;
            case EXS_RLELossless:
              rp = &rle_params;
              break;
            default:
              break;
            }
          c = d->chooseRepresentation (xs, rp);
          if (c.good () && !d->canWriteXfer (xs))
            c = EC_CannotChangeRepresentation;
        }
      if (c.good ())
        c = ff.saveFile (path, xs, EET_ExplicitLength, EGL_recalcGL, EPD_noChange, 0, 0,
                         EWM_createNewMeta);
      if (c.bad ())
        {
          g_set_error (error, RR_DICOM_ERROR, RR_DICOM_ERROR_WRITE, "%s: %s (%s)", path,
                       c.text (), want.getXferName ());
          return FALSE;
        }
      return TRUE;
    }
  catch (...)
    {
      g_set_error (error, RR_DICOM_ERROR, RR_DICOM_ERROR_WRITE, "%s: unexpected error", path);
      return FALSE;
    }
}
