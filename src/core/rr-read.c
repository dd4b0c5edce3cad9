/* rr-read.c: strict parsing of the read JSON (every wrong type or value is
 * an error naming the lesion and timepoint) and writing it back. */
#include "rr-read.h"
#include "rr-read-private.h"
#include "rr-json-writer.h"

#include <math.h>
#include <string.h>

G_DEFINE_QUARK (rr-read-error-quark, rr_read_error)

#define MAX_TIMEPOINTS 200
#define MAX_LESIONS    500
#define MAX_MM         10000.0

static void
target_free (gpointer p)
{
  RrTargetLesion *t = p;
  g_free (t->id);
  g_free (t->organ);
  g_free (t->location);
  g_free (t->modality);
  g_free (t->meas);
  if (t->calipers)
    json_node_unref (t->calipers);
  g_free (t);
}

static void
non_target_free (gpointer p)
{
  RrNonTargetLesion *n = p;
  g_free (n->id);
  g_free (n->organ);
  g_free (n->location);
  g_free (n->status);
  g_free (n->increased);
  if (n->justification)
    json_node_unref (n->justification);
  g_free (n);
}

static void
new_lesion_free (gpointer p)
{
  RrNewLesion *n = p;
  g_free (n->id);
  g_free (n->organ);
  g_free (n->location);
  g_free (n->meas);
  g_free (n->increased);
  g_free (n);
}

void
rr_timepoint_free (gpointer p)
{
  RrTimepoint *t = p;
  g_free (t->id);
  g_free (t);
}

static void
unknown_ref_free (gpointer p)
{
  RrUnknownRef *u = p;
  g_free (u->lesion);
  g_free (u->timepoint);
  g_free (u);
}

RrRead *
rr_read_new (void)
{
  RrRead *r = g_new0 (RrRead, 1);
  r->criteria = g_strdup ("recist1.1");
  r->sd_min_days = 42;
  r->timepoints = g_ptr_array_new_with_free_func (rr_timepoint_free);
  r->targets = g_ptr_array_new_with_free_func (target_free);
  r->non_targets = g_ptr_array_new_with_free_func (non_target_free);
  r->new_lesions = g_ptr_array_new_with_free_func (new_lesion_free);
  r->unknown_refs = g_ptr_array_new_with_free_func (unknown_ref_free);
  return r;
}

void
rr_read_free (RrRead *read)
{
  if (read == NULL)
    return;
  g_free (read->criteria);
  g_ptr_array_unref (read->timepoints);
  g_ptr_array_unref (read->targets);
  g_ptr_array_unref (read->non_targets);
  g_ptr_array_unref (read->new_lesions);
  g_ptr_array_unref (read->unknown_refs);
  g_free (read);
}

int
rr_read_timepoint_index (const RrRead *read,
                         const char   *id)
{
  for (guint i = 0; i < read->timepoints->len; i++)
    if (g_strcmp0 (((RrTimepoint *) read->timepoints->pdata[i])->id, id) == 0)
      return (int) i;
  return -1;
}

static gboolean
invalid (GError **error, const char *fmt, ...) G_GNUC_PRINTF (2, 3);

static gboolean
invalid (GError **error, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  g_autofree char *msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  g_set_error_literal (error, RR_READ_ERROR, RR_READ_ERROR_INVALID, msg);
  return FALSE;
}

static const char *
type_name (JsonNode *n)
{
  if (n == NULL || JSON_NODE_HOLDS_NULL (n))
    return "null";
  if (JSON_NODE_HOLDS_OBJECT (n))
    return "an object";
  if (JSON_NODE_HOLDS_ARRAY (n))
    return "an array";
  switch (json_node_get_value_type (n))
    {
    case G_TYPE_STRING:
      return "a string";
    case G_TYPE_BOOLEAN:
      return "a boolean";
    default:
      return "a number";
    }
}

