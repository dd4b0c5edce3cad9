/* rr-qc.c: the identifying-attribute table and the QC checks over header
 * facts; geometry comes from the same stack assembly as loading. */
#include "rr-qc.h"
#include "rr-json-writer.h"

#include <string.h>

#define THICKNESS_EPS_MM  0.01   /* DS values carry rounding */
#define COVERAGE_EPS_MM   0.01
#define SPACING_TOL       0.05   /* as rr-stack.c: a gap within 5% is regular */
#define MAX_LISTED        5      /* patients or dates named in a message */

/* ---- identifying attributes ---- */

/* PS3.15 Table E.1-1 attributes that name or locate a person or an
 * institution and that the Basic Profile (with Retain Patient
 * Characteristics and Clean Descriptors) removes or empties. */
static const RrQcAttribute identifying[] = {
  { 0x00080050, "Accession Number" },
  { 0x00080080, "Institution Name" },
  { 0x00080081, "Institution Address" },
  { 0x00080090, "Referring Physician's Name" },
  { 0x00080092, "Referring Physician's Address" },
  { 0x00080094, "Referring Physician's Telephone Numbers" },
  { 0x00081010, "Station Name" },
  { 0x00081040, "Institutional Department Name" },
  { 0x00081048, "Physician(s) of Record" },
  { 0x00081050, "Performing Physician's Name" },
  { 0x00081060, "Name of Physician(s) Reading Study" },
  { 0x00081070, "Operators' Name" },
  { 0x00100030, "Patient's Birth Date" },
  { 0x00100032, "Patient's Birth Time" },
  { 0x00100050, "Patient's Insurance Plan Code Sequence" },
  { 0x00101000, "Other Patient IDs" },
  { 0x00101001, "Other Patient Names" },
  { 0x00101002, "Other Patient IDs Sequence" },
  { 0x00101005, "Patient's Birth Name" },
  { 0x00101040, "Patient's Address" },
  { 0x00101060, "Patient's Mother's Birth Name" },
  { 0x00101090, "Medical Record Locator" },
  { 0x00102150, "Country of Residence" },
  { 0x00102152, "Region of Residence" },
  { 0x00102154, "Patient's Telephone Numbers" },
  { 0x00321032, "Requesting Physician" },
  { 0x00380010, "Admission ID" },
  { 0x00380300, "Current Patient Location" },
  { 0x00380400, "Patient's Institution Residence" },
  { 0x00400006, "Scheduled Performing Physician's Name" },
};

const RrQcAttribute *
rr_qc_identifying_attributes (guint *n)
{
  *n = G_N_ELEMENTS (identifying);
  return identifying;
}

const RrQcAttribute *
rr_qc_identifying_lookup (guint32 tag)
{
  guint lo = 0, hi = G_N_ELEMENTS (identifying);
  while (lo < hi)
    {
      guint mid = (lo + hi) / 2;
      if (identifying[mid].tag == tag)
        return &identifying[mid];
      if (identifying[mid].tag < tag)
        lo = mid + 1;
      else
        hi = mid;
    }
  return NULL;
}

gboolean
rr_qc_value_is_empty (const char *value)
{
  if (value == NULL)
    return TRUE;
  for (const char *c = value; *c; c++)
    if (*c != ' ' && *c != '^' && *c != '=' && *c != '\\')
      return FALSE;
  return TRUE;
}

gboolean
rr_qc_value_identifies (const char *value)
{
  if (rr_qc_value_is_empty (value))
    return FALSE;
  /* A value that only repeats the dummy names no one; a real name that
   * merely contains the word still counts. */
  g_auto (GStrv) parts = g_strsplit (value, "\\", -1);
  for (char **p = parts; *p != NULL; p++)
    {
      g_strstrip (*p);
      if (**p != '\0' && !g_str_equal (*p, RR_QC_DEID_DUMMY_TEXT))
        return TRUE;
    }
  return FALSE;
}

/* ---- instances ---- */

RrQcInstance *
rr_qc_instance_new (void)
{
  RrQcInstance *i = g_new0 (RrQcInstance, 1);
  i->identifying = g_array_new (FALSE, FALSE, sizeof (guint32));
  return i;
}

void
rr_qc_instance_free (RrQcInstance *instance)
{
  if (instance == NULL)
    return;
  g_free (instance->path);
  g_free (instance->sop_uid);
  g_free (instance->study_uid);
  g_free (instance->series_uid);
  g_free (instance->study_date);
  g_free (instance->patient_id);
  g_free (instance->patient_name);
  g_free (instance->modality);
  g_free (instance->series_description);
  g_free (instance->body_part);
  g_free (instance->frames);
  g_free (instance->contrast_agent);
  g_free (instance->identity_removed);
  g_free (instance->burned_in_annotation);
  g_array_unref (instance->identifying);
  g_free (instance);
}

/* ---- results ---- */

static void
check_free (gpointer p)
{
  RrQcCheck *c = p;
  g_free (c->message);
  g_free (c);
}

static void
finding_free (gpointer p)
{
  RrQcFinding *f = p;
  g_free (f->series_uid);
  g_free (f->sop_uid);
  g_free (f->comment);
  g_free (f);
}

