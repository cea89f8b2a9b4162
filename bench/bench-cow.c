/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * bench-cow: what preparing a VM's root disk costs, per strategy, against
 * cp, in the same run.
 *
 * A sparse image of SIZE MiB holding DATA MiB of data extents (random bytes,
 * 256 extents of varying length spread over the file, as an ext4 image's
 * used blocks are) is made on the local file system (TMPDIR) and on an xfs
 * file system made with -m reflink=1 on a loop device (in a private mount
 * namespace; it goes away with the process).  Each run times, one after the
 * other:
 *
 *   local fs  banger sparse-copy (copy_file_range)
 *             banger sparse-copy (pread/pwrite: BANGER_COW_CREATE_NO_COPY_FILE_RANGE)
 *             cp --sparse=always IMAGE DEST  + fsync of DEST and its directory
 *             cp --reflink=never IMAGE DEST  + fsync of DEST and its directory
 *   xfs       banger reflink
 *             cp --reflink=always IMAGE DEST + fsync of DEST and its directory
 *             banger_cow_choose (the probe alone)
 *   local fs  banger work disk of WORK GiB (default options; and without
 *             assume_storage_prezeroed)
 *
 * banger's creates fsync the file and the directory (they are durable when
 * they return), so cp is timed with the same syncs.  The image is in the
 * page cache for every method (warm: the page cache of a shared machine is
 * not dropped).  Each result is removed and the file systems synced between
 * measurements, outside the timing.  Printed: median, min and max over the
 * runs, the median CPU time (this thread + the spawned cp or mkfs: the
 * copying work apart from waiting for the disk), the bytes the result
 * allocates, and each method's median as a ratio of cp's.
 *
 *   sudo bench-cow [-r RUNS (5)] [-s SIZE_MIB (1024)] [-d DATA_MIB (200)] [-w WORK_GIB (8)]
 *   (results: doc/benchmarks.md)
 */
#include "config.h"

#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "banger-cow-disk.h"
#include "banger-work-disk.h"
#include "host-test-loopfs.h"

#define MiB (G_GUINT64_CONSTANT (1024) * 1024)

static double
now_ms (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* CPU ms of this thread plus reaped children (cp, mkfs). */
static double
cpu_ms (void)
{
  struct rusage self, kids;

  getrusage (RUSAGE_THREAD, &self);
  getrusage (RUSAGE_CHILDREN, &kids);
  return (self.ru_utime.tv_sec + kids.ru_utime.tv_sec + self.ru_stime.tv_sec
          + kids.ru_stime.tv_sec)
             * 1e3
         + (self.ru_utime.tv_usec + kids.ru_utime.tv_usec + self.ru_stime.tv_usec
            + kids.ru_stime.tv_usec)
               / 1e3;
}

static int
cmp_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return x < y ? -1 : x > y;
}

static void G_GNUC_NORETURN
die (const char *what, GError *error)
{
  g_printerr ("bench-cow: %s: %s\n", what, error != NULL ? error->message : "failed");
  exit (1);
}

typedef enum {
  M_SPARSE_CFR,
  M_SPARSE_RW,
  M_CP_SPARSE,
  M_CP_NOREFLINK,
  M_REFLINK,
  M_CP_REFLINK,
  M_CHOOSE,
  M_WORK,
  M_WORK_NOPREZERO,
  M_N
} Method;

static const char *const method_names[M_N] = {
  "banger sparse-copy (copy_file_range)",
  "banger sparse-copy (pread/pwrite)",
  "cp --sparse=always + fsync",
  "cp --reflink=never + fsync",
  "banger reflink (xfs)",
  "cp --reflink=always + fsync (xfs)",
  "banger_cow_choose (probe, xfs)",
  "banger work disk (default)",
  "banger work disk (no prezeroed)",
};

static void
fsync_path (const char *path, gboolean dir)
{
  int fd = open (path, (dir ? O_RDONLY | O_DIRECTORY : O_RDONLY) | O_CLOEXEC);
  if (fd < 0 || fsync (fd) < 0)
    die ("fsync", NULL);
  close (fd);
}

static void
run_cp (const char *flag, const char *src, const char *dest)
{
  const char *argv[] = { "cp", flag, src, dest, NULL };
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_path_get_dirname (dest);
  int status = 0;

  if (!g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL,
                     &status, &error)
      || !g_spawn_check_wait_status (status, &error))
    die ("cp", error);
  fsync_path (dest, FALSE);
  fsync_path (dir, TRUE);
}

