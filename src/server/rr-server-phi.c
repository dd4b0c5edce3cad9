/* rr-server-phi.c: is an uploaded file de-identified? Checked against
 * PS3.15 Table E.1-1, the same table readroom-cli deid applies
 * (src/dicom/rr-dicom-deid-table.c), on the tags Orthanc already parsed
 * for the upload ("Full" JSON: tags by number, each with its type). */
#include "rr-server-private.h"
#include "rr-dicom-deid-table.h"

/* Beyond this many attributes the answer names no more: more than a file
 * that went through no de-identification usually holds, and a crafted
 * file cannot make the answer huge. */
#define MAX_FOUND 256
/* Sequences nest; a crafted file may nest them deeper than any IOD. */
#define MAX_DEPTH 16

typedef struct
{
  gboolean rpc, rlmd, cd;     /* options the file declares it applied */
  GPtrArray *found;           /* tags, "gggg,eeee" as Orthanc spells them */
} Phi;

typedef enum
{
  ACTION_KEEP,                /* K, C, U, or no row */
  ACTION_REMOVE,              /* X */
  ACTION_EMPTY,               /* Z, X/Z: empty, or a dummy */
  ACTION_DUMMY,               /* any alternative with D */
} Action;

/* The members of a "Full" value: {"Type": ..., "Value": ...}. */
static const char *
type_of (JsonNode *n)
{
  if (n == NULL || !JSON_NODE_HOLDS_OBJECT (n))
    return "";
  return json_object_get_string_member_with_default (json_node_get_object (n), "Type", "");
}

static JsonNode *
value_of (JsonNode *n)
{
  if (n == NULL || !JSON_NODE_HOLDS_OBJECT (n))
    return NULL;
  return json_object_get_member (json_node_get_object (n), "Value");
}

