/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The choice between KVM and TCG.  (The QEMU command line itself is built
 * in one place: launch/banger-qemu-cmdline.c.) */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "banger-error-private.h"
#include "banger-qemu-cmdline.h"
#include "banger-quote.h"
#include "banger-vmm-qemu.h"

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
  e_serial = banger_qemu_opt_escape (serial);
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
