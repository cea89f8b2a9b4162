/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The [registries] config group (see banger-engine-registries.h). */
#include "config.h"

#include <string.h>

#include "banger-engine-registries.h"
#include "banger-error.h"
#include "banger-quote.h"

BangerEngineRegistries *
banger_engine_registries_new (void)
{
  BangerEngineRegistries *r = g_new0 (BangerEngineRegistries, 1);

  r->insecure = g_new0 (char *, 1);
  r->mirrors = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  return r;
}

void
banger_engine_registries_free (BangerEngineRegistries *r)
{
  if (r == NULL)
    return;
  g_strfreev (r->insecure);
  g_hash_table_unref (r->mirrors);
  g_free (r->ca_file);
  g_free (r->auth_file);
  g_free (r);
}

gboolean
banger_engine_registries_valid_host (const char *text)
{
  const char *colon;
  const char *host_end;

  if (text == NULL || text[0] == '\0' || strlen (text) > 255)
    return FALSE;
  if (text[0] == '[')
    {
      const char *close = strchr (text, ']');
      if (close == NULL || close == text + 1)
        return FALSE;
      for (const char *p = text + 1; p < close; p++)
        if (!g_ascii_isxdigit (*p) && *p != ':' && *p != '.')
          return FALSE;
      host_end = close + 1;
      if (*host_end == '\0')
        return TRUE;
      if (*host_end != ':')
        return FALSE;
      colon = host_end;
    }
  else
    {
      colon = strchr (text, ':');
      host_end = colon ? colon : text + strlen (text);
      if (host_end == text || text[0] == '-' || text[0] == '.')
        return FALSE;
      for (const char *p = text; p < host_end; p++)
        if (!g_ascii_isalnum (*p) && *p != '.' && *p != '-')
          return FALSE;
      if (colon == NULL)
        return TRUE;
    }
  {
    guint64 port = 0;
    if (colon[1] == '\0' || strlen (colon + 1) > 5)
      return FALSE;
    for (const char *p = colon + 1; *p; p++)
      if (!g_ascii_isdigit (*p))
        return FALSE;
    port = g_ascii_strtoull (colon + 1, NULL, 10);
    return port >= 1 && port <= 65535;
  }
}

static gboolean
bad (GError **error, const char *path, const char *key, const char *entry, const char *why)
{
  g_autofree char *quoted = banger_quote (entry);

  g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
               "%s: [registries] %s: '%s' %s", path, key, quoted, why);
  return FALSE;
}

static gboolean
take_path (GKeyFile *kf, const char *path, const char *key, char **slot, GError **error)
{
  g_autofree char *v = g_key_file_get_string (kf, "registries", key, NULL);

  if (v == NULL)
    return TRUE;
  if (!g_path_is_absolute (v))
    return bad (error, path, key, v, "is not an absolute path");
  g_free (*slot);
  *slot = g_steal_pointer (&v);
  return TRUE;
}

gboolean
banger_engine_registries_load (BangerEngineRegistries *r, GKeyFile *kf, const char *path,
                               GError **error)
{
  if (g_key_file_has_key (kf, "registries", "insecure", NULL))
    {
      g_auto (GStrv) list = g_key_file_get_string_list (kf, "registries", "insecure", NULL, NULL);
      g_autoptr (GStrvBuilder) b = g_strv_builder_new ();
      guint n = 0;

      for (guint i = 0; list && list[i]; i++)
        {
          g_strstrip (list[i]);
          if (list[i][0] == '\0')
            continue;
          if (!banger_engine_registries_valid_host (list[i]))
            return bad (error, path, "insecure", list[i], "is not HOST or HOST:PORT");
          if (++n > BANGER_ENGINE_REGISTRIES_MAX)
            return bad (error, path, "insecure", list[i], "is one entry too many (at most 64)");
          g_strv_builder_add (b, list[i]);
        }
      g_strfreev (r->insecure);
      r->insecure = g_strv_builder_end (b);
    }
  if (g_key_file_has_key (kf, "registries", "mirrors", NULL))
    {
      g_auto (GStrv) list = g_key_file_get_string_list (kf, "registries", "mirrors", NULL, NULL);

      g_hash_table_remove_all (r->mirrors);
      for (guint i = 0; list && list[i]; i++)
        {
          char *eq;
          g_strstrip (list[i]);
          if (list[i][0] == '\0')
            continue;
          eq = strchr (list[i], '=');
          if (eq == NULL)
            return bad (error, path, "mirrors", list[i], "is not REGISTRY=HOST[:PORT]");
          *eq = '\0';
          if (!banger_engine_registries_valid_host (list[i])
              || !banger_engine_registries_valid_host (eq + 1))
            {
              *eq = '=';
              return bad (error, path, "mirrors", list[i], "is not REGISTRY=HOST[:PORT]");
            }
          if (g_hash_table_size (r->mirrors) >= BANGER_ENGINE_REGISTRIES_MAX)
            return bad (error, path, "mirrors", list[i], "is one entry too many (at most 64)");
          g_hash_table_replace (r->mirrors, g_strdup (list[i]), g_strdup (eq + 1));
        }
    }
  return take_path (kf, path, "ca", &r->ca_file, error)
         && take_path (kf, path, "auth-file", &r->auth_file, error);
}

const char *
banger_engine_registries_get_mirror (const BangerEngineRegistries *r, const char *registry)
{
  return g_hash_table_lookup (r->mirrors, registry);
}

gboolean
banger_engine_registries_apply (const BangerEngineRegistries *r, BangerRegistryClient *client,
                                GError **error)
{
  banger_registry_client_set_insecure_hosts (client, (const char *const *)r->insecure);
  if (r->ca_file != NULL)
    {
      g_autoptr (GError) local = NULL;
      g_autoptr (GTlsDatabase) db = g_tls_file_database_new (r->ca_file, &local);
      if (db == NULL)
        {
          g_autofree char *quoted = banger_quote (r->ca_file);
          g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                       "[registries] ca: cannot read CAs from '%s': %s", quoted, local->message);
          return FALSE;
        }
      banger_registry_client_set_tls_database (client, db);
    }
  if (r->auth_file != NULL)
    return banger_registry_client_load_credentials_file (client, r->auth_file, error);
  {
    /* $HOME as it is now (g_get_home_dir() keeps the first value it saw) */
    const char *home = g_getenv ("HOME");
    g_autofree char *docker = g_build_filename (home && g_path_is_absolute (home)
                                                    ? home
                                                    : g_get_home_dir (),
                                                ".docker", "config.json", NULL);
    const char *xdg = g_getenv ("XDG_RUNTIME_DIR");
    g_autofree char *containers
        = xdg && g_path_is_absolute (xdg)
              ? g_build_filename (xdg, "containers", "auth.json", NULL)
              : NULL;

    if (g_file_test (docker, G_FILE_TEST_IS_REGULAR)
        && !banger_registry_client_load_credentials_file (client, docker, error))
      return FALSE;
    if (containers != NULL && g_file_test (containers, G_FILE_TEST_IS_REGULAR)
        && !banger_registry_client_load_credentials_file (client, containers, error))
      return FALSE;
  }
  return TRUE;
}
