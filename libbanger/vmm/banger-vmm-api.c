/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The public face of BangerVmm (banger-vmm.h): the constructors of the two
 * drivers over a public BangerMachineConfig, the calls that convert to
 * public value types, and the documentation of every public call (the calls
 * themselves are in banger-vmm.c, which the drivers share). */
#include "config.h"

#include "banger-error.h"
#include "banger-machine-config-private.h"
#include "banger-machine-stats-private.h"
#include "banger-vmm-firecracker.h"
#include "banger-vmm-qemu.h"

/**
 * BangerVmm:
 *
 * One VMM process and the guest in it: what firecracker-go-sdk's `Machine`
 * is to Go programs.  Made by a driver constructor —
 * banger_vmm_new_qemu() (QEMU's `microvm` machine, over QMP) or
 * banger_vmm_new_firecracker() (Firecracker, over its HTTP API) — from a
 * #BangerMachineConfig, then driven through one life:
 *
 * prepare → launch (the process, %BANGER_VMM_STATE_LAUNCHED) → configure →
 * start (%BANGER_VMM_STATE_RUNNING) ⇄ pause/resume → stop (the graceful
 * ladder) or kill → %BANGER_VMM_STATE_EXITED.  A paused guest can be
 * snapshotted; a freshly launched process can load a snapshot.
 *
 * The process is started directly by this process (the default,
 * banger_vmm_set_direct_launch()) or through a privileged backend
 * (banger_vmm_set_backend_launch(): bangerd-root or the in-process
 * validating executor), which then owns its run directory, cgroup and
 * tap.  Every operation that waits is an `_async`/`_finish` pair completing
 * in the thread-default main context of the call, with a blocking form for
 * programs without a main loop.  A refusal by the VMM itself is
 * %BANGER_ERROR_VMM carrying the VMM's own words.
 *
 * Since: 0.2
 */

static BangerVmmConfig *
driver_config (BangerMachineConfig *config, GError **error)
{
  if (!banger_machine_config_seal (config, error))
    return NULL;
  return banger_machine_config_to_vmm_config (config);
}

/**
 * banger_vmm_new_qemu:
 * @config: the machine; sealed here if it is not yet
 * @qemu_binary: (nullable) (type filename): `qemu-system-x86_64` to run, or
 *   %NULL for `$BANGER_QEMU`, else the one in `PATH` (through a privileged
 *   backend, the backend's own binary runs)
 * @accel: the accelerator
 * @error: return location for a #GError
 *
 * A VMM of the QEMU driver: `qemu-system-x86_64 -M microvm`, the root disk
 * first, at most one network interface (its tap handed to QEMU as an open
 * descriptor), serial console to a log file, QMP on a socket in the run
 * directory.
 *
 * Returns: (transfer full): a new #BangerVmm, or %NULL with
 *   %BANGER_ERROR_INVALID_ARGUMENT when @config does not seal
 *
 * Since: 0.2
 */
BangerVmm *
banger_vmm_new_qemu (BangerMachineConfig *config, const char *qemu_binary, BangerQemuAccel accel,
                     GError **error)
{
  BangerVmmConfig *c;
  BangerVmm *vmm;

  g_return_val_if_fail (config != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);
  if ((guint) accel > BANGER_QEMU_ACCEL_TCG)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   "Unknown QEMU accelerator %d", (int) accel);
      return NULL;
    }
  c = driver_config (config, error);
  if (c == NULL)
    return NULL;
  vmm = banger_vmm_qemu_new (c);
  if (qemu_binary != NULL)
    banger_vmm_qemu_set_binary (BANGER_VMM_QEMU (vmm), qemu_binary);
  banger_vmm_qemu_set_accel (BANGER_VMM_QEMU (vmm), accel);
  return vmm;
}

/**
 * banger_vmm_new_firecracker:
 * @config: the machine; sealed here if it is not yet
 * @firecracker_path: (nullable) (type filename): the `firecracker` binary
 *   (absolute), or %NULL for the one in `PATH` (through a privileged
 *   backend, the backend's own binary runs, jailed when its install
 *   config names a jailer)
 * @error: return location for a #GError
 *
 * A VMM of the Firecracker driver: configured over Firecracker's HTTP API
 * on a unix socket in the run directory.
 *
 * Returns: (transfer full): a new #BangerVmm, or %NULL with
 *   %BANGER_ERROR_INVALID_ARGUMENT when @config does not seal or the path
 *   is relative, %BANGER_ERROR_NOT_FOUND when there is no binary
 *
 * Since: 0.2
 */