static gboolean
is_number (JsonNode *n)
{
  GType t;
  if (n == NULL || !JSON_NODE_HOLDS_VALUE (n))
    return FALSE;
  t = json_node_get_value_type (n);
  return t == G_TYPE_INT64 || t == G_TYPE_DOUBLE;
}

static gboolean
is_string (JsonNode *n)
{
  return n != NULL && JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_STRING;
}

static gboolean
is_bool (JsonNode *n)
{
  return n != NULL && JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_BOOLEAN;
}

/* A required or optional string member. */
static gboolean
get_string (JsonObject *o, const char *member, gboolean required, char **out,
            const char *where, GError **error)
{
  JsonNode *n = json_object_get_member (o, member);
  if (n == NULL || JSON_NODE_HOLDS_NULL (n))
    {
      if (required)
        return invalid (error, "%s: \"%s\" is missing", where, member);
      return TRUE;
    }
  if (!is_string (n))
    return invalid (error, "%s: \"%s\" must be a string, not %s", where, member, type_name (n));
  *out = g_strdup (json_node_get_string (n));
  if (required && **out == '\0')
    return invalid (error, "%s: \"%s\" is empty", where, member);
  return TRUE;
}

static gboolean
get_bool (JsonObject *o, const char *member, gboolean *out, const char *where, GError **error)
{
  JsonNode *n = json_object_get_member (o, member);
  if (n == NULL || JSON_NODE_HOLDS_NULL (n))
    return TRUE;
  if (!is_bool (n))
    return invalid (error, "%s: \"%s\" must be true or false, not %s", where, member,
                    type_name (n));
  *out = json_node_get_boolean (n);
  return TRUE;
}

/* Millimetres to exact tenths; values finer than 0.1 mm are rounded. */
static gboolean
mm_to_tenths (JsonNode *n, gint64 *tenths, gboolean *rounded, const char *where, GError **error)
{
  double v = json_node_get_double (n);
  double t;
  if (!isfinite (v) || v < 0 || v > MAX_MM)
    return invalid (error, "%s: %g mm is not a size (0 to %g mm)", where, v, MAX_MM);
  t = v * 10.0;
  /* 12.35 is 123.49999... in binary: compare with a tolerance far below
   * a hundredth of a millimetre. */
  *tenths = (gint64) floor (t + 0.5 + 1e-7);
  if (fabs (t - nearbyint (t)) > 1e-6)
    *rounded = TRUE;
  return TRUE;
}

static gboolean
parse_meas (JsonNode *n, RrMeas *m, const char *where, GError **error)
{
  memset (m, 0, sizeof *m);
  if (is_string (n))
    {
      const char *s = json_node_get_string (n);
      if (g_str_equal (s, "TSTM"))
        m->kind = RR_MEAS_TSTM, m->tenths = 50;
      else if (g_str_equal (s, "NE"))
        m->kind = RR_MEAS_NE;
      else if (g_str_equal (s, "MERGED"))
        m->kind = RR_MEAS_MERGED;
      else
        return invalid (error, "%s: \"%s\" is not a measurement (millimetres, \"TSTM\", "
                        "\"NE\" or \"MERGED\")", where, s);
      return TRUE;
    }
  if (is_number (n))
    {
      m->kind = RR_MEAS_VALUE;
      m->n_fragments = 1;
      return mm_to_tenths (n, &m->tenths, &m->rounded, where, error);
    }
  if (n != NULL && JSON_NODE_HOLDS_ARRAY (n))
    {
      /* A lesion that split: its fragments, added. */
      JsonArray *a = json_node_get_array (n);
      guint len = json_array_get_length (a);
      if (len == 0 || len > 50)
        return invalid (error, "%s: a split lesion needs 1 to 50 fragment sizes", where);
      m->kind = RR_MEAS_VALUE;
      m->n_fragments = len;
      for (guint i = 0; i < len; i++)
        {
          gint64 t = 0;
          JsonNode *e = json_array_get_element (a, i);
          if (!is_number (e))
            return invalid (error, "%s: fragment %u must be a number of millimetres, not %s",
                            where, i + 1, type_name (e));
          if (!mm_to_tenths (e, &t, &m->rounded, where, error))
            return FALSE;
          m->tenths += t;
        }
      return TRUE;
    }
  return invalid (error, "%s: a measurement must be millimetres, \"TSTM\", \"NE\" or "
                  "\"MERGED\", not %s", where, type_name (n));
}