static void
series_free (gpointer p)
{
  RrQcSeries *s = p;
  g_free (s->series_uid);
  g_free (s->modality);
  g_free (s->description);
  g_ptr_array_unref (s->checks);
  g_free (s);
}

void
rr_qc_result_free (RrQcResult *result)
{
  if (result == NULL)
    return;
  g_ptr_array_unref (result->series);
  g_ptr_array_unref (result->findings);
  g_free (result);
}

const char *
rr_qc_status_name (RrQcStatus status)
{
  switch (status)
    {
    case RR_QC_PASS:
      return "pass";
    case RR_QC_WARN:
      return "warn";
    case RR_QC_FAIL:
    default:
      return "fail";
    }
}

const RrQcCheck *
rr_qc_series_check (const RrQcSeries *series,
                    const char       *check)
{
  for (guint i = 0; i < series->checks->len; i++)
    {
      const RrQcCheck *c = series->checks->pdata[i];
      if (g_str_equal (c->check, check))
        return c;
    }
  return NULL;
}

/* One check under way: the worst status of its parts, their messages
 * joined. A check with no part passes with its pass message. */
typedef struct
{
  const char *check;
  RrQcStatus status;
  GString *message;
} Check;

static void
check_begin (Check      *c,
             const char *check)
{
  c->check = check;
  c->status = RR_QC_PASS;
  c->message = g_string_new (NULL);
}

static void
check_part (Check      *c,
            RrQcStatus  status,
            const char *format,
            ...) G_GNUC_PRINTF (3, 4);

static void
check_part (Check      *c,
            RrQcStatus  status,
            const char *format,
            ...)
{
  va_list ap;
  if (c->message->len > 0)
    g_string_append (c->message, "; ");
  va_start (ap, format);
  g_string_append_vprintf (c->message, format, ap);
  va_end (ap);
  c->status = MAX (c->status, status);
}

static void
check_end (Check      *c,
           RrQcSeries *series)
{
  RrQcCheck *out = g_new0 (RrQcCheck, 1);
  out->check = c->check;
  out->status = c->status;
  out->message = g_string_free (c->message, FALSE);
  g_ptr_array_add (series->checks, out);
}

static void
add_finding (RrQcResult *r,
             const char *series_uid,
             const char *sop_uid,
             const char *category,
             const char *severity,
             const char *format,
             ...) G_GNUC_PRINTF (6, 7);

static void
add_finding (RrQcResult *r,
             const char *series_uid,
             const char *sop_uid,
             const char *category,
             const char *severity,
             const char *format,
             ...)
{
  RrQcFinding *f = g_new0 (RrQcFinding, 1);
  va_list ap;
  f->series_uid = g_strdup (series_uid);
  f->sop_uid = g_strdup (sop_uid);
  f->frame = 0;
  f->category = category;
  f->severity = severity;
  va_start (ap, format);
  f->comment = g_strdup_vprintf (format, ap);
  va_end (ap);
  g_ptr_array_add (r->findings, f);
}

/* "in all 20 instances" or "in 3 of 20 instances". */
static char *
in_instances (guint n,
              guint total)
{
  if (n == total)
    return total == 1 ? g_strdup ("in its one instance")
                      : g_strdup_printf ("in all %u instances", total);
  return g_strdup_printf ("in %u of %u instances", n, total);
}

/* The messages are the record's English (stored with the findings on the
 * server, whatever the reader's language), so the plural is chosen here
 * rather than through gettext (walk c1: "1 slice(s)"). */
static const char *
slices (guint n)
{
  return n == 1 ? "slice" : "slices";
}

static char *
join_codes (GPtrArray *codes)
{
  g_autoptr (GString) s = g_string_new (NULL);
  for (guint i = 0; i < codes->len; i++)
    {
      if (i > 0)
        g_string_append (s, i + 1 == codes->len ? " or " : ", ");
      g_string_append (s, codes->pdata[i]);
    }
  return g_string_free (g_steal_pointer (&s), FALSE);
}

static gboolean
codes_contain (GPtrArray  *codes,
               const char *value)
{
  for (guint i = 0; i < codes->len; i++)
    if (g_ascii_strcasecmp (codes->pdata[i], value) == 0)
      return TRUE;
  return FALSE;
}

/* Distinct strings, in order of first sight; NULL counts as "". */
static void
distinct_add (GPtrArray  *set,
              const char *value)
{
  const char *v = value ? value : "";
  for (guint i = 0; i < set->len; i++)
    if (g_str_equal (set->pdata[i], v))
      return;
  g_ptr_array_add (set, g_strdup (v));
}

static char *
join_listed (GPtrArray *set)
{
  g_autoptr (GString) s = g_string_new (NULL);
  for (guint i = 0; i < set->len && i < MAX_LISTED; i++)
    {
      const char *v = set->pdata[i];
      if (i > 0)
        g_string_append (s, ", ");
      g_string_append (s, *v ? v : "(none)");
    }
  if (set->len > MAX_LISTED)
    g_string_append_printf (s, " and %u more", set->len - MAX_LISTED);
  return g_string_free (g_steal_pointer (&s), FALSE);
}

