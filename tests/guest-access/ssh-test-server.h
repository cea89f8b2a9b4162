/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * An in-process libssh server for the guest layer's tests: one session on
 * an accepted socket, any public key whose signature verifies accepted,
 * one ed25519 host key for every session of the process. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Serves one session on @fd (taken: closed when it ends); TRUE when a key
 * was accepted. */
gboolean ssh_test_serve_fd (int fd);

G_END_DECLS
