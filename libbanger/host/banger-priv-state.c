/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The helper state the operations share: the registry of launched VMMs (each
 * with the pidfd taken at spawn) and banger's cgroup directory. */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "banger-cgroup.h"
#include "banger-error.h"
#include "banger-host-names.h"
#include "banger-pidfd.h"
#include "banger-priv-ops-private.h"

void
banger_priv_vmm_free (BangerPrivVmm *vmm)
{
  if (vmm == NULL)
    return;
  if (vmm->pidfd >= 0)
    close (vmm->pidfd);
  g_free (vmm->vm_id);
  g_free (vmm->api_sock);
  g_free (vmm->cgroup);
  g_free (vmm);
}

GHashTable *
banger_priv_state_vmms_locked (BangerPrivState *state)
{
  if (state->vmms == NULL)
    state->vmms = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                         (GDestroyNotify) banger_priv_vmm_free);
  return state->vmms;
}

guint
banger_priv_state_reap (BangerPrivState *state)
{
  GHashTableIter iter;
  gpointer value;
  guint reaped = 0;

  g_mutex_lock (&state->lock);
  g_hash_table_iter_init (&iter, banger_priv_state_vmms_locked (state));
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      BangerPrivVmm *vmm = value;
      if (banger_pidfd_reap_if_exited (vmm->pidfd, NULL))
        {
          g_hash_table_iter_remove (&iter);
          reaped++;
        }
    }
  g_mutex_unlock (&state->lock);
  return reaped;
}

char *
banger_priv_state_cgroup_root (BangerPrivState *state, GError **error)
{
  g_autofree char *mount = NULL;

  if (state->cgroup_root != NULL)
    return g_strdup (state->cgroup_root);
  mount = banger_cgroup2_find_mount (NULL, error);
  if (mount == NULL)
    return NULL;
  return g_build_filename (mount, "banger.slice", NULL);
}

char *
banger_priv_state_scope_relpath (BangerPrivState *state, const char *vm_id, GError **error)
{
  g_autofree char *mount = banger_cgroup2_find_mount (NULL, error);
  g_autofree char *root = NULL;
  g_autofree char *scope = NULL;

  if (mount == NULL)
    return NULL;
  root = banger_priv_state_cgroup_root (state, error);
  if (root == NULL)
    return NULL;
  scope = banger_host_scope_name (vm_id, error);
  if (scope == NULL)
    return NULL;
  if (!g_str_has_prefix (root, mount)
      || (root[strlen (mount)] != '/' && !g_str_equal (mount, "/")))
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_FAILED,
                   "banger's cgroup '%s' is not inside the cgroup2 mount '%s'", root, mount);
      return NULL;
    }
  return g_build_filename ("/", root + (g_str_equal (mount, "/") ? 0 : strlen (mount)), scope,
                           NULL);
}
