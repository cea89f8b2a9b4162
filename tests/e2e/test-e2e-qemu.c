/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * End to end, with a real guest: build (or take from the cache) the test
 * guest of tests/guest/, make a network namespace with a real bangerd-root
 * in it (the kit writes its install config) and the VM's tap made by that
 * helper, boot the guest through the QEMU driver with the helper launcher
 * (priv.launch_vmm: the one launch path; TCG here), wait for SSH, run `uname -r`, read a
 * file from the second disk, stop gracefully, and check that the process,
 * the namespace (with its tap) and the scratch directories are gone.
 * Prints the time from launch to SSH ready.  Root only. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "banger-guest-kit.h"
#include "banger-kvm-probe.h"
#include "banger-test.h"
#include "banger-vmm-qemu.h"

/* What a failed assertion (a longjmp under CK_NOFORK) leaves behind, for
 * main() to clean up. */
static BangerKitNetns *leftover_ns;
static BangerKitVm *leftover_vm;
static char *leftover_disk_dir;

START_TEST (test_boot_ssh_stop)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *guest = NULL;
  g_autofree char *disk_dir = NULL;
  g_autofree char *disk = NULL;
  g_autofree char *token = NULL;
  g_autofree char *uname_r = NULL;
  g_autofree char *expected_release = NULL;
  g_autofree char *release_file = NULL;
  g_autofree char *file_out = NULL;
  g_autofree char *vm_dir = NULL;
  g_autofree char *qmp = NULL;
  g_autofree char *console = NULL;
  g_autofree char *helper_run_dir = NULL;
  g_autofree char *ns_name = NULL;
  BangerKitNetns *ns;
  BangerKitVm *vm;
  BangerVmmStats stats = { 0 };
  GPid pid;

  guest = banger_kit_build_guest (&error);
  ck_assert_msg (guest != NULL, "building the guest: %s", error ? error->message : "?");
  release_file = g_build_filename (guest, "kernel-release", NULL);
  ck_assert (g_file_get_contents (release_file, &expected_release, NULL, NULL));
  g_strstrip (expected_release);

  /* the second disk: a small ext4 holding a file with a fresh token */
  disk_dir = g_dir_make_tmp ("banger-e2e-disk-XXXXXX", &error);
  ck_assert_msg (disk_dir != NULL, "%s", error ? error->message : "?");
  leftover_disk_dir = g_strdup (disk_dir);
  disk = g_build_filename (disk_dir, "work.ext4", NULL);
  token = g_uuid_string_random ();
  ck_assert_msg (banger_kit_make_disk (disk, 8, "hello.txt", token, &error), "%s",
                 error ? error->message : "?");

  ns = banger_kit_netns_new ("banger-e2e", &error);
  ck_assert_msg (ns != NULL, "netns: %s", error ? error->message : "?");
  ns_name = g_strdup (ns->name);
  leftover_ns = ns;

  vm = banger_kit_vm_boot (guest, ns, disk, &error);
  ck_assert_msg (vm != NULL, "boot: %s", error ? error->message : "?");
  leftover_vm = vm;
  printf ("# launch to SSH ready: %.2f s (running after %.2f s, banner after %.2f s, accel %s)\n",
          vm->launch_to_ssh_s, vm->launch_to_running_s, vm->launch_to_banner_s,
          banger_vmm_qemu_get_accel_used (BANGER_VMM_QEMU (vm->vmm)));
  ck_assert_int_eq (banger_vmm_get_state (vm->vmm), BANGER_VMM_STATE_RUNNING);

  /* The accelerator is the one KVM answer (launch/banger-kvm-probe.c), which
   * the launch left in the cache: asking again runs no probe.  On the
   * paravirtual KVM of this project's machines (kvm_pvm: /dev/kvm opens, a
   * stock kernel hangs) that answer is TCG. */
  {
    g_autofree char *kernel = g_build_filename (guest, "vmlinuz", NULL);
    const BangerKvmHost host = { .kernel = kernel };
    g_autoptr (BangerKvmAnswer) kvm = banger_kvm_probe (&host, NULL, &error);
    const char *used = banger_vmm_qemu_get_accel_used (BANGER_VMM_QEMU (vm->vmm));

    ck_assert_msg (kvm != NULL, "%s", error ? error->message : "?");
    printf ("# KVM: %s (%s)%s\n", banger_kvm_state_to_string (kvm->state), kvm->detail,
            kvm->cached ? ", cached" : "");
    ck_assert_str_eq (used, kvm->state == BANGER_KVM_USABLE ? "kvm" : "tcg");
    if (kvm->state == BANGER_KVM_USABLE || kvm->state == BANGER_KVM_UNUSABLE)
      ck_assert_msg (kvm->cached, "the launch's KVM answer was not cached");
    if (g_file_test ("/sys/module/kvm_pvm", G_FILE_TEST_IS_DIR))
      {
        ck_assert_int_eq (kvm->state, BANGER_KVM_UNUSABLE);
        ck_assert_str_eq (used, "tcg");
      }
  }
  pid = banger_vmm_get_pid (vm->vmm);
  vm_dir = g_strdup (vm->dir);
  /* launched through bangerd-root: QMP socket and console are in the
   * helper's run dir for the VM, not the driver's */
  qmp = g_strdup (banger_vmm_get_api_socket (vm->vmm));
  console = g_strdup (banger_vmm_qemu_get_console_log (BANGER_VMM_QEMU (vm->vmm)));
  helper_run_dir = g_build_filename (ns->runtime_dir, "vm", BANGER_KIT_VM_ID, NULL);
  ck_assert_msg (g_str_has_prefix (qmp, helper_run_dir), "QMP socket %s", qmp);
  ck_assert_msg (g_str_has_prefix (console, helper_run_dir), "console %s", console);
  {
    /* QEMU runs as the install's owner, not root */
    struct stat st;
    g_autofree char *proc = g_strdup_printf ("/proc/%d", (int) pid);
    ck_assert_int_eq (stat (proc, &st), 0);
    ck_assert_int_eq (st.st_uid, BANGER_KIT_OWNER_UID);
  }

  /* the guest runs the kernel we built it with */
  ck_assert_msg (banger_kit_ssh (ns, vm->key, "uname -r", 10, &uname_r, &error), "%s",
                 error ? error->message : "?");
  g_strstrip (uname_r);
  printf ("# guest uname -r: %s\n", uname_r);
  ck_assert_str_eq (uname_r, expected_release);

  /* the second disk is /dev/vdb and holds our token */
  ck_assert_msg (banger_kit_ssh (ns, vm->key,
                                 "mount -o ro /dev/vdb /mnt/work && cat /mnt/work/hello.txt", 10,
                                 &file_out, &error),
                 "%s", error ? error->message : "?");
  ck_assert_str_eq (file_out, token);

  /* the driver sees a process and a running guest */
  ck_assert_msg (banger_vmm_read_stats (vm->vmm, &stats, &error), "%s",
                 error ? error->message : "?");
  ck_assert (stats.rss_bytes > 0);
  ck_assert (stats.cpu_user_us + stats.cpu_system_us > 0);
  printf ("# stats: rss %" G_GUINT64_FORMAT " KiB, cpu %" G_GUINT64_FORMAT " ms, disk read %"
          G_GUINT64_FORMAT " KiB, written %" G_GUINT64_FORMAT " KiB\n",
          stats.rss_bytes / 1024, (stats.cpu_user_us + stats.cpu_system_us) / 1000,
          stats.block_read_bytes / 1024, stats.block_write_bytes / 1024);
  ck_assert (stats.block_read_bytes > 0); /* the guest read its root disk */
  ck_assert_msg (banger_vmm_refresh_state (vm->vmm, NULL, &error), "%s",
                 error ? error->message : "?");
  ck_assert_int_eq (banger_vmm_get_state (vm->vmm), BANGER_VMM_STATE_RUNNING);

  /* graceful stop: the power button, the guest powers off */
  {
    gint64 t0 = g_get_monotonic_time ();
    ck_assert_msg (banger_kit_vm_stop (vm, &error), "stop: %s", error ? error->message : "?");
    printf ("# graceful stop: %.2f s\n", (double) (g_get_monotonic_time () - t0) / G_USEC_PER_SEC);
  }
  ck_assert_int_eq (banger_vmm_get_state (vm->vmm), BANGER_VMM_STATE_EXITED);
  /* QEMU is bangerd-root's child: exited now (its pidfd said so), and gone
   * once the helper has reaped it (it does every 5 s) */
  for (int i = 0; i < 1000 && kill (pid, 0) == 0; i++)
    g_usleep (10 * 1000);
  ck_assert_msg (kill (pid, 0) < 0 && errno == ESRCH, "QEMU (pid %d) is still there", pid);
  {
    g_autofree char *log = NULL;
    ck_assert_msg (!g_file_test (qmp, G_FILE_TEST_EXISTS), "the QMP socket was left behind");
    ck_assert (g_file_get_contents (console, &log, NULL, NULL));
    ck_assert_msg (strstr (log, "reboot: Power down") != NULL,
                   "the guest did not power itself off (TERM/KILL were needed)");
  }

  leftover_vm = NULL;
  banger_kit_vm_free (vm);
  ck_assert_msg (!g_file_test (vm_dir, G_FILE_TEST_EXISTS), "%s was left behind", vm_dir);
  ck_assert_msg (banger_kit_netns_exists (ns_name), "the namespace vanished early");
  leftover_ns = NULL;
  ck_assert_msg (banger_kit_netns_destroy (ns, &error), "%s", error ? error->message : "?");
  ck_assert_msg (!banger_kit_netns_exists (ns_name), "namespace %s was left behind", ns_name);

  g_unlink (disk);
  ck_assert (g_rmdir (disk_dir) == 0);
  g_clear_pointer (&leftover_disk_dir, g_free);
}
END_TEST

