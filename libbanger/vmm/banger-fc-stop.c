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
#include "banger-vmm-stop-ladder.h"

/* -------------------------------------------------------------- stop ladder */

static gboolean
finish_exited (BangerVmmFirecracker *self, GError **error)
{
  banger_fc_reap_jailer (self);
  banger_fc_drain_log (self);
  g_clear_pointer (&self->client, banger_fc_client_free);
  /* Firecracker leaves its socket behind; it may live outside the run dir
   * (a hashed name, when the run dir is too long for sun_path) */
  if (self->jailer == NULL && self->api_sock_host != NULL)
    banger_fc_remove_stale_socket (self->api_sock_host, NULL);
  if (self->jailer != NULL && !self->jail_removed)
    {
      if (!banger_fc_jail_remove (self->jailer, self->fc_path, banger_fc_vm_id (self), error))
        return FALSE;
      self->jail_removed = TRUE;
    }
  banger_vmm_set_state (BANGER_VMM (self), BANGER_VMM_STATE_EXITED);
  return TRUE;
}

/* The polite rung: Ctrl-Alt-Del (the guest reboots with reboot=k, and
 * Firecracker exits). */
static void
fc_send_ctrl_alt_del (BangerVmm *vmm, GAsyncReadyCallback callback, gpointer user_data)
{
  BangerVmmFirecracker *self = BANGER_VMM_FIRECRACKER (vmm);
  Seq *seq = banger_fc_seq_new ();

  banger_fc_seq_add (seq, "PUT", "/actions", banger_fc_body_action ("SendCtrlAltDel"),
                     CTRL_ALT_DEL_TIMEOUT_MS);
  banger_fc_seq_run (self, seq, NULL, callback, user_data, fc_send_ctrl_alt_del);
}

static gboolean
fc_send_ctrl_alt_del_finish (BangerVmm *vmm, GAsyncResult *result, GError **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
on_ladder_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  BangerVmmFirecracker *self = g_task_get_source_object (task);
  GError *error = NULL;

  if (!banger_vmm_stop_ladder_finish (BANGER_VMM (self), result, &error)
      || !finish_exited (self, &error))
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

void
banger_vmm_firecracker_stop (BangerVmm *vmm, GCancellable *cancellable,
                             GAsyncReadyCallback callback, gpointer user_data)
{
  BangerVmmFirecracker *self = BANGER_VMM_FIRECRACKER (vmm);
  GTask *task
      = banger_fc_new_task (self, cancellable, callback, user_data, banger_vmm_firecracker_stop);
  g_autofree char *what = g_strdup_printf ("Firecracker for VM '%s'", banger_fc_vm_id (self));
  BangerVmmStopPlan plan = {
    .what = what,
    .polite_name = "ctrl-alt-del",
    /* Under the jailer with --new-pid-ns, Firecracker is PID 1 of its pid
     * namespace: the kernel drops signals from an ancestor namespace that
     * PID 1 has no handler for, and Firecracker installs none for TERM.
     * TERM would only burn the timeout; go to KILL. */
    .skip_term = self->jailer != NULL && self->jailer->new_pid_ns,
  };

  if (banger_vmm_get_pidfd (vmm) < 0)
    {
      g_task_return_new_error (task, BANGER_ERROR, BANGER_ERROR_NOT_FOUND,
                               "Firecracker for VM '%s' has not been launched",
                               banger_fc_vm_id (self));
      g_object_unref (task);
      return;
    }
  /* only a booted x86 guest can take Ctrl-Alt-Del (Firecracker refuses it
   * before boot); a paused one cannot act on it */
  if (banger_vmm_get_state (vmm) == BANGER_VMM_STATE_RUNNING && self->client != NULL)
    {
      plan.polite = fc_send_ctrl_alt_del;
      plan.polite_finish = fc_send_ctrl_alt_del_finish;
    }
  banger_vmm_stop_ladder_async (vmm, &plan, on_ladder_done, task);
}

gboolean
banger_vmm_firecracker_kill (BangerVmm *vmm, GError **error)
{
  BangerVmmFirecracker *self = BANGER_VMM_FIRECRACKER (vmm);
  int pidfd = banger_vmm_get_pidfd (vmm);
  gint64 deadline = g_get_monotonic_time () + BANGER_VMM_KILL_WAIT_MS * G_TIME_SPAN_MILLISECOND;

  if (pidfd < 0)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_NOT_FOUND,
                   "Firecracker for VM '%s' has not been launched", banger_fc_vm_id (self));
      return FALSE;
    }
  if (!banger_vmm_has_exited (vmm))
    {
      banger_vmm_set_stop_method (vmm, "kill");
      if (banger_fc_pidfd_signal (pidfd, SIGKILL) < 0 && errno != ESRCH)
        return banger_set_error_from_errno (error, errno, "Cannot kill Firecracker for VM '%s'",
                                            banger_fc_vm_id (self));
      while (!banger_vmm_has_exited (vmm))
        {
          struct pollfd p = { pidfd, POLLIN, 0 };
          gint64 left = (deadline - g_get_monotonic_time ()) / 1000;
          if (left <= 0)
            {
              g_set_error (error, BANGER_ERROR, BANGER_ERROR_TIMED_OUT,
                           "Firecracker for VM '%s' survived SIGKILL for %d ms",
                           banger_fc_vm_id (self), BANGER_VMM_KILL_WAIT_MS);
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
                   "Firecracker for VM '%s' is still running", banger_fc_vm_id (self));
      return FALSE;
    }
  if (self->jailer != NULL && !self->jail_removed)
    {
      if (!banger_fc_jailer_config_validate (self->jailer, error)
          || !banger_fc_jail_remove (self->jailer, self->fc_path, banger_fc_vm_id (self), error))
        return FALSE;
      self->jail_removed = TRUE;
    }
  banger_fc_reap_jailer (self);
  return TRUE;
}
