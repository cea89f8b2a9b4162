/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * BangerVmmQemu: QEMU microvm over QMP (see banger-vmm-qemu.h).
 *
 * One concurrency model with the Firecracker driver: everything runs on the
 * caller's thread-default main context -- QMP is read and written
 * asynchronously (banger-qmp.h), the launch waits on a tick and a watch on
 * the pidfd, the stop ladder is the shared one (banger-vmm-stop-ladder.h).
 * The only worker thread is the KVM boot probe (once per binary). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib-unix.h>
#include <glib/gstdio.h>

#include "banger-error-private.h"
#include "banger-pidfd.h"
#include "banger-qmp.h"
#include "banger-quote.h"
#include "banger-vm-paths.h"
#include "banger-vmm-proc-stats.h"
#include "banger-vmm-qemu.h"
#include "banger-vmm-stop-ladder.h"

#define DEFAULT_LAUNCH_TIMEOUT_MS 10000
#define KILL_WAIT_MS BANGER_VMM_KILL_WAIT_MS
#define BLOCKSTATS_TIMEOUT_MS 500
#define DEATH_GRACE_MS 250 /* after a QMP failure at launch: is QEMU dying? */
#define LOG_TAIL_BYTES 2048

struct _BangerVmmQemu
{
  BangerVmm parent_instance;

  char *binary;
  BangerQemuAccel accel;
  char *accel_used;
  guint launch_timeout_ms;
  GStrv argv;
  char *qmp_path;
  char *console_path;
  char *log_path;
  BangerQmp *qmp;
  gboolean incoming; /* launch with -incoming defer (a snapshot restore) */
};

G_DEFINE_FINAL_TYPE (BangerVmmQemu, banger_vmm_qemu, BANGER_TYPE_VMM)

/* The KVM probe boots a kernel: do it once per binary and process. */

/* ------------------------------------------------------------- utilities */

static int
pidfd_signal (int pidfd, int sig)
{
  return banger_pidfd_send_signal (pidfd, sig);
}

/* Wait up to @timeout_ms for the pidfd to become readable (the process
 * exited).  FALSE on timeout or cancellation. */
static gboolean
wait_pidfd (int pidfd, guint timeout_ms, GCancellable *cancellable)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;
  GPollFD fds[2] = { { pidfd, G_IO_IN, 0 }, { -1, G_IO_IN, 0 } };
  guint nfds = 1;

  if (g_cancellable_make_pollfd (cancellable, &fds[1]))
    nfds = 2;
  for (;;)
    {
      gint64 left = deadline - g_get_monotonic_time ();
      int r;

      if (left < 0)
        left = 0;
      r = g_poll (fds, nfds, (int) ((left + 999) / 1000));
      if (r < 0 && errno == EINTR)
        continue;
      if (r > 0 && (fds[0].revents & G_IO_IN))
        break;
      if (g_cancellable_is_cancelled (cancellable) || left == 0)
        {
          if (nfds == 2)
            g_cancellable_release_fd (cancellable);
          return FALSE;
        }
    }
  if (nfds == 2)
    g_cancellable_release_fd (cancellable);
  return TRUE;
}

/* The last lines of a log, for error messages ("" when empty). */
static char *
log_tail (const char *path)
{
  g_autofree char *contents = NULL;
  gsize len = 0;
  const char *start;
  GString *out;

  if (path == NULL || !g_file_get_contents (path, &contents, &len, NULL) || len == 0)
    return g_strdup ("");
  start = contents + (len > LOG_TAIL_BYTES ? len - LOG_TAIL_BYTES : 0);
  g_strstrip ((char *) start);
  out = g_string_new (NULL);
  for (const char *p = start; *p != '\0'; p++)
    g_string_append_c (out, (*p == '\n' || (guchar) *p >= 0x20) ? *p : '?');
  return g_string_free (out, FALSE);
}

static GError *
busy_error (BangerVmm *vmm, const char *what)
{
  return g_error_new (BANGER_ERROR, BANGER_ERROR_BUSY, "Cannot %s: the VM is %s", what,
                      banger_vmm_state_to_string (banger_vmm_get_state (vmm)));
}

static void
drop_source (GSource **source)
{
  if (*source == NULL)
    return;
  g_source_destroy (*source);
  g_clear_pointer (source, g_source_unref);
}

static GTask *
new_task (BangerVmmQemu *self, GCancellable *cancellable, GAsyncReadyCallback callback,
          gpointer user_data, gpointer tag)
{
  GTask *task = g_task_new (self, cancellable, callback, user_data);

  g_task_set_source_tag (task, tag);
  g_task_set_check_cancellable (task, FALSE);
  return task;
}

static gboolean
in_state (BangerVmm *vmm, const char *what, GAsyncReadyCallback callback, gpointer user_data,
          BangerVmmState a, BangerVmmState b)
{
  BangerVmmState s = banger_vmm_get_state (vmm);

  if (s == a || s == b)
    return TRUE;
  g_task_report_error (vmm, callback, user_data, NULL, busy_error (vmm, what));
  return FALSE;
}

/* query-status; the finish gives the status string. */
static void
query_status_async (BangerVmmQemu *self, GCancellable *cancellable, GAsyncReadyCallback callback,
                    gpointer user_data)
{
  banger_qmp_execute_async (self->qmp, "query-status", NULL, 0, cancellable, callback, user_data);
}

static char *
query_status_finish (BangerVmmQemu *self, GAsyncResult *result, GError **error)
{
  g_autoptr (JsonNode) ret = banger_qmp_execute_finish (self->qmp, result, error);
  const char *status;

  if (ret == NULL)
    return NULL;
  status = JSON_NODE_HOLDS_OBJECT (ret)
               ? json_object_get_string_member_with_default (json_node_get_object (ret),
                                                             "status", NULL)
               : NULL;
  if (status == NULL)
    {
      g_set_error_literal (error, BANGER_ERROR, BANGER_ERROR_PROTOCOL,
                           "QEMU's query-status reply has no status");
      return NULL;
    }
  return g_strdup (status);
}

/* --------------------------------------------------------------- launch */

typedef struct
{
  GSource *tick;       /* 10 ms: socket there yet?  deadline, cancellation */
  GSource *exit_watch; /* the pidfd turning readable: died */
  gint64 deadline;
  gboolean connecting; /* QMP connect and handshake in flight */
  GPid pid;            /* owned until the launch succeeds */
  int pidfd;
  char *accel;
  GStrv argv;
} LaunchData;

static void
launch_data_free (LaunchData *d)
{
  drop_source (&d->tick);
  drop_source (&d->exit_watch);
  if (d->pidfd >= 0)
    close (d->pidfd);
  g_free (d->accel);
  g_strfreev (d->argv);
  g_free (d);
}

/* Kill and reap a process that failed to launch properly. */
static void
discard_process (GPid pid, int pidfd)
{
  siginfo_t info = { 0 };

  pidfd_signal (pidfd, SIGKILL);
  if (waitid ((idtype_t) P_PIDFD, (id_t) pidfd, &info, WEXITED) < 0 && errno == ECHILD)
    wait_pidfd (pidfd, KILL_WAIT_MS, NULL);
  close (pidfd);
}