/* ------------------------------------------- real QEMU, no network, no SSH */

static char *real_guest; /* built once by the first test that needs it */

static const char *
guest_dir (void)
{
  g_autoptr (GError) error = NULL;

  if (real_guest == NULL)
    {
      real_guest = banger_kit_build_guest (&error);
      ck_assert_msg (real_guest != NULL, "%s", error ? error->message : "?");
    }
  return real_guest;
}

/* The shared cached rootfs, read-only (and mounted ro by the initrd). */
static BangerVmm *
real_qemu_vmm (const char *run_dir, const char *rootfs)
{
  g_autoptr (GError) error = NULL;
  BangerVmmConfig *c = banger_vmm_config_new ("banger-real", run_dir);
  BangerVmm *vmm;
  const char *guest = guest_dir ();

  c->extra_boot_args = g_strdup ("ro");
  c->kernel_path = g_build_filename (guest, "vmlinuz", NULL);
  c->initrd_path = g_build_filename (guest, "initrd.img", NULL);
  banger_vmm_config_add_drive (c, "rootfs", rootfs, TRUE, TRUE);
  vmm = banger_vmm_qemu_new (c);
  banger_vmm_set_stop_timeout (vmm, 10);
  ck_assert_msg (banger_vmm_prepare (vmm, &error), "%s", error ? error->message : "?");
  return vmm;
}

