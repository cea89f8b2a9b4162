/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The ext4 check (see banger-guest-ext4.h).  The superblock sits 1024 bytes
 * into the image; its magic (0xEF53, at offset 56) is the same for ext2, 3
 * and 4.  What makes ext4 is the extents feature (INCOMPAT_EXTENTS, 0x40),
 * which mkfs.ext4 always sets and ext2/ext3 never have. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "banger-error.h"
#include "banger-guest-ext4.h"

#define SB_OFFSET 1024
#define SB_MAGIC_OFF 56
#define SB_INCOMPAT_OFF 96
#define EXT_MAGIC 0xEF53
#define INCOMPAT_RECOVER 0x0004
#define INCOMPAT_EXTENTS 0x0040

static guint32
le32_at (const guint8 *p)
{
  return (guint32) p[0] | (guint32) p[1] << 8 | (guint32) p[2] << 16 | (guint32) p[3] << 24;
}

/**
 * banger_guest_ext4_check:
 * @image: path of a disk image (regular file or block device)
 * @for_writing: %TRUE when the caller is about to write into the file
 *   system without mounting it
 * @error: return location for a #GError
 *
 * Checks that @image holds an ext4 file system, by reading its superblock.
 * A missing file gives %BANGER_ERROR_NOT_FOUND; anything that is not ext4
 * (no ext superblock, or ext2/ext3 without extents, or not a regular file or
 * block device) gives %BANGER_ERROR_INVALID_ARGUMENT with a message saying
 * what it is instead.  With @for_writing, a file system whose journal
 * needs recovery (not cleanly unmounted, or mounted right now) is refused
 * too (%BANGER_ERROR_INVALID_ARGUMENT): writing around an unreplayed
 * journal would be undone or corrupted by its replay at the next mount.
 *
 * Returns: %TRUE if @image is ext4
 */
gboolean
banger_guest_ext4_check (const char *image, gboolean for_writing, GError **error)
{
  guint8 sb[1024];
  struct stat st;
  ssize_t n;
  int fd;

  g_return_val_if_fail (image != NULL, FALSE);

  fd = open (image, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0)
    {
      int errsv = errno;
      g_set_error (error, BANGER_ERROR,
                   errsv == ENOENT ? BANGER_ERROR_NOT_FOUND
                   : errsv == EACCES ? BANGER_ERROR_PERMISSION_DENIED
                                     : BANGER_ERROR_FAILED,
                   "Cannot open the image '%s': %s", image, g_strerror (errsv));
      return FALSE;
    }
  if (fstat (fd, &st) < 0 || !(S_ISREG (st.st_mode) || S_ISBLK (st.st_mode)))
    {
      close (fd);
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   "The image '%s' is not a regular file or a block device", image);
      return FALSE;
    }
  n = pread (fd, sb, sizeof sb, SB_OFFSET);
  close (fd);
  if (n != (ssize_t) sizeof sb || (sb[SB_MAGIC_OFF] | sb[SB_MAGIC_OFF + 1] << 8) != EXT_MAGIC)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   "The image '%s' is not an ext4 file system (no ext2/3/4 superblock)", image);
      return FALSE;
    }
  if ((le32_at (sb + SB_INCOMPAT_OFF) & INCOMPAT_EXTENTS) == 0)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   "The image '%s' is an ext2/ext3 file system (no extents), not ext4", image);
      return FALSE;
    }
  if (for_writing && (le32_at (sb + SB_INCOMPAT_OFF) & INCOMPAT_RECOVER) != 0)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   "The ext4 file system in '%s' needs journal recovery (it was not cleanly "
                   "unmounted, or is mounted now); run e2fsck on it first",
                   image);
      return FALSE;
    }
  return TRUE;
}
