/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * BangerMachineStats, public (0.2): what a VMM process uses, read by
 * banger_vmm_get_stats(). */
#pragma once

#if !defined(__BANGER_H_INSIDE__) && !defined(BANGER_COMPILATION)
#error "Only <banger.h> can be included directly."
#endif

#include <glib-object.h>

#include <banger-macros.h>

G_BEGIN_DECLS

typedef struct _BangerMachineStats BangerMachineStats;

#define BANGER_TYPE_MACHINE_STATS (banger_machine_stats_get_type ())
BANGER_AVAILABLE_IN_0_2
GType banger_machine_stats_get_type (void) G_GNUC_CONST;

BANGER_AVAILABLE_IN_0_2
BangerMachineStats *banger_machine_stats_ref (BangerMachineStats *stats);
BANGER_AVAILABLE_IN_0_2
void banger_machine_stats_unref (BangerMachineStats *stats);
BANGER_AVAILABLE_IN_0_2
guint64 banger_machine_stats_get_cpu_user_us (BangerMachineStats *stats);
BANGER_AVAILABLE_IN_0_2
guint64 banger_machine_stats_get_cpu_system_us (BangerMachineStats *stats);
BANGER_AVAILABLE_IN_0_2
guint64 banger_machine_stats_get_rss_bytes (BangerMachineStats *stats);
BANGER_AVAILABLE_IN_0_2
guint64 banger_machine_stats_get_net_rx_bytes (BangerMachineStats *stats);
BANGER_AVAILABLE_IN_0_2
guint64 banger_machine_stats_get_net_tx_bytes (BangerMachineStats *stats);
BANGER_AVAILABLE_IN_0_2
guint64 banger_machine_stats_get_block_read_bytes (BangerMachineStats *stats);
BANGER_AVAILABLE_IN_0_2
guint64 banger_machine_stats_get_block_write_bytes (BangerMachineStats *stats);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (BangerMachineStats, banger_machine_stats_unref)

G_END_DECLS
