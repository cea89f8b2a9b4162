/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Raw-socket helpers for the protocol tests: they speak the framing by hand,
 * so a test can send exactly the bytes an attacker would. */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* A blocking connection to @path with a receive timeout; -1 with errno. */
int wire_connect (const char *path, guint timeout_ms);
gboolean wire_send (int fd, const void *data, gsize len);
gboolean wire_send_str (int fd, const char *s); /* with the NUL */
/* The next message (without its NUL), or NULL on EOF / timeout / error. */
char *wire_read (int fd);
/* TRUE when the peer closes (EOF or ECONNRESET) within @timeout_ms, after
 * any pending messages. */
gboolean wire_wait_eof (int fd, guint timeout_ms);
/* Parse a reply: returns the error code name ("ok" for a result) and the id
 * (-1 for null). */
char *wire_reply_code (const char *reply, gint64 *out_id, JsonObject **out_result);

G_END_DECLS
