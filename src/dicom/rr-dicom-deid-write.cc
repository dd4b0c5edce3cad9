/* rr-dicom-deid-write.cc: how de-identification writes a file: the new
 * header, then the pixel values copied as raw bytes from the input (in the
 * kernel, or through a buffer at the distances the CPU copies slowly). */
#include "rr-dicom-deid-private.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dctk.h>
#include <dcmtk/dcmdata/dcpxitem.h>

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <string.h>
#include <sys/uio.h>

/* Where the Pixel Data element starts in the input file, when it is the
 * last thing there and can be copied as raw bytes: the same transfer
 * syntax is written, so its bytes (tag, VR, length and value, or the
 * fragments of compressed frames) are exactly what the output needs.
 * FALSE for anything else (deflated data, elements after the pixels,
 * bytes that do not check out), which then goes the general way. */
gboolean
rr_deid_raw_pixel_tail (DcmDataset *ds, E_TransferSyntax xfer, int fd, goffset file_size,
                        goffset *start)
{
  DcmXfer x (xfer);
  DcmElement *px = NULL;
  if (x.getStreamCompression () != ESC_none ||
      ds->findAndGetElement (DCM_PixelData, px, OFFalse).bad () || px == NULL ||
      ds->getElement (ds->card () - 1)->getTag () != DCM_PixelData ||
      ds->tagExists (DcmTagKey (0x7FE0, 0x0000)))
    return FALSE;

  guint8 want[12];
  guint hdr;
  goffset total;
  gboolean big = x.isBigEndian ();
  if (x.isEncapsulated ())
    {
      DcmPixelSequence *seq = NULL;
      if (OFstatic_cast (DcmPixelData *, px)->getEncapsulatedRepresentation (xfer, NULL, seq)
              .bad () || seq == NULL || big || !x.isExplicitVR ())
        return FALSE;
      total = 8; /* the sequence delimiter */
      for (unsigned long i = 0; i < seq->card (); i++)
        {
          DcmPixelItem *item = NULL;
          if (seq->getItem (item, i).bad () || item == NULL)
            return FALSE;
          total += 8 + (goffset) item->getLength ();
        }
      memcpy (want, "\xe0\x7f\x10\x00OB\0\0\xff\xff\xff\xff", 12);
      hdr = 12;
    }
  else
    {
      Uint32 len = px->getLength ();
      if (len == DCM_UndefinedLength)
        return FALSE;
      total = len;
      guint8 l[4];
      for (int i = 0; i < 4; i++)
        l[i] = (guint8) (big ? len >> (8 * (3 - i)) : len >> (8 * i));
      if (big)
        memcpy (want, "\x7f\xe0\x00\x10", 4);
      else
        memcpy (want, "\xe0\x7f\x10\x00", 4);
      if (x.isExplicitVR ())
        {
          memcpy (want + 4, px->getVR () == EVR_OB ? "OB\0\0" : "OW\0\0", 4);
          memcpy (want + 8, l, 4);
          hdr = 12;
        }
      else
        {
          memcpy (want + 4, l, 4);
          hdr = 8;
        }
    }
  goffset at = file_size - total - hdr;
  guint8 got[12];
  if (at < 132 || pread (fd, got, hdr, at) != (ssize_t) hdr)
    return FALSE;
  if (memcmp (got, want, hdr) != 0)
    {
      /* Explicit VR native pixels may be OB or OW whatever dcmtk made of
       * them; the rest must match. */
      if (x.isEncapsulated () || hdr != 12 || memcmp (got, want, 4) != 0 ||
          memcmp (got + 8, want + 8, 4) != 0 ||
          (memcmp (got + 4, "OB\0\0", 4) != 0 && memcmp (got + 4, "OW\0\0", 4) != 0))
        return FALSE;
    }
  *start = at;
  return TRUE;
}

static gboolean
write_all (int fd, const char *data, gsize len)
{
  for (gsize done = 0; done < len;)
    {
      ssize_t w = write (fd, data + done, len - done);
      if (w < 0 && errno == EINTR)
        continue;
      if (w <= 0)
        return FALSE;
      done += (gsize) w;
    }
  return TRUE;
}

/* The pixels go through memory in chunks of whole pages, through a
 * buffer that sits 64 bytes before the source's offset in its page. One
 * chunk holds a CT or MR slice: one read and one write a file. */
