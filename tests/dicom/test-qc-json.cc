// test-qc-json.cc: the QC facts of a file read by rr-dicom-header.cc and
// those of the same file's DICOM JSON (written by dcmtk, as DICOMweb
// /metadata serves it) read by rr-qc-dicom-json.c are the same, defects
// planted included, so the server's checks agree with readroom-cli qc.
// And the raw reader (rr-dicom-header-raw.c) gives what dcmtk gives, on
// every file it does not decline.
#include "rr-dicom.h"
#include "rr-dicom-private.h"
#include "rr-phantom.h"
#include "rr-qc-dicom-json.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dctk.h>
#include <dcmtk/dcmdata/dcjson.h>

#include <glib/gstdio.h>
#include <sstream>
#include <string.h>

static char *tmp_root;

static GPtrArray *
phantom_files (const char *name)
{
  g_autoptr (RrPhantomSpec) s = rr_phantom_spec_new (RR_PHANTOM_CT);
  g_autofree char *dir = g_build_filename (tmp_root, name, NULL);
  g_autoptr (GError) error = NULL;
  guint n = 0;
  GPtrArray *files = g_ptr_array_new_with_free_func (g_free);

  s->rows = s->columns = 32;
  s->row_spacing = s->col_spacing = 10;
  s->slices = 12;
  s->slice_spacing = s->slice_thickness = 5;
  s->noise_sd = 0;
  s->missing_slice = 6;
  g_assert_true (rr_phantom_write (s, dir, &n, &error));
  g_assert_no_error (error);
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const char *entry;
  while ((entry = g_dir_read_name (d)) != NULL)
    g_ptr_array_add (files, g_build_filename (dir, entry, NULL));
  g_ptr_array_sort (files, [] (gconstpointer a, gconstpointer b) {
    return strcmp (*(char * const *) a, *(char * const *) b);
  });
  g_assert_cmpuint (files->len, ==, 11);
  return files;
}

/* What a site's tool leaves behind, one kind per file. */
static void
plant (const char *path, guint i)
{
  DcmFileFormat ff;
  g_assert_true (ff.loadFile (path).good ());
  DcmDataset *ds = ff.getDataset ();
  ds->putAndInsertString (DCM_ContrastBolusAgent, "IOHEXOL");
  switch (i)
    {
    case 0:
      ds->putAndInsertString (DCM_PatientBirthDate, "19610412");
      break;
    case 1:
      ds->putAndInsertString (DcmTag (0x0009, 0x0010, EVR_LO), "ACME 1.1");
      ds->putAndInsertString (DcmTag (0x0009, 0x1001, EVR_LO), "site data");
      break;
    case 2:
      ds->putAndInsertString (DCM_BurnedInAnnotation, "YES");
      break;
    case 3:
      {
        DcmItem *item = NULL;
        g_assert_true (ds->findOrCreateSequenceItem (DCM_ProcedureCodeSequence, item, 0).good ());
        item->putAndInsertString (DCM_ReferringPhysicianName, "WELBY^MARCUS");
        item->putAndInsertString (DCM_InstitutionName, "");
        /* deid's dummy (walk M1): no name, in any reader. */
        item->putAndInsertString (DCM_OperatorsName, "REMOVED");
        ds->putAndInsertString (DCM_StationName, "REMOVED\\REMOVED");
      }
      break;
    case 4:
      ds->putAndInsertString (DCM_PatientName, "DOE^JANE");
      ds->putAndInsertString (DCM_PatientIdentityRemoved, "NO");
      break;
    case 5:
      ds->putAndInsertString (DCM_PatientID, "S-002");
      break;
    default:
      break;
    }
  g_assert_true (ff.saveFile (path, EXS_LittleEndianExplicit).good ());
}

static char *
dicom_json (const char *path)
{
  DcmFileFormat ff;
  g_assert_true (ff.loadFile (path).good ());
  std::ostringstream out;
  DcmJsonFormatCompact format (OFTrue);
  g_assert_true (ff.getDataset ()->writeJson (out, format).good ());
  return g_strdup (out.str ().c_str ());
}

