/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The Firecracker jailer: jail staging, pid file, cleanup (see
 * banger-fc-jailer.h); its argv is launch/banger-firecracker-cmdline.c's. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <linux/fs.h>
#include <linux/magic.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "banger-error-private.h"
#include "banger-fc-jailer.h"
#include "banger-quote.h"
#include "banger-vm-paths.h"

#define JAIL_MAX_DEPTH 16

static gboolean
bad (GError **error, const char *what, const char *value)
{
  g_autofree char *q = banger_quote (value);
  g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
               "Jailer configuration: %s '%s' is not valid", what, q);
  return FALSE;
}

char *
banger_fc_jail_dir (const BangerFcJailerConfig *c, const char *exec_file, const char *vm_id)
{
  return banger_vm_jail_dir (c->chroot_base, exec_file, vm_id);
}

char *
banger_fc_jail_root (const BangerFcJailerConfig *c, const char *exec_file, const char *vm_id)
{
  return banger_vm_jail_root (c->chroot_base, exec_file, vm_id);
}

int
banger_fc_jail_create (const BangerFcJailerConfig *c, const char *exec_file, const char *vm_id,
                       GError **error)
{
  g_autofree char *root = banger_fc_jail_root (c, exec_file, vm_id);
  int fd;

  if (g_mkdir_with_parents (root, 0755) < 0)
    {
      banger_set_error_from_errno (error, errno, "Cannot create the jail '%s'", root);
      return -1;
    }
  fd = open (root, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    banger_set_error_from_errno (error, errno, "Cannot open the jail '%s'", root);
  return fd;
}

/* Copy @in to @out keeping holes: SEEK_DATA/SEEK_HOLE + copy_file_range. */
static gboolean
sparse_copy (int in, int out, const char *what, GError **error)
{
  struct stat st;
  off_t pos = 0;
  gboolean use_cfr = TRUE;
  char buf[65536];

  if (fstat (in, &st) < 0)
    return banger_set_error_from_errno (error, errno, "Cannot stat '%s'", what);
  if (ioctl (out, FICLONE, in) == 0)
    return TRUE;
  if (ftruncate (out, st.st_size) < 0)
    return banger_set_error_from_errno (error, errno, "Cannot size the copy of '%s'", what);
  while (pos < st.st_size)
    {
      off_t data = lseek (in, pos, SEEK_DATA);
      off_t hole;

      if (data < 0)
        {
          if (errno == ENXIO) /* only a hole is left */
            break;
          return banger_set_error_from_errno (error, errno, "Cannot scan '%s'", what);
        }
      hole = lseek (in, data, SEEK_HOLE);
      if (hole < 0)
        return banger_set_error_from_errno (error, errno, "Cannot scan '%s'", what);
      while (data < hole)
        {
          loff_t off_in = data, off_out = data;
          ssize_t n = -1;

          if (use_cfr)
            n = copy_file_range (in, &off_in, out, &off_out, (size_t) (hole - data), 0);
          if (n < 0 && use_cfr && errno != EINTR
              && (errno == EXDEV || errno == EINVAL || errno == EOPNOTSUPP || errno == ENOSYS))
            {
              /* older kernels refuse copy_file_range across filesystems */
              use_cfr = FALSE;
              continue;
            }
          if (!use_cfr)
            {
              n = pread (in, buf, (size_t) MIN ((off_t) sizeof buf, hole - data), data);
              if (n > 0 && pwrite (out, buf, (size_t) n, data) != n)
                n = -1;
            }
          if (n < 0)
            {
              if (errno == EINTR)
                continue;
              return banger_set_error_from_errno (error, errno, "Cannot copy '%s'", what);
            }
          if (n == 0)
            break;
          data += n;
        }
      pos = hole;
    }
  return TRUE;
}

static gboolean
valid_name (const char *name)
{
  return name != NULL && name[0] != '\0' && strchr (name, '/') == NULL
         && !g_str_equal (name, ".") && !g_str_equal (name, "..");
}

gboolean
banger_fc_jail_stage (int root_fd, const char *src, const char *name, gboolean writable,
                      const BangerFcJailerConfig *c, GError **error)
{
  int in, out;
  gboolean ok;

  if (!valid_name (name))
    return bad (error, "staged file name", name);
  /* a leftover of an earlier launch is replaced, never followed */
  if (unlinkat (root_fd, name, 0) < 0 && errno != ENOENT)
    return banger_set_error_from_errno (error, errno, "Cannot replace '%s' in the jail", name);

  if (linkat (AT_FDCWD, src, root_fd, name, 0) < 0)
    {
      if (errno != EXDEV && errno != EPERM)
        return banger_set_error_from_errno (error, errno, "Cannot link '%s' into the jail",
                                            src);
      in = open (src, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
      if (in < 0)
        return banger_set_error_from_errno (error, errno, "Cannot open '%s'", src);
      out = openat (root_fd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
                    writable ? 0600 : 0644);
      if (out < 0)
        {
          int errsv = errno;
          close (in);
          return banger_set_error_from_errno (error, errsv, "Cannot create '%s' in the jail",
                                              name);
        }
      ok = sparse_copy (in, out, src, error);
      close (in);
      close (out);
      if (!ok)
        {
          unlinkat (root_fd, name, 0);
          return FALSE;
        }
    }
  if (writable && geteuid () == 0
      && fchownat (root_fd, name, c->uid, c->gid, AT_SYMLINK_NOFOLLOW) < 0)
    return banger_set_error_from_errno (error, errno, "Cannot hand '%s' to uid %u", name,
                                        c->uid);
  if (!writable && geteuid () == 0 && c->uid != 0)
    {
      /* read-only files keep their owner (a kernel is shared by many VMs):
       * say so now if the jailed uid cannot read them, rather than let
       * Firecracker fail to open them later */
      struct stat st;
      if (fstatat (root_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return banger_set_error_from_errno (error, errno, "Cannot inspect '%s' in the jail",
                                            name);
      if (st.st_uid != c->uid && !(st.st_mode & S_IROTH)
          && !(st.st_gid == c->gid && (st.st_mode & S_IRGRP)))
        {
          unlinkat (root_fd, name, 0);
          g_set_error (error, BANGER_ERROR, BANGER_ERROR_PERMISSION_DENIED,
                       "'%s' is not readable by uid %u, which Firecracker runs as in the jail "
                       "(make it world- or group-readable)",
                       src, c->uid);
          return FALSE;
        }
    }
  return TRUE;
}

gboolean
banger_fc_jail_link (int root_fd, const char *src, const char *name, gboolean writable,
                     GError **error)
{
  g_autofree char *qsrc = banger_quote (src);
  struct stat st;
  int in, out;
  gboolean ok;

  if (!valid_name (name))
    return bad (error, "staged file name", name);
  /* (O_NONBLOCK: a FIFO planted there must not hang the open) */
  in = open (src, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
  if (in < 0)
    return banger_set_error_from_errno (error, errno, "Cannot open '%s'", qsrc);
  if (fstat (in, &st) < 0 || !S_ISREG (st.st_mode))
    {
      close (in);
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_UNSUPPORTED,
                   "'%s' is not a regular file: only files can be staged into a jail", qsrc);
      return FALSE;
    }
  /* already there: bind-mounted by the launcher (priv.launch_vmm), the
   * same file */
  {
    struct stat there;
    if (fstatat (root_fd, name, &there, AT_SYMLINK_NOFOLLOW) == 0 && there.st_dev == st.st_dev
        && there.st_ino == st.st_ino)
      {
        close (in);
        return TRUE;
      }
  }
  /* a leftover of an earlier launch is replaced, never followed */
  if (unlinkat (root_fd, name, 0) < 0 && errno != ENOENT)
    {
      close (in);
      return banger_set_error_from_errno (error, errno, "Cannot replace '%s' in the jail", name);
    }
  /* the opened file itself: a path swapped meanwhile changes nothing */
  {
    g_autofree char *proc = g_strdup_printf ("/proc/self/fd/%d", in);
    if (linkat (AT_FDCWD, proc, root_fd, name, AT_SYMLINK_FOLLOW) == 0)
      {
        close (in);
        return TRUE;
      }
  }
  if (errno != EXDEV && errno != EPERM)
    {
      int errsv = errno;
      close (in);
      return banger_set_error_from_errno (error, errsv, "Cannot link '%s' into the jail", qsrc);
    }
  if (writable)
    {
      close (in);
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_UNSUPPORTED,
                   "Cannot hard-link the writable disk '%s' into the jail (another filesystem): "
                   "a copy would take the guest's writes away from it; keep the runtime "
                   "directory and the state directory on one filesystem",
                   qsrc);
      return FALSE;
    }
  out = openat (root_fd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (out < 0)
    {
      int errsv = errno;
      close (in);
      return banger_set_error_from_errno (error, errsv, "Cannot create '%s' in the jail", name);
    }
  ok = sparse_copy (in, out, src, error);
  close (in);
  close (out);
  if (!ok)
    unlinkat (root_fd, name, 0);
  return ok;
}

gboolean
banger_fc_jail_collect (int root_fd, const char *name, const char *dest, GError **error)
{
  int in, out;
  gboolean ok;

  if (!valid_name (name))
    return bad (error, "jail file name", name);
  if (renameat (root_fd, name, AT_FDCWD, dest) == 0)
    return TRUE;
  if (errno != EXDEV)
    return banger_set_error_from_errno (error, errno, "Cannot move '%s' out of the jail to '%s'",
                                        name, dest);
  in = openat (root_fd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (in < 0)
    return banger_set_error_from_errno (error, errno, "Cannot open '%s' in the jail", name);
  out = open (dest, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (out < 0)
    {
      int errsv = errno;
      close (in);
      return banger_set_error_from_errno (error, errsv, "Cannot create '%s'", dest);
    }
  ok = sparse_copy (in, out, name, error);
  close (in);
  close (out);
  if (!ok)
    {
      unlink (dest);
      return FALSE;
    }
  unlinkat (root_fd, name, 0);
  return TRUE;
}

gboolean
banger_fc_jail_read_pid (int root_fd, const char *exec_file, GPid *out_pid, GError **error)
{
  g_autofree char *exec_name = g_path_get_basename (exec_file);
  g_autofree char *name = g_strconcat (exec_name, ".pid", NULL);
  char buf[32];
  ssize_t n;
  gint64 pid;
  char *end;
  int fd;

  fd = openat (root_fd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0)
    return banger_set_error_from_errno (error, errno, "Cannot open the jailer's pid file '%s'",
                                        name);
  n = read (fd, buf, sizeof buf - 1);
  close (fd);
  if (n <= 0)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_NOT_FOUND,
                   "The jailer's pid file '%s' is empty", name);
      return FALSE;
    }
  buf[n] = '\0';
  g_strchomp (buf);
  pid = g_ascii_strtoll (buf, &end, 10);
  if (*end != '\0' || pid <= 1 || pid > G_MAXINT32)
    {
      g_autofree char *q = banger_quote (buf);
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_PROTOCOL,
                   "The jailer's pid file '%s' holds '%s', not a pid", name, q);
      return FALSE;
    }
  *out_pid = (GPid) pid;
  return TRUE;
}

/* Empty the directory @dfd (not closed here), never following a symlink,
 * never descending into another filesystem: a mount point found in a stale
 * jail is detached first. */
static gboolean
remove_contents (int dfd, dev_t dev, guint depth, GError **error)
{
  DIR *dir;
  struct dirent *de;
  int dup_fd;
  gboolean ok = TRUE;

  if (depth > JAIL_MAX_DEPTH)
    {
      g_set_error_literal (error, BANGER_ERROR, BANGER_ERROR_LIMIT_EXCEEDED,
                           "The jail is nested too deeply to remove");
      return FALSE;
    }
  dup_fd = fcntl (dfd, F_DUPFD_CLOEXEC, 3);
  if (dup_fd < 0)
    return banger_set_error_from_errno (error, errno, "Cannot read the jail");
  dir = fdopendir (dup_fd);
  if (dir == NULL)
    {
      int errsv = errno;
      close (dup_fd);
      return banger_set_error_from_errno (error, errsv, "Cannot read the jail");
    }
  while (ok && (de = readdir (dir)) != NULL)
    {
      struct stat st;

      if (g_str_equal (de->d_name, ".") || g_str_equal (de->d_name, ".."))
        continue;
      if (fstatat (dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        {
          if (errno == ENOENT)
            continue;
          ok = banger_set_error_from_errno (error, errno, "Cannot inspect '%s' in the jail",
                                            de->d_name);
          break;
        }
      if (st.st_dev != dev && !S_ISLNK (st.st_mode))
        {
          /* a mount point (a bind-mounted disk, say): detach, don't cross */
          g_autofree char *proc = g_strdup_printf ("/proc/self/fd/%d/%s", dfd, de->d_name);
          if (umount2 (proc, MNT_DETACH | UMOUNT_NOFOLLOW) < 0)
            {
              ok = banger_set_error_from_errno (error, errno,
                                                "Cannot detach the mount '%s' in the jail",
                                                de->d_name);
              break;
            }
          if (fstatat (dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
            continue;
        }
      if (S_ISDIR (st.st_mode))
        {
          int sub = openat (dfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
          if (sub < 0)
            {
              ok = banger_set_error_from_errno (error, errno, "Cannot open '%s' in the jail",
                                                de->d_name);
              break;
            }
          ok = remove_contents (sub, dev, depth + 1, error);
          close (sub);
          if (ok && unlinkat (dfd, de->d_name, AT_REMOVEDIR) < 0)
            ok = banger_set_error_from_errno (error, errno, "Cannot remove '%s' in the jail",
                                              de->d_name);
        }
      else if (unlinkat (dfd, de->d_name, 0) < 0 && errno != ENOENT)
        ok = banger_set_error_from_errno (error, errno, "Cannot remove '%s' in the jail",
                                          de->d_name);
    }
  closedir (dir);
  return ok;
}

static gboolean
remove_cgroup (const BangerFcJailerConfig *c, const char *exec_file, const char *vm_id,
               GError **error)
{
  g_autofree char *mount = NULL;
  g_autofree char *exec_name = g_path_get_basename (exec_file);
  g_autofree char *path = NULL;

  /* with cgroup v2 the jailer makes <parent>/<id> only when --cgroup is given */
  if (c->cgroups == NULL || c->cgroups[0] == NULL)
    return TRUE;
  mount = g_strdup (c->cgroup_root);
  path = g_build_filename (mount, c->parent_cgroup ? c->parent_cgroup : exec_name, vm_id, NULL);
  if (rmdir (path) < 0 && errno != ENOENT)
    {
      /* a fake cgroup tree (tests: not cgroupfs) holds plain files: empty
       * it first.  On cgroupfs the control files go with the rmdir. */
      struct statfs sfs;
      if (errno == ENOTEMPTY && statfs (path, &sfs) == 0 && sfs.f_type != CGROUP2_SUPER_MAGIC)
        {
          int fd = open (path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
          struct stat st;
          gboolean ok;
          if (fd < 0 || fstat (fd, &st) < 0)
            {
              if (fd >= 0)
                close (fd);
              return banger_set_error_from_errno (error, errno, "Cannot open cgroup '%s'", path);
            }
          ok = remove_contents (fd, st.st_dev, 0, error);
          close (fd);
          if (ok && rmdir (path) == 0)
            return TRUE;
          if (!ok)
            return FALSE;
        }
      return banger_set_error_from_errno (error, errno, "Cannot remove the cgroup '%s'", path);
    }
  return TRUE;
}

gboolean
banger_fc_jail_remove (const BangerFcJailerConfig *c, const char *exec_file, const char *vm_id,
                       GError **error)
{
  g_autofree char *exec_name = g_path_get_basename (exec_file);
  int base_fd, exec_fd, id_fd;
  struct stat st;
  gboolean ok;

  if (!valid_name (exec_name) || !valid_name (vm_id))
    return bad (error, "jail name", vm_id);
  base_fd = open (c->chroot_base, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (base_fd < 0)
    {
      if (errno == ENOENT)
        return remove_cgroup (c, exec_file, vm_id, error);
      return banger_set_error_from_errno (error, errno, "Cannot open the chroot base '%s'",
                                          c->chroot_base);
    }
  exec_fd = openat (base_fd, exec_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  close (base_fd);
  if (exec_fd < 0)
    {
      if (errno == ENOENT)
        return remove_cgroup (c, exec_file, vm_id, error);
      return banger_set_error_from_errno (error, errno, "Cannot open the jail directory '%s'",
                                          exec_name);
    }
  id_fd = openat (exec_fd, vm_id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (id_fd < 0)
    {
      int errsv = errno;
      close (exec_fd);
      if (errsv == ENOENT)
        return remove_cgroup (c, exec_file, vm_id, error);
      return banger_set_error_from_errno (error, errsv, "Cannot open the jail of '%s'", vm_id);
    }
  if (fstat (id_fd, &st) < 0)
    ok = banger_set_error_from_errno (error, errno, "Cannot inspect the jail of '%s'", vm_id);
  else
    ok = remove_contents (id_fd, st.st_dev, 0, error);
  close (id_fd);
  if (ok && unlinkat (exec_fd, vm_id, AT_REMOVEDIR) < 0 && errno != ENOENT)
    ok = banger_set_error_from_errno (error, errno, "Cannot remove the jail of '%s'", vm_id);
  close (exec_fd);
  if (!ok)
    return FALSE;
  return remove_cgroup (c, exec_file, vm_id, error);
}
