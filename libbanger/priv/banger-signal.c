/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <signal.h>
#include <string.h>

#include "banger-error.h"
#include "banger-quote.h"
#include "banger-signal.h"

static const struct
{
  const char *name;
  int signo;
} allowed_signals[] = {
  { "TERM", SIGTERM }, { "KILL", SIGKILL }, { "INT", SIGINT },   { "HUP", SIGHUP },
  { "QUIT", SIGQUIT }, { "USR1", SIGUSR1 }, { "USR2", SIGUSR2 }, { "ABRT", SIGABRT },
};

/**
 * banger_validate_signal_name:
 * @name: (nullable): a signal name such as "TERM" or "SIGterm"
 * @out_signo: (out) (optional): the signal number, on success
 * @error: return location for a #GError
 *
 * Checks @name against banger's allowlist of signals that may be sent to a
 * VMM: TERM, KILL, INT, HUP, QUIT, USR1, USR2 and ABRT.  Matching is
 * ASCII-case-insensitive, with or without one `SIG` prefix.
 *
 * Everything else is refused with %BANGER_ERROR_INVALID_ARGUMENT and a
 * message quoting the input: other signals (STOP, CONT, TSTP …), real-time
 * signals (RTMIN, RTMAX, RTMIN+1 …), numbers in any form, whitespace
 * anywhere, the empty string, `SIG` alone, a doubled prefix and non-ASCII
 * bytes.
 *
 * Returns: %TRUE if @name is allowed.
 *
 * Since: 0.1
 */
gboolean
banger_validate_signal_name (const char *name, int *out_signo, GError **error)
{
  const char *bare;

  if (name != NULL)
    {
      bare = g_ascii_strncasecmp (name, "SIG", 3) == 0 ? name + 3 : name;
      for (gsize i = 0; i < G_N_ELEMENTS (allowed_signals); i++)
        {
          if (g_ascii_strcasecmp (bare, allowed_signals[i].name) == 0)
            {
              if (out_signo)
                *out_signo = allowed_signals[i].signo;
              return TRUE;
            }
        }
    }

  {
    g_autofree char *quoted = banger_quote (name);
    g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                 "Signal '%s' is not allowed (allowed: TERM, KILL, INT, HUP, QUIT, USR1, USR2, "
                 "ABRT, with or without 'SIG')",
                 quoted);
  }
  return FALSE;
}
