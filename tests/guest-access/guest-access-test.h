/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Helpers shared by the guest-access tests (tests/guest-access/). */
#pragma once

#include <sys/stat.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "banger-test.h"

/* Runs @argv (PATH lookup), stdout in @out (nullable); FALSE and a
 * diagnostic on failure. */
static inline gboolean
ga_run (const char *const *argv, char **out, int *out_status)
{
  g_autofree char *o = NULL;
  g_autofree char *e = NULL;
  g_autoptr (GError) error = NULL;
  int status = 0;

  if (!g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &o, &e, &status,
                     &error))
    {
      g_printerr ("# %s: %s\n", argv[0], error->message);
      return FALSE;
    }
  if (out_status != NULL)
    *out_status = WIFEXITED (status) ? WEXITSTATUS (status) : -1;
  if (out != NULL)
    *out = g_steal_pointer (&o);
  if (!g_spawn_check_wait_status (status, NULL))
    {
      if (out_status == NULL)
        g_printerr ("# %s failed: %s\n", argv[0], e);
      return out_status != NULL;
    }
  return TRUE;
}

static inline void
ga_rm_rf (const char *path)
{
  const char *argv[] = { "rm", "-rf", "--one-file-system", path, NULL };
  ga_run (argv, NULL, NULL);
}

/* A program needed by a test (searched in PATH, then /sbin, /usr/sbin). */
static inline char *
ga_find_program (const char *name)
{
  char *p = g_find_program_in_path (name);

  if (p == NULL)
    {
      g_autofree char *a = g_build_filename ("/usr/sbin", name, NULL);
      g_autofree char *b = g_build_filename ("/sbin", name, NULL);
      if (g_file_test (a, G_FILE_TEST_IS_EXECUTABLE))
        p = g_steal_pointer (&a);
      else if (g_file_test (b, G_FILE_TEST_IS_EXECUTABLE))
        p = g_steal_pointer (&b);
    }
  return p;
}
