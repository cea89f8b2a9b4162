/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * priv.launch_vmm {vm_id, vmm, …} -> {pid, api_sock, cgroup, log}
 *
 * Starts Firecracker (through the jailer when the install config names one,
 * else directly, as the owner uid) or QEMU (as the owner uid).  Binaries and
 * every flag come from the install config and the templates in
 * banger-vmm-argv.c; the client names the VM and, for QEMU, disk files under
 * the state dir and sizes.  The process is cloned straight into the VM's own
 * cgroup (banger-vm-cgroup.c) in its own session, with a pidfd from clone
 * (launch/banger-spawn.c) kept in the registry: that pidfd is what later
 * signals go through.  Only a VMM that has exec'd is registered: a child
 * that is stopped or dies before its exec, or misses the exec deadline, is a
 * failed launch (killed, reaped, its scope removed). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "banger-error-private.h"
#include "banger-host-names.h"
#include "banger-names.h"
#include "banger-netlink.h"
#include "banger-priv-dirs.h"
#include "banger-priv-executor.h"
#include "banger-priv-ops-private.h"
#include "banger-spawn.h"
#include "banger-tap.h"
#include "banger-vm-cgroup.h"
#include "banger-vmm-argv.h"

static gboolean
validate_vmm_kind (const char *value, GError **error)
{
  if (g_strcmp0 (value, "firecracker") == 0 || g_strcmp0 (value, "qemu") == 0)
    return TRUE;
  g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
               "vmm must be 'firecracker' or 'qemu'");
  return FALSE;
}

static gboolean
validate_accel (const char *value, GError **error)
{
  if (g_strcmp0 (value, "tcg") == 0 || g_strcmp0 (value, "kvm") == 0)
    return TRUE;
  g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
               "accel must be 'tcg' or 'kvm'");
  return FALSE;
}

/* What runs as root (the jailer) or is handed the owner's VM (the VMM) must
 * be root's: a regular executable file, owned by root, not writable by
 * group or others. */
static gboolean
check_binary (const char *path, GError **error)
{
  struct stat st;

  if (stat (path, &st) < 0)
    return banger_set_error_from_errno (error, errno, "Cannot use the configured binary '%s'",
                                        path);
  if (!S_ISREG (st.st_mode) || st.st_uid != 0 || (st.st_mode & 0022) != 0
      || (st.st_mode & 0111) == 0)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_PERMISSION_DENIED,
                   "The configured binary '%s' must be a root-owned executable that only root "
                   "can write",
                   path);
      return FALSE;
    }
  return TRUE;
}

const BangerParamSpec banger_op_launch_vmm_params[] = {
  { "vm_id", BANGER_PARAM_STRING, TRUE, 1, 63, banger_validate_vm_name },
  { "vmm", BANGER_PARAM_STRING, TRUE, 4, 11, validate_vmm_kind },
  /* QEMU only (refused for firecracker, which is configured over its API): */
  { "kernel", BANGER_PARAM_STRING, FALSE, 2, 4095, banger_priv_validate_abs_path },
  { "initrd", BANGER_PARAM_STRING, FALSE, 2, 4095, banger_priv_validate_abs_path },
  { "rootfs", BANGER_PARAM_STRING, FALSE, 2, 4095, banger_priv_validate_abs_path },
  { "work_disk", BANGER_PARAM_STRING, FALSE, 2, 4095, banger_priv_validate_abs_path },
  { "boot_args", BANGER_PARAM_STRING, FALSE, 0, 4096, NULL },
  { "mac", BANGER_PARAM_STRING, FALSE, 17, 17, NULL },
  { "tap", BANGER_PARAM_BOOL, FALSE, 0, 0, NULL },
  { "accel", BANGER_PARAM_STRING, FALSE, 3, 3, validate_accel },
  { "mem_mib", BANGER_PARAM_INT, FALSE, 64, 262144, NULL },
  { "vcpus", BANGER_PARAM_INT, FALSE, 1, 32, NULL },
  { NULL },
};

static const char *const qemu_only[] = { "kernel", "initrd", "rootfs", "work_disk", "boot_args",
                                         "mac", "tap", "accel", "mem_mib", "vcpus", NULL };

