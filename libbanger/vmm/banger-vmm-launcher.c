/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The direct launcher: build the command line of the request with the one
 * builder of its VMM, spawn the VMM ourselves and take a pidfd for it.  We
 * do not reap the child before pidfd_open(), so the pid cannot be recycled
 * in between.  QEMU's NIC: we attach to its tap and pass the queue as fd 3,
 * as the root helper does. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "banger-error-private.h"
#include "banger-qemu-cmdline.h"
#include "banger-quote.h"
#include "banger-tap-fd.h"
#include "banger-vmm.h"

/* In the child, before exec: GLib's worker threads run with every signal
 * blocked, and a blocked mask survives fork and exec.  QEMU with SIGALRM and
 * its kick signals blocked never gets past the guest's timer calibration, so
 * give the VMM a clean mask.  (sigprocmask is async-signal-safe.) */
static void
reset_signal_mask (gpointer unused)
{
  sigset_t none;

  sigemptyset (&none);
  sigprocmask (SIG_SETMASK, &none, NULL);
}

static gboolean
direct_spawn (BangerVmmLauncher *launcher, const BangerVmmLaunchRequest *request,
              BangerVmmLaunched *out, GError **error)
{
  g_autoptr (GError) local_error = NULL;
  g_auto (GStrv) argv = banger_vmm_launch_request_argv (request, error);
  const char *log_path = request->log_path;
  int tap_fd = -1;
  int target_fd = BANGER_QEMU_TAP_FD;
  int log_fd = -1;
  int null_fd;
  GPid pid = 0;
  int pidfd;
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
  null_fd = open ("/dev/null", O_RDONLY | O_CLOEXEC);
  if (null_fd < 0)
    {
      int errsv = errno;
      if (tap_fd >= 0)
        close (tap_fd);
      return banger_set_error_from_errno (error, errsv, "Cannot open /dev/null");
    }
  if (log_path != NULL)
    {
      log_fd = open (log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
      if (log_fd < 0)
        {
          int errsv = errno;
          close (null_fd);
          if (tap_fd >= 0)
            close (tap_fd);
          return banger_set_error_from_errno (error, errsv, "Cannot open the VMM log '%s'",
                                              log_path);
        }
    }

  ok = g_spawn_async_with_pipes_and_fds (NULL, (const char *const *) argv, NULL,
                                         G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_CLOEXEC_PIPES,
                                         reset_signal_mask, NULL, null_fd, log_fd >= 0 ? log_fd : null_fd,
                                         log_fd >= 0 ? log_fd : null_fd,
                                         tap_fd >= 0 ? &tap_fd : NULL,
                                         tap_fd >= 0 ? &target_fd : NULL, tap_fd >= 0 ? 1 : 0,
                                         &pid, NULL, NULL, NULL, &local_error);
  close (null_fd);
  if (tap_fd >= 0)
    close (tap_fd);
  if (log_fd >= 0)
    close (log_fd);
  if (!ok)
    {
      g_autofree char *q = banger_quote (argv[0]);
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_FAILED, "Cannot start '%s': %s", q,
                   local_error->message);
      return FALSE;
    }

  pidfd = (int) syscall (SYS_pidfd_open, pid, 0);
  if (pidfd < 0)
    {
      int errsv = errno;
      kill (pid, SIGKILL);
      return banger_set_error_from_errno (error, errsv, "Cannot take a pidfd for process %d",
                                          pid);
    }
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
