/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * NAT in banger's own nftables table (libnftables), never anywhere else:
 *
 *   table ip <banger> {
 *     comment "banger:<install id|->:nat"
 *     set nat_sources { type ipv4_addr; elements = { <guest ip> comment "banger-vm:<id>", … } }
 *     chain postrouting { nat hook; ip saddr @nat_sources oifname != "bng*" masquerade }
 *     chain forward { filter hook; saddr @nat_sources accept; replies accept }
 *   }
 *
 * The table is created only when absent, with the comment above as this
 * install's marker; a table of that name without the marker is somebody
 * else's and is refused (PERMISSION_DENIED) by every call below.
 * Each change is one atomic batch.  Only banger's chains are ever flushed
 * (to re-state their rules idempotently); nothing else is flushed or read
 * back except banger's own set. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define BANGER_NFT_DEFAULT_TABLE "banger"
#define BANGER_NFT_SET "nat_sources"

/* Can this process talk to nf_tables (read-only probe)? */
gboolean banger_nft_available (void);
/* [a-z0-9_], 1..32 bytes. */
gboolean banger_nft_validate_table (const char *table, GError **error);

gboolean banger_nft_nat_enable (const char *table, const char *vm_id, const char *guest_ip,
                                GError **error);
/* Removes every element of @vm_id; a missing table or set is success. */
gboolean banger_nft_nat_disable (const char *table, const char *vm_id, guint *out_removed,
                                 GError **error);
/* The guest addresses in banger's set tagged with @vm_id (for tests and
 * cleanup).  An empty array when the table is absent. */
GStrv banger_nft_list_vm (const char *table, const char *vm_id, GError **error);

/* The same for install @install_id (NULL: none): the marker names it, and
 * enable refuses a new element when the set already holds @max_elements
 * (LIMIT_EXCEEDED).  The plain functions above are these with NULL and no
 * cap. */
gboolean banger_nft_nat_enable_for (const char *table, const char *install_id, const char *vm_id,
                                    const char *guest_ip, guint max_elements, GError **error);
gboolean banger_nft_nat_disable_for (const char *table, const char *install_id,
                                     const char *vm_id, guint *out_removed, GError **error);
GStrv banger_nft_list_vm_for (const char *table, const char *install_id, const char *vm_id,
                              GError **error);
/* The VM ids of every element of banger's set (the "banger-vm:<id>"
 * comments), once each; empty when the table is absent. */
GStrv banger_nft_list_vm_ids_for (const char *table, const char *install_id, GError **error);

G_END_DECLS
