/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * BangerVmmConfig: what a VMM boots, and the pieces derived from it that both
 * drivers share (kernel command line, MAC addresses). */
#include "config.h"

#include <string.h>

#include "banger-names.h"
#include "banger-quote.h"
#include "banger-vm-limits.h"
#include "banger-vm-mac.h"
#include "banger-vmm.h"

static void
drive_free (gpointer p)
{
  BangerVmmDrive *d = p;
  g_free (d->id);
  g_free (d->path);
  g_free (d);
}

static void
nic_free (gpointer p)
{
  BangerVmmNic *n = p;
  g_free (n->id);
  g_free (n->tap);
  g_free (n->mac);
  g_free (n);
}

BangerVmmConfig *
banger_vmm_config_new (const char *vm_id, const char *run_dir)
{
  BangerVmmConfig *c = g_new0 (BangerVmmConfig, 1);
  c->vm_id = g_strdup (vm_id);
  c->run_dir = g_strdup (run_dir);
  c->vcpus = 1;
  c->mem_mib = 256;
  c->drives = g_ptr_array_new_with_free_func (drive_free);
  c->nics = g_ptr_array_new_with_free_func (nic_free);
  return c;
}

void
banger_vmm_config_free (BangerVmmConfig *c)
{
  if (c == NULL)
    return;
  g_free (c->vm_id);
  g_free (c->run_dir);
  g_free (c->kernel_path);
  g_free (c->initrd_path);
  g_free (c->extra_boot_args);
  g_ptr_array_unref (c->drives);
  g_ptr_array_unref (c->nics);
  g_free (c->guest_ip);
  g_free (c->gateway_ip);
  g_free (c->netmask);
  g_free (c->hostname);
  g_free (c->dns_ip);
  g_clear_pointer (&c->mmds, json_node_unref);
  g_free (c);
}

void
banger_vmm_config_add_drive (BangerVmmConfig *c, const char *id, const char *path,
                             gboolean is_root, gboolean read_only)
{
  BangerVmmDrive *d = g_new0 (BangerVmmDrive, 1);
  d->id = g_strdup (id);
  d->path = g_strdup (path);
  d->is_root = is_root;
  d->read_only = read_only;
  g_ptr_array_add (c->drives, d);
}

void
banger_vmm_config_add_nic (BangerVmmConfig *c, const char *id, const char *tap, const char *mac)
{
  BangerVmmNic *n = g_new0 (BangerVmmNic, 1);
  n->id = g_strdup (id);
  n->tap = g_strdup (tap);
  n->mac = mac ? g_strdup (mac) : banger_vmm_mac_for_vm (c->vm_id, c->nics->len);
  g_ptr_array_add (c->nics, n);
}

/* Firecracker's ids: alphanumerics and '_' only. */
static gboolean
valid_device_id (const char *id)
{
  if (id == NULL || id[0] == '\0' || strlen (id) > 64)
    return FALSE;
  for (const char *p = id; *p; p++)
    if (!g_ascii_isalnum (*p) && *p != '_')
      return FALSE;
  return TRUE;
}

static gboolean
valid_ipv4 (const char *s)
{
  return s == NULL || (g_hostname_is_ip_address (s) && strchr (s, ':') == NULL);
}

static gboolean
invalid (GError **error, const char *what, const char *value)
{
  g_autofree char *q = banger_quote (value);
  g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT, "VM configuration: %s '%s' is not valid",
               what, q);
  return FALSE;
}

gboolean
banger_vmm_config_validate (const BangerVmmConfig *c, GError **error)
{
  gboolean have_root = FALSE;

  if (!banger_validate_vm_name (c->vm_id, error))
    return FALSE;
  if (c->run_dir == NULL || !g_path_is_absolute (c->run_dir))
    return invalid (error, "run directory", c->run_dir);
  if (c->kernel_path == NULL || !g_path_is_absolute (c->kernel_path))
    return invalid (error, "kernel path", c->kernel_path);
  if (c->initrd_path != NULL && !g_path_is_absolute (c->initrd_path))
    return invalid (error, "initrd path", c->initrd_path);
  {
    g_autoptr (GError) local = NULL;
    if (!banger_vm_limits_check (c->vcpus, c->mem_mib, &local))
      {
        g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT, "VM configuration: %s",
                     local->message);
        return FALSE;
      }
  }
  for (guint i = 0; i < c->drives->len; i++)
    {
      BangerVmmDrive *d = c->drives->pdata[i];
      if (!valid_device_id (d->id))
        return invalid (error, "drive id", d->id);
      if (d->path == NULL || !g_path_is_absolute (d->path))
        return invalid (error, "drive path", d->path);
      if (d->is_root && have_root)
        return invalid (error, "second root drive", d->id);
      have_root |= d->is_root;
    }
  for (guint i = 0; i < c->nics->len; i++)
    {
      BangerVmmNic *n = c->nics->pdata[i];
      if (!valid_device_id (n->id))
        return invalid (error, "network interface id", n->id);
      if (!banger_validate_ifname (n->tap, error))
        return FALSE;
    }
  if (!valid_ipv4 (c->guest_ip))
    return invalid (error, "guest address", c->guest_ip);
  if (!valid_ipv4 (c->gateway_ip))
    return invalid (error, "gateway address", c->gateway_ip);
  if (!valid_ipv4 (c->dns_ip))
    return invalid (error, "DNS address", c->dns_ip);
  if (!valid_ipv4 (c->netmask))
    return invalid (error, "netmask", c->netmask);
  if (c->hostname != NULL && !banger_validate_vm_name (c->hostname, error))
    return FALSE;
  return TRUE;
}

char *
banger_vmm_build_boot_args (const BangerVmmConfig *c, const char *console)
{
  GString *s = g_string_new (NULL);

  g_string_append_printf (s, "console=%s reboot=k panic=1 pci=off", console ? console : "ttyS0");
  /* No PS/2 controller in a microVM: skip the i8042 probes that cost boot time. */
  g_string_append (s, " i8042.noaux i8042.nomux i8042.nopnp i8042.dumbkbd");
  if (c->guest_ip != NULL)
    g_string_append_printf (s, " ip=%s::%s:%s:%s:eth0:off", c->guest_ip,
                            c->gateway_ip ? c->gateway_ip : "",
                            c->netmask ? c->netmask : "255.255.255.252",
                            c->hostname ? c->hostname : c->vm_id);
  if (c->guest_ip != NULL && c->dns_ip != NULL)
    g_string_append_printf (s, ":%s", c->dns_ip);
  if (c->extra_boot_args != NULL && c->extra_boot_args[0] != '\0')
    g_string_append_printf (s, " %s", c->extra_boot_args);
  return g_string_free (s, FALSE);
}

char *
banger_vmm_mac_for_vm (const char *vm_id, guint nic_index)
{
  return banger_vm_mac_for (vm_id, nic_index);
}
