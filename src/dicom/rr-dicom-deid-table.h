/* rr-dicom-deid-table.h: the rows of PS3.15 Table E.1-1 that the
 * de-identifier applies (rr-dicom-deid-table.c), kept as data. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct
{
  guint32 tag;          /* (group << 16) | element */
  guint32 mask;         /* 0xFFFFFFFF, or fewer bits for 50xx/60xx groups */
  const char *basic;    /* Basic Profile action: "X", "Z", "X/Z/D", "U"... */
  const char *rpc;      /* Retain Patient Characteristics Option, or NULL */
  const char *rlmd;     /* Retain Longitudinal Temporal Information with
                           Modified Dates Option, or NULL */
  const char *cd;       /* Clean Descriptors Option, or NULL */
  const char *name;
} RrDeidRule;

extern const RrDeidRule rr_deid_rules[];
extern const gsize rr_deid_n_rules;
extern const RrDeidRule rr_deid_local_rules[];
extern const gsize rr_deid_n_local_rules;

/* The index in rr_deid_rules of the row that names @tag (the repeating
 * groups' masked rows included), or -1. The de-identifier and the
 * server's upload check look rows up the same way. */
gssize rr_deid_rule_index       (guint32 tag);
/* The same in rr_deid_local_rules. */
gssize rr_deid_local_rule_index (guint32 tag);

G_END_DECLS
