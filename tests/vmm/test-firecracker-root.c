/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The Firecracker driver under the (fake) jailer as root, with what only
 * root can do for real: the jailer drops to another uid (nobody) and joins a
 * network namespace this test makes, the driver hands the writable files to
 * that uid, and the jailer's cgroup is a real cgroup2 directory which the
 * driver removes after the exit. */
#include "config.h"

#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "banger-cgroup.h"
#include "fc-test-harness.h"

#define NOBODY 65534
#define PARENT_CGROUP "banger-test-fc"

static GPid netns_holder;
static char *netns_path;
static char *cgroup_mount;

/* A network namespace held open by a child that waits to be killed. */
static void
make_netns (void)
{
  int fds[2];
  char c;

  ck_assert_int_eq (pipe2 (fds, O_CLOEXEC), 0);
  netns_holder = fork ();
  ck_assert_int_ge (netns_holder, 0);
  if (netns_holder == 0)
    {
      if (unshare (CLONE_NEWNET) != 0)
        _exit (1);
      if (write (fds[1], "x", 1) != 1)
        _exit (1);
      pause ();
      _exit (0);
    }
  close (fds[1]);
  ck_assert_int_eq (read (fds[0], &c, 1), 1);
  close (fds[0]);
  netns_path = g_strdup_printf ("/proc/%d/ns/net", netns_holder);
}

static void
root_setup (void)
{
  setup ();
  /* the jailed uid must reach the jail, the request log and the images */
  ck_assert_int_eq (chmod (run_parent, 0755), 0);
  ck_assert_int_eq (chmod (h.tmp, 0755), 0);
  write_file (h.req_log, "", 0);
  ck_assert_int_eq (chmod (h.req_log, 0666), 0);
  make_netns ();
  cgroup_mount = banger_cgroup2_find_mount (NULL, NULL);
  ck_assert_ptr_nonnull (cgroup_mount);
  g_unsetenv ("FAKE_JAILER_CGROUP_ROOT");
  prctl (PR_SET_CHILD_SUBREAPER, 1);
}

static void
root_teardown (void)
{
  g_autofree char *parent = g_build_filename (cgroup_mount, PARENT_CGROUP, NULL);

  teardown ();
  kill (netns_holder, SIGKILL);
  waitpid (netns_holder, NULL, 0);
  rmdir (parent); /* ours; empty once the VM's cgroup is gone */
  g_clear_pointer (&netns_path, g_free);
  g_clear_pointer (&cgroup_mount, g_free);
}

static BangerFcJailerConfig *
root_jailer (gboolean new_pid_ns)
{
  g_autofree char *base = g_build_filename (h.tmp, "jail", NULL);
  BangerFcJailerConfig *j = banger_fc_jailer_config_new (h.jailer, base, NOBODY, NOBODY);
  /* a core cgroup2 file, writable without any controller enabled */
  const char *cgroups[] = { "cgroup.max.descendants=0", NULL };

  j->netns = g_strdup (netns_path);
  j->parent_cgroup = g_strdup (PARENT_CGROUP);
  j->cgroups = g_strdupv ((char **) cgroups);
  j->cgroup_root = g_strdup (cgroup_mount);
  j->new_pid_ns = new_pid_ns;
  return j;
}

static guint
proc_uid (GPid pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/status", pid);
  g_autofree char *status = NULL;
  const char *uid;

  ck_assert (g_file_get_contents (path, &status, NULL, NULL));
  uid = strstr (status, "\nUid:");
  ck_assert_ptr_nonnull (uid);
  return (guint) strtoul (uid + 5, NULL, 10);
}

static ino_t
ns_inode (const char *path)
{
  struct stat st;
  ck_assert_int_eq (stat (path, &st), 0);
  return st.st_ino;
}

static void
check_jailed_vm (BangerVmmFirecracker *v)
{
  GPid pid = banger_vmm_get_pid (BANGER_VMM (v));
  g_autofree char *fc_netns = g_strdup_printf ("/proc/%d/ns/net", pid);
  g_autofree char *cg_path = g_strdup_printf ("/proc/%d/cgroup", pid);
  g_autofree char *cg = NULL;
  g_autofree char *disk = g_build_filename (banger_vmm_firecracker_get_jail_root (v), "disk-work",
                                            NULL);
  struct stat st;

  /* Firecracker runs as nobody, in our network namespace, in its cgroup */
  ck_assert_uint_eq (proc_uid (pid), NOBODY);
  ck_assert_uint_eq (ns_inode (fc_netns), ns_inode (netns_path));
  ck_assert (g_file_get_contents (cg_path, &cg, NULL, NULL));
  ck_assert_msg (strstr (cg, "0::/" PARENT_CGROUP "/" VM_ID "\n") != NULL, "%s", cg);
  /* the writable drive, the log and the metrics were handed to it */
  ck_assert_int_eq (stat (disk, &st), 0);
  ck_assert_uint_eq (st.st_uid, NOBODY);
  ck_assert_int_eq (stat (banger_vmm_firecracker_get_log_path (v), &st), 0);
  ck_assert_uint_eq (st.st_uid, NOBODY);
  ck_assert_int_eq (stat (banger_vmm_firecracker_get_metrics_path (v), &st), 0);
  ck_assert_uint_eq (st.st_uid, NOBODY);
  /* and the jail root itself, by the jailer */
  ck_assert_int_eq (stat (banger_vmm_firecracker_get_jail_root (v), &st), 0);
  ck_assert_uint_eq (st.st_uid, NOBODY);
}