/* The process behind @pidfd has exited during launch: reap it (when it is
 * our child), close the pidfd, and say how it ended with its last output. */
static GError *
death_error (BangerVmmQemu *self, int pidfd)
{
  siginfo_t info = { 0 };
  g_autofree char *tail = NULL;
  g_autofree char *how = NULL;

  if (waitid ((idtype_t) P_PIDFD, (id_t) pidfd, &info, WEXITED | WNOHANG) == 0
      && info.si_pid != 0)
    how = info.si_code == CLD_EXITED
              ? g_strdup_printf ("exited with status %d", info.si_status)
              : g_strdup_printf ("was killed by signal %d", info.si_status);
  else
    how = g_strdup ("exited");
  close (pidfd);
  tail = log_tail (self->log_path);
  return g_error_new (BANGER_ERROR, BANGER_ERROR_FAILED,
                      "QEMU %s before its QMP socket was ready%s%s", how,
                      tail[0] ? ": " : " (its log is empty)", tail);
}

/* End the launch (task completes, sources go).  With @error: nothing is
 * left running. */
static void
launch_end (GTask *task, GError *error)
{
  BangerVmmQemu *self = g_task_get_source_object (task);
  BangerVmm *vmm = BANGER_VMM (self);
  LaunchData *d = g_task_get_task_data (task);

  drop_source (&d->tick);
  drop_source (&d->exit_watch);
  if (error != NULL)
    {
      banger_qmp_close (self->qmp);
      if (d->pidfd >= 0)
        discard_process (d->pid, d->pidfd);
      d->pidfd = -1;
      g_task_return_error (task, error);
      g_object_unref (task);
      return;
    }
  banger_vmm_set_process (vmm, d->pid, d->pidfd);
  d->pidfd = -1;
  g_free (self->accel_used);
  self->accel_used = g_steal_pointer (&d->accel);
  g_strfreev (self->argv);
  self->argv = g_steal_pointer (&d->argv);
  banger_vmm_set_state (vmm, BANGER_VMM_STATE_LAUNCHED);
  g_task_return_boolean (task, TRUE);
  g_object_unref (task);
}

/* A failure while QEMU may be dying: given DEATH_GRACE_MS to finish, a
 * death is reported as such, with QEMU's last output. */
static void
launch_fail_or_death (GTask *task, GError *error)
{
  BangerVmmQemu *self = g_task_get_source_object (task);
  LaunchData *d = g_task_get_task_data (task);

  if (wait_pidfd (d->pidfd, DEATH_GRACE_MS, NULL))
    {
      g_error_free (error);
      error = death_error (self, d->pidfd);
      d->pidfd = -1;
    }
  launch_end (task, error);
}

static void
on_launch_status (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  BangerVmmQemu *self = g_task_get_source_object (task);
  GError *error = NULL;
  g_autofree char *status = query_status_finish (self, result, &error);

  if (status == NULL)
    {
      launch_fail_or_death (task, error);
      return;
    }
  launch_end (task, NULL);
}

static void
on_launch_connected (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  BangerVmmQemu *self = g_task_get_source_object (task);
  LaunchData *d = g_task_get_task_data (task);
  GError *error = NULL;

  if (banger_qmp_connect_finish (self->qmp, result, &error))
    {
      /* (still "connecting" for the tick: the handshake goes on) */
      query_status_async (self, g_task_get_cancellable (task), on_launch_status, task);
      return;
    }
  /* refused: QEMU has bound but not yet listens, the tick tries again;
   * anything else is final (a QEMU dying mid-handshake is a death) */
  if (g_error_matches (error, BANGER_ERROR, BANGER_ERROR_NOT_FOUND)
      || g_error_matches (error, BANGER_ERROR, BANGER_ERROR_FAILED)
      || g_error_matches (error, BANGER_ERROR, BANGER_ERROR_BUSY))
    {
      g_error_free (error);
      d->connecting = FALSE;
      return;
    }
  launch_fail_or_death (task, error);
}

static gboolean
launch_tick (gpointer user_data)
{
  GTask *task = user_data;
  BangerVmmQemu *self = g_task_get_source_object (task);
  LaunchData *d = g_task_get_task_data (task);
  struct stat st;

  if (d->connecting)
    return G_SOURCE_CONTINUE;
  if (wait_pidfd (d->pidfd, 0, NULL))
    {
      GError *error = death_error (self, d->pidfd);
      d->pidfd = -1;
      g_clear_pointer (&d->tick, g_source_unref);
      launch_end (task, error);
      return G_SOURCE_REMOVE;
    }
  if (g_cancellable_is_cancelled (g_task_get_cancellable (task)))
    {
      g_clear_pointer (&d->tick, g_source_unref);
      launch_end (task, g_error_new_literal (BANGER_ERROR, BANGER_ERROR_CANCELLED,
                                             "Launching QEMU was cancelled"));
      return G_SOURCE_REMOVE;
    }
  if (g_get_monotonic_time () > d->deadline)
    {
      g_clear_pointer (&d->tick, g_source_unref);
      launch_end (task, g_error_new (BANGER_ERROR, BANGER_ERROR_TIMED_OUT,
                                     "QEMU's QMP socket '%s' did not answer within %u ms",
                                     self->qmp_path, self->launch_timeout_ms));
      return G_SOURCE_REMOVE;
    }
  if (stat (self->qmp_path, &st) == 0 && S_ISSOCK (st.st_mode))
    {
      d->connecting = TRUE;
      banger_qmp_connect_async (self->qmp, self->qmp_path, self->launch_timeout_ms,
                                g_task_get_cancellable (task), on_launch_connected, task);
    }
  return G_SOURCE_CONTINUE;
}

static gboolean
launch_on_exit (int fd, GIOCondition cond, gpointer user_data)
{
  GTask *task = user_data;
  LaunchData *d = g_task_get_task_data (task);

  /* a death while connecting is reported by the connect's failure */
  g_clear_pointer (&d->exit_watch, g_source_unref);
  if (!d->connecting && d->tick != NULL)
    {
      GError *error = death_error (g_task_get_source_object (task), d->pidfd);

      d->pidfd = -1; /* closed by death_error */
      launch_end (task, error);
    }
  return G_SOURCE_REMOVE;
}

/* Build the argv with the accelerator chosen, spawn, and watch for the QMP
 * socket. */