static void
assert_same_geometry (const RrFrameGeom *a, const RrFrameGeom *b)
{
  g_assert_cmpint (a->has_geometry, ==, b->has_geometry);
  g_assert_cmpfloat_with_epsilon (a->position.x, b->position.x, 1e-9);
  g_assert_cmpfloat_with_epsilon (a->position.y, b->position.y, 1e-9);
  g_assert_cmpfloat_with_epsilon (a->position.z, b->position.z, 1e-9);
  /* No orientation at all (a secondary capture) is no orientation on both. */
  g_assert_cmpint (rr_vec3_length (a->row_dir) == 0, ==, rr_vec3_length (b->row_dir) == 0);
  if (rr_vec3_length (a->row_dir) > 0)
    {
      g_assert_cmpfloat_with_epsilon (rr_vec3_dot (rr_vec3_normalize (a->row_dir),
                                                   rr_vec3_normalize (b->row_dir)), 1, 1e-9);
      g_assert_cmpfloat_with_epsilon (rr_vec3_dot (rr_vec3_normalize (a->col_dir),
                                                   rr_vec3_normalize (b->col_dir)), 1, 1e-9);
    }
  g_assert_cmpfloat (a->row_spacing, ==, b->row_spacing);
  g_assert_cmpfloat (a->col_spacing, ==, b->col_spacing);
  g_assert_cmpuint (a->rows, ==, b->rows);
  g_assert_cmpuint (a->columns, ==, b->columns);
  g_assert_cmpfloat (a->order_hint, ==, b->order_hint);
}

static GArray *
sorted_tags (GArray *tags)
{
  GArray *copy = g_array_copy (tags);
  g_array_sort (copy, [] (gconstpointer a, gconstpointer b) {
    guint32 x = *(const guint32 *) a, y = *(const guint32 *) b;
    return x < y ? -1 : x > y;
  });
  return copy;
}

static void
assert_same (const RrQcInstance *a, const RrQcInstance *b)
{
  g_assert_cmpstr (a->sop_uid, ==, b->sop_uid);
  g_assert_cmpstr (a->study_uid, ==, b->study_uid);
  g_assert_cmpstr (a->series_uid, ==, b->series_uid);
  g_assert_cmpstr (a->study_date, ==, b->study_date);
  g_assert_cmpstr (a->patient_id, ==, b->patient_id);
  g_assert_cmpstr (a->patient_name, ==, b->patient_name);
  g_assert_cmpstr (a->modality, ==, b->modality);
  g_assert_cmpstr (a->series_description, ==, b->series_description);
  g_assert_cmpint (a->series_number, ==, b->series_number);
  g_assert_cmpstr (a->body_part, ==, b->body_part);
  g_assert_cmpint (a->is_image, ==, b->is_image);
  g_assert_cmpfloat (a->slice_thickness, ==, b->slice_thickness);
  g_assert_cmpstr (a->contrast_agent, ==, b->contrast_agent);
  g_assert_cmpuint (a->n_contrast_items, ==, b->n_contrast_items);
  g_assert_cmpstr (a->identity_removed, ==, b->identity_removed);
  g_assert_cmpstr (a->burned_in_annotation, ==, b->burned_in_annotation);
  g_assert_cmpuint (a->n_private, ==, b->n_private);
  g_assert_cmpuint (a->n_frames, ==, b->n_frames);
  for (guint f = 0; f < a->n_frames; f++)
    assert_same_geometry (&a->frames[f], &b->frames[f]);
  g_autoptr (GArray) ta = sorted_tags (a->identifying);
  g_autoptr (GArray) tb = sorted_tags (b->identifying);
  g_assert_cmpuint (ta->len, ==, tb->len);
  for (guint i = 0; i < ta->len; i++)
    g_assert_cmpuint (g_array_index (ta, guint32, i), ==, g_array_index (tb, guint32, i));
}

