/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * bench-store: what a durable store write costs.
 *
 * Each run opens a fresh store (synchronous=FULL, as the daemon does) in a
 * new directory and does N round trips of what the engine does per VM:
 *   create   banger_store_vm_create            (one INSERT, one commit)
 *   update   banger_store_vm_set_state          (one UPDATE, one commit)
 *   list     banger_store_vm_list               (read of all VMs so far)
 * and reports the median and p95 of each, per run; then the median and
 * spread (min-max) of the per-run medians.  For scale, the same runs with
 * synchronous=NORMAL (BANGER_STORE_OPEN_NO_SYNC: no fsync per commit) and
 * the median of a bare 4 KiB write + fdatasync() on the same filesystem.
 *
 *   bench-store [-n ROUND_TRIPS (200)] [-r RUNS (5)] [-d DIR (TMPDIR)]
 *   (results: doc/benchmarks.md)
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <sqlite3.h> /* (for its version string only) */

#include "banger-store.h"

static double
now_ms (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int
cmp_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return x < y ? -1 : x > y;
}

/* The @q quantile (0..1) of @v (sorted in place). */
static double
quantile (GArray *v, double q)
{
  guint i;

  g_array_sort (v, cmp_double);
  i = (guint) (q * (v->len - 1) + 0.5);
  return g_array_index (v, double, i);
}

static int
rm_one (const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
  return remove (path);
}

static void G_GNUC_NORETURN
die (const char *what, GError *error)
{
  g_printerr ("bench-store: %s: %s\n", what, error != NULL ? error->message : g_strerror (errno));
  exit (1);
}

typedef struct
{
  double create_med, create_p95, update_med, update_p95, list_med, list_p95, trip_med;
} RunFigures;

static RunFigures
one_run (const char *parent, guint n, BangerStoreOpenFlags flags)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_build_filename (parent, "bench-store-XXXXXX", NULL);
  g_autofree char *path = NULL;
  g_autoptr (BangerStore) store = NULL;
  g_autoptr (BangerStoreImage) image_in = banger_store_image_new ("img", "/img.ext4", 1, NULL);
  g_autoptr (BangerStoreKernel) kernel_in = banger_store_kernel_new ("k", "/vmlinuz", NULL, NULL);
  g_autoptr (BangerStoreImage) image = NULL;
  g_autoptr (BangerStoreKernel) kernel = NULL;
  g_autoptr (GArray) create = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr (GArray) update = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr (GArray) list = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr (GArray) trip = g_array_new (FALSE, FALSE, sizeof (double));
  RunFigures f;

  if (g_mkdtemp (dir) == NULL)
    die ("mkdtemp", NULL);
  path = g_build_filename (dir, BANGER_STORE_FILE_NAME, NULL);
  store = banger_store_open (path, flags, &error);
  if (store == NULL)
    die ("open", error);
  image = banger_store_image_add (store, image_in, &error);
  kernel = image != NULL ? banger_store_kernel_add (store, kernel_in, &error) : NULL;
  if (kernel == NULL)
    die ("image/kernel", error);

  for (guint i = 0; i < n; i++)
    {
      g_autofree char *name = g_strdup_printf ("bench-%u", i);
      g_autoptr (BangerStoreVm) spec = banger_store_vm_new (name, image->id, kernel->id,
                                                            BANGER_STORE_VMM_FIRECRACKER);
      g_autoptr (BangerStoreVm) vm = NULL;
      g_autoptr (GPtrArray) vms = NULL;
      double t0, t1, t2, t3;

      t0 = now_ms ();
      vm = banger_store_vm_create (store, spec, &error);
      t1 = now_ms ();
      if (vm == NULL)
        die ("create", error);
      if (!banger_store_vm_set_state (store, vm->id, BANGER_STORE_VM_STATE_CREATING,
                                      BANGER_STORE_VM_STATE_RUNNING, NULL, NULL, &error))
        die ("update", error);
      t2 = now_ms ();
      vms = banger_store_vm_list (store, &error);
      t3 = now_ms ();
      if (vms == NULL || vms->len != i + 1)
        die ("list", error);
      g_array_append_vals (create, (double[]){ t1 - t0 }, 1);
      g_array_append_vals (update, (double[]){ t2 - t1 }, 1);
      g_array_append_vals (list, (double[]){ t3 - t2 }, 1);
      g_array_append_vals (trip, (double[]){ t3 - t0 }, 1);
    }
  g_clear_pointer (&store, banger_store_unref);
  nftw (dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);

  f.create_med = quantile (create, 0.5);
  f.create_p95 = quantile (create, 0.95);
  f.update_med = quantile (update, 0.5);
  f.update_p95 = quantile (update, 0.95);
  f.list_med = quantile (list, 0.5);
  f.list_p95 = quantile (list, 0.95);
  f.trip_med = quantile (trip, 0.5);
  return f;
}