static void
launch_spawn (GTask *task)
{
  BangerVmmQemu *self = g_task_get_source_object (task);
  BangerVmm *vmm = BANGER_VMM (self);
  const BangerVmmConfig *config = banger_vmm_get_config (vmm);
  BangerVmmLauncher *launcher = banger_vmm_get_launcher (vmm);
  LaunchData *d = g_task_get_task_data (task);
  BangerVmmLaunchRequest request = { 0 };
  BangerVmmLaunched launched = { 0, -1, NULL, NULL, NULL };
  GError *error = NULL;
  GMainContext *ctx = g_task_get_context (task);

  request.config = config;
  request.driver = "qemu";
  request.binary = self->binary;
  request.log_path = self->log_path;
  request.accel = d->accel;
  request.qmp_socket = self->qmp_path;
  request.console_log = self->console_path;
  request.incoming = self->incoming;
  /* what the direct launcher will run (the helper builds the same) */
  d->argv = banger_vmm_launch_request_argv (&request, &error);
  if (d->argv == NULL)
    {
      launch_end (task, error);
      return;
    }

  /* A socket left by an earlier run must not be mistaken for this one. */
  if (g_unlink (self->qmp_path) < 0 && errno != ENOENT)
    {
      banger_set_error_from_errno (&error, errno, "Cannot remove the stale QMP socket '%s'",
                                   self->qmp_path);
      launch_end (task, error);
      return;
    }

  if (!launcher->spawn (launcher, &request, &launched, &error))
    {
      launch_end (task, error);
      return;
    }
  d->pid = launched.pid;
  d->pidfd = launched.pidfd;
  launched.pidfd = -1;
  /* the launcher may have chosen the paths (bangerd-root's run dir) */
  if (launched.api_socket != NULL)
    {
      g_free (self->qmp_path);
      self->qmp_path = g_steal_pointer (&launched.api_socket);
      banger_vmm_set_api_socket (vmm, self->qmp_path);
    }
  if (launched.console_log != NULL)
    {
      g_free (self->console_path);
      self->console_path = g_steal_pointer (&launched.console_log);
    }
  if (launched.log_path != NULL)
    {
      g_free (self->log_path);
      self->log_path = g_steal_pointer (&launched.log_path);
    }
  banger_vmm_launched_clear (&launched);

  d->deadline = g_get_monotonic_time () + (gint64)self->launch_timeout_ms * 1000;
  d->tick = g_timeout_source_new (10);
  g_source_set_callback (d->tick, launch_tick, task, NULL);
  g_source_attach (d->tick, ctx);
  d->exit_watch = g_unix_fd_source_new (d->pidfd, G_IO_IN);
  g_source_set_callback (d->exit_watch, (GSourceFunc)(void (*) (void))launch_on_exit, task, NULL);
  g_source_attach (d->exit_watch, ctx);
}

/* The accelerator, when it was asked for explicitly. */
static char *
accel_without_probe (BangerVmmQemu *self)
{
  if (self->accel == BANGER_QEMU_ACCEL_KVM)
    return g_strdup ("kvm");
  if (self->accel == BANGER_QEMU_ACCEL_TCG)
    return g_strdup ("tcg");
  return NULL;
}

/* The one blocking step of a launch: the one KVM answer
 * (launch/banger-kvm-probe.c), read from its per-host cache, or a boot
 * probe (it boots a kernel for a few seconds) when the host is new.  Runs
 * in a worker thread; nothing of the object is touched there. */
static void
probe_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  BangerVmmQemu *self = source;
  const BangerVmmConfig *config = banger_vmm_get_config (BANGER_VMM (self));
  const BangerKvmHost host = { .qemu_binary = self->binary, .kernel = config->kernel_path };
  GError *error = NULL;
  char *accel = banger_kvm_choose_accel (NULL, &host, NULL, cancellable, &error);

  if (accel == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  g_task_return_pointer (task, accel, g_free);
}

static void
on_probe_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  LaunchData *d = g_task_get_task_data (task);
  GError *error = NULL;

  d->accel = g_task_propagate_pointer (G_TASK (result), &error);
  if (d->accel == NULL)
    {
      launch_end (task, error);
      return;
    }
  launch_spawn (task);
}

static void
banger_vmm_qemu_launch (BangerVmm *vmm, GCancellable *cancellable, GAsyncReadyCallback callback,
                        gpointer user_data)
{
  BangerVmmQemu *self = BANGER_VMM_QEMU (vmm);
  GTask *task;
  LaunchData *d;

  if (!in_state (vmm, "launch", callback, user_data, BANGER_VMM_STATE_PREPARED,
                 BANGER_VMM_STATE_PREPARED))
    return;
  task = new_task (self, cancellable, callback, user_data, banger_vmm_qemu_launch);
  d = g_new0 (LaunchData, 1);
  d->pidfd = -1;
  g_task_set_task_data (task, d, (GDestroyNotify)launch_data_free);
  d->accel = accel_without_probe (self);
  if (d->accel != NULL)
    {
      launch_spawn (task);
      return;
    }
  {
    g_autoptr (GTask) probe = g_task_new (self, cancellable, on_probe_done, task);
    g_task_set_check_cancellable (probe, FALSE);
    g_task_run_in_thread (probe, probe_thread);
  }
}

/* ------------------------------------------------------------ QMP calls */

/* @command, then the state becomes @state_after (NEW: unchanged). */
typedef struct
{
  const char *command;
  BangerVmmState state_after;
} SimpleCall;

static void
on_simple_reply (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  BangerVmmQemu *self = g_task_get_source_object (task);
  const SimpleCall *call = g_task_get_task_data (task);
  g_autoptr (JsonNode) ret = NULL;
  GError *error = NULL;

  ret = banger_qmp_execute_finish (self->qmp, result, &error);
  if (ret == NULL)
    g_task_return_error (task, error);
  else
    {
      if (call->state_after != BANGER_VMM_STATE_NEW)
        banger_vmm_set_state (BANGER_VMM (self), call->state_after);
      g_task_return_boolean (task, TRUE);
    }
  g_object_unref (task);
}

static void
qmp_simple_async (BangerVmmQemu *self, const char *command, BangerVmmState state_after,
                  GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data,
                  gpointer tag)
{
  GTask *task = new_task (self, cancellable, callback, user_data, tag);
  SimpleCall *call = g_new0 (SimpleCall, 1);

  call->command = command;
  call->state_after = state_after;
  g_task_set_task_data (task, call, g_free);
  banger_qmp_execute_async (self->qmp, command, NULL, 0, cancellable, on_simple_reply, task);
}

static void
banger_vmm_qemu_configure (BangerVmm *vmm, GCancellable *cancellable, GAsyncReadyCallback callback,
                           gpointer user_data)
{
  g_autoptr (GTask) task = NULL;

  if (!in_state (vmm, "configure", callback, user_data, BANGER_VMM_STATE_LAUNCHED,
                 BANGER_VMM_STATE_LAUNCHED))
    return;
  /* Everything was on the command line. */
  task = g_task_new (vmm, cancellable, callback, user_data);
  g_task_set_source_tag (task, banger_vmm_qemu_configure);
  banger_vmm_set_state (vmm, BANGER_VMM_STATE_CONFIGURED);
  g_task_return_boolean (task, TRUE);
}

/* start, pause and resume: a check of the state, then one QMP command
 * that moves it to @state_after. */
static void
qmp_transition_async (BangerVmm *vmm, const char *what, BangerVmmState a, BangerVmmState b,
                      const char *command, BangerVmmState state_after, GCancellable *cancellable,
                      GAsyncReadyCallback callback, gpointer user_data, gpointer tag)
{
  if (!in_state (vmm, what, callback, user_data, a, b))
    return;
  qmp_simple_async (BANGER_VMM_QEMU (vmm), command, state_after, cancellable, callback, user_data,
                    tag);
}

