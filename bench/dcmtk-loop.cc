// dcmtk-loop.cc: the benchmark baseline: a plain dcmtk DicomImage loop over
// the files given, as dcmtk's documentation shows it: construct a DicomImage
// and fetch its 16-bit output data. With --inter it fetches the
// modality-transformed intermediate data instead (less work: no output).
#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dctk.h>
#include <dcmtk/dcmdata/dcrledrg.h>
#include <dcmtk/dcmimgle/dcmimage.h>
#include <dcmtk/dcmimgle/dipixel.h>
#include <dcmtk/dcmjpeg/djdecode.h>
#include <dcmtk/dcmjpls/djdecode.h>
#include <dcmtk/oflog/oflog.h>

#include <chrono>
#include <cstdio>
#include <string>

int
main (int argc, char **argv)
{
  OFLog::configure (OFLogger::FATAL_LOG_LEVEL);
  DJDecoderRegistration::registerCodecs ();
  DJLSDecoderRegistration::registerCodecs ();
  DcmRLEDecoderRegistration::registerCodecs ();
  // One-time set-up outside the timing, as readroom-cli does it.
  dcmDataDict.isDictionaryLoaded ();
  auto t0 = std::chrono::steady_clock::now ();
  unsigned long bytes = 0;
  int n = 0;
  int first = 1;
  bool inter = argc > 1 && std::string (argv[1]) == "--inter";
  if (inter)
    first = 2;
  for (int i = first; i < argc; i++)
    {
      DicomImage img (argv[i]);
      if (img.getStatus () != EIS_Normal)
        {
          std::fprintf (stderr, "%s: %s\n", argv[i], DicomImage::getString (img.getStatus ()));
          return 1;
        }
      if (inter)
        {
          const DiPixel *px = img.getInterData ();
          if (px == NULL || px->getData () == NULL)
            return 1;
          bytes += px->getCount () * 2;
        }
      else
        {
          const void *out = img.getOutputData (16);
          if (out == NULL)
            return 1;
          bytes += img.getOutputDataSize (16);
        }
      n++;
    }
  double s = std::chrono::duration<double> (std::chrono::steady_clock::now () - t0).count ();
  std::printf ("slices %d bytes %lu seconds %.4f\n", n, bytes, s);
  return 0;
}
