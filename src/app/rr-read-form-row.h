/* rr-read-form-row.h: the building blocks of a lesion's row in the read
 * form. The form's column has a fixed width (300 px): every piece of a row
 * ellipsizes or wraps, so a long organ name or a status never widens the
 * column nor rescales the image beside it. */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

/* A flat button with short words on it; @accessible, the whole sentence,
 * is its tooltip and accessible name. The lesion's id is kept as "lesion". */
GtkWidget *rr_read_form_row_button (const char *label,
                                    const char *accessible,
                                    const char *lesion);

/* The organ choice of @lesion: a menu button over the controlled list,
 * which a search narrows (Enter takes the organ whose name begins with
 * it), showing @label; choosing activates "form.organ" with target
 * "lesion\torgan". */
GtkWidget *rr_read_form_row_organ_button (const char *lesion,
                                          const char *label);

/* Shows @label on an organ button, ellipsized where the column is too
 * narrow for it; the whole name in its tooltip and accessible description. */
void rr_read_form_row_set_organ (GtkMenuButton *button,
                                 const char    *label);

/* A read-only line of a row (a value, a prior's value): wraps, so its
 * width follows the column's, never the other way round. */
GtkWidget *rr_read_form_row_line (const char *text);

/* A drop-down over the strings of @states whose shown item ellipsizes
 * (the list it opens shows each whole); it takes its own reference. */
GtkWidget *rr_read_form_row_drop_down (GListModel *states);

/* Makes every control of a row's @box follow @locked, except the buttons
 * marked "go-to" in the box marked "actions". */
void rr_read_form_row_set_locked (GtkWidget *box,
                                  gboolean   locked);

G_END_DECLS
