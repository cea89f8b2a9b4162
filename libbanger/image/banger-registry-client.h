/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * BangerRegistryClient, public (0.2): the OCI distribution client that
 * pulls an image into a #BangerBlobStore (doc/images.md).  Inside the
 * library (BANGER_COMPILATION) this header also brings the private half
 * (banger-registry-client-private.h: progress reports, a pull of a parsed
 * #BangerImageRef, manifests alone). */
#pragma once

#if !defined(__BANGER_H_INSIDE__) && !defined(BANGER_COMPILATION)
#error "Only <banger.h> can be included directly."
#endif

#include <gio/gio.h>

#include <banger-macros.h>
#include <banger-blob-store.h>
#include <banger-pulled-image.h>

G_BEGIN_DECLS

#define BANGER_TYPE_REGISTRY_CLIENT (banger_registry_client_get_type ())
BANGER_AVAILABLE_IN_0_2
G_DECLARE_FINAL_TYPE (BangerRegistryClient, banger_registry_client, BANGER, REGISTRY_CLIENT,
                      GObject)

BANGER_AVAILABLE_IN_0_2
BangerRegistryClient *banger_registry_client_new (BangerBlobStore *store);
BANGER_AVAILABLE_IN_0_2
void banger_registry_client_set_insecure_hosts (BangerRegistryClient *client,
                                                const char *const *hosts);
BANGER_AVAILABLE_IN_0_2
void banger_registry_client_set_tls_database (BangerRegistryClient *client,
                                              GTlsDatabase *database);
BANGER_AVAILABLE_IN_0_2
void banger_registry_client_set_max_parallel (BangerRegistryClient *client, guint max_parallel);
BANGER_AVAILABLE_IN_0_2
void banger_registry_client_set_retries (BangerRegistryClient *client, guint retries,
                                         guint base_delay_ms);
BANGER_AVAILABLE_IN_0_2
void banger_registry_client_set_platform (BangerRegistryClient *client, const char *os,
                                          const char *architecture, const char *variant);
BANGER_AVAILABLE_IN_0_2
void banger_registry_client_set_credentials (BangerRegistryClient *client, const char *registry,
                                             const char *username, const char *password);

BANGER_AVAILABLE_IN_0_2
void banger_registry_client_pull_async (BangerRegistryClient *client, const char *reference,
                                        GCancellable *cancellable, GAsyncReadyCallback callback,
                                        gpointer user_data);
BANGER_AVAILABLE_IN_0_2
BangerPulledImage *banger_registry_client_pull_finish (BangerRegistryClient *client,
                                                       GAsyncResult *result, GError **error);

G_END_DECLS

#ifndef __GI_SCANNER__
#ifdef BANGER_COMPILATION
#include "banger-registry-client-private.h"
#endif
#endif
