/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The install-wide SSH key (see banger-guest-key.h and doc/guest.md).
 *
 * The key directory is the caller's (normally <state dir>/ssh): it is made
 * 0700 if absent and refused when another user owns it or others may write
 * to it.  Each file is opened with O_NOFOLLOW relative to that directory and
 * checked on the open fd (regular, owned by us, one link, private key not
 * readable by group or others).  A new key is written to a fresh temporary
 * name (O_CREAT|O_EXCL, 0600) and renamed into place with RENAME_NOREPLACE,
 * so two first uses at once keep exactly one key: the loser reads the
 * winner's.  The public key file is always derived from the private key. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libssh/libssh.h>

#include "banger-error.h"
#include "banger-guest-key.h"

struct _BangerGuestKey
{
  char *private_path;
  char *public_path;
  char *public_line;
  ssh_key key;
};

static void
guest_key_clear (gpointer data)
{
  BangerGuestKey *key = data;

  g_free (key->private_path);
  g_free (key->public_path);
  g_free (key->public_line);
  if (key->key != NULL)
    ssh_key_free (key->key);
}

/**
 * banger_guest_key_ref:
 * @key: a key
 *
 * Takes a reference.  A key is immutable and may be shared by threads.
 *
 * Returns: (transfer full): @key
 */
BangerGuestKey *
banger_guest_key_ref (BangerGuestKey *key)
{
  g_return_val_if_fail (key != NULL, NULL);
  return g_atomic_rc_box_acquire (key);
}

/**
 * banger_guest_key_unref:
 * @key: (transfer full): a key
 *
 * Drops a reference; the last one frees the key (and the private key held
 * in memory).
 */
void
banger_guest_key_unref (BangerGuestKey *key)
{
  g_return_if_fail (key != NULL);
  g_atomic_rc_box_release_full (key, guest_key_clear);
}

/**
 * banger_guest_key_get_private_path:
 * @key: a key
 *
 * Returns: the path of the private key file (OpenSSH format, mode 0600).
 */
const char *
banger_guest_key_get_private_path (BangerGuestKey *key)
{
  g_return_val_if_fail (key != NULL, NULL);
  return key->private_path;
}

/**
 * banger_guest_key_get_public_path:
 * @key: a key
 *
 * Returns: the path of the public key file (one line, mode 0644).
 */
const char *
banger_guest_key_get_public_path (BangerGuestKey *key)
{
  g_return_val_if_fail (key != NULL, NULL);
  return key->public_path;
}

/**
 * banger_guest_key_get_public_line:
 * @key: a key
 *
 * Returns: the public key as one authorized_keys line,
 *   `ssh-ed25519 AAAA… banger` followed by a newline.
 */
const char *
banger_guest_key_get_public_line (BangerGuestKey *key)
{
  g_return_val_if_fail (key != NULL, NULL);
  return key->public_line;
}

/**
 * banger_guest_key_get_ssh_key:
 * @key: a key
 *
 * Returns: (transfer none): the libssh `ssh_key` holding the private key,
 *   owned by @key.
 */
gpointer
banger_guest_key_get_ssh_key (BangerGuestKey *key)
{
  g_return_val_if_fail (key != NULL, NULL);
  return key->key;
}

static gboolean
set_errno_error (GError **error, int errsv, const char *what, const char *path)
{
  g_set_error (error, BANGER_ERROR,
               errsv == EACCES || errsv == EPERM ? BANGER_ERROR_PERMISSION_DENIED
                                                 : BANGER_ERROR_FAILED,
               "Cannot %s '%s': %s", what, path, g_strerror (errsv));
  return FALSE;
}

