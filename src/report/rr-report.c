/* rr-report.c: the read as an A4 PDF drawn with cairo and pango: what a
 * person checks a read by. Responses come from the core criteria engine,
 * key images from the same CPU reslicer the viewer is tested against,
 * through each caliper's own plane. */
#include "rr-report.h"
#include "rr-read.h"
#include "rr-criteria.h"
#include "rr-response-text.h"
#include "rr-organs.h"
#include "rr-measurement.h"
#include "rr-reslice.h"

#include <cairo.h>
#include <cairo-pdf.h>
#include <pango/pangocairo.h>
#include <string.h>
#include <glib/gi18n.h>
#include <math.h>
#include <string.h>

G_DEFINE_QUARK (rr-report-error-quark, rr_report_error)

#define PAGE_W 595.276   /* A4 in points */
#define PAGE_H 841.890
#define MARGIN 50.0
#define TEXT_W (PAGE_W - 2 * MARGIN)
#define FONT "DejaVu Sans"
#define KEY_PX 256       /* key images are resliced at this size */
#define KEY_PT 230.0     /* and shown this large */

typedef struct
{
  cairo_t *cr;
  double y;
  int page;
  const char *subject;        /* the images' Patient ID */
  RrRead *read;
  JsonObject *root;
  JsonObject *wrapper;   /* the server's submission document, or NULL */
  const char *trial;     /* the trial's id, or NULL when nothing names it */
  const char *reader;    /* the reader's label ("Reader 1"), or NULL */
  char *reader_owned;
  RrCriteriaResult *res;
  RrDicomScan *scan;
  GHashTable *volumes;   /* series UID -> RrVolume, or NULL when it failed */
} Doc;

/* ---- text ---- */

static double
text_at (Doc *d, double x, double y, double width, double size, gboolean bold,
         PangoAlignment align, const char *s)
{
  PangoLayout *layout = pango_cairo_create_layout (d->cr);
  PangoFontDescription *fd = pango_font_description_from_string (FONT);
  int w, h;

  /* Absolute sizes: points on the page, whatever the font map's dpi. */
  pango_font_description_set_absolute_size (fd, size * PANGO_SCALE);
  pango_font_description_set_weight (fd, bold ? PANGO_WEIGHT_BOLD : PANGO_WEIGHT_NORMAL);
  pango_layout_set_font_description (layout, fd);
  pango_layout_set_width (layout, (int) (width * PANGO_SCALE));
  pango_layout_set_wrap (layout, PANGO_WRAP_WORD_CHAR);
  pango_layout_set_alignment (layout, align);
  pango_layout_set_text (layout, s, -1);
  cairo_move_to (d->cr, x, y);
  pango_cairo_show_layout (d->cr, layout);
  /* The move_to must not join the next path drawn. */
  cairo_new_path (d->cr);
  pango_layout_get_size (layout, &w, &h);
  pango_font_description_free (fd);
  g_object_unref (layout);
  return (double) h / PANGO_SCALE;
}

static void
footer (Doc *d)
{
  g_autofree char *s = g_strdup_printf ("Readroom read report · subject %s · page %d",
                                        d->subject, d->page);
  cairo_set_source_rgb (d->cr, 0.4, 0.4, 0.4);
  text_at (d, MARGIN, PAGE_H - MARGIN + 18, TEXT_W, 7.5, FALSE, PANGO_ALIGN_CENTER, s);
  cairo_set_source_rgb (d->cr, 0, 0, 0);
}

static void
new_page (Doc *d)
{
  cairo_show_page (d->cr);
  d->page++;
  d->y = MARGIN;
  footer (d);
}

static void
need (Doc *d, double height)
{
  if (d->y + height > PAGE_H - MARGIN)
    new_page (d);
}

static void
para (Doc *d, double size, gboolean bold, const char *s)
{
  need (d, size * 1.6);
  d->y += text_at (d, MARGIN, d->y, TEXT_W, size, bold, PANGO_ALIGN_LEFT, s) + size * 0.4;
}

static void
heading (Doc *d, const char *s)
{
  need (d, 60);
  d->y += 8;
  para (d, 13, TRUE, s);
}

/* A table row: cells at the given column offsets (the last ends at the
 * text width); a header row is bold over a rule. */
static void
row (Doc *d, const double *cols, guint n, const char * const *cells, gboolean header)
{
  double h = 0;
  need (d, 16);
  for (guint i = 0; i < n; i++)
    {
      double w = (i + 1 < n ? cols[i + 1] : TEXT_W) - cols[i] - 4;
      h = MAX (h, text_at (d, MARGIN + cols[i], d->y, w, 8.5, header, PANGO_ALIGN_LEFT,
                           cells[i] ? cells[i] : ""));
    }
  d->y += h + 3;
  if (header)
    {
      cairo_set_line_width (d->cr, 0.6);
      cairo_move_to (d->cr, MARGIN, d->y - 1.5);
      cairo_line_to (d->cr, MARGIN + TEXT_W, d->y - 1.5);
      cairo_stroke (d->cr);
      d->y += 1;
    }
}

/* ---- words ---- */

static char *
mm (gint64 tenths)
{
  gint64 a = tenths < 0 ? -tenths : tenths;
  return g_strdup_printf ("%s%" G_GINT64_FORMAT ".%d", tenths < 0 ? "−" : "", a / 10,
                          (int) (a % 10));
}

