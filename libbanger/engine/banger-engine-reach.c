/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * How VMs are reached, the engine's side (see banger-engine-reach.h). */
#include "config.h"

#include "banger-engine-dns.h"
#include "banger-engine-private.h"
#include "banger-engine-reach.h"
#include "banger-error.h"
#include "banger-reach.h"
#include "banger-store-lease.h"
#include "banger-store-vm-reach.h"

gboolean
banger_engine_config_load_reach (BangerEngineConfig *c, GKeyFile *kf, const char *path,
                                 GError **error)
{
  g_autofree char *domain = g_key_file_get_string (kf, "network", "domain", NULL);

  if (domain != NULL)
    {
      g_autoptr (GError) local = NULL;
      if (!banger_validate_dns_domain (domain, &local))
        {
          g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                       "%s: [network] domain: %s", path, local->message);
          return FALSE;
        }
      g_free (c->domain);
      c->domain = g_steal_pointer (&domain);
    }
  if (g_key_file_has_key (kf, "network", "dns-port", NULL))
    {
      g_autoptr (GError) local = NULL;
      gint v = g_key_file_get_integer (kf, "network", "dns-port", &local);
      if (local != NULL || v < 0 || v > 65535)
        {
          g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                       "%s: [network] dns-port: must be an integer 0-65535 (0: no responder)",
                       path);
          return FALSE;
        }
      c->dns_port = (guint)v;
    }
  return TRUE;
}

static gboolean
subnet_gateway (BangerEngine *e, char **out_gateway, guint32 *out_net, guint *out_prefix,
                GError **error)
{
  guint32 net;
  guint prefix;
  guint32 gw;

  if (!banger_store_parse_subnet (e->config->subnet, &net, &prefix, NULL, error))
    return FALSE;
  gw = net + 1;
  *out_gateway
      = g_strdup_printf ("%u.%u.%u.%u", gw >> 24, (gw >> 16) & 0xff, (gw >> 8) & 0xff, gw & 0xff);
  *out_net = net;
  *out_prefix = prefix;
  return TRUE;
}

gboolean
banger_engine_reach_network_up (BangerEngine *e, const char *op_id, GError **error)
{
  g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&e->lock);
  g_autoptr (JsonObject) p = json_object_new ();
  g_autoptr (JsonObject) r = NULL;
  g_autofree char *gateway = NULL;
  g_autofree char *address = NULL;
  guint32 net;
  guint prefix;

  if (e->bridge_ready)
    return TRUE;
  if (!subnet_gateway (e, &gateway, &net, &prefix, error))
    return FALSE;
  address = g_strdup_printf ("%s/%u", gateway, prefix);
  json_object_set_string_member (p, "name", BANGER_ENGINE_BRIDGE);
  json_object_set_string_member (p, "address", address);
  r = banger_priv_backend_call (e->backend, "priv.create_bridge", p, op_id, NULL, error);
  if (r == NULL)
    return FALSE;
  e->bridge_ready = TRUE;

  /* the responder on the bridge address; without it VMs still work */
  if (e->dns != NULL && e->config->dns_port != 0)
    {
      g_autoptr (GError) local = NULL;
      if (banger_engine_dns_start (e->dns, gateway, net, prefix, &local))
        banger_engine_log (op_id, "DNS: answering %s on %s port %u",
                           banger_engine_dns_get_domain (e->dns), gateway,
                           banger_engine_dns_get_bound_port (e->dns));
      else
        banger_engine_log (op_id, "DNS: no responder: %s", local->message);
    }
  /* host resolution through systemd-resolved, where it runs */
  if (e->dns != NULL && banger_engine_dns_is_running (e->dns)
      && banger_engine_dns_get_bound_port (e->dns) == 53)
    {
      g_autoptr (JsonObject) q = json_object_new ();
      g_autoptr (JsonObject) qr = NULL;
      g_autoptr (GError) local = NULL;

      json_object_set_string_member (q, "bridge", BANGER_ENGINE_BRIDGE);
      json_object_set_string_member (q, "address", address);
      json_object_set_string_member (q, "domain", banger_engine_dns_get_domain (e->dns));
      qr = banger_priv_backend_call (e->backend, "priv.resolved_link", q, op_id, NULL, &local);
      if (qr != NULL)
        banger_engine_log (op_id, "DNS: systemd-resolved routes %s to %s on %s",
                           banger_engine_dns_get_domain (e->dns), gateway, BANGER_ENGINE_BRIDGE);
      else
        banger_engine_log (op_id,
                           "DNS: host resolution not set up (%s); `banger doctor` says "
                           "what to add",
                           local->message);
    }
  return TRUE;
}

gboolean
banger_engine_reach_check_spec (BangerEngine *e, const char *name, const char *const *publish,
                                const char *egress, char **out_publish, char **out_egress,
                                GError **error)
{
  g_autoptr (GArray) list = banger_publish_parse_list (publish, error);
  g_autofree char *canon_egress = NULL;
  g_autoptr (GPtrArray) vms = NULL;

  if (list == NULL)
    return FALSE;
  canon_egress = banger_egress_parse (egress, NULL, NULL, error);
  if (canon_egress == NULL)
    return FALSE;
  if (list->len > 0)
    {
      vms = banger_store_vm_list (e->store, error);
      if (vms == NULL)
        return FALSE;
    }
  for (guint i = 0; vms != NULL && i < vms->len; i++)
    {
      BangerStoreVm *vm = vms->pdata[i];
      g_autofree char *theirs = NULL;
      g_autoptr (GArray) other = NULL;

      if ((vm->state != BANGER_STORE_VM_STATE_RUNNING
           && vm->state != BANGER_STORE_VM_STATE_STARTING)
          || g_strcmp0 (vm->name, name) == 0)
        continue;
      if (!banger_store_vm_reach_get (e->store, vm->id, &theirs, NULL, error))
        return FALSE;
      other = banger_publish_list_split (theirs, NULL);
      for (guint a = 0; other != NULL && a < other->len; a++)
        for (guint b = 0; b < list->len; b++)
          if (banger_publish_overlaps (&g_array_index (other, BangerPublish, a),
                                       &g_array_index (list, BangerPublish, b)))
            {
              g_autofree char *t
                  = banger_publish_to_string (&g_array_index (list, BangerPublish, b));
              g_autofree char *o
                  = banger_publish_to_string (&g_array_index (other, BangerPublish, a));
              g_set_error (error, BANGER_ERROR, BANGER_ERROR_BUSY,
                           "Host port of '%s' is already published by running VM '%s' (%s)", t,
                           vm->name, o);
              return FALSE;
            }
    }
  *out_publish = banger_publish_list_join (list);
  *out_egress = g_steal_pointer (&canon_egress);
  return TRUE;
}

