// test-deid-dict.cc: deid reads dicom.dic with its own reader rather than
// dcmtk's sscanf (rr-dicom-deid-dict.cc). Every entry must be the one that
// dcmtk's loadDictionary makes of the same file: tag and range, range
// restrictions, VR, name, VM and version, in a dictionary filled both ways.
#include "rr-dicom-deid-private.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dctk.h>

#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <map>
#include <string>

static std::string
describe (const DcmDictEntry *e)
{
  char buf[512];
  g_snprintf (buf, sizeof buf, "(%04x-%04x %d,%04x-%04x %d) %s %s %d-%d %s",
              e->getGroup (), e->getUpperGroup (), (int) e->getGroupRangeRestriction (),
              e->getElement (), e->getUpperElement (), (int) e->getElementRangeRestriction (),
              e->getVR ().getVRName (), e->getTagName (), e->getVMMin (), e->getVMMax (),
              e->getStandardVersion () ? e->getStandardVersion () : "(null)");
  return buf;
}

/* Every entry of @dict, normal and repeating, in the repeating list's
 * order (the order findEntry searches it). */
static std::vector<std::string>
entries_of (DcmDataDictionary &dict)
{
  std::map<std::string, int> normal;
  std::vector<std::string> out;
  for (DcmHashDictIterator it = dict.normalBegin (); it != dict.normalEnd (); ++it)
    normal[describe (*it)]++;
  for (auto &kv : normal)
    out.push_back (kv.first + (kv.second > 1 ? " x" + std::to_string (kv.second) : ""));
  for (DcmDictEntryListConstIterator it = dict.repeatingBegin (); it != dict.repeatingEnd ();
       ++it)
    out.push_back ("rep " + describe (*it));
  return out;
}

static char *
find_dicom_dic (void)
{
#ifdef DCM_DICT_DEFAULT_PATH
  g_auto (GStrv) parts = g_strsplit (DCM_DICT_DEFAULT_PATH, ":", -1);
  for (guint i = 0; parts[i] != NULL; i++)
    if (g_str_has_suffix (parts[i], "/dicom.dic") && g_file_test (parts[i], G_FILE_TEST_EXISTS))
      return g_strdup (parts[i]);
#endif
  return NULL;
}

static void
test_same_as_dcmtk (void)
{
  g_autofree char *path = find_dicom_dic ();
  g_assert_nonnull (path);
  DcmDataDictionary theirs (OFFalse, OFFalse);
  g_assert_true (theirs.loadDictionary (path, OFTrue));

  char *text = NULL;
  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  std::vector<DcmDictEntry *> parsed;
  g_assert_true (rr_deid_parse_dictionary (text, parsed));
  /* Both start from the skeleton entries, as dcmtk's global one does. */
  DcmDataDictionary ours (OFFalse, OFFalse);
  for (DcmDictEntry *e : parsed)
    ours.addEntry (e);

  std::vector<std::string> a = entries_of (theirs), b = entries_of (ours);
  g_assert_cmpuint (a.size (), >, 4000);
  g_assert_cmpuint (a.size (), ==, b.size ());
  for (gsize i = 0; i < a.size (); i++)
    g_assert_cmpstr (a[i].c_str (), ==, b[i].c_str ());
  g_assert_cmpuint (theirs.numberOfEntries (), ==, ours.numberOfEntries ());
  /* ours points into text: it must go before text does. */
  ours.clear ();
  g_free (text);
}

