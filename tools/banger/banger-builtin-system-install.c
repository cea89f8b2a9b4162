/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * banger system install --owner USER: writes the install config
 * (doc/install-config.md) that tells bangerd-root who owns this installation
 * and which fixed binaries it may run, and the systemd drop-in that makes the
 * helper's socket the owner's.  Root only. */
#include "config.h"

#include <errno.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include "banger-builtins.h"
#include "banger-error-private.h"
#include "banger-install-config.h"
#include "banger-quote.h"
#include "banger-system-ssh-config.h"

/* A binary bangerd-root will run as root: absolute, a regular executable,
 * owned by root and writable by nobody else. */
static gboolean
check_root_binary (const char *what, const char *path, GError **error)
{
  struct stat st;

  if (path[0] != '/')
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   "The %s path '%s' must be absolute", what, path);
      return FALSE;
    }
  if (stat (path, &st) < 0)
    return banger_set_error_from_errno (error, errno, "The %s binary '%s'", what, path);
  if (!S_ISREG (st.st_mode) || (st.st_mode & 0111) == 0)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   "The %s binary '%s' is not an executable file", what, path);
      return FALSE;
    }
  if (st.st_uid != 0 || (st.st_mode & (S_IWGRP | S_IWOTH)) != 0)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_PERMISSION_DENIED,
                   "The %s binary '%s' must be owned by root and writable only by root: "
                   "bangerd-root runs it as root",
                   what, path);
      return FALSE;
    }
  return TRUE;
}

/* The first of @candidates that exists, or NULL. */
static char *
find_fixed (const char *const *candidates)
{
  for (const char *const *c = candidates; *c; c++)
    if (g_file_test (*c, G_FILE_TEST_IS_EXECUTABLE))
      return g_strdup (*c);
  return NULL;
}

static gboolean
write_socket_dropin (const char *unit_dir, const BangerInstallConfig *config, char **out_path,
                     GError **error)
{
  g_autofree char *dir = g_build_filename (unit_dir, "bangerd-root.socket.d", NULL);
  g_autofree char *path = g_build_filename (dir, "owner.conf", NULL);
  g_autofree char *text = NULL;
  GError *local = NULL;

  text = g_strdup_printf ("# Written by 'banger system install': the helper's socket belongs\n"
                          "# to the owner (mode 0600 comes from bangerd-root.socket).\n"
                          "[Socket]\nSocketUser=%u\nSocketGroup=%u\n",
                          (guint) config->owner_uid, (guint) config->owner_gid);
  if (g_mkdir_with_parents (dir, 0755) < 0)
    return banger_set_error_from_errno (error, errno, "Cannot create '%s'", dir);
  if (!g_file_set_contents_full (path, text, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0644, &local))
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_FAILED, "%s", local->message);
      g_error_free (local);
      return FALSE;
    }
  *out_path = g_steal_pointer (&path);
  return TRUE;
}