static void
add_unknown (RrRead *r, const char *lesion, const char *tp)
{
  RrUnknownRef *u = g_new0 (RrUnknownRef, 1);
  u->lesion = g_strdup (lesion);
  u->timepoint = g_strdup (tp);
  g_ptr_array_add (r->unknown_refs, u);
}

/* Per-timepoint measurement maps: {"BL": 32.0, "FU1": "NE"}. */
static gboolean
parse_meas_map (RrRead *r, JsonObject *o, const char *member, const char *lesion,
                gboolean required, RrMeas **out, GError **error)
{
  JsonNode *n = json_object_get_member (o, member);
  guint ntp = r->timepoints->len;
  *out = g_new0 (RrMeas, ntp);
  if (n == NULL || JSON_NODE_HOLDS_NULL (n))
    {
      if (required)
        return invalid (error, "lesion %s: \"%s\" is missing", lesion, member);
      return TRUE;
    }
  if (!JSON_NODE_HOLDS_OBJECT (n))
    return invalid (error, "lesion %s: \"%s\" must be an object of timepoint: size, not %s",
                    lesion, member, type_name (n));
  g_autoptr (GList) keys = json_object_get_members (json_node_get_object (n));
  for (GList *k = keys; k; k = k->next)
    {
      int ti = rr_read_timepoint_index (r, k->data);
      g_autofree char *where = g_strdup_printf ("lesion %s, timepoint %s", lesion,
                                                (char *) k->data);
      RrMeas m;
      if (!parse_meas (json_object_get_member (json_node_get_object (n), k->data), &m, where,
                       error))
        return FALSE;
      if (ti < 0)
        add_unknown (r, lesion, k->data);
      else
        (*out)[ti] = m;
    }
  return TRUE;
}

/* "increased": ["FU3"]: the timepoints at which a lesion grew since the
 * assessment before (iRECIST), into a flag per timepoint. */
static gboolean
parse_increased (RrRead *r, JsonObject *o, const char *lesion, gboolean **out, GError **error)
{
  JsonNode *n = json_object_get_member (o, "increased");
  JsonArray *inc;
  *out = g_new0 (gboolean, r->timepoints->len);
  if (n == NULL || JSON_NODE_HOLDS_NULL (n))
    return TRUE;
  if (!JSON_NODE_HOLDS_ARRAY (n))
    return invalid (error, "lesion %s: \"increased\" must be an array of timepoint ids, not %s",
                    lesion, type_name (n));
  inc = json_node_get_array (n);
  if (json_array_get_length (inc) > MAX_TIMEPOINTS)
    return invalid (error, "lesion %s: \"increased\" has more than %d entries", lesion,
                    MAX_TIMEPOINTS);
  for (guint k = 0; k < json_array_get_length (inc); k++)
    {
      JsonNode *e = json_array_get_element (inc, k);
      int ti;
      if (!is_string (e))
        return invalid (error, "lesion %s: \"increased\" must list timepoint ids, not %s",
                        lesion, type_name (e));
      ti = rr_read_timepoint_index (r, json_node_get_string (e));
      if (ti < 0)
        add_unknown (r, lesion, json_node_get_string (e));
      else
        (*out)[ti] = TRUE;
    }
  return TRUE;
}

