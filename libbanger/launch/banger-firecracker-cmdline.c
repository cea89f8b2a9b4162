/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The Firecracker / jailer command line (see banger-firecracker-cmdline.h). */
#include "config.h"

#include <string.h>

#include "banger-error.h"
#include "banger-firecracker-cmdline.h"
#include "banger-names.h"
#include "banger-quote.h"

BangerFcJailerConfig *
banger_fc_jailer_config_new (const char *jailer_path, const char *chroot_base, guint uid,
                             guint gid)
{
  BangerFcJailerConfig *c = g_new0 (BangerFcJailerConfig, 1);
  c->jailer_path = g_strdup (jailer_path);
  c->chroot_base = g_strdup (chroot_base ? chroot_base : "/srv/jailer");
  c->uid = uid;
  c->gid = gid;
  return c;
}

BangerFcJailerConfig *
banger_fc_jailer_config_copy (const BangerFcJailerConfig *s)
{
  BangerFcJailerConfig *c = banger_fc_jailer_config_new (s->jailer_path, s->chroot_base, s->uid,
                                                         s->gid);
  c->netns = g_strdup (s->netns);
  c->parent_cgroup = g_strdup (s->parent_cgroup);
  c->cgroups = g_strdupv (s->cgroups);
  c->fsize_limit = s->fsize_limit;
  c->no_file_limit = s->no_file_limit;
  c->new_pid_ns = s->new_pid_ns;
  c->cgroup_root = g_strdup (s->cgroup_root);
  return c;
}

void
banger_fc_jailer_config_free (BangerFcJailerConfig *c)
{
  if (c == NULL)
    return;
  g_free (c->jailer_path);
  g_free (c->chroot_base);
  g_free (c->netns);
  g_free (c->parent_cgroup);
  g_strfreev (c->cgroups);
  g_free (c->cgroup_root);
  g_free (c);
}

static gboolean
bad (GError **error, const char *what, const char *value)
{
  g_autofree char *q = banger_quote (value);
  g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
               "Jailer configuration: %s '%s' is not valid", what, q);
  return FALSE;
}

static gboolean
relative_clean (const char *p)
{
  g_auto (GStrv) parts = NULL;

  if (p == NULL || p[0] == '\0' || p[0] == '/')
    return FALSE;
  parts = g_strsplit (p, "/", -1);
  for (guint i = 0; parts[i]; i++)
    if (parts[i][0] == '\0' || g_str_equal (parts[i], ".") || g_str_equal (parts[i], ".."))
      return FALSE;
  return TRUE;
}

gboolean
banger_fc_jailer_config_validate (const BangerFcJailerConfig *c, GError **error)
{
  if (c->jailer_path == NULL || !g_path_is_absolute (c->jailer_path))
    return bad (error, "jailer path", c->jailer_path);
  if (c->chroot_base == NULL || !g_path_is_absolute (c->chroot_base)
      || strstr (c->chroot_base, "/..") != NULL)
    return bad (error, "chroot base directory", c->chroot_base);
  if (c->netns != NULL && !g_path_is_absolute (c->netns))
    return bad (error, "network namespace path", c->netns);
  if (c->parent_cgroup != NULL && !relative_clean (c->parent_cgroup))
    return bad (error, "parent cgroup", c->parent_cgroup);
  if (c->cgroups != NULL && c->cgroups[0] != NULL
      && (c->cgroup_root == NULL || !g_path_is_absolute (c->cgroup_root)))
    return bad (error, "cgroup2 mount (needed with --cgroup settings)", c->cgroup_root);
  for (guint i = 0; c->cgroups && c->cgroups[i]; i++)
    {
      const char *eq = strchr (c->cgroups[i], '=');
      if (eq == NULL || eq == c->cgroups[i] || memchr (c->cgroups[i], '/', eq - c->cgroups[i]))
        return bad (error, "cgroup setting", c->cgroups[i]);
    }
  return TRUE;
}

GStrv
banger_firecracker_cmdline_build (const char *firecracker, const char *vm_id,
                                  const char *api_sock, const BangerFcJailerConfig *j,
                                  GError **error)
{
  g_autoptr (GStrvBuilder) b = g_strv_builder_new ();

  if (firecracker == NULL || firecracker[0] != '/')
    {
      g_autofree char *q = banger_quote (firecracker);
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   "The firecracker binary path '%s' must be absolute", q);
      return NULL;
    }
  if (!banger_validate_vm_name (vm_id, error))
    return NULL;
  if (api_sock == NULL || api_sock[0] != '/')
    {
      bad (error, "API socket path", api_sock);
      return NULL;
    }
  if (j == NULL)
    {
      g_strv_builder_add_many (b, firecracker, "--api-sock", api_sock, "--id", vm_id, NULL);
      return g_strv_builder_end (b);
    }

  if (!banger_fc_jailer_config_validate (j, error))
    return NULL;
  {
    g_autofree char *uid = g_strdup_printf ("%u", j->uid);
    g_autofree char *gid = g_strdup_printf ("%u", j->gid);
    g_strv_builder_add_many (b, j->jailer_path, "--id", vm_id, "--exec-file", firecracker,
                             "--uid", uid, "--gid", gid, "--cgroup-version", "2",
                             "--chroot-base-dir", j->chroot_base, NULL);
  }
  if (j->netns != NULL)
    g_strv_builder_add_many (b, "--netns", j->netns, NULL);
  if (j->parent_cgroup != NULL)
    g_strv_builder_add_many (b, "--parent-cgroup", j->parent_cgroup, NULL);
  for (guint i = 0; j->cgroups && j->cgroups[i]; i++)
    g_strv_builder_add_many (b, "--cgroup", j->cgroups[i], NULL);
  if (j->fsize_limit > 0)
    {
      g_autofree char *v = g_strdup_printf ("fsize=%" G_GUINT64_FORMAT, j->fsize_limit);
      g_strv_builder_add_many (b, "--resource-limit", v, NULL);
    }
  if (j->no_file_limit > 0)
    {
      g_autofree char *v = g_strdup_printf ("no-file=%" G_GUINT64_FORMAT, j->no_file_limit);
      g_strv_builder_add_many (b, "--resource-limit", v, NULL);
    }
  if (j->new_pid_ns)
    g_strv_builder_add (b, "--new-pid-ns");
  /* the jailer passes --id to Firecracker itself */
  g_strv_builder_add_many (b, "--", "--api-sock", api_sock, NULL);
  return g_strv_builder_end (b);
}
