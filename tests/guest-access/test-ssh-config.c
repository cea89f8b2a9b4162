/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * ssh_config for banger's VMs (libbanger/guest/banger-ssh-config.c): the
 * included file's exact text (and that OpenSSH reads it: `ssh -G`), the
 * Include line added once at the top, a user's file otherwise byte for
 * byte the same, a missing file made 0600, a symlinked config edited in
 * its target, uninstall removing only banger's lines. */
#include "config.h"

#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "banger-error.h"
#include "banger-ssh-config.h"
#include "guest-access-test.h"

static char *tmp;

static void
setup (void)
{
  tmp = g_dir_make_tmp ("banger-sshcfg-XXXXXX", NULL);
  ck_assert (tmp != NULL);
}

static void
teardown (void)
{
  ga_rm_rf (tmp);
  g_clear_pointer (&tmp, g_free);
}

START_TEST (test_render)
{
  const BangerSshConfigHost hosts[] = {
    { "web", "172.30.1.2", "/s/vms/id1/known_hosts" },
    { "db", "172.30.1.3", "/s p/vms/id2/known%hosts" },
  };
  g_autoptr (GError) error = NULL;
  g_autofree char *text
      = banger_ssh_config_render (hosts, 2, "banger.internal", "/s/ssh/id_ed25519", &error);

  ck_assert_msg (text != NULL, "%s", error ? error->message : "?");
  ck_assert_msg (strstr (text, "\nHost web.banger.internal web\n"
                               "  HostName 172.30.1.2\n"
                               "  HostKeyAlias 172.30.1.2\n"
                               "  User root\n"
                               "  IdentityFile /s/ssh/id_ed25519\n"
                               "  IdentitiesOnly yes\n"
                               "  UserKnownHostsFile /s/vms/id1/known_hosts\n"
                               "  GlobalKnownHostsFile /dev/null\n"
                               "  StrictHostKeyChecking yes\n"
                               "  CheckHostIP no\n")
                     != NULL,
                 "%s", text);
  /* a space quoted, '%' doubled (ssh expands %-tokens in these paths) */
  ck_assert_msg (strstr (text, "  UserKnownHostsFile \"/s p/vms/id2/known%%hosts\"\n") != NULL,
                 "%s", text);

  /* OpenSSH reads it as meant */
  {
    g_autofree char *path = g_build_filename (tmp, "config", NULL);
    g_autofree char *out = NULL;
    const char *argv[] = { "ssh", "-G", "-F", path, "db.banger.internal", NULL };
    ck_assert (banger_ssh_config_write_file (path, text, &error));
    ck_assert (ga_run (argv, &out, NULL));
    ck_assert_msg (strstr (out, "\nhostname 172.30.1.3\n") != NULL, "%s", out);
    ck_assert_msg (strstr (out, "\nuserknownhostsfile \"/s p/vms/id2/known%hosts\"\n") != NULL
                       || strstr (out, "\nuserknownhostsfile /s p/vms/id2/known%hosts\n") != NULL,
                   "%s", out);
    ck_assert_msg (strstr (out, "\nstricthostkeychecking true\n") != NULL, "%s", out);
    ck_assert_msg (strstr (out, "\nuser root\n") != NULL, "%s", out);
  }
}
END_TEST

