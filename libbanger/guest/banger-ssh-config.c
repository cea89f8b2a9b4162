/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * OpenSSH client configuration for banger's VMs (see banger-ssh-config.h,
 * doc/ssh.md). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "banger-error.h"
#include "banger-quote.h"
#include "banger-ssh-config.h"

/* The largest ~/.ssh/config read (a user's file is a few KiB). */
#define USER_CONFIG_MAX (4 * 1024 * 1024)

char *
banger_ssh_config_quote (const char *value, GError **error)
{
  GString *s;
  gboolean space = FALSE;

  g_return_val_if_fail (value != NULL, NULL);
  for (const char *p = value; *p; p++)
    {
      if (*p == '"' || (guchar)*p < 0x20 || *p == 0x7f)
        {
          g_autofree char *q = banger_quote (value);
          g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                       "'%s' cannot be written into an ssh_config (a '\"' or a control "
                       "character)",
                       q);
          return NULL;
        }
      if (*p == ' ' || *p == '\t')
        space = TRUE;
    }
  if (value[0] == '\0')
    {
      g_set_error_literal (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                           "An empty value cannot be written into an ssh_config");
      return NULL;
    }
  s = g_string_new (space ? "\"" : "");
  for (const char *p = value; *p; p++)
    {
      if (*p == '%')
        g_string_append_c (s, '%');
      g_string_append_c (s, *p);
    }
  if (space)
    g_string_append_c (s, '"');
  return g_string_free (s, FALSE);
}

/**
 * banger_ssh_config_render:
 * @hosts: (array length=n_hosts): the VMs
 * @n_hosts: how many
 * @domain: the DNS domain of VM names ("banger.internal")
 * @identity_file: absolute path of the install's private key
 * @error: return location for a #GError
 *
 * Returns: the text of the included file
 */
char *
banger_ssh_config_render (const BangerSshConfigHost *hosts, guint n_hosts, const char *domain,
                          const char *identity_file, GError **error)
{
  g_autoptr (GString) s = g_string_new (NULL);
  g_autofree char *id = banger_ssh_config_quote (identity_file, error);

  if (id == NULL)
    return NULL;
  g_string_append (s, "# Written by banger: one block per VM, rewritten as VMs come and go.\n"
                      "# Do not edit (changes are lost); see doc/ssh.md.\n");
  for (guint i = 0; i < n_hosts; i++)
    {
      g_autofree char *kh = banger_ssh_config_quote (hosts[i].known_hosts, error);
      if (kh == NULL)
        return NULL;
      g_string_append_printf (s,
                              "\nHost %s.%s %s\n"
                              "  HostName %s\n"
                              "  HostKeyAlias %s\n"
                              "  User root\n"
                              "  IdentityFile %s\n"
                              "  IdentitiesOnly yes\n"
                              "  UserKnownHostsFile %s\n"
                              "  GlobalKnownHostsFile /dev/null\n"
                              "  StrictHostKeyChecking yes\n"
                              "  CheckHostIP no\n",
                              hosts[i].name, domain, hosts[i].name, hosts[i].address,
                              hosts[i].address, id, kh);
    }
  return g_string_free (g_steal_pointer (&s), FALSE);
}

gboolean
banger_ssh_config_write_file (const char *path, const char *text, GError **error)
{
  GError *local = NULL;

  if (!g_file_set_contents_full (path, text, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0600, &local))
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_FAILED, "Cannot write '%s': %s", path,
                   local->message);
      g_error_free (local);
      return FALSE;
    }
  return TRUE;
}

char *
banger_ssh_config_include_line (const char *include_path, GError **error)
{
  g_autofree char *q = NULL;

  if (!g_path_is_absolute (include_path))
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   "The included file '%s' must be an absolute path", include_path);
      return NULL;
    }
  q = banger_ssh_config_quote (include_path, error);
  return q ? g_strdup_printf ("Include %s", q) : NULL;
}

/* The lines of @text, each with its '\n' (the last may have none). */
static GPtrArray *
split_lines (const char *text)
{
  GPtrArray *lines = g_ptr_array_new_with_free_func (g_free);
  const char *p = text;

  while (*p)
    {
      const char *nl = strchr (p, '\n');
      const char *end = nl ? nl + 1 : p + strlen (p);
      g_ptr_array_add (lines, g_strndup (p, (gsize)(end - p)));
      p = end;
    }
  return lines;
}

static gboolean
line_is (const char *line, const char *want)
{
  gsize n = strlen (want);

  return strncmp (line, want, n) == 0
         && (line[n] == '\0' || g_str_equal (line + n, "\n") || g_str_equal (line + n, "\r\n"));
}

char *
banger_ssh_config_include_add (const char *text, const char *include_path, gboolean *out_changed,
                               GError **error)
{
  g_autofree char *line = banger_ssh_config_include_line (include_path, error);
  g_autoptr (GPtrArray) lines = NULL;

  if (line == NULL)
    return NULL;
  lines = split_lines (text);
  for (guint i = 0; i < lines->len; i++)
    if (line_is (lines->pdata[i], line))
      {
        *out_changed = FALSE;
        return g_strdup (text);
      }
  *out_changed = TRUE;
  /* at the very top: an Include after a Host line would only apply to
   * that Host block */
  return g_strconcat (BANGER_SSH_CONFIG_MARKER "\n", line, "\n", text, NULL);
}

