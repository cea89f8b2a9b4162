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

/* Skips must not pass silently where the full suite is expected: under CI
 * (CI=true) or with BANGER_TEST_REQUIRE=root (or =all), a suite or test that
 * would skip for lack of root, a program or a module FAILS instead.  See
 * README, "Tests". */
static inline gboolean
banger_test_skips_fail (void)
{
  const char *ci = g_getenv ("CI");
  const char *req = g_getenv ("BANGER_TEST_REQUIRE");

  return g_strcmp0 (ci, "true") == 0 || g_strcmp0 (ci, "1") == 0
         || (req != NULL && req[0] != '\0');
}

/* The whole suite cannot run here (@why): TAP "1..0 # SKIP why" and exit 0,
 * or, when skips fail, one failed test point and exit 1.  Returns the
 * process exit status. */
static inline int
banger_test_skip_suite (const char *why)
{
  if (banger_test_skips_fail ())
    {
      g_print ("1..1\nnot ok 1 - not run: %s (CI=true or BANGER_TEST_REQUIRE set: a skip "
               "is a failure)\n",
               why);
      return EXIT_FAILURE;
    }
  g_print ("1..0 # SKIP %s\n", why);
  return EXIT_SUCCESS;
}

/* Inside a test: a part of it cannot run here (@why).  Returns TRUE (the
 * caller then returns) and says so on the TAP stream's diagnostics, or fails
 * the test when skips fail. */
static inline gboolean
banger_test_skip_part (const char *why)
{
  ck_assert_msg (!banger_test_skips_fail (),
                 "not run: %s (CI=true or BANGER_TEST_REQUIRE set: a skip is a failure)", why);
  g_printerr ("# part not run: %s\n", why);
  return TRUE;
}

/* A root-only suite: skipped for other users (failed when skips fail). */
#define BANGER_TEST_MAIN_ROOT(suite_fn, why)                                                   \
  int main (void)                                                                              \
  {                                                                                            \
    if (geteuid () != 0)                                                                       \
      return banger_test_skip_suite ("needs root (" why ")");                                  \
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