static char *
pct (gint64 value, gint64 reference)
{
  if (reference == 0)
    return g_strdup ("—");
  return rr_pct_text (value, reference);
}

static char *
meas_text (const RrMeas *m)
{
  switch (m->kind)
    {
    case RR_MEAS_VALUE:
      {
        g_autofree char *s = mm (m->tenths);
        return m->n_fragments > 1 ? g_strdup_printf ("%s (%u fragments)", s, m->n_fragments)
                                  : g_strdup (s);
      }
    case RR_MEAS_TSTM: return g_strdup ("too small to measure (5.0)");
    case RR_MEAS_NE: return g_strdup ("not evaluable");
    case RR_MEAS_MERGED: return g_strdup ("merged");
    case RR_MEAS_MISSING: default: return g_strdup ("—");
    }
}

static const char *
organ_label (const char *organ)
{
  const RrOrgan *o = organ ? rr_organs_lookup (organ) : NULL;
  return o ? o->label : organ ? organ : "";
}

static const RrTimepoint *
tp_at (Doc *d, guint i)
{
  return d->read->timepoints->pdata[i];
}

static const RrTimepointResult *
result_of (Doc *d, guint tp)
{
  for (guint i = 0; d->res && i < d->res->timepoints->len; i++)
    {
      const RrTimepointResult *r = &g_array_index (d->res->timepoints, RrTimepointResult, i);
      if (g_str_equal (r->id, tp_at (d, tp)->id))
        return r;
    }
  return NULL;
}

/* ---- responses and the plot ---- */

static void
responses (Doc *d)
{
  /* Non-target and overall wide enough for "non-CR/non-PD" on one line. */
  static const double cols[] = { 0, 62, 92, 142, 200, 252, 290, 366, 416 };
  const char *head[] = { "Timepoint", "Day", "Sum (mm)", "vs baseline", "vs nadir",
                         "Target", "Non-target", "New", "Overall" };

  heading (d, "Responses");
  if (d->res == NULL)
    {
      para (d, 9, FALSE, "The read's criteria are unknown: no responses.");
      return;
    }
  row (d, cols, 9, head, TRUE);
  for (guint i = 0; i < d->read->timepoints->len; i++)
    {
      const RrTimepoint *t = tp_at (d, i);
      const RrTimepointResult *r = result_of (d, i);
      g_autofree char *day = g_strdup_printf ("%d", t->day);
      g_autofree char *sum = NULL, *bl = NULL, *nadir = NULL;
      if (i == 0)
        {
          sum = d->res->has_targets ? mm (d->res->baseline_sum) : g_strdup ("—");
          const char *cells[] = { t->id, day, sum, "baseline", "", "", "", "", "" };
          row (d, cols, 9, cells, FALSE);
          continue;
        }
      if (r == NULL)
        continue;
      if (d->res->has_targets && r->evaluable)
        {
          sum = mm (r->sum);
          bl = pct (r->sum, d->res->baseline_sum);
          nadir = pct (r->sum, r->nadir);
        }
      else
        sum = g_strdup (d->res->has_targets ? "NE" : "—");
      const char *cells[] = { t->id, day, sum, bl ? bl : "—", nadir ? nadir : "—",
                              rr_response_short (r->target),
                              rr_response_short (r->non_target),
                              rr_new_status_words (r->new_lesions),
                              rr_response_short (r->overall) };
      row (d, cols, 9, cells, FALSE);
    }
  d->y += 6;
  g_autofree char *bor = g_strdup_printf (
    "Best overall response: %s.   Progression: %s.",
    d->res->best_overall_response ? rr_response_words (d->res->best_overall_response) : "none",
    d->res->progression_timepoint >= 0 ? tp_at (d, d->res->progression_timepoint)->id : "none");
  para (d, 10, TRUE, bor);
  for (guint i = 0; i < d->res->violations->len; i++)
    {
      RrIssue *v = d->res->violations->pdata[i];
      g_autofree char *s = g_strdup_printf ("Rule broken (%s): %s", v->rule, v->message);
      para (d, 8.5, FALSE, s);
    }
  for (guint i = 0; i < d->res->warnings->len; i++)
    {
      RrIssue *v = d->res->warnings->pdata[i];
      g_autofree char *s = g_strdup_printf ("Warning (%s): %s", v->rule, v->message);
      para (d, 8.5, FALSE, s);
    }
}

static void
plot (Doc *d)
{
  const double h = 190, left = 44, bottom = 34, top = 12;
  double x0 = MARGIN + left, y0, w = TEXT_W - left - 20, ph;
  gint64 maxv = 0;
  int dmin = tp_at (d, 0)->day, dmax = dmin;
  guint n = d->read->timepoints->len;
  /* The points stay this far inside the axes: a value's label is 80 pt
   * wide, centred on its point, and must not sit on the y axis. */
  const double inset = 44;

  if (d->res == NULL || !d->res->has_targets)
    return;
  heading (d, "Sum of diameters over time");
  need (d, h);
  y0 = d->y + top;
  ph = h - top - bottom;
  for (guint i = 0; i < n; i++)
    {
      const RrTimepointResult *r = result_of (d, i);
      gint64 s = i == 0 ? d->res->baseline_sum : r ? r->sum : 0;
      maxv = MAX (maxv, s);
      dmin = MIN (dmin, tp_at (d, i)->day);
      dmax = MAX (dmax, tp_at (d, i)->day);
    }
  /* A round top for the axis, in steps of 5, 10, 25, 50... mm over four
   * grid lines, a tenth above the largest sum. */
  double step = 5, top_mm = maxv / 10.0 * 1.1;
  while (step * 4 < top_mm)
    step = step == 5 ? 10 : step == 10 ? 25 : step * 2;
  double ymax = step * 4;
#define PX(day) (x0 + inset + (dmax > dmin ? ((day) - dmin) / (double) (dmax - dmin) : 0.5) \
                                * (w - 2 * inset))