/* ---- one series ---- */

typedef struct
{
  const RrQcProtocol *protocol;
  RrQcResult *result;
  RrQcSeries *out;
  GPtrArray *instances;     /* RrQcInstance *, not owned */
  guint n_images;
  GPtrArray *stacks;        /* RrStack, from the images' frames */
  GPtrArray *problems;      /* series-level RrProblem */
  const RrStack *main;
} Series;

static const char *
first_value (Series *s,
             gsize   offset)
{
  for (guint i = 0; i < s->instances->len; i++)
    {
      const char *v = G_STRUCT_MEMBER (const char *, s->instances->pdata[i], offset);
      if (!rr_qc_value_is_empty (v))
        return v;
    }
  return NULL;
}

static void
check_modality (Series *s)
{
  const RrQcProtocol *p = s->protocol;
  const char *modality = s->out->modality;
  Check c;

  check_begin (&c, RR_QC_WRONG_MODALITY);
  if (rr_qc_value_is_empty (modality))
    {
      check_part (&c, RR_QC_FAIL, "no Modality in the header");
      add_finding (s->result, s->out->series_uid, NULL, c.check, "major",
                   "The series has no Modality");
    }
  else if (p->modalities->len == 0)
    check_part (&c, RR_QC_PASS, "%s; the protocol does not restrict modality", modality);
  else if (codes_contain (p->modalities, modality))
    check_part (&c, RR_QC_PASS, "%s, as the protocol asks", modality);
  else
    {
      g_autofree char *asked = join_codes (p->modalities);
      check_part (&c, RR_QC_FAIL, "%s; the protocol asks for %s", modality, asked);
      add_finding (s->result, s->out->series_uid, NULL, c.check, "major",
                   "Modality is %s; the protocol asks for %s", modality, asked);
    }
  check_end (&c, s->out);
}

/* Extent along the slice normal: from the first slice's centre to the
 * last's, plus one spacing for the half slice each end covers. */
static double
stack_coverage (const RrStack *st,
                double         thickness)
{
  guint n = st->positions->len;
  double first, last;
  if (n == 0)
    return 0;
  if (n == 1)
    return thickness;
  first = rr_vec3_dot (g_array_index (st->positions, RrVec3, 0), st->normal);
  last = rr_vec3_dot (g_array_index (st->positions, RrVec3, n - 1), st->normal);
  return fabs (last - first) + st->slice_spacing;
}

static double
series_thickness (Series *s,
                  guint  *n_with,
                  double *min_out)
{
  double max = 0, min = G_MAXDOUBLE;
  *n_with = 0;
  for (guint i = 0; i < s->instances->len; i++)
    {
      const RrQcInstance *inst = s->instances->pdata[i];
      if (!inst->is_image || !(inst->slice_thickness > 0))
        continue;
      (*n_with)++;
      max = MAX (max, inst->slice_thickness);
      min = MIN (min, inst->slice_thickness);
    }
  if (min_out)
    *min_out = *n_with ? min : 0;
  return max;
}

static void
check_coverage (Series *s)
{
  const RrQcProtocol *p = s->protocol;
  const char *body_part = first_value (s, G_STRUCT_OFFSET (RrQcInstance, body_part));
  Check c;
  guint n_thick;
  double thickness = series_thickness (s, &n_thick, NULL);

  check_begin (&c, RR_QC_COVERAGE);
  if (p->body_parts->len > 0)
    {
      g_autofree char *asked = join_codes (p->body_parts);
      if (body_part == NULL)
        check_part (&c, RR_QC_WARN, "no Body Part Examined in the header; the protocol asks "
                    "for %s", asked);
      else if (!codes_contain (p->body_parts, body_part))
        {
          check_part (&c, RR_QC_FAIL, "Body Part Examined is %s; the protocol asks for %s",
                      body_part, asked);
          add_finding (s->result, s->out->series_uid, NULL, c.check, "major",
                       "Body Part Examined is %s; the protocol asks for %s", body_part, asked);
        }
      else
        check_part (&c, RR_QC_PASS, "body part %s, as the protocol asks", body_part);
    }

  if (s->main == NULL || !s->main->has_geometry)
    {
      if (p->min_coverage_mm > 0)
        check_part (&c, RR_QC_WARN, "no slice positions in the header: coverage not measured");
      else
        check_part (&c, RR_QC_PASS, "no slice positions in the header");
    }
  else
    {
      double cov = stack_coverage (s->main, thickness);
      if (p->min_coverage_mm > 0 && cov + COVERAGE_EPS_MM < p->min_coverage_mm)
        {
          check_part (&c, RR_QC_FAIL, "%.1f mm covered along the slice normal; the protocol "
                      "asks for at least %g mm", cov, p->min_coverage_mm);
          add_finding (s->result, s->out->series_uid, NULL, c.check, "major",
                       "The series covers %.1f mm (%u slices); the protocol asks for at "
                       "least %g mm", cov, s->main->order->len, p->min_coverage_mm);
        }
      else if (p->min_coverage_mm > 0)
        check_part (&c, RR_QC_PASS, "%.1f mm covered (at least %g mm asked)", cov,
                    p->min_coverage_mm);
      else
        check_part (&c, RR_QC_PASS, "%.1f mm covered; the protocol sets no minimum", cov);
    }
  check_end (&c, s->out);
}

