/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * BangerFcClient: Firecracker's HTTP/1.1 API over its unix socket, with
 * libsoup-3.0 (a GUnixSocketAddress as the session's remote-connectable, one
 * kept-alive connection) and json-glib.  Every call has its own timeout.
 *
 * Errors: a non-2xx answer is BANGER_ERROR_VMM carrying Firecracker's
 * fault_message; no answer within the timeout is BANGER_ERROR_TIMED_OUT; a
 * transport failure (refused, reset, closed) is BANGER_ERROR_PROTOCOL; a
 * cancelled call is BANGER_ERROR_CANCELLED. */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* Bodies larger than this are refused (Firecracker's default limit on what
 * it accepts is 51200 bytes; its answers are far smaller). */
#define BANGER_FC_MAX_BODY (1024 * 1024)

typedef struct _BangerFcClient BangerFcClient;

/* @socket_path: what connect() uses; must fit sun_path. */
BangerFcClient *banger_fc_client_new (const char *socket_path);
void banger_fc_client_free (BangerFcClient *client);
const char *banger_fc_client_get_socket_path (BangerFcClient *client);

/* @body: nullable, not taken.  The task completes in the thread-default main
 * context of the caller. */
void banger_fc_client_call_async (BangerFcClient *client, const char *method, const char *path,
                                  JsonNode *body, guint timeout_ms, GCancellable *cancellable,
                                  GAsyncReadyCallback callback, gpointer user_data);
/* @out_reply: (out) (nullable): the JSON answer, NULL for 204 No Content. */
gboolean banger_fc_client_call_finish (GAsyncResult *result, JsonNode **out_reply,
                                       GError **error);

/* The fault_message of an error body, or NULL.  Exposed for tests. */
char *banger_fc_parse_fault (const char *body, gsize len);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (BangerFcClient, banger_fc_client_free)

G_END_DECLS
