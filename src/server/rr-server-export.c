/* rr-server-export.c: a trial's results as JSON or CSV with the readers'
 * agreement figures. */
#include "rr-server-private.h"
#include "rr-json.h"

#include <string.h>

/* ---- export ---- */

typedef struct
{
  char *subject, *label;
  gint64 day, timepoint;
  char *resp[2];           /* each reader's responses */
  char *user[2];
  char *adjudicated;       /* "Reader 1" / "Reader 2" / NULL */
  char *rationale;
  gboolean adjudication_open;
  char *final_source, *final_responses;
} ExportRow;

static void
export_row_free (gpointer data)
{
  ExportRow *r = data;
  g_free (r->subject);
  g_free (r->label);
  for (int i = 0; i < 2; i++)
    g_free (r->resp[i]), g_free (r->user[i]);
  g_free (r->adjudicated);
  g_free (r->rationale);
  g_free (r->final_source);
  g_free (r->final_responses);
  g_free (r);
}

/* A CSV field as RFC 4180 writes one: quoted, its quotes doubled, when it
 * holds a comma, a quote or a line break. A timepoint label is the
 * admin's text of up to 64 characters: "Week 8, repeat" shifted every
 * later column of its row, a line break made a row of its own. */
static char *
csv_field (const char *value)
{
  GString *s;
  if (value == NULL || strpbrk (value, ",\"\r\n") == NULL)
    return g_strdup (value ? value : "");
  s = g_string_new ("\"");
  for (const char *c = value; *c; c++)
    {
      if (*c == '"')
        g_string_append_c (s, '"');
      g_string_append_c (s, *c);
    }
  g_string_append_c (s, '"');
  return g_string_free (s, FALSE);
}

/* A stored document (a read's responses) written into the export through
 * @w, so it takes the export's indentation: the stored text is the
 * submission's, formatted as its writer chose. */
static void
write_stored (RrJsonWriter *w,
              const char   *text)
{
  g_autoptr (JsonParser) p = json_parser_new ();
  if (text == NULL || !rr_json_load (p, text, -1, NULL))
    {
      rr_json_null (w);
      return;
    }
  rr_json_write_node (w, json_parser_get_root (p));
}

/* A sum of the criteria output @o's @member (millimetres), as the CSV
 * writes it: empty when missing or null (a timepoint whose target was not
 * evaluated has no sum). */
static char *
sum_text (JsonObject *o,
          const char *member)
{
  JsonNode *n = o ? json_object_get_member (o, member) : NULL;
  if (n == NULL || !JSON_NODE_HOLDS_VALUE (n) ||
      (json_node_get_value_type (n) != G_TYPE_DOUBLE &&
       json_node_get_value_type (n) != G_TYPE_INT64))
    return g_strdup ("");
  return rr_json_format_double (json_node_get_double (n));
}

/* The CSV's three sums of a read's responses: the baseline sum, and the
 * nadir and the sum at the read's last timepoint (the baseline's own sum
 * at a baseline, which has no nadir before it). ",,," when none. */
static char *
sums_csv (const char *responses)
{
  g_autoptr (JsonParser) p = json_parser_new ();
  g_autofree char *baseline = NULL, *nadir = NULL, *current = NULL;
  JsonObject *o, *last = NULL;
  JsonArray *tps;

  if (responses == NULL || !rr_json_load (p, responses, -1, NULL) ||
      !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (p)))
    return g_strdup (",,");
  o = json_node_get_object (json_parser_get_root (p));
  baseline = sum_text (rr_json_get_object (o, "baseline"), "sum_mm");
  tps = rr_json_get_array (o, "timepoints");
  if (tps && json_array_get_length (tps) > 0)
    last = rr_json_get_element (tps, json_array_get_length (tps) - 1);
  nadir = last ? sum_text (last, "nadir_mm") : g_strdup ("");
  current = last ? sum_text (last, "sum_mm") : g_strdup (baseline);
  return g_strdup_printf ("%s,%s,%s", baseline, nadir, current);
}

