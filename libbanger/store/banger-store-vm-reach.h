/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * How a VM is reached (the vm_reach table, one row per VM, removed with it):
 * its port publishes and its egress policy, in the canonical texts of
 * core/banger-reach.h (publish: comma-joined list, "" for none; egress:
 * "nat", "none" or a CIDR list).  Checked here with the same parsers. */
#pragma once

#include "banger-store.h"

G_BEGIN_DECLS

/* NOT_FOUND when there is no VM @vm_id; INVALID_ARGUMENT for texts the
 * parsers refuse. */
gboolean banger_store_vm_reach_set (BangerStore *store, const char *vm_id, const char *publish,
                                    const char *egress, GError **error);
/* A VM without a row has "" and "nat". */
gboolean banger_store_vm_reach_get (BangerStore *store, const char *vm_id, char **out_publish,
                                    char **out_egress, GError **error);

G_END_DECLS
