/* rr-dicom-sr.cc: a read as one TID 1500 Measurement Report per timepoint,
 * built with dcmtk's cmr template classes (TID1500_MeasurementReport and
 * its TID 1501 measurement groups); only the SCOORD3D of an MPR caliper,
 * which TID 300 in dcmtk 3.6.7 cannot add, is placed in the tree by hand. */
/* Ours (meson's project version), taken before any header reaches
 * dcmtk's osconfig.h, which defines PACKAGE_VERSION as dcmtk's own
 * ("3.6.7"): rr-dicom-private.h does. */
static const char rr_version[] = PACKAGE_VERSION;

#include "rr-dicom-private.h"

#include "rr-dicom-sr-codes.h"
#include "rr-dicom-sr.h"
#include "rr-read.h"
#include "rr-json.h"
#include "rr-criteria.h"
#include "rr-organs.h"
#include "rr-measurement.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dctk.h>
#include <dcmtk/dcmsr/dsrdoc.h>
#include <dcmtk/dcmsr/codes/dcm.h>
#include <dcmtk/dcmsr/codes/sct.h>
#include <dcmtk/dcmsr/cmr/tid1500.h>
#include <glib/gstdio.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <math.h>
#include <string.h>
#include <new>
#include <algorithm>
#include <vector>

/* Thrown inside, turned into a GError at the extern "C" boundary. */
struct SrError
{
  int code;
  char *message;
};

static G_GNUC_NORETURN G_GNUC_PRINTF (2, 3) void
fail (int code, const char *format, ...)
{
  va_list ap;
  va_start (ap, format);
  SrError e = { code, g_strdup_vprintf (format, ap) };
  va_end (ap);
  throw e;
}

static void
ok (OFCondition c, const char *what)
{
  if (c.bad ())
    fail (RR_DICOM_ERROR_WRITE, "%s: %s", what, c.text ());
}

/* A UID under 2.25 (PS3.5 B.2) from the SHA-256 of @key: the same read and
 * lesion always give the same Tracking Unique Identifier. */
