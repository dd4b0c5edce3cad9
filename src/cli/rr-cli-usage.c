/* rr-cli-usage.c: the usage error every command prints. Built into both
 * readroom-cli and its command module, since the module cannot see the
 * executable's symbols (it is opened with local binding). */
#include "rr-cli.h"

#include <string.h>

int
rr_cli_usage_error (const char *command,
                    const char *message)
{
  g_printerr ("readroom-cli%s%s: %s\n", command ? " " : "", command ? command : "", message);
  g_printerr ("Try 'readroom-cli %s%s--help'.\n", command ? command : "", command ? " " : "");
  return RR_EXIT_USAGE;
}

char *
rr_cli_path_message (const char *path,
                     const char *message)
{
  if (path == NULL || *path == '\0' || (message && strstr (message, path) != NULL))
    return g_strdup (message ? message : "");
  return g_strdup_printf ("%s: %s", path, message ? message : "cannot be read");
}
