/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The public building blocks, as an embedder uses them: this file includes
 * only <banger.h> and links only libbanger-1.so (no BANGER_COMPILATION, no
 * private header).  As root, in a network namespace of its own (unshare at
 * start), with the in-process validating executor as the privileged
 * backend:
 *
 *   BangerPrivBackend  tap (with an address), copy-on-write root disk over
 *                      the test guest's image (the strategy reported), work
 *                      disk (mkfs through the method table), NAT
 *   BangerVmm          the QEMU driver from a BangerMachineConfig, launched
 *                      through the backend, configured, started: the guest
 *                      answers on SSH (uname -r, the work disk writable),
 *                      stats, pause/resume, snapshot -> kill -> restore
 *                      into a new process (a tmpfs marker survives), the
 *                      graceful stop
 *   cleanup            priv.cleanup_vm leaves no tap, no process, no run dir
 *
 * The guest is tests/guest/ (build-guest.sh, the cache the e2e tests
 * share); SSH with a key written into the VM's own root disk by debugfs,
 * as the guest kit does.  Root only. */
#include <banger.h>

#ifdef BANGER_COMPILATION
#error "this test must compile like a consumer"
#endif

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "banger-test.h"

#define TAP_CIDR "172.30.0.1/30"
#define HOST_IP "172.30.0.1"
#define GUEST_IP "172.30.0.2"

static char *guest_dir;    /* built before the namespace */
static char *scratch;      /* removed by main() whatever happened */
static BangerPrivBackend *leftover_backend;
static char *leftover_vm_id;

static gboolean
run (const char *const *argv, char **out, GError **error)
{
  g_autofree char *err = NULL;
  g_autofree char *discard = NULL;
  int status = 0;

  /* (stdout captured even when unwanted: it would mix with TAP) */
  if (!g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL,
                     out ? out : &discard, &err, &status, error))
    return FALSE;
  if (!g_spawn_check_wait_status (status, NULL))
    {
      g_set_error (error, G_SPAWN_ERROR, G_SPAWN_ERROR_FAILED, "%s failed: %s", argv[0],
                   err ? err : "");
      return FALSE;
    }
  return TRUE;
}

static gboolean
ssh (const char *key, const char *command, char **out, GError **error)
{
  const char *argv[] = { "ssh", "-i", key, "-o", "BatchMode=yes",
                         "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
                         "-o", "LogLevel=ERROR", "-o", "ConnectTimeout=2",
                         "-o", "ConnectionAttempts=1", "root@" GUEST_IP, command, NULL };
  return run (argv, out, error);
}

/* An _async call run to its end on a main loop of our own. */
typedef struct
{
  GMainLoop *loop;
  GAsyncResult *result;
} Wait;

static void
wait_done (GObject *source, GAsyncResult *result, gpointer data)
{
  Wait *w = data;
  w->result = g_object_ref (result);
  g_main_loop_quit (w->loop);
}

static GAsyncResult *
wait_result (Wait *w)
{
  g_main_loop_run (w->loop);
  g_main_loop_unref (w->loop);
  return w->result;
}

/* Until `ssh … true` works, bounded; the console on failure. */
static void
wait_ssh (BangerVmm *vmm, const char *key, guint seconds)
{
  gint64 deadline = g_get_monotonic_time () + seconds * G_USEC_PER_SEC;
  g_autoptr (GError) last = NULL;
  gboolean up = FALSE;

  while (!up && g_get_monotonic_time () < deadline)
    {
      g_clear_error (&last);
      up = ssh (key, "true", NULL, &last);
      if (!up)
        g_usleep (200 * 1000);
    }
  if (!up)
    {
      g_autofree char *console = NULL;
      if (g_file_get_contents (banger_vmm_get_console_log (vmm), &console, NULL, NULL))
        g_printerr ("# guest console:\n%s\n", console);
    }
  ck_assert_msg (up, "no SSH within %u s: %s", seconds, last ? last->message : "?");
}

static gboolean
links_with_prefix (const char *prefix)
{
  g_autofree char *out = NULL;
  const char *argv[] = { "ip", "-o", "link", "show", NULL };
  g_autofree char *needle = g_strdup_printf (": %s", prefix);

  ck_assert (run (argv, &out, NULL));
  return strstr (out, needle) != NULL;
}

