/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Layers unpacked into a staging tree, safely.  See doc/images.md for the
 * rules; in short:
 *
 * - One streaming pass per layer: the blob is read once, hashed (sha256 of
 *   the compressed bytes), decompressed and untarred by libarchive; there is
 *   no temporary copy.  A digest mismatch taints the staging tree, which the
 *   caller then deletes: nothing from a bad layer reaches an image.
 * - Every entry is created by a *at() call on a directory fd that was
 *   resolved with openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS |
 *   RESOLVE_NO_XDEV) from the tree's root fd, and a single last component
 *   that is never followed (O_CREAT|O_EXCL|O_NOFOLLOW, symlinkat, mkdirat,
 *   linkat without AT_SYMLINK_FOLLOW).  Symbolic links in the parent path
 *   are resolved as the guest will see them, with the tree as "/": a link
 *   planted by an earlier entry or layer (absolute, or with "..") cannot lead
 *   out of the tree.  Entries with a ".." component are refused; leading "/"
 *   is dropped (as tar and container runtimes do).
 * - Ownership and the full mode (setuid, setgid, sticky) are recorded per
 *   inode, never applied on the host: files are 0600 and directories 0700
 *   there, owned by whoever unpacks.  banger_rootfs_staging_finish() writes
 *   the records next to the tree; the ext4 builder applies them.
 * - Character and block devices and sockets are skipped (counted); FIFOs
 *   are made.  Whiteouts and opaque directories remove what lower layers
 *   put there. */
#include "config.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#ifdef HAVE_OPENAT2
#include <linux/openat2.h>
#endif

#include "banger-digest.h"
#include "banger-error-private.h"
#include "banger-image-private.h"
#include "banger-layer-unpack.h"
#include "banger-ownership.h"
#include "banger-path.h"
#include "banger-quote.h"

#define READ_CHUNK (128 * 1024)
#define WHITEOUT_PREFIX ".wh."
#define WHITEOUT_META_PREFIX ".wh..wh."
#define WHITEOUT_OPAQUE ".wh..wh..opq"
#define PATH_MAX_BYTES 4096

struct _BangerRootfsStaging
{
  char *dir;
  char *tree;
  char *ownership_path;
  int root_fd;             /* O_PATH of tree */
  GHashTable *owners;      /* gint64 ino -> BangerOwnership */
  GHashTable *layer_inos;  /* inodes the current layer wrote */
  GHashTable *dir_depth;   /* gint64 ino -> depth + 1 of each directory made */
  gboolean tainted;
  gboolean finished;
};

/* The state of one layer being applied. */
typedef struct
{
  BangerRootfsStaging *s;
  GInputStream *in;
  GCancellable *cancellable;
  GChecksum *checksum;
  guint64 bytes;
  GError *read_error;
  guchar *buf;
  BangerLayerStats stats;
  const char *entry_path; /* the raw path of the entry being applied, for messages */
  const char *subject;    /* how messages name it: "Layer entry" */
} Layer;

static gint64 *
ino_key (ino_t ino)
{
  gint64 *k = g_new (gint64, 1);
  *k = (gint64) ino;
  return k;
}

static void
set_owner (BangerRootfsStaging *s, ino_t ino, guint32 uid, guint32 gid, guint32 mode)
{
  BangerOwnership *o = g_new (BangerOwnership, 1);

  o->uid = uid;
  o->gid = gid;
  o->mode = mode;
  g_hash_table_replace (s->owners, ino_key (ino), o);
  g_hash_table_add (s->layer_inos, ino_key (ino));
}

static gboolean
in_layer (BangerRootfsStaging *s, ino_t ino)
{
  gint64 k = (gint64) ino;
  return g_hash_table_contains (s->layer_inos, &k);
}

/**
 * banger_rootfs_staging_new:
 * @dir: a directory to create (it must not exist); the tree is
 *   `@dir/rootfs`, the ownership records `@dir/ownership`
 * @error: return location for a #GError
 *
 * Starts an empty staging tree.  @dir is made 0700: the tree inside it is
 * reachable only by its owner.
 *
 * Returns: (transfer full): the staging tree, or %NULL with @error set
 *   (%BANGER_ERROR_ALREADY_EXISTS if @dir exists)
 */
