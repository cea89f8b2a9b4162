/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The QEMU microvm command line (see banger-qemu-cmdline.h). */
#include "config.h"

#include <string.h>

#include "banger-error.h"
#include "banger-names.h"
#include "banger-qemu-cmdline.h"
#include "banger-quote.h"
#include "banger-vm-limits.h"

#define BOOT_ARGS_MAX 4096

char *
banger_qemu_opt_escape (const char *value)
{
  GString *s = g_string_new (NULL);

  for (const char *p = value; *p != '\0'; p++)
    {
      if (*p == ',')
        g_string_append_c (s, ',');
      g_string_append_c (s, *p);
    }
  return g_string_free (s, FALSE);
}

guint
banger_qemu_host_tsc_khz (void)
{
  g_autofree char *cpuinfo = NULL;
  g_auto (GStrv) lines = NULL;
  gboolean constant = FALSE;
  double mhz = 0;

  if (!g_file_get_contents ("/proc/cpuinfo", &cpuinfo, NULL, NULL))
    return 0;
  lines = g_strsplit (cpuinfo, "\n", 0);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      const char *colon = strchr (lines[i], ':');

      if (lines[i][0] == '\0')
        break; /* the first CPU is enough */
      if (colon == NULL)
        continue;
      if (g_str_has_prefix (lines[i], "cpu MHz"))
        mhz = g_ascii_strtod (colon + 1, NULL);
      else if (g_str_has_prefix (lines[i], "flags"))
        constant = strstr (colon, " constant_tsc") != NULL;
    }
  if (!constant || mhz < 100 || mhz > 100000)
    return 0;
  return (guint) (mhz * 1000.0 + 0.5);
}

gboolean
banger_qemu_check_mac (const char *mac, GError **error)
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

static gboolean
bad (GError **error, const char *what, const char *value)
{
  g_autofree char *q = banger_quote (value);
  g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
               "QEMU command line: %s '%s' is not valid", what, q);
  return FALSE;
}

static gboolean
valid_disk_id (const char *id)
{
  if (id == NULL || id[0] == '\0' || strlen (id) > 64)
    return FALSE;
  for (const char *p = id; *p; p++)
    if (!g_ascii_isalnum (*p) && *p != '_')
      return FALSE;
  return TRUE;
}

static gboolean
abs_path (const char *p)
{
  return p != NULL && p[0] == '/';
}

static gboolean
check (const BangerQemuCmdline *c, GError **error)
{
  if (!abs_path (c->binary))
    return bad (error, "QEMU binary", c->binary);
  if (!banger_validate_vm_name (c->vm_id, error))
    return FALSE;
  if (g_strcmp0 (c->accel, "tcg") != 0 && g_strcmp0 (c->accel, "kvm") != 0)
    {
      g_autofree char *q = banger_quote (c->accel);
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   "Accelerator '%s' is neither 'kvm' nor 'tcg'", q);
      return FALSE;
    }
  if (!banger_vm_limits_check (c->vcpus, c->mem_mib, error))
    return FALSE;
  if (!abs_path (c->kernel))
    return bad (error, "kernel path", c->kernel);
  if (c->initrd != NULL && !abs_path (c->initrd))
    return bad (error, "initrd path", c->initrd);
  if (c->boot_args != NULL)
    {
      if (strlen (c->boot_args) > BOOT_ARGS_MAX)
        return bad (error, "kernel command line (too long)", c->boot_args);
      for (const char *p = c->boot_args; *p; p++)
        if (*p < 0x20 || *p > 0x7e)
          return bad (error, "kernel command line (printable ASCII only)", c->boot_args);
    }
  for (guint i = 0; i < c->n_disks; i++)
    {
      if (!valid_disk_id (c->disks[i].id))
        return bad (error, "disk id", c->disks[i].id);
      if (!abs_path (c->disks[i].path))
        return bad (error, "disk path", c->disks[i].path);
      for (guint j = 0; j < i; j++)
        if (g_str_equal (c->disks[j].id, c->disks[i].id))
          return bad (error, "duplicate disk id", c->disks[i].id);
    }
  if (c->mac != NULL && !banger_qemu_check_mac (c->mac, error))
    return FALSE;
  if (!abs_path (c->qmp_socket))
    return bad (error, "QMP socket path", c->qmp_socket);
  if (!abs_path (c->console_log))
    return bad (error, "console log path", c->console_log);
  return TRUE;
}

static void
add (GPtrArray *argv, const char *arg)
{
  g_ptr_array_add (argv, g_strdup (arg));
}

static void addf (GPtrArray *argv, const char *format, ...) G_GNUC_PRINTF (2, 3);