static guint64
allocated_of (const char *path)
{
  struct stat st;
  if (stat (path, &st) < 0)
    return 0;
  return (guint64) st.st_blocks * 512;
}

int
main (int argc, char **argv)
{
  guint runs = 5, size_mib = 1024, data_mib = 200, work_gib = 8;
  g_autoptr (GError) error = NULL;
  g_autoptr (HostTestLoopfs) fs = NULL;
  g_autofree char *tmp = NULL;
  g_autofree char *img_local = NULL;
  g_autofree char *img_xfs = NULL;
  g_autofree char *dest_local = NULL;
  g_autofree char *dest_xfs = NULL;
  g_autofree guint64 *extents = NULL;
  GArray *times[M_N];
  GArray *cpus[M_N];
  guint64 alloc[M_N] = { 0 };
  guint64 data, size;
  int opt;

  while ((opt = getopt (argc, argv, "r:s:d:w:")) != -1)
    switch (opt)
      {
      case 'r':
        runs = (guint) atoi (optarg);
        break;
      case 's':
        size_mib = (guint) atoi (optarg);
        break;
      case 'd':
        data_mib = (guint) atoi (optarg);
        break;
      case 'w':
        work_gib = (guint) atoi (optarg);
        break;
      default:
        g_printerr ("usage: bench-cow [-r RUNS] [-s SIZE_MIB] [-d DATA_MIB] [-w WORK_GIB]\n");
        return 2;
      }
  if (runs < 1 || size_mib < 16 || data_mib < 1 || data_mib * 2 > size_mib || work_gib < 1)
    {
      g_printerr ("bench-cow: need RUNS >= 1, SIZE >= 16, 0 < DATA <= SIZE/2, WORK >= 1\n");
      return 2;
    }
  if (geteuid () != 0)
    {
      g_printerr ("bench-cow: needs root (a loop device and a mount for the xfs part)\n");
      return 2;
    }
  size = size_mib * MiB;

  /* 256 extents spread over the file, lengths varying around DATA/256
   * (4 KiB-aligned, each inside its own slot of SIZE/256). */
  {
    g_autoptr (GRand) rand = g_rand_new_with_seed (42);
    guint64 slot = size / 256, mean = data_mib * MiB / 256, left = data_mib * MiB;
    extents = g_new0 (guint64, 2 * 256);
    for (guint i = 0; i < 256; i++)
      {
        guint64 len, room, at = 0;

        len = i == 255 ? left
                       : (mean / 2 + (guint64) g_rand_int_range (rand, 0, (gint32) mean)) & ~4095ULL;
        len = MIN (len, left);
        len = MIN (len, slot);
        room = slot - len;
        if (room > 0)
          at = (guint64) g_rand_int_range (rand, 0, (gint32) (room / 4096 + 1)) * 4096;
        extents[2 * i] = i * slot + at;
        extents[2 * i + 1] = len;
        left -= len;
      }
  }

  if (!host_test_private_mount_ns (&error))
    die ("private mount namespace", error);
  tmp = g_dir_make_tmp ("bench-cow-XXXXXX", &error);
  if (tmp == NULL)
    die ("temp dir", error);
  fs = host_test_loopfs_new ("xfs", 2 * size + 512 * MiB, &error);
  if (fs == NULL)
    die ("xfs on a loop device", error);
  img_local = g_build_filename (tmp, "image.ext4", NULL);
  img_xfs = g_build_filename (fs->mountpoint, "image.ext4", NULL);
  dest_local = g_build_filename (tmp, "vm.rootfs", NULL);
  dest_xfs = g_build_filename (fs->mountpoint, "vm.rootfs", NULL);
  data = host_test_make_image (img_local, size, extents, 256, 42, &error);
  if (data == 0)
    die ("image", error);
  if (host_test_make_image (img_xfs, size, extents, 256, 42, &error) == 0)
    die ("image on xfs", error);
  sync ();

  for (int m = 0; m < M_N; m++)
    {
      times[m] = g_array_new (FALSE, FALSE, sizeof (double));
      cpus[m] = g_array_new (FALSE, FALSE, sizeof (double));
    }

  g_print ("bench-cow: image %u MiB with %" G_GUINT64_FORMAT " MiB of data in 256 extents "
           "(allocated: local %" G_GUINT64_FORMAT " MiB, xfs %" G_GUINT64_FORMAT
           " MiB); %u runs; work disk %u GiB\n",
           size_mib, data / MiB, allocated_of (img_local) / MiB, allocated_of (img_xfs) / MiB,
           runs, work_gib);

  /* one warm-up of each copy (page cache, binaries), not counted */
  if (!banger_cow_disk_create (BANGER_COW_STRATEGY_SPARSE_COPY, img_local, dest_local, 0, NULL,
                               NULL, NULL, NULL, &error))
    die ("warm-up", error);
  g_unlink (dest_local);
  run_cp ("--sparse=always", img_local, dest_local);
  g_unlink (dest_local);
  sync ();

  for (guint r = 0; r < runs; r++)
    for (int m = 0; m < M_N; m++)
      {
        const char *dest = (m >= M_REFLINK && m <= M_CHOOSE) ? dest_xfs : dest_local;
        double t0, t, c0, c;

        c0 = cpu_ms ();
        t0 = now_ms ();
        switch ((Method) m)
          {
          case M_SPARSE_CFR:
          case M_SPARSE_RW:
            if (!banger_cow_disk_create (BANGER_COW_STRATEGY_SPARSE_COPY, img_local, dest,
                                         m == M_SPARSE_RW ? BANGER_COW_CREATE_NO_COPY_FILE_RANGE
                                                          : 0,
                                         NULL, NULL, NULL, NULL, &error))
              die (method_names[m], error);
            break;
          case M_CP_SPARSE:
            run_cp ("--sparse=always", img_local, dest);
            break;
          case M_CP_NOREFLINK:
            run_cp ("--reflink=never", img_local, dest);
            break;
          case M_REFLINK:
            if (!banger_cow_disk_create (BANGER_COW_STRATEGY_REFLINK, img_xfs, dest, 0, NULL, NULL,
                                         NULL, NULL, &error))
              die (method_names[m], error);
            break;
          case M_CP_REFLINK:
            run_cp ("--reflink=always", img_xfs, dest);
            break;
          case M_CHOOSE:
            {
              BangerCowStrategy s;
              if (!banger_cow_choose (fs->mountpoint, img_xfs, 0, &s, NULL, &error))
                die (method_names[m], error);
              if (s != BANGER_COW_STRATEGY_REFLINK)
                die ("the chooser did not pick reflink on xfs", NULL);
            }
            break;
          case M_WORK:
          case M_WORK_NOPREZERO:
            if (!banger_work_disk_create (dest, work_gib * 1024 * MiB,
                                          m == M_WORK_NOPREZERO ? BANGER_WORK_DISK_NO_PREZEROED
                                                                : 0,
                                          NULL, &error))
              die (method_names[m], error);
            break;
          case M_N:
            break;
          }
        t = now_ms () - t0;
        c = cpu_ms () - c0;
        g_array_append_val (times[m], t);
        g_array_append_val (cpus[m], c);
        if (m != M_CHOOSE)
          {
            alloc[m] = allocated_of (dest);
            g_unlink (dest);
          }
        sync ();
      }

  g_print ("\n%-40s %10s %10s %10s %8s %12s %8s\n", "method", "median ms", "min ms", "max ms",
           "cpu ms", "alloc MiB", "vs cp");
  {
    double med[M_N];
    for (int m = 0; m < M_N; m++)
      {
        GArray *v = times[m];
        g_array_sort (v, cmp_double);
        g_array_sort (cpus[m], cmp_double);
        med[m] = g_array_index (v, double, v->len / 2);
      }
    for (int m = 0; m < M_N; m++)
      {
        GArray *v = times[m];
        double base = (m == M_REFLINK || m == M_CP_REFLINK || m == M_CHOOSE) ? med[M_CP_REFLINK]
                      : (m <= M_CP_NOREFLINK)                               ? med[M_CP_SPARSE]
                                                                            : 0;
        g_autofree char *ratio = base > 0 ? g_strdup_printf ("%.2f", med[m] / base) : g_strdup ("");
        g_print ("%-40s %10.1f %10.1f %10.1f %8.1f %12.1f %8s\n", method_names[m], med[m],
                 g_array_index (v, double, 0), g_array_index (v, double, v->len - 1),
                 g_array_index (cpus[m], double, cpus[m]->len / 2),
                 m == M_CHOOSE ? 0.0 : alloc[m] / (double) MiB, ratio);
      }
  }
  g_print ("\n(ratios: local-fs copies vs cp --sparse=always, xfs vs cp --reflink=always;\n"
           " cpu: median CPU time of this thread plus the spawned cp/mkfs)\n");

  for (int m = 0; m < M_N; m++)
    {
      g_array_unref (times[m]);
      g_array_unref (cpus[m]);
    }
  g_unlink (img_local);
  g_unlink (img_xfs);
  g_rmdir (tmp);
  return 0;
}
