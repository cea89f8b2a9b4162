/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * priv.launch_vmm / signal_process / kill_process / cleanup_vm for real, as
 * root, with a fake VMM (fake-vmm.c) as the configured "firecracker", in a
 * test-private cgroup root under cgroup2 and a network namespace, both made
 * and removed by the test.  The attack cases of issue 3: impostor processes
 * that carry a banger-looking --api-sock and argv[0] "firecracker" but fail
 * one of the adoption conditions (cgroup merely containing banger's scope
 * name, nested below it, wrong uid, socket of another VM or outside the
 * runtime dir), and a recycled PID forced with ns_last_pid in a private PID
 * namespace.  Each refusal checks the target is still alive. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "banger.h"
#include "banger-cgroup.h"
#include "banger-host-names.h"
#include "banger-pidfd.h"
#include "banger-priv-dirs.h"
#include "banger-priv-ops-private.h"
#include "banger-proc-identity.h"
#include "banger-test.h"
#include "banger-vm-cgroup.h"
#include "banger-vmm-authorize.h"
#include "host-test-util.h"

static const char *
fake_vmm (void)
{
  const char *p = g_getenv ("BANGER_TEST_FAKE_VMM");
  ck_assert_msg (p != NULL, "BANGER_TEST_FAKE_VMM is not set (run through meson)");
  return p;
}

static BangerPrivState *
vmm_state (void)
{
  BangerPrivState *state = host_test_state_new (TRUE);
  state->firecracker_path = g_strdup (fake_vmm ());
  return state;
}

static gboolean
alive (pid_t pid)
{
  return kill (pid, 0) == 0;
}

/* Wait (bounded) for a pid to exit; reaps it if it is our child. */
static gboolean
wait_gone (BangerPrivState *state, pid_t pid)
{
  for (int i = 0; i < 300; i++)
    {
      if (state != NULL)
        banger_priv_state_reap (state);
      waitpid (pid, NULL, WNOHANG);
      if (!alive (pid))
        return TRUE;
      g_usleep (10 * 1000);
    }
  return FALSE;
}

static pid_t
launch (BangerPrivState *state, const char *vm_id, char **out_api)
{
  g_autofree char *p = g_strdup_printf ("{\"vm_id\":\"%s\",\"vmm\":\"firecracker\"}", vm_id);
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) r = host_test_call (state, "priv.launch_vmm", p, &error);
  JsonObject *o;
  pid_t pid;

  ck_assert_msg (r != NULL, "launch %s: %s", vm_id, error ? error->message : "");
  o = json_node_get_object (r);
  pid = (pid_t) json_object_get_int_member (o, "pid");
  if (out_api)
    *out_api = g_strdup (json_object_get_string_member (o, "api_sock"));
  /* jailed: the jail root, where the client stages the VM's files */
  if (state->jailer_path != NULL)
    {
      g_autofree char *exec = g_path_get_basename (state->firecracker_path);
      g_autofree char *want
          = g_build_filename (state->runtime_dir, "jail", exec, vm_id, "root", NULL);
      ck_assert_str_eq (json_object_get_string_member_with_default (o, "jail_root", ""), want);
    }
  else
    ck_assert (!json_object_has_member (o, "jail_root"));
  /* the fake makes its socket once it runs as the VMM */
  for (int i = 0; i < 300; i++)
    {
      if (g_file_test (json_object_get_string_member (o, "api_sock"), G_FILE_TEST_EXISTS))
        break;
      g_usleep (10 * 1000);
    }
  return pid;
}

static JsonNode *
signal_pid (BangerPrivState *state, pid_t pid, const char *sig, GError **error)
{
  g_autofree char *p = g_strdup_printf ("{\"pid\":%d,\"signal\":\"%s\"}", pid, sig);
  return host_test_call (state, "priv.signal_process", p, error);
}

