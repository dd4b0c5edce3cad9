// test-headers.cc: the public C headers of core and dicom compile as C++
// (the dcmtk bridge and any C++ caller include them).
#include "rr-geometry.h"
#include "rr-problem.h"
#include "rr-stack.h"
#include "rr-volume.h"
#include "rr-dicom.h"
#include "rr-dicom-deid.h"
#include "rr-dicom-deid-table.h"

int
main ()
{
  RrVec3 v = rr_vec3 (1, 2, 3);
  return rr_vec3_dot (v, v) == 14.0 ? 0 : 1;
}
