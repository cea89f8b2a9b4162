/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * How VMs are reached, on the engine's side (doc/dns.md, doc/host.md "Port
 * forwards and egress"): the bridge coming up with the DNS responder on its
 * address and systemd-resolved routing; each VM's publishes and egress
 * policy (stored in vm_reach, applied through priv.publish_set /
 * priv.egress_set at boot and at reconcile, removed by priv.cleanup_vm);
 * the DNS table kept current.  Internal. */
#pragma once

#include <glib.h>

#include "banger-engine-config.h"
#include "banger-engine.h"

G_BEGIN_DECLS

/* [network] domain= and dns-port= of the daemon's config (strict). */
gboolean banger_engine_config_load_reach (BangerEngineConfig *config, GKeyFile *kf,
                                          const char *path, GError **error);

/* The bridge with the subnet's first address (priv.create_bridge, once per
 * engine), then the DNS responder on that address and the per-link
 * resolved routing (each logged, not fatal, when it cannot be had). */
gboolean banger_engine_reach_network_up (BangerEngine *e, const char *op_id, GError **error);

/* Parse and check a create's publishes and egress: the texts, no overlap
 * inside the list or with the publishes of a running VM other than @name
 * (BUSY; a VM of that name makes the create fail with ALREADY_EXISTS).  The canonical
 * texts on success. */
gboolean banger_engine_reach_check_spec (BangerEngine *e, const char *name,
                                         const char *const *publish, const char *egress,
                                         char **out_publish, char **out_egress, GError **error);

/* Apply @vm_id's stored publishes and egress for its address @ip
 * (idempotent: reconcile re-applies).  BUSY when a host port is taken. */
gboolean banger_engine_reach_apply (BangerEngine *e, const char *vm_id, const char *ip,
                                    const char *op_id, GCancellable *cancellable, GError **error);
/* Remove them (priv.publish_set "" and priv.egress_set nat); logged. */
void banger_engine_reach_clear (BangerEngine *e, const char *vm_id, const char *ip,
                                const char *op_id);

/* The DNS table: a VM is up at @ip / is gone. */
void banger_engine_reach_vm_up (BangerEngine *e, const char *name, const char *ip);
void banger_engine_reach_vm_down (BangerEngine *e, const char *name);

/* `vm port`: the stored publishes of @name (canonical, comma-joined), its
 * egress, and while it runs what banger's table holds for it
 * (*@out_active; NULL when stopped). */
gboolean banger_engine_vm_ports (BangerEngine *e, const char *name, char **out_publish,
                                 char **out_egress, char **out_active, GError **error);

G_END_DECLS