static gboolean
parse_timepoints (RrRead *r, JsonObject *root, GError **error)
{
  JsonNode *n = json_object_get_member (root, "timepoints");
  JsonArray *a;
  guint len;

  if (n == NULL || !JSON_NODE_HOLDS_ARRAY (n))
    return invalid (error, "\"timepoints\" must be an array of {\"id\", \"day\"}");
  a = json_node_get_array (n);
  len = json_array_get_length (a);
  if (len == 0)
    return invalid (error, "\"timepoints\" is empty: a read needs at least its baseline");
  if (len > MAX_TIMEPOINTS)
    return invalid (error, "\"timepoints\" has %u entries; at most %d", len, MAX_TIMEPOINTS);
  for (guint i = 0; i < len; i++)
    {
      JsonNode *e = json_array_get_element (a, i);
      RrTimepoint *tp;
      JsonNode *day;
      g_autofree char *where = g_strdup_printf ("timepoint %u", i + 1);
      if (!JSON_NODE_HOLDS_OBJECT (e))
        return invalid (error, "%s must be an object, not %s", where, type_name (e));
      tp = g_new0 (RrTimepoint, 1);
      g_ptr_array_add (r->timepoints, tp);
      if (!get_string (json_node_get_object (e), "id", TRUE, &tp->id, where, error))
        return FALSE;
      day = json_object_get_member (json_node_get_object (e), "day");
      if (!is_number (day) || json_node_get_value_type (day) != G_TYPE_INT64)
        return invalid (error, "timepoint %s: \"day\" must be a whole number of days", tp->id);
      if (json_node_get_int (day) < -100000 || json_node_get_int (day) > 100000)
        return invalid (error, "timepoint %s: \"day\" is out of range", tp->id);
      tp->day = (int) json_node_get_int (day);
      if (rr_read_timepoint_index (r, tp->id) != (int) i)
        return invalid (error, "timepoint %s appears twice", tp->id);
      if (i > 0 && tp->day <= ((RrTimepoint *) r->timepoints->pdata[i - 1])->day)
        return invalid (error, "timepoint %s (day %d) is not after the one before it: "
                        "timepoints are in chronological order", tp->id, tp->day);
    }
  return TRUE;
}

static gboolean
check_unique (GPtrArray *ids, const char *id, GError **error)
{
  for (guint i = 0; i < ids->len; i++)
    if (g_str_equal (ids->pdata[i], id))
      return invalid (error, "lesion %s appears twice", id);
  g_ptr_array_add (ids, (gpointer) id);
  return TRUE;
}

static gboolean
get_array (JsonObject *root, const char *member, JsonArray **out, GError **error)
{
  JsonNode *n = json_object_get_member (root, member);
  *out = NULL;
  if (n == NULL || JSON_NODE_HOLDS_NULL (n))
    return TRUE;
  if (!JSON_NODE_HOLDS_ARRAY (n))
    return invalid (error, "\"%s\" must be an array, not %s", member, type_name (n));
  *out = json_node_get_array (n);
  if (json_array_get_length (*out) > MAX_LESIONS)
    return invalid (error, "\"%s\" has more than %d entries", member, MAX_LESIONS);
  return TRUE;
}