static void
banger_vmm_qemu_start (BangerVmm *vmm, GCancellable *cancellable, GAsyncReadyCallback callback,
                       gpointer user_data)
{
  qmp_transition_async (vmm, "start", BANGER_VMM_STATE_CONFIGURED, BANGER_VMM_STATE_LAUNCHED,
                        "cont", BANGER_VMM_STATE_RUNNING, cancellable, callback, user_data,
                        banger_vmm_qemu_start);
}

static void
banger_vmm_qemu_pause (BangerVmm *vmm, GCancellable *cancellable, GAsyncReadyCallback callback,
                       gpointer user_data)
{
  qmp_transition_async (vmm, "pause", BANGER_VMM_STATE_RUNNING, BANGER_VMM_STATE_RUNNING, "stop",
                        BANGER_VMM_STATE_PAUSED, cancellable, callback, user_data,
                        banger_vmm_qemu_pause);
}

static void
banger_vmm_qemu_resume (BangerVmm *vmm, GCancellable *cancellable, GAsyncReadyCallback callback,
                        gpointer user_data)
{
  qmp_transition_async (vmm, "resume", BANGER_VMM_STATE_PAUSED, BANGER_VMM_STATE_PAUSED, "cont",
                        BANGER_VMM_STATE_RUNNING, cancellable, callback, user_data,
                        banger_vmm_qemu_resume);
}

static BangerVmmState
state_from_status (const char *status, BangerVmmState current)
{
  if (g_strcmp0 (status, "running") == 0)
    return BANGER_VMM_STATE_RUNNING;
  if (g_strcmp0 (status, "prelaunch") == 0)
    return current == BANGER_VMM_STATE_CONFIGURED ? current : BANGER_VMM_STATE_LAUNCHED;
  /* paused, suspended, shutdown (with -no-shutdown), io-error, ... */
  return BANGER_VMM_STATE_PAUSED;
}

static void
on_refresh_status (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  BangerVmmQemu *self = g_task_get_source_object (task);
  BangerVmm *vmm = BANGER_VMM (self);
  GError *error = NULL;
  g_autofree char *status = query_status_finish (self, result, &error);

  if (status == NULL)
    {
      if (banger_vmm_has_exited (vmm))
        {
          /* it went away meanwhile: that is its state */
          g_clear_error (&error);
          banger_qmp_close (self->qmp);
          g_task_return_boolean (task, TRUE);
        }
      else
        g_task_return_error (task, error);
      g_object_unref (task);
      return;
    }
  banger_vmm_set_state (vmm, state_from_status (status, banger_vmm_get_state (vmm)));
  g_task_return_boolean (task, TRUE);
  g_object_unref (task);
}

static void
banger_vmm_qemu_refresh_state (BangerVmm *vmm, GCancellable *cancellable,
                               GAsyncReadyCallback callback, gpointer user_data)
{
  BangerVmmQemu *self = BANGER_VMM_QEMU (vmm);
  BangerVmmState s = banger_vmm_get_state (vmm);
  GTask *task = new_task (self, cancellable, callback, user_data, banger_vmm_qemu_refresh_state);

  if (s == BANGER_VMM_STATE_NEW || s == BANGER_VMM_STATE_PREPARED
      || s == BANGER_VMM_STATE_EXITED || banger_vmm_has_exited (vmm))
    {
      /* has_exited() moved the state to EXITED */
      banger_qmp_close (self->qmp);
      g_task_return_boolean (task, TRUE);
      g_object_unref (task);
      return;
    }
  query_status_async (self, cancellable, on_refresh_status, task);
}

/* Events as they come: a pause or resume QEMU reports (the guest's own
 * doing, or another QMP client's) moves the state. */
static void
on_qmp_event (BangerQmp *qmp, const char *name, JsonObject *data, gpointer user_data)
{
  BangerVmm *vmm = user_data;
  BangerVmmState s = banger_vmm_get_state (vmm);

  if (s != BANGER_VMM_STATE_RUNNING && s != BANGER_VMM_STATE_PAUSED)
    return;
  if (g_str_equal (name, "STOP"))
    banger_vmm_set_state (vmm, BANGER_VMM_STATE_PAUSED);
  else if (g_str_equal (name, "RESUME"))
    banger_vmm_set_state (vmm, BANGER_VMM_STATE_RUNNING);
}

/* -------------------------------------------------------------- snapshots */

/* QEMU 7.2 has no file: migration URI and exec: would run a shell, so the
 * driver opens the file itself and hands QEMU the descriptor over QMP
 * (getfd with SCM_RIGHTS), then migrates to / from "fd:<name>".  One
 * stream holds devices and memory: it goes to @snapshot_path; @mem_path is
 * not written (callers may pass the same path).  Disks are the caller's:
 * QEMU's `stop` drains and flushes every block device before it answers,
 * and a completed migration flushes again, so the disk files are
 * consistent with the snapshot when it is declared done (doc/vmm.md). */

#define SNAPSHOT_FD_NAME "banger-snapshot"
#define SNAPSHOT_POLL_MS 20
#define SNAPSHOT_TIMEOUT_S 600 /* bound on one migration (a few GiB at disk speed) */

typedef struct
{
  int fd;
  BangerVmmState state_at_call;
  gboolean resume;       /* load: cont at the end */
  gboolean loading;
  gboolean cancel_sent;
  gboolean timed_out;
  gint64 deadline;
  GSource *poll;
  char *path;
  GError *error; /* a failure waiting for the resume that follows it */
  guint64 progress_done, progress_total; /* last reported (snapshot-progress) */
} SnapData;

static void
snap_data_free (SnapData *d)
{
  drop_source (&d->poll);
  if (d->fd >= 0)
    close (d->fd);
  g_free (d->path);
  g_clear_error (&d->error);
  g_free (d);
}

static void
snap_finish (GTask *task, GError *error)
{
  SnapData *d = g_task_get_task_data (task);

  /* a snapshot that did not complete is not left looking like one */
  if (error != NULL && !d->loading && d->fd >= 0)
    g_unlink (d->path);
  if (error != NULL)
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
  g_object_unref (task);
}

static void
on_snap_failed_resumed (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  BangerVmmQemu *self = g_task_get_source_object (task);
  SnapData *d = g_task_get_task_data (task);
  g_autoptr (JsonNode) ret = banger_qmp_execute_finish (self->qmp, result, NULL);

  if (ret != NULL)
    banger_vmm_set_state (BANGER_VMM (self), BANGER_VMM_STATE_RUNNING);
  snap_finish (task, g_steal_pointer (&d->error));
}

/* End the operation.  A snapshot that failed after pausing a running VM
 * resumes it (best effort) before reporting the failure. */
static void
snap_end (GTask *task, GError *error)
{
  BangerVmmQemu *self = g_task_get_source_object (task);
  SnapData *d = g_task_get_task_data (task);

  if (error != NULL && !d->loading && d->state_at_call == BANGER_VMM_STATE_RUNNING
      && banger_vmm_get_state (BANGER_VMM (self)) == BANGER_VMM_STATE_PAUSED
      && banger_qmp_is_connected (self->qmp))
    {
      d->error = error;
      banger_qmp_execute_async (self->qmp, "cont", NULL, 0, NULL, on_snap_failed_resumed, task);
      return;
    }
  snap_finish (task, error);
}

