/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The read-only values of the running-VM calls: BangerSnapshotInfo (a
 * snapshot, as snapshot_list and vm_snapshot answer) and BangerVmStats (a
 * reading of vm_stats).  Each holds the engine's JSON object. */
#include "config.h"

#include <json-glib/json-glib.h>

#include "banger-client-private.h"
#include "banger-error.h"
#include "banger-snapshot-types.h"

/* -------------------------------------------------------------- snapshot_info */

struct _BangerSnapshotInfo
{
  gatomicrefcount ref;
  JsonObject *obj;
};

G_DEFINE_BOXED_TYPE (BangerSnapshotInfo, banger_snapshot_info, banger_snapshot_info_ref,
                     banger_snapshot_info_unref)

/**
 * banger_snapshot_info_ref:
 * @info: a #BangerSnapshotInfo
 *
 * Returns: (transfer full): @info, with one more reference
 *
 * Since: 0.2
 */
BangerSnapshotInfo *
banger_snapshot_info_ref (BangerSnapshotInfo *info)
{
  g_return_val_if_fail (info != NULL, NULL);
  g_atomic_ref_count_inc (&info->ref);
  return info;
}

/**
 * banger_snapshot_info_unref:
 * @info: (transfer full): a #BangerSnapshotInfo
 *
 * Drops one reference; the last one frees @info.
 *
 * Since: 0.2
 */
void
banger_snapshot_info_unref (BangerSnapshotInfo *info)
{
  g_return_if_fail (info != NULL);
  if (!g_atomic_ref_count_dec (&info->ref))
    return;
  json_object_unref (info->obj);
  g_free (info);
}

static const ClientField snapshot_info_fields[] = {
  { "name", CLIENT_FIELD_STRING },
  { "vm", CLIENT_FIELD_STRING },
  { "image", CLIENT_FIELD_STRING_NULLABLE },
  { "kernel", CLIENT_FIELD_STRING_NULLABLE },
  { "parent", CLIENT_FIELD_STRING_NULLABLE },
  { "guest_ip", CLIENT_FIELD_STRING_NULLABLE },
  { "vcpus", CLIENT_FIELD_INT },
  { "memory_mib", CLIENT_FIELD_INT },
  { "work_disk_bytes", CLIENT_FIELD_INT },
  { "size_bytes", CLIENT_FIELD_INT },
  { "created_at", CLIENT_FIELD_INT },
  { "vmm", CLIENT_FIELD_STRING },
  { NULL, 0 },
};

BangerSnapshotInfo *
banger_snapshot_info_new_from_json (JsonObject *obj, GError **error)
{
  BangerSnapshotInfo *info;

  if (!banger_client_check_fields (obj, snapshot_info_fields, "snapshot info", error))
    return NULL;
  info = g_new0 (BangerSnapshotInfo, 1);
  g_atomic_ref_count_init (&info->ref);
  info->obj = json_object_ref (obj);
  return info;
}

/**
 * banger_snapshot_info_get_name:
 * @info: a #BangerSnapshotInfo
 *
 * Returns: (transfer none): the snapshot's name
 *
 * Since: 0.2
 */
const char *
banger_snapshot_info_get_name (BangerSnapshotInfo *info)
{
  g_return_val_if_fail (info != NULL, NULL);
  return json_object_get_string_member_with_default (info->obj, "name", NULL);
}

/**
 * banger_snapshot_info_get_vm_name:
 * @info: a #BangerSnapshotInfo
 *
 * Returns: (transfer none): the name of the VM it was taken of (that VM may be gone)
 *
 * Since: 0.2
 */
const char *
banger_snapshot_info_get_vm_name (BangerSnapshotInfo *info)
{
  g_return_val_if_fail (info != NULL, NULL);
  return json_object_get_string_member_with_default (info->obj, "vm", NULL);
}

/**
 * banger_snapshot_info_get_image:
 * @info: a #BangerSnapshotInfo
 *
 * Returns: (transfer none) (nullable): the image of the VM
 *
 * Since: 0.2
 */
const char *
banger_snapshot_info_get_image (BangerSnapshotInfo *info)
{
  g_return_val_if_fail (info != NULL, NULL);
  return json_object_get_string_member_with_default (info->obj, "image", NULL);
}

