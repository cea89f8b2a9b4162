/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/sched.h>
#include <poll.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "banger-error-private.h"
#include "banger-pidfd.h"
#include "banger-quote.h"
#include "banger-spawn.h"

#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif
#ifndef PF_EXITING
#define PF_EXITING 0x00000004 /* include/linux/sched.h: set first thing in do_exit() */
#endif

#define POLL_SLICE_MS 10  /* how often a waiting parent looks for a stopped child */
#define KILL_WAIT_MS 2000 /* for a SIGKILLed child to exit before we give up reaping it */

/* ------------------------------------------------------------------ child
 * Everything below runs in the child between clone and exec: in the memory
 * of a threaded process (CLONE_VM), or a copy of it.  Only async-signal-safe
 * system calls; no malloc, no stdio, no locks, no GLib; it writes only its
 * own stack (and errno on a failing call: shared with the parent thread
 * under CLONE_VM — see wait_for_exec); everything it needs was prepared by
 * the parent. */

typedef struct
{
  const BangerSpawnSpec *spec;
  int procs_fd;     /* cgroup.procs, when CLONE_INTO_CGROUP was not used; else -1 */
  int null_fd;
  int out_fd;       /* spec->stdout_fd, or a copy of it numbered >= 3; -1 */
  int pass_fd;      /* spec->pass_fd, or a copy of it numbered >= 3; -1 */
  int err_pipe;     /* write end, O_CLOEXEC: EOF in the parent means exec worked */
  const gid_t *groups;
  int n_groups;
  int fd_limit;     /* for the close-on-exec sweep where close_range cannot */
} ChildSetup;

enum
{
  STEP_CGROUP = 1,
  STEP_SESSION,
  STEP_GROUPS,
  STEP_GID,
  STEP_UID,
  STEP_STDIO,
  STEP_CHDIR,
  STEP_EXEC,
  N_STEPS
};