RrRead *
rr_read_parse_node (JsonNode  *node,
                    GError   **error)
{
  g_autoptr (RrRead) r = rr_read_new ();
  g_autoptr (GPtrArray) ids = g_ptr_array_new ();
  JsonObject *root;
  JsonArray *a;
  JsonNode *n;

  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    {
      invalid (error, "a read must be a JSON object, not %s", type_name (node));
      return NULL;
    }
  root = json_node_get_object (node);

  g_clear_pointer (&r->criteria, g_free);
  if (!get_string (root, "criteria", FALSE, &r->criteria, "read", error))
    return NULL;
  if (r->criteria == NULL)
    r->criteria = g_strdup ("recist1.1");

  n = json_object_get_member (root, "options");
  if (n != NULL && !JSON_NODE_HOLDS_NULL (n))
    {
      JsonObject *o;
      JsonNode *d;
      if (!JSON_NODE_HOLDS_OBJECT (n))
        {
          invalid (error, "\"options\" must be an object, not %s", type_name (n));
          return NULL;
        }
      o = json_node_get_object (n);
      d = json_object_get_member (o, "sd_min_days");
      if (d != NULL && !JSON_NODE_HOLDS_NULL (d))
        {
          if (!is_number (d) || json_node_get_value_type (d) != G_TYPE_INT64 ||
              json_node_get_int (d) < 0 || json_node_get_int (d) > 3650)
            {
              invalid (error, "options: \"sd_min_days\" must be a whole number of days (0-3650)");
              return NULL;
            }
          r->sd_min_days = (int) json_node_get_int (d);
        }
      if (!get_bool (o, "confirmation", &r->confirmation, "options", error))
        return NULL;
    }

  if (!parse_timepoints (r, root, error))
    return NULL;

  if (!get_array (root, "target_lesions", &a, error))
    return NULL;
  for (guint i = 0; a && i < json_array_get_length (a); i++)
    {
      JsonNode *e = json_array_get_element (a, i);
      g_autofree char *where = g_strdup_printf ("target lesion %u", i + 1);
      RrTargetLesion *t;
      JsonObject *o;
      JsonNode *st;
      if (!JSON_NODE_HOLDS_OBJECT (e))
        {
          invalid (error, "%s must be an object, not %s", where, type_name (e));
          return NULL;
        }
      o = json_node_get_object (e);
      t = g_new0 (RrTargetLesion, 1);
      g_ptr_array_add (r->targets, t);
      if (!get_string (o, "id", TRUE, &t->id, where, error) ||
          !check_unique (ids, t->id, error))
        return NULL;
      g_free (where);
      where = g_strdup_printf ("lesion %s", t->id);
      if (!get_string (o, "organ", TRUE, &t->organ, where, error) ||
          !get_string (o, "location", FALSE, &t->location, where, error) ||
          !get_string (o, "modality", FALSE, &t->modality, where, error) ||
          !get_bool (o, "nodal", &t->nodal, where, error))
        return NULL;
      st = json_object_get_member (o, "slice_thickness_mm");
      if (st != NULL && !JSON_NODE_HOLDS_NULL (st))
        {
          if (!is_number (st) || json_node_get_double (st) <= 0 || json_node_get_double (st) > 100)
            {
              invalid (error, "%s: \"slice_thickness_mm\" must be a positive number", where);
              return NULL;
            }
          t->slice_thickness_mm = json_node_get_double (st);
        }
      if (!parse_meas_map (r, o, "measurements", t->id, TRUE, &t->meas, error))
        return NULL;
      n = json_object_get_member (o, "calipers");
      if (n != NULL && !JSON_NODE_HOLDS_NULL (n))
        t->calipers = json_node_copy (n);
    }

  if (!get_array (root, "non_target_lesions", &a, error))
    return NULL;
  for (guint i = 0; a && i < json_array_get_length (a); i++)
    {
      JsonNode *e = json_array_get_element (a, i);
      g_autofree char *where = g_strdup_printf ("non-target lesion %u", i + 1);
      RrNonTargetLesion *nt;
      JsonObject *o;
      JsonNode *s;
      if (!JSON_NODE_HOLDS_OBJECT (e))
        {
          invalid (error, "%s must be an object, not %s", where, type_name (e));
          return NULL;
        }
      o = json_node_get_object (e);
      nt = g_new0 (RrNonTargetLesion, 1);
      nt->status = g_new0 (RrNonTargetStatus, r->timepoints->len);
      g_ptr_array_add (r->non_targets, nt);
      if (!get_string (o, "id", TRUE, &nt->id, where, error) ||
          !check_unique (ids, nt->id, error))
        return NULL;
      g_free (where);
      where = g_strdup_printf ("lesion %s", nt->id);
      if (!get_string (o, "organ", TRUE, &nt->organ, where, error) ||
          !get_string (o, "location", FALSE, &nt->location, where, error) ||
          !get_bool (o, "nodal", &nt->nodal, where, error))
        return NULL;
      s = json_object_get_member (o, "status");
      if (s == NULL || !JSON_NODE_HOLDS_OBJECT (s))
        {
          invalid (error, "%s: \"status\" must be an object of timepoint: status", where);
          return NULL;
        }
      g_autoptr (GList) keys = json_object_get_members (json_node_get_object (s));
      for (GList *k = keys; k; k = k->next)
        {
          JsonNode *v = json_object_get_member (json_node_get_object (s), k->data);
          const char *str;
          RrNonTargetStatus st;
          int ti = rr_read_timepoint_index (r, k->data);
          if (!is_string (v))
            {
              invalid (error, "lesion %s, timepoint %s: status must be a string, not %s",
                       nt->id, (char *) k->data, type_name (v));
              return NULL;
            }
          str = json_node_get_string (v);
          if (g_str_equal (str, "present"))
            st = RR_NT_PRESENT;
          else if (g_str_equal (str, "absent"))
            st = RR_NT_ABSENT;
          else if (g_str_equal (str, "unequivocal_progression"))
            st = RR_NT_UNEQUIVOCAL_PROGRESSION;
          else if (g_str_equal (str, "NE"))
            st = RR_NT_NE;
          else
            {
              invalid (error, "lesion %s, timepoint %s: \"%s\" is not a status (present, "
                       "absent, unequivocal_progression, NE)", nt->id, (char *) k->data, str);
              return NULL;
            }
          if (ti < 0)
            add_unknown (r, nt->id, k->data);
          else
            nt->status[ti] = st;
        }
      n = json_object_get_member (o, "justification");
      if (n != NULL && !JSON_NODE_HOLDS_NULL (n))
        nt->justification = json_node_copy (n);
      if (!parse_increased (r, o, nt->id, &nt->increased, error))
        return NULL;
    }

  if (!get_array (root, "new_lesions", &a, error))
    return NULL;
  for (guint i = 0; a && i < json_array_get_length (a); i++)
    {
      JsonNode *e = json_array_get_element (a, i);
      g_autofree char *where = g_strdup_printf ("new lesion %u", i + 1);
      g_autofree char *tp = NULL;
      RrNewLesion *nl;
      JsonObject *o;
      int ti;
      if (!JSON_NODE_HOLDS_OBJECT (e))
        {
          invalid (error, "%s must be an object, not %s", where, type_name (e));
          return NULL;
        }
      o = json_node_get_object (e);
      nl = g_new0 (RrNewLesion, 1);
      g_ptr_array_add (r->new_lesions, nl);
      if (!get_string (o, "id", TRUE, &nl->id, where, error))
        return NULL;
      g_free (where);
      where = g_strdup_printf ("new lesion %s", nl->id);
      if (!get_string (o, "timepoint", TRUE, &tp, where, error) ||
          !get_string (o, "organ", FALSE, &nl->organ, where, error) ||
          !get_string (o, "location", FALSE, &nl->location, where, error) ||
          !get_bool (o, "nodal", &nl->nodal, where, error) ||
          !get_bool (o, "equivocal", &nl->equivocal, where, error))
        return NULL;
      for (guint j = 0; j < ids->len; j++)
        if (g_str_equal (ids->pdata[j], nl->id))
          {
            invalid (error, "new lesion %s has the id of a baseline lesion", nl->id);
            return NULL;
          }
      ti = rr_read_timepoint_index (r, tp);
      if (ti < 0)
        {
          add_unknown (r, nl->id, tp);
          nl->timepoint = G_MAXUINT;
        }
      else
        nl->timepoint = (guint) ti;
      if (!parse_meas_map (r, o, "measurements", nl->id, FALSE, &nl->meas, error))
        return NULL;
      if (!parse_increased (r, o, nl->id, &nl->increased, error))
        return NULL;
    }
  return g_steal_pointer (&r);
}

