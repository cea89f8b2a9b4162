/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#if !defined(__BANGER_H_INSIDE__) && !defined(BANGER_COMPILATION)
#error "Only <banger.h> can be included directly."
#endif

#include <gio/gio.h>

#include <banger-macros.h>
#include <banger-vm-types.h>

G_BEGIN_DECLS

#define BANGER_TYPE_CLIENT (banger_client_get_type ())
BANGER_AVAILABLE_IN_0_2
G_DECLARE_FINAL_TYPE (BangerClient, banger_client, BANGER, CLIENT, GObject)

BANGER_AVAILABLE_IN_0_2
BangerClient *banger_client_new_for_socket (const char *socket_path);
BANGER_AVAILABLE_IN_0_2
BangerClient *banger_client_new_embedded (const char *state_dir, const char *runtime_dir,
                                          const char *config_path, GError **error);
BANGER_AVAILABLE_IN_0_2
gboolean banger_client_is_embedded (BangerClient *client);
BANGER_AVAILABLE_IN_0_2
const char *banger_client_get_last_op_id (BangerClient *client);

/* VMs */
BANGER_AVAILABLE_IN_0_2
void banger_client_vm_create_async (BangerClient *client, BangerVmSpec *spec,
                                    GCancellable *cancellable, GAsyncReadyCallback callback,
                                    gpointer user_data);
BANGER_AVAILABLE_IN_0_2
BangerVmInfo *banger_client_vm_create_finish (BangerClient *client, GAsyncResult *result,
                                              GError **error);
BANGER_AVAILABLE_IN_0_2
void banger_client_vm_get_async (BangerClient *client, const char *name, GCancellable *cancellable,
                                 GAsyncReadyCallback callback, gpointer user_data);
BANGER_AVAILABLE_IN_0_2
BangerVmInfo *banger_client_vm_get_finish (BangerClient *client, GAsyncResult *result,
                                           GError **error);
BANGER_AVAILABLE_IN_0_2
void banger_client_vm_list_async (BangerClient *client, GCancellable *cancellable,
                                  GAsyncReadyCallback callback, gpointer user_data);
BANGER_AVAILABLE_IN_0_2
GPtrArray *banger_client_vm_list_finish (BangerClient *client, GAsyncResult *result,
                                         GError **error);
BANGER_AVAILABLE_IN_0_2
void banger_client_vm_start_async (BangerClient *client, const char *name,
                                   GCancellable *cancellable, GAsyncReadyCallback callback,
                                   gpointer user_data);
BANGER_AVAILABLE_IN_0_2
BangerVmInfo *banger_client_vm_start_finish (BangerClient *client, GAsyncResult *result,
                                             GError **error);
BANGER_AVAILABLE_IN_0_2
void banger_client_vm_stop_async (BangerClient *client, const char *name, GCancellable *cancellable,
                                  GAsyncReadyCallback callback, gpointer user_data);
BANGER_AVAILABLE_IN_0_2
BangerVmInfo *banger_client_vm_stop_finish (BangerClient *client, GAsyncResult *result,
                                            GError **error);
BANGER_AVAILABLE_IN_0_2
void banger_client_vm_kill_async (BangerClient *client, const char *name, GCancellable *cancellable,
                                  GAsyncReadyCallback callback, gpointer user_data);
BANGER_AVAILABLE_IN_0_2
BangerVmInfo *banger_client_vm_kill_finish (BangerClient *client, GAsyncResult *result,
                                            GError **error);
BANGER_AVAILABLE_IN_0_2
void banger_client_vm_delete_async (BangerClient *client, const char *name,
                                    GCancellable *cancellable, GAsyncReadyCallback callback,
                                    gpointer user_data);
BANGER_AVAILABLE_IN_0_2
gboolean banger_client_vm_delete_finish (BangerClient *client, GAsyncResult *result,
                                         GError **error);
BANGER_AVAILABLE_IN_0_2
void banger_client_vm_set_async (BangerClient *client, const char *name, guint vcpus,
                                 guint64 memory_mib, GCancellable *cancellable,
                                 GAsyncReadyCallback callback, gpointer user_data);
BANGER_AVAILABLE_IN_0_2
BangerVmInfo *banger_client_vm_set_finish (BangerClient *client, GAsyncResult *result,
                                           GError **error);
BANGER_AVAILABLE_IN_0_2
void banger_client_vm_port_async (BangerClient *client, const char *name, GCancellable *cancellable,
                                  GAsyncReadyCallback callback, gpointer user_data);
