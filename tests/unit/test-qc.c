/* test-qc.c: the QC checks over hand-built header facts: the protocol
 * parser and its bounds, each check's pass and failure, and the findings. */
#include "rr-qc.h"
#include "rr-upload-patients.h"

#include <json-glib/json-glib.h>
#include <string.h>

static const char *protocol_json =
  "{\"modality\": [\"CT\"], \"body_part\": [\"CHEST\", \"ABDOMEN\"],"
  " \"max_slice_thickness_mm\": 5.0, \"min_coverage_mm\": 300,"
  " \"contrast\": true, \"max_gap_slices\": 0}";

static RrQcProtocol *
protocol (void)
{
  g_autoptr (GError) error = NULL;
  RrQcProtocol *p = rr_qc_protocol_parse (protocol_json, -1, &error);
  g_assert_no_error (error);
  return p;
}

/* One axial CT slice as a de-identified, contrast-enhanced chest series
 * would have it. */
static RrQcInstance *
slice (const char *series,
       guint       k,
       double      z)
{
  RrQcInstance *i = rr_qc_instance_new ();
  RrFrameGeom *g;
  i->sop_uid = g_strdup_printf ("%s.%u", series, k + 1);
  i->study_uid = g_strdup ("1.2.3");
  i->series_uid = g_strdup (series);
  i->study_date = g_strdup ("20260105");
  i->patient_id = g_strdup ("S-001");
  i->patient_name = g_strdup ("S-001");
  i->modality = g_strdup ("CT");
  i->series_number = 2;
  i->body_part = g_strdup ("CHEST");
  i->is_image = TRUE;
  i->slice_thickness = 5.0;
  i->contrast_agent = g_strdup ("IOHEXOL");
  i->identity_removed = g_strdup ("YES");
  i->n_frames = 1;
  i->frames = g = g_new0 (RrFrameGeom, 1);
  g->has_geometry = TRUE;
  g->position = rr_vec3 (-150, -150, z);
  g->row_dir = rr_vec3 (1, 0, 0);
  g->col_dir = rr_vec3 (0, 1, 0);
  g->row_spacing = g->col_spacing = 0.7;
  g->calibration = RR_CALIBRATION_PATIENT;
  g->rows = g->columns = 512;
  g->order_hint = k;
  return i;
}

/* @n slices 5 mm apart from z = 0: 60 of them cover exactly 300 mm. */
static GPtrArray *
series (const char *uid,
        guint       n)
{
  GPtrArray *a = g_ptr_array_new_with_free_func ((GDestroyNotify) rr_qc_instance_free);
  for (guint k = 0; k < n; k++)
    g_ptr_array_add (a, slice (uid, k, 5.0 * k));
  return a;
}

static RrQcResult *
run (const RrQcProtocol *p,
     GPtrArray          *instances)
{
  return rr_qc_run (p, (RrQcInstance * const *) instances->pdata, instances->len);
}

static RrQcStatus
status_of (const RrQcResult *r,
           guint             series_index,
           const char       *check)
{
  const RrQcCheck *c = rr_qc_series_check (r->series->pdata[series_index], check);
  g_assert_nonnull (c);
  return c->status;
}

static guint
count_findings (const RrQcResult *r,
                const char       *category)
{
  guint n = 0;
  for (guint i = 0; i < r->findings->len; i++)
    if (g_str_equal (((RrQcFinding *) r->findings->pdata[i])->category, category))
      n++;
  return n;
}

static const RrQcFinding *
only_finding (const RrQcResult *r)
{
  g_assert_cmpuint (r->findings->len, ==, 1);
  return r->findings->pdata[0];
}

static const char *all_checks[] = {
  RR_QC_WRONG_MODALITY, RR_QC_COVERAGE, RR_QC_SLICE_THICKNESS, RR_QC_MISSING_SLICES,
  RR_QC_CONTRAST, RR_QC_PHI, RR_QC_WRONG_SUBJECT,
};

