/* rr-sr-layer.c: structured reports found among a folder's files, read
 * with the SR importer of the dicom layer (rr_dicom_sr_import, as
 * `readroom-cli sr import`), their calipers kept apart from the reader's
 * own: the window lists and draws them with a series' measurements and
 * refuses any change to them. Reading the reports opens files, so it is
 * done on the scan's worker (rr_scan_with_reports_async); the window then
 * takes the layer whole. */
#include "rr-sr-layer.h"
#include "rr-dicom-sr.h"
#include "rr-measurement.h"
#include "rr-json.h"

#include <glib/gi18n.h>
#include <json-glib/json-glib.h>

struct _RrSrLayer
{
  GPtrArray *measurements;    /* RrMeasurement, owned */
  GHashTable *ids;            /* their ids (borrowed) */
  guint n_failed;             /* reports the last load could not read */
  char *failure;              /* why the first of them could not be */
};

RrSrLayer *
rr_sr_layer_new (void)
{
  RrSrLayer *self = g_new0 (RrSrLayer, 1);
  self->measurements = g_ptr_array_new_with_free_func ((GDestroyNotify) rr_measurement_free);
  self->ids = g_hash_table_new (g_str_hash, g_str_equal);
  return self;
}

void
rr_sr_layer_free (RrSrLayer *self)
{
  if (self == NULL)
    return;
  g_hash_table_unref (self->ids);
  g_ptr_array_unref (self->measurements);
  g_free (self->failure);
  g_free (self);
}

static void
add_caliper (RrSrLayer  *self,
             JsonNode   *node,
             const char *lesion,
             const char *timepoint,
             guint       file)
{
  g_autofree char *text = NULL;
  RrMeasurement *m;

  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    return;
  text = json_to_string (node, FALSE);
  m = rr_measurement_from_json (text, NULL);
  /* Without the images, a caliper has only image points: nothing to draw. */
  if (m == NULL)
    return;
  g_free (m->id);
  m->id = g_strdup_printf ("sr-%u-%u", file, self->measurements->len);
  g_free (m->text);
  m->text = g_strdup_printf (_("%s at %s (structured report)"), lesion, timepoint);
  g_hash_table_add (self->ids, m->id);
  g_ptr_array_add (self->measurements, m);
}

/* Every caliper of every lesion of one imported read. */
static void
add_read (RrSrLayer  *self,
          JsonObject *read,
          guint       file)
{
  const char *arrays[] = { "target_lesions", "non_target_lesions", "new_lesions" };

  for (guint a = 0; a < G_N_ELEMENTS (arrays); a++)
    {
      JsonArray *lesions = rr_json_get_array (read, arrays[a]);
      for (guint i = 0; lesions && i < json_array_get_length (lesions); i++)
        {
          JsonObject *lesion = rr_json_get_element (lesions, i);
          JsonObject *calipers = rr_json_get_object (lesion, "calipers");
          const char *id = rr_json_get_string (lesion, "id");
          g_autoptr (GList) tps = NULL;
          if (calipers == NULL)
            continue;
          if (id == NULL)
            id = "";
          tps = json_object_get_members (calipers);
          for (GList *t = tps; t; t = t->next)
            {
              JsonNode *v = json_object_get_member (calipers, t->data);
              if (JSON_NODE_HOLDS_ARRAY (v))
                for (guint k = 0; k < json_array_get_length (json_node_get_array (v)); k++)
                  add_caliper (self, json_array_get_element (json_node_get_array (v), k), id,
                               t->data, file);
              else
                add_caliper (self, v, id, t->data, file);
            }
        }
    }
}

void
rr_sr_layer_load (RrSrLayer   *self,
                  RrDicomScan *scan)
{
  guint n_files = 0;

  g_ptr_array_set_size (self->measurements, 0);
  g_hash_table_remove_all (self->ids);
  self->n_failed = 0;
  g_clear_pointer (&self->failure, g_free);
  for (guint i = 0; scan && i < scan->studies->len; i++)
    {
      RrDicomStudy *st = scan->studies->pdata[i];
      for (guint j = 0; j < st->series->len; j++)
        {
          RrDicomSeries *se = st->series->pdata[j];
          if (se->is_image || g_strcmp0 (se->modality, "SR") != 0)
            continue;
          for (guint k = 0; k < se->instances->len && n_files < RR_SR_LAYER_MAX_FILES; k++)
            {
              const char *paths[] = { rr_dicom_instance_path (rr_dicom_series_instance (se, k)),
                                      NULL };
              g_autoptr (GError) error = NULL;
              g_autoptr (JsonParser) p = json_parser_new ();
              g_autofree char *json = rr_dicom_sr_import (paths, scan, &error);
              n_files++;
              /* One report that is not a measurement report (another SR
               * template) does not hide the others. */
              if (json && json_parser_load_from_data (p, json, -1, NULL) &&
                  JSON_NODE_HOLDS_OBJECT (json_parser_get_root (p)))
                add_read (self, json_node_get_object (json_parser_get_root (p)), n_files);
              else
                {
                  self->n_failed++;
                  if (self->failure == NULL)
                    self->failure = g_strdup (error ? error->message
                                                    : _("not a measurement report"));
                }
            }
        }
    }
}

void
rr_sr_layer_tell_failures (RrSrLayer       *self,
                           AdwToastOverlay *toasts)
{
  if (toasts && self->n_failed > 0)
    {
      g_autofree char *msg = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                                           "%u structured report could not be "
                                                           "shown: %s",
                                                           "%u structured reports could not be "
                                                           "shown: %s", self->n_failed),
                                              self->n_failed, self->failure);
      adw_toast_overlay_add_toast (toasts, adw_toast_new (msg));
    }
}

GPtrArray *
rr_sr_layer_add (RrSrLayer  *self,
                 GPtrArray  *items,
                 const char *series_uid)
{
  for (guint i = 0; i < self->measurements->len; i++)
    {
      const RrMeasurement *m = self->measurements->pdata[i];
      if (g_strcmp0 (m->series_uid, series_uid) != 0)
        continue;
      if (items == NULL)
        items = g_ptr_array_new_with_free_func ((GDestroyNotify) rr_measurement_free);
      g_ptr_array_add (items, rr_measurement_copy (m));
    }
  return items;
}

gboolean
rr_sr_layer_owns (RrSrLayer  *self,
                  const char *measurement_id)
{
  return measurement_id && g_hash_table_contains (self->ids, measurement_id);
}
