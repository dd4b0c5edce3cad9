/* rr-orthanc-calls.cc: the calls the plugin makes into Orthanc, each behind
 * a catch-all. Orthanc 1.10 lets some C++ exceptions escape through the
 * plugin SDK's C interface: a store into a storage folder that cannot be
 * written throws out of OrthancPluginRestApiPost, through the plugin's C
 * frames (which then never release the lock they hold) and back to
 * Orthanc's HTTP thread (issue 12, finding 2). C cannot catch them; this
 * file turns every one into an error code. */
#include <orthanc/OrthancCPlugin.h>

#include "rr-orthanc-calls.h"

extern "C" {

OrthancPluginErrorCode
rr_orthanc_rest_get (OrthancPluginContext       *context,
                     OrthancPluginMemoryBuffer  *buffer,
                     const char                 *uri) noexcept
{
  try
    {
      return OrthancPluginRestApiGet (context, buffer, uri);
    }
  catch (...)
    {
      return OrthancPluginErrorCode_InternalError;
    }
}

OrthancPluginErrorCode
rr_orthanc_rest_get_plugins (OrthancPluginContext       *context,
                             OrthancPluginMemoryBuffer  *buffer,
                             const char                 *uri) noexcept
{
  try
    {
      return OrthancPluginRestApiGetAfterPlugins (context, buffer, uri);
    }
  catch (...)
    {
      return OrthancPluginErrorCode_InternalError;
    }
}

OrthancPluginErrorCode
rr_orthanc_rest_post (OrthancPluginContext       *context,
                      OrthancPluginMemoryBuffer  *buffer,
                      const char                 *uri,
                      const void                 *body,
                      uint32_t                    size) noexcept
{
  try
    {
      return OrthancPluginRestApiPost (context, buffer, uri, body, size);
    }
  catch (...)
    {
      /* What escapes a store is the storage failing (the one seen). */
      return OrthancPluginErrorCode_FileStorageCannotWrite;
    }
}

OrthancPluginErrorCode
rr_orthanc_rest_delete (OrthancPluginContext *context,
                        const char           *uri) noexcept
{
  try
    {
      return OrthancPluginRestApiDelete (context, uri);
    }
  catch (...)
    {
      return OrthancPluginErrorCode_InternalError;
    }
}

char *
rr_orthanc_lookup_study (OrthancPluginContext *context,
                         const char           *uid) noexcept
{
  try
    {
      return OrthancPluginLookupStudy (context, uid);
    }
  catch (...)
    {
      return nullptr;
    }
}

char *
rr_orthanc_lookup_instance (OrthancPluginContext *context,
                            const char           *uid) noexcept
{
  try
    {
      return OrthancPluginLookupInstance (context, uid);
    }
  catch (...)
    {
      return nullptr;
    }
}

/* Tags by number with their types ("Full"), nothing after the pixel
 * data, binary values as null (present, not copied), long values cut: the
 * upload check (rr-server-phi.c) needs to know which attributes hold a
 * value, not the values of long ones. */
static const OrthancPluginDicomToJsonFlags check_flags =
  (OrthancPluginDicomToJsonFlags) (OrthancPluginDicomToJsonFlags_StopAfterPixelData |
                                   OrthancPluginDicomToJsonFlags_SkipGroupLengths |
                                   OrthancPluginDicomToJsonFlags_IncludeBinary |
                                   OrthancPluginDicomToJsonFlags_ConvertBinaryToNull |
                                   OrthancPluginDicomToJsonFlags_IncludePrivateTags |
                                   OrthancPluginDicomToJsonFlags_IncludeUnknownTags);

char *
rr_orthanc_dicom_to_json (OrthancPluginContext *context,
                          const void           *buffer,
                          uint32_t              size) noexcept
{
  try
    {
      return OrthancPluginDicomBufferToJson (context, buffer, size,
                                             OrthancPluginDicomToJsonFormat_Full, check_flags,
                                             256);
    }
  catch (...)
    {
      return nullptr;
    }
}

char *
rr_orthanc_instance_json (OrthancPluginContext             *context,
                          const OrthancPluginDicomInstance *instance) noexcept
{
  try
    {
      return OrthancPluginGetInstanceAdvancedJson (context, instance,
                                                   OrthancPluginDicomToJsonFormat_Full,
                                                   check_flags, 256);
    }
  catch (...)
    {
      return nullptr;
    }
}

}
