/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The engine's running-VM services (banger-engine-snapshot.c, doc/engine.md
 * "Pause, snapshots, restore, stats, balloon"): pause and resume, snapshots
 * (memory + device state + a copy-on-write point of the disks, recorded in
 * the store), restore into a new VM, live figures and the balloon.  Same
 * rules as banger-engine.h: synchronous, thread-safe, under the per-VM
 * lock. */
#pragma once

#include "banger-engine.h"

G_BEGIN_DECLS

/* RUNNING → PAUSED (the vCPUs stop; the process, tap and address stay).
 * BUSY unless running; UNSUPPORTED for a VM adopted at start-up (no driver
 * object). */
gboolean banger_engine_vm_pause (BangerEngine *self, const char *name, const char *op_id,
                                 GCancellable *cancellable, GError **error);
/* PAUSED → RUNNING.  BUSY unless paused. */
gboolean banger_engine_vm_resume (BangerEngine *self, const char *name, const char *op_id,
                                  GCancellable *cancellable, GError **error);

/* A snapshot of a running or paused VM named @snap_name (NULL:
 * "<vm>-<UTC time>"): the VM is paused (if it ran), its memory and device
 * state written, its disks copied copy-on-write at that point, and resumed
 * (if it ran).  @diff: a Firecracker Diff snapshot over the VM's newest Full
 * one (INVALID_ARGUMENT when it has none; UNSUPPORTED on QEMU).  Files in
 * <state>/snapshots/<id>/.  ALREADY_EXISTS for a taken name. */
BangerStoreSnapshot *banger_engine_vm_snapshot (BangerEngine *self, const char *name,
                                                const char *snap_name, gboolean diff,
                                                const char *op_id, GCancellable *cancellable,
                                                GError **error);
/* BangerStoreSnapshot*, by name. */
GPtrArray *banger_engine_snapshot_list (BangerEngine *self, GError **error);
/* Record and files.  BUSY while a Diff snapshot follows it: a Full one
 * that is a Diff's base, a Diff that a later Diff of the same base layers
 * over (a restore of the later one needs it). */
gboolean banger_engine_snapshot_delete (BangerEngine *self, const char *name, const char *op_id,
                                        GError **error);

/* A new VM @new_name (NULL: "<vm>-<6 hex>") resumed from snapshot
 * @snap_name: its own copy-on-write disks over the snapshot's disk point, a
 * fresh lease, its own tap (the create's lease and tap steps), the
 * snapshot loaded into a VMM launched for it; the guest takes its new
 * address from its seed disk (doc/guest.md) and the VM is running once it
 * answers SSH there.  Firecracker: in a jail of its own (the jailer is
 * required: UNSUPPORTED naming it when none is configured, or when the
 * snapshot was taken without one), the drives staged under the names the
 * snapshot holds; a Diff snapshot loads its base Full one's memory with
 * the Diff layers written over it (banger_engine_memory_layer).  Failure:
 * everything undone, no VM record left. */
BangerEngineVmInfo *banger_engine_vm_restore (BangerEngine *self, const char *snap_name,
                                              const char *new_name, const char *op_id,
                                              GCancellable *cancellable, GError **error);

typedef struct
{
  BangerStoreVmState state;
  gint64 at_us;        /* g_get_real_time() of the reading */
  guint64 cpu_user_us; /* /proc/<pid>/stat of the VMM */
  guint64 cpu_system_us;
  guint64 rss_bytes;         /* VmRSS of the VMM */
  guint64 memory_mib;        /* the guest's configured memory */
  gint64 balloon_target_mib; /* -1: not known (no balloon, or adopted) */
  gint64 balloon_actual_mib; /* -1: not known */
  guint64 block_read_bytes;  /* Firecracker metrics / QMP query-blockstats */
  guint64 block_write_bytes;
  guint64 net_rx_bytes; /* the guest's: Firecracker metrics, else its tap's counters */
  guint64 net_tx_bytes;
} BangerEngineVmStats;

/* Live figures of a running or paused VM (BUSY otherwise). */
gboolean banger_engine_vm_stats (BangerEngine *self, const char *name, BangerEngineVmStats *out,
                                 GCancellable *cancellable, GError **error);

/* The balloon of a running or paused VM: @balloon_mib taken from the guest
 * (Firecracker PATCH /balloon; QEMU QMP balloon to memory - @balloon_mib).
 * INVALID_ARGUMENT when not below the VM's memory; BUSY unless running or
 * paused. */
gboolean banger_engine_vm_set_balloon (BangerEngine *self, const char *name, guint64 balloon_mib,
                                       const char *op_id, GCancellable *cancellable,
                                       GError **error);

/* The memory a restore of a Firecracker Diff snapshot loads
 * (banger-engine-restore-mem.c): @dest holds a copy of the base Full
 * snapshot's memory (reflink or sparse copy; the stored files are never
 * written); the data regions of each of @layers (Diff memory files, oldest
 * first: Firecracker writes only the pages dirtied since the snapshot
 * before, in a sparse file of the memory's size) are written over it at
 * their offsets, found with SEEK_DATA/SEEK_HOLE.  INVALID_ARGUMENT for a
 * layer of another size. */
gboolean banger_engine_memory_layer (const char *dest, const char *const *layers,
                                     GCancellable *cancellable, GError **error);

G_END_DECLS