/* Opens (making it 0700 if absent) the key directory and checks it. */
static int
open_key_dir (const char *dir, GError **error)
{
  struct stat st;
  int fd;

  if (mkdir (dir, 0700) < 0 && errno != EEXIST)
    {
      set_errno_error (error, errno, "create the key directory", dir);
      return -1;
    }
  fd = open (dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    {
      int errsv = errno;
      if (errsv == ELOOP || errsv == ENOTDIR)
        g_set_error (error, BANGER_ERROR, BANGER_ERROR_PERMISSION_DENIED,
                     "The key directory '%s' is not a directory (or is a symbolic link)", dir);
      else
        set_errno_error (error, errsv, "open the key directory", dir);
      return -1;
    }
  if (fstat (fd, &st) < 0)
    {
      set_errno_error (error, errno, "stat the key directory", dir);
      close (fd);
      return -1;
    }
  if (st.st_uid != geteuid () || (st.st_mode & 022) != 0)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_PERMISSION_DENIED,
                   "The key directory '%s' is owned by uid %u with mode %04o; banger wants "
                   "its own uid %u and no write access for group or others",
                   dir, (unsigned) st.st_uid, (unsigned) (st.st_mode & 07777),
                   (unsigned) geteuid ());
      close (fd);
      return -1;
    }
  return fd;
}

/* Reads @name in @dirfd after checking the open file.  An absent file is
 * not an error: *out_contents stays NULL. */
static gboolean
read_key_file (int dirfd, const char *path, const char *name, gboolean is_private,
               char **out_contents, GError **error)
{
  g_autofree char *buf = NULL;
  struct stat st;
  gsize done = 0;
  int fd;

  *out_contents = NULL;
  fd = openat (dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0)
    {
      int errsv = errno;
      if (errsv == ENOENT)
        return TRUE;
      if (errsv == ELOOP)
        {
          g_set_error (error, BANGER_ERROR, BANGER_ERROR_PERMISSION_DENIED,
                       "The SSH key file '%s' is a symbolic link", path);
          return FALSE;
        }
      return set_errno_error (error, errsv, "open the SSH key file", path);
    }
  if (fstat (fd, &st) < 0)
    {
      set_errno_error (error, errno, "stat the SSH key file", path);
      close (fd);
      return FALSE;
    }
  if (!S_ISREG (st.st_mode) || st.st_nlink != 1 || st.st_uid != geteuid ())
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_PERMISSION_DENIED,
                   "The SSH key file '%s' is not a regular file with one link owned by uid %u",
                   path, (unsigned) geteuid ());
      close (fd);
      return FALSE;
    }
  if ((st.st_mode & (is_private ? 077 : 022)) != 0)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_PERMISSION_DENIED,
                   "The SSH key file '%s' has mode %04o: %s", path,
                   (unsigned) (st.st_mode & 07777),
                   is_private ? "a private key must not be accessible to group or others (0600)"
                              : "a public key must not be writable by group or others (0644)");
      close (fd);
      return FALSE;
    }
  if (st.st_size > BANGER_GUEST_KEY_MAX_BYTES)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_LIMIT_EXCEEDED,
                   "The SSH key file '%s' is larger than %d bytes", path,
                   BANGER_GUEST_KEY_MAX_BYTES);
      close (fd);
      return FALSE;
    }
  buf = g_malloc (BANGER_GUEST_KEY_MAX_BYTES + 1);
  for (;;)
    {
      ssize_t n = read (fd, buf + done, BANGER_GUEST_KEY_MAX_BYTES + 1 - done);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          set_errno_error (error, errno, "read the SSH key file", path);
          explicit_bzero (buf, done);
          close (fd);
          return FALSE;
        }
      if (n == 0)
        break;
      done += (gsize) n;
      if (done > BANGER_GUEST_KEY_MAX_BYTES)
        {
          g_set_error (error, BANGER_ERROR, BANGER_ERROR_LIMIT_EXCEEDED,
                       "The SSH key file '%s' is larger than %d bytes", path,
                       BANGER_GUEST_KEY_MAX_BYTES);
          explicit_bzero (buf, done);
          close (fd);
          return FALSE;
        }
    }
  close (fd);
  buf[done] = '\0';
  *out_contents = g_steal_pointer (&buf);
  return TRUE;
}