RrRead *
rr_read_parse (const char  *data,
               gssize       length,
               GError     **error)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  GError *local = NULL;

  if (length < 0)
    length = (gssize) strlen (data);
  if (length > 16 * 1024 * 1024)
    {
      invalid (error, "a read of %" G_GSSIZE_FORMAT " bytes is too large (16 MiB at most)",
               length);
      return NULL;
    }
  if (!json_parser_load_from_data (parser, data, length, &local))
    {
      g_set_error (error, RR_READ_ERROR, RR_READ_ERROR_SYNTAX, "not valid JSON: %s",
                   local->message);
      g_error_free (local);
      return NULL;
    }
  return rr_read_parse_node (json_parser_get_root (parser), error);
}

const char *
rr_nt_status_to_string (RrNonTargetStatus status)
{
  switch (status)
    {
    case RR_NT_PRESENT:
      return "present";
    case RR_NT_ABSENT:
      return "absent";
    case RR_NT_UNEQUIVOCAL_PROGRESSION:
      return "unequivocal_progression";
    case RR_NT_NE:
      return "NE";
    default:
      return NULL;
    }
}

static void
write_meas (RrJsonWriter *w, const RrMeas *m)
{
  switch (m->kind)
    {
    case RR_MEAS_VALUE:
      rr_json_double (w, m->tenths / 10.0);
      break;
    case RR_MEAS_TSTM:
      rr_json_string (w, "TSTM");
      break;
    case RR_MEAS_NE:
      rr_json_string (w, "NE");
      break;
    case RR_MEAS_MERGED:
      rr_json_string (w, "MERGED");
      break;
    default:
      rr_json_null (w);
    }
}

