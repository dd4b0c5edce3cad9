/* rr-dicom-sr-import.cc: TID 1500 Measurement Reports (ours, or another
 * tool's such as OHIF's or highdicom's) back into one read JSON. dcmtk
 * 3.6.7's cmr classes only build reports, so the document tree is walked:
 * measurement groups (125007) give lesions, their NUM sizes with the
 * SCOORD/SCOORD3D image regions give measurements and calipers. */
#include "rr-dicom-private.h"
#include "rr-dicom-sr-codes.h"
#include "rr-read.h"
#include "rr-organs.h"
#include "rr-measurement.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dctk.h>
#include <dcmtk/dcmsr/dsrdoc.h>
#include <glib/gstdio.h>
#include <errno.h>
#include <math.h>
#include <string.h>
#include <new>
#include <algorithm>
#include <string>
#include <vector>

/* Bounds on what one report may hold, checked as it is read. */
#define MAX_GROUPS  1000
#define MAX_LENGTHS 50
#define MAX_POINTS  4096
#define MAX_FILE    ((gsize) 64 << 20)

struct ImportError
{
  int code;
  std::string message;
};

static G_GNUC_NORETURN G_GNUC_PRINTF (2, 3) void
fail (int code, const char *format, ...)
{
  va_list ap;
  va_start (ap, format);
  g_autofree char *m = g_strdup_vprintf (format, ap);
  va_end (ap);
  throw ImportError { code, m };
}

struct Length
{
  double mm = 0;
  bool has_2d = false;
  std::vector<double> px;      /* column, row pairs */
  std::string sop_class, sop_uid;
  int frame = -1;              /* 0-based; -1: single-frame */
  bool has_3d = false;
  std::vector<double> p3;      /* x, y, z triples */
  std::string frame_of_reference;
};

struct Group
{
  std::string tracking_id, uid, time_point, finding;
  std::string site_code, site_scheme, site_meaning;
  std::string organ, location, nodal, meas_status, nt_status, equivocal, first_seen;
  bool increased = false;
  bool short_axis = false;
  std::vector<Length> lengths;
};

struct Report
{
  std::string path, study_date, criteria, options, study_uid;
  bool has_day = false;
  int day = 0;
  std::vector<Group> groups;
  std::string time_point;      /* the groups' time point */
  std::vector<std::pair<std::string, std::string>> verified;  /* name, ISO 8601 time */
};

static bool
is_code (const DSRCodedEntryValue &c, const char *value, const char *scheme)
{
  return c.getCodeValue () == value && c.getCodingSchemeDesignator () == scheme;
}

static bool
is_ours (const DSRCodedEntryValue &c, const DSRCodedEntryValue &ours)
{
  return c.getCodeValue () == ours.getCodeValue () &&
         c.getCodingSchemeDesignator () == ours.getCodingSchemeDesignator ();
}

/* A size, in millimetres whatever the unit; NaN when it is not a length. */
static double
length_mm (DSRContentItem &item)
{
  const DSRCodedEntryValue &c = item.getConceptName ();
  const char *sizes[] = { "103339001", "103340004", "81827009", "410668003", "131187009",
                          "131188004", "G-A185", "G-A186", "G-D785", "M-02550" };
  bool size = false;
  for (const char *code : sizes)
    size |= c.getCodeValue () == code;
  DSRNumericMeasurementValue *v = item.getNumericValuePtr ();
  if (!size || v == NULL)
    return NAN;
  const DSRCodedEntryValue &u = v->getMeasurementUnit ();
  double k = u.getCodeValue () == "mm" ? 1 : u.getCodeValue () == "cm" ? 10
             : u.getCodeValue () == "m" ? 1000 : NAN;
  char *end = NULL;
  double x = g_ascii_strtod (v->getNumericValue ().c_str (), &end);
  if (end == v->getNumericValue ().c_str () || !isfinite (x) || x < 0 || x > 10000)
    return NAN;
  return x * k;
}

