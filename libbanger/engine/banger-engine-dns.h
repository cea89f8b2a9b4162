/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The engine's DNS service (doc/dns.md, "In the daemon"): a BangerDnsTable
 * of running VMs kept current by the VM service, and a responder on the
 * bridge address, in a thread of its own with its own GMainContext (so it
 * answers whatever loop, if any, the embedding program runs).  Internal. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _BangerEngineDns BangerEngineDns;

/* @domain: NULL for banger.internal; @port: 53, or another (tests), 0: no
 * responder at all (the table is still kept). */
BangerEngineDns *banger_engine_dns_new (const char *domain, guint port, GError **error);
void banger_engine_dns_free (BangerEngineDns *dns);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BangerEngineDns, banger_engine_dns_free)

const char *banger_engine_dns_get_domain (BangerEngineDns *dns);

/* Start answering on @address (the bridge's, dotted quad) for the VM
 * network @network/@prefix (host byte order; PTR inside it).  Idempotent:
 * TRUE at once when already answering there.  Binding port 53 needs root
 * or CAP_NET_BIND_SERVICE (PERMISSION_DENIED otherwise). */
gboolean banger_engine_dns_start (BangerEngineDns *dns, const char *address, guint32 network,
                                  guint prefix, GError **error);
gboolean banger_engine_dns_is_running (BangerEngineDns *dns);
/* The port actually bound (0 when not running). */
guint banger_engine_dns_get_bound_port (BangerEngineDns *dns);

/* A VM came up at @ip / went away. */
void banger_engine_dns_set (BangerEngineDns *dns, const char *name, const char *ip);
void banger_engine_dns_remove (BangerEngineDns *dns, const char *name);

G_END_DECLS