static const char *const step_names[N_STEPS] = {
  "", "join its cgroup", "start a session", "set groups", "set gid", "set uid",
  "set up stdio", "chdir", "exec",
};

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
  int first_other = c->pass_fd >= 0 ? 4 : 3;
  struct sigaction dfl;
  sigset_t none;

  /* The parent blocked every signal around the clone: no handler of its
   * (GLib's unix-signal handler writes to the parent's wakeup pipe) may run
   * here.  Reset the dispositions first, unblock only at the exec. */
  memset (&dfl, 0, sizeof dfl);
  dfl.sa_handler = SIG_DFL;
  for (int s = 1; s < NSIG; s++)
    if (s != SIGKILL && s != SIGSTOP)
      sigaction (s, &dfl, NULL); /* glibc's internal signals are refused: their
                                  * handlers check the sender, and exec resets them */

  if (c->procs_fd >= 0 && write (c->procs_fd, "0", 1) != 1)
    child_fail (c, STEP_CGROUP);
  if (spec->new_session && setsid () < 0)
    child_fail (c, STEP_SESSION);
  if (spec->drop_privileges)
    {
      /* Raw system calls: glibc's wrappers broadcast to the parent's threads. */
      if (syscall (SYS_setgroups, (size_t) c->n_groups, c->groups) < 0)
        child_fail (c, STEP_GROUPS);
      if (syscall (SYS_setresgid, spec->gid, spec->gid, spec->gid) < 0)
        child_fail (c, STEP_GID);
      if (syscall (SYS_setresuid, spec->uid, spec->uid, spec->uid) < 0)
        child_fail (c, STEP_UID);
    }
  if (dup2 (c->null_fd, 0) < 0 || dup2 (out, 1) < 0 || dup2 (out, 2) < 0)
    child_fail (c, STEP_STDIO);
  /* dup2 clears FD_CLOEXEC on the copy, so fd 3 survives the exec — except
   * when it already is fd 3 (dup2 onto itself changes nothing). */
  if (c->pass_fd >= 0 && (c->pass_fd == 3 ? fcntl (3, F_SETFD, 0) : dup2 (c->pass_fd, 3)) < 0)
    child_fail (c, STEP_STDIO);
  /* Nothing else of the caller's reaches the VMM (an embedding program's
   * fds may lack O_CLOEXEC).  Marked, not closed: the error pipe must stay
   * open until the exec itself. */
  if (syscall (SYS_close_range, first_other, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
    for (int fd = first_other; fd < c->fd_limit; fd++)
      fcntl (fd, F_SETFD, FD_CLOEXEC);
  if (spec->cwd != NULL && chdir (spec->cwd) < 0)
    child_fail (c, STEP_CHDIR);
  sigemptyset (&none);
  sigprocmask (SIG_SETMASK, &none, NULL);
  execve (spec->argv[0], (char *const *) spec->argv,
          (char *const *) (spec->envp ? spec->envp : empty_env));
  child_fail (c, STEP_EXEC);
}

/* ----------------------------------------------------------------- parent */

/* Held from pipe2() to the close of the pipe's write end in the parent, so
 * that no other thread's child inherits a write end of ours: a stopped child
 * holding it would hide our child's exec from us until the deadline.  Never
 * held while waiting. */
static GMutex clone_lock;

/* Is our (unreaped, so pinned) child @pid on its way out?  PF_EXITING is set
 * first thing in do_exit(), before its fds are closed: when the error pipe
 * reached EOF because the child died, this already says so. */
static gboolean
child_is_exiting (pid_t pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/stat", (int) pid);
  g_autofree char *contents = NULL;
  const char *p;
  char state = 0;
  unsigned long flags = 0;

  if (!g_file_get_contents (path, &contents, NULL, NULL))
    return TRUE;
  /* "pid (comm) S ppid pgrp session tty tpgid flags …"; comm may hold ')' */
  p = strrchr (contents, ')');
  if (p == NULL || sscanf (p + 1, " %c %*d %*d %*d %*d %*d %lu", &state, &flags) != 2)
    return FALSE;
  return state == 'Z' || state == 'X' || (flags & PF_EXITING) != 0;
}

/* SIGKILL through the pidfd and reap, bounded.  @out_info (nullable) gets
 * how the child ended when it was reaped. */
static void
kill_and_reap (int pidfd, siginfo_t *out_info)
{
  siginfo_t info;

  memset (&info, 0, sizeof info);
  banger_pidfd_send_signal (pidfd, SIGKILL);
  if (banger_pidfd_wait_exit (pidfd, KILL_WAIT_MS))
    banger_pidfd_waitid (pidfd, &info, WEXITED | WNOHANG);
  if (out_info != NULL)
    *out_info = info;
}

static char *
describe_end (const siginfo_t *info)
{
  if (info->si_pid == 0)
    return g_strdup ("ended");
  if (info->si_code == CLD_EXITED)
    return g_strdup_printf ("exited with status %d", info->si_status);
  return g_strdup_printf ("was killed by signal %d (%s)", info->si_status,
                          g_strsignal (info->si_status));
}

/* Wait until the child has exec'd: EOF on the error pipe and the child not
 * exiting.  Everything else kills and reaps it and fails.  (errno is read
 * only after a failing poll/read; a CLONE_VM child failing at that very
 * moment could change it, which at worst fails the launch cleanly.) */
static gboolean
wait_for_exec (const BangerSpawnSpec *spec, pid_t pid, int pidfd, int pipe_fd,
               GCancellable *cancellable, GError **error)
{
  guint timeout_ms = spec->exec_timeout_ms ? spec->exec_timeout_ms : BANGER_SPAWN_EXEC_TIMEOUT_MS;
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;
  g_autofree char *what = banger_quote (spec->argv[0]);
  int cancel_fd = g_cancellable_get_fd (cancellable);
  struct pollfd pfds[2] = { { pipe_fd, POLLIN, 0 }, { cancel_fd, POLLIN, 0 } };
  siginfo_t info;
  gboolean ok = FALSE;

  for (;;)
    {
      gint64 left = deadline - g_get_monotonic_time ();
      int r;

      if (left <= 0)
        {
          kill_and_reap (pidfd, NULL);
          g_set_error (error, BANGER_ERROR, BANGER_ERROR_TIMED_OUT,
                       "The VMM '%s' (pid %d) did not start within %u ms; it was killed", what,
                       (int) pid, timeout_ms);
          break;
        }
      r = poll (pfds, cancel_fd >= 0 ? 2 : 1, (int) MIN ((left + 999) / 1000, POLL_SLICE_MS));
      if (r < 0 && errno != EINTR)
        {
          int errsv = errno;
          kill_and_reap (pidfd, NULL);
          banger_set_error_from_errno (error, errsv, "Cannot wait for the VMM '%s' to start", what);
          break;
        }
      if (r > 0 && pfds[0].revents != 0)
        {
          int msg[2];
          ssize_t n;

          do
            n = read (pipe_fd, msg, sizeof msg);
          while (n < 0 && errno == EINTR);
          if (n == (ssize_t) sizeof msg)
            {
              int step = msg[0] >= 1 && msg[0] < N_STEPS ? msg[0] : STEP_EXEC;
              /* it _exit()s right after writing */
              kill_and_reap (pidfd, NULL);
              banger_set_error_from_errno (error, msg[1], "The VMM '%s' could not %s", what,
                                           step_names[step]);
              break;
            }
          if (n == 0 && (spec->exiting_is_started || !child_is_exiting (pid)))
            {
              ok = TRUE; /* exec'd: the pipe closed on exec, and it lives (or
                          * the caller takes an exit after exec as a start;
                          * either way our stack is no longer in use: a dying
                          * child releases its memory before its fds) */
              break;
            }
          /* EOF because it died (or a torn message: it died writing) —
           * before its exec, or so soon after it that it is gone by now:
           * either way there is no VMM to register */
          memset (&info, 0, sizeof info);
          if (banger_pidfd_wait_exit (pidfd, KILL_WAIT_MS))
            banger_pidfd_waitid (pidfd, &info, WEXITED | WNOHANG);
          else
            kill_and_reap (pidfd, &info);
          {
            g_autofree char *how = describe_end (&info);
            g_set_error (error, BANGER_ERROR, BANGER_ERROR_FAILED,
                         "The VMM '%s' (pid %d) %s while starting", what, (int) pid, how);
          }
          break;
        }
      if (g_cancellable_is_cancelled (cancellable))
        {
          kill_and_reap (pidfd, NULL);
          g_set_error (error, BANGER_ERROR, BANGER_ERROR_CANCELLED,
                       "Starting the VMM '%s' was cancelled; it was killed", what);
          break;
        }
      /* Stopped before exec (SIGSTOP from the owner, once it has the owner's
       * uid): it would never get there.  (WSTOPPED alone: an exit is seen on
       * the pipe.) */
      memset (&info, 0, sizeof info);
      if (banger_pidfd_waitid (pidfd, &info, WSTOPPED | WNOHANG) == 0 && info.si_pid != 0
          && info.si_code == CLD_STOPPED)
        {
          int sig = info.si_status;
          kill_and_reap (pidfd, NULL);
          g_set_error (error, BANGER_ERROR, BANGER_ERROR_FAILED,
                       "The VMM '%s' (pid %d) was stopped by signal %d (%s) before it started; "
                       "it was killed",
                       what, (int) pid, sig, g_strsignal (sig));
          break;
        }
    }
  if (cancel_fd >= 0)
    g_cancellable_release_fd (cancellable);
  return ok;
}

/* The owner's supplementary groups, looked up here: the child cannot. */
static gid_t *
lookup_groups (uid_t uid, gid_t gid, int *out_n)
{
  struct passwd pwbuf, *pw = NULL;
  char strbuf[4096];
  int ng = 64;
  gid_t *groups = g_new0 (gid_t, ng);

  if (getpwuid_r (uid, &pwbuf, strbuf, sizeof strbuf, &pw) == 0 && pw != NULL)
    {
      if (getgrouplist (pw->pw_name, gid, groups, &ng) < 0 && ng > 64 && ng <= 65536)
        {
          g_free (groups);
          groups = g_new0 (gid_t, ng);
          if (getgrouplist (pw->pw_name, gid, groups, &ng) >= 0)
            {
              *out_n = ng;
              return groups;
            }
        }
      else if (ng >= 1 && ng <= 64)
        {
          *out_n = ng;
          return groups;
        }
    }
  /* Unknown user or a group list we cannot read: just its primary group. */
  groups[0] = gid;
  *out_n = 1;
  return groups;
}

/* CLONE_VM: the child shares our memory until its exec instead of getting
 * a copy of it.  Copying the address space of a threaded helper holds its
 * memory map locked for writing (every other thread that faults waits), and
 * on a loaded host the copy took 20-70 ms; sharing it costs nothing.  The
 * child then runs on a stack of its own, so it cannot return into the C
 * frame it was cloned from: clone3 is called from a few lines of assembly
 * that call child_entry() on the new stack.  Where there is no such
 * trampoline, the child gets a copy (a plain clone3 returning twice) — and
 * in sanitizer builds, whose runtime keeps per-thread state in the memory a
 * CLONE_VM child would share (ASan aborts in the child). */
#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define BANGER_SANITIZED 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define BANGER_SANITIZED 1
#endif
#if defined(__x86_64__) && !defined(BANGER_SANITIZED)
#define HAVE_CLONE_VM 1
#define CHILD_STACK_SIZE (256 * 1024)
/* As the clone3 system call: the child's pid, or -errno (errno untouched);
 * the child runs @fn (@arg) and never returns. */
long banger_clone3_vm (struct clone_args *args, size_t size, void (*fn) (void *), void *arg)
    G_GNUC_INTERNAL;
__asm__ (".text\n"
         ".globl banger_clone3_vm\n"
         ".hidden banger_clone3_vm\n"
         ".type banger_clone3_vm, @function\n"
         ".p2align 4\n"
         "banger_clone3_vm:\n"
         "  push %r12\n"
         "  push %r13\n"
         "  mov %rdx, %r12\n"          /* fn: kept across the syscall */
         "  mov %rcx, %r13\n"          /* arg */
         "  mov $435, %eax\n"          /* __NR_clone3 */
         "  syscall\n"
         "  test %rax, %rax\n"
         "  jz 1f\n"
         "  pop %r13\n"                /* parent, or failure */
         "  pop %r12\n"
         "  ret\n"
         "1:\n"                        /* child: rsp = stack + stack_size */
         "  xor %ebp, %ebp\n"
         "  and $-16, %rsp\n"
         "  mov %r13, %rdi\n"
         "  call *%r12\n"
         "  mov $231, %eax\n"          /* exit_group (fn does not return) */
         "  mov $127, %edi\n"
         "  syscall\n"
         "  hlt\n"
         ".size banger_clone3_vm, .-banger_clone3_vm\n");

static void
child_entry (void *data)
{
  child_run (data);
}
#endif

/* The child's pid, 0 in a child without CLONE_VM (which then runs
 * child_run itself), or -1 with errno. */
static long
clone_child (const ChildSetup *c, int cg_fd, int *out_pidfd, void *stack, gsize stack_size)
{
  struct clone_args args;

  memset (&args, 0, sizeof args);
  args.flags = CLONE_PIDFD | (cg_fd >= 0 ? CLONE_INTO_CGROUP : 0);
  args.pidfd = (guint64) (guintptr) out_pidfd;
  args.exit_signal = SIGCHLD;
  args.cgroup = cg_fd >= 0 ? (guint64) cg_fd : 0;
#ifdef HAVE_CLONE_VM
  if (stack != NULL)
    {
      long r;

      args.flags |= CLONE_VM;
      args.stack = (guint64) (guintptr) stack;
      args.stack_size = stack_size;
      r = banger_clone3_vm (&args, sizeof args, child_entry, (void *) c);
      if (r < 0)
        {
          errno = (int) -r;
          return -1;
        }
      return r;
    }
#endif
  return syscall (SYS_clone3, &args, sizeof args);
}

gboolean
banger_spawn_vmm (const BangerSpawnSpec *spec, GCancellable *cancellable, pid_t *out_pid,
                  int *out_pidfd, GError **error)
{
  ChildSetup c = { spec, -1, -1, -1, -1, -1, NULL, 0, 1024 };
  int own_out = -1, own_pass = -1, own_null_low = -1;
  g_autofree gid_t *groups = NULL;
  struct rlimit nofile;
  int cg_fd = -1;
  int pipe_fds[2] = { -1, -1 };
  int pidfd = -1;
  long pid = -1;
  void *stack = NULL;
  gsize stack_size = 0;
  gboolean ok = FALSE;

  g_return_val_if_fail (spec != NULL, FALSE);
  g_return_val_if_fail (out_pid != NULL && out_pidfd != NULL, FALSE);

  if (spec->argv == NULL || spec->argv[0] == NULL || spec->argv[0][0] != '/')
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   "Internal: the VMM binary path must be absolute");
      return FALSE;
    }
  if (g_cancellable_is_cancelled (cancellable))
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_CANCELLED,
                   "Starting the VMM '%s' was cancelled", spec->argv[0]);
      return FALSE;
    }
  if (spec->drop_privileges)
    {
      groups = lookup_groups (spec->uid, spec->gid, &c.n_groups);
      c.groups = groups;
    }
  if (getrlimit (RLIMIT_NOFILE, &nofile) == 0)
    c.fd_limit = (int) MIN (nofile.rlim_cur, (rlim_t) 65536);

  if (spec->cgroup_dir != NULL)
    {
      cg_fd = open (spec->cgroup_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (cg_fd < 0)
        return banger_set_error_from_errno (error, errno, "Cannot open the cgroup '%s'",
                                            spec->cgroup_dir);
    }
  c.null_fd = open ("/dev/null", O_RDWR | O_CLOEXEC);
  /* Every fd the child moves onto 0-3 must come from >= 3, or one dup2
   * could clobber another's source (a caller started with stdio closed). */
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
      || (spec->pass_fd >= 0 && c.pass_fd < 0))
    {
      banger_set_error_from_errno (error, errno, "Cannot prepare the VMM's stdio");
      goto out;
    }
  if (cg_fd >= 0)
    {
      /* Older kernels lack CLONE_INTO_CGROUP: then the child joins by
       * writing cgroup.procs first thing.  Opened now, used only then. */
      c.procs_fd = openat (cg_fd, "cgroup.procs", O_WRONLY | O_CLOEXEC);
      if (c.procs_fd < 0)
        {
          banger_set_error_from_errno (error, errno, "Cannot open %s/cgroup.procs",
                                       spec->cgroup_dir);
          goto out;
        }
    }

