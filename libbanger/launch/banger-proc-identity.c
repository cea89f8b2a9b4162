/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "banger-pidfd.h"
#include "banger-error-private.h"
#include "banger-proc-identity.h"


gboolean
banger_proc_start_time (pid_t pid, guint64 *out_start_time, GError **error)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/stat", (int) pid);
  g_autofree char *contents = NULL;
  g_auto (GStrv) fields = NULL;
  const char *rest;
  guint64 v;

  if (pid <= 0 || !g_file_get_contents (path, &contents, NULL, NULL))
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_NOT_FOUND, "Process %d is gone", (int) pid);
      return FALSE;
    }
  /* "pid (comm) state ppid ...": comm may hold anything, so split after
   * the last ')'.  Field 3 (state) is then index 0, field 22 index 19. */
  rest = strrchr (contents, ')');
  if (rest != NULL)
    fields = g_strsplit (rest + 2, " ", 21);
  if (fields == NULL || g_strv_length (fields) < 20
      || !g_ascii_string_to_unsigned (fields[19], 10, 1, G_MAXUINT64, &v, NULL))
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_PROTOCOL,
                   "Cannot read the start time of process %d", (int) pid);
      return FALSE;
    }
  *out_start_time = v;
  return TRUE;
}

int
banger_pidfd_open_verified (pid_t pid, guint64 start_time, GError **error)
{
  guint64 now = 0;
  int pidfd;

  pidfd = banger_pidfd_open (pid); /* pidfds are O_CLOEXEC */
  if (pidfd < 0)
    {
      if (errno == ESRCH)
        {
          g_set_error (error, BANGER_ERROR, BANGER_ERROR_NOT_FOUND,
                       "The VMM (pid %d) has already exited", (int) pid);
          return -1;
        }
      banger_set_error_from_errno (error, errno, "Cannot take a pidfd for process %d", (int) pid);
      return -1;
    }
  if (!banger_proc_start_time (pid, &now, NULL) || now != start_time)
    {
      close (pidfd);
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_NOT_FOUND,
                   "The VMM (pid %d) has exited; the pid is not the launched process",
                   (int) pid);
      return -1;
    }
  return pidfd;
}
