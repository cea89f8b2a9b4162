/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The test guest kit: everything the e2e test, the QEMU benchmark and the
 * demo share to boot tests/guest/ under the QEMU driver in a throwaway
 * network namespace and reach it over SSH.  Needs root (netns, tap).
 * Not part of the library. */
#pragma once

#include <glib.h>

#include "banger-vmm.h"

G_BEGIN_DECLS

/* The VM id (and hostname) of the kit's guest; its MAC derives from it. */
#define BANGER_KIT_VM_ID "banger-test"
/* The install id of the kit's helper: the kit's taps and VMs are this
 * install's, so a bangerd of another install in the same namespace (on
 * banger_kit_netns_add_helper) never takes them for its orphans. */
#define BANGER_KIT_INSTALL_ID "kit"

/* Run @argv (argv[0] looked up in PATH), capture stdout; on failure the
 * error carries stderr.  @out_stdout nullable. */
gboolean banger_kit_run (const char *const *argv, char **out_stdout, GError **error);

/* Build (or find in the cache) the guest: runs tests/guest/build-guest.sh
 * with $BANGER_GUEST_CACHE or tests/guest/cache.  Returns its directory
 * (vmlinuz, initrd.img, rootfs.ext4). */
char *banger_kit_build_guest (GError **error);

/* A network namespace with a bangerd-root running inside it: the VM's tap
 * is the helper's (priv.create_tap), and every VM of the kit is launched
 * through priv.launch_vmm (banger_vmm_helper_launcher_new) — the one launch
 * path the daemon uses.  The helper is the real binary, started with an
 * install config the kit writes: owner uid 65534 (an unprivileged owner:
 * QEMU runs as it), install id BANGER_KIT_INSTALL_ID, runtime and state
 * dirs under a scratch dir, a private cgroup root, the machine's
 * qemu-system-x86_64. */
typedef struct
{
  char *name;      /* the namespace */
  char *tap;       /* the VM's tap (banger_host_tap_name_for (BANGER_KIT_INSTALL_ID, vm_id)) */
  char *vm_id;     /* whose tap it is: BANGER_KIT_VM_ID, or banger_kit_netns_new_tap's */
  char *host_cidr; /* the tap's address in the namespace: "172.30.0.1/30" */
  char *host_ip;
  char *guest_ip;
  char *netmask;
  char *ip_path;
  /* the helper */
  char *dir;          /* scratch: install.conf, run/ (runtime dir), state/ */
  char *runtime_dir;
  char *state_dir;    /* VM files must be under it (the helper checks) */
  char *socket_path;
  char *cgroup_root;
  GSubprocess *helper;
  BangerVmmLauncher *launcher; /* priv.launch_vmm on socket_path */
  GPtrArray *helpers;          /* BangerKitHelper: banger_kit_netns_add_helper's */
} BangerKitNetns;

/* Another bangerd-root in the namespace, for a bangerd that a test or a
 * benchmark runs there: its own install id (not BANGER_KIT_INSTALL_ID),
 * nftables table, socket, runtime dir, state dir and cgroup root, the
 * kit's owner and binaries.  The daemon's reconcile then sees only its own install's host
 * objects, never the kit's tap (which it would remove as an orphan: a tap
 * of its install with no VM record). */
typedef struct
{
  char *install_id;
  char *dir;         /* <ns dir>/<install id>: install.conf, run/, state/ */
  char *runtime_dir; /* run/: the socket, VM run dirs */
  char *state_dir;   /* state/ (0755, root's): the daemon's state dir goes under it */
  char *socket_path;
  char *cgroup_root; /* a sibling of the kit's */
  char *nft_table;   /* banger_<install id>: the kit's is the default "banger" */
  GSubprocess *process;
} BangerKitHelper;

#define BANGER_KIT_OWNER_UID 65534
#define BANGER_KIT_OWNER_GID 65534

/* A namespace named <prefix>-<pid> with lo up, a bangerd-root inside it
 * (the binary: $BANGER_TEST_HELPER, else the one this build made; its
 * install config names $BANGER_KIT_FIRECRACKER as firecracker= when set), and the
 * VM's tap made by it, up, holding 172.30.0.1/30 (the guest gets .2). */
BangerKitNetns *banger_kit_netns_new (const char *prefix, GError **error);
/* Replace the tap: priv.cleanup_vm of the current VM id (its VMM, if
 * still there, is killed; its tap and run dir go), priv.create_tap
 * for @vm_id with the same address and the old tap's MAC (the restored
 * guest's ARP cache names it), the guest's neighbour entry on it.
 * The next VM booted or restored in @ns is @vm_id on that tap (its MAC
 * stays the kit's). */
