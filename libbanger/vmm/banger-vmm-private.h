/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * BangerVmm's insides: the driver interface (the class struct), the
 * configuration struct the drivers read, launchers, and the calls only the
 * library, its tools and tests use.  The public half is banger-vmm.h (which
 * includes this file inside the library); drivers: BangerVmmFirecracker over
 * its HTTP API, BangerVmmQemu over QMP.
 *
 * Lifecycle: new (with a BangerVmmConfig) -> prepare (stage files, choose
 * sockets, build argv) -> launch (spawn through a BangerVmmLauncher) ->
 * configure (Firecracker: the pre-boot API calls; QEMU: nothing, argv did it)
 * -> start -> running <-> paused -> stop (graceful ladder) / kill -> exited.
 *
 * Every operation that waits is an _async/_finish pair with a GCancellable
 * (plus a blocking form for callers without a main loop), as in GIO.
 * Errors are BANGER_ERRORs; a refusal by the
 * VMM itself is BANGER_ERROR_VMM and carries the VMM's own words
 * (Firecracker's fault_message, QMP's desc). */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "banger-error.h"
#include "banger-vmm.h"
#include "banger-firecracker-cmdline.h"

G_BEGIN_DECLS

/* ------------------------------------------------------------------ config */

typedef struct
{
  char *id;          /* drive id: [A-Za-z0-9_]+ ("rootfs", "work") */
  char *path;        /* host path of the image */
  gboolean read_only;
  gboolean is_root;
} BangerVmmDrive;

typedef struct
{
  char *id;          /* interface id: [A-Za-z0-9_]+ ("eth0") */
  char *tap;         /* host tap name (banger_validate_ifname) */
  char *mac;         /* "02:xx:xx:xx:xx:xx"; NULL: banger_vmm_mac_for_vm() */
} BangerVmmNic;

typedef struct
{
  char *vm_id;          /* DNS label (banger_validate_vm_name) */
  char *run_dir;        /* per-VM directory: sockets, logs, staged files */
  char *kernel_path;
  char *initrd_path;    /* nullable */
  char *extra_boot_args;/* nullable; appended to the command line banger builds */
  guint vcpus;          /* banger-vm-limits.h */
  guint mem_mib;        /* banger-vm-limits.h */
  GPtrArray *drives;    /* BangerVmmDrive*, owned */
  GPtrArray *nics;      /* BangerVmmNic*, owned */
  /* Guest network, written into the ip= argument (the guest's init applies
   * it: Debian kernels lack CONFIG_IP_PNP).  All nullable. */
  char *guest_ip;
  char *gateway_ip;
  char *netmask;
  char *hostname;
  char *dns_ip;         /* the guest's resolver (ip= field 8, dns0): banger's responder */
  /* Firecracker extras, all optional. */
  guint vsock_cid;      /* 0: no vsock */
  guint balloon_mib;    /* 0: no balloon (unless balloon_device) */
  gboolean balloon_device; /* a balloon even at 0 MiB, to inflate later */
  gboolean entropy;
  JsonNode *mmds;       /* nullable: MMDS V2 data */
  /* A new field: copy it in banger_machine_config_to_vmm_config()
   * (banger-machine-config.c, the public BangerMachineConfig's way in), and
   * give it a public setter there if embedders need it. */
} BangerVmmConfig;

BangerVmmConfig *banger_vmm_config_new (const char *vm_id, const char *run_dir);
void banger_vmm_config_free (BangerVmmConfig *config);
void banger_vmm_config_add_drive (BangerVmmConfig *config, const char *id, const char *path,
                                  gboolean is_root, gboolean read_only);
void banger_vmm_config_add_nic (BangerVmmConfig *config, const char *id, const char *tap,
                                const char *mac);
/* Check everything a driver relies on (names, paths absolute, sizes). */
gboolean banger_vmm_config_validate (const BangerVmmConfig *config, GError **error);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BangerVmmConfig, banger_vmm_config_free)