START_TEST (test_backend_and_qemu_through_public_api)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BangerPrivBackend) backend = NULL;
  g_autoptr (BangerMachineConfig) config = NULL;
  g_autoptr (BangerVmm) vmm = NULL;
  g_autoptr (BangerMachineStats) stats = NULL;
  g_autofree char *state = g_build_filename (scratch, "state", NULL);
  g_autofree char *runtime = g_build_filename (scratch, "run", NULL);
  g_autofree char *vm_dir = NULL;
  g_autofree char *vm_id = g_strdup_printf ("pub-%d", (int) getpid ());
  g_autofree char *tap = NULL;
  g_autofree char *rootfs = NULL;
  g_autofree char *disk_path = NULL;
  g_autofree char *work = NULL;
  g_autofree char *key = NULL;
  g_autofree char *release = NULL;
  g_autofree char *uname_r = NULL;
  g_autofree char *out = NULL;
  g_autofree char *image = g_build_filename (guest_dir, "rootfs.ext4", NULL);
  g_autofree char *helper_run_dir = NULL;
  BangerCowStrategy strategy = BANGER_COW_STRATEGY_DM_SNAPSHOT;
  gboolean deleted = TRUE;
  GPid pid;
  gint64 t0;

  ck_assert (g_mkdir (state, 0755) == 0 && g_mkdir (runtime, 0755) == 0);
  vm_dir = g_build_filename (state, vm_id, NULL);
  ck_assert (g_mkdir (vm_dir, 0700) == 0);

  backend = banger_priv_backend_new_in_process (state, runtime, NULL, &error);
  ck_assert_msg (backend != NULL, "%s", error ? error->message : "?");
  leftover_backend = g_object_ref (backend);
  leftover_vm_id = g_strdup (vm_id);
  ck_assert (banger_priv_backend_is_in_process (backend));
  ck_assert_str_eq (banger_priv_backend_get_description (backend), "in-process executor");

  /* unknown flag bits: refused before anything happens */
  ck_assert (banger_priv_backend_create_tap (backend, vm_id, NULL, NULL, 1u << 7, NULL, &error)
             == NULL);
  banger_assert_error (error, BANGER_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  ck_assert (!links_with_prefix ("bngt"));

  /* the VM's tap, with the host side of a /30 */
  tap = banger_priv_backend_create_tap (backend, vm_id, NULL, TAP_CIDR,
                                        BANGER_PRIV_BACKEND_FLAGS_NONE, NULL, &error);
  ck_assert_msg (tap != NULL, "%s", error ? error->message : "?");
  ck_assert_msg (g_str_has_prefix (tap, "bngt") && strlen (tap) == 15, "tap %s", tap);
  ck_assert (links_with_prefix (tap));
  /* an address outside the backend's VM network: the executor's policy */
  ck_assert (banger_priv_backend_create_tap (backend, vm_id, NULL, "192.168.77.1/30",
                                             BANGER_PRIV_BACKEND_FLAGS_NONE, NULL, &error)
             == NULL);
  banger_assert_error (error, BANGER_ERROR_PERMISSION_DENIED);
  g_clear_error (&error);

  /* the root disk: copy-on-write over the image, the strategy reported
   * (no device-mapper in this kernel: reflink or sparse copy) */
  rootfs = g_build_filename (vm_dir, "rootfs.ext4", NULL);
  {
    Wait w = { g_main_loop_new (NULL, FALSE), NULL };
    g_autoptr (GAsyncResult) res = NULL;
    banger_priv_backend_create_cow_disk_async (backend, vm_id, image, rootfs,
                                               BANGER_PRIV_BACKEND_FLAGS_NONE, NULL, wait_done,
                                               &w);
    res = wait_result (&w);
    ck_assert_msg (banger_priv_backend_create_cow_disk_finish (backend, res, &strategy,
                                                               &disk_path, &error),
                   "%s", error ? error->message : "?");
  }
  printf ("# root disk: %s\n", banger_cow_strategy_to_string (strategy));
  if (!g_file_test ("/dev/mapper/control", G_FILE_TEST_EXISTS))
    ck_assert_msg (strategy == BANGER_COW_STRATEGY_REFLINK
                       || strategy == BANGER_COW_STRATEGY_SPARSE_COPY,
                   "strategy %d without device-mapper", strategy);
  if (strategy != BANGER_COW_STRATEGY_DM_SNAPSHOT)
    ck_assert_str_eq (disk_path, rootfs);
  /* a second time: the file exists */
  ck_assert (!banger_priv_backend_create_cow_disk (backend, vm_id, image, rootfs,
                                                   BANGER_PRIV_BACKEND_FLAGS_NONE, NULL, NULL,
                                                   NULL, &error));
  banger_assert_error (error, BANGER_ERROR_ALREADY_EXISTS);
  g_clear_error (&error);

  /* the work disk: mkfs through priv.mkfs_work_disk; outside the state
   * dir refused (and nothing left there) */
  work = g_build_filename (vm_dir, "work.ext4", NULL);
  ck_assert_msg (banger_priv_backend_create_work_disk (backend, work, 64 * 1024 * 1024,
                                                       BANGER_PRIV_BACKEND_FLAGS_NONE, NULL,
                                                       &error),
                 "%s", error ? error->message : "?");
  {
    g_autofree char *outside = g_build_filename (scratch, "outside.ext4", NULL);
    ck_assert (!banger_priv_backend_create_work_disk (backend, outside, 64 * 1024 * 1024,
                                                      BANGER_PRIV_BACKEND_FLAGS_NONE, NULL,
                                                      &error));
    banger_assert_error (error, BANGER_ERROR_PERMISSION_DENIED);
    g_clear_error (&error);
    ck_assert (!g_file_test (outside, G_FILE_TEST_EXISTS));
    ck_assert (!banger_priv_backend_create_work_disk (backend, outside, 1000,
                                                      BANGER_PRIV_BACKEND_FLAGS_NONE, NULL,
                                                      &error));
    banger_assert_error (error, BANGER_ERROR_INVALID_ARGUMENT);
    g_clear_error (&error);
  }

  /* NAT for the guest */
  ck_assert_msg (banger_priv_backend_nat_enable (backend, vm_id, GUEST_IP,
                                                 BANGER_PRIV_BACKEND_FLAGS_NONE, NULL, &error),
                 "%s", error ? error->message : "?");

  /* the kernel and initrd under the state dir (the backend's launch
   * refuses files outside it), and our key in the VM's own root disk */
  {
    g_autofree char *k = g_build_filename (guest_dir, "vmlinuz", NULL);
    g_autofree char *i = g_build_filename (guest_dir, "initrd.img", NULL);
    g_autofree char *pub = NULL;
    g_autofree char *cmds = NULL;
    g_autofree char *cmds_path = g_build_filename (scratch, "inject.debugfs", NULL);
    const char *cp[] = { "cp", k, i, vm_dir, NULL };
    const char *keygen[] = { "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "banger-pub",
                             "-f", NULL, NULL };
    const char *debugfs[] = { "debugfs", "-w", "-f", cmds_path, disk_path, NULL };

    ck_assert (run (cp, NULL, &error));
    key = g_build_filename (scratch, "id_ed25519", NULL);
    pub = g_strconcat (key, ".pub", NULL);
    keygen[9] = key;
    ck_assert_msg (run (keygen, NULL, &error), "%s", error ? error->message : "?");
    cmds = g_strdup_printf ("rm /root/.ssh/authorized_keys\n"
                            "write %s /root/.ssh/authorized_keys\n"
                            "set_inode_field /root/.ssh/authorized_keys mode 0100600\n",
                            pub);
    ck_assert (g_file_set_contents (cmds_path, cmds, -1, NULL));
    ck_assert_msg (run (debugfs, NULL, &error), "%s", error ? error->message : "?");
  }

  /* the machine */
  {
    g_autofree char *run_dir = g_build_filename (vm_dir, "run", NULL);
    g_autofree char *k = g_build_filename (vm_dir, "vmlinuz", NULL);
    g_autofree char *i = g_build_filename (vm_dir, "initrd.img", NULL);
    g_autofree char *cmdline = NULL;

    config = banger_machine_config_new (vm_id, run_dir);
    banger_machine_config_set_kernel (config, k, i);
    banger_machine_config_set_vcpus (config, 1);
    banger_machine_config_set_memory_mib (config, 256);
    banger_machine_config_add_drive (config, "rootfs", disk_path, TRUE, FALSE);
    banger_machine_config_add_drive (config, "work", work, FALSE, FALSE);
    banger_machine_config_add_nic (config, "eth0", tap, NULL);
    banger_machine_config_set_guest_network (config, GUEST_IP, HOST_IP, "255.255.255.252",
                                             "pub-guest");
    ck_assert (!banger_machine_config_is_sealed (config));
    cmdline = banger_machine_config_build_boot_args (config, NULL);
    ck_assert_msg (strstr (cmdline, "ip=" GUEST_IP "::" HOST_IP ":255.255.255.252:pub-guest:eth0:off")
                       != NULL,
                   "%s", cmdline);
  }
  vmm = banger_vmm_new_qemu (config, NULL, BANGER_QEMU_ACCEL_AUTO, &error);
  ck_assert_msg (vmm != NULL, "%s", error ? error->message : "?");
  ck_assert (banger_machine_config_is_sealed (config));
  ck_assert_str_eq (banger_vmm_get_driver_name (vmm), "qemu");
  ck_assert_int_eq (banger_vmm_get_state (vmm), BANGER_VMM_STATE_NEW);
  banger_vmm_set_backend_launch (vmm, backend);
  banger_vmm_set_stop_timeout (vmm, 15);
  ck_assert_msg (banger_vmm_prepare (vmm, &error), "%s", error ? error->message : "?");

  t0 = g_get_monotonic_time ();
  {
    Wait w = { g_main_loop_new (NULL, FALSE), NULL };
    g_autoptr (GAsyncResult) res = NULL;
    banger_vmm_launch_async (vmm, NULL, wait_done, &w);
    res = wait_result (&w);
    ck_assert_msg (banger_vmm_launch_finish (vmm, res, &error), "launch: %s",
                   error ? error->message : "?");
  }
  ck_assert_int_eq (banger_vmm_get_state (vmm), BANGER_VMM_STATE_LAUNCHED);
  pid = banger_vmm_get_pid (vmm);
  ck_assert (pid > 0);
  /* launched by the backend: its run dir holds the QMP socket */
  helper_run_dir = g_build_filename (runtime, "vm", vm_id, NULL);
  ck_assert_msg (g_str_has_prefix (banger_vmm_get_api_socket (vmm), helper_run_dir), "%s",
                 banger_vmm_get_api_socket (vmm));
  ck_assert_msg (banger_vmm_configure (vmm, NULL, &error), "%s", error ? error->message : "?");
  ck_assert_msg (banger_vmm_start (vmm, NULL, &error), "%s", error ? error->message : "?");
  ck_assert_int_eq (banger_vmm_get_state (vmm), BANGER_VMM_STATE_RUNNING);

  /* SSH-able */
  wait_ssh (vmm, key, 180);
  printf ("# launch to SSH: %.2f s\n", (double) (g_get_monotonic_time () - t0) / G_USEC_PER_SEC);
  {
    g_autofree char *rf = g_build_filename (guest_dir, "kernel-release", NULL);
    ck_assert (g_file_get_contents (rf, &release, NULL, NULL));
    g_strstrip (release);
  }
  ck_assert_msg (ssh (key, "uname -r", &uname_r, &error), "%s", error ? error->message : "?");
  g_strstrip (uname_r);
  ck_assert_str_eq (uname_r, release);
  /* the work disk is the fresh ext4 the backend made, writable */
  ck_assert_msg (ssh (key,
                      "mount /dev/vdb /mnt/work && echo public > /mnt/work/f && "
                      "cat /mnt/work/f && umount /mnt/work",
                      &out, &error),
                 "%s", error ? error->message : "?");
  ck_assert_str_eq (out, "public\n");

  stats = banger_vmm_get_stats (vmm, &error);
  ck_assert_msg (stats != NULL, "%s", error ? error->message : "?");
  ck_assert (banger_machine_stats_get_rss_bytes (stats) > 0);
  ck_assert (banger_machine_stats_get_cpu_user_us (stats)
                 + banger_machine_stats_get_cpu_system_us (stats)
             > 0);

  ck_assert_msg (banger_vmm_pause (vmm, NULL, &error), "%s", error ? error->message : "?");
  ck_assert (banger_vmm_refresh_state (vmm, NULL, &error));
  ck_assert_int_eq (banger_vmm_get_state (vmm), BANGER_VMM_STATE_PAUSED);
  ck_assert_msg (banger_vmm_resume (vmm, NULL, &error), "%s", error ? error->message : "?");
  ck_assert (banger_vmm_refresh_state (vmm, NULL, &error));
  ck_assert_int_eq (banger_vmm_get_state (vmm), BANGER_VMM_STATE_RUNNING);

  /* snapshot -> kill -> restore into a new process (launched through the
   * backend to receive it, on the same tap): a marker in a tmpfs, which
   * only the guest's memory holds, is still there */
  {
    g_autoptr (BangerVmm) restored = NULL;
    g_autofree char *snap = g_build_filename (scratch, "snapshot.qemu", NULL);
    g_autofree char *token = g_strdup_printf ("marker-%08x", g_random_int ());
    g_autofree char *setup = g_strdup_printf (
        "mkdir -p /mnt/m && mount -t tmpfs none /mnt/m && echo %s > /mnt/m/marker", token);
    g_autofree char *marker = NULL;

    ck_assert_msg (ssh (key, setup, NULL, &error), "%s", error ? error->message : "?");
    ck_assert (banger_vmm_pause (vmm, NULL, &error));
    ck_assert_msg (banger_vmm_snapshot_create (vmm, snap, snap, FALSE, NULL, &error), "%s",
                   error ? error->message : "?");
    ck_assert_msg (banger_vmm_kill (vmm, &error), "%s", error ? error->message : "?");
    ck_assert_str_eq (banger_vmm_get_stop_method (vmm), "kill");
    ck_assert (kill (pid, 0) < 0 && errno == ESRCH);

    restored = banger_vmm_new_qemu (config, NULL, BANGER_QEMU_ACCEL_AUTO, &error);
    ck_assert_msg (restored != NULL, "%s", error ? error->message : "?");
    banger_vmm_set_backend_launch (restored, backend);
    banger_vmm_set_incoming (restored, TRUE);
    banger_vmm_set_stop_timeout (restored, 15);
    ck_assert_msg (banger_vmm_prepare (restored, &error), "%s", error ? error->message : "?");
    ck_assert_msg (banger_vmm_launch (restored, NULL, &error), "restore launch: %s",
                   error ? error->message : "?");
    t0 = g_get_monotonic_time ();
    {
      Wait w = { g_main_loop_new (NULL, FALSE), NULL };
      g_autoptr (GAsyncResult) res = NULL;
      banger_vmm_snapshot_load_async (restored, snap, snap, TRUE, NULL, wait_done, &w);
      res = wait_result (&w);
      ck_assert_msg (banger_vmm_snapshot_load_finish (restored, res, &error), "load: %s",
                     error ? error->message : "?");
    }
    ck_assert_int_eq (banger_vmm_get_state (restored), BANGER_VMM_STATE_RUNNING);
    wait_ssh (restored, key, 60);
    printf ("# snapshot load to SSH: %.2f s\n",
            (double) (g_get_monotonic_time () - t0) / G_USEC_PER_SEC);
    ck_assert_msg (ssh (key, "cat /mnt/m/marker", &marker, &error), "%s",
                   error ? error->message : "?");
    g_strstrip (marker);
    ck_assert_str_eq (marker, token);
    ck_assert (ssh (key, "umount /mnt/m", NULL, &error));
    g_clear_object (&vmm);
    vmm = g_steal_pointer (&restored);
    pid = banger_vmm_get_pid (vmm);
  }

  /* the graceful stop: the guest powers itself off */
  ck_assert_msg (banger_vmm_stop (vmm, NULL, &error), "%s", error ? error->message : "?");
  ck_assert_int_eq (banger_vmm_get_state (vmm), BANGER_VMM_STATE_EXITED);
  ck_assert_str_eq (banger_vmm_get_stop_method (vmm), "powerdown");
  ck_assert (banger_vmm_has_exited (vmm));

  /* everything of the VM goes */
  ck_assert_msg (banger_priv_backend_nat_disable (backend, vm_id, BANGER_PRIV_BACKEND_FLAGS_NONE,
                                                  NULL, &error),
                 "%s", error ? error->message : "?");
  {
    Wait w = { g_main_loop_new (NULL, FALSE), NULL };
    g_autoptr (GAsyncResult) res = NULL;
    banger_priv_backend_cleanup_vm_async (backend, vm_id, BANGER_PRIV_BACKEND_FLAGS_NONE, NULL,
                                          wait_done, &w);
    res = wait_result (&w);
    ck_assert_msg (banger_priv_backend_cleanup_vm_finish (backend, res, &error), "%s",
                   error ? error->message : "?");
  }
  ck_assert (!links_with_prefix (tap));
  ck_assert (!g_file_test (helper_run_dir, G_FILE_TEST_EXISTS));
  ck_assert (kill (pid, 0) < 0 && errno == ESRCH);
  /* the tap is gone already: nothing to delete, and that is success */
  ck_assert (banger_priv_backend_delete_tap (backend, vm_id, BANGER_PRIV_BACKEND_FLAGS_NONE,
                                             &deleted, NULL, &error));
  ck_assert (!deleted);
  g_clear_pointer (&leftover_vm_id, g_free);
  g_clear_object (&leftover_backend);
}
END_TEST