BangerRootfsStaging *
banger_rootfs_staging_new (const char *dir, GError **error)
{
  g_autoptr (BangerRootfsStaging) s = g_new0 (BangerRootfsStaging, 1);
  struct stat st;

  s->root_fd = -1;
  s->dir = g_strdup (dir);
  s->tree = g_build_filename (dir, "rootfs", NULL);
  s->ownership_path = g_build_filename (dir, "ownership", NULL);
  s->owners = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, g_free);
  s->layer_inos = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  s->dir_depth = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  if (mkdir (dir, 0700) < 0)
    {
      g_autofree char *quoted = banger_quote (dir);
      return banger_set_error_from_errno (error, errno, "Cannot create staging directory '%s'",
                                          quoted),
             NULL;
    }
  if (mkdir (s->tree, 0700) < 0)
    return banger_set_error_from_errno (error, errno, "Cannot create the staging tree"), NULL;
  s->root_fd = open (s->tree, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (s->root_fd < 0 || fstat (s->root_fd, &st) < 0)
    return banger_set_error_from_errno (error, errno, "Cannot open the staging tree"), NULL;
  set_owner (s, st.st_ino, 0, 0, S_IFDIR | 0755);
  g_hash_table_replace (s->dir_depth, ino_key (st.st_ino), GUINT_TO_POINTER (1));
  return g_steal_pointer (&s);
}

/**
 * banger_rootfs_staging_free:
 * @staging: (nullable) (transfer full): a staging tree
 *
 * Frees the in-memory state; the files stay (remove the directory when it is
 * no longer needed).
 */
void
banger_rootfs_staging_free (BangerRootfsStaging *staging)
{
  if (staging == NULL)
    return;
  if (staging->root_fd >= 0)
    close (staging->root_fd);
  g_clear_pointer (&staging->owners, g_hash_table_unref);
  g_clear_pointer (&staging->layer_inos, g_hash_table_unref);
  g_clear_pointer (&staging->dir_depth, g_hash_table_unref);
  g_free (staging->dir);
  g_free (staging->tree);
  g_free (staging->ownership_path);
  g_free (staging);
}

/**
 * banger_rootfs_staging_get_tree_path:
 * @staging: a staging tree
 *
 * Returns: the directory that holds the unpacked files
 */
const char *
banger_rootfs_staging_get_tree_path (BangerRootfsStaging *staging)
{
  return staging->tree;
}

/**
 * banger_rootfs_staging_get_ownership_path:
 * @staging: a staging tree
 *
 * Returns: the ownership record file written by banger_rootfs_staging_finish()
 */
const char *
banger_rootfs_staging_get_ownership_path (BangerRootfsStaging *staging)
{
  return staging->ownership_path;
}

static gboolean
entry_error (Layer *l, GError **error, BangerError code, const char *why)
{
  g_autofree char *quoted = banger_quote (l->entry_path);

  g_set_error (error, BANGER_ERROR, code, "%s '%s' %s", l->subject ? l->subject : "Layer entry",
               quoted, why);
  return FALSE;
}

static gboolean
entry_errno (Layer *l, GError **error, int errsv, const char *what)
{
  g_autofree char *quoted = banger_quote (l->entry_path);

  return banger_set_error_from_errno (error, errsv, "%s '%s': %s",
                                      l->subject ? l->subject : "Layer entry", quoted, what);
}

/* Split a tar path into components: "" and "." dropped, a leading "/"
 * dropped, ".." refused.  NULL with @error set on "..". */
static GPtrArray *
split_path (Layer *l, const char *path, GError **error)
{
  g_autoptr (GPtrArray) comps = g_ptr_array_new_with_free_func (g_free);
  g_auto (GStrv) parts = NULL;

  if (strlen (path) > PATH_MAX_BYTES)
    return entry_error (l, error, BANGER_ERROR_LIMIT_EXCEEDED, "has a path longer than 4096 bytes"),
           NULL;
  parts = g_strsplit (path, "/", -1);
  for (char **p = parts; *p != NULL; p++)
    {
      if ((*p)[0] == '\0' || g_str_equal (*p, "."))
        continue;
      if (g_str_equal (*p, ".."))
        return entry_error (l, error, BANGER_ERROR_PERMISSION_DENIED,
                            "has a '..' component; refusing the layer"),
               NULL;
      g_ptr_array_add (comps, g_strdup (*p));
    }
  return g_steal_pointer (&comps);
}

static char *
join (GPtrArray *comps, guint n)
{
  GString *s = g_string_new (NULL);

  for (guint i = 0; i < n; i++)
    {
      if (i > 0)
        g_string_append_c (s, '/');
      g_string_append (s, comps->pdata[i]);
    }
  return g_string_free (s, FALSE);
}

/* Open @rel as a directory inside the tree, resolving symbolic links with
 * the tree as the root.  A file descriptor (O_PATH), or -errno. */