void
get_export (RrHttpRequest *req,
            RrHttpAnswer  *resp)
{
  const char *trial = req->n_groups > 0 ? req->groups[0] : NULL;
  const char *format = g_hash_table_lookup (req->query, "format");
  g_autoptr (GPtrArray) rows = g_ptr_array_new_with_free_func (export_row_free);
  RrStmt *st;
  /* "adjudicated" counts the adjudications signed, "adjudications_open"
   * those waiting for their adjudicator; the rate is the share of the
   * cases read twice that went to adjudication, signed or not (a later
   * timepoint's adjudication does not settle an earlier one's:
   * server-api.md has one per timepoint). */
  guint twice = 0, adjudicated = 0, adjudications_open = 0, same_bor = 0;
  g_autoptr (GHashTable) cats = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr (GHashTable) m1 = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr (GHashTable) m2 = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  double kappa = NAN, po = NAN, pe = 0;
  /* Why kappa is null, when it is. */
  const char *kappa_undefined = "no case was read twice";

  format = format ? format : "json";
  if (!g_str_equal (format, "json") && !g_str_equal (format, "csv") && !g_str_equal (format, "sr"))
    return bad_request (resp, "format is csv, json or sr");
  if (query_int (RR_Q_TRIAL_EXISTS, trial, NULL) < 0)
    return not_found (resp);
  if (g_str_equal (format, "sr"))
    return get_export_sr (req, resp, trial);
  st = rr_db_query (RR_Q_EXPORT_TIMEPOINTS);
  rr_stmt_bind_text (st, 1, trial);
  while (st && rr_stmt_step (st) == RR_ROW)
    {
      ExportRow *r = g_new0 (ExportRow, 1);
      RrStmt *q;
      r->timepoint = rr_stmt_column_int (st, 0);
      r->subject = g_strdup (col_text (st, 1));
      r->label = g_strdup (col_text (st, 2));
      r->day = rr_stmt_column_int (st, 3);
      for (int k = 0; k < 2; k++)
        {
          read_of_slot (trial, r->subject, r->timepoint, k + 1, NULL, &r->resp[k], NULL);
          q = rr_db_query (RR_Q_EXPORT_SUBJECT_READERS);
          rr_stmt_bind_text (q, 1, trial);
          rr_stmt_bind_text (q, 2, r->subject);
          rr_stmt_bind_int (q, 3, k + 1);
          if (rr_stmt_step (q) == RR_ROW)
            r->user[k] = g_strdup (col_text (q, 0));
          rr_stmt_finalize (q);
        }
      q = rr_db_query (RR_Q_EXPORT_ADJUDICATION);
      rr_stmt_bind_int (q, 1, r->timepoint);
      /* A cancelled task (its adjudicator left) is no adjudication: the
       * one that took its place is. */
      while (!r->adjudicated && !r->adjudication_open && rr_stmt_step (q) == RR_ROW)
        {
          g_autoptr (JsonParser) p = json_parser_new ();
          if (g_str_equal (col_text (q, 0), "open"))
            r->adjudication_open = TRUE;
          else if (g_str_equal (col_text (q, 0), "submitted") &&
                   rr_json_load (p, col_text (q, 1), -1, NULL))
            {
              JsonObject *b = json_node_get_object (json_parser_get_root (p));
              r->adjudicated = g_strdup (json_object_get_string_member_with_default (b, "chosen", ""));
              r->rationale = g_strdup (json_object_get_string_member_with_default (b, "rationale", ""));
            }
        }
      adjudicated += r->adjudicated != NULL;
      adjudications_open += r->adjudication_open;
      rr_stmt_finalize (q);
      q = rr_db_query (RR_Q_EXPORT_FINAL);
      rr_stmt_bind_int (q, 1, r->timepoint);
      if (rr_stmt_step (q) == RR_ROW)
        {
          r->final_source = g_strdup (col_text (q, 0));
          r->final_responses = g_strdup (col_text (q, 1));
        }
      rr_stmt_finalize (q);
      if (r->resp[0] && r->resp[1])
        {
          g_autofree char *b1 = NULL, *b2 = NULL;
          outcome (r->resp[0], &b1, NULL);
          outcome (r->resp[1], &b2, NULL);
          twice++;
          same_bor += g_strcmp0 (b1, b2) == 0;
          g_hash_table_add (cats, g_strdup (b1));
          g_hash_table_add (cats, g_strdup (b2));
          g_hash_table_insert (m1, g_strdup (b1),
                               GUINT_TO_POINTER (GPOINTER_TO_UINT (g_hash_table_lookup (m1, b1)) + 1));
          g_hash_table_insert (m2, g_strdup (b2),
                               GUINT_TO_POINTER (GPOINTER_TO_UINT (g_hash_table_lookup (m2, b2)) + 1));
        }
      g_ptr_array_add (rows, r);
    }
  rr_stmt_finalize (st);
  /* Cohen's kappa on best overall response over the cases read twice. */
  if (twice > 0)
    {
      GHashTableIter it;
      gpointer c;
      po = (double) same_bor / twice;
      g_hash_table_iter_init (&it, cats);
      while (g_hash_table_iter_next (&it, &c, NULL))
        pe += (GPOINTER_TO_UINT (g_hash_table_lookup (m1, c)) / (double) twice) *
              (GPOINTER_TO_UINT (g_hash_table_lookup (m2, c)) / (double) twice);
      /* Expected agreement 1 (both readers gave every case the same one
       * response, all NE say): kappa is 0/0, undefined, not perfect
       * agreement beyond chance. */
      if (pe < 1 - 1e-12)
        {
          kappa = (po - pe) / (1 - pe);
          kappa_undefined = NULL;
        }
      else
        kappa_undefined = "undefined: both readers gave every case read twice the same best "
                          "overall response, so the agreement expected by chance is 1";
    }

  if (g_str_equal (format, "csv"))
    {
      GString *s = g_string_new ("subject,timepoint,day,reader1,reader1_overall,reader1_bor,"
                                 "reader2,reader2_overall,reader2_bor,adjudication,chosen,"
                                 "final_source,final_overall,final_bor,"
                                 "reader1_baseline_mm,reader1_nadir_mm,reader1_sum_mm,"
                                 "reader2_baseline_mm,reader2_nadir_mm,reader2_sum_mm,"
                                 "final_baseline_mm,final_nadir_mm,final_sum_mm\n");
      for (guint i = 0; i < rows->len; i++)
        {
          ExportRow *r = rows->pdata[i];
          g_autofree char *o1 = overall_at_last (r->resp[0]), *o2 = overall_at_last (r->resp[1]);
          g_autofree char *fo = overall_at_last (r->final_responses);
          g_autofree char *b1 = NULL, *b2 = NULL, *fb = NULL;
          g_autofree char *label = csv_field (r->label);
          g_autofree char *s1 = r->resp[0] ? sums_csv (r->resp[0]) : g_strdup (",,");
          g_autofree char *s2 = r->resp[1] ? sums_csv (r->resp[1]) : g_strdup (",,");
          g_autofree char *sf = r->final_responses ? sums_csv (r->final_responses)
                                                   : g_strdup (",,");
          outcome (r->resp[0], &b1, NULL);
          outcome (r->resp[1], &b2, NULL);
          outcome (r->final_responses, &fb, NULL);
          g_string_append_printf (s, "%s,%s,%" G_GINT64_FORMAT ",%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,"
                                  "%s,%s,%s\n",
                                  r->subject, label, r->day, r->user[0] ? r->user[0] : "",
                                  o1, b1 ? b1 : "", r->user[1] ? r->user[1] : "", o2, b2 ? b2 : "",
                                  r->adjudicated ? "done" : r->adjudication_open ? "open" : "",
                                  r->adjudicated ? r->adjudicated : "",
                                  r->final_source ? r->final_source : "", fo, fb ? fb : "",
                                  s1, s2, sf);
        }
      g_string_append_printf (s, "# cases_read_twice,%u\n# adjudicated,%u\n"
                              "# adjudications_open,%u\n", twice, adjudicated, adjudications_open);
      g_string_append_printf (s, "# adjudication_rate,%.4f\n# bor_agreement,%.4f\n",
                              twice ? (double) (adjudicated + adjudications_open) / twice : 0,
                              isnan (po) ? 0 : po);
      /* An undefined kappa is an empty value and its reason, never a
       * number a reader of the CSV would take for one. */
      if (kappa_undefined)
        {
          g_autofree char *why = csv_field (kappa_undefined);
          g_string_append_printf (s, "# kappa_bor,\n# kappa_bor_undefined,%s\n", why);
        }
      else
        g_string_append_printf (s, "# kappa_bor,%.4f\n", kappa);
      rr_response_clear (resp);
      resp->status = 200;
      resp->content_type = g_strdup ("text/csv");
      resp->body = g_bytes_new_take (s->str, s->len);
      g_string_free (s, FALSE);
      return;
    }
  {
    g_autoptr (RrJsonWriter) w = rr_json_writer_new (TRUE);
    rr_json_begin_object (w);
    rr_json_key (w, "trial");
    rr_json_string (w, trial);
    rr_json_key (w, "rows");
    rr_json_begin_array (w);
    for (guint i = 0; i < rows->len; i++)
      {
        ExportRow *r = rows->pdata[i];
        rr_json_begin_object (w);
        rr_json_key (w, "subject");
        rr_json_string (w, r->subject);
        rr_json_key (w, "timepoint");
        rr_json_string (w, r->label);
        rr_json_key (w, "day");
        rr_json_int (w, r->day);
        rr_json_key (w, "reads");
        rr_json_begin_array (w);
        for (int k = 0; k < 2; k++)
          if (r->resp[k])
            {
              rr_json_begin_object (w);
              rr_json_key (w, "reader");
              rr_json_string (w, k ? "Reader 2" : "Reader 1");
              rr_json_key (w, "user");
              rr_json_string (w, r->user[k] ? r->user[k] : "");
              rr_json_key (w, "responses");
              write_stored (w, r->resp[k]);
              rr_json_end_object (w);
            }
        rr_json_end_array (w);
        rr_json_key (w, "adjudication");
        if (r->adjudicated || r->adjudication_open)
          {
            rr_json_begin_object (w);
            rr_json_key (w, "status");
            rr_json_string (w, r->adjudicated ? "done" : "open");
            rr_json_key (w, "chosen");
            if (r->adjudicated)
              rr_json_string (w, r->adjudicated);
            else
              rr_json_null (w);
            rr_json_key (w, "rationale");
            if (r->rationale)
              rr_json_string (w, r->rationale);
            else
              rr_json_null (w);
            rr_json_end_object (w);
          }
        else
          rr_json_null (w);
        rr_json_key (w, "final");
        if (r->final_source)
          {
            rr_json_begin_object (w);
            rr_json_key (w, "source");
            rr_json_string (w, r->final_source);
            rr_json_key (w, "responses");
            write_stored (w, r->final_responses);
            rr_json_end_object (w);
          }
        else
          rr_json_null (w);
        rr_json_end_object (w);
      }
    rr_json_end_array (w);
    rr_json_key (w, "agreement");
    rr_json_begin_object (w);
    rr_json_key (w, "cases_read_twice");
    rr_json_int (w, twice);
    rr_json_key (w, "adjudicated");
    rr_json_int (w, adjudicated);
    rr_json_key (w, "adjudications_open");
    rr_json_int (w, adjudications_open);
    rr_json_key (w, "adjudication_rate");
    if (twice)
      rr_json_double (w, round ((double) (adjudicated + adjudications_open) / twice * 1e4) / 1e4);
    else
      rr_json_null (w);
    rr_json_key (w, "bor_agreement");
    if (!isnan (po))
      rr_json_double (w, round (po * 1e4) / 1e4);
    else
      rr_json_null (w);
    rr_json_key (w, "kappa_bor");
    if (!kappa_undefined)
      rr_json_double (w, round (kappa * 1e4) / 1e4);
    else
      rr_json_null (w);
    if (kappa_undefined)
      {
        rr_json_key (w, "kappa_bor_undefined");
        rr_json_string (w, kappa_undefined);
      }
    rr_json_end_object (w);
    rr_json_end_object (w);
    rr_respond_json (resp, 200, rr_json_writer_steal (w));
  }
}