static void
test_same_facts (void)
{
  g_autoptr (GPtrArray) files = phantom_files ("planted");
  g_autoptr (GPtrArray) from_files =
    g_ptr_array_new_with_free_func ((GDestroyNotify) rr_qc_instance_free);
  g_autoptr (GString) metadata = g_string_new ("[");

  for (guint i = 0; i < files->len; i++)
    {
      const char *path = (const char *) files->pdata[i];
      g_autoptr (GError) error = NULL;
      plant (path, i);
      RrQcInstance *a = rr_dicom_header_read (path, &error);
      g_assert_no_error (error);
      g_ptr_array_add (from_files, a);
      g_autofree char *json = dicom_json (path);
      /* writeJson gives the members; the object is ours to open. */
      g_string_append_printf (metadata, "%s{%s}", i ? "," : "", json);
    }
  g_string_append (metadata, "]");

  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) from_json = rr_qc_instances_from_dicom_json (metadata->str, -1, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (from_json->len, ==, from_files->len);
  for (guint i = 0; i < from_files->len; i++)
    assert_same ((RrQcInstance *) from_files->pdata[i], (RrQcInstance *) from_json->pdata[i]);

  /* The planted defects were seen at all (by both, as compared above). */
  const RrQcInstance *f0 = (const RrQcInstance *) from_files->pdata[0];
  const RrQcInstance *f1 = (const RrQcInstance *) from_files->pdata[1];
  const RrQcInstance *f3 = (const RrQcInstance *) from_files->pdata[3];
  g_assert_cmpuint (f0->identifying->len, ==, 1);
  g_assert_cmpuint (g_array_index (f0->identifying, guint32, 0), ==, 0x00100030);
  g_assert_cmpuint (f1->n_private, ==, 2);
  g_assert_cmpuint (f3->identifying->len, ==, 1);
  g_assert_cmpuint (g_array_index (f3->identifying, guint32, 0), ==, 0x00080090);
  g_assert_cmpstr (((RrQcInstance *) from_files->pdata[2])->burned_in_annotation, ==, "YES");

  /* And so the checks say the same, word for word. */
  g_autoptr (RrQcProtocol) p = rr_qc_protocol_parse (
    "{\"modality\": [\"CT\"], \"max_slice_thickness_mm\": 5, \"contrast\": true}", -1, &error);
  g_assert_no_error (error);
  g_autoptr (RrQcResult) ra = rr_qc_run (p, (RrQcInstance * const *) from_files->pdata,
                                         from_files->len);
  g_autoptr (RrQcResult) rb = rr_qc_run (p, (RrQcInstance * const *) from_json->pdata,
                                         from_json->len);
  g_autofree char *ja = rr_qc_result_to_json (ra);
  g_autofree char *jb = rr_qc_result_to_json (rb);
  g_assert_cmpstr (ja, ==, jb);
  g_assert_nonnull (strstr (ja, "\"missing_slices\""));
  g_assert_nonnull (strstr (ja, "\"wrong_subject_or_visit\""));
  g_assert_cmpuint (ra->findings->len, >=, 7);
}


/* Same facts in the same order: the findings follow the identifying list. */
static void
assert_same_raw (const char *path)
{
  g_autoptr (GError) e1 = NULL;
  g_autoptr (GError) e2 = NULL;
  g_autoptr (RrQcInstance) a = rr_dicom_header_read (path, &e1);
  g_autoptr (RrQcInstance) b = rr_dicom_header_read_dcmtk (path, &e2);
  if (b == NULL)
    {
      /* What dcmtk refuses is refused the same, in dcmtk's words. */
      if (a != NULL)
        g_test_message ("dcmtk: %s", e2->message);
      g_assert_null (a);
      g_assert_cmpstr (e1->message, ==, e2->message);
      return;
    }
  g_assert_no_error (e1);
  assert_same (a, b);
  g_assert_cmpint (a->slice_thickness, ==, b->slice_thickness);
  g_assert_cmpuint (a->identifying->len, ==, b->identifying->len);
  for (guint i = 0; i < a->identifying->len; i++)
    g_assert_cmpuint (g_array_index (a->identifying, guint32, i), ==,
                      g_array_index (b->identifying, guint32, i));
}