START_TEST (test_launch_and_signal)
{
  BangerPrivState *state = vmm_state ();
  g_autofree char *api = NULL;
  g_autofree char *cg = NULL;
  g_autofree char *expected_cg = NULL;
  g_autofree char *status = NULL;
  g_autofree char *log = NULL;
  g_autofree char *statusf = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) r = NULL;
  pid_t pid;

  /* the helper's umask (bangerd-root.service: UMask=0077) */
  umask (0077);
  pid = launch (state, "web-1", &api);
  ck_assert (alive (pid));
  ck_assert (g_file_test (api, G_FILE_TEST_EXISTS));
  ck_assert (banger_path_is_under (api, state->runtime_dir));
  /* in its own scope, exactly */
  cg = banger_vm_cgroup_of_pid (pid, NULL);
  expected_cg = banger_priv_state_scope_relpath (state, "web-1", NULL);
  ck_assert_str_eq (cg, expected_cg);
  ck_assert (g_str_has_suffix (cg, "/banger-web-1.scope"));
  /* in its own session, as the owner */
  ck_assert_int_eq (getsid (pid), pid);
  statusf = g_strdup_printf ("/proc/%d/status", pid);
  ck_assert (g_file_get_contents (statusf, &status, NULL, NULL));
  ck_assert_msg (strstr (status, "Uid:\t65534\t65534\t65534\t65534") != NULL, "%s", status);
  ck_assert_msg (strstr (status, "Groups:\t65534") != NULL || strstr (status, "Groups:\t\n") != NULL,
                 "supplementary groups must be the owner's: %s", status);
  /* its log, in the owner's run dir */
  {
    g_autofree char *logf = g_build_filename (state->runtime_dir, "vm", "web-1", "vmm.log", NULL);
    ck_assert (g_file_get_contents (logf, &log, NULL, NULL));
    ck_assert (strstr (log, "fake-vmm ready") != NULL);
  }
  /* a launch while the VM's scope still has a process (as after a helper
   * restart) is refused without touching that VM's socket */
  {
    g_autoptr (GHashTable) saved = NULL;
    g_autoptr (GError) e = NULL;
    g_autoptr (JsonNode) r2 = NULL;
    g_mutex_lock (&state->lock);
    saved = g_steal_pointer (&state->vmms);
    g_mutex_unlock (&state->lock);
    r2 = host_test_call (state, "priv.launch_vmm", "{\"vm_id\":\"web-1\",\"vmm\":\"firecracker\"}", &e);
    ck_assert_ptr_null (r2);
    banger_assert_error (e, BANGER_ERROR_BUSY);
    ck_assert (g_file_test (api, G_FILE_TEST_EXISTS));
    g_mutex_lock (&state->lock);
    g_clear_pointer (&state->vmms, g_hash_table_unref);
    state->vmms = g_steal_pointer (&saved);
    g_mutex_unlock (&state->lock);
  }
  /* a second launch of the same VM is refused */
  {
    g_autoptr (GError) e = NULL;
    g_autoptr (JsonNode) r2 = host_test_call (state, "priv.launch_vmm",
                                              "{\"vm_id\":\"web-1\",\"vmm\":\"firecracker\"}", &e);
    ck_assert_ptr_null (r2);
    banger_assert_error (e, BANGER_ERROR_ALREADY_EXISTS);
  }
  r = signal_pid (state, pid, "TERM", &error);
  g_assert_no_error (error);
  ck_assert_str_eq (json_object_get_string_member (json_node_get_object (r), "vm_id"), "web-1");
  ck_assert (wait_gone (state, pid));
  /* reaped and forgotten: a signal now finds nothing */
  {
    g_autoptr (GError) e = NULL;
    g_autoptr (JsonNode) r3 = signal_pid (state, pid, "TERM", &e);
    ck_assert_ptr_null (r3);
    ck_assert (e->code == BANGER_ERROR_NOT_FOUND || e->code == BANGER_ERROR_PERMISSION_DENIED);
  }
  host_test_state_free (state);
}
END_TEST

START_TEST (test_kill_process)
{
  BangerPrivState *state = vmm_state ();
  g_autofree char *p = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) r = NULL;
  pid_t pid = launch (state, "web-2", NULL);

  p = g_strdup_printf ("{\"pid\":%d}", pid);
  r = host_test_call (state, "priv.kill_process", p, &error);
  g_assert_no_error (error);
  ck_assert_str_eq (json_object_get_string_member (json_node_get_object (r), "signal"), "KILL");
  ck_assert (wait_gone (state, pid));
  host_test_state_free (state);
}
END_TEST

/* The helper restarts: its registry (and pidfds) are gone, the VMM keeps
 * running, and the new helper may still signal it — by adoption. */
START_TEST (test_survives_restart_and_adoption)
{
  BangerPrivState *state = vmm_state ();
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) r = NULL;
  pid_t pid = launch (state, "web-3", NULL);

  g_mutex_lock (&state->lock);
  g_hash_table_remove_all (banger_priv_state_vmms_locked (state));
  g_mutex_unlock (&state->lock);
  g_usleep (50 * 1000);
  ck_assert (alive (pid));
  r = signal_pid (state, pid, "KILL", &error);
  g_assert_no_error (error);
  ck_assert_str_eq (json_object_get_string_member (json_node_get_object (r), "vm_id"), "web-3");
  ck_assert (wait_gone (NULL, pid));
  host_test_state_free (state);
}
END_TEST

/* ---------------------------------------------------------- impostors */

/* fork + (join @cgroup) + (become @uid) + exec the fake as "firecracker"
 * with --api-sock @sock. */
static pid_t
spawn_impostor (const char *cgroup, uid_t uid, const char *sock)
{
  const char *fake = fake_vmm ();
  g_autofree char *procs = cgroup ? g_build_filename (cgroup, "cgroup.procs", NULL) : NULL;
  int procs_fd = procs ? open (procs, O_WRONLY | O_CLOEXEC) : -1;
  pid_t pid;

  ck_assert (procs == NULL || procs_fd >= 0);
  pid = fork ();
  if (pid == 0)
    {
      char *const argv[] = { (char *) "firecracker", (char *) "--api-sock", (char *) sock, NULL };
      int null_fd = open ("/dev/null", O_RDWR);
      dup2 (null_fd, 1);
      dup2 (null_fd, 2);
      if (procs_fd >= 0 && write (procs_fd, "0", 1) != 1)
        _exit (120);
      if (setgroups (0, NULL) < 0 || setresgid (uid, uid, uid) < 0 || setresuid (uid, uid, uid) < 0)
        _exit (121);
      execv (fake, argv);
      _exit (122);
    }
  if (procs_fd >= 0)
    close (procs_fd);
  ck_assert_int_gt (pid, 0);
  /* wait until it is the impostor (its cmdline starts with "firecracker") */
  for (int i = 0; i < 300; i++)
    {
      g_autofree char *f = g_strdup_printf ("/proc/%d/cmdline", pid);
      g_autofree char *c = NULL;
      if (g_file_get_contents (f, &c, NULL, NULL) && g_str_equal (c, "firecracker"))
        break;
      g_usleep (10 * 1000);
    }
  return pid;
}