static void
addf (GPtrArray *argv, const char *format, ...)
{
  va_list ap;

  va_start (ap, format);
  g_ptr_array_add (argv, g_strdup_vprintf (format, ap));
  va_end (ap);
}

GStrv
banger_qemu_cmdline_build (const BangerQemuCmdline *c, GError **error)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GString) cmdline = g_string_new (c->boot_args ? c->boot_args : "");
  g_autofree char *e_console = NULL;
  g_autofree char *e_qmp = NULL;

  if (!check (c, error))
    return NULL;

  if (g_str_equal (c->accel, "tcg"))
    {
      /* Under TCG the guest's TSC follows the host's.  Left to itself the
       * kernel calibrates it against the emulated PIT, which fails when the
       * host is busy (the vCPU thread is descheduled mid-measurement), and
       * then the boot hangs.  Telling it the frequency skips that. */
      guint khz = banger_qemu_host_tsc_khz ();
      if (khz > 0)
        g_string_append_printf (cmdline, "%stsc_early_khz=%u", cmdline->len ? " " : "", khz);
    }
  e_console = banger_qemu_opt_escape (c->console_log);
  e_qmp = banger_qemu_opt_escape (c->qmp_socket);

  add (argv, c->binary);
  /* microvm: no PCI, no firmware tables beyond ACPI (which carries the
   * virtio-mmio devices and the power button); the kernel is loaded
   * directly. */
  add (argv, "-M");
  add (argv, "microvm");
  add (argv, "-accel");
  add (argv, c->accel);
  if (g_str_equal (c->accel, "kvm"))
    {
      add (argv, "-cpu");
      add (argv, "host");
    }
  add (argv, "-name");
  addf (argv, "%s,debug-threads=on", c->vm_id); /* a VM name has no ',' */
  add (argv, "-m");
  addf (argv, "%" G_GINT64_FORMAT, c->mem_mib);
  add (argv, "-smp");
  addf (argv, "%" G_GINT64_FORMAT, c->vcpus);
  add (argv, "-nodefaults");
  add (argv, "-no-user-config");
  add (argv, "-display"); /* not -nographic: nothing of QEMU's goes to stdio */
  add (argv, "none");
  add (argv, "-no-reboot"); /* a guest reboot ends the process, as with Firecracker */
  add (argv, "-S");         /* start paused: "start" is the QMP cont */
  add (argv, "-serial");
  addf (argv, "file:%s", e_console);
  add (argv, "-qmp");
  addf (argv, "unix:%s,server=on,wait=off", e_qmp);

  add (argv, "-kernel");
  add (argv, c->kernel); /* a plain path argument: no option list */
  if (c->initrd != NULL)
    {
      add (argv, "-initrd");
      add (argv, c->initrd);
    }
  if (cmdline->len > 0)
    {
      add (argv, "-append");
      add (argv, cmdline->str);
    }

  for (guint i = 0; i < c->n_disks; i++)
    {
      g_autofree char *e_path = banger_qemu_opt_escape (c->disks[i].path);

      add (argv, "-drive");
      addf (argv, "if=none,id=%s,file=%s,format=raw%s", c->disks[i].id, e_path,
            c->disks[i].read_only ? ",readonly=on" : "");
      add (argv, "-device");
      addf (argv, "virtio-blk-device,drive=%s", c->disks[i].id);
    }

  if (c->tap)
    {
      /* The spawner attaches to the tap and hands QEMU the queue fd: the
       * VMM never needs /dev/net/tun (root-only, or one owner, on a host). */
      add (argv, "-netdev");
      addf (argv, "tap,id=net0,fd=%d", BANGER_QEMU_TAP_FD);
      add (argv, "-device");
      if (c->mac != NULL)
        addf (argv, "virtio-net-device,netdev=net0,mac=%s", c->mac);
      else
        add (argv, "virtio-net-device,netdev=net0");
    }

  /* A balloon on every VM (banger vm set --balloon; QMP balloon): it must
   * be there at boot, and a restore needs the snapshot's device set. */
  add (argv, "-device");
  add (argv, "virtio-balloon-device,deflate-on-oom=on");

  if (c->incoming)
    {
      /* No self-announce after the load: QEMU would send RARPs with the
       * snapshotted guest's MAC, and a bridge would then send the frames
       * of that guest (still running, or another restore) to this tap.
       * The restored guest takes a MAC of its own from its seed disk
       * (doc/guest.md). */
      add (argv, "-global");
      add (argv, "migration.announce-rounds=0");
      /* A restore: the devices above must match the snapshot's; QEMU waits
       * (still -S) for migrate-incoming to bring the state. */
      add (argv, "-incoming");
      add (argv, "defer");
    }

  g_ptr_array_add (argv, NULL);
  return (GStrv) g_ptr_array_free (g_steal_pointer (&argv), FALSE);
}