/* "increased", only when the lesion grew at some timepoint. */
static void
write_increased (RrJsonWriter *w, const RrRead *r, const gboolean *increased)
{
  gboolean any = FALSE;
  for (guint k = 0; increased && k < r->timepoints->len; k++)
    any |= increased[k];
  if (!any)
    return;
  rr_json_key (w, "increased");
  rr_json_begin_array (w);
  for (guint k = 0; k < r->timepoints->len; k++)
    if (increased[k])
      rr_json_string (w, ((RrTimepoint *) r->timepoints->pdata[k])->id);
  rr_json_end_array (w);
}

static void
write_node (RrJsonWriter *w, JsonNode *n)
{
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autofree char *s = NULL;
  json_generator_set_root (gen, n);
  s = json_generator_to_data (gen, NULL);
  rr_json_raw (w, s);
}

void
rr_read_write_timepoints (RrJsonWriter    *w,
                          const GPtrArray *timepoints)
{
  rr_json_key (w, "timepoints");
  rr_json_begin_array (w);
  for (guint i = 0; i < timepoints->len; i++)
    {
      const RrTimepoint *tp = timepoints->pdata[i];
      rr_json_begin_object (w);
      rr_json_key (w, "id");
      rr_json_string (w, tp->id);
      rr_json_key (w, "day");
      rr_json_int (w, tp->day);
      rr_json_end_object (w);
    }
  rr_json_end_array (w);
}

