/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * exec over SSH: N runs of `true` on one running test guest, each a new
 * session (TCP connect, key exchange, host-key check against banger's
 * known-hosts file, public-key auth, exec, exit status), through
 * banger_guest_exec() (libssh, in-process) and through OpenSSH's `ssh`
 * client (a process per run) with the same key, the same known-hosts file
 * and StrictHostKeyChecking=yes, alternating one of each so host load hits
 * both alike.  Prints median, p10/p90, min/max per side and the ratio of
 * the medians.
 *
 *   sudo build/bench/bench-ssh-exec [-n RUNS]     (results: doc/benchmarks.md)
 *
 * Root: it makes a network namespace with a tap and removes it at the end.
 * The guest's key is written by banger_guest_inject_authorized_key(). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "banger-guest-exec.h"
#include "banger-guest-wait.h"
#include "guest-access-vm.h"

static int
cmp_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return x < y ? -1 : x > y;
}

/* Sorts @v and returns the value at quantile @q (nearest rank). */
static double
quantile (GArray *v, double q)
{
  guint i;

  qsort (v->data, v->len, sizeof (double), cmp_double);
  i = (guint) (q * (v->len - 1) + 0.5);
  return g_array_index (v, double, i);
}

static void
report (const char *name, GArray *v)
{
  printf ("%-22s median %7.1f ms  p10 %7.1f  p90 %7.1f  min %7.1f  max %7.1f  (n=%u)\n", name,
          quantile (v, 0.5), quantile (v, 0.1), quantile (v, 0.9), quantile (v, 0.0),
          quantile (v, 1.0), v->len);
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GOptionContext) ctx = g_option_context_new ("- exec over SSH: libssh vs ssh");
  gint runs = 20;
  GOptionEntry entries[] = {
    { "runs", 'n', 0, G_OPTION_ARG_INT, &runs, "execs per side (default 20)", "N" },
    { NULL },
  };
  g_autofree char *guest = NULL;
  g_autofree char *ssh_path = g_find_program_in_path ("ssh");
  g_autoptr (BangerGuestEndpoint) ep = NULL;
  g_autoptr (GArray) lib = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr (GArray) cli = g_array_new (FALSE, FALSE, sizeof (double));
  BangerKitNetns *ns = NULL;
  GaVm *vm = NULL;
  int saved = -1;
  int status = 1;
  gint64 t0;

  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error) || runs < 1)
    {
      g_printerr ("%s\n", error ? error->message : "-n must be at least 1");
      return 2;
    }
  if (geteuid () != 0)
    {
      g_printerr ("bench-ssh-exec needs root (network namespace, tap)\n");
      return 2;
    }
  guest = banger_kit_build_guest (&error);
  if (guest == NULL)
    goto out;
  ns = banger_kit_netns_new ("banger-bench-ssh", &error);
  if (ns == NULL)
    goto out;
  /* before any worker thread exists: they all live in the namespace */
  saved = ga_enter_netns (ns->name, &error);
  if (saved < 0)
    goto out;
  vm = ga_vm_boot (guest, ns, &error);
  if (vm == NULL)
    goto out;
  ep = banger_guest_endpoint_new (ns->guest_ip, 22, vm->key, vm->known_hosts, &error);
  if (ep == NULL)
    goto out;
  t0 = g_get_monotonic_time ();
  if (!banger_guest_wait_ssh (ep, 300 * 1000, NULL, NULL, &error))
    goto out;
  printf ("# guest up: SSH login %.2f s after start; key injection %.3f s\n",
          (double) (g_get_monotonic_time () - t0) / G_USEC_PER_SEC, vm->inject_s);
  if (ssh_path == NULL)
    printf ("# ssh (openssh-client) not installed: libssh side only\n");

  for (gint i = 0; i < runs; i++)
    {
      for (int side = 0; side < 2; side++)
        {
          /* alternate which goes first */
          gboolean use_lib = (side == 0) == (i % 2 == 0);
          double ms;

          if (!use_lib && ssh_path == NULL)
            continue;
          t0 = g_get_monotonic_time ();
          if (use_lib)
            {
              const char *cmd[] = { "true", NULL };
              int rc = -1;
              if (!banger_guest_exec (ep, cmd, NULL, NULL, &rc, NULL, &error))
                goto out;
              if (rc != 0)
                {
                  g_printerr ("true exited %d\n", rc);
                  goto out;
                }
            }
          else
            {
              g_autofree char *kh = g_strdup_printf ("UserKnownHostsFile=%s", vm->known_hosts);
              g_autofree char *dest = g_strdup_printf ("root@%s", ns->guest_ip);
              const char *cmd[] = { ssh_path, "-F", "/dev/null", "-i",
                                    banger_guest_key_get_private_path (vm->key),
                                    "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes",
                                    "-o", kh, "-o", "GlobalKnownHostsFile=/dev/null",
                                    "-o", "IdentitiesOnly=yes", "-o", "LogLevel=ERROR",
                                    dest, "true", NULL };
              if (!banger_kit_run (cmd, NULL, &error))
                goto out;
            }
          ms = (double) (g_get_monotonic_time () - t0) / 1000.0;
          g_array_append_val (use_lib ? lib : cli, ms);
        }
    }
  report ("banger_guest_exec", lib);
  if (cli->len > 0)
    {
      double lm, cm;
      report ("ssh (OpenSSH client)", cli);
      lm = quantile (lib, 0.5);
      cm = quantile (cli, 0.5);
      printf ("ratio of medians: ssh / libssh = %.2f\n", cm / lm);
    }
  status = 0;

out:
  if (error != NULL)
    g_printerr ("bench-ssh-exec: %s\n", error->message);
  if (saved >= 0)
    ga_leave_netns (saved, NULL);
  if (vm != NULL)
    {
      ga_vm_stop (vm, NULL);
      ga_vm_free (vm);
    }
  if (ns != NULL)
    banger_kit_netns_destroy (ns, NULL);
  return status;
}
