/* rr-cli.h: the subcommands of readroom-cli and their shared helpers.
 * Exit codes: 0 success, 1 a problem with the input, 2 bad usage. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define RR_EXIT_OK    0
#define RR_EXIT_INPUT 1
#define RR_EXIT_USAGE 2

int  rr_cli_info  (int argc, char **argv);
int  rr_cli_bench (int argc, char **argv);
int  rr_cli_criteria (int argc, char **argv);
int  rr_cli_deid  (int argc, char **argv);
int  rr_cli_render (int argc, char **argv);
int  rr_cli_admin (int argc, char **argv);
int  rr_cli_sync (int argc, char **argv);
int  rr_cli_upload (int argc, char **argv);
int  rr_cli_qc (int argc, char **argv);
int  rr_cli_bench_qc (const char *path,
                      const char *protocol_path,
                      gboolean    json,
                      guint       threads);
int  rr_cli_submit (int argc, char **argv);
int  rr_cli_sr (int argc, char **argv);
int  rr_cli_report (int argc, char **argv);

int  rr_cli_usage_error (const char *command,
                         const char *message);
/* "@path: @message", or @message when it names @path already (or there is
 * no path): every input problem names its file (cli.md). */
char *rr_cli_path_message (const char *path,
                           const char *message);

G_END_DECLS
