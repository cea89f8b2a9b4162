/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * bangerd-root: the privileged helper.  It links only core and priv (and the
 * host operations), never the daemon or the image code. */
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
      "Listen on this unix socket (default: /run/banger/bangerd-root.sock)", "PATH" },
    { "version", 0, 0, G_OPTION_ARG_NONE, &version, "Print the version and exit", NULL },
    { NULL },
  };

  setlocale (LC_ALL, "");
  ctx = g_option_context_new ("- the banger privileged helper");
  g_option_context_set_summary (ctx, "Runs as root; performs a short list of validated host "
                                     "operations for the banger owner daemon.");
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
  g_printerr ("bangerd-root: the privileged protocol is not built into version %s yet\n",
              PACKAGE_VERSION);
  return 2;
}
