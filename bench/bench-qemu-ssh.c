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
#include "banger-vmm-qemu.h"
#include "bench-qemu-bare.h"

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
               && bench_qemu_bare_run (guest, ns, FALSE, NULL, &b, &bb, &error)
               && bench_qemu_bare_run (guest, ns, TRUE, NULL, &bs, &bsb, &error);
          break;
        case 1:
          ok = bench_qemu_bare_run (guest, ns, FALSE, NULL, &b, &bb, &error)
               && bench_qemu_bare_run (guest, ns, TRUE, NULL, &bs, &bsb, &error)
               && driver_run (guest, ns, &d, &db, &dr, &error);
          break;
        default:
          ok = bench_qemu_bare_run (guest, ns, TRUE, NULL, &bs, &bsb, &error)
               && driver_run (guest, ns, &d, &db, &dr, &error)
               && bench_qemu_bare_run (guest, ns, FALSE, NULL, &b, &bb, &error);
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
