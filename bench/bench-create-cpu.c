/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * bench-create-cpu: the CPU time bangerd and bangerd-root spend of their
 * own per create (and per delete), against the fake Firecracker.
 *
 * bangerd runs as an unprivileged owner (uid 65534) talking to a real
 * bangerd-root (the guest kit's), as the e2e test's split deployment; with
 * --root, bangerd runs as root with the in-process executor (no helper).
 * BangerClient drives it.  utime + stime (and the waited-for children's
 * cutime + cstime: debugfs, mkfs, the fake VMMs) are read from
 * /proc/<pid>/stat before and after N creates, then N deletes, all
 * sequential, after one warm-up create + delete; an idle period of the
 * same length as the creates is measured first, for the background.
 * The fake boots no guest: the engine's ssh step is answered by an SSH
 * stand-in in this process (its CPU is not the daemon's).
 *
 *   sudo build/bench/bench-create-cpu [-n CREATES (20)] [--root]
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <unistd.h>

#include "bench-engine-env.h"

typedef struct
{
  double d_own, d_child, h_own, h_child;
} Cpu;

G_NORETURN static void
die (const char *what, GError *error)
{
  bench_engine_die ("bench-create-cpu", what, error);
}

static Cpu
sample (BenchEngine *e)
{
  Cpu c = { 0 };
  g_autoptr (GError) error = NULL;
  GPid h = bench_engine_helper_pid (e);

  if (!bench_proc_cpu (bench_engine_daemon_pid (e), &c.d_own, &c.d_child, &error))
    die ("bangerd's /proc", error);
  if (h != 0 && !bench_proc_cpu (h, &c.h_own, &c.h_child, &error))
    die ("bangerd-root's /proc", error);
  return c;
}

static void
row (const char *what, Cpu a, Cpu b, int n, double wall_s)
{
  g_print ("| %s | %.1f | %.1f | %.1f | %.1f | %.1f |\n", what, (b.d_own - a.d_own) * 1e3 / n,
           (b.d_child - a.d_child) * 1e3 / n, (b.h_own - a.h_own) * 1e3 / n,
           (b.h_child - a.h_child) * 1e3 / n, wall_s * 1e3 / n);
}

int
main (int argc, char **argv)
{
  static const struct option opts[] = {
    { "creates", required_argument, NULL, 'n' },
    { "root", no_argument, NULL, 'R' },
    { NULL, 0, NULL, 0 },
  };
  BenchDeploy deploy = BENCH_DEPLOY_HELPER;
  int n = 20, c;
  g_autoptr (GError) error = NULL;
  g_autofree char *load0 = NULL, *load1 = NULL;
  BenchEngine *e;
  Cpu c0, c1, c2, c3;
  gint64 t0, t1, t2, t3;

  while ((c = getopt_long (argc, argv, "n:R", opts, NULL)) != -1)
    {
      if (c == 'n')
        n = atoi (optarg);
      else if (c == 'R')
        deploy = BENCH_DEPLOY_ROOT;
      else
        {
          g_printerr ("usage: bench-create-cpu [-n CREATES] [--root]\n");
          return 2;
        }
    }
  if (n < 1 || n > 200 || geteuid () != 0)
    {
      g_printerr ("bench-create-cpu: CREATES must be 1..200, and it needs root\n");
      return 2;
    }
  load0 = bench_loadavg ();
  e = bench_engine_new ("bench-cpu", deploy, TRUE, &error);
  if (e == NULL)
    die ("setup", error);
  {
    g_autoptr (BangerVmInfo) w = bench_engine_create (e, NULL, "warm-1", TRUE, &error);
    if (w == NULL || !bench_engine_delete (e, "warm-1", &error))
      die ("warm-up", error);
  }

  c1 = sample (e);
  t1 = g_get_monotonic_time ();
  for (int i = 0; i < n; i++)
    {
      g_autofree char *name = g_strdup_printf ("vm-%d", i + 1);
      g_autoptr (BangerVmInfo) info = bench_engine_create (e, NULL, name, TRUE, &error);
      if (info == NULL)
        die (name, error);
      if (banger_vm_info_get_state (info) != BANGER_VM_STATE_RUNNING)
        die (name, NULL);
    }
  c2 = sample (e);
  t2 = g_get_monotonic_time ();
  for (int i = 0; i < n; i++)
    {
      g_autofree char *name = g_strdup_printf ("vm-%d", i + 1);
      if (!bench_engine_delete (e, name, &error))
        die (name, error);
    }
  c3 = sample (e);
  t3 = g_get_monotonic_time ();
  /* the background: idle for as long as the creates took */
  c0 = sample (e);
  t0 = g_get_monotonic_time ();
  g_usleep ((gulong)(t2 - t1));
  {
    Cpu idle = sample (e);
    load1 = bench_loadavg ();
    g_print ("# CPU per operation (ms), fake Firecracker, %d sequential creates then %d deletes; "
             "bangerd %s\n",
             n, n,
             deploy == BENCH_DEPLOY_ROOT ? "as root, in-process executor (no helper)"
                                         : "as uid 65534 + bangerd-root (the kit's)");
    g_print ("# load average before: %s, after: %s; CPU clock tick %ld Hz\n\n", load0, load1,
             sysconf (_SC_CLK_TCK));
    g_print ("| per | bangerd own | bangerd's children | bangerd-root own | bangerd-root's "
             "children | wall |\n| --- | ---: | ---: | ---: | ---: | ---: |\n");
    row ("create", c1, c2, n, (t2 - t1) / 1e6);
    row ("delete", c2, c3, n, (t3 - t2) / 1e6);
    row ("idle, same length as the creates, per create", c0, idle, n,
         (g_get_monotonic_time () - t0) / 1e6);
  }
  bench_engine_free (e);
  return 0;
}
