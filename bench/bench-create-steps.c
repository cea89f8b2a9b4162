/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * bench-create-steps: create → running through bangerd against the fake
 * Firecracker, against the driver alone on the same fake, in one run.
 *
 *   engine  banger_client_vm_create (BangerClient over bangerd's socket),
 *           timed in the client from the call to the answer (the VM is
 *           running); each create's steps as bangerd logs them ("op …:
 *           NAME: step S done in T s"); the VM is deleted after (not timed)
 *   driver  BangerVmmFirecracker in this process on the same fake binary
 *           and the same kernel/initrd/rootfs: prepare + launch (the
 *           engine's launch step does both) and configure + start (its
 *           start step), then kill
 *
 * interleaved, alternating which goes first.  The fake boots no guest: the
 * engine's ssh step is answered by an SSH stand-in (bench-ssh-standin.h).
 * Prints median and p95 per step and in total, and the ratios.
 *
 *   sudo build/bench/bench-create-steps [-n VMS (50)] [--helper]
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "banger-vmm-firecracker.h"
#include "bench-engine-env.h"

G_NORETURN static void
die (const char *what, GError *error)
{
  bench_engine_die ("bench-create-steps", what, error);
}

static BangerVmmConfig *
driver_config (BenchEngine *e, const char *run_dir)
{
  BangerVmmConfig *c = banger_vmm_config_new ("bench-driver", run_dir);
  g_autofree char *rootfs = g_build_filename (e->guest_dir, "rootfs.ext4", NULL);

  /* what the engine gives the driver (banger-engine-vm.c make_vmm) */
  c->kernel_path = g_build_filename (e->guest_dir, "vmlinuz", NULL);
  c->initrd_path = g_build_filename (e->guest_dir, "initrd.img", NULL);
  c->vcpus = 1;
  c->mem_mib = 256;
  c->guest_ip = g_strdup ("10.77.0.200");
  c->gateway_ip = g_strdup ("10.77.0.1");
  c->netmask = g_strdup ("255.255.255.0");
  c->hostname = g_strdup ("bench-driver");
  banger_vmm_config_add_drive (c, "rootfs", rootfs, TRUE, FALSE);
  banger_vmm_config_add_nic (c, "eth0", "bngbench0", NULL);
  return c;
}

static void
driver_boot (BenchEngine *e, double *launch_s, double *start_s)
{
  g_autofree char *run_dir = g_build_filename (e->dir, "driver-run", NULL);
  g_autoptr (BangerVmm) v = banger_vmm_firecracker_new (driver_config (e, run_dir), e->fake_fc);
  g_autoptr (GError) error = NULL;
  gint64 t0, t1, t2;

  t0 = g_get_monotonic_time ();
  if (!banger_vmm_prepare (v, &error) || !banger_vmm_launch (v, NULL, &error))
    die ("driver launch", error);
  t1 = g_get_monotonic_time ();
  if (!banger_vmm_configure (v, NULL, &error) || !banger_vmm_start (v, NULL, &error))
    die ("driver configure/start", error);
  t2 = g_get_monotonic_time ();
  *launch_s = (t1 - t0) / 1e6;
  *start_s = (t2 - t1) / 1e6;
  if (!banger_vmm_kill (v, &error))
    die ("driver kill", error);
}

static double
engine_create (BenchEngine *e, const char *name)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BangerVmInfo) info = NULL;
  gint64 t0 = g_get_monotonic_time ();
  double s;

  info = bench_engine_create (e, NULL, name, TRUE, &error);
  s = (g_get_monotonic_time () - t0) / 1e6;
  if (info == NULL)
    die (name, error);
  if (banger_vm_info_get_state (info) != BANGER_VM_STATE_RUNNING)
    die (name, NULL);
  if (!bench_engine_delete (e, name, &error))
    die ("delete", error);
  return s;
}

static GArray *
darray (void)
{
  return g_array_new (FALSE, FALSE, sizeof (double));
}

