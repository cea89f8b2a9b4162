/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "banger-error.h"
#include "banger-vm-limits.h"

gboolean
banger_vm_limits_check (gint64 vcpus, gint64 mem_mib, GError **error)
{
  if (vcpus < BANGER_VM_VCPUS_MIN || vcpus > BANGER_VM_VCPUS_MAX)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   "%" G_GINT64_FORMAT " vCPUs is outside %d..%d", vcpus, BANGER_VM_VCPUS_MIN,
                   BANGER_VM_VCPUS_MAX);
      return FALSE;
    }
  if (mem_mib < BANGER_VM_MEM_MIB_MIN || mem_mib > BANGER_VM_MEM_MIB_MAX)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   "%" G_GINT64_FORMAT " MiB of memory is outside %d..%d", mem_mib,
                   BANGER_VM_MEM_MIB_MIN, BANGER_VM_MEM_MIB_MAX);
      return FALSE;
    }
  return TRUE;
}
