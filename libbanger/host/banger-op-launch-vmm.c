/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * priv.launch_vmm {vm_id, vmm, …} -> {pid, start_time, api_sock, cgroup, log, console?}
 *
 * Starts Firecracker (through the jailer when the install config names one,
 * else directly, as the owner uid) or QEMU (as the owner uid).  Binaries come
 * from the install config, every flag from the one command-line builder of
 * each VMM (launch/banger-qemu-cmdline.c, launch/banger-firecracker-cmdline.c)
 * and every path from launch/banger-vm-paths.c; the client names the VM and,
 * for QEMU, disk files under the state dir, sizes and the accelerator.  The
 * process is cloned straight into the VM's own cgroup (banger-vm-cgroup.c) in
 * its own session, with a pidfd from clone (banger-spawn.c) kept in the
 * registry: that pidfd is what later signals go through.  Only a VMM that
 * has exec'd is registered: a child that is stopped or dies before its exec,
 * or misses the exec deadline, is a failed launch (killed, reaped, its scope
 * removed).  The result carries the pid and its start time, from which the
 * caller takes its own pidfd (launch/banger-proc-identity.h). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "banger-dm.h"
#include "banger-error-private.h"
#include "banger-firecracker-cmdline.h"
#include "banger-host-names.h"
#include "banger-jail-mounts.h"
#include "banger-names.h"
#include "banger-netlink.h"
#include "banger-path.h"
#include "banger-pidfd.h"
#include "banger-priv-dirs.h"
#include "banger-priv-executor.h"
#include "banger-priv-ops-private.h"
#include "banger-proc-identity.h"
#include "banger-qemu-cmdline.h"
#include "banger-quote.h"
#include "banger-spawn.h"
#include "banger-tap-fd.h"
#include "banger-vm-cgroup.h"
#include "banger-vm-limits.h"
#include "banger-vm-paths.h"
#include "banger-vmm-authorize.h"

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

static gboolean
validate_mac (const char *value, GError **error)
{
  return banger_qemu_check_mac (value, error);
}

const BangerParamSpec banger_op_launch_vmm_params[] = {
  { "vm_id", BANGER_PARAM_STRING, TRUE, 1, 63, banger_validate_vm_name },
  { "vmm", BANGER_PARAM_STRING, TRUE, 4, 11, validate_vmm_kind },
  /* QEMU only (refused for firecracker, which is configured over its API): */
  { "kernel", BANGER_PARAM_STRING, FALSE, 2, 4095, banger_priv_validate_abs_path },
  { "initrd", BANGER_PARAM_STRING, FALSE, 2, 4095, banger_priv_validate_abs_path },
  { "rootfs", BANGER_PARAM_STRING, FALSE, 2, 4095, banger_priv_validate_abs_path },
  { "rootfs_read_only", BANGER_PARAM_BOOL, FALSE, 0, 0, NULL },
  { "work_disk", BANGER_PARAM_STRING, FALSE, 2, 4095, banger_priv_validate_abs_path },
  { "work_disk_read_only", BANGER_PARAM_BOOL, FALSE, 0, 0, NULL },
  { "boot_args", BANGER_PARAM_STRING, FALSE, 0, 4096, NULL },
  { "mac", BANGER_PARAM_STRING, FALSE, 17, 17, validate_mac },
  { "tap", BANGER_PARAM_BOOL, FALSE, 0, 0, NULL },
  { "accel", BANGER_PARAM_STRING, FALSE, 3, 3, validate_accel },
  { "mem_mib", BANGER_PARAM_INT, FALSE, BANGER_VM_MEM_MIB_MIN, BANGER_VM_MEM_MIB_MAX, NULL },
  { "vcpus", BANGER_PARAM_INT, FALSE, BANGER_VM_VCPUS_MIN, BANGER_VM_VCPUS_MAX, NULL },
  /* start with -incoming defer: a snapshot restore (doc/vmm.md) */
  { "incoming", BANGER_PARAM_BOOL, FALSE, 0, 0, NULL },
  /* Firecracker under the jailer only (ignored without one): the VM's files,
   * bind-mounted into its jail (banger-jail-mounts.c) */
  { "jail_kernel", BANGER_PARAM_STRING, FALSE, 2, 4095, banger_priv_validate_abs_path },
  { "jail_initrd", BANGER_PARAM_STRING, FALSE, 2, 4095, banger_priv_validate_abs_path },
  { "jail_disk_rootfs", BANGER_PARAM_STRING, FALSE, 2, 4095, banger_priv_validate_abs_path },
  { "jail_disk_rootfs_rw", BANGER_PARAM_BOOL, FALSE, 0, 0, NULL },
  { "jail_disk_work", BANGER_PARAM_STRING, FALSE, 2, 4095, banger_priv_validate_abs_path },
  { "jail_disk_work_rw", BANGER_PARAM_BOOL, FALSE, 0, 0, NULL },
  { "jail_disk_seed", BANGER_PARAM_STRING, FALSE, 2, 4095, banger_priv_validate_abs_path },
  { "jail_disk_seed_rw", BANGER_PARAM_BOOL, FALSE, 0, 0, NULL },
  { "jail_restore_state", BANGER_PARAM_STRING, FALSE, 2, 4095, banger_priv_validate_abs_path },
  { "jail_restore_mem", BANGER_PARAM_STRING, FALSE, 2, 4095, banger_priv_validate_abs_path },
  { NULL },
};