int
main (int argc, char **argv)
{
  static const struct option opts[] = {
    { "vms", required_argument, NULL, 'n' },
    { "helper", no_argument, NULL, 'H' },
    { NULL, 0, NULL, 0 },
  };
  BenchDeploy deploy = BENCH_DEPLOY_ROOT;
  int n = 50, c;
  g_autoptr (GError) error = NULL;
  g_autoptr (GArray) eng = darray ();
  g_autoptr (GArray) drv = darray ();
  g_autoptr (GArray) drv_launch = darray ();
  g_autoptr (GArray) drv_start = darray ();
  g_autoptr (GHashTable) steps = NULL;
  g_autoptr (GPtrArray) order = NULL;
  g_autofree char *load0 = NULL;
  g_autofree char *load1 = NULL;
  BenchEngine *e;
  double em, ep, dm, dp, sum = 0;

  while ((c = getopt_long (argc, argv, "n:H", opts, NULL)) != -1)
    {
      if (c == 'n')
        n = atoi (optarg);
      else if (c == 'H')
        deploy = BENCH_DEPLOY_HELPER;
      else
        {
          g_printerr ("usage: bench-create-steps [-n VMS] [--helper]\n");
          return 2;
        }
    }
  if (n < 1 || n > 1000 || geteuid () != 0)
    {
      g_printerr ("bench-create-steps: VMS must be 1..1000, and it needs root\n");
      return 2;
    }
  load0 = bench_loadavg ();
  e = bench_engine_new ("bench-steps", deploy, TRUE, &error);
  if (e == NULL)
    die ("setup", error);
  /* warm-up, not counted: the first create makes the bridge and the
   * install key; the first driver boot registers types */
  {
    double a, b;
    engine_create (e, "warm-1");
    driver_boot (e, &a, &b);
  }
  for (int i = 0; i < n; i++)
    {
      g_autofree char *name = g_strdup_printf ("vm-%d", i + 1);
      double s, l, st;

      if (i % 2 == 0)
        {
          s = engine_create (e, name);
          driver_boot (e, &l, &st);
        }
      else
        {
          driver_boot (e, &l, &st);
          s = engine_create (e, name);
        }
      g_array_append_val (eng, s);
      g_array_append_val (drv_launch, l);
      g_array_append_val (drv_start, st);
      l += st;
      g_array_append_val (drv, l);
    }
  load1 = bench_loadavg ();
  steps = bench_engine_read_steps (e, "vm-", &order, &error);
  if (steps == NULL)
    die ("log", error);

  g_print ("# create -> running: engine (bangerd, %s deployment, BangerClient) vs driver alone "
           "(BangerVmmFirecracker), fake Firecracker, %d VMs each, interleaved\n",
           deploy == BENCH_DEPLOY_ROOT ? "root in-process" : "unprivileged + bangerd-root", n);
  g_print ("# load average before: %s, after: %s; SSH stand-in logins: %u\n\n", load0, load1,
           bench_ssh_standin_get_logins (e->ssh));
  g_print ("| step | engine median (ms) | engine p95 (ms) | driver median (ms) | driver p95 (ms) "
           "|\n| --- | ---: | ---: | ---: | ---: |\n");
  for (guint i = 0; i < order->len; i++)
    {
      const char *step = order->pdata[i];
      GArray *a = g_hash_table_lookup (steps, step);
      GArray *d = g_str_equal (step, "launch") ? drv_launch
                  : g_str_equal (step, "start") ? drv_start
                                                 : NULL;
      double m = bench_median (a);

      sum += m;
      if (a->len != (guint)n)
        g_print ("(step %s logged %u times for %d creates)\n", step, a->len, n);
      if (d != NULL)
        g_print ("| %s | %.1f | %.1f | %.1f | %.1f |\n", step, m * 1e3, bench_p95 (a) * 1e3,
                 bench_median (d) * 1e3, bench_p95 (d) * 1e3);
      else
        g_print ("| %s | %.1f | %.1f | - | - |\n", step, m * 1e3, bench_p95 (a) * 1e3);
    }
  em = bench_median (eng);
  ep = bench_p95 (eng);
  dm = bench_median (drv);
  dp = bench_p95 (drv);
  g_print ("| (sum of step medians) | %.1f | | | |\n", sum * 1e3);
  g_print ("| **create -> running, in the client** | **%.1f** | **%.1f** | **%.1f** | **%.1f** |\n",
           em * 1e3, ep * 1e3, dm * 1e3, dp * 1e3);
  g_print ("\nratio engine/driver: median %.2f, p95 %.2f; engine - driver (medians): %+.1f ms\n",
           em / dm, ep / dp, (em - dm) * 1e3);
  bench_engine_free (e);
  return 0;
}
