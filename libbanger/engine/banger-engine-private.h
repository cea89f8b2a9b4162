/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The engine's insides, shared by its service files. */
#pragma once

#include "banger-engine-dns.h"
#include "banger-engine.h"
#include "banger-guest-key.h"
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
  BangerEngineDns *dns; /* the <vm>.<domain> table and responder (banger-engine-reach.c) */
};

/* The per-VM lock of @name (held for the whole of an operation). */
GMutex *banger_engine_vm_lock (BangerEngine *self, const char *name);

/* Log one line of operation @op_id's work. */
#define banger_engine_log(op_id, fmt, ...)                                                         \
  g_message ("op %s: " fmt, (op_id) ? (op_id) : "-", ##__VA_ARGS__)

/* rm -rf of a directory the engine made (no symlinks followed). */
gboolean banger_engine_remove_tree (const char *path, GError **error);

G_END_DECLS