/* A QMP failure during a load: QEMU exits when an incoming migration
 * fails, so a lost connection is reported with its last output. */
static GError *
snap_qmp_error (BangerVmmQemu *self, GTask *task, GError *error)
{
  SnapData *d = g_task_get_task_data (task);
  int pidfd = banger_vmm_get_pidfd (BANGER_VMM (self));

  if (d->loading && pidfd >= 0 && wait_pidfd (pidfd, DEATH_GRACE_MS, NULL))
    {
      g_autofree char *tail = log_tail (self->log_path);
      GError *e = g_error_new (BANGER_ERROR, BANGER_ERROR_VMM,
                               "QEMU exited while loading the snapshot '%s'%s%s", d->path,
                               tail[0] ? ": " : "", tail);
      g_error_free (error);
      banger_qmp_close (self->qmp);
      banger_vmm_has_exited (BANGER_VMM (self));
      return e;
    }
  return error;
}

/* A snapshot step's QMP reply: NULL when the command succeeded, else its
 * error. */
static GError *
snap_reply_error (BangerVmmQemu *self, GAsyncResult *result)
{
  g_autoptr (JsonNode) ret = NULL;
  GError *error = NULL;

  ret = banger_qmp_execute_finish (self->qmp, result, &error);
  return ret == NULL ? error : NULL;
}

static void snap_poll_start (GTask *task);

/* BangerVmm::snapshot-progress, never going down. */
static void
snap_progress (GTask *task, guint64 done, guint64 total)
{
  SnapData *d = g_task_get_task_data (task);

  if (total == 0)
    return;
  if (total != d->progress_total)
    d->progress_done = 0;
  done = MAX (MIN (done, total), d->progress_done);
  if (done == d->progress_done && total == d->progress_total)
    return;
  d->progress_done = done;
  d->progress_total = total;
  banger_vmm_report_snapshot_progress (g_task_get_source_object (task), done, total);
}

/* Where the migration is: writing, RAM total less remaining (query-migrate's
 * "ram"); loading, the stream's offset in the file (QEMU reads the very
 * descriptor we opened, through its dup: one file offset). */
static void
snap_poll_progress (GTask *task, JsonObject *o)
{
  SnapData *d = g_task_get_task_data (task);

  if (d->loading)
    {
      struct stat st;
      off_t at = lseek (d->fd, 0, SEEK_CUR);
      if (at >= 0 && fstat (d->fd, &st) == 0)
        snap_progress (task, (guint64)at, (guint64)st.st_size);
      return;
    }
  if (o != NULL && json_object_has_member (o, "ram")
      && JSON_NODE_HOLDS_OBJECT (json_object_get_member (o, "ram")))
    {
      JsonObject *ram = json_object_get_object_member (o, "ram");
      gint64 total = json_object_get_int_member_with_default (ram, "total", 0);
      gint64 remaining = json_object_get_int_member_with_default (ram, "remaining", 0);
      if (total > 0 && remaining >= 0 && remaining <= total)
        snap_progress (task, (guint64)(total - remaining), (guint64)total);
    }
}

static void
on_snap_resumed (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  BangerVmmQemu *self = g_task_get_source_object (task);
  GError *error = snap_reply_error (self, result);

  if (error != NULL)
    {
      snap_finish (task, error);
      return;
    }
  banger_vmm_set_state (BANGER_VMM (self), BANGER_VMM_STATE_RUNNING);
  snap_finish (task, NULL);
}

/* The migration completed: the file is whole. */
static void
snap_completed (GTask *task)
{
  BangerVmmQemu *self = g_task_get_source_object (task);
  SnapData *d = g_task_get_task_data (task);
  gboolean resume;

  if (!d->loading && fsync (d->fd) < 0)
    {
      GError *error = NULL;
      banger_set_error_from_errno (&error, errno, "Cannot write the snapshot '%s' out", d->path);
      snap_end (task, error);
      return;
    }
  banger_vmm_set_state (BANGER_VMM (self), BANGER_VMM_STATE_PAUSED);
  resume = d->loading ? d->resume : d->state_at_call == BANGER_VMM_STATE_RUNNING;
  if (!resume)
    {
      snap_end (task, NULL);
      return;
    }
  banger_qmp_execute_async (self->qmp, "cont", NULL, 0, NULL, on_snap_resumed, task);
}

static void
on_snap_cancelled (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  BangerVmmQemu *self = g_task_get_source_object (task);
  g_autoptr (JsonNode) ret = banger_qmp_execute_finish (self->qmp, result, NULL);

  /* the poll sees "cancelled" next */
  snap_poll_start (task);
}

static void
on_query_migrate (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  BangerVmmQemu *self = g_task_get_source_object (task);
  SnapData *d = g_task_get_task_data (task);
  g_autoptr (JsonNode) ret = NULL;
  GError *error = NULL;
  JsonObject *o;
  const char *status;

  ret = banger_qmp_execute_finish (self->qmp, result, &error);
  if (ret == NULL)
    {
      snap_end (task, snap_qmp_error (self, task, error));
      return;
    }
  o = JSON_NODE_HOLDS_OBJECT (ret) ? json_node_get_object (ret) : NULL;
  status = o ? json_object_get_string_member_with_default (o, "status", NULL) : NULL;
  if (g_strcmp0 (status, "completed") == 0)
    {
      snap_poll_progress (task, o);
      /* the memory is whole: the last report is the total */
      snap_progress (task, d->progress_total, d->progress_total);
      snap_completed (task);
      return;
    }
  if (g_strcmp0 (status, "failed") == 0 || g_strcmp0 (status, "cancelled") == 0)
    {
      const char *desc = json_object_get_string_member_with_default (o, "error-desc", NULL);

      if (d->timed_out)
        snap_end (task, g_error_new (BANGER_ERROR, BANGER_ERROR_TIMED_OUT,
                                     "The snapshot '%s' did not complete within %d s", d->path,
                                     SNAPSHOT_TIMEOUT_S));
      else if (d->cancel_sent)
        snap_end (task, g_error_new (BANGER_ERROR, BANGER_ERROR_CANCELLED,
                                     "The snapshot '%s' was cancelled", d->path));
      else
        snap_end (task, g_error_new (BANGER_ERROR, BANGER_ERROR_VMM,
                                     "QEMU could not %s the snapshot '%s': %s",
                                     d->loading ? "load" : "write", d->path,
                                     desc ? desc : status));
      return;
    }
  if (d->loading && g_get_monotonic_time () > d->deadline)
    {
      /* QEMU stays waiting for the stream: the caller kills it */
      snap_end (task, g_error_new (BANGER_ERROR, BANGER_ERROR_TIMED_OUT,
                                   "Loading the snapshot '%s' did not complete within %d s",
                                   d->path, SNAPSHOT_TIMEOUT_S));
      return;
    }
  if (!d->loading && !d->cancel_sent
      && (g_cancellable_is_cancelled (g_task_get_cancellable (task))
          || g_get_monotonic_time () > d->deadline))
    {
      d->timed_out = g_get_monotonic_time () > d->deadline;
      d->cancel_sent = TRUE;
      banger_qmp_execute_async (self->qmp, "migrate_cancel", NULL, 0, NULL, on_snap_cancelled,
                                task);
      return;
    }
  snap_poll_progress (task, o);
  /* an incoming migration that has not started yet has no status: wait */
  snap_poll_start (task);
}

