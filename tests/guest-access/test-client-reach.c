/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * BangerClient's reach calls (libbanger/client/banger-client-reach.c)
 * without an engine: unknown workspace flags are refused before anything
 * is sent (invalid-argument), and a daemon that is not there is the
 * client's ordinary not-found. */
#include "config.h"

#include <banger.h>

#include "guest-access-test.h"

static void
done (GObject *source, GAsyncResult *result, gpointer data)
{
  *(GAsyncResult **)data = g_object_ref (result);
}

static GAsyncResult *
wait_for (GAsyncResult **slot)
{
  while (*slot == NULL)
    g_main_context_iteration (NULL, TRUE);
  return *slot;
}

START_TEST (test_flags_refused)
{
  g_autoptr (BangerClient) client = banger_client_new_for_socket ("/nonexistent/banger.sock");
  g_autoptr (GAsyncResult) res = NULL;
  g_autoptr (GAsyncResult) res2 = NULL;
  g_autoptr (GError) error = NULL;

  banger_client_vm_workspace_push_async (client, "vm", (BangerWorkspaceFlags)0x80, NULL, done,
                                         &res);
  ck_assert (banger_client_vm_workspace_push_finish (client, wait_for (&res), &error) == NULL);
  banger_assert_error (error, BANGER_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  banger_client_vm_workspace_pull_async (client, "vm", BANGER_WORKSPACE_FLAGS_FORCE, NULL, done,
                                         &res2);
  ck_assert (banger_client_vm_workspace_pull_finish (client, wait_for (&res2), &error) == NULL);
  banger_assert_error (error, BANGER_ERROR_NOT_FOUND); /* no daemon there */
}
END_TEST

START_TEST (test_ssh_info_no_daemon)
{
  g_autoptr (BangerClient) client = banger_client_new_for_socket ("/nonexistent/banger.sock");
  g_autoptr (GAsyncResult) res = NULL;
  g_autoptr (GError) error = NULL;

  banger_client_vm_ssh_info_async (client, "vm", NULL, done, &res);
  ck_assert (banger_client_vm_ssh_info_finish (client, wait_for (&res), &error) == NULL);
  banger_assert_error (error, BANGER_ERROR_NOT_FOUND);
}
END_TEST

static Suite *
client_reach_suite (void)
{
  Suite *s = suite_create ("client-reach");
  TCase *tc = tcase_create ("client");

  tcase_add_test (tc, test_flags_refused);
  tcase_add_test (tc, test_ssh_info_no_daemon);
  suite_add_tcase (s, tc);
  return s;
}

BANGER_TEST_MAIN (client_reach_suite)
