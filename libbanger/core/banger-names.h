/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#if !defined(__BANGER_H_INSIDE__) && !defined(BANGER_COMPILATION)
#error "Only <banger.h> can be included directly."
#endif

#include <banger-macros.h>

G_BEGIN_DECLS

/**
 * BANGER_VM_NAME_MAX:
 *
 * The longest VM name, in bytes: the length limit of one DNS label.
 *
 * Since: 0.1
 */
#define BANGER_VM_NAME_MAX 63

/**
 * BANGER_IFNAME_PREFIX:
 *
 * The prefix of every network interface banger creates or deletes (taps and
 * bridges).  banger never touches an interface without it.
 *
 * Since: 0.1
 */
#define BANGER_IFNAME_PREFIX "bng"

/**
 * BANGER_IFNAME_MAX:
 *
 * The longest interface name, in bytes (the kernel's IFNAMSIZ - 1).
 *
 * Since: 0.1
 */
#define BANGER_IFNAME_MAX 15

BANGER_AVAILABLE_IN_0_1
gboolean banger_validate_vm_name (const char *name, GError **error);

BANGER_AVAILABLE_IN_0_1
gboolean banger_validate_ifname (const char *name, GError **error);

G_END_DECLS
