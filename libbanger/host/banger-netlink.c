/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <arpa/inet.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <netlink/netlink.h>
#include <netlink/msg.h>
#include <netlink/attr.h>
#include <netlink/route/rtnl.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/bridge.h>
#include <netlink/route/neighbour.h>

#include "banger-error.h"
#include "banger-netlink.h"
#include "banger-quote.h"

#include <string.h>

typedef struct nl_sock BangerNlSock;
typedef struct rtnl_link BangerRtnlLink;
typedef struct rtnl_addr BangerRtnlAddr;
typedef struct nl_addr BangerNlAddr;
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BangerNlSock, nl_socket_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BangerRtnlLink, rtnl_link_put)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BangerRtnlAddr, rtnl_addr_put)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BangerNlAddr, nl_addr_put)

static gboolean
nl_error (GError **error, int err, const char *what, const char *name)
{
  BangerError code = BANGER_ERROR_FAILED;
  g_autofree char *q = banger_quote (name);

  switch (err < 0 ? -err : err)
    {
    case NLE_PERM:
      code = BANGER_ERROR_PERMISSION_DENIED;
      break;
    case NLE_OBJ_NOTFOUND:
    case NLE_NODEV:
      code = BANGER_ERROR_NOT_FOUND;
      break;
    case NLE_EXIST:
      code = BANGER_ERROR_ALREADY_EXISTS;
      break;
    case NLE_BUSY:
      code = BANGER_ERROR_BUSY;
      break;
    case NLE_INVAL:
    case NLE_RANGE:
      code = BANGER_ERROR_INVALID_ARGUMENT;
      break;
    default:
      break;
    }
  g_set_error (error, BANGER_ERROR, code, "Cannot %s '%s': %s", what, q, nl_geterror (err));
  return FALSE;
}

static struct nl_sock *
connect_route (GError **error)
{
  struct nl_sock *sk = nl_socket_alloc ();
  int err;

  if (sk == NULL)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_FAILED, "Cannot allocate a netlink socket");
      return NULL;
    }
  err = nl_connect (sk, NETLINK_ROUTE);
  if (err < 0)
    {
      nl_socket_free (sk);
      nl_error (error, err, "connect to", "rtnetlink");
      return NULL;
    }
  return sk;
}

void
banger_link_info_clear (BangerLinkInfo *info)
{
  g_clear_pointer (&info->kind, g_free);
  g_clear_pointer (&info->alias, g_free);
}

static int
on_link_reply (struct nl_msg *msg, void *arg)
{
  gint64 *owner = arg;
  struct nlattr *tb[IFLA_MAX + 1];
  struct nlattr *li[IFLA_INFO_MAX + 1];
  struct nlattr *td[IFLA_TUN_MAX + 1];

  if (nlmsg_parse (nlmsg_hdr (msg), sizeof (struct ifinfomsg), tb, IFLA_MAX, NULL) < 0
      || tb[IFLA_LINKINFO] == NULL
      || nla_parse_nested (li, IFLA_INFO_MAX, tb[IFLA_LINKINFO], NULL) < 0
      || li[IFLA_INFO_DATA] == NULL
      || nla_parse_nested (td, IFLA_TUN_MAX, li[IFLA_INFO_DATA], NULL) < 0
      || td[IFLA_TUN_OWNER] == NULL)
    return NL_OK;
  *owner = nla_get_u32 (td[IFLA_TUN_OWNER]);
  return NL_OK;
}

/* libnl does not parse a tun's IFLA_INFO_DATA: ask for the link once more
 * and read IFLA_TUN_OWNER (present only when an owner is set). */
static gint64
tun_owner_of (int ifindex)
{
  g_autoptr (BangerNlSock) sk = connect_route (NULL);
  struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC, .ifi_index = ifindex };
  gint64 owner = -1;

  if (sk == NULL
      || nl_socket_modify_cb (sk, NL_CB_VALID, NL_CB_CUSTOM, on_link_reply, &owner) < 0
      || nl_send_simple (sk, RTM_GETLINK, 0, &ifi, sizeof ifi) < 0
      || nl_recvmsgs_default (sk) < 0)
    return -1;
  return owner;
}

static gboolean
get_link (struct nl_sock *sk, const char *name, struct rtnl_link **out, GError **error)
{
  int err = rtnl_link_get_kernel (sk, 0, name, out);

  if (err < 0)
    return nl_error (error, err, "find the network interface", name);
  return TRUE;
}

