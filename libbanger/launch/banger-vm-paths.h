/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Where a VM's files live, computed once for the drivers and the root helper:
 *
 *   <runtime_dir>/vm/<vm_id>/          the run dir (owner's, 0700): the API or
 *                                      QMP socket, the console, the VMM's log
 *   <chroot_base>/<exec name>/<vm_id>/ the jailer's directory; root/ below it
 *                                      is the jail Firecracker sees as "/"
 *                                      (jailer.md).  The helper's chroot base
 *                                      is <runtime_dir>/jail. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define BANGER_VM_API_SOCK_NAME "fc.sock"
#define BANGER_VM_QMP_SOCK_NAME "qmp.sock"
#define BANGER_VM_CONSOLE_NAME "console.log"
#define BANGER_VM_LOG_NAME "vmm.log"

char *banger_vm_run_dir (const char *runtime_dir, const char *vm_id);
/* The same, relative to the runtime dir ("vm/<vm_id>"), for fd-relative use. */
char *banger_vm_run_dir_relative (const char *vm_id);
char *banger_vm_jail_base (const char *runtime_dir);
/* The helper's jail of @vm_id relative to the runtime dir
 * ("jail/<exec name>/<vm_id>"); @exec_file NULL means "firecracker". */
char *banger_vm_helper_jail_relative (const char *exec_file, const char *vm_id);
/* @exec_file: the binary the jailer runs (only its base name counts). */
char *banger_vm_jail_dir (const char *chroot_base, const char *exec_file, const char *vm_id);
char *banger_vm_jail_root (const char *chroot_base, const char *exec_file, const char *vm_id);

G_END_DECLS