BangerVmm *
banger_vmm_new_firecracker (BangerMachineConfig *config, const char *firecracker_path,
                            GError **error)
{
  g_autofree char *found = NULL;
  BangerVmmConfig *c;

  g_return_val_if_fail (config != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);
  if (firecracker_path == NULL)
    {
      found = g_find_program_in_path ("firecracker");
      if (found == NULL)
        {
          g_set_error_literal (error, BANGER_ERROR, BANGER_ERROR_NOT_FOUND,
                               "No firecracker binary in PATH");
          return NULL;
        }
      firecracker_path = found;
    }
  if (!g_path_is_absolute (firecracker_path))
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   "The firecracker binary '%s' is not an absolute path", firecracker_path);
      return NULL;
    }
  c = driver_config (config, error);
  if (c == NULL)
    return NULL;
  return banger_vmm_firecracker_new (c, firecracker_path);
}

/**
 * banger_vmm_get_driver_name:
 * @self: a #BangerVmm
 *
 * Returns: `qemu` or `firecracker`
 *
 * Since: 0.2
 */
const char *
banger_vmm_get_driver_name (BangerVmm *self)
{
  g_return_val_if_fail (BANGER_IS_VMM (self), NULL);
  return BANGER_VMM_GET_CLASS (self)->driver_name;
}

/**
 * banger_vmm_set_direct_launch:
 * @self: a #BangerVmm, not launched yet
 *
 * Start the VMM process from this process (the default): this process must
 * be allowed to — open the VM's tap, read its kernel and disks.  The
 * process gets a pidfd from its clone; the run directory is the config's.
 * See banger_vmm_set_backend_launch() for the other choice.
 *
 * Since: 0.2
 */
void
banger_vmm_set_direct_launch (BangerVmm *self)
{
  g_return_if_fail (BANGER_IS_VMM (self));
  banger_vmm_set_launcher (self, banger_vmm_launcher_direct ());
  g_object_set_data (G_OBJECT (self), "banger-launch-backend", NULL);
}

/**
 * banger_vmm_set_incoming:
 * @self: a #BangerVmm, not launched yet
 * @incoming: whether the process is launched to receive a snapshot
 *
 * Launch the process ready for banger_vmm_snapshot_load_async() instead of
 * a boot: QEMU starts with `-incoming defer` (and the config's tap, which
 * replaces the snapshot's); Firecracker needs nothing — any freshly
 * launched process takes a snapshot load — and ignores this.
 *
 * Since: 0.2
 */
void
banger_vmm_set_incoming (BangerVmm *self, gboolean incoming)
{
  g_return_if_fail (BANGER_IS_VMM (self));
  if (BANGER_IS_VMM_QEMU (self))
    banger_vmm_qemu_set_incoming (BANGER_VMM_QEMU (self), incoming);
}

/**
 * banger_vmm_get_console_log:
 * @self: a #BangerVmm
 *
 * Where the guest's serial console is written: QEMU's console log (after
 * prepare; after launch through a backend, in the backend's run
 * directory), Firecracker's standard output file.
 *
 * Returns: (nullable) (type filename): the file, %NULL before prepare
 *
 * Since: 0.2
 */
const char *
banger_vmm_get_console_log (BangerVmm *self)
{
  g_return_val_if_fail (BANGER_IS_VMM (self), NULL);
  if (BANGER_IS_VMM_QEMU (self))
    return banger_vmm_qemu_get_console_log (BANGER_VMM_QEMU (self));
  if (BANGER_IS_VMM_FIRECRACKER (self))
    return banger_vmm_firecracker_get_output_path (BANGER_VMM_FIRECRACKER (self));
  return NULL;
}

/**
 * banger_vmm_get_stats:
 * @self: a launched #BangerVmm
 * @error: return location for a #GError
 *
 * Reads the process's CPU time and resident memory from `/proc`, and the
 * guest's network and disk bytes where the driver has them.
 *
 * Returns: (transfer full): the figures, or %NULL with the error
 *   (%BANGER_ERROR_NOT_FOUND once the process is gone)
 *
 * Since: 0.2
 */
BangerMachineStats *
banger_vmm_get_stats (BangerVmm *self, GError **error)
{
  BangerVmmStats stats = { 0 };

  g_return_val_if_fail (BANGER_IS_VMM (self), NULL);
  if (!banger_vmm_read_stats (self, &stats, error))
    return NULL;
  return banger_machine_stats_new (&stats);
}

/* ----------------------------------- documentation of the calls in banger-vmm.c */

/**
 * banger_vmm_state_to_string:
 * @state: a #BangerVmmState
 *
 * Returns: the state's name (`new`, `prepared`, `launched`, `configured`,
 *   `running`, `paused`, `exited`), `unknown` out of range
 *
 * Since: 0.2
 */

