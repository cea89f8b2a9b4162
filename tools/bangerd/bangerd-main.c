/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * bangerd: the engine behind a unix socket (doc/daemon.md).  The socket
 * speaks the privileged protocol's framing (NUL-terminated JSON, the same
 * limits) with the engine's method table; it admits only this process's
 * uid and root (SO_PEERCRED), mode 0600 in a 0700 directory.  Privileged
 * work goes to bangerd-root ([helper] socket=) or, as root, to the
 * in-process executor. */
#include "config.h"

#include <errno.h>
#include <locale.h>
#include <signal.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib-unix.h>
#include <glib/gstdio.h>

#include "banger-engine-ops.h"
#include "banger-engine.h"
#include "banger-error.h"
#include "banger-priv-executor.h"
#include "banger-priv-server.h"

static gboolean
on_quit_signal (gpointer user_data)
{
  g_main_loop_quit (user_data);
  return G_SOURCE_REMOVE;
}

/* The socket's directory: made 0700 if absent; an existing one must be ours
 * and not group/other-accessible. */
static gboolean
prepare_socket_dir (const char *socket_path, GError **error)
{
  g_autofree char *dir = g_path_get_dirname (socket_path);
  GStatBuf st;

  if (g_mkdir_with_parents (dir, 0700) < 0)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_FAILED, "Cannot create '%s': %s", dir,
                   g_strerror (errno));
      return FALSE;
    }
  if (g_lstat (dir, &st) < 0 || !S_ISDIR (st.st_mode) || st.st_uid != getuid ()
      || (st.st_mode & 077) != 0)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_PERMISSION_DENIED,
                   "The socket directory '%s' must be a directory of uid %u with mode 0700", dir,
                   (unsigned)getuid ());
      return FALSE;
    }
  return TRUE;
}

int
main (int argc, char **argv)
{
  g_autoptr (GOptionContext) ctx = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (BangerEngineConfig) config = banger_engine_config_new ();
  g_autoptr (BangerEngine) engine = NULL;
  g_autoptr (BangerPrivServer) server = NULL;
  g_autoptr (GMainLoop) loop = NULL;
  BangerPrivState *state;
  /* 64 connections per uid: a client is one connection carrying its calls one
   * at a time, and a subscriber holds one more (bench: 20 parallel creates) */
  BangerPrivServerLimits limits = { 64, 5000, 600000 };
  gboolean version = FALSE;
  g_autofree char *socket_path = NULL;
  g_autofree char *config_path = NULL;
  g_autofree char *state_dir = NULL;
  g_autofree char *runtime_dir = NULL;
  GOptionEntry entries[] = {
    { "config", 'c', 0, G_OPTION_ARG_FILENAME, &config_path,
      "Read this config file (default: $BANGER_CONFIG, else none)", "FILE" },
    { "state-dir", 0, 0, G_OPTION_ARG_FILENAME, &state_dir,
      "Keep the store, images, kernels and disks here (default: $BANGER_STATE_DIR, else "
      "$XDG_STATE_HOME/banger)",
      "DIR" },
    { "runtime-dir", 0, 0, G_OPTION_ARG_FILENAME, &runtime_dir,
      "Keep sockets and VM run dirs here (default: $BANGER_RUNTIME_DIR, else "
      "$XDG_RUNTIME_DIR/banger)",
      "DIR" },
    { "socket", 's', 0, G_OPTION_ARG_FILENAME, &socket_path,
      "Listen on this unix socket (default: <runtime dir>/bangerd.sock)", "PATH" },
    { "version", 0, 0, G_OPTION_ARG_NONE, &version, "Print the version and exit", NULL },
    { NULL },
  };

  setlocale (LC_ALL, "");
  ctx = g_option_context_new ("- the banger daemon");
  g_option_context_set_summary (ctx, "Serves banger's engine (VMs, images, kernels) on a unix "
                                     "socket for the banger CLI and BangerClient.");
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      g_printerr ("bangerd: %s\n", error->message);
      return 2;
    }
  if (version)
    {
      g_print ("bangerd %s\n", PACKAGE_VERSION);
      return 0;
    }
  if (config_path == NULL && g_getenv ("BANGER_CONFIG") != NULL && g_getenv ("BANGER_CONFIG")[0])
    config_path = g_strdup (g_getenv ("BANGER_CONFIG"));
  if (config_path != NULL && !banger_engine_config_load (config, config_path, &error))
    {
      g_printerr ("bangerd: %s\n", error->message);
      return 1;
    }
  config->state_dir = state_dir ? g_strdup (state_dir) : banger_engine_default_state_dir ();
  config->runtime_dir = runtime_dir ? g_strdup (runtime_dir) : banger_engine_default_runtime_dir ();
  if (socket_path == NULL)
    socket_path = g_build_filename (config->runtime_dir, "bangerd.sock", NULL);

  signal (SIGPIPE, SIG_IGN);
  if (!prepare_socket_dir (socket_path, &error))
    {
      g_printerr ("bangerd: %s\n", error->message);
      return 1;
    }
  engine = banger_engine_new (g_steal_pointer (&config), &error);
  if (engine == NULL)
    {
      g_printerr ("bangerd: %s\n", error->message);
      return 1;
    }
  state = banger_engine_ops_state_new (engine);
  server = banger_priv_server_new (banger_engine_ops_table (), state, &limits);
  if (!banger_priv_server_listen_path (server, socket_path, getuid (), getgid (), &error))
    {
      g_printerr ("bangerd: %s\n", error->message);
      banger_priv_state_free (state);
      return 1;
    }
  g_message ("bangerd %s: serving on %s (state %s, privileged work: %s)", PACKAGE_VERSION,
             socket_path, banger_engine_get_config (engine)->state_dir,
             banger_priv_backend_describe (banger_engine_get_backend (engine)));
  loop = g_main_loop_new (NULL, FALSE);
  g_unix_signal_add (SIGTERM, on_quit_signal, loop);
  g_unix_signal_add (SIGINT, on_quit_signal, loop);
  banger_priv_server_start (server);
  g_main_loop_run (loop);
  banger_priv_server_stop (server);
  g_clear_object (&server);
  banger_priv_state_free (state);
  g_unlink (socket_path);
  g_message ("bangerd: stopped");
  return 0;
}
