/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * banger ssh-config install|uninstall [--file PATH]: adds (removes) the one
 * `Include` line that makes `ssh NAME.banger.internal` work, at the top of
 * ~/.ssh/config; nothing else in the file changes (doc/ssh.md).  The
 * included file's path comes from the engine (BangerClient's ssh_config);
 * uninstall without a reachable engine removes the line banger marked. */
#include "config.h"

#include <stdio.h>

#include "banger-cli-client.h"
#include "banger-ssh-config.h"

int
banger_builtin_ssh_config (int argc, char **argv, BangerCliGlobals *globals)
{
  g_autofree char *file = NULL;
  g_autofree char *include = NULL;
  GOptionEntry entries[] = {
    { "file", 0, 0, G_OPTION_ARG_FILENAME, &file,
      "The ssh_config to edit (default: ~/.ssh/config)", "PATH" },
    { "include", 0, 0, G_OPTION_ARG_FILENAME, &include,
      "The file to include (default: the engine's, asked from bangerd)", "PATH" },
    { NULL },
  };
  g_autoptr (GError) error = NULL;
  g_autofree char *command = NULL;
  gboolean install, changed = FALSE;
  int code;

  if (argc < 2 || g_str_equal (argv[1], "--help") || g_str_equal (argv[1], "-h"))
    {
      (argc < 2 ? g_printerr : g_print) (
          "Usage:\n  banger ssh-config install|uninstall [--file PATH] [--include PATH]\n\n"
          "Add (or remove) one 'Include' line at the top of ~/.ssh/config for the\n"
          "ssh_config banger keeps for its VMs, so that 'ssh NAME.banger.internal' works.\n"
          "Nothing else in the file is changed; running it twice changes nothing.\n");
      return argc < 2 ? BANGER_EXIT_USAGE : BANGER_EXIT_OK;
    }
  if (!g_str_equal (argv[1], "install") && !g_str_equal (argv[1], "uninstall"))
    {
      g_printerr ("banger ssh-config: unknown command '%s' (install or uninstall)\n", argv[1]);
      return BANGER_EXIT_USAGE;
    }
  install = g_str_equal (argv[1], "install");
  command = g_strdup_printf ("ssh-config %s", argv[1]);
  argc--;
  argv++;
  if (!banger_cli_parse (command, "", "Manage the Include line in ~/.ssh/config.", entries, 0,
                         &argc, &argv, &code))
    return code;
  if (file == NULL)
    file = g_build_filename (g_get_home_dir (), ".ssh", "config", NULL);
  else
    {
      g_autofree char *f = g_steal_pointer (&file);
      file = banger_cli_absolute (f);
    }
  if (include == NULL)
    {
      g_autoptr (BangerClient) client = banger_cli_client (globals);
      g_autoptr (GAsyncResult) res = NULL;
      g_autoptr (GError) local = NULL;

      banger_client_ssh_config_async (client, NULL, banger_cli_done, &res);
      include = banger_client_ssh_config_finish (client, banger_cli_wait (&res), NULL, &local);
      if (include == NULL && install)
        return banger_cli_fail (globals, command, local);
    }
  else
    {
      g_autofree char *i = g_steal_pointer (&include);
      include = banger_cli_absolute (i);
    }
  if (install ? !banger_ssh_config_install_include (file, include, &changed, &error)
              : !banger_ssh_config_uninstall_include (file, include, &changed, &error))
    return banger_cli_report_error (globals, command, error);
  if (!globals->json)
    g_print ("%s: %s\n", file,
             changed ? (install ? "Include line added" : "Include line removed")
                     : (install ? "already includes banger's ssh_config"
                                : "has no Include line of banger's"));
  return BANGER_EXIT_OK;
}