gboolean
banger_engine_reach_apply (BangerEngine *e, const char *vm_id, const char *ip, const char *op_id,
                           GCancellable *cancellable, GError **error)
{
  g_autofree char *publish = NULL;
  g_autofree char *egress = NULL;
  g_autofree char *gateway = NULL;
  guint32 net;
  guint prefix;

  if (!banger_store_vm_reach_get (e->store, vm_id, &publish, &egress, error)
      || !subnet_gateway (e, &gateway, &net, &prefix, error))
    return FALSE;
  if (publish[0] != '\0')
    {
      g_autoptr (JsonObject) p = json_object_new ();
      g_autoptr (JsonObject) r = NULL;

      json_object_set_string_member (p, "vm_id", vm_id);
      json_object_set_string_member (p, "guest_ip", ip);
      json_object_set_string_member (p, "publish", publish);
      r = banger_priv_backend_call (e->backend, "priv.publish_set", p, op_id, cancellable, error);
      if (r == NULL)
        return FALSE;
      banger_engine_log (op_id, "%s: published %s", vm_id, publish);
    }
  if (!g_str_equal (egress, "nat"))
    {
      g_autoptr (JsonObject) p = json_object_new ();
      g_autoptr (JsonObject) r = NULL;

      json_object_set_string_member (p, "vm_id", vm_id);
      json_object_set_string_member (p, "guest_ip", ip);
      json_object_set_string_member (p, "gateway", gateway);
      json_object_set_string_member (p, "egress", egress);
      r = banger_priv_backend_call (e->backend, "priv.egress_set", p, op_id, cancellable, error);
      if (r == NULL)
        return FALSE;
      banger_engine_log (op_id, "%s: egress %s", vm_id, egress);
    }
  return TRUE;
}

void
banger_engine_reach_clear (BangerEngine *e, const char *vm_id, const char *ip, const char *op_id)
{
  g_autoptr (JsonObject) p = json_object_new ();
  g_autoptr (JsonObject) q = json_object_new ();
  g_autoptr (JsonObject) r = NULL;
  g_autoptr (JsonObject) s = NULL;
  g_autoptr (GError) local = NULL;
  g_autoptr (GError) local2 = NULL;
  g_autofree char *gateway = NULL;
  guint32 net;
  guint prefix;

  json_object_set_string_member (p, "vm_id", vm_id);
  json_object_set_string_member (p, "guest_ip", ip);
  json_object_set_string_member (p, "publish", "");
  r = banger_priv_backend_call (e->backend, "priv.publish_set", p, op_id, NULL, &local);
  if (r == NULL)
    banger_engine_log (op_id, "undo publish: %s", local->message);
  if (!subnet_gateway (e, &gateway, &net, &prefix, NULL))
    return;
  json_object_set_string_member (q, "vm_id", vm_id);
  json_object_set_string_member (q, "guest_ip", ip);
  json_object_set_string_member (q, "gateway", gateway);
  json_object_set_string_member (q, "egress", "nat");
  s = banger_priv_backend_call (e->backend, "priv.egress_set", q, op_id, NULL, &local2);
  if (s == NULL)
    banger_engine_log (op_id, "undo egress: %s", local2->message);
}

void
banger_engine_reach_vm_up (BangerEngine *e, const char *name, const char *ip)
{
  if (e->dns != NULL)
    banger_engine_dns_set (e->dns, name, ip);
}

void
banger_engine_reach_vm_down (BangerEngine *e, const char *name)
{
  if (e->dns != NULL)
    banger_engine_dns_remove (e->dns, name);
}

gboolean
banger_engine_vm_ports (BangerEngine *e, const char *name, char **out_publish, char **out_egress,
                        char **out_active, GError **error)
{
  g_autoptr (BangerStoreVm) vm = banger_store_vm_get_by_name (e->store, name, error);
  g_autofree char *publish = NULL;
  g_autofree char *egress = NULL;
  g_autofree char *active = NULL;

  if (vm == NULL || !banger_store_vm_reach_get (e->store, vm->id, &publish, &egress, error))
    return FALSE;
  if (vm->state == BANGER_STORE_VM_STATE_RUNNING)
    {
      g_autoptr (JsonObject) p = json_object_new ();
      g_autoptr (JsonObject) r = NULL;

      json_object_set_string_member (p, "vm_id", vm->id);
      r = banger_priv_backend_call (e->backend, "priv.publish_list", p, NULL, NULL, error);
      if (r == NULL)
        return FALSE;
      active = g_strdup (json_object_get_string_member_with_default (r, "publish", ""));
    }
  *out_publish = g_steal_pointer (&publish);
  *out_egress = g_steal_pointer (&egress);
  *out_active = g_steal_pointer (&active);
  return TRUE;
}
