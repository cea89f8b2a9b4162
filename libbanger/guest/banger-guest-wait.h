/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Waiting until a booting guest's SSH server accepts the install key:
 * bounded, retried, cancellable.  See banger-guest-ssh.h for the
 * concurrency model.  Internal API. */
#pragma once

#include <gio/gio.h>

#include "banger-guest-ssh.h"

G_BEGIN_DECLS

/* The pause between two attempts. */
#define BANGER_GUEST_WAIT_RETRY_MS 100

gboolean banger_guest_wait_ssh (BangerGuestEndpoint *endpoint, guint timeout_ms,
                                guint *out_attempts, GCancellable *cancellable, GError **error);
gboolean banger_guest_wait_ssh_counted (BangerGuestEndpoint *endpoint, guint timeout_ms,
                                        guint *out_attempts, guint *out_connects,
                                        GCancellable *cancellable, GError **error);
void banger_guest_wait_ssh_async (BangerGuestEndpoint *endpoint, guint timeout_ms,
                                  GCancellable *cancellable, GAsyncReadyCallback callback,
                                  gpointer user_data);
gboolean banger_guest_wait_ssh_finish (BangerGuestEndpoint *endpoint, GAsyncResult *result,
                                       GError **error);

G_END_DECLS
