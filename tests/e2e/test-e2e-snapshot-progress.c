/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Snapshot progress across the socket, against the spec-validating fake
 * Firecracker ([guest] wait-ssh=false; its slow-snapshot mode writes the
 * memory file over 1.5 s): a bangerd (root, the in-process executor) in a
 * network namespace this test makes, two VMs of different memory sizes.
 *   - Two `banger vm snapshot` at once, each with its stderr on a
 *     terminal (a pty): each live line shows its own VM's steps and
 *     memory total, never the other one's (the CLI keeps to its call's
 *     op id, banger_client_get_last_op_id());
 *   - a third BangerClient, subscribed over its own connection, sees both
 *     snapshots' progress under two op ids: the steps in order, the
 *     memory's bytes growing to each VM's memory, and snapshot-created;
 *     then `banger snapshot rm` as snapshot-deleted.
 * Root only. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pty.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <banger.h>
#include <glib/gstdio.h>

#include "banger-cgroup.h"
#include "banger-test.h"

#ifndef BANGER_CLI_PATH
#error "BANGER_CLI_PATH must name the banger this build makes"
#endif
#ifndef BANGERD_PATH
#error "BANGERD_PATH must name the bangerd this build makes"
#endif
#ifndef FAKE_FIRECRACKER
#error "FAKE_FIRECRACKER must name tests/fakes/firecracker/fake-firecracker.py"
#endif

#define MIB (1024 * 1024)

/* The runner's pid: namespace, cgroup and directory are named from it, so
 * the runner removes what a failed test left. */
static int runner_pid;

static char *
ns_name (void)
{
  return g_strdup_printf ("banger-sp-%d", runner_pid);
}

static char *
test_dir (void)
{
  return g_strdup_printf ("%s/banger-sp-%d", g_get_tmp_dir (), runner_pid);
}

static char *
cgroup_root (void)
{
  g_autofree char *mount = banger_cgroup2_find_mount (NULL, NULL);
  return mount ? g_strdup_printf ("%s/banger-sp-%d.slice", mount, runner_pid) : NULL;
}

static gboolean
run (const char *const *argv)
{
  int status = -1;
  return g_spawn_sync (NULL, (char **)argv, NULL,
                       G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL
                           | G_SPAWN_STDERR_TO_DEV_NULL,
                       NULL, NULL, NULL, NULL, &status, NULL)
         && g_spawn_check_wait_status (status, NULL);
}

static void
daemon_child_setup (gpointer data)
{
  int fd = GPOINTER_TO_INT (data);
  if (setns (fd, CLONE_NEWNET) < 0)
    _exit (126);
  prctl (PR_SET_PDEATHSIG, SIGTERM);
}

/* The CLI with --socket; exit status; stderr in @err (nullable). */
static int
cli (const char *socket, char **err, const char *const *args)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autofree char *sock = g_strdup_printf ("--socket=%s", socket);
  int status = -1;

  g_ptr_array_add (argv, (char *)BANGER_CLI_PATH);
  g_ptr_array_add (argv, sock);
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (char *)args[i]);
  g_ptr_array_add (argv, NULL);
  ck_assert (g_spawn_sync (NULL, (char **)argv->pdata, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL,
                           NULL, err, &status, NULL));
  return WIFEXITED (status) ? WEXITSTATUS (status) : -1;
}

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

static PtyCli *
pty_cli_start (const char *socket, const char *const *args)
{
  PtyCli *c = g_new0 (PtyCli, 1);
  g_autoptr (GSubprocessLauncher) launcher
      = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE);
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autofree char *sock = g_strdup_printf ("--socket=%s", socket);
  g_autoptr (GError) error = NULL;
  int slave = -1;

  ck_assert_msg (openpty (&c->master, &slave, NULL, NULL, NULL) == 0, "openpty: %s",
                 g_strerror (errno));
  g_subprocess_launcher_take_stderr_fd (launcher, slave);
  g_subprocess_launcher_setenv (launcher, "TERM", "xterm", TRUE);
  g_ptr_array_add (argv, (char *)BANGER_CLI_PATH);
  g_ptr_array_add (argv, sock);
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (char *)args[i]);
  g_ptr_array_add (argv, NULL);
  c->proc = g_subprocess_launcher_spawnv (launcher, (const char *const *)argv->pdata, &error);
  ck_assert_msg (c->proc != NULL, "%s", error ? error->message : "?");
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

static void
subscribed (GObject *source, GAsyncResult *res, gpointer user_data)
{
  *(GAsyncResult **)user_data = g_object_ref (res);
}