/* Writes @contents to a fresh temporary file in @dirfd and renames it to
 * @name: without replacing an existing file when @noreplace (then
 * *out_lost_race is set if one appeared meanwhile). */
static gboolean
write_key_file (int dirfd, const char *path, const char *name, const char *contents,
                mode_t mode, gboolean noreplace, gboolean *out_lost_race, GError **error)
{
  g_autofree char *tmp = NULL;
  gsize len = strlen (contents);
  gsize done = 0;
  int fd = -1;

  for (int attempt = 0; fd < 0; attempt++)
    {
      g_free (tmp);
      tmp = g_strdup_printf (".%s.%08x", name, g_random_int ());
      fd = openat (dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY,
                   mode);
      if (fd < 0 && (errno != EEXIST || attempt > 16))
        return set_errno_error (error, errno, "create a temporary file next to", path);
    }
  /* our own fresh file: the umask may have cut the mode */
  if (fchmod (fd, mode) < 0)
    goto fail;
  while (done < len)
    {
      ssize_t n = write (fd, contents + done, len - done);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        goto fail;
      done += (gsize) n;
    }
  if (fsync (fd) < 0)
    goto fail;
  close (fd);
  fd = -1;
  if (renameat2 (dirfd, tmp, dirfd, name, noreplace ? RENAME_NOREPLACE : 0) < 0)
    {
      int errsv = errno;
      unlinkat (dirfd, tmp, 0);
      if (noreplace && errsv == EEXIST)
        {
          *out_lost_race = TRUE;
          return TRUE;
        }
      return set_errno_error (error, errsv, "rename a new file to", path);
    }
  fsync (dirfd);
  return TRUE;

fail:
  {
    int errsv = errno;
    close (fd);
    unlinkat (dirfd, tmp, 0);
    return set_errno_error (error, errsv, "write", path);
  }
}

static char *
generate_private_key (const char *path, GError **error)
{
  ssh_key key = NULL;
  char *b64 = NULL;
  char *ret;

  if (ssh_pki_generate (SSH_KEYTYPE_ED25519, 0, &key) != SSH_OK)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_FAILED,
                   "libssh could not generate an ed25519 key for '%s'", path);
      return NULL;
    }
  if (ssh_pki_export_privkey_base64 (key, NULL, NULL, NULL, &b64) != SSH_OK)
    {
      ssh_key_free (key);
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_FAILED,
                   "libssh could not export the new key for '%s'", path);
      return NULL;
    }
  ssh_key_free (key);
  ret = g_strdup (b64);
  explicit_bzero (b64, strlen (b64));
  ssh_string_free_char (b64);
  return ret;
}

static void
free_secret (char *s)
{
  if (s != NULL)
    {
      explicit_bzero (s, strlen (s));
      g_free (s);
    }
}

/**
 * banger_guest_key_load_or_create:
 * @dir: the key directory (made 0700 if absent), normally `<state dir>/ssh`
 * @out_created: (out) (optional): set to %TRUE when this call made the key
 * @error: return location for a #GError
 *
 * Loads the install's SSH key from `@dir/id_ed25519`, or makes it on first
 * use: an ed25519 key generated by libssh (no program is run), written in
 * OpenSSH format with mode 0600, and `@dir/id_ed25519.pub` (0644) next to it.
 * Creation is atomic: a temporary file made with `O_EXCL` is renamed into
 * place without replacing, so concurrent first uses end with one key.
 *
 * Refused with %BANGER_ERROR_PERMISSION_DENIED: a directory owned by another
 * user or writable by group or others; a key file that is a symbolic link,
 * not a regular file, has more than one link or another owner; a private key
 * accessible to group or others, or a public key writable by them.  A key
 * file larger than %BANGER_GUEST_KEY_MAX_BYTES gives
 * %BANGER_ERROR_LIMIT_EXCEEDED, one libssh cannot read or that is not
 * ed25519 %BANGER_ERROR_FAILED.  The public key file is rewritten from the
 * private key when it is missing or does not match it.
 *
 * Returns: (transfer full): the key, or %NULL with @error set
 */