/**
 * banger_vmm_get_state:
 * @self: a #BangerVmm
 *
 * Returns: where @self is in its life (as last seen; see
 *   banger_vmm_refresh_state_async())
 *
 * Since: 0.2
 */

/**
 * banger_vmm_get_pid:
 * @self: a #BangerVmm
 *
 * Returns: the VMM process, 0 before launch
 *
 * Since: 0.2
 */

/**
 * banger_vmm_get_api_socket:
 * @self: a #BangerVmm
 *
 * Returns: (nullable) (type filename): the API (Firecracker) or QMP (QEMU)
 *   socket, %NULL before prepare
 *
 * Since: 0.2
 */

/**
 * banger_vmm_set_stop_timeout:
 * @self: a #BangerVmm
 * @seconds: how long each rung of the stop ladder waits
 *
 * The stop ladder asks the guest to power off (Ctrl-Alt-Del or the power
 * button), waits @seconds, sends TERM, waits @seconds, then KILL.
 * Default 5.
 *
 * Since: 0.2
 */

/**
 * banger_vmm_get_stop_timeout:
 * @self: a #BangerVmm
 *
 * Returns: the stop ladder's wait per rung, in seconds
 *
 * Since: 0.2
 */

/**
 * banger_vmm_get_stop_method:
 * @self: a #BangerVmm
 *
 * Returns: (nullable): how the last stop or kill ended the process: the
 *   driver's polite rung (`ctrl-alt-del`, `powerdown`, `quit`), `term`,
 *   `kill` or `already-exited`; %NULL before a stop
 *
 * Since: 0.2
 */

/**
 * banger_vmm_has_exited:
 * @self: a #BangerVmm
 *
 * Does not block.
 *
 * Returns: whether the process has exited (reaping it when it is this
 *   process's child)
 *
 * Since: 0.2
 */

/**
 * banger_vmm_prepare:
 * @self: a new #BangerVmm
 * @error: return location for a #GError
 *
 * Chooses the sockets and files in the run directory and checks the
 * command line builds; no process yet.  %BANGER_VMM_STATE_PREPARED.
 *
 * Returns: %TRUE, or %FALSE with the error
 *
 * Since: 0.2
 */

/**
 * banger_vmm_kill:
 * @self: a #BangerVmm
 * @error: return location for a #GError
 *
 * SIGKILL through the pidfd (never a recycled pid), then waits for the
 * process.  %BANGER_VMM_STATE_EXITED.
 *
 * Returns: %TRUE, or %FALSE with the error
 *
 * Since: 0.2
 */

/**
 * banger_vmm_launch_async:
 * @self: a #BangerVmm
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when done
 * @user_data: data for @callback
 *
 * Starts the VMM process through the launcher (direct or a privileged backend) and waits, bounded, until its API answers: %BANGER_VMM_STATE_LAUNCHED.  A process that dies first is reported with its log.
 *
 * Since: 0.2
 */

/**
 * banger_vmm_launch_finish:
 * @self: a #BangerVmm
 * @result: the #GAsyncResult of banger_vmm_launch_async()
 * @error: return location for a #GError
 *
 * Returns: %TRUE, or %FALSE with the error
 *
 * Since: 0.2
 */

/**
 * banger_vmm_launch:
 * @self: a #BangerVmm
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * The blocking form of banger_vmm_launch_async() (it runs on a main context
 * of @self's own).
 *
 * Returns: %TRUE, or %FALSE with the error
 *
 * Since: 0.2
 */

/**
 * banger_vmm_configure_async:
 * @self: a #BangerVmm
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when done
 * @user_data: data for @callback
 *
 * Sends the pre-boot configuration (Firecracker: machine, boot source, drives, interfaces; QEMU: nothing, its command line did it): %BANGER_VMM_STATE_CONFIGURED.
 *
 * Since: 0.2
 */

/**
 * banger_vmm_configure_finish:
 * @self: a #BangerVmm
 * @result: the #GAsyncResult of banger_vmm_configure_async()
 * @error: return location for a #GError
 *
 * Returns: %TRUE, or %FALSE with the error
 *
 * Since: 0.2
 */

/**
 * banger_vmm_configure:
 * @self: a #BangerVmm
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * The blocking form of banger_vmm_configure_async() (it runs on a main context
 * of @self's own).
 *
 * Returns: %TRUE, or %FALSE with the error
 *
 * Since: 0.2
 */

