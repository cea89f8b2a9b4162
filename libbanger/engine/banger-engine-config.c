/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The daemon's config file (see banger-engine-config.h, doc/daemon.md). */
#include "config.h"

#include <unistd.h>

#include "banger-engine-config.h"
#include "banger-error.h"
#include "banger-engine-reach.h"
#include "banger-guest-ssh.h"
#include "banger-store-lease.h"

BangerEngineConfig *
banger_engine_config_new (void)
{
  BangerEngineConfig *c = g_new0 (BangerEngineConfig, 1);

  c->default_vmm = BANGER_STORE_VMM_QEMU;
  c->subnet = g_strdup (BANGER_ENGINE_DEFAULT_SUBNET);
  c->nat = TRUE;
  c->domain = g_strdup ("banger.internal");
  c->dns_port = BANGER_ENGINE_DNS_PORT_DEFAULT;
  c->taps = 0;
  c->ssh_timeout_ms = BANGER_ENGINE_SSH_TIMEOUT_MS_DEFAULT;
  c->registries = banger_engine_registries_new ();
  c->wait_ssh = TRUE;
  c->ssh_resend_ms = BANGER_GUEST_SSH_DEFAULT_WAIT_RESEND_MS;
  return c;
}

void
banger_engine_config_free (BangerEngineConfig *c)
{
  if (c == NULL)
    return;
  g_free (c->state_dir);
  g_free (c->domain);
  g_free (c->runtime_dir);
  g_free (c->helper_socket);
  g_free (c->firecracker_path);
  g_free (c->jailer_path);
  g_free (c->qemu_path);
  g_free (c->subnet);
  g_free (c->cgroup_root);
  g_free (c->nft_table);
  banger_engine_registries_free (c->registries);
  g_free (c);
}

static gboolean
bad (GError **error, const char *path, const char *group, const char *key, const char *why)
{
  g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT, "%s: [%s] %s: %s", path, group,
               key, why);
  return FALSE;
}

static gboolean
take_path (GKeyFile *kf, const char *path, const char *group, const char *key, char **slot,
           gboolean allow_none, GError **error)
{
  g_autofree char *v = g_key_file_get_string (kf, group, key, NULL);

  if (v == NULL)
    return TRUE;
  g_free (*slot);
  *slot = NULL;
  if (allow_none && g_str_equal (v, "none"))
    return TRUE;
  if (!g_path_is_absolute (v))
    return bad (error, path, group, key, "must be an absolute path");
  *slot = g_steal_pointer (&v);
  return TRUE;
}

static const char *const known_keys[] = {
  "vmm/default",
  "vmm/firecracker",
  "vmm/jailer",
  "vmm/qemu",
  "network/subnet",
  "network/nat",
  "pool/taps",
  "helper/socket",
  "host/cgroup",
  "host/nft-table",
  "guest/ssh-timeout-ms",
  "guest/wait-ssh",
  "guest/ssh-resend-ms",
  "registries/insecure",
  "registries/mirrors",
  "registries/ca",
  "registries/auth-file",
  "network/domain",
  "network/dns-port",
  NULL,
};

