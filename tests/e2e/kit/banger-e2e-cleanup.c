/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The e2e cleanup ledger and its sweep (see banger-e2e-cleanup.h). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "banger-cgroup.h"
#include "banger-e2e-cleanup.h"
#include "banger-guest-kit.h"
#include "banger-pidfd.h"
#include "banger-proc-identity.h"

#define LEDGER_PREFIX "banger-e2e-"
#define LEDGER_SUFFIX ".ledger"
/* how long killed processes and emptied cgroups are waited for */
#define KILL_WAIT_MS 5000
/* nesting of VM cgroups under a root (scope, the jailer's below it) */
#define CGROUP_MAX_DEPTH 4

static pid_t owner_pid;

static char *
ledger_path_of (pid_t pid)
{
  g_autofree char *name = g_strdup_printf (LEDGER_PREFIX "%d" LEDGER_SUFFIX, (int)pid);
  return g_build_filename (g_get_tmp_dir (), name, NULL);
}

static pid_t
owner (void)
{
  if (owner_pid == 0)
    owner_pid = getpid ();
  return owner_pid;
}

/* ------------------------------------------------------------- writing */

static gboolean
note (const char *kind, const char *value, GError **error)
{
  g_autofree char *path = ledger_path_of (owner ());
  g_autofree char *line = NULL;
  struct stat st;
  gssize n;
  int fd;

  if (strchr (value, '\n') != NULL)
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
                   "a cleanup ledger entry has no newline: '%s'", value);
      return FALSE;
    }
  line = g_strdup_printf ("%s %s\n", kind, value);
  fd = open (path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0 || fstat (fd, &st) < 0 || !S_ISREG (st.st_mode) || st.st_uid != geteuid ())
    {
      int errsv = fd < 0 ? errno : EPERM;
      if (fd >= 0)
        close (fd);
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errsv),
                   "cannot write the cleanup ledger '%s': %s", path, g_strerror (errsv));
      return FALSE;
    }
  n = write (fd, line, strlen (line));
  close (fd);
  if (n != (gssize)strlen (line))
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_IO, "cannot write the cleanup ledger '%s'",
                   path);
      return FALSE;
    }
  return TRUE;
}

gboolean
banger_e2e_cleanup_note_netns (const char *name, GError **error)
{
  return note ("netns", name, error);
}

gboolean
banger_e2e_cleanup_note_cgroup (const char *path, GError **error)
{
  return note ("cgroup", path, error);
}

gboolean
banger_e2e_cleanup_note_dir (const char *path, GError **error)
{
  return note ("dir", path, error);
}

gboolean
banger_e2e_cleanup_note_process (GPid pid, GError **error)
{
  g_autofree char *value = NULL;
  guint64 start = 0;

  if (!banger_proc_start_time (pid, &start, error))
    return FALSE;
  value = g_strdup_printf ("%d:%" G_GUINT64_FORMAT, (int)pid, start);
  return note ("pid", value, error);
}

/* ------------------------------------------------------------- reading */

typedef struct
{
  GPtrArray *netns;   /* names */
  GPtrArray *cgroups; /* paths */
  GPtrArray *dirs;
  GArray *pids; /* Proc */
} Ledger;

typedef struct
{
  pid_t pid;
  guint64 start;
} Proc;

static void
ledger_clear (Ledger *l)
{
  g_clear_pointer (&l->netns, g_ptr_array_unref);
  g_clear_pointer (&l->cgroups, g_ptr_array_unref);
  g_clear_pointer (&l->dirs, g_ptr_array_unref);
  g_clear_pointer (&l->pids, g_array_unref);
}

static void
add_unique (GPtrArray *a, const char *v)
{
  for (guint i = 0; i < a->len; i++)
    if (g_str_equal (a->pdata[i], v))
      return;
  g_ptr_array_add (a, g_strdup (v));
}

/* A ledger may be another run's, left in a shared tmp: only entries that
 * name what the kit makes are taken (a namespace name, a cgroup below the
 * cgroup2 mount, a directory directly in tmp). */
static gboolean
netns_name_ok (const char *v)
{
  if (v[0] == '\0' || v[0] == '.' || strlen (v) > 64)
    return FALSE;
  for (const char *p = v; *p; p++)
    if (!g_ascii_isalnum (*p) && *p != '-' && *p != '_' && *p != '.')
      return FALSE;
  return TRUE;
}

