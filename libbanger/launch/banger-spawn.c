/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/sched.h>
#include <pwd.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "banger-error-private.h"
#include "banger-spawn.h"

#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif

/* Everything below runs in the child between clone and exec: only
 * async-signal-safe calls, everything it needs prepared by the parent. */
typedef struct
{
  const BangerSpawnSpec *spec;
  int procs_fd;     /* cgroup.procs, when CLONE_INTO_CGROUP was not used; else -1 */
  int null_fd;
  int out_fd;       /* spec->stdout_fd, or a copy of it numbered >= 3; -1 */
  int pass_fd;      /* spec->pass_fd, or a copy of it numbered >= 3; -1 */
  int err_pipe;     /* write end, O_CLOEXEC: EOF in the parent means exec worked */
  gid_t *groups;
  int n_groups;
} ChildSetup;

static void G_GNUC_NORETURN
child_fail (const ChildSetup *c, int step)
{
  int msg[2] = { step, errno };
  ssize_t r = write (c->err_pipe, msg, sizeof msg);
  (void) r;
  _exit (127);
}

static void G_GNUC_NORETURN
child_run (const ChildSetup *c)
{
  const BangerSpawnSpec *spec = c->spec;
  static const char *const empty_env[] = { NULL };
  int out = c->out_fd >= 0 ? c->out_fd : c->null_fd;
  sigset_t all;
  struct sigaction dfl;

  /* Signal state is inherited across exec: reset mask and dispositions. */
  memset (&dfl, 0, sizeof dfl);
  dfl.sa_handler = SIG_DFL;
  for (int s = 1; s < NSIG; s++)
    if (s != SIGKILL && s != SIGSTOP)
      sigaction (s, &dfl, NULL);
  sigemptyset (&all);
  sigprocmask (SIG_SETMASK, &all, NULL);

  if (c->procs_fd >= 0 && write (c->procs_fd, "0", 1) != 1)
    child_fail (c, 1);
  if (setsid () < 0)
    child_fail (c, 2);
  if (spec->drop_privileges)
    {
      if (setgroups ((size_t) c->n_groups, c->groups) < 0)
        child_fail (c, 3);
      if (setresgid (spec->gid, spec->gid, spec->gid) < 0)
        child_fail (c, 4);
      if (setresuid (spec->uid, spec->uid, spec->uid) < 0)
        child_fail (c, 5);
    }
  if (dup2 (c->null_fd, 0) < 0 || dup2 (out, 1) < 0 || dup2 (out, 2) < 0)
    child_fail (c, 6);
  /* dup2 clears FD_CLOEXEC on the copy, so fd 3 survives the exec — except
   * when it already is fd 3 (dup2 onto itself changes nothing). */
  if (c->pass_fd >= 0 && (c->pass_fd == 3 ? fcntl (3, F_SETFD, 0) : dup2 (c->pass_fd, 3)) < 0)
    child_fail (c, 6);
  if (chdir ("/") < 0)
    child_fail (c, 7);
  execve (spec->argv[0], (char *const *) spec->argv,
          (char *const *) (spec->envp ? spec->envp : empty_env));
  child_fail (c, 8);
}

static const char *const step_names[] = {
  "", "join its cgroup", "start a session", "set groups", "set gid", "set uid",
  "set up stdio", "chdir", "exec",
};