START_TEST (test_quote_refusals)
{
  g_autoptr (GError) error = NULL;

  ck_assert (banger_ssh_config_quote ("a\"b", &error) == NULL);
  banger_assert_error (error, BANGER_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  ck_assert (banger_ssh_config_quote ("a\nb", &error) == NULL);
  banger_assert_error (error, BANGER_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  ck_assert (banger_ssh_config_include_line ("relative/config", &error) == NULL);
  banger_assert_error (error, BANGER_ERROR_INVALID_ARGUMENT);
}
END_TEST

static const char user_text[] = "# my config\n"
                                "Host *\n"
                                "  ServerAliveInterval 30\n"
                                "\n"
                                "Host gh\n"
                                "  HostName github.com\n"
                                "  User git"; /* no final newline */

START_TEST (test_include_install_uninstall)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *ssh_dir = g_build_filename (tmp, "home", ".ssh", NULL);
  g_autofree char *cfg = g_build_filename (ssh_dir, "config", NULL);
  const char *inc = "/var/state/banger/ssh/config";
  g_autofree char *after = NULL;
  g_autofree char *after2 = NULL;
  g_autofree char *back = NULL;
  gboolean changed = FALSE;
  struct stat st;

  ck_assert_int_eq (g_mkdir_with_parents (ssh_dir, 0700), 0);
  ck_assert (g_file_set_contents (cfg, user_text, -1, NULL));
  ck_assert_int_eq (chmod (cfg, 0640), 0);

  ck_assert (banger_ssh_config_install_include (cfg, inc, &changed, &error));
  ck_assert (changed);
  ck_assert (g_file_get_contents (cfg, &after, NULL, NULL));
  /* the line at the very top, the rest byte for byte */
  ck_assert_str_eq (after, BANGER_SSH_CONFIG_MARKER "\nInclude /var/state/banger/ssh/config\n"
                           "# my config\nHost *\n  ServerAliveInterval 30\n\nHost gh\n"
                           "  HostName github.com\n  User git");
  ck_assert_int_eq (stat (cfg, &st), 0);
  ck_assert_int_eq (st.st_mode & 07777, 0640); /* the user's mode kept */

  /* idempotent: nothing written the second time */
  ck_assert (banger_ssh_config_install_include (cfg, inc, &changed, &error));
  ck_assert (!changed);
  ck_assert (g_file_get_contents (cfg, &after2, NULL, NULL));
  ck_assert_str_eq (after, after2);

  /* uninstall: back to the user's bytes exactly */
  ck_assert (banger_ssh_config_uninstall_include (cfg, inc, &changed, &error));
  ck_assert (changed);
  ck_assert (g_file_get_contents (cfg, &back, NULL, NULL));
  ck_assert_str_eq (back, user_text);
  ck_assert (banger_ssh_config_uninstall_include (cfg, inc, &changed, &error));
  ck_assert (!changed);
}
END_TEST

START_TEST (test_include_new_file_and_symlink)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *home = g_build_filename (tmp, "home2", NULL);
  g_autofree char *cfg = g_build_filename (home, ".ssh", "config", NULL);
  g_autofree char *dotfiles = g_build_filename (tmp, "dotfiles-ssh-config", NULL);
  g_autofree char *text = NULL;
  gboolean changed = FALSE;
  struct stat st;

  /* absent: made 0600 in a 0700 ~/.ssh */
  ck_assert (banger_ssh_config_install_include (cfg, "/x/config", &changed, &error));
  ck_assert (changed);
  ck_assert_int_eq (stat (cfg, &st), 0);
  ck_assert_int_eq (st.st_mode & 07777, 0600);
  {
    g_autofree char *d = g_path_get_dirname (cfg);
    ck_assert_int_eq (stat (d, &st), 0);
    ck_assert_int_eq (st.st_mode & 07777, 0700);
  }
  /* a symlinked config (dotfiles): the target is edited, the link stays */
  ck_assert_int_eq (unlink (cfg), 0);
  ck_assert (g_file_set_contents (dotfiles, "Host a\n", -1, NULL));
  ck_assert_int_eq (symlink (dotfiles, cfg), 0);
  ck_assert (banger_ssh_config_install_include (cfg, "/x/config", &changed, &error));
  ck_assert (g_file_test (cfg, G_FILE_TEST_IS_SYMLINK));
  ck_assert (g_file_get_contents (dotfiles, &text, NULL, NULL));
  ck_assert_str_eq (text, BANGER_SSH_CONFIG_MARKER "\nInclude /x/config\nHost a\n");

  /* uninstall without knowing the path: the Include under banger's mark */
  ck_assert (banger_ssh_config_uninstall_include (cfg, NULL, &changed, &error));
  ck_assert (changed);
  g_clear_pointer (&text, g_free);
  ck_assert (g_file_get_contents (dotfiles, &text, NULL, NULL));
  ck_assert_str_eq (text, "Host a\n");
}
END_TEST

START_TEST (test_include_refusals)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir_as_cfg = g_build_filename (tmp, "cfgdir", NULL);
  g_autofree char *dangling = g_build_filename (tmp, "dangling", NULL);
  gboolean changed = FALSE;

  ck_assert_int_eq (g_mkdir (dir_as_cfg, 0700), 0);
  ck_assert (!banger_ssh_config_install_include (dir_as_cfg, "/x", &changed, &error));
  banger_assert_error (error, BANGER_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  ck_assert_int_eq (symlink ("/nonexistent/banger-test", dangling), 0);
  ck_assert (!banger_ssh_config_install_include (dangling, "/x", &changed, &error));
  banger_assert_error (error, BANGER_ERROR_NOT_FOUND);
}
END_TEST

static Suite *
ssh_config_suite (void)
{
  Suite *s = suite_create ("ssh-config");
  TCase *tc = tcase_create ("ssh-config");

  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_add_test (tc, test_render);
  tcase_add_test (tc, test_quote_refusals);
  tcase_add_test (tc, test_include_install_uninstall);
  tcase_add_test (tc, test_include_new_file_and_symlink);
  tcase_add_test (tc, test_include_refusals);
  suite_add_tcase (s, tc);
  return s;
}

BANGER_TEST_MAIN (ssh_config_suite)
