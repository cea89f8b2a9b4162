/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The names the DNS responder answers: a domain (default "banger.internal")
 * and a table of VM name -> IPv4 address, updated by the caller at run time
 * while the responder reads it.  Thread-safe: every call takes the table's
 * own lock, so the daemon may update it from any thread while the responder
 * answers from its main context.  Refcounted.  Internal API (doc/dns.md). */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define BANGER_DNS_DEFAULT_DOMAIN "banger.internal"

/* The longest domain, in presentation form: with a 63-byte VM label in
 * front, a name stays within DNS's 255-octet limit. */
#define BANGER_DNS_DOMAIN_MAX 190

/* The most names one table holds (a bound on what callers can allocate). */
#define BANGER_DNS_TABLE_MAX 65536

typedef struct _BangerDnsTable BangerDnsTable;

BangerDnsTable *banger_dns_table_new (const char *domain, GError **error);
BangerDnsTable *banger_dns_table_ref (BangerDnsTable *table);
void banger_dns_table_unref (BangerDnsTable *table);

/* The domain, lowercase, without a trailing dot. */
const char *banger_dns_table_get_domain (BangerDnsTable *table);

/* Answer PTR queries for the addresses of @network/@prefix_len with
 * NXDOMAIN when no VM has the address (without it, such queries are
 * REFUSED like any other name outside the domain).  @network is an IPv4
 * address; @prefix_len 0..32. */
gboolean banger_dns_table_set_reverse_network (BangerDnsTable *table, GInetAddress *network,
                                               guint prefix_len, GError **error);

/* Add or replace @name (a VM name: banger_validate_vm_name()) -> @address
 * (IPv4).  An address held by another name is moved to @name. */
gboolean banger_dns_table_set (BangerDnsTable *table, const char *name, GInetAddress *address,
                               GError **error);
/* Remove @name; FALSE when it was not there. */
gboolean banger_dns_table_remove (BangerDnsTable *table, const char *name);
guint banger_dns_table_size (BangerDnsTable *table);

/* Lookups for the responder.  @name is lowercase; @addr and the address
 * arguments are IPv4 in network byte order (as on the wire). */
gboolean banger_dns_table_lookup_name (BangerDnsTable *table, const char *name, guint32 *out_addr);
char *banger_dns_table_lookup_addr (BangerDnsTable *table, guint32 addr);
gboolean banger_dns_table_in_reverse_network (BangerDnsTable *table, guint32 addr);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (BangerDnsTable, banger_dns_table_unref)

G_END_DECLS
