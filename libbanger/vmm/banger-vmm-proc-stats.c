/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Process statistics for VMM drivers (see banger-vmm-proc-stats.h). */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "banger-error-private.h"
#include "banger-vmm-proc-stats.h"

/* /proc files are small; refuse anything bigger than this. */
#define PROC_FILE_MAX (64 * 1024)

static char *
read_proc_file (GPid pid, const char *name, GError **error)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/%s", (int) pid, name);
  g_autoptr (GError) local = NULL;
  char *contents = NULL;
  gsize len = 0;

  if (!g_file_get_contents (path, &contents, &len, &local))
    {
      g_set_error (error, BANGER_ERROR,
                   g_error_matches (local, G_FILE_ERROR, G_FILE_ERROR_NOENT)
                       ? BANGER_ERROR_NOT_FOUND
                       : BANGER_ERROR_FAILED,
                   "Cannot read the statistics of process %d: %s", (int) pid, local->message);
      return NULL;
    }
  if (len > PROC_FILE_MAX)
    {
      g_free (contents);
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_LIMIT_EXCEEDED, "%s is unexpectedly large",
                   path);
      return NULL;
    }
  return contents;
}

gboolean
banger_vmm_proc_stats_read (GPid pid, BangerVmmStats *out, GError **error)
{
  g_autofree char *stat = NULL;
  g_autofree char *status = NULL;
  g_auto (GStrv) fields = NULL;
  const char *after_comm;
  long ticks = sysconf (_SC_CLK_TCK);
  guint64 utime, stime;
  guint64 rss_kib = 0;

  g_return_val_if_fail (out != NULL, FALSE);
  if (pid <= 0)
    {
      g_set_error_literal (error, BANGER_ERROR, BANGER_ERROR_NOT_FOUND,
                           "The VMM has not been launched");
      return FALSE;
    }
  stat = read_proc_file (pid, "stat", error);
  if (stat == NULL)
    return FALSE;
  /* "pid (comm) state ppid ..." where comm may hold spaces and parentheses:
   * fields start after the last ')'. */
  after_comm = strrchr (stat, ')');
  if (after_comm == NULL || ticks <= 0)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_PROTOCOL,
                   "Cannot parse /proc/%d/stat", (int) pid);
      return FALSE;
    }
  fields = g_strsplit (g_strstrip ((char *) after_comm + 1), " ", 0);
  /* after the comm: state(0) ppid(1) ... utime is field 14 of the file, so
   * index 11 here, stime index 12 */
  if (g_strv_length (fields) < 13)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_PROTOCOL,
                   "/proc/%d/stat has too few fields", (int) pid);
      return FALSE;
    }
  utime = g_ascii_strtoull (fields[11], NULL, 10);
  stime = g_ascii_strtoull (fields[12], NULL, 10);

  status = read_proc_file (pid, "status", error);
  if (status == NULL)
    return FALSE;
  for (const char *line = status; line != NULL && *line != '\0';)
    {
      const char *nl = strchr (line, '\n');
      if (g_str_has_prefix (line, "VmRSS:"))
        {
          rss_kib = g_ascii_strtoull (line + strlen ("VmRSS:"), NULL, 10);
          break;
        }
      line = nl ? nl + 1 : NULL;
    }

  out->cpu_user_us = utime * G_USEC_PER_SEC / (guint64) ticks;
  out->cpu_system_us = stime * G_USEC_PER_SEC / (guint64) ticks;
  out->rss_bytes = rss_kib * 1024;
  return TRUE;
}
