/* test-label-place.c: caliper labels kept off each other inside their
 * pane; the expected places are worked out by hand from the boxes. */
#include "rr-label-place.h"

static const RrLabelBox pane = { 0, 0, 400, 300 };

static gboolean
overlap (const RrLabelBox *a,
         const RrLabelBox *b)
{
  return a->x < b->x + b->w && b->x < a->x + a->w && a->y < b->y + b->h && b->y < a->y + a->h;
}

/* A free place is kept as it is. */
static void
test_free (void)
{
  g_autoptr (GArray) placed = g_array_new (FALSE, FALSE, sizeof (RrLabelBox));
  RrLabelBox a = { 10, 10, 100, 28 }, b = { 200, 10, 100, 28 };
  rr_label_place (placed, &a, &pane);
  rr_label_place (placed, &b, &pane);
  g_assert_cmpfloat (a.y, ==, 10);
  g_assert_cmpfloat (b.y, ==, 10);
  g_assert_cmpuint (placed->len, ==, 2);
}

/* Three calipers close together on the prior's pane, each wanting a label
 * at y 100 (28 px high): the second goes just below the first (130, with
 * the 2 px gap), the third just above it (70), nearer than 160. */
static void
test_stacked (void)
{
  g_autoptr (GArray) placed = g_array_new (FALSE, FALSE, sizeof (RrLabelBox));
  RrLabelBox l[3] = { { 50, 100, 120, 28 }, { 60, 100, 120, 28 }, { 40, 100, 120, 28 } };
  for (guint i = 0; i < 3; i++)
    rr_label_place (placed, &l[i], &pane);
  g_assert_cmpfloat (l[0].y, ==, 100);
  g_assert_cmpfloat (l[1].y, ==, 130);
  g_assert_cmpfloat (l[2].y, ==, 70);
  for (guint i = 0; i < 3; i++)
    for (guint j = i + 1; j < 3; j++)
      g_assert_false (overlap (&l[i], &l[j]));
}

/* At the pane's bottom edge the label goes up, never out of the pane. */
static void
test_bottom_edge (void)
{
  g_autoptr (GArray) placed = g_array_new (FALSE, FALSE, sizeof (RrLabelBox));
  RrLabelBox a = { 50, 272, 120, 28 }, b = { 80, 272, 120, 28 };
  rr_label_place (placed, &a, &pane);
  rr_label_place (placed, &b, &pane);
  g_assert_cmpfloat (a.y, ==, 272);
  g_assert_cmpfloat (b.y, ==, 242);
  g_assert_false (overlap (&a, &b));
}

/* No free place at all (the pane is full): the label stays where it was
 * wanted rather than leave the pane. */
static void
test_full (void)
{
  g_autoptr (GArray) placed = g_array_new (FALSE, FALSE, sizeof (RrLabelBox));
  RrLabelBox small = { 0, 0, 400, 40 };
  RrLabelBox a = { 0, 0, 400, 28 }, b = { 0, 5, 400, 28 };
  rr_label_place (placed, &a, &small);
  rr_label_place (placed, &b, &small);
  g_assert_cmpfloat (b.y, ==, 5);
  g_assert_cmpuint (placed->len, ==, 2);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/label-place/free", test_free);
  g_test_add_func ("/label-place/stacked", test_stacked);
  g_test_add_func ("/label-place/bottom-edge", test_bottom_edge);
  g_test_add_func ("/label-place/full", test_full);
  return g_test_run ();
}