/* The kernel command line banger builds: console, reboot=k panic=1, the
 * i8042 options that speed boot, ip=<client>::<gw>:<mask>:<hostname>:eth0:off
 * (+ ":<dns0>" when dns_ip is set) when guest_ip is set, then extra_boot_args.
 * @console is "ttyS0". */
char *banger_vmm_build_boot_args (const BangerVmmConfig *config, const char *console);

/* A stable, locally administered unicast MAC derived from the VM id and the
 * NIC index: "02:" + 5 bytes of SHA-256(vm_id + "/" + index). */
char *banger_vmm_mac_for_vm (const char *vm_id, guint nic_index);

/* ---------------------------------------------------------------- launcher */

/* What a driver asks a launcher to start: the VM (its configuration) and
 * the driver's choices, never an argv.  The direct launcher turns it into a
 * command line with the one builder of each VMM (launch/banger-qemu-cmdline.h,
 * launch/banger-firecracker-cmdline.h); the helper launcher turns it into
 * the structured parameters of priv.launch_vmm, and bangerd-root builds the
 * command line with the same builder. */
typedef struct
{
  const BangerVmmConfig *config;
  const char *driver;       /* "qemu" or "firecracker" */
  const char *binary;       /* the VMM (absolute); the helper uses its install config's */
  const char *log_path;     /* stdout+stderr (nullable); the helper uses <run dir>/vmm.log */
  /* QEMU */
  const char *accel;        /* "tcg" or "kvm" */
  const char *qmp_socket;   /* the helper puts it in its run dir (see BangerVmmLaunched) */
  const char *console_log;
  gboolean incoming;        /* start with -incoming defer (a snapshot restore) */
  /* Firecracker */
  const char *api_sock;     /* as Firecracker is told ("/fc.sock" inside a jail) */
  const BangerFcJailerConfig *jailer; /* nullable: direct */
  guint api_payload_limit;  /* --http-api-max-payload-size; 0: Firecracker's default */
  guint mmds_size_limit;    /* --mmds-size-limit; 0: Firecracker's default */
  const char *restore_state; /* nullable: a restore's snapshot files (a launcher */
  const char *restore_mem;   /* that makes the jail mounts them there) */
} BangerVmmLaunchRequest;

/* What a launcher started.  The pidfd names the process for good (taken at
 * clone, or verified against the helper's start time): later signals can
 * never hit a recycled pid.  The paths are set when the launcher chose them
 * (the helper's run dir), NULL when they are the request's. */
typedef struct
{
  GPid pid;
  int pidfd;
  char *api_socket;   /* the API or QMP socket to connect to */
  char *console_log;
  char *log_path;
  char *jail_root; /* Firecracker jailed by the launcher (bangerd-root's
                    * jailer): the jail root on the host; the driver stages
                    * the VM's files there (doc/vmm.md, "A jail the launcher
                    * made") */
} BangerVmmLaunched;

void banger_vmm_launched_clear (BangerVmmLaunched *launched);

/* How a VMM process is started.  The default spawns directly (the caller
 * must be allowed to: tun access for a NIC, the files); the helper launcher
 * (banger-vmm-helper-launcher.h) goes through bangerd-root's
 * priv.launch_vmm. */
typedef struct _BangerVmmLauncher BangerVmmLauncher;
struct _BangerVmmLauncher
{
  gboolean (*spawn) (BangerVmmLauncher *launcher, const BangerVmmLaunchRequest *request,
                     BangerVmmLaunched *out, GError **error);
  gpointer user_data;
};

/* The command line of @request, from the one builder of its VMM.  QEMU: the
 * root disk first (/dev/vda), at most one NIC (its tap goes in as fd 3),
 * the kernel command line of banger_vmm_build_boot_args(). */
GStrv banger_vmm_launch_request_argv (const BangerVmmLaunchRequest *request, GError **error);

/* The direct launcher: spawn with a pidfd; for QEMU it attaches to the
 * NIC's tap itself and passes it as fd 3. */
BangerVmmLauncher *banger_vmm_launcher_direct (void);

/* ------------------------------------------------------------------- stats */

