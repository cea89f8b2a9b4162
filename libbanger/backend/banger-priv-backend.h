/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * BangerPrivBackend, public (0.2): the one way to do privileged host work
 * (taps, NAT, copy-on-write disks, work disks, VM cleanup, launching a VMM),
 * with two implementations behind the same calls — bangerd-root's socket,
 * or the in-process validating executor for a program that runs as root.
 * Every typed call is one request of the privileged protocol
 * (doc/protocol.md), run through the same validated method table
 * bangerd-root serves (doc/host.md, doc/embedding.md).
 *
 * Inside the library (BANGER_COMPILATION) this header also brings the
 * engine's raw calls (banger-priv-backend-private.h), so the includes of
 * `banger-priv-backend.h` from before it became public keep working. */
#pragma once

#if !defined(__BANGER_H_INSIDE__) && !defined(BANGER_COMPILATION)
#error "Only <banger.h> can be included directly."
#endif

#include <gio/gio.h>

#include <banger-macros.h>
#include <banger-cow-strategy.h>
#include <banger-vmm.h>

G_BEGIN_DECLS

/**
 * BangerPrivBackendFlags:
 * @BANGER_PRIV_BACKEND_FLAGS_NONE: no flags.
 *
 * Flags of the mutating calls of #BangerPrivBackend.  None is defined yet;
 * an unknown bit is refused with %BANGER_ERROR_INVALID_ARGUMENT, so that a
 * flag added later is never silently ignored.
 *
 * Since: 0.2
 */
typedef enum /*< flags >*/
{
  BANGER_PRIV_BACKEND_FLAGS_NONE = 0,
} BangerPrivBackendFlags;

/**
 * BANGER_PRIV_BACKEND_FLAGS_ALL:
 *
 * Every #BangerPrivBackendFlags bit this version knows.
 *
 * Since: 0.2
 */
#define BANGER_PRIV_BACKEND_FLAGS_ALL (0)

#define BANGER_TYPE_PRIV_BACKEND (banger_priv_backend_get_type ())
BANGER_AVAILABLE_IN_0_2
G_DECLARE_FINAL_TYPE (BangerPrivBackend, banger_priv_backend, BANGER, PRIV_BACKEND, GObject)

BANGER_AVAILABLE_IN_0_2
BangerPrivBackend *banger_priv_backend_new_for_socket (const char *socket_path);
BANGER_AVAILABLE_IN_0_2
BangerPrivBackend *banger_priv_backend_new_in_process (const char *state_dir,
                                                       const char *runtime_dir,
                                                       const char *vm_network, GError **error);
BANGER_AVAILABLE_IN_0_2
const char *banger_priv_backend_get_description (BangerPrivBackend *self);
BANGER_AVAILABLE_IN_0_2
gboolean banger_priv_backend_is_in_process (BangerPrivBackend *self);

/* taps */
BANGER_AVAILABLE_IN_0_2
char *banger_priv_backend_create_tap (BangerPrivBackend *self, const char *vm_id,
                                      const char *bridge, const char *address,
                                      BangerPrivBackendFlags flags, GCancellable *cancellable,
                                      GError **error);
BANGER_AVAILABLE_IN_0_2
void banger_priv_backend_create_tap_async (BangerPrivBackend *self, const char *vm_id,
                                           const char *bridge, const char *address,
                                           BangerPrivBackendFlags flags,
                                           GCancellable *cancellable,
                                           GAsyncReadyCallback callback, gpointer user_data);
BANGER_AVAILABLE_IN_0_2
char *banger_priv_backend_create_tap_finish (BangerPrivBackend *self, GAsyncResult *result,
                                             GError **error);

BANGER_AVAILABLE_IN_0_2
gboolean banger_priv_backend_delete_tap (BangerPrivBackend *self, const char *vm_id,
                                         BangerPrivBackendFlags flags, gboolean *out_deleted,
                                         GCancellable *cancellable, GError **error);
BANGER_AVAILABLE_IN_0_2
void banger_priv_backend_delete_tap_async (BangerPrivBackend *self, const char *vm_id,
                                           BangerPrivBackendFlags flags,
                                           GCancellable *cancellable,
                                           GAsyncReadyCallback callback, gpointer user_data);
BANGER_AVAILABLE_IN_0_2
gboolean banger_priv_backend_delete_tap_finish (BangerPrivBackend *self, GAsyncResult *result,
                                                gboolean *out_deleted, GError **error);