#define PY(tenths) (y0 + ph - ((tenths) / 10.0) / ymax * ph)
  cairo_set_line_width (d->cr, 0.6);
  cairo_set_source_rgb (d->cr, 0.75, 0.75, 0.75);
  for (int k = 0; k <= 4; k++)
    {
      double v = ymax * k / 4;
      double y = PY (v * 10);
      cairo_move_to (d->cr, x0, y);
      cairo_line_to (d->cr, x0 + w, y);
      cairo_stroke (d->cr);
      g_autofree char *s = g_strdup_printf ("%.0f", v);
      cairo_set_source_rgb (d->cr, 0, 0, 0);
      text_at (d, MARGIN, y - 5, left - 6, 7.5, FALSE, PANGO_ALIGN_RIGHT, s);
      cairo_set_source_rgb (d->cr, 0.75, 0.75, 0.75);
    }
  cairo_set_source_rgb (d->cr, 0, 0, 0);
  cairo_move_to (d->cr, x0, y0);
  cairo_line_to (d->cr, x0, y0 + ph);
  cairo_line_to (d->cr, x0 + w, y0 + ph);
  cairo_stroke (d->cr);
  text_at (d, MARGIN - 4, y0 - top - 2, 120, 7.5, FALSE, PANGO_ALIGN_LEFT, "mm");
  /* The line through evaluable sums; a timepoint with an unmeasured
   * target has no sum and breaks it. */
  gboolean pen = FALSE;
  cairo_set_source_rgb (d->cr, 0.1, 0.3, 0.7);
  cairo_set_line_width (d->cr, 1.5);
  for (guint i = 0; i < n; i++)
    {
      const RrTimepointResult *r = result_of (d, i);
      gboolean ok = i == 0 || (r && r->evaluable);
      gint64 s = i == 0 ? d->res->baseline_sum : r ? r->sum : 0;
      if (!ok)
        {
          cairo_stroke (d->cr);
          pen = FALSE;
          continue;
        }
      if (pen)
        cairo_line_to (d->cr, PX (tp_at (d, i)->day), PY (s));
      else
        cairo_move_to (d->cr, PX (tp_at (d, i)->day), PY (s));
      pen = TRUE;
    }
  cairo_stroke (d->cr);
  for (guint i = 0; i < n; i++)
    {
      const RrTimepointResult *r = result_of (d, i);
      gboolean ok = i == 0 || (r && r->evaluable);
      gint64 s = i == 0 ? d->res->baseline_sum : r ? r->sum : 0;
      double x = PX (tp_at (d, i)->day);
      g_autofree char *label = g_strdup_printf ("%s\nday %d", tp_at (d, i)->id, tp_at (d, i)->day);
      cairo_set_source_rgb (d->cr, 0, 0, 0);
      text_at (d, x - 40, y0 + ph + 4, 80, 7.5, FALSE, PANGO_ALIGN_CENTER, label);
      if (!ok)
        continue;
      g_autofree char *v = mm (s);
      cairo_set_source_rgb (d->cr, 0.1, 0.3, 0.7);
      cairo_new_path (d->cr);
      cairo_arc (d->cr, x, PY (s), 3, 0, 2 * G_PI);
      cairo_fill (d->cr);
      text_at (d, x - 40, PY (s) - 14, 80, 7.5, TRUE, PANGO_ALIGN_CENTER, v);
    }
#undef PX
#undef PY
  cairo_set_source_rgb (d->cr, 0, 0, 0);
  d->y += h;
}

/* ---- lesion tables ---- */

