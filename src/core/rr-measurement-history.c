/* rr-measurement-history.c: measurements with undo/redo. A step holds the
 * measurement before and after (NULL for "did not exist"), so undo and
 * redo are the same operation in opposite directions. */
#include "rr-measurement-history.h"

#include <string.h>

#define MAX_STEPS 1000

typedef struct
{
  RrMeasurement *before;
  RrMeasurement *after;
} Step;

struct _RrMeasurementHistory
{
  GPtrArray *items;
  GPtrArray *undo;
  GPtrArray *redo;
  RrMeasurementChangedFunc func;
  gpointer user_data;
};

static void
step_free (gpointer data)
{
  Step *s = data;
  rr_measurement_free (s->before);
  rr_measurement_free (s->after);
  g_free (s);
}

RrMeasurementHistory *
rr_measurement_history_new (RrMeasurementChangedFunc func,
                            gpointer                 user_data)
{
  RrMeasurementHistory *h = g_new0 (RrMeasurementHistory, 1);
  h->items = g_ptr_array_new_with_free_func ((GDestroyNotify) rr_measurement_free);
  h->undo = g_ptr_array_new_with_free_func (step_free);
  h->redo = g_ptr_array_new_with_free_func (step_free);
  h->func = func;
  h->user_data = user_data;
  return h;
}

void
rr_measurement_history_free (RrMeasurementHistory *h)
{
  if (h == NULL)
    return;
  g_ptr_array_unref (h->items);
  g_ptr_array_unref (h->undo);
  g_ptr_array_unref (h->redo);
  g_free (h);
}

static int
by_created (gconstpointer a,
            gconstpointer b)
{
  const RrMeasurement *x = *(RrMeasurement *const *) a, *y = *(RrMeasurement *const *) b;
  return x->created_us < y->created_us ? -1 : x->created_us > y->created_us ? 1 : 0;
}

void
rr_measurement_history_reset (RrMeasurementHistory *h,
                              GPtrArray            *items)
{
  g_ptr_array_set_size (h->items, 0);
  g_ptr_array_set_size (h->undo, 0);
  g_ptr_array_set_size (h->redo, 0);
  if (items == NULL)
    return;
  for (guint i = 0; i < items->len; i++)
    g_ptr_array_add (h->items, g_steal_pointer (&items->pdata[i]));
  g_ptr_array_set_size (items, 0);
  g_ptr_array_sort (h->items, by_created);
}

GPtrArray *
rr_measurement_history_items (RrMeasurementHistory *h)
{
  return h->items;
}

static gint
index_of (RrMeasurementHistory *h,
          const char           *id)
{
  for (guint i = 0; i < h->items->len; i++)
    if (g_strcmp0 (((RrMeasurement *) h->items->pdata[i])->id, id) == 0)
      return (gint) i;
  return -1;
}

const RrMeasurement *
rr_measurement_history_find (RrMeasurementHistory *h,
                             const char           *id)
{
  gint i = index_of (h, id);
  return i < 0 ? NULL : h->items->pdata[i];
}

/* Makes the measurement @id look like @to (NULL: gone). */
static RrMeasurementChange
set_state (RrMeasurementHistory *h,
           const char           *id,
           const RrMeasurement  *to,
           RrMeasurement       **old)
{
  gint i = index_of (h, id);
  *old = NULL;
  if (to == NULL)
    {
      *old = g_ptr_array_steal_index (h->items, i);
      return RR_MEASUREMENT_REMOVED;
    }
  if (i >= 0)
    {
      *old = h->items->pdata[i];
      h->items->pdata[i] = rr_measurement_copy (to);
      return RR_MEASUREMENT_CHANGED;
    }
  /* Back where it was in the list. */
  for (i = 0; i < (gint) h->items->len; i++)
    if (((RrMeasurement *) h->items->pdata[i])->created_us > to->created_us)
      break;
  g_ptr_array_insert (h->items, i, rr_measurement_copy (to));
  return RR_MEASUREMENT_ADDED;
}

/* Goes from @from to @to, reports it, and goes back if it was not saved. */
static gboolean
apply (RrMeasurementHistory *h,
       const RrMeasurement  *from,
       const RrMeasurement  *to)
{
  const char *id = to ? to->id : from->id;
  g_autoptr (RrMeasurement) old = NULL, undone = NULL;
  RrMeasurementChange change = set_state (h, id, to, &old);
  const RrMeasurement *now = to ? rr_measurement_history_find (h, id) : old;

  if (h->func == NULL || h->func (change, now, h->user_data))
    return TRUE;
  set_state (h, id, from, &undone);
  return FALSE;
}

static gboolean
record (RrMeasurementHistory *h,
        RrMeasurement        *before,
        RrMeasurement        *after)
{
  Step *s = g_new0 (Step, 1);
  s->before = before;
  s->after = after;
  if (!apply (h, before, after))
    {
      step_free (s);
      return FALSE;
    }
  g_ptr_array_add (h->undo, s);
  if (h->undo->len > MAX_STEPS)
    g_ptr_array_remove_index (h->undo, 0);
  g_ptr_array_set_size (h->redo, 0);
  return TRUE;
}

gboolean
rr_measurement_history_add (RrMeasurementHistory *h,
                            RrMeasurement        *m)
{
  g_return_val_if_fail (m != NULL && m->id != NULL, FALSE);
  if (index_of (h, m->id) >= 0)
    {
      rr_measurement_free (m);
      return FALSE;
    }
  return record (h, NULL, m);
}

gboolean
rr_measurement_history_put (RrMeasurementHistory *h,
                            RrMeasurement        *m)
{
  gint i = index_of (h, m->id);
  if (i < 0)
    {
      rr_measurement_free (m);
      return FALSE;
    }
  return record (h, rr_measurement_copy (h->items->pdata[i]), m);
}

gboolean
rr_measurement_history_remove (RrMeasurementHistory *h,
                               const char           *id)
{
  gint i = index_of (h, id);
  if (i < 0)
    return FALSE;
  return record (h, rr_measurement_copy (h->items->pdata[i]), NULL);
}

gboolean
rr_measurement_history_can_undo (RrMeasurementHistory *h)
{
  return h->undo->len > 0;
}

gboolean
rr_measurement_history_can_redo (RrMeasurementHistory *h)
{
  return h->redo->len > 0;
}

gboolean
rr_measurement_history_undo (RrMeasurementHistory *h)
{
  Step *s;
  if (h->undo->len == 0)
    return FALSE;
  s = h->undo->pdata[h->undo->len - 1];
  if (!apply (h, s->after, s->before))
    return FALSE;
  g_ptr_array_add (h->redo, g_ptr_array_steal_index (h->undo, h->undo->len - 1));
  return TRUE;
}

gboolean
rr_measurement_history_redo (RrMeasurementHistory *h)
{
  Step *s;
  if (h->redo->len == 0)
    return FALSE;
  s = h->redo->pdata[h->redo->len - 1];
  if (!apply (h, s->before, s->after))
    return FALSE;
  g_ptr_array_add (h->undo, g_ptr_array_steal_index (h->redo, h->redo->len - 1));
  return TRUE;
}
