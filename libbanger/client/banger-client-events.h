/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * BangerClient's event stream, streaming exec and doctor (doc/client.md):
 * declared apart from banger-client.h, implemented in
 * banger-client-{events,exec,doctor}.c. */
#pragma once

#if !defined(__BANGER_H_INSIDE__) && !defined(BANGER_COMPILATION)
#error "Only <banger.h> can be included directly."
#endif

#include <gio/gio.h>

#include <banger-client.h>
#include <banger-doctor-check.h>
#include <banger-macros.h>

G_BEGIN_DECLS

/* events */
BANGER_AVAILABLE_IN_0_2
void banger_client_subscribe_async (BangerClient *client, GCancellable *cancellable,
                                    GAsyncReadyCallback callback, gpointer user_data);
BANGER_AVAILABLE_IN_0_2
gboolean banger_client_subscribe_finish (BangerClient *client, GAsyncResult *result,
                                         GError **error);
BANGER_AVAILABLE_IN_0_2
void banger_client_unsubscribe (BangerClient *client);

/* exec, streamed */
BANGER_AVAILABLE_IN_0_2
void banger_client_vm_exec_stream_async (BangerClient *client, const char *name,
                                         const char *const *argv, GOutputStream *stdout_stream,
                                         GOutputStream *stderr_stream, GCancellable *cancellable,
                                         GAsyncReadyCallback callback, gpointer user_data);
BANGER_AVAILABLE_IN_0_2
gboolean banger_client_vm_exec_stream_finish (BangerClient *client, GAsyncResult *result,
                                              int *out_exit_status, GError **error);

/* doctor */
BANGER_AVAILABLE_IN_0_2
void banger_client_doctor_async (BangerClient *client, GCancellable *cancellable,
                                 GAsyncReadyCallback callback, gpointer user_data);
BANGER_AVAILABLE_IN_0_2
GPtrArray *banger_client_doctor_finish (BangerClient *client, GAsyncResult *result,
                                        GError **error);

G_END_DECLS
