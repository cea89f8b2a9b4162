/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * banger_proc_read_cmdline() against real processes, and the splitting rules
 * on crafted bytes. */
#include "config.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "banger.h"
#include "banger-proc-private.h"
#include "banger-test.h"

START_TEST (test_split_rules)
{
  g_auto (GStrv) a = banger_cmdline_split ("fc\0--api-sock\0/s\0", 17);
  g_auto (GStrv) b = banger_cmdline_split ("fc\0\0x\0", 6);
  g_auto (GStrv) c = banger_cmdline_split ("rewritten title", 15);
  g_auto (GStrv) d = banger_cmdline_split ("", 0);
  g_auto (GStrv) e = banger_cmdline_split ("a\0b", 3);

  ck_assert_uint_eq (g_strv_length (a), 3);
  ck_assert_str_eq (a[2], "/s");
  ck_assert_uint_eq (g_strv_length (b), 3);
  ck_assert_str_eq (b[1], "");
  ck_assert_str_eq (b[2], "x");
  ck_assert_uint_eq (g_strv_length (c), 1);
  ck_assert_str_eq (c[0], "rewritten title");
  ck_assert_uint_eq (g_strv_length (d), 0);
  ck_assert_uint_eq (g_strv_length (e), 2);
  ck_assert_str_eq (e[1], "b");
}
END_TEST

START_TEST (test_read_child)
{
  const char *argv[] = { "/bin/sh", "-c", "sleep 30; true", "sh", "", "--api-sock", "/run/x", NULL };
  g_autoptr (GError) error = NULL;
  GPid pid;
  g_auto (GStrv) got = NULL;

  ck_assert (g_spawn_async (NULL, (char **) argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL,
                            &pid, &error));
  /* wait for the exec to have happened */
  for (int i = 0; i < 500; i++)
    {
      g_clear_pointer (&got, g_strfreev);
      got = banger_proc_read_cmdline (pid, &error);
      ck_assert_ptr_nonnull (got);
      if (got[0] && g_str_equal (got[0], "/bin/sh"))
        break;
      g_usleep (2000);
    }
  ck_assert_uint_eq (g_strv_length (got), 7);
  for (int i = 0; argv[i]; i++)
    ck_assert_str_eq (got[i], argv[i]);
  {
    g_autofree char *sock = banger_extract_firecracker_api_sock ((const char *const *) got);
    ck_assert_str_eq (sock, "/run/x");
  }
  kill (pid, SIGKILL);
  waitpid (pid, NULL, 0);
  /* reaped: the pid is gone */
  g_clear_pointer (&got, g_strfreev);
  got = banger_proc_read_cmdline (pid, &error);
  ck_assert_ptr_null (got);
  banger_assert_error (error, BANGER_ERROR_NOT_FOUND);
}
END_TEST

START_TEST (test_read_bad_pids)
{
  g_autoptr (GError) error = NULL;
  ck_assert_ptr_null (banger_proc_read_cmdline (0, &error));
  banger_assert_error (error, BANGER_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  ck_assert_ptr_null (banger_proc_read_cmdline (-5, &error));
  banger_assert_error (error, BANGER_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  ck_assert_ptr_null (banger_proc_read_cmdline (G_MAXINT, &error));
  banger_assert_error (error, BANGER_ERROR_NOT_FOUND);
}
END_TEST

START_TEST (test_read_self)
{
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) got = banger_proc_read_cmdline (getpid (), &error);
  ck_assert_ptr_nonnull (got);
  ck_assert_ptr_nonnull (strstr (got[0], "test-proc"));
}
END_TEST

Suite *proc_suite (void);

Suite *
proc_suite (void)
{
  Suite *s = suite_create ("proc");
  TCase *tc = tcase_create ("cmdline");

  tcase_add_test (tc, test_split_rules);
  tcase_add_test (tc, test_read_child);
  tcase_add_test (tc, test_read_bad_pids);
  tcase_add_test (tc, test_read_self);
  suite_add_tcase (s, tc);
  return s;
}

BANGER_TEST_MAIN (proc_suite)
