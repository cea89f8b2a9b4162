/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "banger-error.h"
#include "banger-host-names.h"
#include "banger-names.h"

/* Without an install id the hash is of the VM id alone (the names of
 * installs made before install ids existed); with one, of "<id>/<vm_id>". */
static char *
vm_hash_for (const char *install_id, const char *vm_id, gsize n_hex)
{
  g_autofree char *input = install_id ? g_strconcat (install_id, "/", vm_id, NULL)
                                      : g_strdup (vm_id);
  g_autofree char *sha = g_compute_checksum_for_string (G_CHECKSUM_SHA256, input, -1);
  return g_strndup (sha, n_hex);
}

static gboolean
check_install_id (const char *install_id, GError **error)
{
  gsize len = install_id ? strlen (install_id) : 0;

  if (install_id == NULL)
    return TRUE;
  if (len >= 1 && len <= 8)
    {
      gboolean ok = TRUE;
      for (const char *p = install_id; *p; p++)
        if (!g_ascii_islower (*p) && !g_ascii_isdigit (*p))
          ok = FALSE;
      if (ok)
        return TRUE;
    }
  g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT, "Internal: bad install id");
  return FALSE;
}

char *
banger_host_tap_name (const char *vm_id, GError **error)
{
  return banger_host_tap_name_for (NULL, vm_id, error);
}

char *
banger_host_tap_name_for (const char *install_id, const char *vm_id, GError **error)
{
  g_autofree char *hash = NULL;
  g_autofree char *name = NULL;

  if (!banger_validate_vm_name (vm_id, error) || !check_install_id (install_id, error))
    return NULL;
  hash = vm_hash_for (install_id, vm_id, 15 - strlen (BANGER_TAP_PREFIX));
  name = g_strconcat (BANGER_TAP_PREFIX, hash, NULL);
  /* Belt and braces: the derived name must pass the same validator the
   * operations use. */
  if (!banger_validate_ifname (name, error))
    return NULL;
  return g_steal_pointer (&name);
}

static gboolean
check_role (const char *role, GError **error)
{
  if (role == NULL || role[0] == '\0' || strlen (role) > 16)
    goto bad;
  for (const char *p = role; *p; p++)
    if (!g_ascii_islower (*p))
      goto bad;
  return TRUE;
bad:
  g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
               "Internal: bad host object role");
  return FALSE;
}

char *
banger_host_dm_name (const char *vm_id, const char *role, GError **error)
{
  return banger_host_dm_name_for (NULL, vm_id, role, error);
}

char *
banger_host_dm_name_for (const char *install_id, const char *vm_id, const char *role,
                         GError **error)
{
  if (!banger_validate_vm_name (vm_id, error) || !check_role (role, error)
      || !check_install_id (install_id, error))
    return NULL;
  if (install_id != NULL)
    return g_strconcat (BANGER_HOST_PREFIX, install_id, "-", vm_id, "-", role, NULL);
  return g_strconcat (BANGER_HOST_PREFIX, vm_id, "-", role, NULL);
}

char *
banger_host_dm_uuid (const char *vm_id, const char *role, GError **error)
{
  return banger_host_dm_uuid_for (NULL, vm_id, role, error);
}

char *
banger_host_dm_uuid_for (const char *install_id, const char *vm_id, const char *role,
                         GError **error)
{
  g_autofree char *name = banger_host_dm_name_for (install_id, vm_id, role, error);
  g_autofree char *hash = NULL;

  if (name == NULL)
    return NULL;
  hash = vm_hash_for (install_id, vm_id, 16);
  return g_strconcat (name, "-", hash, NULL);
}

char *
banger_host_loop_tag (const char *vm_id, const char *role, GError **error)
{
  return banger_host_loop_tag_for (NULL, vm_id, role, error);
}

char *
banger_host_loop_tag_for (const char *install_id, const char *vm_id, const char *role,
                          GError **error)
{
  g_autofree char *hash = NULL;

  if (!banger_validate_vm_name (vm_id, error) || !check_role (role, error)
      || !check_install_id (install_id, error))
    return NULL;
  hash = vm_hash_for (install_id, vm_id, 16);
  return g_strconcat (BANGER_HOST_PREFIX, hash, "-", role, NULL);
}

char *
banger_host_scope_name (const char *vm_id, GError **error)
{
  if (!banger_validate_vm_name (vm_id, error))
    return NULL;
  return g_strconcat (BANGER_HOST_PREFIX, vm_id, ".scope", NULL);
}

char *
banger_host_scope_vm_id (const char *name)
{
  gsize len;
  g_autofree char *id = NULL;

  if (name == NULL || !g_str_has_prefix (name, BANGER_HOST_PREFIX)
      || !g_str_has_suffix (name, ".scope"))
    return NULL;
  len = strlen (name);
  if (len <= strlen (BANGER_HOST_PREFIX) + strlen (".scope"))
    return NULL;
  id = g_strndup (name + strlen (BANGER_HOST_PREFIX),
                  len - strlen (BANGER_HOST_PREFIX) - strlen (".scope"));
  if (!banger_validate_vm_name (id, NULL))
    return NULL;
  return g_steal_pointer (&id);
}

char *
banger_host_nft_comment (const char *vm_id, GError **error)
{
  if (!banger_validate_vm_name (vm_id, error))
    return NULL;
  return g_strconcat ("banger-vm:", vm_id, NULL);
}

char *
banger_host_marker (const char *install_id, const char *what)
{
  return g_strconcat ("banger:", install_id ? install_id : "-", ":", what, NULL);
}

char *
banger_host_tap_marker (const char *install_id, const char *vm_id)
{
  g_autofree char *what = g_strconcat ("tap:", vm_id, NULL);
  return banger_host_marker (install_id, what);
}
