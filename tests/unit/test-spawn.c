/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * banger_spawn_vmm() without privileges (no cgroup, no uid change): what the
 * new process gets — argv and environment as given, stdio, fd 3 when asked,
 * none of the caller's other fds (even without O_CLOEXEC), an empty signal
 * mask and default dispositions, a pidfd for it — and the typed errors of a
 * failed start.  The cases that need root (a child stopped, killed or frozen
 * before its exec, the credential change) are in
 * tests/host/test-host-spawn.c against the real helper. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "banger.h"
#include "banger-pidfd.h"
#include "banger-spawn.h"
#include "banger-test.h"

/* Run /bin/sh -c @script with stdout to a temp file; its output.  (Each
 * script sleeps a little at the end: a process already gone when the spawn
 * looks after the exec is a failed start, by design.) */
static char *
run_sh (const char *script, int pass_fd, const char *const *envp)
{
  const char *argv[] = { "/bin/sh", "-c", script, NULL };
  g_autoptr (GError) error = NULL;
  g_autofree char *path = NULL;
  char *out = NULL;
  BangerSpawnSpec spec = { 0 };
  siginfo_t info = { 0 };
  pid_t pid = 0;
  int pidfd = -1;
  int fd = g_file_open_tmp ("banger-spawn-XXXXXX", &path, &error);

  g_assert_no_error (error);
  spec.argv = argv;
  spec.envp = envp;
  spec.stdout_fd = fd;
  spec.pass_fd = pass_fd;
  ck_assert_msg (banger_spawn_vmm (&spec, NULL, &pid, &pidfd, &error), "%s",
                 error ? error->message : "");
  ck_assert_int_gt (pid, 0);
  ck_assert_int_ge (pidfd, 0);
  ck_assert (fcntl (pidfd, F_GETFD) & FD_CLOEXEC);
  ck_assert (banger_pidfd_wait_exit (pidfd, 10000));
  ck_assert_int_eq (banger_pidfd_waitid (pidfd, &info, WEXITED), 0);
  ck_assert_int_eq (info.si_pid, pid);
  ck_assert_int_eq (info.si_code, CLD_EXITED);
  ck_assert_int_eq (info.si_status, 0);
  close (pidfd);
  close (fd);
  ck_assert (g_file_get_contents (path, &out, NULL, NULL));
  unlink (path);
  return out;
}

START_TEST (test_environment_and_stdio)
{
  const char *const env[] = { "BANGER_X=hello world", NULL };
  g_autofree char *out = run_sh ("echo \"$BANGER_X\" \"${HOME-unset}\"; echo err >&2; sleep 0.2", -1,
                                 env);

  /* the given environment only (HOME is set here, not passed); stderr too */
  ck_assert_str_eq (out, "hello world unset\nerr\n");
}
END_TEST

START_TEST (test_only_stdio_and_fd3_reach_it)
{
  /* an fd without O_CLOEXEC, as an embedding program may have */
  int leaky = open ("/dev/null", O_RDONLY);
  int pass = open ("/dev/zero", O_RDONLY | O_CLOEXEC);
  g_autofree char *out = NULL;
  g_autofree char *out3 = NULL;

  ck_assert_int_ge (leaky, 3);
  /* (listed by a child of the shell: a glob in /proc/self/fd would show
   * the shell's own directory fd) */
  out = run_sh ("ls /proc/$$/fd; sleep 0.2", -1, NULL);
  ck_assert_str_eq (out, "0\n1\n2\n");
  out3 = run_sh ("ls /proc/$$/fd; readlink /proc/$$/fd/3; sleep 0.2", pass, NULL);
  ck_assert_str_eq (out3, "0\n1\n2\n3\n/dev/zero\n");
  close (leaky);
  close (pass);
}
END_TEST

START_TEST (test_signals_reset)
{
  sigset_t block, old;
  g_autofree char *out = NULL;

  /* the caller ignores SIGUSR1 (SIG_IGN survives exec) and blocks SIGTERM */
  signal (SIGUSR1, SIG_IGN);
  sigemptyset (&block);
  sigaddset (&block, SIGTERM);
  pthread_sigmask (SIG_BLOCK, &block, &old);
  /* read by the shell itself, before it forks (it blocks signals around
   * its children) */
  out = run_sh ("while read -r k v; do case $k in SigBlk:|SigIgn:) echo $k $v;; esac; done "
                "</proc/self/status; sleep 0.2",
                -1, NULL);
  pthread_sigmask (SIG_SETMASK, &old, NULL);
  signal (SIGUSR1, SIG_DFL);
  ck_assert_str_eq (out, "SigBlk: 0000000000000000\nSigIgn: 0000000000000000\n");
}
END_TEST

START_TEST (test_failed_start_is_typed)
{
  g_autoptr (GError) error = NULL;
  BangerSpawnSpec spec = { 0 };
  pid_t pid = 0;
  int pidfd = -1;

  {
    const char *argv[] = { "/nonexistent/vmm", NULL };
    spec.argv = argv;
    spec.stdout_fd = spec.pass_fd = -1;
    ck_assert (!banger_spawn_vmm (&spec, NULL, &pid, &pidfd, &error));
    banger_assert_error (error, BANGER_ERROR_NOT_FOUND);
    ck_assert_msg (strstr (error->message, "could not exec") != NULL, "%s", error->message);
    g_clear_error (&error);
  }
  {
    const char *argv[] = { "/bin/true", NULL };
    spec.argv = argv;
    spec.cwd = "/nonexistent";
    ck_assert (!banger_spawn_vmm (&spec, NULL, &pid, &pidfd, &error));
    banger_assert_error (error, BANGER_ERROR_NOT_FOUND);
    ck_assert_msg (strstr (error->message, "could not chdir") != NULL, "%s", error->message);
    g_clear_error (&error);
    spec.cwd = NULL;
  }
  {
    const char *argv[] = { "true", NULL };
    spec.argv = argv;
    ck_assert (!banger_spawn_vmm (&spec, NULL, &pid, &pidfd, &error));
    banger_assert_error (error, BANGER_ERROR_INVALID_ARGUMENT);
    g_clear_error (&error);
  }
  {
    const char *argv[] = { "/bin/true", NULL };
    g_autoptr (GCancellable) cancellable = g_cancellable_new ();
    spec.argv = argv;
    g_cancellable_cancel (cancellable);
    ck_assert (!banger_spawn_vmm (&spec, cancellable, &pid, &pidfd, &error));
    banger_assert_error (error, BANGER_ERROR_CANCELLED);
  }
  /* out-parameters untouched on failure */
  ck_assert_int_eq (pid, 0);
  ck_assert_int_eq (pidfd, -1);
}
END_TEST

static Suite *
spawn_suite (void)
{
  Suite *s = suite_create ("spawn");
  TCase *tc = tcase_create ("spawn");

  tcase_add_test (tc, test_environment_and_stdio);
  tcase_add_test (tc, test_only_stdio_and_fd3_reach_it);
  tcase_add_test (tc, test_signals_reset);
  tcase_add_test (tc, test_failed_start_is_typed);
  suite_add_tcase (s, tc);
  return s;
}

BANGER_TEST_MAIN (spawn_suite)
