/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * priv.mkfs_work_disk {path} -> {path}
 *
 * ext4 on a file under banger's state dir, nowhere else.  The path must be
 * absolute, plain (no "."/".."/empty components) and lexically under
 * state_dir; the file is then opened beneath state_dir with
 * banger_open_beneath (no symlink in any component, no mount crossing), and
 * on that fd checked: regular file, st_nlink == 1 (a hard link to a file
 * elsewhere is refused), owned by the owner uid.  mkfs.ext4 gets the checked
 * fd itself, as /proc/self/fd/3: swapping a path component after the check
 * cannot redirect it. */
#include "config.h"

#include <fcntl.h>
#include <unistd.h>

#include "banger-error.h"
#include "banger-priv-ops-private.h"

static const char *const mkfs_candidates[] = { "/usr/sbin/mkfs.ext4", "/sbin/mkfs.ext4", NULL };

static const char *
find_mkfs (GError **error)
{
  for (const char *const *p = mkfs_candidates; *p; p++)
    {
      struct stat st;
      if (stat (*p, &st) == 0 && S_ISREG (st.st_mode) && st.st_uid == 0
          && (st.st_mode & 0022) == 0)
        return *p;
    }
  g_set_error (error, BANGER_ERROR, BANGER_ERROR_UNSUPPORTED,
               "mkfs.ext4 is not installed (package e2fsprogs)");
  return NULL;
}

const BangerParamSpec banger_op_mkfs_work_disk_params[] = {
  { "path", BANGER_PARAM_STRING, TRUE, 2, 4095, banger_priv_validate_abs_path },
  { NULL },
};

gboolean
banger_op_mkfs_work_disk (BangerPrivState *state, const BangerPeerCred *caller,
                          JsonObject *params, JsonBuilder *result, GCancellable *cancellable,
                          GError **error)
{
  const char *path = banger_priv_param_string (params, "path");
  const char *mkfs;
  g_autoptr (GSubprocessLauncher) launcher = NULL;
  g_autoptr (GSubprocess) proc = NULL;
  g_autofree char *extended = NULL;
  g_autoptr (GBytes) err_bytes = NULL;
  struct stat st;
  int path_fd, fd;

  mkfs = find_mkfs (error);
  if (mkfs == NULL)
    return FALSE;
  path_fd = banger_priv_open_owned_file_as (state->state_dir, path, state->owner_uid,
                                            state->owner_gid, FALSE, &st,
                                         error);
  if (path_fd < 0)
    return FALSE;
  fd = banger_priv_reopen (path_fd, &st, O_RDWR, error);
  close (path_fd);
  if (fd < 0)
    return FALSE;
  if (st.st_size < 1024 * 1024)
    {
      close (fd);
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   "The work disk must be at least 1 MiB (it is %" G_GINT64_FORMAT " bytes)",
                   (gint64) st.st_size);
      return FALSE;
    }

  extended = g_strdup_printf ("lazy_itable_init=1,lazy_journal_init=1,root_owner=%u:%u",
                              (unsigned) state->owner_uid, (unsigned) state->owner_gid);
  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDIN_PIPE
                                        | G_SUBPROCESS_FLAGS_STDOUT_SILENCE
                                        | G_SUBPROCESS_FLAGS_STDERR_PIPE);
  /* A fixed, minimal environment: nothing of the caller's reaches mkfs. */
  {
    const char *env[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C", NULL };
    g_subprocess_launcher_set_environ (launcher, (char **) env);
  }
  g_subprocess_launcher_take_fd (launcher, fd, 3);
  proc = g_subprocess_launcher_spawn (launcher, error, mkfs, "-q", "-F", "-t", "ext4", "-E",
                                      extended, "/proc/self/fd/3", NULL);
  if (proc == NULL)
    return FALSE;
  /* stdin: an empty pipe, closed at once (mke2fs never gets to ask). */
  {
    g_autoptr (GBytes) no_input = g_bytes_new_static ("", 0);
    if (!g_subprocess_communicate (proc, no_input, cancellable, NULL, &err_bytes, error))
      return FALSE;
  }
  if (!g_subprocess_get_if_exited (proc) || g_subprocess_get_exit_status (proc) != 0)
    {
      g_autofree char *q = NULL;
      if (err_bytes != NULL)
        {
          g_autofree char *text = g_strndup (g_bytes_get_data (err_bytes, NULL),
                                             MIN (g_bytes_get_size (err_bytes), 512));
          q = g_utf8_make_valid (g_strstrip (text), -1);
        }
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_FAILED, "mkfs.ext4 failed: %s",
                   q ? q : "(no message)");
      return FALSE;
    }
  banger_priv_result_string (result, "path", path);
  return TRUE;
}
