/* make-tid1500: writes a TID 1500 Measurement Report the way another tool
 * would, with dcmtk's own cmr classes and none of Readroom's code: one
 * measurement group ("lesion-A", liver, Long Axis 2.4 cm between pixels
 * (10.5, 20.5) and (17.5, 20.5) of IMAGE), no time point, no private codes.
 * Usage: make-tid1500 OUT.dcm IMAGE.dcm [TRACKING-ID] */
#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dctk.h>
#include <dcmtk/dcmsr/dsrdoc.h>
#include <dcmtk/dcmsr/codes/dcm.h>
#include <dcmtk/dcmsr/codes/sct.h>
#include <dcmtk/dcmsr/cmr/tid1500.h>
#include <cstdio>

#define CHECK(x)                                                          \
  do                                                                      \
    {                                                                     \
      OFCondition c_ = (x);                                               \
      if (c_.bad ())                                                      \
        {                                                                 \
          fprintf (stderr, "make-tid1500: %s: %s\n", #x, c_.text ());     \
          return 1;                                                       \
        }                                                                 \
    }                                                                     \
  while (0)

int
main (int argc, char **argv)
{
  if (argc != 3 && argc != 4)
    {
      fprintf (stderr, "usage: make-tid1500 OUT.dcm IMAGE.dcm [TRACKING-ID]\n");
      return 2;
    }
  DcmFileFormat image;
  CHECK (image.loadFile (argv[2]));
  DcmDataset *ids = image.getDataset ();
  OFString study, series, sop_class, sop, patient;
  ids->findAndGetOFString (DCM_StudyInstanceUID, study);
  ids->findAndGetOFString (DCM_SeriesInstanceUID, series);
  ids->findAndGetOFString (DCM_SOPClassUID, sop_class);
  ids->findAndGetOFString (DCM_SOPInstanceUID, sop);
  ids->findAndGetOFString (DCM_PatientID, patient);

  TID1500_MeasurementReport report (CMR_CID7021::ImagingMeasurementReport);
  CHECK (report.getObservationContext ().addPersonObserver ("Other^Tool"));
  CHECK (report.addProcedureReported (CMR_CID100::CTUnspecifiedBodyRegion));
  CMR_TID1501_in_TID1500 &group = report.getIndividualMeasurements ();
  char uid[100];
  CHECK (group.setTrackingIdentifier (argc == 4 ? argv[3] : "lesion-A"));
  CHECK (group.setTrackingUniqueIdentifier (dcmGenerateUniqueIdentifier (uid)));
  CHECK (group.addFindingSite (DSRCodedEntryValue ("10200004", "SCT", "Liver")));
  CHECK (group.addMeasurement (CMR_CID7469::LongAxis,
                               CMR_TID1501_in_TID1500::MeasurementValue (
                                 "2.4", DSRCodedEntryValue ("cm", "UCUM", "centimeter"))));
  DSRSpatialCoordinatesValue sc (DSRTypes::GT_Polyline);
  sc.getGraphicDataList ().addItem (10.5, 20.5);
  sc.getGraphicDataList ().addItem (17.5, 20.5);
  CHECK (group.getMeasurement ().addSpatialCoordinates (CODE_DCM_ImageRegion, sc,
                                                        DSRImageReferenceValue (sop_class, sop)));
  DSRDocument doc;
  CHECK (doc.setTreeFromRootTemplate (report));
  CHECK (doc.createNewSeriesInStudy (study));
  CHECK (doc.setPatientID (patient));
  CHECK (doc.getCurrentRequestedProcedureEvidence ().addItem (study, series, sop_class, sop));
  DcmFileFormat out;
  CHECK (doc.write (*out.getDataset ()));
  CHECK (out.saveFile (argv[1], EXS_LittleEndianExplicit));
  return 0;
}