gboolean
banger_engine_config_load (BangerEngineConfig *c, const char *path, GError **error)
{
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_autoptr (GError) local = NULL;
  g_auto (GStrv) groups = NULL;

  if (!g_key_file_load_from_file (kf, path, G_KEY_FILE_NONE, &local))
    {
      g_set_error (error, BANGER_ERROR,
                   g_error_matches (local, G_FILE_ERROR, G_FILE_ERROR_NOENT)
                       ? BANGER_ERROR_NOT_FOUND
                       : BANGER_ERROR_INVALID_ARGUMENT,
                   "config %s: %s", path, local->message);
      return FALSE;
    }
  groups = g_key_file_get_groups (kf, NULL);
  for (guint i = 0; groups[i]; i++)
    {
      g_auto (GStrv) keys = g_key_file_get_keys (kf, groups[i], NULL, NULL);
      for (guint j = 0; keys && keys[j]; j++)
        {
          g_autofree char *full = g_strdup_printf ("%s/%s", groups[i], keys[j]);
          if (!g_strv_contains (known_keys, full))
            return bad (error, path, groups[i], keys[j], "unknown key");
        }
    }
  {
    g_autofree char *v = g_key_file_get_string (kf, "vmm", "default", NULL);
    if (v != NULL && !banger_store_vmm_from_string (v, &c->default_vmm))
      return bad (error, path, "vmm", "default", "must be firecracker or qemu");
  }
  if (!take_path (kf, path, "vmm", "firecracker", &c->firecracker_path, FALSE, error)
      || !take_path (kf, path, "vmm", "jailer", &c->jailer_path, TRUE, error)
      || !take_path (kf, path, "vmm", "qemu", &c->qemu_path, FALSE, error)
      || !take_path (kf, path, "helper", "socket", &c->helper_socket, FALSE, error)
      || !take_path (kf, path, "host", "cgroup", &c->cgroup_root, FALSE, error))
    return FALSE;
  {
    g_autofree char *v = g_key_file_get_string (kf, "network", "subnet", NULL);
    g_autofree char *canonical = NULL;
    guint32 net;
    guint prefix;
    if (v != NULL)
      {
        if (!banger_store_parse_subnet (v, &net, &prefix, &canonical, NULL))
          return bad (error, path, "network", "subnet", "must be an IPv4 a.b.c.d/n, n 8-30");
        g_free (c->subnet);
        c->subnet = g_steal_pointer (&canonical);
      }
  }
  if (g_key_file_has_key (kf, "network", "nat", NULL))
    {
      gboolean v = g_key_file_get_boolean (kf, "network", "nat", &local);
      if (local != NULL)
        return bad (error, path, "network", "nat", "must be true or false");
      c->nat = v;
    }
  if (!banger_engine_config_load_reach (c, kf, path, error))
    return FALSE;
  if (g_key_file_has_key (kf, "pool", "taps", NULL))
    {
      gint v = g_key_file_get_integer (kf, "pool", "taps", &local);
      if (local != NULL || v < 0 || v > 256)
        return bad (error, path, "pool", "taps", "must be an integer 0-256");
      c->taps = (guint)v;
    }
  if (g_key_file_has_key (kf, "guest", "ssh-timeout-ms", NULL))
    {
      gint v = g_key_file_get_integer (kf, "guest", "ssh-timeout-ms", &local);
      if (local != NULL || v < 1000 || v > 3600000)
        return bad (error, path, "guest", "ssh-timeout-ms", "must be an integer 1000-3600000");
      c->ssh_timeout_ms = (guint)v;
    }
  if (g_key_file_has_key (kf, "guest", "ssh-resend-ms", NULL))
    {
      gint v = g_key_file_get_integer (kf, "guest", "ssh-resend-ms", &local);
      if (local != NULL || v < 0 || v > 60000)
        return bad (error, path, "guest", "ssh-resend-ms", "must be an integer 0-60000");
      c->ssh_resend_ms = (guint)v;
    }
  if (g_key_file_has_key (kf, "guest", "wait-ssh", NULL))
    {
      gboolean v = g_key_file_get_boolean (kf, "guest", "wait-ssh", &local);
      if (local != NULL)
        return bad (error, path, "guest", "wait-ssh", "must be true or false");
      c->wait_ssh = v;
    }
  {
    g_autofree char *v = g_key_file_get_string (kf, "host", "nft-table", NULL);
    if (v != NULL)
      {
        g_free (c->nft_table);
        c->nft_table = g_steal_pointer (&v);
      }
  }
  return banger_engine_registries_load (c->registries, kf, path, error);
}

char *
banger_engine_default_state_dir (void)
{
  const char *env = g_getenv ("BANGER_STATE_DIR");
  const char *xdg = g_getenv ("XDG_STATE_HOME");

  if (env != NULL && env[0] != '\0')
    return g_strdup (env);
  if (xdg != NULL && g_path_is_absolute (xdg))
    return g_build_filename (xdg, "banger", NULL);
  return g_build_filename (g_get_home_dir (), ".local", "state", "banger", NULL);
}

char *
banger_engine_default_runtime_dir (void)
{
  const char *env = g_getenv ("BANGER_RUNTIME_DIR");
  const char *xdg = g_getenv ("XDG_RUNTIME_DIR");

  if (env != NULL && env[0] != '\0')
    return g_strdup (env);
  if (xdg != NULL && g_path_is_absolute (xdg))
    return g_build_filename (xdg, "banger", NULL);
  if (getuid () == 0)
    return g_strdup ("/run/banger");
  return g_strdup_printf ("/tmp/banger-%u", (unsigned)getuid ());
}

char *
banger_engine_default_socket (void)
{
  const char *env = g_getenv ("BANGER_SOCKET");
  g_autofree char *dir = NULL;

  if (env != NULL && env[0] != '\0')
    return g_strdup (env);
  dir = banger_engine_default_runtime_dir ();
  return g_build_filename (dir, "bangerd.sock", NULL);
}
