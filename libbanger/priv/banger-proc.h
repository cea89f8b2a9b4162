/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#if !defined(__BANGER_H_INSIDE__) && !defined(BANGER_COMPILATION)
#error "Only <banger.h> can be included directly."
#endif

#include <banger-macros.h>

G_BEGIN_DECLS

/**
 * BANGER_CMDLINE_MAX:
 *
 * The largest `/proc/<pid>/cmdline` banger_proc_read_cmdline() reads, in
 * bytes; a longer one is refused rather than truncated.
 *
 * Since: 0.1
 */
#define BANGER_CMDLINE_MAX (256 * 1024)

BANGER_AVAILABLE_IN_0_1
char *banger_extract_firecracker_api_sock (const char *const *argv);

BANGER_AVAILABLE_IN_0_1
char **banger_proc_read_cmdline (int pid, GError **error);

G_END_DECLS