gboolean banger_kit_netns_new_tap (BangerKitNetns *ns, const char *vm_id, GError **error);
/* Start a BangerKitHelper for install @install_id ([a-z0-9]{1,8}, not the
 * kit's) in @ns; it is ready when this returns.  Owned by @ns: stopped, and
 * its cgroup root removed, by banger_kit_netns_destroy. */
const BangerKitHelper *banger_kit_netns_add_helper (BangerKitNetns *ns, const char *install_id,
                                                    GError **error);
/* priv.cleanup_vm for the kit's VM, stop the helper, delete the namespace
 * (and the tap), the cgroup root and the scratch dir; free. */
gboolean banger_kit_netns_destroy (BangerKitNetns *ns, GError **error);
gboolean banger_kit_netns_exists (const char *name);

/* ssh-keygen an ed25519 key without passphrase at @path (+ ".pub"). */
gboolean banger_kit_make_ssh_key (const char *path, GError **error);
/* Put @pubkey_path into /root/.ssh/authorized_keys of the ext4 @image
 * without mounting it (debugfs). */
gboolean banger_kit_inject_key (const char *image, const char *pubkey_path, GError **error);
/* An ext4 image of @size_mib holding one file @name with @contents. */
gboolean banger_kit_make_disk (const char *image, guint size_mib, const char *name,
                               const char *contents, GError **error);

/* ssh root@guest @command inside the namespace; stdout in @out. */
gboolean banger_kit_ssh (BangerKitNetns *ns, const char *key, const char *command,
                         guint connect_timeout_s, char **out, GError **error);
/* Wait until the guest's SSH banner appears (probed every 20 ms from a
 * thread inside the namespace), then until `ssh … true` succeeds; bounded by
 * @timeout_ms. */
/* The SSH banner of @ip:22 in namespace @netns, probed every 20 ms (each
 * connect bounded by 200 ms) until it answers, @deadline_us (monotonic)
 * passes or *@stop (nullable) is set: the monotonic time it answered, or
 * 0.  Blocks; the probe runs in a thread of its own that joins @netns. */
gint64 banger_kit_probe_banner (const char *netns, const char *ip, gint64 deadline_us,
                                const gint *stop);
gboolean banger_kit_wait_ssh (BangerKitNetns *ns, const char *key, guint timeout_ms,
                              gint64 *out_banner_us, GError **error);

/* A booted guest. */
typedef struct
{
  char *dir;       /* scratch under the helper's state dir: kernel, initrd, disks, key */
  char *key;
  BangerVmm *vmm;
  double launch_to_ssh_s;    /* to the first successful `ssh … true` */
  double launch_to_banner_s; /* to the SSH banner on port 22 */
  double launch_to_running_s; /* to `start` (QMP cont) acknowledged */
  char *work;      /* the second disk's copy, or NULL */
  guint mem_mib;
} BangerKitVm;

/* Copy kernel, initrd and rootfs (and @work_disk, nullable, as the second
 * disk) under the helper's state dir, owned by the owner uid, inject a fresh
 * key, launch through the QEMU driver with the helper launcher (prepare,
 * launch, configure, start), and wait for SSH.  The time from the start of launch to the
 * first successful ssh is in launch_to_ssh_s. */
BangerKitVm *banger_kit_vm_boot (const char *guest_dir, BangerKitNetns *ns,
                                 const char *work_disk, GError **error);
/* The same with @mem_mib of guest memory (0: 256). */
BangerKitVm *banger_kit_vm_boot_sized (const char *guest_dir, BangerKitNetns *ns,
                                       const char *work_disk, guint mem_mib, GError **error);
/* A new QEMU process (-incoming defer, its own scratch dir and run dir,
 * a copy of @old's disks, @old's key) loading @snapshot (written by
 * banger_vmm_snapshot_create on @old, which must be gone or paused: its
 * tap is reattached), resumed; waits for SSH.  launch_to_ssh_s: from the
 * launch to the first successful ssh. */
BangerKitVm *banger_kit_vm_restore (BangerKitVm *old, BangerKitNetns *ns, const char *snapshot,
                                    GError **error);
/* Stop (the driver's graceful ladder), then remove the scratch dir. */
gboolean banger_kit_vm_stop (BangerKitVm *vm, GError **error);
void banger_kit_vm_free (BangerKitVm *vm);

G_END_DECLS
