/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The QEMU microvm command line: the one builder, used by the direct
 * launcher (vmm/) and by priv.launch_vmm in the root helper (host/).
 * doc/vmm.md ("One command line per VMM") says why each flag is what it is:
 *
 *   qemu-system-x86_64 -M microvm -accel tcg|kvm [-cpu host]
 *     -name <vm>,debug-threads=on -m <MiB> -smp <n> -nodefaults
 *     -no-user-config -display none -no-reboot -S
 *     -serial file:<console> -qmp unix:<sock>,server=on,wait=off
 *     -kernel K [-initrd I] [-append "<boot args>[ tsc_early_khz=N]"]
 *     (-drive if=none,id=<id>,file=<path>,format=raw[,readonly=on]
 *      -device virtio-blk-device,drive=<id>)...   first disk = /dev/vda
 *     [-netdev tap,id=net0,fd=3 -device virtio-net-device,netdev=net0[,mac=M]]
 *     [-incoming defer]   (a restore: the state comes by migrate-incoming)
 *
 * Values inside QEMU option lists have ',' doubled; -kernel/-initrd take a
 * plain path.  The tap is never opened by QEMU: whoever spawns it opens the
 * tap and passes the queue as fd 3 (BANGER_QEMU_TAP_FD). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define BANGER_QEMU_TAP_FD 3

typedef struct
{
  const char *id;       /* [A-Za-z0-9_]{1,64} */
  const char *path;     /* absolute */
  gboolean read_only;
} BangerQemuDisk;

typedef struct
{
  const char *binary;      /* absolute */
  const char *vm_id;       /* banger_validate_vm_name */
  const char *accel;       /* "tcg" or "kvm" */
  gint64 vcpus;            /* banger-vm-limits.h */
  gint64 mem_mib;
  const char *kernel;      /* absolute */
  const char *initrd;      /* nullable, absolute */
  const char *boot_args;   /* nullable; printable ASCII, at most 4096 bytes */
  const BangerQemuDisk *disks; /* in order: the first is /dev/vda */
  guint n_disks;
  gboolean tap;            /* one NIC on the tap passed as fd 3 */
  const char *mac;         /* nullable: "xx:xx:xx:xx:xx:xx", lowercase hex */
  const char *qmp_socket;  /* absolute */
  const char *console_log; /* absolute */
  gboolean incoming;       /* -incoming defer: wait for a migrate-incoming
                            * (a snapshot restore) instead of booting */
} BangerQemuCmdline;

/* Validate @c (INVALID_ARGUMENT with the offending value) and build argv. */
GStrv banger_qemu_cmdline_build (const BangerQemuCmdline *c, GError **error);

/* The host's constant TSC frequency in kHz (from /proc/cpuinfo), 0 when
 * unknown.  Under TCG it is passed to the guest as tsc_early_khz=. */
guint banger_qemu_host_tsc_khz (void);
/* Escape a value for a QEMU option list (',' doubles). */
char *banger_qemu_opt_escape (const char *value);
/* "xx:xx:xx:xx:xx:xx", lowercase hex; INVALID_ARGUMENT otherwise. */
gboolean banger_qemu_check_mac (const char *mac, GError **error);

G_END_DECLS
