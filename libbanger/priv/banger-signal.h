/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#if !defined(__BANGER_H_INSIDE__) && !defined(BANGER_COMPILATION)
#error "Only <banger.h> can be included directly."
#endif

#include <banger-macros.h>

G_BEGIN_DECLS

BANGER_AVAILABLE_IN_0_1
gboolean banger_validate_signal_name (const char *name, int *out_signo, GError **error);

G_END_DECLS