static void
check_thickness (Series *s)
{
  const RrQcProtocol *p = s->protocol;
  guint n_with;
  double min;
  double max = series_thickness (s, &n_with, &min);
  Check c;
  g_autofree char *shown = NULL;

  check_begin (&c, RR_QC_SLICE_THICKNESS);
  shown = fabs (max - min) <= THICKNESS_EPS_MM ? g_strdup_printf ("%g mm", max)
                                               : g_strdup_printf ("%g to %g mm", min, max);
  if (n_with == 0)
    check_part (&c, p->max_slice_thickness_mm > 0 ? RR_QC_WARN : RR_QC_PASS,
                "no Slice Thickness in the header");
  else if (p->max_slice_thickness_mm > 0 && max > p->max_slice_thickness_mm + THICKNESS_EPS_MM)
    {
      check_part (&c, RR_QC_FAIL, "slices %s thick; the protocol allows at most %g mm",
                  shown, p->max_slice_thickness_mm);
      add_finding (s->result, s->out->series_uid, NULL, c.check, "major",
                   "Slices are %s thick; the protocol allows at most %g mm", shown,
                   p->max_slice_thickness_mm);
    }
  else if (p->max_slice_thickness_mm > 0)
    check_part (&c, RR_QC_PASS, "slices %s thick (at most %g mm allowed)", shown,
                p->max_slice_thickness_mm);
  else
    check_part (&c, RR_QC_PASS, "slices %s thick; the protocol sets no maximum", shown);
  if (n_with > 0 && n_with < s->n_images)
    check_part (&c, RR_QC_WARN, "%u of %u images have no Slice Thickness",
                s->n_images - n_with, s->n_images);
  check_end (&c, s->out);
}

/* Missing slices from the stack's own plan: runs of RR_STACK_GAP where the
 * spacing stays regular; where it does not, the gaps measured in slices of
 * the typical spacing. */
static void
check_missing (Series *s)
{
  const RrQcProtocol *p = s->protocol;
  const RrStack *st = s->main;
  Check c;
  guint longest = 0, total = 0, run = 0, first_gap = G_MAXUINT;
  gboolean uneven;

  check_begin (&c, RR_QC_MISSING_SLICES);
  if (st == NULL || !st->has_geometry || st->order->len < 2)
    {
      check_part (&c, RR_QC_PASS, "not a stack of positioned slices: nothing to check");
      check_end (&c, s->out);
      return;
    }
  uneven = rr_problems_has (st->problems, "uneven_spacing");
  for (guint k = 0; k < st->order->len; k++)
    {
      if (g_array_index (st->order, guint, k) == RR_STACK_GAP)
        {
          if (run++ == 0 && first_gap == G_MAXUINT)
            first_gap = k;
          total++;
          longest = MAX (longest, run);
        }
      else
        run = 0;
    }
  if (uneven)
    for (guint k = 0; k + 1 < st->positions->len; k++)
      {
        double d = rr_vec3_dot (rr_vec3_sub (g_array_index (st->positions, RrVec3, k + 1),
                                             g_array_index (st->positions, RrVec3, k)),
                                st->normal);
        double r = st->slice_spacing > 0 ? d / st->slice_spacing : 0;
        if (r > 1 + SPACING_TOL)
          {
            guint missing = (guint) MAX (0.0, floor (r + 0.5) - 1);
            if (missing > 0 && first_gap == G_MAXUINT)
              first_gap = k + 1;
            total += missing;
            longest = MAX (longest, missing);
          }
      }

  if (longest > p->max_gap_slices)
    {
      double at = rr_vec3_dot (g_array_index (st->positions, RrVec3, first_gap - 1), st->normal);
      const char *allowed = p->max_gap_slices == 0 ? "none" : NULL;
      g_autofree char *allow_s = allowed ? g_strdup (allowed)
                                         : g_strdup_printf ("at most %u in a row",
                                                            p->max_gap_slices);
      check_part (&c, RR_QC_FAIL, "%u %s missing at a spacing of %.3g mm, %u in a row "
                  "at most; the protocol allows %s", total, slices (total), st->slice_spacing,
                  longest, allow_s);
      add_finding (s->result, s->out->series_uid, NULL, c.check, "major",
                   "%u %s missing from a spacing of %.3g mm (%u in a row at most), the "
                   "first after the slice at %.1f mm along the normal; the protocol allows %s",
                   total, slices (total), st->slice_spacing, longest, at, allow_s);
    }
  else if (total > 0)
    check_part (&c, RR_QC_WARN, "%u %s missing, %u in a row at most (the protocol "
                "allows %u)", total, slices (total), longest, p->max_gap_slices);
  else
    check_part (&c, RR_QC_PASS, "%u slices at a regular spacing of %.3g mm, none missing",
                st->order->len, st->slice_spacing);
  if (uneven)
    check_part (&c, RR_QC_WARN, "the slice spacing is uneven");

  {
    guint n_thick;
    double thickness = series_thickness (s, &n_thick, NULL);
    /* Slices thinner than their spacing leave tissue between them unseen. */
    if (n_thick > 0 && st->slice_spacing > thickness * (1 + SPACING_TOL) + THICKNESS_EPS_MM)
      check_part (&c, RR_QC_WARN, "slices %g mm thick every %.3g mm leave %.3g mm gaps",
                  thickness, st->slice_spacing, st->slice_spacing - thickness);
  }
  for (guint i = 0; i < st->problems->len; i++)
    {
      const RrProblem *pr = st->problems->pdata[i];
      if (g_str_equal (pr->code, "duplicate_positions"))
        check_part (&c, RR_QC_WARN, "%s", pr->message);
    }
  for (guint i = 0; i < s->problems->len; i++)
    {
      const RrProblem *pr = s->problems->pdata[i];
      check_part (&c, RR_QC_WARN, "%s; the checks use the largest stack", pr->message);
    }
  check_end (&c, s->out);
}

