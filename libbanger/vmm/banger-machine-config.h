/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * BangerMachineConfig, public (0.2): what a BangerVmm boots — kernel,
 * sizes, disks, NICs, the guest's network — as a sealed, refcounted boxed
 * value (doc/embedding.md).  Inside the library it wraps the drivers'
 * BangerVmmConfig (banger-machine-config-private.h). */
#pragma once

#if !defined(__BANGER_H_INSIDE__) && !defined(BANGER_COMPILATION)
#error "Only <banger.h> can be included directly."
#endif

#include <glib-object.h>

#include <banger-macros.h>

G_BEGIN_DECLS

typedef struct _BangerMachineConfig BangerMachineConfig;

#define BANGER_TYPE_MACHINE_CONFIG (banger_machine_config_get_type ())
BANGER_AVAILABLE_IN_0_2
GType banger_machine_config_get_type (void) G_GNUC_CONST;

BANGER_AVAILABLE_IN_0_2
BangerMachineConfig *banger_machine_config_new (const char *vm_id, const char *run_dir);
BANGER_AVAILABLE_IN_0_2
BangerMachineConfig *banger_machine_config_ref (BangerMachineConfig *config);
BANGER_AVAILABLE_IN_0_2
void banger_machine_config_unref (BangerMachineConfig *config);

BANGER_AVAILABLE_IN_0_2
void banger_machine_config_set_kernel (BangerMachineConfig *config, const char *kernel_path,
                                       const char *initrd_path);
BANGER_AVAILABLE_IN_0_2
void banger_machine_config_set_boot_args (BangerMachineConfig *config, const char *boot_args);
BANGER_AVAILABLE_IN_0_2
void banger_machine_config_set_vcpus (BangerMachineConfig *config, guint vcpus);
BANGER_AVAILABLE_IN_0_2
void banger_machine_config_set_memory_mib (BangerMachineConfig *config, guint memory_mib);
BANGER_AVAILABLE_IN_0_2
void banger_machine_config_add_drive (BangerMachineConfig *config, const char *drive_id,
                                      const char *path, gboolean is_root, gboolean read_only);
BANGER_AVAILABLE_IN_0_2
void banger_machine_config_add_nic (BangerMachineConfig *config, const char *nic_id,
                                    const char *tap, const char *mac);
BANGER_AVAILABLE_IN_0_2
void banger_machine_config_set_guest_network (BangerMachineConfig *config, const char *guest_ip,
                                              const char *gateway_ip, const char *netmask,
                                              const char *hostname);
BANGER_AVAILABLE_IN_0_2
void banger_machine_config_set_vsock_cid (BangerMachineConfig *config, guint cid);
BANGER_AVAILABLE_IN_0_2
void banger_machine_config_set_balloon_mib (BangerMachineConfig *config, guint balloon_mib);
BANGER_AVAILABLE_IN_0_2
gboolean banger_machine_config_seal (BangerMachineConfig *config, GError **error);
BANGER_AVAILABLE_IN_0_2
gboolean banger_machine_config_is_sealed (BangerMachineConfig *config);

BANGER_AVAILABLE_IN_0_2
const char *banger_machine_config_get_vm_id (BangerMachineConfig *config);
BANGER_AVAILABLE_IN_0_2
const char *banger_machine_config_get_run_dir (BangerMachineConfig *config);
BANGER_AVAILABLE_IN_0_2
const char *banger_machine_config_get_kernel_path (BangerMachineConfig *config);
BANGER_AVAILABLE_IN_0_2
guint banger_machine_config_get_vcpus (BangerMachineConfig *config);
BANGER_AVAILABLE_IN_0_2
guint banger_machine_config_get_memory_mib (BangerMachineConfig *config);
BANGER_AVAILABLE_IN_0_2
guint banger_machine_config_get_n_drives (BangerMachineConfig *config);
BANGER_AVAILABLE_IN_0_2
guint banger_machine_config_get_n_nics (BangerMachineConfig *config);
BANGER_AVAILABLE_IN_0_2
char *banger_machine_config_build_boot_args (BangerMachineConfig *config, const char *console);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (BangerMachineConfig, banger_machine_config_unref)

G_END_DECLS
