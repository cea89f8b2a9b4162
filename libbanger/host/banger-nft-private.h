/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Shared by banger-nft.c (NAT) and banger-nft-reach.c (publishes, egress):
 * one libnftables context helper, one batch runner and one check that the
 * table is this install's (see banger-nft.h). */
#pragma once

#include <glib.h>
#include <nftables/libnftables.h>

G_BEGIN_DECLS

typedef struct nft_ctx BangerNftCtx;
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BangerNftCtx, nft_ctx_free)

/* A context with buffered output and errors (JSON output when @json); NULL
 * when no netlink socket can be opened (libnftables would exit instead). */
struct nft_ctx *banger_nft_ctx_new (gboolean json);
/* One atomic batch: all of it applies or none (FAILED with nft's message). */
gboolean banger_nft_run (struct nft_ctx *ctx, const char *cmds, GError **error);
/* Does @table exist, and is it this install's (comment @marker)?  FALSE with
 * PERMISSION_DENIED for a table of that name without the marker. */
gboolean banger_nft_check_table (const char *table, const char *marker, gboolean *out_exists,
                                 GError **error);

G_END_DECLS
