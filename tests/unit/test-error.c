/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The BANGER_ERROR code <-> name table is part of the wire protocol. */
#include "config.h"

#include <gio/gio.h>

#include "banger.h"
#include "banger-cgroup.h"
#include "banger-error-private.h"
#include "banger-test.h"

#include <glib/gstdio.h>
#include <unistd.h>

START_TEST (test_names_match_enum_nicks)
{
  GEnumClass *klass = g_type_class_ref (BANGER_TYPE_ERROR);
  ck_assert_uint_eq (klass->n_values, 14);
  for (guint i = 0; i < klass->n_values; i++)
    {
      GEnumValue *v = &klass->values[i];
      BangerError code;
      ck_assert_int_eq (v->value, (int) i); /* dense and never renumbered */
      ck_assert_str_eq (banger_error_to_name (v->value), v->value_nick);
      ck_assert (banger_error_from_name (v->value_nick, &code));
      ck_assert_int_eq (code, v->value);
    }
  g_type_class_unref (klass);
}
END_TEST

START_TEST (test_fixed_values)
{
  /* These are ABI and wire protocol; this test is the reminder. */
  ck_assert_str_eq (banger_error_to_name (BANGER_ERROR_FAILED), "failed");
  ck_assert_str_eq (banger_error_to_name (BANGER_ERROR_INVALID_ARGUMENT), "invalid-argument");
  ck_assert_str_eq (banger_error_to_name (BANGER_ERROR_NOT_FOUND), "not-found");
  ck_assert_str_eq (banger_error_to_name (BANGER_ERROR_PERMISSION_DENIED), "permission-denied");
  ck_assert_str_eq (banger_error_to_name (BANGER_ERROR_UNSUPPORTED), "unsupported");
  ck_assert_str_eq (banger_error_to_name (BANGER_ERROR_VMM), "vmm");
  ck_assert_int_eq (BANGER_ERROR_VMM, 11);
  ck_assert_str_eq (banger_error_to_name ((BangerError) 999), "failed");
}
END_TEST

START_TEST (test_unknown_name)
{
  BangerError code = BANGER_ERROR_BUSY;
  ck_assert (!banger_error_from_name ("no-such-error", &code));
  ck_assert_int_eq (code, BANGER_ERROR_FAILED);
  ck_assert (!banger_error_from_name (NULL, NULL));
}
END_TEST

START_TEST (test_from_gerror)
{
  g_autoptr (GError) e1 = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "x");
  g_autoptr (GError) e2 = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED, "x");
  g_autoptr (GError) e3 = g_error_new_literal (G_FILE_ERROR, G_FILE_ERROR_NOENT, "x");
  g_autoptr (GError) e4 = g_error_new_literal (BANGER_ERROR, BANGER_ERROR_BUSY, "x");
  ck_assert_int_eq (banger_error_code_from_gerror (e1), BANGER_ERROR_NOT_FOUND);
  ck_assert_int_eq (banger_error_code_from_gerror (e2), BANGER_ERROR_CANCELLED);
  ck_assert_int_eq (banger_error_code_from_gerror (e3), BANGER_ERROR_FAILED);
  ck_assert_int_eq (banger_error_code_from_gerror (e4), BANGER_ERROR_BUSY);
}
END_TEST

START_TEST (test_version)
{
  ck_assert_uint_eq (banger_get_major_version (), BANGER_MAJOR_VERSION);
  ck_assert (banger_check_version (0, 0, 0));
  ck_assert (banger_check_version (BANGER_MAJOR_VERSION, BANGER_MINOR_VERSION, BANGER_MICRO_VERSION));
  ck_assert (!banger_check_version (BANGER_MAJOR_VERSION + 1, 0, 0));
  ck_assert (BANGER_CHECK_VERSION (0, 1, 0));
  ck_assert (!BANGER_CHECK_VERSION (99, 0, 0));
}
END_TEST

START_TEST (test_cgroup2_mountinfo)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = NULL;
  g_autofree char *found = NULL;
  int fd = g_file_open_tmp ("mountinfo-XXXXXX", &path, &error);
  const char *hybrid =
    "24 30 0:22 / /sys rw,nosuid - sysfs sysfs rw\n"
    "27 24 0:25 / /sys/fs/cgroup ro,nosuid shared:9 - tmpfs tmpfs ro,mode=755\n"
    "28 27 0:26 / /sys/fs/cgroup/unified\\040dir rw,nosuid shared:10 - cgroup2 cgroup2 rw\n";

  ck_assert_int_ge (fd, 0);
  close (fd);
  ck_assert (g_file_set_contents (path, hybrid, -1, NULL));
  found = banger_cgroup2_find_mount (path, &error);
  ck_assert_str_eq (found, "/sys/fs/cgroup/unified dir");
  ck_assert (g_file_set_contents (path, "24 30 0:22 / /sys rw - sysfs sysfs rw\n", -1, NULL));
  g_clear_pointer (&found, g_free);
  found = banger_cgroup2_find_mount (path, &error);
  ck_assert_ptr_null (found);
  banger_assert_error (error, BANGER_ERROR_UNSUPPORTED);
  g_unlink (path);
}
END_TEST

Suite *error_suite (void);

Suite *
error_suite (void)
{
  Suite *s = suite_create ("core");
  TCase *tc = tcase_create ("errors");

  tcase_add_test (tc, test_names_match_enum_nicks);
  tcase_add_test (tc, test_fixed_values);
  tcase_add_test (tc, test_unknown_name);
  tcase_add_test (tc, test_from_gerror);
  tcase_add_test (tc, test_version);
  tcase_add_test (tc, test_cgroup2_mountinfo);
  suite_add_tcase (s, tc);
  return s;
}

BANGER_TEST_MAIN (error_suite)