static gboolean
snap_poll_tick (gpointer user_data)
{
  GTask *task = user_data;
  BangerVmmQemu *self = g_task_get_source_object (task);
  SnapData *d = g_task_get_task_data (task);

  g_clear_pointer (&d->poll, g_source_unref);
  banger_qmp_execute_async (self->qmp, "query-migrate", NULL, 0, NULL, on_query_migrate, task);
  return G_SOURCE_REMOVE;
}

static void
snap_poll_start (GTask *task)
{
  SnapData *d = g_task_get_task_data (task);

  d->poll = g_timeout_source_new (SNAPSHOT_POLL_MS);
  g_source_set_callback (d->poll, snap_poll_tick, task, NULL);
  g_source_attach (d->poll, g_task_get_context (task));
}

static void
on_snap_migrate (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  BangerVmmQemu *self = g_task_get_source_object (task);
  GError *error = snap_reply_error (self, result);

  if (error != NULL)
    {
      snap_end (task, snap_qmp_error (self, task, error));
      return;
    }
  snap_poll_start (task);
}

static void
on_snap_getfd (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  BangerVmmQemu *self = g_task_get_source_object (task);
  SnapData *d = g_task_get_task_data (task);
  g_autoptr (JsonObject) args = json_object_new ();
  GError *error = snap_reply_error (self, result);

  if (error != NULL)
    {
      snap_end (task, snap_qmp_error (self, task, error));
      return;
    }
  json_object_set_string_member (args, "uri", "fd:" SNAPSHOT_FD_NAME);
  banger_qmp_execute_async (self->qmp, d->loading ? "migrate-incoming" : "migrate", args, 0,
                            NULL, on_snap_migrate, task);
}

static void
snap_send_fd (GTask *task)
{
  BangerVmmQemu *self = g_task_get_source_object (task);
  SnapData *d = g_task_get_task_data (task);
  g_autoptr (JsonObject) args = json_object_new ();

  json_object_set_string_member (args, "fdname", SNAPSHOT_FD_NAME);
  banger_qmp_execute_with_fd_async (self->qmp, "getfd", args, d->fd, 0, NULL, on_snap_getfd,
                                    task);
}

static void
on_snap_stopped (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  BangerVmmQemu *self = g_task_get_source_object (task);
  GError *error = snap_reply_error (self, result);

  if (error != NULL)
    {
      snap_end (task, error);
      return;
    }
  banger_vmm_set_state (BANGER_VMM (self), BANGER_VMM_STATE_PAUSED);
  snap_send_fd (task);
}

static GTask *
snap_task_new (BangerVmmQemu *self, const char *path, int flags, GCancellable *cancellable,
               GAsyncReadyCallback callback, gpointer user_data, gpointer tag)
{
  GTask *task = new_task (self, cancellable, callback, user_data, tag);
  SnapData *d = g_new0 (SnapData, 1);

  d->path = g_strdup (path);
  d->state_at_call = banger_vmm_get_state (BANGER_VMM (self));
  d->deadline = g_get_monotonic_time () + (gint64) SNAPSHOT_TIMEOUT_S * G_USEC_PER_SEC;
  d->fd = open (path, flags | O_CLOEXEC, 0600);
  g_task_set_task_data (task, d, (GDestroyNotify)snap_data_free);
  if (d->fd < 0)
    {
      GError *error = NULL;
      banger_set_error_from_errno (&error, errno, "Cannot open the snapshot '%s'", path);
      snap_end (task, error);
      return NULL;
    }
  return task;
}

static void
banger_vmm_qemu_snapshot_create (BangerVmm *vmm, const char *snapshot_path, const char *mem_path,
                                 gboolean diff, GCancellable *cancellable,
                                 GAsyncReadyCallback callback, gpointer user_data)
{
  BangerVmmQemu *self = BANGER_VMM_QEMU (vmm);
  GTask *task;

  if (!in_state (vmm, "snapshot", callback, user_data, BANGER_VMM_STATE_RUNNING,
                 BANGER_VMM_STATE_PAUSED))
    return;
  if (diff)
    {
      g_task_report_new_error (vmm, callback, user_data, banger_vmm_qemu_snapshot_create,
                               BANGER_ERROR, BANGER_ERROR_UNSUPPORTED,
                               "QEMU snapshots are full snapshots (no diff)");
      return;
    }
  task = snap_task_new (self, snapshot_path, O_WRONLY | O_CREAT | O_TRUNC, cancellable, callback,
                        user_data, banger_vmm_qemu_snapshot_create);
  if (task == NULL)
    return;
  if (banger_vmm_get_state (vmm) == BANGER_VMM_STATE_RUNNING)
    banger_qmp_execute_async (self->qmp, "stop", NULL, 0, NULL, on_snap_stopped, task);
  else
    snap_send_fd (task);
}

static void
banger_vmm_qemu_snapshot_load (BangerVmm *vmm, const char *snapshot_path, const char *mem_path,
                               gboolean resume, GCancellable *cancellable,
                               GAsyncReadyCallback callback, gpointer user_data)
{
  BangerVmmQemu *self = BANGER_VMM_QEMU (vmm);
  GTask *task;
  SnapData *d;

  if (!in_state (vmm, "load a snapshot", callback, user_data, BANGER_VMM_STATE_LAUNCHED,
                 BANGER_VMM_STATE_LAUNCHED))
    return;
  if (!self->incoming)
    {
      g_task_report_new_error (vmm, callback, user_data, banger_vmm_qemu_snapshot_load,
                               BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                               "QEMU loads a snapshot only when launched for it "
                               "(banger_vmm_qemu_set_incoming)");
      return;
    }
  task = snap_task_new (self, snapshot_path, O_RDONLY, cancellable, callback, user_data,
                        banger_vmm_qemu_snapshot_load);
  if (task == NULL)
    return;
  d = g_task_get_task_data (task);
  d->loading = TRUE;
  d->resume = resume;
  snap_send_fd (task);
}

/* ------------------------------------------------------------ stop ladder */

/* The polite rung: the power button (ACPI) for a running guest; a paused
 * one is resumed first; a guest that never ran gets `quit`. */
typedef struct
{
  BangerVmmState state_at_call;
} Polite;

