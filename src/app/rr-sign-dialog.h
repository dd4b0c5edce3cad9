/* rr-sign-dialog.h: signing a read (21 CFR Part 11): the whole read, the
 * signer's full name, the time and the meaning of the signature, and the
 * password; the read then goes to the outbox and to the server. */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define RR_TYPE_SIGN_DIALOG (rr_sign_dialog_get_type ())
G_DECLARE_FINAL_TYPE (RrSignDialog, rr_sign_dialog, RR, SIGN_DIALOG, AdwWindow)

/* @read_json: the read with its responses, as it will be submitted. The
 * dialog saves it to the outbox of @db_path and delivers it on a worker;
 * "finished" (state: "delivered", "pending" or "refused", and a message)
 * says what became of it. */
RrSignDialog *rr_sign_dialog_new (GtkWindow  *parent,
                                  const char *db_path,
                                  gint64      account,
                                  const char *task_id,
                                  const char *ca_file,
                                  const char *read_json);

/* Makes the submission an adjudication: {"chosen", "rationale",
 * "signature"} (the read given to _new () is the chosen one, shown). Call
 * before the dialog is shown: @meaning replaces the shown meaning too. */
void          rr_sign_dialog_set_adjudication (RrSignDialog *self,
                                               const char   *chosen,
                                               const char   *rationale,
                                               const char   *meaning);

/* Makes the submission @body_json (a JSON object; the dialog adds its
 * "signature"), shown to the signer as @summary: a QC decision or a
 * query's answer. Call before the dialog is shown, with "null" given to
 * _new () as the read. */
void          rr_sign_dialog_set_submission   (RrSignDialog *self,
                                               const char   *body_json,
                                               const char   *summary,
                                               const char   *meaning);

G_END_DECLS
