/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Root disks on real file systems the test mounts (root; each test in its
 * own private mount namespace, so a failing test takes its mounts and, via
 * LO_FLAGS_AUTOCLEAR, its loop device with it):
 *
 *  - xfs (mkfs.xfs -m reflink=1) on a loop device: the chooser picks
 *    reflink; the clone shares every extent with the image (FIEMAP
 *    FIEMAP_EXTENT_SHARED, and filefrag -v agrees) and costs no space;
 *    writing the clone leaves the image unchanged and unshares only what
 *    was written;
 *  - an image on ext4, disks on xfs: the probe from the image says no
 *    (EXDEV), reflink is refused with UNSUPPORTED, the sparse copy falls
 *    back to pread/pwrite (copy_file_range refuses across file systems);
 *  - a full tmpfs: the sparse copy and the work disk fail with
 *    LIMIT_EXCEEDED (ENOSPC) and leave nothing. */
#include "config.h"

#include <fcntl.h>
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "banger.h"
#include "banger-cow-disk.h"
#include "banger-test.h"
#include "banger-work-disk.h"
#include "host-test-loopfs.h"
#include "host-test-util.h"

#define MiB (G_GUINT64_CONSTANT (1024) * 1024)
#define IMAGE_SIZE (64 * MiB)

static const guint64 image_extents[] = {
  0,        1 * MiB, /* */
  4 * MiB,  8 * MiB, /* */
  40 * MiB, 2 * MiB, /* */
};
#define IMAGE_DATA (11 * MiB)

typedef struct
{
  HostTestLoopfs *fs;
  char *tmp; /* a temp dir on the local file system */
} Fixture;

/* FALSE when the test cannot run here (mkfs.xfs missing: xfsprogs, which
 * scripts/install-deps.sh installs); a failure under CI=true. */
static gboolean
fixture_init (Fixture *f, const char *fstype, guint64 size)
{
  g_autoptr (GError) error = NULL;

  ck_assert (host_test_private_mount_ns (&error));
  g_assert_no_error (error);
  f->fs = host_test_loopfs_new (fstype, size, &error);
  if (g_error_matches (error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
    {
      banger_test_skip_part (error->message);
      return FALSE;
    }
  g_assert_no_error (error);
  f->tmp = g_dir_make_tmp ("banger-cowr-XXXXXX", &error);
  g_assert_no_error (error);
  return TRUE;
}

static void
rm_dir (const char *dir)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;

  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *p = g_build_filename (dir, name, NULL);
      g_unlink (p);
    }
  g_rmdir (dir);
}

static void
fixture_clear (Fixture *f)
{
  g_autofree char *loopdev = g_strdup (f->fs->loopdev);

  host_test_loopfs_free (f->fs);
  /* the loop device detaches itself on unmount (autoclear, asynchronous) */
  if (loopdev != NULL)
    {
      for (int i = 0; i < 200 && host_test_loop_attached (loopdev); i++)
        g_usleep (10000);
      ck_assert_msg (!host_test_loop_attached (loopdev), "%s is still attached", loopdev);
    }
  rm_dir (f->tmp);
  g_free (f->tmp);
}

static char *
listing (const char *dir)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  g_autoptr (GString) s = g_string_new (NULL);
  const char *name;

  ck_assert_ptr_nonnull (d);
  while ((name = g_dir_read_name (d)) != NULL)
    g_string_append_printf (s, "%s%s", s->len ? " " : "", name);
  return g_string_free (g_steal_pointer (&s), FALSE);
}

typedef struct
{
  guint64 bytes;        /* total extent length */
  guint64 shared_bytes; /* of which FIEMAP_EXTENT_SHARED */
  guint extents;
} Extents;