/**
 * banger_snapshot_info_get_kernel:
 * @info: a #BangerSnapshotInfo
 *
 * Returns: (transfer none) (nullable): the kernel the memory image runs
 *
 * Since: 0.2
 */
const char *
banger_snapshot_info_get_kernel (BangerSnapshotInfo *info)
{
  g_return_val_if_fail (info != NULL, NULL);
  return json_object_get_string_member_with_default (info->obj, "kernel", NULL);
}

/**
 * banger_snapshot_info_get_parent:
 * @info: a #BangerSnapshotInfo
 *
 * Returns: (transfer none) (nullable): the Full snapshot a Diff one follows
 *
 * Since: 0.2
 */
const char *
banger_snapshot_info_get_parent (BangerSnapshotInfo *info)
{
  g_return_val_if_fail (info != NULL, NULL);
  return json_object_get_string_member_with_default (info->obj, "parent", NULL);
}

/**
 * banger_snapshot_info_get_guest_ip:
 * @info: a #BangerSnapshotInfo
 *
 * Returns: (transfer none) (nullable): the guest's address inside the snapshot
 *
 * Since: 0.2
 */
const char *
banger_snapshot_info_get_guest_ip (BangerSnapshotInfo *info)
{
  g_return_val_if_fail (info != NULL, NULL);
  return json_object_get_string_member_with_default (info->obj, "guest_ip", NULL);
}

/**
 * banger_snapshot_info_get_vcpus:
 * @info: a #BangerSnapshotInfo
 *
 * Returns: the vCPUs of the snapshotted machine
 *
 * Since: 0.2
 */
guint
banger_snapshot_info_get_vcpus (BangerSnapshotInfo *info)
{
  g_return_val_if_fail (info != NULL, 0);
  return (guint)json_object_get_int_member_with_default (info->obj, "vcpus", 0);
}

/**
 * banger_snapshot_info_get_memory_mib:
 * @info: a #BangerSnapshotInfo
 *
 * Returns: the memory of the snapshotted machine, in MiB
 *
 * Since: 0.2
 */
guint64
banger_snapshot_info_get_memory_mib (BangerSnapshotInfo *info)
{
  g_return_val_if_fail (info != NULL, 0);
  return (guint64)json_object_get_int_member_with_default (info->obj, "memory_mib", 0);
}

/**
 * banger_snapshot_info_get_work_disk_size:
 * @info: a #BangerSnapshotInfo
 *
 * Returns: the size of its work disk in bytes (0: none)
 *
 * Since: 0.2
 */
guint64
banger_snapshot_info_get_work_disk_size (BangerSnapshotInfo *info)
{
  g_return_val_if_fail (info != NULL, 0);
  return (guint64)json_object_get_int_member_with_default (info->obj, "work_disk_bytes", 0);
}

/**
 * banger_snapshot_info_get_size:
 * @info: a #BangerSnapshotInfo
 *
 * Returns: bytes its files take on disk
 *
 * Since: 0.2
 */
guint64
banger_snapshot_info_get_size (BangerSnapshotInfo *info)
{
  g_return_val_if_fail (info != NULL, 0);
  return (guint64)json_object_get_int_member_with_default (info->obj, "size_bytes", 0);
}

/**
 * banger_snapshot_info_get_created_at:
 * @info: a #BangerSnapshotInfo
 *
 * Returns: when it was taken: unix time in microseconds
 *
 * Since: 0.2
 */
gint64
banger_snapshot_info_get_created_at (BangerSnapshotInfo *info)
{
  g_return_val_if_fail (info != NULL, 0);
  return (gint64)json_object_get_int_member_with_default (info->obj, "created_at", 0);
}

/**
 * banger_snapshot_info_get_vmm:
 * @info: a #BangerSnapshotInfo
 *
 * Returns: the VMM of the snapshotted VM (a restore runs the same)
 *
 * Since: 0.2
 */
BangerVmmKind
banger_snapshot_info_get_vmm (BangerSnapshotInfo *info)
{
  BangerVmmKind k = BANGER_VMM_KIND_DEFAULT;

  g_return_val_if_fail (info != NULL, BANGER_VMM_KIND_DEFAULT);
  banger_vmm_kind_from_string (json_object_get_string_member_with_default (info->obj, "vmm", ""),
                               &k);
  return k;
}

/**
 * banger_snapshot_info_get_diff:
 * @info: a #BangerSnapshotInfo
 *
 * Returns: whether it is a Diff snapshot (Firecracker), layered over its parent
 *
 * Since: 0.2
 */
