/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The engine's SSH services (doc/ssh.md): what `banger vm ssh` needs to
 * exec OpenSSH (vm.ssh_info), and the ssh_config file the engine keeps
 * current as VMs come and go (<state dir>/ssh/config), which the user's
 * ~/.ssh/config includes. */
#pragma once

#include "banger-engine.h"

G_BEGIN_DECLS

typedef struct
{
  char *name;
  char *address;       /* the VM's IP */
  guint port;          /* 22 */
  char *user;          /* root */
  char *identity_file; /* the install key */
  char *known_hosts;   /* <state>/vms/<id>/known_hosts */
  char *host_alias;    /* <name>.<domain> */
  char *config_file;   /* <state>/ssh/config */
} BangerEngineSshInfo;

void banger_engine_ssh_info_free (BangerEngineSshInfo *info);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BangerEngineSshInfo, banger_engine_ssh_info_free)

/* <state dir>/ssh/config */
char *banger_engine_ssh_config_path (BangerEngine *self);

/* How to reach running VM @name with OpenSSH.  BUSY unless running;
 * NOT_FOUND for no such VM; FAILED when its host key was never recorded. */
BangerEngineSshInfo *banger_engine_vm_ssh_info (BangerEngine *self, const char *name,
                                                GError **error);

/* Rewrites the included ssh_config from the store: one block per VM
 * holding an IP lease.  Thread-safe; called after create, delete and at
 * start-up. */
gboolean banger_engine_ssh_config_refresh (BangerEngine *self, GError **error);

/* Logs (does not fail) when the refresh fails: for the lifecycle hooks. */
void banger_engine_ssh_config_refresh_logged (BangerEngine *self, const char *op_id);

G_END_DECLS
