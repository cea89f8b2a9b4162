/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The DNS responder: a UDP socket and a TCP listener bound to an address
 * the caller gives (the host side of the VM network), answering from a
 * BangerDnsTable through banger_dns_answer().  Asynchronous on the
 * thread-default GMainContext of the thread that creates it; create, use
 * and free it on that thread (the table it reads is thread-safe and may be
 * updated from anywhere).  Internal API; doc/dns.md. */
#pragma once

#include <gio/gio.h>

#include "banger-dns-table.h"

G_BEGIN_DECLS

/* Bounds on what TCP clients can hold: open connections, and how long an
 * idle one stays open (RFC 7766 6.2.3 suggests seconds). */
#define BANGER_DNS_TCP_MAX_CONNECTIONS 32
#define BANGER_DNS_TCP_IDLE_MS 10000

typedef struct _BangerDnsResponder BangerDnsResponder;

/* Bind to @address (port 0: any free port, the same for UDP and TCP) and
 * start answering.  Errors: BANGER_ERROR_BUSY (address in use),
 * BANGER_ERROR_PERMISSION_DENIED (a privileged port without the
 * capability), BANGER_ERROR_FAILED otherwise (e.g. not an address of
 * this host). */
BangerDnsResponder *banger_dns_responder_new (BangerDnsTable *table, GInetSocketAddress *address,
                                              GError **error);
/* The address actually bound (with the port chosen for port 0); the
 * responder's own (transfer none). */
GInetSocketAddress *banger_dns_responder_get_address (BangerDnsResponder *responder);
/* Queries received / responses sent so far, both transports. */
guint64 banger_dns_responder_get_received (BangerDnsResponder *responder);
guint64 banger_dns_responder_get_answered (BangerDnsResponder *responder);
/* Stop answering, close the sockets and every TCP connection. */
void banger_dns_responder_free (BangerDnsResponder *responder);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (BangerDnsResponder, banger_dns_responder_free)

G_END_DECLS
