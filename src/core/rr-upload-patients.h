/* rr-upload-patients.h: the patients one upload's files belong to. One
 * upload is one subject: de-identification writes the subject ID into
 * every file, so two patients sent together could never be told apart
 * again. The app's upload page and `readroom-cli upload` both refuse a
 * folder of more than one, with nothing to override it. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct
{
  char *patient_id;       /* as the files hold it */
  guint n_files;
  char *first_path;       /* its first file's, NULL when not read from one */
} RrUploadPatient;

/* The distinct Patient IDs of @instances (RrQcInstance), in the order
 * first met, each with its number of files. A file without a Patient ID
 * is nobody's: it counts for no patient. */
GPtrArray *rr_upload_patients (GPtrArray *instances);

G_END_DECLS
