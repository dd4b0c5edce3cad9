/* rr-organs.c: the controlled organ list. Codes and meanings are the SNOMED
 * CT body structures of DICOM PS3.16 CID 7151 (anatomic structures) and
 * CID 7600 (lymph node anatomic sites). */
#include "rr-organs.h"

#include <glib/gi18n.h>
#include <string.h>

/* Paired organs are one entry (RECIST counts the lungs as one organ);
 * the side goes in the location text. */
static const RrOrgan organs[] = {
  { "adrenal gland", N_("Adrenal gland"), "SCT", "23451007", "Adrenal gland", FALSE },
  { "bladder", N_("Bladder"), "SCT", "89837001", "Bladder", FALSE },
  { "bone", N_("Bone"), "SCT", "272673000", "Bone", FALSE },
  { "brain", N_("Brain"), "SCT", "12738006", "Brain", FALSE },
  { "breast", N_("Breast"), "SCT", "76752008", "Breast", FALSE },
  { "cervix", N_("Cervix"), "SCT", "71252005", "Cervix", FALSE },
  { "chest wall", N_("Chest wall"), "SCT", "78904004", "Chest wall", FALSE },
  { "colon", N_("Colon"), "SCT", "71854001", "Colon", FALSE },
  { "esophagus", N_("Esophagus"), "SCT", "32849002", "Esophagus", FALSE },
  { "gallbladder", N_("Gallbladder"), "SCT", "28231008", "Gallbladder", FALSE },
  { "heart", N_("Heart"), "SCT", "80891009", "Heart", FALSE },
  { "kidney", N_("Kidney"), "SCT", "64033007", "Kidney", FALSE },
  { "liver", N_("Liver"), "SCT", "10200004", "Liver", FALSE },
  { "lung", N_("Lung"), "SCT", "39607008", "Lung", FALSE },
  { "mediastinum", N_("Mediastinum"), "SCT", "72410000", "Mediastinum", FALSE },
  { "muscle", N_("Muscle"), "SCT", "71616004", "Muscle", FALSE },
  { "omentum", N_("Omentum"), "SCT", "27398004", "Omentum", FALSE },
  { "ovary", N_("Ovary"), "SCT", "15497006", "Ovary", FALSE },
  { "pancreas", N_("Pancreas"), "SCT", "15776009", "Pancreas", FALSE },
  { "parotid gland", N_("Parotid gland"), "SCT", "45289007", "Parotid gland", FALSE },
  { "pericardium", N_("Pericardium"), "SCT", "76848001", "Pericardium", FALSE },
  { "peritoneum", N_("Peritoneum"), "SCT", "15425007", "Peritoneum", FALSE },
  { "pleura", N_("Pleura"), "SCT", "3120008", "Pleura", FALSE },
  { "prostate", N_("Prostate"), "SCT", "41216001", "Prostate", FALSE },
  { "rectum", N_("Rectum"), "SCT", "34402009", "Rectum", FALSE },
  { "retroperitoneum", N_("Retroperitoneum"), "SCT", "82849001", "Retroperitoneum", FALSE },
  { "skin", N_("Skin"), "SCT", "39937001", "Skin", FALSE },
  { "small intestine", N_("Small intestine"), "SCT", "30315005", "Small intestine", FALSE },
  { "spinal cord", N_("Spinal cord"), "SCT", "2748008", "Spinal cord", FALSE },
  { "spleen", N_("Spleen"), "SCT", "78961009", "Spleen", FALSE },
  { "stomach", N_("Stomach"), "SCT", "69695003", "Stomach", FALSE },
  { "subcutaneous tissue", N_("Subcutaneous tissue"), "SCT", "71966008", "Subcutaneous tissue",
    FALSE },
  { "testis", N_("Testis"), "SCT", "40689003", "Testis", FALSE },
  { "thyroid", N_("Thyroid"), "SCT", "69748006", "Thyroid", FALSE },
  { "uterus", N_("Uterus"), "SCT", "35039007", "Uterus", FALSE },
  /* Lymph node sites. */
  { "lymph node", N_("Lymph node"), "SCT", "59441001", "Lymph node", TRUE },
  { "cervical lymph node", N_("Cervical lymph node"), "SCT", "81105003", "cervical lymph node",
    TRUE },
  { "supraclavicular lymph node", N_("Supraclavicular lymph node"), "SCT", "76838003",
    "supraclavicular lymph node", TRUE },
  { "axillary lymph node", N_("Axillary lymph node"), "SCT", "68171009", "Axillary lymph node",
    TRUE },
  { "mediastinal lymph node", N_("Mediastinal lymph node"), "SCT", "62683002",
    "mediastinal lymph node", TRUE },
  { "hilar lymph node", N_("Hilar lymph node"), "SCT", "53074004", "hilar lymph node", TRUE },
  { "subcarinal lymph node", N_("Subcarinal lymph node"), "SCT", "28330007",
    "subcarinal lymph node", TRUE },
  { "abdominal lymph node", N_("Abdominal lymph node"), "SCT", "8568009",
    "abdominal lymph node", TRUE },
  { "mesenteric lymph node", N_("Mesenteric lymph node"), "SCT", "279795009",
    "lymph node of mesentery", TRUE },
  { "retroperitoneal lymph node", N_("Retroperitoneal lymph node"), "SCT", "91394001",
    "retroperitoneal lymph node", TRUE },
  { "iliac lymph node", N_("Iliac lymph node"), "SCT", "84219008", "iliac lymph node", TRUE },
  { "pelvic lymph node", N_("Pelvic lymph node"), "SCT", "54268001", "pelvic lymph node", TRUE },
  { "inguinal lymph node", N_("Inguinal lymph node"), "SCT", "8928004", "inguinal lymph node",
    TRUE },
};

guint
rr_organs_count (void)
{
  return G_N_ELEMENTS (organs);
}

const RrOrgan *
rr_organs_get (guint index)
{
  return index < G_N_ELEMENTS (organs) ? &organs[index] : NULL;
}

int
rr_organs_index (const char *name)
{
  if (name == NULL)
    return -1;
  for (guint i = 0; i < G_N_ELEMENTS (organs); i++)
    if (g_ascii_strcasecmp (name, organs[i].id) == 0 ||
        g_ascii_strcasecmp (name, organs[i].label) == 0 || strcmp (name, organs[i].code) == 0)
      return (int) i;
  return -1;
}

const RrOrgan *
rr_organs_lookup (const char *name)
{
  int i = rr_organs_index (name);
  return i < 0 ? NULL : &organs[i];
}
