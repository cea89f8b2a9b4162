/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The QEMU microvm command line, and the choice between KVM and TCG. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "banger-error-private.h"
#include "banger-quote.h"
#include "banger-vmm-qemu.h"

char *
banger_vmm_qemu_opt_escape (const char *value)
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
banger_vmm_qemu_host_tsc_khz (void)
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

static void
add (GPtrArray *argv, const char *arg)
{
  g_ptr_array_add (argv, g_strdup (arg));
}

static void
addf (GPtrArray *argv, const char *format, ...) G_GNUC_PRINTF (2, 3);

static void
addf (GPtrArray *argv, const char *format, ...)
{
  va_list ap;

  va_start (ap, format);
  g_ptr_array_add (argv, g_strdup_vprintf (format, ap));
  va_end (ap);
}

GStrv
banger_vmm_qemu_build_argv (const BangerVmmConfig *config, const char *binary, const char *accel,
                            const char *qmp_socket, const char *console_log, GError **error)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *cmdline = NULL;
  g_autofree char *e_console = NULL;
  g_autofree char *e_qmp = NULL;
  const BangerVmmDrive *root = NULL;

  g_return_val_if_fail (config != NULL && binary != NULL && accel != NULL, NULL);

  if (strcmp (accel, "kvm") != 0 && strcmp (accel, "tcg") != 0)
    {
      g_autofree char *q = banger_quote (accel);
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   "Accelerator '%s' is neither 'kvm' nor 'tcg'", q);
      return NULL;
    }

  e_console = banger_vmm_qemu_opt_escape (console_log);
  e_qmp = banger_vmm_qemu_opt_escape (qmp_socket);
  cmdline = banger_vmm_build_boot_args (config, "ttyS0");
  if (strcmp (accel, "tcg") == 0)
    {
      /* Under TCG the guest's TSC follows the host's.  Left to itself the
       * kernel calibrates it against the emulated PIT, which fails when the
       * host is busy (the vCPU thread is descheduled mid-measurement), and
       * then the boot hangs.  Telling it the frequency skips that. */
      guint khz = banger_vmm_qemu_host_tsc_khz ();
      if (khz > 0)
        {
          char *with_tsc = g_strdup_printf ("%s tsc_early_khz=%u", cmdline, khz);
          g_free (cmdline);
          cmdline = with_tsc;
        }
    }

  add (argv, binary);
  /* microvm: no PCI, no firmware tables beyond ACPI (which carries the
   * virtio-mmio devices and the power button); the kernel is loaded
   * directly. */
  add (argv, "-M");
  add (argv, "microvm");
  add (argv, "-accel");
  add (argv, accel);
  if (strcmp (accel, "kvm") == 0)
    {
      add (argv, "-cpu");
      add (argv, "host");
    }
  add (argv, "-name");
  {
    g_autofree char *e = banger_vmm_qemu_opt_escape (config->vm_id);
    addf (argv, "%s,debug-threads=on", e);
  }
  add (argv, "-m");
  addf (argv, "%u", config->mem_mib);
  add (argv, "-smp");
  addf (argv, "%u", config->vcpus);
  add (argv, "-nodefaults");
  add (argv, "-no-user-config");
  add (argv, "-nographic");
  add (argv, "-no-reboot"); /* a guest reboot ends the process, as with Firecracker */
  add (argv, "-S");         /* start paused: "start" is the QMP cont */
  add (argv, "-serial");
  addf (argv, "file:%s", e_console);
  add (argv, "-qmp");
  addf (argv, "unix:%s,server=on,wait=off", e_qmp);

  add (argv, "-kernel");
  add (argv, config->kernel_path); /* a plain path argument: no option list */
  if (config->initrd_path != NULL)
    {
      add (argv, "-initrd");
      add (argv, config->initrd_path);
    }
  add (argv, "-append");
  add (argv, cmdline);

  /* The root disk first, so it is /dev/vda. */
  for (guint i = 0; i < config->drives->len; i++)
    {
      const BangerVmmDrive *d = config->drives->pdata[i];
      if (d->is_root)
        {
          root = d;
          break;
        }
    }
  for (int pass = 0; pass < 2; pass++)
    for (guint i = 0; i < config->drives->len; i++)
      {
        const BangerVmmDrive *d = config->drives->pdata[i];
        g_autofree char *e_path = NULL;

        if ((pass == 0) != (d == root))
          continue;
        e_path = banger_vmm_qemu_opt_escape (d->path);
        add (argv, "-drive");
        addf (argv, "if=none,id=%s,file=%s,format=raw%s", d->id, e_path,
              d->read_only ? ",readonly=on" : "");
        add (argv, "-device");
        addf (argv, "virtio-blk-device,drive=%s", d->id);
      }

  for (guint i = 0; i < config->nics->len; i++)
    {
      const BangerVmmNic *n = config->nics->pdata[i];
      g_autofree char *mac = n->mac ? g_strdup (n->mac) : banger_vmm_mac_for_vm (config->vm_id, i);

      add (argv, "-netdev");
      addf (argv, "tap,id=%s,ifname=%s,script=no,downscript=no", n->id, n->tap);
      add (argv, "-device");
      addf (argv, "virtio-net-device,netdev=%s,mac=%s", n->id, mac);
    }

  g_ptr_array_add (argv, NULL);
  return (GStrv) g_ptr_array_free (g_steal_pointer (&argv), FALSE);
}

