/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * BangerMachineConfig (see banger-machine-config.h). */
#include "config.h"

#include "banger-machine-config-private.h"

/**
 * BangerMachineConfig:
 *
 * What a #BangerVmm boots: the kernel (and initrd), vCPUs and memory, the
 * disks and network interfaces, and the guest's own network (written into
 * the kernel's `ip=` argument; the guest's init applies it, doc/guest.md).
 * Like Firecracker's machine configuration, or the `Config` of
 * firecracker-go-sdk.
 *
 * A refcounted boxed value: set it up, then banger_machine_config_seal()
 * checks it and freezes it; the driver constructors (banger_vmm_new_qemu(),
 * banger_vmm_new_firecracker()) seal it themselves.  Setters on a sealed
 * config are programming errors (a critical, nothing changed).
 *
 * Since: 0.2
 */
struct _BangerMachineConfig
{
  gint ref_count;
  gboolean sealed;
  BangerVmmConfig *config;
};

G_DEFINE_BOXED_TYPE (BangerMachineConfig, banger_machine_config, banger_machine_config_ref,
                     banger_machine_config_unref)

/**
 * banger_machine_config_new:
 * @vm_id: the VM's id, a DNS label (banger_validate_vm_name()): it names
 *   the process, the MAC addresses and, through a privileged backend, every
 *   host object of the VM
 * @run_dir: (type filename): an absolute directory for the VMM's sockets,
 *   logs and staged files (made when needed)
 *
 * A configuration with 1 vCPU, 256 MiB of memory, no kernel, no disks and
 * no network interfaces.
 *
 * Returns: (transfer full): a new #BangerMachineConfig
 *
 * Since: 0.2
 */
BangerMachineConfig *
banger_machine_config_new (const char *vm_id, const char *run_dir)
{
  BangerMachineConfig *self;

  g_return_val_if_fail (vm_id != NULL, NULL);
  g_return_val_if_fail (run_dir != NULL, NULL);
  self = g_new0 (BangerMachineConfig, 1);
  self->ref_count = 1;
  self->config = banger_vmm_config_new (vm_id, run_dir);
  return self;
}

/**
 * banger_machine_config_ref:
 * @config: a #BangerMachineConfig
 *
 * Returns: (transfer full): @config
 *
 * Since: 0.2
 */
BangerMachineConfig *
banger_machine_config_ref (BangerMachineConfig *config)
{
  g_return_val_if_fail (config != NULL, NULL);
  g_atomic_int_inc (&config->ref_count);
  return config;
}

/**
 * banger_machine_config_unref:
 * @config: (transfer full): a #BangerMachineConfig
 *
 * Since: 0.2
 */
void
banger_machine_config_unref (BangerMachineConfig *config)
{
  g_return_if_fail (config != NULL);
  if (!g_atomic_int_dec_and_test (&config->ref_count))
    return;
  banger_vmm_config_free (config->config);
  g_free (config);
}

#define RETURN_IF_SEALED(config)                                                               \
  G_STMT_START                                                                                 \
  {                                                                                            \
    g_return_if_fail ((config) != NULL);                                                       \
    g_return_if_fail (!(config)->sealed);                                                      \
  }                                                                                            \
  G_STMT_END

static void
replace (char **field, const char *value)
{
  g_free (*field);
  *field = g_strdup (value);
}

/**
 * banger_machine_config_set_kernel:
 * @config: an unsealed #BangerMachineConfig
 * @kernel_path: (type filename): the guest kernel (absolute)
 * @initrd_path: (nullable) (type filename): an initrd (absolute), or %NULL
 *
 * Since: 0.2
 */
void
banger_machine_config_set_kernel (BangerMachineConfig *config, const char *kernel_path,
                                  const char *initrd_path)
{
  RETURN_IF_SEALED (config);
  replace (&config->config->kernel_path, kernel_path);
  replace (&config->config->initrd_path, initrd_path);
}

/**
 * banger_machine_config_set_boot_args:
 * @config: an unsealed #BangerMachineConfig
 * @boot_args: (nullable): appended to the kernel command line banger builds
 *   (console, `reboot=k panic=1`, `ip=` from the guest network)
 *
 * Since: 0.2
 */
void
banger_machine_config_set_boot_args (BangerMachineConfig *config, const char *boot_args)
{
  RETURN_IF_SEALED (config);
  replace (&config->config->extra_boot_args, boot_args);
}

/**
 * banger_machine_config_set_vcpus:
 * @config: an unsealed #BangerMachineConfig
 * @vcpus: the number of vCPUs (checked by banger_machine_config_seal())
 *
 * Since: 0.2
 */
void
banger_machine_config_set_vcpus (BangerMachineConfig *config, guint vcpus)
{
  RETURN_IF_SEALED (config);
  config->config->vcpus = vcpus;
}

