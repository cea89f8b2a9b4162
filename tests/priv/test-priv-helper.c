/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Integration (root): the real bangerd-root binary ($BANGERD_ROOT) serving a
 * socket in a temporary directory, for an owner uid that exists nowhere
 * else (no user account needed: children switch to it with setresuid).
 * Every attack asserts that it is refused AND that nothing happened: the
 * helper never answered the request itself (a refusal before reading has
 * "id": null), and the helper still serves everybody else afterwards. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <grp.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "banger-test.h"
#include "banger-error.h"
#include "priv-test-wire.h"

#define OWNER_UID 61234
#define STRANGER_UID 61235

static char *tmpdir;
static char *sock_path;
static char *config_path;
static GPid helper_pid;

static const char *
helper_binary (void)
{
  const char *p = g_getenv ("BANGERD_ROOT");
  ck_assert_msg (p != NULL, "BANGERD_ROOT is not set");
  return p;
}

static void
write_config (guint cap)
{
  g_autofree char *text = g_strdup_printf (
      "[install]\nowner-uid=%d\nowner-gid=%d\nruntime-dir=%s/run\nstate-dir=%s/state\n"
      "[helper]\nsocket=%s\nmax-connections-per-uid=%u\nmessage-timeout-ms=500\n"
      "idle-timeout-ms=20000\n",
      OWNER_UID, OWNER_UID, tmpdir, tmpdir, sock_path, cap);
  ck_assert (g_file_set_contents (config_path, text, -1, NULL));
  ck_assert (chmod (config_path, 0644) == 0);
}

static gboolean
wait_for_socket (void)
{
  for (int i = 0; i < 500; i++)
    {
      int fd = wire_connect (sock_path, 1000);
      if (fd >= 0)
        {
          close (fd);
          return TRUE;
        }
      g_usleep (10 * 1000);
    }
  return FALSE;
}

static void
spawn_helper (void)
{
  g_autoptr (GError) error = NULL;
  const char *argv[] = { helper_binary (), "--config", config_path, NULL };

  ck_assert_msg (g_spawn_async (NULL, (char **) argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL,
                                &helper_pid, &error),
                 "spawn: %s", error ? error->message : "");
  ck_assert_msg (wait_for_socket (), "bangerd-root did not start serving");
}

static void
setup (void)
{
  tmpdir = g_dir_make_tmp ("banger-helper-XXXXXX", NULL);
  ck_assert (tmpdir != NULL);
  /* The owner and the stranger must be able to reach the socket's directory. */
  ck_assert (chmod (tmpdir, 0711) == 0);
  sock_path = g_build_filename (tmpdir, "root.sock", NULL);
  config_path = g_build_filename (tmpdir, "install.conf", NULL);
  write_config (16);
  spawn_helper ();
}

static void
teardown (void)
{
  int status = 0;

  if (helper_pid > 0)
    {
      kill (helper_pid, SIGTERM);
      waitpid (helper_pid, &status, 0);
      helper_pid = 0;
    }
  g_unlink (config_path);
  g_unlink (sock_path);
  g_rmdir (tmpdir);
  g_clear_pointer (&tmpdir, g_free);
  g_clear_pointer (&sock_path, g_free);
  g_clear_pointer (&config_path, g_free);
}

/* priv.status as the current process: returns the reply's code. */
static char *
call_status (gint64 id, gint64 *out_id)
{
  g_autofree char *req = g_strdup_printf ("{\"id\":%" G_GINT64_FORMAT ",\"method\":\"priv.status\",\"params\":{}}", id);
  g_autofree char *reply = NULL;
  int fd = wire_connect (sock_path, 5000);

  if (fd < 0)
    return g_strdup_printf ("(connect: %s)", g_strerror (errno));
  if (!wire_send_str (fd, req))
    {
      close (fd);
      return g_strdup ("(send failed)");
    }
  reply = wire_read (fd);
  close (fd);
  return wire_reply_code (reply, out_id, NULL);
}

static void
assert_root_served (void)
{
  gint64 id = 0;
  g_autofree char *code = call_status (4242, &id);
  ck_assert_msg (g_str_equal (code, "ok"), "root not served: %s", code);
  ck_assert_int_eq (id, 4242);
}

