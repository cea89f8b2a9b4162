/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The public building blocks without a VM (unit): compiled like a consumer
 * (only <banger.h>, only libbanger-1.so).  BangerMachineConfig's checks and
 * seal, the driver constructors' refusals, BangerVmm before launch,
 * BangerPrivBackend's constructors and the refusals made before any request
 * (flags, sizes); the Firecracker driver through the public calls alone,
 * against the fake Firecracker (tests/fakes/firecracker: every request
 * validated against the OpenAPI spec).  The real guest:
 * tests/e2e/test-public-vmm.c. */
#include <banger.h>

#ifdef BANGER_COMPILATION
#error "this test must compile like a consumer"
#endif

#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "banger-test.h"

static BangerMachineConfig *
good_config (void)
{
  BangerMachineConfig *c = banger_machine_config_new ("web-1", "/run/test/web-1");

  banger_machine_config_set_kernel (c, "/boot/vmlinuz", NULL);
  banger_machine_config_add_drive (c, "rootfs", "/var/lib/x/rootfs.ext4", TRUE, FALSE);
  banger_machine_config_add_nic (c, "eth0", "bngt0123456789a", NULL);
  return c;
}

START_TEST (test_config_defaults_and_seal)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BangerMachineConfig) c = good_config ();
  g_autofree char *cmdline = NULL;

  ck_assert_str_eq (banger_machine_config_get_vm_id (c), "web-1");
  ck_assert_str_eq (banger_machine_config_get_run_dir (c), "/run/test/web-1");
  ck_assert_uint_eq (banger_machine_config_get_vcpus (c), 1);
  ck_assert_uint_eq (banger_machine_config_get_memory_mib (c), 256);
  ck_assert_uint_eq (banger_machine_config_get_n_drives (c), 1);
  ck_assert_uint_eq (banger_machine_config_get_n_nics (c), 1);
  banger_machine_config_set_guest_network (c, "172.30.0.2", "172.30.0.1", NULL, NULL);
  cmdline = banger_machine_config_build_boot_args (c, NULL);
  ck_assert_msg (strstr (cmdline, "console=ttyS0") != NULL, "%s", cmdline);
  ck_assert_msg (strstr (cmdline, "ip=172.30.0.2::172.30.0.1:255.255.255.252:web-1:eth0:off")
                     != NULL,
                 "%s", cmdline);
  ck_assert (!banger_machine_config_is_sealed (c));
  ck_assert_msg (banger_machine_config_seal (c, &error), "%s", error ? error->message : "?");
  ck_assert (banger_machine_config_is_sealed (c));
  /* sealing again is fine */
  ck_assert (banger_machine_config_seal (c, &error));
}
END_TEST