/* Sites write NONE or NO where no agent was given. */
static gboolean
agent_given (const RrQcInstance *inst)
{
  static const char *none[] = { "NONE", "NO", "N/A", "NA", "NIL" };
  if (inst->n_contrast_items > 0)
    return TRUE;
  if (rr_qc_value_is_empty (inst->contrast_agent))
    return FALSE;
  {
    g_autofree char *v = g_strstrip (g_ascii_strup (inst->contrast_agent, -1));
    for (guint i = 0; i < G_N_ELEMENTS (none); i++)
      if (g_str_equal (v, none[i]))
        return FALSE;
  }
  return TRUE;
}

static void
check_contrast (Series *s)
{
  const RrQcProtocol *p = s->protocol;
  guint n_given = 0;
  const char *agent = NULL;
  Check c;

  for (guint i = 0; i < s->instances->len; i++)
    {
      const RrQcInstance *inst = s->instances->pdata[i];
      if (!inst->is_image || !agent_given (inst))
        continue;
      n_given++;
      if (agent == NULL && !rr_qc_value_is_empty (inst->contrast_agent))
        agent = inst->contrast_agent;
    }
  if (agent == NULL)
    agent = "an agent in the Contrast/Bolus Agent Sequence";

  check_begin (&c, RR_QC_CONTRAST);
  if (p->contrast == RR_QC_CONTRAST_REQUIRED && n_given == 0)
    {
      check_part (&c, RR_QC_FAIL, "no Contrast/Bolus Agent in the header; the protocol asks "
                  "for contrast");
      add_finding (s->result, s->out->series_uid, NULL, c.check, "major",
                   "No contrast agent is recorded (Contrast/Bolus Agent); the protocol asks "
                   "for a contrast-enhanced series");
    }
  else if (p->contrast == RR_QC_CONTRAST_ABSENT && n_given > 0)
    {
      check_part (&c, RR_QC_FAIL, "Contrast/Bolus Agent is %s; the protocol asks for none",
                  agent);
      add_finding (s->result, s->out->series_uid, NULL, c.check, "major",
                   "Contrast/Bolus Agent is %s; the protocol asks for a series without "
                   "contrast", agent);
    }
  else if (n_given > 0)
    check_part (&c, RR_QC_PASS, "contrast: %s%s", agent,
                p->contrast == RR_QC_CONTRAST_REQUIRED ? ", as the protocol asks" : "");
  else
    check_part (&c, RR_QC_PASS, "no contrast agent recorded%s",
                p->contrast == RR_QC_CONTRAST_ABSENT ? ", as the protocol asks" : "");
  if (n_given > 0 && n_given < s->n_images)
    check_part (&c, RR_QC_WARN, "%u of %u images record no contrast agent",
                s->n_images - n_given, s->n_images);
  check_end (&c, s->out);
}

/* Patient's Name may be empty or the subject ID (which de-identification
 * writes into both Patient's Name and Patient ID). */
static gboolean
name_identifies (const RrQcInstance *inst)
{
  g_autofree char *name = NULL;
  g_autofree char *id = NULL;
  gsize len;
  if (rr_qc_value_is_empty (inst->patient_name))
    return FALSE;
  if (inst->patient_id == NULL)
    return TRUE;
  name = g_strdup (inst->patient_name);
  len = strlen (name);
  /* Trailing component separators say nothing: "S-001^^" is "S-001". */
  while (len > 0 && (name[len - 1] == '^' || name[len - 1] == ' '))
    name[--len] = '\0';
  id = g_strdup (inst->patient_id);
  return !g_str_equal (g_strstrip (name), g_strstrip (id));
}

