/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The direct launcher: spawn the VMM ourselves and take a pidfd for it.  We
 * do not reap the child before pidfd_open(), so the pid cannot be recycled
 * in between. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "banger-error-private.h"
#include "banger-quote.h"
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
direct_spawn (BangerVmmLauncher *launcher, const char *vm_id, const char *const *argv,
              const char *log_path, GPid *out_pid, int *out_pidfd, GError **error)
{
  g_autoptr (GError) local_error = NULL;
  int log_fd = -1;
  int null_fd;
  GPid pid = 0;
  int pidfd;
  gboolean ok;

  null_fd = open ("/dev/null", O_RDONLY | O_CLOEXEC);
  if (null_fd < 0)
    return banger_set_error_from_errno (error, errno, "Cannot open /dev/null");
  if (log_path != NULL)
    {
      log_fd = open (log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
      if (log_fd < 0)
        {
          int errsv = errno;
          close (null_fd);
          return banger_set_error_from_errno (error, errsv, "Cannot open the VMM log '%s'",
                                              log_path);
        }
    }

  ok = g_spawn_async_with_pipes_and_fds (NULL, argv, NULL,
                                         G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_CLOEXEC_PIPES,
                                         reset_signal_mask, NULL, null_fd, log_fd >= 0 ? log_fd : null_fd,
                                         log_fd >= 0 ? log_fd : null_fd, NULL, NULL, 0, &pid,
                                         NULL, NULL, NULL, &local_error);
  close (null_fd);
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
