/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Snapshot progress across the socket, against the spec-validating fake
 * Firecracker ([guest] wait-ssh=false; its slow-snapshot mode writes the
 * memory file over 1.5 s): a bangerd (root, the in-process executor) in a
 * network namespace of the e2e kit's (tests/e2e/kit/, whose cleanup ledger
 * kills and removes the daemon, the fakes, the namespace and the dirs
 * however the test ends), two VMs of different memory sizes.
 *   - Two `banger vm snapshot` at once, each with its stderr on a
 *     terminal (a pty): each live line shows its own VM's steps and
 *     memory total, never the other one's (the CLI keeps to its call's
 *     op id, banger_client_get_last_op_id());
 *   - a third BangerClient, subscribed over its own connection, sees both
 *     snapshots' progress under two op ids: the steps in order, the
 *     memory's bytes growing to each VM's memory, and snapshot-created;
 *     then `banger snapshot rm` as snapshot-deleted.
 * Root only.  The pty runner is this test's own: no other suite draws on
 * a terminal. */
#include "config.h"

#include <errno.h>
#include <pty.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "banger-e2e-cleanup.h"
#include "banger-e2e-test.h"

#ifndef FAKE_FIRECRACKER
#error "FAKE_FIRECRACKER must name tests/fakes/firecracker/fake-firecracker.py"
#endif

#define MIB (1024 * 1024)

typedef BangerE2eEnv Env;

/* A CLI whose stderr is a terminal: everything it draws, read by a thread. */
typedef struct
{
  GSubprocess *proc;
  int master;
  GThread *reader;
  GString *text;
} PtyCli;

static gpointer
pty_read (gpointer data)
{
  PtyCli *c = data;
  char buf[4096];

  for (;;)
    {
      ssize_t n = read (c->master, buf, sizeof buf);
      if (n > 0)
        g_string_append_len (c->text, buf, n);
      else if (n < 0 && errno == EINTR)
        continue;
      else
        break; /* EIO: the last slave end closed */
    }
  return NULL;
}

/* (written down in the kit's ledger: a failed test leaves no CLI behind) */
static PtyCli *
pty_cli_start (Env *env, const char *const *args)
{
  PtyCli *c = g_new0 (PtyCli, 1);
  g_autoptr (GSubprocessLauncher) launcher
      = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE);
  g_autoptr (GPtrArray) argv = banger_e2e_cli_argv (env, args);
  g_autoptr (GError) error = NULL;
  int slave = -1;

  ck_assert_msg (openpty (&c->master, &slave, NULL, NULL, NULL) == 0, "openpty: %s",
                 g_strerror (errno));
  g_subprocess_launcher_take_stderr_fd (launcher, slave);
  g_subprocess_launcher_setenv (launcher, "TERM", "xterm", TRUE);
  c->proc = g_subprocess_launcher_spawnv (launcher, (const char *const *)argv->pdata, &error);
  ck_assert_msg (c->proc != NULL, "%s", error ? error->message : "?");
  ck_assert_msg (
      banger_e2e_cleanup_note_process (
          (GPid)g_ascii_strtoll (g_subprocess_get_identifier (c->proc), NULL, 10), &error),
      "%s", error ? error->message : "?");
  g_clear_object (&launcher); /* closes our copy of the slave end */
  c->text = g_string_new (NULL);
  c->reader = g_thread_new ("pty", pty_read, c);
  return c;
}

static void
exited (GObject *source, GAsyncResult *res, gpointer user_data)
{
  g_subprocess_wait_finish (G_SUBPROCESS (source), res, NULL);
  *(gboolean *)user_data = TRUE;
}

/* Waits for the CLI (iterating the main context: the watcher's events
 * keep coming) and its output; its exit status. */
static int
pty_cli_finish (PtyCli *c, char **out_text)
{
  gboolean done = FALSE;
  int status;

  g_subprocess_wait_async (c->proc, NULL, exited, &done);
  while (!done)
    g_main_context_iteration (NULL, TRUE);
  g_thread_join (c->reader);
  close (c->master);
  status = g_subprocess_get_if_exited (c->proc) ? g_subprocess_get_exit_status (c->proc) : -1;
  g_object_unref (c->proc);
  /* (g_format_size puts a no-break space before the unit) */
  g_string_replace (c->text, "\u00a0", " ", 0);
  *out_text = g_string_free (c->text, FALSE);
  g_free (c);
  return status;
}

