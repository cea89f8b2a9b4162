/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Process statistics for VMM drivers: CPU time from /proc/<pid>/stat and the
 * resident set from /proc/<pid>/status.  Internal. */
#pragma once

#include "banger-vmm.h"

G_BEGIN_DECLS

/* Fills cpu_user_us, cpu_system_us and rss_bytes of @out (other fields are
 * left alone).  NOT_FOUND when the process is gone. */
gboolean banger_vmm_proc_stats_read (GPid pid, BangerVmmStats *out, GError **error);

G_END_DECLS