static void
on_polite_step (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  BangerVmmQemu *self = g_task_get_source_object (task);
  g_autoptr (JsonNode) ret = NULL;
  GError *error = NULL;
  Polite *p = g_task_get_task_data (task);

  ret = banger_qmp_execute_finish (self->qmp, result, &error);
  if (ret == NULL)
    {
      g_task_return_error (task, error);
      g_object_unref (task);
      return;
    }
  if (p->state_at_call == BANGER_VMM_STATE_PAUSED)
    {
      /* resumed: now the button */
      p->state_at_call = BANGER_VMM_STATE_RUNNING;
      banger_qmp_execute_async (self->qmp, "system_powerdown", NULL, 0, NULL, on_polite_step, task);
      return;
    }
  g_task_return_boolean (task, TRUE);
  g_object_unref (task);
}

static void
banger_vmm_qemu_polite (BangerVmm *vmm, GAsyncReadyCallback callback, gpointer user_data)
{
  BangerVmmQemu *self = BANGER_VMM_QEMU (vmm);
  GTask *task = new_task (self, NULL, callback, user_data, banger_vmm_qemu_polite);
  Polite *p = g_new0 (Polite, 1);
  const char *command;

  p->state_at_call = banger_vmm_get_state (vmm);
  g_task_set_task_data (task, p, g_free);
  if (p->state_at_call == BANGER_VMM_STATE_RUNNING)
    command = "system_powerdown";
  else if (p->state_at_call == BANGER_VMM_STATE_PAUSED)
    command = "cont";
  else
    command = "quit";
  banger_qmp_execute_async (self->qmp, command, NULL, 0, NULL, on_polite_step, task);
}

static gboolean
banger_vmm_qemu_polite_finish (BangerVmm *vmm, GAsyncResult *result, GError **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
on_stop_ladder_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  BangerVmmQemu *self = g_task_get_source_object (task);
  BangerVmm *vmm = BANGER_VMM (self);
  GError *error = NULL;

  if (!banger_vmm_stop_ladder_finish (vmm, result, &error))
    {
      banger_vmm_has_exited (vmm);
      g_task_return_error (task, error);
      g_object_unref (task);
      return;
    }
  banger_qmp_close (self->qmp);
  banger_vmm_has_exited (vmm); /* reaps, sets EXITED */
  banger_vmm_set_state (vmm, BANGER_VMM_STATE_EXITED);
  g_unlink (self->qmp_path);
  g_task_return_boolean (task, TRUE);
  g_object_unref (task);
}

static void
banger_vmm_qemu_stop (BangerVmm *vmm, GCancellable *cancellable, GAsyncReadyCallback callback,
                      gpointer user_data)
{
  BangerVmmQemu *self = BANGER_VMM_QEMU (vmm);
  GTask *task;
  BangerVmmStopPlan plan = { .what = "QEMU" };
  BangerVmmState s = banger_vmm_get_state (vmm);

  if (banger_vmm_get_pidfd (vmm) < 0)
    {
      g_task_report_new_error (vmm, callback, user_data, banger_vmm_qemu_stop, BANGER_ERROR,
                               BANGER_ERROR_NOT_FOUND, "The VMM has not been launched");
      return;
    }
  task = new_task (self, cancellable, callback, user_data, banger_vmm_qemu_stop);
  if (banger_qmp_is_connected (self->qmp))
    {
      plan.polite = banger_vmm_qemu_polite;
      plan.polite_finish = banger_vmm_qemu_polite_finish;
      plan.polite_name
          = (s == BANGER_VMM_STATE_RUNNING || s == BANGER_VMM_STATE_PAUSED) ? "powerdown" : "quit";
    }
  banger_vmm_stop_ladder_async (vmm, &plan, on_stop_ladder_done, task);
}

/* ---------------------------------------------------------------- vfuncs */

static gboolean
banger_vmm_qemu_prepare (BangerVmm *vmm, GError **error)
{
  BangerVmmQemu *self = BANGER_VMM_QEMU (vmm);
  const BangerVmmConfig *config = banger_vmm_get_config (vmm);

  if (g_mkdir_with_parents (config->run_dir, 0700) < 0)
    return banger_set_error_from_errno (error, errno, "Cannot create the run directory '%s'",
                                        config->run_dir);
  if (self->binary == NULL)
    {
      const char *env = g_getenv (BANGER_QEMU_BINARY_ENV);
      self->binary = env && env[0] ? g_strdup (env) : g_find_program_in_path ("qemu-system-x86_64");
      if (self->binary == NULL)
        {
          g_set_error_literal (error, BANGER_ERROR, BANGER_ERROR_NOT_FOUND,
                               "qemu-system-x86_64 is not installed (Debian: qemu-system-x86)");
          return FALSE;
        }
    }
  g_free (self->qmp_path);
  self->qmp_path = g_build_filename (config->run_dir, BANGER_VM_QMP_SOCK_NAME, NULL);
  g_free (self->console_path);
  self->console_path = g_build_filename (config->run_dir, BANGER_VM_CONSOLE_NAME, NULL);
  g_free (self->log_path);
  self->log_path = g_build_filename (config->run_dir, BANGER_VM_LOG_NAME, NULL);
  banger_vmm_set_api_socket (vmm, self->qmp_path);

  /* Provisional until launch settles the accelerator; building it now
   * reports a bad configuration early. */
  {
    BangerVmmLaunchRequest request = {
      .config = config,
      .driver = "qemu",
      .binary = self->binary,
      .log_path = self->log_path,
      .accel = self->accel == BANGER_QEMU_ACCEL_KVM ? "kvm" : "tcg",
      .qmp_socket = self->qmp_path,
      .console_log = self->console_path,
      .incoming = self->incoming,
    };
    g_strfreev (self->argv);
    self->argv = banger_vmm_launch_request_argv (&request, error);
  }
  if (self->argv == NULL)
    return FALSE;
  if (strlen (self->qmp_path) >= 108)
    {
      g_autofree char *q = banger_quote (self->qmp_path);
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   "The QMP socket path '%s' is too long for a unix socket; use a shorter run "
                   "directory",
                   q);
      return FALSE;
    }
  return TRUE;
}

static gboolean
banger_vmm_qemu_kill (BangerVmm *vmm, GError **error)
{
  int pidfd = banger_vmm_get_pidfd (vmm);

  if (pidfd < 0)
    {
      g_set_error_literal (error, BANGER_ERROR, BANGER_ERROR_NOT_FOUND,
                           "The VMM has not been launched");
      return FALSE;
    }
  if (banger_vmm_has_exited (vmm))
    return TRUE;
  if (pidfd_signal (pidfd, SIGKILL) < 0 && errno != ESRCH)
    return banger_set_error_from_errno (error, errno, "Cannot kill QEMU (pid %d)",
                                        (int) banger_vmm_get_pid (vmm));
  /* bounded: SIGKILL cannot be ignored, but the exit can take a moment */
  if (!wait_pidfd (pidfd, KILL_WAIT_MS, NULL))
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_TIMED_OUT,
                   "QEMU (pid %d) is still there %d ms after SIGKILL",
                   (int) banger_vmm_get_pid (vmm), KILL_WAIT_MS);
      return FALSE;
    }
  banger_qmp_close (BANGER_VMM_QEMU (vmm)->qmp);
  banger_vmm_has_exited (vmm);
  banger_vmm_set_state (vmm, BANGER_VMM_STATE_EXITED);
  g_unlink (BANGER_VMM_QEMU (vmm)->qmp_path);
  return TRUE;
}

