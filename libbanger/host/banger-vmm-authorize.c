/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Which processes priv.signal_process / priv.kill_process may reach.
 *
 *   1. Never: pid <= 1, the helper itself, the calling process.
 *   2. A VMM this helper launched: found in the registry by pid; the signal
 *      goes through the pidfd taken at clone time.  The registry only holds
 *      our own unreaped children, so the pid cannot have been recycled.
 *   3. Adoption (a VMM launched before a helper restart): a pidfd is opened
 *      FIRST, then ALL of these must hold for the process behind it:
 *        - its cgroup2 path is EXACTLY <banger root>/banger-<vm>.scope for a
 *          valid VM id <vm> (no substring or suffix match);
 *        - its real, effective, saved and fs uids are the owner uid;
 *        - its --api-sock (banger_extract_firecracker_api_sock on the
 *          cmdline; joined to /proc/<pid>/root when jailed) is under that
 *          same VM's run dir or jail (banger_path_is_under);
 *      and after reading /proc the pidfd must still be alive (so what was
 *      read was that process, not a successor that took the pid).
 *   Then the signal goes through the pidfd (pidfd_send_signal): a process
 *   that exits and is replaced after the check is never hit. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "banger-error-private.h"
#include "banger-host-names.h"
#include "banger-path.h"
#include "banger-pidfd.h"
#include "banger-priv-ops-private.h"
#include "banger-proc.h"
#include "banger-vm-cgroup.h"
#include "banger-vm-paths.h"
#include "banger-vmm-authorize.h"

static gboolean
refuse (GError **error, gint64 pid, const char *why)
{
  g_set_error (error, BANGER_ERROR, BANGER_ERROR_PERMISSION_DENIED,
               "Refusing to signal process %" G_GINT64_FORMAT ": %s", pid, why);
  return FALSE;
}

/* All four uids of /proc/<pid>/status are @uid. */
static gboolean
uids_are (pid_t pid, uid_t uid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/status", pid);
  g_autofree char *contents = NULL;
  g_auto (GStrv) lines = NULL;

  if (!g_file_get_contents (path, &contents, NULL, NULL))
    return FALSE;
  lines = g_strsplit (contents, "\n", -1);
  for (char **l = lines; *l; l++)
    if (g_str_has_prefix (*l, "Uid:"))
      {
        g_auto (GStrv) f = g_strsplit_set (*l + 4, " \t", -1);
        guint seen = 0;
        for (char **v = f; *v; v++)
          {
            guint64 n;
            if ((*v)[0] == '\0')
              continue;
            if (!g_ascii_string_to_unsigned (*v, 10, 0, G_MAXUINT32, &n, NULL) || n != uid)
              return FALSE;
            seen++;
          }
        return seen == 4;
      }
  return FALSE;
}

/* The api socket as the host sees it.  A path that is already under the
 * runtime dir is taken as it is (a direct launch: no chroot), which needs no
 * privilege beyond reading the cmdline.  Otherwise the process may be
 * chrooted (jailed): join the path to its root, read from /proc/<pid>/root —
 * that readlink needs ptrace-read access (CAP_SYS_PTRACE for another uid). */
static char *
host_api_sock (BangerPrivState *state, pid_t pid, const char *api_sock)
{
  g_autofree char *root_link = NULL;
  g_autofree char *root = NULL;

  if (api_sock == NULL || api_sock[0] != '/')
    return NULL;
  if (banger_path_is_under (api_sock, state->runtime_dir))
    return g_strdup (api_sock);
  root_link = g_strdup_printf ("/proc/%d/root", pid);
  root = g_file_read_link (root_link, NULL);
  if (root == NULL || g_str_equal (root, "/"))
    return NULL;
  return g_build_filename (root, api_sock, NULL);
}