/* QMP stop / cont / query-status against the real QEMU, then kill. */
START_TEST (test_real_qemu_pause_resume_kill)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("banger-e2e-real-XXXXXX", NULL);
  g_autofree char *run_dir = g_build_filename (dir, "run", NULL);
  g_autofree char *rootfs = NULL;
  g_autoptr (BangerVmm) vmm = NULL;
  GPid pid;

  rootfs = g_build_filename (guest_dir (), "rootfs.ext4", NULL);
  vmm = real_qemu_vmm (run_dir, rootfs);

  ck_assert_msg (banger_vmm_launch (vmm, NULL, &error), "%s",
                 error ? error->message : "?");
  pid = banger_vmm_get_pid (vmm);
  ck_assert (banger_vmm_refresh_state (vmm, NULL, &error));
  ck_assert_int_eq (banger_vmm_get_state (vmm), BANGER_VMM_STATE_LAUNCHED); /* prelaunch */
  ck_assert (banger_vmm_start (vmm, NULL, &error));
  ck_assert (banger_vmm_refresh_state (vmm, NULL, &error));
  ck_assert_int_eq (banger_vmm_get_state (vmm), BANGER_VMM_STATE_RUNNING);
  ck_assert (banger_vmm_pause (vmm, NULL, &error));
  ck_assert (banger_vmm_refresh_state (vmm, NULL, &error));
  ck_assert_int_eq (banger_vmm_get_state (vmm), BANGER_VMM_STATE_PAUSED);
  ck_assert (banger_vmm_resume (vmm, NULL, &error));
  ck_assert (banger_vmm_refresh_state (vmm, NULL, &error));
  ck_assert_int_eq (banger_vmm_get_state (vmm), BANGER_VMM_STATE_RUNNING);
  ck_assert_msg (banger_vmm_kill (vmm, &error), "%s", error ? error->message : "?");
  ck_assert_int_eq (banger_vmm_get_state (vmm), BANGER_VMM_STATE_EXITED);
  ck_assert (kill (pid, 0) < 0 && errno == ESRCH);
  {
    const char *rm[] = { "rm", "-rf", "--one-file-system", dir, NULL };
    ck_assert (banger_kit_run (rm, NULL, NULL));
  }
}
END_TEST