static void
check_phi (Series *s)
{
  guint n = s->instances->len, n_attrs;
  const RrQcAttribute *attrs = rr_qc_identifying_attributes (&n_attrs);
  g_autofree guint *counts = g_new0 (guint, n_attrs);
  guint n_named = 0, n_private = 0, n_private_total = 0, n_not_removed = 0, n_burned = 0;
  guint n_unstated = 0;
  const char *removed_value = NULL;
  Check c;

  for (guint i = 0; i < n; i++)
    {
      const RrQcInstance *inst = s->instances->pdata[i];
      if (name_identifies (inst))
        n_named++;
      for (guint t = 0; t < inst->identifying->len; t++)
        {
          const RrQcAttribute *a = rr_qc_identifying_lookup (g_array_index (inst->identifying,
                                                                             guint32, t));
          /* Count each attribute once per instance, wherever it was found. */
          if (a != NULL)
            {
              gboolean seen = FALSE;
              for (guint u = 0; u < t; u++)
                if (g_array_index (inst->identifying, guint32, u) == a->tag)
                  seen = TRUE;
              if (!seen)
                counts[a - attrs]++;
            }
        }
      if (inst->n_private > 0)
        {
          n_private++;
          n_private_total += inst->n_private;
        }
      g_autofree char *removed = g_strstrip (g_strdup (inst->identity_removed
                                                       ? inst->identity_removed : ""));
      if (g_ascii_strcasecmp (removed, "YES") != 0)
        {
          n_not_removed++;
          if (removed_value == NULL && !rr_qc_value_is_empty (inst->identity_removed))
            removed_value = inst->identity_removed;
        }
      if (inst->burned_in_annotation != NULL)
        {
          g_autofree char *v = g_strstrip (g_strdup (inst->burned_in_annotation));
          if (g_ascii_strcasecmp (v, "YES") == 0)
            n_burned++;
          else if (g_ascii_strcasecmp (v, "NO") != 0)
            n_unstated++;
        }
      else if (inst->is_image && inst->modality != NULL &&
               (g_str_equal (inst->modality, "US") || g_str_equal (inst->modality, "SC") ||
                g_str_equal (inst->modality, "XC") || g_str_equal (inst->modality, "OT")))
        n_unstated++;
    }

  check_begin (&c, RR_QC_PHI);
  if (n_named > 0)
    {
      g_autofree char *where = in_instances (n_named, n);
      check_part (&c, RR_QC_FAIL, "Patient's Name is not the subject ID %s", where);
      add_finding (s->result, s->out->series_uid, NULL, c.check, "major",
                   "Patient's Name (0010,0010) holds something other than the subject ID %s",
                   where);
    }
  for (guint a = 0; a < n_attrs; a++)
    if (counts[a] > 0)
      {
        g_autofree char *where = in_instances (counts[a], n);
        check_part (&c, RR_QC_FAIL, "%s holds a value %s", attrs[a].name, where);
        add_finding (s->result, s->out->series_uid, NULL, c.check, "major",
                     "%s (%04X,%04X) holds a value %s", attrs[a].name, attrs[a].tag >> 16,
                     attrs[a].tag & 0xffff, where);
      }
  if (n_private > 0)
    {
      g_autofree char *where = in_instances (n_private, n);
      check_part (&c, RR_QC_FAIL, "%u private attribute(s) %s", n_private_total, where);
      add_finding (s->result, s->out->series_uid, NULL, c.check, "minor",
                   "Private attributes are present %s (%u in all); they may carry "
                   "identifying data", where, n_private_total);
    }
  if (n_not_removed > 0)
    {
      g_autofree char *where = in_instances (n_not_removed, n);
      check_part (&c, RR_QC_FAIL, "Patient Identity Removed is %s %s",
                  removed_value ? removed_value : "absent", where);
      add_finding (s->result, s->out->series_uid, NULL, c.check, "minor",
                   "Patient Identity Removed (0012,0062) is %s %s, not YES",
                   removed_value ? removed_value : "absent", where);
    }
  if (n_burned > 0)
    {
      g_autofree char *where = in_instances (n_burned, n);
      check_part (&c, RR_QC_FAIL, "Burned In Annotation is YES %s", where);
      if (n_burned == n)
        add_finding (s->result, s->out->series_uid, NULL, c.check, "major",
                     "Burned In Annotation is YES %s: text may be burned into the pixels",
                     where);
      else
        {
          /* The reviewer is sent to the images themselves. */
          guint listed = 0;
          for (guint i = 0; i < n; i++)
            {
              const RrQcInstance *inst = s->instances->pdata[i];
              g_autofree char *v = g_strstrip (g_strdup (inst->burned_in_annotation
                                                         ? inst->burned_in_annotation : ""));
              if (g_ascii_strcasecmp (v, "YES") != 0)
                continue;
              if (listed++ == RR_QC_MAX_INSTANCE_FINDINGS)
                {
                  add_finding (s->result, s->out->series_uid, NULL, c.check, "major",
                               "Burned In Annotation is YES in %u more instances",
                               n_burned - RR_QC_MAX_INSTANCE_FINDINGS);
                  break;
                }
              add_finding (s->result, s->out->series_uid, inst->sop_uid, c.check, "major",
                           "Burned In Annotation is YES: text may be burned into this image");
            }
        }
    }
  if (n_unstated > 0)
    {
      g_autofree char *where = in_instances (n_unstated, n);
      check_part (&c, RR_QC_WARN, "Burned In Annotation is not NO %s, for a modality that "
                  "often burns text in: look at the images", where);
    }
  if (c.message->len == 0)
    check_part (&c, RR_QC_PASS, "no identifying attributes, no private attributes, Patient "
                "Identity Removed YES, no burned-in annotation declared");
  check_end (&c, s->out);
}

