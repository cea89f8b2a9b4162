/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * BangerCowStrategy, public (0.2): how a VM's root disk is made
 * copy-on-write over its image (doc/disks.md).  The disks themselves:
 * banger-cow-disk.h (private), banger_priv_backend_create_cow_disk()
 * (public). */
#pragma once

#if !defined(__BANGER_H_INSIDE__) && !defined(BANGER_COMPILATION)
#error "Only <banger.h> can be included directly."
#endif

#include <glib.h>

#include <banger-macros.h>

G_BEGIN_DECLS

/**
 * BangerCowStrategy:
 * @BANGER_COW_STRATEGY_DM_SNAPSHOT: a device-mapper snapshot of the image
 *   over a sparse copy-on-write store (needs device-mapper and a privileged
 *   backend).
 * @BANGER_COW_STRATEGY_REFLINK: a reflink (`FICLONE`) of the image: the
 *   same extents, shared until written (btrfs, xfs with reflink).
 * @BANGER_COW_STRATEGY_SPARSE_COPY: a copy of the image's data extents
 *   only; holes stay holes.
 *
 * How a root disk is made copy-on-write over its image; the first that
 * works here, in this order, is chosen.
 *
 * Since: 0.2
 */
typedef enum {
  BANGER_COW_STRATEGY_DM_SNAPSHOT = 0,
  BANGER_COW_STRATEGY_REFLINK = 1,
  BANGER_COW_STRATEGY_SPARSE_COPY = 2,
} BangerCowStrategy;

BANGER_AVAILABLE_IN_0_2
const char *banger_cow_strategy_to_string (BangerCowStrategy strategy);

G_END_DECLS
