/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The direct launcher: spawn the VMM ourselves, with the pidfd the kernel
 * hands out at clone time (banger_spawn_vmm). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "banger-error-private.h"
#include "banger-spawn.h"
#include "banger-vmm.h"

static gboolean
direct_spawn (BangerVmmLauncher *launcher, const char *vm_id, const char *const *argv,
              const char *log_path, GPid *out_pid, int *out_pidfd, GError **error)
{
  g_auto (GStrv) env = g_get_environ ();
  g_autofree char *binary = NULL;
  g_autofree const char **args = NULL;
  BangerSpawnSpec spec = { 0 };
  int log_fd = -1;
  pid_t pid = 0;
  int pidfd = -1;
  gboolean ok;

  if (log_path != NULL)
    {
      log_fd = open (log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
      if (log_fd < 0)
        return banger_set_error_from_errno (error, errno, "Cannot open the VMM log '%s'",
                                            log_path);
    }
  /* banger_spawn_vmm executes argv[0] as is: a relative one is taken from
   * our working directory, as exec would. */
  args = g_new0 (const char *, g_strv_length ((char **) argv) + 1);
  for (guint i = 0; argv[i] != NULL; i++)
    args[i] = argv[i];
  if (!g_path_is_absolute (argv[0]))
    args[0] = binary = g_canonicalize_filename (argv[0], NULL);

  /* The one spawn (launch/banger-spawn.h): clone3 with CLONE_PIDFD, a clean
   * signal mask, only stdio reaching the VMM, our environment and working
   * directory, no new session; it returns once the VMM has exec'd. */
  spec.argv = args;
  spec.envp = (const char *const *) env;
  spec.stdout_fd = log_fd;
  spec.pass_fd = -1;
  ok = banger_spawn_vmm (&spec, NULL, &pid, &pidfd, error);
  if (log_fd >= 0)
    close (log_fd);
  if (!ok)
    return FALSE;
  *out_pid = pid;
  *out_pidfd = pidfd;
  return TRUE;
}

static BangerVmmLauncher direct_launcher = { direct_spawn, NULL };

BangerVmmLauncher *
banger_vmm_launcher_direct (void)
{
  return &direct_launcher;
}