static gboolean
path_ok (const char *v, const char *parent, gboolean direct_child)
{
  g_autofree char *dir = NULL;

  if (parent == NULL || !g_path_is_absolute (v) || strstr (v, "/..") != NULL
      || strstr (v, "//") != NULL || !g_str_has_prefix (v, parent) || v[strlen (parent)] != '/'
      || v[strlen (parent) + 1] == '\0')
    return FALSE;
  if (!direct_child)
    return TRUE;
  dir = g_path_get_dirname (v);
  return g_str_equal (dir, parent);
}

static gboolean
ledger_read (const char *path, Ledger *l)
{
  g_autofree char *cg_mount = banger_cgroup2_find_mount (NULL, NULL);
  g_autofree char *tmp = g_canonicalize_filename (g_get_tmp_dir (), "/");
  g_autofree char *text = NULL;
  g_auto (GStrv) lines = NULL;
  struct stat st;
  int fd = open (path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

  if (fd < 0)
    return FALSE;
  if (fstat (fd, &st) < 0 || !S_ISREG (st.st_mode) || st.st_uid != geteuid ()
      || (st.st_mode & 0022) != 0 || st.st_size > 1024 * 1024)
    {
      close (fd);
      g_printerr ("# cleanup: ignoring '%s' (not a ledger of this user)\n", path);
      return FALSE;
    }
  text = g_malloc0 (st.st_size + 1);
  if (read (fd, text, st.st_size) != st.st_size)
    {
      close (fd);
      return FALSE;
    }
  close (fd);
  l->netns = g_ptr_array_new_with_free_func (g_free);
  l->cgroups = g_ptr_array_new_with_free_func (g_free);
  l->dirs = g_ptr_array_new_with_free_func (g_free);
  l->pids = g_array_new (FALSE, FALSE, sizeof (Proc));
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      const char *sp = strchr (lines[i], ' ');
      g_autofree char *kind = sp ? g_strndup (lines[i], sp - lines[i]) : NULL;
      const char *v = sp ? sp + 1 : NULL;

      if (kind == NULL)
        continue;
      if (g_str_equal (kind, "netns") && netns_name_ok (v))
        add_unique (l->netns, v);
      else if (g_str_equal (kind, "cgroup") && path_ok (v, cg_mount, FALSE))
        add_unique (l->cgroups, v);
      else if (g_str_equal (kind, "dir") && path_ok (v, tmp, TRUE))
        add_unique (l->dirs, v);
      else if (g_str_equal (kind, "pid"))
        {
          Proc p = { 0 };
          char *end = NULL;
          p.pid = (pid_t)g_ascii_strtoll (v, &end, 10);
          if (p.pid > 1 && end != NULL && *end == ':')
            {
              p.start = g_ascii_strtoull (end + 1, NULL, 10);
              g_array_append_val (l->pids, p);
            }
        }
      else
        g_printerr ("# cleanup: ignoring the ledger line '%s'\n", lines[i]);
    }
  return TRUE;
}

/* ------------------------------------------------------------- killing */

static void
cgroup_kill (const char *cgroup)
{
  g_autofree char *path = g_build_filename (cgroup, "cgroup.kill", NULL);
  int fd = open (path, O_WRONLY | O_CLOEXEC);

  if (fd < 0)
    {
      if (errno != ENOENT)
        g_printerr ("# cleanup: %s: %s\n", path, g_strerror (errno));
      return;
    }
  if (write (fd, "1", 1) != 1)
    g_printerr ("# cleanup: %s: %s\n", path, g_strerror (errno));
  close (fd);
}

static gboolean
cgroup_populated (const char *cgroup)
{
  g_autofree char *path = g_build_filename (cgroup, "cgroup.events", NULL);
  g_autofree char *text = NULL;

  return g_file_get_contents (path, &text, NULL, NULL) && strstr (text, "populated 1") != NULL;
}

static void
cgroup_rmdir_tree (const char *cgroup, guint depth)
{
  g_autoptr (GDir) d = depth < CGROUP_MAX_DEPTH ? g_dir_open (cgroup, 0, NULL) : NULL;
  const char *name;

  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *sub = g_build_filename (cgroup, name, NULL);
      if (g_file_test (sub, G_FILE_TEST_IS_DIR) && !g_file_test (sub, G_FILE_TEST_IS_SYMLINK))
        cgroup_rmdir_tree (sub, depth + 1);
    }
  if (g_rmdir (cgroup) < 0 && errno != ENOENT)
    g_printerr ("# cleanup: cannot remove the cgroup %s: %s\n", cgroup, g_strerror (errno));
}