gboolean
banger_op_launch_vmm (BangerPrivState *state, const BangerPeerCred *caller, JsonObject *params,
                      JsonBuilder *result, GCancellable *cancellable, GError **error)
{
  const char *vm_id = banger_priv_param_vm_id (params, error);
  const char *kind = banger_priv_param_string (params, "vmm");
  g_autofree char *scope_rel = NULL;
  g_autofree char *cgroup = NULL;
  g_autofree char *api_sock = NULL;
  g_autofree char *run_rel = NULL;
  g_autofree char *run_dir = NULL;
  g_autofree char *log_path = NULL;
  g_autofree char *tap = NULL;
  g_auto (GStrv) argv = NULL;
  g_autoptr (BangerPrivLaunch) reservation = NULL;
  BangerSpawnSpec spec = { 0 };
  BangerPrivVmm *vmm;
  pid_t pid;
  int pidfd;
  int run_fd;
  int log_fd;
  gboolean released;
  gboolean spawned;

  if (vm_id == NULL || !validate_vmm_kind (kind, error))
    return FALSE;
  if (state->runtime_dir == NULL || state->runtime_dir[0] != '/')
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_FAILED, "No runtime dir is configured");
      return FALSE;
    }

  banger_priv_state_reap (state);
  /* ALREADY_EXISTS when the VM has a VMM or a launch under way; held until
   * this returns (the wait for the exec runs without the executor lock). */
  reservation = banger_priv_state_reserve_launch (state, vm_id, error);
  if (reservation == NULL)
    return FALSE;

  scope_rel = banger_priv_state_scope_relpath (state, vm_id, error);
  if (scope_rel == NULL)
    return FALSE;

  if (g_str_equal (kind, "firecracker"))
    {
      for (const char *const *k = qemu_only; *k; k++)
        if (json_object_has_member (params, *k))
          {
            g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                         "The parameter '%s' is for QEMU only; Firecracker is configured "
                         "over its API", *k);
            return FALSE;
          }
      argv = banger_vmm_firecracker_argv (state, vm_id, scope_rel, &api_sock, error);
    }
  else
    {
      BangerQemuParams qp = {
        .kernel = banger_priv_param_string (params, "kernel"),
        .initrd = banger_priv_param_string (params, "initrd"),
        .rootfs = banger_priv_param_string (params, "rootfs"),
        .work_disk = banger_priv_param_string (params, "work_disk"),
        .boot_args = banger_priv_param_string (params, "boot_args"),
        .mac = banger_priv_param_string (params, "mac"),
        .accel = banger_priv_param_string (params, "accel"),
        .mem_mib = banger_priv_param_int (params, "mem_mib", 256),
        .vcpus = banger_priv_param_int (params, "vcpus", 1),
      };
      if (qp.accel == NULL)
        qp.accel = "tcg";
      if (banger_priv_param_bool (params, "tap", FALSE))
        {
          tap = banger_host_tap_name (vm_id, error);
          if (tap == NULL)
            return FALSE;
          qp.tap = tap;
        }
      argv = banger_vmm_qemu_argv (state, vm_id, &qp, &api_sock, error);
    }
  if (argv == NULL || !check_binary (argv[0], error))
    return FALSE;
  if (state->jailer_path != NULL && g_str_equal (kind, "firecracker")
      && !check_binary (state->firecracker_path, error))
    return FALSE;

  /* First the scope: BUSY when something of this VM still runs there (a VMM
   * from before a helper restart), before anything of its is touched. */
  cgroup = banger_vm_cgroup_ensure (state, vm_id, error);
  if (cgroup == NULL)
    return FALSE;

  /* The per-VM run dir (owner's, 0700): sockets and the log. */
  run_rel = g_build_filename ("vm", vm_id, NULL);
  run_fd = banger_priv_ensure_dir (state->runtime_dir, run_rel, 0700, state->owner_uid,
                                   state->owner_gid, error);
  if (run_fd < 0)
    {
      rmdir (cgroup);
      return FALSE;
    }
  if (state->jailer_path != NULL && g_str_equal (kind, "firecracker"))
    {
      g_autofree char *jail = banger_vmm_jail_dir (state, vm_id);
      gboolean removed;
      int jfd = banger_priv_ensure_dir (state->runtime_dir, "jail", 0755, 0, 0, error);

      /* The jailer never cleans up, and a stale jail makes it fail: remove
       * this VM's old one (fd-based, no symlink followed, no mount crossed). */
      if (jfd < 0
          || !banger_priv_remove_tree (state->runtime_dir,
                                       jail + strlen (state->runtime_dir) + 1, &removed, error))
        {
          if (jfd >= 0)
            close (jfd);
          close (run_fd);
          rmdir (cgroup);
          return FALSE;
        }
      close (jfd);
    }
  /* A socket left by a previous run would make the VMM refuse to start. */
  unlinkat (run_fd, BANGER_VMM_API_SOCK_NAME, 0);
  unlinkat (run_fd, BANGER_VMM_QMP_SOCK_NAME, 0);
  log_fd = openat (run_fd, "vmm.log", O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC,
                   0600);
  if (log_fd < 0 || fchown (log_fd, state->owner_uid, state->owner_gid) < 0)
    {
      int errsv = errno;
      if (log_fd >= 0)
        close (log_fd);
      close (run_fd);
      rmdir (cgroup);
      return banger_set_error_from_errno (error, errsv, "Cannot open the VMM log");
    }
  close (run_fd);
  run_dir = banger_vmm_run_dir (state, vm_id);
  log_path = g_build_filename (run_dir, "vmm.log", NULL);

  spec.argv = (const char *const *) argv;
  spec.envp = (const char *const[]){ "PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL };
  spec.cgroup_dir = cgroup;
  spec.cwd = "/";
  spec.new_session = TRUE;
  /* The jailer starts as root and drops to --uid/--gid itself. */
  spec.drop_privileges = !(state->jailer_path != NULL && g_str_equal (kind, "firecracker"));
  spec.uid = state->owner_uid;
  spec.gid = state->owner_gid;
  spec.stdout_fd = log_fd;
  spec.pass_fd = -1;
  if (tap != NULL)
    {
      /* Only banger's tap: it must exist and be a tun device. */
      g_auto (BangerLinkInfo) info = { 0 };
      gboolean is_tap = banger_netlink_get_link (tap, &info, error);

      if (is_tap && g_strcmp0 (info.kind, "tun") != 0)
        {
          g_set_error (error, BANGER_ERROR, BANGER_ERROR_PERMISSION_DENIED,
                       "'%s' is not a tap device; create the VM's tap first", tap);
          is_tap = FALSE;
        }
      if (!is_tap)
        {
          close (log_fd);
          rmdir (cgroup);
          return FALSE;
        }
      spec.pass_fd = banger_tap_open (tap, error);
      if (spec.pass_fd < 0)
        {
          close (log_fd);
          rmdir (cgroup);
          return FALSE;
        }
    }
  /* The wait for the exec (bounded; a child stopped or dead before it is a
   * failed launch) runs without the executor lock: root's requests and other
   * launches go on meanwhile.  The reservation keeps this VM ours. */
  released = banger_priv_executor_release (state);
  spawned = banger_spawn_vmm (&spec, cancellable, &pid, &pidfd, error);
  banger_priv_executor_reacquire (state, released);
  if (!spawned)
    {
      close (log_fd);
      if (spec.pass_fd >= 0)
        close (spec.pass_fd);
      rmdir (cgroup); /* empty: the failed child was killed and reaped */
      return FALSE;
    }
  close (log_fd);
  if (spec.pass_fd >= 0)
    close (spec.pass_fd);

  vmm = g_new0 (BangerPrivVmm, 1);
  vmm->vm_id = g_strdup (vm_id);
  vmm->pid = pid;
  vmm->pidfd = pidfd;
  vmm->api_sock = g_strdup (api_sock);
  vmm->cgroup = g_strdup (cgroup);
  g_mutex_lock (&state->lock);
  g_hash_table_replace (banger_priv_state_vmms_locked (state), g_strdup (vm_id), vmm);
  g_mutex_unlock (&state->lock);

  banger_priv_result_int (result, "pid", pid);
  banger_priv_result_string (result, "api_sock", api_sock);
  banger_priv_result_string (result, "cgroup", cgroup);
  banger_priv_result_string (result, "log", log_path);
  return TRUE;
}