static Suite *
public_vmm_suite (void)
{
  Suite *s = suite_create ("public-vmm");
  TCase *tc = tcase_create ("qemu");

  tcase_set_timeout (tc, 900);
  tcase_add_test (tc, test_backend_and_qemu_through_public_api);
  suite_add_tcase (s, tc);
  return s;
}

int
main (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *out = NULL;
  SRunner *sr;
  int failed;

  if (geteuid () != 0)
    return banger_test_skip_suite ("needs root (network namespace, tap, QEMU)");
  g_setenv ("G_DEBUG", "fatal-warnings,fatal-criticals", TRUE);
  {
    /* the guest first: a first build downloads packages, which the
     * namespace cannot */
    const char *argv[] = { BANGER_GUEST_SRCDIR "/build-guest.sh", BANGER_GUEST_SRCDIR "/cache",
                           NULL };
    const char *cache = g_getenv ("BANGER_GUEST_CACHE");
    if (cache != NULL)
      argv[1] = cache;
    if (!run (argv, &out, &error))
      {
        g_print ("1..1\nnot ok 1 - building the guest: %s\n", error->message);
        return 1;
      }
    guest_dir = g_strstrip (g_steal_pointer (&out));
  }
  /* a network namespace of our own (still one thread: unshare moves the
   * whole process, and every thread GLib starts later inherits it) */
  if (unshare (CLONE_NEWNET) < 0)
    {
      g_print ("1..1\nnot ok 1 - unshare(CLONE_NEWNET): %s\n", g_strerror (errno));
      return 1;
    }
  {
    const char *lo[] = { "ip", "link", "set", "lo", "up", NULL };
    if (!run (lo, NULL, &error))
      {
        g_print ("1..1\nnot ok 1 - lo: %s\n", error->message);
        return 1;
      }
  }
  scratch = g_dir_make_tmp ("banger-pub-XXXXXX", NULL);

  sr = srunner_create (public_vmm_suite ());
  srunner_set_fork_status (sr, CK_NOFORK);
  srunner_set_tap (sr, "-");
  srunner_run_all (sr, CK_SILENT);
  failed = srunner_ntests_failed (sr);
  srunner_free (sr);

  if (leftover_backend != NULL)
    {
      banger_priv_backend_cleanup_vm (leftover_backend, leftover_vm_id,
                                      BANGER_PRIV_BACKEND_FLAGS_NONE, NULL, NULL);
      g_clear_object (&leftover_backend);
    }
  if (scratch != NULL)
    {
      const char *rm[] = { "rm", "-rf", "--one-file-system", scratch, NULL };
      run (rm, NULL, NULL);
    }
  return failed == 0 ? 0 : 1;
}