/* Run @fn in a child as @uid; returns its exit status (0 = passed). */
static int
as_uid (uid_t uid, int (*fn) (gpointer), gpointer data)
{
  pid_t pid = fork ();
  int status = 0;

  ck_assert (pid >= 0);
  if (pid == 0)
    {
      if (setgroups (0, NULL) < 0 || setresgid (uid, uid, uid) < 0 || setresuid (uid, uid, uid) < 0)
        _exit (100);
      _exit (fn (data));
    }
  ck_assert (waitpid (pid, &status, 0) == pid);
  ck_assert_msg (WIFEXITED (status), "child killed by a signal");
  return WEXITSTATUS (status);
}

static int
child_status_ok (gpointer data)
{
  gint64 id = 0;
  g_autofree char *code = call_status (7, &id);
  return g_str_equal (code, "ok") && id == 7 ? 0 : 1;
}

START_TEST (test_owner_and_root_served)
{
  struct stat st;

  ck_assert (lstat (sock_path, &st) == 0);
  ck_assert_uint_eq (st.st_mode & 07777, 0600);
  ck_assert_uint_eq (st.st_uid, OWNER_UID);
  assert_root_served ();
  ck_assert_int_eq (as_uid (OWNER_UID, child_status_ok, NULL), 0);
}
END_TEST

/* The stranger: 0 = connect refused by the socket's mode (EACCES); 2 = got
 * a permission-denied reply with id null, then EOF; others = failure. */
static int
child_stranger (gpointer data)
{
  g_autofree char *reply = NULL;
  g_autofree char *code = NULL;
  gint64 id = 0;
  int fd = wire_connect (sock_path, 5000);

  if (fd < 0)
    return errno == EACCES ? 0 : 10;
  /* Send a request anyway: it must not be read, let alone executed. */
  (void) wire_send_str (fd, "{\"id\":1,\"method\":\"priv.status\",\"params\":{}}");
  reply = wire_read (fd);
  code = wire_reply_code (reply, &id, NULL);
  if (!g_str_equal (code, "permission-denied") || id != -1)
    return 11;
  if (!wire_wait_eof (fd, 3000))
    return 12;
  return 2;
}

START_TEST (test_stranger_refused)
{
  /* Layer 1: the socket is 0600 and owned by the owner. */
  ck_assert_int_eq (as_uid (STRANGER_UID, child_stranger, NULL), 0);
  /* Layer 2: with the socket opened up by mistake, SO_PEERCRED still
   * refuses the stranger before reading a byte. */
  ck_assert (chmod (sock_path, 0666) == 0);
  ck_assert_int_eq (as_uid (STRANGER_UID, child_stranger, NULL), 2);
  /* ...while the owner and root are still served. */
  ck_assert_int_eq (as_uid (OWNER_UID, child_status_ok, NULL), 0);
  assert_root_served ();
}
END_TEST

START_TEST (test_config_must_be_roots)
{
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  int status = 0;
  const char *argv[] = { helper_binary (), "--config", config_path, "--socket", NULL, NULL };
  g_autofree char *other = g_build_filename (tmpdir, "other.sock", NULL);

  argv[4] = other;
  /* A config the owner could edit would let the owner pick the binaries run
   * as root: refused, and nothing is served. */
  ck_assert (chown (config_path, OWNER_UID, OWNER_UID) == 0);
  ck_assert (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err,
                           &status, NULL));
  ck_assert_msg (WIFEXITED (status) && WEXITSTATUS (status) == 1, "status %d", status);
  ck_assert_msg (strstr (err, "owned by root") != NULL, "%s", err);
  ck_assert (!g_file_test (other, G_FILE_TEST_EXISTS));
  ck_assert (chown (config_path, 0, 0) == 0);
  ck_assert (chmod (config_path, 0666) == 0);
  g_clear_pointer (&err, g_free);
  g_clear_pointer (&out, g_free);
  ck_assert (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err,
                           &status, NULL));
  /* refused for the mode, with the same sentence, exit status 1 */
  ck_assert_msg (WIFEXITED (status) && WEXITSTATUS (status) == 1, "status %d", status);
  ck_assert_msg (strstr (err, "writable only by root") != NULL, "%s", err);
  ck_assert (!g_file_test (other, G_FILE_TEST_EXISTS));
  ck_assert (chmod (config_path, 0644) == 0);
}
END_TEST

