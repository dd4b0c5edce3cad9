/* test-stack.c: series assembly by position: order, gaps, unevenness,
 * duplicates, split stacks, mixed orientation and gantry tilt. */
#include "rr-stack.h"

static RrFrameGeom
axial (double z)
{
  RrFrameGeom g = { 0 };
  g.has_geometry = TRUE;
  g.position = rr_vec3 (-100, -100, z);
  g.row_dir = rr_vec3 (1, 0, 0);
  g.col_dir = rr_vec3 (0, 1, 0);
  g.row_spacing = g.col_spacing = 0.5;
  g.rows = g.columns = 64;
  return g;
}

static GPtrArray *
plan (RrFrameGeom *f, guint n, GPtrArray **problems)
{
  *problems = g_ptr_array_new_with_free_func ((GDestroyNotify) rr_problem_free);
  return rr_stack_plan (f, n, *problems);
}

static void
test_sorts_by_position (void)
{
  /* Given in scrambled order, with instance numbers that lie. */
  double zs[] = { 5, -5, 0, 10, -10, 2.5, 7.5, -2.5, -7.5 };
  RrFrameGeom f[G_N_ELEMENTS (zs)];
  g_autoptr (GPtrArray) problems = NULL;
  for (guint i = 0; i < G_N_ELEMENTS (zs); i++)
    {
      f[i] = axial (zs[i]);
      f[i].order_hint = G_N_ELEMENTS (zs) - i;
    }
  g_autoptr (GPtrArray) stacks = plan (f, G_N_ELEMENTS (zs), &problems);
  g_assert_cmpuint (stacks->len, ==, 1);
  RrStack *s = stacks->pdata[0];
  g_assert_cmpuint (s->order->len, ==, 9);
  for (guint k = 0; k < 9; k++)
    g_assert_cmpfloat_with_epsilon (f[g_array_index (s->order, guint, k)].position.z,
                                    -10 + 2.5 * k, 1e-9);
  g_assert_cmpfloat_with_epsilon (s->slice_spacing, 2.5, 1e-9);
  g_assert_cmpuint (s->problems->len, ==, 0);
  g_assert_cmpuint (problems->len, ==, 0);
}

static void
test_missing_slice_keeps_geometry (void)
{
  RrFrameGeom f[9];
  g_autoptr (GPtrArray) problems = NULL;
  guint n = 0;
  for (guint k = 0; k < 10; k++)
    if (k != 4)
      f[n++] = axial (k * 3.0);
  g_autoptr (GPtrArray) stacks = plan (f, n, &problems);
  RrStack *s = stacks->pdata[0];
  g_assert_cmpuint (s->order->len, ==, 10);
  g_assert_cmpuint (s->n_gaps, ==, 1);
  g_assert_cmpuint (g_array_index (s->order, guint, 4), ==, RR_STACK_GAP);
  g_assert_cmpfloat_with_epsilon (g_array_index (s->positions, RrVec3, 4).z, 12.0, 1e-9);
  g_assert_true (rr_problems_has (s->problems, "missing_slices"));
  g_assert_false (rr_problems_has (s->problems, "uneven_spacing"));
}

static void
test_uneven_spacing (void)
{
  RrFrameGeom f[8];
  g_autoptr (GPtrArray) problems = NULL;
  for (guint k = 0; k < 8; k++)
    f[k] = axial (k * 2.0 + (k >= 5 ? 0.7 : 0));
  g_autoptr (GPtrArray) stacks = plan (f, 8, &problems);
  RrStack *s = stacks->pdata[0];
  g_assert_cmpuint (s->order->len, ==, 8);
  g_assert_cmpuint (s->n_gaps, ==, 0);
  g_assert_true (rr_problems_has (s->problems, "uneven_spacing"));
  g_assert_false (rr_problems_has (s->problems, "missing_slices"));
}

