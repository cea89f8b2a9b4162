/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * libbanger — run and manage microVMs.
 *
 * This umbrella header is the only one consumers include:
 *
 *   #include <banger.h>
 */
#pragma once

#define __BANGER_H_INSIDE__

#include <banger-macros.h>
#include <banger-version.h>
#include <banger-error.h>
#include <banger-enum-types.h>
#include <banger-names.h>
#include <banger-path.h>
#include <banger-proc.h>
#include <banger-signal.h>
#include <banger-machine-config.h>
#include <banger-machine-stats.h>
#include <banger-vmm.h>
#include <banger-cow-strategy.h>
#include <banger-priv-backend.h>
#include <banger-vm-types.h>
#include <banger-client.h>
#include <banger-doctor-check.h>
#include <banger-client-events.h>
#include <banger-client-reach.h>
#include <banger-snapshot-types.h>
#include <banger-client-snapshot.h>
#include <banger-blob-store.h>
#include <banger-pulled-image.h>
#include <banger-registry-client.h>

#undef __BANGER_H_INSIDE__
