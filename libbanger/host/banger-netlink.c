/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <net/if.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/bridge.h>

#include "banger-error.h"
#include "banger-netlink.h"
#include "banger-quote.h"

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
