/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Key injection into an ext4 image with debugfs (see banger-guest-inject.h).
 *
 * debugfs runs three times at most, never through a shell, each time with
 * its commands on stdin (`-f -`): a read-only look at /root, /root/.ssh and
 * the file; the writes (`-w`); a read-only check that reads back the file's
 * type, mode, owner and content.  The key reaches debugfs as a memfd passed
 * as its fd 3 (`write /proc/self/fd/3 …`), so no temporary file is made.
 * In -f mode debugfs echoes each command on stdout as "debugfs: CMD", which
 * splits its answers; the key line is checked to be one printable line, so
 * it cannot forge such a separator. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "banger-error.h"
#include "banger-guest-ext4.h"
#include "banger-guest-inject.h"
#include "banger-quote.h"

#define SSH_DIR "/root/.ssh"

/* What `stat PATH` said about one path. */
typedef struct
{
  gboolean exists;
  char type[32]; /* "regular", "directory", "symlink", … */
  guint mode;
  guint uid;
  guint gid;
} DebugfsStat;

static char *
find_debugfs (GError **error)
{
  static const char *const fallbacks[] = { "/usr/sbin/debugfs", "/sbin/debugfs" };
  char *path = g_find_program_in_path ("debugfs");

  for (guint i = 0; path == NULL && i < G_N_ELEMENTS (fallbacks); i++)
    if (g_file_test (fallbacks[i], G_FILE_TEST_IS_EXECUTABLE))
      path = g_strdup (fallbacks[i]);
  if (path == NULL)
    g_set_error_literal (error, BANGER_ERROR, BANGER_ERROR_UNSUPPORTED,
                         "debugfs (e2fsprogs) is not installed: it is needed to write the SSH "
                         "key into an image without mounting it");
  return path;
}

/* stderr without debugfs's version banner, for error messages. */
static char *
debugfs_complaints (GBytes *err)
{
  g_autofree char *text = g_strndup (g_bytes_get_data (err, NULL), g_bytes_get_size (err));
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
  g_autoptr (GString) out = g_string_new (NULL);

  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_strstrip (lines[i]);
      if (lines[i][0] == '\0' || g_str_has_prefix (lines[i], "debugfs "))
        continue;
      if (out->len > 0)
        g_string_append (out, "; ");
      g_string_append (out, lines[i]);
    }
  return g_string_free (g_steal_pointer (&out), FALSE);
}

/* Runs debugfs on @image with @commands on stdin (and @key_fd, if >= 0, as
 * its fd 3); its stdout. */
static char *
run_debugfs (const char *image, gboolean writable, const char *commands, int key_fd,
             GCancellable *cancellable, GError **error)
{
  g_autofree char *debugfs = find_debugfs (error);
  g_autofree char *abs_image = NULL;
  g_autoptr (GSubprocessLauncher) launcher = NULL;
  g_autoptr (GSubprocess) proc = NULL;
  g_autoptr (GBytes) in = NULL;
  g_autoptr (GBytes) out = NULL;
  g_autoptr (GBytes) err = NULL;
  g_autoptr (GError) local = NULL;
  const char *argv[6];
  guint n = 0;

  if (debugfs == NULL)
    return NULL;
  /* an absolute path: a relative one starting with '-' would be an option */
  abs_image = g_canonicalize_filename (image, NULL);
  argv[n++] = debugfs;
  if (writable)
    argv[n++] = "-w";
  argv[n++] = "-f";
  argv[n++] = "-";
  argv[n++] = abs_image;
  argv[n] = NULL;

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDIN_PIPE
                                        | G_SUBPROCESS_FLAGS_STDOUT_PIPE
                                        | G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_subprocess_launcher_setenv (launcher, "LC_ALL", "C", TRUE);
  g_subprocess_launcher_setenv (launcher, "DEBUGFS_PAGER", "__none__", TRUE);
  g_subprocess_launcher_setenv (launcher, "PAGER", "__none__", TRUE);
  if (key_fd >= 0)
    {
      int dup_fd = fcntl (key_fd, F_DUPFD_CLOEXEC, 3);
      if (dup_fd < 0)
        {
          g_set_error (error, BANGER_ERROR, BANGER_ERROR_FAILED, "dup: %s", g_strerror (errno));
          return NULL;
        }
      g_subprocess_launcher_take_fd (launcher, dup_fd, 3);
    }
  proc = g_subprocess_launcher_spawnv (launcher, argv, &local);
  if (proc == NULL)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_FAILED, "Cannot run %s: %s", debugfs,
                   local->message);
      return NULL;
    }
  in = g_bytes_new_static (commands, strlen (commands));
  if (!g_subprocess_communicate (proc, in, cancellable, &out, &err, &local))
    {
      g_subprocess_force_exit (proc);
      if (g_error_matches (local, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_set_error (error, BANGER_ERROR, BANGER_ERROR_CANCELLED,
                     "Writing the SSH key into '%s' was cancelled", image);
      else
        g_set_error (error, BANGER_ERROR, BANGER_ERROR_FAILED, "debugfs on '%s': %s", image,
                     local->message);
      return NULL;
    }
  if (!g_subprocess_get_if_exited (proc) || g_subprocess_get_exit_status (proc) != 0)
    {
      g_autofree char *why = debugfs_complaints (err);
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_FAILED, "debugfs failed on '%s': %s", image,
                   why);
      return NULL;
    }
  return g_strndup (g_bytes_get_data (out, NULL), g_bytes_get_size (out));
}

