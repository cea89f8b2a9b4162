/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * BangerQmp: a small QEMU Machine Protocol client over a unix socket
 * (json-glib), asynchronous on the GMainContext like the Firecracker
 * client: the socket is non-blocking, watched by a source on the
 * thread-default main context of the latest call, and read as bytes arrive;
 * JSON lines are split out of a bounded buffer.  Commands queue up, each
 * with an "id" and its own timeout and cancellation; a reply is matched to
 * its command by id (a late reply to a timed-out command is recognised and
 * dropped), events are emitted as the "event" signal as they come.  A
 * refusal ({"error": {"class", "desc"}}) becomes BANGER_ERROR_VMM with
 * QEMU's desc in the message.  Internal. */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "banger-error.h"

G_BEGIN_DECLS

/* Longest line accepted from QEMU; a longer one closes the connection. */
#define BANGER_QMP_MAX_LINE (1024 * 1024)
/* Default time a command may take before it fails with TIMED_OUT. */
#define BANGER_QMP_DEFAULT_TIMEOUT_MS 10000

#define BANGER_TYPE_QMP (banger_qmp_get_type ())
G_DECLARE_FINAL_TYPE (BangerQmp, banger_qmp, BANGER, QMP, GObject)

/* Signal "event": void (*) (BangerQmp *qmp, const char *name,
 *                           JsonObject *data (nullable), gpointer user_data)
 * emitted for every QMP event ("STOP", "RESUME", "SHUTDOWN", ...), in the
 * main context that watches the socket. */

BangerQmp *banger_qmp_new (void);

/* Connect to @socket_path, read the greeting and negotiate capabilities
 * (qmp_capabilities).  Fails with NOT_FOUND / FAILED (refused) / BUSY (the
 * listen queue is full) when the socket cannot be reached, PROTOCOL when
 * QEMU does not speak QMP, TIMED_OUT after @timeout_ms (0: the default),
 * CANCELLED.  A connection already open is closed first. */
void banger_qmp_connect_async (BangerQmp *self, const char *socket_path, guint timeout_ms,
                               GCancellable *cancellable, GAsyncReadyCallback callback,
                               gpointer user_data);
gboolean banger_qmp_connect_finish (BangerQmp *self, GAsyncResult *result, GError **error);

/* The greeting's version ("7.2.22"), after connect; NULL before. */
const char *banger_qmp_get_qemu_version (BangerQmp *self);

/* Queue @command with optional @arguments (not consumed).  @timeout_ms 0
 * means BANGER_QMP_DEFAULT_TIMEOUT_MS.  The finish returns the "return"
 * member (transfer full), NULL with @error set on failure. */
void banger_qmp_execute_async (BangerQmp *self, const char *command, JsonObject *arguments,
                               guint timeout_ms, GCancellable *cancellable,
                               GAsyncReadyCallback callback, gpointer user_data);
JsonNode *banger_qmp_execute_finish (BangerQmp *self, GAsyncResult *result, GError **error);
/* The same, passing @fd (duplicated; the caller keeps its own) with the
 * command's first byte (SCM_RIGHTS): for "getfd" {"fdname"}, after which
 * "fd:<fdname>" names it in migrate / migrate-incoming.  One file at a time
 * (BUSY while another waits to be sent).  Finish with
 * banger_qmp_execute_finish. */
void banger_qmp_execute_with_fd_async (BangerQmp *self, const char *command,
                                       JsonObject *arguments, int fd, guint timeout_ms,
                                       GCancellable *cancellable, GAsyncReadyCallback callback,
                                       gpointer user_data);

/* Blocking forms, for tests and tools (the driver never blocks): the
 * _async call run to completion on a private main context. */
gboolean banger_qmp_connect (BangerQmp *self, const char *socket_path, guint timeout_ms,
                             GCancellable *cancellable, GError **error);
JsonNode *banger_qmp_execute (BangerQmp *self, const char *command, JsonObject *arguments,
                              guint timeout_ms, GCancellable *cancellable, GError **error);

gboolean banger_qmp_is_connected (BangerQmp *self);

/* Drop the connection (idempotent); commands still waiting fail with
 * BANGER_ERROR_PROTOCOL. */
void banger_qmp_close (BangerQmp *self);

G_END_DECLS