static void
kill_impostor (pid_t pid)
{
  kill (pid, SIGKILL);
  waitpid (pid, NULL, 0);
}

START_TEST (test_adoption_attacks)
{
  BangerPrivState *state = vmm_state ();
  g_autofree char *scope = NULL;
  /* outside banger's root (a sibling of it), removed by the teardown too */
  g_autofree char *evil_parent = g_strdup_printf ("%s-evil", state->cgroup_root);
  g_autofree char *evil_same_name = NULL;
  g_autofree char *nested = NULL;
  g_autofree char *suffixed = NULL;
  g_autofree char *good_sock = g_strdup_printf ("%s/vm/web-9/fc.sock", state->runtime_dir);
  g_autofree char *other_vm_sock = g_strdup_printf ("%s/vm/web-8/fc.sock", state->runtime_dir);
  g_autofree char *outside_sock = g_strdup_printf ("/tmp/banger-test-%d.sock", (int) getpid ());
  g_autofree char *runtime_only = g_strdup_printf ("%s/x", state->runtime_dir);
  g_autoptr (GError) error = NULL;
  int fd;

  /* web-9's run dir and scope exist, as after a helper restart */
  fd = banger_priv_ensure_dir (state->runtime_dir, "vm/web-9", 0700, HOST_TEST_OWNER_UID,
                               HOST_TEST_OWNER_GID, &error);
  g_assert_no_error (error);
  close (fd);
  fd = banger_priv_ensure_dir (state->runtime_dir, "vm/web-8", 0700, HOST_TEST_OWNER_UID,
                               HOST_TEST_OWNER_GID, &error);
  close (fd);
  scope = banger_vm_cgroup_ensure (state, "web-9", &error);
  g_assert_no_error (error);
  evil_same_name = g_build_filename (evil_parent, "banger-web-9.scope", NULL);
  nested = g_build_filename (scope, "sub", NULL);
  suffixed = g_strdup_printf ("%s-evil", scope);
  ck_assert_int_eq (g_mkdir_with_parents (evil_same_name, 0755), 0);
  ck_assert_int_eq (mkdir (nested, 0755), 0);
  ck_assert_int_eq (mkdir (suffixed, 0755), 0);

  {
    struct
    {
      const char *what;
      const char *cgroup;
      uid_t uid;
      const char *sock;
    } cases[] = {
      { "cmdline alone (argv[0] firecracker, --api-sock <runtime>/x), not in a scope", NULL, HOST_TEST_OWNER_UID, runtime_only },
      { "cmdline alone with the VM's own socket path", NULL, HOST_TEST_OWNER_UID, good_sock },
      { "cgroup path merely containing banger's scope name", evil_same_name, HOST_TEST_OWNER_UID, good_sock },
      { "cgroup nested below the scope", nested, HOST_TEST_OWNER_UID, good_sock },
      { "cgroup named like the scope plus a suffix", suffixed, HOST_TEST_OWNER_UID, good_sock },
      { "exact scope but another uid (root)", scope, 0, good_sock },
      { "exact scope but another VM's socket", scope, HOST_TEST_OWNER_UID, other_vm_sock },
      { "exact scope but a socket outside the runtime dir", scope, HOST_TEST_OWNER_UID, outside_sock },
    };

    for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
      {
        pid_t pid = spawn_impostor (cases[i].cgroup, cases[i].uid, cases[i].sock);
        const char *sigs[] = { "KILL", "TERM" };
        for (gsize s = 0; s < G_N_ELEMENTS (sigs); s++)
          {
            g_autoptr (GError) e = NULL;
            g_autoptr (JsonNode) r = signal_pid (state, pid, sigs[s], &e);
            ck_assert_msg (r == NULL, "signalled an impostor: %s", cases[i].what);
            banger_assert_error (e, BANGER_ERROR_PERMISSION_DENIED);
          }
        {
          g_autofree char *p = g_strdup_printf ("{\"pid\":%d}", pid);
          g_autoptr (GError) e = NULL;
          g_autoptr (JsonNode) r = host_test_call (state, "priv.kill_process", p, &e);
          ck_assert_msg (r == NULL, "killed an impostor: %s", cases[i].what);
          banger_assert_error (e, BANGER_ERROR_PERMISSION_DENIED);
        }
        g_usleep (20 * 1000);
        ck_assert_msg (alive (pid) && waitpid (pid, NULL, WNOHANG) == 0,
                       "impostor died: %s", cases[i].what);
        kill_impostor (pid);
      }
  }

  /* positive control: exact scope, owner uid, its own VM's socket → adopted */
  {
    pid_t pid = spawn_impostor (scope, HOST_TEST_OWNER_UID, good_sock);
    g_autoptr (GError) e = NULL;
    g_autoptr (JsonNode) r = signal_pid (state, pid, "KILL", &e);
    g_assert_no_error (e);
    ck_assert_str_eq (json_object_get_string_member (json_node_get_object (r), "vm_id"), "web-9");
    waitpid (pid, NULL, 0);
  }

  rmdir (nested);
  rmdir (suffixed);
  rmdir (evil_same_name);
  rmdir (evil_parent);
  unlink (outside_sock);
  host_test_state_free (state);
}
END_TEST

