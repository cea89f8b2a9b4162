/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * QEMU snapshots on the test guest (kit: a real bangerd-root, TCG): for
 * each guest size, per run: cold boot -> SSH ready, pause, snapshot (time
 * and file size), kill, restore into a new QEMU process (-incoming defer,
 * new run dir, a copy of the disk) -> SSH ready, stop.  Cold boot and
 * restore of the same guest in the same run, so host load hits them alike;
 * medians are printed.
 *
 *   sudo build/bench/bench-qemu-snapshot [-n RUNS] [-m MIB]...
 *        (default: -n 3 -m 128 -m 512; results: doc/benchmarks.md)
 *
 * Root: it makes a network namespace with a tap and removes it at the end. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "banger-guest-kit.h"
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

  if (n == 0)
    return 0;
  qsort (v, n, sizeof *v, cmp_double);
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

typedef struct
{
  GArray *cold, *restore, *load, *snap_s, *snap_mib;
} Figures;

static gboolean
one_run (const char *guest, BangerKitNetns *ns, guint mem_mib, Figures *f, GError **error)
{
  g_autofree char *snap = g_build_filename (ns->state_dir, "bench-snap", NULL);
  BangerKitVm *vm = NULL;
  BangerKitVm *vm2 = NULL;
  GStatBuf st;
  gint64 t0;
  double v;
  gboolean ok = FALSE;

  vm = banger_kit_vm_boot_sized (guest, ns, NULL, mem_mib, error);
  if (vm == NULL)
    goto out;
  /* something in memory: a tmpfs with 16 MiB written */
  {
    g_autofree char *out = NULL;
    if (!banger_kit_ssh (ns, vm->key,
                         "mkdir -p /mnt/m && mount -t tmpfs none /mnt/m && "
                         "dd if=/dev/urandom of=/mnt/m/data bs=1M count=16 2>/dev/null",
                         20, &out, error))
      goto out;
  }
  if (!banger_vmm_pause (vm->vmm, NULL, error))
    goto out;
  t0 = g_get_monotonic_time ();
  if (!banger_vmm_snapshot_create (vm->vmm, snap, snap, FALSE, NULL, error))
    goto out;
  v = (double) (g_get_monotonic_time () - t0) / G_USEC_PER_SEC;
  g_array_append_val (f->snap_s, v);
  if (g_stat (snap, &st) < 0)
    goto out;
  v = (double) st.st_size / (1024 * 1024);
  g_array_append_val (f->snap_mib, v);
  g_array_append_val (f->cold, vm->launch_to_ssh_s);
  if (!banger_vmm_kill (vm->vmm, error))
    goto out;
  vm2 = banger_kit_vm_restore (vm, ns, snap, error);
  if (vm2 == NULL)
    goto out;
  g_array_append_val (f->restore, vm2->launch_to_ssh_s);
  g_array_append_val (f->load, vm2->launch_to_running_s);
  printf ("  %u MiB: cold boot -> SSH %.2f s, snapshot %.2f s %.1f MiB, restore -> SSH %.2f s "
          "(launch + load + cont %.2f s)\n",
          mem_mib, vm->launch_to_ssh_s, g_array_index (f->snap_s, double, f->snap_s->len - 1),
          g_array_index (f->snap_mib, double, f->snap_mib->len - 1), vm2->launch_to_ssh_s,
          vm2->launch_to_running_s);
  fflush (stdout);
  ok = banger_kit_vm_stop (vm2, error);
out:
  banger_kit_vm_free (vm2);
  banger_kit_vm_free (vm);
  g_unlink (snap);
  return ok;
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *guest = NULL;
  BangerKitNetns *ns;
  guint runs = 3;
  GArray *sizes = g_array_new (FALSE, FALSE, sizeof (guint));
  int rc = 0;

  for (int i = 1; i < argc; i++)
    {
      if (strcmp (argv[i], "-n") == 0 && i + 1 < argc)
        {
          int n = atoi (argv[++i]);
          runs = (guint) MAX (1, n);
        }
      else if (strcmp (argv[i], "-m") == 0 && i + 1 < argc)
        {
          guint m = (guint) atoi (argv[++i]);
          g_array_append_val (sizes, m);
        }
      else
        {
          fprintf (stderr, "usage: %s [-n RUNS] [-m MIB]...\n", argv[0]);
          return 2;
        }
    }
  if (sizes->len == 0)
    {
      guint d[] = { 128, 512 };
      g_array_append_vals (sizes, d, 2);
    }
  if (geteuid () != 0)
    {
      fprintf (stderr, "bench-qemu-snapshot: needs root (network namespace, tap)\n");
      return 77;
    }
  guest = banger_kit_build_guest (&error);
  if (guest == NULL)
    {
      fprintf (stderr, "guest: %s\n", error->message);
      return 1;
    }
  ns = banger_kit_netns_new ("banger-bsnap", &error);
  if (ns == NULL)
    {
      fprintf (stderr, "netns: %s\n", error->message);
      return 1;
    }
  for (guint s = 0; s < sizes->len && rc == 0; s++)
    {
      guint mem = g_array_index (sizes, guint, s);
      Figures f = { g_array_new (FALSE, FALSE, sizeof (double)),
                    g_array_new (FALSE, FALSE, sizeof (double)),
                    g_array_new (FALSE, FALSE, sizeof (double)),
                    g_array_new (FALSE, FALSE, sizeof (double)),
                    g_array_new (FALSE, FALSE, sizeof (double)) };

      for (guint r = 0; r < runs; r++)
        if (!one_run (guest, ns, mem, &f, &error))
          {
            fprintf (stderr, "run %u (%u MiB): %s\n", r, mem, error ? error->message : "?");
            rc = 1;
            break;
          }
      if (rc == 0)
        printf ("%u MiB guest, %u runs, medians: cold boot -> SSH %.2f s | restore -> SSH %.2f s "
                "(launch + load + cont %.2f s) | snapshot %.2f s, %.1f MiB\n",
                mem, runs, median (f.cold), median (f.restore), median (f.load),
                median (f.snap_s), median (f.snap_mib));
      g_array_unref (f.cold);
      g_array_unref (f.restore);
      g_array_unref (f.load);
      g_array_unref (f.snap_s);
      g_array_unref (f.snap_mib);
    }
  if (!banger_kit_netns_destroy (ns, &error))
    {
      fprintf (stderr, "cleanup: %s\n", error->message);
      rc = 1;
    }
  g_array_unref (sizes);
  return rc;
}
