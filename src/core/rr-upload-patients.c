/* rr-upload-patients.c: the patients of one upload's files, told apart
 * by Patient ID as the files hold it. */
#include "rr-upload-patients.h"
#include "rr-qc.h"

static void
upload_patient_free (gpointer data)
{
  RrUploadPatient *p = data;
  g_free (p->patient_id);
  g_free (p->first_path);
  g_free (p);
}

GPtrArray *
rr_upload_patients (GPtrArray *instances)
{
  GPtrArray *out = g_ptr_array_new_with_free_func (upload_patient_free);
  g_autoptr (GHashTable) by_id = g_hash_table_new (g_str_hash, g_str_equal);

  for (guint i = 0; instances && i < instances->len; i++)
    {
      const RrQcInstance *inst = instances->pdata[i];
      RrUploadPatient *p;
      if (inst->patient_id == NULL || *inst->patient_id == '\0')
        continue;
      p = g_hash_table_lookup (by_id, inst->patient_id);
      if (p == NULL)
        {
          p = g_new0 (RrUploadPatient, 1);
          p->patient_id = g_strdup (inst->patient_id);
          p->first_path = g_strdup (inst->path);
          g_ptr_array_add (out, p);
          g_hash_table_insert (by_id, p->patient_id, p);
        }
      p->n_files++;
    }
  return out;
}
