/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * QEMU launch-to-SSH: the test guest booted through the QEMU driver
 * (prepare, launch + QMP handshake, configure, start = cont) against a bare
 * qemu-system-x86_64 of the same guest (hand-written argv, no QMP, no -S),
 * and against the same bare QEMU started with -S and continued by hand over
 * QMP (so the cost of starting paused shows apart from the driver's),
 * each followed by the same wait for SSH (banger_kit_wait_ssh: the banner
 * probed every 20 ms, then one real `ssh … true`).  Each run boots all
 * three, rotating which goes first, so host load hits them alike; medians
 * are printed.
 *
 *   sudo build/bench/bench-qemu-ssh [-n RUNS]     (results: doc/benchmarks.md)
 *
 * Root: it makes a network namespace with a tap and removes it at the end. */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "banger-guest-kit.h"
#include "banger-qmp.h"
#include "banger-vmm-qemu.h"

static int
cmp_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return x < y ? -1 : x > y;
}

static double
median (GArray *values)
{
  double *v = (double *) values->data;
  guint n = values->len;

  qsort (v, n, sizeof *v, cmp_double);
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* One bare boot: scratch rootfs + key made before the clock starts. */
/* @paused: start with -S and a QMP socket, then qmp_capabilities + cont by
 * hand (BangerQmp, no driver) — isolates what starting paused costs. */
static gboolean
bare_run (const char *guest, BangerKitNetns *ns, gboolean paused, double *out_s,
          double *out_banner_s, GError **error)
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
  {
    const char *cp[] = { "cp", "--sparse=always", src, rootfs, NULL };
    if (!banger_kit_run (cp, NULL, error) || !banger_kit_make_ssh_key (key, error)
        || !banger_kit_inject_key (rootfs, pub, error))
      return FALSE;
  }
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

static gboolean
driver_run (const char *guest, BangerKitNetns *ns, double *out_s, double *out_banner_s,
            double *out_running_s, GError **error)
{
  BangerKitVm *vm = banger_kit_vm_boot (guest, ns, NULL, error);
  gboolean ok;

  if (vm == NULL)
    return FALSE;
  *out_s = vm->launch_to_ssh_s;
  *out_banner_s = vm->launch_to_banner_s;
  *out_running_s = vm->launch_to_running_s;
  /* tear down the same way as the bare run: this measures boot, not stop */
  ok = banger_vmm_kill (vm->vmm, error);
  banger_kit_vm_free (vm);
  return ok;
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GArray) drv = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr (GArray) bare = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr (GArray) drv_b = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr (GArray) bare_b = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr (GArray) drv_r = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr (GArray) bareS = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr (GArray) bareS_b = g_array_new (FALSE, FALSE, sizeof (double));
  g_autofree char *guest = NULL;
  BangerKitNetns *ns;
  int runs = 5;
  int failed = 0;
  double dm, bm;

  for (int i = 1; i < argc; i++)
    {
      if (strcmp (argv[i], "-n") == 0 && i + 1 < argc)
        runs = atoi (argv[++i]);
      else
        {
          fprintf (stderr, "usage: %s [-n RUNS]\n", argv[0]);
          return 2;
        }
    }
  if (runs < 1 || runs > 100)
    {
      fprintf (stderr, "RUNS must be 1..100\n");
      return 2;
    }
  if (geteuid () != 0)
    {
      fprintf (stderr, "bench-qemu-ssh needs root (network namespace, tap)\n");
      return 2;
    }

  guest = banger_kit_build_guest (&error);
  if (guest == NULL)
    {
      fprintf (stderr, "guest: %s\n", error->message);
      return 1;
    }
  ns = banger_kit_netns_new ("banger-bench", &error);
  if (ns == NULL)
    {
      fprintf (stderr, "netns: %s\n", error->message);
      return 1;
    }

  printf ("# QEMU launch-to-SSH, TCG, %d runs each (guest %s)\n", runs, guest);
  printf ("# seconds from launch; banner = SSH banner on port 22, ssh = first `ssh true` done\n");
  printf ("# driver_running = launch + configure + start (QMP cont) acknowledged\n");
  printf ("# bareS = bare with -S and a hand-sent QMP cont (what starting paused costs)\n");
  printf ("# run  driver_running  driver_banner  driver_ssh  bare_banner  bare_ssh  bareS_banner  bareS_ssh\n");
  for (int i = 0; i < runs && !failed; i++)
    {
      double d = 0, b = 0, db = 0, bb = 0, dr = 0, bs = 0, bsb = 0;
      gboolean ok;

      /* rotate which goes first */
      switch (i % 3)
        {
        case 0:
          ok = driver_run (guest, ns, &d, &db, &dr, &error)
               && bare_run (guest, ns, FALSE, &b, &bb, &error)
               && bare_run (guest, ns, TRUE, &bs, &bsb, &error);
          break;
        case 1:
          ok = bare_run (guest, ns, FALSE, &b, &bb, &error)
               && bare_run (guest, ns, TRUE, &bs, &bsb, &error)
               && driver_run (guest, ns, &d, &db, &dr, &error);
          break;
        default:
          ok = bare_run (guest, ns, TRUE, &bs, &bsb, &error)
               && driver_run (guest, ns, &d, &db, &dr, &error)
               && bare_run (guest, ns, FALSE, &b, &bb, &error);
          break;
        }
      if (!ok)
        {
          fprintf (stderr, "run %d: %s\n", i + 1, error->message);
          failed = 1;
          break;
        }
      g_array_append_val (drv, d);
      g_array_append_val (bare, b);
      g_array_append_val (drv_b, db);
      g_array_append_val (bare_b, bb);
      g_array_append_val (drv_r, dr);
      g_array_append_val (bareS, bs);
      g_array_append_val (bareS_b, bsb);
      printf ("%5d  %14.3f  %13.2f  %10.2f  %11.2f  %8.2f  %13.2f  %10.2f\n", i + 1, dr, db, d,
              bb, b, bsb, bs);
      fflush (stdout);
    }
  banger_kit_netns_destroy (ns, NULL);
  if (failed)
    return 1;
  printf ("median launch to running (spawn, QMP handshake, cont): driver %.3f s\n",
          median (drv_r));
  dm = median (drv_b);
  bm = median (bare_b);
  printf ("median to banner: driver %.2f s, bare %.2f s, driver - bare %+.2f s (ratio %.3f)\n",
          dm, bm, dm - bm, dm / bm);
  dm = median (drv);
  bm = median (bare);
  printf ("median to ssh:    driver %.2f s, bare %.2f s, driver - bare %+.2f s (ratio %.3f)\n",
          dm, bm, dm - bm, dm / bm);
  printf ("median bare -S:   banner %.2f s, ssh %.2f s\n", median (bareS_b), median (bareS));
  return 0;
}
