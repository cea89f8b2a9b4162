/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The rtnetlink calls the network operations need (libnl-route-3): look a
 * link up, bring it up / set MTU / enslave it to a bridge, add an IPv4
 * address, create and delete bridges, delete links.  No `ip` subprocess.
 * Every name passed here has already been through banger_validate_ifname(). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct
{
  int ifindex;
  int master;       /* ifindex of the bridge it is enslaved to, 0 if none */
  guint mtu;
  gboolean up;
  char *kind;       /* IFLA_INFO_KIND: "tun", "bridge", … ; NULL for none */
  char *alias;      /* IFLA_IFALIAS (banger's marker), NULL for none */
  gint64 tun_owner; /* IFLA_TUN_OWNER of a tun device, -1 for none */
} BangerLinkInfo;

void banger_link_info_clear (BangerLinkInfo *info);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (BangerLinkInfo, banger_link_info_clear)

/* FALSE with NOT_FOUND when there is no such link. */
gboolean banger_netlink_get_link (const char *name, BangerLinkInfo *out, GError **error);
/* Bring @name up; @mtu 0 leaves it; @master_name NULL leaves the master. */
gboolean banger_netlink_configure (const char *name, guint mtu, const char *master_name,
                                   GError **error);
/* Add "a.b.c.d/len" to @name; an address that is already there is success. */
gboolean banger_netlink_add_address (const char *name, const char *cidr, GError **error);
gboolean banger_netlink_create_bridge (const char *name, GError **error);
/* Set the ifalias of @name (banger's ownership marker). */
gboolean banger_netlink_set_alias (const char *name, const char *alias, GError **error);
/* Is the IPv4 address @addr (host byte order) on any interface?  TRUE with
 * *out_ifindex set (0 when it is nowhere). */
gboolean banger_netlink_find_address (guint32 addr, int *out_ifindex, GError **error);
/* How many links carry an ifalias starting with @alias_prefix. */
gboolean banger_netlink_count_marked (const char *alias_prefix, guint *out_count,
                                      GError **error);
gboolean banger_netlink_delete_link (const char *name, GError **error);
/* The links whose ifalias starts with @alias_prefix, as pairs: name, alias,
 * name, alias, … (transfer full). */
GPtrArray *banger_netlink_list_marked (const char *alias_prefix, GError **error);
/* Rename @name to @new_name (brought down first when up; bring it up again
 * with banger_netlink_configure). */
gboolean banger_netlink_rename (const char *name, const char *new_name, GError **error);
/* A permanent IPv4 neighbour entry on @dev: @ip ("a.b.c.d") -> @mac
 * ("xx:xx:xx:xx:xx:xx"), replacing any entry for @ip there. */
gboolean banger_netlink_neigh_replace (const char *dev, const char *ip, const char *mac,
                                       GError **error);
/* Delete the permanent IPv4 neighbour entries on @dev whose MAC is @mac;
 * *out_count (may be NULL) gets how many. */
gboolean banger_netlink_neigh_delete_lladdr (const char *dev, const char *mac, guint *out_count,
                                             GError **error);

G_END_DECLS