char *
rr_read_to_json (const RrRead *r)
{
  g_autoptr (RrJsonWriter) w = rr_json_writer_new (TRUE);

  rr_json_begin_object (w);
  rr_json_key (w, "criteria");
  rr_json_string (w, r->criteria);
  rr_json_key (w, "options");
  rr_json_begin_object (w);
  rr_json_key (w, "sd_min_days");
  rr_json_int (w, r->sd_min_days);
  rr_json_key (w, "confirmation");
  rr_json_bool (w, r->confirmation);
  rr_json_end_object (w);
  rr_read_write_timepoints (w, r->timepoints);
  rr_json_key (w, "target_lesions");
  rr_json_begin_array (w);
  for (guint i = 0; i < r->targets->len; i++)
    {
      RrTargetLesion *t = r->targets->pdata[i];
      rr_json_begin_object (w);
      rr_json_key (w, "id");
      rr_json_string (w, t->id);
      rr_json_key (w, "organ");
      rr_json_string (w, t->organ);
      rr_json_key (w, "nodal");
      rr_json_bool (w, t->nodal);
      if (t->location)
        {
          rr_json_key (w, "location");
          rr_json_string (w, t->location);
        }
      if (t->modality)
        {
          rr_json_key (w, "modality");
          rr_json_string (w, t->modality);
        }
      if (t->slice_thickness_mm > 0)
        {
          rr_json_key (w, "slice_thickness_mm");
          rr_json_double (w, t->slice_thickness_mm);
        }
      rr_json_key (w, "measurements");
      rr_json_begin_object (w);
      for (guint k = 0; k < r->timepoints->len; k++)
        if (t->meas[k].kind != RR_MEAS_MISSING)
          {
            rr_json_key (w, ((RrTimepoint *) r->timepoints->pdata[k])->id);
            write_meas (w, &t->meas[k]);
          }
      rr_json_end_object (w);
      if (t->calipers)
        {
          rr_json_key (w, "calipers");
          write_node (w, t->calipers);
        }
      rr_json_end_object (w);
    }
  rr_json_end_array (w);
  rr_json_key (w, "non_target_lesions");
  rr_json_begin_array (w);
  for (guint i = 0; i < r->non_targets->len; i++)
    {
      RrNonTargetLesion *nt = r->non_targets->pdata[i];
      rr_json_begin_object (w);
      rr_json_key (w, "id");
      rr_json_string (w, nt->id);
      rr_json_key (w, "organ");
      rr_json_string (w, nt->organ);
      rr_json_key (w, "nodal");
      rr_json_bool (w, nt->nodal);
      if (nt->location)
        {
          rr_json_key (w, "location");
          rr_json_string (w, nt->location);
        }
      rr_json_key (w, "status");
      rr_json_begin_object (w);
      for (guint k = 0; k < r->timepoints->len; k++)
        if (nt->status[k] != RR_NT_MISSING)
          {
            rr_json_key (w, ((RrTimepoint *) r->timepoints->pdata[k])->id);
            rr_json_string (w, rr_nt_status_to_string (nt->status[k]));
          }
      rr_json_end_object (w);
      write_increased (w, r, nt->increased);
      if (nt->justification)
        {
          rr_json_key (w, "justification");
          write_node (w, nt->justification);
        }
      rr_json_end_object (w);
    }
  rr_json_end_array (w);
  rr_json_key (w, "new_lesions");
  rr_json_begin_array (w);
  for (guint i = 0; i < r->new_lesions->len; i++)
    {
      RrNewLesion *nl = r->new_lesions->pdata[i];
      gboolean any = FALSE;
      if (nl->timepoint == G_MAXUINT)
        continue;
      rr_json_begin_object (w);
      rr_json_key (w, "id");
      rr_json_string (w, nl->id);
      rr_json_key (w, "timepoint");
      rr_json_string (w, ((RrTimepoint *) r->timepoints->pdata[nl->timepoint])->id);
      if (nl->organ)
        {
          rr_json_key (w, "organ");
          rr_json_string (w, nl->organ);
        }
      if (nl->location)
        {
          rr_json_key (w, "location");
          rr_json_string (w, nl->location);
        }
      rr_json_key (w, "nodal");
      rr_json_bool (w, nl->nodal);
      rr_json_key (w, "equivocal");
      rr_json_bool (w, nl->equivocal);
      for (guint k = 0; k < r->timepoints->len; k++)
        any |= nl->meas[k].kind != RR_MEAS_MISSING;
      write_increased (w, r, nl->increased);
      if (any)
        {
          rr_json_key (w, "measurements");
          rr_json_begin_object (w);
          for (guint k = 0; k < r->timepoints->len; k++)
            if (nl->meas[k].kind != RR_MEAS_MISSING)
              {
                rr_json_key (w, ((RrTimepoint *) r->timepoints->pdata[k])->id);
                write_meas (w, &nl->meas[k]);
              }
          rr_json_end_object (w);
        }
      rr_json_end_object (w);
    }
  rr_json_end_array (w);
  rr_json_end_object (w);
  return rr_json_writer_steal (w);
}