/* What the subscribed client saw. */
typedef struct
{
  GPtrArray *progress;  /* "op kind target step index/count done/total" */
  GPtrArray *snapshots; /* "created NAME of VM" / "deleted NAME of VM" */
} Seen;

static void
on_progress (BangerClient *client, const char *op_id, const char *kind, const char *target,
             const char *step, guint index, guint count, guint64 done, guint64 total,
             gpointer user_data)
{
  Seen *seen = user_data;
  g_ptr_array_add (seen->progress,
                   g_strdup_printf ("%s %s %s %s %u/%u %" G_GUINT64_FORMAT "/%" G_GUINT64_FORMAT,
                                    op_id, kind, target, step, index, count, done, total));
}

static void
on_snapshot_created (BangerClient *client, const char *name, const char *vm, gpointer user_data)
{
  g_ptr_array_add (((Seen *)user_data)->snapshots, g_strdup_printf ("created %s of %s", name, vm));
}

static void
on_snapshot_deleted (BangerClient *client, const char *name, const char *vm, gpointer user_data)
{
  g_ptr_array_add (((Seen *)user_data)->snapshots, g_strdup_printf ("deleted %s of %s", name, vm));
}

/* The op id of @vm's snapshot in what @seen has (exactly one). */
static char *
op_of (Seen *seen, const char *vm)
{
  g_autofree char *needle = g_strdup_printf (" vm.snapshot %s ", vm);
  char *op = NULL;

  for (guint i = 0; i < seen->progress->len; i++)
    {
      const char *line = seen->progress->pdata[i];
      const char *sp = strchr (line, ' ');
      g_autofree char *this_op = g_strndup (line, sp - line);
      if (strstr (line, needle) == NULL)
        continue;
      if (op == NULL)
        op = g_steal_pointer (&this_op);
      else
        ck_assert_msg (g_str_equal (op, this_op), "two op ids for %s: %s, %s", vm, op, this_op);
    }
  ck_assert_msg (op != NULL, "no progress of %s's snapshot", vm);
  return op;
}

/* The step starts of @op ("step index/count" lines), and its memory's byte
 * reports checked: never going down, at least one between 0 and @total,
 * the last at @total. */
static char *
steps_of (Seen *seen, const char *op, guint64 total)
{
  GString *steps = g_string_new (NULL);
  guint64 last = 0;
  gboolean between = FALSE;
  guint n = 0;

  for (guint i = 0; i < seen->progress->len; i++)
    {
      g_auto (GStrv) f = g_strsplit (seen->progress->pdata[i], " ", -1);
      guint64 done = 0, t = 0;

      if (!g_str_equal (f[0], op))
        continue;
      ck_assert (sscanf (f[5], "%" G_GUINT64_FORMAT "/%" G_GUINT64_FORMAT, &done, &t) == 2);
      if (t == 0)
        {
          g_string_append_printf (steps, "%s %s\n", f[3], f[4]);
          continue;
        }
      if (!g_str_equal (f[3], "memory"))
        continue;
      ck_assert_uint_eq (t, total);
      ck_assert_msg (done >= last, "memory bytes went down: %s", (char *)seen->progress->pdata[i]);
      between = between || (done > 0 && done < total);
      last = done;
      n++;
    }
  ck_assert_msg (between, "no memory report between 0 and %" G_GUINT64_FORMAT " (%u reports)",
                 total, n);
  ck_assert_uint_eq (last, total);
  return g_string_free (steps, FALSE);
}

/* At most the last 300 bytes of @text: Check's messages are bounded. */
static const char *
tail (const char *text)
{
  size_t n = strlen (text);
  return n > 300 ? text + n - 300 : text;
}

static gboolean
has_line (GPtrArray *lines, const char *want)
{
  for (guint i = 0; i < lines->len; i++)
    if (g_str_equal (lines->pdata[i], want))
      return TRUE;
  return FALSE;
}

/* @text appended to the env's bangerd.conf (before bangerd starts). */
static void
conf_append (Env *env, const char *text)
{
  g_autofree char *old = NULL, *all = NULL;
  g_autoptr (GError) error = NULL;

  ck_assert_msg (g_file_get_contents (env->conf, &old, NULL, &error), "%s", error->message);
  all = g_strconcat (old, text, NULL);
  ck_assert_msg (g_file_set_contents (env->conf, all, -1, &error), "%s", error->message);
}

