/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#if !defined(__BANGER_H_INSIDE__) && !defined(BANGER_COMPILATION)
#error "Only <banger.h> can be included directly."
#endif

#include <banger-macros.h>

G_BEGIN_DECLS

BANGER_AVAILABLE_IN_0_1
gboolean banger_path_is_under (const char *path, const char *root);

BANGER_AVAILABLE_IN_0_1
int banger_open_beneath (int root_fd, const char *relpath, int flags, GError **error);

G_END_DECLS