gboolean
banger_netlink_get_link (const char *name, BangerLinkInfo *out, GError **error)
{
  g_autoptr (BangerNlSock) sk = connect_route (error);
  g_autoptr (BangerRtnlLink) link = NULL;
  const char *kind;

  if (sk == NULL || !get_link (sk, name, &link, error))
    return FALSE;
  out->ifindex = rtnl_link_get_ifindex (link);
  out->master = rtnl_link_get_master (link);
  out->mtu = rtnl_link_get_mtu (link);
  out->up = (rtnl_link_get_flags (link) & IFF_UP) != 0;
  kind = rtnl_link_get_type (link);
  out->kind = g_strdup (kind);
  out->alias = g_strdup (rtnl_link_get_ifalias (link));
  out->tun_owner = g_strcmp0 (kind, "tun") == 0 ? tun_owner_of (out->ifindex) : -1;
  return TRUE;
}

gboolean
banger_netlink_configure (const char *name, guint mtu, const char *master_name, GError **error)
{
  g_autoptr (BangerNlSock) sk = connect_route (error);
  g_autoptr (BangerRtnlLink) link = NULL;
  g_autoptr (BangerRtnlLink) master = NULL;
  g_autoptr (BangerRtnlLink) change = NULL;
  int err;

  if (sk == NULL || !get_link (sk, name, &link, error))
    return FALSE;
  change = rtnl_link_alloc ();
  if (master_name != NULL)
    {
      if (!get_link (sk, master_name, &master, error))
        return FALSE;
      if (g_strcmp0 (rtnl_link_get_type (master), "bridge") != 0)
        {
          g_autofree char *q = banger_quote (master_name);
          g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                       "'%s' is not a bridge", q);
          return FALSE;
        }
      rtnl_link_set_master (change, rtnl_link_get_ifindex (master));
    }
  if (mtu != 0)
    rtnl_link_set_mtu (change, mtu);
  rtnl_link_set_flags (change, IFF_UP);
  err = rtnl_link_change (sk, link, change, 0);
  if (err < 0)
    return nl_error (error, err, "configure the network interface", name);
  return TRUE;
}

gboolean
banger_netlink_add_address (const char *name, const char *cidr, GError **error)
{
  g_autoptr (BangerNlSock) sk = connect_route (error);
  g_autoptr (BangerRtnlLink) link = NULL;
  g_autoptr (BangerRtnlAddr) addr = NULL;
  g_autoptr (BangerNlAddr) local = NULL;
  int err;

  if (sk == NULL || !get_link (sk, name, &link, error))
    return FALSE;
  err = nl_addr_parse (cidr, AF_INET, &local);
  if (err < 0)
    return nl_error (error, err, "parse the address", cidr);
  addr = rtnl_addr_alloc ();
  rtnl_addr_set_ifindex (addr, rtnl_link_get_ifindex (link));
  rtnl_addr_set_family (addr, AF_INET);
  err = rtnl_addr_set_local (addr, local);
  if (err < 0)
    return nl_error (error, err, "set the address", cidr);
  rtnl_addr_set_prefixlen (addr, (int) nl_addr_get_prefixlen (local));
  err = rtnl_addr_add (sk, addr, 0);
  if (err < 0 && err != -NLE_EXIST)
    return nl_error (error, err, "add an address to", name);
  return TRUE;
}

gboolean
banger_netlink_create_bridge (const char *name, GError **error)
{
  g_autoptr (BangerNlSock) sk = connect_route (error);
  g_autoptr (BangerRtnlLink) link = NULL;
  int err;

  if (sk == NULL)
    return FALSE;
  link = rtnl_link_bridge_alloc ();
  rtnl_link_set_name (link, name);
  err = rtnl_link_add (sk, link, NLM_F_CREATE | NLM_F_EXCL);
  if (err < 0)
    return nl_error (error, err, "create the bridge", name);
  return TRUE;
}

gboolean
banger_netlink_delete_link (const char *name, GError **error)
{
  g_autoptr (BangerNlSock) sk = connect_route (error);
  g_autoptr (BangerRtnlLink) link = NULL;
  int err;

  if (sk == NULL || !get_link (sk, name, &link, error))
    return FALSE;
  err = rtnl_link_delete (sk, link);
  if (err < 0)
    return nl_error (error, err, "delete the network interface", name);
  return TRUE;
}

gboolean
banger_netlink_set_alias (const char *name, const char *alias, GError **error)
{
  g_autoptr (BangerNlSock) sk = connect_route (error);
  g_autoptr (BangerRtnlLink) link = NULL;
  g_autoptr (BangerRtnlLink) change = NULL;
  int err;

  if (sk == NULL || !get_link (sk, name, &link, error))
    return FALSE;
  change = rtnl_link_alloc ();
  rtnl_link_set_ifalias (change, alias);
  err = rtnl_link_change (sk, link, change, 0);
  if (err < 0)
    return nl_error (error, err, "mark the network interface", name);
  return TRUE;
}

