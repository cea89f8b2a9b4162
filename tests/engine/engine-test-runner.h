/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * What an engine test that runs fake Firecrackers leaves if it fails, found
 * and removed by the runner: a cgroup (the VMMs, killed through
 * cgroup.kill) and a scratch directory, both named from the runner's pid
 * and a tag of the test's own.  Add engine_runner_setup/teardown as the
 * test case's unchecked fixture (they run in the runner, before and after
 * Check's forks). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The tag naming this test's cgroup and dir ("engsnap": banger-engsnap-PID);
 * call before the suite runs. */
void engine_runner_set_tag (const char *tag);
/* <cgroup2>/banger-TAG-PID.slice, NULL without a cgroup2 mount. */
char *engine_runner_cgroup (void);
/* <tmp>/banger-TAG-PID. */
char *engine_runner_dir (void);
/* rm -rf --one-file-system @path (never into a mount). */
void engine_runner_rm_rf (const char *path);

void engine_runner_setup (void);
/* Kills every process left in the cgroup's children, removes them, the
 * cgroup and the dir. */
void engine_runner_teardown (void);

G_END_DECLS
