/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * BangerQmp: a small QEMU Machine Protocol client over a unix socket
 * (json-glib).  Blocking calls, meant for worker threads (the QEMU driver
 * runs them through g_task_run_in_thread); a mutex serialises them, so one
 * object may be shared between threads.  Commands carry an "id", so a late
 * reply to a timed-out command is recognised and skipped; events are
 * skipped too (the driver watches the process, not events).  A refusal
 * ({"error": {"class", "desc"}}) becomes BANGER_ERROR_VMM with QEMU's desc
 * in the message.  Internal. */
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

BangerQmp *banger_qmp_new (void);

/* Connect to @socket_path, read the greeting and negotiate capabilities
 * (qmp_capabilities).  Fails with NOT_FOUND / PERMISSION_DENIED / ... when
 * the socket cannot be reached, PROTOCOL when QEMU does not speak QMP,
 * TIMED_OUT after @timeout_ms (0: the default). */
gboolean banger_qmp_connect (BangerQmp *self, const char *socket_path, guint timeout_ms,
                             GCancellable *cancellable, GError **error);

/* The greeting's version ("7.2.22"), after connect; NULL before. */
const char *banger_qmp_get_qemu_version (BangerQmp *self);

/* Run @command with optional @arguments (not consumed).  @timeout_ms 0 means
 * BANGER_QMP_DEFAULT_TIMEOUT_MS.  Returns the "return" member (transfer
 * full), NULL with @error set on failure. */
JsonNode *banger_qmp_execute (BangerQmp *self, const char *command, JsonObject *arguments,
                              guint timeout_ms, GCancellable *cancellable, GError **error);

gboolean banger_qmp_is_connected (BangerQmp *self);

/* Drop the connection (idempotent). */
void banger_qmp_close (BangerQmp *self);

G_END_DECLS
