/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The vCPU and memory bounds of a VM, in one place: the VMM configuration
 * (vmm/), the parameter table of priv.launch_vmm (host/) and the command-line
 * builders (this layer) all take them from here.  32 vCPUs is Firecracker's
 * own maximum (vcpu_count); 256 GiB is banger's cap on what one VM may ask. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define BANGER_VM_VCPUS_MIN 1
#define BANGER_VM_VCPUS_MAX 32
#define BANGER_VM_MEM_MIB_MIN 64
#define BANGER_VM_MEM_MIB_MAX 262144

/* INVALID_ARGUMENT naming the value and the range when either is outside. */
gboolean banger_vm_limits_check (gint64 vcpus, gint64 mem_mib, GError **error);

G_END_DECLS
