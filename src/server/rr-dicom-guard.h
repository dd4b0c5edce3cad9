/* rr-dicom-guard.h: a bounded, iterative walk over the bytes of an upload
 * before Orthanc parses it. dcmtk reads nested sequences by recursion on
 * Orthanc's HTTP thread: a 3 KB file of 64 nested sequences overflowed
 * its stack and killed the server. Pure: no dcmtk, no Orthanc. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Nested sequences allowed. An SR of TID 1500 nests about 6; the plugin's
 * JSON guard refused more than about 20 already (Orthanc's JSON of a file
 * takes 3 levels per sequence); dcmtk crashed Orthanc at 64, not at 40. */
#define RR_DICOM_MAX_DEPTH 24

/* Elements in one data set (or item), items in one sequence. Orthanc
 * turns a file into JSON by DcmItem::getElement (i) for each i, a walk of
 * a linked list from its head: quadratic. 200,000 two-byte elements (2 MB)
 * held an HTTP thread and the plugin's lock for 8 minutes (20,000: 1.4 s).
 * A CT slice has about 250 elements; an enhanced multi-frame image one
 * item per frame. */
#define RR_DICOM_MAX_ELEMENTS 10000
#define RR_DICOM_MAX_ITEMS 20000

/* A deflated data set is inflated to be walked; never beyond this. */
#define RR_DICOM_MAX_INFLATED ((gsize) 256 * 1024 * 1024)

typedef enum
{
  RR_DICOM_GUARD_OK,
  RR_DICOM_GUARD_TOO_DEEP,    /* sequences nested deeper than allowed */
  RR_DICOM_GUARD_TOO_LARGE,   /* a deflated data set inflates beyond the limit */
  RR_DICOM_GUARD_MALFORMED,   /* lengths or delimiters that do not fit together */
  RR_DICOM_GUARD_TOO_MANY,    /* more elements in a data set, or items in a sequence */
  RR_DICOM_GUARD_UNSUPPORTED, /* not a Part 10 file in a transfer syntax dcmtk and the guard read alike */
} RrDicomGuard;

/* Walks the @len bytes of @data (a DICOM Part 10 file whose meta group names
 * a transfer syntax dcmtk 3.6.7 knows; anything else is UNSUPPORTED, since
 * dcmtk would guess what the guard cannot): every element header, every
 * sequence, item and delimiter, in the file's transfer syntax (Deflated
 * Explicit VR Little Endian inflated first, at most @max_inflated bytes).
 * Values are skipped, never read. At most RR_DICOM_MAX_ELEMENTS elements
 * in a data set or item, RR_DICOM_MAX_ITEMS items in a sequence. Undefined-length elements other than
 * encapsulated pixel data, SQ, and implicit-VR values that start with an
 * item are walked as sequences, as dcmtk reads them. */
RrDicomGuard rr_dicom_guard (const guint8 *data,
                             gsize         len,
                             guint         max_depth,
                             gsize         max_inflated);

G_END_DECLS