START_TEST (test_two_snapshots)
{
  g_autofree char *ns = ns_name ();
  g_autofree char *dir = test_dir ();
  g_autofree char *cgroup = cgroup_root ();
  g_autofree char *fake = g_canonicalize_filename (FAKE_FIRECRACKER, NULL);
  g_autofree char *wrapper = NULL, *conf = NULL, *socket = NULL, *image = NULL, *kernel = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GSubprocess) daemon = NULL;
  g_autoptr (BangerClient) watcher = NULL;
  g_autoptr (GAsyncResult) res = NULL;
  g_autofree char *err = NULL, *text_a = NULL, *text_b = NULL, *op_a = NULL, *op_b = NULL;
  Seen seen = { g_ptr_array_new_with_free_func (g_free), g_ptr_array_new_with_free_func (g_free) };
  PtyCli *cli_a, *cli_b;

  if (geteuid () != 0 && banger_test_skip_part ("needs root (netns, the in-process executor)"))
    return;
  ck_assert_msg (cgroup != NULL, "no cgroup2 mount");
  ck_assert_msg (g_mkdir (dir, 0700) == 0, "%s: %s", dir, g_strerror (errno));
  {
    const char *add[] = { "ip", "netns", "add", ns, NULL };
    const char *lo[] = { "ip", "-n", ns, "link", "set", "lo", "up", NULL };
    ck_assert (run (add));
    ck_assert (run (lo));
  }
  /* the fake, slowed: the daemon's privileged launch gives a VMM a clean
   * environment, so the mode comes from a wrapper */
  wrapper = g_build_filename (dir, "slow-firecracker", NULL);
  {
    g_autofree char *text = g_strdup_printf ("#!/usr/bin/python3\nimport os, sys\n"
                                             "os.environ['FAKE_FC_MODE'] = 'slow-snapshot=1500'\n"
                                             "os.execv('%s', ['%s'] + sys.argv[1:])\n",
                                             fake, fake);
    ck_assert (g_file_set_contents (wrapper, text, -1, NULL));
    ck_assert (g_chmod (wrapper, 0755) == 0);
  }
  image = g_build_filename (dir, "rootfs.ext4", NULL);
  {
    g_autofree char *tree = g_build_filename (dir, "tree", "root", ".ssh", NULL);
    g_autofree char *top = g_build_filename (dir, "tree", NULL);
    const char *mkfs[] = { "mkfs.ext4", "-q", "-F", "-d", top, image, "16M", NULL };
    ck_assert (g_mkdir_with_parents (tree, 0700) == 0);
    ck_assert (run (mkfs));
  }
  kernel = g_build_filename (dir, "vmlinux", NULL);
  ck_assert (g_file_set_contents (kernel, "not a kernel: the fake boots nothing", -1, NULL));
  conf = g_build_filename (dir, "bangerd.conf", NULL);
  {
    g_autofree char *text = g_strdup_printf ("[host]\ncgroup=%s\n[network]\nsubnet=10.78.0.0/24\n"
                                             "[vmm]\nfirecracker=%s\n[guest]\nwait-ssh=false\n",
                                             cgroup, wrapper);
    ck_assert (g_file_set_contents (conf, text, -1, NULL));
  }
  socket = g_build_filename (dir, "run", "bangerd.sock", NULL);
  {
    g_autofree char *ns_path = g_build_filename ("/run/netns", ns, NULL);
    g_autofree char *log = g_build_filename (dir, "bangerd.log", NULL);
    g_autofree char *state = g_strdup_printf ("--state-dir=%s/state", dir);
    g_autofree char *rundir = g_strdup_printf ("--runtime-dir=%s/run", dir);
    g_autofree char *config = g_strdup_printf ("--config=%s", conf);
    g_autoptr (GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_NONE);
    int fd = open (ns_path, O_RDONLY | O_CLOEXEC);

    ck_assert_msg (fd >= 0, "%s: %s", ns_path, g_strerror (errno));
    g_subprocess_launcher_set_child_setup (launcher, daemon_child_setup, GINT_TO_POINTER (fd),
                                           NULL);
    g_subprocess_launcher_set_stderr_file_path (launcher, log);
    daemon
        = g_subprocess_launcher_spawn (launcher, &error, BANGERD_PATH, config, state, rundir, NULL);
    close (fd);
    ck_assert_msg (daemon != NULL, "bangerd: %s", error ? error->message : "?");
    for (int i = 0; i < 500 && !g_file_test (socket, G_FILE_TEST_EXISTS); i++)
      g_usleep (10 * 1000);
    ck_assert_msg (g_file_test (socket, G_FILE_TEST_EXISTS), "bangerd did not listen");
  }
  {
    const char *k[] = { "kernel", "add", "k", "--kernel", kernel, NULL };
    const char *im[] = { "image", "import", "img", "--rootfs", image, NULL };
    const char *a[] = { "vm", "create", "a",           "--image",  "img", "--kernel",
                        "k",  "--vmm",  "firecracker", "--memory", "96",  NULL };
    const char *b[] = { "vm", "create", "b",           "--image",  "img", "--kernel",
                        "k",  "--vmm",  "firecracker", "--memory", "192", NULL };
    ck_assert_msg (cli (socket, &err, k) == 0, "kernel add: %s", err);
    g_clear_pointer (&err, g_free);
    ck_assert_msg (cli (socket, &err, im) == 0, "image import: %s", err);
    g_clear_pointer (&err, g_free);
    ck_assert_msg (cli (socket, &err, a) == 0, "create a: %s", err);
    g_clear_pointer (&err, g_free);
    ck_assert_msg (cli (socket, &err, b) == 0, "create b: %s", err);
    g_clear_pointer (&err, g_free);
  }

  /* the watcher: a client of its own, subscribed */
  watcher = banger_client_new_for_socket (socket);
  g_signal_connect (watcher, "progress", G_CALLBACK (on_progress), &seen);
  g_signal_connect (watcher, "snapshot-created", G_CALLBACK (on_snapshot_created), &seen);
  g_signal_connect (watcher, "snapshot-deleted", G_CALLBACK (on_snapshot_deleted), &seen);
  banger_client_subscribe_async (watcher, NULL, subscribed, &res);
  while (res == NULL)
    g_main_context_iteration (NULL, TRUE);
  ck_assert_msg (banger_client_subscribe_finish (watcher, res, &error), "%s",
                 error ? error->message : "?");

  /* two snapshots at once, each CLI on a terminal */
  {
    const char *sa[] = { "vm", "snapshot", "a", "--name", "sa", NULL };
    const char *sb[] = { "vm", "snapshot", "b", "--name", "sb", NULL };
    cli_a = pty_cli_start (socket, sa);
    cli_b = pty_cli_start (socket, sb);
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
    ck_assert_msg (cli (socket, &err, rm) == 0, "snapshot rm: %s", err);
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
    cli (socket, NULL, rm_a);
    cli (socket, NULL, rm_b);
  }
  g_subprocess_send_signal (daemon, SIGTERM);
  g_subprocess_wait (daemon, NULL, NULL);
  g_ptr_array_unref (seen.progress);
  g_ptr_array_unref (seen.snapshots);
}
END_TEST

