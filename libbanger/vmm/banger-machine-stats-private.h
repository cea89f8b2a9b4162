/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * From the drivers' BangerVmmStats to the public BangerMachineStats. */
#pragma once

#include "banger-machine-stats.h"
#include "banger-vmm-private.h"

G_BEGIN_DECLS

BangerMachineStats *banger_machine_stats_new (const BangerVmmStats *stats);

G_END_DECLS
