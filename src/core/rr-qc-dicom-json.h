/* rr-qc-dicom-json.h: QC header facts (rr-qc.h) from the DICOM JSON model
 * of PS3.18 F.2, as DICOMweb's /metadata answers it, for a server that
 * holds headers rather than files. */
#pragma once

#include <json-glib/json-glib.h>
#include "rr-qc.h"

G_BEGIN_DECLS

#define RR_QC_MAX_METADATA_BYTES  ((gsize) 256 << 20)
#define RR_QC_MAX_INSTANCES       100000
#define RR_QC_MAX_FRAMES          20000

/* One instance's object ({"0020000D": {"vr": "UI", "Value": [...]}, ...}).
 * RR_CORE_ERROR_INVALID without a SOP Instance UID or past the bounds. */
RrQcInstance *rr_qc_instance_from_dicom_json  (JsonObject  *object,
                                               GError     **error);
/* A JSON array of such objects: a study's or series' metadata. Returns a
 * GPtrArray of RrQcInstance. */
GPtrArray    *rr_qc_instances_from_dicom_json (const char  *data,
                                               gssize       length,
                                               GError     **error);

G_END_DECLS