/* "1" into a cgroup.kill file. */
static void
cgroup_kill (const char *kill_file)
{
  int fd = open (kill_file, O_WRONLY | O_CLOEXEC);
  if (fd >= 0)
    {
      if (write (fd, "1", 1) != 1)
        g_printerr ("%s: %s\n", kill_file, g_strerror (errno));
      close (fd);
    }
}

static void
runner_setup (void)
{
  runner_pid = (int)getpid ();
}

static void
runner_teardown (void)
{
  g_autofree char *ns = ns_name ();
  g_autofree char *dir = test_dir ();
  g_autofree char *cgroup = cgroup_root ();
  g_autoptr (GDir) d = cgroup ? g_dir_open (cgroup, 0, NULL) : NULL;
  const char *n;

  while (d != NULL && (n = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *sub = g_build_filename (cgroup, n, NULL);
      g_autofree char *kill_file = g_build_filename (sub, "cgroup.kill", NULL);
      if (!g_file_test (sub, G_FILE_TEST_IS_DIR))
        continue;
      cgroup_kill (kill_file);
      for (int i = 0; i < 200 && g_rmdir (sub) < 0 && errno == EBUSY; i++)
        g_usleep (10 * 1000);
    }
  if (cgroup != NULL)
    g_rmdir (cgroup);
  {
    const char *del[] = { "ip", "netns", "del", ns, NULL };
    const char *rm[] = { "rm", "-rf", "--one-file-system", dir, NULL };
    run (del);
    run (rm);
  }
}

static Suite *
snapshot_progress_suite (void)
{
  Suite *s = suite_create ("e2e-snapshot-progress");
  TCase *tc = tcase_create ("fake-firecracker");

  tcase_add_unchecked_fixture (tc, runner_setup, runner_teardown);
  tcase_set_timeout (tc, 120);
  tcase_add_test (tc, test_two_snapshots);
  suite_add_tcase (s, tc);
  return s;
}

BANGER_TEST_MAIN (snapshot_progress_suite)