/**
 * banger_vmm_start_async:
 * @self: a #BangerVmm
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when done
 * @user_data: data for @callback
 *
 * Boots the guest (Firecracker InstanceStart, QEMU `cont`): %BANGER_VMM_STATE_RUNNING.
 *
 * Since: 0.2
 */

/**
 * banger_vmm_start_finish:
 * @self: a #BangerVmm
 * @result: the #GAsyncResult of banger_vmm_start_async()
 * @error: return location for a #GError
 *
 * Returns: %TRUE, or %FALSE with the error
 *
 * Since: 0.2
 */

/**
 * banger_vmm_start:
 * @self: a #BangerVmm
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * The blocking form of banger_vmm_start_async() (it runs on a main context
 * of @self's own).
 *
 * Returns: %TRUE, or %FALSE with the error
 *
 * Since: 0.2
 */

/**
 * banger_vmm_pause_async:
 * @self: a #BangerVmm
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when done
 * @user_data: data for @callback
 *
 * Pauses the guest's vCPUs: %BANGER_VMM_STATE_PAUSED.
 *
 * Since: 0.2
 */

/**
 * banger_vmm_pause_finish:
 * @self: a #BangerVmm
 * @result: the #GAsyncResult of banger_vmm_pause_async()
 * @error: return location for a #GError
 *
 * Returns: %TRUE, or %FALSE with the error
 *
 * Since: 0.2
 */

/**
 * banger_vmm_pause:
 * @self: a #BangerVmm
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * The blocking form of banger_vmm_pause_async() (it runs on a main context
 * of @self's own).
 *
 * Returns: %TRUE, or %FALSE with the error
 *
 * Since: 0.2
 */

/**
 * banger_vmm_resume_async:
 * @self: a #BangerVmm
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when done
 * @user_data: data for @callback
 *
 * Resumes a paused guest: %BANGER_VMM_STATE_RUNNING.
 *
 * Since: 0.2
 */

/**
 * banger_vmm_resume_finish:
 * @self: a #BangerVmm
 * @result: the #GAsyncResult of banger_vmm_resume_async()
 * @error: return location for a #GError
 *
 * Returns: %TRUE, or %FALSE with the error
 *
 * Since: 0.2
 */

/**
 * banger_vmm_resume:
 * @self: a #BangerVmm
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * The blocking form of banger_vmm_resume_async() (it runs on a main context
 * of @self's own).
 *
 * Returns: %TRUE, or %FALSE with the error
 *
 * Since: 0.2
 */

/**
 * banger_vmm_stop_async:
 * @self: a #BangerVmm
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when done
 * @user_data: data for @callback
 *
 * The stop ladder, bounded by the stop timeout (banger_vmm_set_stop_timeout()): the guest is asked to power off, then the process gets TERM, then KILL; @cancellable is not honoured once the ladder runs.  %BANGER_VMM_STATE_EXITED; banger_vmm_get_stop_method() says which rung ended it.
 *
 * Since: 0.2
 */

/**
 * banger_vmm_stop_finish:
 * @self: a #BangerVmm
 * @result: the #GAsyncResult of banger_vmm_stop_async()
 * @error: return location for a #GError
 *
 * Returns: %TRUE, or %FALSE with the error
 *
 * Since: 0.2
 */

/**
 * banger_vmm_stop:
 * @self: a #BangerVmm
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * The blocking form of banger_vmm_stop_async() (it runs on a main context
 * of @self's own).
 *
 * Returns: %TRUE, or %FALSE with the error
 *
 * Since: 0.2
 */

/**
 * banger_vmm_refresh_state_async:
 * @self: a #BangerVmm
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when done
 * @user_data: data for @callback
 *
 * Asks the VMM what state the guest is in and updates banger_vmm_get_state().
 *
 * Since: 0.2
 */

/**
 * banger_vmm_refresh_state_finish:
 * @self: a #BangerVmm
 * @result: the #GAsyncResult of banger_vmm_refresh_state_async()
 * @error: return location for a #GError
 *
 * Returns: %TRUE, or %FALSE with the error
 *
 * Since: 0.2
 */

/**
 * banger_vmm_refresh_state:
 * @self: a #BangerVmm
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * The blocking form of banger_vmm_refresh_state_async() (it runs on a main context
 * of @self's own).
 *
 * Returns: %TRUE, or %FALSE with the error
 *
 * Since: 0.2
 */

