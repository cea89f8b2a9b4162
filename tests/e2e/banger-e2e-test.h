/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The libcheck side of the e2e kit (kit/banger-e2e-kit.h) for the suites
 * in tests/e2e/: the same steps, each failing the test (ck_assert) where
 * the kit returns an error; the CLI runner; JSON and host counters the
 * cases share; a main that cleans up whichever way the tests end (CK_FORK
 * or CK_NOFORK, a failed assertion included).  Root only. */
#pragma once

#include <json-glib/json-glib.h>

#include "banger-e2e-kit.h"
#include "banger-test.h"

G_BEGIN_DECLS

/* banger_e2e_env_new, then (unless @no_daemon) bangerd started and
 * listening; fails the test otherwise. */
BangerE2eEnv *banger_e2e_test_env_new (const BangerE2eOptions *options, gboolean no_daemon);
/* The common case: bangerd as root in a namespace of its own
 * (BANGER_E2E_DEPLOY_ROOT) on @subnet, listening. */
BangerE2eEnv *banger_e2e_test_env_root (const char *prefix, const char *subnet);
/* Start bangerd again (after it was stopped or killed) and wait for it. */
void banger_e2e_test_start_daemon (BangerE2eEnv *env);
/* kill -9 of bangerd (no clean-up of its own), then a fresh one on the
 * same state: it reconciles at start. */
void banger_e2e_test_crash_and_restart (BangerE2eEnv *env);

/* @argv (argv[0] looked up in PATH) must exit 0. */
void banger_e2e_run_ok (const char *const *argv);

/* The CLI against @env's bangerd (inside the namespace when
 * env->cli_in_ns), the NULL-terminated arguments after @err (leading
 * "--json" go before --socket); stdout/stderr in @out/@err (nullable).
 * Its exit status (128 + signal when killed); fails the test when it
 * cannot be spawned. */
int banger_e2e_cli (BangerE2eEnv *env, char **out, char **err, ...) G_GNUC_NULL_TERMINATED;
int banger_e2e_cli_va (BangerE2eEnv *env, char **out, char **err, va_list ap);
/* The same with the arguments in an array. */
int banger_e2e_cli_v (BangerE2eEnv *env, char **out, char **err, const char *const *args);

/* Kernel "k" and image "guest" from these files, through the CLI. */
void banger_e2e_test_import_guest (BangerE2eEnv *env, const char *kernel, const char *initrd,
                                   const char *rootfs);

/* @text parsed (the test fails when it is not JSON). */
JsonNode *banger_e2e_parse_json (const char *text);
/* error.code of the CLI's --json error output. */
char *banger_e2e_error_code_of (const char *json_out);

/* Links of @env's namespace whose name starts with @prefix. */
guint banger_e2e_count_links (BangerE2eEnv *env, const char *prefix);
/* ... with "bngt" (VM taps). */
guint banger_e2e_count_taps (BangerE2eEnv *env);
/* Subdirectories of @path (0 when it is absent). */
guint banger_e2e_count_subdirs (const char *path);

/* The kit's sweep after each test (CK_NOFORK: in the test's process, a
 * failed one included) and after the test case (in the runner: what a
 * forked test that failed left). */
void banger_e2e_tcase_add_cleanup (TCase *tc);

/* Run @suite (taking it) with TAP on stdout, as banger_test_run does, with
 * @fork_status; the kit's cleanup set up before and swept after.  The
 * process exit status. */
int banger_e2e_test_run (Suite *suite, enum fork_status fork_status);

/* main() of a root-only e2e suite (skipped, or failed under CI, for other
 * users). */
#define BANGER_E2E_TEST_MAIN(suite_fn, fork_status, why)                                           \
  int main (void)                                                                                  \
  {                                                                                                \
    if (geteuid () != 0)                                                                           \
      return banger_test_skip_suite ("needs root (" why ")");                                      \
    return banger_e2e_test_run (suite_fn (), fork_status);                                         \
  }

G_END_DECLS
