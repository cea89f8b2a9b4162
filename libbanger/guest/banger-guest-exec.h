/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Running a command in a guest over SSH (libssh): stdout and stderr are
 * streamed to GOutputStreams as they arrive; the result is the remote exit
 * status.  See banger-guest-ssh.h for the concurrency model.  Internal API. */
#pragma once

#include <gio/gio.h>

#include "banger-guest-ssh.h"

G_BEGIN_DECLS

/* The longest command line sent (the argv, quoted and joined). */
#define BANGER_GUEST_EXEC_MAX_COMMAND (256 * 1024)

gboolean banger_guest_exec (BangerGuestEndpoint *endpoint, const char *const *argv,
                            GOutputStream *stdout_stream, GOutputStream *stderr_stream,
                            int *out_exit_status, GCancellable *cancellable, GError **error);
void banger_guest_exec_async (BangerGuestEndpoint *endpoint, const char *const *argv,
                              GOutputStream *stdout_stream, GOutputStream *stderr_stream,
                              GCancellable *cancellable, GAsyncReadyCallback callback,
                              gpointer user_data);
gboolean banger_guest_exec_finish (BangerGuestEndpoint *endpoint, GAsyncResult *result,
                                   int *out_exit_status, GError **error);
char *banger_guest_exec_command_line (const char *const *argv, GError **error);

G_END_DECLS
