/* rr-application.h: the Readroom application: actions, windows, and the
 * files or folders given on the command line. */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define RR_TYPE_APPLICATION (rr_application_get_type ())
G_DECLARE_FINAL_TYPE (RrApplication, rr_application, RR, APPLICATION, AdwApplication)

RrApplication *rr_application_new (void);

G_END_DECLS
