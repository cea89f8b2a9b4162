/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * bangerd-root: the privileged helper.  It links only core, priv (protocol,
 * executor, validators) and the host operations, never the daemon or the
 * image code.  It serves the privileged protocol (doc/protocol.md) on one
 * unix socket: the one systemd passes (bangerd-root.socket), or --socket, or
 * the install config's [helper] socket. */
#include "config.h"

#include <errno.h>
#include <locale.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib-unix.h>

#include "banger-error.h"
#include "banger-install-config.h"
#include "banger-priv-executor.h"
#include "banger-priv-ops.h"
#include "banger-priv-server.h"

static gboolean
on_quit_signal (gpointer user_data)
{
  g_main_loop_quit (user_data);
  return G_SOURCE_CONTINUE;
}

static gint reaping;

static void
reap_in_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  banger_priv_state_reap (task_data);
  g_atomic_int_set (&reaping, 0);
  g_task_return_boolean (task, TRUE);
}

/* Reap exited VMMs off the main thread: the registry's lock may be held by
 * a running operation, and the main loop must keep accepting meanwhile. */
static gboolean
on_reap (gpointer user_data)
{
  g_autoptr (GTask) task = NULL;

  if (!g_atomic_int_compare_and_exchange (&reaping, 0, 1))
    return G_SOURCE_CONTINUE;
  task = g_task_new (NULL, NULL, NULL, NULL);
  g_task_set_task_data (task, user_data, NULL);
  g_task_run_in_thread (task, reap_in_thread);
  return G_SOURCE_CONTINUE;
}

int
main (int argc, char **argv)
{
  g_autoptr (GOptionContext) ctx = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (BangerInstallConfig) config = NULL;
  g_autoptr (BangerPrivState) state = NULL;
  g_autoptr (BangerPrivServer) server = NULL;
  g_autoptr (GMainLoop) loop = NULL;
  BangerPrivServerLimits limits;
  gboolean version = FALSE;
  g_autofree char *socket_path = NULL;
  g_autofree char *config_path = NULL;
  int activation_fd;
  GOptionEntry entries[] = {
    { "config", 'c', 0, G_OPTION_ARG_FILENAME, &config_path,
      "The install config (default: " BANGER_SYSCONFDIR "/banger/install.conf)", "FILE" },
    { "socket", 's', 0, G_OPTION_ARG_FILENAME, &socket_path,
      "Listen on this unix socket (default: the config's [helper] socket, "
      "/run/banger/bangerd-root.sock); ignored under socket activation", "PATH" },
    { "version", 0, 0, G_OPTION_ARG_NONE, &version, "Print the version and exit", NULL },
    { NULL },
  };

  setlocale (LC_ALL, "");
  /* Files and sockets the helper creates are private unless made otherwise. */
  umask (0077);
  ctx = g_option_context_new ("- the banger privileged helper");
  g_option_context_set_summary (ctx, "Runs as root; performs a short list of validated host "
                                     "operations for the banger owner daemon.\n"
                                     "Protocol and limits: doc/protocol.md; threat model: "
                                     "doc/security.md.");
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      g_printerr ("bangerd-root: %s\n", error->message);
      return 2;
    }
  if (version)
    {
      g_print ("bangerd-root %s\n", PACKAGE_VERSION);
      return 0;
    }
  if (argc > 1)
    {
      g_printerr ("bangerd-root: unexpected argument '%s'\n", argv[1]);
      return 2;
    }
  if (geteuid () != 0)
    {
      g_printerr ("bangerd-root: must run as root\n");
      return 1;
    }

  /* The config decides who is trusted and which binaries run as root: it
   * must be root's alone. */
  config = banger_install_config_load (config_path ? config_path
                                                   : banger_install_config_default_path (),
                                       BANGER_INSTALL_CONFIG_LOAD_CHECK_OWNERSHIP, &error);
  if (config == NULL)
    {
      g_printerr ("bangerd-root: %s\n", error->message);
      return 1;
    }
  /* Root must never be locked out by the owner using up descriptors. */
  if (!banger_priv_server_check_fd_budget (config->max_connections_per_uid, config->max_vmms,
                                           &error))
    {
      g_printerr ("bangerd-root: %s\n", error->message);
      return 1;
    }
  /* A write to a client that went away must be an error, not a signal. */
  signal (SIGPIPE, SIG_IGN);

  state = banger_priv_state_new (config);
  limits = (BangerPrivServerLimits){
    .max_connections_per_uid = config->max_connections_per_uid,
    .message_timeout_ms = config->message_timeout_ms,
    .idle_timeout_ms = config->idle_timeout_ms,
  };
  server = banger_priv_server_new (banger_priv_ops_table (), state, &limits);

  activation_fd = banger_priv_server_take_activation_fd (&error);
  if (error != NULL)
    {
      g_printerr ("bangerd-root: %s\n", error->message);
      return 1;
    }
  if (activation_fd >= 0)
    {
      if (!banger_priv_server_listen_fd (server, activation_fd, &error))
        {
          g_printerr ("bangerd-root: %s\n", error->message);
          return 1;
        }
      g_message ("bangerd-root %s: serving the activation socket for uid %u", PACKAGE_VERSION,
                 (guint) config->owner_uid);
    }
  else
    {
      const char *path = socket_path ? socket_path : config->socket_path;
      if (!banger_priv_server_listen_path (server, path, config->owner_uid, config->owner_gid,
                                           &error))
        {
          g_printerr ("bangerd-root: %s\n", error->message);
          return 1;
        }
      g_message ("bangerd-root %s: serving %s for uid %u", PACKAGE_VERSION, path,
                 (guint) config->owner_uid);
    }

  loop = g_main_loop_new (NULL, FALSE);
  g_unix_signal_add (SIGTERM, on_quit_signal, loop);
  g_unix_signal_add (SIGINT, on_quit_signal, loop);
  g_timeout_add_seconds (5, on_reap, state);
  banger_priv_server_start (server);
  g_main_loop_run (loop);

  /* VMs keep running: they live in their own cgroups, and a restarted
   * helper adopts them (doc/security.md). */
  g_message ("bangerd-root: stopping");
  banger_priv_server_stop (server);
  while (g_atomic_int_get (&reaping))
    g_usleep (1000);
  return 0;
}