/* A guest that never ran is stopped with QMP quit, at once. */
START_TEST (test_real_qemu_stop_unstarted)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("banger-e2e-real-XXXXXX", NULL);
  g_autofree char *run_dir = g_build_filename (dir, "run", NULL);
  g_autofree char *rootfs = NULL;
  g_autoptr (BangerVmm) vmm = NULL;
  gint64 t0;

  rootfs = g_build_filename (guest_dir (), "rootfs.ext4", NULL);
  vmm = real_qemu_vmm (run_dir, rootfs);
  ck_assert (banger_vmm_launch (vmm, NULL, &error));
  t0 = g_get_monotonic_time ();
  ck_assert_msg (banger_vmm_stop (vmm, NULL, &error), "%s",
                 error ? error->message : "?");
  ck_assert_int_eq (banger_vmm_get_state (vmm), BANGER_VMM_STATE_EXITED);
  ck_assert_msg (g_get_monotonic_time () - t0 < 5 * G_USEC_PER_SEC, "quit was not honoured");
  {
    const char *rm[] = { "rm", "-rf", "--one-file-system", dir, NULL };
    ck_assert (banger_kit_run (rm, NULL, NULL));
  }
}
END_TEST

/* QEMU refusing its command line: the launch error carries QEMU's words. */
START_TEST (test_real_qemu_bad_drive)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("banger-e2e-real-XXXXXX", NULL);
  g_autofree char *run_dir = g_build_filename (dir, "run", NULL);
  g_autoptr (BangerVmm) vmm = real_qemu_vmm (run_dir, "/nonexistent/rootfs.ext4");

  ck_assert (!banger_vmm_launch (vmm, NULL, &error));
  banger_assert_error (error, BANGER_ERROR_FAILED);
  printf ("# %s\n", error->message);
  ck_assert_msg (strstr (error->message, "/nonexistent/rootfs.ext4") != NULL
                     && strstr (error->message, "exited with status") != NULL,
                 "%s", error->message);
  ck_assert_int_eq (banger_vmm_get_pidfd (vmm), -1);
  {
    const char *rm[] = { "rm", "-rf", "--one-file-system", dir, NULL };
    ck_assert (banger_kit_run (rm, NULL, NULL));
  }
}
END_TEST

/* Through bangerd-root, without booting: the helper's refusal reaches the
 * driver as the same typed error, and a QEMU that dies at once is reported
 * with its words from the helper's vmm.log. */