static void
read_region (DSRDocumentTree &t, Length &l)
{
  do
    {
      DSRContentItem &it = t.getCurrentContentItem ();
      if (it.getValueType () == DSRTypes::VT_SCoord && it.getSpatialCoordinatesPtr ())
        {
          DSRGraphicDataList &g = it.getSpatialCoordinatesPtr ()->getGraphicDataList ();
          if (g.getNumberOfItems () > MAX_POINTS)
            fail (RR_DICOM_ERROR_TOO_LARGE, "an image region has %zu points",
                  (size_t) g.getNumberOfItems ());
          l.px.clear ();
          for (size_t i = 1; i <= g.getNumberOfItems (); i++)
            {
              Float32 col = 0, row = 0;
              g.getItem (i, col, row);
              l.px.push_back (col);
              l.px.push_back (row);
            }
          if (t.goDown ())
            {
              do
                {
                  DSRContentItem &im = t.getCurrentContentItem ();
                  DSRImageReferenceValue *ref = im.getImageReferencePtr ();
                  if (im.getValueType () == DSRTypes::VT_Image && ref)
                    {
                      l.sop_class = ref->getSOPClassUID ().c_str ();
                      l.sop_uid = ref->getSOPInstanceUID ().c_str ();
                      Sint32 f = 0;
                      if (ref->getFrameList ().getNumberOfItems () > 0 &&
                          ref->getFrameList ().getItem (1, f).good () && f >= 1)
                        l.frame = f - 1;
                      l.has_2d = !l.px.empty ();
                    }
                }
              while (t.gotoNext ());
              t.goUp ();
            }
        }
      else if (it.getValueType () == DSRTypes::VT_SCoord3D && it.getSpatialCoordinates3DPtr ())
        {
          DSRSpatialCoordinates3DValue *v = it.getSpatialCoordinates3DPtr ();
          DSRGraphicData3DList &g = v->getGraphicDataList ();
          if (g.getNumberOfItems () > MAX_POINTS)
            fail (RR_DICOM_ERROR_TOO_LARGE, "an image region has %zu points",
                  (size_t) g.getNumberOfItems ());
          for (size_t i = 1; i <= g.getNumberOfItems (); i++)
            {
              Float32 x = 0, y = 0, z = 0;
              g.getItem (i, x, y, z);
              l.p3.push_back (x);
              l.p3.push_back (y);
              l.p3.push_back (z);
            }
          l.frame_of_reference = v->getFrameOfReferenceUID ().c_str ();
          l.has_3d = !l.p3.empty ();
        }
    }
  while (t.gotoNext ());
}

static std::string
code_or_text (DSRContentItem &it)
{
  if (it.getValueType () == DSRTypes::VT_Code && it.getCodeValuePtr ())
    return it.getCodeValuePtr ()->getCodeValue ().c_str ();
  return it.getStringValue ().c_str ();
}

