/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The engine's insides, shared by its service files. */
#pragma once

#include "banger-engine-events.h"
#include "banger-engine.h"
#include "banger-guest-key.h"
#include "banger-tap-pool.h"
#include "banger-vmm.h"

G_BEGIN_DECLS

struct _BangerEngine
{
  GObject parent_instance;
  BangerEngineConfig *config;
  BangerStore *store;
  BangerPrivBackend *backend;
  BangerGuestKey *key;  /* the install's ed25519 key (state_dir/ssh) */
  char *images_dir;     /* state_dir/images */
  char *kernels_dir;    /* state_dir/kernels */
  char *vms_dir;        /* state_dir/vms: one dir per VM id */
  GMutex lock;          /* guards the tables below */
  GHashTable *vmms;     /* VM id -> BangerVmm* of a running VM */
  GHashTable *vm_locks; /* VM name -> GMutex* (never removed) */
  GHashTable *taps;     /* VM id -> the tap name the backend made (while it exists) */
  gboolean bridge_ready;
  BangerEngineEvents *events; /* subscribers (banger-engine-events.c) */
  BangerTapPool *tap_pool; /* [pool] taps= (banger-tap-pool.h) */
  int dm_usable;           /* 0 not asked yet, 1 no, 2 yes (banger-engine-rootfs.c) */
  struct _BangerEnginePulls *pulls; /* banger-engine-pull.c */
};

/* The per-VM lock of @name (held for the whole of an operation). */
GMutex *banger_engine_vm_lock (BangerEngine *self, const char *name);

/* Log one line of operation @op_id's work. */
#define banger_engine_log(op_id, fmt, ...)                                                         \
  g_message ("op %s: " fmt, (op_id) ? (op_id) : "-", ##__VA_ARGS__)

/* Reconcile's second half (banger-engine-reconcile-orphans.c): orphan host
 * objects removed, the tap pool reconciled and started. */
gboolean banger_engine_reconcile_host (BangerEngine *self, GError **error);

/* dm-snapshot root disks (banger-engine-rootfs.c): does the privileged
 * backend report device-mapper (asked once); make @vm_id's snapshot device
 * over @image with the COW store @cow (its path, transfer full); remove it
 * (idempotent, failures logged). */
gboolean banger_engine_dm_usable (BangerEngine *self);
char *banger_engine_rootfs_attach (BangerEngine *self, const char *vm_id, const char *image,
                                   const char *cow, const char *op_id, GCancellable *cancellable,
                                   GError **error);
void banger_engine_rootfs_detach (BangerEngine *self, const char *vm_id, const char *op_id);

/* engine.status's host part: "rootfs_cow" (what a create would use now),
 * "rootfs_cow_detail", "tap_pool_size", "tap_pool_free". */
void banger_engine_status_host (BangerEngine *self, JsonBuilder *result);

/* rm -rf of a directory the engine made (no symlinks followed). */
gboolean banger_engine_remove_tree (const char *path, GError **error);

G_END_DECLS
