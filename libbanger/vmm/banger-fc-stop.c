/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The Firecracker driver: the stop ladder, kill and the jail clean-up. */
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

#include "banger-error-private.h"
#include "banger-fc-http.h"
#include "banger-fc-metrics.h"
#include "banger-proc.h"
#include "banger-quote.h"
#include "banger-vmm-firecracker.h"
#include "banger-vmm-proc-stats.h"
#include "banger-vmm-firecracker-private.h"

/* -------------------------------------------------------------- stop ladder */

typedef enum
{
  RUNG_CTRL_ALT_DEL,
  RUNG_TERM,
  RUNG_KILL,
} Rung;

typedef struct
{
  Rung rung;
  GSource *timer;
  GSource *watch;
} StopData;

static void
stop_sources_clear (StopData *d)
{
  if (d->timer)
    {
      g_source_destroy (d->timer);
      g_clear_pointer (&d->timer, g_source_unref);
    }
  if (d->watch)
    {
      g_source_destroy (d->watch);
      g_clear_pointer (&d->watch, g_source_unref);
    }
}

static void
stop_data_free (StopData *d)
{
  stop_sources_clear (d);
  g_free (d);
}

static void stop_rung (GTask *task);

static gboolean
finish_exited (BangerVmmFirecracker *self, GError **error)
{
  reap_jailer (self);
  drain_log (self);
  g_clear_pointer (&self->client, banger_fc_client_free);
  /* Firecracker leaves its socket behind; it may live outside the run dir
   * (a hashed name, when the run dir is too long for sun_path) */
  if (self->jailer == NULL && self->api_sock_host != NULL)
    remove_stale_socket (self->api_sock_host, NULL);
  if (self->jailer != NULL && !self->jail_removed)
    {
      if (!banger_fc_jail_remove (self->jailer, self->fc_path, cfg_id (self), error))
        return FALSE;
      self->jail_removed = TRUE;
    }
  banger_vmm_set_state (BANGER_VMM (self), BANGER_VMM_STATE_EXITED);
  return TRUE;
}

static void
stop_done (GTask *task)
{
  BangerVmmFirecracker *self = g_task_get_source_object (task);
  GError *error = NULL;

  stop_sources_clear (g_task_get_task_data (task));
  if (!finish_exited (self, &error))
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
  g_object_unref (task);
}

static gboolean
on_stop_exit (int fd, GIOCondition cond, gpointer user_data)
{
  GTask *task = user_data;
  BangerVmmFirecracker *self = g_task_get_source_object (task);

  if (!banger_vmm_has_exited (BANGER_VMM (self)))
    return G_SOURCE_CONTINUE;
  stop_done (task);
  return G_SOURCE_REMOVE;
}

static gboolean
on_stop_timer (gpointer user_data)
{
  GTask *task = user_data;
  BangerVmmFirecracker *self = g_task_get_source_object (task);
  StopData *d = g_task_get_task_data (task);

  g_clear_pointer (&d->timer, g_source_unref);
  if (banger_vmm_has_exited (BANGER_VMM (self)))
    {
      stop_done (task);
      return G_SOURCE_REMOVE;
    }
  if (d->rung == RUNG_KILL)
    {
      stop_sources_clear (d);
      g_task_return_new_error (task, BANGER_ERROR, BANGER_ERROR_TIMED_OUT,
                               "Firecracker for VM '%s' (pid %d) survived SIGKILL for %d s",
                               cfg_id (self), banger_vmm_get_pid (BANGER_VMM (self)),
                               KILL_WAIT_S);
      g_object_unref (task);
      return G_SOURCE_REMOVE;
    }
  d->rung++;
  stop_rung (task);
  return G_SOURCE_REMOVE;
}

/* Wait for the exit or @ms, then on_stop_timer moves one rung down. */
static void
stop_wait (GTask *task, guint ms)
{
  BangerVmmFirecracker *self = g_task_get_source_object (task);
  StopData *d = g_task_get_task_data (task);

  if (d->watch == NULL)
    {
      d->watch = g_unix_fd_source_new (banger_vmm_get_pidfd (BANGER_VMM (self)), G_IO_IN);
      g_source_set_callback (d->watch, (GSourceFunc) (void (*) (void)) on_stop_exit, task, NULL);
      g_source_attach (d->watch, g_main_context_get_thread_default ());
    }
  d->timer = g_timeout_source_new (ms);
  g_source_set_callback (d->timer, on_stop_timer, task, NULL);
  g_source_attach (d->timer, g_main_context_get_thread_default ());
}

static void
on_ctrl_alt_del_sent (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  BangerVmmFirecracker *self = g_task_get_source_object (task);
  g_autoptr (GError) error = NULL;

  /* a refusal (or a process already exiting) only means we wait less */
  banger_fc_client_call_finish (result, NULL, &error);
  if (banger_vmm_has_exited (BANGER_VMM (self)))
    {
      stop_done (task);
      return;
    }
  stop_wait (task, banger_vmm_get_stop_timeout (BANGER_VMM (self)) * 1000);
}

