/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * BangerMachineStats (see banger-machine-stats.h). */
#include "config.h"

#include "banger-machine-stats-private.h"

/**
 * BangerMachineStats:
 *
 * A VMM process's use of the host at one moment: CPU time, resident memory,
 * and the guest's network and disk bytes where its driver can read them.
 * A refcounted boxed value; see banger_vmm_get_stats().
 *
 * Since: 0.2
 */
struct _BangerMachineStats
{
  gint ref_count;
  BangerVmmStats stats;
};

G_DEFINE_BOXED_TYPE (BangerMachineStats, banger_machine_stats, banger_machine_stats_ref,
                     banger_machine_stats_unref)

BangerMachineStats *
banger_machine_stats_new (const BangerVmmStats *stats)
{
  BangerMachineStats *self = g_new0 (BangerMachineStats, 1);

  self->ref_count = 1;
  self->stats = *stats;
  return self;
}

/**
 * banger_machine_stats_ref:
 * @stats: a #BangerMachineStats
 *
 * Returns: (transfer full): @stats
 *
 * Since: 0.2
 */
BangerMachineStats *
banger_machine_stats_ref (BangerMachineStats *stats)
{
  g_return_val_if_fail (stats != NULL, NULL);
  g_atomic_int_inc (&stats->ref_count);
  return stats;
}

/**
 * banger_machine_stats_unref:
 * @stats: (transfer full): a #BangerMachineStats
 *
 * Since: 0.2
 */
void
banger_machine_stats_unref (BangerMachineStats *stats)
{
  g_return_if_fail (stats != NULL);
  if (g_atomic_int_dec_and_test (&stats->ref_count))
    g_free (stats);
}

/**
 * banger_machine_stats_get_cpu_user_us:
 * @stats: a #BangerMachineStats
 *
 * Returns: CPU time the VMM process spent in user mode, in microseconds (`/proc/<pid>/stat`)
 *
 * Since: 0.2
 */
guint64
banger_machine_stats_get_cpu_user_us (BangerMachineStats *stats)
{
  g_return_val_if_fail (stats != NULL, 0);
  return stats->stats.cpu_user_us;
}

/**
 * banger_machine_stats_get_cpu_system_us:
 * @stats: a #BangerMachineStats
 *
 * Returns: CPU time it spent in the kernel, in microseconds
 *
 * Since: 0.2
 */
guint64
banger_machine_stats_get_cpu_system_us (BangerMachineStats *stats)
{
  g_return_val_if_fail (stats != NULL, 0);
  return stats->stats.cpu_system_us;
}

/**
 * banger_machine_stats_get_rss_bytes:
 * @stats: a #BangerMachineStats
 *
 * Returns: its resident memory in bytes (`VmRSS`)
 *
 * Since: 0.2
 */
guint64
banger_machine_stats_get_rss_bytes (BangerMachineStats *stats)
{
  g_return_val_if_fail (stats != NULL, 0);
  return stats->stats.rss_bytes;
}

/**
 * banger_machine_stats_get_net_rx_bytes:
 * @stats: a #BangerMachineStats
 *
 * Returns: bytes the guest received on its network interfaces, where the driver reads them (Firecracker metrics), else 0
 *
 * Since: 0.2
 */
guint64
banger_machine_stats_get_net_rx_bytes (BangerMachineStats *stats)
{
  g_return_val_if_fail (stats != NULL, 0);
  return stats->stats.net_rx_bytes;
}

/**
 * banger_machine_stats_get_net_tx_bytes:
 * @stats: a #BangerMachineStats
 *
 * Returns: bytes the guest sent, where the driver reads them, else 0
 *
 * Since: 0.2
 */
guint64
banger_machine_stats_get_net_tx_bytes (BangerMachineStats *stats)
{
  g_return_val_if_fail (stats != NULL, 0);
  return stats->stats.net_tx_bytes;
}

/**
 * banger_machine_stats_get_block_read_bytes:
 * @stats: a #BangerMachineStats
 *
 * Returns: bytes the guest read from its disks (Firecracker metrics, QEMU `query-blockstats`), else 0
 *
 * Since: 0.2
 */
guint64
banger_machine_stats_get_block_read_bytes (BangerMachineStats *stats)
{
  g_return_val_if_fail (stats != NULL, 0);
  return stats->stats.block_read_bytes;
}

/**
 * banger_machine_stats_get_block_write_bytes:
 * @stats: a #BangerMachineStats
 *
 * Returns: bytes the guest wrote to its disks, where the driver reads them, else 0
 *
 * Since: 0.2
 */
guint64
banger_machine_stats_get_block_write_bytes (BangerMachineStats *stats)
{
  g_return_val_if_fail (stats != NULL, 0);
  return stats->stats.block_write_bytes;
}