static void
read_group (DSRDocumentTree &t, Group &g)
{
  do
    {
      DSRContentItem &it = t.getCurrentContentItem ();
      const DSRCodedEntryValue &c = it.getConceptName ();
      DSRTypes::E_ValueType vt = it.getValueType ();
      if (is_code (c, "112039", "DCM"))
        g.tracking_id = it.getStringValue ().c_str ();
      else if (is_code (c, "112040", "DCM"))
        g.uid = it.getStringValue ().c_str ();
      else if (is_code (c, "C2348792", "UMLS"))
        g.time_point = it.getStringValue ().c_str ();
      else if (is_code (c, "121071", "DCM") && it.getCodeValuePtr ())
        g.finding = it.getCodeValuePtr ()->getCodeValue ().c_str ();
      else if ((is_code (c, "363698007", "SCT") || is_code (c, "G-C0E3", "SRT")) &&
               it.getCodeValuePtr ())
        {
          g.site_code = it.getCodeValuePtr ()->getCodeValue ().c_str ();
          g.site_scheme = it.getCodeValuePtr ()->getCodingSchemeDesignator ().c_str ();
          g.site_meaning = it.getCodeValuePtr ()->getCodeMeaning ().c_str ();
        }
      else if (vt == DSRTypes::VT_Num)
        {
          double mm = length_mm (it);
          if (isnan (mm))
            continue;
          if (g.lengths.size () >= MAX_LENGTHS)
            fail (RR_DICOM_ERROR_TOO_LARGE, "a measurement group has over %d sizes", MAX_LENGTHS);
          Length l;
          l.mm = mm;
          g.short_axis |= c.getCodeValue () == "103340004" || c.getCodeValue () == "G-A186";
          if (t.goDown ())
            {
              read_region (t, l);
              t.goUp ();
            }
          g.lengths.push_back (l);
        }
      else if (is_ours (c, RR_CODE_MEAS_STATUS))
        g.meas_status = code_or_text (it);
      else if (is_ours (c, RR_CODE_LOCATION))
        g.location = code_or_text (it);
      else if (is_ours (c, RR_CODE_ORGAN))
        g.organ = code_or_text (it);
      else if (is_ours (c, RR_CODE_NODAL))
        g.nodal = code_or_text (it);
      else if (is_ours (c, RR_CODE_NT_STATUS))
        g.nt_status = code_or_text (it);
      else if (is_ours (c, RR_CODE_EQUIVOCAL))
        g.equivocal = code_or_text (it);
      else if (is_ours (c, RR_CODE_FIRST_SEEN))
        g.first_seen = code_or_text (it);
      else if (is_ours (c, RR_CODE_INCREASED))
        g.increased = code_or_text (it) == "yes";
    }
  while (t.gotoNext ());
}

static void
walk (DSRDocumentTree &t, Report &r, int depth)
{
  if (depth > 64)
    fail (RR_DICOM_ERROR_FORMAT, "the report is nested over 64 levels deep");
  do
    {
      DSRContentItem &it = t.getCurrentContentItem ();
      const DSRCodedEntryValue &c = it.getConceptName ();
      if (it.getValueType () == DSRTypes::VT_Container && is_code (c, "125007", "DCM"))
        {
          if (r.groups.size () >= MAX_GROUPS)
            fail (RR_DICOM_ERROR_TOO_LARGE, "over %d measurement groups", MAX_GROUPS);
          Group g;
          if (t.goDown ())
            {
              read_group (t, g);
              t.goUp ();
            }
          r.groups.push_back (g);
          continue;
        }
      if (is_ours (c, RR_CODE_STUDY_DAY))
        {
          char *end = NULL;
          std::string s = it.getStringValue ().c_str ();
          gint64 d = g_ascii_strtoll (s.c_str (), &end, 10);
          if (end != s.c_str () && *end == '\0' && d > -100000 && d < 100000)
            r.has_day = true, r.day = (int) d;
        }
      else if (is_ours (c, RR_CODE_OPTIONS))
        r.options = it.getStringValue ().c_str ();
      else if (is_code (c, "112021", "DCM") && it.getCodeValuePtr ())
        {
          DSRCodedEntryValue *v = it.getCodeValuePtr ();
          r.criteria = is_code (*v, "126081", "DCM") ? "recist1.1"
                       : is_ours (*v, RR_CODE_IRECIST) ? "irecist"
                       : v->getCodingSchemeDesignator () == RR_SR_SCHEME
                       ? v->getCodeValue ().c_str () : "";
        }
      if (t.goDown ())
        {
          walk (t, r, depth + 1);
          t.goUp ();
        }
    }
  while (t.gotoNext ());
}