START_TEST (test_helper_refusals)
{
  g_autoptr (GError) error = NULL;
  const char *guest = guest_dir ();
  BangerKitNetns *ns = banger_kit_netns_new ("banger-e2e-ref", &error);
  g_autofree char *run_dir = NULL;
  g_autofree char *kernel = g_build_filename (guest, "vmlinuz", NULL);
  g_autofree char *missing = NULL;

  ck_assert_msg (ns != NULL, "netns: %s", error ? error->message : "?");
  leftover_ns = ns;
  run_dir = g_build_filename (ns->state_dir, "client-run", NULL);
  {
    /* a kernel outside the helper's state dir: permission-denied, typed */
    BangerVmmConfig *c = banger_vmm_config_new (BANGER_KIT_VM_ID, run_dir);
    g_autoptr (BangerVmm) vmm = NULL;
    c->kernel_path = g_strdup (kernel);
    banger_vmm_config_add_drive (c, "rootfs", kernel, TRUE, TRUE);
    vmm = banger_vmm_qemu_new (c);
    banger_vmm_qemu_set_accel (BANGER_VMM_QEMU (vmm), BANGER_QEMU_ACCEL_TCG);
    banger_vmm_set_launcher (vmm, ns->launcher);
    ck_assert (banger_vmm_prepare (vmm, &error));
    ck_assert (!banger_vmm_launch (vmm, NULL, &error));
    banger_assert_error (error, BANGER_ERROR_PERMISSION_DENIED);
    ck_assert_int_eq (banger_vmm_get_pidfd (vmm), -1);
    g_clear_error (&error);
  }
  {
    /* a root disk under the state dir that does not exist: QEMU (as the
     * owner) exits at once; the driver quotes the helper's vmm.log */
    BangerVmmConfig *c = banger_vmm_config_new (BANGER_KIT_VM_ID, run_dir);
    g_autoptr (BangerVmm) vmm = NULL;
    g_autofree char *kcopy = g_build_filename (ns->state_dir, "vmlinuz", NULL);
    const char *cp[] = { "cp", kernel, kcopy, NULL };
    ck_assert (banger_kit_run (cp, NULL, NULL));
    missing = g_build_filename (ns->state_dir, "missing.ext4", NULL);
    c->kernel_path = g_strdup (kcopy);
    banger_vmm_config_add_drive (c, "rootfs", missing, TRUE, FALSE);
    vmm = banger_vmm_qemu_new (c);
    banger_vmm_qemu_set_accel (BANGER_VMM_QEMU (vmm), BANGER_QEMU_ACCEL_TCG);
    banger_vmm_set_launcher (vmm, ns->launcher);
    ck_assert (banger_vmm_prepare (vmm, &error));
    ck_assert (!banger_vmm_launch (vmm, NULL, &error));
    banger_assert_error (error, BANGER_ERROR_FAILED);
    printf ("# %s\n", error->message);
    ck_assert_msg (strstr (error->message, missing) != NULL, "%s", error->message);
    ck_assert_int_eq (banger_vmm_get_pidfd (vmm), -1);
  }
  leftover_ns = NULL;
  ck_assert_msg (banger_kit_netns_destroy (ns, &error), "%s", error ? error->message : "?");
}
END_TEST

static Suite *
e2e_qemu_suite (void)
{
  Suite *s = suite_create ("e2e-qemu");
  TCase *tc = tcase_create ("guest");

  tcase_set_timeout (tc, 900);
  tcase_add_test (tc, test_boot_ssh_stop);
  suite_add_tcase (s, tc);

  tc = tcase_create ("real-qemu");
  tcase_add_test (tc, test_real_qemu_pause_resume_kill);
  tcase_add_test (tc, test_real_qemu_stop_unstarted);
  tcase_add_test (tc, test_real_qemu_bad_drive);
  tcase_add_test (tc, test_helper_refusals);
  suite_add_tcase (s, tc);
  return s;
}

int
main (void)
{
  SRunner *sr;
  int failed;

  if (geteuid () != 0)
    return banger_test_skip_suite ("needs root (network namespace, tap)");
  g_setenv ("G_DEBUG", "fatal-warnings,fatal-criticals", TRUE);
  sr = srunner_create (e2e_qemu_suite ());
  /* no fork: the netns and the guest are cleaned up by the test itself,
   * and a forked child would hide its printed figures from TAP */
  srunner_set_fork_status (sr, CK_NOFORK);
  srunner_set_tap (sr, "-");
  srunner_run_all (sr, CK_SILENT);
  failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  g_clear_pointer (&leftover_vm, banger_kit_vm_free);
  if (leftover_ns != NULL)
    banger_kit_netns_destroy (g_steal_pointer (&leftover_ns), NULL);
  if (leftover_disk_dir != NULL)
    {
      const char *rm[] = { "rm", "-rf", "--one-file-system", leftover_disk_dir, NULL };
      banger_kit_run (rm, NULL, NULL);
      g_free (leftover_disk_dir);
    }
  return failed == 0 ? 0 : 1;
}
