/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The engine's side of the privileged backend (the public side is
 * banger-priv-backend.h): raw method calls and the constructors from an
 * install config.
 *
 *  - the bangerd-root client: each call goes over the helper's socket
 *    (BangerPrivClient), for a daemon running as an unprivileged owner;
 *  - the in-process validating executor: each call goes through
 *    banger_priv_execute() with the host operation table — the same
 *    authorisation, parameter tables and handlers bangerd-root runs — for a
 *    process that already runs as root.
 *
 * Both take the same methods and parameters (doc/protocol.md) and raise the
 * same typed BANGER_ERRORs. */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "banger-install-config.h"
#include "banger-priv-op.h"
#include "banger-priv-backend.h"
#include "banger-vmm-private.h"

G_BEGIN_DECLS

/* bangerd-root at @socket_path (= banger_priv_backend_new_for_socket). */
BangerPrivBackend *banger_priv_backend_new_client (const char *socket_path);
/* The executor in this process, with the paths and binaries of @config
 * (copied; its owner is this process's uid).  Calls are run one at a time,
 * as bangerd-root runs them. */
BangerPrivBackend *banger_priv_backend_new_executor (const BangerInstallConfig *config);
/* A backend whose calls are answered by @func (the tests' fake host, a
 * program with its own transport).  @func may be called from any thread;
 * it returns the result object (transfer full) or NULL with the error.
 * (The same declaration as on the hostpool branch, so that the two merge
 * into this file.) */
typedef JsonObject *(*BangerPrivBackendCallFunc) (gpointer user_data, const char *method,
                                                  JsonObject *params, const char *op_id,
                                                  GError **error);
BangerPrivBackend *banger_priv_backend_new_for_call (BangerPrivBackendCallFunc func,
                                                     gpointer user_data,
                                                     GDestroyNotify user_data_free);
/* The in-process executor's state (tests substitute state->backend, the
 * fake device-mapper); NULL for the other backends. */
BangerPrivState *banger_priv_backend_get_executor_state (BangerPrivBackend *backend);
/* g_object_unref() (the engine's name for it from before it was a GObject). */
void banger_priv_backend_free (BangerPrivBackend *backend);

/* "bangerd-root at PATH" or "in-process executor". */
const char *banger_priv_backend_describe (BangerPrivBackend *backend);

/* Call @method with @params (nullable: {}); @op_id (nullable) goes to the
 * helper's log.  The result object (transfer full) or NULL with the error. */
JsonObject *banger_priv_backend_call (BangerPrivBackend *backend, const char *method,
                                      JsonObject *params, const char *op_id,
                                      GCancellable *cancellable, GError **error);

/* A VMM launcher running priv.launch_vmm through this backend (owned by the
 * backend). */
BangerVmmLauncher *banger_priv_backend_get_launcher (BangerPrivBackend *backend);

G_END_DECLS