static void
read_report (const char *path, Report &r)
{
  GStatBuf st;
  if (g_stat (path, &st) != 0)
    fail (RR_DICOM_ERROR_READ, "%s: %s", path, g_strerror (errno));
  if ((gsize) st.st_size > MAX_FILE)
    fail (RR_DICOM_ERROR_TOO_LARGE, "%s: over %zu MiB, not a measurement report", path,
          MAX_FILE >> 20);
  DcmFileFormat ff;
  OFCondition c = ff.loadFile (path);
  if (c.bad ())
    fail (RR_DICOM_ERROR_READ, "%s: not a DICOM file (%s)", path, c.text ());
  DSRDocument doc;
  c = doc.read (*ff.getDataset ());
  if (c.bad ())
    fail (RR_DICOM_ERROR_FORMAT, "%s: not a structured report (%s)", path, c.text ());
  DSRDocumentTree &tree = doc.getTree ();
  if (tree.gotoRoot () == 0 ||
      !is_code (tree.getCurrentContentItem ().getConceptName (), "126000", "DCM"))
    fail (RR_DICOM_ERROR_FORMAT, "%s: not a TID 1500 Imaging Measurement Report", path);
  r.path = path;
  OFString s;
  doc.getStudyDate (s);
  r.study_date = s.c_str ();
  doc.getStudyInstanceUID (s);
  r.study_uid = s.c_str ();
  walk (tree, r, 0);
  for (size_t i = 1; i <= doc.getNumberOfVerifyingObservers () && i <= 100; i++)
    {
      OFString when, name, org;
      if (doc.getVerifyingObserver (i, when, name, org).bad ())
        continue;
      /* DICOM DT "YYYYMMDDHHMMSS+ZZZZ" to ISO 8601. */
      std::string w = when.c_str (), iso = w;
      if (w.size () >= 14)
        {
          iso = w.substr (0, 4) + "-" + w.substr (4, 2) + "-" + w.substr (6, 2) + "T" +
                w.substr (8, 2) + ":" + w.substr (10, 2) + ":" + w.substr (12, 2);
          size_t tz = w.find_first_of ("+-", 14);
          iso += tz == std::string::npos || w.substr (tz) == "+0000" ? "Z"
                 : w.substr (tz, 3) + ":" + w.substr (tz + 3, 2);
        }
      r.verified.emplace_back (name.c_str (), iso);
    }
  for (const Group &g : r.groups)
    if (!g.time_point.empty ())
      {
        if (!r.time_point.empty () && r.time_point != g.time_point)
          fail (RR_DICOM_ERROR_FORMAT, "%s: groups of two time points, %s and %s", path,
                r.time_point.c_str (), g.time_point.c_str ());
        r.time_point = g.time_point;
      }
}

/* ---- the read JSON ---- */

static RrDicomInstance *
find_instance (RrDicomScan *scan, const std::string &sop, RrDicomSeries **series)
{
  for (guint i = 0; scan && i < scan->studies->len; i++)
    {
      RrDicomStudy *st = (RrDicomStudy *) scan->studies->pdata[i];
      for (guint j = 0; j < st->series->len; j++)
        {
          RrDicomSeries *se = (RrDicomSeries *) st->series->pdata[j];
          for (guint k = 0; k < se->instances->len; k++)
            {
              RrDicomInstance *in = (RrDicomInstance *) se->instances->pdata[k];
              if (sop == in->sop_uid)
                {
                  *series = se;
                  return in;
                }
            }
        }
    }
  return NULL;
}

/* A caliper from an image region: with the image at hand, a length in
 * patient millimetres on the image's plane (the inverse of the export's
 * mapping); without it, the reference and the image points as they are. */
