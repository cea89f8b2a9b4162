/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "banger-priv-op.h"

G_BEGIN_DECLS

/* A pidfd for @pid if (and only if) it is a banger-launched VMM (see the
 * rules at the top of banger-vmm-authorize.c); -1 with PERMISSION_DENIED or
 * NOT_FOUND otherwise.  @out_vm_id (nullable) gets the VM it belongs to. */
int banger_host_authorize_vmm_pid (BangerPrivState *state, const BangerPeerCred *caller,
                                   gint64 pid, char **out_vm_id, GError **error);

G_END_DECLS
