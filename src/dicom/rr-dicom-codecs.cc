/* rr-dicom-codecs.cc: dcmtk's JPEG and RLE codecs, registered only where
 * pixels are decoded or encoded. Apart from rr_dicom_init: a program that
 * only reads headers or de-identifies (deid, qc, info) never links
 * libdcmjpeg and what it brings (libijg8/12/16, libdcmimgle), so the
 * dynamic loader does not map and relocate them at every start. */
#include "rr-dicom-private.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcrledrg.h>
#include <dcmtk/dcmdata/dcrleerg.h>
#include <dcmtk/dcmjpeg/djdecode.h>
#include <dcmtk/dcmjpeg/djencode.h>

static gpointer
register_once (gpointer data)
{
  DJDecoderRegistration::registerCodecs ();
  DcmRLEDecoderRegistration::registerCodecs ();
  DJEncoderRegistration::registerCodecs ();
  DcmRLEEncoderRegistration::registerCodecs ();
  return NULL;
}

extern "C" void
rr_dicom_init_codecs (void)
{
  static GOnce once = G_ONCE_INIT;

  rr_dicom_init ();
  g_once (&once, register_once, NULL);
}