static JsonNode *
caliper_node (const Length &l, RrDicomScan *scan, const char *where)
{
  std::vector<RrVec3> pts;
  RrPlane plane = {};
  const char *series_uid = NULL, *sop_uid = NULL;
  guint frame = 0;
  RrCalibration calibration = RR_CALIBRATION_PATIENT;

  if (l.has_2d)
    {
      RrDicomSeries *se = NULL;
      RrDicomInstance *in = find_instance (scan, l.sop_uid, &se);
      if (in == NULL)
        {
          JsonObject *o = json_object_new ();
          json_object_set_string_member (o, "kind", "length");
          json_object_set_string_member (o, "sop_uid", l.sop_uid.c_str ());
          json_object_set_string_member (o, "sop_class_uid", l.sop_class.c_str ());
          json_object_set_int_member (o, "frame", l.frame < 0 ? 0 : l.frame);
          JsonArray *a = json_array_new ();
          for (size_t i = 0; i + 1 < l.px.size (); i += 2)
            {
              JsonArray *p = json_array_new ();
              json_array_add_double_element (p, l.px[i]);
              json_array_add_double_element (p, l.px[i + 1]);
              json_array_add_array_element (a, p);
            }
          json_object_set_array_member (o, "image_points", a);
          JsonNode *n = json_node_new (JSON_NODE_OBJECT);
          json_node_take_object (n, o);
          return n;
        }
      frame = l.frame < 0 ? 0 : (guint) l.frame;
      if (frame >= in->n_frames || !in->frames[frame].has_geometry)
        fail (RR_DICOM_ERROR_FORMAT, "%s: image %s has no frame %u with a position", where,
              in->sop_uid, frame + 1);
      const RrFrameGeom *g = &in->frames[frame];
      for (size_t i = 0; i + 1 < l.px.size (); i += 2)
        {
          RrVec3 across = rr_vec3_scale (g->row_dir, (l.px[i] - 0.5) * g->col_spacing);
          RrVec3 down = rr_vec3_scale (g->col_dir, (l.px[i + 1] - 0.5) * g->row_spacing);
          pts.push_back (rr_vec3_add (g->position, rr_vec3_add (across, down)));
        }
      plane.right = g->row_dir;
      plane.down = g->col_dir;
      series_uid = se->series_uid;
      sop_uid = in->sop_uid;
      calibration = g->calibration;
    }
  else
    {
      for (size_t i = 0; i + 2 < l.p3.size (); i += 3)
        pts.push_back (rr_vec3 (l.p3[i], l.p3[i + 1], l.p3[i + 2]));
      if (pts.size () < 2)
        return NULL;
      /* The MPR plane itself is not in the report: one through the line. */
      RrVec3 d = rr_vec3_normalize (rr_vec3_sub (pts[1], pts[0]));
      RrVec3 other = fabs (d.z) < 0.9 ? rr_vec3 (0, 0, 1) : rr_vec3 (0, 1, 0);
      plane.right = d;
      plane.down = rr_vec3_normalize (rr_vec3_cross (rr_vec3_cross (d, other), d));
      /* The series on that frame of reference, when the images are here. */
      for (guint i = 0; scan && i < scan->studies->len && series_uid == NULL; i++)
        {
          RrDicomStudy *st = (RrDicomStudy *) scan->studies->pdata[i];
          for (guint j = 0; j < st->series->len && series_uid == NULL; j++)
            {
              RrDicomSeries *se = (RrDicomSeries *) st->series->pdata[j];
              const RrDicomInstance *in = se->is_image && se->instances->len
                                          ? rr_dicom_series_instance (se, 0) : NULL;
              if (in && in->frame_of_reference && l.frame_of_reference == in->frame_of_reference)
                series_uid = se->series_uid;
            }
        }
    }
  if (pts.size () < 2)
    return NULL;
  plane.center = rr_vec3_lerp (pts[0], pts[1], 0.5);
  plane.mm_per_pixel = 1;
  g_autoptr (RrMeasurement) m = rr_measurement_new (RR_MEASURE_LENGTH, &plane, pts.data (), 2);
  m->series_uid = g_strdup (series_uid);
  m->sop_uid = g_strdup (sop_uid);
  m->frame = frame;
  m->calibration = calibration;
  g_autofree char *text = rr_measurement_to_json (m);
  JsonNode *n = json_from_string (text, NULL);
  if (n && !l.has_2d && !l.frame_of_reference.empty ())
    json_object_set_string_member (json_node_get_object (n), "frame_of_reference_uid",
                                   l.frame_of_reference.c_str ());
  return n;
}

static JsonObject *
member_object (JsonObject *o, const char *name)
{
  if (!json_object_has_member (o, name))
    json_object_set_object_member (o, name, json_object_new ());
  return json_object_get_object_member (o, name);
}

static void
add_increased (JsonObject *lesion, const char *tp)
{
  if (!json_object_has_member (lesion, "increased"))
    json_object_set_array_member (lesion, "increased", json_array_new ());
  json_array_add_string_element (json_object_get_array_member (lesion, "increased"), tp);
}