/* ------------------------------------------------------------ accelerator */

/* In the probe's child: the worker thread we spawn from blocks every
 * signal, and QEMU must not inherit that (see banger-vmm-launcher.c). */
static void
probe_child_setup (gpointer unused)
{
  sigset_t none;

  sigemptyset (&none);
  sigprocmask (SIG_SETMASK, &none, NULL);
}

/* Boot @kernel under KVM with no root and wait for its banner. */
static gboolean
kvm_boots_kernel (const char *binary, const char *kernel, guint timeout_ms,
                  GCancellable *cancellable)
{
  g_autoptr (GError) local = NULL;
  g_autofree char *dir = g_dir_make_tmp ("banger-kvm-probe-XXXXXX", &local);
  g_autofree char *serial = NULL;
  g_autofree char *serial_opt = NULL;
  g_autofree char *e_serial = NULL;
  gboolean booted = FALSE;
  gint64 deadline;
  GPid pid = 0;
  int status;

  if (dir == NULL)
    return FALSE;
  serial = g_build_filename (dir, "serial.log", NULL);
  e_serial = banger_vmm_qemu_opt_escape (serial);
  serial_opt = g_strdup_printf ("file:%s", e_serial);
  {
    const char *argv[] = { binary, "-M", "microvm", "-accel", "kvm", "-m", "128",
                           "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
                           "-serial", serial_opt, "-kernel", kernel,
                           "-append", "console=ttyS0 earlyprintk=ttyS0 panic=-1", NULL };
    if (!g_spawn_async (NULL, (char **) argv, NULL,
                        G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDOUT_TO_DEV_NULL
                            | G_SPAWN_STDERR_TO_DEV_NULL,
                        probe_child_setup, NULL, &pid, NULL))
      {
        g_rmdir (dir);
        return FALSE;
      }
  }

  deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;
  while (g_get_monotonic_time () < deadline && !g_cancellable_is_cancelled (cancellable))
    {
      g_autofree char *contents = NULL;

      if (g_file_get_contents (serial, &contents, NULL, NULL)
          && strstr (contents, "Linux version") != NULL)
        {
          booted = TRUE;
          break;
        }
      if (waitpid (pid, &status, WNOHANG) == pid)
        {
          pid = 0; /* exited: KVM refused */
          break;
        }
      g_usleep (50 * 1000);
    }
  if (pid > 0)
    {
      kill (pid, SIGKILL);
      waitpid (pid, &status, 0);
    }
  g_unlink (serial);
  g_rmdir (dir);
  return booted;
}

char *
banger_qemu_choose_accel (BangerQemuAccel requested, const char *binary, const char *kvm_device,
                          const char *kernel, guint probe_timeout_ms,
                          GCancellable *cancellable, GError **error)
{
  const char *env;
  int fd;

  if (requested == BANGER_QEMU_ACCEL_KVM)
    return g_strdup ("kvm");
  if (requested == BANGER_QEMU_ACCEL_TCG)
    return g_strdup ("tcg");

  env = g_getenv (BANGER_QEMU_ACCEL_ENV);
  if (env != NULL && env[0] != '\0' && strcmp (env, "auto") != 0)
    {
      if (strcmp (env, "kvm") == 0 || strcmp (env, "tcg") == 0)
        return g_strdup (env);
      {
        g_autofree char *q = banger_quote (env);
        g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                     "%s='%s' is not one of kvm, tcg, auto", BANGER_QEMU_ACCEL_ENV, q);
        return NULL;
      }
    }

  fd = open (kvm_device, O_RDWR | O_CLOEXEC);
  if (fd < 0)
    return g_strdup ("tcg");
  close (fd);
  return g_strdup (kvm_boots_kernel (binary, kernel, probe_timeout_ms, cancellable) ? "kvm"
                                                                                    : "tcg");
}