static void
stop_rung (GTask *task)
{
  BangerVmmFirecracker *self = g_task_get_source_object (task);
  BangerVmm *vmm = BANGER_VMM (self);
  StopData *d = g_task_get_task_data (task);
  int pidfd = banger_vmm_get_pidfd (vmm);

  switch (d->rung)
    {
    case RUNG_CTRL_ALT_DEL:
      /* only a booted x86 guest can take Ctrl-Alt-Del; a paused one cannot
       * act on it */
      if (banger_vmm_get_state (vmm) == BANGER_VMM_STATE_RUNNING && self->client != NULL)
        {
          g_autoptr (JsonNode) body = body_action ("SendCtrlAltDel");
          self->stop_method = "ctrl-alt-del";
          banger_fc_client_call_async (self->client, "PUT", "/actions", body,
                                       CTRL_ALT_DEL_TIMEOUT_MS, NULL, on_ctrl_alt_del_sent,
                                       task);
          return;
        }
      d->rung = RUNG_TERM;
      G_GNUC_FALLTHROUGH;
    case RUNG_TERM:
      /* Under the jailer with --new-pid-ns, Firecracker is PID 1 of its pid
       * namespace: the kernel drops signals from an ancestor namespace that
       * PID 1 has no handler for, and Firecracker installs none for TERM.
       * TERM would only burn the timeout; go to KILL. */
      if (!(self->jailer != NULL && self->jailer->new_pid_ns))
        {
          self->stop_method = "term";
          if (pidfd_signal (pidfd, SIGTERM) < 0 && errno != ESRCH)
            {
              d->rung = RUNG_KILL;
              stop_rung (task);
              return;
            }
          stop_wait (task, banger_vmm_get_stop_timeout (vmm) * 1000);
          return;
        }
      d->rung = RUNG_KILL;
      G_GNUC_FALLTHROUGH;
    case RUNG_KILL:
      self->stop_method = "kill";
      if (pidfd_signal (pidfd, SIGKILL) < 0 && errno != ESRCH)
        {
          int errsv = errno;
          stop_sources_clear (d);
          g_task_return_new_error (task, BANGER_ERROR, banger_error_code_from_errno (errsv),
                                   "Cannot kill Firecracker for VM '%s': %s", cfg_id (self),
                                   g_strerror (errsv));
          g_object_unref (task);
          return;
        }
      stop_wait (task, KILL_WAIT_S * 1000);
      return;
    }
}

void
banger_vmm_firecracker_stop (BangerVmm *vmm, GCancellable *cancellable,
                             GAsyncReadyCallback callback, gpointer user_data)
{
  BangerVmmFirecracker *self = BANGER_VMM_FIRECRACKER (vmm);
  GTask *task = new_task (self, cancellable, callback, user_data, banger_vmm_firecracker_stop);
  StopData *d = g_new0 (StopData, 1);

  g_task_set_task_data (task, d, (GDestroyNotify) stop_data_free);
  if (banger_vmm_get_pidfd (vmm) < 0)
    {
      g_task_return_new_error (task, BANGER_ERROR, BANGER_ERROR_NOT_FOUND,
                               "Firecracker for VM '%s' has not been launched", cfg_id (self));
      g_object_unref (task);
      return;
    }
  if (banger_vmm_has_exited (vmm))
    {
      self->stop_method = "already-exited";
      stop_done (task);
      return;
    }
  d->rung = RUNG_CTRL_ALT_DEL;
  stop_rung (task);
}

gboolean
banger_vmm_firecracker_kill (BangerVmm *vmm, GError **error)
{
  BangerVmmFirecracker *self = BANGER_VMM_FIRECRACKER (vmm);
  int pidfd = banger_vmm_get_pidfd (vmm);
  gint64 deadline = g_get_monotonic_time () + KILL_WAIT_S * G_TIME_SPAN_SECOND;

  if (pidfd < 0)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_NOT_FOUND,
                   "Firecracker for VM '%s' has not been launched", cfg_id (self));
      return FALSE;
    }
  if (!banger_vmm_has_exited (vmm))
    {
      self->stop_method = "kill";
      if (pidfd_signal (pidfd, SIGKILL) < 0 && errno != ESRCH)
        return banger_set_error_from_errno (error, errno,
                                            "Cannot kill Firecracker for VM '%s'", cfg_id (self));
      while (!banger_vmm_has_exited (vmm))
        {
          struct pollfd p = { pidfd, POLLIN, 0 };
          gint64 left = (deadline - g_get_monotonic_time ()) / 1000;
          if (left <= 0)
            {
              g_set_error (error, BANGER_ERROR, BANGER_ERROR_TIMED_OUT,
                           "Firecracker for VM '%s' survived SIGKILL for %d s", cfg_id (self),
                           KILL_WAIT_S);
              return FALSE;
            }
          poll (&p, 1, (int) MIN (left, 100));
        }
    }
  return finish_exited (self, error);
}

gboolean
banger_vmm_firecracker_cleanup (BangerVmmFirecracker *self, GError **error)
{
  g_return_val_if_fail (BANGER_IS_VMM_FIRECRACKER (self), FALSE);
  if (banger_vmm_get_pidfd (BANGER_VMM (self)) >= 0 && !banger_vmm_has_exited (BANGER_VMM (self)))
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_BUSY,
                   "Firecracker for VM '%s' is still running", cfg_id (self));
      return FALSE;
    }
  if (self->jailer != NULL && !self->jail_removed)
    {
      if (!banger_fc_jailer_config_validate (self->jailer, error)
          || !banger_fc_jail_remove (self->jailer, self->fc_path, cfg_id (self), error))
        return FALSE;
      self->jail_removed = TRUE;
    }
  reap_jailer (self);
  return TRUE;
}