static Extents
fiemap_of (const char *path)
{
  enum { N = 128 };
  g_autofree struct fiemap *fm = g_malloc0 (sizeof *fm + N * sizeof (struct fiemap_extent));
  Extents e = { 0 };
  guint64 start = 0;
  int fd = open (path, O_RDONLY | O_CLOEXEC);
  gboolean last = FALSE;

  ck_assert_int_ge (fd, 0);
  while (!last)
    {
      memset (fm, 0, sizeof *fm);
      fm->fm_start = start;
      fm->fm_length = FIEMAP_MAX_OFFSET - start;
      fm->fm_flags = FIEMAP_FLAG_SYNC;
      fm->fm_extent_count = N;
      ck_assert_msg (ioctl (fd, FS_IOC_FIEMAP, fm) == 0, "FIEMAP %s", path);
      if (fm->fm_mapped_extents == 0)
        break;
      for (guint i = 0; i < fm->fm_mapped_extents; i++)
        {
          struct fiemap_extent *x = &fm->fm_extents[i];
          e.extents++;
          e.bytes += x->fe_length;
          if (x->fe_flags & FIEMAP_EXTENT_SHARED)
            e.shared_bytes += x->fe_length;
          if (x->fe_flags & FIEMAP_EXTENT_LAST)
            last = TRUE;
          start = x->fe_logical + x->fe_length;
        }
    }
  close (fd);
  return e;
}

static guint64
free_bytes (const char *dir)
{
  struct statvfs sv;
  ck_assert_int_eq (statvfs (dir, &sv), 0);
  return (guint64) sv.f_bavail * sv.f_frsize;
}

START_TEST (test_reflink_xfs)
{
  Fixture f;
  g_autoptr (GError) error = NULL;
  g_autofree char *image = NULL;
  g_autofree char *vms = NULL;
  g_autofree char *dest = NULL;
  g_autofree char *detail = NULL;
  g_autofree char *sha_image = NULL;
  BangerCowStrategy s = 99;
  BangerCowResult r = { 0 };
  guint64 free_before, free_after;
  Extents ei, ec;

  if (!fixture_init (&f, "xfs", 512 * MiB))
    return;
  image = g_build_filename (f.fs->mountpoint, "image.ext4", NULL);
  vms = g_build_filename (f.fs->mountpoint, "vms", NULL);
  dest = g_build_filename (vms, "web-1.rootfs", NULL);
  ck_assert_int_eq (g_mkdir (vms, 0700), 0);
  ck_assert_uint_eq (host_test_make_image (image, IMAGE_SIZE, image_extents,
                                           G_N_ELEMENTS (image_extents) / 2, 3, &error),
                     IMAGE_DATA);
  g_assert_no_error (error);
  sha_image = host_test_file_sha256 (image);

  /* the chooser: reflink, by tiny files and from the image */
  ck_assert (banger_cow_choose (vms, NULL, BANGER_COW_CHOOSE_NONE, &s, &detail, &error));
  g_assert_no_error (error);
  ck_assert_int_eq (s, BANGER_COW_STRATEGY_REFLINK);
  ck_assert_msg (g_str_has_prefix (detail, "reflink: FICLONE works in"), "%s", detail);
  ck_assert_msg (strstr (detail, "(xfs)") != NULL, "%s", detail);
  s = 99;
  ck_assert (banger_cow_choose (vms, image, BANGER_COW_CHOOSE_NONE, &s, NULL, &error));
  ck_assert_int_eq (s, BANGER_COW_STRATEGY_REFLINK);
  /* dm still wins when the caller says it is usable */
  ck_assert (banger_cow_choose (vms, image, BANGER_COW_CHOOSE_DM_USABLE, &s, NULL, &error));
  ck_assert_int_eq (s, BANGER_COW_STRATEGY_DM_SNAPSHOT);

  free_before = free_bytes (f.fs->mountpoint);
  ck_assert (banger_cow_disk_create (BANGER_COW_STRATEGY_REFLINK, image, dest, 0, NULL, NULL, &r,
                                     NULL, &error));
  g_assert_no_error (error);
  free_after = free_bytes (f.fs->mountpoint);
  ck_assert_int_eq (r.strategy, BANGER_COW_STRATEGY_REFLINK);
  ck_assert_uint_eq (r.disk_size, IMAGE_SIZE);
  /* 11 MiB of data cloned for (almost) nothing */
  ck_assert_msg ((gint64) (free_before - free_after) < (gint64) (1 * MiB),
                 "the clone took %" G_GINT64_FORMAT " bytes", (gint64) (free_before - free_after));
  {
    g_autofree char *sha = host_test_file_sha256 (dest);
    ck_assert_str_eq (sha, sha_image);
  }
  /* every extent of both files is shared */
  ec = fiemap_of (dest);
  ei = fiemap_of (image);
  ck_assert_uint_eq (ec.bytes, IMAGE_DATA);
  ck_assert_uint_eq (ec.shared_bytes, IMAGE_DATA);
  ck_assert_uint_eq (ei.shared_bytes, IMAGE_DATA);
  /* filefrag says the same */
  {
    const char *argv[] = { "/usr/sbin/filefrag", "-v", dest, NULL };
    g_autofree char *out = host_test_run (argv, NULL);
    ck_assert_ptr_nonnull (out);
    ck_assert_msg (strstr (out, "shared") != NULL, "%s", out);
  }

  /* writing the clone: the image does not change, only the written block
   * stops being shared */
  {
    char block[4096];
    int fd = open (dest, O_WRONLY | O_CLOEXEC);
    memset (block, 0xab, sizeof block);
    ck_assert_int_ge (fd, 0);
    ck_assert_int_eq (pwrite (fd, block, sizeof block, 5 * MiB), sizeof block);
    ck_assert_int_eq (fsync (fd), 0);
    close (fd);
  }
  {
    g_autofree char *sha_i = host_test_file_sha256 (image);
    g_autofree char *sha_c = host_test_file_sha256 (dest);
    ck_assert_str_eq (sha_i, sha_image);
    ck_assert_str_ne (sha_c, sha_image);
  }
  ec = fiemap_of (dest);
  ck_assert_uint_eq (ec.bytes, IMAGE_DATA);
  ck_assert_uint_eq (ec.shared_bytes, IMAGE_DATA - 4096);
  {
    g_autofree char *l = listing (vms);
    ck_assert_str_eq (l, "web-1.rootfs");
  }
  fixture_clear (&f);
}
END_TEST

