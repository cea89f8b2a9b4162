/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * QEMU snapshots end to end, on the real test guest booted by the kit
 * (through a real bangerd-root, TCG): a marker written into a tmpfs the
 * test mounts in the guest (memory only), a counter the guest advances
 * every 0.2 s; pause -> the guest's clock and counter stand still while
 * the host's runs, resume -> it goes on; snapshot (paused) -> kill the VM
 * -> restore into a NEW QEMU process as another VM id (-incoming defer,
 * another tap made by the helper, passed as fd 3; new run dir, a copy of
 * the disk) -> the marker is there, SSH works, the counter goes on; a
 * snapshot of the running restored VM leaves it running.  Prints the
 * figures.  Root only. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "banger-guest-kit.h"
#include "banger-test.h"
#include "banger-vmm-qemu.h"

static BangerKitNetns *leftover_ns;
static BangerKitVm *leftover_vm;
static BangerKitVm *leftover_vm2;

static char *
ssh_out (BangerKitNetns *ns, BangerKitVm *vm, const char *command)
{
  g_autoptr (GError) error = NULL;
  char *out = NULL;

  ck_assert_msg (banger_kit_ssh (ns, vm->key, command, 20, &out, &error), "ssh '%s': %s",
                 command, error ? error->message : "?");
  g_strstrip (out);
  return out;
}

static double
guest_uptime (BangerKitNetns *ns, BangerKitVm *vm)
{
  g_autofree char *out = ssh_out (ns, vm, "cut -d' ' -f1 /proc/uptime");
  return g_ascii_strtod (out, NULL);
}

static gint64
guest_counter (BangerKitNetns *ns, BangerKitVm *vm)
{
  g_autofree char *out = ssh_out (ns, vm, "cat /mnt/m/count");
  return g_ascii_strtoll (out, NULL, 10);
}