static void
lesion_tables (Doc *d)
{
  static const double tcols[] = { 0, 66, 170, 300, 350 };
  static const double ncols[] = { 0, 66, 170, 300 };
  static const double wcols[] = { 0, 66, 170, 240, 310 };

  for (guint i = 0; i < d->read->timepoints->len; i++)
    {
      const RrTimepoint *t = tp_at (d, i);
      g_autofree char *h = g_strdup_printf ("Timepoint %s — day %d%s", t->id, t->day,
                                            i == 0 ? " (baseline)" : "");
      heading (d, h);
      if (d->read->targets->len > 0)
        {
          const char *head[] = { "Target", "Organ", "Location", "Axis", "Size (mm)" };
          row (d, tcols, 5, head, TRUE);
          for (guint k = 0; k < d->read->targets->len; k++)
            {
              RrTargetLesion *l = d->read->targets->pdata[k];
              g_autofree char *v = meas_text (&l->meas[i]);
              const char *cells[] = { l->id, organ_label (l->organ), l->location,
                                      l->nodal ? "short" : "long", v };
              row (d, tcols, 5, cells, FALSE);
            }
          d->y += 4;
        }
      if (d->read->non_targets->len > 0)
        {
          const char *head[] = { "Non-target", "Organ", "Location", "Status" };
          row (d, ncols, 4, head, TRUE);
          for (guint k = 0; k < d->read->non_targets->len; k++)
            {
              RrNonTargetLesion *l = d->read->non_targets->pdata[k];
              const char *st = l->status[i] == RR_NT_MISSING ? "—"
                               : rr_nt_status_to_string (l->status[i]);
              g_autofree char *s = g_strdup_printf ("%s%s", st,
                                                    l->increased[i] ? ", increased" : "");
              const char *cells[] = { l->id, organ_label (l->organ), l->location, s };
              row (d, ncols, 4, cells, FALSE);
            }
          d->y += 4;
        }
      gboolean any = FALSE;
      for (guint k = 0; k < d->read->new_lesions->len; k++)
        {
          RrNewLesion *l = d->read->new_lesions->pdata[k];
          if (l->timepoint > i)
            continue;
          if (!any)
            {
              const char *head[] = { "New lesion", "Organ", "First seen", "Certainty", "Size (mm)" };
              row (d, wcols, 5, head, TRUE);
              any = TRUE;
            }
          g_autofree char *v = meas_text (&l->meas[i]);
          const char *cells[] = { l->id, organ_label (l->organ), tp_at (d, l->timepoint)->id,
                                  l->equivocal ? "equivocal" : "unequivocal", v };
          row (d, wcols, 5, cells, FALSE);
        }
      if (!any && i > 0)
        para (d, 8.5, FALSE, "No new lesions.");
    }
}

/* ---- signatures ---- */

static const char *
member_string (JsonObject *o, const char *name)
{
  JsonNode *n = o && json_object_has_member (o, name) ? json_object_get_member (o, name) : NULL;
  return n && JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_STRING
         ? json_node_get_string (n) : NULL;
}

/* The server's receipt: the submission document's, else the read's own
 * "receipt" member. */
static JsonObject *
receipt_of (Doc *d)
{
  JsonObject *from = d->wrapper ? d->wrapper : d->root;
  JsonNode *n = json_object_has_member (from, "receipt") ? json_object_get_member (from, "receipt")
                                                         : NULL;
  return n && JSON_NODE_HOLDS_OBJECT (n) ? json_node_get_object (n) : NULL;
}

/* The adjudication the read is the outcome of ({"chosen", "rationale"},
 * as the export's "adjudication"), or NULL for a reader's own read. */
static JsonObject *
adjudication_of (Doc *d)
{
  JsonNode *n = json_object_has_member (d->root, "adjudication")
                ? json_object_get_member (d->root, "adjudication") : NULL;
  return n && JSON_NODE_HOLDS_OBJECT (n) ? json_node_get_object (n) : NULL;
}

/* The adjudicator's rationale as signed (its reasons lead it), beside the
 * signature, in pieces of a few lines so that a long one breaks across
 * pages instead of running off the sheet. */
static void
rationale (Doc *d, JsonObject *adj)
{
  const char *chosen = member_string (adj, "chosen");
  const char *text = member_string (adj, "rationale");
  g_autofree char *line = g_strdup_printf ("Adjudication: %s's read chosen as the final "
                                           "assessment.", chosen ? chosen : "a reader");
  para (d, 8.5, TRUE, line);
  para (d, 8.5, TRUE, "Adjudicator's rationale, as signed:");
  if (text == NULL || *text == '\0')
    {
      para (d, 8.5, FALSE, "None given.");
      return;
    }
  while (*text)
    {
      const char *end = text + strlen (text);
      g_autofree char *piece = NULL;
      if (end - text > 320)
        {
          end = g_utf8_find_prev_char (text, text + 320);
          for (const char *sp = end; sp > text + 160; sp--)
            if (*sp == ' ')
              {
                end = sp;
                break;
              }
        }
      piece = g_strndup (text, end - text);
      need (d, 8.5 * 1.4 * 6);
      d->y += text_at (d, MARGIN, d->y, TEXT_W, 8.5, FALSE, PANGO_ALIGN_LEFT, piece);
      text = *end == ' ' ? end + 1 : end;
    }
  d->y += 8.5 * 0.4;
}