typedef struct
{
  GPtrArray *patients;      /* char *, distinct */
  GPtrArray *studies;       /* char *, distinct study UIDs */
  GPtrArray *dates;         /* char *, distinct dates of those studies */
} Timepoint;

static void
check_subject (Series          *s,
               const Timepoint *tp)
{
  g_autoptr (GPtrArray) patients = g_ptr_array_new_with_free_func (g_free);
  const RrQcInstance *first = s->instances->pdata[0];
  Check c;

  for (guint i = 0; i < s->instances->len; i++)
    distinct_add (patients, ((RrQcInstance *) s->instances->pdata[i])->patient_id);

  check_begin (&c, RR_QC_WRONG_SUBJECT);
  if (patients->len > 1)
    {
      g_autofree char *ids = join_listed (patients);
      check_part (&c, RR_QC_FAIL, "instances of %u patients in this one series (%s)",
                  patients->len, ids);
      add_finding (s->result, s->out->series_uid, NULL, c.check, "major",
                   "The series mixes instances of %u patients (Patient ID %s)", patients->len,
                   ids);
    }
  else if (tp->patients->len > 1)
    {
      g_autofree char *ids = join_listed (tp->patients);
      const char *mine = patients->pdata[0];
      check_part (&c, RR_QC_FAIL, "the timepoint holds %u patients (%s); this series is %s's",
                  tp->patients->len, ids, *mine ? mine : "(no Patient ID)");
      add_finding (s->result, s->out->series_uid, NULL, c.check, "major",
                   "The timepoint holds images of %u patients (Patient ID %s); this series "
                   "is of %s", tp->patients->len, ids, *mine ? mine : "no Patient ID");
    }
  if (tp->dates->len > 1)
    {
      g_autofree char *dates = join_listed (tp->dates);
      const char *mine = rr_qc_value_is_empty (first->study_date) ? "no date"
                                                                  : first->study_date;
      check_part (&c, RR_QC_FAIL, "the timepoint holds studies of %u dates (%s); this series "
                  "is of %s", tp->dates->len, dates, mine);
      add_finding (s->result, s->out->series_uid, NULL, c.check, "major",
                   "The timepoint holds studies of %u different dates (%s), so of more than "
                   "one visit; this series is of %s", tp->dates->len, dates, mine);
    }
  else if (tp->studies->len > 1)
    check_part (&c, RR_QC_WARN, "the timepoint holds %u studies of the same date",
                tp->studies->len);
  if (c.message->len == 0)
    check_part (&c, RR_QC_PASS, "one patient (%s) and one study",
                rr_qc_value_is_empty (first->patient_id) ? "no Patient ID" : first->patient_id);
  check_end (&c, s->out);
}

static void
series_plan (Series *s)
{
  g_autofree RrFrameGeom *geoms = NULL;
  guint n = 0, k = 0;

  for (guint i = 0; i < s->instances->len; i++)
    {
      const RrQcInstance *inst = s->instances->pdata[i];
      if (inst->is_image)
        {
          s->n_images++;
          n += inst->n_frames;
        }
    }
  s->problems = g_ptr_array_new_with_free_func ((GDestroyNotify) rr_problem_free);
  geoms = g_new0 (RrFrameGeom, MAX (n, 1u));
  for (guint i = 0; i < s->instances->len; i++)
    {
      const RrQcInstance *inst = s->instances->pdata[i];
      if (!inst->is_image)
        continue;
      for (guint f = 0; f < inst->n_frames; f++)
        geoms[k++] = inst->frames[f];
    }
  s->stacks = rr_stack_plan (geoms, n, s->problems);
  s->main = s->stacks->len > 0 ? s->stacks->pdata[0] : NULL;
}

/* Groups of instances by their first one's series number, then UIDs, so
 * that series and their findings come out in the same, stable order. */
static int
group_cmp (gconstpointer pa,
           gconstpointer pb)
{
  const RrQcInstance *a = (*(GPtrArray * const *) pa)->pdata[0];
  const RrQcInstance *b = (*(GPtrArray * const *) pb)->pdata[0];
  int c;
  if (a->series_number != b->series_number)
    return a->series_number < b->series_number ? -1 : 1;
  c = g_strcmp0 (a->series_uid, b->series_uid);
  return c != 0 ? c : g_strcmp0 (a->study_uid, b->study_uid);
}

