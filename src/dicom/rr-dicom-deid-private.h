/* rr-dicom-deid-private.h: what rr-dicom-deid-tree.cc uses of
 * rr-dicom-deid.cc beyond the C API, so that a run reads each header once:
 * the learning pass keeps the headers it read for the de-identification. */
#pragma once

#include "rr-dicom-deid.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcxfer.h>

#include <string>
#include <vector>

class DcmFileFormat;
class DcmDictEntry;
class DcmDataset;

/* The header of the file at @path, its pixel values left on disk; @size
 * gets the file's size and @bytes about what the header holds in memory.
 * NULL when it cannot be read (rr_deid_file_header then says why). */
DcmFileFormat *rr_deid_read_header  (const char     *path,
                                     goffset        *size,
                                     gsize          *bytes);
/* rr_deid_learn on a header read by rr_deid_read_header. */
void           rr_deid_learn_header (RrDeid         *deid,
                                     DcmFileFormat  *ff);
/* rr_deid_file on the header @ff of @in_path (taken; changed), read by
 * rr_deid_read_header with @size; @ff NULL reads it here. */
char          *rr_deid_file_header  (RrDeid         *deid,
                                     const char     *in_path,
                                     DcmFileFormat  *ff,
                                     goffset         size,
                                     const char     *out_dir,
                                     GPtrArray      *warnings,
                                     GError        **error);

/* The public dictionary's side of rr_deid_use_public_dictionary
 * (rr-dicom-deid-dict.cc): whether private.dic is still unread; whether
 * the header @ff, read without it, has private elements whose VR came
 * from the dictionary (read it again after loading it); loading it. */
gboolean       rr_deid_private_dictionary_pending (void);
gboolean       rr_deid_needs_private_dictionary   (DcmFileFormat  *ff);
void           rr_deid_load_private_dictionary    (void);
/* Starts at 1 and changes whenever entries go into the dictionary after
 * the start (private.dic, loaded late): answers taken from it before then
 * are not kept beyond. */
guint32        rr_deid_dictionary_generation      (void);
/* Parses @text, a data dictionary file's contents (changed in place; the
 * entries point into it), appending its entries to @entries in the file's
 * order; FALSE, with nothing appended, for anything beyond the forms that
 * dicom.dic uses (then dcmtk's own reader is used). */
gboolean       rr_deid_parse_dictionary (char                        *text,
                                         std::vector<DcmDictEntry *> &entries);

/* Writing (rr-dicom-deid-write.cc). Where the Pixel Data element of @ds,
 * read from @fd (@file_size bytes) in @xfer, starts in the file when it is
 * the last thing there and can be copied as raw bytes (@start); FALSE for
 * anything else, which then goes through dcmtk. */
gboolean       rr_deid_raw_pixel_tail    (DcmDataset        *ds,
                                          E_TransferSyntax   xfer,
                                          int                fd,
                                          goffset            file_size,
                                          goffset           *start);
/* Writes @head to @out, then @len bytes of @in from @off; FALSE with errno
 * set when a read or write fails. */
gboolean       rr_deid_write_with_pixels (int                in,
                                          goffset            off,
                                          int                out,
                                          const std::string &head,
                                          goffset            len);