/* Every check passes but @failing, which fails. */
static void
assert_only_fails (const RrQcResult *r,
                   const char       *failing)
{
  for (guint i = 0; i < G_N_ELEMENTS (all_checks); i++)
    {
      RrQcStatus st = status_of (r, 0, all_checks[i]);
      if (failing && g_str_equal (all_checks[i], failing))
        g_assert_cmpint (st, ==, RR_QC_FAIL);
      else
        g_assert_cmpint (st, ==, RR_QC_PASS);
    }
}

static void
test_protocol_parse (void)
{
  g_autoptr (RrQcProtocol) p = protocol ();
  g_assert_cmpuint (p->modalities->len, ==, 1);
  g_assert_cmpstr (p->modalities->pdata[0], ==, "CT");
  g_assert_cmpuint (p->body_parts->len, ==, 2);
  g_assert_cmpstr (p->body_parts->pdata[1], ==, "ABDOMEN");
  g_assert_cmpfloat (p->max_slice_thickness_mm, ==, 5.0);
  g_assert_cmpfloat (p->min_coverage_mm, ==, 300.0);
  g_assert_cmpint (p->contrast, ==, RR_QC_CONTRAST_REQUIRED);
  g_assert_cmpuint (p->max_gap_slices, ==, 0);

  {
    g_autoptr (GError) error = NULL;
    g_autoptr (RrQcProtocol) q = rr_qc_protocol_parse ("{\"modality\": [\"mr\"], "
                                                       "\"contrast\": false, "
                                                       "\"max_gap_slices\": 2}", -1, &error);
    g_assert_no_error (error);
    g_assert_cmpstr (q->modalities->pdata[0], ==, "MR");
    g_assert_cmpint (q->contrast, ==, RR_QC_CONTRAST_ABSENT);
    g_assert_cmpuint (q->max_gap_slices, ==, 2);
    g_assert_cmpfloat (q->min_coverage_mm, ==, 0);
  }
  {
    g_autoptr (GError) error = NULL;
    g_autoptr (RrQcProtocol) q = rr_qc_protocol_parse ("{}", -1, &error);
    g_assert_no_error (error);
    g_assert_cmpint (q->contrast, ==, RR_QC_CONTRAST_ANY);
    g_assert_cmpuint (q->modalities->len, ==, 0);
  }
}

static void
test_protocol_refused (void)
{
  static const char *bad[] = {
    "not json",
    "[]",
    "{\"modality\": \"CT\"}",
    "{\"modality\": [\"\"]}",
    "{\"modality\": [\"C\\nT\"]}",
    "{\"modality\": [1]}",
    "{\"max_slice_thickness_mm\": 0}",
    "{\"max_slice_thickness_mm\": -5}",
    "{\"max_slice_thickness_mm\": 101}",
    "{\"max_slice_thickness_mm\": \"5\"}",
    "{\"min_coverage_mm\": -1}",
    "{\"min_coverage_mm\": 1e9}",
    "{\"contrast\": \"yes\"}",
    "{\"contrast\": 1}",
    "{\"max_gap_slices\": 1.5}",
    "{\"max_gap_slices\": -1}",
    "{\"max_gap_slices\": 5000}",
    "{\"min_coverage\": 300}",
  };
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (RrQcProtocol) p = rr_qc_protocol_parse (bad[i], -1, &error);
      g_assert_null (p);
      g_assert_error (error, RR_CORE_ERROR, RR_CORE_ERROR_INVALID);
    }
  {
    g_autoptr (GString) many = g_string_new ("{\"body_part\": [");
    g_autoptr (GError) error = NULL;
    for (guint i = 0; i <= RR_QC_MAX_LIST; i++)
      g_string_append_printf (many, "%s\"P%u\"", i ? "," : "", i);
    g_string_append (many, "]}");
    g_assert_null (rr_qc_protocol_parse (many->str, -1, &error));
    g_assert_error (error, RR_CORE_ERROR, RR_CORE_ERROR_INVALID);
  }
  {
    g_autofree char *huge = g_strnfill (RR_QC_MAX_PROTOCOL_BYTES + 1, ' ');
    g_autoptr (GError) error = NULL;
    g_assert_null (rr_qc_protocol_parse (huge, -1, &error));
    g_assert_error (error, RR_CORE_ERROR, RR_CORE_ERROR_TOO_LARGE);
  }
}

