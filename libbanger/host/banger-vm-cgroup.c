/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "banger-error-private.h"
#include "banger-host-names.h"
#include "banger-priv-ops-private.h"
#include "banger-vm-cgroup.h"

static char *
scope_path (BangerPrivState *state, const char *vm_id, char **out_root, GError **error)
{
  g_autofree char *root = banger_priv_state_cgroup_root (state, error);
  g_autofree char *scope = NULL;

  if (root == NULL)
    return NULL;
  scope = banger_host_scope_name (vm_id, error);
  if (scope == NULL)
    return NULL;
  if (out_root != NULL)
    *out_root = g_strdup (root);
  return g_build_filename (root, scope, NULL);
}

static gboolean
cgroup_populated (const char *dir)
{
  g_autofree char *path = g_build_filename (dir, "cgroup.events", NULL);
  g_autofree char *contents = NULL;

  if (!g_file_get_contents (path, &contents, NULL, NULL))
    return FALSE;
  return strstr (contents, "populated 1") != NULL;
}

char *
banger_vm_cgroup_ensure (BangerPrivState *state, const char *vm_id, GError **error)
{
  g_autofree char *root = NULL;
  g_autofree char *path = scope_path (state, vm_id, &root, error);

  if (path == NULL)
    return NULL;
  if (mkdir (root, 0755) < 0 && errno != EEXIST)
    {
      banger_set_error_from_errno (error, errno, "Cannot create banger's cgroup '%s'", root);
      return NULL;
    }
  if (mkdir (path, 0755) < 0 && errno != EEXIST)
    {
      banger_set_error_from_errno (error, errno, "Cannot create the VM's cgroup '%s'", path);
      return NULL;
    }
  if (cgroup_populated (path))
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_BUSY,
                   "The cgroup of VM '%s' still has processes", vm_id);
      return NULL;
    }
  return g_steal_pointer (&path);
}

/* rmdir sub-cgroups depth-first (cgroup dirs hold only control files). */
static gboolean
rmdir_cgroup_tree (const char *path, guint depth, GError **error)
{
  g_autoptr (GDir) dir = NULL;
  const char *name;

  if (depth > 8)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_LIMIT_EXCEEDED, "cgroup tree too deep");
      return FALSE;
    }
  dir = g_dir_open (path, 0, NULL);
  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);
      struct stat st;
      if (lstat (child, &st) == 0 && S_ISDIR (st.st_mode)
          && !rmdir_cgroup_tree (child, depth + 1, error))
        return FALSE;
    }
  if (rmdir (path) < 0 && errno != ENOENT)
    return banger_set_error_from_errno (error, errno, "Cannot remove the cgroup '%s'", path);
  return TRUE;
}

gboolean
banger_vm_cgroup_remove (BangerPrivState *state, const char *vm_id, gboolean *out_removed,
                         GError **error)
{
  g_autofree char *path = scope_path (state, vm_id, NULL, error);
  g_autofree char *kill_path = NULL;
  struct stat st;

  *out_removed = FALSE;
  if (path == NULL)
    return FALSE;
  if (lstat (path, &st) < 0)
    return errno == ENOENT ? TRUE
                           : banger_set_error_from_errno (error, errno, "Cannot stat '%s'", path);
  if (!S_ISDIR (st.st_mode))
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_PERMISSION_DENIED,
                   "'%s' is not a cgroup directory", path);
      return FALSE;
    }
  if (cgroup_populated (path))
    {
      kill_path = g_build_filename (path, "cgroup.kill", NULL);
      {
        int fd = open (kill_path, O_WRONLY | O_CLOEXEC);
        if (fd < 0 || write (fd, "1", 1) != 1)
          {
            int errsv = errno;
            if (fd >= 0)
              close (fd);
            return banger_set_error_from_errno (error, errsv,
                                                "Cannot kill the processes of cgroup '%s'", path);
          }
        close (fd);
      }
      /* cgroup.kill is asynchronous: wait, bounded, for the scope to empty. */
      for (int i = 0; i < 500 && cgroup_populated (path); i++)
        {
          banger_priv_state_reap (state);
          g_usleep (10 * 1000);
        }
      banger_priv_state_reap (state);
      if (cgroup_populated (path))
        {
          g_set_error (error, BANGER_ERROR, BANGER_ERROR_TIMED_OUT,
                       "The processes of cgroup '%s' did not exit within 5 s", path);
          return FALSE;
        }
    }
  if (!rmdir_cgroup_tree (path, 0, error))
    return FALSE;
  *out_removed = TRUE;
  return TRUE;
}

char *
banger_vm_cgroup_of_pid (int pid, GError **error)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/cgroup", pid);
  g_autofree char *contents = NULL;
  g_auto (GStrv) lines = NULL;
  GError *local_error = NULL;

  if (!g_file_get_contents (path, &contents, NULL, &local_error))
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_NOT_FOUND, "No process %d: %s", pid,
                   local_error->message);
      g_error_free (local_error);
      return NULL;
    }
  lines = g_strsplit (contents, "\n", -1);
  for (char **l = lines; *l; l++)
    if (g_str_has_prefix (*l, "0::"))
      return g_strdup (*l + 3);
  g_set_error (error, BANGER_ERROR, BANGER_ERROR_UNSUPPORTED,
               "Process %d has no cgroup2 membership", pid);
  return NULL;
}