/* NAT */
BANGER_AVAILABLE_IN_0_2
gboolean banger_priv_backend_nat_enable (BangerPrivBackend *self, const char *vm_id,
                                         const char *guest_ip, BangerPrivBackendFlags flags,
                                         GCancellable *cancellable, GError **error);
BANGER_AVAILABLE_IN_0_2
void banger_priv_backend_nat_enable_async (BangerPrivBackend *self, const char *vm_id,
                                           const char *guest_ip, BangerPrivBackendFlags flags,
                                           GCancellable *cancellable,
                                           GAsyncReadyCallback callback, gpointer user_data);
BANGER_AVAILABLE_IN_0_2
gboolean banger_priv_backend_nat_enable_finish (BangerPrivBackend *self, GAsyncResult *result,
                                                GError **error);

BANGER_AVAILABLE_IN_0_2
gboolean banger_priv_backend_nat_disable (BangerPrivBackend *self, const char *vm_id,
                                          BangerPrivBackendFlags flags,
                                          GCancellable *cancellable, GError **error);
BANGER_AVAILABLE_IN_0_2
void banger_priv_backend_nat_disable_async (BangerPrivBackend *self, const char *vm_id,
                                            BangerPrivBackendFlags flags,
                                            GCancellable *cancellable,
                                            GAsyncReadyCallback callback, gpointer user_data);
BANGER_AVAILABLE_IN_0_2
gboolean banger_priv_backend_nat_disable_finish (BangerPrivBackend *self, GAsyncResult *result,
                                                 GError **error);

/* disks */
BANGER_AVAILABLE_IN_0_2
gboolean banger_priv_backend_create_cow_disk (BangerPrivBackend *self, const char *vm_id,
                                              const char *image, const char *dest,
                                              BangerPrivBackendFlags flags,
                                              BangerCowStrategy *out_strategy,
                                              char **out_disk_path, GCancellable *cancellable,
                                              GError **error);
BANGER_AVAILABLE_IN_0_2
void banger_priv_backend_create_cow_disk_async (BangerPrivBackend *self, const char *vm_id,
                                                const char *image, const char *dest,
                                                BangerPrivBackendFlags flags,
                                                GCancellable *cancellable,
                                                GAsyncReadyCallback callback,
                                                gpointer user_data);
BANGER_AVAILABLE_IN_0_2
gboolean banger_priv_backend_create_cow_disk_finish (BangerPrivBackend *self,
                                                     GAsyncResult *result,
                                                     BangerCowStrategy *out_strategy,
                                                     char **out_disk_path, GError **error);

BANGER_AVAILABLE_IN_0_2
gboolean banger_priv_backend_create_work_disk (BangerPrivBackend *self, const char *path,
                                               guint64 size_bytes, BangerPrivBackendFlags flags,
                                               GCancellable *cancellable, GError **error);
BANGER_AVAILABLE_IN_0_2
void banger_priv_backend_create_work_disk_async (BangerPrivBackend *self, const char *path,
                                                 guint64 size_bytes,
                                                 BangerPrivBackendFlags flags,
                                                 GCancellable *cancellable,
                                                 GAsyncReadyCallback callback,
                                                 gpointer user_data);
BANGER_AVAILABLE_IN_0_2
gboolean banger_priv_backend_create_work_disk_finish (BangerPrivBackend *self,
                                                      GAsyncResult *result, GError **error);

/* a VM's host objects */
BANGER_AVAILABLE_IN_0_2
gboolean banger_priv_backend_cleanup_vm (BangerPrivBackend *self, const char *vm_id,
                                         BangerPrivBackendFlags flags,
                                         GCancellable *cancellable, GError **error);
BANGER_AVAILABLE_IN_0_2
void banger_priv_backend_cleanup_vm_async (BangerPrivBackend *self, const char *vm_id,
                                           BangerPrivBackendFlags flags,
                                           GCancellable *cancellable,
                                           GAsyncReadyCallback callback, gpointer user_data);
BANGER_AVAILABLE_IN_0_2
gboolean banger_priv_backend_cleanup_vm_finish (BangerPrivBackend *self, GAsyncResult *result,
                                                GError **error);

/* the VMM launcher choice (see also banger_vmm_set_direct_launch) */
BANGER_AVAILABLE_IN_0_2
void banger_vmm_set_backend_launch (BangerVmm *vmm, BangerPrivBackend *backend);

G_END_DECLS

#ifndef __GI_SCANNER__
#ifdef BANGER_COMPILATION
#include "banger-priv-backend-private.h"
#endif
#endif
