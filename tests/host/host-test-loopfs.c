/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Test images and loop-mounted file systems (see host-test-loopfs.h). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/loop.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib/gstdio.h>

#include "host-test-loopfs.h"

static gboolean
fail_errno (GError **error, const char *what)
{
  int errsv = errno;
  /* (G_IO_ERROR: G_FILE_ERROR_NOENT means only "mkfs is not installed") */
  g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv), "%s: %s", what,
               g_strerror (errsv));
  return FALSE;
}

gboolean
host_test_private_mount_ns (GError **error)
{
  if (unshare (CLONE_NEWNS) < 0)
    return fail_errno (error, "unshare(CLONE_NEWNS)");
  if (mount (NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
    return fail_errno (error, "mount --make-rprivate /");
  return TRUE;
}

static char *
find_sbin (const char *name)
{
  char *p = g_find_program_in_path (name);
  const char *dirs[] = { "/usr/sbin", "/sbin", NULL };

  if (p != NULL)
    return p;
  for (const char *const *d = dirs; *d; d++)
    {
      p = g_build_filename (*d, name, NULL);
      if (g_file_test (p, G_FILE_TEST_IS_EXECUTABLE))
        return p;
      g_free (p);
    }
  return NULL;
}

static gboolean
run (const char *const *argv, GError **error)
{
  g_autofree char *err = NULL;
  int status = 0;

  if (!g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL,
                     &err, &status, error))
    return FALSE;
  if (!g_spawn_check_wait_status (status, NULL))
    {
      g_set_error (error, G_SPAWN_ERROR, G_SPAWN_ERROR_FAILED, "%s failed: %s", argv[0],
                   err ? err : "");
      return FALSE;
    }
  return TRUE;
}

/* Attach @backing to a free loop device with autoclear; the returned fd
 * keeps it until the mount holds it. */
static int
loop_attach (const char *backing, char **out_dev, GError **error)
{
  int ctl = open ("/dev/loop-control", O_RDWR | O_CLOEXEC);
  int file_fd = open (backing, O_RDWR | O_CLOEXEC);

  if (ctl < 0 || file_fd < 0)
    {
      fail_errno (error, "open /dev/loop-control or the backing file");
      if (ctl >= 0)
        close (ctl);
      if (file_fd >= 0)
        close (file_fd);
      return -1;
    }
  for (int attempt = 0; attempt < 16; attempt++)
    {
      struct loop_config cfg;
      g_autofree char *dev = NULL;
      int n = ioctl (ctl, LOOP_CTL_GET_FREE);
      int lfd;

      if (n < 0)
        break;
      dev = g_strdup_printf ("/dev/loop%d", n);
      lfd = open (dev, O_RDWR | O_CLOEXEC);
      if (lfd < 0)
        continue;
      memset (&cfg, 0, sizeof cfg);
      cfg.fd = (guint32) file_fd;
      cfg.info.lo_flags = LO_FLAGS_AUTOCLEAR;
      g_strlcpy ((char *) cfg.info.lo_file_name, "banger-test-loopfs", LO_NAME_SIZE);
      if (ioctl (lfd, LOOP_CONFIGURE, &cfg) == 0)
        {
          close (ctl);
          close (file_fd);
          *out_dev = g_steal_pointer (&dev);
          return lfd;
        }
      close (lfd);
      if (errno != EBUSY)
        break;
    }
  fail_errno (error, "attach a loop device");
  close (ctl);
  close (file_fd);
  return -1;
}

gboolean
host_test_loop_attached (const char *dev)
{
  struct loop_info64 info;
  int fd = open (dev, O_RDONLY | O_CLOEXEC);
  gboolean attached;

  if (fd < 0)
    return FALSE;
  attached = ioctl (fd, LOOP_GET_STATUS64, &info) == 0
             && strcmp ((const char *) info.lo_file_name, "banger-test-loopfs") == 0;
  close (fd);
  return attached;
}

HostTestLoopfs *
host_test_loopfs_new (const char *fstype, guint64 size, GError **error)
{
  g_autoptr (HostTestLoopfs) fs = g_new0 (HostTestLoopfs, 1);
  int lfd;

  fs->fstype = g_strdup (fstype);
  fs->dir = g_dir_make_tmp ("banger-loopfs-XXXXXX", error);
  if (fs->dir == NULL)
    return NULL;
  fs->mountpoint = g_build_filename (fs->dir, "mnt", NULL);
  if (g_mkdir (fs->mountpoint, 0755) < 0)
    {
      fail_errno (error, "mkdir");
      return NULL;
    }
  if (strcmp (fstype, "tmpfs") == 0)
    {
      g_autofree char *opts = g_strdup_printf ("size=%" G_GUINT64_FORMAT ",mode=0755", size);
      if (mount ("tmpfs", fs->mountpoint, "tmpfs", 0, opts) < 0)
        {
          fail_errno (error, "mount tmpfs");
          return NULL;
        }
      return g_steal_pointer (&fs);
    }

  fs->backing = g_build_filename (fs->dir, "backing.img", NULL);
  {
    int fd = open (fs->backing, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
    if (fd < 0 || ftruncate (fd, (off_t) size) < 0)
      {
        fail_errno (error, "create the backing file");
        if (fd >= 0)
          close (fd);
        return NULL;
      }
    close (fd);
  }
  {
    g_autofree char *mkfs_name = g_strdup_printf ("mkfs.%s", fstype);
    g_autofree char *mkfs = find_sbin (mkfs_name);
    if (mkfs == NULL)
      {
        g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT, "%s is not installed", mkfs_name);
        return NULL;
      }
    if (strcmp (fstype, "xfs") == 0)
      {
        const char *argv[] = { mkfs, "-q", "-f", "-m", "reflink=1", fs->backing, NULL };
        if (!run (argv, error))
          return NULL;
      }
    else
      {
        const char *argv[] = { mkfs, "-q", "-f", fs->backing, NULL };
        if (!run (argv, error))
          return NULL;
      }
  }
  lfd = loop_attach (fs->backing, &fs->loopdev, error);
  if (lfd < 0)
    return NULL;
  if (mount (fs->loopdev, fs->mountpoint, fstype, 0, NULL) < 0)
    {
      fail_errno (error, "mount the loop device");
      close (lfd); /* autoclear detaches it */
      return NULL;
    }
  close (lfd); /* the mount holds it now; unmounting detaches it */
  return g_steal_pointer (&fs);
}

void
host_test_loopfs_free (HostTestLoopfs *fs)
{
  if (fs == NULL)
    return;
  if (fs->mountpoint != NULL)
    {
      if (umount2 (fs->mountpoint, 0) < 0 && errno != EINVAL && errno != ENOENT)
        umount2 (fs->mountpoint, MNT_DETACH);
      g_rmdir (fs->mountpoint);
    }
  if (fs->backing != NULL)
    g_unlink (fs->backing);
  if (fs->dir != NULL)
    g_rmdir (fs->dir);
  g_free (fs->dir);
  g_free (fs->backing);
  g_free (fs->mountpoint);
  g_free (fs->fstype);
  g_free (fs->loopdev);
  g_free (fs);
}

guint64
host_test_make_image (const char *path, guint64 size, const guint64 *extents, gsize n,
                      guint32 seed, GError **error)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (seed);
  g_autofree guint32 *buf = g_malloc (1024 * 1024);
  guint64 total = 0;
  int fd = open (path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644);

  if (fd < 0)
    {
      fail_errno (error, "create the image");
      return 0;
    }
  /* the size first: no write extends the file (xfs would preallocate past
   * EOF and keep those blocks once the size grows over them) */
  if (ftruncate (fd, (off_t) size) < 0)
    {
      fail_errno (error, "size the image");
      close (fd);
      return 0;
    }
  for (gsize i = 0; i < n; i++)
    {
      guint64 off = extents[2 * i], len = extents[2 * i + 1];
      while (len > 0)
        {
          gsize chunk = MIN (len, (guint64) 1024 * 1024);
          for (gsize w = 0; w < chunk / 4; w++)
            buf[w] = g_rand_int (rand);
          if (pwrite (fd, buf, chunk, (off_t) off) != (ssize_t) chunk)
            {
              fail_errno (error, "write the image");
              close (fd);
              return 0;
            }
          off += chunk;
          len -= chunk;
          total += chunk;
        }
    }
  if (fsync (fd) < 0)
    {
      fail_errno (error, "sync the image");
      close (fd);
      return 0;
    }
  close (fd);
  return total;
}

char *
host_test_file_sha256 (const char *path)
{
  g_autoptr (GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
  g_autofree guint8 *buf = g_malloc (1024 * 1024);
  int fd = open (path, O_RDONLY | O_CLOEXEC);
  ssize_t n;

  if (fd < 0)
    return NULL;
  while ((n = read (fd, buf, 1024 * 1024)) > 0)
    g_checksum_update (sum, buf, n);
  close (fd);
  if (n < 0)
    return NULL;
  return g_strdup (g_checksum_get_string (sum));
}