/**
 * banger_machine_config_set_memory_mib:
 * @config: an unsealed #BangerMachineConfig
 * @memory_mib: the guest's memory in MiB (checked by
 *   banger_machine_config_seal())
 *
 * Since: 0.2
 */
void
banger_machine_config_set_memory_mib (BangerMachineConfig *config, guint memory_mib)
{
  RETURN_IF_SEALED (config);
  config->config->mem_mib = memory_mib;
}

/**
 * banger_machine_config_add_drive:
 * @config: an unsealed #BangerMachineConfig
 * @drive_id: the drive's id, `[A-Za-z0-9_]+` (`rootfs`, `work`)
 * @path: (type filename): the disk image or block device (absolute)
 * @is_root: whether this is the root disk (at most one; the first disk the
 *   guest sees, `/dev/vda`)
 * @read_only: whether the guest may only read it
 *
 * Since: 0.2
 */
void
banger_machine_config_add_drive (BangerMachineConfig *config, const char *drive_id,
                                 const char *path, gboolean is_root, gboolean read_only)
{
  RETURN_IF_SEALED (config);
  g_return_if_fail (drive_id != NULL && path != NULL);
  banger_vmm_config_add_drive (config->config, drive_id, path, is_root, read_only);
}

/**
 * banger_machine_config_add_nic:
 * @config: an unsealed #BangerMachineConfig
 * @nic_id: the interface's id, `[A-Za-z0-9_]+` (`eth0`)
 * @tap: the host tap device (banger_validate_ifname()); through a
 *   privileged backend, the VM's own tap (banger_priv_backend_create_tap())
 * @mac: (nullable): its MAC address, or %NULL for a stable one derived from
 *   the VM id and the interface's index
 *
 * Since: 0.2
 */
void
banger_machine_config_add_nic (BangerMachineConfig *config, const char *nic_id, const char *tap,
                               const char *mac)
{
  RETURN_IF_SEALED (config);
  g_return_if_fail (nic_id != NULL && tap != NULL);
  banger_vmm_config_add_nic (config->config, nic_id, tap, mac);
}

/**
 * banger_machine_config_set_guest_network:
 * @config: an unsealed #BangerMachineConfig
 * @guest_ip: (nullable): the guest's IPv4 address, or %NULL for no `ip=`
 * @gateway_ip: (nullable): its gateway
 * @netmask: (nullable): its netmask (default `255.255.255.252`)
 * @hostname: (nullable): its host name (default: the VM id)
 *
 * The guest's network, passed as the kernel's standard
 * `ip=<client>::<gateway>:<netmask>:<hostname>:eth0:off` argument.
 *
 * Since: 0.2
 */
void
banger_machine_config_set_guest_network (BangerMachineConfig *config, const char *guest_ip,
                                         const char *gateway_ip, const char *netmask,
                                         const char *hostname)
{
  RETURN_IF_SEALED (config);
  replace (&config->config->guest_ip, guest_ip);
  replace (&config->config->gateway_ip, gateway_ip);
  replace (&config->config->netmask, netmask);
  replace (&config->config->hostname, hostname);
}

/**
 * banger_machine_config_set_vsock_cid:
 * @config: an unsealed #BangerMachineConfig
 * @cid: the guest's vsock context id, 0 for no vsock device (Firecracker)
 *
 * Since: 0.2
 */
void
banger_machine_config_set_vsock_cid (BangerMachineConfig *config, guint cid)
{
  RETURN_IF_SEALED (config);
  config->config->vsock_cid = cid;
}

/**
 * banger_machine_config_set_balloon_mib:
 * @config: an unsealed #BangerMachineConfig
 * @balloon_mib: the initial size of a memory balloon, 0 for none
 *   (Firecracker)
 *
 * Since: 0.2
 */
void
banger_machine_config_set_balloon_mib (BangerMachineConfig *config, guint balloon_mib)
{
  RETURN_IF_SEALED (config);
  config->config->balloon_mib = balloon_mib;
}

/**
 * banger_machine_config_seal:
 * @config: a #BangerMachineConfig
 * @error: return location for a #GError
 *
 * Checks everything a driver relies on — the VM id a DNS label, paths
 * absolute, vCPUs and memory within banger's limits, drive and interface
 * ids, tap names, addresses — and freezes @config.  A config that is
 * already sealed is accepted again.
 *
 * Returns: %TRUE, or %FALSE with %BANGER_ERROR_INVALID_ARGUMENT naming what
 *   is wrong (@config stays unsealed)
 *
 * Since: 0.2
 */
gboolean
banger_machine_config_seal (BangerMachineConfig *config, GError **error)
{
  g_return_val_if_fail (config != NULL, FALSE);
  if (config->sealed)
    return TRUE;
  if (!banger_vmm_config_validate (config->config, error))
    return FALSE;
  config->sealed = TRUE;
  return TRUE;
}

/**
 * banger_machine_config_is_sealed:
 * @config: a #BangerMachineConfig
 *
 * Returns: whether banger_machine_config_seal() has accepted @config
 *
 * Since: 0.2
 */
