/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * banger vm ssh NAME [-- ARGS…]: asks the engine how to reach the VM
 * (BangerClient's vm_ssh_info: address, user, banger's key, the VM's
 * known-hosts file) and execs OpenSSH's ssh with exactly that, host keys
 * checked strictly.  The CLI never reads the state dir itself
 * (doc/ssh.md). */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <unistd.h>

#include "banger-cli-client.h"
#include "banger-ssh-config.h"

/* $BANGER_SSH, else "ssh" from PATH. */
static const char *
ssh_program (void)
{
  const char *p = g_getenv ("BANGER_SSH");
  return p && *p ? p : "ssh";
}

static gboolean
add_option (GPtrArray *argv, const char *key, const char *value, GError **error)
{
  g_autofree char *q = banger_ssh_config_quote (value, error);

  if (q == NULL)
    return FALSE;
  g_ptr_array_add (argv, g_strdup ("-o"));
  g_ptr_array_add (argv, g_strdup_printf ("%s=%s", key, q));
  return TRUE;
}

int
banger_builtin_vm_ssh (int argc, char **argv, BangerCliGlobals *globals)
{
  g_autoptr (BangerClient) client = NULL;
  g_autoptr (GAsyncResult) res = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (BangerSshInfo) info = NULL;
  g_autoptr (GPtrArray) cmd = g_ptr_array_new_with_free_func (g_free);
  gboolean print = FALSE;
  const char *name = NULL;
  int i;

  /* banger vm ssh [--print-command] NAME [-- ARGS…] */
  for (i = 1; i < argc && !g_str_equal (argv[i], "--"); i++)
    {
      if (g_str_equal (argv[i], "--help") || g_str_equal (argv[i], "-h"))
        {
          g_print ("Usage:\n  banger vm ssh [--print-command] NAME [-- SSH-ARGS…]\n\n"
                   "Open an SSH session to a running VM: execs OpenSSH's ssh with banger's key\n"
                   "and the VM's known-hosts file (StrictHostKeyChecking=yes). Arguments after\n"
                   "'--' go to ssh after the destination (a remote command).\n\n"
                   "  --print-command  Print the ssh command line instead of running it\n");
          return BANGER_EXIT_OK;
        }
      if (g_str_equal (argv[i], "--print-command"))
        print = TRUE;
      else if (argv[i][0] == '-' || name != NULL)
        {
          g_printerr ("banger vm ssh: usage: banger vm ssh [--print-command] NAME [-- ARGS…]\n");
          return BANGER_EXIT_USAGE;
        }
      else
        name = argv[i];
    }
  if (name == NULL)
    {
      g_printerr ("banger vm ssh: usage: banger vm ssh [--print-command] NAME [-- ARGS…]\n");
      return BANGER_EXIT_USAGE;
    }
  client = banger_cli_client (globals);
  banger_client_vm_ssh_info_async (client, name, NULL, banger_cli_done, &res);
  info = banger_client_vm_ssh_info_finish (client, banger_cli_wait (&res), &error);
  if (info == NULL)
    return banger_cli_fail (globals, "vm ssh", error);

  g_ptr_array_add (cmd, g_strdup (ssh_program ()));
  g_ptr_array_add (cmd, g_strdup ("-i"));
  g_ptr_array_add (cmd, g_strdup (banger_ssh_info_get_identity_file (info)));
  g_ptr_array_add (cmd, g_strdup ("-p"));
  g_ptr_array_add (cmd, g_strdup_printf ("%u", banger_ssh_info_get_port (info)));
  g_ptr_array_add (cmd, g_strdup ("-l"));
  g_ptr_array_add (cmd, g_strdup (banger_ssh_info_get_user (info)));
  if (!add_option (cmd, "IdentitiesOnly", "yes", &error)
      || !add_option (cmd, "UserKnownHostsFile", banger_ssh_info_get_known_hosts_file (info),
                      &error)
      || !add_option (cmd, "GlobalKnownHostsFile", "/dev/null", &error)
      || !add_option (cmd, "StrictHostKeyChecking", "yes", &error)
      || !add_option (cmd, "CheckHostIP", "no", &error)
      || !add_option (cmd, "HostKeyAlias", banger_ssh_info_get_address (info), &error))
    return banger_cli_fail (globals, "vm ssh", error);
  g_ptr_array_add (cmd, g_strdup ("--"));
  g_ptr_array_add (cmd, g_strdup (banger_ssh_info_get_address (info)));
  for (i = i + 1; i < argc; i++)
    g_ptr_array_add (cmd, g_strdup (argv[i]));
  g_ptr_array_add (cmd, NULL);

  if (print)
    {
      for (guint k = 0; cmd->pdata[k] != NULL; k++)
        {
          g_autofree char *q = g_shell_quote (cmd->pdata[k]);
          g_print ("%s%s", k ? " " : "", q);
        }
      g_print ("\n");
      return BANGER_EXIT_OK;
    }
  fflush (stdout);
  fflush (stderr);
  execvp (cmd->pdata[0], (char **)cmd->pdata);
  {
    int errsv = errno;
    g_printerr ("banger vm ssh: cannot run '%s': %s%s\n", (const char *)cmd->pdata[0],
                g_strerror (errsv),
                errsv == ENOENT ? " (install OpenSSH's client: Debian's openssh-client)" : "");
  }
  return BANGER_EXIT_FAILED;
}
