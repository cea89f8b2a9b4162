/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * bangerd: the owner daemon.  Its services arrive with the daemon issue;
 * today it parses its options and refuses to pretend it serves. */
#include "config.h"

#include <locale.h>

#include <gio/gio.h>

#include "banger-error.h"

int
main (int argc, char **argv)
{
  g_autoptr (GOptionContext) ctx = NULL;
  g_autoptr (GError) error = NULL;
  gboolean version = FALSE;
  g_autofree char *socket_path = NULL;
  GOptionEntry entries[] = {
    { "socket", 's', 0, G_OPTION_ARG_FILENAME, &socket_path,
      "Listen on this unix socket (default: $XDG_RUNTIME_DIR/banger/bangerd.sock)", "PATH" },
    { "version", 0, 0, G_OPTION_ARG_NONE, &version, "Print the version and exit", NULL },
    { NULL },
  };

  setlocale (LC_ALL, "");
  ctx = g_option_context_new ("- the banger owner daemon");
  g_option_context_set_summary (ctx, "Runs as the owner user; serves banger's API on a unix "
                                     "socket and asks bangerd-root for privileged work.");
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
  g_printerr ("bangerd: the daemon's services are not built into version %s yet\n",
              PACKAGE_VERSION);
  return 2;
}
