/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A test guest whose install key was written with the library's own
 * injection (banger_guest_inject_authorized_key), booted under the QEMU
 * driver in a kit namespace; shared by tests/guest-access/test-guest-ssh.c
 * and bench/bench-ssh-exec.c.  Root only.  Not part of the library. */
#pragma once

#include "banger-guest-key.h"
#include "banger-guest-kit.h"

G_BEGIN_DECLS

typedef struct
{
  char *dir;    /* scratch: rootfs copy, run dir, key dir, known_hosts */
  char *rootfs;
  char *key_dir;
  char *known_hosts;
  BangerGuestKey *key;
  BangerVmm *vmm;
  double inject_s; /* banger_guest_inject_authorized_key on the copy */
} GaVm;

/* Copies the guest's rootfs, makes the install key in DIR/ssh, injects it,
 * and launches the guest (launch, configure, start) in @ns.  Does not wait
 * for SSH. */
GaVm *ga_vm_boot (const char *guest_dir, BangerKitNetns *ns, GError **error);
/* Graceful stop (the driver's ladder). */
gboolean ga_vm_stop (GaVm *vm, GError **error);
/* Kills the VMM if still running, removes the scratch dir, frees. */
void ga_vm_free (GaVm *vm);

/* Moves the calling thread (and the threads it creates from now on) into
 * the network namespace @name; returns an fd of the previous one. */
int ga_enter_netns (const char *name, GError **error);
/* Back to the namespace of @saved_fd (closed). */
gboolean ga_leave_netns (int saved_fd, GError **error);

G_END_DECLS
