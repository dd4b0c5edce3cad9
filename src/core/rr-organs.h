/* rr-organs.h: the controlled list of organs and lymph node sites a lesion
 * can be in, each with its SNOMED CT code for the structured report. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct
{
  const char *id;       /* what the read JSON's "organ" holds: "liver" */
  const char *label;    /* for people, untranslated (mark with N_; use _()) */
  const char *scheme;   /* the coding scheme designator: "SCT" */
  const char *code;     /* the SNOMED CT concept id */
  const char *meaning;  /* the code meaning, as DICOM CIDs 7151 and 7600 give it */
  gboolean nodal;       /* a lymph node site: the short axis counts */
} RrOrgan;

/* The list, in the order people choose from (organs by name, then lymph
 * node sites). */
guint          rr_organs_count   (void);
const RrOrgan *rr_organs_get     (guint index);
/* By id, label or code, ignoring case; NULL when not in the list. */
const RrOrgan *rr_organs_lookup  (const char *name);
/* The index of @organ's entry, or -1. */
int            rr_organs_index   (const char *name);

G_END_DECLS
