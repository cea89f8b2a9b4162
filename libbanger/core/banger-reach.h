/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The text forms of a VM's port publishes and egress policy (doc/host.md,
 * "Port forwards and egress"), parsed once for every layer: the CLI, the
 * engine and the root helper all call these.  Private to the library.
 *
 *   publish: [HOSTIP:]HOSTPORT:GUESTPORT[/tcp|/udp]
 *            canonical: HOSTIP:HOSTPORT:GUESTPORT/PROTO, HOSTIP 0.0.0.0 = every
 *            local address
 *   egress:  nat | none | CIDR[,CIDR…]   (canonical: CIDRs with host bits
 *            cleared, in the order given, duplicates refused) */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Most publishes per VM, and CIDRs in one egress list. */
#define BANGER_PUBLISH_MAX 32
#define BANGER_EGRESS_MAX_CIDRS 32

typedef enum
{
  BANGER_PUBLISH_TCP,
  BANGER_PUBLISH_UDP,
} BangerPublishProto;

typedef struct
{
  guint32 host_ip; /* host byte order; 0 = every local address */
  guint16 host_port;
  guint16 guest_port;
  BangerPublishProto proto;
} BangerPublish;

/* One publish; INVALID_ARGUMENT naming the part that is wrong (ports 1-65535,
 * decimal without leading zeros; the host address a plain dotted quad that
 * is not multicast, broadcast or in 0.0.0.0/8 other than 0.0.0.0 itself). */
gboolean banger_publish_parse (const char *text, BangerPublish *out, GError **error);
/* The canonical text (HOSTIP always present). */
char *banger_publish_to_string (const BangerPublish *p);
const char *banger_publish_proto_to_string (BangerPublishProto proto);
/* Do @a and @b claim the same host port (same protocol and port, and the same
 * address or either one 0.0.0.0)? */
gboolean banger_publish_overlaps (const BangerPublish *a, const BangerPublish *b);
/* A list (NULL or empty: none): each parsed, at most BANGER_PUBLISH_MAX,
 * no two overlapping (INVALID_ARGUMENT).  Returns a GArray of BangerPublish. */
GArray *banger_publish_parse_list (const char *const *texts, GError **error);
/* The canonical texts of a list, comma-joined ("" for none), and back. */
char *banger_publish_list_join (GArray *list);
GArray *banger_publish_list_split (const char *joined, GError **error);

typedef enum
{
  BANGER_EGRESS_NAT,  /* anywhere (masqueraded when [network] nat=true) */
  BANGER_EGRESS_NONE, /* the host side of its link only */
  BANGER_EGRESS_CIDRS /* the host side of its link and the listed networks */
} BangerEgressMode;

/* NULL or "" is "nat".  Returns the canonical text; @out_mode, @out_cidrs
 * (nullable; a GPtrArray of "a.b.c.d/n", host bits cleared) on success. */
char *banger_egress_parse (const char *text, BangerEgressMode *out_mode, GPtrArray **out_cidrs,
                           GError **error);

G_END_DECLS

G_BEGIN_DECLS
/* A DNS domain banger answers for ([network] domain=): dot-separated labels
 * of lowercase letters, digits and '-' (not first or last in a label), 1-63
 * bytes each, at most 190 bytes in all, no trailing dot. */
gboolean banger_validate_dns_domain (const char *domain, GError **error);
/* The reverse zone ("c.b.a.in-addr.arpa") of the octet-aligned network
 * holding @addr/@prefix (prefix rounded down to 8, 16 or 24; below 8:
 * NULL). */
char *banger_reverse_zone (guint32 addr, guint prefix);
G_END_DECLS
