/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The one MAC derivation for a VM's NIC, shared by the VMM drivers (vmm/:
 * the MAC the NIC gets, the seed disk's mac= line) and the root helper
 * (host/: priv.neigh_set accepts no other MAC for the VM). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* A stable, locally administered unicast MAC derived from the VM id and the
 * NIC index: "02:" + 5 bytes of SHA-256(vm_id + "/" + index). */
char *banger_vm_mac_for (const char *vm_id, guint nic_index);

G_END_DECLS
