/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A launch request, turned into a command line by the one builder of its
 * VMM (launch/), and the result's cleanup. */
#include "config.h"

#include <unistd.h>

#include "banger-qemu-cmdline.h"
#include "banger-vmm.h"

void
banger_vmm_launched_clear (BangerVmmLaunched *l)
{
  if (l->pidfd >= 0)
    close (l->pidfd);
  l->pidfd = -1;
  l->pid = 0;
  g_clear_pointer (&l->api_socket, g_free);
  g_clear_pointer (&l->console_log, g_free);
  g_clear_pointer (&l->log_path, g_free);
  g_clear_pointer (&l->jail_root, g_free);
}

static GStrv
qemu_argv (const BangerVmmLaunchRequest *r, GError **error)
{
  const BangerVmmConfig *config = r->config;
  g_autofree BangerQemuDisk *disks = g_new0 (BangerQemuDisk, config->drives->len + 1);
  g_autofree char *boot_args = banger_vmm_build_boot_args (config, "ttyS0");
  BangerQemuCmdline c = { 0 };
  const BangerVmmNic *nic = NULL;
  guint n = 0;

  if (config->nics->len > 1)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_UNSUPPORTED,
                   "The QEMU driver takes one network interface (VM '%s' has %u)",
                   config->vm_id, config->nics->len);
      return NULL;
    }
  if (config->nics->len == 1)
    nic = config->nics->pdata[0];
  /* The root disk first, so it is /dev/vda. */
  for (int pass = 0; pass < 2; pass++)
    for (guint i = 0; i < config->drives->len; i++)
      {
        const BangerVmmDrive *d = config->drives->pdata[i];
        if ((pass == 0) != (d->is_root != FALSE))
          continue;
        disks[n++] = (BangerQemuDisk) { d->id, d->path, d->read_only };
      }
  c.binary = r->binary;
  c.vm_id = config->vm_id;
  c.accel = r->accel;
  c.vcpus = config->vcpus;
  c.mem_mib = config->mem_mib;
  c.kernel = config->kernel_path;
  c.initrd = config->initrd_path;
  c.boot_args = boot_args;
  c.disks = disks;
  c.n_disks = n;
  c.tap = nic != NULL;
  c.mac = nic ? nic->mac : NULL;
  c.qmp_socket = r->qmp_socket;
  c.console_log = r->console_log;
  c.incoming = r->incoming;
  return banger_qemu_cmdline_build (&c, error);
}

/* Firecracker's limits go last: under the jailer they follow its "--",
 * so they reach Firecracker either way. */
static GStrv
firecracker_argv (const BangerVmmLaunchRequest *r, GError **error)
{
  g_auto (GStrv) argv = banger_firecracker_cmdline_build (r->binary, r->config->vm_id,
                                                          r->api_sock, r->jailer, error);
  g_autoptr (GStrvBuilder) b = NULL;

  if (argv == NULL)
    return NULL;
  if (r->api_payload_limit == 0 && r->mmds_size_limit == 0)
    return g_steal_pointer (&argv);
  b = g_strv_builder_new ();
  g_strv_builder_addv (b, (const char **) argv);
  if (r->api_payload_limit != 0)
    {
      g_autofree char *v = g_strdup_printf ("%u", r->api_payload_limit);
      g_strv_builder_add_many (b, "--http-api-max-payload-size", v, NULL);
    }
  if (r->mmds_size_limit != 0)
    {
      g_autofree char *v = g_strdup_printf ("%u", r->mmds_size_limit);
      g_strv_builder_add_many (b, "--mmds-size-limit", v, NULL);
    }
  return g_strv_builder_end (b);
}

GStrv
banger_vmm_launch_request_argv (const BangerVmmLaunchRequest *r, GError **error)
{
  if (g_strcmp0 (r->driver, "qemu") == 0)
    return qemu_argv (r, error);
  if (g_strcmp0 (r->driver, "firecracker") == 0)
    return firecracker_argv (r, error);
  g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT, "No VMM driver '%s'",
               r->driver ? r->driver : "(null)");
  return NULL;
}