static const char *const qemu_only[] = { "kernel", "initrd", "rootfs", "rootfs_read_only",
                                         "work_disk", "work_disk_read_only", "boot_args", "mac",
                                         "tap", "accel", "mem_mib", "vcpus", "incoming",
                                         NULL };

/* A failed launch takes its jail, and the bind mounts in it, away. */
static void
undo_jail (BangerPrivState *state, const char *vm_id)
{
  g_autofree char *jail_rel = banger_vm_helper_jail_relative (state->firecracker_path, vm_id);
  gboolean removed;

  banger_priv_remove_jail_tree (state->runtime_dir, jail_rel, &removed, NULL);
}

static gboolean
check_config_binary (const char *what, const char *path, GError **error)
{
  if (path == NULL || path[0] != '/')
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_UNSUPPORTED,
                   "No %s binary is configured in the install config", what);
      return FALSE;
    }
  return TRUE;
}

/* Disk files the client names: absolute, clean, under the state dir (the
 * builder escapes ',' in option values, so any file name is safe there). */
static gboolean
check_disk_path (BangerPrivState *state, const char *what, const char *path, GError **error)
{
  g_autofree char *q = banger_quote (path);

  if (path == NULL)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   "QEMU needs the parameter '%s'", what);
      return FALSE;
    }
  if (!banger_priv_validate_abs_path (path, error))
    return FALSE;
  if (state->state_dir == NULL || !banger_path_is_under (path, state->state_dir))
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_PERMISSION_DENIED,
                   "The %s '%s' is not under banger's state directory", what, q);
      return FALSE;
    }
  return TRUE;
}

/* The rootfs: a file under the state dir, or the VM's own dm-snapshot
 * device (named from its id, with banger's UUID: doc/disks.md). */
static gboolean
check_rootfs_path (BangerPrivState *state, const char *vm_id, const char *path, GError **error)
{
  g_autofree char *dm = path != NULL && g_str_has_prefix (path, "/dev/")
                            ? banger_dm_own_device (state, vm_id)
                            : NULL;

  if (dm != NULL && g_str_equal (dm, path))
    return TRUE;
  return check_disk_path (state, "rootfs", path, error);
}

/* Firecracker, through the jailer when the install config names one (its
 * --parent-cgroup is the VM's scope, so the jailer moves itself there and
 * makes no cgroup of its own), else directly with its socket in the run
 * dir.  No --new-pid-ns: the pidfd taken at clone must stay Firecracker's
 * (the jailer execs it in place). */
GStrv
banger_host_launch_firecracker_argv (BangerPrivState *state, const char *vm_id,
                                     const char *scope_rel, char **out_api_sock, GError **error)
{
  g_auto (GStrv) argv = NULL;

  if (!check_config_binary ("firecracker", state->firecracker_path, error))
    return NULL;
  if (state->jailer_path != NULL)
    {
      g_autofree char *base = banger_vm_jail_base (state->runtime_dir);
      g_autofree char *root = NULL;
      g_autoptr (BangerFcJailerConfig) j = NULL;

      if (!check_config_binary ("jailer", state->jailer_path, error))
        return NULL;
      j = banger_fc_jailer_config_new (state->jailer_path, base, state->owner_uid,
                                       state->owner_gid);
      j->parent_cgroup = g_strdup (scope_rel[0] == '/' ? scope_rel + 1 : scope_rel);
      argv = banger_firecracker_cmdline_build (state->firecracker_path, vm_id,
                                               "/" BANGER_VM_API_SOCK_NAME, j, error);
      if (argv == NULL)
        return NULL;
      root = banger_vm_jail_root (base, state->firecracker_path, vm_id);
      *out_api_sock = g_build_filename (root, BANGER_VM_API_SOCK_NAME, NULL);
    }
  else
    {
      g_autofree char *run = banger_vm_run_dir (state->runtime_dir, vm_id);
      g_autofree char *sock = g_build_filename (run, BANGER_VM_API_SOCK_NAME, NULL);

      argv = banger_firecracker_cmdline_build (state->firecracker_path, vm_id, sock, NULL, error);
      if (argv == NULL)
        return NULL;
      *out_api_sock = g_steal_pointer (&sock);
    }
  return g_steal_pointer (&argv);
}