START_TEST (test_cross_fs)
{
  Fixture f;
  g_autoptr (GError) error = NULL;
  g_autofree char *image = NULL;
  g_autofree char *dest = NULL;
  BangerCowStrategy s = 99;
  BangerCowResult r = { 0 };
  gboolean sup = TRUE;

  if (!fixture_init (&f, "xfs", 512 * MiB))
    return;
  image = g_build_filename (f.tmp, "image.ext4", NULL);
  dest = g_build_filename (f.fs->mountpoint, "web-1.rootfs", NULL);
  host_test_make_image (image, IMAGE_SIZE, image_extents, G_N_ELEMENTS (image_extents) / 2, 3,
                        &error);
  g_assert_no_error (error);

  /* tiny files in the target say yes; the image on another file system,
   * no: that is why the chooser probes from the image when it has one */
  ck_assert (banger_cow_probe_reflink (f.fs->mountpoint, NULL, &sup, NULL, &error));
  ck_assert (sup);
  ck_assert (banger_cow_probe_reflink (f.fs->mountpoint, image, &sup, NULL, &error));
  g_assert_no_error (error);
  ck_assert (!sup);
  ck_assert (banger_cow_choose (f.fs->mountpoint, image, 0, &s, NULL, &error));
  ck_assert_int_eq (s, BANGER_COW_STRATEGY_SPARSE_COPY);
  {
    g_autoptr (GError) e = NULL;
    g_autofree char *l = NULL;
    ck_assert (!banger_cow_disk_create (BANGER_COW_STRATEGY_REFLINK, image, dest, 0, NULL, NULL,
                                        NULL, NULL, &e));
    banger_assert_error (e, BANGER_ERROR_UNSUPPORTED);
    l = listing (f.fs->mountpoint);
    ck_assert_str_eq (l, "");
  }
  ck_assert (banger_cow_disk_create (BANGER_COW_STRATEGY_SPARSE_COPY, image, dest, 0, NULL, NULL,
                                     &r, NULL, &error));
  g_assert_no_error (error);
  ck_assert (r.used_read_write);
  ck_assert (!r.used_copy_file_range);
  ck_assert_uint_eq (r.data_bytes, IMAGE_DATA);
  {
    g_autofree char *a = host_test_file_sha256 (image);
    g_autofree char *b = host_test_file_sha256 (dest);
    struct stat st;
    ck_assert_str_eq (a, b);
    ck_assert_int_eq (stat (dest, &st), 0);
    ck_assert_uint_le ((guint64) st.st_blocks * 512, IMAGE_DATA + 1 * MiB);
  }
  fixture_clear (&f);
}
END_TEST