static const char *
string_of (JsonNode *n)
{
  JsonNode *v = value_of (n);
  if (g_strcmp0 (type_of (n), "String") != 0 || v == NULL ||
      json_node_get_value_type (v) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (v);
}

static JsonArray *
items_of (JsonNode *n)
{
  JsonNode *v = value_of (n);
  if (g_strcmp0 (type_of (n), "Sequence") != 0 || v == NULL || !JSON_NODE_HOLDS_ARRAY (v))
    return NULL;
  return json_node_get_array (v);
}

static gboolean
has_action (const char *s, char a)
{
  return s != NULL && strchr (s, a) != NULL;
}

/* What the profile leaves of @r, with the options the file declares: an
 * option that names the attribute keeps it (K) or keeps it cleaned (C),
 * which the server cannot tell from the original, so either passes. */
static Action
action_of (const Phi *phi, const RrDeidRule *r)
{
  if ((phi->rpc && r->rpc) || (phi->rlmd && r->rlmd) || (phi->cd && r->cd))
    return ACTION_KEEP;
  if (has_action (r->basic, 'U') || has_action (r->basic, 'K') || has_action (r->basic, 'C'))
    return ACTION_KEEP;
  if (has_action (r->basic, 'D'))
    return ACTION_DUMMY;
  if (has_action (r->basic, 'Z'))
    return ACTION_EMPTY;
  return has_action (r->basic, 'X') ? ACTION_REMOVE : ACTION_KEEP;
}

/* The dummies readroom-cli deid writes (docs/deid.md): whatever else
 * stands in an attribute the profile replaces by a dummy is the value it
 * had, or one the server cannot tell from it. */
static gboolean
is_dummy (const char *s)
{
  static const char *const dummies[] = { "", "REMOVED", "0", "19000101", "000000",
                                         "19000101000000", "000D" };
  g_autofree char *t = g_strstrip (g_strdup (s));
  for (gsize i = 0; i < G_N_ELEMENTS (dummies); i++)
    if (g_str_equal (t, dummies[i]))
      return TRUE;
  return FALSE;
}

static void
add (Phi *phi, const char *tag)
{
  if (phi->found->len < MAX_FOUND &&
      !g_ptr_array_find_with_equal_func (phi->found, tag, g_str_equal, NULL))
    g_ptr_array_add (phi->found, g_strdup (tag));
}

/* Does @n hold a value, for an attribute the profile removes or empties?
 * "Null" is an empty value or binary data Orthanc does not show; for an
 * attribute that must be removed (@removed) even that is too much. */
static gboolean
carries_value (JsonNode *n, gboolean removed)
{
  const char *type = type_of (n);
  const char *s = string_of (n);
  JsonArray *items = items_of (n);
  if (s != NULL)
    return *s != '\0';
  if (items != NULL)
    return json_array_get_length (items) > 0;
  if (g_str_equal (type, "Null"))
    return removed;
  /* "TooLong", "Binary", or anything this check does not know. */
  return TRUE;
}

/* Trailing component separators say nothing: "S-001^^" is "S-001". */
static char *
name_without_trailing (const char *s)
{
  char *t = g_strdup (s);
  gsize len = strlen (t);
  while (len > 0 && (t[len - 1] == '^' || t[len - 1] == ' '))
    t[--len] = '\0';
  return g_strstrip (t);
}

static void walk (Phi *phi, JsonObject *tags, const char *dummy_seq, guint depth);

static void
walk_items (Phi *phi, JsonNode *n, const char *dummy_seq, guint depth)
{
  JsonArray *items = items_of (n);
  for (guint i = 0; items && i < json_array_get_length (items); i++)
    {
      JsonNode *item = json_array_get_element (items, i);
      if (JSON_NODE_HOLDS_OBJECT (item))
        walk (phi, json_node_get_object (item), dummy_seq, depth + 1);
    }
}

/* Walks the attributes of @tags. Inside a sequence the profile replaces
 * by a dummy (@dummy_seq, its tag), every text value is a dummy too: an
 * institution's code is the institution (docs/deid.md); a value that is
 * not names the sequence. */
static void
walk (Phi *phi, JsonObject *tags, const char *dummy_seq, guint depth)
{
  g_autoptr (GList) members = json_object_get_members (tags);

  if (depth > MAX_DEPTH)
    return;
  for (GList *l = members; l && phi->found->len < MAX_FOUND; l = l->next)
    {
      const char *key = l->data;
      JsonNode *n = json_object_get_member (tags, key);
      guint32 group, element, tag;
      gssize row;
      Action action = ACTION_KEEP;

      if (strlen (key) != 9 || key[4] != ',')
        continue;
      group = (guint32) g_ascii_strtoull (key, NULL, 16);
      element = (guint32) g_ascii_strtoull (key + 5, NULL, 16);
      tag = (group << 16) | element;
      /* Private attributes go whole (their items too), and so does what
       * the data dictionary does not know: neither can be judged. */
      if ((group & 1) || (n && JSON_NODE_HOLDS_OBJECT (n) &&
                          g_strcmp0 (json_object_get_string_member_with_default (
                                       json_node_get_object (n), "Name", NULL),
                                     "Unknown Tag & Data") == 0))
        {
          add (phi, key);
          continue;
        }
      /* Patient's Name and ID hold the subject ID (deid writes it into
       * both); a name that is not the ID is the patient's. */
      if (tag == 0x00100010 || tag == 0x00100020)
        {
          const char *name = string_of (json_object_get_member (tags, "0010,0010"));
          const char *id = string_of (json_object_get_member (tags, "0010,0020"));
          g_autofree char *bare = name ? name_without_trailing (name) : NULL;
          g_autofree char *bare_id = id ? g_strstrip (g_strdup (id)) : NULL;
          if (tag == 0x00100010 && bare && *bare && g_strcmp0 (bare, bare_id) != 0)
            add (phi, key);
          else if (tag == 0x00100010 && bare == NULL && carries_value (n, FALSE))
            add (phi, key);
          continue;
        }
      /* The de-identification attributes are the only ones of group 0012
       * to remain (the local rule removes the clinical trial ones). */
      if (tag == 0x00120062 || tag == 0x00120063 || tag == 0x00120064)
        continue;
      row = rr_deid_rule_index (tag);
      if (row >= 0)
        action = action_of (phi, &rr_deid_rules[row]);
      else if ((row = rr_deid_local_rule_index (tag)) >= 0)
        action = action_of (phi, &rr_deid_local_rules[row]);
      switch (action)
        {
        case ACTION_REMOVE:
          if (carries_value (n, TRUE))
            add (phi, key);
          break;
        case ACTION_EMPTY:
          /* Z allows "a non-zero length value that may be a dummy"
           * (PS3.15 E.1-1's legend): empty or a dummy passes. */
          if (string_of (n) ? !is_dummy (string_of (n)) : carries_value (n, FALSE))
            add (phi, key);
          break;
        case ACTION_DUMMY:
          if (items_of (n))
            walk_items (phi, n, dummy_seq ? dummy_seq : key, depth);
          else if (string_of (n) ? !is_dummy (string_of (n))
                                 : g_str_equal (type_of (n), "TooLong"))
            add (phi, key);
          break;
        case ACTION_KEEP:
        default:
          /* UIDs stay (mapped), whatever the sequence. */
          if (dummy_seq && string_of (n) && !is_dummy (string_of (n)) &&
              !rr_access_is_uid (string_of (n)))
            add (phi, dummy_seq);
          walk_items (phi, n, dummy_seq, depth);
          break;
        }
    }
}

/* Which options the De-identification Method Code Sequence declares. */
static void
declared_options (Phi *phi, JsonObject *tags)
{
  JsonArray *items = items_of (json_object_get_member (tags, "0012,0064"));
  for (guint i = 0; items && i < json_array_get_length (items); i++)
    {
      JsonNode *item = json_array_get_element (items, i);
      const char *code;
      if (!JSON_NODE_HOLDS_OBJECT (item))
        continue;
      code = string_of (json_object_get_member (json_node_get_object (item), "0008,0100"));
      if (code == NULL)
        continue;
      if (g_str_equal (code, "113105"))
        phi->cd = TRUE;
      else if (g_str_equal (code, "113107"))
        phi->rlmd = TRUE;
      else if (g_str_equal (code, "113108"))
        phi->rpc = TRUE;
    }
}

char *
rr_phi_found (JsonObject *tags)
{
  g_autoptr (GPtrArray) found = g_ptr_array_new_with_free_func (g_free);
  Phi phi = { FALSE, FALSE, FALSE, found };
  const char *removed = string_of (json_object_get_member (tags, "0012,0062"));
  g_autofree char *removed_bare = removed ? g_strstrip (g_strdup (removed)) : NULL;
  g_autoptr (RrJsonWriter) w = NULL;

  if (g_strcmp0 (removed_bare, "YES") != 0)
    add (&phi, "0012,0062");
  declared_options (&phi, tags);
  walk (&phi, tags, NULL, 0);
  if (found->len == 0)
    return NULL;
  w = rr_json_writer_new (FALSE);
  rr_json_begin_array (w);
  for (guint i = 0; i < found->len; i++)
    rr_json_string (w, found->pdata[i]);
  rr_json_end_array (w);
  return rr_json_writer_steal (w);
}
