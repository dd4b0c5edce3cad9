/* rr-access.h: which HTTP routes of the server a role may reach: paths
 * normalised the way Orthanc routes them, then matched against a fixed
 * allow-list; everything else is refused. Pure: no Orthanc, no database. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum
{
  RR_ROUTE_DENY,          /* nobody but an admin */
  RR_ROUTE_API,           /* /readroom/v1/...: the handlers check the token */
  RR_ROUTE_STUDY_READ,    /* a GET under one study (DICOMweb WADO): study check */
} RrRouteClass;

/* The path (as Orthanc hands it over: already percent-decoded) as Orthanc
 * routes it: "." and ".." resolved, repeated and trailing slashes dropped.
 * NULL for ".." above the root or a path that is not absolute: refuse. */
char        *rr_access_normalize (const char *path);

/* What kind of route @path (normalised) is for a non-admin. For
 * RR_ROUTE_STUDY_READ, @study is set to the Study Instance UID the route
 * is under. Only GET reaches studies; only the exact lower-case prefix
 * /readroom/v1/ reaches the API. */
RrRouteClass rr_access_classify  (const char  *method,
                                  const char  *path,
                                  char       **study);

/* The segments of an API path (after /readroom/v1/), NULL when longer
 * than 1024 bytes or than any route (8 segments). */
#define RR_ACCESS_MAX_SEGMENTS 8
char       **rr_access_route_split (const char *path);

/* Does @seg (from rr_access_route_split) match @pattern ("tasks/{id}")?
 * "{id}" is an identifier (letters, digits, '.', '_', '-', 1 to 64), "{any}"
 * any non-empty segment; the matched segments (pointers into @seg) go to
 * @groups, which must not free its elements. */
gboolean     rr_access_route_match (const char  *pattern,
                                    char       **seg,
                                    GPtrArray   *groups);

/* TRUE for a syntactically valid DICOM UID (digits and dots, 1-64). */
gboolean     rr_access_is_uid    (const char *s);

G_END_DECLS