START_TEST (test_snapshot_restore)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *guest = NULL;
  g_autofree char *token = g_strdup_printf ("marker-%08x", g_random_int ());
  g_autofree char *setup = NULL;
  g_autofree char *marker = NULL;
  g_autofree char *snap = NULL;
  g_autofree char *snap2 = NULL;
  g_autofree char *old_tap = NULL;
  g_autofree char *tap_fd = NULL;
  BangerKitNetns *ns;
  BangerKitVm *vm;
  BangerKitVm *vm2;
  double u1, u2, host_s, guest_s, snap_s;
  gint64 h1, h2, c1, c2, c3, t0;
  GStatBuf st;

  guest = banger_kit_build_guest (&error);
  ck_assert_msg (guest != NULL, "building the guest: %s", error ? error->message : "?");
  ns = banger_kit_netns_new ("banger-snap", &error);
  ck_assert_msg (ns != NULL, "%s", error ? error->message : "?");
  leftover_ns = ns;
  vm = banger_kit_vm_boot (guest, ns, NULL, &error);
  ck_assert_msg (vm != NULL, "boot: %s", error ? error->message : "?");
  leftover_vm = vm;
  printf ("# cold boot: launch -> SSH ready %.2f s\n", vm->launch_to_ssh_s);

  /* memory only: a tmpfs, a marker, a counter */
  setup = g_strdup_printf ("mkdir -p /mnt/m && mount -t tmpfs none /mnt/m && echo %s > "
                           "/mnt/m/marker && (setsid sh -c 'i=0; while :; do i=$((i+1)); "
                           "echo $i > /mnt/m/count; sleep 0.2; done' </dev/null >/dev/null "
                           "2>&1 &) && sleep 1 && grep -c ' /mnt/m tmpfs' /proc/mounts",
                           token);
  g_free (ssh_out (ns, vm, setup));

  /* pause: the guest's clock and counter stand still while the host's runs */
  u1 = guest_uptime (ns, vm);
  c1 = guest_counter (ns, vm);
  h1 = g_get_monotonic_time ();
  ck_assert_msg (banger_vmm_pause (vm->vmm, NULL, &error), "%s", error ? error->message : "?");
  g_usleep (4 * G_USEC_PER_SEC);
  ck_assert_msg (banger_vmm_resume (vm->vmm, NULL, &error), "%s", error ? error->message : "?");
  u2 = guest_uptime (ns, vm);
  c2 = guest_counter (ns, vm);
  h2 = g_get_monotonic_time ();
  host_s = (double) (h2 - h1) / G_USEC_PER_SEC;
  guest_s = u2 - u1;
  printf ("# pause 4 s: host %.2f s, guest uptime %.2f s, counter +%" G_GINT64_FORMAT "\n",
          host_s, guest_s, c2 - c1);
  ck_assert_msg (host_s - guest_s > 3.0, "the guest's clock ran while paused (host %.2f s, "
                 "guest %.2f s)", host_s, guest_s);
  /* 0.2 s per step: at most the guest's own elapsed time (plus one) */
  ck_assert_msg ((double) (c2 - c1) * 0.2 <= guest_s + 0.4,
                 "the counter advanced %" G_GINT64_FORMAT " steps in %.2f guest seconds",
                 c2 - c1, guest_s);
  g_usleep (G_USEC_PER_SEC);
  c3 = guest_counter (ns, vm);
  ck_assert_msg (c3 > c2, "the counter did not go on after resume (%" G_GINT64_FORMAT
                 " -> %" G_GINT64_FORMAT ")", c2, c3);

  /* snapshot, paused: it stays paused; the file is whole */
  snap = g_build_filename (ns->state_dir, "snap.qemu", NULL);
  ck_assert_msg (banger_vmm_pause (vm->vmm, NULL, &error), "%s", error ? error->message : "?");
  t0 = g_get_monotonic_time ();
  ck_assert_msg (banger_vmm_snapshot_create (vm->vmm, snap, snap, FALSE, NULL, &error),
                 "snapshot: %s", error ? error->message : "?");
  snap_s = (double) (g_get_monotonic_time () - t0) / G_USEC_PER_SEC;
  ck_assert_int_eq (banger_vmm_get_state (vm->vmm), BANGER_VMM_STATE_PAUSED);
  ck_assert (g_stat (snap, &st) == 0);
  printf ("# snapshot (%u MiB guest): %.2f s, %.1f MiB\n", vm->mem_mib, snap_s,
          (double) st.st_size / (1024 * 1024));
  ck_assert_msg (st.st_size > 1024 * 1024, "the snapshot is only %lld bytes",
                 (long long) st.st_size);

  /* kill the VM; restore into a new QEMU as another VM (its own tap, new
   * run dir, a copy of the disk) */
  ck_assert_msg (banger_vmm_kill (vm->vmm, &error), "%s", error ? error->message : "?");
  old_tap = g_strdup (ns->tap);
  ck_assert_msg (banger_kit_netns_new_tap (ns, "banger-restored", &error), "%s",
                 error ? error->message : "?");
  ck_assert_str_ne (ns->tap, old_tap);
  vm2 = banger_kit_vm_restore (vm, ns, snap, &error);
  ck_assert_msg (vm2 != NULL, "restore: %s", error ? error->message : "?");
  leftover_vm2 = vm2;
  printf ("# restore: launch -> SSH ready %.2f s (load + cont %.2f s)\n", vm2->launch_to_ssh_s,
          vm2->launch_to_running_s);
  ck_assert_int_eq (banger_vmm_get_state (vm2->vmm), BANGER_VMM_STATE_RUNNING);
  ck_assert_int_ne (banger_vmm_get_pid (vm2->vmm), banger_vmm_get_pid (vm->vmm));
  /* QEMU's fd 3 is the new tap's queue */
  {
    g_autofree char *fdinfo = g_strdup_printf ("/proc/%d/fdinfo/3",
                                               (int) banger_vmm_get_pid (vm2->vmm));
    ck_assert (g_file_get_contents (fdinfo, &tap_fd, NULL, NULL));
    ck_assert_msg (strstr (tap_fd, ns->tap) != NULL, "fd 3 of the restored QEMU: %s", tap_fd);
  }
  marker = ssh_out (ns, vm2, "cat /mnt/m/marker");
  ck_assert_str_eq (marker, token);
  c1 = guest_counter (ns, vm2);
  ck_assert_msg (c1 >= c3, "the counter went back: %" G_GINT64_FORMAT " < %" G_GINT64_FORMAT,
                 c1, c3);
  g_usleep (G_USEC_PER_SEC);
  c2 = guest_counter (ns, vm2);
  ck_assert_msg (c2 > c1, "the restored guest's counter does not advance");

  /* a snapshot of a running VM leaves it running */
  snap2 = g_build_filename (ns->state_dir, "snap2.qemu", NULL);
  ck_assert_msg (banger_vmm_snapshot_create (vm2->vmm, snap2, snap2, FALSE, NULL, &error),
                 "snapshot of the running VM: %s", error ? error->message : "?");
  ck_assert_int_eq (banger_vmm_get_state (vm2->vmm), BANGER_VMM_STATE_RUNNING);
  g_free (ssh_out (ns, vm2, "true"));

  ck_assert_msg (banger_kit_vm_stop (vm2, &error), "stop: %s", error ? error->message : "?");
  leftover_vm2 = NULL;
  banger_kit_vm_free (vm2);
  leftover_vm = NULL;
  banger_kit_vm_free (vm);
  g_unlink (snap);
  g_unlink (snap2);
  leftover_ns = NULL;
  ck_assert_msg (banger_kit_netns_destroy (ns, &error), "%s", error ? error->message : "?");
}
END_TEST

static Suite *
e2e_qemu_snapshot_suite (void)
{
  Suite *s = suite_create ("e2e-qemu-snapshot");
  TCase *tc = tcase_create ("guest");

  tcase_set_timeout (tc, 900);
  tcase_add_test (tc, test_snapshot_restore);
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
  sr = srunner_create (e2e_qemu_snapshot_suite ());
  srunner_set_fork_status (sr, CK_NOFORK);
  srunner_set_tap (sr, "-");
  srunner_run_all (sr, CK_SILENT);
  failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  g_clear_pointer (&leftover_vm2, banger_kit_vm_free);
  g_clear_pointer (&leftover_vm, banger_kit_vm_free);
  if (leftover_ns != NULL)
    banger_kit_netns_destroy (g_steal_pointer (&leftover_ns), NULL);
  return failed == 0 ? 0 : 1;
}
