/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * banger_validate_signal_name: never crashes, and whatever it accepts maps to
 * one of the eight allowed signals. */
#include "fuzz-common.h"

#include <signal.h>

#include "banger-error.h"
#include "banger-signal.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autofree char *name = fuzz_cstring (data, size);
  g_autoptr (GError) error = NULL;
  int signo = -1;

  if (banger_validate_signal_name (name, &signo, &error))
    {
      FUZZ_ASSERT (error == NULL);
      FUZZ_ASSERT (signo == SIGTERM || signo == SIGKILL || signo == SIGINT || signo == SIGHUP
                   || signo == SIGQUIT || signo == SIGUSR1 || signo == SIGUSR2
                   || signo == SIGABRT);
      /* No whitespace, no digits other than the 1/2 of USR1/USR2. */
      for (const char *p = name; *p; p++)
        FUZZ_ASSERT (g_ascii_isalpha (*p) || *p == '1' || *p == '2');
    }
  else
    {
      FUZZ_ASSERT (error != NULL && error->domain == BANGER_ERROR);
      FUZZ_ASSERT (signo == -1);
      FUZZ_ASSERT (g_utf8_validate (error->message, -1, NULL));
    }
  return 0;
}
