/* rr-json-writer.h: a small streaming JSON writer that prints numbers in
 * their shortest exact form (52.5, -34.3, 0.7), for outputs people read. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _RrJsonWriter RrJsonWriter;

RrJsonWriter *rr_json_writer_new          (gboolean pretty);
void          rr_json_writer_free         (RrJsonWriter *w);
char         *rr_json_writer_steal        (RrJsonWriter *w);

void          rr_json_begin_object        (RrJsonWriter *w);
void          rr_json_end_object          (RrJsonWriter *w);
void          rr_json_begin_array         (RrJsonWriter *w);
void          rr_json_end_array           (RrJsonWriter *w);
void          rr_json_key                 (RrJsonWriter *w,
                                           const char   *key);
void          rr_json_string              (RrJsonWriter *w,
                                           const char   *value);
void          rr_json_int                 (RrJsonWriter *w,
                                           gint64        value);
void          rr_json_double              (RrJsonWriter *w,
                                           double        value);
/* An exact number of tenths, always with one decimal: 52.5, 30.0, -42.9. */
void          rr_json_tenths              (RrJsonWriter *w,
                                           gint64        tenths);
void          rr_json_bool                (RrJsonWriter *w,
                                           gboolean      value);
void          rr_json_null                (RrJsonWriter *w);
/* Inserts already-serialised JSON as a value. */
void          rr_json_raw                 (RrJsonWriter *w,
                                           const char   *json);

/* Shortest decimal text that reads back as exactly @value. */
char         *rr_json_format_double       (double value);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RrJsonWriter, rr_json_writer_free)

G_END_DECLS
