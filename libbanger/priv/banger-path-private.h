/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "banger-path.h"

G_BEGIN_DECLS

/* The component-by-component O_NOFOLLOW walk banger_open_beneath() uses where
 * openat2() is missing; exported internally so tests exercise it on kernels
 * that do have openat2. */
int banger_open_beneath_walk (int root_fd, const char *relpath, int flags, GError **error);

/* Lexically normalise an absolute path: collapse "//", drop ".", resolve
 * ".." (never above "/"), drop a trailing "/".  NULL when @path is NULL, empty
 * or relative. */
char *banger_path_normalize (const char *path);

G_END_DECLS