static void
test_clean_series_passes (void)
{
  g_autoptr (RrQcProtocol) p = protocol ();
  g_autoptr (GPtrArray) s = series ("1.2.3.4", 60);
  g_autoptr (RrQcResult) r = run (p, s);

  g_assert_cmpuint (r->series->len, ==, 1);
  assert_only_fails (r, NULL);
  g_assert_cmpuint (r->findings->len, ==, 0);
  /* 59 steps of 5 mm plus half a slice at each end. */
  g_assert_nonnull (strstr (rr_qc_series_check (r->series->pdata[0], RR_QC_COVERAGE)->message,
                            "300.0 mm"));
}

static void
test_wrong_modality (void)
{
  g_autoptr (RrQcProtocol) p = protocol ();
  g_autoptr (GPtrArray) s = series ("1.2.3.4", 60);
  for (guint i = 0; i < s->len; i++)
    {
      RrQcInstance *inst = s->pdata[i];
      g_free (inst->modality);
      inst->modality = g_strdup ("MR");
    }
  g_autoptr (RrQcResult) r = run (p, s);
  assert_only_fails (r, RR_QC_WRONG_MODALITY);
  const RrQcFinding *f = only_finding (r);
  g_assert_cmpstr (f->category, ==, "wrong_modality");
  g_assert_cmpstr (f->severity, ==, "major");
  g_assert_cmpstr (f->series_uid, ==, "1.2.3.4");
  g_assert_null (f->sop_uid);
  g_assert_nonnull (strstr (f->comment, "MR"));
}

static void
test_thick_slices (void)
{
  g_autoptr (RrQcProtocol) p = protocol ();
  /* 7.5 mm slices every 7.5 mm: 40 of them cover 300 mm. */
  g_autoptr (GPtrArray) s = g_ptr_array_new_with_free_func ((GDestroyNotify) rr_qc_instance_free);
  for (guint k = 0; k < 40; k++)
    {
      RrQcInstance *inst = slice ("1.2.3.4", k, 7.5 * k);
      inst->slice_thickness = 7.5;
      g_ptr_array_add (s, inst);
    }
  g_autoptr (RrQcResult) r = run (p, s);
  assert_only_fails (r, RR_QC_SLICE_THICKNESS);
  g_assert_cmpstr (only_finding (r)->category, ==, "slice_thickness");
  g_assert_nonnull (strstr (only_finding (r)->comment, "7.5 mm"));

  /* 5.0 written as 5.00001 by a scanner's rounding is still 5 mm. */
  for (guint i = 0; i < s->len; i++)
    ((RrQcInstance *) s->pdata[i])->slice_thickness = 5.001;
  g_autoptr (RrQcResult) r2 = run (p, s);
  g_assert_cmpint (status_of (r2, 0, RR_QC_SLICE_THICKNESS), ==, RR_QC_PASS);
}

static void
test_missing_slice (void)
{
  g_autoptr (RrQcProtocol) p = protocol ();
  g_autoptr (GPtrArray) s = series ("1.2.3.4", 61);
  g_ptr_array_remove_index (s, 10);
  g_autoptr (RrQcResult) r = run (p, s);
  assert_only_fails (r, RR_QC_MISSING_SLICES);
  const RrQcFinding *f = only_finding (r);
  g_assert_cmpstr (f->category, ==, "missing_slices");
  g_assert_null (f->sop_uid);
  /* The gap follows the slice at z = 45 mm. */
  g_assert_nonnull (strstr (f->comment, "45.0 mm"));

  /* A protocol that tolerates one missing slice in a row warns. */
  p->max_gap_slices = 1;
  g_autoptr (RrQcResult) r2 = run (p, s);
  g_assert_cmpint (status_of (r2, 0, RR_QC_MISSING_SLICES), ==, RR_QC_WARN);
  g_assert_cmpuint (r2->findings->len, ==, 0);
}

