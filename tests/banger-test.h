/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Shared glue for the libcheck suites: every suite executable prints TAP on
 * stdout for meson's `protocol: 'tap'`. */
#pragma once

#include <check.h>
#include <stdlib.h>

#include <glib.h>

#include <unistd.h>

/* Run @suite (taking it) with TAP on stdout; the process exit status. */
static inline int
banger_test_run (Suite *suite)
{
  SRunner *sr = srunner_create (suite);
  int failed;

  g_setenv ("G_DEBUG", "fatal-warnings,fatal-criticals", TRUE);
  srunner_set_tap (sr, "-");
  srunner_run_all (sr, CK_SILENT);
  failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

#define BANGER_TEST_MAIN(suite_fn)                                                             \
  int main (void)                                                                              \
  {                                                                                            \
    return banger_test_run (suite_fn ());                                                      \
  }

/* A root-only suite: skipped (TAP "1..0 # SKIP") for other users. */
#define BANGER_TEST_MAIN_ROOT(suite_fn, why)                                                   \
  int main (void)                                                                              \
  {                                                                                            \
    if (geteuid () != 0)                                                                       \
      {                                                                                        \
        g_print ("1..0 # SKIP needs root (%s)\n", why);                                        \
        return EXIT_SUCCESS;                                                                   \
      }                                                                                        \
    return banger_test_run (suite_fn ());                                                      \
  }

/* Assert a GError of BANGER_ERROR with the given code. */
#define banger_assert_error(err, code_)                                                        \
  do                                                                                           \
    {                                                                                          \
      ck_assert_msg ((err) != NULL, "expected an error, got none");                            \
      ck_assert_msg ((err)->domain == BANGER_ERROR && (err)->code == (int) (code_),            \
                     "expected BANGER_ERROR %d, got %s %d: %s", (int) (code_),                 \
                     g_quark_to_string ((err)->domain), (err)->code, (err)->message);          \
    }                                                                                          \
  while (0)
