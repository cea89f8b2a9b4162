/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The install configuration: who owns this banger installation and the fixed
 * paths the root helper uses.  A GKeyFile, by default
 * BANGER_SYSCONFDIR/banger/install.conf, written by
 * `banger system install --owner USER` and read by bangerd-root.  Format and
 * keys: doc/install-config.md. */
#pragma once

#include <glib.h>
#include <sys/types.h>

G_BEGIN_DECLS

#define BANGER_INSTALL_CONFIG_GROUP "install"
#define BANGER_INSTALL_HELPER_GROUP "helper"

typedef struct
{
  char *owner_user;        /* informational: the owner's name when written */
  uid_t owner_uid;         /* the one non-root uid allowed to call bangerd-root */
  gid_t owner_gid;
  char *runtime_dir;       /* default /run/banger */
  char *state_dir;         /* default /var/lib/banger */
  char *firecracker_path;  /* nullable: fixed root-owned binaries */
  char *jailer_path;       /* nullable */
  char *qemu_path;         /* nullable */
  char *cgroup_root;       /* nullable: default <cgroup2 mount>/banger.slice */
  char *nft_table;         /* default "banger" */
  char *socket_path;       /* default <runtime_dir>/bangerd-root.sock */
  guint max_connections_per_uid; /* default 16 */
  guint message_timeout_ms;      /* a started message must end within this; default 5000 */
  guint idle_timeout_ms;         /* a connection with no request for this long is closed; default 600000 */
  char *install_id;        /* nullable: [a-z0-9]{1,8}, mixed into every derived host name */
  char *vm_network;        /* "a.b.c.d/len": the only place tap/bridge addresses may go */
  guint max_vmms;          /* per-owner caps (the owner is the one non-root caller) */
  guint max_taps;
  guint max_bridges;
  guint max_nat_elements;
} BangerInstallConfig;

/* Defaults of the keys above (doc/install-config.md). */
#define BANGER_INSTALL_DEFAULT_VM_NETWORK "172.30.0.0/16"
#define BANGER_INSTALL_DEFAULT_MAX_VMMS 64
#define BANGER_INSTALL_DEFAULT_MAX_TAPS 256
#define BANGER_INSTALL_DEFAULT_MAX_BRIDGES 16
#define BANGER_INSTALL_DEFAULT_MAX_NAT_ELEMENTS 256
/* Descriptors kept free for root and the helper's own work: the per-owner
 * caps (connections + VMM pidfds) must fit in RLIMIT_NOFILE minus this. */
#define BANGER_INSTALL_FD_RESERVE 64

typedef enum
{
  BANGER_INSTALL_CONFIG_LOAD_NONE = 0,
  /* The file must be a regular file owned by root and not writable by group
   * or others (what bangerd-root requires: the file decides who is trusted
   * and which binaries run as root). */
  BANGER_INSTALL_CONFIG_LOAD_CHECK_OWNERSHIP = 1 << 0,
} BangerInstallConfigLoadFlags;

BangerInstallConfig *banger_install_config_new (void);
void banger_install_config_free (BangerInstallConfig *config);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BangerInstallConfig, banger_install_config_free)

/* The default path: BANGER_SYSCONFDIR "/banger/install.conf". */
const char *banger_install_config_default_path (void);

/* Strict: unknown groups or keys, relative or non-normalised paths, a bad
 * table name, a root owner or out-of-range limits are refused
 * (BANGER_ERROR_INVALID_ARGUMENT, the message naming the key). */
BangerInstallConfig *banger_install_config_load (const char *path,
                                                 BangerInstallConfigLoadFlags flags,
                                                 GError **error);
BangerInstallConfig *banger_install_config_load_from_data (const char *data, gsize len,
                                                           GError **error);

/* Parse "a.b.c.d/len" (host byte order); FALSE without an error set when
 * it is not exactly that shape. */
gboolean banger_install_parse_cidr (const char *cidr, guint32 *out_addr, guint *out_prefix);

/* Check a config built in memory with the same rules as the loader. */
gboolean banger_install_config_validate (const BangerInstallConfig *config, GError **error);

/* The file text, and an atomic write of it (mode 0644). */
char *banger_install_config_to_data (const BangerInstallConfig *config);
gboolean banger_install_config_save (const BangerInstallConfig *config, const char *path,
                                     GError **error);

G_END_DECLS
