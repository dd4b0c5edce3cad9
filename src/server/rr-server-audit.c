/* rr-server-audit.c: the audit trail over HTTP and its verification. */
#include "rr-server-private.h"

/* ---- audit ---- */

void
get_audit (RrHttpRequest  *req,
           RrHttpAnswer *resp)
{
  const char *after = g_hash_table_lookup (req->query, "after");
  const char *limit = g_hash_table_lookup (req->query, "limit");
  gint64 a = 0, l = 1000;
  g_autoptr (RrJsonWriter) w = NULL;
  RrStmt *st;

  if ((after && !g_ascii_string_to_signed (after, 10, 0, G_MAXINT64, &a, NULL)) ||
      (limit && !g_ascii_string_to_signed (limit, 10, 1, 10000, &l, NULL)))
    return bad_request (resp, "after is a sequence number; limit is 1 to 10000");
  w = rr_json_writer_new (FALSE);
  st = rr_db_query (RR_Q_GET_AUDIT);
  rr_stmt_bind_int (st, 1, MAX (a, 0));
  rr_stmt_bind_int (st, 2, CLAMP (l, 1, 10000));
  rr_json_begin_array (w);
  while (st && rr_stmt_step (st) == RR_ROW)
    {
      rr_json_begin_object (w);
      rr_json_key (w, "seq");
      rr_json_int (w, rr_stmt_column_int (st, 0));
      rr_json_key (w, "at");
      rr_json_string (w, col_text (st, 1));
      rr_json_key (w, "user");
      rr_json_string (w, col_text (st, 2));
      rr_json_key (w, "action");
      rr_json_string (w, col_text (st, 3));
      rr_json_key (w, "object");
      rr_json_string (w, col_text (st, 4));
      rr_json_key (w, "details");
      {
        /* Stored as JSON by us; shown as text if it is not. */
        g_autoptr (JsonParser) p = json_parser_new ();
        if (rr_json_load (p, col_text (st, 5), -1, NULL))
          rr_json_raw (w, col_text (st, 5));
        else
          rr_json_string (w, col_text (st, 5));
      }
      rr_json_key (w, "prev_hash");
      rr_json_string (w, col_text (st, 6));
      rr_json_key (w, "hash");
      rr_json_string (w, col_text (st, 7));
      rr_json_end_object (w);
    }
  rr_stmt_finalize (st);
  rr_json_end_array (w);
  rr_respond_json (resp, 200, rr_json_writer_steal (w));
}

void
get_audit_verify (RrHttpRequest *req,
                  RrHttpAnswer  *resp)
{
  const char *reason = NULL;
  gint64 n = 0, broken = rr_audit_verify (&n, &reason);
  g_autoptr (RrJsonWriter) w = rr_json_writer_new (FALSE);
  rr_json_begin_object (w);
  rr_json_key (w, "ok");
  rr_json_bool (w, broken == 0);
  rr_json_key (w, "events");
  rr_json_int (w, n);
  if (broken)
    {
      rr_json_key (w, "broken_at");
      rr_json_int (w, broken);
      rr_json_key (w, "reason");
      rr_json_string (w, reason ? reason : "the chain does not hold");
    }
  rr_json_end_object (w);
  rr_respond_json (resp, 200, rr_json_writer_steal (w));
}