START_TEST (test_root_jailer)
{
  BangerVmmFirecracker *v = make_vmm (make_config (VM_ID, "run", "bngtest0"));
  g_autoptr (BangerFcJailerConfig) j = root_jailer (FALSE);
  g_autofree char *snap = g_build_filename (h.tmp, "vm.snap", NULL);
  g_autofree char *mem = g_build_filename (h.tmp, "vm.mem", NULL);
  g_autofree char *jail_dir = g_build_filename (h.tmp, "jail", "firecracker", VM_ID, NULL);
  g_autofree char *cg_dir = g_build_filename (cgroup_mount, PARENT_CGROUP, VM_ID, NULL);
  g_autoptr (GMainContext) ctx = g_main_context_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) reqs = NULL;
  Wait w = { NULL };

  banger_vmm_firecracker_set_jailer (v, j);
  boot (v);
  check_jailed_vm (v);
  ck_assert (g_file_test (cg_dir, G_FILE_TEST_IS_DIR));

  /* nobody writes the snapshot in its jail; the driver moves it out */
  OK (banger_vmm_pause);
  g_main_context_push_thread_default (ctx);
  banger_vmm_snapshot_create_async (BANGER_VMM (v), snap, mem, FALSE, NULL, got_result, &w);
  ck_assert_msg (banger_vmm_snapshot_create_finish (BANGER_VMM (v), wait_result (&w, ctx), &error), "%s",
                 error ? error->message : "");
  g_main_context_pop_thread_default (ctx);
  g_object_unref (w.res);
  ck_assert (g_file_test (snap, G_FILE_TEST_IS_REGULAR));
  OK (banger_vmm_resume);

  reqs = read_requests ();
  assert_all_accepted (reqs);
  OK (banger_vmm_stop);
  ck_assert_str_eq (banger_vmm_firecracker_get_stop_method (v), "ctrl-alt-del");
  ck_assert (!g_file_test (jail_dir, G_FILE_TEST_EXISTS));
  ck_assert (!g_file_test (cg_dir, G_FILE_TEST_EXISTS));
}
END_TEST

START_TEST (test_root_jailer_new_pid_ns)
{
  BangerVmmFirecracker *v = make_vmm (make_config (VM_ID, "run", "bngtest0"));
  g_autoptr (BangerFcJailerConfig) j = root_jailer (TRUE);
  g_autofree char *cg_dir = g_build_filename (cgroup_mount, PARENT_CGROUP, VM_ID, NULL);
  gint64 took;

  g_setenv ("FAKE_FC_MODE", "ignore-ctrlaltdel", TRUE);
  banger_vmm_firecracker_set_jailer (v, j);
  banger_vmm_set_stop_timeout (BANGER_VMM (v), 1);
  boot (v);
  check_jailed_vm (v);
  took = timed_stop (v);
  ck_assert_str_eq (banger_vmm_firecracker_get_stop_method (v), "kill");
  ck_assert_int_lt (took, 2 * G_TIME_SPAN_SECOND);
  ck_assert (!g_file_test (cg_dir, G_FILE_TEST_EXISTS));
}
END_TEST

START_TEST (test_root_unreadable_kernel)
{
  /* a kernel only root can read cannot be used by a jailed nobody: a clear
   * error at prepare, not a Firecracker 400 later */
  BangerVmmFirecracker *v = make_vmm (make_config (VM_ID, "run", "bngtest0"));
  g_autoptr (BangerFcJailerConfig) j = root_jailer (FALSE);
  g_autoptr (GError) error = NULL;

  ck_assert_int_eq (chmod (h.kernel, 0600), 0);
  banger_vmm_firecracker_set_jailer (v, j);
  ck_assert (!banger_vmm_prepare (BANGER_VMM (v), &error));
  banger_assert_error (error, BANGER_ERROR_PERMISSION_DENIED);
  ck_assert_ptr_nonnull (strstr (error->message, "not readable by uid 65534"));
}
END_TEST

static Suite *
root_suite (void)
{
  Suite *s = suite_create ("vmm-firecracker-root");
  TCase *tc = tcase_create ("jailer-as-root");

  tcase_add_unchecked_fixture (tc, suite_setup, suite_teardown);
  tcase_add_checked_fixture (tc, root_setup, root_teardown);
  tcase_set_timeout (tc, 30);
  tcase_add_test (tc, test_root_jailer);
  tcase_add_test (tc, test_root_jailer_new_pid_ns);
  tcase_add_test (tc, test_root_unreadable_kernel);
  suite_add_tcase (s, tc);
  return s;
}

BANGER_TEST_MAIN_ROOT (root_suite, "setuid jailer, network namespace, cgroup2")
