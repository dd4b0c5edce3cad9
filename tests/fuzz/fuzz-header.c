/* fuzz-header.c: libFuzzer target for the raw QC header reader
 * (src/dicom/rr-dicom-header-raw.c), which walks the first bytes of an
 * uploaded file without dcmtk: whatever the bytes, it must either read
 * them or decline (NULL), never read past what it was given. The input
 * becomes a memfd so the reader opens it by path, as it does a file. */
#define _GNU_SOURCE
#include "rr-dicom-private.h"

#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  char path[64];
  int fd = memfd_create ("fuzz-header", MFD_CLOEXEC);
  RrQcInstance *inst;

  if (fd < 0)
    return 0;
  if (size > 0 && write (fd, data, size) != (ssize_t) size)
    {
      close (fd);
      return 0;
    }
  snprintf (path, sizeof path, "/proc/self/fd/%d", fd);
  inst = rr_dicom_header_read_raw (path);
  if (inst != NULL)
    rr_qc_instance_free (inst);
  close (fd);
  return 0;
}