typedef struct
{
  guint64 cpu_user_us;     /* from /proc/<pid>/stat */
  guint64 cpu_system_us;
  guint64 rss_bytes;       /* from /proc/<pid>/status VmRSS */
  guint64 net_rx_bytes;    /* VMM metrics where the driver has them, else 0 */
  guint64 net_tx_bytes;
  guint64 block_read_bytes;
  guint64 block_write_bytes;
} BangerVmmStats;

/* ------------------------------------------------------------------ object */

typedef void (*BangerVmmAsyncFunc) (BangerVmm *self, GCancellable *cancellable,
                                    GAsyncReadyCallback callback, gpointer user_data);

struct _BangerVmmClass
{
  GObjectClass parent_class;

  const char *driver_name; /* "firecracker", "qemu" */

  /* Stage files, pick socket paths, build argv.  Synchronous, no process. */
  gboolean (*prepare) (BangerVmm *self, GError **error);
  /* Each completes a GTask with a boolean, in the caller's thread-default
   * main context; banger_vmm_<op>_async wraps it in the task its own
   * _finish checks. */
  BangerVmmAsyncFunc launch;     /* spawn + wait for the API socket */
  BangerVmmAsyncFunc configure;  /* pre-boot configuration */
  BangerVmmAsyncFunc start;      /* boot the guest */
  BangerVmmAsyncFunc pause;
  BangerVmmAsyncFunc resume;
  BangerVmmAsyncFunc stop;       /* graceful ladder, bounded by stop-timeout */
  void (*snapshot_create) (BangerVmm *self, const char *snapshot_path, const char *mem_path,
                           gboolean diff, GCancellable *cancellable,
                           GAsyncReadyCallback callback, gpointer user_data);
  /* Into a freshly launched (not configured) process; the config's NICs
   * override the snapshot's taps. */
  void (*snapshot_load) (BangerVmm *self, const char *snapshot_path, const char *mem_path,
                         gboolean resume, GCancellable *cancellable,
                         GAsyncReadyCallback callback, gpointer user_data);
  /* Ask the VMM what state it is in (updates the state property). */
  BangerVmmAsyncFunc refresh_state;
  gboolean (*kill) (BangerVmm *self, GError **error);
  gboolean (*read_stats) (BangerVmm *self, BangerVmmStats *out, GError **error);

  gpointer padding[8];
};

const BangerVmmConfig *banger_vmm_get_config (BangerVmm *self);
int banger_vmm_get_pidfd (BangerVmm *self);         /* -1 before launch */
void banger_vmm_set_launcher (BangerVmm *self, BangerVmmLauncher *launcher);
BangerVmmLauncher *banger_vmm_get_launcher (BangerVmm *self);

/* The public calls (banger-vmm.h) are GIO-shaped: an _async call that
 * completes in the caller's thread-default main context, its own _finish,
 * and a synchronous form that runs the _async call on a main context owned
 * by the object (one per BangerVmm, reused by every synchronous call, so
 * state a driver keeps per context -- Firecracker's kept-alive HTTP
 * connection -- carries over from one call to the next). */

gboolean banger_vmm_read_stats (BangerVmm *self, BangerVmmStats *out, GError **error);

/* For drivers: */
void banger_vmm_set_state (BangerVmm *self, BangerVmmState state);
/* Emits BangerVmm::snapshot-progress (@bytes_done capped at @bytes_total):
 * drivers call it while a snapshot is written or loaded, in the
 * thread-default main context of that call. */
void banger_vmm_report_snapshot_progress (BangerVmm *self, guint64 bytes_done, guint64 bytes_total);
void banger_vmm_set_api_socket (BangerVmm *self, const char *path);
/* @method: a static string (see banger_vmm_get_stop_method). */
void banger_vmm_set_stop_method (BangerVmm *self, const char *method);
/* Record the process (takes ownership of @pidfd). */
void banger_vmm_set_process (BangerVmm *self, GPid pid, int pidfd);

/* The drivers declare themselves in banger-vmm-firecracker.h and
 * banger-vmm-qemu.h. */

G_END_DECLS