static void
test_uneven_gap (void)
{
  g_autoptr (RrQcProtocol) p = protocol ();
  g_autoptr (GPtrArray) s = series ("1.2.3.4", 61);
  /* From slice 30 on everything moves 7.5 mm further: a gap of 12.5 mm,
   * two and a half slices, where two slices are missing. */
  for (guint k = 30; k < s->len; k++)
    ((RrQcInstance *) s->pdata[k])->frames[0].position.z += 7.5;
  g_autoptr (RrQcResult) r = run (p, s);
  g_assert_cmpint (status_of (r, 0, RR_QC_MISSING_SLICES), ==, RR_QC_FAIL);
  g_assert_nonnull (strstr (rr_qc_series_check (r->series->pdata[0],
                                                RR_QC_MISSING_SLICES)->message, "uneven"));
  g_assert_cmpuint (count_findings (r, "missing_slices"), ==, 1);
}

static void
test_short_coverage (void)
{
  g_autoptr (RrQcProtocol) p = protocol ();
  g_autoptr (GPtrArray) s = series ("1.2.3.4", 20);
  g_autoptr (RrQcResult) r = run (p, s);
  assert_only_fails (r, RR_QC_COVERAGE);
  g_assert_cmpstr (only_finding (r)->category, ==, "incomplete_coverage");
  g_assert_nonnull (strstr (only_finding (r)->comment, "100.0 mm"));

  /* Tilted or shuffled, the coverage is measured along the normal. */
  g_ptr_array_add (s, g_ptr_array_steal_index (s, 0));
  g_autoptr (RrQcResult) r2 = run (p, s);
  g_assert_nonnull (strstr (only_finding (r2)->comment, "100.0 mm"));
}

static void
test_body_part (void)
{
  g_autoptr (RrQcProtocol) p = protocol ();
  g_autoptr (GPtrArray) s = series ("1.2.3.4", 60);
  for (guint i = 0; i < s->len; i++)
    {
      RrQcInstance *inst = s->pdata[i];
      g_free (inst->body_part);
      inst->body_part = g_strdup ("HEAD");
    }
  g_autoptr (RrQcResult) r = run (p, s);
  assert_only_fails (r, RR_QC_COVERAGE);
  g_assert_nonnull (strstr (only_finding (r)->comment, "HEAD"));

  for (guint i = 0; i < s->len; i++)
    g_clear_pointer (&((RrQcInstance *) s->pdata[i])->body_part, g_free);
  g_autoptr (RrQcResult) r2 = run (p, s);
  g_assert_cmpint (status_of (r2, 0, RR_QC_COVERAGE), ==, RR_QC_WARN);
  g_assert_cmpuint (r2->findings->len, ==, 0);
}

static void
set_agent (GPtrArray  *s,
           const char *agent)
{
  for (guint i = 0; i < s->len; i++)
    {
      RrQcInstance *inst = s->pdata[i];
      g_free (inst->contrast_agent);
      inst->contrast_agent = g_strdup (agent);
    }
}

static void
test_contrast (void)
{
  g_autoptr (RrQcProtocol) p = protocol ();
  g_autoptr (GPtrArray) s = series ("1.2.3.4", 60);

  set_agent (s, NULL);
  {
    g_autoptr (RrQcResult) r = run (p, s);
    assert_only_fails (r, RR_QC_CONTRAST);
    g_assert_cmpstr (only_finding (r)->category, ==, "contrast_phase");
  }
  /* Sites write NONE where no agent was given. */
  set_agent (s, "NONE");
  {
    g_autoptr (RrQcResult) r = run (p, s);
    g_assert_cmpint (status_of (r, 0, RR_QC_CONTRAST), ==, RR_QC_FAIL);
  }
  /* An agent given only as a coded sequence counts. */
  for (guint i = 0; i < s->len; i++)
    ((RrQcInstance *) s->pdata[i])->n_contrast_items = 1;
  {
    g_autoptr (RrQcResult) r = run (p, s);
    g_assert_cmpint (status_of (r, 0, RR_QC_CONTRAST), ==, RR_QC_PASS);
  }
  /* A protocol without contrast refuses an enhanced series. */
  p->contrast = RR_QC_CONTRAST_ABSENT;
  set_agent (s, "IOHEXOL");
  {
    g_autoptr (RrQcResult) r = run (p, s);
    g_assert_cmpint (status_of (r, 0, RR_QC_CONTRAST), ==, RR_QC_FAIL);
    g_assert_nonnull (strstr (only_finding (r)->comment, "IOHEXOL"));
  }
}

