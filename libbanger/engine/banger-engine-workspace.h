/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The workspace service (doc/workspace.md): a host directory bound to a VM
 * at create, pushed into the guest over SFTP at boot and on demand (vm
 * exec pushes when the host side changed), pulled back before a graceful
 * stop.  The binding and the record of the last sync live in
 * <state>/vms/<id>/workspace.json. */
#pragma once

#include "banger-engine.h"

G_BEGIN_DECLS

#define BANGER_ENGINE_WORKSPACE_GUEST_DEFAULT "/workspace"

typedef enum
{
  BANGER_ENGINE_WS_STATUS,
  BANGER_ENGINE_WS_PUSH,
  BANGER_ENGINE_WS_PULL,
} BangerEngineWsMode;

typedef enum
{
  BANGER_ENGINE_WS_FLAGS_NONE = 0,
  /* conflicts resolved for the side the sync goes from (push: host wins) */
  BANGER_ENGINE_WS_FORCE = 1 << 0,
  /* push only: do nothing (no guest contact) unless the host side changed
   * since the last sync */
  BANGER_ENGINE_WS_IF_DIRTY = 1 << 1,
} BangerEngineWsFlags;

typedef struct
{
  char *host_dir;
  char *guest_dir;
  gboolean bound;        /* FALSE: the VM has no workspace (nothing else set) */
  gboolean skipped;      /* IF_DIRTY and the host side is clean */
  guint n_copied;        /* entries written on the far side */
  guint n_deleted;       /* entries removed on the far side */
  guint64 bytes;         /* file bytes sent or received */
  GPtrArray *conflicts;  /* paths changed on both sides, left alone */
  GPtrArray *host_changes;  /* paths the host changed, not (yet) pushed */
  GPtrArray *guest_changes; /* paths the guest changed, not (yet) pulled */
} BangerEngineWsReport;

void banger_engine_ws_report_free (BangerEngineWsReport *report);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BangerEngineWsReport, banger_engine_ws_report_free)

/* Parses "DIR[:GUESTDIR]" (DIR absolute; GUESTDIR absolute, default
 * /workspace), canonicalises DIR and checks the tree (every symlink stays
 * inside DIR).  INVALID_ARGUMENT naming what is wrong, NOT_FOUND for a
 * missing DIR. */
gboolean banger_engine_workspace_parse (const char *spec, char **out_host_dir,
                                        char **out_guest_dir, GError **error);

/* Writes the binding (no sync record yet) into @vm_dir. */
gboolean banger_engine_workspace_bind (const char *vm_dir, const char *host_dir,
                                       const char *guest_dir, GError **error);

/* Sync by name (the VM must be running). */
BangerEngineWsReport *banger_engine_vm_workspace_sync (BangerEngine *self, const char *name,
                                                       BangerEngineWsMode mode,
                                                       BangerEngineWsFlags flags,
                                                       const char *op_id,
                                                       GCancellable *cancellable, GError **error);

/* For the lifecycle, with the VM's lock held by the caller: sync the VM
 * of @vm_id at @ip.  No binding: TRUE, nothing done. */
BangerEngineWsReport *banger_engine_workspace_sync_locked (BangerEngine *self, const char *vm_id,
                                                           const char *ip,
                                                           BangerEngineWsMode mode,
                                                           BangerEngineWsFlags flags,
                                                           const char *op_id,
                                                           GCancellable *cancellable,
                                                           GError **error);

/* Before a graceful stop: pull; CONFLICT (the VM keeps running) when a
 * path changed on both sides. */
gboolean banger_engine_workspace_pull_before_stop (BangerEngine *self, const char *vm_id,
                                                   const char *op_id, GCancellable *cancellable,
                                                   GError **error);

G_END_DECLS