/* Forms the reader does not know are refused whole, for dcmtk to read. */
static void
test_refuses_unknown_forms (void)
{
  static const char *bad[] = {
    "(0009,\"CREATOR\",10)\tLO\tName\t1\tPRIVATE\n",
    "(0010,0010)\tPN\n",
    "(0010,0010)\tPN\tPatientName\t1\tDICOM\textra\n",
    "(0010,0010)\tQQ\tPatientName\t1\tDICOM\n",
    "(0010,0010)\tPN\tPatientName\t1-x\tDICOM\n",
    "(00100,0010)\tPN\tPatientName\t1\tDICOM\n",
    "(0010-x-0011,0010)\tPN\tPatientName\t1\tDICOM\n",
    "0010,0010\tPN\tPatientName\t1\tDICOM\n",
    /* A line ending in a tab: dcmtk's reader decides what it means. */
    "(0010,0010)\tPN\tPatientName\t1\tDICOM\t\n",
    "(0010,0010)\tPN\tPatientName\t1\t\n",
    "(0010,0010)\tPN\tPatientName\t\n",
    "(0010,0010)\tPN\tPatientName\t1\tDICOM\t \r\n",
    "(0010,0010)\tPN\tPatientName\t1\tDICOM\t",
  };
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autofree char *text = g_strconcat ("(0008,0020)\tDA\tStudyDate\t1\tDICOM\n", bad[i],
                                           NULL);
      std::vector<DcmDictEntry *> parsed;
      g_assert_false (rr_deid_parse_dictionary (text, parsed));
      g_assert_cmpuint (parsed.size (), ==, 0);
    }
  /* Comments, blank lines, surrounding spaces and the VM forms. */
  char text[] = "# comment\n\n  \n (0010,0010)\tPN\tPatient Name \t 1-n\n"
                "(0018,1234)\tUS\tX\t2-2n\tDICOM/retired\n(0018,1235)\tUS\tY\n";
  std::vector<DcmDictEntry *> parsed;
  g_assert_true (rr_deid_parse_dictionary (text, parsed));
  g_assert_cmpuint (parsed.size (), ==, 3);
  g_assert_cmpstr (parsed[0]->getTagName (), ==, "PatientName");
  g_assert_cmpint (parsed[0]->getVMMin (), ==, 1);
  g_assert_cmpint (parsed[0]->getVMMax (), ==, DcmVariableVM);
  g_assert_cmpstr (parsed[0]->getStandardVersion (), ==, "DICOM");
  g_assert_cmpint (parsed[1]->getVMMin (), ==, 2);
  g_assert_cmpint (parsed[1]->getVMMax (), ==, DcmVariableVM);
  g_assert_cmpstr (parsed[1]->getStandardVersion (), ==, "DICOM/retired");
  g_assert_cmpint (parsed[2]->getVMMin (), ==, 1);
  g_assert_cmpint (parsed[2]->getVMMax (), ==, 1);
  for (DcmDictEntry *e : parsed)
    delete e;
}

/* Whitespace is dcmtk's (isspace in the C locale): a vertical tab around a
 * field is stripped as dcmtk strips it, and the entries are the ones its
 * reader makes of the same text. */
static void
test_whitespace_as_dcmtk (void)
{
  static const char *texts[] = {
    "(0010,0010)\tPN\tPatientName\t1\tDICOM\v\n",
    "(0010,0010)\tPN\tPatientName\v\t1\tDICOM\n",
    "\v(0010,0010)\tPN\tPatientName\t1-n\n",
    "(0010,0010)\tPN\tPatientName\t1\tDICOM\f \n",
  };
  g_autofree char *dir = g_dir_make_tmp ("rr-deid-dict-XXXXXX", NULL);
  g_assert_nonnull (dir);
  g_autofree char *path = g_build_filename (dir, "test.dic", NULL);
  for (guint i = 0; i < G_N_ELEMENTS (texts); i++)
    {
      g_assert_true (g_file_set_contents (path, texts[i], -1, NULL));
      DcmDataDictionary theirs (OFFalse, OFFalse);
      g_assert_true (theirs.loadDictionary (path, OFTrue));
      g_autofree char *text = g_strdup (texts[i]);
      std::vector<DcmDictEntry *> parsed;
      g_assert_true (rr_deid_parse_dictionary (text, parsed));
      DcmDataDictionary ours (OFFalse, OFFalse);
      for (DcmDictEntry *e : parsed)
        ours.addEntry (e);
      std::vector<std::string> a = entries_of (theirs), b = entries_of (ours);
      /* The skeleton entries and the one the text adds. */
      g_assert_cmpuint (a.size (), ==, b.size ());
      g_assert_cmpuint (theirs.numberOfEntries (), ==, ours.numberOfEntries ());
      for (gsize k = 0; k < a.size (); k++)
        g_assert_cmpstr (a[k].c_str (), ==, b[k].c_str ());
      ours.clear ();
    }
  g_unlink (path);
  g_rmdir (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  /* Without dcmtk's dicom.dic there is nothing to compare: skipped (77). */
  g_autofree char *dic = find_dicom_dic ();
  if (dic == NULL)
    {
      g_print ("1..0 # SKIP dcmtk's dicom.dic not found\n");
      return 77;
    }
  g_test_add_func ("/deid/dictionary/same-as-dcmtk", test_same_as_dcmtk);
  g_test_add_func ("/deid/dictionary/refuses-unknown-forms", test_refuses_unknown_forms);
  g_test_add_func ("/deid/dictionary/whitespace-as-dcmtk", test_whitespace_as_dcmtk);
  return g_test_run ();
}