static void
test_birth_date (void)
{
  g_autoptr (RrQcProtocol) p = protocol ();
  g_autoptr (GPtrArray) s = series ("1.2.3.4", 60);
  guint32 tag = 0x00100030;
  g_array_append_val (((RrQcInstance *) s->pdata[3])->identifying, tag);
  g_autoptr (RrQcResult) r = run (p, s);
  assert_only_fails (r, RR_QC_PHI);
  const RrQcFinding *f = only_finding (r);
  g_assert_cmpstr (f->category, ==, "phi_present");
  g_assert_cmpstr (f->severity, ==, "major");
  g_assert_null (f->sop_uid);
  g_assert_nonnull (strstr (f->comment, "Patient's Birth Date (0010,0030)"));
  g_assert_nonnull (strstr (f->comment, "1 of 60"));
}

static void
test_patient_name (void)
{
  g_autoptr (RrQcProtocol) p = protocol ();
  g_autoptr (GPtrArray) s = series ("1.2.3.4", 60);
  RrQcInstance *inst = s->pdata[0];

  /* The subject ID with empty name components is the subject ID. */
  g_free (inst->patient_name);
  inst->patient_name = g_strdup ("S-001^^^");
  {
    g_autoptr (RrQcResult) r = run (p, s);
    assert_only_fails (r, NULL);
  }
  g_free (inst->patient_name);
  inst->patient_name = g_strdup ("DOE^JANE");
  {
    g_autoptr (RrQcResult) r = run (p, s);
    assert_only_fails (r, RR_QC_PHI);
    g_assert_nonnull (strstr (only_finding (r)->comment, "Patient's Name"));
  }
}

static void
test_burned_in (void)
{
  g_autoptr (RrQcProtocol) p = protocol ();
  g_autoptr (GPtrArray) s = series ("1.2.3.4", 60);

  ((RrQcInstance *) s->pdata[7])->burned_in_annotation = g_strdup ("YES");
  ((RrQcInstance *) s->pdata[9])->burned_in_annotation = g_strdup ("YES ");
  ((RrQcInstance *) s->pdata[11])->burned_in_annotation = g_strdup ("NO");
  {
    g_autoptr (RrQcResult) r = run (p, s);
    assert_only_fails (r, RR_QC_PHI);
    /* The reviewer is sent to each image. */
    g_assert_cmpuint (r->findings->len, ==, 2);
    g_assert_cmpstr (((RrQcFinding *) r->findings->pdata[0])->sop_uid, ==, "1.2.3.4.8");
    g_assert_cmpstr (((RrQcFinding *) r->findings->pdata[1])->sop_uid, ==, "1.2.3.4.10");
    g_assert_cmpstr (((RrQcFinding *) r->findings->pdata[1])->severity, ==, "major");
  }
  for (guint i = 0; i < s->len; i++)
    {
      RrQcInstance *inst = s->pdata[i];
      g_free (inst->burned_in_annotation);
      inst->burned_in_annotation = g_strdup ("YES");
    }
  {
    g_autoptr (RrQcResult) r = run (p, s);
    g_assert_null (only_finding (r)->sop_uid);
    g_assert_nonnull (strstr (only_finding (r)->comment, "all 60"));
  }
}

static void
test_private_and_identity_removed (void)
{
  g_autoptr (RrQcProtocol) p = protocol ();
  g_autoptr (GPtrArray) s = series ("1.2.3.4", 60);

  for (guint i = 0; i < s->len; i++)
    ((RrQcInstance *) s->pdata[i])->n_private = 3;
  {
    g_autoptr (RrQcResult) r = run (p, s);
    assert_only_fails (r, RR_QC_PHI);
    g_assert_nonnull (strstr (only_finding (r)->comment, "Private attributes"));
    g_assert_nonnull (strstr (only_finding (r)->comment, "180 in all"));
  }
  for (guint i = 0; i < s->len; i++)
    {
      RrQcInstance *inst = s->pdata[i];
      inst->n_private = 0;
      g_clear_pointer (&inst->identity_removed, g_free);
    }
  {
    g_autoptr (RrQcResult) r = run (p, s);
    assert_only_fails (r, RR_QC_PHI);
    g_assert_nonnull (strstr (only_finding (r)->comment, "Patient Identity Removed"));
  }
}

