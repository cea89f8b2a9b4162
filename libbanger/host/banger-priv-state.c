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

struct _BangerPrivLaunch
{
  BangerPrivState *state;
  char *vm_id;
};

BangerPrivLaunch *
banger_priv_state_reserve_launch (BangerPrivState *state, const char *vm_id, GError **error)
{
  BangerPrivLaunch *launch = NULL;

  g_mutex_lock (&state->lock);
  if (state->launching == NULL)
    state->launching = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  if (g_hash_table_contains (banger_priv_state_vmms_locked (state), vm_id))
    g_set_error (error, BANGER_ERROR, BANGER_ERROR_ALREADY_EXISTS,
                 "A VMM for VM '%s' is already running", vm_id);
  else if (g_hash_table_contains (state->launching, vm_id))
    g_set_error (error, BANGER_ERROR, BANGER_ERROR_ALREADY_EXISTS,
                 "A VMM for VM '%s' is being launched", vm_id);
  else
    {
      launch = g_new0 (BangerPrivLaunch, 1);
      launch->state = state;
      launch->vm_id = g_strdup (vm_id);
      g_hash_table_add (state->launching, g_strdup (vm_id));
    }
  g_mutex_unlock (&state->lock);
  return launch;
}

void
banger_priv_launch_free (BangerPrivLaunch *launch)
{
  if (launch == NULL)
    return;
  g_mutex_lock (&launch->state->lock);
  g_hash_table_remove (launch->state->launching, launch->vm_id);
  g_mutex_unlock (&launch->state->lock);
  g_free (launch->vm_id);
  g_free (launch);
}

gboolean
banger_priv_state_is_launching (BangerPrivState *state, const char *vm_id)
{
  gboolean launching;

  g_mutex_lock (&state->lock);
  launching = state->launching != NULL && g_hash_table_contains (state->launching, vm_id);
  g_mutex_unlock (&state->lock);
  return launching;
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