static int
open_in_root (BangerRootfsStaging *s, const char *rel)
{
  const char *path = rel[0] != '\0' ? rel : ".";
#if defined(HAVE_OPENAT2) && defined(SYS_openat2)
  struct open_how how = {
    .flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
    .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV,
  };
  for (int attempt = 0; attempt < 8; attempt++)
    {
      int fd = (int) syscall (SYS_openat2, s->root_fd, path, &how, sizeof how);
      if (fd >= 0)
        return fd;
      if (errno == EAGAIN || errno == EINTR)
        continue;
      if (errno != ENOSYS)
        return -errno;
      break;
    }
#endif
  {
    /* no openat2: banger_open_beneath refuses every symbolic link instead */
    g_autoptr (GError) local = NULL;
    int fd = banger_open_beneath (s->root_fd, path, O_PATH | O_DIRECTORY, &local);
    if (fd >= 0)
      return fd;
    if (g_error_matches (local, BANGER_ERROR, BANGER_ERROR_NOT_FOUND))
      return -ENOENT;
    if (g_error_matches (local, BANGER_ERROR, BANGER_ERROR_PERMISSION_DENIED))
      return -ELOOP;
    return -EIO;
  }
}

static gboolean
resolve_errno (Layer *l, GError **error, int errsv)
{
  switch (errsv)
    {
    case ELOOP:
    case EXDEV:
      return entry_error (l, error, BANGER_ERROR_PERMISSION_DENIED,
                          "resolves through a magic link, a symbolic link loop or another "
                          "mount; refusing the layer");
    case ENOTDIR:
      return entry_error (l, error, BANGER_ERROR_INVALID_ARGUMENT,
                          "is below something that is not a directory");
    default:
      return entry_errno (l, error, errsv, "cannot open its directory");
    }
}

/* Directories are made through this: the tree's depth is bounded, so that
 * walking and removing it (one fd per level) stays within the fd limit even
 * when symbolic links were used to reach deep down. */