/* Splits debugfs -f output into the answers to each command, in order. */
static GPtrArray *
split_answers (const char *out)
{
  GPtrArray *answers = g_ptr_array_new_with_free_func (g_free);
  const char *p = out;
  const char *cur = NULL;

  while (*p != '\0')
    {
      const char *eol = strchr (p, '\n');
      const char *next = eol ? eol + 1 : p + strlen (p);

      if (g_str_has_prefix (p, "debugfs: "))
        {
          if (cur != NULL)
            g_ptr_array_add (answers, g_strndup (cur, p - cur));
          cur = next;
        }
      p = next;
    }
  if (cur != NULL)
    g_ptr_array_add (answers, g_strdup (cur));
  return answers;
}

static void
parse_stat (const char *answer, DebugfsStat *st)
{
  const char *t = strstr (answer, "Type: ");
  const char *m = strstr (answer, "Mode: ");
  const char *u = strstr (answer, "User: ");
  const char *g = strstr (answer, "Group: ");

  memset (st, 0, sizeof *st);
  if (t == NULL || m == NULL || u == NULL || g == NULL)
    return;
  st->exists = TRUE;
  sscanf (t, "Type: %31s", st->type);
  st->mode = (guint) g_ascii_strtoull (m + 6, NULL, 8);
  st->uid = (guint) g_ascii_strtoull (u + 6, NULL, 10);
  st->gid = (guint) g_ascii_strtoull (g + 7, NULL, 10);
}

/* Type of the three paths. */
static gboolean
stat_paths (const char *image, DebugfsStat out[3], GCancellable *cancellable, GError **error)
{
  g_autofree char *stdout_text
      = run_debugfs (image, FALSE, "stat /root\nstat " SSH_DIR "\nstat " BANGER_GUEST_AUTHORIZED_KEYS "\n",
                     -1, cancellable, error);
  g_autoptr (GPtrArray) answers = NULL;

  if (stdout_text == NULL)
    return FALSE;
  answers = split_answers (stdout_text);
  if (answers->len != 3)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_PROTOCOL,
                   "debugfs gave %u answers to 3 commands on '%s'", answers->len, image);
      return FALSE;
    }
  for (guint i = 0; i < 3; i++)
    parse_stat (answers->pdata[i], &out[i]);
  return TRUE;
}

static gboolean
check_public_line (const char *line, GError **error)
{
  gsize len = strlen (line);

  /* (the final newline is there: added by the caller if missing) */
  if (len <= 1 || len > BANGER_GUEST_AUTHORIZED_KEY_MAX)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   "An authorized_keys line must be 1 to %d bytes long (got %zu)",
                   BANGER_GUEST_AUTHORIZED_KEY_MAX - 1, len - 1);
      return FALSE;
    }
  for (gsize i = 0; i < len; i++)
    {
      gboolean last = i == len - 1;
      if ((line[i] == '\n' && !last) || (line[i] != '\n' && !g_ascii_isprint (line[i])))
        {
          g_autofree char *q = banger_quote (line);
          g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                       "The key '%s' is not one line of printable ASCII", q);
          return FALSE;
        }
    }
  if (!g_str_has_prefix (line, "ssh-") && !g_str_has_prefix (line, "ecdsa-")
      && !g_str_has_prefix (line, "sk-"))
    {
      g_autofree char *q = banger_quote (line);
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   "'%s' does not look like an SSH public key line (ssh-ed25519 AAAA…)", q);
      return FALSE;
    }
  return TRUE;
}

