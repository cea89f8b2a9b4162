/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The ext4 root file system of an image: `mkfs.ext4 -d TREE` on a temporary
 * file sized to the content plus headroom (or as asked), then the recorded
 * ownership and modes written into its inodes with libext2fs (the tree on
 * the host holds neither; see doc/images.md), then fsync and an atomic
 * rename into place.  No root needed. */
#include "config.h"

#include <errno.h>
#include <et/com_err.h>
#include <ext2fs/ext2fs.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "banger-error-private.h"
#include "banger-image-private.h"
#include "banger-ownership.h"
#include "banger-quote.h"
#include "banger-rootfs-ext4.h"

#define ROUND_TO (4ull * 1024 * 1024)
#define INODE_OVERHEAD 512 /* inode table + directory entry, generously */

/**
 * banger_rootfs_ext4_size_for:
 * @content_bytes: bytes the files allocate
 * @inodes: how many files, directories and links
 *
 * The image size for content of this size: the content, a quarter more, the
 * inodes' metadata, at least %BANGER_ROOTFS_MIN_FREE_BYTES free, rounded up
 * to 4 MiB.
 *
 * Returns: the size in bytes
 */
guint64
banger_rootfs_ext4_size_for (guint64 content_bytes, guint64 inodes)
{
  guint64 headroom = MAX (content_bytes / 4, BANGER_ROOTFS_MIN_FREE_BYTES);
  guint64 size = content_bytes + headroom + inodes * INODE_OVERHEAD;

  return (size + ROUND_TO - 1) / ROUND_TO * ROUND_TO;
}

static char *
find_tool (const char *name)
{
  static const char *const dirs[] = { "/usr/sbin", "/sbin", "/usr/bin", "/bin" };
  char *path = g_find_program_in_path (name);

  if (path != NULL)
    return path;
  for (gsize i = 0; i < G_N_ELEMENTS (dirs); i++)
    {
      path = g_build_filename (dirs[i], name, NULL);
      if (g_file_test (path, G_FILE_TEST_IS_EXECUTABLE))
        return path;
      g_free (path);
    }
  return NULL;
}

static gboolean
ext2_error (GError **error, errcode_t err, const char *what, const char *path)
{
  g_autofree char *quoted = banger_quote (path);

  g_set_error (error, BANGER_ERROR, BANGER_ERROR_FAILED, "%s '%s' in the ext4 image: %s", what,
               quoted, error_message (err));
  return FALSE;
}

/**
 * banger_rootfs_ext4_apply_ownership:
 * @image: an ext4 image made from the tree the records describe
 * @ownership_path: the records (banger_rootfs_staging_finish())
 * @error: return location for a #GError
 *
 * Writes each record's uid, gid and permission bits (setuid, setgid and
 * sticky included) into the image's inodes.  A record whose file type does
 * not match the inode fails with %BANGER_ERROR_PROTOCOL.
 *
 * Returns: %TRUE on success
 */
gboolean
banger_rootfs_ext4_apply_ownership (const char *image, const char *ownership_path,
                                    GError **error)
{
  g_autoptr (BangerOwnershipList) list = banger_ownership_list_load (ownership_path, error);
  ext2_filsys fs = NULL;
  errcode_t err;
  gboolean ok = TRUE;

  if (list == NULL)
    return banger_image_error_normalize (error);
  initialize_ext2_error_table ();
  err = ext2fs_open (image, EXT2_FLAG_RW | EXT2_FLAG_64BITS, 0, 0, unix_io_manager, &fs);
  if (err != 0)
    return ext2_error (error, err, "Cannot open", "/");
  for (guint i = 0; ok && i < list->entries->len; i++)
    {
      const BangerOwnershipEntry *e = list->entries->pdata[i];
      struct ext2_inode inode;
      ext2_ino_t ino = EXT2_ROOT_INO;

      if (e->path[0] != '\0')
        {
          err = ext2fs_namei (fs, EXT2_ROOT_INO, EXT2_ROOT_INO, e->path, &ino);
          if (err != 0)
            {
              ok = ext2_error (error, err, "Cannot find", e->path);
              break;
            }
        }
      err = ext2fs_read_inode (fs, ino, &inode);
      if (err != 0)
        {
          ok = ext2_error (error, err, "Cannot read the inode of", e->path);
          break;
        }
      if ((inode.i_mode & S_IFMT) != (e->own.mode & S_IFMT))
        {
          g_autofree char *quoted = banger_quote (e->path);
          g_set_error (error, BANGER_ERROR, BANGER_ERROR_PROTOCOL,
                       "Ownership record of '%s' is for another file type than the image holds",
                       quoted);
          ok = FALSE;
          break;
        }
      inode.i_mode = (__u16) ((inode.i_mode & S_IFMT) | (e->own.mode & 07777));
      inode.i_uid = (__u16) (e->own.uid & 0xffff);
      ext2fs_set_i_uid_high (inode, e->own.uid >> 16);
      inode.i_gid = (__u16) (e->own.gid & 0xffff);
      ext2fs_set_i_gid_high (inode, e->own.gid >> 16);
      err = ext2fs_write_inode (fs, ino, &inode);
      if (err != 0)
        ok = ext2_error (error, err, "Cannot write the inode of", e->path);
    }
  err = ext2fs_close_free (&fs);
  if (ok && err != 0)
    return ext2_error (error, err, "Cannot close", "/");
  return ok;
}

