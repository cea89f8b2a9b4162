/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * DNS messages, parsed and built by hand with strict bounds (doc/dns.md says
 * why not ldns): one query in, one response (or nothing) out.  Pure: no I/O,
 * no state but the table's lookups, so it is unit-tested and fuzzed
 * directly (fuzz/fuzz-dns-query.c).  Internal API. */
#pragma once

#include <glib.h>

#include "banger-dns-table.h"

G_BEGIN_DECLS

typedef enum
{
  BANGER_DNS_TRANSPORT_UDP,
  BANGER_DNS_TRANSPORT_TCP,
} BangerDnsTransport;

/* Queries longer than this are dropped unanswered, on either transport (a
 * query with one question and an OPT record is far smaller). */
#define BANGER_DNS_MAX_QUERY 4096
/* A UDP response without EDNS0 fits in 512 bytes (RFC 1035 4.2.1). */
#define BANGER_DNS_UDP_PLAIN_MAX 512
/* The EDNS0 UDP payload size banger advertises and the most it sends over
 * UDP whatever the client advertises (the DNS flag day 2020 value). */
#define BANGER_DNS_EDNS_UDP_MAX 1232
/* TTL of the A and PTR records: short, VMs come and go. */
#define BANGER_DNS_TTL 5

enum
{
  BANGER_DNS_RCODE_NOERROR = 0,
  BANGER_DNS_RCODE_FORMERR = 1,
  BANGER_DNS_RCODE_SERVFAIL = 2,
  BANGER_DNS_RCODE_NXDOMAIN = 3,
  BANGER_DNS_RCODE_NOTIMP = 4,
  BANGER_DNS_RCODE_REFUSED = 5,
  BANGER_DNS_RCODE_BADVERS = 16, /* extended: in the OPT record */
};

enum
{
  BANGER_DNS_TYPE_A = 1,
  BANGER_DNS_TYPE_PTR = 12,
  BANGER_DNS_TYPE_AAAA = 28,
  BANGER_DNS_TYPE_OPT = 41,
  BANGER_DNS_TYPE_IXFR = 251,
  BANGER_DNS_TYPE_AXFR = 252,
  BANGER_DNS_TYPE_ANY = 255,
  BANGER_DNS_CLASS_IN = 1,
};

/* The response to the query @msg/@len received over @transport, or NULL
 * when the query is to be dropped unanswered (shorter than a header, a
 * response rather than a query, or longer than BANGER_DNS_MAX_QUERY).
 * Every other input gets a response: FORMERR for malformed queries,
 * NOTIMP for opcodes other than QUERY, REFUSED outside the domain.  A UDP
 * response larger than the client may receive is truncated (TC set, no
 * answer).  Thread-safe (the table locks itself). */
GBytes *banger_dns_answer (BangerDnsTable *table, const guint8 *msg, gsize len,
                           BangerDnsTransport transport);

G_END_DECLS
