/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * From the public BangerMachineConfig to the drivers' BangerVmmConfig. */
#pragma once

#include "banger-machine-config.h"
#include "banger-vmm-private.h"

G_BEGIN_DECLS

/* A deep copy of @config's settings for a driver (transfer full).  @config
 * must be sealed. */
BangerVmmConfig *banger_machine_config_to_vmm_config (BangerMachineConfig *config);

G_END_DECLS
