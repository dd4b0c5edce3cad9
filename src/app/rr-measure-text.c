/* rr-measure-text.c: measurement values and places in words, translated,
 * one decimal for millimetres as the read JSON keeps them. */
#include "rr-measure-text.h"

#include <glib/gi18n.h>
#include <math.h>

const char *
rr_measure_text_kind (RrMeasureKind kind)
{
  switch (kind)
    {
    case RR_MEASURE_LENGTH:
      return _("Length");
    case RR_MEASURE_BIDIRECTIONAL:
      return _("Bidirectional");
    case RR_MEASURE_ELLIPSE:
      return _("Ellipse");
    case RR_MEASURE_FREEHAND:
      return _("Freehand");
    case RR_MEASURE_ANGLE:
      return _("Angle");
    case RR_MEASURE_PROBE:
      return _("Probe");
    case RR_MEASURE_ARROW:
      return _("Arrow");
    default:
      return _("Measurement");
    }
}

/* A statistic in its units: HU as integers, SUV with two decimals. */
static char *
stat (double v, const char *units)
{
  if (g_strcmp0 (units, "HU") == 0)
    return g_strdup_printf ("%.0f", v);
  if (g_str_has_prefix (units, "SUV"))
    return g_strdup_printf ("%.2f", v);
  return g_strdup_printf ("%.1f", v);
}

static char *value_text (const RrMeasurement *m, const RrMeasureValues *v, gboolean short_axis);

char *
rr_measure_text_value (const RrMeasurement   *m,
                       const RrMeasureValues *v)
{
  return value_text (m, v, TRUE);
}

char *
rr_measure_text_lesion_value (const RrMeasurement   *m,
                              const RrMeasureValues *v,
                              RrLesionNameFunc       func,
                              gpointer               user_data)
{
  gboolean short_axis = TRUE;
  const char *lesion = func ? func (m->id, &short_axis, user_data) : NULL;
  g_autofree char *value = value_text (m, v, lesion == NULL || short_axis);
  return lesion ? g_strdup_printf ("%s · %s", lesion, value) : g_steal_pointer (&value);
}

/* @short_axis: whether a bidirectional's missing short axis is said. */
static char *
value_text (const RrMeasurement   *m,
            const RrMeasureValues *v,
            gboolean               short_axis)
{
  const char *unit = v->calibrated ? _("mm") : _("px");
  const char *unit2 = v->calibrated ? _("mm²") : _("px²");
  const char *suffix = v->calibrated ? "" : _(" (uncalibrated)");
  GString *s = g_string_new (NULL);

  switch (m->kind)
    {
    case RR_MEASURE_LENGTH:
      g_string_append_printf (s, "%.1f %s%s", v->length, unit, suffix);
      break;
    case RR_MEASURE_BIDIRECTIONAL:
      if (rr_measurement_has_short_axis (m))
        g_string_append_printf (s, "%.1f × %.1f %s%s", v->length, v->width, unit, suffix);
      else if (!short_axis)
        /* A tumour's size is its long axis: nothing is missing. */
        g_string_append_printf (s, "%.1f %s%s", v->length, unit, suffix);
      else
        /* Said, not shown as 0: the reader has still to drag it out. */
        g_string_append_printf (s, _("%.1f %s%s · short axis not measured"), v->length, unit,
                                suffix);
      break;
    case RR_MEASURE_ANGLE:
      g_string_append_printf (s, "%.1f°", v->angle_deg);
      break;
    case RR_MEASURE_ARROW:
      g_string_append (s, m->text && *m->text ? m->text : _("(no label)"));
      break;
    case RR_MEASURE_PROBE:
      if (v->has_stats)
        {
          g_autofree char *val = stat (v->mean, v->units);
          g_string_append_printf (s, "%s %s", val, v->units);
        }
      else
        g_string_append (s, _("outside the image"));
      break;
    case RR_MEASURE_ELLIPSE:
    case RR_MEASURE_FREEHAND:
      g_string_append_printf (s, _("Area %.1f %s%s"), v->area, unit2, suffix);
      if (v->has_stats)
        {
          g_autofree char *mean = stat (v->mean, v->units), *sd = stat (v->sd, v->units);
          g_autofree char *lo = stat (v->min, v->units), *hi = stat (v->max, v->units);
          g_string_append_printf (s, _(" · mean %s ± %s %s · min %s · max %s"), mean, sd,
                                  v->units, lo, hi);
        }
      break;
    default:
      break;
    }
  return g_string_free (s, FALSE);
}

char *
rr_measure_text_where (const RrMeasurement *m,
                       const RrVolume      *v)
{
  RrVec3 n = rr_measurement_normal (m);
  const char *plane = NULL;
  static const struct
  {
    RrVec3 n;
    const char *name;
  } planes[] = {
    { { 0, 0, 1 }, N_("Axial") },
    { { 0, 1, 0 }, N_("Coronal") },
    { { 1, 0, 0 }, N_("Sagittal") },
  };

  for (guint i = 0; i < G_N_ELEMENTS (planes); i++)
    if (fabs (rr_vec3_dot (n, planes[i].n)) > 0.9999)
      plane = _(planes[i].name);
  if (v && m->sop_uid)
    for (guint k = 0; k < v->dims[2]; k++)
      if (g_strcmp0 (v->slice_sop[k], m->sop_uid) == 0 && v->slice_frame[k] == m->frame)
        return g_strdup_printf (_("%s · slice %u / %u"), plane ? plane : _("Image"), k + 1,
                                v->dims[2]);
  if (m->slab_mode != RR_SLAB_NONE)
    return g_strdup_printf (_("%s slab %.0f mm"), plane ? plane : _("Oblique"), m->slab_mm);
  return g_strdup_printf (_("%s plane"), plane ? plane : _("Oblique"));
}
