/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Shared by the pull service's files (banger-engine-pull*.c) and its
 * tests. */
#pragma once

#include "banger-blob-store.h"
#include "banger-engine-pull.h"
#include "banger-image-ref.h"

G_BEGIN_DECLS

/* The engine's content store <state>/oci (opened on first use). */
BangerBlobStore *banger_engine_pull_get_blobs (BangerEngine *self, GError **error);

/* Fetch @ref into the content store, joined with a fetch of the same
 * (normalised) reference already running; its manifest's digest, and in
 * @out_total (nullable) the bytes of its config and layers. */
char *banger_engine_pull_fetch (BangerEngine *self, BangerImageRef *ref, const char *op_id,
                                guint64 *out_total, GCancellable *cancellable, GError **error);

/* Registry fetches started since the engine was made (joined ones count
 * once). */
guint banger_engine_pull_get_fetch_count (BangerEngine *self);

/* The lock of pulled object @kind/@name (held while it is built and
 * recorded). */
GMutex *banger_engine_pull_name_lock (BangerEngine *self, const char *kind, const char *name);

/* ALREADY_EXISTS for @kind @name pulled from @had_ref (NULL: added by
 * hand), asked for @ref; FALSE. */
gboolean banger_engine_pull_name_taken (const char *kind, const char *name, const char *had_ref,
                                        const char *ref, GError **error);

/* Held by a pull from its fetch until its record exists: prune waits. */
void banger_engine_pull_hold (BangerEngine *self);
void banger_engine_pull_release (BangerEngine *self);

void banger_engine_pull_report (BangerEngine *self, const BangerEngineProgress *progress);
void banger_engine_pull_report_phase (BangerEngine *self, const char *op_id, const char *ref,
                                      BangerEnginePullPhase phase, guint64 total_done,
                                      guint64 total_size);

/* The guest contract of doc/guest.md, what can be seen in the file
 * system: /sbin/init, /bin/sh, an SSH server (sshd or dropbear).  An image
 * lacking one is UNSUPPORTED naming what is missing. */
gboolean banger_engine_check_guest_contract (const char *ext4, const char *ref, GError **error);

G_END_DECLS
