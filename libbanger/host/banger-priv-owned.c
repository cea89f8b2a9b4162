/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * What proves an existing host object is this install's, and where the
 * owner may put addresses:
 *   - a VM's tap: a tun device owned (TUNSETOWNER) by the install's owner
 *     uid whose ifalias is banger_host_tap_marker(install_id, vm_id);
 *   - a bridge: a bridge whose ifalias is banger_host_marker(install_id,
 *     "bridge");
 *   - a tap/bridge address: inside the install config's vm-network, with a
 *     prefix no wider than it, not a special address, not already on the
 *     host (doc/host.md). */
#include "config.h"

#include "banger-error.h"
#include "banger-host-names.h"
#include "banger-priv-ops-private.h"
#include "banger-quote.h"

gboolean
banger_priv_check_own_tap (BangerPrivState *state, const char *vm_id, const char *name,
                           const BangerLinkInfo *info, GError **error)
{
  g_autofree char *marker = banger_host_tap_marker (state->install_id, vm_id);

  if (g_strcmp0 (info->kind, "tun") != 0)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_PERMISSION_DENIED,
                   "'%s' exists and is not a tap device; leaving it alone", name);
      return FALSE;
    }
  if (info->tun_owner != (gint64) state->owner_uid || g_strcmp0 (info->alias, marker) != 0)
    {
      g_autofree char *q = banger_quote (info->alias ? info->alias : "");
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_PERMISSION_DENIED,
                   "The tap '%s' was not made by this banger install (tun owner %" G_GINT64_FORMAT
                   ", alias '%s'); leaving it alone",
                   name, info->tun_owner, q);
      return FALSE;
    }
  return TRUE;
}

gboolean
banger_priv_check_own_bridge (BangerPrivState *state, const char *name,
                              const BangerLinkInfo *info, GError **error)
{
  g_autofree char *marker = banger_host_marker (state->install_id, "bridge");

  if (g_strcmp0 (info->kind, "bridge") != 0)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_PERMISSION_DENIED,
                   "'%s' exists and is not a bridge; leaving it alone", name);
      return FALSE;
    }
  if (g_strcmp0 (info->alias, marker) != 0)
    {
      g_autofree char *q = banger_quote (info->alias ? info->alias : "");
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_PERMISSION_DENIED,
                   "The bridge '%s' was not made by this banger install (alias '%s'); leaving "
                   "it alone",
                   name, q);
      return FALSE;
    }
  return TRUE;
}

static const struct
{
  guint32 net;
  guint prefix;
  const char *what;
} special[] = {
  { 0x00000000, 8, "in 0.0.0.0/8 (this network)" },
  { 0x7f000000, 8, "a loopback address" },
  { 0xa9fe0000, 16, "a link-local address" },
  { 0xe0000000, 4, "a multicast address" },
  { 0xf0000000, 4, "a reserved or the broadcast address" },
};

gboolean
banger_priv_check_vm_address (BangerPrivState *state, const char *cidr, int own_ifindex,
                              GError **error)
{
  g_autofree char *q = banger_quote (cidr);
  guint32 addr, mask, vm_mask, host;
  guint prefix;
  int on = 0;

  if (!banger_install_parse_cidr (cidr, &addr, &prefix) || prefix < 1)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   "'%s' is not an IPv4 address with a prefix (a.b.c.d/len)", q);
      return FALSE;
    }
  for (guint i = 0; i < G_N_ELEMENTS (special); i++)
    {
      guint32 m = 0xffffffffu << (32 - special[i].prefix);
      if ((addr & m) == special[i].net)
        {
          g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT, "'%s' is %s", q,
                       special[i].what);
          return FALSE;
        }
    }
  vm_mask = state->vm_prefix == 0 ? 0 : 0xffffffffu << (32 - state->vm_prefix);
  if ((addr & vm_mask) != state->vm_net || prefix < state->vm_prefix)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_PERMISSION_DENIED,
                   "'%s' is not inside the VM network %u.%u.%u.%u/%u of the install config "
                   "(with a prefix of at least /%u)",
                   q, state->vm_net >> 24, (state->vm_net >> 16) & 0xff,
                   (state->vm_net >> 8) & 0xff, state->vm_net & 0xff, state->vm_prefix,
                   state->vm_prefix);
      return FALSE;
    }
  mask = prefix == 32 ? 0xffffffffu : 0xffffffffu << (32 - prefix);
  host = addr & ~mask;
  if (prefix <= 30 && (host == 0 || host == ~mask))
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   "'%s' is the %s address of its subnet", q, host == 0 ? "network" : "broadcast");
      return FALSE;
    }
  if (!banger_netlink_find_address (addr, &on, error))
    return FALSE;
  if (on != 0 && on != own_ifindex)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_ALREADY_EXISTS,
                   "'%s' is already an address of this host (interface index %d)", q, on);
      return FALSE;
    }
  return TRUE;
}