static void
attack (const void *msg, gsize len, const char *want_code, gboolean want_close)
{
  g_autofree char *reply = NULL;
  g_autofree char *code = NULL;
  gint64 id = 0;
  int fd = wire_connect (sock_path, 5000);

  ck_assert (fd >= 0);
  (void) wire_send (fd, msg, len);
  reply = wire_read (fd);
  code = wire_reply_code (reply, &id, NULL);
  ck_assert_msg (g_str_equal (code, want_code), "got %s, want %s", code, want_code);
  if (want_close)
    {
      ck_assert_int_eq (id, -1);
      ck_assert_msg (wire_wait_eof (fd, 3000), "connection not closed");
    }
  close (fd);
  assert_root_served ();
}

START_TEST (test_oversize_message)
{
  gsize n = 64 * 1024 + 1;
  g_autofree char *big = g_malloc (n + 1);
  const char *head = "{\"id\":1,\"method\":\"priv.status\",\"params\":{}}";

  memset (big, ' ', n);
  memcpy (big, head, strlen (head));
  big[n] = '\0';
  attack (big, n + 1, "limit-exceeded", TRUE);
  /* 64 KiB exactly is a message like any other. */
  big[n - 1] = '\0';
  attack (big, n, "ok", FALSE);
}
END_TEST

START_TEST (test_endless_message)
{
  /* no NUL, ever: the 500 ms read deadline of the config closes it */
  const char *never_ends = "{\"id\":1,\"method\":\"priv.status\"";
  gint64 t0 = g_get_monotonic_time ();

  attack (never_ends, strlen (never_ends), "timed-out", TRUE);
  ck_assert_int_ge (g_get_monotonic_time () - t0, 450 * 1000);
}
END_TEST

START_TEST (test_malformed_messages)
{
  GString *deep = g_string_new ("{\"id\":1,\"method\":\"priv.status\",\"params\":{\"x\":");
  const char *dup = "{\"id\":1,\"method\":\"priv.status\",\"params\":{},\"params\":{}}";
  const char *dup_inner = "{\"id\":1,\"method\":\"priv.kill_process\",\"params\":{\"pid\":2,\"pid\":1}}";
  const char *unknown = "{\"id\":1,\"method\":\"priv.exec\",\"params\":{\"argv\":\"/bin/sh\"}}";
  const char *unknown_key = "{\"id\":1,\"method\":\"priv.status\",\"params\":{\"verbose\":true}}";

  for (int i = 0; i < 1000; i++)
    g_string_append_c (deep, '[');
  for (int i = 0; i < 1000; i++)
    g_string_append_c (deep, ']');
  g_string_append (deep, "}}");
  attack (deep->str, deep->len + 1, "limit-exceeded", TRUE);
  attack (dup, strlen (dup) + 1, "protocol", TRUE);
  attack (dup_inner, strlen (dup_inner) + 1, "protocol", TRUE);
  attack (unknown, strlen (unknown) + 1, "unsupported", FALSE);
  attack (unknown_key, strlen (unknown_key) + 1, "invalid-argument", FALSE);
  attack ("{\"id\":1,\"method\":\"priv.status\"}\xff", 33, "protocol", TRUE);
  g_string_free (deep, TRUE);
}
END_TEST