/* Median of @n 4 KiB pwrite + fdatasync on a file in @parent. */
static double
fsync_baseline (const char *parent, guint n)
{
  g_autofree char *path = g_build_filename (parent, "bench-store-fsync-XXXXXX", NULL);
  g_autoptr (GArray) t = g_array_new (FALSE, FALSE, sizeof (double));
  char block[4096];
  int fd = g_mkstemp_full (path, O_RDWR | O_CLOEXEC, 0600);

  if (fd < 0)
    die ("mkstemp", NULL);
  memset (block, 'x', sizeof block);
  for (guint i = 0; i < n; i++)
    {
      double t0 = now_ms ();

      if (pwrite (fd, block, sizeof block, (off_t) (i % 64) * sizeof block) != sizeof block
          || fdatasync (fd) != 0)
        die ("write/fdatasync", NULL);
      g_array_append_vals (t, (double[]){ now_ms () - t0 }, 1);
    }
  close (fd);
  unlink (path);
  return quantile (t, 0.5);
}

static void
report (const char *label, RunFigures *runs, guint n_runs)
{
  const char *names[] = { "create", "update", "list", "round trip" };

  g_print ("%s\n", label);
  for (guint r = 0; r < n_runs; r++)
    g_print ("  run %u: create %.3f (p95 %.3f)  update %.3f (p95 %.3f)  list %.3f (p95 %.3f)  "
             "round trip %.3f ms\n",
             r + 1, runs[r].create_med, runs[r].create_p95, runs[r].update_med,
             runs[r].update_p95, runs[r].list_med, runs[r].list_p95, runs[r].trip_med);
  for (guint k = 0; k < G_N_ELEMENTS (names); k++)
    {
      g_autoptr (GArray) meds = g_array_new (FALSE, FALSE, sizeof (double));
      double med;

      for (guint r = 0; r < n_runs; r++)
        {
          double v = k == 0 ? runs[r].create_med
                     : k == 1 ? runs[r].update_med
                     : k == 2 ? runs[r].list_med
                              : runs[r].trip_med;

          g_array_append_vals (meds, &v, 1);
        }
      /* (quantile() sorts: read min and max after it) */
      med = quantile (meds, 0.5);

      g_print ("  %-10s median of run medians %.3f ms, spread %.3f-%.3f ms\n", names[k], med,
               g_array_index (meds, double, 0), g_array_index (meds, double, meds->len - 1));
    }
}

int
main (int argc, char **argv)
{
  guint n = 200, n_runs = 5;
  const char *parent = g_get_tmp_dir ();
  g_autofree RunFigures *full = NULL, *normal = NULL;
  double baseline;
  int c;

  while ((c = getopt (argc, argv, "n:r:d:h")) != -1)
    {
      switch (c)
        {
        case 'n':
          n = (guint) g_ascii_strtoull (optarg, NULL, 10);
          break;
        case 'r':
          n_runs = (guint) g_ascii_strtoull (optarg, NULL, 10);
          break;
        case 'd':
          parent = optarg;
          break;
        default:
          g_printerr ("usage: bench-store [-n ROUND_TRIPS] [-r RUNS] [-d DIR]\n");
          return 2;
        }
    }
  if (n == 0 || n > 100000 || n_runs == 0 || n_runs > 100)
    {
      g_printerr ("bench-store: -n 1..100000, -r 1..100\n");
      return 2;
    }
  full = g_new0 (RunFigures, n_runs);
  normal = g_new0 (RunFigures, n_runs);
  /* interleaved, so that load changes hit both alike */
  for (guint r = 0; r < n_runs; r++)
    {
      full[r] = one_run (parent, n, BANGER_STORE_OPEN_NONE);
      normal[r] = one_run (parent, n, BANGER_STORE_OPEN_NO_SYNC);
    }
  baseline = fsync_baseline (parent, 200);

  g_print ("bench-store: %u round trips x %u runs in %s; SQLite %s\n", n, n_runs, parent,
           sqlite3_libversion ());
  report ("synchronous=FULL (the daemon's setting)", full, n_runs);
  report ("synchronous=NORMAL (for scale only)", normal, n_runs);
  g_print ("4 KiB write + fdatasync, median of 200: %.3f ms\n", baseline);
  return 0;
}
