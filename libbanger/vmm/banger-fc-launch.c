/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The Firecracker driver: launch (spawn through the launcher, then wait
 * for the API socket to answer; under the jailer, find Firecracker's pid). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib-unix.h>

#include "banger-pidfd.h"
#include "banger-error-private.h"
#include "banger-fc-http.h"
#include "banger-fc-metrics.h"
#include "banger-proc.h"
#include "banger-quote.h"
#include "banger-vmm-firecracker.h"
#include "banger-vmm-proc-stats.h"
#include "banger-vmm-firecracker-private.h"

/* ------------------------------------------------------------------ launch */

typedef struct
{
  GSource *tick;
  GSource *exit_watch;
  GSource *dir_watch; /* inotify on the socket's directory: no polling delay */
  int inotify_fd;
  gint64 deadline;
  gboolean probing;
  gboolean have_fc_pid;
} LaunchData;

static void drop_source (GSource **source);

static void
launch_data_free (LaunchData *d)
{
  drop_source (&d->dir_watch);
  if (d->inotify_fd >= 0)
    close (d->inotify_fd);
  drop_source (&d->tick);
  drop_source (&d->exit_watch);
  g_free (d);
}

static void
drop_source (GSource **source)
{
  if (*source == NULL)
    return;
  g_source_destroy (*source);
  g_source_unref (*source);
  *source = NULL;
}

/* Reap the jailer when it is a separate process that has finished. */
void
banger_fc_reap_jailer (BangerVmmFirecracker *self)
{
  siginfo_t info = { 0 };

  if (self->jailer_pidfd < 0)
    return;
  if (waitid ((idtype_t) P_PIDFD, (id_t) self->jailer_pidfd, &info, WEXITED | WNOHANG) == 0
      && info.si_pid != 0)
    {
      close (self->jailer_pidfd);
      self->jailer_pidfd = -1;
    }
  else if (errno == ECHILD)
    {
      close (self->jailer_pidfd);
      self->jailer_pidfd = -1;
    }
}

static void
launch_fail (GTask *task, GError *error)
{
  BangerVmmFirecracker *self = g_task_get_source_object (task);
  int pidfd = banger_vmm_get_pidfd (BANGER_VMM (self));

  /* a failed launch leaves nothing running */
  if (pidfd >= 0 && !banger_vmm_has_exited (BANGER_VMM (self)))
    {
      struct pollfd p = { pidfd, POLLIN, 0 };
      banger_fc_pidfd_signal (pidfd, SIGKILL);
      poll (&p, 1, 2000);
      banger_vmm_has_exited (BANGER_VMM (self));
    }
  if (self->jailer_pidfd >= 0)
    {
      banger_fc_pidfd_signal (self->jailer_pidfd, SIGKILL);
      banger_fc_reap_jailer (self);
    }
  g_task_return_error (task, error);
}

static gboolean launch_tick (gpointer user_data);

static gboolean
launch_on_exit (int fd, GIOCondition cond, gpointer user_data)
{
  return launch_tick (user_data);
}

static gboolean
launch_on_dir_event (int fd, GIOCondition cond, gpointer user_data)
{
  char buf[4096];

  while (read (fd, buf, sizeof buf) > 0)
    ;
  launch_tick (user_data);
  /* the tick source owns the end of the launch; this one stays until the
   * task data goes */
  return G_SOURCE_CONTINUE;
}

static void
on_probe_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  BangerVmmFirecracker *self = g_task_get_source_object (task);
  LaunchData *d = g_task_get_task_data (task);
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) reply = NULL;

  d->probing = FALSE;
  if (g_task_get_completed (task) || g_task_had_error (task))
    {
      g_object_unref (task);
      return;
    }
  if (banger_fc_client_call_finish (result, &reply, &error))
    {
      /* (the tick's destroy drops its ref; the probe holds another) */
      drop_source (&d->tick);
      drop_source (&d->exit_watch);
      drop_source (&d->dir_watch);
      banger_vmm_set_state (BANGER_VMM (self), BANGER_VMM_STATE_LAUNCHED);
      g_task_return_boolean (task, TRUE);
      g_object_unref (task);
      return;
    }
  if (error->code == BANGER_ERROR_VMM)
    {
      /* it answered, but refused GET /: not a Firecracker we can drive */
      drop_source (&d->tick);
      drop_source (&d->exit_watch);
      drop_source (&d->dir_watch);
      launch_fail (task, g_steal_pointer (&error));
      g_object_unref (task);
      return;
    }
  /* not listening yet (or the probe timed out): the tick tries again */
  g_object_unref (task);
}

