/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Port publishes (DNAT) and egress policies in banger's own nftables table
 * (the table of banger-nft.h, same marker), next to the NAT set:
 *
 *   chain publish            { <one dnat rule per publish, comment
 *                               "banger-vm:<id> publish <canonical>"> }
 *   chain publish_prerouting { type nat hook prerouting priority dstnat; jump publish }
 *   chain publish_output     { type nat hook output priority dstnat; jump publish }
 *   chain egress             { <per VM: ip saddr G ip daddr GW accept,
 *                               [ip saddr G ip daddr { CIDRs } accept,]
 *                               ip saddr G ct state established,related accept,
 *                               ip saddr G drop; comment "banger-vm:<id> egress <tag>"> }
 *   chain egress_forward     { type filter hook forward priority -1; jump egress }
 *   chain egress_input       { type filter hook input priority -1; jump egress }
 *
 * A VM's rules are found again by their comments (after a crash too) and
 * replaced or deleted by handle, in one atomic batch each.  Nothing outside
 * banger's table is read or changed. */
#pragma once

#include <glib.h>

#include "banger-reach.h"

G_BEGIN_DECLS

/* Most publish rules in the table, all VMs together (a per-owner cap). */
#define BANGER_NFT_PUBLISH_MAX_TOTAL 1024

/* Replace @vm_id's publishes with @list (GArray of BangerPublish; empty:
 * remove them) towards @guest_ip.  Refused, with nothing changed:
 *  - BUSY when a host port is taken by another VM's publish (overlap as
 *    banger_publish_overlaps) or by a socket bound on this host (a bind
 *    test: EADDRINUSE), except a publish the VM already holds;
 *  - INVALID_ARGUMENT when a host address is not one of this host's
 *    (0.0.0.0 is every local address) or is a loopback address;
 *  - LIMIT_EXCEEDED beyond BANGER_NFT_PUBLISH_MAX_TOTAL rules. */
gboolean banger_nft_publish_set (const char *table, const char *install_id, const char *vm_id,
                                 const char *guest_ip, GArray *list, GError **error);
/* @vm_id's publishes as they are in the table ("" when none), canonical
 * texts comma-joined; @vm_id NULL: every VM's, as "<vm_id> <canonical>"
 * lines. */
char *banger_nft_publish_list (const char *table, const char *install_id, const char *vm_id,
                               GError **error);

/* Set @vm_id's egress policy (banger_egress_parse text) for @guest_ip whose
 * link's host side is @gateway: "nat" removes its rules (no restriction). */
gboolean banger_nft_egress_set (const char *table, const char *install_id, const char *vm_id,
                                const char *guest_ip, const char *gateway, const char *egress,
                                GError **error);
/* What banger_nft_egress_get answers for a policy: "nat", "none", or
 * "cidrs:<16 hex of SHA-256 of the canonical list>" (a rule comment holds
 * at most 128 bytes, so the list itself is not stored there). */
char *banger_nft_egress_tag (const char *egress, GError **error);
/* @vm_id's egress policy tag as in the table ("nat" when it has no rules). */
char *banger_nft_egress_get (const char *table, const char *install_id, const char *vm_id,
                             GError **error);

/* Delete every publish and egress rule of @vm_id (a missing table or chain
 * is success); @out_removed (nullable) counts the rules. */
gboolean banger_nft_reach_clear (const char *table, const char *install_id, const char *vm_id,
                                 guint *out_removed, GError **error);

G_END_DECLS
