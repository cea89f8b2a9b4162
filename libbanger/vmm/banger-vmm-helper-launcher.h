/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The launcher that starts a VMM through the root helper: the request
 * becomes the structured parameters of priv.launch_vmm (never an argv: the
 * helper builds the command line with the same builder the direct launcher
 * uses, from its install config and the VM's own names), and the reply's
 * pid becomes a pidfd this process holds:
 *
 *   priv.launch_vmm -> {pid, start_time, api_sock, log, console, cgroup}
 *   pidfd_open(pid), then /proc/<pid>/stat's start time must equal
 *   start_time (banger_pidfd_open_verified) — else NOT_FOUND.
 *
 * The helper reads start_time while it holds the VMM unreaped, so the pair
 * names exactly the process it launched.  The API/QMP socket, console and
 * log are in the helper's run dir (<runtime_dir>/vm/<vm_id>), reported in
 * BangerVmmLaunched.  Through the helper: QEMU with the root disk plus at
 * most one more disk and at most one NIC (the VM's own tap, made by
 * priv.create_tap; the NIC's tap name in the config is not sent, the helper
 * derives it from the VM id); Firecracker without a driver-side jailer (the
 * install config decides the jailer). */
#pragma once

#include "banger-vmm.h"

G_BEGIN_DECLS

/* A launcher calling the helper at @socket_path (one connection per launch,
 * so it may be used from any thread).  Free with
 * banger_vmm_helper_launcher_free(). */
BangerVmmLauncher *banger_vmm_helper_launcher_new (const char *socket_path);
/* The same over any privileged backend (the engine's: bangerd-root's
 * client, or the in-process executor): @call runs priv.launch_vmm with the
 * params and returns its result object (transfer full) or NULL with the
 * error.  @call_data must outlive the launcher. */
typedef JsonObject *(*BangerVmmHelperCallFunc) (gpointer call_data, const char *method,
                                                JsonObject *params, GError **error);
BangerVmmLauncher *banger_vmm_helper_launcher_new_for_call (BangerVmmHelperCallFunc call,
                                                            gpointer call_data);
void banger_vmm_helper_launcher_free (BangerVmmLauncher *launcher);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BangerVmmLauncher, banger_vmm_helper_launcher_free)

/* The priv.launch_vmm parameters for @request (exposed for the tests). */
JsonObject *banger_vmm_helper_launch_params (const BangerVmmLaunchRequest *request,
                                             GError **error);

G_END_DECLS
