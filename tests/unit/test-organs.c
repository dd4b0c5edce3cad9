/* test-organs.c: the controlled organ list: every code a well-formed SNOMED
 * CT concept id (Verhoeff check digit, concept partition), known codes
 * from DICOM PS3.16, lookups, and nodal sites counted as one organ. */
#include "rr-organs.h"
#include "rr-criteria.h"

#include <string.h>

/* The Verhoeff tables, as SNOMED CT's technical guide gives them. */
static const int verhoeff_d[10][10] = {
  { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9 }, { 1, 2, 3, 4, 0, 6, 7, 8, 9, 5 },
  { 2, 3, 4, 0, 1, 7, 8, 9, 5, 6 }, { 3, 4, 0, 1, 2, 8, 9, 5, 6, 7 },
  { 4, 0, 1, 2, 3, 9, 5, 6, 7, 8 }, { 5, 9, 8, 7, 6, 0, 4, 3, 2, 1 },
  { 6, 5, 9, 8, 7, 1, 0, 4, 3, 2 }, { 7, 6, 5, 9, 8, 2, 1, 0, 4, 3 },
  { 8, 7, 6, 5, 9, 3, 2, 1, 0, 4 }, { 9, 8, 7, 6, 5, 4, 3, 2, 1, 0 },
};
static const int verhoeff_p[8][10] = {
  { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9 }, { 1, 5, 7, 6, 2, 8, 3, 0, 9, 4 },
  { 5, 8, 0, 3, 7, 9, 6, 1, 4, 2 }, { 8, 9, 1, 6, 0, 4, 3, 5, 2, 7 },
  { 9, 4, 5, 3, 1, 2, 6, 8, 7, 0 }, { 4, 2, 8, 6, 5, 7, 3, 9, 0, 1 },
  { 2, 7, 9, 3, 8, 0, 6, 4, 1, 5 }, { 7, 0, 4, 6, 9, 1, 3, 2, 5, 8 },
};

static gboolean
verhoeff_ok (const char *s)
{
  int c = 0;
  size_t n = strlen (s);
  for (size_t i = 0; i < n; i++)
    c = verhoeff_d[c][verhoeff_p[i % 8][s[n - 1 - i] - '0']];
  return c == 0;
}

static void
test_verhoeff_self_check (void)
{
  /* Known concept ids pass; one digit changed fails. */
  g_assert_true (verhoeff_ok ("10200004"));   /* liver */
  g_assert_true (verhoeff_ok ("404684003"));  /* clinical finding, the SNOMED example */
  g_assert_false (verhoeff_ok ("10200005"));
  g_assert_false (verhoeff_ok ("10300004"));
}

static void
test_codes (void)
{
  g_autoptr (GHashTable) ids = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (GHashTable) codes = g_hash_table_new (g_str_hash, g_str_equal);
  guint nodal = 0;

  g_assert_cmpuint (rr_organs_count (), >=, 30);
  g_assert_null (rr_organs_get (rr_organs_count ()));
  for (guint i = 0; i < rr_organs_count (); i++)
    {
      const RrOrgan *o = rr_organs_get (i);
      size_t n = strlen (o->code);
      g_assert_cmpstr (o->scheme, ==, "SCT");
      /* SCTIDs: 6 to 18 digits, no leading zero, partition 00 (a concept),
       * Verhoeff check digit. */
      g_assert_cmpuint (n, >=, 6);
      g_assert_cmpuint (n, <=, 18);
      g_assert_cmpint (o->code[0], !=, '0');
      for (size_t k = 0; k < n; k++)
        g_assert_true (g_ascii_isdigit (o->code[k]));
      g_assert_cmpint (o->code[n - 3], ==, '0');
      g_assert_cmpint (o->code[n - 2], ==, '0');
      if (!verhoeff_ok (o->code))
        g_error ("%s: %s fails its check digit", o->id, o->code);
      g_assert_false (g_hash_table_contains (ids, o->id));
      g_assert_false (g_hash_table_contains (codes, o->code));
      g_hash_table_add (ids, (gpointer) o->id);
      g_hash_table_add (codes, (gpointer) o->code);
      g_assert_true (o->meaning && *o->meaning);
      g_assert_true (o->label && *o->label);
      /* A lymph node site is nodal, and only those. */
      g_assert_cmpint (o->nodal, ==, strstr (o->id, "lymph node") != NULL);
      nodal += o->nodal;
    }
  g_assert_cmpuint (nodal, >=, 8);
}

static void
test_known_codes_and_lookup (void)
{
  /* DICOM PS3.16 CID 7151 / 7600. */
  static const struct { const char *id, *code; } known[] = {
    { "liver", "10200004" }, { "lung", "39607008" }, { "lymph node", "59441001" },
    { "adrenal gland", "23451007" }, { "bone", "272673000" }, { "brain", "12738006" },
    { "axillary lymph node", "68171009" }, { "mediastinal lymph node", "62683002" },
    { "inguinal lymph node", "8928004" }, { "pleura", "3120008" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (known); i++)
    {
      const RrOrgan *o = rr_organs_lookup (known[i].id);
      g_assert_nonnull (o);
      g_assert_cmpstr (o->code, ==, known[i].code);
      g_assert_true (rr_organs_lookup (known[i].code) == o);
      g_assert_cmpint (rr_organs_index (known[i].id), >=, 0);
      g_assert_true (rr_organs_get (rr_organs_index (known[i].id)) == o);
    }
  g_assert_true (rr_organs_lookup ("Liver") == rr_organs_lookup ("liver"));
  g_assert_null (rr_organs_lookup ("spleen and liver"));
  g_assert_null (rr_organs_lookup (NULL));
  g_assert_cmpint (rr_organs_index ("nowhere"), ==, -1);
}

/* The criteria engine counts every nodal site as one organ ("two per
 * organ"), and each other entry as itself. */
static void
test_organ_keys (void)
{
  g_autoptr (GHashTable) keys = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  for (guint i = 0; i < rr_organs_count (); i++)
    {
      const RrOrgan *o = rr_organs_get (i);
      g_autofree char *key = rr_criteria_organ_key (o->id, o->nodal);
      if (o->nodal)
        g_assert_cmpstr (key, ==, "lymph node");
      else
        {
          g_assert_false (g_hash_table_contains (keys, key));
          g_hash_table_add (keys, g_strdup (key));
        }
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/organs/verhoeff", test_verhoeff_self_check);
  g_test_add_func ("/organs/codes", test_codes);
  g_test_add_func ("/organs/known", test_known_codes_and_lookup);
  g_test_add_func ("/organs/criteria-keys", test_organ_keys);
  return g_test_run ();
}