gboolean
banger_snapshot_info_get_diff (BangerSnapshotInfo *info)
{
  g_return_val_if_fail (info != NULL, FALSE);
  return json_object_get_boolean_member_with_default (info->obj, "diff", FALSE);
}

/* -------------------------------------------------------------- vm_stats */

struct _BangerVmStats
{
  gatomicrefcount ref;
  JsonObject *obj;
};

G_DEFINE_BOXED_TYPE (BangerVmStats, banger_vm_stats, banger_vm_stats_ref, banger_vm_stats_unref)

/**
 * banger_vm_stats_ref:
 * @info: a #BangerVmStats
 *
 * Returns: (transfer full): @info, with one more reference
 *
 * Since: 0.2
 */
BangerVmStats *
banger_vm_stats_ref (BangerVmStats *info)
{
  g_return_val_if_fail (info != NULL, NULL);
  g_atomic_ref_count_inc (&info->ref);
  return info;
}

/**
 * banger_vm_stats_unref:
 * @info: (transfer full): a #BangerVmStats
 *
 * Drops one reference; the last one frees @info.
 *
 * Since: 0.2
 */
void
banger_vm_stats_unref (BangerVmStats *info)
{
  g_return_if_fail (info != NULL);
  if (!g_atomic_ref_count_dec (&info->ref))
    return;
  json_object_unref (info->obj);
  g_free (info);
}

static const ClientField vm_stats_fields[] = {
  { "name", CLIENT_FIELD_STRING },
  { "state", CLIENT_FIELD_STRING },
  { "at", CLIENT_FIELD_INT },
  { "cpu_user_us", CLIENT_FIELD_INT },
  { "cpu_system_us", CLIENT_FIELD_INT },
  { "rss_bytes", CLIENT_FIELD_INT },
  { "memory_mib", CLIENT_FIELD_INT },
  { "balloon_target_mib", CLIENT_FIELD_INT },
  { "balloon_actual_mib", CLIENT_FIELD_INT },
  { "block_read_bytes", CLIENT_FIELD_INT },
  { "block_write_bytes", CLIENT_FIELD_INT },
  { "net_rx_bytes", CLIENT_FIELD_INT },
  { "net_tx_bytes", CLIENT_FIELD_INT },
  { NULL, 0 },
};

BangerVmStats *
banger_vm_stats_new_from_json (JsonObject *obj, GError **error)
{
  BangerVmStats *info;

  if (!banger_client_check_fields (obj, vm_stats_fields, "vm stats", error))
    return NULL;
  info = g_new0 (BangerVmStats, 1);
  g_atomic_ref_count_init (&info->ref);
  info->obj = json_object_ref (obj);
  return info;
}

/**
 * banger_vm_stats_get_name:
 * @info: a #BangerVmStats
 *
 * Returns: (transfer none): the VM's name
 *
 * Since: 0.2
 */
const char *
banger_vm_stats_get_name (BangerVmStats *info)
{
  g_return_val_if_fail (info != NULL, NULL);
  return json_object_get_string_member_with_default (info->obj, "name", NULL);
}

/**
 * banger_vm_stats_get_timestamp:
 * @info: a #BangerVmStats
 *
 * Returns: when the figures were read: unix time in microseconds
 *
 * Since: 0.2
 */
gint64
banger_vm_stats_get_timestamp (BangerVmStats *info)
{
  g_return_val_if_fail (info != NULL, 0);
  return (gint64)json_object_get_int_member_with_default (info->obj, "at", 0);
}

/**
 * banger_vm_stats_get_cpu_user_us:
 * @info: a #BangerVmStats
 *
 * Returns: CPU time the VMM spent in user mode, in microseconds
 *
 * Since: 0.2
 */
guint64
banger_vm_stats_get_cpu_user_us (BangerVmStats *info)
{
  g_return_val_if_fail (info != NULL, 0);
  return (guint64)json_object_get_int_member_with_default (info->obj, "cpu_user_us", 0);
}

/**
 * banger_vm_stats_get_cpu_system_us:
 * @info: a #BangerVmStats
 *
 * Returns: CPU time the VMM spent in the kernel, in microseconds
 *
 * Since: 0.2
 */