static void
test_two_patients (void)
{
  g_autoptr (RrQcProtocol) p = protocol ();
  g_autoptr (GPtrArray) s = series ("1.2.3.4", 60);
  g_autoptr (GPtrArray) other = series ("1.2.3.5", 60);

  for (guint i = 0; i < other->len; i++)
    {
      RrQcInstance *inst = other->pdata[i];
      g_free (inst->patient_id);
      g_free (inst->patient_name);
      g_free (inst->study_uid);
      inst->patient_id = g_strdup ("S-002");
      inst->patient_name = g_strdup ("S-002");
      inst->study_uid = g_strdup ("1.2.9");
      inst->series_number = 3;
    }
  /* Given series 3 first: series and findings still come in series order. */
  g_ptr_array_extend_and_steal (other, g_steal_pointer (&s));
  s = g_steal_pointer (&other);
  g_autoptr (RrQcResult) r = run (p, s);
  g_assert_cmpuint (r->series->len, ==, 2);
  g_assert_cmpint (((RrQcSeries *) r->series->pdata[0])->number, ==, 2);
  g_assert_cmpint (((RrQcSeries *) r->series->pdata[1])->number, ==, 3);
  g_assert_cmpstr (((RrQcFinding *) r->findings->pdata[0])->series_uid, ==, "1.2.3.4");
  g_assert_cmpstr (((RrQcFinding *) r->findings->pdata[1])->series_uid, ==, "1.2.3.5");
  for (guint i = 0; i < 2; i++)
    for (guint c = 0; c < G_N_ELEMENTS (all_checks); c++)
      g_assert_cmpint (status_of (r, i, all_checks[c]), ==,
                       g_str_equal (all_checks[c], RR_QC_WRONG_SUBJECT) ? RR_QC_FAIL
                                                                         : RR_QC_PASS);
  g_assert_cmpuint (count_findings (r, "wrong_subject_or_visit"), ==, 2);
  g_assert_nonnull (strstr (((RrQcFinding *) r->findings->pdata[0])->comment, "S-002"));
}

static void
test_two_visits (void)
{
  g_autoptr (RrQcProtocol) p = protocol ();
  g_autoptr (GPtrArray) s = series ("1.2.3.4", 60);
  g_autoptr (GPtrArray) other = series ("1.2.3.5", 60);

  for (guint i = 0; i < other->len; i++)
    {
      RrQcInstance *inst = other->pdata[i];
      g_free (inst->study_uid);
      inst->study_uid = g_strdup ("1.2.9");
    }
  g_ptr_array_extend (s, other, NULL, NULL);
  /* Two studies of one day (a PET/CT sent as two) only warn... */
  {
    g_autoptr (RrQcResult) r = run (p, s);
    g_assert_cmpint (status_of (r, 0, RR_QC_WRONG_SUBJECT), ==, RR_QC_WARN);
    g_assert_cmpuint (r->findings->len, ==, 0);
  }
  /* ...of two days, they are two visits. */
  for (guint i = 0; i < other->len; i++)
    {
      RrQcInstance *inst = other->pdata[i];
      g_free (inst->study_date);
      inst->study_date = g_strdup ("20260301");
    }
  {
    g_autoptr (RrQcResult) r = run (p, s);
    g_assert_cmpint (status_of (r, 1, RR_QC_WRONG_SUBJECT), ==, RR_QC_FAIL);
    g_assert_cmpuint (count_findings (r, "wrong_subject_or_visit"), ==, 2);
  }
  g_ptr_array_set_free_func (other, NULL);
}