static void
on_blockstats (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GAsyncResult **out = user_data;
  *out = g_object_ref (result);
}

/* read_stats is synchronous: query-blockstats runs on a private context,
 * bounded by BLOCKSTATS_TIMEOUT_MS (the QMP watch follows it there and
 * back to the caller's context on the next call). */
static JsonNode *
blockstats (BangerVmmQemu *self)
{
  g_autoptr (GMainContext) ctx = g_main_context_new ();
  GAsyncResult *result = NULL;
  JsonNode *ret;

  g_main_context_push_thread_default (ctx);
  banger_qmp_execute_async (self->qmp, "query-blockstats", NULL, BLOCKSTATS_TIMEOUT_MS, NULL,
                            on_blockstats, &result);
  while (result == NULL)
    g_main_context_iteration (ctx, TRUE);
  ret = banger_qmp_execute_finish (self->qmp, result, NULL);
  g_object_unref (result);
  g_main_context_pop_thread_default (ctx);
  return ret;
}

/* Best effort, bounded: query-blockstats summed over the drives.  QEMU has
 * no cheap per-netdev byte counters for microvm NICs, so net stays 0. */
static void
add_block_stats (BangerVmmQemu *self, BangerVmmStats *stats)
{
  g_autoptr (JsonNode) ret = NULL;
  JsonArray *devices;

  if (!banger_qmp_is_connected (self->qmp))
    return;
  ret = blockstats (self);
  if (ret == NULL || !JSON_NODE_HOLDS_ARRAY (ret))
    return;
  devices = json_node_get_array (ret);
  for (guint i = 0; i < json_array_get_length (devices); i++)
    {
      JsonNode *dev = json_array_get_element (devices, i);
      JsonNode *st;

      if (!JSON_NODE_HOLDS_OBJECT (dev))
        continue;
      st = json_object_get_member (json_node_get_object (dev), "stats");
      if (st == NULL || !JSON_NODE_HOLDS_OBJECT (st))
        continue;
      stats->block_read_bytes += (guint64) MAX (
          0, json_object_get_int_member_with_default (json_node_get_object (st), "rd_bytes", 0));
      stats->block_write_bytes += (guint64) MAX (
          0, json_object_get_int_member_with_default (json_node_get_object (st), "wr_bytes", 0));
    }
}

static gboolean
banger_vmm_qemu_read_stats (BangerVmm *vmm, BangerVmmStats *out, GError **error)
{
  BangerVmmStats stats = { 0 };

  if (banger_vmm_get_pidfd (vmm) < 0 || banger_vmm_has_exited (vmm))
    {
      g_set_error_literal (error, BANGER_ERROR, BANGER_ERROR_NOT_FOUND,
                           "The VMM is not running");
      return FALSE;
    }
  if (!banger_vmm_proc_stats_read (banger_vmm_get_pid (vmm), &stats, error))
    return FALSE;
  add_block_stats (BANGER_VMM_QEMU (vmm), &stats);
  *out = stats;
  return TRUE;
}

struct _BangerQmp *
banger_vmm_qemu_get_qmp (BangerVmmQemu *self)
{
  g_return_val_if_fail (BANGER_IS_VMM_QEMU (self), NULL);
  return self->qmp;
}

/* ---------------------------------------------------------------- object */

static void
banger_vmm_qemu_finalize (GObject *object)
{
  BangerVmmQemu *self = BANGER_VMM_QEMU (object);

  banger_qmp_close (self->qmp);
  g_clear_object (&self->qmp);
  g_free (self->binary);
  g_free (self->accel_used);
  g_strfreev (self->argv);
  g_free (self->qmp_path);
  g_free (self->console_path);
  g_free (self->log_path);
  G_OBJECT_CLASS (banger_vmm_qemu_parent_class)->finalize (object);
}

static void
banger_vmm_qemu_class_init (BangerVmmQemuClass *klass)
{
  GObjectClass *oc = G_OBJECT_CLASS (klass);
  BangerVmmClass *vc = BANGER_VMM_CLASS (klass);

  oc->finalize = banger_vmm_qemu_finalize;
  vc->driver_name = "qemu";
  vc->prepare = banger_vmm_qemu_prepare;
  vc->launch = banger_vmm_qemu_launch;
  vc->configure = banger_vmm_qemu_configure;
  vc->start = banger_vmm_qemu_start;
  vc->pause = banger_vmm_qemu_pause;
  vc->resume = banger_vmm_qemu_resume;
  vc->stop = banger_vmm_qemu_stop;
  vc->refresh_state = banger_vmm_qemu_refresh_state;
  vc->snapshot_create = banger_vmm_qemu_snapshot_create;
  vc->snapshot_load = banger_vmm_qemu_snapshot_load;
  vc->kill = banger_vmm_qemu_kill;
  vc->read_stats = banger_vmm_qemu_read_stats;
}

static void
banger_vmm_qemu_init (BangerVmmQemu *self)
{
  self->qmp = banger_qmp_new ();
  g_signal_connect_object (self->qmp, "event", G_CALLBACK (on_qmp_event), self, 0);
  self->launch_timeout_ms = DEFAULT_LAUNCH_TIMEOUT_MS;
}

BangerVmm *
banger_vmm_qemu_new (BangerVmmConfig *config)
{
  g_return_val_if_fail (config != NULL, NULL);
  return g_object_new (BANGER_TYPE_VMM_QEMU, "config", config, NULL);
}

void
banger_vmm_qemu_set_binary (BangerVmmQemu *self, const char *path)
{
  g_return_if_fail (BANGER_IS_VMM_QEMU (self));
  g_free (self->binary);
  self->binary = g_strdup (path);
}

void
banger_vmm_qemu_set_accel (BangerVmmQemu *self, BangerQemuAccel accel)
{
  g_return_if_fail (BANGER_IS_VMM_QEMU (self));
  self->accel = accel;
}

const char *
banger_vmm_qemu_get_accel_used (BangerVmmQemu *self)
{
  g_return_val_if_fail (BANGER_IS_VMM_QEMU (self), NULL);
  return self->accel_used;
}

void
banger_vmm_qemu_set_launch_timeout (BangerVmmQemu *self, guint timeout_ms)
{
  g_return_if_fail (BANGER_IS_VMM_QEMU (self));
  self->launch_timeout_ms = timeout_ms ? timeout_ms : DEFAULT_LAUNCH_TIMEOUT_MS;
}

const char *const *
banger_vmm_qemu_get_argv (BangerVmmQemu *self)
{
  g_return_val_if_fail (BANGER_IS_VMM_QEMU (self), NULL);
  return (const char *const *) self->argv;
}

const char *
banger_vmm_qemu_get_console_log (BangerVmmQemu *self)
{
  g_return_val_if_fail (BANGER_IS_VMM_QEMU (self), NULL);
  return self->console_path;
}

void
banger_vmm_qemu_set_incoming (BangerVmmQemu *self, gboolean incoming)
{
  g_return_if_fail (BANGER_IS_VMM_QEMU (self));
  self->incoming = incoming;
}