guint64
banger_vm_stats_get_cpu_system_us (BangerVmStats *info)
{
  g_return_val_if_fail (info != NULL, 0);
  return (guint64)json_object_get_int_member_with_default (info->obj, "cpu_system_us", 0);
}

/**
 * banger_vm_stats_get_rss_bytes:
 * @info: a #BangerVmStats
 *
 * Returns: the VMM's resident memory in bytes
 *
 * Since: 0.2
 */
guint64
banger_vm_stats_get_rss_bytes (BangerVmStats *info)
{
  g_return_val_if_fail (info != NULL, 0);
  return (guint64)json_object_get_int_member_with_default (info->obj, "rss_bytes", 0);
}

/**
 * banger_vm_stats_get_memory_mib:
 * @info: a #BangerVmStats
 *
 * Returns: the guest's configured memory in MiB
 *
 * Since: 0.2
 */
guint64
banger_vm_stats_get_memory_mib (BangerVmStats *info)
{
  g_return_val_if_fail (info != NULL, 0);
  return (guint64)json_object_get_int_member_with_default (info->obj, "memory_mib", 0);
}

/**
 * banger_vm_stats_get_balloon_target_mib:
 * @info: a #BangerVmStats
 *
 * Returns: the balloon size asked for in MiB, or -1 when not known
 *
 * Since: 0.2
 */
gint64
banger_vm_stats_get_balloon_target_mib (BangerVmStats *info)
{
  g_return_val_if_fail (info != NULL, 0);
  return (gint64)json_object_get_int_member_with_default (info->obj, "balloon_target_mib", 0);
}

/**
 * banger_vm_stats_get_balloon_actual_mib:
 * @info: a #BangerVmStats
 *
 * Returns: the balloon size the guest gave in MiB, or -1 when not known
 *
 * Since: 0.2
 */
gint64
banger_vm_stats_get_balloon_actual_mib (BangerVmStats *info)
{
  g_return_val_if_fail (info != NULL, 0);
  return (gint64)json_object_get_int_member_with_default (info->obj, "balloon_actual_mib", 0);
}

/**
 * banger_vm_stats_get_block_read_bytes:
 * @info: a #BangerVmStats
 *
 * Returns: bytes the guest read from its disks
 *
 * Since: 0.2
 */
guint64
banger_vm_stats_get_block_read_bytes (BangerVmStats *info)
{
  g_return_val_if_fail (info != NULL, 0);
  return (guint64)json_object_get_int_member_with_default (info->obj, "block_read_bytes", 0);
}

/**
 * banger_vm_stats_get_block_write_bytes:
 * @info: a #BangerVmStats
 *
 * Returns: bytes the guest wrote to its disks
 *
 * Since: 0.2
 */
guint64
banger_vm_stats_get_block_write_bytes (BangerVmStats *info)
{
  g_return_val_if_fail (info != NULL, 0);
  return (guint64)json_object_get_int_member_with_default (info->obj, "block_write_bytes", 0);
}

/**
 * banger_vm_stats_get_net_rx_bytes:
 * @info: a #BangerVmStats
 *
 * Returns: bytes the guest received
 *
 * Since: 0.2
 */
guint64
banger_vm_stats_get_net_rx_bytes (BangerVmStats *info)
{
  g_return_val_if_fail (info != NULL, 0);
  return (guint64)json_object_get_int_member_with_default (info->obj, "net_rx_bytes", 0);
}

/**
 * banger_vm_stats_get_net_tx_bytes:
 * @info: a #BangerVmStats
 *
 * Returns: bytes the guest sent
 *
 * Since: 0.2
 */
guint64
banger_vm_stats_get_net_tx_bytes (BangerVmStats *info)
{
  g_return_val_if_fail (info != NULL, 0);
  return (guint64)json_object_get_int_member_with_default (info->obj, "net_tx_bytes", 0);
}

/**
 * banger_vm_stats_get_state:
 * @info: a #BangerVmStats
 *
 * Returns: the VM's state when the figures were read (running or paused)
 *
 * Since: 0.2
 */
BangerVmState
banger_vm_stats_get_state (BangerVmStats *info)
{
  BangerVmState s = BANGER_VM_STATE_RUNNING;

  g_return_val_if_fail (info != NULL, BANGER_VM_STATE_RUNNING);
  banger_vm_state_from_string (json_object_get_string_member_with_default (info->obj, "state", ""),
                               &s);
  return s;
}
