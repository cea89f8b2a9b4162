/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A client of the privileged protocol (bangerd-root's socket), for the
 * daemon.  Same framing and limits as the server; error replies come back as
 * the same typed BANGER_ERROR GError the helper raised (by wire name).
 * Calls are queued and sent one at a time on one connection, which is opened
 * on first use and re-opened after a failure. */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define BANGER_TYPE_PRIV_CLIENT (banger_priv_client_get_type ())
G_DECLARE_FINAL_TYPE (BangerPrivClient, banger_priv_client, BANGER, PRIV_CLIENT, GObject)

BangerPrivClient *banger_priv_client_new (const char *socket_path);

/* Call @method with @params (nullable: {}; not modified).  @op_id (nullable)
 * is passed through for the helper's log.  Cancelling a call closes the
 * connection (the request may already have been executed). */
void banger_priv_client_call_async (BangerPrivClient *client, const char *method,
                                    JsonObject *params, const char *op_id,
                                    GCancellable *cancellable, GAsyncReadyCallback callback,
                                    gpointer user_data);
/* The "result" object (transfer full), or NULL with the error. */
JsonObject *banger_priv_client_call_finish (BangerPrivClient *client, GAsyncResult *result,
                                            GError **error);

/* The same, blocking the calling thread (it iterates a private main
 * context).  BANGER_ERROR_BUSY when asynchronous calls are still pending on
 * this client. */
JsonObject *banger_priv_client_call_sync (BangerPrivClient *client, const char *method,
                                          JsonObject *params, const char *op_id,
                                          GCancellable *cancellable, GError **error);

/* Drop the connection (the next call reconnects). */
void banger_priv_client_close (BangerPrivClient *client);

G_END_DECLS
