/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The stop ladder of an adopted VMM (banger-engine-adopted.c), against
 * stand-ins that speak the VMM's API on its socket: a QMP server
 * (fake-qmp.py) and the spec-validating fake Firecracker.  The power button
 * ends a VMM whose guest obeys (and nothing else is sent); one whose guest
 * ignores it gets SIGTERM; one that also ignores SIGTERM gets SIGKILL; an
 * unreachable socket goes straight to SIGTERM; a kill skips the power
 * button; a process whose start time is not the recorded one is never
 * signalled. */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "banger-engine-adopted.h"
#include "banger-error.h"
#include "banger-fc-http.h"
#include "banger-proc-identity.h"
#include "banger-test.h"

#ifndef FAKE_QMP
#error "FAKE_QMP must name tests/engine/fake-qmp.py"
#endif
#ifndef FAKE_FIRECRACKER
#error "FAKE_FIRECRACKER must name tests/fakes/firecracker/fake-firecracker.py"
#endif

typedef struct
{
  char *dir;
  char *sock;
  char *log;
  GPid pid;
  guint64 start_time;
} Vmm;

static void
wait_for_socket (Vmm *v)
{
  for (int i = 0; i < 500 && !g_file_test (v->sock, G_FILE_TEST_EXISTS); i++)
    g_usleep (10 * 1000);
  ck_assert_msg (g_file_test (v->sock, G_FILE_TEST_EXISTS), "no socket %s", v->sock);
}

static Vmm *
vmm_spawn (gboolean firecracker, const char *mode)
{
  Vmm *v = g_new0 (Vmm, 1);
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) env = g_get_environ ();

  v->dir = g_dir_make_tmp ("banger-adopted-XXXXXX", &error);
  ck_assert (v->dir != NULL);
  v->sock = g_build_filename (v->dir, firecracker ? "fc.sock" : "qmp.sock", NULL);
  v->log = g_build_filename (v->dir, "calls.log", NULL);
  env = g_environ_setenv (env, firecracker ? "FAKE_FC_LOG" : "FAKE_QMP_LOG", v->log, TRUE);
  env = g_environ_setenv (env, firecracker ? "FAKE_FC_MODE" : "FAKE_QMP_MODE", mode, TRUE);
  {
    const char *qmp_argv[] = { FAKE_QMP, v->sock, NULL };
    const char *fc_argv[] = { FAKE_FIRECRACKER, "--api-sock", v->sock, "--id", "vm1", NULL };
    ck_assert_msg (g_spawn_async (NULL, (char **)(firecracker ? fc_argv : qmp_argv), env,
                                  G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL, &v->pid, &error),
                   "%s", error ? error->message : "?");
  }
  wait_for_socket (v);
  ck_assert (banger_proc_start_time (v->pid, &v->start_time, NULL));
  return v;
}

/* The process has exited (and is reaped): its wait status. */
static int
vmm_reap (Vmm *v)
{
  int status = 0;
  ck_assert_int_eq (waitpid (v->pid, &status, 0), v->pid);
  v->pid = 0;
  return status;
}

static void
vmm_free (Vmm *v)
{
  if (v->pid > 0)
    {
      kill (v->pid, SIGKILL);
      waitpid (v->pid, NULL, 0);
    }
  {
    const char *rm[] = { "rm", "-rf", v->dir, NULL };
    g_spawn_sync (NULL, (char **)rm, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, NULL, NULL);
  }
  g_free (v->dir);
  g_free (v->sock);
  g_free (v->log);
  g_free (v);
}

static char *
calls (Vmm *v)
{
  char *text = NULL;
  if (!g_file_get_contents (v->log, &text, NULL, NULL))
    return g_strdup ("");
  return text;
}

static void
on_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  *(GAsyncResult **)user_data = g_object_ref (result);
}

/* Firecracker answers SendCtrlAltDel only after InstanceStart. */
static void
fc_boot (Vmm *v)
{
  g_autoptr (BangerFcClient) fc = banger_fc_client_new (v->sock);
  g_autofree char *kernel = g_build_filename (v->dir, "vmlinux", NULL);
  g_autofree char *boot = g_strdup_printf ("{\"kernel_image_path\": \"%s\"}", kernel);
  const char *bodies[][2] = { { "/boot-source", boot },
                              { "/actions", "{\"action_type\": \"InstanceStart\"}" } };

  ck_assert (g_file_set_contents (kernel, "x", 1, NULL));
  for (guint i = 0; i < G_N_ELEMENTS (bodies); i++)
    {
      g_autoptr (GAsyncResult) res = NULL;
      g_autoptr (GError) error = NULL;
      g_autoptr (JsonNode) body = json_from_string (bodies[i][1], NULL);

      banger_fc_client_call_async (fc, "PUT", bodies[i][0], body, 5000, NULL, on_done, &res);
      while (res == NULL)
        g_main_context_iteration (NULL, TRUE);
      ck_assert_msg (banger_fc_client_call_finish (res, NULL, &error), "%s: %s", bodies[i][0],
                     error ? error->message : "?");
    }
}

static BangerAdoptedStop
stop (Vmm *v, BangerStoreVmm kind, guint polite_ms)
{
  g_autoptr (GError) error = NULL;
  BangerAdoptedStop how = 99;

  ck_assert_msg (banger_engine_stop_adopted (kind, v->sock, v->pid, v->start_time, polite_ms, 1000,
                                             &how, &error),
                 "%s", error ? error->message : "?");
  return how;
}

