/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * banger-demo: boot the test guest (tests/guest) with the QEMU driver
 * through a real bangerd-root (the one launch path: priv.launch_vmm, QEMU
 * as an unprivileged owner uid) in a throwaway network namespace, run a
 * command in it over SSH, print the output, stop it gracefully and clean
 * everything up.  The README's first
 * command (scripts/demo.sh) ends with this.  Root: namespace and tap.
 *
 *   banger-demo [COMMAND]      (default: uname -a) */
#include "config.h"

#include <stdio.h>
#include <unistd.h>

#include "banger-guest-kit.h"
#include "banger-vmm-qemu.h"

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *guest = NULL;
  g_autofree char *out = NULL;
  const char *command = argc > 1 ? argv[1] : "uname -a";
  BangerKitNetns *ns;
  BangerKitVm *vm;
  gboolean ok;

  if (argc > 2)
    {
      fprintf (stderr, "usage: %s [COMMAND]\n", argv[0]);
      return 2;
    }
  if (geteuid () != 0)
    {
      fprintf (stderr, "banger-demo needs root (it makes a network namespace and a tap)\n");
      return 2;
    }

  printf ("banger-demo: building the test guest from Debian packages (or reusing the cached one)...\n");
  fflush (stdout);
  guest = banger_kit_build_guest (&error);
  if (guest == NULL)
    {
      fprintf (stderr, "banger-demo: %s\n", error->message);
      return 1;
    }
  ns = banger_kit_netns_new ("banger-demo", &error);
  if (ns == NULL)
    {
      fprintf (stderr, "banger-demo: %s\n", error->message);
      return 1;
    }
  printf ("banger-demo: booting it with QEMU microvm through bangerd-root in namespace %s...\n",
          ns->name);
  fflush (stdout);
  vm = banger_kit_vm_boot (guest, ns, NULL, &error);
  if (vm == NULL)
    {
      fprintf (stderr, "banger-demo: %s\n", error->message);
      banger_kit_netns_destroy (ns, NULL);
      return 1;
    }
  printf ("banger-demo: SSH ready %.2f s after launch (accel %s); running '%s':\n",
          vm->launch_to_ssh_s, banger_vmm_qemu_get_accel_used (BANGER_VMM_QEMU (vm->vmm)),
          command);
  ok = banger_kit_ssh (ns, vm->key, command, 10, &out, &error);
  if (ok)
    fputs (out, stdout);
  else
    fprintf (stderr, "banger-demo: %s\n", error->message);
  g_clear_error (&error);
  if (!banger_kit_vm_stop (vm, &error))
    {
      fprintf (stderr, "banger-demo: stop: %s\n", error->message);
      ok = FALSE;
    }
  else
    printf ("banger-demo: stopped; cleaning up\n");
  banger_kit_vm_free (vm);
  banger_kit_netns_destroy (ns, NULL);
  return ok ? 0 : 1;
}
