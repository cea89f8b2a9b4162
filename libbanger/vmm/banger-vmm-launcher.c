/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The direct launcher: build the command line of the request with the one
 * builder of its VMM and spawn the VMM ourselves, with the pidfd the kernel
 * hands out at clone time (banger_spawn_vmm, the one spawn).  QEMU's NIC:
 * we attach to its tap and pass the queue as fd 3, as the root helper does. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "banger-error-private.h"
#include "banger-qemu-cmdline.h"
#include "banger-spawn.h"
#include "banger-tap-fd.h"
#include "banger-vmm.h"

G_STATIC_ASSERT (BANGER_QEMU_TAP_FD == 3); /* banger_spawn_vmm passes pass_fd as fd 3 */

static gboolean
direct_spawn (BangerVmmLauncher *launcher, const BangerVmmLaunchRequest *request,
              BangerVmmLaunched *out, GError **error)
{
  g_auto (GStrv) argv = banger_vmm_launch_request_argv (request, error);
  g_auto (GStrv) env = g_get_environ ();
  g_autofree char *binary = NULL;
  g_autofree const char **args = NULL;
  const char *log_path = request->log_path;
  BangerSpawnSpec spec = { 0 };
  int tap_fd = -1;
  int log_fd = -1;
  pid_t pid = 0;
  int pidfd = -1;
  gboolean ok;

  if (argv == NULL)
    return FALSE;
  if (g_str_equal (request->driver, "qemu") && request->config->nics->len == 1)
    {
      const BangerVmmNic *nic = request->config->nics->pdata[0];
      tap_fd = banger_tap_open (nic->tap, error);
      if (tap_fd < 0)
        return FALSE;
    }
  if (log_path != NULL)
    {
      log_fd = open (log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
      if (log_fd < 0)
        {
          int errsv = errno;
          if (tap_fd >= 0)
            close (tap_fd);
          return banger_set_error_from_errno (error, errsv, "Cannot open the VMM log '%s'",
                                              log_path);
        }
    }
  /* banger_spawn_vmm executes argv[0] as is: a relative one is taken from
   * our working directory, as exec would. */
  args = g_new0 (const char *, g_strv_length (argv) + 1);
  for (guint i = 0; argv[i] != NULL; i++)
    args[i] = argv[i];
  if (!g_path_is_absolute (argv[0]))
    args[0] = binary = g_canonicalize_filename (argv[0], NULL);

  /* The one spawn (launch/banger-spawn.h): clone3 with CLONE_PIDFD, a clean
   * signal mask, only stdio (and the tap as fd 3) reaching the VMM, our
   * environment and working directory, no new session; it returns once the
   * VMM has exec'd. */
  spec.argv = args;
  spec.envp = (const char *const *) env;
  spec.stdout_fd = log_fd;
  spec.pass_fd = tap_fd;
  /* A VMM that exits right after its exec is the driver's to report (it
   * waits on the pidfd and quotes the VMM's log), not a failed spawn. */
  spec.exiting_is_started = TRUE;
  ok = banger_spawn_vmm (&spec, NULL, &pid, &pidfd, error);
  if (log_fd >= 0)
    close (log_fd);
  if (tap_fd >= 0)
    close (tap_fd);
  if (!ok)
    return FALSE;
  out->pid = pid;
  out->pidfd = pidfd;
  return TRUE;
}

static BangerVmmLauncher direct_launcher = { direct_spawn, NULL };

BangerVmmLauncher *
banger_vmm_launcher_direct (void)
{
  return &direct_launcher;
}