START_TEST (test_qemu_power_button)
{
  Vmm *v = vmm_spawn (FALSE, "obey");
  g_autofree char *log = NULL;
  int status;

  ck_assert_int_eq (stop (v, BANGER_STORE_VMM_QEMU, 5000), BANGER_ADOPTED_STOP_POWER_BUTTON);
  status = vmm_reap (v);
  ck_assert (WIFEXITED (status) && WEXITSTATUS (status) == 0);
  log = calls (v);
  ck_assert_str_eq (log, "qmp_capabilities\nsystem_powerdown\n");
  vmm_free (v);
}
END_TEST

START_TEST (test_qemu_term)
{
  Vmm *v = vmm_spawn (FALSE, "");
  g_autofree char *log = NULL;
  int status;

  /* the guest ignores the button: SIGTERM after the polite wait */
  ck_assert_int_eq (stop (v, BANGER_STORE_VMM_QEMU, 300), BANGER_ADOPTED_STOP_TERM);
  status = vmm_reap (v);
  ck_assert (WIFSIGNALED (status) && WTERMSIG (status) == SIGTERM);
  log = calls (v);
  ck_assert_str_eq (log, "qmp_capabilities\nsystem_powerdown\n");
  vmm_free (v);
}
END_TEST

START_TEST (test_qemu_kill)
{
  Vmm *v = vmm_spawn (FALSE, "ignore-term");
  int status;

  ck_assert_int_eq (stop (v, BANGER_STORE_VMM_QEMU, 300), BANGER_ADOPTED_STOP_KILL);
  status = vmm_reap (v);
  ck_assert (WIFSIGNALED (status) && WTERMSIG (status) == SIGKILL);
  vmm_free (v);
}
END_TEST

START_TEST (test_no_socket)
{
  Vmm *v = vmm_spawn (FALSE, "obey");
  g_autofree char *log = NULL;
  int status;

  /* the socket is gone (the run dir was cleaned): straight to SIGTERM */
  ck_assert (g_unlink (v->sock) == 0);
  ck_assert_int_eq (stop (v, BANGER_STORE_VMM_QEMU, 5000), BANGER_ADOPTED_STOP_TERM);
  status = vmm_reap (v);
  ck_assert (WIFSIGNALED (status) && WTERMSIG (status) == SIGTERM);
  log = calls (v);
  ck_assert_str_eq (log, "");
  vmm_free (v);
}
END_TEST

START_TEST (test_kill_skips_button)
{
  Vmm *v = vmm_spawn (FALSE, "obey");
  g_autofree char *log = NULL;

  ck_assert_int_eq (stop (v, BANGER_STORE_VMM_QEMU, 0), BANGER_ADOPTED_STOP_TERM);
  vmm_reap (v);
  log = calls (v);
  ck_assert_str_eq (log, "");
  vmm_free (v);
}
END_TEST

START_TEST (test_recycled_pid)
{
  Vmm *v = vmm_spawn (FALSE, "obey");
  g_autoptr (GError) error = NULL;
  BangerAdoptedStop how = 99;

  /* the recorded start time is not this process's: never signalled */
  ck_assert (banger_engine_stop_adopted (BANGER_STORE_VMM_QEMU, v->sock, v->pid,
                                         v->start_time + 1, 1000, 1000, &how, &error));
  ck_assert_int_eq (how, BANGER_ADOPTED_STOP_GONE);
  g_usleep (200 * 1000);
  ck_assert_int_eq (kill (v->pid, 0), 0);
  {
    g_autofree char *log = calls (v);
    ck_assert_str_eq (log, "");
  }
  vmm_free (v);
}
END_TEST

START_TEST (test_firecracker_ctrl_alt_del)
{
  Vmm *v = vmm_spawn (TRUE, "");
  g_autofree char *log = NULL;
  int status;

  fc_boot (v);
  ck_assert_int_eq (stop (v, BANGER_STORE_VMM_FIRECRACKER, 5000),
                    BANGER_ADOPTED_STOP_POWER_BUTTON);
  status = vmm_reap (v);
  ck_assert (WIFEXITED (status));
  log = calls (v);
  ck_assert_msg (strstr (log, "SendCtrlAltDel") != NULL, "%s", log);
  vmm_free (v);
}
END_TEST

START_TEST (test_firecracker_ignored)
{
  Vmm *v = vmm_spawn (TRUE, "ignore-ctrlaltdel");
  int status;

  fc_boot (v);
  ck_assert_int_eq (stop (v, BANGER_STORE_VMM_FIRECRACKER, 300), BANGER_ADOPTED_STOP_TERM);
  status = vmm_reap (v);
  ck_assert (WIFSIGNALED (status) && WTERMSIG (status) == SIGTERM);
  vmm_free (v);
}
END_TEST

static Suite *
adopted_suite (void)
{
  Suite *s = suite_create ("engine-adopted");
  TCase *tc = tcase_create ("ladder");

  tcase_set_timeout (tc, 60);
  tcase_add_test (tc, test_qemu_power_button);
  tcase_add_test (tc, test_qemu_term);
  tcase_add_test (tc, test_qemu_kill);
  tcase_add_test (tc, test_no_socket);
  tcase_add_test (tc, test_kill_skips_button);
  tcase_add_test (tc, test_recycled_pid);
  tcase_add_test (tc, test_firecracker_ctrl_alt_del);
  tcase_add_test (tc, test_firecracker_ignored);
  suite_add_tcase (s, tc);
  return s;
}

BANGER_TEST_MAIN (adopted_suite)