typedef struct nl_cache BangerNlCache;
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BangerNlCache, nl_cache_free)

typedef struct
{
  guint32 addr;
  int ifindex;
} FindAddr;

static void
find_addr_cb (struct nl_object *obj, void *arg)
{
  FindAddr *f = arg;
  struct rtnl_addr *a = (struct rtnl_addr *) obj;
  struct nl_addr *local = rtnl_addr_get_local (a);

  if (f->ifindex != 0 || local == NULL || nl_addr_get_family (local) != AF_INET
      || nl_addr_get_len (local) != 4)
    return;
  if (memcmp (nl_addr_get_binary_addr (local), &(guint32){ htonl (f->addr) }, 4) == 0)
    f->ifindex = rtnl_addr_get_ifindex (a);
}

gboolean
banger_netlink_find_address (guint32 addr, int *out_ifindex, GError **error)
{
  g_autoptr (BangerNlSock) sk = connect_route (error);
  g_autoptr (BangerNlCache) cache = NULL;
  FindAddr f = { addr, 0 };
  int err;

  if (sk == NULL)
    return FALSE;
  err = rtnl_addr_alloc_cache (sk, &cache);
  if (err < 0)
    return nl_error (error, err, "list the addresses of", "the host");
  nl_cache_foreach (cache, find_addr_cb, &f);
  *out_ifindex = f.ifindex;
  return TRUE;
}

typedef struct
{
  const char *prefix;
  guint count;
} CountMarked;

static void
count_marked_cb (struct nl_object *obj, void *arg)
{
  CountMarked *c = arg;
  const char *alias = rtnl_link_get_ifalias ((struct rtnl_link *) obj);

  if (alias != NULL && g_str_has_prefix (alias, c->prefix))
    c->count++;
}

gboolean
banger_netlink_count_marked (const char *alias_prefix, guint *out_count, GError **error)
{
  g_autoptr (BangerNlSock) sk = connect_route (error);
  g_autoptr (BangerNlCache) cache = NULL;
  CountMarked c = { alias_prefix, 0 };
  int err;

  if (sk == NULL)
    return FALSE;
  err = rtnl_link_alloc_cache (sk, AF_UNSPEC, &cache);
  if (err < 0)
    return nl_error (error, err, "list the links of", "the host");
  nl_cache_foreach (cache, count_marked_cb, &c);
  *out_count = c.count;
  return TRUE;
}

/* ------------------------------------------------- the tap pool's calls */

typedef struct
{
  const char *prefix;
  GPtrArray *out;
} ListMarked;

static void
list_marked_cb (struct nl_object *obj, void *arg)
{
  ListMarked *l = arg;
  struct rtnl_link *link = (struct rtnl_link *) obj;
  const char *alias = rtnl_link_get_ifalias (link);
  const char *name = rtnl_link_get_name (link);

  if (alias != NULL && name != NULL && g_str_has_prefix (alias, l->prefix))
    {
      g_ptr_array_add (l->out, g_strdup (name));
      g_ptr_array_add (l->out, g_strdup (alias));
    }
}

GPtrArray *
banger_netlink_list_marked (const char *alias_prefix, GError **error)
{
  g_autoptr (BangerNlSock) sk = connect_route (error);
  g_autoptr (BangerNlCache) cache = NULL;
  g_autoptr (GPtrArray) out = g_ptr_array_new_with_free_func (g_free);
  ListMarked l = { alias_prefix, out };
  int err;

  if (sk == NULL)
    return NULL;
  err = rtnl_link_alloc_cache (sk, AF_UNSPEC, &cache);
  if (err < 0)
    {
      nl_error (error, err, "list the links of", "the host");
      return NULL;
    }
  nl_cache_foreach (cache, list_marked_cb, &l);
  return g_steal_pointer (&out);
}

gboolean
banger_netlink_rename (const char *name, const char *new_name, GError **error)
{
  g_autoptr (BangerNlSock) sk = connect_route (error);
  g_autoptr (BangerRtnlLink) link = NULL;
  int err;

  if (sk == NULL || !get_link (sk, name, &link, error))
    return FALSE;
  /* the kernel renames only a link that is down (do_setlink handles the
   * name before the flags, so this takes two requests) */
  if (rtnl_link_get_flags (link) & IFF_UP)
    {
      g_autoptr (BangerRtnlLink) down = rtnl_link_alloc ();
      rtnl_link_unset_flags (down, IFF_UP);
      err = rtnl_link_change (sk, link, down, 0);
      if (err < 0)
        return nl_error (error, err, "bring down the network interface", name);
    }
  {
    g_autoptr (BangerRtnlLink) change = rtnl_link_alloc ();
    rtnl_link_set_name (change, new_name);
    err = rtnl_link_change (sk, link, change, 0);
    if (err < 0)
      return nl_error (error, err, "rename the network interface", name);
  }
  return TRUE;
}