START_TEST (test_pipelined_in_order)
{
  GString *batch = g_string_new (NULL);
  int fd = wire_connect (sock_path, 5000);

  ck_assert (fd >= 0);
  for (int i = 0; i < 20; i++)
    {
      if (i % 5 == 2)
        g_string_append_printf (batch, "{\"id\":%d,\"method\":\"priv.nope\"}", 100 + i);
      else
        g_string_append_printf (batch, "{\"id\":%d,\"method\":\"priv.status\"}", 100 + i);
      g_string_append_c (batch, '\0');
    }
  ck_assert (wire_send (fd, batch->str, batch->len));
  for (int i = 0; i < 20; i++)
    {
      g_autofree char *reply = wire_read (fd);
      g_autofree char *code = NULL;
      gint64 id = 0;

      code = wire_reply_code (reply, &id, NULL);
      ck_assert_int_eq (id, 100 + i);
      ck_assert_str_eq (code, i % 5 == 2 ? "unsupported" : "ok");
    }
  close (fd);
  g_string_free (batch, TRUE);
}
END_TEST

typedef struct
{
  int n;
  int report_fd; /* the child writes "<refused> <open>\n" here, then waits */
  int hold_fd;   /* ...and exits when this is closed */
} Flood;

static int
child_flood (gpointer data)
{
  Flood *f = data;
  g_autofree int *fds = g_new (int, f->n);
  int refused = 0, open_ = 0;
  char line[64];
  char c;

  for (int i = 0; i < f->n; i++)
    {
      struct sockaddr_un sa = { .sun_family = AF_UNIX };
      fds[i] = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
      g_strlcpy (sa.sun_path, sock_path, sizeof sa.sun_path);
      if (fds[i] < 0 || connect (fds[i], (struct sockaddr *) &sa, sizeof sa) < 0)
        return 20;
    }
  /* Give the helper time to answer (or refuse) every one of them. */
  g_usleep (1500 * 1000);
  for (int i = 0; i < f->n; i++)
    {
      struct pollfd pfd = { fds[i], POLLIN, 0 };
      if (poll (&pfd, 1, 0) == 1)
        refused++; /* a limit-exceeded reply and EOF are waiting */
      else
        open_++;
    }
  g_snprintf (line, sizeof line, "%d %d\n", refused, open_);
  if (write (f->report_fd, line, strlen (line)) < 0)
    return 21;
  (void) read (f->hold_fd, &c, 1);
  return 0;
}

static void
flood (uid_t uid, int n, int expect_open_max)
{
  Flood f = { n, -1, -1 };
  int report[2], hold[2];
  pid_t pid;
  int status = 0, refused = -1, open_ = -1;
  char line[64] = { 0 };
  gint64 t0;
  struct rlimit rl = { 4096, 4096 };

  ck_assert (pipe2 (report, O_CLOEXEC) == 0 && pipe2 (hold, O_CLOEXEC) == 0);
  f.report_fd = report[1];
  f.hold_fd = hold[0];
  pid = fork ();
  ck_assert (pid >= 0);
  if (pid == 0)
    {
      close (report[0]);
      close (hold[1]);
      /* raise the fd limit while still root, then become @uid */
      if (setrlimit (RLIMIT_NOFILE, &rl) < 0 || setgroups (0, NULL) < 0
          || setresgid (uid, uid, uid) < 0 || setresuid (uid, uid, uid) < 0)
        _exit (100);
      _exit (child_flood (&f));
    }
  close (report[1]);
  close (hold[0]);
  /* While the 1000 connections are being made and held, root's request
   * still gets through, promptly. */
  t0 = g_get_monotonic_time ();
  assert_root_served ();
  ck_assert_int_le (g_get_monotonic_time () - t0, 3000 * 1000);
  ck_assert (read (report[0], line, sizeof line - 1) > 0);
  ck_assert (sscanf (line, "%d %d", &refused, &open_) == 2);
  ck_assert_msg (open_ <= expect_open_max, "%d connections stayed open (max %d)", open_,
                 expect_open_max);
  ck_assert_int_eq (refused + open_, n);
  t0 = g_get_monotonic_time ();
  assert_root_served ();
  ck_assert_int_le (g_get_monotonic_time () - t0, 3000 * 1000);
  close (hold[1]);
  ck_assert (waitpid (pid, &status, 0) == pid);
  ck_assert_msg (WIFEXITED (status) && WEXITSTATUS (status) == 0, "flood child failed: %d",
                 WEXITSTATUS (status));
  close (report[0]);
  assert_root_served ();
}

