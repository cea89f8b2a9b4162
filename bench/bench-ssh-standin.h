/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * An SSH server standing in for the guests of VMs booted on the fake
 * Firecracker (which boots nothing): a libssh server on port 22 of every
 * address of a network namespace, accepting public-key authentication with
 * one key (the install's) and nothing else.  The engine's last create step
 * (wait for SSH: connect, key exchange, host-key check, authentication)
 * then completes against it, so a create reaches `running`.  Bench only. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _BenchSshStandin BenchSshStandin;

/* Listens on 0.0.0.0:22 inside the network namespace @netns_path
 * (/run/netns/NAME), one thread per session.  @pubkey_path: the only key
 * accepted, read on each authentication (it may not exist yet: the daemon
 * makes the install key on first use). */
BenchSshStandin *bench_ssh_standin_new (const char *netns_path, const char *pubkey_path,
                                        GError **error);
/* Sessions that authenticated so far. */
guint bench_ssh_standin_get_logins (BenchSshStandin *s);
void bench_ssh_standin_free (BenchSshStandin *s);

G_END_DECLS