static RrQcInstance *
read_raw (const char *path)
{
  return rr_dicom_header_read_raw (path);
}

static void
test_raw_reader (void)
{
  g_autoptr (GPtrArray) files = phantom_files ("raw");
  const char *data = g_getenv ("PYDICOM_DATA");
  g_autofree char *test_files = NULL;
  guint n_raw = 0, n_other = 0;

  for (guint i = 0; i < files->len; i++)
    {
      const char *path = (const char *) files->pdata[i];
      plant (path, i);
      DcmFileFormat ff;
      g_assert_true (ff.loadFile (path).good ());
      DcmDataset *ds = ff.getDataset ();
      E_TransferSyntax xfer = EXS_LittleEndianExplicit;
      switch (i)
        {
        case 6:
          /* Latin-1 bytes, to be converted; a second value after a backslash. */
          ds->putAndInsertString (DCM_SpecificCharacterSet, "ISO_IR 100");
          ds->putAndInsertString (DCM_PatientName, "M\xdcLLER^J\xdcRGEN");
          ds->putAndInsertString (DCM_BodyPartExamined, "CHEST\\ABDOMEN");
          break;
        case 7:
          {
            /* A birth date inside a private sequence is not walked into. */
            DcmItem *item = NULL;
            ds->putAndInsertString (DcmTag (0x0029, 0x0010, EVR_LO), "ACME 1.1");
            g_assert_true (ds->findOrCreateSequenceItem (DcmTag (0x0029, 0x1001, EVR_SQ),
                                                         item, 0).good ());
            item->putAndInsertString (DCM_PatientBirthDate, "19610412");
          }
          break;
        case 8:
          {
            /* An identifying sequence before the attribute inside it. */
            DcmItem *item = NULL;
            g_assert_true (ds->findOrCreateSequenceItem (DCM_OtherPatientIDsSequence, item,
                                                         0).good ());
            item->putAndInsertString (DCM_PatientID, "OTHER-1");
            item->putAndInsertString (DCM_InstitutionName, "ST ELSEWHERE");
          }
          break;
        case 9:
          xfer = EXS_LittleEndianImplicit;
          break;
        default:
          break;
        }
      /* Explicit lengths for half of them: both sequence encodings. */
      g_assert_true (ff.saveFile (path, xfer, i % 2 ? EET_ExplicitLength
                                                    : EET_UndefinedLength).good ());
      assert_same_raw (path);
      g_autoptr (RrQcInstance) raw = read_raw (path);
      /* The raw reader read every explicit-VR file, and left implicit VR. */
      if (i == 9)
        g_assert_null (raw);
      else
        g_assert_nonnull (raw);
    }
  {
    g_autoptr (RrQcInstance) a = read_raw ((const char *) files->pdata[6]);
    g_assert_cmpstr (a->patient_name, ==, "M\xc3\x9cLLER^J\xc3\x9cRGEN");
    g_assert_cmpstr (a->body_part, ==, "CHEST");
    g_autoptr (RrQcInstance) b = read_raw ((const char *) files->pdata[7]);
    g_assert_cmpuint (b->n_private, ==, 2);
    g_assert_cmpuint (b->identifying->len, ==, 0);
    g_autoptr (RrQcInstance) c = read_raw ((const char *) files->pdata[8]);
    g_assert_cmpuint (c->identifying->len, ==, 2);
    g_assert_cmpuint (g_array_index (c->identifying, guint32, 0), ==, 0x00101002);
    g_assert_cmpuint (g_array_index (c->identifying, guint32, 1), ==, 0x00080080);
  }

  /* Cut short anywhere, and with bytes flipped: declined, or the same as
   * dcmtk, never read past what is there (run under valgrind or ASan). */
  {
    const char *src = (const char *) files->pdata[8];
    g_autofree char *bytes = NULL;
    gsize len = 0;
    g_autofree char *cut = g_build_filename (tmp_root, "cut.dcm", NULL);
    g_assert_true (g_file_get_contents (src, &bytes, &len, NULL));
    for (gsize n = 120; n < MIN (len, (gsize) 4096); n += 3)
      {
        g_assert_true (g_file_set_contents (cut, bytes, (gssize) n, NULL));
        g_test_message ("cut at %" G_GSIZE_FORMAT, n);
        assert_same_raw (cut);
      }
    g_autoptr (GRand) rand = g_rand_new_with_seed (16);
    for (guint round = 0; round < 300; round++)
      {
        g_autofree char *copy = (char *) g_memdup2 (bytes, len);
        for (guint k = 0; k < 4; k++)
          copy[g_rand_int_range (rand, 132, MIN ((gint32) len, 2048))] =
            (char) g_rand_int_range (rand, 0, 256);
        g_assert_true (g_file_set_contents (cut, copy, (gssize) len, NULL));
        g_autoptr (GError) error = NULL;
        g_autoptr (RrQcInstance) inst = rr_dicom_header_read (cut, &error);
        g_assert_true ((inst == NULL) != (error == NULL));
      }
  }

  /* Files made by other tools: the same facts, whichever reader took them. */
  if (data == NULL)
    data = "/usr/lib/python3/dist-packages/pydicom/data";
  test_files = g_build_filename (data, "test_files", NULL);
  g_autoptr (GDir) d = g_dir_open (test_files, 0, NULL);
  if (d == NULL)
    {
      g_test_message ("no pydicom test files in %s", test_files);
      return;
    }
  const char *name;
  while ((name = g_dir_read_name (d)) != NULL)
    {
      if (!g_str_has_suffix (name, ".dcm"))
        continue;
      g_autofree char *path = g_build_filename (test_files, name, NULL);
      g_autoptr (RrQcInstance) raw = read_raw (path);
      g_test_message ("%s: %s", name, raw ? "raw" : "dcmtk");
      if (raw)
        n_raw++;
      else
        n_other++;
      assert_same_raw (path);
    }
  g_assert_cmpuint (n_raw, >, 10);
  g_assert_cmpuint (n_other, >, 5);
}