static gboolean
is_jailed_firecracker (GPid pid, const char *vm_id)
{
  g_auto (GStrv) argv = banger_proc_read_cmdline (pid, NULL);
  g_autofree char *want = g_strconcat ("--id=", vm_id, NULL);

  for (guint i = 0; argv != NULL && argv[i] != NULL; i++)
    if (g_str_equal (argv[i], want))
      return TRUE;
  return FALSE;
}

/* TRUE when the launch is over (the task has been completed). */
static gboolean
launch_check (GTask *task)
{
  BangerVmmFirecracker *self = g_task_get_source_object (task);
  BangerVmm *vmm = BANGER_VMM (self);
  LaunchData *d = g_task_get_task_data (task);
  GCancellable *cancellable = g_task_get_cancellable (task);
  struct stat st;

  if (g_cancellable_is_cancelled (cancellable))
    {
      launch_fail (task, g_error_new (BANGER_ERROR, BANGER_ERROR_CANCELLED,
                                      "Launching Firecracker for VM '%s' was cancelled",
                                      banger_fc_vm_id (self)));
      return TRUE;
    }

  if (!d->have_fc_pid)
    {
      /* jailed: the Firecracker pid is in root/firecracker.pid.  Without
       * --new-pid-ns it is the jailer's own pid (the jailer exec()s);
       * with it, a child in a new pid namespace, and the jailer exits. */
      GPid fc_pid = 0;
      if (banger_fc_jail_read_pid (self->jail_root_fd, self->fc_path, &fc_pid, NULL))
        {
          if (fc_pid != banger_vmm_get_pid (vmm))
            {
              int fc_pidfd = banger_pidfd_open (fc_pid);
              if (fc_pidfd < 0)
                {
                  launch_fail (task, g_error_new (BANGER_ERROR, BANGER_ERROR_FAILED,
                                                  "Firecracker (pid %d from the jail's pid "
                                                  "file) is gone: %s",
                                                  fc_pid, g_strerror (errno)));
                  return TRUE;
                }
              /* the pidfd pins the process; make sure it is this VM's
               * Firecracker (the jailer execs it with --id=<id>), not
               * whatever got the pid when ours died.  Right after the
               * jailer's clone() the child may not have exec'd yet: look
               * again on the next tick (a wrong pid ends in the timeout). */
              if (!is_jailed_firecracker (fc_pid, banger_fc_vm_id (self)))
                {
                  close (fc_pidfd);
                  /* the jailer has likely exited: its pidfd stays readable,
                   * so stop watching it and let the tick poll */
                  if (banger_vmm_has_exited (vmm))
                    drop_source (&d->exit_watch);
                  return FALSE;
                }
              /* keep the jailer's pidfd to reap it; Firecracker becomes the
               * process of record (drop the watch before its fd closes) */
              drop_source (&d->exit_watch);
              self->jailer_pid = banger_vmm_get_pid (vmm);
              self->jailer_pidfd = fcntl (banger_vmm_get_pidfd (vmm), F_DUPFD_CLOEXEC, 3);
              banger_vmm_set_process (vmm, fc_pid, fc_pidfd);
              d->exit_watch = g_unix_fd_source_new (fc_pidfd, G_IO_IN);
              g_source_set_callback (d->exit_watch,
                                     (GSourceFunc) (void (*) (void)) launch_on_exit, task, NULL);
              g_source_attach (d->exit_watch, g_main_context_get_thread_default ());
              banger_fc_reap_jailer (self);
            }
          d->have_fc_pid = TRUE;
        }
      else if (banger_vmm_has_exited (vmm))
        {
          g_autofree char *why = banger_fc_describe_exit (self);
          launch_fail (task, g_error_new (BANGER_ERROR, BANGER_ERROR_FAILED,
                                          "The jailer for VM '%s' exited before starting "
                                          "Firecracker (%s)",
                                          banger_fc_vm_id (self), why));
          return TRUE;
        }
    }

  if (d->have_fc_pid && banger_vmm_has_exited (vmm))
    {
      g_autofree char *why = banger_fc_describe_exit (self);
      launch_fail (task, g_error_new (BANGER_ERROR, BANGER_ERROR_FAILED,
                                      "Firecracker for VM '%s' exited before its API socket "
                                      "answered (%s)",
                                      banger_fc_vm_id (self), why));
      return TRUE;
    }

  if (g_get_monotonic_time () >= d->deadline)
    {
      launch_fail (task, g_error_new (BANGER_ERROR, BANGER_ERROR_TIMED_OUT,
                                      "Firecracker's API socket '%s' for VM '%s' did not "
                                      "answer within %u ms",
                                      self->api_sock_host, banger_fc_vm_id (self),
                                      self->timeouts[BANGER_FC_TIMEOUT_SOCKET]));
      return TRUE;
    }

  if (d->have_fc_pid && !d->probing && stat (self->api_sock_host, &st) == 0
      && S_ISSOCK (st.st_mode))
    {
      d->probing = TRUE;
      banger_fc_client_call_async (self->client, "GET", "/", NULL, PROBE_TIMEOUT_MS, NULL,
                                   on_probe_done, g_object_ref (task));
    }
  return FALSE;
}