static void
test_non_image (void)
{
  g_autoptr (RrQcProtocol) p = protocol ();
  g_autoptr (GPtrArray) s = series ("1.2.3.4", 60);
  RrQcInstance *sr = rr_qc_instance_new ();
  sr->sop_uid = g_strdup ("1.2.3.6.1");
  sr->study_uid = g_strdup ("1.2.3");
  sr->series_uid = g_strdup ("1.2.3.6");
  sr->study_date = g_strdup ("20260105");
  sr->patient_id = g_strdup ("S-001");
  sr->modality = g_strdup ("SR");
  sr->series_number = 9;
  sr->identity_removed = g_strdup ("YES");
  g_ptr_array_add (s, sr);
  g_autoptr (RrQcResult) r = run (p, s);
  g_assert_cmpuint (r->series->len, ==, 2);
  const RrQcSeries *out = r->series->pdata[1];
  g_assert_cmpstr (out->series_uid, ==, "1.2.3.6");
  /* A report is not an acquisition: no modality or geometry to judge. */
  g_assert_cmpuint (out->checks->len, ==, 2);
  g_assert_cmpint (status_of (r, 1, RR_QC_PHI), ==, RR_QC_PASS);
  g_assert_cmpint (status_of (r, 1, RR_QC_WRONG_SUBJECT), ==, RR_QC_PASS);
  g_assert_cmpuint (r->findings->len, ==, 0);
}

static void
test_json (void)
{
  g_autoptr (RrQcProtocol) p = protocol ();
  g_autoptr (GPtrArray) s = series ("1.2.3.4", 60);
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) error = NULL;

  set_agent (s, NULL);
  ((RrQcInstance *) s->pdata[4])->burned_in_annotation = g_strdup ("YES");
  g_autoptr (RrQcResult) r = run (p, s);
  g_autofree char *text = rr_qc_result_to_json (r);
  g_assert_true (json_parser_load_from_data (parser, text, -1, &error));
  JsonObject *root = json_node_get_object (json_parser_get_root (parser));
  JsonArray *series_a = json_object_get_array_member (root, "series");
  g_assert_cmpuint (json_array_get_length (series_a), ==, 1);
  JsonObject *s0 = json_array_get_object_element (series_a, 0);
  g_assert_cmpstr (json_object_get_string_member (s0, "series_uid"), ==, "1.2.3.4");
  g_assert_cmpstr (json_object_get_string_member (s0, "modality"), ==, "CT");
  JsonArray *checks = json_object_get_array_member (s0, "checks");
  g_assert_cmpuint (json_array_get_length (checks), ==, 7);
  for (guint i = 0; i < 7; i++)
    {
      JsonObject *c = json_array_get_object_element (checks, i);
      const char *name = json_object_get_string_member (c, "check");
      const char *st = json_object_get_string_member (c, "status");
      g_assert_cmpstr (name, ==, all_checks[i]);
      g_assert_cmpstr (st, ==, g_str_equal (name, "contrast_phase") ||
                               g_str_equal (name, "phi_present") ? "fail" : "pass");
      g_assert_true (json_object_has_member (c, "message"));
    }
  JsonArray *findings = json_object_get_array_member (root, "findings");
  g_assert_cmpuint (json_array_get_length (findings), ==, 2);
  JsonObject *f0 = json_array_get_object_element (findings, 0);
  g_assert_cmpstr (json_object_get_string_member (f0, "category"), ==, "contrast_phase");
  g_assert_cmpstr (json_object_get_string_member (f0, "series"), ==, "1.2.3.4");
  g_assert_false (json_object_has_member (f0, "sop"));
  JsonObject *f1 = json_array_get_object_element (findings, 1);
  g_assert_cmpstr (json_object_get_string_member (f1, "category"), ==, "phi_present");
  g_assert_cmpstr (json_object_get_string_member (f1, "sop"), ==, "1.2.3.4.5");
  g_assert_cmpint (json_object_get_int_member (f1, "frame"), ==, 0);
  g_assert_cmpstr (json_object_get_string_member (f1, "severity"), ==, "major");
}