gboolean
banger_spawn_vmm (const BangerSpawnSpec *spec, pid_t *out_pid, int *out_pidfd, GError **error)
{
  ChildSetup c = { spec, -1, -1, -1, -1, -1, NULL, 0 };
  int own_out = -1, own_pass = -1, own_null_low = -1;
  g_autofree gid_t *groups = NULL;
  struct clone_args args;
  int cg_fd = -1;
  int pipe_fds[2] = { -1, -1 };
  int pidfd = -1;
  long pid;
  int msg[2];
  ssize_t n;
  gboolean ok = FALSE;

  if (spec->argv == NULL || spec->argv[0] == NULL || spec->argv[0][0] != '/')
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   "Internal: the VMM binary path must be absolute");
      return FALSE;
    }
  if (spec->drop_privileges)
    {
      struct passwd pwbuf, *pw = NULL;
      char strbuf[1024];
      int ng = 64;

      groups = g_new0 (gid_t, ng);
      if (getpwuid_r (spec->uid, &pwbuf, strbuf, sizeof strbuf, &pw) != 0 || pw == NULL
          || getgrouplist (pw->pw_name, spec->gid, groups, &ng) < 0)
        {
          /* Unknown user or too many groups: just its primary group. */
          groups[0] = spec->gid;
          ng = 1;
        }
      c.groups = groups;
      c.n_groups = ng;
    }

  cg_fd = open (spec->cgroup_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (cg_fd < 0)
    return banger_set_error_from_errno (error, errno, "Cannot open the cgroup '%s'",
                                        spec->cgroup_dir);
  c.null_fd = open ("/dev/null", O_RDWR | O_CLOEXEC);
  /* Every fd the child moves onto 0-3 must come from >= 3, or one dup2
   * could clobber another's source (a helper started with stdio closed). */
  if (c.null_fd >= 0 && c.null_fd < 3)
    {
      own_null_low = c.null_fd;
      c.null_fd = fcntl (own_null_low, F_DUPFD_CLOEXEC, 3);
    }
  c.out_fd = spec->stdout_fd;
  if (c.out_fd >= 0 && c.out_fd < 3)
    c.out_fd = own_out = fcntl (spec->stdout_fd, F_DUPFD_CLOEXEC, 3);
  c.pass_fd = spec->pass_fd;
  if (c.pass_fd >= 0 && c.pass_fd < 3)
    c.pass_fd = own_pass = fcntl (spec->pass_fd, F_DUPFD_CLOEXEC, 3);
  if (c.null_fd < 0 || (spec->stdout_fd >= 0 && c.out_fd < 0)
      || (spec->pass_fd >= 0 && c.pass_fd < 0) || pipe2 (pipe_fds, O_CLOEXEC) < 0)
    {
      banger_set_error_from_errno (error, errno, "Cannot prepare the VMM's stdio");
      goto out;
    }
  c.err_pipe = pipe_fds[1];

  memset (&args, 0, sizeof args);
  args.flags = CLONE_PIDFD | CLONE_INTO_CGROUP;
  args.pidfd = (guint64) (guintptr) &pidfd;
  args.exit_signal = SIGCHLD;
  args.cgroup = (guint64) cg_fd;
  pid = syscall (SYS_clone3, &args, sizeof args);
  if (pid < 0 && (errno == ENOSYS || errno == E2BIG || errno == EINVAL))
    {
      /* Older kernel: clone without CLONE_INTO_CGROUP; the child moves
       * itself before it does anything else. */
      c.procs_fd = openat (cg_fd, "cgroup.procs", O_WRONLY | O_CLOEXEC);
      if (c.procs_fd < 0)
        {
          banger_set_error_from_errno (error, errno, "Cannot open %s/cgroup.procs",
                                       spec->cgroup_dir);
          goto out;
        }
      args.flags = CLONE_PIDFD;
      args.cgroup = 0;
      pid = syscall (SYS_clone3, &args, sizeof args);
    }
  if (pid < 0)
    {
      banger_set_error_from_errno (error, errno, "Cannot start the VMM");
      goto out;
    }
  if (pid == 0)
    child_run (&c);

  close (pipe_fds[1]);
  pipe_fds[1] = -1;
  do
    n = read (pipe_fds[0], msg, sizeof msg);
  while (n < 0 && errno == EINTR);
  if (n == (ssize_t) sizeof msg)
    {
      int step = msg[0] >= 1 && msg[0] <= 8 ? msg[0] : 8;
      siginfo_t info;
      waitid (P_PID, (id_t) pid, &info, WEXITED); /* reap the failed child */
      close (pidfd);
      pidfd = -1;
      banger_set_error_from_errno (error, msg[1], "The VMM '%s' could not %s", spec->argv[0],
                                   step_names[step]);
      goto out;
    }
  *out_pid = (pid_t) pid;
  *out_pidfd = pidfd;
  pidfd = -1;
  ok = TRUE;
out:
  if (pidfd >= 0)
    close (pidfd);
  {
    int fds[] = { cg_fd, c.null_fd, c.procs_fd, pipe_fds[0], pipe_fds[1], own_out, own_pass,
                  own_null_low };
    for (gsize i = 0; i < G_N_ELEMENTS (fds); i++)
      if (fds[i] >= 0)
        close (fds[i]);
  }
  return ok;
}
