/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "banger-error.h"
#include "banger-names.h"
#include "banger-path.h"
#include "banger-priv-ops-private.h"
#include "banger-quote.h"
#include "banger-vmm-argv.h"

char *
banger_vmm_run_dir (BangerPrivState *state, const char *vm_id)
{
  return g_build_filename (state->runtime_dir, "vm", vm_id, NULL);
}

char *
banger_vmm_jail_base (BangerPrivState *state)
{
  return g_build_filename (state->runtime_dir, "jail", NULL);
}

char *
banger_vmm_jail_dir (BangerPrivState *state, const char *vm_id)
{
  g_autofree char *base = banger_vmm_jail_base (state);
  g_autofree char *exec_name = g_path_get_basename (state->firecracker_path ? state->firecracker_path
                                                                            : "firecracker");
  return g_build_filename (base, exec_name, vm_id, NULL);
}

static gboolean
check_config_binary (const char *what, const char *path, GError **error)
{
  if (path == NULL || path[0] != '/')
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_UNSUPPORTED,
                   "No %s binary is configured in the install config", what);
      return FALSE;
    }
  return TRUE;
}

GStrv
banger_vmm_firecracker_argv (BangerPrivState *state, const char *vm_id,
                             const char *scope_relpath, char **out_api_sock, GError **error)
{
  g_autoptr (GStrvBuilder) b = g_strv_builder_new ();

  if (!banger_validate_vm_name (vm_id, error)
      || !check_config_binary ("firecracker", state->firecracker_path, error))
    return NULL;
  if (state->jailer_path != NULL)
    {
      g_autofree char *uid = g_strdup_printf ("%u", (unsigned) state->owner_uid);
      g_autofree char *gid = g_strdup_printf ("%u", (unsigned) state->owner_gid);
      g_autofree char *base = banger_vmm_jail_base (state);
      g_autofree char *jail = banger_vmm_jail_dir (state, vm_id);

      if (!check_config_binary ("jailer", state->jailer_path, error))
        return NULL;
      g_strv_builder_add_many (b, state->jailer_path, "--id", vm_id, "--exec-file",
                               state->firecracker_path, "--uid", uid, "--gid", gid,
                               "--cgroup-version", "2", "--parent-cgroup",
                               scope_relpath[0] == '/' ? scope_relpath + 1 : scope_relpath,
                               "--chroot-base-dir", base, "--", "--api-sock",
                               "/" BANGER_VMM_API_SOCK_NAME, NULL);
      *out_api_sock = g_build_filename (jail, "root", BANGER_VMM_API_SOCK_NAME, NULL);
    }
  else
    {
      g_autofree char *run = banger_vmm_run_dir (state, vm_id);
      g_autofree char *sock = g_build_filename (run, BANGER_VMM_API_SOCK_NAME, NULL);

      g_strv_builder_add_many (b, state->firecracker_path, "--api-sock", sock, "--id", vm_id,
                               NULL);
      *out_api_sock = g_steal_pointer (&sock);
    }
  return g_strv_builder_end (b);
}

static gboolean
check_disk_path (BangerPrivState *state, const char *what, const char *path, GError **error)
{
  g_autofree char *q = banger_quote (path);

  if (!banger_priv_validate_abs_path (path, error))
    return FALSE;
  if (strchr (path, ',') != NULL)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   "The %s path '%s' contains ',' (QEMU option syntax)", what, q);
      return FALSE;
    }
  if (state->state_dir == NULL || !banger_path_is_under (path, state->state_dir))
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_PERMISSION_DENIED,
                   "The %s '%s' is not under banger's state directory", what, q);
      return FALSE;
    }
  return TRUE;
}

static gboolean
check_mac (const char *mac, GError **error)
{
  gboolean ok = mac != NULL && strlen (mac) == 17;

  for (int i = 0; ok && i < 17; i++)
    ok = (i % 3 == 2) ? mac[i] == ':' : (g_ascii_isxdigit (mac[i]) && !g_ascii_isupper (mac[i]));
  if (!ok)
    {
      g_autofree char *q = banger_quote (mac);
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   "'%s' is not a MAC address (xx:xx:xx:xx:xx:xx, lowercase)", q);
    }
  return ok;
}