static void
set_common (JsonObject *l, const Group &g, bool nodal_default)
{
  const RrOrgan *o = NULL;
  if (!g.site_code.empty ())
    o = rr_organs_lookup (g.site_code.c_str ());
  if (!json_object_has_member (l, "id"))
    json_object_set_string_member (l, "id", !g.tracking_id.empty () ? g.tracking_id.c_str ()
                                            : g.uid.c_str ());
  if (o)
    json_object_set_string_member (l, "organ", o->id);
  else if (!g.organ.empty ())
    json_object_set_string_member (l, "organ", g.organ.c_str ());
  else if (!g.site_meaning.empty ())
    {
      g_autofree char *lower = g_ascii_strdown (g.site_meaning.c_str (), -1);
      json_object_set_string_member (l, "organ", lower);
    }
  else
    json_object_set_string_member (l, "organ", "unknown");
  bool nodal = g.nodal == "yes" ? true : g.nodal == "no" ? false
               : o ? (bool) o->nodal : nodal_default;
  json_object_set_boolean_member (l, "nodal", nodal);
  if (!g.location.empty ())
    json_object_set_string_member (l, "location", g.location.c_str ());
}

static void
set_sizes (JsonObject *l, const Group &g, const char *tp, RrDicomScan *scan)
{
  JsonObject *ms = member_object (l, "measurements");
  g_autofree char *where = g_strdup_printf ("%s at %s", g.tracking_id.c_str (), tp);
  if (!g.meas_status.empty ())
    {
      json_object_set_string_member (ms, tp, g.meas_status.c_str ());
      return;
    }
  if (g.lengths.empty ())
    return;
  JsonArray *cals = json_array_new ();
  bool any_caliper = false;
  for (const Length &len : g.lengths)
    {
      JsonNode *c = len.has_2d || len.has_3d ? caliper_node (len, scan, where) : NULL;
      any_caliper |= c != NULL;
      json_array_add_element (cals, c ? c : json_node_new (JSON_NODE_NULL));
    }
  /* Sizes in tenths of a millimetre, as the read holds them. */
  if (g.lengths.size () == 1)
    json_object_set_double_member (ms, tp, round (g.lengths[0].mm * 10) / 10);
  else
    {
      JsonArray *a = json_array_new ();
      for (const Length &len : g.lengths)
        json_array_add_double_element (a, round (len.mm * 10) / 10);
      json_object_set_array_member (ms, tp, a);
    }
  if (any_caliper)
    {
      JsonObject *co = member_object (l, "calipers");
      if (json_array_get_length (cals) == 1)
        json_object_set_member (co, tp, json_node_copy (json_array_get_element (cals, 0)));
      else
        json_object_set_array_member (co, tp, json_array_ref (cals));
    }
  json_array_unref (cals);
}

static JsonObject *
find_or_add (JsonArray *a, GHashTable *index, const std::string &key)
{
  JsonObject *o = (JsonObject *) g_hash_table_lookup (index, key.c_str ());
  if (o)
    return o;
  o = json_object_new ();
  json_array_add_object_element (a, o);
  g_hash_table_insert (index, g_strdup (key.c_str ()), o);
  return o;
}

