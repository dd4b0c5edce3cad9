/* rr-upload-view-checks.c: what the upload page checks in the studies
 * Find Studies read before Upload is allowed. Some findings block Upload
 * outright (two patients under one subject ID, a visit date that is not a
 * date); the others wait for the site to confirm that it checked them
 * (dates away from the visit, a study day away from the timepoint's
 * nominal day, images that may carry burned-in text). */
#include "rr-upload-view-private.h"
#include "rr-dicom.h"
#include "rr-thumbnail.h"

#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <string.h>

/* A study more than this many days from the visit date is worth a word;
 * the protocol JSON (cli.md, "qc") sets no visit window, so this is the
 * page's own, and the page says so. */
#define VISIT_WINDOW_DAYS 7
/* One visit's studies lie within this many days of each other. */
#define VISIT_SPREAD_DAYS 14
/* A file larger than this is not decoded for the burned-in preview (a
 * long ultrasound cine): another one is tried. */
#define MAX_THUMBNAIL_FILE_BYTES ((goffset) 64 << 20)

GDate *
rr_upload_view_parse_date (const char *s)
{
  int y, m, d;
  char tail;
  gsize n = s ? strlen (s) : 0;

  /* A visit date as typed (YYYY-MM-DD) or a DICOM DA (YYYYMMDD), whole:
   * "2026-2-3", "05/01/2026" and trailing text are not dates. */
  if (n == 10 && s[4] == '-' && s[7] == '-' &&
      strspn (s, "0123456789") == 4 && strspn (s + 5, "0123456789") == 2 &&
      strspn (s + 8, "0123456789") == 2)
    {
      if (sscanf (s, "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3)
        return NULL;
    }
  else if (n == 8 && strspn (s, "0123456789") == 8)
    {
      if (sscanf (s, "%4d%2d%2d", &y, &m, &d) != 3)
        return NULL;
    }
  else
    return NULL;
  if (y < 1 || m < 1 || m > 12 || d < 1 || d > 31 ||
      !g_date_valid_dmy ((GDateDay) d, (GDateMonth) m, (GDateYear) y))
    return NULL;
  return g_date_new_dmy ((GDateDay) d, (GDateMonth) m, (GDateYear) y);
}

char *
rr_upload_view_show_date (const GDate *d)
{
  char buf[16];
  g_date_strftime (buf, sizeof buf, "%Y-%m-%d", d);
  return g_strdup (buf);
}

gboolean
rr_upload_view_nominal_day (const char *label, int *day)
{
  g_autofree char *l = g_ascii_strdown (label ? label : "", -1);
  struct { const char *word; int days; } units[] = {
    { "day", 1 }, { "week", 7 }, { "month", 30 }, { "year", 365 },
  };

  g_strstrip (l);
  if (g_str_equal (l, "baseline") || g_str_equal (l, "screening"))
    {
      *day = 0;
      return TRUE;
    }
  /* "Week 8", "week8", "Day 57", "Month 6": the unit and a number, and
   * nothing after it (a label the page cannot read is not checked). */
  for (guint i = 0; i < G_N_ELEMENTS (units); i++)
    if (g_str_has_prefix (l, units[i].word))
      {
        const char *p = l + strlen (units[i].word);
        char *end = NULL;
        guint64 n;
        while (*p == ' ')
          p++;
        if (!g_ascii_isdigit (*p))
          return FALSE;
        n = g_ascii_strtoull (p, &end, 10);
        if (*end != '\0' || n > 100)
          return FALSE;
        *day = (int) n * units[i].days;
        return TRUE;
      }
  return FALSE;
}

gboolean
rr_upload_view_burned_in_risk (const RrQcInstance *inst)
{
  g_autofree char *bia = g_strstrip (g_strdup (inst->burned_in_annotation
                                               ? inst->burned_in_annotation : ""));
  const char *m = inst->modality ? inst->modality : "";

  if (g_ascii_strcasecmp (bia, "YES") == 0)
    return TRUE;
  /* The modalities that usually burn text in (issue 17), unless the file
   * says NO. */
  return g_ascii_strcasecmp (bia, "NO") != 0 &&
         (g_str_equal (m, "US") || g_str_equal (m, "SC") || g_str_equal (m, "XC") ||
          g_str_equal (m, "OT"));
}

GdkTexture *
rr_upload_view_burned_in_thumbnail (GPtrArray *files, char **which)
{
  for (guint i = 0; i < files->len; i++)
    {
      const char *path = files->pdata[i];
      g_autoptr (RrQcInstance) h = rr_dicom_header_read (path, NULL);
      g_autoptr (RrVolume) v = NULL;
      GStatBuf sb;
      double c, w;

      if (h == NULL || !h->is_image || !rr_upload_view_burned_in_risk (h) ||
          g_stat (path, &sb) != 0 || sb.st_size > MAX_THUMBNAIL_FILE_BYTES)
        continue;
      v = rr_dicom_load_path (path, NULL);
      if (v == NULL)
        continue;
      rr_volume_default_window (v, &c, &w);
      *which = g_path_get_basename (path);
      return rr_slice_texture (v, v->dims[2] / 2, c, w);
    }
  return NULL;
}

static void
warn (RrUploadView *self, const char *text, guint *n)
{
  rr_upload_view_add_row (self->warnings, text, "warning");
  (*n)++;
}

static void
block (RrUploadView *self, const char *text, guint *n)
{
  rr_upload_view_add_row (self->warnings, text, "error");
  (*n)++;
}

guint
rr_upload_view_check_dates (RrUploadView *self, GPtrArray *studies, GPtrArray *patients,
                            guint *n_errors)
{
  guint n = 0;
  const char *visit_text = gtk_editable_get_text (GTK_EDITABLE (self->visit));
  const char *label = gtk_editable_get_text (GTK_EDITABLE (self->label));
  int day = gtk_spin_button_get_value_as_int (self->day), nominal;
  g_autoptr (GDate) visit = rr_upload_view_parse_date (visit_text);
  g_autoptr (GDate) today = g_date_new ();
  GDate *first = NULL, *last = NULL;

  *n_errors = 0;
  g_date_set_time_t (today, time (NULL));
  /* A date the page cannot read checks nothing: it is corrected, not
   * confirmed. */
  if (*visit_text && visit == NULL)
    {
      g_autofree char *e = g_strdup_printf (_("The visit date “%s” is not a calendar date: "
                                              "write it as YYYY-MM-DD (for example 2026-03-01) "
                                              "and Find Studies again"), visit_text);
      block (self, e, n_errors);
    }
  else if (visit)
    {
      g_autofree char *w = g_strdup_printf (_("Visit window: the studies are checked to lie "
                                              "within %d days of the visit date (the trial’s "
                                              "protocol sets no window of its own)"),
                                            VISIT_WINDOW_DAYS);
      rr_upload_view_add_row (self->warnings, w, NULL);
    }
  if (rr_upload_view_nominal_day (label, &nominal) && ABS (day - nominal) > VISIT_WINDOW_DAYS)
    {
      g_autofree char *w = g_strdup_printf (_("The study day is %d, but %s is nominally day %d: "
                                              "is the timepoint or the day wrong?"), day, label,
                                            nominal);
      warn (self, w, &n);
    }
  for (guint i = 0; i < studies->len; i++)
    {
      RrUploadStudy *s = studies->pdata[i];
      g_autoptr (GDate) d = rr_upload_view_parse_date (s->date);
      if (d == NULL)
        {
          g_autofree char *w = g_strdup_printf (_("Study %u has no study date"), i + 1);
          warn (self, w, &n);
          continue;
        }
      if (g_date_compare (d, today) > 0)
        {
          g_autofree char *when = rr_upload_view_show_date (d);
          g_autofree char *w = g_strdup_printf (_("Study %u is dated %s, in the future"), i + 1,
                                                when);
          warn (self, w, &n);
        }
      if (visit && ABS (g_date_days_between (visit, d)) > VISIT_WINDOW_DAYS)
        {
          g_autofree char *when = rr_upload_view_show_date (d);
          g_autofree char *v = rr_upload_view_show_date (visit);
          g_autofree char *w = g_strdup_printf (
            _("Study %u is dated %s, %d days from the visit (%s): is it this visit's?"),
            i + 1, when, ABS (g_date_days_between (visit, d)), v);
          warn (self, w, &n);
        }
      if (first == NULL || g_date_compare (d, first) < 0)
        {
          g_clear_pointer (&first, g_date_free);
          first = g_date_copy (d);
        }
      if (last == NULL || g_date_compare (d, last) > 0)
        {
          g_clear_pointer (&last, g_date_free);
          last = g_date_copy (d);
        }
    }
  if (first && last && g_date_days_between (first, last) > VISIT_SPREAD_DAYS)
    {
      g_autofree char *a = rr_upload_view_show_date (first);
      g_autofree char *b = rr_upload_view_show_date (last);
      g_autofree char *w = g_strdup_printf (_("The studies span %s to %s: more than one visit?"),
                                            a, b);
      warn (self, w, &n);
    }
  /* De-identification writes the subject ID into every file: two
   * patients sent under one ID could not be told apart afterwards, by QC
   * or anyone. No confirmation lets it through. */
  if (patients->len > 1)
    {
      g_autofree char *e = g_strdup_printf (
        _("The studies belong to %u different patients: Upload is blocked. Choose a folder "
          "that holds only subject %s’s images, and upload each subject on its own"),
        patients->len, gtk_editable_get_text (GTK_EDITABLE (self->subject)));
      block (self, e, n_errors);
    }
  g_clear_pointer (&first, g_date_free);
  g_clear_pointer (&last, g_date_free);
  return n;
}