GStrv
banger_host_launch_qemu_argv (BangerPrivState *state, const char *vm_id, JsonObject *params,
                              const char *tap, char **out_qmp_sock, char **out_console,
                              GError **error)
{
  const char *kernel = banger_priv_param_string (params, "kernel");
  const char *initrd = banger_priv_param_string (params, "initrd");
  const char *rootfs = banger_priv_param_string (params, "rootfs");
  const char *work = banger_priv_param_string (params, "work_disk");
  const char *accel = banger_priv_param_string (params, "accel");
  g_autofree char *run = banger_vm_run_dir (state->runtime_dir, vm_id);
  g_autofree char *qmp = g_build_filename (run, BANGER_VM_QMP_SOCK_NAME, NULL);
  g_autofree char *console = g_build_filename (run, BANGER_VM_CONSOLE_NAME, NULL);
  BangerQemuDisk disks[2];
  BangerQemuCmdline c = { 0 };
  g_auto (GStrv) argv = NULL;

  if (!check_config_binary ("qemu", state->qemu_path, error)
      || !check_disk_path (state, "kernel", kernel, error)
      || !check_rootfs_path (state, vm_id, rootfs, error)
      || (initrd && !check_disk_path (state, "initrd", initrd, error))
      || (work && !check_disk_path (state, "work_disk", work, error)))
    return NULL;
  disks[0] = (BangerQemuDisk) { "rootfs", rootfs,
                                banger_priv_param_bool (params, "rootfs_read_only", FALSE) };
  disks[1] = (BangerQemuDisk) { "work", work,
                                banger_priv_param_bool (params, "work_disk_read_only", FALSE) };
  c.binary = state->qemu_path;
  c.vm_id = vm_id;
  c.accel = accel ? accel : "tcg";
  c.vcpus = banger_priv_param_int (params, "vcpus", 1);
  c.mem_mib = banger_priv_param_int (params, "mem_mib", 256);
  c.kernel = kernel;
  c.initrd = initrd;
  c.boot_args = banger_priv_param_string (params, "boot_args");
  c.disks = disks;
  c.n_disks = work ? 2 : 1;
  c.tap = tap != NULL;
  c.mac = banger_priv_param_string (params, "mac");
  c.qmp_socket = qmp;
  c.console_log = console;
  c.incoming = banger_priv_param_bool (params, "incoming", FALSE);
  argv = banger_qemu_cmdline_build (&c, error);
  if (argv == NULL)
    return NULL;
  *out_qmp_sock = g_steal_pointer (&qmp);
  *out_console = g_steal_pointer (&console);
  return g_steal_pointer (&argv);
}

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
  g_autofree char *console = NULL;
  g_autofree char *jail_root = NULL;
  g_auto (GStrv) argv = NULL;
  guint64 start_time = 0;
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
      argv = banger_host_launch_firecracker_argv (state, vm_id, scope_rel, &api_sock, error);
      if (argv != NULL && state->jailer_path != NULL)
        {
          g_autofree char *base = banger_vm_jail_base (state->runtime_dir);
          jail_root = banger_vm_jail_root (base, state->firecracker_path, vm_id);
        }
    }
  else
    {
      for (const char *const *k = banger_jail_mount_params; *k; k++)
        if (json_object_has_member (params, *k))
          {
            g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                         "The parameter '%s' is for Firecracker only", *k);
            return FALSE;
          }
      if (banger_priv_param_bool (params, "tap", FALSE))
        {
          tap = banger_host_tap_name_for (state->install_id, vm_id, error);
          if (tap == NULL)
            return FALSE;
        }
      argv = banger_host_launch_qemu_argv (state, vm_id, params, tap, &api_sock, &console,
                                           error);
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
  run_rel = banger_vm_run_dir_relative (vm_id);
  run_fd = banger_priv_ensure_dir (state->runtime_dir, run_rel, 0700, state->owner_uid,
                                   state->owner_gid, error);
  if (run_fd < 0)
    {
      rmdir (cgroup);
      return FALSE;
    }
  if (state->jailer_path != NULL && g_str_equal (kind, "firecracker"))
    {
      g_autofree char *jail_rel = banger_vm_helper_jail_relative (state->firecracker_path, vm_id);
      g_autofree char *root_rel = g_build_filename (jail_rel, "root", NULL);
      gboolean removed;
      gboolean staged;
      int jfd = banger_priv_ensure_dir (state->runtime_dir, "jail", 0755, 0, 0, error);
      int root_fd;

      /* The jailer never cleans up, and a stale jail makes it fail: remove
       * this VM's old one (fd-based, no symlink followed, its mounts
       * detached, never crossed). */
      if (jfd < 0 || !banger_priv_remove_jail_tree (state->runtime_dir, jail_rel, &removed, error))
        {
          if (jfd >= 0)
            close (jfd);
          close (run_fd);
          rmdir (cgroup);
          return FALSE;
        }
      close (jfd);
      /* A fresh jail root of root's, the VM's files bind-mounted into it
       * (the jailer hands the root to the owner and carries the mounts
       * into its chroot): works across filesystems, unlike a hard link. */
      root_fd = banger_priv_ensure_dir (state->runtime_dir, root_rel, 0755, 0, 0, error);
      staged = root_fd >= 0 && banger_jail_mounts_stage (state, root_fd, params, error);
      if (root_fd >= 0)
        close (root_fd);
      if (!staged)
        {
          undo_jail (state, vm_id);
          close (run_fd);
          rmdir (cgroup);
          return FALSE;
        }
    }
  /* A socket left by a previous run would make the VMM refuse to start. */
  unlinkat (run_fd, BANGER_VM_API_SOCK_NAME, 0);
  unlinkat (run_fd, BANGER_VM_QMP_SOCK_NAME, 0);
  /* The run dir is the owner's: whatever is at vmm.log now (a hard link to
   * root's file, a FIFO, a device node) is unlinked, never opened, and the
   * log is created fresh (banger-priv-files.c). */
  log_fd = banger_priv_create_fresh (run_fd, BANGER_VM_LOG_NAME, O_WRONLY | O_APPEND, 0600,
                                     state->owner_uid, state->owner_gid, error);
  close (run_fd);
  if (log_fd < 0)
    {
      if (jail_root != NULL)
        undo_jail (state, vm_id);
      rmdir (cgroup);
      return FALSE;
    }
  run_dir = banger_vm_run_dir (state->runtime_dir, vm_id);
  log_path = g_build_filename (run_dir, BANGER_VM_LOG_NAME, NULL);

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
      /* Only this install's tap: it must exist, be a tun device owned by
       * the owner uid and carry banger's marker. */
      g_auto (BangerLinkInfo) info = { 0 };
      gboolean is_tap = banger_netlink_get_link (tap, &info, error)
                        && banger_priv_check_own_tap (state, vm_id, tap, &info, error);

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
      if (jail_root != NULL)
        undo_jail (state, vm_id);
      rmdir (cgroup); /* empty: the failed child was killed and reaped */
      return FALSE;
    }
  close (log_fd);
  if (spec.pass_fd >= 0)
    close (spec.pass_fd);
  /* Our child, not reaped before the registry's reaper sees it: the pid
   * cannot be recycled while we read who it is. */
  if (!banger_proc_start_time (pid, &start_time, error))
    {
      banger_pidfd_send_signal (pidfd, SIGKILL);
      if (banger_pidfd_wait_exit (pidfd, 2000))
        banger_pidfd_reap_if_exited (pidfd, NULL);
      close (pidfd);
      if (jail_root != NULL)
        undo_jail (state, vm_id);
      rmdir (cgroup);
      return FALSE;
    }

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
  banger_priv_result_int (result, "start_time", (gint64) start_time);
  banger_priv_result_string (result, "api_sock", api_sock);
  banger_priv_result_string (result, "cgroup", cgroup);
  banger_priv_result_string (result, "log", log_path);
  if (console != NULL)
    banger_priv_result_string (result, "console", console);
  /* jailed: the client stages the VM's files into the jail root once the
   * jailer has handed it to the owner (doc/host.md) */
  if (jail_root != NULL)
    banger_priv_result_string (result, "jail_root", jail_root);
  return TRUE;
}