static void
test_refused (void)
{
  static const char *bad[] = {
    "{}", "[1]", "[{}]", "not json",
    "[{\"00080018\": {\"vr\": \"UI\", \"Value\": [\"1.2\"]}, "
    "\"00280010\": {\"vr\": \"US\", \"Value\": [4]}, "
    "\"00280011\": {\"vr\": \"US\", \"Value\": [4]}, "
    "\"00280008\": {\"vr\": \"IS\", \"Value\": [1000000]}}]",
  };
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (GPtrArray) r = rr_qc_instances_from_dicom_json (bad[i], -1, &error);
      g_assert_null (r);
      g_assert_error (error, RR_CORE_ERROR, RR_CORE_ERROR_INVALID);
    }
  /* DS and IS written as strings, as some servers do, read the same. */
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) r = rr_qc_instances_from_dicom_json (
    "[{\"00080018\": {\"vr\": \"UI\", \"Value\": [\"1.2\"]},"
    " \"00180050\": {\"vr\": \"DS\", \"Value\": [\"7.5\"]},"
    " \"00100010\": {\"vr\": \"PN\", \"Value\": [{\"Alphabetic\": \"DOE^JANE\"}]}}]", -1, &error);
  g_assert_no_error (error);
  const RrQcInstance *inst = (const RrQcInstance *) r->pdata[0];
  g_assert_cmpfloat (inst->slice_thickness, ==, 7.5);
  g_assert_cmpstr (inst->patient_name, ==, "DOE^JANE");
  g_assert_false (inst->is_image);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  rr_dicom_init ();
  tmp_root = g_dir_make_tmp ("rr-qc-json-XXXXXX", NULL);
  g_test_add_func ("/qc-json/same-facts", test_same_facts);
  g_test_add_func ("/qc-json/refused", test_refused);
  g_test_add_func ("/qc-json/raw-reader", test_raw_reader);
  int rc = g_test_run ();
  g_autofree char *cmd = g_strdup_printf ("rm -rf '%s'", tmp_root);
  if (system (cmd) != 0)
    g_printerr ("could not remove %s\n", tmp_root);
  g_free (tmp_root);
  return rc;
}
