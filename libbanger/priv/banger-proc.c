/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "banger-error-private.h"
#include "banger-proc-private.h"

char **
banger_cmdline_split (const char *buf, gsize len)
{
  g_autoptr (GPtrArray) args = g_ptr_array_new_with_free_func (g_free);
  gsize start = 0;

  for (gsize i = 0; i < len; i++)
    {
      if (buf[i] == '\0')
        {
          g_ptr_array_add (args, g_strndup (buf + start, i - start));
          start = i + 1;
        }
    }
  if (start < len)
    g_ptr_array_add (args, g_strndup (buf + start, len - start));
  g_ptr_array_add (args, NULL);
  g_ptr_array_set_free_func (args, NULL);
  return (char **) g_ptr_array_free (g_steal_pointer (&args), FALSE);
}

/* Returns the value of one flag occurrence at argv[*i], advancing *i past a
 * separate value.  *out_is_flag tells whether argv[*i] was the flag at all. */
static const char *
api_sock_value_at (const char *const *argv, gsize *i, gboolean *out_is_flag)
{
  const char *arg = argv[*i];

  *out_is_flag = TRUE;
  if (g_str_equal (arg, "--api-sock") || g_str_equal (arg, "-a"))
    {
      const char *value = argv[*i + 1];
      if (value == NULL)
        return NULL;
      (*i)++;
      return value;
    }
  if (g_str_has_prefix (arg, "--api-sock="))
    return arg + strlen ("--api-sock=");
  *out_is_flag = FALSE;
  return NULL;
}

/**
 * banger_extract_firecracker_api_sock:
 * @argv: (array zero-terminated=1): a process's arguments, as read from
 *   `/proc/<pid>/cmdline` (argv[0] is the program and never a flag)
 *
 * Finds Firecracker's API socket path in a command line.  Exactly three
 * forms are recognised: `--api-sock VALUE`, `--api-sock=VALUE` and
 * `-a VALUE`.  Arguments after a bare `--` are operands, not flags.
 *
 * The answer is %NULL (refuse) when the flag is absent, has no value or an
 * empty value, when the value starts with `-`, or when the flag occurs more
 * than once in any form (ambiguous).
 *
 * Returns: (transfer full) (nullable): the socket path, or %NULL.
 *
 * Since: 0.1
 */
char *
banger_extract_firecracker_api_sock (const char *const *argv)
{
  const char *found = NULL;
  guint occurrences = 0;
  gboolean bad = FALSE;

  if (argv == NULL || argv[0] == NULL)
    return NULL;

  for (gsize i = 1; argv[i] != NULL; i++)
    {
      gboolean is_flag;
      const char *value;

      if (g_str_equal (argv[i], "--"))
        break;
      value = api_sock_value_at (argv, &i, &is_flag);
      if (!is_flag)
        continue;
      occurrences++;
      if (value == NULL || value[0] == '\0' || value[0] == '-')
        bad = TRUE;
      else
        found = value;
    }

  if (occurrences != 1 || bad || found == NULL)
    return NULL;
  return g_strdup (found);
}

/**
 * banger_proc_read_cmdline:
 * @pid: a process id (> 0)
 * @error: return location for a #GError
 *
 * Reads `/proc/<pid>/cmdline` and splits it at NUL bytes.  Empty arguments
 * are kept; a final argument without its terminating NUL (a process that
 * rewrote its own command line) is kept too.  A kernel thread or a zombie has
 * an empty command line and yields an empty array.  Anything longer than
 * %BANGER_CMDLINE_MAX bytes is refused with %BANGER_ERROR_LIMIT_EXCEEDED.
 *
 * The answer describes what the process claims about itself; it is one input
 * to a decision, never enough alone.
 *
 * Returns: (transfer full) (array zero-terminated=1): the arguments, or
 *   %NULL with @error set (%BANGER_ERROR_NOT_FOUND when there is no such
 *   process).
 *
 * Since: 0.1
 */
char **
banger_proc_read_cmdline (int pid, GError **error)
{
  g_autofree char *path = NULL;
  g_autofree char *buf = NULL;
  gsize len = 0;
  int fd;

  if (pid <= 0)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   "Process id %d is not valid", pid);
      return NULL;
    }

  path = g_strdup_printf ("/proc/%d/cmdline", pid);
  fd = open (path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0)
    {
      int errsv = errno;
      if (errsv == ENOENT)
        {
          g_set_error (error, BANGER_ERROR, BANGER_ERROR_NOT_FOUND, "No process with id %d",
                       pid);
          return NULL;
        }
      banger_set_error_from_errno (error, errsv, "Cannot open %s", path);
      return NULL;
    }

  /* One byte more than the bound, so that "exactly at the bound" and "over
   * it" can be told apart without allocating more. */
  buf = g_malloc (BANGER_CMDLINE_MAX + 1);
  for (;;)
    {
      ssize_t n = read (fd, buf + len, BANGER_CMDLINE_MAX + 1 - len);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          int errsv = errno;
          close (fd);
          if (errsv == ESRCH)
            {
              g_set_error (error, BANGER_ERROR, BANGER_ERROR_NOT_FOUND,
                           "Process %d exited while its command line was read", pid);
              return NULL;
            }
          banger_set_error_from_errno (error, errsv, "Cannot read %s", path);
          return NULL;
        }
      if (n == 0)
        break;
      len += (gsize) n;
      if (len > BANGER_CMDLINE_MAX)
        {
          close (fd);
          g_set_error (error, BANGER_ERROR, BANGER_ERROR_LIMIT_EXCEEDED,
                       "The command line of process %d is longer than %d bytes", pid,
                       BANGER_CMDLINE_MAX);
          return NULL;
        }
    }
  close (fd);

  return banger_cmdline_split (buf, len);
}