static char *
uid_from_key (const char *key)
{
  guint8 digest[32];
  gsize len = sizeof digest;
  g_autoptr (GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
  unsigned __int128 v = 0;
  char digits[48];
  int n = 0;

  g_checksum_update (sum, (const guchar *) key, -1);
  g_checksum_get_digest (sum, digest, &len);
  for (int i = 0; i < 16; i++)
    v = (v << 8) | digest[i];
  /* 128 bits in decimal: at most 39 digits, so the UID stays under 64. */
  do
    {
      digits[n++] = (char) ('0' + (int) (v % 10));
      v /= 10;
    }
  while (v != 0);
  GString *s = g_string_new ("2.25.");
  while (n > 0)
    g_string_append_c (s, digits[--n]);
  return g_string_free (s, FALSE);
}

/* A change as the form and the PDF write it (rr_pct_text), signed, but in
 * DICOM's default repertoire, which the SR is in: '-' for U+2212. */
static OFString
signed_tenths_string (gint64 tenths)
{
  gint64 a = tenths < 0 ? -tenths : tenths;
  g_autofree char *s = g_strdup_printf ("%s%" G_GINT64_FORMAT ".%d",
                                        tenths < 0 ? "-" : tenths > 0 ? "+" : "",
                                        a / 10, (int) (a % 10));
  return OFString (s);
}

static OFString
tenths_string (gint64 tenths)
{
  gint64 a = tenths < 0 ? -tenths : tenths;
  g_autofree char *s = g_strdup_printf ("%s%" G_GINT64_FORMAT ".%d", tenths < 0 ? "-" : "",
                                        a / 10, (int) (a % 10));
  return OFString (s);
}

struct Pending3D
{
  gboolean used;
  std::vector<RrVec3> points;
  OFString frame_of_reference;
};

struct Export
{
  RrRead *read;
  JsonObject *root;
  RrDicomScan *scan;
  GHashTable *sops;          /* SOP Instance UID -> RrDicomInstance */
  GHashTable *series_of;     /* SOP Instance UID -> RrDicomSeries */
  RrCriteriaResult *result;
  char *key;                 /* what makes the read's UIDs its own */
  char *patient_id;
  const char *subject;       /* names the files; NULL: the timepoint only */
  const char *program;       /* the writer: "readroom", "readroom-cli"... */
  gboolean keep_existing;    /* a file there already: write beside it */
};

static void
index_scan (Export *ex)
{
  for (guint i = 0; i < ex->scan->studies->len; i++)
    {
      RrDicomStudy *st = (RrDicomStudy *) ex->scan->studies->pdata[i];
      for (guint j = 0; j < st->series->len; j++)
        {
          RrDicomSeries *se = (RrDicomSeries *) st->series->pdata[j];
          for (guint k = 0; k < se->instances->len; k++)
            {
              RrDicomInstance *in = (RrDicomInstance *) se->instances->pdata[k];
              if (!in->is_image)
                continue;
              g_hash_table_insert (ex->sops, in->sop_uid, in);
              g_hash_table_insert (ex->series_of, in->sop_uid, se);
            }
        }
    }
}

/* The lesion's member of the JSON (its fragments and calipers are not in
 * RrRead). */
static JsonObject *
lesion_object (Export *ex, const char *array, guint index)
{
  return rr_json_get_element (rr_json_get_array (ex->root, array), index);
}

/* The fragments' sizes (one for a lesion in one piece), in tenths. */
static std::vector<gint64>
fragments (JsonObject *lesion, const char *tp, const RrMeas *m)
{
  std::vector<gint64> out;
  JsonObject *ms = rr_json_get_object (lesion, "measurements");
  JsonNode *n = ms && json_object_has_member (ms, tp) ? json_object_get_member (ms, tp) : NULL;
  if (n && JSON_NODE_HOLDS_ARRAY (n) && m->n_fragments > 1)
    {
      JsonArray *a = json_node_get_array (n);
      for (guint i = 0; i < json_array_get_length (a); i++)
        out.push_back ((gint64) llround (json_array_get_double_element (a, i) * 10));
    }
  else
    out.push_back (m->tenths);
  return out;
}

/* The calipers of one lesion at one timepoint: one per fragment. */
static std::vector<RrMeasurement *>
calipers (JsonObject *lesion, const char *lesion_id, const char *tp)
{
  std::vector<RrMeasurement *> out;
  JsonObject *cs = rr_json_get_object (lesion, "calipers");
  JsonNode *n = cs && json_object_has_member (cs, tp) ? json_object_get_member (cs, tp) : NULL;
  std::vector<JsonNode *> nodes;
  if (n == NULL || JSON_NODE_HOLDS_NULL (n))
    return out;
  if (JSON_NODE_HOLDS_ARRAY (n))
    for (guint i = 0; i < json_array_get_length (json_node_get_array (n)); i++)
      nodes.push_back (json_array_get_element (json_node_get_array (n), i));
  else
    nodes.push_back (n);
  for (JsonNode *c : nodes)
    {
      g_autofree char *text = json_to_string (c, FALSE);
      g_autoptr (GError) error = NULL;
      RrMeasurement *m = rr_measurement_from_json (text, &error);
      if (m == NULL)
        {
          for (RrMeasurement *x : out)
            rr_measurement_free (x);
          fail (RR_DICOM_ERROR_FORMAT, "%s at %s: caliper: %s", lesion_id, tp, error->message);
        }
      out.push_back (m);
    }
  return out;
}

struct CaliperSet
{
  std::vector<RrMeasurement *> v;
  ~CaliperSet ()
  {
    for (RrMeasurement *m : v)
      rr_measurement_free (m);
  }
};

/* The two ends of the measured axis: the long axis, or for a node the
 * short axis of a bidirectional caliper. */
static void
axis_points (const RrMeasurement *m, gboolean nodal, std::vector<RrVec3> &pts)
{
  guint first = m->kind == RR_MEASURE_BIDIRECTIONAL && nodal && m->points->len >= 4 ? 2 : 0;
  pts.clear ();
  if (m->points->len < first + 2)
    return;
  pts.push_back (rr_measurement_point (m, first));
  pts.push_back (rr_measurement_point (m, first + 1));
}

struct Writer
{
  Export *ex;
  guint tp;
  const char *tp_id;
  TID1500_MeasurementReport *report;
  DSRDocument *doc;
  std::vector<Pending3D> pending;  /* one per measurement, in tree order */
  GHashTable *evidence;            /* SOP UIDs already in the evidence */
};

static void
add_evidence (Writer *w, RrDicomInstance *in)
{
  if (g_hash_table_contains (w->evidence, in->sop_uid))
    return;
  g_hash_table_add (w->evidence, in->sop_uid);
  ok (w->doc->getCurrentRequestedProcedureEvidence ().addItem (in->study_uid, in->series_uid,
                                                               in->sop_class, in->sop_uid),
      "evidence");
}

/* One measurement of a group with its image reference: SCOORD on the
 * acquired slice in image pixel coordinates (PS3.3 C.18.6.1.1: the top left
 * corner of the first pixel is 0,0), or SCOORD3D in patient millimetres on
 * the frame of reference for an MPR caliper. */
static void
add_length (Writer *w, CMR_TID1501_in_TID1500 &group, gboolean nodal, gint64 tenths,
            const RrMeasurement *cal, const char *lesion_id)
{
  CID7469_GenericIntensityAndSizeMeasurements concept (
    nodal ? CID7469_GenericIntensityAndSizeMeasurements::ShortAxis
          : CID7469_GenericIntensityAndSizeMeasurements::LongAxis);
  CMR_TID1501_in_TID1500::MeasurementValue value (
    tenths_string (tenths), CID7181_AbstractMultiDimensionalImageModelComponentUnits (
      CID7181_AbstractMultiDimensionalImageModelComponentUnits::Millimeter));
  Pending3D p3 = { FALSE, {}, "" };

  ok (group.addMeasurement (concept, value), "measurement");
  if (cal != NULL)
    {
      std::vector<RrVec3> pts;
      axis_points (cal, nodal, pts);
      if (pts.empty ())
        fail (RR_DICOM_ERROR_FORMAT, "%s at %s: the caliper has no axis to refer to",
              lesion_id, w->tp_id);
      RrDicomInstance *in = cal->sop_uid
                            ? (RrDicomInstance *) g_hash_table_lookup (w->ex->sops, cal->sop_uid)
                            : NULL;
      if (cal->sop_uid && in == NULL)
        fail (RR_DICOM_ERROR_NOT_FOUND, "%s at %s: the caliper's image %s is not under --images",
              lesion_id, w->tp_id, cal->sop_uid);
      if (in != NULL)
        {
          if (cal->frame >= in->n_frames || !in->frames[cal->frame].has_geometry)
            fail (RR_DICOM_ERROR_FORMAT, "%s at %s: image %s has no frame %u with a position",
                  lesion_id, w->tp_id, cal->sop_uid, cal->frame + 1);
          const RrFrameGeom *g = &in->frames[cal->frame];
          DSRSpatialCoordinatesValue sc (DSRTypes::GT_Polyline);
          for (const RrVec3 &p : pts)
            {
              RrVec3 d = rr_vec3_sub (p, g->position);
              double col = rr_vec3_dot (d, g->row_dir) / g->col_spacing + 0.5;
              double row = rr_vec3_dot (d, g->col_dir) / g->row_spacing + 0.5;
              sc.getGraphicDataList ().addItem ((Float32) col, (Float32) row);
            }
          DSRImageReferenceValue ref (in->sop_class, in->sop_uid);
          if (in->n_frames > 1)
            ref.getFrameList ().addItem ((Sint32) cal->frame + 1);
          ok (group.getMeasurement ().addSpatialCoordinates (CODE_DCM_ImageRegion, sc, ref),
              "image region");
          add_evidence (w, in);
        }
      else
        {
          /* An MPR plane: the points are on the series' frame of reference. */
          RrDicomSeries *se = cal->series_uid
                              ? rr_dicom_scan_find_series (w->ex->scan, cal->series_uid) : NULL;
          const RrDicomInstance *first = se && se->instances->len > 0
                                         ? rr_dicom_series_instance (se, 0) : NULL;
          if (first == NULL || first->frame_of_reference == NULL ||
              *first->frame_of_reference == '\0')
            fail (RR_DICOM_ERROR_NOT_FOUND,
                  "%s at %s: the MPR caliper's series %s is not under --images or has no "
                  "frame of reference", lesion_id, w->tp_id,
                  cal->series_uid ? cal->series_uid : "(none)");
          p3.used = TRUE;
          p3.points = pts;
          p3.frame_of_reference = first->frame_of_reference;
          for (guint k = 0; k < se->instances->len; k++)
            add_evidence (w, (RrDicomInstance *) se->instances->pdata[k]);
        }
    }
  w->pending.push_back (p3);
}

static void
add_organ (CMR_TID1501_in_TID1500 &group, const char *organ, gboolean nodal)
{
  const RrOrgan *o = organ ? rr_organs_lookup (organ) : NULL;
  if (o != NULL)
    ok (group.addFindingSite (DSRCodedEntryValue (o->code, o->scheme, o->meaning)),
        "finding site");
  else if (organ != NULL)
    /* Not in the controlled list: kept as text rather than guessed. */
    ok (group.addQualitativeEvaluation (RR_CODE_ORGAN, OFString (organ)), "organ");
  ok (group.addQualitativeEvaluation (RR_CODE_NODAL, OFString (nodal ? "yes" : "no")), "nodal");
}

static void
new_group (Writer *w, const char *lesion_id, const DSRCodedEntryValue &finding)
{
  g_autofree char *k = g_strdup_printf ("%s\nlesion\n%s", w->ex->key, lesion_id);
  g_autofree char *uid = uid_from_key (k);
  ok (w->report->addIndividualMeasurements (), "measurement group");
  CMR_TID1501_in_TID1500 &group = w->report->getIndividualMeasurements ();
  ok (group.setTrackingIdentifier (lesion_id), "tracking identifier");
  ok (group.setTrackingUniqueIdentifier (uid), "tracking unique identifier");
  ok (group.setTimePoint (w->tp_id), "time point");
  ok (group.setFinding (finding), "finding");
}

static void
add_measurements (Writer *w, CMR_TID1501_in_TID1500 &group, JsonObject *lesion,
                  const char *lesion_id, gboolean nodal, const RrMeas *m)
{
  const char *word = m->kind == RR_MEAS_TSTM ? "TSTM" : m->kind == RR_MEAS_NE ? "NE"
                     : m->kind == RR_MEAS_MERGED ? "MERGED" : NULL;
  if (word)
    {
      ok (group.addQualitativeEvaluation (RR_CODE_MEAS_STATUS, OFString (word)), "status");
      return;
    }
  std::vector<gint64> sizes = fragments (lesion, w->tp_id, m);
  CaliperSet cals;
  cals.v = calipers (lesion, lesion_id, w->tp_id);
  for (size_t i = 0; i < sizes.size (); i++)
    add_length (w, group, nodal, sizes[i], i < cals.v.size () ? cals.v[i] : NULL, lesion_id);
}

static void
write_targets (Writer *w)
{
  for (guint i = 0; i < w->ex->read->targets->len; i++)
    {
      RrTargetLesion *t = (RrTargetLesion *) w->ex->read->targets->pdata[i];
      const RrMeas *m = &t->meas[w->tp];
      if (m->kind == RR_MEAS_MISSING)
        continue;
      new_group (w, t->id, RR_CODE_TARGET);
      CMR_TID1501_in_TID1500 &group = w->report->getIndividualMeasurements ();
      add_organ (group, t->organ, t->nodal);
      if (t->location)
        ok (group.addQualitativeEvaluation (RR_CODE_LOCATION, OFString (t->location)), "location");
      add_measurements (w, group, lesion_object (w->ex, "target_lesions", i), t->id, t->nodal, m);
    }
}

static void
write_non_targets (Writer *w)
{
  for (guint i = 0; i < w->ex->read->non_targets->len; i++)
    {
      RrNonTargetLesion *n = (RrNonTargetLesion *) w->ex->read->non_targets->pdata[i];
      RrNonTargetStatus s = n->status[w->tp];
      if (s == RR_NT_MISSING && !n->increased[w->tp])
        continue;
      new_group (w, n->id, RR_CODE_NON_TARGET);
      CMR_TID1501_in_TID1500 &group = w->report->getIndividualMeasurements ();
      add_organ (group, n->organ, n->nodal);
      if (n->location)
        ok (group.addQualitativeEvaluation (RR_CODE_LOCATION, OFString (n->location)), "location");
      if (s != RR_NT_MISSING)
        ok (group.addQualitativeEvaluation (RR_CODE_NT_STATUS,
                                            s == RR_NT_PRESENT ? RR_CODE_PRESENT
                                            : s == RR_NT_ABSENT ? RR_CODE_ABSENT
                                            : s == RR_NT_UNEQUIVOCAL_PROGRESSION
                                            ? RR_CODE_UNEQUIVOCAL : RR_CODE_NOT_EVALUABLE),
            "status");
      if (n->increased[w->tp])
        ok (group.addQualitativeEvaluation (RR_CODE_INCREASED, OFString ("yes")), "increased");
    }
}

static void
write_new_lesions (Writer *w)
{
  for (guint i = 0; i < w->ex->read->new_lesions->len; i++)
    {
      RrNewLesion *n = (RrNewLesion *) w->ex->read->new_lesions->pdata[i];
      const RrMeas *m = &n->meas[w->tp];
      if (n->timepoint != w->tp && m->kind == RR_MEAS_MISSING && !n->increased[w->tp])
        continue;
      new_group (w, n->id, RR_CODE_NEW);
      CMR_TID1501_in_TID1500 &group = w->report->getIndividualMeasurements ();
      const RrTimepoint *seen = (const RrTimepoint *) w->ex->read->timepoints->pdata[n->timepoint];
      add_organ (group, n->organ, n->nodal);
      if (n->location)
        ok (group.addQualitativeEvaluation (RR_CODE_LOCATION, OFString (n->location)), "location");
      ok (group.addQualitativeEvaluation (RR_CODE_FIRST_SEEN, OFString (seen->id)), "first seen");
      ok (group.addQualitativeEvaluation (RR_CODE_EQUIVOCAL, OFString (n->equivocal ? "yes" : "no")),
          "equivocal");
      if (n->increased[w->tp])
        ok (group.addQualitativeEvaluation (RR_CODE_INCREASED, OFString ("yes")), "increased");
      if (m->kind != RR_MEAS_MISSING)
        add_measurements (w, group, lesion_object (w->ex, "new_lesions", i), n->id, n->nodal, m);
    }
}

static DSRCodedEntryValue
response_code (RrResponse r, gboolean target, gboolean non_target)
{
  if (target)
    switch (r)
      {
      case RR_RESP_CR: return CODE_DCM_TargetLesionCompleteResponse;
      case RR_RESP_PR: return CODE_DCM_TargetLesionPartialResponse;
      case RR_RESP_SD: return CODE_DCM_TargetLesionStableDisease;
      case RR_RESP_PD: return CODE_DCM_TargetLesionProgressiveDisease;
      default: break;
      }
  if (non_target)
    switch (r)
      {
      case RR_RESP_CR: return CODE_DCM_NonTargetLesionCompleteResponse;
      case RR_RESP_NON_CR_NON_PD: return CODE_DCM_NonTargetLesionIncompleteResponseOrStableDisease;
      case RR_RESP_PD: return CODE_DCM_NonTargetLesionProgressiveDisease;
      default: break;
      }
  const char *word = rr_response_to_string (r);
  return DSRCodedEntryValue (word, RR_SR_SCHEME, word);
}

static void
qual_text (Writer *w, const DSRCodedEntryValue &concept, const char *text)
{
  ok (w->report->addQualitativeEvaluation (concept, OFString (text)), "qualitative evaluation");
}

static void
qual_code (Writer *w, const DSRCodedEntryValue &concept, const DSRCodedEntryValue &value)
{
  ok (w->report->addQualitativeEvaluation (concept, value), "qualitative evaluation");
}

static void
qual_tenths (Writer *w, const DSRCodedEntryValue &concept, gint64 v, const char *unit)
{
  /* A percentage is a change, with its sign; a sum is not. */
  OFString s = g_str_equal (unit, "%") ? signed_tenths_string (v) : tenths_string (v);
  s += " ";
  s += unit;
  qual_text (w, concept, s.c_str ());
}

/* The read's own facts for this timepoint and the criteria's responses. */
static void
write_evaluations (Writer *w)
{
  RrRead *read = w->ex->read;
  const RrTimepoint *tp = (const RrTimepoint *) read->timepoints->pdata[w->tp];
  g_autofree char *day = g_strdup_printf ("%d", tp->day);
  g_autofree char *opts = g_strdup_printf ("{\"sd_min_days\": %d, \"confirmation\": %s}",
                                           read->sd_min_days,
                                           read->confirmation ? "true" : "false");
  const char *crit = read->criteria ? read->criteria : "recist1.1";
  RrCriteriaResult *res = w->ex->result;

  qual_code (w, CODE_DCM_ResponseEvaluationMethod,
             g_str_equal (crit, "recist1.1") ? DSRCodedEntryValue (CODE_DCM_RECIST1dot1)
             : g_str_equal (crit, "irecist") ? RR_CODE_IRECIST
             : DSRCodedEntryValue (crit, RR_SR_SCHEME, crit));
  qual_text (w, RR_CODE_STUDY_DAY, day);
  qual_text (w, RR_CODE_OPTIONS, opts);
  if (res == NULL)
    return;
  if (w->tp == 0)
    {
      if (res->has_targets)
        qual_tenths (w, RR_CODE_SUM, res->baseline_sum, "mm");
      return;
    }
  for (guint i = 0; i < res->timepoints->len; i++)
    {
      const RrTimepointResult *r = &g_array_index (res->timepoints, RrTimepointResult, i);
      if (!g_str_equal (r->id, tp->id))
        continue;
      if (res->has_targets)
        {
          if (r->evaluable)
            {
              qual_tenths (w, RR_CODE_SUM, r->sum, "mm");
              qual_tenths (w, RR_CODE_CHANGE_BL, rr_pct_tenths (r->sum, res->baseline_sum), "%");
              qual_tenths (w, RR_CODE_CHANGE_NADIR, rr_pct_tenths (r->sum, r->nadir), "%");
            }
          else
            qual_text (w, RR_CODE_SUM, "not evaluable");
        }
      qual_code (w, CODE_DCM_ResponseEvaluation, response_code (r->target, TRUE, FALSE));
      qual_code (w, RR_CODE_NT_RESPONSE, response_code (r->non_target, FALSE, TRUE));
      const char *nl = rr_new_status_to_string (r->new_lesions);
      qual_code (w, RR_CODE_NEW_LESIONS, DSRCodedEntryValue (nl, RR_SR_SCHEME, nl));
      qual_code (w, CODE_DCM_CurrentResponse, response_code (r->overall, FALSE, FALSE));
    }
  if (w->tp + 1 == read->timepoints->len)
    qual_code (w, CODE_DCM_BestOverallResponse,
               response_code (res->best_overall_response, FALSE, FALSE));
}

/* Places the SCOORD3D of each MPR caliper under its measurement: the
 * measurements are in the tree in the order they were added. */
static void
place_3d (Writer *w)
{
  DSRDocumentTree &tree = w->doc->getTree ();
  size_t k = 0;
  gboolean any = FALSE;

  for (const Pending3D &p : w->pending)
    any |= p.used;
  if (!any)
    return;
  if (tree.gotoRoot () == 0)
    fail (RR_DICOM_ERROR_WRITE, "empty report tree");
  std::vector<size_t> nums;
  do
    {
      DSRContentItem &item = tree.getCurrentContentItem ();
      if (item.getValueType () == DSRTypes::VT_Num && item.getRelationshipType () == DSRTypes::RT_contains)
        {
          const DSRCodedEntryValue &c = item.getConceptName ();
          if (c.getCodingSchemeDesignator () == "SCT" &&
              (c.getCodeValue () == "103339001" || c.getCodeValue () == "103340004"))
            nums.push_back (tree.getNodeID ());
        }
    }
  while (tree.iterate () != 0);
  if (nums.size () != w->pending.size ())
    fail (RR_DICOM_ERROR_WRITE, "the report has %zu measurements, %zu expected",
          nums.size (), w->pending.size ());
  for (k = 0; k < nums.size (); k++)
    {
      const Pending3D &p = w->pending[k];
      if (!p.used)
        continue;
      if (tree.gotoNode (nums[k]) == 0 ||
          tree.addContentItem (DSRTypes::RT_inferredFrom, DSRTypes::VT_SCoord3D,
                               DSRTypes::AM_belowCurrent) == 0)
        fail (RR_DICOM_ERROR_WRITE, "cannot add the image region of an MPR caliper");
      DSRSpatialCoordinates3DValue sc (DSRTypes::GT3_Polyline);
      for (const RrVec3 &pt : p.points)
        sc.getGraphicDataList ().addItem ((Float32) pt.x, (Float32) pt.y, (Float32) pt.z);
      ok (sc.setFrameOfReferenceUID (p.frame_of_reference), "frame of reference");
      DSRContentItem &item = tree.getCurrentContentItem ();
      ok (item.setConceptName (CODE_DCM_ImageRegion), "image region");
      ok (item.setSpatialCoordinates3D (sc), "SCOORD3D");
    }
}

/* The study a timepoint's images are in: the one its calipers reference,
 * else the timepoint's place among the studies in date order. */
static RrDicomStudy *
timepoint_study (Export *ex, guint tp)
{
  const char *id = ((RrTimepoint *) ex->read->timepoints->pdata[tp])->id;
  const char *arrays[] = { "target_lesions", "new_lesions" };
  for (const char *array : arrays)
    for (guint i = 0;; i++)
      {
        JsonObject *l = lesion_object (ex, array, i);
        if (l == NULL)
          break;
        CaliperSet cals;
        cals.v = calipers (l, "lesion", id);
        for (RrMeasurement *m : cals.v)
          {
            if (m->sop_uid == NULL && m->series_uid == NULL)
              continue;
            for (guint s = 0; s < ex->scan->studies->len; s++)
              {
                RrDicomStudy *st = (RrDicomStudy *) ex->scan->studies->pdata[s];
                RrDicomInstance *in = m->sop_uid
                                      ? (RrDicomInstance *) g_hash_table_lookup (ex->sops, m->sop_uid)
                                      : NULL;
                if (in ? g_strcmp0 (in->study_uid, st->study_uid) == 0
                    : rr_dicom_scan_find_series (ex->scan, m->series_uid) != NULL &&
                    [&] {
                      for (guint j = 0; j < st->series->len; j++)
                        if (g_strcmp0 (((RrDicomSeries *) st->series->pdata[j])->series_uid,
                                       m->series_uid) == 0)
                          return true;
                      return false;
                    } ())
                  return st;
              }
          }
      }
  std::vector<RrDicomStudy *> studies;
  for (guint s = 0; s < ex->scan->studies->len; s++)
    {
      RrDicomStudy *st = (RrDicomStudy *) ex->scan->studies->pdata[s];
      for (guint j = 0; j < st->series->len; j++)
        if (((RrDicomSeries *) st->series->pdata[j])->is_image)
          {
            studies.push_back (st);
            break;
          }
    }
  if (studies.size () == 1)
    return studies[0];
  std::stable_sort (studies.begin (), studies.end (), [] (RrDicomStudy *a, RrDicomStudy *b) {
    return g_strcmp0 (a->study_date, b->study_date) < 0;
  });
  if (studies.size () == ex->read->timepoints->len)
    return studies[tp];
  fail (RR_DICOM_ERROR_NOT_FOUND, "timepoint %s: no caliper says which of the %zu studies "
        "under --images it is", id, studies.size ());
}

/* The read's signatures as verifying observers: a signed read is a
 * verified report (PS3.3 C.17.2). Times in UTC, as the report's Timezone
 * Offset From UTC says (dcmtk's check refuses a DT with its own offset). */
static void
verify (Export *ex, DSRDocument &doc)
{
  std::vector<JsonObject *> sigs;
  JsonArray *a = rr_json_get_array (ex->root, "signatures");
  for (guint i = 0; a && i < json_array_get_length (a) && i < 100; i++)
    if (JsonObject *e = rr_json_get_element (a, i))
      sigs.push_back (e);
  if (JsonObject *one = rr_json_get_object (ex->root, "signature"))
    sigs.push_back (one);
  for (JsonObject *o : sigs)
    {
      JsonNode *name = json_object_get_member (o, "name");
      JsonNode *time = json_object_get_member (o, "time");
      JsonNode *org = json_object_get_member (o, "organization");
      if (name == NULL || json_node_get_value_type (name) != G_TYPE_STRING)
        continue;
      g_autoptr (GDateTime) dt = time && json_node_get_value_type (time) == G_TYPE_STRING
                                 ? g_date_time_new_from_iso8601 (json_node_get_string (time), NULL)
                                 : NULL;
      g_autoptr (GDateTime) utc = dt ? g_date_time_to_utc (dt) : NULL;
      /* Digits, not g_date_time_format: a DICOM DT is never the locale's. */
      g_autofree char *dicom_dt
        = utc ? g_strdup_printf ("%04d%02d%02d%02d%02d%02d", g_date_time_get_year (utc),
                                 g_date_time_get_month (utc), g_date_time_get_day_of_month (utc),
                                 g_date_time_get_hour (utc), g_date_time_get_minute (utc),
                                 g_date_time_get_second (utc))
              : NULL;
      if (dicom_dt == NULL)
        fail (RR_DICOM_ERROR_FORMAT, "the signature of %s has no ISO 8601 \"time\"",
              json_node_get_string (name));
      ok (doc.verifyDocument (json_node_get_string (name),
                              org && json_node_get_value_type (org) == G_TYPE_STRING
                              ? json_node_get_string (org) : "Readroom", dicom_dt),
          "verifying observer");
    }
}

static const DcmTagKey copied_tags[] = {
  DCM_PatientName, DCM_PatientID, DCM_PatientBirthDate, DCM_PatientSex, DCM_PatientAge,
  DCM_PatientIdentityRemoved, DCM_DeidentificationMethod, DCM_DeidentificationMethodCodeSequence,
  DCM_StudyDate, DCM_StudyTime, DCM_StudyID, DCM_AccessionNumber, DCM_ReferringPhysicianName,
  DCM_StudyDescription, DCM_ClinicalTrialSponsorName, DCM_ClinicalTrialProtocolID,
  DCM_ClinicalTrialProtocolName, DCM_ClinicalTrialSiteID, DCM_ClinicalTrialSiteName,
  DCM_ClinicalTrialSubjectID, DCM_ClinicalTrialSubjectReadingID, DCM_ClinicalTrialTimePointID,
  DCM_ClinicalTrialTimePointDescription, DCM_LongitudinalTemporalInformationModified,
};

/* OUTDIR/NAME, or "NAME-STEM (2).dcm", "(3)"... the first that does not
 * exist yet, as a GNOME app saves beside a file rather than over it. The
 * name is taken with O_EXCL, so two exports at once cannot both have it;
 * the empty file is then written over by its owner. */
static char *
free_path (const char *outdir, const char *name)
{
  g_autofree char *stem = g_strndup (name, strlen (name) - strlen (".dcm"));
  for (guint n = 1; n < 1000; n++)
    {
      g_autofree char *file = n == 1 ? g_strdup (name) : g_strdup_printf ("%s (%u).dcm", stem, n);
      char *path = g_build_filename (outdir, file, NULL);
      int fd = g_open (path, O_WRONLY | O_CREAT | O_EXCL, 0644);
      if (fd >= 0)
        {
          close (fd);
          return path;
        }
      int err = errno;
      if (err != EEXIST)
        {
          SrError e = { RR_DICOM_ERROR_WRITE, g_strdup_printf ("%s: %s", path, g_strerror (err)) };
          g_free (path);
          throw e;
        }
      g_free (path);
    }
  fail (RR_DICOM_ERROR_WRITE, "%s: a thousand files of that name are there already", name);
}

static char *
write_one (Export *ex, guint tp, const char *outdir)
{
  const RrTimepoint *t = (const RrTimepoint *) ex->read->timepoints->pdata[tp];
  RrDicomStudy *study = timepoint_study (ex, tp);
  RrDicomInstance *source = NULL;

  for (guint j = 0; j < study->series->len && source == NULL; j++)
    {
      RrDicomSeries *se = (RrDicomSeries *) study->series->pdata[j];
      if (se->is_image && se->instances->len > 0)
        source = (RrDicomInstance *) se->instances->pdata[0];
    }
  if (source == NULL)
    fail (RR_DICOM_ERROR_NOT_FOUND, "timepoint %s: study %s has no images", t->id,
          study->study_uid);

  /* The patient and study as the (de-identified) images give them. Only
   * the header is needed: elements over 4 KiB are left unread. */
  DcmFileFormat image;
  if (image.loadFile (source->path, EXS_Unknown, EGL_noChange, 4096).bad ())
    fail (RR_DICOM_ERROR_READ, "%s: cannot read", source->path);
  DcmDataset *ids = image.getDataset ();

  TID1500_MeasurementReport report (CMR_CID7021::ImagingMeasurementReport);
  ok (report.setLanguage (CID5000_Languages::English_US), "language");
  g_autofree char *dev_key = g_strdup_printf ("%s\ndevice", ex->key);
  g_autofree char *dev_uid = uid_from_key (dev_key);
  /* The device is Readroom's program that wrote the report; its version
   * is Readroom's (Software Versions), dcmtk's only in the file meta
   * information's Implementation Version Name, where DICOM asks for it. */
  ok (report.getObservationContext ().addDeviceObserver (dev_uid, ex->program, "Readroom",
                                                         ex->program),
      "observer");

  DSRDocument doc (DSRTypes::DT_ComprehensiveSR);
  Writer w = { ex, tp, t->id, &report, &doc, {}, g_hash_table_new (g_str_hash, g_str_equal) };
  struct Cleanup { GHashTable *h; ~Cleanup () { g_hash_table_unref (h); } } cleanup = { w.evidence };

  write_targets (&w);
  write_non_targets (&w);
  write_new_lesions (&w);
  write_evaluations (&w);
  /* dcmtk 3.6.7's TID 1501 counts a group without a measurement as
   * invalid, though PS3.16 allows a group of qualitative evaluations only
   * (a non-target, an unmeasured new lesion): check what it does get right,
   * and leave the rest to the IOD checks in the tests (dciodvfy). */
  if (!report.getObservationContext ().isValid () || !report.hasImagingMeasurements ())
    fail (RR_DICOM_ERROR_WRITE, "timepoint %s: the measurement report is not valid TID 1500",
          t->id);

  gboolean has_3d = FALSE;
  for (const Pending3D &p : w.pending)
    has_3d |= p.used;
  /* The template's tree comes as the least IOD that holds it; TID 1500
   * is for Comprehensive SR, and Comprehensive 3D SR for SCOORD3D. */
  ok (doc.setTreeFromRootTemplate (report, OFTrue), "report tree");
  ok (doc.changeDocumentType (has_3d ? DSRTypes::DT_Comprehensive3DSR
                              : DSRTypes::DT_ComprehensiveSR), "document type");
  place_3d (&w);
  ok (doc.createNewSeriesInStudy (study->study_uid), "series");
  ok (doc.setSeriesDescription ("Readroom measurement report"), "series description");
  /* Our private scheme, named for readers of the report (PS3.3 C.12.1.1.3.1). */
  ok (doc.getCodingSchemeIdentification ().addItem (RR_SR_SCHEME, "", "Readroom read concepts",
                                                   "Readroom"), "coding scheme");
  ok (doc.setManufacturer ("Readroom"), "manufacturer");
  ok (doc.setManufacturerModelName (ex->program), "model name");
  ok (doc.setSoftwareVersions (rr_version), "software version");
  ok (doc.setSeriesNumber ("9900"), "series number");
  g_autofree char *number = g_strdup_printf ("%u", tp + 1);
  ok (doc.setInstanceNumber (number), "instance number");
  ok (doc.completeDocument (), "completion");
  verify (ex, doc);

  DcmFileFormat out;
  DcmDataset *ds = out.getDataset ();
  ok (doc.write (*ds), "SR dataset");
  for (const DcmTagKey &tag : copied_tags)
    {
      DcmElement *e = NULL;
      ds->findAndDeleteElement (tag);
      if (ids->findAndGetElement (tag, e).good () && e != NULL)
        ok (ds->insert ((DcmElement *) e->clone (), OFTrue), "copy");
    }
  ok (ds->putAndInsertString (DCM_TimezoneOffsetFromUTC, "+0000"), "timezone");
  /* UIDs derived from the read, so exporting again replaces, not adds. */
  g_autofree char *series_key = g_strdup_printf ("%s\nseries\n%s", ex->key, study->study_uid);
  g_autofree char *sop_key = g_strdup_printf ("%s\nsr\n%s", ex->key, t->id);
  g_autofree char *series_uid = uid_from_key (series_key);
  g_autofree char *sop_uid = uid_from_key (sop_key);
  ok (ds->putAndInsertString (DCM_SeriesInstanceUID, series_uid), "series UID");
  ok (ds->putAndInsertString (DCM_SOPInstanceUID, sop_uid), "SOP UID");

  g_autofree char *name = rr_dicom_sr_file_name (ex->subject, t->id);
  char *path = ex->keep_existing ? free_path (outdir, name)
                                 : g_build_filename (outdir, name, NULL);
  OFCondition c = out.saveFile (path, EXS_LittleEndianExplicit);
  if (c.bad ())
    {
      SrError e = { RR_DICOM_ERROR_WRITE, g_strdup_printf ("%s: %s", path, c.text ()) };
      /* The name free_path took is ours: no empty or half file left. */
      if (ex->keep_existing)
        g_unlink (path);
      g_free (path);
      throw e;
    }
  return path;
}

/* Text as part of a file name: letters, digits, '-', '_' and '.' as they
 * are, anything else (a space, a '/') as '_'; FALSE when the text is
 * empty, too long or would name a hidden file. */
static gboolean
append_name_part (GString *s, const char *text)
{
  if (text == NULL || *text == '\0' || *text == '.' || strlen (text) > 64)
    return FALSE;
  for (const char *p = text; *p; p++)
    g_string_append_c (s, g_ascii_isalnum (*p) || *p == '-' || *p == '_' || *p == '.' ? *p : '_');
  return TRUE;
}

extern "C" char *
rr_dicom_sr_file_name (const char *subject, const char *timepoint_id)
{
  GString *s = g_string_new (NULL);
  gboolean named = TRUE;
  if (subject != NULL)
    {
      named = append_name_part (s, subject);
      g_string_append_c (s, '-');
    }
  if (!named || !append_name_part (s, timepoint_id))
    {
      g_string_free (s, TRUE);
      return NULL;
    }
  g_string_append (s, ".dcm");
  return g_string_free (s, FALSE);
}

extern "C" GPtrArray *
rr_dicom_sr_export (const char   *read_json,
                    gssize        length,
                    RrDicomScan  *scan,
                    const char   *outdir,
                    GError      **error)
{
  RrDicomSrOptions options = { "readroom-cli", NULL };
  return rr_dicom_sr_export_full (read_json, length, scan, outdir, &options, error);
}

extern "C" GPtrArray *
rr_dicom_sr_export_full (const char              *read_json,
                         gssize                   length,
                         RrDicomScan             *scan,
                         const char              *outdir,
                         const RrDicomSrOptions  *options,
                         GError                 **error)
{
  const char *subject = options->subject;
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (RrRead) read = NULL;
  g_autoptr (GPtrArray) paths = g_ptr_array_new_with_free_func (g_free);
  Export ex = {};

  g_return_val_if_fail (read_json != NULL && scan != NULL && outdir != NULL, NULL);
  g_return_val_if_fail (options != NULL && options->program != NULL, NULL);
  read = rr_read_parse (read_json, length, error);
  if (read == NULL)
    return NULL;
  if (!json_parser_load_from_data (parser, read_json, length, error))
    return NULL;
  {
    g_autoptr (GHashTable) names = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
    for (guint i = 0; i < read->timepoints->len; i++)
      {
        const char *id = ((RrTimepoint *) read->timepoints->pdata[i])->id;
        char *name = rr_dicom_sr_file_name (subject, id);
        if (name == NULL || g_hash_table_contains (names, name))
          {
            g_set_error (error, RR_DICOM_ERROR, RR_DICOM_ERROR_FORMAT,
                         "timepoint \"%s\" cannot name a file of its own", id);
            g_free (name);
            return NULL;
          }
        g_hash_table_add (names, name);
      }
  }
  if (read->timepoints->len == 0)
    {
      g_set_error (error, RR_DICOM_ERROR, RR_DICOM_ERROR_FORMAT, "the read has no timepoints");
      return NULL;
    }
  if (g_mkdir_with_parents (outdir, 0755) != 0)
    {
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errno), "%s: %s", outdir,
                   g_strerror (errno));
      return NULL;
    }
  ex.read = read;
  ex.subject = subject;
  ex.program = options->program;
  ex.keep_existing = subject != NULL;
  ex.root = json_node_get_object (json_parser_get_root (parser));
  ex.scan = scan;
  ex.sops = g_hash_table_new (g_str_hash, g_str_equal);
  ex.series_of = g_hash_table_new (g_str_hash, g_str_equal);
  ex.result = rr_criteria_evaluate (read, NULL);
  try
    {
      index_scan (&ex);
      /* The read's identity: its own "id" when it has one, else the patient
       * and the baseline study, so a lesion keeps its Tracking Unique
       * Identifier in every timepoint's report and in later exports. */
      RrDicomStudy *bl = timepoint_study (&ex, 0);
      const char *read_id = rr_json_get_string (ex.root, "id");
      ex.key = g_strdup_printf ("readroom\n%s\n%s\n%s", read_id ? read_id : "",
                                bl->patient_id ? bl->patient_id : "", bl->study_uid);
      for (guint i = 0; i < read->timepoints->len; i++)
        g_ptr_array_add (paths, write_one (&ex, i, outdir));
    }
  catch (SrError &e)
    {
      g_set_error_literal (error, RR_DICOM_ERROR, e.code, e.message);
      g_free (e.message);
    }
  catch (std::bad_alloc &)
    {
      g_set_error (error, RR_DICOM_ERROR, RR_DICOM_ERROR_TOO_LARGE, "out of memory");
    }
  catch (...)
    {
      g_set_error (error, RR_DICOM_ERROR, RR_DICOM_ERROR_WRITE, "unexpected error writing SR");
    }
  g_hash_table_unref (ex.sops);
  g_hash_table_unref (ex.series_of);
  if (ex.result)
    rr_criteria_result_free (ex.result);
  g_free (ex.key);
  if (error && *error)
    return NULL;
  return (GPtrArray *) g_steal_pointer (&paths);
}
