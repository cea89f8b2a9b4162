/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The workspace sync planner (doc/workspace.md, "The rule"): a pure
 * function over four manifests — each side as it was at the last sync
 * (the base) and as it is now — that says what a push or a pull does,
 * which paths are in conflict and which changes wait for the other
 * direction; and the base to record once the steps are done.
 * Internal API. */
#pragma once

#include "banger-ws-manifest.h"

G_BEGIN_DECLS

typedef enum
{
  BANGER_WS_DIRECTION_STATUS, /* plan nothing, only report */
  BANGER_WS_DIRECTION_PUSH,   /* host -> guest */
  BANGER_WS_DIRECTION_PULL,   /* guest -> host */
} BangerWsDirection;

typedef enum
{
  BANGER_WS_STEP_DELETE, /* remove the path on the far side (a dir: must end up empty) */
  BANGER_WS_STEP_PUT,    /* make the far side's path equal to the near side's entry */
} BangerWsStepKind;

typedef struct
{
  BangerWsStepKind kind;
  char *path;
  BangerWsEntry *entry; /* PUT: a copy of the near side's entry (the executor may fill its hash) */
} BangerWsStep;

typedef struct
{
  BangerWsDirection direction;
  /* deletes first, deepest first; then puts, parents first */
  GPtrArray *steps;         /* BangerWsStep* */
  GPtrArray *conflicts;     /* char*: changed on both sides, different now; left alone */
  GPtrArray *host_changes;  /* char*: changed on the host only, not part of this plan */
  GPtrArray *guest_changes; /* char*: changed in the guest only, not part of this plan */
  GHashTable *agreed;       /* paths changed on both sides to the same thing */
} BangerWsPlan;

void banger_ws_plan_free (BangerWsPlan *plan);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BangerWsPlan, banger_ws_plan_free)

/* Whether @now differs from @base (one side's entry then and now; either
 * may be NULL: absent). */
gboolean banger_ws_entry_changed (const BangerWsEntry *base, const BangerWsEntry *now);
/* Whether the two sides hold the same thing, as far as the manifests
 * tell (files: same size and the same known hash). */
gboolean banger_ws_entries_agree (const BangerWsEntry *host, const BangerWsEntry *guest);

/* @force: conflicts go the plan's way (push: the host wins; pull: the
 * guest wins) instead of being left alone. */
BangerWsPlan *banger_ws_plan_make (const BangerWsManifest *base_host,
                                   const BangerWsManifest *base_guest,
                                   const BangerWsManifest *host, const BangerWsManifest *guest,
                                   BangerWsDirection direction, gboolean force);

/* The base after @plan's steps all succeeded: paths in sync take both
 * sides' current entries (a PUT's far side = the near entry, the guest's
 * mtime in whole seconds), pending and conflicting paths keep their old
 * base, so they are still seen as changed next time. */
void banger_ws_plan_next_base (const BangerWsPlan *plan, const BangerWsManifest *base_host,
                               const BangerWsManifest *base_guest, const BangerWsManifest *host,
                               const BangerWsManifest *guest, BangerWsManifest **out_base_host,
                               BangerWsManifest **out_base_guest);

G_END_DECLS