#define BOUNCE_CHUNK ((gsize) 1 << 20)

struct Bounce
{
  guint8 *buf = NULL;
  ~Bounce () { g_free (buf); }
};

/* Writes @head_len bytes of @head at @out_off in @out, then @len bytes of
 * @in from @off, through the buffer: the first chunk goes out with the
 * header in one pwritev. */
static gboolean
copy_bounce (int in, goffset off, int out, goffset out_off, const char *head, gsize head_len,
             goffset len)
{
  /* One buffer per thread for the whole run: a fresh one each file would
   * be mapped, faulted in and unmapped every time. */
  static thread_local Bounce bounce;
  if (bounce.buf == NULL)
    bounce.buf = (guint8 *) g_malloc (BOUNCE_CHUNK + 8192);
  guint8 *base = (guint8 *) (((guintptr) bounce.buf + 4095) & ~(guintptr) 4095);
  gsize head_left = head_len;
  do
    {
      guint8 *b = base + ((off + 4096 - 64) & 4095);
      ssize_t n = 0;
      if (len > 0)
        {
          n = pread (in, b, (size_t) MIN (len, (goffset) BOUNCE_CHUNK), off);
          if (n < 0 && errno == EINTR)
            continue;
          if (n <= 0)
            {
              /* 0: the source shrank since it was measured; errno is stale. */
              if (n == 0)
                errno = EIO;
              return FALSE;
            }
        }
      struct iovec v[2];
      int nv = 0;
      if (head_left > 0)
        v[nv++] = { (void *) head, head_left };
      if (n > 0)
        v[nv++] = { b, (size_t) n };
      gsize want = head_left + (gsize) n, done = 0;
      while (done < want)
        {
          ssize_t w = pwritev (out, v, nv, out_off + (goffset) done);
          if (w < 0 && errno == EINTR)
            continue;
          if (w <= 0)
            {
              if (w == 0)
                errno = EIO;
              return FALSE;
            }
          done += (gsize) w;
          /* A short write: step the vectors past what went out. */
          gsize skip = (gsize) w;
          int k = 0;
          while (k < nv && skip >= v[k].iov_len)
            skip -= v[k++].iov_len;
          for (int j = k; j < nv; j++)
            v[j - k] = v[j];
          nv -= k;
          if (nv > 0)
            {
              v[0].iov_base = (guint8 *) v[0].iov_base + skip;
              v[0].iov_len -= skip;
            }
        }
      out_off += (goffset) want;
      head_left = 0;
      off += n;
      len -= n;
    }
  while (len > 0);
  return TRUE;
}

/* Writes @head at the start of @out, then @len bytes of @in from @off: in
 * the kernel where it can, else through a buffer.
 *
 * The kernel copies each page of the source into the destination's page
 * cache with one memcpy, at the distance between the two offsets in their
 * pages. When the destination lies 1 to 63 bytes past the source (the
 * phantom CT's header grows by 12 bytes), this machine's CPU (AMD EPYC,
 * rep movsb) copied at a third of its speed: 200 such files cost 100 to
 * 125 ms of CPU against 55 to 75 ms at other distances (glibc's memmove
 * avoids rep movsb at those distances for the same reason). Two copies
 * through a buffer placed 64 bytes before the source, each at a fast
 * distance, took 70 to 80 ms. */
gboolean
rr_deid_write_with_pixels (int in, goffset off, int out, const std::string &head,
                           goffset len)
{
  goffset distance = ((goffset) head.size () - off) & 4095;
  if (distance > 0 && distance < 64)
    return copy_bounce (in, off, out, 0, head.data (), head.size (), len);
  if (!write_all (out, head.data (), head.size ()))
    return FALSE;
  while (len > 0)
    {
      loff_t o = off;
      ssize_t n = copy_file_range (in, &o, out, NULL, (size_t) MIN (len, (goffset) 1 << 30), 0);
      if (n <= 0)
        break;
      off += n;
      len -= n;
    }
  if (len == 0)
    return TRUE;
  /* No copy in the kernel here (another file system): through memory,
   * after what is already written. */
  goffset at = lseek (out, 0, SEEK_CUR);
  return at >= 0 && copy_bounce (in, off, out, at, NULL, 0, len);
}
