/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <pwd.h>

#include <gio/gio.h>

#include "banger-error.h"

G_BEGIN_DECLS

/* `banger ssh-config install` run as @pw's user (uid, gid dropped before
 * exec) for @include (NULL: ~/.local/state/banger/ssh/config). */
gboolean banger_system_install_ssh_config (const struct passwd *pw, const char *include,
                                           gboolean verbose, GError **error);

G_END_DECLS