/* ------------------------------------------------------- recycled pid */

#define NS_CHECK(cond)                                                                         \
  do                                                                                           \
    {                                                                                          \
      if (!(cond))                                                                             \
        {                                                                                      \
          fprintf (stderr, "# recycled-pid: check failed line %d: %s\n", __LINE__, #cond);     \
          _exit (1);                                                                           \
        }                                                                                      \
    }                                                                                          \
  while (0)

static int
recycled_pid_in_ns (BangerPrivState *state)
{
  g_autoptr (GError) error = NULL;
  BangerPrivVmm *vmm;
  int old_pidfd;
  pid_t vmm_pid, new_pid;
  char buf[32];
  int fd;

  NS_CHECK (getpid () == 1);
  NS_CHECK (mount (NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0);
  NS_CHECK (mount ("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) == 0);

  vmm_pid = launch (state, "web-4", NULL);
  g_mutex_lock (&state->lock);
  vmm = g_hash_table_lookup (banger_priv_state_vmms_locked (state), "web-4");
  NS_CHECK (vmm != NULL && vmm->pid == vmm_pid);
  old_pidfd = fcntl (vmm->pidfd, F_DUPFD_CLOEXEC, 3);
  g_mutex_unlock (&state->lock);

  /* the VMM exits (killed through the helper) and is reaped */
  {
    g_autofree char *p = g_strdup_printf ("{\"pid\":%d}", vmm_pid);
    g_autoptr (JsonNode) r = host_test_call (state, "priv.kill_process", p, &error);
    NS_CHECK (r != NULL);
  }
  NS_CHECK (wait_gone (state, vmm_pid));
  NS_CHECK (banger_pidfd_send_signal (old_pidfd, 0) < 0 && errno == ESRCH);

  /* force the next process onto the same pid */
  fd = open ("/proc/sys/kernel/ns_last_pid", O_WRONLY | O_CLOEXEC);
  NS_CHECK (fd >= 0);
  g_snprintf (buf, sizeof buf, "%d", vmm_pid - 1);
  NS_CHECK (write (fd, buf, strlen (buf)) > 0);
  close (fd);
  new_pid = fork ();
  if (new_pid == 0)
    {
      execl ("/bin/sleep", "sleep", "30", (char *) NULL);
      _exit (127);
    }
  fprintf (stderr, "# recycled-pid: VMM had pid %d, the new process got %d\n", vmm_pid, new_pid);
  NS_CHECK (new_pid == vmm_pid);

  /* the old pidfd cannot reach the newcomer … */
  NS_CHECK (banger_pidfd_send_signal (old_pidfd, SIGKILL) < 0 && errno == ESRCH);
  /* … and neither can a request naming the pid */
  {
    const char *sigs[] = { "KILL", "TERM" };
    for (gsize i = 0; i < G_N_ELEMENTS (sigs); i++)
      {
        g_autoptr (GError) e = NULL;
        g_autoptr (JsonNode) r = signal_pid (state, new_pid, sigs[i], &e);
        NS_CHECK (r == NULL);
        NS_CHECK (e->code == BANGER_ERROR_PERMISSION_DENIED);
      }
  }
  g_usleep (20 * 1000);
  NS_CHECK (waitpid (new_pid, NULL, WNOHANG) == 0);
  kill (new_pid, SIGKILL);
  waitpid (new_pid, NULL, 0);
  close (old_pidfd);
  return 0;
}

START_TEST (test_recycled_pid)
{
  BangerPrivState *state = vmm_state ();
  pid_t child;
  int status;

  /* An intermediate process enters the new PID namespace (its first child
   * is that namespace's init); this process stays where it is. */
  child = fork ();
  ck_assert_int_ge (child, 0);
  if (child == 0)
    {
      pid_t init;
      int st;
      if (unshare (CLONE_NEWPID | CLONE_NEWNS) < 0)
        _exit (90);
      init = fork ();
      if (init < 0)
        _exit (91);
      if (init == 0)
        _exit (recycled_pid_in_ns (state));
      if (waitpid (init, &st, 0) != init)
        _exit (92);
      _exit (WIFEXITED (st) ? WEXITSTATUS (st) : 93);
    }
  ck_assert_int_eq (waitpid (child, &status, 0), child);
  ck_assert_msg (WIFEXITED (status) && WEXITSTATUS (status) == 0,
                 "recycled-pid scenario failed (status %d)", status);
  host_test_state_free (state);
}
END_TEST

/* ------------------------------------------------------------- cleanup */

START_TEST (test_cleanup_vm)
{
  BangerPrivState *state = vmm_state ();
  g_autoptr (GError) error = NULL;
  g_autofree char *outside = NULL;
  g_autofree char *outside_file = NULL;
  g_autofree char *run = NULL;
  g_autofree char *jail_root = NULL;
  g_autofree char *scope = NULL;
  g_autoptr (JsonNode) r = NULL;
  pid_t pid;

  host_test_netns_enter ();
  ck_assert_int_eq (unshare (CLONE_NEWNS), 0);
  ck_assert_int_eq (mount (NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), 0);

  outside = g_dir_make_tmp ("banger-outside-XXXXXX", &error);
  outside_file = g_build_filename (outside, "precious", NULL);
  ck_assert (g_file_set_contents (outside_file, "keep me", -1, NULL));

  pid = launch (state, "web-5", NULL);
  run = g_build_filename (state->runtime_dir, "vm", "web-5", NULL);
  /* plant a symlink and a subdir in the run dir, and a jail with mounts */
  {
    g_autofree char *l = g_build_filename (run, "evil", NULL);
    g_autofree char *d = g_build_filename (run, "d/e", NULL);
    ck_assert_int_eq (symlink (outside, l), 0);
    ck_assert_int_eq (g_mkdir_with_parents (d, 0700), 0);
  }
  jail_root = g_build_filename (state->runtime_dir, "jail", "fake-vmm", "web-5", "root", NULL);
  ck_assert_int_eq (g_mkdir_with_parents (jail_root, 0755), 0);
  {
    g_autofree char *mnt = g_build_filename (jail_root, "mnt", NULL);
    g_autofree char *disk = g_build_filename (jail_root, "disk-rootfs", NULL);
    g_autofree char *l = g_build_filename (jail_root, "evil", NULL);
    g_autofree char *run_mnt = g_build_filename (run, "mnt", NULL);
    ck_assert_int_eq (mkdir (mnt, 0755), 0);
    ck_assert_int_eq (mkdir (run_mnt, 0755), 0);
    ck_assert (g_file_set_contents (disk, "", -1, NULL));
    ck_assert_int_eq (symlink (outside_file, l), 0);
    /* a directory and a file (a VM disk) bind-mounted into the jail, a
     * directory into the run dir */
    ck_assert_int_eq (mount (outside, mnt, NULL, MS_BIND, NULL), 0);
    ck_assert_int_eq (mount (outside_file, disk, NULL, MS_BIND, NULL), 0);
    ck_assert_int_eq (mount (outside, run_mnt, NULL, MS_BIND, NULL), 0);

    /* the run dir's mount is refused there (the jail's are detached, the
     * jail removed), everything else done */
    r = host_test_call (state, "priv.cleanup_vm", "{\"vm_id\":\"web-5\"}", &error);
    ck_assert_ptr_null (r);
    banger_assert_error (error, BANGER_ERROR_PERMISSION_DENIED);
    g_clear_error (&error);
    ck_assert (wait_gone (state, pid));
    ck_assert (g_file_test (run, G_FILE_TEST_EXISTS));
    ck_assert (!g_file_test (jail_root, G_FILE_TEST_EXISTS));
    ck_assert_int_eq (umount (run_mnt), 0);
  }
  /* the bind mounts' sources are untouched */
  {
    g_autofree char *text = NULL;
    ck_assert (g_file_get_contents (outside_file, &text, NULL, NULL));
    ck_assert_str_eq (text, "keep me");
  }

  /* now it all goes; the symlinked file outside survives */
  r = host_test_call (state, "priv.cleanup_vm", "{\"vm_id\":\"web-5\"}", &error);
  g_assert_no_error (error);
  {
    JsonArray *removed = json_object_get_array_member (json_node_get_object (r), "removed");
    ck_assert_uint_eq (json_array_get_length (removed), 1);
    ck_assert_str_eq (json_array_get_string_element (removed, 0), "run_dir");
  }
  g_clear_pointer (&r, json_node_unref);
  ck_assert (g_file_test (outside_file, G_FILE_TEST_EXISTS));
  ck_assert (!g_file_test (run, G_FILE_TEST_EXISTS));
  scope = g_build_filename (state->cgroup_root, "banger-web-5.scope", NULL);
  ck_assert (!g_file_test (scope, G_FILE_TEST_EXISTS));

  /* idempotent */
  r = host_test_call (state, "priv.cleanup_vm", "{\"vm_id\":\"web-5\"}", &error);
  g_assert_no_error (error);
  ck_assert_uint_eq (json_array_get_length (json_object_get_array_member (json_node_get_object (r),
                                                                          "removed")), 0);
  unlink (outside_file);
  rmdir (outside);
  host_test_state_free (state);
}
END_TEST

/* cleanup of a VM whose helper restarted: nothing in the registry, the
 * process found and killed through its cgroup scope */
START_TEST (test_cleanup_after_restart)
{
  BangerPrivState *state = vmm_state ();
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) r = NULL;
  pid_t pid;

  host_test_netns_enter ();
  pid = launch (state, "web-6", NULL);
  g_mutex_lock (&state->lock);
  g_hash_table_remove_all (banger_priv_state_vmms_locked (state));
  g_mutex_unlock (&state->lock);
  r = host_test_call (state, "priv.cleanup_vm", "{\"vm_id\":\"web-6\"}", &error);
  g_assert_no_error (error);
  ck_assert (wait_gone (NULL, pid));
  {
    JsonArray *removed = json_object_get_array_member (json_node_get_object (r), "removed");
    ck_assert_str_eq (json_array_get_string_element (removed, 0), "cgroup");
  }
  host_test_state_free (state);
}
END_TEST

/* The unit may not grant CAP_SYS_PTRACE: adopting a directly launched VMM
 * must not need it (no /proc/<pid>/root readlink for a socket path that is
 * already under the runtime dir). */
START_TEST (test_adoption_without_ptrace)
{
  BangerPrivState *state = vmm_state ();
  struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
  struct __user_cap_data_struct data[2];
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) r = NULL;
  g_autofree char *root_link = NULL;
  pid_t pid = launch (state, "web-7", NULL);

  g_mutex_lock (&state->lock);
  g_hash_table_remove_all (banger_priv_state_vmms_locked (state));
  g_mutex_unlock (&state->lock);

  ck_assert_int_eq (syscall (SYS_capget, &hdr, data), 0);
  data[CAP_TO_INDEX (CAP_SYS_PTRACE)].effective &= ~CAP_TO_MASK (CAP_SYS_PTRACE);
  data[CAP_TO_INDEX (CAP_SYS_PTRACE)].permitted &= ~CAP_TO_MASK (CAP_SYS_PTRACE);
  ck_assert_int_eq (syscall (SYS_capset, &hdr, data), 0);
  /* really without it: the VMM's root is now unreadable to us */
  root_link = g_strdup_printf ("/proc/%d/root", pid);
  ck_assert_ptr_null (g_file_read_link (root_link, NULL));

  r = signal_pid (state, pid, "KILL", &error);
  g_assert_no_error (error);
  ck_assert (wait_gone (NULL, pid));
  host_test_state_free (state);
}
END_TEST

START_TEST (test_launch_refuses_unsafe_binary)
{
  BangerPrivState *state = vmm_state ();
  g_autofree char *copy = g_build_filename (state->state_dir, "firecracker", NULL);
  g_autofree char *contents = NULL;
  gsize len;
  g_autofree char *scope = NULL;

  ck_assert (g_file_get_contents (fake_vmm (), &contents, &len, NULL));
  ck_assert (g_file_set_contents (copy, contents, len, NULL));
  ck_assert_int_eq (chmod (copy, 0755), 0);
  ck_assert_int_eq (chown (copy, HOST_TEST_OWNER_UID, HOST_TEST_OWNER_GID), 0);
  g_free (state->firecracker_path);
  state->firecracker_path = g_strdup (copy);
  {
    g_autoptr (GError) e = NULL;
    g_autoptr (JsonNode) r = host_test_call (state, "priv.launch_vmm",
                                             "{\"vm_id\":\"web-8\",\"vmm\":\"firecracker\"}", &e);
    ck_assert_ptr_null (r);
    banger_assert_error (e, BANGER_ERROR_PERMISSION_DENIED);
  }
  /* root-owned but group-writable */
  ck_assert_int_eq (chown (copy, 0, 0), 0);
  ck_assert_int_eq (chmod (copy, 0775), 0);
  {
    g_autoptr (GError) e = NULL;
    g_autoptr (JsonNode) r = host_test_call (state, "priv.launch_vmm",
                                             "{\"vm_id\":\"web-8\",\"vmm\":\"firecracker\"}", &e);
    ck_assert_ptr_null (r);
    banger_assert_error (e, BANGER_ERROR_PERMISSION_DENIED);
  }
  scope = g_build_filename (state->cgroup_root, "banger-web-8.scope", NULL);
  ck_assert (!g_file_test (scope, G_FILE_TEST_EXISTS));
  host_test_state_free (state);
}
END_TEST

/* Through a jailer (fake-jailer.c: really chroots and drops privileges):
 * the template's argv is accepted, the jailer starts in the VM's scope, the
 * VMM ends up chrooted as the owner; after a restart it is adopted by
 * joining its --api-sock to /proc/<pid>/root; cleanup removes the jail. */
START_TEST (test_launch_jailed)
{
  BangerPrivState *state = vmm_state ();
  g_autofree char *api = NULL;
  g_autofree char *expected_api = NULL;
  g_autofree char *jail = NULL;
  g_autofree char *root_link = NULL;
  g_autofree char *root = NULL;
  g_autofree char *cg = NULL;
  g_autofree char *expected_cg = NULL;
  g_auto (GStrv) argv = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) r = NULL;
  pid_t pid;

  host_test_netns_enter ();
  ck_assert_msg (g_getenv ("BANGER_TEST_FAKE_JAILER") && g_getenv ("BANGER_TEST_FAKE_VMM_STATIC"),
                 "run through meson");
  g_free (state->firecracker_path);
  state->firecracker_path = g_strdup (g_getenv ("BANGER_TEST_FAKE_VMM_STATIC"));
  state->jailer_path = g_strdup (g_getenv ("BANGER_TEST_FAKE_JAILER"));

  pid = launch (state, "web-j", &api);
  jail = g_build_filename (state->runtime_dir, "jail", "fake-vmm-static", "web-j", NULL);
  expected_api = g_build_filename (jail, "root", "fc.sock", NULL);
  ck_assert_str_eq (api, expected_api);
  ck_assert_msg (g_file_test (api, G_FILE_TEST_EXISTS), "the jailed VMM did not make its socket");
  cg = banger_vm_cgroup_of_pid (pid, NULL);
  expected_cg = banger_priv_state_scope_relpath (state, "web-j", NULL);
  ck_assert_str_eq (cg, expected_cg);
  root_link = g_strdup_printf ("/proc/%d/root", pid);
  root = g_file_read_link (root_link, NULL);
  ck_assert_ptr_nonnull (root);
  ck_assert (g_str_has_suffix (root, "/jail/fake-vmm-static/web-j/root"));
  argv = banger_proc_read_cmdline (pid, NULL);
  ck_assert_str_eq (argv[0], "fake-vmm-static");
  ck_assert_str_eq (argv[1], "--id");
  ck_assert_str_eq (argv[2], "web-j");
  ck_assert_str_eq (argv[3], "--api-sock");
  ck_assert_str_eq (argv[4], "/fc.sock");

  /* restart, then adoption through the jail root */
  g_mutex_lock (&state->lock);
  g_hash_table_remove_all (banger_priv_state_vmms_locked (state));
  g_mutex_unlock (&state->lock);
  r = signal_pid (state, pid, "TERM", &error);
  g_assert_no_error (error);
  ck_assert_str_eq (json_object_get_string_member (json_node_get_object (r), "vm_id"), "web-j");
  ck_assert (wait_gone (NULL, pid));
  g_clear_pointer (&r, json_node_unref);

  /* the jail it left behind does not stop the next launch of the VM */
  ck_assert (g_file_test (jail, G_FILE_TEST_IS_DIR));
  pid = launch (state, "web-j", NULL);
  ck_assert_int_eq (kill (pid, 0), 0);

  r = host_test_call (state, "priv.cleanup_vm", "{\"vm_id\":\"web-j\"}", &error);
  g_assert_no_error (error);
  ck_assert (wait_gone (state, pid));
  ck_assert (!g_file_test (jail, G_FILE_TEST_EXISTS));
  host_test_state_free (state);
}
END_TEST

/* QEMU: the template's argv reaches the process (the fake stands in for
 * qemu-system-x86_64), signals go through the registry; after a restart a
 * QEMU cannot be adopted by pid (no --api-sock) but cleanup_vm stops it
 * through its scope. */
START_TEST (test_launch_qemu)
{
  BangerPrivState *state = vmm_state ();
  g_autofree char *kernel = g_build_filename (state->state_dir, "vmlinuz", NULL);
  g_autofree char *rootfs = g_build_filename (state->state_dir, "root.ext4", NULL);
  g_autofree char *params = NULL;
  g_autofree char *tap = banger_host_tap_name ("web-q", NULL);
  g_autofree char *netdev = NULL;
  g_auto (GStrv) argv = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) r = NULL;
  pid_t pid;

  host_test_netns_enter ();
  state->qemu_path = g_strdup (fake_vmm ());
  /* without the VM's tap, launching with tap: true is refused */
  {
    g_autofree char *p0 = g_strdup_printf ("{\"vm_id\":\"web-q\",\"vmm\":\"qemu\",\"kernel\":\"%s\","
                                           "\"rootfs\":\"%s\",\"tap\":true}", kernel, rootfs);
    g_autoptr (GError) e = NULL;
    g_autoptr (JsonNode) r0 = host_test_call (state, "priv.launch_vmm", p0, &e);
    ck_assert_ptr_null (r0);
    banger_assert_error (e, BANGER_ERROR_NOT_FOUND);
  }
  {
    g_autoptr (GError) e = NULL;
    g_autoptr (JsonNode) r0 = host_test_call (state, "priv.create_tap", "{\"vm_id\":\"web-q\"}", &e);
    g_assert_no_error (e);
    ck_assert_ptr_nonnull (r0);
  }
  params = g_strdup_printf ("{\"vm_id\":\"web-q\",\"vmm\":\"qemu\",\"kernel\":\"%s\","
                            "\"rootfs\":\"%s\",\"tap\":true,\"mem_mib\":128,\"vcpus\":2,"
                            "\"boot_args\":\"console=ttyS0 quiet\"}", kernel, rootfs);
  r = host_test_call (state, "priv.launch_vmm", params, &error);
  g_assert_no_error (error);
  pid = (pid_t) json_object_get_int_member (json_node_get_object (r), "pid");
  ck_assert (g_str_has_suffix (json_object_get_string_member (json_node_get_object (r), "api_sock"),
                               "/vm/web-q/qmp.sock"));
  ck_assert (g_str_has_suffix (json_object_get_string_member (json_node_get_object (r), "console"),
                               "/vm/web-q/console.log"));
  /* the caller's own pidfd: pid + start time name exactly this process */
  {
    gint64 start = json_object_get_int_member (json_node_get_object (r), "start_time");
    g_autoptr (GError) e = NULL;
    int pidfd = banger_pidfd_open_verified (pid, (guint64) start, &e);
    g_assert_no_error (e);
    ck_assert_int_ge (pidfd, 0);
    close (pidfd);
    ck_assert_int_eq (banger_pidfd_open_verified (pid, (guint64) start + 1, &e), -1);
    banger_assert_error (e, BANGER_ERROR_NOT_FOUND);
  }
  g_clear_pointer (&r, json_node_unref);
  for (int i = 0; i < 300; i++)
    {
      g_clear_pointer (&argv, g_strfreev);
      argv = banger_proc_read_cmdline (pid, NULL);
      if (argv && g_strv_length (argv) > 3)
        break;
      g_usleep (10 * 1000);
    }
  {
    g_autofree char *joined = g_strjoinv (" ", argv);
    netdev = g_strdup_printf ("/proc/%d/fd/3", pid);
    ck_assert_msg (strstr (joined, "-M microvm -accel tcg -name web-q,debug-threads=on -m 128 "
                                   "-smp 2") != NULL, "%s", joined);
    ck_assert_msg (strstr (joined, "-netdev tap,id=net0,fd=3") != NULL, "%s", joined);
    /* fd 3 of the VMM is a queue of its tap (opened by the helper) */
    {
      g_autofree char *target = g_file_read_link (netdev, NULL);
      g_autofree char *fdinfo_path = g_strdup_printf ("/proc/%d/fdinfo/3", pid);
      g_autofree char *fdinfo = NULL;
      ck_assert_str_eq (target, "/dev/net/tun");
      ck_assert (g_file_get_contents (fdinfo_path, &fdinfo, NULL, NULL));
      ck_assert_msg (strstr (fdinfo, tap) != NULL, "fd 3 is not attached to %s: %s", tap, fdinfo);
    }
    ck_assert_msg (strstr (joined, "-append console=ttyS0 quiet") != NULL, "%s", joined);
  }
  {
    g_autofree char *cg = banger_vm_cgroup_of_pid (pid, NULL);
    ck_assert (g_str_has_suffix (cg, "/banger-web-q.scope"));
  }

  /* after a restart: no adoption by pid for QEMU … */
  g_mutex_lock (&state->lock);
  g_hash_table_remove_all (banger_priv_state_vmms_locked (state));
  g_mutex_unlock (&state->lock);
  r = signal_pid (state, pid, "TERM", &error);
  ck_assert_ptr_null (r);
  banger_assert_error (error, BANGER_ERROR_PERMISSION_DENIED);
  g_clear_error (&error);
  ck_assert_int_eq (kill (pid, 0), 0);
  /* … but cleanup_vm stops it through the scope banger owns */
  r = host_test_call (state, "priv.cleanup_vm", "{\"vm_id\":\"web-q\"}", &error);
  g_assert_no_error (error);
  ck_assert (wait_gone (NULL, pid));
  host_test_state_free (state);
}
END_TEST