static char *
merge (std::vector<Report> &reports, RrDicomScan *scan)
{
  /* Reports of one time point (ours: its Time Point; another tool's
   * without one: the same study) make one timepoint. */
  struct Tp
  {
    std::string key, id, date;
    bool has_day = false;
    int day = 0;
    std::vector<size_t> reports;
  };
  std::vector<Tp> tpv;
  for (size_t i = 0; i < reports.size (); i++)
    {
      const Report &r = reports[i];
      std::string key = !r.time_point.empty () ? "tp\n" + r.time_point : "study\n" + r.study_uid;
      Tp *t = NULL;
      for (Tp &x : tpv)
        if (x.key == key)
          t = &x;
      if (t == NULL)
        {
          tpv.emplace_back ();
          t = &tpv.back ();
          t->key = key;
          t->id = r.time_point;
        }
      t->reports.push_back (i);
      if (r.has_day)
        t->has_day = true, t->day = r.day;
      if (t->date.empty ())
        t->date = r.study_date;
    }
  /* In the order of their study days (or study dates). */
  bool days = true;
  for (const Tp &t : tpv)
    days &= t.has_day;
  std::stable_sort (tpv.begin (), tpv.end (), [&] (const Tp &a, const Tp &b) {
    return days ? a.day < b.day : a.date < b.date;
  });
  GDate first;
  g_date_clear (&first, 1);
  JsonObject *root = json_object_new ();
  JsonArray *tps = json_array_new (), *targets = json_array_new (), *nts = json_array_new (),
            *news = json_array_new ();
  g_autoptr (GHashTable) t_index = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr (GHashTable) nt_index = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr (GHashTable) new_index = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr (GHashTable) tp_ids = g_hash_table_new (g_str_hash, g_str_equal);
  std::string criteria, options;

  for (size_t n = 0; n < tpv.size (); n++)
    {
      Tp &t = tpv[n];
      if (t.id.empty ())
        t.id = n == 0 ? "BL" : std::string ("TP") + std::to_string (n + 1);
      if (g_hash_table_contains (tp_ids, t.id.c_str ()))
        fail (RR_DICOM_ERROR_FORMAT, "%s: time point %s is also another study's",
              reports[t.reports[0]].path.c_str (), t.id.c_str ());
      g_hash_table_add (tp_ids, (gpointer) t.id.c_str ());
      int day = t.day;
      if (!t.has_day)
        {
          /* Days since the first timepoint's study date. */
          GDate d;
          g_date_clear (&d, 1);
          if (t.date.size () == 8)
            {
              int y = atoi (t.date.substr (0, 4).c_str ());
              int m = atoi (t.date.substr (4, 2).c_str ());
              int dd = atoi (t.date.substr (6, 2).c_str ());
              if (g_date_valid_dmy ((GDateDay) dd, (GDateMonth) m, (GDateYear) y))
                g_date_set_dmy (&d, (GDateDay) dd, (GDateMonth) m, (GDateYear) y);
            }
          if (n == 0 && g_date_valid (&d))
            first = d;
          day = g_date_valid (&d) && g_date_valid (&first) ? g_date_days_between (&first, &d) : 0;
        }
      JsonObject *tp = json_object_new ();
      json_object_set_string_member (tp, "id", t.id.c_str ());
      json_object_set_int_member (tp, "day", day);
      json_array_add_object_element (tps, tp);
      for (size_t ri : t.reports)
        {
          Report &r = reports[ri];
          r.time_point = t.id;
          if (criteria.empty ())
            criteria = r.criteria;
          if (options.empty ())
            options = r.options;
          const char *tpid = r.time_point.c_str ();

          for (const Group &g : r.groups)
            {
              std::string key = !g.uid.empty () ? g.uid : g.tracking_id;
              if (key.empty ())
                fail (RR_DICOM_ERROR_FORMAT,
                      "%s: a measurement group without a tracking identifier", r.path.c_str ());
              bool target = g.finding == "TARGET" || (g.finding.empty () && !g.lengths.empty ());
              if (g.finding == "NEW")
                {
                  std::string seen = g.first_seen.empty () ? r.time_point : g.first_seen;
                  JsonObject *l = find_or_add (news, new_index, key + "\n" + seen);
                  set_common (l, g, g.short_axis);
                  json_object_set_string_member (l, "timepoint", seen.c_str ());
                  json_object_set_boolean_member (l, "equivocal", g.equivocal == "yes");
                  set_sizes (l, g, tpid, scan);
                  if (g.increased)
                    add_increased (l, tpid);
                  if (json_object_has_member (l, "measurements") &&
                      json_object_get_size (json_object_get_object_member (l, "measurements")) == 0)
                    json_object_remove_member (l, "measurements");
                }
              else if (target)
                {
                  JsonObject *l = find_or_add (targets, t_index, key);
                  set_common (l, g, g.short_axis);
                  set_sizes (l, g, tpid, scan);
                }
              else
                {
                  JsonObject *l = find_or_add (nts, nt_index, key);
                  set_common (l, g, false);
                  const char *s = g.nt_status == "52101004" ? "present"
                                  : g.nt_status == "2667000" ? "absent"
                                  : g.nt_status == "UNEQUIVOCALPD" ? "unequivocal_progression"
                                  : g.nt_status == "NE" ? "NE"
                                  : g.nt_status.empty () ? "present" : NULL;
                  if (s == NULL)
                    fail (RR_DICOM_ERROR_FORMAT, "%s: %s has status %s", r.path.c_str (),
                          g.tracking_id.c_str (), g.nt_status.c_str ());
                  json_object_set_string_member (member_object (l, "status"), tpid, s);
                  if (g.increased)
                    add_increased (l, tpid);
                }
            }
        }
    }
  /* Who verified the reports: the read's signatures (once each). */
  JsonArray *sigs = json_array_new ();
  std::vector<std::string> seen_sigs;
  for (const Report &r : reports)
    for (const auto &v : r.verified)
      {
        std::string k = v.first + "\n" + v.second;
        if (std::find (seen_sigs.begin (), seen_sigs.end (), k) != seen_sigs.end ())
          continue;
        seen_sigs.push_back (k);
        JsonObject *o = json_object_new ();
        json_object_set_string_member (o, "name", v.first.c_str ());
        json_object_set_string_member (o, "time", v.second.c_str ());
        json_array_add_object_element (sigs, o);
      }
  json_object_set_string_member (root, "criteria", criteria.empty () ? "recist1.1"
                                                   : criteria.c_str ());
  JsonNode *opts = options.empty () ? NULL : json_from_string (options.c_str (), NULL);
  if (opts && JSON_NODE_HOLDS_OBJECT (opts))
    json_object_set_member (root, "options", opts);
  else if (opts)
    json_node_unref (opts);
  json_object_set_array_member (root, "timepoints", tps);
  json_object_set_array_member (root, "target_lesions", targets);
  json_object_set_array_member (root, "non_target_lesions", nts);
  json_object_set_array_member (root, "new_lesions", news);
  if (json_array_get_length (sigs) > 0)
    json_object_set_array_member (root, "signatures", sigs);
  else
    json_array_unref (sigs);
  JsonNode *node = json_node_new (JSON_NODE_OBJECT);
  json_node_take_object (node, root);
  char *text = json_to_string (node, TRUE);
  json_node_unref (node);
  return text;
}

