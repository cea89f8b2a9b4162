/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The engine tests' runner clean-up (see engine-test-runner.h). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "banger-cgroup.h"
#include "engine-test-runner.h"

static const char *runner_tag = "engine";
static int runner_pid;

void
engine_runner_set_tag (const char *tag)
{
  runner_tag = tag;
}

char *
engine_runner_cgroup (void)
{
  g_autofree char *mount = banger_cgroup2_find_mount (NULL, NULL);
  return mount ? g_strdup_printf ("%s/banger-%s-%d.slice", mount, runner_tag, runner_pid) : NULL;
}

char *
engine_runner_dir (void)
{
  return g_strdup_printf ("%s/banger-%s-%d", g_get_tmp_dir (), runner_tag, runner_pid);
}

void
engine_runner_rm_rf (const char *path)
{
  const char *rm[] = { "rm", "-rf", "--one-file-system", path, NULL };
  g_spawn_sync (NULL, (char **)rm, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, NULL, NULL);
}

/* "1" into a cgroup.kill file (g_file_set_contents would write a temp
 * file and rename it, which cgroupfs refuses). */
static void
cgroup_kill (const char *kill_file)
{
  int fd = open (kill_file, O_WRONLY | O_CLOEXEC);
  if (fd >= 0)
    {
      if (write (fd, "1", 1) != 1)
        g_printerr ("%s: %s\n", kill_file, g_strerror (errno));
      close (fd);
    }
}

void
engine_runner_setup (void)
{
  runner_pid = (int)getpid ();
}

void
engine_runner_teardown (void)
{
  g_autofree char *cgroup = engine_runner_cgroup ();
  g_autofree char *dir = engine_runner_dir ();
  g_autoptr (GDir) d = cgroup ? g_dir_open (cgroup, 0, NULL) : NULL;
  const char *n;

  while (d != NULL && (n = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *sub = g_build_filename (cgroup, n, NULL);
      g_autofree char *kill_file = g_build_filename (sub, "cgroup.kill", NULL);
      if (!g_file_test (sub, G_FILE_TEST_IS_DIR))
        continue;
      cgroup_kill (kill_file);
      for (int i = 0; i < 200 && g_rmdir (sub) < 0 && errno == EBUSY; i++)
        g_usleep (10 * 1000);
    }
  if (cgroup != NULL)
    g_rmdir (cgroup);
  if (g_file_test (dir, G_FILE_TEST_IS_DIR))
    engine_runner_rm_rf (dir);
}