static int
key_memfd (const char *content, GError **error)
{
  gsize len = strlen (content);
  gsize done = 0;
  int fd = memfd_create ("banger-authorized-keys", MFD_CLOEXEC);

  if (fd < 0)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_FAILED, "memfd_create: %s",
                   g_strerror (errno));
      return -1;
    }
  while (done < len)
    {
      ssize_t n = write (fd, content + done, len - done);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          g_set_error (error, BANGER_ERROR, BANGER_ERROR_FAILED, "memfd write: %s",
                       g_strerror (errno));
          close (fd);
          return -1;
        }
      done += (gsize) n;
    }
  return fd;
}

/**
 * banger_guest_read_authorized_keys:
 * @image: an ext4 image
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Reads `/root/.ssh/authorized_keys` out of @image without mounting it
 * (`debugfs -R 'cat …'`, read-only).  A missing file gives
 * %BANGER_ERROR_NOT_FOUND; an image that is not ext4
 * %BANGER_ERROR_INVALID_ARGUMENT.
 *
 * Returns: (transfer full): the file's content, or %NULL with @error set
 */
char *
banger_guest_read_authorized_keys (const char *image, GCancellable *cancellable, GError **error)
{
  DebugfsStat st[3];
  g_autofree char *stdout_text = NULL;
  g_autoptr (GPtrArray) answers = NULL;

  g_return_val_if_fail (image != NULL, NULL);
  if (!banger_guest_ext4_check (image, FALSE, error)
      || !stat_paths (image, st, cancellable, error))
    return NULL;
  if (!st[2].exists || strcmp (st[2].type, "regular") != 0)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_NOT_FOUND,
                   "'%s' holds no regular file " BANGER_GUEST_AUTHORIZED_KEYS, image);
      return NULL;
    }
  stdout_text = run_debugfs (image, FALSE, "cat " BANGER_GUEST_AUTHORIZED_KEYS "\n", -1,
                             cancellable, error);
  if (stdout_text == NULL)
    return NULL;
  answers = split_answers (stdout_text);
  if (answers->len != 1)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_PROTOCOL,
                   "debugfs gave %u answers to 1 command on '%s'", answers->len, image);
      return NULL;
    }
  return g_strdup (answers->pdata[0]);
}

/**
 * banger_guest_inject_authorized_key:
 * @image: the VM's own ext4 rootfs image (a file or block device no VM is
 *   running on)
 * @public_line: one authorized_keys line (banger_guest_key_get_public_line());
 *   a missing final newline is added
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Makes @public_line the whole content of `/root/.ssh/authorized_keys` in
 * @image, without mounting it: debugfs (e2fsprogs) in write mode, spawned
 * with an argv array, its commands on stdin.  `/root` (0700) and
 * `/root/.ssh` are made when absent; `/root/.ssh` is set to 0700 owned by
 * 0:0, the file is replaced and set to 0600 owned by 0:0.  The result is
 * read back (type, mode, owner, content) and any difference is an error.
 *
 * Errors: %BANGER_ERROR_INVALID_ARGUMENT for an image that is not ext4, a
 * `/root` or `/root/.ssh` that is not a directory or an authorized_keys
 * that is a directory, or a key that is not one printable line;
 * a file system whose journal needs recovery (banger_guest_ext4_check());
 * %BANGER_ERROR_NOT_FOUND for a missing image; %BANGER_ERROR_UNSUPPORTED
 * without debugfs; %BANGER_ERROR_CANCELLED; %BANGER_ERROR_FAILED when
 * debugfs fails or the read-back differs (its complaints are in the message).
 *
 * Returns: %TRUE on success
 */