extern "C" char *
rr_dicom_sr_import (const char * const *paths,
                    RrDicomScan        *scan,
                    GError            **error)
{
  char *text = NULL;

  g_return_val_if_fail (paths != NULL && paths[0] != NULL, NULL);
  rr_dicom_init ();
  try
    {
      std::vector<Report> reports;
      for (guint i = 0; paths[i]; i++)
        {
          reports.emplace_back ();
          read_report (paths[i], reports.back ());
        }
      text = merge (reports, scan);
    }
  catch (ImportError &e)
    {
      /* Say which file, when the message does not already. */
      gboolean named = FALSE;
      for (guint i = 0; paths[i] && !named; i++)
        named = strstr (e.message.c_str (), paths[i]) != NULL;
      if (named)
        g_set_error_literal (error, RR_DICOM_ERROR, e.code, e.message.c_str ());
      else
        g_set_error (error, RR_DICOM_ERROR, e.code, "%s%s: %s", paths[0],
                     paths[1] ? " ..." : "", e.message.c_str ());
      return NULL;
    }
  catch (std::bad_alloc &)
    {
      g_set_error (error, RR_DICOM_ERROR, RR_DICOM_ERROR_TOO_LARGE, "out of memory");
      return NULL;
    }
  catch (...)
    {
      g_set_error (error, RR_DICOM_ERROR, RR_DICOM_ERROR_READ, "unexpected error reading SR");
      return NULL;
    }
  /* What comes back must be a read the engine accepts. */
  g_autoptr (GError) local = NULL;
  g_autoptr (RrRead) read = rr_read_parse (text, -1, &local);
  if (read == NULL)
    {
      g_set_error (error, RR_DICOM_ERROR, RR_DICOM_ERROR_FORMAT,
                   "%s: the reports do not make a valid read: %s", paths[0], local->message);
      g_free (text);
      return NULL;
    }
  return text;
}