gboolean
banger_machine_config_is_sealed (BangerMachineConfig *config)
{
  g_return_val_if_fail (config != NULL, FALSE);
  return config->sealed;
}

/**
 * banger_machine_config_get_vm_id:
 * @config: a #BangerMachineConfig
 *
 * Returns: the VM id
 *
 * Since: 0.2
 */
const char *
banger_machine_config_get_vm_id (BangerMachineConfig *config)
{
  g_return_val_if_fail (config != NULL, NULL);
  return config->config->vm_id;
}

/**
 * banger_machine_config_get_run_dir:
 * @config: a #BangerMachineConfig
 *
 * Returns: (type filename): the run directory
 *
 * Since: 0.2
 */
const char *
banger_machine_config_get_run_dir (BangerMachineConfig *config)
{
  g_return_val_if_fail (config != NULL, NULL);
  return config->config->run_dir;
}

/**
 * banger_machine_config_get_kernel_path:
 * @config: a #BangerMachineConfig
 *
 * Returns: (nullable) (type filename): the kernel, %NULL before
 *   banger_machine_config_set_kernel()
 *
 * Since: 0.2
 */
const char *
banger_machine_config_get_kernel_path (BangerMachineConfig *config)
{
  g_return_val_if_fail (config != NULL, NULL);
  return config->config->kernel_path;
}

/**
 * banger_machine_config_get_vcpus:
 * @config: a #BangerMachineConfig
 *
 * Returns: the number of vCPUs
 *
 * Since: 0.2
 */
guint
banger_machine_config_get_vcpus (BangerMachineConfig *config)
{
  g_return_val_if_fail (config != NULL, 0);
  return config->config->vcpus;
}

/**
 * banger_machine_config_get_memory_mib:
 * @config: a #BangerMachineConfig
 *
 * Returns: the guest's memory in MiB
 *
 * Since: 0.2
 */
guint
banger_machine_config_get_memory_mib (BangerMachineConfig *config)
{
  g_return_val_if_fail (config != NULL, 0);
  return config->config->mem_mib;
}

/**
 * banger_machine_config_get_n_drives:
 * @config: a #BangerMachineConfig
 *
 * Returns: how many drives were added
 *
 * Since: 0.2
 */
guint
banger_machine_config_get_n_drives (BangerMachineConfig *config)
{
  g_return_val_if_fail (config != NULL, 0);
  return config->config->drives->len;
}

/**
 * banger_machine_config_get_n_nics:
 * @config: a #BangerMachineConfig
 *
 * Returns: how many network interfaces were added
 *
 * Since: 0.2
 */
guint
banger_machine_config_get_n_nics (BangerMachineConfig *config)
{
  g_return_val_if_fail (config != NULL, 0);
  return config->config->nics->len;
}

/**
 * banger_machine_config_build_boot_args:
 * @config: a #BangerMachineConfig
 * @console: (nullable): the console device (default `ttyS0`)
 *
 * The whole kernel command line the drivers pass for @config.
 *
 * Returns: (transfer full): the command line
 *
 * Since: 0.2
 */
char *
banger_machine_config_build_boot_args (BangerMachineConfig *config, const char *console)
{
  g_return_val_if_fail (config != NULL, NULL);
  return banger_vmm_build_boot_args (config->config, console);
}

BangerVmmConfig *
banger_machine_config_to_vmm_config (BangerMachineConfig *config)
{
  const BangerVmmConfig *c = config->config;
  BangerVmmConfig *copy;

  g_return_val_if_fail (config->sealed, NULL);
  copy = banger_vmm_config_new (c->vm_id, c->run_dir);
  copy->kernel_path = g_strdup (c->kernel_path);
  copy->initrd_path = g_strdup (c->initrd_path);
  copy->extra_boot_args = g_strdup (c->extra_boot_args);
  copy->vcpus = c->vcpus;
  copy->mem_mib = c->mem_mib;
  for (guint i = 0; i < c->drives->len; i++)
    {
      const BangerVmmDrive *d = c->drives->pdata[i];
      banger_vmm_config_add_drive (copy, d->id, d->path, d->is_root, d->read_only);
    }
  for (guint i = 0; i < c->nics->len; i++)
    {
      const BangerVmmNic *n = c->nics->pdata[i];
      banger_vmm_config_add_nic (copy, n->id, n->tap, n->mac);
    }
  copy->guest_ip = g_strdup (c->guest_ip);
  copy->gateway_ip = g_strdup (c->gateway_ip);
  copy->netmask = g_strdup (c->netmask);
  copy->hostname = g_strdup (c->hostname);
  copy->dns_ip = g_strdup (c->dns_ip);
  copy->vsock_cid = c->vsock_cid;
  copy->balloon_mib = c->balloon_mib;
  copy->balloon_device = c->balloon_device;
  copy->entropy = c->entropy;
  return copy;
}
