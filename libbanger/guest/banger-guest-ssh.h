/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Reaching a guest over SSH with libssh (doc/guest.md, "Guest access").
 *
 * A BangerGuestEndpoint says where and how: a numeric IP address and port,
 * the user (root), the install key, banger's known-hosts file for this VM
 * and a connect timeout.  banger_guest_ssh_open() makes one authenticated
 * session from it: TCP connect (non-blocking, bounded, cancellable), SSH
 * handshake, host-key check against the known-hosts file (recorded on first
 * contact, a changed key refused with BANGER_ERROR_PERMISSION_DENIED),
 * public-key authentication.  banger-guest-exec.h and banger-guest-wait.h
 * build on it.
 *
 * Concurrency: a session is used by one thread, start to end; libssh calls
 * block that thread (the _async functions run it on a GTask worker).  A
 * GCancellable interrupts a blocked libssh call from any thread by
 * shutdown(2) of the session's socket, which wakes libssh's poll at once;
 * the cancellation handler is disconnected before the socket is closed.
 *
 * Internal API for the engine; not exported from libbanger-1.so. */
#pragma once

#include <gio/gio.h>

#include "banger-guest-key.h"

G_BEGIN_DECLS

#define BANGER_GUEST_SSH_DEFAULT_PORT 22
#define BANGER_GUEST_SSH_DEFAULT_USER "root"
/* The default bound on one TCP connect + handshake + authentication. */
#define BANGER_GUEST_SSH_DEFAULT_CONNECT_TIMEOUT_MS 10000
/* How often the wait for SSH starts a fresh TCP connect while none has
 * been answered (banger_guest_endpoint_set_wait_resend). */
#define BANGER_GUEST_SSH_DEFAULT_WAIT_RESEND_MS 250

typedef struct _BangerGuestEndpoint BangerGuestEndpoint;

BangerGuestEndpoint *banger_guest_endpoint_new (const char *address, guint16 port,
                                                BangerGuestKey *key,
                                                const char *known_hosts_path, GError **error);
BangerGuestEndpoint *banger_guest_endpoint_ref (BangerGuestEndpoint *endpoint);
void banger_guest_endpoint_unref (BangerGuestEndpoint *endpoint);
gboolean banger_guest_endpoint_set_user (BangerGuestEndpoint *endpoint, const char *user,
                                         GError **error);
void banger_guest_endpoint_set_connect_timeout (BangerGuestEndpoint *endpoint,
                                                guint timeout_ms);
void banger_guest_endpoint_set_wait_resend (BangerGuestEndpoint *endpoint, guint resend_ms);
guint banger_guest_endpoint_get_wait_resend (BangerGuestEndpoint *endpoint);
const char *banger_guest_endpoint_get_address (BangerGuestEndpoint *endpoint);
guint16 banger_guest_endpoint_get_port (BangerGuestEndpoint *endpoint);
guint banger_guest_endpoint_get_connect_timeout (BangerGuestEndpoint *endpoint);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (BangerGuestEndpoint, banger_guest_endpoint_unref)

/* One authenticated SSH session (this folder's modules only). */
typedef struct _BangerGuestSsh BangerGuestSsh;

BangerGuestSsh *banger_guest_ssh_open (BangerGuestEndpoint *endpoint, gint64 deadline_us,
                                       GCancellable *cancellable, GError **error);
/* The same, with fresh TCP connects every @resend_ms (0: one) until one
 * completes; then the handshake gets the endpoint's connect timeout (see
 * its documentation).  The wait for SSH uses it. */
BangerGuestSsh *banger_guest_ssh_open_full (BangerGuestEndpoint *endpoint, gint64 deadline_us,
                                            guint resend_ms, guint *inout_connects,
                                            GCancellable *cancellable, GError **error);
/* The libssh ssh_session of @ssh. */
gpointer banger_guest_ssh_get_session (BangerGuestSsh *ssh);
/* Sets @error for a failed libssh call on @ssh (CANCELLED when the
 * cancellable fired) and returns FALSE. */
gboolean banger_guest_ssh_fail (BangerGuestSsh *ssh, const char *what, GError **error);
void banger_guest_ssh_close (BangerGuestSsh *ssh);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (BangerGuestSsh, banger_guest_ssh_close)

G_END_DECLS
