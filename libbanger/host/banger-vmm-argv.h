/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The argv templates of priv.launch_vmm.  The client never supplies a flag:
 * it names the VM and, for QEMU, files under the state dir and sizes; every
 * flag and every path the helper owns (sockets, logs, jail) comes from here
 * and from the install config. */
#pragma once

#include "banger-priv-op.h"

G_BEGIN_DECLS

#define BANGER_VMM_API_SOCK_NAME "fc.sock"
#define BANGER_VMM_QMP_SOCK_NAME "qmp.sock"

/* <runtime_dir>/vm/<vm_id>: the per-VM run dir (direct Firecracker, QEMU). */
char *banger_vmm_run_dir (BangerPrivState *state, const char *vm_id);
/* <runtime_dir>/jail: the jailer's --chroot-base-dir. */
char *banger_vmm_jail_base (BangerPrivState *state);
/* <jail base>/<basename of firecracker>/<vm_id>: what the jailer builds. */
char *banger_vmm_jail_dir (BangerPrivState *state, const char *vm_id);

/* Firecracker, direct: firecracker --api-sock <run dir>/fc.sock --id <vm>.
 * Through the jailer (state->jailer_path set): jailer --id <vm> --exec-file
 * <firecracker> --uid <owner> --gid <owner> --cgroup-version 2
 * --parent-cgroup <banger.slice/banger-<vm>.scope relative to the cgroup2
 * mount> --chroot-base-dir <jail base> -- --api-sock /fc.sock.
 * @out_api_sock gets the socket's path as seen from the host. */
GStrv banger_vmm_firecracker_argv (BangerPrivState *state, const char *vm_id,
                                   const char *scope_relpath, char **out_api_sock,
                                   GError **error);

typedef struct
{
  const char *kernel;     /* required; all paths: plain, absolute, under state_dir, no ',' */
  const char *initrd;     /* nullable */
  const char *rootfs;     /* required */
  const char *work_disk;  /* nullable */
  const char *boot_args;  /* nullable; printable ASCII */
  const char *tap;        /* nullable: an ifname (banger_validate_ifname); QEMU gets it as
                           * an fd opened by the helper, passed as fd 3 */
  const char *mac;        /* nullable: "02:xx:xx:xx:xx:xx" */
  const char *accel;      /* "tcg" or "kvm" */
  gint64 mem_mib;
  gint64 vcpus;
} BangerQemuParams;

/* qemu-system-x86_64 -M microvm … with QMP at <run dir>/qmp.sock
 * (@out_qmp_sock) and the serial console into <run dir>/console.log. */
GStrv banger_vmm_qemu_argv (BangerPrivState *state, const char *vm_id,
                            const BangerQemuParams *p, char **out_qmp_sock, GError **error);

G_END_DECLS