START_TEST (test_status)
{
  BangerPrivState *state = vmm_state ();
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) r = host_test_call (state, "priv.status", "{}", &error);
  JsonObject *o;

  g_assert_no_error (error);
  o = json_node_get_object (r);
  ck_assert_str_eq (json_object_get_string_member (o, "version"), PACKAGE_VERSION);
  ck_assert (json_object_get_boolean_member (o, "tun"));
  {
    struct stat st;
    ck_assert_int_eq (stat ("/dev/net/tun", &st), 0);
    ck_assert (json_object_get_boolean_member (o, "tun_owner") == ((st.st_mode & 0006) == 0006));
  }
  ck_assert (json_object_get_boolean_member (o, "cgroup2"));
  ck_assert (json_object_get_boolean_member (o, "nftables"));
  ck_assert (json_object_get_boolean_member (o, "device_mapper")
             == g_file_test ("/dev/mapper/control", G_FILE_TEST_EXISTS));
  ck_assert (!json_object_get_boolean_member (o, "jailer"));
  host_test_state_free (state);
}
END_TEST

static Suite *
vmm_suite (void)
{
  Suite *s = suite_create ("host-vmm");
  TCase *tc = tcase_create ("vmm");

  tcase_add_unchecked_fixture (tc, host_test_vmm_fixture_setup, host_test_vmm_fixture_teardown);
  tcase_set_timeout (tc, 60);
  tcase_add_test (tc, test_launch_and_signal);
  tcase_add_test (tc, test_kill_process);
  tcase_add_test (tc, test_survives_restart_and_adoption);
  tcase_add_test (tc, test_adoption_attacks);
  tcase_add_test (tc, test_recycled_pid);
  tcase_add_test (tc, test_cleanup_vm);
  tcase_add_test (tc, test_cleanup_after_restart);
  tcase_add_test (tc, test_adoption_without_ptrace);
  tcase_add_test (tc, test_launch_refuses_unsafe_binary);
  tcase_add_test (tc, test_launch_jailed);
  tcase_add_test (tc, test_launch_qemu);
  tcase_add_test (tc, test_status);
  suite_add_tcase (s, tc);
  return s;
}

BANGER_TEST_MAIN_ROOT (vmm_suite, "cgroups, uid changes, pid namespaces")
