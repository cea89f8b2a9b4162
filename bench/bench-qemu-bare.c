/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A bare qemu-system-x86_64 boot of the test guest and the wait for its SSH
 * (see bench-qemu-bare.h): what bench-qemu-ssh and bench-create-exec
 * compare banger against. */
#include "config.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "banger-qmp.h"
#include "banger-vmm-qemu.h"
#include "bench-qemu-bare.h"

gboolean
bench_qemu_bare_run (const char *guest, BangerKitNetns *ns, gboolean paused, double *out_prep_s,
                     double *out_s, double *out_banner_s, GError **error)
{
  g_autofree char *dir = g_dir_make_tmp ("banger-bare-XXXXXX", error);
  g_autofree char *rootfs = NULL;
  g_autofree char *key = NULL;
  g_autofree char *pub = NULL;
  g_autofree char *src = NULL;
  g_autofree char *kernel = NULL;
  g_autofree char *initrd = NULL;
  g_autofree char *console = NULL;
  g_autofree char *drive = NULL;
  g_autofree char *append = NULL;
  g_autofree char *tsc = NULL;
  g_autofree char *ip_path = g_find_program_in_path ("ip");
  /* the driver's MAC: the namespace's neighbour cache stays valid across
   * runs, for both */
  g_autofree char *mac = banger_vmm_mac_for_vm (BANGER_KIT_VM_ID, 0);
  g_autofree char *nic = g_strdup_printf ("virtio-net-device,netdev=eth0,mac=%s", mac);
  /* the kit's tap (made by its bangerd-root); root opens it by name */
  g_autofree char *tapopt = g_strdup_printf ("tap,id=eth0,ifname=%s,script=no,downscript=no",
                                             ns->tap);
  gboolean ok;
  GPid pid = 0;
  gint64 t0;
  gint64 banner_us = 0;
  int status;

  if (dir == NULL)
    return FALSE;
  rootfs = g_build_filename (dir, "rootfs.ext4", NULL);
  key = g_build_filename (dir, "id_ed25519", NULL);
  pub = g_strconcat (key, ".pub", NULL);
  src = g_build_filename (guest, "rootfs.ext4", NULL);
  kernel = g_build_filename (guest, "vmlinuz", NULL);
  initrd = g_build_filename (guest, "initrd.img", NULL);
  console = g_strdup_printf ("file:%s/console.log", dir);
  drive = g_strdup_printf ("if=none,id=rootfs,file=%s,format=raw", rootfs);
  tsc = banger_qemu_host_tsc_khz ()
            ? g_strdup_printf (" tsc_early_khz=%u", banger_qemu_host_tsc_khz ())
            : g_strdup ("");
  append = g_strdup_printf ("console=ttyS0 reboot=k panic=1 pci=off i8042.noaux i8042.nomux "
                            "i8042.nopnp i8042.dumbkbd ip=%s::%s:%s:bare:eth0:off%s",
                            ns->guest_ip, ns->host_ip, ns->netmask, tsc);
  t0 = g_get_monotonic_time ();
  {
    const char *cp[] = { "cp", "--sparse=always", src, rootfs, NULL };
    if (!banger_kit_run (cp, NULL, error) || !banger_kit_make_ssh_key (key, error)
        || !banger_kit_inject_key (rootfs, pub, error))
      return FALSE;
  }
  if (out_prep_s != NULL)
    *out_prep_s = (double) (g_get_monotonic_time () - t0) / G_USEC_PER_SEC;
  {
    const char *fixed[] = { ip_path, "netns", "exec", ns->name,
                            "qemu-system-x86_64", "-M", "microvm", "-accel", "tcg",
                            "-m", "256", "-smp", "1", "-nodefaults", "-no-user-config",
                            "-nographic", "-no-reboot", "-serial", console,
                            "-kernel", kernel, "-initrd", initrd, "-append", append,
                            "-drive", drive, "-device", "virtio-blk-device,drive=rootfs",
                            "-netdev", tapopt,
                            "-device", nic };
    g_autoptr (GPtrArray) argv = g_ptr_array_new ();
    g_autofree char *qmp_path = g_build_filename (dir, "qmp.sock", NULL);
    g_autofree char *qmp_opt = g_strdup_printf ("unix:%s,server=on,wait=off", qmp_path);

    for (guint i = 0; i < G_N_ELEMENTS (fixed); i++)
      g_ptr_array_add (argv, (char *) fixed[i]);
    if (paused)
      {
        g_ptr_array_add (argv, (char *) "-S");
        g_ptr_array_add (argv, (char *) "-qmp");
        g_ptr_array_add (argv, qmp_opt);
      }
    g_ptr_array_add (argv, NULL);
    t0 = g_get_monotonic_time ();
    if (!g_spawn_async (NULL, (char **) argv->pdata, NULL,
                        G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDOUT_TO_DEV_NULL
                            | G_SPAWN_STDERR_TO_DEV_NULL,
                        NULL, NULL, &pid, error))
      return FALSE;
    if (paused)
      {
        g_autoptr (BangerQmp) qmp = banger_qmp_new ();
        g_autoptr (JsonNode) ret = NULL;
        gint64 until = t0 + 10 * G_USEC_PER_SEC;

        gboolean connected = FALSE;
        /* the socket file exists from bind(), before QEMU listens: retry a
         * refused connect (under load the gap is long enough to hit) */
        while (!connected && g_get_monotonic_time () < until)
          {
            g_autoptr (GError) local = NULL;
            connected = g_file_test (qmp_path, G_FILE_TEST_EXISTS)
                        && banger_qmp_connect (qmp, qmp_path, 10000, NULL, &local);
            if (!connected)
              g_usleep (10 * 1000);
          }
        if (!connected && !banger_qmp_connect (qmp, qmp_path, 10000, NULL, error))
          ret = NULL;
        else
          ret = banger_qmp_execute (qmp, "cont", NULL, 0, NULL, error);
        if (ret == NULL)
          {
            kill (pid, SIGKILL);
            waitpid (pid, &status, 0);
            return FALSE;
          }
      }
  }
  ok = banger_kit_wait_ssh (ns, key, 180 * 1000, &banner_us, error);
  *out_s = (double) (g_get_monotonic_time () - t0) / G_USEC_PER_SEC;
  *out_banner_s = (double) (banner_us - t0) / G_USEC_PER_SEC;
  kill (pid, SIGTERM);
  waitpid (pid, &status, 0);
  {
    const char *rm[] = { "rm", "-rf", "--one-file-system", dir, NULL };
    banger_kit_run (rm, NULL, NULL);
  }
  return ok;
}