static gboolean
adoption_check (BangerPrivState *state, pid_t pid, char **out_vm_id, GError **error)
{
  g_autofree char *cg = banger_vm_cgroup_of_pid (pid, NULL);
  g_autofree char *vm_id = NULL;
  g_autofree char *expected = NULL;
  g_autofree char *scope_name = NULL;
  g_autofree char *api = NULL;
  g_autofree char *api_host = NULL;
  g_autofree char *run_dir = NULL;
  g_autofree char *jail_dir = NULL;
  g_auto (GStrv) argv = NULL;

  if (cg == NULL)
    return refuse (error, pid, "it has no cgroup2 membership");
  /* The last component must be exactly banger-<valid vm id>.scope … */
  scope_name = g_path_get_basename (cg);
  vm_id = banger_host_scope_vm_id (scope_name);
  if (vm_id == NULL)
    return refuse (error, pid, "it is not in one of banger's VM scopes");
  /* … and the whole path exactly banger's scope for that VM. */
  expected = banger_priv_state_scope_relpath (state, vm_id, error);
  if (expected == NULL)
    return FALSE;
  if (!g_str_equal (cg, expected))
    return refuse (error, pid, "its cgroup is not exactly one of banger's VM scopes");
  if (!uids_are (pid, state->owner_uid))
    return refuse (error, pid, "it does not run as banger's owner uid");
  argv = banger_proc_read_cmdline (pid, NULL);
  if (argv == NULL)
    return refuse (error, pid, "its command line cannot be read");
  api = banger_extract_firecracker_api_sock ((const char *const *) argv);
  api_host = host_api_sock (state, pid, api);
  if (api_host == NULL)
    return refuse (error, pid, "it has no usable --api-sock");
  run_dir = banger_vm_run_dir (state->runtime_dir, vm_id);
  {
    g_autofree char *base = banger_vm_jail_base (state->runtime_dir);
    jail_dir = banger_vm_jail_dir (base, state->firecracker_path ? state->firecracker_path
                                                                 : "firecracker", vm_id);
  }
  if (!banger_path_is_under (api_host, run_dir) && !banger_path_is_under (api_host, jail_dir))
    return refuse (error, pid, "its --api-sock is not under that VM's runtime directory");
  if (!banger_path_is_under (api_host, state->runtime_dir))
    return refuse (error, pid, "its --api-sock is not under banger's runtime directory");
  *out_vm_id = g_steal_pointer (&vm_id);
  return TRUE;
}

int
banger_host_authorize_vmm_pid (BangerPrivState *state, const BangerPeerCred *caller,
                               gint64 pid, char **out_vm_id, GError **error)
{
  GHashTableIter iter;
  gpointer value;
  int fd = -1;
  g_autofree char *vm_id = NULL;

  if (pid <= 1 || pid > G_MAXINT32)
    {
      refuse (error, pid, pid == 1 ? "it is init" : "it is not a valid process id");
      return -1;
    }
  if (pid == getpid ())
    {
      refuse (error, pid, "it is the helper itself");
      return -1;
    }
  if (caller != NULL && pid == caller->pid)
    {
      refuse (error, pid, "it is the calling process");
      return -1;
    }

  /* 2. Launched by us. */
  banger_priv_state_reap (state);
  g_mutex_lock (&state->lock);
  g_hash_table_iter_init (&iter, banger_priv_state_vmms_locked (state));
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      BangerPrivVmm *vmm = value;
      if (vmm->pid == (pid_t) pid)
        {
          fd = fcntl (vmm->pidfd, F_DUPFD_CLOEXEC, 3);
          vm_id = g_strdup (vmm->vm_id);
          break;
        }
    }
  g_mutex_unlock (&state->lock);
  if (fd >= 0)
    {
      if (out_vm_id)
        *out_vm_id = g_steal_pointer (&vm_id);
      return fd;
    }

  /* 3. Adoption: pidfd first, then the checks, then confirm it is alive. */
  fd = banger_pidfd_open ((pid_t) pid);
  if (fd < 0)
    {
      if (errno == ESRCH)
        g_set_error (error, BANGER_ERROR, BANGER_ERROR_NOT_FOUND, "No process %" G_GINT64_FORMAT,
                     pid);
      else
        banger_set_error_from_errno (error, errno, "Cannot open process %" G_GINT64_FORMAT, pid);
      return -1;
    }
  if (!adoption_check (state, (pid_t) pid, &vm_id, error))
    {
      close (fd);
      return -1;
    }
  if (banger_pidfd_send_signal (fd, 0) < 0)
    {
      close (fd);
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_NOT_FOUND,
                   "Process %" G_GINT64_FORMAT " exited while it was being checked", pid);
      return -1;
    }
  if (out_vm_id)
    *out_vm_id = g_steal_pointer (&vm_id);
  return fd;
}