static void
signatures (Doc *d)
{
  static const double cols[] = { 0, 150, 290 };
  const char *head[] = { "Signed by", "Time", "Meaning" };
  g_autoptr (GPtrArray) sigs = g_ptr_array_new ();
  JsonObject *receipt = receipt_of (d);
  JsonNode *n = json_object_has_member (d->root, "signatures")
                ? json_object_get_member (d->root, "signatures") : NULL;
  guint shown = 0;

  if (n && JSON_NODE_HOLDS_ARRAY (n))
    for (guint i = 0; i < json_array_get_length (json_node_get_array (n)); i++)
      {
        JsonNode *e = json_array_get_element (json_node_get_array (n), i);
        if (JSON_NODE_HOLDS_OBJECT (e))
          g_ptr_array_add (sigs, json_node_get_object (e));
      }
  n = json_object_has_member (d->root, "signature")
      ? json_object_get_member (d->root, "signature") : NULL;
  if (n && JSON_NODE_HOLDS_OBJECT (n))
    g_ptr_array_add (sigs, json_node_get_object (n));
  heading (d, "Signature and receipt");
  row (d, cols, 3, head, TRUE);
  for (guint i = 0; i < sigs->len; i++)
    {
      JsonObject *o = sigs->pdata[i];
      const char *cells[] = { member_string (o, "name"), member_string (o, "time"),
                              member_string (o, "meaning") };
      if (cells[0] || cells[1] || cells[2])
        {
          row (d, cols, 3, cells, FALSE);
          shown++;
        }
    }
  /* The server's submission document: who signed, and when the server
   * took it (the receipt's time is the signature's). */
  if (d->wrapper && member_string (d->wrapper, "signed_by"))
    {
      const char *cells[] = { member_string (d->wrapper, "signed_by"),
                              receipt ? member_string (receipt, "submitted_at") : NULL,
                              member_string (d->wrapper, "meaning") };
      row (d, cols, 3, cells, FALSE);
      shown++;
    }
  if (shown == 0)
    para (d, 8.5, TRUE, "Not signed: the read carries no signature.");
  d->y += 4;
  if (adjudication_of (d))
    rationale (d, adjudication_of (d));
  if (receipt && member_string (receipt, "id"))
    {
      g_autofree char *s = g_strdup_printf ("Server receipt %s, received %s.",
                                            member_string (receipt, "id"),
                                            member_string (receipt, "submitted_at")
                                              ? member_string (receipt, "submitted_at")
                                              : "at a time not given");
      para (d, 8.5, FALSE, s);
    }
  else
    para (d, 8.5, TRUE, "No server receipt: the read does not show that the server took it.");
}

/* ---- key images ---- */

static RrVolume *
volume_for (Doc *d, const char *series_uid, char **why)
{
  gpointer v;
  if (g_hash_table_lookup_extended (d->volumes, series_uid, NULL, &v))
    {
      if (v == NULL)
        *why = g_strdup ("the series could not be loaded");
      return v;
    }
  RrDicomSeries *se = rr_dicom_scan_find_series (d->scan, series_uid);
  g_autoptr (GError) error = NULL;
  RrVolume *vol = NULL;
  if (se == NULL || !se->is_image)
    *why = g_strdup_printf ("series %s is not under --images", series_uid);
  else if ((vol = rr_dicom_series_load (se, 0, NULL, NULL, &error)) == NULL)
    *why = g_strdup (error->message);
  g_hash_table_insert (d->volumes, g_strdup (series_uid), vol);
  return vol;
}

/* The calipers of @lesion at @tp with at least @min_points points (a
 * target's size is a line; a new lesion may be marked with a point). */
static GPtrArray *
calipers_of (JsonObject *lesion, const char *tp, guint min_points)
{
  GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify) rr_measurement_free);
  JsonNode *cs = lesion && json_object_has_member (lesion, "calipers")
                 ? json_object_get_member (lesion, "calipers") : NULL;
  JsonNode *n = cs && JSON_NODE_HOLDS_OBJECT (cs) &&
                json_object_has_member (json_node_get_object (cs), tp)
                ? json_object_get_member (json_node_get_object (cs), tp) : NULL;
  GPtrArray *nodes = g_ptr_array_new ();
  if (n && JSON_NODE_HOLDS_ARRAY (n))
    for (guint i = 0; i < json_array_get_length (json_node_get_array (n)); i++)
      g_ptr_array_add (nodes, json_array_get_element (json_node_get_array (n), i));
  else if (n && JSON_NODE_HOLDS_OBJECT (n))
    g_ptr_array_add (nodes, n);
  for (guint i = 0; i < nodes->len; i++)
    {
      g_autofree char *text = json_to_string (nodes->pdata[i], FALSE);
      RrMeasurement *m = rr_measurement_from_json (text, NULL);
      if (m && m->points->len >= MAX (min_points, 1))
        g_ptr_array_add (out, m);
      else if (m)
        rr_measurement_free (m);
    }
  g_ptr_array_unref (nodes);
  return out;
}

/* One key image: the caliper's plane through the middle of the caliper,
 * a field of view of three times its length (at least 60 mm), and the
 * caliper drawn over it as vectors; a point (a new lesion marked, not
 * measured) as a ring around it. */