gboolean
banger_guest_inject_authorized_key (const char *image, const char *public_line,
                                    GCancellable *cancellable, GError **error)
{
  g_autofree char *line = NULL;
  g_autoptr (GString) cmds = g_string_new (NULL);
  g_autofree char *written = NULL;
  g_autofree char *check = NULL;
  g_autoptr (GPtrArray) answers = NULL;
  DebugfsStat st[3];
  DebugfsStat dir_after, file_after;
  int fd;

  g_return_val_if_fail (image != NULL, FALSE);
  g_return_val_if_fail (public_line != NULL, FALSE);

  line = g_str_has_suffix (public_line, "\n") ? g_strdup (public_line)
                                               : g_strconcat (public_line, "\n", NULL);
  if (!check_public_line (line, error) || !banger_guest_ext4_check (image, TRUE, error))
    return FALSE;
  if (!stat_paths (image, st, cancellable, error))
    return FALSE;

  if (st[0].exists && strcmp (st[0].type, "directory") != 0)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   "/root in the image '%s' is a %s, not a directory", image, st[0].type);
      return FALSE;
    }
  if (st[1].exists && strcmp (st[1].type, "directory") != 0)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   SSH_DIR " in the image '%s' is a %s, not a directory", image, st[1].type);
      return FALSE;
    }
  if (st[2].exists && strcmp (st[2].type, "directory") == 0)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   BANGER_GUEST_AUTHORIZED_KEYS " in the image '%s' is a directory", image);
      return FALSE;
    }

  if (!st[0].exists)
    g_string_append (cmds, "mkdir /root\nsif /root mode 040700\n"
                           "sif /root uid 0\nsif /root gid 0\n");
  if (!st[1].exists)
    g_string_append (cmds, "mkdir " SSH_DIR "\n");
  g_string_append (cmds, "sif " SSH_DIR " mode 040700\nsif " SSH_DIR " uid 0\n"
                         "sif " SSH_DIR " gid 0\n");
  if (st[2].exists)
    g_string_append (cmds, "rm " BANGER_GUEST_AUTHORIZED_KEYS "\n");
  g_string_append (cmds, "write /proc/self/fd/3 " BANGER_GUEST_AUTHORIZED_KEYS "\n"
                         "sif " BANGER_GUEST_AUTHORIZED_KEYS " mode 0100600\n"
                         "sif " BANGER_GUEST_AUTHORIZED_KEYS " uid 0\n"
                         "sif " BANGER_GUEST_AUTHORIZED_KEYS " gid 0\n");

  fd = key_memfd (line, error);
  if (fd < 0)
    return FALSE;
  written = run_debugfs (image, TRUE, cmds->str, fd, cancellable, error);
  close (fd);
  if (written == NULL)
    return FALSE;

  /* read it all back */
  check = run_debugfs (image, FALSE,
                       "stat " SSH_DIR "\nstat " BANGER_GUEST_AUTHORIZED_KEYS "\n"
                       "cat " BANGER_GUEST_AUTHORIZED_KEYS "\n",
                       -1, cancellable, error);
  if (check == NULL)
    return FALSE;
  answers = split_answers (check);
  if (answers->len != 3)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_PROTOCOL,
                   "debugfs gave %u answers to 3 commands on '%s'", answers->len, image);
      return FALSE;
    }
  parse_stat (answers->pdata[0], &dir_after);
  parse_stat (answers->pdata[1], &file_after);
  if (!dir_after.exists || strcmp (dir_after.type, "directory") != 0 || dir_after.mode != 0700
      || dir_after.uid != 0 || dir_after.gid != 0)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_FAILED,
                   "After writing, " SSH_DIR " in '%s' is not a directory 0700 owned by 0:0",
                   image);
      return FALSE;
    }
  if (!file_after.exists || strcmp (file_after.type, "regular") != 0 || file_after.mode != 0600
      || file_after.uid != 0 || file_after.gid != 0)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_FAILED,
                   "After writing, " BANGER_GUEST_AUTHORIZED_KEYS " in '%s' is not a regular "
                   "file 0600 owned by 0:0",
                   image);
      return FALSE;
    }
  if (strcmp (answers->pdata[2], line) != 0)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_FAILED,
                   "After writing, " BANGER_GUEST_AUTHORIZED_KEYS " in '%s' does not hold the "
                   "key (%zu bytes read back, %zu written)",
                   image, strlen (answers->pdata[2]), strlen (line));
      return FALSE;
    }
  return TRUE;
}