START_TEST (test_flood_by_owner)
{
  /* The owner opens 1000 connections at once: 16 (the cap) are served, the
   * rest refused at once; root is served all along. */
  flood (OWNER_UID, 1000, 16);
}
END_TEST

START_TEST (test_flood_by_stranger)
{
  ck_assert (chmod (sock_path, 0666) == 0);
  flood (STRANGER_UID, 1000, 0);
}
END_TEST

START_TEST (test_socket_activation)
{
  struct sockaddr_un sa = { .sun_family = AF_UNIX };
  g_autofree char *act_path = g_build_filename (tmpdir, "act.sock", NULL);
  int lfd = socket (AF_UNIX, SOCK_STREAM, 0);
  pid_t pid;
  int status;
  gint64 id = 0;
  g_autofree char *code = NULL;
  char *saved = sock_path;

  g_strlcpy (sa.sun_path, act_path, sizeof sa.sun_path);
  ck_assert (bind (lfd, (struct sockaddr *) &sa, sizeof sa) == 0);
  ck_assert (listen (lfd, 16) == 0);
  pid = fork ();
  ck_assert (pid >= 0);
  if (pid == 0)
    {
      char pidbuf[32];
      g_snprintf (pidbuf, sizeof pidbuf, "%d", (int) getpid ());
      if (dup2 (lfd, 3) < 0)
        _exit (127);
      setenv ("LISTEN_PID", pidbuf, 1);
      setenv ("LISTEN_FDS", "1", 1);
      execl (helper_binary (), helper_binary (), "--config", config_path, (char *) NULL);
      _exit (127);
    }
  close (lfd);
  sock_path = act_path;
  for (int i = 0; i < 200; i++)
    {
      g_clear_pointer (&code, g_free);
      code = call_status (31, &id);
      if (g_str_equal (code, "ok"))
        break;
      g_usleep (10 * 1000);
    }
  sock_path = saved;
  ck_assert_str_eq (code, "ok");
  ck_assert_int_eq (id, 31);
  kill (pid, SIGTERM);
  ck_assert (waitpid (pid, &status, 0) == pid);
  ck_assert (WIFEXITED (status) && WEXITSTATUS (status) == 0);
  g_unlink (act_path);
}
END_TEST

/* ----------------------------------------------------------- side effects
 * priv.mkfs_work_disk has a visible effect (an ext4 superblock, magic 0xEF53
 * at byte 1080): every refused variant of the request must leave the disk
 * untouched, and the well-formed one (the control) must format it — which
 * proves the refusals are what kept it clean. */

static gboolean
has_ext4_magic (const char *path)
{
  guint8 magic[2] = { 0, 0 };
  int fd = open (path, O_RDONLY | O_CLOEXEC);

  ck_assert (fd >= 0);
  ck_assert (pread (fd, magic, 2, 1080) == 2);
  close (fd);
  return magic[0] == 0x53 && magic[1] == 0xef;
}

static int
child_stranger_mkfs (gpointer data)
{
  g_autofree char *req = g_strdup_printf (
      "{\"id\":1,\"method\":\"priv.mkfs_work_disk\",\"params\":{\"path\":\"%s\"}}", (char *) data);
  g_autofree char *reply = NULL;
  g_autofree char *code = NULL;
  gint64 id = 0;
  int fd = wire_connect (sock_path, 5000);

  if (fd < 0)
    return 10;
  (void) wire_send_str (fd, req);
  reply = wire_read (fd);
  code = wire_reply_code (reply, &id, NULL);
  return g_str_equal (code, "permission-denied") && id == -1 ? 0 : 11;
}

