/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Find the cgroup2 mount point from /proc/self/mountinfo (it is
 * /sys/fs/cgroup on a unified host and /sys/fs/cgroup/unified on a hybrid
 * one).  @mountinfo_path is for tests; NULL means /proc/self/mountinfo. */
char *banger_cgroup2_find_mount (const char *mountinfo_path, GError **error);

G_END_DECLS
