/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The privileged protocol's server: a unix stream socket (bound to a path or
 * handed over by systemd socket activation), the caller's identity from
 * SO_PEERCRED only, and every limit of doc/protocol.md enforced before a
 * request reaches the executor:
 *   - a connection whose credentials cannot be read is closed (fail closed);
 *   - a uid other than root and the owner gets one permission-denied reply
 *     and is closed, before a single byte of its is read;
 *   - at most max_connections_per_uid connections per uid;
 *   - a message is at most BANGER_PRIV_MESSAGE_MAX bytes, counted while
 *     reading; a message must be complete message_timeout_ms after its first
 *     byte; a connection idle for idle_timeout_ms is closed; a reply not
 *     taken by the client within message_timeout_ms closes it too;
 *   - requests on one connection are answered one at a time, in order;
 *     handlers run in worker threads through the executor (one at a time,
 *     except CONCURRENT ones such as priv.status), so the main loop keeps
 *     accepting and timing out connections meanwhile; root's requests have
 *     two worker threads of their own, and root's CONCURRENT ones are
 *     answered on the main thread (no hand-over, no queue). */
#pragma once

#include "banger-install-config.h"

#include <gio/gio.h>

#include "banger-priv-op.h"

G_BEGIN_DECLS

typedef struct
{
  guint max_connections_per_uid;
  guint message_timeout_ms;
  guint idle_timeout_ms;
} BangerPrivServerLimits;

/* The owner can hold at most @max_connections_per_uid connections and
 * @max_vmms VMM pidfds in the helper; with BANGER_INSTALL_FD_RESERVE more
 * descriptors for root's connections and the operations' own work, that
 * must fit in RLIMIT_NOFILE (the soft limit is first raised to the hard
 * one), or root could be locked out: LIMIT_EXCEEDED otherwise. */
gboolean banger_priv_server_check_fd_budget (guint max_connections_per_uid, guint max_vmms,
                                             GError **error);

#define BANGER_TYPE_PRIV_SERVER (banger_priv_server_get_type ())
G_DECLARE_FINAL_TYPE (BangerPrivServer, banger_priv_server, BANGER, PRIV_SERVER, GObject)

/* @table and @state are borrowed and must outlive the server. */
BangerPrivServer *banger_priv_server_new (const BangerPrivOp *table, BangerPrivState *state,
                                          const BangerPrivServerLimits *limits);

/* Bind @path (a stale socket there is replaced; anything else is refused),
 * mode 0600 from the start, then owned by @owner:@group. */
gboolean banger_priv_server_listen_path (BangerPrivServer *server, const char *path,
                                         uid_t owner, gid_t group, GError **error);

/* Serve an already listening AF_UNIX stream socket (takes ownership). */
gboolean banger_priv_server_listen_fd (BangerPrivServer *server, int fd, GError **error);

/* The socket systemd passed (LISTEN_PID/LISTEN_FDS, exactly one AF_UNIX
 * listening stream socket), or -1 without error when there is none. */
int banger_priv_server_take_activation_fd (GError **error);

/* Start accepting in the thread-default main context; stop closes the
 * listener and every connection, cancels the running handler's cancellable
 * and waits for it to return; requests not yet started are answered
 * "cancelled".  After stop() the state may be freed. */
void banger_priv_server_start (BangerPrivServer *server);
void banger_priv_server_stop (BangerPrivServer *server);

guint banger_priv_server_get_n_connections (BangerPrivServer *server);

G_END_DECLS
