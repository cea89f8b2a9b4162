/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#if !defined(__BANGER_H_INSIDE__) && !defined(BANGER_COMPILATION)
#error "Only <banger.h> can be included directly."
#endif

#include <glib-object.h>

#include <banger-macros.h>
#include <banger-vm-types.h>

G_BEGIN_DECLS

/**
 * BangerSnapshotInfo:
 *
 * A snapshot: a VM's memory and device state with a copy-on-write point of its disks
 * (banger_client_vm_snapshot_async()).  A read-only refcounted boxed value.
 *
 * Since: 0.2
 */
typedef struct _BangerSnapshotInfo BangerSnapshotInfo;

#define BANGER_TYPE_SNAPSHOT_INFO (banger_snapshot_info_get_type ())
BANGER_AVAILABLE_IN_0_2
GType banger_snapshot_info_get_type (void) G_GNUC_CONST;
BANGER_AVAILABLE_IN_0_2
BangerSnapshotInfo *banger_snapshot_info_ref (BangerSnapshotInfo *info);
BANGER_AVAILABLE_IN_0_2
void banger_snapshot_info_unref (BangerSnapshotInfo *info);

BANGER_AVAILABLE_IN_0_2
const char *banger_snapshot_info_get_name (BangerSnapshotInfo *info);

BANGER_AVAILABLE_IN_0_2
const char *banger_snapshot_info_get_vm_name (BangerSnapshotInfo *info);

BANGER_AVAILABLE_IN_0_2
const char *banger_snapshot_info_get_image (BangerSnapshotInfo *info);

BANGER_AVAILABLE_IN_0_2
const char *banger_snapshot_info_get_kernel (BangerSnapshotInfo *info);

BANGER_AVAILABLE_IN_0_2
const char *banger_snapshot_info_get_parent (BangerSnapshotInfo *info);

BANGER_AVAILABLE_IN_0_2
const char *banger_snapshot_info_get_guest_ip (BangerSnapshotInfo *info);

BANGER_AVAILABLE_IN_0_2
guint banger_snapshot_info_get_vcpus (BangerSnapshotInfo *info);

BANGER_AVAILABLE_IN_0_2
guint64 banger_snapshot_info_get_memory_mib (BangerSnapshotInfo *info);

BANGER_AVAILABLE_IN_0_2
guint64 banger_snapshot_info_get_work_disk_size (BangerSnapshotInfo *info);

BANGER_AVAILABLE_IN_0_2
guint64 banger_snapshot_info_get_size (BangerSnapshotInfo *info);

BANGER_AVAILABLE_IN_0_2
gint64 banger_snapshot_info_get_created_at (BangerSnapshotInfo *info);

BANGER_AVAILABLE_IN_0_2
BangerVmmKind banger_snapshot_info_get_vmm (BangerSnapshotInfo *info);
BANGER_AVAILABLE_IN_0_2
gboolean banger_snapshot_info_get_diff (BangerSnapshotInfo *info);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BangerSnapshotInfo, banger_snapshot_info_unref)

/**
 * BangerVmStats:
 *
 * One reading of a running or paused VM's figures (banger_client_vm_stats_async()): CPU time and
 * resident memory of its VMM, its balloon, and the bytes its disks and network moved.  A read-only
 * refcounted boxed value.
 *
 * Since: 0.2
 */
typedef struct _BangerVmStats BangerVmStats;

#define BANGER_TYPE_VM_STATS (banger_vm_stats_get_type ())
BANGER_AVAILABLE_IN_0_2
GType banger_vm_stats_get_type (void) G_GNUC_CONST;
BANGER_AVAILABLE_IN_0_2
BangerVmStats *banger_vm_stats_ref (BangerVmStats *info);
BANGER_AVAILABLE_IN_0_2
void banger_vm_stats_unref (BangerVmStats *info);

BANGER_AVAILABLE_IN_0_2
const char *banger_vm_stats_get_name (BangerVmStats *info);

BANGER_AVAILABLE_IN_0_2
gint64 banger_vm_stats_get_timestamp (BangerVmStats *info);

BANGER_AVAILABLE_IN_0_2
guint64 banger_vm_stats_get_cpu_user_us (BangerVmStats *info);

BANGER_AVAILABLE_IN_0_2
guint64 banger_vm_stats_get_cpu_system_us (BangerVmStats *info);

BANGER_AVAILABLE_IN_0_2
guint64 banger_vm_stats_get_rss_bytes (BangerVmStats *info);

BANGER_AVAILABLE_IN_0_2
guint64 banger_vm_stats_get_memory_mib (BangerVmStats *info);

BANGER_AVAILABLE_IN_0_2
gint64 banger_vm_stats_get_balloon_target_mib (BangerVmStats *info);

BANGER_AVAILABLE_IN_0_2
gint64 banger_vm_stats_get_balloon_actual_mib (BangerVmStats *info);

BANGER_AVAILABLE_IN_0_2
guint64 banger_vm_stats_get_block_read_bytes (BangerVmStats *info);

BANGER_AVAILABLE_IN_0_2
guint64 banger_vm_stats_get_block_write_bytes (BangerVmStats *info);

BANGER_AVAILABLE_IN_0_2
guint64 banger_vm_stats_get_net_rx_bytes (BangerVmStats *info);

BANGER_AVAILABLE_IN_0_2
guint64 banger_vm_stats_get_net_tx_bytes (BangerVmStats *info);

BANGER_AVAILABLE_IN_0_2
BangerVmState banger_vm_stats_get_state (BangerVmStats *info);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BangerVmStats, banger_vm_stats_unref)

G_END_DECLS
