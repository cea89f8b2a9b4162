/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * OpenSSH client configuration for banger's VMs (doc/ssh.md):
 *
 * - the included file the engine keeps (<state dir>/ssh/config): one
 *   `Host <vm>.<domain> <vm>` block per VM with its address, banger's key
 *   and that VM's known-hosts file, strict host-key checking;
 * - the one `Include` line banger adds at the top of the user's
 *   ~/.ssh/config (and removes again), never touching anything else.
 *
 * The text functions are pure (tested byte for byte); the file functions
 * write atomically.  Internal API. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* The comment banger writes above its Include line. */
#define BANGER_SSH_CONFIG_MARKER "# Added by banger (banger ssh-config uninstall removes it)"

typedef struct
{
  const char *name;        /* the VM name (a DNS label) */
  const char *address;     /* its IPv4 address */
  const char *known_hosts; /* absolute path of its known-hosts file */
} BangerSshConfigHost;

/* A value for an ssh_config keyword or an `ssh -o` option: '%' doubled
 * (ssh expands %-tokens in paths), double-quoted when it has a space.
 * NULL with INVALID_ARGUMENT for a '"', a control character or an empty
 * value (ssh_config cannot carry them). */
char *banger_ssh_config_quote (const char *value, GError **error);

/* The included file's text for @hosts, in the order given. */
char *banger_ssh_config_render (const BangerSshConfigHost *hosts, guint n_hosts,
                                const char *domain, const char *identity_file, GError **error);

/* Writes @text to @path atomically (a temporary file in the same
 * directory, fsync, rename), mode 0600. */
gboolean banger_ssh_config_write_file (const char *path, const char *text, GError **error);

/* The exact line banger puts in the user's config for @include_path. */
char *banger_ssh_config_include_line (const char *include_path, GError **error);

/* Pure: @text with the Include line for @include_path (and banger's
 * comment above it) at the top, unless the line is there already
 * (*out_changed FALSE, the text returned as is). */
char *banger_ssh_config_include_add (const char *text, const char *include_path,
                                     gboolean *out_changed, GError **error);
/* Pure: @text without banger's Include line for @include_path and the
 * comment banger wrote directly above it; every other byte kept.
 * @include_path NULL: the Include line directly under banger's comment,
 * whatever its path. */
char *banger_ssh_config_include_remove (const char *text, const char *include_path,
                                        gboolean *out_changed, GError **error);

/* The file versions: @user_config (normally ~/.ssh/config) is made 0600
 * (and its directory 0700) when absent; a symlink is followed to the file
 * it names, which is replaced atomically with its mode kept.  Nothing is
 * written when nothing changes. */
gboolean banger_ssh_config_install_include (const char *user_config, const char *include_path,
                                            gboolean *out_changed, GError **error);
gboolean banger_ssh_config_uninstall_include (const char *user_config, const char *include_path,
                                              gboolean *out_changed, GError **error);

G_END_DECLS