int
banger_builtin_system_install (int argc, char **argv, BangerCliGlobals *globals)
{
  g_autoptr (GOptionContext) ctx = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (BangerInstallConfig) config = banger_install_config_new ();
  g_autofree char *owner = NULL;
  g_autofree char *config_path = NULL;
  g_autofree char *prefix_config = NULL;
  g_autofree char *runtime_dir = NULL;
  g_autofree char *state_dir = NULL;
  g_autofree char *firecracker = NULL;
  g_autofree char *jailer = NULL;
  g_autofree char *qemu = NULL;
  g_autofree char *nft_table = NULL;
  g_autofree char *vm_network = NULL;
  g_autofree char *unit_dir = NULL;
  g_autofree char *dropin = NULL;
  g_autofree char *config_dir = NULL;
  gboolean no_systemd = FALSE;
  gboolean no_ssh_config = FALSE;
  g_autofree char *ssh_include = NULL;
  struct passwd *pw;
  const char *path;
  const char *const firecracker_candidates[] = { "/usr/bin/firecracker",
                                                 "/usr/local/bin/firecracker", NULL };
  const char *const jailer_candidates[] = { "/usr/bin/jailer", "/usr/local/bin/jailer", NULL };
  const char *const qemu_candidates[] = { "/usr/bin/qemu-system-x86_64", NULL };
  GOptionEntry entries[] = {
    { "owner", 0, 0, G_OPTION_ARG_STRING, &owner, "The user who owns this installation (required)", "USER" },
    { "config", 0, 0, G_OPTION_ARG_FILENAME, &config_path,
      "Where to write the install config (default: " BANGER_SYSCONFDIR "/banger/install.conf)", "PATH" },
    { "prefix-config", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_FILENAME, &prefix_config,
      "Same as --config", "PATH" },
    { "runtime-dir", 0, 0, G_OPTION_ARG_FILENAME, &runtime_dir, "Runtime directory (default /run/banger)", "DIR" },
    { "state-dir", 0, 0, G_OPTION_ARG_FILENAME, &state_dir, "State directory (default /var/lib/banger)", "DIR" },
    { "firecracker", 0, 0, G_OPTION_ARG_FILENAME, &firecracker, "Firecracker binary (default: /usr/bin or /usr/local/bin if present)", "PATH" },
    { "jailer", 0, 0, G_OPTION_ARG_FILENAME, &jailer, "Jailer binary (default: next to firecracker's usual places, if present)", "PATH" },
    { "qemu", 0, 0, G_OPTION_ARG_FILENAME, &qemu, "qemu-system-x86_64 binary (default: /usr/bin, if present)", "PATH" },
    { "nft-table", 0, 0, G_OPTION_ARG_STRING, &nft_table, "banger's own nftables table (default banger)", "NAME" },
    { "vm-network", 0, 0, G_OPTION_ARG_STRING, &vm_network, "The IPv4 network tap and bridge addresses must lie in (default " BANGER_INSTALL_DEFAULT_VM_NETWORK ")", "A.B.C.D/LEN" },
    { "unit-dir", 0, 0, G_OPTION_ARG_FILENAME, &unit_dir, "Where the socket's owner drop-in goes (default /etc/systemd/system)", "DIR" },
    { "no-systemd", 0, 0, G_OPTION_ARG_NONE, &no_systemd, "Do not write the systemd drop-in", NULL },
    { "no-ssh-config", 0, 0, G_OPTION_ARG_NONE, &no_ssh_config, "Do not add the Include line to the owner's ~/.ssh/config", NULL },
    { "ssh-config-include", 0, 0, G_OPTION_ARG_FILENAME, &ssh_include, "The ssh_config of the owner's bangerd to include (default ~OWNER/.local/state/banger/ssh/config)", "PATH" },
    { NULL },
  };

  ctx = g_option_context_new ("- install banger's configuration for an owner");
  g_option_context_set_summary (ctx, "Writes the install config bangerd-root reads (who may call "
                                     "it, which binaries it runs) and the drop-in that gives the "
                                     "owner the helper's socket.  Must run as root.");
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      g_printerr ("banger system install: %s\n", error->message);
      return BANGER_EXIT_USAGE;
    }
  if (argc > 1 || owner == NULL)
    {
      g_printerr ("banger system install: %s\n",
                  argc > 1 ? "unexpected argument" : "--owner USER is required");
      return BANGER_EXIT_USAGE;
    }

  if (geteuid () != 0)
    {
      g_set_error (&error, BANGER_ERROR, BANGER_ERROR_PERMISSION_DENIED,
                   "banger system install must run as root");
      return banger_cli_report_error (globals, "system install", error);
    }
  errno = 0;
  pw = getpwnam (owner);
  if (pw == NULL)
    {
      g_autofree char *q = banger_quote (owner);
      g_set_error (&error, BANGER_ERROR, BANGER_ERROR_NOT_FOUND, "There is no user '%s'%s%s", q,
                   errno ? ": " : "", errno ? g_strerror (errno) : "");
      return banger_cli_report_error (globals, "system install", error);
    }

  config->owner_user = g_strdup (pw->pw_name);
  config->owner_uid = pw->pw_uid;
  config->owner_gid = pw->pw_gid;
  if (runtime_dir)
    {
      g_free (config->runtime_dir);
      config->runtime_dir = g_strdup (runtime_dir);
    }
  if (state_dir)
    {
      g_free (config->state_dir);
      config->state_dir = g_strdup (state_dir);
    }
  if (nft_table)
    {
      g_free (config->nft_table);
      config->nft_table = g_strdup (nft_table);
    }
  if (vm_network)
    {
      g_free (config->vm_network);
      config->vm_network = g_strdup (vm_network);
    }
  /* A fresh id per install: every host object name banger derives, and
   * every ownership marker, carries it (two installs on one host never
   * touch each other's objects). */
  config->install_id = g_strdup_printf ("%06x", g_random_int () & 0xffffff);
  config->firecracker_path = firecracker ? g_strdup (firecracker) : find_fixed (firecracker_candidates);
  config->jailer_path = jailer ? g_strdup (jailer) : find_fixed (jailer_candidates);
  config->qemu_path = qemu ? g_strdup (qemu) : find_fixed (qemu_candidates);
  config->socket_path = g_build_filename (config->runtime_dir, "bangerd-root.sock", NULL);

  if ((config->firecracker_path && !check_root_binary ("firecracker", config->firecracker_path, &error))
      || (config->jailer_path && !check_root_binary ("jailer", config->jailer_path, &error))
      || (config->qemu_path && !check_root_binary ("qemu", config->qemu_path, &error))
      || !banger_install_config_validate (config, &error))
    return banger_cli_report_error (globals, "system install", error);

  path = config_path ? config_path
                     : prefix_config ? prefix_config : banger_install_config_default_path ();
  config_dir = g_path_get_dirname (path);
  if (g_mkdir_with_parents (config_dir, 0755) < 0)
    {
      banger_set_error_from_errno (&error, errno, "Cannot create '%s'", config_dir);
      return banger_cli_report_error (globals, "system install", error);
    }
  if (!banger_install_config_save (config, path, &error))
    return banger_cli_report_error (globals, "system install", error);

  if (!no_systemd && (unit_dir != NULL || g_file_test ("/etc/systemd/system", G_FILE_TEST_IS_DIR)))
    {
      if (!write_socket_dropin (unit_dir ? unit_dir : "/etc/systemd/system", config, &dropin,
                                &error))
        return banger_cli_report_error (globals, "system install", error);
    }

  /* `ssh NAME.banger.internal` for the owner (doc/ssh.md): as the owner */
  if (!no_ssh_config && !banger_system_install_ssh_config (pw, ssh_include, !globals->json, &error))
    {
      /* not fatal: the helper's install is done; the owner can add it */
      g_printerr ("banger system install: note: %s; run 'banger ssh-config install' as %s\n",
                  error->message, pw->pw_name);
      g_clear_error (&error);
    }

  if (globals->json)
    {
      g_autoptr (JsonBuilder) b = json_builder_new ();
      g_autoptr (JsonGenerator) gen = json_generator_new ();
      g_autoptr (JsonNode) root = NULL;
      g_autofree char *out = NULL;

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "config");
      json_builder_add_string_value (b, path);
      json_builder_set_member_name (b, "owner");
      json_builder_add_string_value (b, config->owner_user);
      json_builder_set_member_name (b, "owner_uid");
      json_builder_add_int_value (b, config->owner_uid);
      json_builder_set_member_name (b, "socket_dropin");
      if (dropin)
        json_builder_add_string_value (b, dropin);
      else
        json_builder_add_null_value (b);
      json_builder_end_object (b);
      root = json_builder_get_root (b);
      json_generator_set_root (gen, root);
      out = json_generator_to_data (gen, NULL);
      g_print ("%s\n", out);
    }
  else
    {
      g_print ("Wrote %s (owner %s, uid %u).\n", path, config->owner_user, (guint) config->owner_uid);
      if (dropin)
        g_print ("Wrote %s; run 'systemctl daemon-reload && systemctl enable --now "
                 "bangerd-root.socket'.\n",
                 dropin);
    }
  return BANGER_EXIT_OK;
}
