/* rr-orthanc-calls.h: calls into Orthanc that never let an exception out
 * (rr-orthanc-calls.cc says why). */
#pragma once

#include <orthanc/OrthancCPlugin.h>

#ifdef __cplusplus
extern "C" {
#define RR_NOEXCEPT noexcept
#else
#define RR_NOEXCEPT
#endif

OrthancPluginErrorCode rr_orthanc_rest_get     (OrthancPluginContext       *context,
                                                OrthancPluginMemoryBuffer  *buffer,
                                                const char                 *uri) RR_NOEXCEPT;
/* As rr_orthanc_rest_get, with the routes of other plugins (DICOMweb). */
OrthancPluginErrorCode rr_orthanc_rest_get_plugins (OrthancPluginContext   *context,
                                                    OrthancPluginMemoryBuffer *buffer,
                                                    const char             *uri) RR_NOEXCEPT;
OrthancPluginErrorCode rr_orthanc_rest_post    (OrthancPluginContext       *context,
                                                OrthancPluginMemoryBuffer  *buffer,
                                                const char                 *uri,
                                                const void                 *body,
                                                uint32_t                    size) RR_NOEXCEPT;
OrthancPluginErrorCode rr_orthanc_rest_delete  (OrthancPluginContext       *context,
                                                const char                 *uri) RR_NOEXCEPT;
char                  *rr_orthanc_lookup_study (OrthancPluginContext       *context,
                                                const char                 *uid) RR_NOEXCEPT;
char                  *rr_orthanc_lookup_instance (OrthancPluginContext    *context,
                                                   const char              *uid) RR_NOEXCEPT;
/* The tags of a DICOM file in memory, as Orthanc's "Full" JSON. */
char                  *rr_orthanc_dicom_to_json (OrthancPluginContext      *context,
                                                 const void                *buffer,
                                                 uint32_t                   size) RR_NOEXCEPT;
/* The same for an instance Orthanc received. */
char                  *rr_orthanc_instance_json (OrthancPluginContext      *context,
                                                 const OrthancPluginDicomInstance *instance)
                                                 RR_NOEXCEPT;

#ifdef __cplusplus
}
#endif