/**
 * BangerVmm::snapshot-progress:
 * @self: the #BangerVmm
 * @bytes_done: bytes of guest memory written (or read back) so far
 * @bytes_total: the whole: the guest's memory (a load: the snapshot file)
 *
 * Emitted while banger_vmm_snapshot_create_async() or
 * banger_vmm_snapshot_load_async() runs, in the thread-default main
 * context of that call (the blocking forms: the calling thread), with
 * @bytes_done never going down, and once with @bytes_done equal to
 * @bytes_total when the memory is whole.  Where the figures come from is
 * the driver's: QEMU asks `query-migrate` (RAM total less remaining) while
 * it writes, and reads the stream's offset while it loads; Firecracker,
 * whose snapshot is one synchronous request, has the memory file's
 * allocated bytes (stat while the request runs) when it writes, and
 * nothing while it loads (its memory file is mapped, not read).
 *
 * Since: 0.2
 */

/**
 * banger_vmm_snapshot_create_async:
 * @self: a #BangerVmm
 * @snapshot_path: (type filename): where the snapshot (device state; for
 *   QEMU the whole migration stream) is written
 * @mem_path: (type filename): where guest memory is written (Firecracker;
 *   QEMU does not use it)
 * @diff: a Diff snapshot of the pages dirtied since the last one
 *   (Firecracker with dirty-page tracking), else Full
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when done
 * @user_data: data for @callback
 *
 * Writes a snapshot of a paused (QEMU: running or paused) guest.  The disks are the caller's to copy.  The state is unchanged.
 *
 * Since: 0.2
 */

/**
 * banger_vmm_snapshot_create_finish:
 * @self: a #BangerVmm
 * @result: the #GAsyncResult of banger_vmm_snapshot_create_async()
 * @error: return location for a #GError
 *
 * Returns: %TRUE, or %FALSE with the error
 *
 * Since: 0.2
 */

/**
 * banger_vmm_snapshot_create:
 * @self: a #BangerVmm
 * @snapshot_path: (type filename): where the snapshot (device state; for
 *   QEMU the whole migration stream) is written
 * @mem_path: (type filename): where guest memory is written (Firecracker;
 *   QEMU does not use it)
 * @diff: a Diff snapshot of the pages dirtied since the last one
 *   (Firecracker with dirty-page tracking), else Full
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * The blocking form of banger_vmm_snapshot_create_async().
 *
 * Returns: %TRUE, or %FALSE with the error
 *
 * Since: 0.2
 */

/**
 * banger_vmm_snapshot_load_async:
 * @self: a #BangerVmm
 * @snapshot_path: (type filename): the snapshot written by
 *   banger_vmm_snapshot_create_async()
 * @mem_path: (type filename): its memory file (Firecracker)
 * @resume: resume the guest once loaded
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when done
 * @user_data: data for @callback
 *
 * Loads a snapshot into a freshly launched, not configured process (QEMU: launched for an incoming migration): %BANGER_VMM_STATE_PAUSED, or %BANGER_VMM_STATE_RUNNING with @resume.  The config's network interfaces replace the snapshot's taps.
 *
 * Since: 0.2
 */

/**
 * banger_vmm_snapshot_load_finish:
 * @self: a #BangerVmm
 * @result: the #GAsyncResult of banger_vmm_snapshot_load_async()
 * @error: return location for a #GError
 *
 * Returns: %TRUE, or %FALSE with the error
 *
 * Since: 0.2
 */

/**
 * banger_vmm_snapshot_load:
 * @self: a #BangerVmm
 * @snapshot_path: (type filename): the snapshot written by
 *   banger_vmm_snapshot_create_async()
 * @mem_path: (type filename): its memory file (Firecracker)
 * @resume: resume the guest once loaded
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * The blocking form of banger_vmm_snapshot_load_async().
 *
 * Returns: %TRUE, or %FALSE with the error
 *
 * Since: 0.2
 */

/**
 * banger_vmm_wait_exit_async:
 * @self: a launched #BangerVmm
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the process has exited
 * @user_data: data for @callback
 *
 * Waits for the VMM process to exit (its pidfd becomes readable).
 *
 * Since: 0.2
 */

/**
 * banger_vmm_wait_exit_finish:
 * @self: a #BangerVmm
 * @result: the #GAsyncResult of banger_vmm_wait_exit_async()
 * @out_wait_status: (out) (optional): the wait status when the process was
 *   this process's child, else 0
 * @error: return location for a #GError
 *
 * Returns: %TRUE, or %FALSE with the error
 *
 * Since: 0.2
 */

/**
 * banger_vmm_wait_exit:
 * @self: a launched #BangerVmm
 * @cancellable: (nullable): a #GCancellable
 * @out_wait_status: (out) (optional): the wait status when the process was
 *   this process's child, else 0
 * @error: return location for a #GError
 *
 * The blocking form of banger_vmm_wait_exit_async().
 *
 * Returns: %TRUE, or %FALSE with the error
 *
 * Since: 0.2
 */
