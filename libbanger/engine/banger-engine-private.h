/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The engine's insides, shared by its service files. */
#pragma once

#include "banger-engine-events.h"
#include "banger-engine-dns.h"
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
  BangerEngineDns *dns; /* the <vm>.<domain> table and responder (banger-engine-reach.c) */
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
/* The driver object of a VM this engine launched (a new reference), or
 * NULL (not running, or adopted at start-up). */
BangerVmm *banger_engine_lookup_vmm (BangerEngine *self, const char *vm_id);

/* A VM made from a snapshot (banger-engine-snapshot.c): what differs from
 * a create, as hooks into the create step runner of banger-engine-vm.c. */
typedef struct
{
  gpointer data;
  /* the VM's disks into @vm_dir (made, empty); sets @vm->rootfs_cow */
  gboolean (*disks) (gpointer data, BangerStoreVm *vm, const char *vm_dir,
                     GCancellable *cancellable, GError **error);
  /* instead of configure + start: load the snapshot into @vmm, launched
   * for it, and resume */
  gboolean (*load) (gpointer data, BangerVmm *vmm, GCancellable *cancellable, GError **error);
  /* nullable: the files @load will load (after @disks), for a launcher
   * that stages them into a jail before the VMM starts */
  void (*files) (gpointer data, const char **out_state, const char **out_mem);
} BangerEngineRestore;

/* Records @want (state creating) and runs the restore steps: disks →
 * lease → tap → nat → launch → load → ssh, each undone on a failure as in
 * a create (the VM is then failed, at its step).  Under @want->name's lock. */
BangerEngineVmInfo *banger_engine_vm_restore_steps (BangerEngine *self, const BangerStoreVm *want,
                                                    const BangerEngineRestore *restore,
                                                    const char *op_id, GCancellable *cancellable,
                                                    GError **error);

/* The seed disk of @config's VM (doc/guest.md): one 4 KiB block, "BANGER-SEED 1",
 * then id=, ip= (as the kernel argument) and mac= lines, zero-padded. */
gboolean banger_engine_seed_write (const char *path, const BangerVmmConfig *config, GError **error);

/* rm -rf of a directory the engine made (no symlinks followed). */
gboolean banger_engine_remove_tree (const char *path, GError **error);

G_END_DECLS
