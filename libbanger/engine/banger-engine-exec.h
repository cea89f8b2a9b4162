/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * vm.exec with "stream": true (doc/daemon.md): the command's output is
 * pushed to the caller as it arrives, as events
 *   {"type": "output", "fd": 1|2, "data": "<base64, at most 32 KiB decoded>"}
 * before the reply {exit_status}.  No cap on the total: each push waits for
 * room in the request's bounded stream, so a caller that does not read
 * holds the command's output back in the guest (SSH flow control), never
 * in the daemon's memory. */
#pragma once

#include <gio/gio.h>

#include "banger-priv-stream.h"

G_BEGIN_DECLS

/* Bytes of output carried by one event. */
#define BANGER_ENGINE_EXEC_CHUNK (32 * 1024)

/* A GOutputStream whose writes are pushed to @stream as output events of
 * @fd (1 or 2); a write blocks while the stream is full. */
GOutputStream *banger_engine_exec_output_new (BangerPrivStream *stream, int fd);

G_END_DECLS