char *
banger_ssh_config_include_remove (const char *text, const char *include_path,
                                  gboolean *out_changed, GError **error)
{
  g_autofree char *line = NULL;
  g_autoptr (GPtrArray) lines = NULL;
  g_autoptr (GString) out = g_string_new (NULL);
  gboolean changed = FALSE;

  if (include_path != NULL && (line = banger_ssh_config_include_line (include_path, error)) == NULL)
    return NULL;
  lines = split_lines (text);
  for (guint i = 0; i < lines->len; i++)
    {
      const char *l = lines->pdata[i];
      gboolean marker = line_is (l, BANGER_SSH_CONFIG_MARKER);

      /* our comment and the Include directly under it; or (no path
       * known) any Include line under our comment */
      if (marker && i + 1 < lines->len
          && (line != NULL ? line_is (lines->pdata[i + 1], line)
                           : g_str_has_prefix (lines->pdata[i + 1], "Include ")))
        {
          i++;
          changed = TRUE;
          continue;
        }
      if (line != NULL && line_is (l, line))
        {
          changed = TRUE;
          continue;
        }
      g_string_append (out, l);
    }
  *out_changed = changed;
  if (!changed)
    return g_strdup (text);
  return g_string_free (g_steal_pointer (&out), FALSE);
}

/* Reads the user's config (following a symlink to its file): the text
 * ("" when absent), the real path and its mode. */
static gboolean
read_user_config (const char *path, char **out_text, char **out_real, mode_t *out_mode,
                  gboolean *out_exists, GError **error)
{
  g_autofree char *real = realpath (path, NULL);
  g_autofree char *text = NULL;
  struct stat st;
  gsize len = 0;
  GError *local = NULL;

  if (real == NULL)
    {
      if (errno != ENOENT)
        {
          g_set_error (error, BANGER_ERROR, BANGER_ERROR_FAILED, "Cannot resolve '%s': %s", path,
                       g_strerror (errno));
          return FALSE;
        }
      if (g_file_test (path, G_FILE_TEST_IS_SYMLINK))
        {
          g_set_error (error, BANGER_ERROR, BANGER_ERROR_NOT_FOUND,
                       "'%s' is a symlink to a file that does not exist", path);
          return FALSE;
        }
      *out_text = g_strdup ("");
      *out_real = g_strdup (path);
      *out_mode = 0600;
      *out_exists = FALSE;
      return TRUE;
    }
  if (stat (real, &st) < 0 || !S_ISREG (st.st_mode))
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   "'%s' is not a regular file", real);
      return FALSE;
    }
  if (st.st_size > USER_CONFIG_MAX)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_LIMIT_EXCEEDED,
                   "'%s' is larger than %d bytes", real, USER_CONFIG_MAX);
      return FALSE;
    }
  if (!g_file_get_contents (real, &text, &len, &local))
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_FAILED, "%s", local->message);
      g_error_free (local);
      return FALSE;
    }
  if (strlen (text) != len)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   "'%s' holds a NUL byte: not an ssh_config", real);
      return FALSE;
    }
  *out_text = g_steal_pointer (&text);
  *out_real = g_steal_pointer (&real);
  *out_mode = st.st_mode & 07777;
  *out_exists = TRUE;
  return TRUE;
}

static gboolean
write_user_config (const char *real, const char *text, mode_t mode, GError **error)
{
  GError *local = NULL;

  if (!g_file_set_contents_full (real, text, -1, G_FILE_SET_CONTENTS_CONSISTENT, (int)mode,
                                 &local))
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_FAILED, "Cannot write '%s': %s", real,
                   local->message);
      g_error_free (local);
      return FALSE;
    }
  return TRUE;
}

gboolean
banger_ssh_config_install_include (const char *user_config, const char *include_path,
                                   gboolean *out_changed, GError **error)
{
  g_autofree char *text = NULL, *real = NULL, *updated = NULL;
  g_autofree char *dir = g_path_get_dirname (user_config);
  mode_t mode = 0600;
  gboolean exists = FALSE, changed = FALSE;

  if (g_mkdir_with_parents (dir, 0700) < 0)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_FAILED, "Cannot create '%s': %s", dir,
                   g_strerror (errno));
      return FALSE;
    }
  if (!read_user_config (user_config, &text, &real, &mode, &exists, error))
    return FALSE;
  updated = banger_ssh_config_include_add (text, include_path, &changed, error);
  if (updated == NULL)
    return FALSE;
  if (changed && !write_user_config (real, updated, mode, error))
    return FALSE;
  if (out_changed)
    *out_changed = changed;
  return TRUE;
}

gboolean
banger_ssh_config_uninstall_include (const char *user_config, const char *include_path,
                                     gboolean *out_changed, GError **error)
{
  g_autofree char *text = NULL, *real = NULL, *updated = NULL;
  mode_t mode = 0600;
  gboolean exists = FALSE, changed = FALSE;

  if (!read_user_config (user_config, &text, &real, &mode, &exists, error))
    return FALSE;
  updated = banger_ssh_config_include_remove (text, include_path, &changed, error);
  if (updated == NULL)
    return FALSE;
  if (changed && !write_user_config (real, updated, mode, error))
    return FALSE;
  if (out_changed)
    *out_changed = changed;
  return TRUE;
}
