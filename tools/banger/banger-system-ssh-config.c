/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The ssh_config step of `banger system install` (doc/ssh.md): runs
 * `banger ssh-config install` as the owner — a child that drops to the
 * owner's uid, gid and groups before exec, so root never writes in a
 * directory the owner controls. */
#include "config.h"

#include <grp.h>
#include <pwd.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "banger-builtins.h"
#include "banger-system-ssh-config.h"

typedef struct
{
  uid_t uid;
  gid_t gid;
} Drop;

/* Between fork and exec: raw system calls only. */
static void
drop_to_owner (gpointer data)
{
  const Drop *d = data;
  gid_t groups[1] = { d->gid };

  if (syscall (SYS_setgroups, 1, groups) != 0 || syscall (SYS_setresgid, d->gid, d->gid, d->gid) != 0
      || syscall (SYS_setresuid, d->uid, d->uid, d->uid) != 0)
    _exit (126);
}

gboolean
banger_system_install_ssh_config (const struct passwd *pw, const char *include, gboolean verbose,
                                  GError **error)
{
  g_autofree char *self = g_file_read_link ("/proc/self/exe", error);
  g_autofree char *home_config = NULL;
  g_autofree char *default_include = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr (GStrvBuilder) env = g_strv_builder_new ();
  g_auto (GStrv) envp = NULL;
  Drop d = { pw->pw_uid, pw->pw_gid };
  int status = 0;

  if (self == NULL)
    return FALSE;
  home_config = g_build_filename (pw->pw_dir, ".ssh", "config", NULL);
  /* the owner's bangerd keeps it under its XDG state dir by default */
  default_include = g_build_filename (pw->pw_dir, ".local", "state", "banger", "ssh", "config",
                                      NULL);
  g_strv_builder_add (env, "PATH=/usr/bin:/bin");
  {
    g_autofree char *h = g_strconcat ("HOME=", pw->pw_dir, NULL);
    g_strv_builder_add (env, h);
  }
  envp = g_strv_builder_end (env);
  {
    const char *argv[] = { self, "ssh-config", "install", "--file", home_config, "--include",
                           include ? include : default_include, NULL };
    if (!g_spawn_sync ("/", (char **)argv, envp, G_SPAWN_CLOEXEC_PIPES, drop_to_owner, &d, &out,
                       &err, &status, error))
      return FALSE;
  }
  if (!g_spawn_check_wait_status (status, NULL))
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_FAILED,
                   "Adding the Include line to '%s' as %s failed: %s", home_config, pw->pw_name,
                   err ? g_strchomp (err) : "");
      return FALSE;
    }
  if (verbose)
    g_print ("%s", out ? out : "");
  return TRUE;
}