/* Each broken config: INVALID_ARGUMENT, and it stays unsealed. */
START_TEST (test_config_refusals)
{
  static const struct
  {
    const char *what;
    const char *vm_id;
    const char *kernel;
    guint vcpus;
    const char *drive_id;
    const char *drive_path;
    const char *tap;
    const char *guest_ip;
  } cases[] = {
    { "vm id not a DNS label", "Web_1", "/k", 1, "rootfs", "/r", "bngt0123456789a", NULL },
    { "no kernel", "web-1", NULL, 1, "rootfs", "/r", "bngt0123456789a", NULL },
    { "relative kernel", "web-1", "k", 1, "rootfs", "/r", "bngt0123456789a", NULL },
    { "no vCPU", "web-1", "/k", 0, "rootfs", "/r", "bngt0123456789a", NULL },
    { "drive id", "web-1", "/k", 1, "root-fs", "/r", "bngt0123456789a", NULL },
    { "relative drive", "web-1", "/k", 1, "rootfs", "r", "bngt0123456789a", NULL },
    { "tap not banger's prefix", "web-1", "/k", 1, "rootfs", "/r", "eth0", NULL },
    { "guest ip", "web-1", "/k", 1, "rootfs", "/r", "bngt0123456789a", "300.1.1.1" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (BangerMachineConfig) c = banger_machine_config_new (cases[i].vm_id, "/run/x");
      g_autoptr (BangerVmm) vmm = NULL;

      if (cases[i].kernel != NULL)
        banger_machine_config_set_kernel (c, cases[i].kernel, NULL);
      banger_machine_config_set_vcpus (c, cases[i].vcpus);
      banger_machine_config_add_drive (c, cases[i].drive_id, cases[i].drive_path, TRUE, FALSE);
      banger_machine_config_add_nic (c, "eth0", cases[i].tap, NULL);
      banger_machine_config_set_guest_network (c, cases[i].guest_ip, NULL, NULL, NULL);
      ck_assert_msg (!banger_machine_config_seal (c, &error), "%s: sealed", cases[i].what);
      banger_assert_error (error, BANGER_ERROR_INVALID_ARGUMENT);
      ck_assert (!banger_machine_config_is_sealed (c));
      g_clear_error (&error);
      /* the driver constructors seal, so refuse the same */
      vmm = banger_vmm_new_qemu (c, NULL, BANGER_QEMU_ACCEL_TCG, &error);
      ck_assert_msg (vmm == NULL, "%s: a VMM was made", cases[i].what);
      banger_assert_error (error, BANGER_ERROR_INVALID_ARGUMENT);
    }
}
END_TEST

START_TEST (test_vmm_before_launch)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BangerMachineConfig) c = good_config ();
  g_autoptr (BangerVmm) qemu = NULL;
  g_autoptr (BangerVmm) fc = NULL;

  ck_assert (banger_vmm_new_qemu (c, NULL, (BangerQemuAccel) 7, &error) == NULL);
  banger_assert_error (error, BANGER_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  ck_assert (banger_vmm_new_firecracker (c, "bin/firecracker", &error) == NULL);
  banger_assert_error (error, BANGER_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  qemu = banger_vmm_new_qemu (c, "/usr/bin/qemu-system-x86_64", BANGER_QEMU_ACCEL_TCG, &error);
  ck_assert_msg (qemu != NULL, "%s", error ? error->message : "?");
  ck_assert (banger_machine_config_is_sealed (c));
  ck_assert_str_eq (banger_vmm_get_driver_name (qemu), "qemu");
  ck_assert_int_eq (banger_vmm_get_state (qemu), BANGER_VMM_STATE_NEW);
  ck_assert_int_eq (banger_vmm_get_pid (qemu), 0);
  ck_assert (banger_vmm_get_stop_method (qemu) == NULL);
  ck_assert_uint_eq (banger_vmm_get_stop_timeout (qemu), 5);
  banger_vmm_set_stop_timeout (qemu, 9);
  ck_assert_uint_eq (banger_vmm_get_stop_timeout (qemu), 9);
  /* an operation in the wrong state: BUSY, before any process */
  ck_assert (!banger_vmm_start (qemu, NULL, &error));
  banger_assert_error (error, BANGER_ERROR_BUSY);
  g_clear_error (&error);

  fc = banger_vmm_new_firecracker (c, "/nonexistent/firecracker", &error);
  ck_assert_msg (fc != NULL, "%s", error ? error->message : "?");
  ck_assert_str_eq (banger_vmm_get_driver_name (fc), "firecracker");
  ck_assert_str_eq (banger_vmm_state_to_string (BANGER_VMM_STATE_RUNNING), "running");
  ck_assert_str_eq (banger_vmm_state_to_string ((BangerVmmState) 99), "unknown");
  ck_assert_str_eq (banger_cow_strategy_to_string (BANGER_COW_STRATEGY_REFLINK), "reflink");
  ck_assert (banger_cow_strategy_to_string ((BangerCowStrategy) 9) == NULL);
}
END_TEST

START_TEST (test_backend_constructors_and_early_refusals)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BangerPrivBackend) sock = banger_priv_backend_new_for_socket ("/nonexistent/x.sock");
  g_autofree char *tap = NULL;

  ck_assert_str_eq (banger_priv_backend_get_description (sock),
                    "bangerd-root at /nonexistent/x.sock");
  ck_assert (!banger_priv_backend_is_in_process (sock));
  /* refused before any request is sent (nothing listens there) */
  tap = banger_priv_backend_create_tap (sock, "web-1", NULL, NULL, 1u << 3, NULL, &error);
  ck_assert (tap == NULL);
  banger_assert_error (error, BANGER_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  ck_assert (!banger_priv_backend_create_work_disk (sock, "/var/lib/x/work.ext4", 4096,
                                                    BANGER_PRIV_BACKEND_FLAGS_NONE, NULL,
                                                    &error));
  banger_assert_error (error, BANGER_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  ck_assert (!banger_priv_backend_create_cow_disk (sock, "Not_A_Label", "/i", "/d",
                                                   BANGER_PRIV_BACKEND_FLAGS_NONE, NULL, NULL,
                                                   NULL, &error));
  banger_assert_error (error, BANGER_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  if (geteuid () != 0)
    {
      ck_assert (banger_priv_backend_new_in_process ("/tmp/s", "/tmp/r", NULL, &error) == NULL);
      banger_assert_error (error, BANGER_ERROR_PERMISSION_DENIED);
      return;
    }
  ck_assert (banger_priv_backend_new_in_process ("state", "/tmp/r", NULL, &error) == NULL);
  banger_assert_error (error, BANGER_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  ck_assert (banger_priv_backend_new_in_process ("/tmp/s", "/tmp/r", "10.0.0.0", &error) == NULL);
  banger_assert_error (error, BANGER_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  {
    g_autoptr (BangerPrivBackend) local
        = banger_priv_backend_new_in_process ("/tmp/s", "/tmp/r", "10.9.0.0/16", &error);
    ck_assert_msg (local != NULL, "%s", error ? error->message : "?");
    ck_assert (banger_priv_backend_is_in_process (local));
    ck_assert_str_eq (banger_priv_backend_get_description (local), "in-process executor");
  }
}
END_TEST

/* Firecracker, direct launch, through the public API only: every request
 * the fake saw was accepted, and the boot ended with InstanceStart. */
START_TEST (test_firecracker_fake_through_public_api)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("banger-pubfc-XXXXXX", NULL);
  g_autofree char *run_dir = g_build_filename (dir, "run", NULL);
  g_autofree char *kernel = g_build_filename (dir, "vmlinux", NULL);
  g_autofree char *rootfs = g_build_filename (dir, "rootfs.ext4", NULL);
  g_autofree char *log = g_build_filename (dir, "requests.log", NULL);
  g_autofree char *fake = g_build_filename (FAKE_FC_DIR, "fake-firecracker.py", NULL);
  g_autofree char *spec = g_build_filename (FAKE_FC_DIR, "firecracker-api.yaml", NULL);
  g_autofree char *requests = NULL;
  g_autoptr (BangerMachineConfig) c = banger_machine_config_new ("fc-1", run_dir);
  g_autoptr (BangerVmm) vmm = NULL;
  g_autoptr (BangerMachineStats) stats = NULL;
  g_auto (GStrv) lines = NULL;
  guint n_start = 0;

  ck_assert (g_file_set_contents (kernel, "kernel", -1, NULL));
  ck_assert (g_file_set_contents (rootfs, "rootfs", -1, NULL));
  g_setenv ("FAKE_FC_LOG", log, TRUE);
  g_setenv ("FAKE_FC_SPEC", spec, TRUE);
  g_unsetenv ("FAKE_FC_MODE");
  banger_machine_config_set_kernel (c, kernel, NULL);
  banger_machine_config_set_vcpus (c, 2);
  banger_machine_config_add_drive (c, "rootfs", rootfs, TRUE, FALSE);
  banger_machine_config_add_nic (c, "eth0", "bngtest0", NULL);
  vmm = banger_vmm_new_firecracker (c, fake, &error);
  ck_assert_msg (vmm != NULL, "%s", error ? error->message : "?");
  banger_vmm_set_direct_launch (vmm);
  ck_assert_msg (banger_vmm_prepare (vmm, &error), "%s", error ? error->message : "?");
  ck_assert_msg (banger_vmm_launch (vmm, NULL, &error), "%s", error ? error->message : "?");
  ck_assert_msg (banger_vmm_configure (vmm, NULL, &error), "%s", error ? error->message : "?");
  ck_assert_int_eq (banger_vmm_get_state (vmm), BANGER_VMM_STATE_CONFIGURED);
  ck_assert_msg (banger_vmm_start (vmm, NULL, &error), "%s", error ? error->message : "?");
  ck_assert_int_eq (banger_vmm_get_state (vmm), BANGER_VMM_STATE_RUNNING);
  ck_assert (banger_vmm_pause (vmm, NULL, &error));
  ck_assert_int_eq (banger_vmm_get_state (vmm), BANGER_VMM_STATE_PAUSED);
  ck_assert (banger_vmm_resume (vmm, NULL, &error));
  stats = banger_vmm_get_stats (vmm, &error);
  ck_assert_msg (stats != NULL, "%s", error ? error->message : "?");
  ck_assert (banger_machine_stats_get_rss_bytes (stats) > 0);
  ck_assert_msg (banger_vmm_stop (vmm, NULL, &error), "%s", error ? error->message : "?");
  ck_assert_int_eq (banger_vmm_get_state (vmm), BANGER_VMM_STATE_EXITED);
  ck_assert_str_eq (banger_vmm_get_stop_method (vmm), "ctrl-alt-del");

  ck_assert (g_file_get_contents (log, &requests, NULL, NULL));
  lines = g_strsplit (requests, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      if (lines[i][0] == '\0')
        continue;
      ck_assert_msg (strstr (lines[i], "\"status\": 2") != NULL, "refused: %s", lines[i]);
      if (strstr (lines[i], "InstanceStart") != NULL)
        n_start++;
    }
  ck_assert_uint_eq (n_start, 1);
  {
    const char *rm[] = { "rm", "-rf", dir, NULL };
    ck_assert (g_spawn_sync (NULL, (char **) rm, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL,
                             NULL, NULL, NULL));
  }
}
END_TEST

static Suite *
public_blocks_suite (void)
{
  Suite *s = suite_create ("public-blocks");
  TCase *tc = tcase_create ("public");

  tcase_add_test (tc, test_config_defaults_and_seal);
  tcase_add_test (tc, test_config_refusals);
  tcase_add_test (tc, test_vmm_before_launch);
  tcase_add_test (tc, test_backend_constructors_and_early_refusals);
  tcase_add_test (tc, test_firecracker_fake_through_public_api);
  suite_add_tcase (s, tc);
  return s;
}

int
main (void)
{
  SRunner *sr = srunner_create (public_blocks_suite ());
  int failed;

  srunner_set_tap (sr, "-");
  srunner_run_all (sr, CK_SILENT);
  failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed == 0 ? 0 : 1;
}