START_TEST (test_refusals_have_no_side_effect)
{
  g_autofree char *state = g_build_filename (tmpdir, "state", NULL);
  g_autofree char *disk = g_build_filename (state, "work.img", NULL);
  g_autofree char *p = NULL;
  GString *deep = NULL;
  gsize big_n = 64 * 1024 + 1;
  g_autofree char *big = g_malloc (big_n + 1);
  g_autofree char *msg = NULL;
  int fd;

  ck_assert (g_mkdir (state, 0755) == 0);
  fd = open (disk, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  ck_assert (fd >= 0 && ftruncate (fd, 64 * 1024 * 1024) == 0);
  close (fd);
  ck_assert (chown (disk, OWNER_UID, OWNER_UID) == 0);
  p = g_strdup_printf ("\"path\":\"%s\"", disk);

  /* duplicate key (the two values even agree) */
  msg = g_strdup_printf ("{\"id\":1,\"method\":\"priv.mkfs_work_disk\",\"params\":{%s,%s}}", p, p);
  attack (msg, strlen (msg) + 1, "protocol", TRUE);
  g_free (msg);
  /* duplicate envelope key */
  msg = g_strdup_printf ("{\"id\":1,\"id\":2,\"method\":\"priv.mkfs_work_disk\",\"params\":{%s}}", p);
  attack (msg, strlen (msg) + 1, "protocol", TRUE);
  g_free (msg);
  /* unknown parameter */
  msg = g_strdup_printf ("{\"id\":1,\"method\":\"priv.mkfs_work_disk\",\"params\":{%s,\"force\":true}}", p);
  attack (msg, strlen (msg) + 1, "invalid-argument", FALSE);
  g_free (msg);
  /* wrong envelope type */
  msg = g_strdup_printf ("{\"id\":\"1\",\"method\":\"priv.mkfs_work_disk\",\"params\":{%s}}", p);
  attack (msg, strlen (msg) + 1, "protocol", TRUE);
  g_free (msg);
  /* nesting 1000 next to a valid path */
  deep = g_string_new (NULL);
  g_string_append_printf (deep, "{\"id\":1,\"method\":\"priv.mkfs_work_disk\",\"params\":{%s,\"x\":", p);
  for (int i = 0; i < 1000; i++)
    g_string_append_c (deep, '[');
  for (int i = 0; i < 1000; i++)
    g_string_append_c (deep, ']');
  g_string_append (deep, "}}");
  attack (deep->str, deep->len + 1, "limit-exceeded", TRUE);
  g_string_free (deep, TRUE);
  /* 64 KiB + 1: a valid request padded past the bound */
  msg = g_strdup_printf ("{\"id\":1,\"method\":\"priv.mkfs_work_disk\",\"params\":{%s}}", p);
  memset (big, ' ', big_n);
  memcpy (big, msg, strlen (msg));
  big[big_n] = '\0';
  attack (big, big_n + 1, "limit-exceeded", TRUE);
  /* a valid request that never ends */
  attack (msg, strlen (msg), "timed-out", TRUE);
  /* a valid request from a stranger (socket opened up by mistake) */
  ck_assert (chmod (sock_path, 0666) == 0);
  ck_assert_int_eq (as_uid (STRANGER_UID, child_stranger_mkfs, disk), 0);
  ck_assert_msg (!has_ext4_magic (disk), "a refused request formatted the disk");

  /* the control: the same request, well-formed, from root */
  attack (msg, strlen (msg) + 1, "ok", FALSE);
  ck_assert_msg (has_ext4_magic (disk), "the control request did not format the disk");
  g_unlink (disk);
  g_rmdir (state);
}
END_TEST

static Suite *
helper_suite (void)
{
  Suite *s = suite_create ("priv-helper");
  TCase *tc = tcase_create ("bangerd-root");

  tcase_set_timeout (tc, 60);
  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_add_test (tc, test_owner_and_root_served);
  tcase_add_test (tc, test_stranger_refused);
  tcase_add_test (tc, test_config_must_be_roots);
  tcase_add_test (tc, test_oversize_message);
  tcase_add_test (tc, test_endless_message);
  tcase_add_test (tc, test_malformed_messages);
  tcase_add_test (tc, test_pipelined_in_order);
  tcase_add_test (tc, test_flood_by_owner);
  tcase_add_test (tc, test_flood_by_stranger);
  tcase_add_test (tc, test_socket_activation);
  tcase_add_test (tc, test_refusals_have_no_side_effect);
  suite_add_tcase (s, tc);
  return s;
}

BANGER_TEST_MAIN_ROOT (helper_suite, "switches uids, runs bangerd-root")