static gboolean
run_mkfs (const char *tree, const char *image, guint64 inodes, GCancellable *cancellable,
          GError **error)
{
  g_autofree char *mkfs = find_tool ("mkfs.ext4");
  g_autofree char *n_inodes = g_strdup_printf ("%" G_GUINT64_FORMAT, inodes);
  g_autoptr (GSubprocess) proc = NULL;
  g_autofree char *err_text = NULL;
  g_autoptr (GError) local = NULL;

  if (mkfs == NULL)
    {
      g_set_error_literal (error, BANGER_ERROR, BANGER_ERROR_UNSUPPORTED,
                           "mkfs.ext4 (e2fsprogs) is not installed");
      return FALSE;
    }
  {
    const char *argv[] = {
      mkfs, "-q", "-F", "-t", "ext4", "-b", "4096", "-m", "0", "-N", n_inodes,
      "-E", "root_owner=0:0", "-L", "rootfs", "-d", tree, image, NULL,
    };
    proc = g_subprocess_newv (argv, G_SUBPROCESS_FLAGS_STDOUT_SILENCE
                                        | G_SUBPROCESS_FLAGS_STDERR_PIPE, error);
  }
  if (proc == NULL)
    return banger_image_error_normalize (error);
  if (!g_subprocess_communicate_utf8 (proc, NULL, cancellable, NULL, &err_text, &local))
    {
      g_subprocess_force_exit (proc);
      (void) g_subprocess_wait (proc, NULL, NULL);
      if (g_error_matches (local, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_set_error_literal (error, BANGER_ERROR, BANGER_ERROR_CANCELLED,
                             "Building the ext4 image was cancelled");
      else
        g_propagate_error (error, g_steal_pointer (&local));
      return banger_image_error_normalize (error);
    }
  if (!g_subprocess_get_if_exited (proc) || g_subprocess_get_exit_status (proc) != 0)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_FAILED, "mkfs.ext4 failed: %s",
                   err_text != NULL ? g_strstrip (err_text) : "(no message)");
      return FALSE;
    }
  return TRUE;
}

/**
 * banger_rootfs_build_ext4:
 * @tree: a finished staging tree (banger_rootfs_staging_get_tree_path())
 * @ownership_path: its ownership records
 * @dest: where the image goes; replaced atomically if it exists
 * @size_bytes: the image size, or 0 for the content plus headroom
 *   (banger_rootfs_ext4_size_for())
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Builds an ext4 image of @tree with the recorded ownership.  The image is
 * written to a temporary file next to @dest and renamed into place only when
 * complete and synced, so @dest is either absent, the old image, or the new
 * one.  A @size_bytes smaller than the content fails with
 * %BANGER_ERROR_INVALID_ARGUMENT, larger than 1 TiB with
 * %BANGER_ERROR_LIMIT_EXCEEDED.
 *
 * Returns: %TRUE when @dest holds the new image
 */
gboolean
banger_rootfs_build_ext4 (const char *tree, const char *ownership_path, const char *dest,
                          guint64 size_bytes, GCancellable *cancellable, GError **error)
{
  g_autoptr (BangerOwnershipList) list = banger_ownership_list_load (ownership_path, error);
  g_autofree char *tmp = NULL;
  g_autofree char *dest_dir = NULL;
  guint64 size;
  guint64 inodes;
  int fd;
  int dfd;

  if (list == NULL)
    return banger_image_error_normalize (error);
  size = size_bytes != 0 ? size_bytes
                         : banger_rootfs_ext4_size_for (list->content_bytes, list->inodes);
  if (size > BANGER_ROOTFS_MAX_BYTES)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_LIMIT_EXCEEDED,
                   "An image of %" G_GUINT64_FORMAT " bytes is larger than the 1 TiB limit", size);
      return FALSE;
    }
  if (size < list->content_bytes + list->inodes * INODE_OVERHEAD + 8 * 1024 * 1024)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   "An image of %" G_GUINT64_FORMAT " bytes cannot hold %" G_GUINT64_FORMAT
                   " bytes of content in %" G_GUINT64_FORMAT " files",
                   size, list->content_bytes, list->inodes);
      return FALSE;
    }
  /* room for the files, and for some more in the guest */
  inodes = MAX (list->inodes * 2, MIN (size / 16384, G_MAXUINT32 / 2));
  inodes = MAX (inodes, 1024);

  tmp = g_strconcat (dest, ".tmp-XXXXXX", NULL);
  fd = g_mkstemp_full (tmp, O_RDWR | O_CLOEXEC, 0644);
  if (fd < 0)
    {
      g_autofree char *quoted = banger_quote (dest);
      return banger_set_error_from_errno (error, errno, "Cannot create a file next to '%s'",
                                          quoted);
    }
  if (ftruncate (fd, (off_t) size) < 0)
    {
      int errsv = errno;
      close (fd);
      unlink (tmp);
      return banger_set_error_from_errno (error, errsv, "Cannot size the image");
    }
  if (!run_mkfs (tree, tmp, inodes, cancellable, error)
      || !banger_rootfs_ext4_apply_ownership (tmp, ownership_path, error))
    {
      close (fd);
      unlink (tmp);
      return FALSE;
    }
  if (fsync (fd) < 0)
    {
      int errsv = errno;
      close (fd);
      unlink (tmp);
      return banger_set_error_from_errno (error, errsv, "Cannot sync the image");
    }
  close (fd);
  if (rename (tmp, dest) < 0)
    {
      int errsv = errno;
      unlink (tmp);
      return banger_set_error_from_errno (error, errsv, "Cannot move the image into place");
    }
  dest_dir = g_path_get_dirname (dest);
  dfd = open (dest_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0)
    {
      (void) fsync (dfd);
      close (dfd);
    }
  return TRUE;
}
