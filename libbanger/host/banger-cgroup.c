/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "banger-cgroup.h"
#include "banger-error.h"

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static char *
unescape_mountinfo (const char *s)
{
  GString *out = g_string_new (NULL);
  for (const char *p = s; *p; p++)
    {
      if (p[0] == '\\' && g_ascii_isdigit (p[1]) && g_ascii_isdigit (p[2])
          && g_ascii_isdigit (p[3]))
        {
          g_string_append_c (out, (char) ((p[1] - '0') * 64 + (p[2] - '0') * 8 + (p[3] - '0')));
          p += 3;
        }
      else
        g_string_append_c (out, *p);
    }
  return g_string_free (out, FALSE);
}

char *
banger_cgroup2_find_mount (const char *mountinfo_path, GError **error)
{
  g_autofree char *contents = NULL;
  g_auto (GStrv) lines = NULL;
  const char *path = mountinfo_path ? mountinfo_path : "/proc/self/mountinfo";

  if (!g_file_get_contents (path, &contents, NULL, error))
    return NULL;
  lines = g_strsplit (contents, "\n", -1);
  for (char **l = lines; *l != NULL; l++)
    {
      /* id parent major:minor root mountpoint options [optional...] - fstype source super */
      g_auto (GStrv) fields = g_strsplit (*l, " ", -1);
      guint n = g_strv_length (fields);
      guint sep;

      for (sep = 6; sep < n; sep++)
        if (g_str_equal (fields[sep], "-"))
          break;
      if (n < 5 || sep + 1 >= n)
        continue;
      if (g_str_equal (fields[sep + 1], "cgroup2"))
        return unescape_mountinfo (fields[4]);
    }
  g_set_error (error, BANGER_ERROR, BANGER_ERROR_UNSUPPORTED,
               "No cgroup2 file system is mounted (looked in %s)", path);
  return NULL;
}