static void
test_identifying_table (void)
{
  guint n;
  const RrQcAttribute *a = rr_qc_identifying_attributes (&n);
  g_assert_cmpuint (n, >, 20);
  for (guint i = 1; i < n; i++)
    g_assert_cmpuint (a[i - 1].tag, <, a[i].tag);
  g_assert_cmpstr (rr_qc_identifying_lookup (0x00100030)->name, ==, "Patient's Birth Date");
  g_assert_cmpstr (rr_qc_identifying_lookup (0x00080080)->name, ==, "Institution Name");
  g_assert_null (rr_qc_identifying_lookup (0x00100010));
  g_assert_null (rr_qc_identifying_lookup (0x00100020));
  g_assert_true (rr_qc_value_is_empty (NULL));
  g_assert_true (rr_qc_value_is_empty (" ^^ \\ "));
  g_assert_false (rr_qc_value_is_empty ("^JANE"));
}

/* One upload's patients (the app's upload page and readroom-cli upload):
 * by Patient ID, in the order met, a file without one counting for none. */
static void
test_upload_patients (void)
{
  const char *ids[] = { "A", "B", "", NULL, "A", "A" };
  g_autoptr (GPtrArray) instances =
    g_ptr_array_new_with_free_func ((GDestroyNotify) rr_qc_instance_free);
  g_autoptr (GPtrArray) patients = NULL;
  RrUploadPatient *p;

  for (guint i = 0; i < G_N_ELEMENTS (ids); i++)
    {
      RrQcInstance *inst = rr_qc_instance_new ();
      inst->patient_id = g_strdup (ids[i]);
      inst->path = g_strdup_printf ("f%u.dcm", i);
      g_ptr_array_add (instances, inst);
    }
  patients = rr_upload_patients (instances);
  g_assert_cmpuint (patients->len, ==, 2);
  p = patients->pdata[0];
  g_assert_cmpstr (p->patient_id, ==, "A");
  g_assert_cmpuint (p->n_files, ==, 3);
  g_assert_cmpstr (p->first_path, ==, "f0.dcm");
  p = patients->pdata[1];
  g_assert_cmpstr (p->patient_id, ==, "B");
  g_assert_cmpuint (p->n_files, ==, 1);
  g_assert_cmpstr (p->first_path, ==, "f1.dcm");
  /* One patient, and files without any: one. */
  g_ptr_array_remove_index (instances, 1);
  g_clear_pointer (&patients, g_ptr_array_unref);
  patients = rr_upload_patients (instances);
  g_assert_cmpuint (patients->len, ==, 1);
  g_clear_pointer (&patients, g_ptr_array_unref);
  patients = rr_upload_patients (NULL);
  g_assert_cmpuint (patients->len, ==, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/qc/protocol/parse", test_protocol_parse);
  g_test_add_func ("/qc/protocol/refused", test_protocol_refused);
  g_test_add_func ("/qc/clean", test_clean_series_passes);
  g_test_add_func ("/qc/wrong-modality", test_wrong_modality);
  g_test_add_func ("/qc/slice-thickness", test_thick_slices);
  g_test_add_func ("/qc/missing-slice", test_missing_slice);
  g_test_add_func ("/qc/uneven-gap", test_uneven_gap);
  g_test_add_func ("/qc/coverage", test_short_coverage);
  g_test_add_func ("/qc/body-part", test_body_part);
  g_test_add_func ("/qc/contrast", test_contrast);
  g_test_add_func ("/qc/phi/birth-date", test_birth_date);
  g_test_add_func ("/qc/phi/patient-name", test_patient_name);
  g_test_add_func ("/qc/phi/burned-in", test_burned_in);
  g_test_add_func ("/qc/phi/private-identity-removed", test_private_and_identity_removed);
  g_test_add_func ("/qc/subject/two-patients", test_two_patients);
  g_test_add_func ("/qc/subject/two-visits", test_two_visits);
  g_test_add_func ("/qc/upload-patients", test_upload_patients);
  g_test_add_func ("/qc/non-image", test_non_image);
  g_test_add_func ("/qc/json", test_json);
  g_test_add_func ("/qc/identifying-table", test_identifying_table);
  return g_test_run ();
}
