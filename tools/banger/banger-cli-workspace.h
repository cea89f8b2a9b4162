/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * What `banger vm exec` does before running a command: push the VM's
 * workspace when its host side changed since the last sync, saying so on
 * stderr (doc/workspace.md). */
#pragma once

#include "banger-cli-client.h"

G_BEGIN_DECLS

/* TRUE to go on (pushed, nothing to push, no workspace, or conflicts
 * reported on stderr); FALSE with *out_exit set when the push failed. */
gboolean banger_cli_workspace_push_if_dirty (BangerCliGlobals *globals, BangerClient *client,
                                             const char *name, int *out_exit);

G_END_DECLS
