/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * What `banger doctor` says about host resolution of <vm>.<domain>
 * (doc/dns.md, "Host resolution"): which resolver the host uses, judged
 * from /etc/resolv.conf and the files the resolvers leave, and the one
 * thing to add where banger cannot route the domain itself.  Pure: the
 * caller reads the files (tests give their own).  Internal. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum
{
  BANGER_DNS_HOST_RESOLVED, /* systemd-resolved's stub: banger routes per link */
  BANGER_DNS_HOST_DNSMASQ,  /* dnsmasq (or NetworkManager's dnsmasq plugin) */
  BANGER_DNS_HOST_UNBOUND,
  BANGER_DNS_HOST_PLAIN, /* only resolv.conf nameservers */
} BangerDnsHostResolver;

typedef struct
{
  const char *resolv_conf;   /* the text of /etc/resolv.conf (nullable: absent) */
  gboolean resolved_running; /* /run/systemd/resolve/stub-resolv.conf exists */
  gboolean dnsmasq;          /* /etc/dnsmasq.d or NetworkManager's dnsmasq plugin is configured */
  gboolean unbound;          /* /etc/unbound/unbound.conf exists */
} BangerDnsHostFacts;

/* Which resolver answers the host, and the advice (full lines, the domain,
 * the responder address and the reverse zone filled in).  @out_ok: TRUE
 * when nothing needs adding (resolved, or the domain already routed). */
BangerDnsHostResolver banger_dns_host_advice (const BangerDnsHostFacts *facts, const char *domain,
                                              const char *address, const char *reverse_zone,
                                              gboolean *out_ok, char **out_advice);

G_END_DECLS
