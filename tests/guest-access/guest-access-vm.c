/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * See guest-access-vm.h.  The boot mirrors banger_kit_vm_boot() except for
 * the key: made by banger_guest_key_load_or_create() and written by
 * banger_guest_inject_authorized_key(), the library functions under test. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "banger-guest-inject.h"
#include "banger-vmm-qemu.h"
#include "guest-access-vm.h"

void
ga_vm_free (GaVm *vm)
{
  if (vm == NULL)
    return;
  if (vm->vmm != NULL && !banger_vmm_has_exited (vm->vmm) && banger_vmm_get_pidfd (vm->vmm) >= 0)
    {
      banger_vmm_kill (vm->vmm, NULL);
      banger_vmm_wait_exit (vm->vmm, NULL, NULL, NULL);
    }
  g_clear_object (&vm->vmm);
  g_clear_pointer (&vm->key, banger_guest_key_unref);
  if (vm->dir != NULL)
    {
      const char *argv[] = { "rm", "-rf", "--one-file-system", vm->dir, NULL };
      banger_kit_run (argv, NULL, NULL);
    }
  g_free (vm->dir);
  g_free (vm->rootfs);
  g_free (vm->key_dir);
  g_free (vm->known_hosts);
  g_free (vm);
}

GaVm *
ga_vm_boot (const char *guest_dir, BangerKitNetns *ns, GError **error)
{
  GaVm *vm = g_new0 (GaVm, 1);
  g_autofree char *run_dir = NULL;
  g_autofree char *src_rootfs = g_build_filename (guest_dir, "rootfs.ext4", NULL);
  BangerVmmConfig *config;
  gint64 t0;

  /* under the helper's state dir (the helper launches only disks and
   * kernels from there), the owner's where QEMU writes */
  vm->dir = g_build_filename (ns->state_dir, "ga-vm", NULL);
  if (g_mkdir (vm->dir, 0755) < 0)
    {
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errno), "%s: %s", vm->dir,
                   g_strerror (errno));
      g_clear_pointer (&vm->dir, g_free);
      goto fail;
    }
  run_dir = g_build_filename (vm->dir, "run", NULL);
  vm->rootfs = g_build_filename (vm->dir, "rootfs.ext4", NULL);
  vm->key_dir = g_build_filename (vm->dir, "ssh", NULL);
  vm->known_hosts = g_build_filename (vm->dir, "known_hosts", NULL);
  {
    g_autofree char *src_kernel = g_build_filename (guest_dir, "vmlinuz", NULL);
    g_autofree char *src_initrd = g_build_filename (guest_dir, "initrd.img", NULL);
    const char *cp[] = { "cp", "--sparse=always", src_rootfs, vm->rootfs, NULL };
    const char *cpk[] = { "cp", src_kernel, src_initrd, vm->dir, NULL };
    if (!banger_kit_run (cp, NULL, error) || !banger_kit_run (cpk, NULL, error))
      goto fail;
  }
  vm->key = banger_guest_key_load_or_create (vm->key_dir, NULL, error);
  if (vm->key == NULL)
    goto fail;
  t0 = g_get_monotonic_time ();
  if (!banger_guest_inject_authorized_key (vm->rootfs, banger_guest_key_get_public_line (vm->key),
                                           NULL, error))
    goto fail;
  vm->inject_s = (double) (g_get_monotonic_time () - t0) / G_USEC_PER_SEC;

  config = banger_vmm_config_new (BANGER_KIT_VM_ID, run_dir);
  if (chown (vm->rootfs, BANGER_KIT_OWNER_UID, BANGER_KIT_OWNER_GID) < 0)
    {
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errno), "chown: %s",
                   g_strerror (errno));
      goto fail;
    }
  config->kernel_path = g_build_filename (vm->dir, "vmlinuz", NULL);
  config->initrd_path = g_build_filename (vm->dir, "initrd.img", NULL);
  config->mem_mib = 256;
  config->vcpus = 1;
  config->guest_ip = g_strdup (ns->guest_ip);
  config->gateway_ip = g_strdup (ns->host_ip);
  config->netmask = g_strdup (ns->netmask);
  config->hostname = g_strdup ("banger-test");
  banger_vmm_config_add_drive (config, "rootfs", vm->rootfs, TRUE, FALSE);
  banger_vmm_config_add_nic (config, "eth0", ns->tap, NULL);
  vm->vmm = banger_vmm_qemu_new (config);
  banger_vmm_set_launcher (vm->vmm, ns->launcher);
  banger_vmm_set_stop_timeout (vm->vmm, 15);
  if (!banger_vmm_prepare (vm->vmm, error)
      || !banger_vmm_launch (vm->vmm, NULL, error)
      || !banger_vmm_configure (vm->vmm, NULL, error)
      || !banger_vmm_start (vm->vmm, NULL, error))
    goto fail;
  return vm;

fail:
  ga_vm_free (vm);
  return NULL;
}

gboolean
ga_vm_stop (GaVm *vm, GError **error)
{
  return banger_vmm_stop (vm->vmm, NULL, error);
}

int
ga_enter_netns (const char *name, GError **error)
{
  g_autofree char *path = g_build_filename ("/run/netns", name, NULL);
  int saved = open ("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  int fd = open (path, O_RDONLY | O_CLOEXEC);

  if (saved < 0 || fd < 0 || setns (fd, CLONE_NEWNET) < 0)
    {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno), "cannot enter %s: %s", path,
                   g_strerror (errno));
      if (saved >= 0)
        close (saved);
      if (fd >= 0)
        close (fd);
      return -1;
    }
  close (fd);
  return saved;
}

gboolean
ga_leave_netns (int saved_fd, GError **error)
{
  int rc = setns (saved_fd, CLONE_NEWNET);
  int errsv = errno;

  close (saved_fd);
  if (rc < 0)
    {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv),
                   "cannot return to the original network namespace: %s", g_strerror (errsv));
      return FALSE;
    }
  return TRUE;
}