#ifdef HAVE_CLONE_VM
  stack_size = CHILD_STACK_SIZE;
  stack = mmap (NULL, stack_size, PROT_READ | PROT_WRITE,
                MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK | MAP_NORESERVE, -1, 0);
  if (stack == MAP_FAILED)
    {
      banger_set_error_from_errno (error, errno, "Cannot map a stack for the VMM's start");
      stack = NULL;
      goto out;
    }
  /* a guard page below it */
  mprotect (stack, 4096, PROT_NONE);
#endif
  {
    sigset_t all, old;
    int procs_fd = c.procs_fd;
    int clone_errno = 0;

    g_mutex_lock (&clone_lock);
    if (pipe2 (pipe_fds, O_CLOEXEC) < 0)
      {
        int errsv = errno;
        g_mutex_unlock (&clone_lock);
        banger_set_error_from_errno (error, errsv, "Cannot make the VMM's error pipe");
        goto out;
      }
    c.err_pipe = pipe_fds[1];
    sigfillset (&all);
    pthread_sigmask (SIG_SETMASK, &all, &old);
    c.procs_fd = -1;
    pid = clone_child (&c, cg_fd, &pidfd, stack, stack_size);
    if (pid < 0 && cg_fd >= 0 && (errno == E2BIG || errno == EINVAL))
      {
        c.procs_fd = procs_fd;
        pid = clone_child (&c, -1, &pidfd, stack, stack_size);
      }
    if (pid == 0)
      child_run (&c);
    clone_errno = errno;
    pthread_sigmask (SIG_SETMASK, &old, NULL);
    close (pipe_fds[1]);
    pipe_fds[1] = -1;
    g_mutex_unlock (&clone_lock);
    c.procs_fd = procs_fd;
    if (pid < 0)
      {
        banger_set_error_from_errno (error, clone_errno, "Cannot start the VMM (clone3)");
        goto out;
      }
  }

  if (!wait_for_exec (spec, (pid_t) pid, pidfd, pipe_fds[0], cancellable, error))
    goto out;
  *out_pid = (pid_t) pid;
  *out_pidfd = pidfd;
  pidfd = -1;
  ok = TRUE;
out:
  /* The child has exec'd (its memory is its own now), or it is dead or
   * SIGKILLed (it never runs our code again): the stack is free. */
  if (stack != NULL)
    munmap (stack, stack_size);
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