START_TEST (test_enospc)
{
  Fixture f;
  g_autoptr (GError) error = NULL;
  g_autofree char *image = NULL;
  g_autofree char *dest = NULL;
  g_autofree char *work = NULL;
  guint64 free0;

  if (!fixture_init (&f, "tmpfs", 4 * MiB))
    return;
  image = g_build_filename (f.tmp, "image.ext4", NULL);
  dest = g_build_filename (f.fs->mountpoint, "web-1.rootfs", NULL);
  work = g_build_filename (f.fs->mountpoint, "web-1.work.ext4", NULL);
  host_test_make_image (image, IMAGE_SIZE, image_extents, G_N_ELEMENTS (image_extents) / 2, 3,
                        &error);
  g_assert_no_error (error);
  free0 = free_bytes (f.fs->mountpoint);

  /* 11 MiB of data into 4 MiB */
  for (int flags = 0; flags <= BANGER_COW_CREATE_NO_COPY_FILE_RANGE; flags++)
    {
      g_autoptr (GError) e = NULL;
      g_autofree char *l = NULL;
      ck_assert (!banger_cow_disk_create (BANGER_COW_STRATEGY_SPARSE_COPY, image, dest, flags,
                                          NULL, NULL, NULL, NULL, &e));
      banger_assert_error (e, BANGER_ERROR_LIMIT_EXCEEDED);
      ck_assert_msg (strstr (e->message, "No space left") != NULL, "%s", e->message);
      l = listing (f.fs->mountpoint);
      ck_assert_str_eq (l, "");
      ck_assert_uint_eq (free_bytes (f.fs->mountpoint), free0);
    }

  /* a work disk whose metadata does not fit: mkfs says so */
  {
    g_autoptr (GError) e = NULL;
    g_autofree char *l = NULL;
    g_autofree char *filler = g_build_filename (f.fs->mountpoint, "filler", NULL);
    g_autofree char *junk = g_malloc0 (4 * MiB - 64 * 1024);
    /* leave 64 KiB */
    ck_assert (g_file_set_contents (filler, junk, 4 * MiB - 64 * 1024, NULL));
    ck_assert (!banger_work_disk_create (work, 1024 * MiB, 0, NULL, &e));
    banger_assert_error (e, BANGER_ERROR_LIMIT_EXCEEDED);
    l = listing (f.fs->mountpoint);
    ck_assert_str_eq (l, "filler");
  }
  fixture_clear (&f);
}
END_TEST

static Suite *
cow_reflink_suite (void)
{
  Suite *s = suite_create ("cow-reflink");
  TCase *tc = tcase_create ("mounted");

  tcase_set_timeout (tc, 120);
  tcase_add_test (tc, test_reflink_xfs);
  tcase_add_test (tc, test_cross_fs);
  tcase_add_test (tc, test_enospc);
  suite_add_tcase (s, tc);
  return s;
}

BANGER_TEST_MAIN_ROOT (cow_reflink_suite, "loop devices and mounts")
