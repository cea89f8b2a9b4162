/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "banger-vm-paths.h"

#define RUN_DIRS "vm"
#define JAIL_BASE "jail"

char *
banger_vm_run_dir_relative (const char *vm_id)
{
  return g_build_filename (RUN_DIRS, vm_id, NULL);
}

char *
banger_vm_run_dir (const char *runtime_dir, const char *vm_id)
{
  return g_build_filename (runtime_dir, RUN_DIRS, vm_id, NULL);
}

char *
banger_vm_jail_base (const char *runtime_dir)
{
  return g_build_filename (runtime_dir, JAIL_BASE, NULL);
}

char *
banger_vm_helper_jail_relative (const char *exec_file, const char *vm_id)
{
  return banger_vm_jail_dir (JAIL_BASE, exec_file ? exec_file : "firecracker", vm_id);
}

char *
banger_vm_jail_dir (const char *chroot_base, const char *exec_file, const char *vm_id)
{
  g_autofree char *exec_name = g_path_get_basename (exec_file);
  return g_build_filename (chroot_base, exec_name, vm_id, NULL);
}

char *
banger_vm_jail_root (const char *chroot_base, const char *exec_file, const char *vm_id)
{
  g_autofree char *dir = banger_vm_jail_dir (chroot_base, exec_file, vm_id);
  return g_build_filename (dir, "root", NULL);
}