static gboolean
launch_tick (gpointer user_data)
{
  GTask *task = user_data;
  LaunchData *d = g_task_get_task_data (task);

  if (g_task_get_completed (task) || g_task_had_error (task))
    return G_SOURCE_REMOVE;
  if (launch_check (task))
    {
      /* completed: drop the sources, and with the tick its ref on the
       * task (hold one of our own meanwhile: we may have been called from
       * another source, and the task data must outlive the drops) */
      g_object_ref (task);
      drop_source (&d->exit_watch);
      drop_source (&d->dir_watch);
      drop_source (&d->tick);
      g_object_unref (task);
      return G_SOURCE_REMOVE;
    }
  return G_SOURCE_CONTINUE;
}

void
banger_vmm_firecracker_launch (BangerVmm *vmm, GCancellable *cancellable,
                               GAsyncReadyCallback callback, gpointer user_data)
{
  BangerVmmFirecracker *self = BANGER_VMM_FIRECRACKER (vmm);
  BangerVmmLauncher *launcher = banger_vmm_get_launcher (vmm);
  BangerVmmLaunchRequest request = { 0 };
  BangerVmmLaunched launched = { 0, -1, NULL, NULL, NULL };
  GTask *task;
  LaunchData *d;
  GError *error = NULL;
  GPid pid = 0;
  int pidfd = -1;

  if (!banger_fc_require_state (self, "launch", callback, user_data, banger_vmm_firecracker_launch,
                                1, BANGER_VMM_STATE_PREPARED))
    return;
  task = banger_fc_new_task (self, cancellable, callback, user_data, banger_vmm_firecracker_launch);
  request.config = banger_vmm_get_config (vmm);
  request.driver = "firecracker";
  request.binary = self->fc_path;
  request.log_path = self->output_path;
  request.api_sock = self->api_sock_arg;
  request.jailer = self->jailer;
  request.api_payload_limit = self->api_payload_limit;
  request.mmds_size_limit = self->mmds_size_limit;
  request.restore_state = self->restore_state;
  request.restore_mem = self->restore_mem;
  if (!launcher->spawn (launcher, &request, &launched, &error))
    {
      g_task_return_error (task, error);
      g_object_unref (task);
      return;
    }
  pid = launched.pid;
  pidfd = launched.pidfd;
  launched.pidfd = -1;
  if (launched.api_socket != NULL && g_strcmp0 (launched.api_socket, self->api_sock_host) != 0)
    {
      /* the launcher chose the socket (bangerd-root's run dir) */
      g_free (self->api_sock_host);
      self->api_sock_host = g_steal_pointer (&launched.api_socket);
      g_clear_pointer (&self->client, banger_fc_client_free);
      self->client = banger_fc_client_new (self->api_sock_host);
      banger_vmm_set_api_socket (vmm, self->api_sock_host);
    }
  if (launched.log_path != NULL)
    {
      g_free (self->output_path);
      self->output_path = g_steal_pointer (&launched.log_path);
    }
  if (launched.jail_root != NULL && self->jailer == NULL)
    /* bangerd-root's jailer: its jail, our files (staged before the first
     * request that needs them: the jailer hands the jail over only once
     * it has built it) */
    banger_fc_use_launcher_jail (self, launched.jail_root);
  banger_vmm_launched_clear (&launched);
  banger_vmm_set_process (vmm, pid, pidfd);
  if (self->log_fifo_fd >= 0 && self->log_drain == NULL)
    {
      /* drained whenever this context runs (and on stats, stop and kill) */
      self->log_drain = g_unix_fd_source_new (self->log_fifo_fd, G_IO_IN);
      g_source_set_callback (self->log_drain,
                             (GSourceFunc)(void (*) (void))banger_fc_on_log_readable, self, NULL);
      g_source_attach (self->log_drain, g_main_context_get_thread_default ());
    }

  d = g_new0 (LaunchData, 1);
  d->inotify_fd = -1;
  d->deadline = g_get_monotonic_time ()
                + (gint64) self->timeouts[BANGER_FC_TIMEOUT_SOCKET] * G_TIME_SPAN_MILLISECOND;
  d->have_fc_pid = (self->jailer == NULL);
  g_task_set_task_data (task, d, (GDestroyNotify) launch_data_free);
  /* the task owns one ref, held by the sources until completion */
  d->tick = g_timeout_source_new (5);
  g_source_set_callback (d->tick, launch_tick, task, g_object_unref);
  g_source_attach (d->tick, g_main_context_get_thread_default ());
  /* wake at once when the process dies */
  d->exit_watch = g_unix_fd_source_new (pidfd, G_IO_IN);
  g_source_set_callback (d->exit_watch, (GSourceFunc) (void (*) (void)) launch_on_exit, task,
                         NULL);
  g_source_attach (d->exit_watch, g_main_context_get_thread_default ());
  /* ... and when something is created next to the socket (the socket, the
   * jailer's pid file); the tick stays as the fallback */
  d->inotify_fd = inotify_init1 (IN_NONBLOCK | IN_CLOEXEC);
  if (d->inotify_fd >= 0)
    {
      g_autofree char *dir = g_path_get_dirname (self->api_sock_host);
      if (inotify_add_watch (d->inotify_fd, dir, IN_CREATE | IN_MOVED_TO | IN_CLOSE_WRITE) >= 0)
        {
          d->dir_watch = g_unix_fd_source_new (d->inotify_fd, G_IO_IN);
          g_source_set_callback (d->dir_watch,
                                 (GSourceFunc) (void (*) (void)) launch_on_dir_event, task,
                                 NULL);
          g_source_attach (d->dir_watch, g_main_context_get_thread_default ());
        }
    }
}