BANGER_AVAILABLE_IN_0_2
char **banger_client_vm_port_finish (BangerClient *client, GAsyncResult *result, char **out_egress,
                                     gboolean *out_active, GError **error);
BANGER_AVAILABLE_IN_0_2
void banger_client_vm_exec_async (BangerClient *client, const char *name, const char *const *argv,
                                  GCancellable *cancellable, GAsyncReadyCallback callback,
                                  gpointer user_data);
BANGER_AVAILABLE_IN_0_2
gboolean banger_client_vm_exec_finish (BangerClient *client, GAsyncResult *result,
                                       int *out_exit_status, GBytes **out_stdout,
                                       GBytes **out_stderr, GError **error);

/* images */
BANGER_AVAILABLE_IN_0_2
void banger_client_image_import_async (BangerClient *client, const char *name,
                                       const char *rootfs_path, GCancellable *cancellable,
                                       GAsyncReadyCallback callback, gpointer user_data);
BANGER_AVAILABLE_IN_0_2
BangerImageInfo *banger_client_image_import_finish (BangerClient *client, GAsyncResult *result,
                                                    GError **error);
BANGER_AVAILABLE_IN_0_2
void banger_client_image_list_async (BangerClient *client, GCancellable *cancellable,
                                     GAsyncReadyCallback callback, gpointer user_data);
BANGER_AVAILABLE_IN_0_2
GPtrArray *banger_client_image_list_finish (BangerClient *client, GAsyncResult *result,
                                            GError **error);
BANGER_AVAILABLE_IN_0_2
void banger_client_image_delete_async (BangerClient *client, const char *name,
                                       GCancellable *cancellable, GAsyncReadyCallback callback,
                                       gpointer user_data);
BANGER_AVAILABLE_IN_0_2
gboolean banger_client_image_delete_finish (BangerClient *client, GAsyncResult *result,
                                            GError **error);

/* pulls (banger-client-pull.c) */
BANGER_AVAILABLE_IN_0_2
void banger_client_image_pull_async (BangerClient *client, const char *ref, const char *name,
                                     guint64 size_bytes, GCancellable *cancellable,
                                     GAsyncReadyCallback callback, gpointer user_data);
BANGER_AVAILABLE_IN_0_2
BangerImageInfo *banger_client_image_pull_finish (BangerClient *client, GAsyncResult *result,
                                                  GError **error);
BANGER_AVAILABLE_IN_0_2
void banger_client_kernel_pull_async (BangerClient *client, const char *source, const char *name,
                                      const char *sha256, GCancellable *cancellable,
                                      GAsyncReadyCallback callback, gpointer user_data);
BANGER_AVAILABLE_IN_0_2
BangerKernelInfo *banger_client_kernel_pull_finish (BangerClient *client, GAsyncResult *result,
                                                    GError **error);
BANGER_AVAILABLE_IN_0_2
void banger_client_image_prune_async (BangerClient *client, GCancellable *cancellable,
                                      GAsyncReadyCallback callback, gpointer user_data);
BANGER_AVAILABLE_IN_0_2
gboolean banger_client_image_prune_finish (BangerClient *client, GAsyncResult *result,
                                           guint *out_removed_blobs, guint64 *out_removed_bytes,
                                           GError **error);

/* kernels */
BANGER_AVAILABLE_IN_0_2
void banger_client_kernel_add_async (BangerClient *client, const char *name,
                                     const char *kernel_path, const char *initrd_path,
                                     const char *cmdline, GCancellable *cancellable,
                                     GAsyncReadyCallback callback, gpointer user_data);
BANGER_AVAILABLE_IN_0_2
BangerKernelInfo *banger_client_kernel_add_finish (BangerClient *client, GAsyncResult *result,
                                                   GError **error);
BANGER_AVAILABLE_IN_0_2
void banger_client_kernel_list_async (BangerClient *client, GCancellable *cancellable,
                                      GAsyncReadyCallback callback, gpointer user_data);
BANGER_AVAILABLE_IN_0_2
GPtrArray *banger_client_kernel_list_finish (BangerClient *client, GAsyncResult *result,
                                             GError **error);
BANGER_AVAILABLE_IN_0_2
void banger_client_kernel_delete_async (BangerClient *client, const char *name,
                                        GCancellable *cancellable, GAsyncReadyCallback callback,
                                        gpointer user_data);
BANGER_AVAILABLE_IN_0_2
gboolean banger_client_kernel_delete_finish (BangerClient *client, GAsyncResult *result,
                                             GError **error);

G_END_DECLS