/* ------------------------------------------------------------ neighbours */

typedef struct rtnl_neigh BangerRtnlNeigh;
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BangerRtnlNeigh, rtnl_neigh_put)

gboolean
banger_netlink_neigh_replace (const char *dev, const char *ip, const char *mac, GError **error)
{
  g_autoptr (BangerNlSock) sk = connect_route (error);
  g_autoptr (BangerRtnlLink) link = NULL;
  g_autoptr (BangerRtnlNeigh) neigh = NULL;
  g_autoptr (BangerNlAddr) dst = NULL;
  g_autoptr (BangerNlAddr) ll = NULL;
  int err;

  if (sk == NULL || !get_link (sk, dev, &link, error))
    return FALSE;
  err = nl_addr_parse (ip, AF_INET, &dst);
  if (err < 0)
    return nl_error (error, err, "parse the address", ip);
  err = nl_addr_parse (mac, AF_LLC, &ll);
  if (err < 0 || nl_addr_get_len (ll) != 6)
    return nl_error (error, err < 0 ? err : -NLE_INVAL, "parse the MAC", mac);
  neigh = rtnl_neigh_alloc ();
  rtnl_neigh_set_ifindex (neigh, rtnl_link_get_ifindex (link));
  rtnl_neigh_set_family (neigh, AF_INET);
  err = rtnl_neigh_set_dst (neigh, dst);
  if (err < 0)
    return nl_error (error, err, "set the neighbour address", ip);
  rtnl_neigh_set_lladdr (neigh, ll);
  rtnl_neigh_set_state (neigh, NUD_PERMANENT);
  err = rtnl_neigh_add (sk, neigh, NLM_F_CREATE | NLM_F_REPLACE);
  if (err < 0)
    return nl_error (error, err, "add a neighbour entry on", dev);
  return TRUE;
}

typedef struct
{
  struct nl_sock *sk;
  int ifindex;
  struct nl_addr *ll;
  guint count;
  int err;
} DeleteNeigh;

static void
delete_neigh_cb (struct nl_object *obj, void *arg)
{
  DeleteNeigh *d = arg;
  struct rtnl_neigh *n = (struct rtnl_neigh *) obj;
  struct nl_addr *ll = rtnl_neigh_get_lladdr (n);
  int err;

  if (rtnl_neigh_get_ifindex (n) != d->ifindex || rtnl_neigh_get_family (n) != AF_INET
      || (rtnl_neigh_get_state (n) & NUD_PERMANENT) == 0 || ll == NULL
      || nl_addr_cmp (ll, d->ll) != 0)
    return;
  err = rtnl_neigh_delete (d->sk, n, 0);
  if (err < 0 && err != -NLE_OBJ_NOTFOUND)
    {
      if (d->err == 0)
        d->err = err;
      return;
    }
  if (err == 0)
    d->count++;
}

gboolean
banger_netlink_neigh_delete_lladdr (const char *dev, const char *mac, guint *out_count,
                                    GError **error)
{
  g_autoptr (BangerNlSock) sk = connect_route (error);
  g_autoptr (BangerRtnlLink) link = NULL;
  g_autoptr (BangerNlCache) cache = NULL;
  g_autoptr (BangerNlAddr) ll = NULL;
  DeleteNeigh d = { 0 };
  int err;

  if (out_count != NULL)
    *out_count = 0;
  if (sk == NULL || !get_link (sk, dev, &link, error))
    return FALSE;
  err = nl_addr_parse (mac, AF_LLC, &ll);
  if (err < 0)
    return nl_error (error, err, "parse the MAC", mac);
  err = rtnl_neigh_alloc_cache (sk, &cache);
  if (err < 0)
    return nl_error (error, err, "list the neighbour entries of", dev);
  d.sk = sk;
  d.ifindex = rtnl_link_get_ifindex (link);
  d.ll = ll;
  nl_cache_foreach (cache, delete_neigh_cb, &d);
  if (out_count != NULL)
    *out_count = d.count;
  if (d.err < 0)
    return nl_error (error, d.err, "delete a neighbour entry on", dev);
  return TRUE;
}