static void
key_image (Doc *d, double x, double y, const RrMeasurement *m, const char *caption)
{
  g_autofree char *why = NULL;
  RrVolume *vol = m->series_uid ? volume_for (d, m->series_uid, &why) : NULL;
  RrVec3 a = rr_measurement_point (m, 0);
  RrVec3 b = m->points->len > 1 ? rr_measurement_point (m, 1) : a;
  double len = rr_vec3_length (rr_vec3_sub (b, a));
  RrPlane plane = {
    .center = rr_measurement_center (m),
    .right = m->plane_right,
    .down = m->plane_down,
    .mm_per_pixel = MAX (60.0, 3 * len) / KEY_PX,
    .width = KEY_PX,
    .height = KEY_PX,
    .slab_mode = m->slab_mode,
    .slab_mm = m->slab_mm,
  };
  double k = KEY_PT / KEY_PX;

  cairo_save (d->cr);
  if (vol == NULL)
    {
      cairo_set_source_rgb (d->cr, 0.9, 0.9, 0.9);
      cairo_rectangle (d->cr, x, y, KEY_PT, KEY_PT);
      cairo_fill (d->cr);
      cairo_set_source_rgb (d->cr, 0, 0, 0);
      g_autofree char *s = g_strdup_printf ("No image: %s", why ? why : "the caliper names no series");
      text_at (d, x + 8, y + KEY_PT / 2 - 10, KEY_PT - 16, 8, FALSE, PANGO_ALIGN_CENTER, s);
    }
  else
    {
      gsize npx = (gsize) KEY_PX * KEY_PX;
      g_autofree float *values = g_new (float, npx);
      g_autofree guint8 *grey = g_new (guint8, npx);
      double c = vol->window_center, w = vol->window_width;
      if (vol->type == RR_VOXEL_RGB8)
        c = 127.5, w = 256;
      rr_reslice (vol, &plane, RR_RESLICE_OUTSIDE, 0, values);
      rr_window_to_grey (values, npx, c, w, vol->invert, grey);
      cairo_surface_t *img = cairo_image_surface_create (CAIRO_FORMAT_RGB24, KEY_PX, KEY_PX);
      guint8 *px = cairo_image_surface_get_data (img);
      int stride = cairo_image_surface_get_stride (img);
      cairo_surface_flush (img);
      for (int j = 0; j < KEY_PX; j++)
        for (int i = 0; i < KEY_PX; i++)
          {
            guint32 g = grey[(gsize) j * KEY_PX + i];
            *(guint32 *) (px + (gsize) j * stride + 4 * i) = (g << 16) | (g << 8) | g;
          }
      cairo_surface_mark_dirty (img);
      cairo_translate (d->cr, x, y);
      cairo_scale (d->cr, k, k);
      cairo_set_source_surface (d->cr, img, 0, 0);
      cairo_paint (d->cr);
      cairo_surface_destroy (img);
      /* The caliper, from patient millimetres to the image's pixels. */
      cairo_set_source_rgb (d->cr, 1.0, 0.85, 0.0);
      cairo_set_line_width (d->cr, 1.5 / k);
      for (guint s = 0; s + 1 < m->points->len && s < 4; s += 2)
        {
          if (m->kind != RR_MEASURE_BIDIRECTIONAL && s > 0)
            break;
          for (guint e = 0; e < 2; e++)
            {
              RrVec3 p = rr_vec3_sub (rr_measurement_point (m, s + e), plane.center);
              double px_ = rr_vec3_dot (p, plane.right) / plane.mm_per_pixel + KEY_PX / 2.0;
              double py_ = rr_vec3_dot (p, plane.down) / plane.mm_per_pixel + KEY_PX / 2.0;
              if (e == 0)
                cairo_move_to (d->cr, px_, py_);
              else
                cairo_line_to (d->cr, px_, py_);
            }
          cairo_stroke (d->cr);
        }
      if (m->points->len == 1)
        {
          RrVec3 p = rr_vec3_sub (a, plane.center);
          cairo_arc (d->cr, rr_vec3_dot (p, plane.right) / plane.mm_per_pixel + KEY_PX / 2.0,
                     rr_vec3_dot (p, plane.down) / plane.mm_per_pixel + KEY_PX / 2.0,
                     KEY_PX / 12.0, 0, 2 * G_PI);
          cairo_stroke (d->cr);
        }
    }
  cairo_restore (d->cr);
  text_at (d, x, y + KEY_PT + 3, KEY_PT, 8.5, FALSE, PANGO_ALIGN_LEFT, caption);
}

/* Places the next key image, after the heading on a page of their own. */
static void
place_key_image (Doc *d, guint *col, gboolean *any, const RrMeasurement *m, const char *cap)
{
  if (!*any)
    {
      new_page (d);
      heading (d, "Key images");
      *any = TRUE;
    }
  if (*col == 0)
    need (d, KEY_PT + 30);
  key_image (d, MARGIN + *col * (KEY_PT + (TEXT_W - 2 * KEY_PT)), d->y, m, cap);
  if (++*col == 2)
    {
      *col = 0;
      d->y += KEY_PT + 30;
    }
}

/* The new lesion @id of the read JSON. */
static JsonObject *
new_lesion_json (Doc *d, const char *id)
{
  JsonArray *a = json_object_has_member (d->root, "new_lesions") &&
                 JSON_NODE_HOLDS_ARRAY (json_object_get_member (d->root, "new_lesions"))
                 ? json_object_get_array_member (d->root, "new_lesions") : NULL;
  for (guint i = 0; a && i < json_array_get_length (a); i++)
    {
      JsonNode *n = json_array_get_element (a, i);
      if (JSON_NODE_HOLDS_OBJECT (n) &&
          g_strcmp0 (json_object_get_string_member_with_default (json_node_get_object (n), "id",
                                                                 NULL), id) == 0)
        return json_node_get_object (n);
    }
  return NULL;
}