static void
test_duplicates_and_split (void)
{
  RrFrameGeom f[12];
  g_autoptr (GPtrArray) problems = NULL;
  /* Two phases at the same six positions: two stacks. */
  for (guint k = 0; k < 12; k++)
    {
      f[k] = axial ((k % 6) * 5.0);
      f[k].order_hint = k;
    }
  g_autoptr (GPtrArray) stacks = plan (f, 12, &problems);
  g_assert_cmpuint (stacks->len, ==, 2);
  g_assert_true (rr_problems_has (problems, "multiple_stacks"));
  for (guint s = 0; s < 2; s++)
    {
      RrStack *st = stacks->pdata[s];
      g_assert_cmpuint (st->order->len, ==, 6);
      for (guint k = 0; k < 6; k++)
        g_assert_cmpuint (g_array_index (st->order, guint, k) / 6, ==, s);
    }

  /* One duplicated position only: one stack, reported. */
  g_autoptr (GPtrArray) p2 = NULL;
  RrFrameGeom g[6];
  for (guint k = 0; k < 5; k++)
    g[k] = axial (k * 5.0);
  g[5] = axial (10.0);
  g_autoptr (GPtrArray) s2 = plan (g, 6, &p2);
  g_assert_cmpuint (s2->len, ==, 1);
  g_assert_cmpuint (((RrStack *) s2->pdata[0])->order->len, ==, 5);
  g_assert_true (rr_problems_has (((RrStack *) s2->pdata[0])->problems, "duplicate_positions"));
}

static void
test_mixed_orientation (void)
{
  RrFrameGeom f[7];
  g_autoptr (GPtrArray) problems = NULL;
  for (guint k = 0; k < 5; k++)
    f[k] = axial (k * 5.0);
  for (guint k = 5; k < 7; k++)
    {
      f[k] = axial (0);
      f[k].row_dir = rr_vec3 (0, 1, 0);
      f[k].col_dir = rr_vec3 (0, 0, -1);
      f[k].position = rr_vec3 (k * 10.0, -100, 100);
    }
  g_autoptr (GPtrArray) stacks = plan (f, 7, &problems);
  g_assert_cmpuint (stacks->len, ==, 2);
  g_assert_true (rr_problems_has (problems, "mixed_orientation"));
  g_assert_cmpuint (((RrStack *) stacks->pdata[0])->order->len, ==, 5);

  g_autoptr (GPtrArray) p2 = NULL;
  f[6] = axial (40);
  f[6].rows = 32;
  g_autoptr (GPtrArray) s2 = plan (f + 4, 3, &p2);
  g_assert_true (rr_problems_has (p2, "mixed_size"));
}

static void
test_gantry_tilt (void)
{
  RrFrameGeom f[6];
  g_autoptr (GPtrArray) problems = NULL;
  double t = tan (15 * G_PI / 180);
  for (guint k = 0; k < 6; k++)
    {
      f[k] = axial (k * 2.0);
      f[k].position.y += k * 2.0 * t;
    }
  g_autoptr (GPtrArray) stacks = plan (f, 6, &problems);
  RrStack *s = stacks->pdata[0];
  g_assert_true (rr_problems_has (s->problems, "gantry_tilt"));
  g_assert_cmpfloat_with_epsilon (s->tilt_deg, 15.0, 0.01);
  g_assert_cmpfloat_with_epsilon (s->slice_spacing, 2.0, 1e-9);
}

static void
test_no_geometry_keeps_order (void)
{
  RrFrameGeom f[4] = { 0 };
  g_autoptr (GPtrArray) problems = NULL;
  for (guint k = 0; k < 4; k++)
    {
      f[k].rows = f[k].columns = 16;
      f[k].order_hint = 3 - k;
    }
  g_autoptr (GPtrArray) stacks = plan (f, 4, &problems);
  RrStack *s = stacks->pdata[0];
  g_assert_false (s->has_geometry);
  for (guint k = 0; k < 4; k++)
    g_assert_cmpuint (g_array_index (s->order, guint, k), ==, 3 - k);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/stack/sorts-by-position", test_sorts_by_position);
  g_test_add_func ("/stack/missing-slice", test_missing_slice_keeps_geometry);
  g_test_add_func ("/stack/uneven-spacing", test_uneven_spacing);
  g_test_add_func ("/stack/duplicates-and-split", test_duplicates_and_split);
  g_test_add_func ("/stack/mixed-orientation", test_mixed_orientation);
  g_test_add_func ("/stack/gantry-tilt", test_gantry_tilt);
  g_test_add_func ("/stack/no-geometry", test_no_geometry_keeps_order);
  return g_test_run ();
}