START_TEST (test_two_snapshots)
{
  const BangerE2eOptions options = {
    .prefix = "banger-sp",
    .deploy = BANGER_E2E_DEPLOY_ROOT,
    .subnet = "10.78.0.0/24",
  };
  g_autofree char *fake = g_canonicalize_filename (FAKE_FIRECRACKER, NULL);
  g_autofree char *wrapper = NULL, *image = NULL, *kernel = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (BangerClient) watcher = NULL;
  g_autoptr (GAsyncResult) res = NULL;
  g_autofree char *err = NULL, *text_a = NULL, *text_b = NULL, *op_a = NULL, *op_b = NULL;
  Seen seen = { g_ptr_array_new_with_free_func (g_free), g_ptr_array_new_with_free_func (g_free) };
  PtyCli *cli_a, *cli_b;
  /* the namespace, cgroup root and scratch dir; bangerd once its
   * firecracker= is known */
  Env *env = banger_e2e_test_env_new (&options, TRUE);

  /* the fake, slowed: the daemon's privileged launch gives a VMM a clean
   * environment, so the mode comes from a wrapper */
  wrapper = g_build_filename (env->dir, "slow-firecracker", NULL);
  {
    g_autofree char *text = g_strdup_printf ("#!/usr/bin/python3\nimport os, sys\n"
                                             "os.environ['FAKE_FC_MODE'] = 'slow-snapshot=1500'\n"
                                             "os.execv('%s', ['%s'] + sys.argv[1:])\n",
                                             fake, fake);
    ck_assert (g_file_set_contents (wrapper, text, -1, NULL));
    ck_assert (g_chmod (wrapper, 0755) == 0);
  }
  image = g_build_filename (env->dir, "rootfs.ext4", NULL);
  {
    g_autofree char *tree = g_build_filename (env->dir, "tree", "root", ".ssh", NULL);
    g_autofree char *top = g_build_filename (env->dir, "tree", NULL);
    const char *mkfs[] = { "mkfs.ext4", "-q", "-F", "-d", top, image, "16M", NULL };
    ck_assert (g_mkdir_with_parents (tree, 0700) == 0);
    banger_e2e_run_ok (mkfs);
  }
  kernel = g_build_filename (env->dir, "vmlinux", NULL);
  ck_assert (g_file_set_contents (kernel, "not a kernel: the fake boots nothing", -1, NULL));
  {
    g_autofree char *text
        = g_strdup_printf ("[vmm]\nfirecracker=%s\n[guest]\nwait-ssh=false\n", wrapper);
    conf_append (env, text);
  }
  banger_e2e_test_start_daemon (env);
  {
    const char *k[] = { "kernel", "add", "k", "--kernel", kernel, NULL };
    const char *im[] = { "image", "import", "img", "--rootfs", image, NULL };
    const char *a[] = { "vm", "create", "a",           "--image",  "img", "--kernel",
                        "k",  "--vmm",  "firecracker", "--memory", "96",  NULL };
    const char *b[] = { "vm", "create", "b",           "--image",  "img", "--kernel",
                        "k",  "--vmm",  "firecracker", "--memory", "192", NULL };
    ck_assert_msg (banger_e2e_cli_v (env, NULL, &err, k) == 0, "kernel add: %s", err);
    g_clear_pointer (&err, g_free);
    ck_assert_msg (banger_e2e_cli_v (env, NULL, &err, im) == 0, "image import: %s", err);
    g_clear_pointer (&err, g_free);
    ck_assert_msg (banger_e2e_cli_v (env, NULL, &err, a) == 0, "create a: %s", err);
    g_clear_pointer (&err, g_free);
    ck_assert_msg (banger_e2e_cli_v (env, NULL, &err, b) == 0, "create b: %s", err);
    g_clear_pointer (&err, g_free);
  }

  /* the watcher: a client of its own, subscribed */
  watcher = banger_client_new_for_socket (env->socket);
  g_signal_connect (watcher, "progress", G_CALLBACK (on_progress), &seen);
  g_signal_connect (watcher, "snapshot-created", G_CALLBACK (on_snapshot_created), &seen);
  g_signal_connect (watcher, "snapshot-deleted", G_CALLBACK (on_snapshot_deleted), &seen);
  banger_client_subscribe_async (watcher, NULL, banger_e2e_async_done, &res);
  ck_assert_msg (banger_client_subscribe_finish (watcher, banger_e2e_async_wait (&res), &error),
                 "%s", error ? error->message : "?");

  /* two snapshots at once, each CLI on a terminal */
  {
    const char *sa[] = { "vm", "snapshot", "a", "--name", "sa", NULL };
    const char *sb[] = { "vm", "snapshot", "b", "--name", "sb", NULL };
    cli_a = pty_cli_start (env, sa);
    cli_b = pty_cli_start (env, sb);
    ck_assert_int_eq (pty_cli_finish (cli_a, &text_a), 0);
    ck_assert_int_eq (pty_cli_finish (cli_b, &text_b), 0);
  }
  /* each line: its own VM's memory step and total, never the other's */
  ck_assert_msg (strstr (text_a, "Snapshotting a: memory (2/5) [") != NULL, "%s", tail (text_a));
  ck_assert_msg (strstr (text_a, "/96.0 MiB") != NULL, "%s", tail (text_a));
  ck_assert_msg (strstr (text_a, "192.0 MiB") == NULL, "a's line moved with b's");
  ck_assert_msg (strstr (text_a, "Snapshotting a: sa (") != NULL, "%s", tail (text_a));
  ck_assert_msg (strstr (text_b, "Snapshotting b: memory (2/5) [") != NULL, "%s", tail (text_b));
  ck_assert_msg (strstr (text_b, "/192.0 MiB") != NULL, "%s", tail (text_b));
  ck_assert_msg (strstr (text_b, "/96.0 MiB") == NULL, "b's line moved with a's");

  /* the watcher saw both under their own op ids (the last events may
   * still be on their way: the stream and the replies are two connections) */
  for (int i = 0; i < 500 && seen.snapshots->len < 2; i++)
    {
      g_main_context_iteration (NULL, FALSE);
      g_usleep (10 * 1000);
    }
  op_a = op_of (&seen, "a");
  op_b = op_of (&seen, "b");
  ck_assert_str_ne (op_a, op_b);
  {
    const char *want = "pause 1/5\nmemory 2/5\ndisks 3/5\nresume 4/5\nrecord 5/5\n";
    g_autofree char *steps_a = steps_of (&seen, op_a, 96 * MIB);
    g_autofree char *steps_b = steps_of (&seen, op_b, 192 * MIB);
    ck_assert_str_eq (steps_a, want);
    ck_assert_str_eq (steps_b, want);
  }
  ck_assert (has_line (seen.snapshots, "created sa of a"));
  ck_assert (has_line (seen.snapshots, "created sb of b"));

  /* snapshot rm: seen as snapshot-deleted */
  {
    const char *rm[] = { "snapshot", "rm", "sa", NULL };
    ck_assert_msg (banger_e2e_cli_v (env, NULL, &err, rm) == 0, "snapshot rm: %s", err);
    g_clear_pointer (&err, g_free);
  }
  for (int i = 0; i < 500 && !has_line (seen.snapshots, "deleted sa of a"); i++)
    {
      g_main_context_iteration (NULL, FALSE);
      g_usleep (10 * 1000);
    }
  ck_assert (has_line (seen.snapshots, "deleted sa of a"));

  banger_client_unsubscribe (watcher);
  {
    const char *rm_a[] = { "vm", "rm", "a", NULL };
    const char *rm_b[] = { "vm", "rm", "b", NULL };
    banger_e2e_cli_v (env, NULL, NULL, rm_a);
    banger_e2e_cli_v (env, NULL, NULL, rm_b);
  }
  /* SIGTERM to bangerd, then the sweep */
  banger_e2e_env_free (env);
  g_ptr_array_unref (seen.progress);
  g_ptr_array_unref (seen.snapshots);
}
END_TEST

static Suite *
snapshot_progress_suite (void)
{
  Suite *s = suite_create ("e2e-snapshot-progress");
  TCase *tc = tcase_create ("fake-firecracker");

  tcase_set_timeout (tc, 120);
  banger_e2e_tcase_add_cleanup (tc);
  tcase_add_test (tc, test_two_snapshots);
  suite_add_tcase (s, tc);
  return s;
}

BANGER_E2E_TEST_MAIN (snapshot_progress_suite, CK_FORK_GETENV, "netns, the in-process executor")