static void
key_images (Doc *d)
{
  JsonArray *targets = json_object_has_member (d->root, "target_lesions")
                       ? json_object_get_array_member (d->root, "target_lesions") : NULL;
  guint col = 0;
  gboolean any = FALSE;

  for (guint i = 0; targets && i < d->read->targets->len && i < json_array_get_length (targets); i++)
    {
      RrTargetLesion *l = d->read->targets->pdata[i];
      JsonNode *ln = json_array_get_element (targets, i);
      for (guint t = 0; t < d->read->timepoints->len; t++)
        {
          g_autoptr (GPtrArray) cals = calipers_of (JSON_NODE_HOLDS_OBJECT (ln)
                                                    ? json_node_get_object (ln) : NULL,
                                                    tp_at (d, t)->id, 2);
          for (guint c = 0; c < cals->len; c++)
            {
              RrMeasurement *m = cals->pdata[c];
              g_autofree char *v = l->meas[t].kind == RR_MEAS_VALUE ? mm (l->meas[t].tenths)
                                                                    : meas_text (&l->meas[t]);
              g_autofree char *cap = cals->len > 1
                ? g_strdup_printf ("%s · %s · %s · fragment %u of %u · total %s mm", l->id,
                                   tp_at (d, t)->id, organ_label (l->organ), c + 1, cals->len, v)
                : g_strdup_printf ("%s · %s · %s · %s mm", l->id, tp_at (d, t)->id,
                                   organ_label (l->organ), v);
              place_key_image (d, &col, &any, m, cap);
            }
        }
    }
  /* A new lesion is what makes its timepoint PD: the reviewer sees it as
   * the targets are seen, from the timepoint it was first seen on. */
  for (guint k = 0; k < d->read->new_lesions->len; k++)
    {
      RrNewLesion *l = d->read->new_lesions->pdata[k];
      JsonObject *lo = new_lesion_json (d, l->id);
      for (guint t = l->timepoint; lo && t < d->read->timepoints->len; t++)
        {
          g_autoptr (GPtrArray) cals = calipers_of (lo, tp_at (d, t)->id, 1);
          for (guint c = 0; c < cals->len; c++)
            {
              RrMeasurement *m = cals->pdata[c];
              g_autofree char *v = l->meas && l->meas[t].kind == RR_MEAS_VALUE
                                   ? mm (l->meas[t].tenths) : NULL;
              g_autofree char *cap = g_strdup_printf ("%s · %s · %s · new lesion%s%s%s", l->id,
                                                      tp_at (d, t)->id, organ_label (l->organ),
                                                      v ? " · " : "", v ? v : "", v ? " mm" : "");
              place_key_image (d, &col, &any, m, cap);
            }
        }
    }
  if (col != 0)
    d->y += KEY_PT + 30;
}

/* ---- the document ---- */

static void
title (Doc *d)
{
  const char *crit = d->read->criteria ? d->read->criteria : "recist1.1";
  const RrCriteria *c = rr_criteria_lookup (crit);
  guint n = d->read->timepoints->len;
  g_autofree char *count = g_strdup_printf (g_dngettext (NULL, "%u timepoint", "%u timepoints", n),
                                            n);
  g_autofree char *span = n == 1 ? g_strdup_printf ("(%s)", tp_at (d, 0)->id)
                                 : g_strdup_printf ("(%s to %s)", tp_at (d, 0)->id,
                                                    tp_at (d, n - 1)->id);
  g_autofree char *sub = g_strdup_printf ("Trial %s · Subject %s · %s · %s %s",
                                          d->trial ? d->trial : "not named", d->subject,
                                          c ? c->name : crit, count, span);
  g_autofree char *who = g_strdup_printf ("Reader: %s", d->reader ? d->reader : "not named");

  d->y += text_at (d, MARGIN, d->y, TEXT_W, 20, TRUE, PANGO_ALIGN_LEFT,
                   adjudication_of (d) ? "Tumour response report: Adjudication"
                                       : "Tumour response report");
  d->y += 4;
  para (d, 10, FALSE, sub);
  para (d, 10, FALSE, who);
  if (adjudication_of (d))
    para (d, 10, FALSE, "The final read of an adjudication: the adjudicator's choice and "
                        "rationale are given with the signature.");
  /* A read that breaks the criteria's rules is no valid assessment (cli.md
   * "violations"): said first, in red, before anyone reads its numbers. */
  if (d->res && d->res->violations->len > 0)
    {
      g_autofree char *s = g_strdup_printf (
        g_dngettext (NULL, "NOT A VALID READ: it breaks %u rule of %s (listed under Responses).",
                     "NOT A VALID READ: it breaks %u rules of %s (listed under Responses).",
                     d->res->violations->len),
        d->res->violations->len, c ? c->name : crit);
      cairo_set_source_rgb (d->cr, 0.75, 0, 0);
      para (d, 11, TRUE, s);
      cairo_set_source_rgb (d->cr, 0, 0, 0);
    }
}

gboolean
rr_report_write_pdf (const char   *read_json,
                     gssize        length,
                     RrDicomScan  *scan,
                     const char   *pdf_path,
                     GError      **error)
{
  return rr_report_write_pdf_full (read_json, length, scan, pdf_path, NULL, NULL, NULL, error);
}

/* The read inside the server's submission document ({"task", "signed_by",
 * "meaning", "submission": {"read": {...}}, "receipt"}), or NULL when
 * @root is not one. */
static JsonObject *
submitted_read (JsonObject *root)
{
  JsonNode *sub = json_object_has_member (root, "submission")
                  ? json_object_get_member (root, "submission") : NULL;
  JsonNode *read;
  if (sub == NULL || !JSON_NODE_HOLDS_OBJECT (sub))
    return NULL;
  read = json_object_has_member (json_node_get_object (sub), "read")
         ? json_object_get_member (json_node_get_object (sub), "read") : NULL;
  return read && JSON_NODE_HOLDS_OBJECT (read) ? json_node_get_object (read) : NULL;
}

