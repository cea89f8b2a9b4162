/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The one way banger starts a VMM process, for the root helper
 * (priv.launch_vmm) and the library's direct launcher alike:
 *
 *   - clone3(CLONE_PIDFD), plus CLONE_INTO_CGROUP when a cgroup is given: the
 *     pidfd is taken by the kernel at clone time, so there is no moment where
 *     the pid could be recycled under us, and the process is inside its
 *     cgroup before it executes anything (on kernels without
 *     CLONE_INTO_CGROUP the child writes "0" to cgroup.procs first);
 *   - the child shares our memory until its exec (CLONE_VM, on a stack of
 *     its own; x86_64, outside sanitizer builds) rather than getting a copy:
 *     copying a threaded helper's address space write-locks its memory map
 *     for tens of milliseconds under load;
 *   - between clone and exec the child makes only async-signal-safe system
 *     calls, and the credential changes as raw syscall(2)s: glibc's
 *     setgroups/setresgid/setresuid would broadcast the change to the
 *     threads glibc believes exist, a list copied from the (threaded) parent,
 *     and can wait forever for a thread that does not exist in the child;
 *   - the parent waits for the exec with a deadline: an error pipe closed on
 *     exec (O_CLOEXEC) says it happened, a message on it says which step
 *     failed.  A child that is stopped before exec (the owner may SIGSTOP it
 *     once it has the owner's uid), that dies before exec, or that has not
 *     exec'd when the deadline passes is killed through its pidfd, reaped,
 *     and reported — the launch failed, there is no process to register.
 *
 * The wait holds no lock: callers must not hold one either (the root
 * helper's executor releases its own around the wait). */
#pragma once

#include <gio/gio.h>
#include <sys/types.h>

G_BEGIN_DECLS

/* How long the child may take from clone to exec by default.  An exec takes
 * milliseconds; this bound is for a machine under heavy load. */
#define BANGER_SPAWN_EXEC_TIMEOUT_MS 5000

typedef struct
{
  const char *const *argv;  /* argv[0] is an absolute path, executed as is */
  const char *const *envp;  /* the whole environment (NULL: empty) */
  const char *cgroup_dir;   /* NULL, or an existing cgroup2 directory to start in */
  const char *cwd;          /* NULL: keep the caller's */
  gboolean new_session;     /* setsid() in the child */
  gboolean drop_privileges; /* setgroups/setresgid/setresuid to uid/gid below */
  uid_t uid;
  gid_t gid;
  int stdout_fd;            /* stdout and stderr (-1: /dev/null); stdin is /dev/null */
  int pass_fd;              /* -1, or an fd the child gets as fd 3 (QEMU's tap) */
  guint exec_timeout_ms;    /* 0: BANGER_SPAWN_EXEC_TIMEOUT_MS */
  /* TRUE: a process already exiting when its exec is seen is returned as
   * started (unreaped: the caller reads how it ended through the pidfd), for
   * a caller that wants the program's own exit status (the KVM boot probe).
   * A child killed by a signal before its exec then looks the same as one
   * killed after it.  FALSE: it is a failed launch (below). */
  gboolean exiting_is_started;
} BangerSpawnSpec;

/* Start @spec and wait until it has executed argv[0].  Every other fd of
 * the caller is closed in the new process (marked close-on-exec in the
 * child), its signal mask is empty and its dispositions the defaults.
 *
 * On success *@out_pid and *@out_pidfd (O_CLOEXEC) are the running process;
 * the caller reaps it (banger-pidfd.h).  On failure there is no process left
 * (it was killed and reaped) and the error says why:
 *   - a step in the child failed (cgroup, setsid, credentials, stdio, chdir,
 *     exec): the code of its errno (banger_error_code_from_errno), the
 *     message names the step;
 *   - the child was stopped before exec, or died before it (or was already
 *     exiting when the exec was seen, unless @spec->exiting_is_started):
 *     BANGER_ERROR_FAILED, the message names the signal or the exit status;
 *   - no exec within the deadline: BANGER_ERROR_TIMED_OUT;
 *   - @cancellable was cancelled meanwhile: BANGER_ERROR_CANCELLED. */
gboolean banger_spawn_vmm (const BangerSpawnSpec *spec, GCancellable *cancellable,
                           pid_t *out_pid, int *out_pidfd, GError **error);

G_END_DECLS
