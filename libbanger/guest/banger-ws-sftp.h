/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The guest side of a workspace over SFTP (libssh's client; the guest's
 * SSH server runs its sftp-server: doc/workspace.md, "Transport"): the
 * root directory, symlink targets, and the pull's file-by-file fallback;
 * the listing and the bulk of the data go as commands and streams
 * (banger-ws-stream.h).  One
 * session per sync; blocking, on the caller's thread; cancellable through
 * the session's GCancellable.  Internal API. */
#pragma once

#include <gio/gio.h>

#include "banger-guest-ssh.h"
#include "banger-ws-manifest.h"

G_BEGIN_DECLS

/* The size of one SFTP read or write request. */
#define BANGER_WS_SFTP_CHUNK (64 * 1024)
/* The bound on one SFTP request's round trip. */
#define BANGER_WS_SFTP_TIMEOUT_S 60

typedef struct _BangerWsSftp BangerWsSftp;

/* Opens an SSH session and its SFTP subsystem, rooted at @guest_dir
 * (absolute). */
BangerWsSftp *banger_ws_sftp_open (BangerGuestEndpoint *endpoint, const char *guest_dir,
                                   GCancellable *cancellable, GError **error);
void banger_ws_sftp_close (BangerWsSftp *sftp);
/* The SSH session under @sftp (banger-ws-stream.c opens exec channels on
 * it) and the guest directory it is rooted at. */
BangerGuestSsh *banger_ws_sftp_get_ssh (BangerWsSftp *sftp);
const char *banger_ws_sftp_get_root (BangerWsSftp *sftp);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BangerWsSftp, banger_ws_sftp_close)

/* Whether the root is there (*out_missing) and a directory
 * (INVALID_ARGUMENT otherwise). */
gboolean banger_ws_sftp_check_root (BangerWsSftp *sftp, gboolean *out_missing, GError **error);

/* The target of the guest symlink @rel. */
char *banger_ws_sftp_readlink (BangerWsSftp *sftp, const char *rel, GError **error);

/* mkdir -p of the root. */
gboolean banger_ws_sftp_make_root (BangerWsSftp *sftp, GError **error);

/* Fetch the guest file @entry->path into @fd; sets entry->hash and
 * entry->size to what was received. */
gboolean banger_ws_sftp_get_file (BangerWsSftp *sftp, BangerWsEntry *entry, int fd,
                                  guint64 *inout_bytes, GError **error);

G_END_DECLS