gboolean
rr_report_write_pdf_full (const char           *read_json,
                          gssize                length,
                          RrDicomScan          *scan,
                          const char           *pdf_path,
                          const RrReportNames  *names,
                          guint                *n_violations,
                          char                **first_violation,
                          GError              **error)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (RrRead) read = NULL;
  g_autoptr (RrCriteriaResult) res = NULL;
  g_autofree char *inner_json = NULL;
  JsonObject *root, *inner;
  Doc d = { 0 };

  g_return_val_if_fail (read_json != NULL && scan != NULL && pdf_path != NULL, FALSE);
  if (n_violations)
    *n_violations = 0;
  if (first_violation)
    *first_violation = NULL;
  if (!json_parser_load_from_data (parser, read_json, length, error))
    return FALSE;
  if (!JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    {
      g_set_error (error, RR_REPORT_ERROR, RR_REPORT_ERROR_INVALID, "not a read (a JSON object)");
      return FALSE;
    }
  root = json_node_get_object (json_parser_get_root (parser));
  if ((inner = submitted_read (root)) != NULL)
    {
      /* The read is parsed as the engine parses any read: from its text. */
      g_autoptr (JsonNode) node = json_node_alloc ();
      json_node_init_object (node, inner);
      inner_json = json_to_string (node, FALSE);
      d.wrapper = root;
      root = inner;
    }
  read = rr_read_parse (inner_json ? inner_json : read_json, inner_json ? -1 : length, error);
  if (read == NULL)
    return FALSE;
  if (read->timepoints->len == 0)
    {
      g_set_error (error, RR_REPORT_ERROR, RR_REPORT_ERROR_INVALID, "the read has no timepoints");
      return FALSE;
    }
  res = rr_criteria_evaluate (read, NULL);
  if (res && res->violations->len > 0)
    {
      if (n_violations)
        *n_violations = res->violations->len;
      if (first_violation)
        *first_violation = g_strdup (((RrIssue *) res->violations->pdata[0])->message);
    }

  cairo_surface_t *surface = cairo_pdf_surface_create (pdf_path, PAGE_W, PAGE_H);
  if (cairo_surface_status (surface) != CAIRO_STATUS_SUCCESS)
    {
      g_set_error (error, RR_REPORT_ERROR, RR_REPORT_ERROR_WRITE, "%s: %s", pdf_path,
                   cairo_status_to_string (cairo_surface_status (surface)));
      cairo_surface_destroy (surface);
      return FALSE;
    }
  cairo_pdf_surface_set_metadata (surface, CAIRO_PDF_METADATA_TITLE, "Tumour response report");
  cairo_pdf_surface_set_metadata (surface, CAIRO_PDF_METADATA_CREATOR, "Readroom " PACKAGE_VERSION);
  d.cr = cairo_create (surface);
  d.read = read;
  d.root = root;
  d.trial = names && names->trial ? names->trial : member_string (d.root, "trial");
  if (d.trial == NULL && d.wrapper)
    d.trial = member_string (d.wrapper, "trial");
  /* The reader as the export names them: the label, and the user name
   * beside it when the read gives one (the export is the admin's). */
  {
    const char *label = names && names->reader ? names->reader : member_string (d.root, "reader");
    const char *user = member_string (d.root, "user");
    if (label && user)
      d.reader = d.reader_owned = g_strdup_printf ("%s (%s)", label, user);
    else
      d.reader = label ? label : user;
  }
  d.res = res;
  d.scan = scan;
  d.volumes = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                     (GDestroyNotify) rr_volume_unref);
  /* The read's subject when it names one (the workstation's export does);
   * else the images' Patient ID, which de-identification for a trial makes
   * the subject ID (cli.md, deid --subject). */
  {
    JsonNode *sn = json_object_get_member (d.root, "subject");
    d.subject = sn && JSON_NODE_HOLDS_VALUE (sn) && json_node_get_value_type (sn) == G_TYPE_STRING
                  && *json_node_get_string (sn) ? json_node_get_string (sn) : NULL;
  }
  for (guint i = 0; i < scan->studies->len; i++)
    {
      RrDicomStudy *st = scan->studies->pdata[i];
      if (d.subject == NULL && st->patient_id && *st->patient_id)
        {
          d.subject = st->patient_id;
          break;
        }
    }
  if (d.subject == NULL)
    d.subject = "unknown";
  d.page = 1;
  d.y = MARGIN;
  footer (&d);
  title (&d);
  responses (&d);
  plot (&d);
  signatures (&d);
  lesion_tables (&d);
  key_images (&d);
  cairo_show_page (d.cr);
  g_hash_table_unref (d.volumes);
  g_free (d.reader_owned);
  cairo_destroy (d.cr);
  cairo_surface_finish (surface);
  cairo_status_t st = cairo_surface_status (surface);
  cairo_surface_destroy (surface);
  if (st != CAIRO_STATUS_SUCCESS)
    {
      g_set_error (error, RR_REPORT_ERROR, RR_REPORT_ERROR_WRITE, "%s: %s", pdf_path,
                   cairo_status_to_string (st));
      return FALSE;
    }
  return TRUE;
}