RrQcResult *
rr_qc_run (const RrQcProtocol   *protocol,
           RrQcInstance * const *instances,
           guint                 n)
{
  RrQcResult *r = g_new0 (RrQcResult, 1);
  g_autoptr (RrQcProtocol) none = NULL;
  g_autoptr (GHashTable) by_key = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr (GPtrArray) groups = g_ptr_array_new ();
  Timepoint tp;

  if (protocol == NULL)
    protocol = none = rr_qc_protocol_new ();
  r->series = g_ptr_array_new_with_free_func (series_free);
  r->findings = g_ptr_array_new_with_free_func (finding_free);
  tp.patients = g_ptr_array_new_with_free_func (g_free);
  tp.studies = g_ptr_array_new_with_free_func (g_free);
  tp.dates = g_ptr_array_new_with_free_func (g_free);

  for (guint i = 0; i < n; i++)
    {
      RrQcInstance *inst = instances[i];
      g_autofree char *key = g_strconcat (inst->study_uid ? inst->study_uid : "", "|",
                                          inst->series_uid ? inst->series_uid : "", NULL);
      GPtrArray *members = g_hash_table_lookup (by_key, key);
      guint n_studies = tp.studies->len;

      if (members == NULL)
        {
          members = g_ptr_array_new ();
          g_ptr_array_add (groups, members);
          g_hash_table_insert (by_key, g_steal_pointer (&key), members);
        }
      g_ptr_array_add (members, inst);
      distinct_add (tp.patients, inst->patient_id);
      distinct_add (tp.studies, inst->study_uid);
      if (tp.studies->len > n_studies)
        distinct_add (tp.dates, rr_qc_value_is_empty (inst->study_date) ? "" : inst->study_date);
    }

  g_ptr_array_sort (groups, group_cmp);
  for (guint g = 0; g < groups->len; g++)
    {
      Series s = { 0 };
      RrQcSeries *out = g_new0 (RrQcSeries, 1);
      const RrQcInstance *first;

      s.protocol = protocol;
      s.result = r;
      s.out = out;
      s.instances = groups->pdata[g];
      first = s.instances->pdata[0];
      out->series_uid = g_strdup (first->series_uid ? first->series_uid : "");
      out->modality = g_strdup (first->modality);
      out->description = g_strdup (first->series_description);
      out->number = first->series_number;
      out->n_instances = s.instances->len;
      out->checks = g_ptr_array_new_with_free_func (check_free);
      g_ptr_array_add (r->series, out);
      series_plan (&s);

      /* Non-image objects (reports, presentation states) have no
       * acquisition to check, but can carry identifying data. */
      if (s.n_images > 0)
        {
          check_modality (&s);
          check_coverage (&s);
          check_thickness (&s);
          check_missing (&s);
          check_contrast (&s);
        }
      check_phi (&s);
      check_subject (&s, &tp);
      g_ptr_array_unref (s.stacks);
      g_ptr_array_unref (s.problems);
      g_ptr_array_unref (s.instances);
    }
  g_ptr_array_unref (tp.patients);
  g_ptr_array_unref (tp.studies);
  g_ptr_array_unref (tp.dates);
  return r;
}

char *
rr_qc_result_to_json (const RrQcResult *result)
{
  g_autoptr (RrJsonWriter) w = rr_json_writer_new (TRUE);

  rr_json_begin_object (w);
  rr_json_key (w, "series");
  rr_json_begin_array (w);
  for (guint i = 0; i < result->series->len; i++)
    {
      const RrQcSeries *s = result->series->pdata[i];
      rr_json_begin_object (w);
      rr_json_key (w, "series_uid");
      rr_json_string (w, s->series_uid);
      rr_json_key (w, "modality");
      if (s->modality)
        rr_json_string (w, s->modality);
      else
        rr_json_null (w);
      rr_json_key (w, "checks");
      rr_json_begin_array (w);
      for (guint c = 0; c < s->checks->len; c++)
        {
          const RrQcCheck *ck = s->checks->pdata[c];
          rr_json_begin_object (w);
          rr_json_key (w, "check");
          rr_json_string (w, ck->check);
          rr_json_key (w, "status");
          rr_json_string (w, rr_qc_status_name (ck->status));
          rr_json_key (w, "message");
          rr_json_string (w, ck->message);
          rr_json_end_object (w);
        }
      rr_json_end_array (w);
      rr_json_end_object (w);
    }
  rr_json_end_array (w);
  rr_json_key (w, "findings");
  rr_json_begin_array (w);
  for (guint i = 0; i < result->findings->len; i++)
    {
      const RrQcFinding *f = result->findings->pdata[i];
      rr_json_begin_object (w);
      rr_json_key (w, "series");
      rr_json_string (w, f->series_uid);
      /* A finding about the whole series has no sop (cli.md), and none
       * has a shape until a reviewer draws one. */
      if (f->sop_uid)
        {
          rr_json_key (w, "sop");
          rr_json_string (w, f->sop_uid);
          rr_json_key (w, "frame");
          rr_json_int (w, f->frame);
        }
      rr_json_key (w, "category");
      rr_json_string (w, f->category);
      rr_json_key (w, "severity");
      rr_json_string (w, f->severity);
      rr_json_key (w, "comment");
      rr_json_string (w, f->comment);
      rr_json_end_object (w);
    }
  rr_json_end_array (w);
  rr_json_end_object (w);
  return rr_json_writer_steal (w);
}
