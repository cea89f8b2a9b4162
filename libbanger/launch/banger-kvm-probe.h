/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The one answer to "can KVM run a guest on this host" (doc/vmm.md, "KVM").
 *
 * A /dev/kvm that opens is not enough: the paravirtual KVM of some hosts
 * opens, creates VMs, and then hangs a stock kernel right after "Booting
 * from ROM".  So the answer comes from a boot probe: QEMU boots a kernel
 * under -accel kvm, and KVM is usable only if the kernel's banner reaches
 * the serial port within the timeout.
 *
 * The answer is remembered in a small cache file (<cache dir>/kvm-probe),
 * keyed by the host kernel release, the QEMU binary's identity (path,
 * device, inode, size, mtime) and /dev/kvm's identity (device number,
 * inode, ctime, the kvm modules loaded): a change to any of them probes
 * again.  `banger doctor`, `priv.status` and the QEMU driver all ask here
 * (priv.status only the cache: banger_kvm_probe_cached). */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef enum
{
  BANGER_KVM_ABSENT = 0, /* no device, or it does not open for this user */
  BANGER_KVM_UNUSABLE,   /* opens, but a kernel does not boot under it */
  BANGER_KVM_USABLE,     /* a kernel booted under it */
  BANGER_KVM_UNTESTED,   /* opens; no probe was possible (no kernel, no QEMU) */
} BangerKvmState;

/* "absent", "unusable", "usable", "untested" */
const char *banger_kvm_state_to_string (BangerKvmState state);

/* The host to probe.  Every field may be NULL/0 for its default; tests
 * inject a host by setting them. */
typedef struct
{
  const char *kvm_device;   /* default $BANGER_KVM_DEVICE, else "/dev/kvm" */
  const char *qemu_binary;  /* default $BANGER_QEMU, else qemu-system-x86_64 in PATH */
  const char *kernel;       /* default banger_kvm_probe_find_kernel() */
  const char *cache_dir;    /* default banger_kvm_probe_default_cache_dir(); "" = no cache */
  const char *host_release; /* default uname -r */
  guint timeout_ms;         /* default BANGER_KVM_PROBE_TIMEOUT_MS */
} BangerKvmHost;

#define BANGER_KVM_PROBE_TIMEOUT_MS 5000

/* $BANGER_QEMU_ACCEL=kvm|tcg|auto overrides the probe where a caller asks
 * for "auto". */
#define BANGER_KVM_ACCEL_ENV "BANGER_QEMU_ACCEL"
/* $BANGER_KVM_CACHE_DIR overrides the default cache directory. */
#define BANGER_KVM_CACHE_DIR_ENV "BANGER_KVM_CACHE_DIR"
/* $BANGER_KVM_DEVICE replaces /dev/kvm (for tests of doctor and priv.status). */
#define BANGER_KVM_DEVICE_ENV "BANGER_KVM_DEVICE"
/* $BANGER_KVM_PROBE_KERNEL names the kernel doctor and priv.status probe with. */
#define BANGER_KVM_PROBE_KERNEL_ENV "BANGER_KVM_PROBE_KERNEL"

typedef struct
{
  BangerKvmState state;
  char *detail;       /* one sentence, for doctor and priv.status */
  gboolean cached;    /* TRUE: read from the cache file, no probe ran */
  double probe_secs;  /* how long the probe took (0 when cached) */
} BangerKvmAnswer;

void banger_kvm_answer_free (BangerKvmAnswer *answer);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BangerKvmAnswer, banger_kvm_answer_free)

/* The answer for @host (NULL: this host, all defaults): the cache if it is
 * valid, else the boot probe (whose definite answers — usable, unusable —
 * are written to the cache; failing to write it is not an error).  NULL
 * only on cancellation (BANGER_ERROR_CANCELLED). */
BangerKvmAnswer *banger_kvm_probe (const BangerKvmHost *host, GCancellable *cancellable,
                                   GError **error);

/* The answer for @host (NULL: this host) without a boot probe, for callers
 * that must answer promptly (root's priv.status): absent when the device
 * does not open, untested when there is no QEMU, the cached definite answer
 * (usable, unusable) when the cache is valid, else untested with a detail
 * saying that no boot probe has run yet.  Never starts QEMU, never NULL;
 * the probe itself runs where a launch (banger_kvm_choose_accel) or
 * `banger doctor` (banger_kvm_probe) needs it, and fills the cache this
 * reads. */
BangerKvmAnswer *banger_kvm_probe_cached (const BangerKvmHost *host);

/* The accelerator for a QEMU launch: @requested "kvm" or "tcg" is taken as
 * is; NULL or "auto" consults $BANGER_QEMU_ACCEL, then the probe ("kvm"
 * only when usable).  @out_answer (nullable) gets the probe's answer when
 * one was asked.  Unknown values are BANGER_ERROR_INVALID_ARGUMENT. */
char *banger_kvm_choose_accel (const char *requested, const BangerKvmHost *host,
                               BangerKvmAnswer **out_answer, GCancellable *cancellable,
                               GError **error);

/* $BANGER_KVM_CACHE_DIR, else /var/cache/banger for root, else
 * $XDG_CACHE_HOME/banger. */
char *banger_kvm_probe_default_cache_dir (void);

/* A kernel to probe with when the caller has none: $BANGER_KVM_PROBE_KERNEL,
 * else /boot/vmlinuz-<release>, /boot/vmlinuz, /vmlinuz (the first readable).
 * NULL when there is none. */
char *banger_kvm_probe_find_kernel (void);

/* Remove the cache file of @cache_dir (NULL: the default); TRUE if gone. */
gboolean banger_kvm_probe_forget (const char *cache_dir);

G_END_DECLS