GStrv
banger_vmm_qemu_argv (BangerPrivState *state, const char *vm_id, const BangerQemuParams *p,
                      char **out_qmp_sock, GError **error)
{
  g_autoptr (GStrvBuilder) b = g_strv_builder_new ();
  g_autofree char *run = NULL;
  g_autofree char *qmp = NULL;
  g_autofree char *qmp_arg = NULL;
  g_autofree char *serial = NULL;
  g_autofree char *mem = NULL;
  g_autofree char *smp = NULL;
  g_autofree char *root_drive = NULL;

  if (!banger_validate_vm_name (vm_id, error)
      || !check_config_binary ("qemu", state->qemu_path, error))
    return NULL;
  if (!check_disk_path (state, "kernel", p->kernel, error)
      || !check_disk_path (state, "root disk", p->rootfs, error)
      || (p->initrd && !check_disk_path (state, "initrd", p->initrd, error))
      || (p->work_disk && !check_disk_path (state, "work disk", p->work_disk, error))
      || (p->tap && !banger_validate_ifname (p->tap, error))
      || (p->mac && !check_mac (p->mac, error)))
    return NULL;
  if (g_strcmp0 (p->accel, "tcg") != 0 && g_strcmp0 (p->accel, "kvm") != 0)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   "accel must be 'tcg' or 'kvm'");
      return NULL;
    }
  if (p->mem_mib < 64 || p->mem_mib > 262144 || p->vcpus < 1 || p->vcpus > 32)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   "mem_mib must be 64-262144 and vcpus 1-32");
      return NULL;
    }
  if (p->boot_args != NULL)
    for (const char *c = p->boot_args; *c; c++)
      if (*c < 0x20 || *c > 0x7e)
        {
          g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                       "boot_args must be printable ASCII");
          return NULL;
        }

  run = banger_vmm_run_dir (state, vm_id);
  qmp = g_build_filename (run, BANGER_VMM_QMP_SOCK_NAME, NULL);
  qmp_arg = g_strdup_printf ("unix:%s,server=on,wait=off", qmp);
  serial = g_strdup_printf ("file:%s/console.log", run);
  mem = g_strdup_printf ("%" G_GINT64_FORMAT, p->mem_mib);
  smp = g_strdup_printf ("%" G_GINT64_FORMAT, p->vcpus);
  root_drive = g_strdup_printf ("id=rootfs,file=%s,format=raw,if=none", p->rootfs);

  g_strv_builder_add_many (b, state->qemu_path, "-M", "microvm", "-accel", p->accel, "-m", mem,
                           "-smp", smp, "-nodefaults", "-no-user-config", "-display", "none",
                           "-no-reboot", "-serial", serial, "-qmp", qmp_arg, "-kernel",
                           p->kernel, NULL);
  if (p->initrd)
    g_strv_builder_add_many (b, "-initrd", p->initrd, NULL);
  if (p->boot_args)
    g_strv_builder_add_many (b, "-append", p->boot_args, NULL);
  g_strv_builder_add_many (b, "-drive", root_drive, "-device", "virtio-blk-device,drive=rootfs",
                           NULL);
  if (p->work_disk)
    {
      g_autofree char *work = g_strdup_printf ("id=work,file=%s,format=raw,if=none", p->work_disk);
      g_strv_builder_add_many (b, "-drive", work, "-device", "virtio-blk-device,drive=work", NULL);
    }
  if (p->tap)
    {
      /* The helper attaches to the tap and hands QEMU the queue fd: the VMM
       * never needs access to /dev/net/tun (root-only on some hosts). */
      g_autofree char *netdev = g_strdup ("tap,id=net0,fd=3");
      g_autofree char *dev = p->mac ? g_strdup_printf ("virtio-net-device,netdev=net0,mac=%s", p->mac)
                                    : g_strdup ("virtio-net-device,netdev=net0");
      g_strv_builder_add_many (b, "-netdev", netdev, "-device", dev, NULL);
    }
  *out_qmp_sock = g_steal_pointer (&qmp);
  return g_strv_builder_end (b);
}