/* A process killed by a sweep: waited for through its pidfd, then until
 * it is reaped (by its parent, or init once that died too). */
typedef struct
{
  int pidfd;
  pid_t pid;
  guint64 start;
} Killed;

/* SIGKILL through a pidfd when @pid is still the process that started at
 * @start; appended to @killed.  Whether it was. */
static gboolean
kill_verified (pid_t pid, guint64 start, GArray *killed)
{
  Killed k = { banger_pidfd_open_verified (pid, start, NULL), pid, start };

  if (k.pidfd < 0)
    return FALSE;
  if (banger_pidfd_send_signal (k.pidfd, SIGKILL) < 0)
    {
      close (k.pidfd);
      return FALSE;
    }
  g_array_append_val (killed, k);
  return TRUE;
}

/* The processes in @cgroup and below (pidfds, to wait for them after
 * cgroup.kill), appended to @killed. */
static void
hold_cgroup_procs (const char *cgroup, guint depth, GArray *killed)
{
  g_autofree char *procs_path = g_build_filename (cgroup, "cgroup.procs", NULL);
  g_autofree char *procs = NULL;
  g_autoptr (GDir) d = NULL;
  const char *name;

  if (g_file_get_contents (procs_path, &procs, NULL, NULL))
    {
      g_auto (GStrv) pids = g_strsplit (procs, "\n", -1);
      for (guint i = 0; pids[i] != NULL; i++)
        {
          Killed k = { -1, (pid_t)g_ascii_strtoll (pids[i], NULL, 10), 0 };
          if (k.pid <= 1 || !banger_proc_start_time (k.pid, &k.start, NULL))
            continue;
          k.pidfd = banger_pidfd_open_verified (k.pid, k.start, NULL);
          if (k.pidfd >= 0)
            g_array_append_val (killed, k);
        }
    }
  d = depth < CGROUP_MAX_DEPTH ? g_dir_open (cgroup, 0, NULL) : NULL;
  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *sub = g_build_filename (cgroup, name, NULL);
      if (g_file_test (sub, G_FILE_TEST_IS_DIR) && !g_file_test (sub, G_FILE_TEST_IS_SYMLINK))
        hold_cgroup_procs (sub, depth + 1, killed);
    }
}

/* Wait (bounded) for each killed process to exit and to be reaped: a
 * zombie still shows in `pgrep`. */
static void
wait_killed (GArray *killed)
{
  gint64 deadline = g_get_monotonic_time () + KILL_WAIT_MS * 1000;

  for (guint i = 0; i < killed->len; i++)
    {
      Killed *k = &g_array_index (killed, Killed, i);
      gint64 left = (deadline - g_get_monotonic_time ()) / 1000;
      guint64 now = 0;

      /* (not reaped here: a child of ours is a GSubprocess's, which reaps
       * it) */
      if (!banger_pidfd_wait_exit (k->pidfd, (int)MAX (left, 0)))
        g_printerr ("# cleanup: process %d did not exit within %d ms of SIGKILL\n", (int)k->pid,
                    KILL_WAIT_MS);
      close (k->pidfd);
      while (g_get_monotonic_time () < deadline && banger_proc_start_time (k->pid, &now, NULL)
             && now == k->start)
        g_usleep (10 * 1000);
    }
}

/* Every process in the namespace @name (not this one), killed (appended
 * to @killed).  How many. */
static guint
kill_netns (const char *name, GArray *killed)
{
  g_autofree char *ns_path = g_build_filename ("/run/netns", name, NULL);
  g_autoptr (GDir) proc = NULL;
  struct stat ns;
  const char *entry;
  guint n = 0;

  if (stat (ns_path, &ns) < 0)
    return 0;
  proc = g_dir_open ("/proc", 0, NULL);
  while (proc != NULL && (entry = g_dir_read_name (proc)) != NULL)
    {
      g_autofree char *link = NULL;
      char *end = NULL;
      pid_t pid = (pid_t)g_ascii_strtoll (entry, &end, 10);
      guint64 start = 0;
      struct stat st;

      if (end == NULL || *end != '\0' || pid <= 1 || pid == getpid ())
        continue;
      /* the start time first: a pid recycled after it is refused by the
       * verified pidfd */
      if (!banger_proc_start_time (pid, &start, NULL))
        continue;
      link = g_strdup_printf ("/proc/%d/ns/net", (int)pid);
      if (stat (link, &st) < 0 || st.st_dev != ns.st_dev || st.st_ino != ns.st_ino)
        continue;
      if (kill_verified (pid, start, killed))
        n++;
    }
  return n;
}

