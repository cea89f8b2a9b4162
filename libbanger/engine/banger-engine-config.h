/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * What an engine is made from: its state and runtime dirs and the keys of
 * the daemon's config file (a GKeyFile; every key is in doc/daemon.md). */
#pragma once

#include <glib.h>

#include "banger-engine-registries.h"
#include "banger-store.h"

G_BEGIN_DECLS

/* inside the install config's default VM network (172.30.0.0/16) */
#define BANGER_ENGINE_DEFAULT_SUBNET "172.30.1.0/24"
#define BANGER_ENGINE_BRIDGE "bngbr0"
/* How long vm.create and vm.start wait for the guest's SSH. */
#define BANGER_ENGINE_SSH_TIMEOUT_MS_DEFAULT 120000
#define BANGER_ENGINE_DNS_PORT_DEFAULT 53

typedef struct
{
  char *state_dir;            /* store, images, kernels, VM disks, the SSH key */
  char *runtime_dir;          /* VM run dirs (in-process executor), the socket */
  char *helper_socket;        /* [helper] socket=: bangerd-root; NULL: in-process (root only) */
  BangerStoreVmm default_vmm; /* [vmm] default= (qemu unless set) */
  char *firecracker_path;     /* [vmm] firecracker= */
  char *jailer_path;          /* [vmm] jailer= (NULL: none) */
  char *qemu_path;            /* [vmm] qemu= (default: qemu-system-x86_64 from PATH) */
  char *subnet;               /* [network] subnet= */
  gboolean nat;               /* [network] nat= (default true) */
  char *domain;               /* [network] domain= (default banger.internal) */
  guint dns_port;             /* [network] dns-port= (default 53; 0: no responder) */
  guint taps;                 /* [pool] taps=: free taps kept ready (banger-tap-pool.h) */
  char *cgroup_root;          /* [host] cgroup= (in-process: default <cgroup2>/banger.slice) */
  char *nft_table;            /* [host] nft-table= (in-process; default banger) */
  guint ssh_timeout_ms;       /* [guest] ssh-timeout-ms= */
  guint ssh_resend_ms;        /* [guest] ssh-resend-ms= (banger_guest_endpoint_set_wait_resend) */
  BangerEngineRegistries *registries; /* [registries] (banger-engine-registries.h) */
  gboolean wait_ssh;          /* [guest] wait-ssh= (default true; false: images without SSH) */
} BangerEngineConfig;

BangerEngineConfig *banger_engine_config_new (void);
void banger_engine_config_free (BangerEngineConfig *config);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BangerEngineConfig, banger_engine_config_free)

/* Read @path into @config (keys absent from the file keep their value).
 * Strict: an unknown group or key, or a bad value, is INVALID_ARGUMENT
 * naming it.  A missing file is NOT_FOUND. */
gboolean banger_engine_config_load (BangerEngineConfig *config, const char *path, GError **error);

/* The defaults of the XDG layout: $BANGER_STATE_DIR, else
 * $XDG_STATE_HOME/banger (~/.local/state/banger); $BANGER_RUNTIME_DIR, else
 * $XDG_RUNTIME_DIR/banger, else /run/banger for root, else
 * /tmp/banger-<uid>. */
char *banger_engine_default_state_dir (void);
char *banger_engine_default_runtime_dir (void);
/* <runtime dir>/bangerd.sock; $BANGER_SOCKET wins. */
char *banger_engine_default_socket (void);

G_END_DECLS