BangerGuestKey *
banger_guest_key_load_or_create (const char *dir, gboolean *out_created, GError **error)
{
  g_autoptr (BangerGuestKey) key = NULL;
  g_autofree char *private_path = NULL;
  g_autofree char *public_path = NULL;
  char *contents = NULL;
  g_autofree char *pub_contents = NULL;
  g_autofree char *b64 = NULL;
  gboolean created = FALSE;
  ssh_key sshkey = NULL;
  int dirfd;

  g_return_val_if_fail (dir != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  private_path = g_build_filename (dir, BANGER_GUEST_KEY_FILE, NULL);
  public_path = g_build_filename (dir, BANGER_GUEST_KEY_PUB_FILE, NULL);
  dirfd = open_key_dir (dir, error);
  if (dirfd < 0)
    return NULL;

  if (!read_key_file (dirfd, private_path, BANGER_GUEST_KEY_FILE, TRUE, &contents, error))
    goto fail;
  if (contents == NULL)
    {
      gboolean lost = FALSE;

      contents = generate_private_key (private_path, error);
      if (contents == NULL)
        goto fail;
      if (!write_key_file (dirfd, private_path, BANGER_GUEST_KEY_FILE, contents, 0600, TRUE,
                           &lost, error))
        goto fail;
      if (lost)
        {
          /* another process made it first: use theirs */
          free_secret (g_steal_pointer (&contents));
          if (!read_key_file (dirfd, private_path, BANGER_GUEST_KEY_FILE, TRUE, &contents, error))
            goto fail;
          if (contents == NULL)
            {
              g_set_error (error, BANGER_ERROR, BANGER_ERROR_FAILED,
                           "The SSH key file '%s' vanished while it was being created",
                           private_path);
              goto fail;
            }
        }
      else
        created = TRUE;
    }

  if (ssh_pki_import_privkey_base64 (contents, NULL, NULL, NULL, &sshkey) != SSH_OK)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_FAILED,
                   "'%s' is not a private key libssh can read (unencrypted OpenSSH format)",
                   private_path);
      goto fail;
    }
  if (ssh_key_type (sshkey) != SSH_KEYTYPE_ED25519)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_FAILED,
                   "'%s' is a %s key; banger's install key is ed25519", private_path,
                   ssh_key_type_to_char (ssh_key_type (sshkey)));
      goto fail;
    }
  {
    char *tmp = NULL;
    if (ssh_pki_export_pubkey_base64 (sshkey, &tmp) != SSH_OK)
      {
        g_set_error (error, BANGER_ERROR, BANGER_ERROR_FAILED,
                     "libssh could not derive the public key of '%s'", private_path);
        goto fail;
      }
    b64 = g_strdup (tmp);
    ssh_string_free_char (tmp);
  }

  key = g_atomic_rc_box_new0 (BangerGuestKey);
  key->key = g_steal_pointer (&sshkey);
  key->private_path = g_steal_pointer (&private_path);
  key->public_path = g_steal_pointer (&public_path);
  key->public_line = g_strdup_printf ("ssh-ed25519 %s %s\n", b64, BANGER_GUEST_KEY_COMMENT);

  if (!read_key_file (dirfd, key->public_path, BANGER_GUEST_KEY_PUB_FILE, FALSE, &pub_contents,
                      error))
    goto fail;
  if (g_strcmp0 (pub_contents, key->public_line) != 0)
    {
      gboolean unused = FALSE;
      if (!write_key_file (dirfd, key->public_path, BANGER_GUEST_KEY_PUB_FILE, key->public_line,
                           0644, FALSE, &unused, error))
        goto fail;
    }

  free_secret (contents);
  close (dirfd);
  if (out_created != NULL)
    *out_created = created;
  return g_steal_pointer (&key);

fail:
  if (sshkey != NULL)
    ssh_key_free (sshkey);
  free_secret (contents);
  close (dirfd);
  return NULL;
}