static gboolean
make_dir (Layer *l, int pfd, const char *name, gboolean *out_created, GError **error)
{
  struct stat pst, st;
  gint64 key;
  guint depth;

  *out_created = FALSE;
  if (fstat (pfd, &pst) < 0)
    return entry_errno (l, error, errno, "cannot inspect its parent directory");
  key = (gint64) pst.st_ino;
  depth = GPOINTER_TO_UINT (g_hash_table_lookup (l->s->dir_depth, &key));
  if (depth == 0)
    return entry_error (l, error, BANGER_ERROR_PROTOCOL,
                        "is in a directory the unpacker did not make");
  if (depth > BANGER_STAGING_MAX_DEPTH)
    return entry_error (l, error, BANGER_ERROR_LIMIT_EXCEEDED,
                        "would nest directories deeper than 256 levels");
  if (mkdirat (pfd, name, 0700) < 0)
    {
      if (errno == EEXIST)
        return TRUE;
      return entry_errno (l, error, errno, "cannot create a directory");
    }
  *out_created = TRUE;
  if (fstatat (pfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return entry_errno (l, error, errno, "cannot inspect a new directory");
  g_hash_table_replace (l->s->dir_depth, ino_key (st.st_ino), GUINT_TO_POINTER (depth + 1));
  return TRUE;
}

/* The directory made of the first @n components, created (0700 on the host,
 * recorded as root:root 0755) where missing.  An O_PATH fd, or -1. */
static int
ensure_dir (Layer *l, GPtrArray *comps, guint n, GError **error)
{
  g_autofree char *rel = join (comps, n);
  int fd = open_in_root (l->s, rel);
  gboolean created = FALSE;
  int parent;
  struct stat st;

  if (fd >= 0)
    return fd;
  if (fd != -ENOENT || n == 0)
    return resolve_errno (l, error, -fd), -1;
  parent = ensure_dir (l, comps, n - 1, error);
  if (parent < 0)
    return -1;
  if (!make_dir (l, parent, comps->pdata[n - 1], &created, error))
    {
      close (parent);
      return -1;
    }
  fd = openat (parent, comps->pdata[n - 1], O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    {
      int errsv = errno;
      gboolean is_link = fstatat (parent, comps->pdata[n - 1], &st, AT_SYMLINK_NOFOLLOW) == 0
                         && S_ISLNK (st.st_mode);
      close (parent);
      if (is_link)
        return entry_error (l, error, BANGER_ERROR_PERMISSION_DENIED,
                            "is below a symbolic link whose target is not a directory in the "
                            "tree; refusing the layer"),
               -1;
      return resolve_errno (l, error, errsv), -1;
    }
  close (parent);
  /* a new inode may reuse the number of one a whiteout removed: its record
   * is replaced, never inherited */
  if (created && fstat (fd, &st) == 0)
    set_owner (l->s, st.st_ino, 0, 0, S_IFDIR | 0755);
  return fd;
}

/* Remove the children of the directory @dfd (an fd it may read); with
 * @keep_layer, those the current layer wrote stay (and directories among
 * them are pruned the same way). */
static gboolean
remove_children (Layer *l, int dfd, gboolean keep_layer, GError **error)
{
  int rfd = openat (dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  DIR *d;
  struct dirent *de;

  if (rfd < 0 || (d = fdopendir (rfd)) == NULL)
    {
      int errsv = errno;
      if (rfd >= 0)
        close (rfd);
      return entry_errno (l, error, errsv, "cannot list a directory to remove");
    }
  while ((de = readdir (d)) != NULL)
    if (!g_str_equal (de->d_name, ".") && !g_str_equal (de->d_name, ".."))
      g_ptr_array_add (names, g_strdup (de->d_name));
  for (guint i = 0; i < names->len; i++)
    {
      const char *name = names->pdata[i];
      struct stat st;
      gboolean keep;

      if (fstatat (dirfd (d), name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        continue;
      keep = keep_layer && in_layer (l->s, st.st_ino);
      if (S_ISDIR (st.st_mode))
        {
          int child = openat (dirfd (d), name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
          gboolean ok;
          if (child < 0)
            {
              int errsv = errno;
              closedir (d);
              return entry_errno (l, error, errsv, "cannot open a directory to remove");
            }
          ok = remove_children (l, child, keep, error);
          close (child);
          if (!ok)
            {
              closedir (d);
              return FALSE;
            }
          if (!keep && unlinkat (dirfd (d), name, AT_REMOVEDIR) < 0)
            {
              int errsv = errno;
              closedir (d);
              return entry_errno (l, error, errsv, "cannot remove a directory");
            }
        }
      else if (!keep && unlinkat (dirfd (d), name, 0) < 0)
        {
          int errsv = errno;
          closedir (d);
          return entry_errno (l, error, errsv, "cannot remove a file");
        }
    }
  closedir (d);
  return TRUE;
}

/* Remove @name from the directory @pfd, whatever it is; a missing name is
 * fine. */
static gboolean
remove_entry (Layer *l, int pfd, const char *name, GError **error)
{
  struct stat st;

  if (fstatat (pfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    {
      if (errno == ENOENT)
        return TRUE;
      return entry_errno (l, error, errno, "cannot inspect what it replaces");
    }
  if (S_ISDIR (st.st_mode))
    {
      int child = openat (pfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      gboolean ok;
      if (child < 0)
        return entry_errno (l, error, errno, "cannot open what it replaces");
      ok = remove_children (l, child, FALSE, error);
      close (child);
      if (!ok)
        return FALSE;
      if (unlinkat (pfd, name, AT_REMOVEDIR) < 0)
        return entry_errno (l, error, errno, "cannot remove the directory it replaces");
      return TRUE;
    }
  if (unlinkat (pfd, name, 0) < 0)
    return entry_errno (l, error, errno, "cannot remove the file it replaces");
  return TRUE;
}

static gboolean
apply_whiteout (Layer *l, GPtrArray *comps, GError **error)
{
  const char *base = comps->pdata[comps->len - 1];
  g_autofree char *parent_rel = join (comps, comps->len - 1);
  int pfd;
  gboolean ok = TRUE;

  pfd = open_in_root (l->s, parent_rel);
  if (pfd == -ENOENT)
    return TRUE; /* nothing below to hide */
  if (pfd < 0)
    return resolve_errno (l, error, -pfd);
  l->stats.whiteouts++;
  if (g_str_equal (base, WHITEOUT_OPAQUE))
    {
      int rfd = openat (pfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (rfd < 0)
        ok = entry_errno (l, error, errno, "cannot open the opaque directory");
      else
        {
          ok = remove_children (l, rfd, TRUE, error);
          close (rfd);
        }
    }
  else if (g_str_has_prefix (base, WHITEOUT_META_PREFIX))
    l->stats.whiteouts--; /* other aufs metadata: ignored */
  else
    {
      const char *name = base + strlen (WHITEOUT_PREFIX);
      struct stat st;
      if (name[0] == '\0' || g_str_equal (name, ".") || g_str_equal (name, ".."))
        ok = entry_error (l, error, BANGER_ERROR_PERMISSION_DENIED,
                          "is a whiteout of '.', '..' or nothing; refusing the layer");
      else if (fstatat (pfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && in_layer (l->s, st.st_ino))
        ; /* the layer itself wrote it: the whiteout hides lower layers only */
      else
        ok = remove_entry (l, pfd, name, error);
    }
  close (pfd);
  return ok;
}

static gboolean
check_id (Layer *l, la_int64_t id, GError **error)
{
  if (id < 0 || id > (la_int64_t) G_MAXUINT32 - 1)
    return entry_error (l, error, BANGER_ERROR_INVALID_ARGUMENT,
                        "has a uid or gid outside 0..4294967294");
  return TRUE;
}

static gboolean
write_file_data (Layer *l, struct archive *a, int fd, la_int64_t size, GError **error)
{
  for (;;)
    {
      const void *block;
      size_t len;
      la_int64_t offset;
      int r = archive_read_data_block (a, &block, &len, &offset);
      const guchar *p = block;

      if (r == ARCHIVE_EOF)
        break;
      if (r < ARCHIVE_WARN)
        {
          if (l->read_error != NULL)
            return g_propagate_error (error, g_steal_pointer (&l->read_error)), FALSE;
          return entry_error (l, error, BANGER_ERROR_PROTOCOL, archive_error_string (a));
        }
      if (g_cancellable_set_error_if_cancelled (l->cancellable, error))
        return FALSE;
      while (len > 0)
        {
          ssize_t n = pwrite (fd, p, len, offset);
          if (n < 0 && errno == EINTR)
            continue;
          if (n < 0)
            return entry_errno (l, error, errno, "cannot write its data");
          p += n;
          len -= (size_t) n;
          offset += n;
        }
    }
  /* a sparse file may end in a hole */
  if (ftruncate (fd, size) < 0)
    return entry_errno (l, error, errno, "cannot set its size");
  return TRUE;
}

static gboolean
apply_entry (Layer *l, struct archive *a, struct archive_entry *e, GError **error)
{
  g_autoptr (GPtrArray) comps = NULL;
  const char *path = archive_entry_pathname (e);
  const char *hardlink = archive_entry_hardlink (e);
  const char *name;
  mode_t type = archive_entry_filetype (e);
  guint32 mode = (guint32) (archive_entry_mode (e) & 07777);
  la_int64_t uid = archive_entry_uid (e);
  la_int64_t gid = archive_entry_gid (e);
  struct stat st;
  int pfd;
  gboolean ok = TRUE;

  if (path == NULL)
    path = archive_entry_pathname_utf8 (e);
  l->entry_path = path;
  if (path == NULL)
    {
      l->entry_path = "(unnamed)";
      return entry_error (l, error, BANGER_ERROR_PROTOCOL, "has no usable path");
    }
  comps = split_path (l, path, error);
  if (comps == NULL)
    return FALSE;
  if (!check_id (l, uid, error) || !check_id (l, gid, error))
    return FALSE;
  if (mode & (S_ISUID | S_ISGID | S_ISVTX))
    l->stats.special_bits++;

  if (comps->len == 0)
    {
      /* the root itself: only its metadata */
      if (hardlink != NULL || type != AE_IFDIR)
        return entry_error (l, error, BANGER_ERROR_PERMISSION_DENIED,
                            "would replace the root directory; refusing the layer");
      if (fstat (l->s->root_fd, &st) < 0)
        return entry_errno (l, error, errno, "cannot inspect the root");
      set_owner (l->s, st.st_ino, (guint32) uid, (guint32) gid, S_IFDIR | mode);
      return TRUE;
    }

  name = comps->pdata[comps->len - 1];
  if (g_str_has_prefix (name, WHITEOUT_PREFIX))
    return apply_whiteout (l, comps, error);

  if (hardlink == NULL && (type == AE_IFCHR || type == AE_IFBLK || type == AE_IFSOCK))
    {
      l->stats.devices++;
      return TRUE;
    }

  pfd = ensure_dir (l, comps, comps->len - 1, error);
  if (pfd < 0)
    return FALSE;

  if (hardlink != NULL)
    {
      g_autoptr (GPtrArray) target = split_path (l, hardlink, error);
      g_autofree char *target_parent = NULL;
      int tfd;
      if (target == NULL)
        ok = FALSE;
      else if (target->len == 0)
        ok = entry_error (l, error, BANGER_ERROR_PERMISSION_DENIED,
                          "is a hard link to the root; refusing the layer");
      else
        {
          target_parent = join (target, target->len - 1);
          tfd = open_in_root (l->s, target_parent);
          if (tfd < 0)
            ok = tfd == -ENOENT ? entry_error (l, error, BANGER_ERROR_NOT_FOUND,
                                               "is a hard link to a file the tree does not have")
                                : resolve_errno (l, error, -tfd);
          else
            {
              const char *tname = target->pdata[target->len - 1];
              if (fstatat (tfd, tname, &st, AT_SYMLINK_NOFOLLOW) < 0)
                ok = entry_error (l, error, BANGER_ERROR_NOT_FOUND,
                                  "is a hard link to a file the tree does not have");
              else if (S_ISDIR (st.st_mode))
                ok = entry_error (l, error, BANGER_ERROR_PERMISSION_DENIED,
                                  "is a hard link to a directory; refusing the layer");
              else
                {
                  ok = remove_entry (l, pfd, name, error);
                  if (ok && linkat (tfd, tname, pfd, name, 0) < 0)
                    ok = entry_errno (l, error, errno, "cannot make the hard link");
                  if (ok)
                    g_hash_table_add (l->s->layer_inos, ino_key (st.st_ino));
                }
              close (tfd);
            }
        }
      close (pfd);
      return ok;
    }

  switch (type)
    {
    case AE_IFDIR:
      if (fstatat (pfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR (st.st_mode))
        ; /* keep the directory and what lower layers put in it */
      else
        {
          gboolean created = FALSE;
          ok = remove_entry (l, pfd, name, error);
          if (ok)
            ok = make_dir (l, pfd, name, &created, error);
          if (ok && fstatat (pfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
            ok = entry_errno (l, error, errno, "cannot inspect the new directory");
        }
      if (ok)
        set_owner (l->s, st.st_ino, (guint32) uid, (guint32) gid, S_IFDIR | mode);
      break;

    case AE_IFREG:
      {
        int fd;
        ok = remove_entry (l, pfd, name, error);
        if (!ok)
          break;
        fd = openat (pfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY,
                     0600);
        if (fd < 0)
          {
            ok = entry_errno (l, error, errno, "cannot create the file");
            break;
          }
        ok = write_file_data (l, a, fd, archive_entry_size (e), error);
        if (ok)
          {
            struct timespec ts[2] = { { archive_entry_mtime (e), 0 },
                                      { archive_entry_mtime (e), 0 } };
            (void) futimens (fd, ts);
            if (fstat (fd, &st) < 0)
              ok = entry_errno (l, error, errno, "cannot inspect the new file");
          }
        close (fd);
        if (ok)
          set_owner (l->s, st.st_ino, (guint32) uid, (guint32) gid, S_IFREG | mode);
        break;
      }

    case AE_IFLNK:
      {
        const char *target = archive_entry_symlink (e);
        if (target == NULL)
          target = archive_entry_symlink_utf8 (e);
        if (target == NULL || target[0] == '\0')
          {
            ok = entry_error (l, error, BANGER_ERROR_PROTOCOL, "is a symbolic link to nothing");
            break;
          }
        ok = remove_entry (l, pfd, name, error);
        if (ok && symlinkat (target, pfd, name) < 0)
          ok = entry_errno (l, error, errno, "cannot create the symbolic link");
        if (ok && fstatat (pfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
          ok = entry_errno (l, error, errno, "cannot inspect the new symbolic link");
        if (ok)
          {
            struct timespec ts[2] = { { archive_entry_mtime (e), 0 },
                                      { archive_entry_mtime (e), 0 } };
            (void) utimensat (pfd, name, ts, AT_SYMLINK_NOFOLLOW);
            set_owner (l->s, st.st_ino, (guint32) uid, (guint32) gid, S_IFLNK | 0777);
          }
        break;
      }

    case AE_IFIFO:
      ok = remove_entry (l, pfd, name, error);
      if (ok && mkfifoat (pfd, name, 0600) < 0)
        ok = entry_errno (l, error, errno, "cannot create the FIFO");
      if (ok && fstatat (pfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        ok = entry_errno (l, error, errno, "cannot inspect the new FIFO");
      if (ok)
        set_owner (l->s, st.st_ino, (guint32) uid, (guint32) gid, S_IFIFO | mode);
      break;

    default:
      ok = entry_error (l, error, BANGER_ERROR_PROTOCOL, "has an unknown file type");
      break;
    }
  close (pfd);
  if (ok && g_hash_table_size (l->s->owners) > BANGER_STAGING_MAX_ENTRIES)
    ok = entry_error (l, error, BANGER_ERROR_LIMIT_EXCEEDED,
                      "goes over the limit of entries in one image");
  return ok;
}

static la_ssize_t
source_read (struct archive *a, void *data, const void **out)
{
  Layer *l = data;
  gssize n;

  if (l->read_error != NULL)
    return -1;
  n = g_input_stream_read (l->in, l->buf, READ_CHUNK, l->cancellable, &l->read_error);
  if (n < 0)
    {
      archive_set_error (a, EIO, "%s", l->read_error->message);
      return -1;
    }
  g_checksum_update (l->checksum, l->buf, n);
  l->bytes += (guint64) n;
  *out = l->buf;
  return n;
}

static gboolean
drain (Layer *l, GError **error)
{
  for (;;)
    {
      gssize n = g_input_stream_read (l->in, l->buf, READ_CHUNK, l->cancellable, error);
      if (n < 0)
        return FALSE;
      if (n == 0)
        return TRUE;
      g_checksum_update (l->checksum, l->buf, n);
      l->bytes += (guint64) n;
    }
}

/**
 * banger_rootfs_staging_apply_layer:
 * @staging: a staging tree
 * @blob: the layer blob as stored or downloaded (compressed), from its start
 * @compression: how the blob is compressed (from its media type)
 * @expected_digest: (nullable): the layer's `sha256:` digest; checked on the
 *   compressed bytes while they stream
 * @expected_size: the blob's size, or -1
 * @out_stats: (out caller-allocates) (optional): what the layer held
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Unpacks one layer on top of the tree in a single pass, applying its
 * whiteouts and opaque directories to the layers below it.  Nothing is ever
 * written outside the tree (see doc/images.md).  Errors: entries with `..`,
 * a whiteout of `..`, a hard link to a directory or the root, a path that
 * resolves through a magic link fail with %BANGER_ERROR_PERMISSION_DENIED;
 * a hard link to a file the tree lacks with %BANGER_ERROR_NOT_FOUND; a
 * damaged archive, a digest or size mismatch with %BANGER_ERROR_PROTOCOL.
 *
 * After any failure the tree is tainted: further layers and
 * banger_rootfs_staging_finish() are refused with
 * %BANGER_ERROR_INVALID_ARGUMENT, and the caller deletes the staging
 * directory.
 *
 * Returns: %TRUE when the layer was applied and verified
 */
gboolean
banger_rootfs_staging_apply_layer (BangerRootfsStaging *staging, GInputStream *blob,
                                   BangerLayerCompression compression,
                                   const char *expected_digest, gint64 expected_size,
                                   BangerLayerStats *out_stats, GCancellable *cancellable,
                                   GError **error)
{
  struct archive *a = NULL;
  g_autofree char *got = NULL;
  Layer l = { 0 };
  gboolean ok = TRUE;

  g_return_val_if_fail (staging != NULL, FALSE);
  g_return_val_if_fail (G_IS_INPUT_STREAM (blob), FALSE);
  if (staging->tainted || staging->finished)
    {
      g_set_error_literal (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                           "The staging tree is finished or a layer failed on it; start again");
      return FALSE;
    }
  if (expected_digest != NULL && !banger_digest_validate (expected_digest, error))
    return FALSE;

  l.s = staging;
  l.in = blob;
  l.cancellable = cancellable;
  l.checksum = g_checksum_new (G_CHECKSUM_SHA256);
  l.buf = g_malloc (READ_CHUNK);
  g_hash_table_remove_all (staging->layer_inos);

  a = archive_read_new ();
  archive_read_support_format_tar (a);
  switch (compression)
    {
    case BANGER_LAYER_TAR_GZIP:
      archive_read_support_filter_gzip (a);
      break;
    case BANGER_LAYER_TAR_ZSTD:
      archive_read_support_filter_zstd (a);
      break;
    case BANGER_LAYER_TAR:
    default:
      break;
    }
  if (archive_read_open (a, &l, NULL, source_read, NULL) != ARCHIVE_OK)
    {
      if (l.read_error != NULL)
        g_propagate_error (error, g_steal_pointer (&l.read_error));
      else
        g_set_error (error, BANGER_ERROR, BANGER_ERROR_PROTOCOL,
                     "Layer is not a tar archive with the compression its media type states: %s",
                     archive_error_string (a));
      ok = FALSE;
    }
  while (ok)
    {
      struct archive_entry *entry;
      int r = archive_read_next_header (a, &entry);
      if (r == ARCHIVE_EOF)
        break;
      if (r < ARCHIVE_WARN)
        {
          if (l.read_error != NULL)
            g_propagate_error (error, g_steal_pointer (&l.read_error));
          else
            g_set_error (error, BANGER_ERROR, BANGER_ERROR_PROTOCOL,
                         "Layer is not a valid tar archive: %s", archive_error_string (a));
          ok = FALSE;
          break;
        }
      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        {
          ok = FALSE;
          break;
        }
      l.stats.entries++;
      ok = apply_entry (&l, a, entry, error);
    }
  archive_read_free (a);
  if (ok)
    ok = drain (&l, error);
  if (ok)
    {
      got = banger_digest_from_checksum (l.checksum);
      if (expected_digest != NULL && !g_str_equal (got, expected_digest))
        {
          g_set_error (error, BANGER_ERROR, BANGER_ERROR_PROTOCOL,
                       "Layer content does not match its digest: expected '%s', got '%s'",
                       expected_digest, got);
          ok = FALSE;
        }
      else if (expected_size >= 0 && l.bytes != (guint64) expected_size)
        {
          g_set_error (error, BANGER_ERROR, BANGER_ERROR_PROTOCOL,
                       "Layer is %" G_GUINT64_FORMAT " bytes; its descriptor states %" G_GINT64_FORMAT,
                       l.bytes, expected_size);
          ok = FALSE;
        }
    }
  l.stats.compressed_bytes = l.bytes;
  if (out_stats != NULL)
    *out_stats = l.stats;
  if (!ok)
    {
      staging->tainted = TRUE;
      banger_image_error_normalize (error);
    }
  g_clear_error (&l.read_error);
  g_checksum_free (l.checksum);
  g_free (l.buf);
  return ok;
}

typedef struct
{
  BangerRootfsStaging *s;
  BangerOwnershipList *list;
} Walk;

static gboolean
walk_dir (Walk *w, int dfd, const char *rel, guint depth, GError **error)
{
  DIR *d;
  struct dirent *de;

  if (depth > PATH_MAX_BYTES / 2)
    {
      g_set_error_literal (error, BANGER_ERROR, BANGER_ERROR_LIMIT_EXCEEDED,
                           "The staging tree is nested too deep");
      return FALSE;
    }
  d = fdopendir (dfd);
  if (d == NULL)
    {
      close (dfd);
      return banger_set_error_from_errno (error, errno, "Cannot list the staging tree");
    }
  while ((de = readdir (d)) != NULL)
    {
      BangerOwnershipEntry *entry;
      const BangerOwnership *own;
      struct stat st;
      gint64 key;

      if (g_str_equal (de->d_name, ".") || g_str_equal (de->d_name, ".."))
        continue;
      if (fstatat (dirfd (d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        {
          closedir (d);
          return banger_set_error_from_errno (error, errno, "Cannot inspect the staging tree");
        }
      entry = g_new0 (BangerOwnershipEntry, 1);
      entry->path = rel[0] != '\0' ? g_strconcat (rel, "/", de->d_name, NULL)
                                   : g_strdup (de->d_name);
      key = (gint64) st.st_ino;
      own = g_hash_table_lookup (w->s->owners, &key);
      if (own != NULL)
        entry->own = *own;
      else
        entry->own = (BangerOwnership){ 0, 0, (guint32) ((st.st_mode & S_IFMT) | 0755) };
      g_ptr_array_add (w->list->entries, entry);
      w->list->inodes++;
      w->list->content_bytes += (guint64) st.st_blocks * 512;
      if (S_ISDIR (st.st_mode))
        {
          int child = openat (dirfd (d), de->d_name,
                              O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
          if (child < 0 || !walk_dir (w, child, entry->path, depth + 1, error))
            {
              int errsv = errno;
              closedir (d);
              if (child < 0)
                return banger_set_error_from_errno (error, errsv,
                                                    "Cannot open a directory of the staging tree");
              return FALSE;
            }
        }
    }
  closedir (d);
  return TRUE;
}

static void
ownership_entry_free (BangerOwnershipEntry *e)
{
  g_free (e->path);
  g_free (e);
}

/**
 * banger_rootfs_staging_finish:
 * @staging: a staging tree with all its layers applied
 * @error: return location for a #GError
 *
 * Writes the ownership records of every file in the tree (see
 * banger_ownership_list_load()) next to it, for the ext4 builder.
 *
 * Returns: %TRUE on success
 */
gboolean
banger_rootfs_staging_finish (BangerRootfsStaging *staging, GError **error)
{
  g_autoptr (BangerOwnershipList) list = g_new0 (BangerOwnershipList, 1);
  BangerOwnershipEntry *root;
  struct stat st;
  gint64 key;
  int dfd;
  Walk w = { staging, list };

  if (staging->tainted)
    {
      g_set_error_literal (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                           "A layer failed on this staging tree; it cannot become an image");
      return FALSE;
    }
  list->entries = g_ptr_array_new_with_free_func ((GDestroyNotify) ownership_entry_free);
  if (fstat (staging->root_fd, &st) < 0)
    return banger_set_error_from_errno (error, errno, "Cannot inspect the staging tree");
  root = g_new0 (BangerOwnershipEntry, 1);
  root->path = g_strdup ("");
  key = (gint64) st.st_ino;
  root->own = *(BangerOwnership *) g_hash_table_lookup (staging->owners, &key);
  g_ptr_array_add (list->entries, root);
  list->inodes = 1;
  list->content_bytes = (guint64) st.st_blocks * 512;
  dfd = openat (staging->root_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0)
    return banger_set_error_from_errno (error, errno, "Cannot open the staging tree");
  if (!walk_dir (&w, dfd, "", 0, error))
    return FALSE;
  if (!banger_ownership_list_save (list, staging->ownership_path, error))
    return FALSE;
  staging->finished = TRUE;
  return TRUE;
}

/**
 * banger_rootfs_staging_delete:
 * @staging: a staging tree
 * @error: return location for a #GError
 *
 * Removes the staging directory and everything in it (without following any
 * symbolic link the layers planted).  @staging is then only good for
 * banger_rootfs_staging_free().
 *
 * Returns: %TRUE on success
 */
gboolean
banger_rootfs_staging_delete (BangerRootfsStaging *staging, GError **error)
{
  Layer l = { 0 };
  int dfd;
  gboolean ok;

  l.s = staging;
  l.entry_path = staging->dir;
  l.subject = "Staging directory";
  staging->tainted = TRUE;
  dfd = open (staging->dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (dfd < 0)
    {
      if (errno == ENOENT)
        return TRUE;
      return entry_errno (&l, error, errno, "cannot open it");
    }
  ok = remove_children (&l, dfd, FALSE, error);
  close (dfd);
  if (ok && rmdir (staging->dir) < 0)
    return entry_errno (&l, error, errno, "cannot remove it");
  return ok;
}
