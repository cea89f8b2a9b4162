/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * banger vm exec NAME -- CMD…: the command's stdout and stderr written to
 * ours as they arrive (banger_client_vm_exec_stream_async), and its exit
 * status as ours (doc/cli.md). */
#include "config.h"

#include <gio/gunixoutputstream.h>

#include "banger-cli-client.h"
#include "banger-cli-workspace.h"

int
banger_builtin_vm_exec (int argc, char **argv, BangerCliGlobals *globals)
{
  g_autoptr (BangerClient) client = NULL;
  g_autoptr (GAsyncResult) res = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GOutputStream) out = NULL;
  g_autoptr (GOutputStream) err = NULL;
  int status = 0;
  int dash;
  int code = 0;
  gboolean no_sync = FALSE;

  /* banger vm exec [--no-sync] NAME -- CMD… */
  if (argc >= 2 && (g_str_equal (argv[1], "--help") || g_str_equal (argv[1], "-h")))
    {
      g_print ("Usage:\n  banger vm exec [--no-sync] NAME -- COMMAND [ARG…]\n\n"
               "Run a command in a running VM over SSH; its output is relayed as it\n"
               "comes, and banger exits with its exit status.\n"
               "A workspace whose host side changed since the last sync is pushed first\n"
               "(said on stderr); --no-sync skips that.\n");
      return BANGER_EXIT_OK;
    }
  if (argc >= 2 && g_str_equal (argv[1], "--no-sync"))
    {
      no_sync = TRUE;
      argc--;
      argv++;
    }
  for (dash = 1; dash < argc && !g_str_equal (argv[dash], "--"); dash++)
    ;
  if (dash != 2 || dash + 1 >= argc)
    {
      g_printerr ("banger vm exec: usage: banger vm exec [--no-sync] NAME -- COMMAND [ARG…]\n");
      return BANGER_EXIT_USAGE;
    }
  out = g_unix_output_stream_new (STDOUT_FILENO, FALSE);
  err = g_unix_output_stream_new (STDERR_FILENO, FALSE);
  client = banger_cli_client (globals);
  if (!no_sync && !banger_cli_workspace_push_if_dirty (globals, client, argv[1], &code))
    return code;
  banger_client_vm_exec_stream_async (client, argv[1], (const char *const *)argv + dash + 1, out,
                                      err, NULL, banger_cli_done, &res);
  if (!banger_client_vm_exec_stream_finish (client, banger_cli_wait (&res), &status, &error))
    return banger_cli_fail (globals, "vm exec", error);
  return status;
}
