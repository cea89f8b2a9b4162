/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "banger-pidfd.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

int
banger_pidfd_open (pid_t pid)
{
  return (int) syscall (SYS_pidfd_open, pid, 0);
}

int
banger_pidfd_send_signal (int pidfd, int signo)
{
  return (int) syscall (SYS_pidfd_send_signal, pidfd, signo, NULL, 0);
}

int
banger_pidfd_waitid (int pidfd, siginfo_t *info, int options)
{
  return waitid ((idtype_t) P_PIDFD, (id_t) pidfd, info, options);
}

gboolean
banger_pidfd_wait_exit (int pidfd, int timeout_ms)
{
  gint64 deadline = timeout_ms < 0 ? -1 : g_get_monotonic_time () + (gint64) timeout_ms * 1000;

  for (;;)
    {
      struct pollfd pfd = { .fd = pidfd, .events = POLLIN };
      int wait_ms = -1;
      int r;

      if (deadline >= 0)
        {
          gint64 left = deadline - g_get_monotonic_time ();
          wait_ms = left <= 0 ? 0 : (int) ((left + 999) / 1000);
        }
      r = poll (&pfd, 1, wait_ms);
      if (r > 0)
        return TRUE;
      if (r == 0 || (r < 0 && errno != EINTR))
        return FALSE;
    }
}

gboolean
banger_pidfd_reap_if_exited (int pidfd, siginfo_t *out_info)
{
  siginfo_t info;
  struct pollfd pfd = { .fd = pidfd, .events = POLLIN };

  memset (&info, 0, sizeof info);
  if (banger_pidfd_waitid (pidfd, &info, WEXITED | WNOHANG) == 0)
    {
      if (out_info != NULL)
        *out_info = info;
      return info.si_pid != 0;
    }
  if (out_info != NULL)
    memset (out_info, 0, sizeof *out_info);
  /* Not our child (ECHILD): a readable pidfd means it has exited. */
  return poll (&pfd, 1, 0) == 1 && (pfd.revents & POLLIN);
}