static void
run_quiet (const char *const *argv)
{
  g_autoptr (GError) error = NULL;

  if (!banger_kit_run (argv, NULL, &error))
    g_printerr ("# cleanup: %s\n", error->message);
}

static void
sweep_ledger (const char *path)
{
  Ledger l = { 0 };
  g_autoptr (GArray) killed = g_array_new (FALSE, FALSE, sizeof (Killed));

  if (!ledger_read (path, &l))
    return;
  /* kill: cgroups (their whole subtree), the processes written down, and
   * whatever runs in the namespaces */
  for (guint i = 0; i < l.cgroups->len; i++)
    if (cgroup_populated (l.cgroups->pdata[i]))
      {
        guint before = killed->len;
        hold_cgroup_procs (l.cgroups->pdata[i], 0, killed);
        g_printerr ("# cleanup: killing the %u processes left in %s\n", killed->len - before,
                    (char *)l.cgroups->pdata[i]);
        cgroup_kill (l.cgroups->pdata[i]);
      }
  for (guint i = 0; i < l.pids->len; i++)
    {
      Proc *p = &g_array_index (l.pids, Proc, i);
      if (kill_verified (p->pid, p->start, killed))
        g_printerr ("# cleanup: killed process %d\n", (int)p->pid);
    }
  for (guint i = 0; i < l.netns->len; i++)
    {
      guint n = kill_netns (l.netns->pdata[i], killed);
      if (n > 0)
        g_printerr ("# cleanup: killed %u processes in the namespace %s\n", n,
                    (char *)l.netns->pdata[i]);
    }
  wait_killed (killed);

  /* remove */
  for (guint i = 0; i < l.cgroups->len; i++)
    {
      const char *cg = l.cgroups->pdata[i];
      for (int t = 0; t < KILL_WAIT_MS / 10 && cgroup_populated (cg); t++)
        g_usleep (10 * 1000);
      cgroup_rmdir_tree (cg, 0);
    }
  for (guint i = 0; i < l.netns->len; i++)
    {
      g_autofree char *ns_path = g_build_filename ("/run/netns", l.netns->pdata[i], NULL);
      const char *del[] = { "ip", "netns", "del", l.netns->pdata[i], NULL };
      if (g_file_test (ns_path, G_FILE_TEST_EXISTS))
        run_quiet (del);
    }
  for (guint i = 0; i < l.dirs->len; i++)
    {
      const char *rm[] = { "rm", "-rf", "--one-file-system", l.dirs->pdata[i], NULL };
      if (!g_file_test (l.dirs->pdata[i], G_FILE_TEST_EXISTS))
        continue;
      if (g_getenv ("BANGER_TEST_KEEP") != NULL)
        g_printerr ("# cleanup: kept %s (BANGER_TEST_KEEP)\n", (char *)l.dirs->pdata[i]);
      else
        run_quiet (rm);
    }
  ledger_clear (&l);
  g_unlink (path);
}

void
banger_e2e_cleanup_sweep (void)
{
  g_autofree char *path = ledger_path_of (owner ());

  sweep_ledger (path);
}

static void
sweep_at_exit (void)
{
  banger_e2e_cleanup_sweep ();
}

/* Ledgers in tmp whose owner is gone (killed by a timeout, crashed). */
static void
sweep_orphans (void)
{
  g_autoptr (GDir) d = g_dir_open (g_get_tmp_dir (), 0, NULL);
  const char *name;

  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *path = NULL;
      char *end = NULL;
      pid_t pid;

      if (!g_str_has_prefix (name, LEDGER_PREFIX) || !g_str_has_suffix (name, LEDGER_SUFFIX))
        continue;
      pid = (pid_t)g_ascii_strtoll (name + strlen (LEDGER_PREFIX), &end, 10);
      if (pid <= 1 || end == NULL || !g_str_equal (end, LEDGER_SUFFIX) || pid == getpid ())
        continue;
      if (kill (pid, 0) == 0 || errno != ESRCH)
        continue; /* its owner is running (another test, maybe another worktree's) */
      path = g_build_filename (g_get_tmp_dir (), name, NULL);
      g_printerr ("# cleanup: sweeping %s (its owner, %d, is gone)\n", path, (int)pid);
      sweep_ledger (path);
    }
}

void
banger_e2e_cleanup_init (void)
{
  static gboolean done;

  if (done)
    return;
  done = TRUE;
  owner_pid = getpid ();
  sweep_orphans ();
  atexit (sweep_at_exit);
}
