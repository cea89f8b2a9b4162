/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#if !defined(__BANGER_H_INSIDE__) && !defined(BANGER_COMPILATION)
#error "Only <banger.h> can be included directly."
#endif

#include <gio/gio.h>

#include <banger-client.h>
#include <banger-macros.h>
#include <banger-snapshot-types.h>

G_BEGIN_DECLS

BANGER_AVAILABLE_IN_0_2
void banger_client_vm_pause_async (BangerClient *client, const char *name,
                                   GCancellable *cancellable, GAsyncReadyCallback callback,
                                   gpointer user_data);

BANGER_AVAILABLE_IN_0_2
BangerVmInfo *banger_client_vm_pause_finish (BangerClient *client, GAsyncResult *result,
                                             GError **error);

BANGER_AVAILABLE_IN_0_2
void banger_client_vm_resume_async (BangerClient *client, const char *name,
                                    GCancellable *cancellable, GAsyncReadyCallback callback,
                                    gpointer user_data);

BANGER_AVAILABLE_IN_0_2
BangerVmInfo *banger_client_vm_resume_finish (BangerClient *client, GAsyncResult *result,
                                              GError **error);

BANGER_AVAILABLE_IN_0_2
void banger_client_vm_snapshot_async (BangerClient *client, const char *name,
                                      const char *snapshot_name, gboolean diff,
                                      GCancellable *cancellable, GAsyncReadyCallback callback,
                                      gpointer user_data);

BANGER_AVAILABLE_IN_0_2
BangerSnapshotInfo *banger_client_vm_snapshot_finish (BangerClient *client, GAsyncResult *result,
                                                      GError **error);

BANGER_AVAILABLE_IN_0_2
void banger_client_vm_restore_async (BangerClient *client, const char *snapshot, const char *name,
                                     GCancellable *cancellable, GAsyncReadyCallback callback,
                                     gpointer user_data);

BANGER_AVAILABLE_IN_0_2
BangerVmInfo *banger_client_vm_restore_finish (BangerClient *client, GAsyncResult *result,
                                               GError **error);

BANGER_AVAILABLE_IN_0_2
void banger_client_vm_stats_async (BangerClient *client, const char *name,
                                   GCancellable *cancellable, GAsyncReadyCallback callback,
                                   gpointer user_data);

BANGER_AVAILABLE_IN_0_2
BangerVmStats *banger_client_vm_stats_finish (BangerClient *client, GAsyncResult *result,
                                              GError **error);

BANGER_AVAILABLE_IN_0_2
void banger_client_vm_set_balloon_async (BangerClient *client, const char *name,
                                         guint64 balloon_mib, GCancellable *cancellable,
                                         GAsyncReadyCallback callback, gpointer user_data);

BANGER_AVAILABLE_IN_0_2
BangerVmInfo *banger_client_vm_set_balloon_finish (BangerClient *client, GAsyncResult *result,
                                                   GError **error);

BANGER_AVAILABLE_IN_0_2
void banger_client_snapshot_list_async (BangerClient *client, GCancellable *cancellable,
                                        GAsyncReadyCallback callback, gpointer user_data);

BANGER_AVAILABLE_IN_0_2
GPtrArray *banger_client_snapshot_list_finish (BangerClient *client, GAsyncResult *result,
                                               GError **error);

BANGER_AVAILABLE_IN_0_2
void banger_client_snapshot_delete_async (BangerClient *client, const char *name,
                                          GCancellable *cancellable, GAsyncReadyCallback callback,
                                          gpointer user_data);

BANGER_AVAILABLE_IN_0_2
gboolean banger_client_snapshot_delete_finish (BangerClient *client, GAsyncResult *result,
                                               GError **error);

G_END_DECLS
