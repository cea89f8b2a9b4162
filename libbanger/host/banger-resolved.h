/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Per-link DNS routing in systemd-resolved over D-Bus
 * (org.freedesktop.resolve1.Manager on the system bus), what
 * `resolvectl dns LINK ADDR; resolvectl domain LINK ~DOMAIN…;
 * resolvectl default-route LINK false` do. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* SetLinkDNS(@ifindex, [(AF_INET, @dns_addr)]), SetLinkDomains(@ifindex,
 * [(d, true) for d in @routing_domains]) (routing-only: "~d"), then
 * SetLinkDefaultRoute(@ifindex, false), bounded by 5 s each.  UNSUPPORTED
 * when there is no system bus or resolved is not on it (nothing changed);
 * FAILED with resolved's message otherwise.  @dns_addr: host byte order. */
gboolean banger_resolved_set_link (int ifindex, guint32 dns_addr,
                                   const char *const *routing_domains, GCancellable *cancellable,
                                   GError **error);

/* Tests: talk to the bus at @address instead of the system bus (NULL:
 * back to the system bus).  Not thread-safe; call before any use. */
void banger_resolved_set_bus_address_for_testing (const char *address);

G_END_DECLS
