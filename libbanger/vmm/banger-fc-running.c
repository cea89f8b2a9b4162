/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The Firecracker driver: requests on a launched or booted VM: pause,
 * resume, the balloon, metrics flush, MMDS, and refreshing the state. */
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

void
banger_vmm_firecracker_pause (BangerVmm *vmm, GCancellable *cancellable,
                              GAsyncReadyCallback callback, gpointer user_data)
{
  BangerVmmFirecracker *self = BANGER_VMM_FIRECRACKER (vmm);
  Seq *seq;

  if (!banger_fc_require_state (self, "pause", callback, user_data, banger_vmm_firecracker_pause, 2,
                                BANGER_VMM_STATE_RUNNING, BANGER_VMM_STATE_PAUSED))
    return;
  seq = banger_fc_seq_new ();
  banger_fc_seq_add (seq, "PATCH", "/vm", banger_fc_body_vm_state ("Paused"),
                     self->timeouts[BANGER_FC_TIMEOUT_API]);
  seq->final_state = BANGER_VMM_STATE_PAUSED;
  banger_fc_seq_run (self, seq, cancellable, callback, user_data, banger_vmm_firecracker_pause);
}

void
banger_vmm_firecracker_resume (BangerVmm *vmm, GCancellable *cancellable,
                               GAsyncReadyCallback callback, gpointer user_data)
{
  BangerVmmFirecracker *self = BANGER_VMM_FIRECRACKER (vmm);
  Seq *seq;

  if (!banger_fc_require_state (self, "resume", callback, user_data, banger_vmm_firecracker_resume,
                                2, BANGER_VMM_STATE_PAUSED, BANGER_VMM_STATE_RUNNING))
    return;
  seq = banger_fc_seq_new ();
  banger_fc_seq_add (seq, "PATCH", "/vm", banger_fc_body_vm_state ("Resumed"),
                     self->timeouts[BANGER_FC_TIMEOUT_RESUME]);
  seq->final_state = BANGER_VMM_STATE_RUNNING;
  banger_fc_seq_run (self, seq, cancellable, callback, user_data, banger_vmm_firecracker_resume);
}

/* ------------------------------------------------------------------ extras */

void
banger_vmm_firecracker_set_balloon_async (BangerVmmFirecracker *self, guint amount_mib,
                                          GCancellable *cancellable, GAsyncReadyCallback callback,
                                          gpointer user_data)
{
  gpointer tag = banger_vmm_firecracker_set_balloon_async;
  Seq *seq;

  g_return_if_fail (BANGER_IS_VMM_FIRECRACKER (self));
  if (!banger_fc_require_state (self, "resize the balloon of", callback, user_data, tag, 2,
                                BANGER_VMM_STATE_RUNNING, BANGER_VMM_STATE_PAUSED))
    return;
  seq = banger_fc_seq_new ();
  {
    B_BEGIN ();
    B_INT ("amount_mib", amount_mib);
    banger_fc_seq_add (seq, "PATCH", "/balloon", B_END (), self->timeouts[BANGER_FC_TIMEOUT_API]);
  }
  banger_fc_seq_run (self, seq, cancellable, callback, user_data, tag);
}

void
banger_vmm_firecracker_flush_metrics_async (BangerVmmFirecracker *self, GCancellable *cancellable,
                                            GAsyncReadyCallback callback, gpointer user_data)
{
  gpointer tag = banger_vmm_firecracker_flush_metrics_async;
  Seq *seq;

  g_return_if_fail (BANGER_IS_VMM_FIRECRACKER (self));
  if (!banger_fc_require_state (self, "flush the metrics of", callback, user_data, tag, 2,
                                BANGER_VMM_STATE_RUNNING, BANGER_VMM_STATE_PAUSED))
    return;
  seq = banger_fc_seq_new ();
  banger_fc_seq_add (seq, "PUT", "/actions", banger_fc_body_action ("FlushMetrics"),
                     self->timeouts[BANGER_FC_TIMEOUT_API]);
  banger_fc_seq_run (self, seq, cancellable, callback, user_data, tag);
}

void
banger_vmm_firecracker_patch_mmds_async (BangerVmmFirecracker *self, JsonNode *patch,
                                         GCancellable *cancellable, GAsyncReadyCallback callback,
                                         gpointer user_data)
{
  gpointer tag = banger_vmm_firecracker_patch_mmds_async;
  Seq *seq;

  g_return_if_fail (BANGER_IS_VMM_FIRECRACKER (self));
  g_return_if_fail (patch != NULL && JSON_NODE_HOLDS_OBJECT (patch));
  seq = banger_fc_seq_new ();
  banger_fc_seq_add (seq, "PATCH", "/mmds", json_node_copy (patch),
                     self->timeouts[BANGER_FC_TIMEOUT_API]);
  banger_fc_seq_run (self, seq, cancellable, callback, user_data, tag);
}

void
banger_vmm_firecracker_get_balloon_stats_async (BangerVmmFirecracker *self, GCancellable *cancellable,
                                                GAsyncReadyCallback callback, gpointer user_data)
{
  gpointer tag = banger_vmm_firecracker_get_balloon_stats_async;
  Seq *seq;

  g_return_if_fail (BANGER_IS_VMM_FIRECRACKER (self));
  if (!banger_fc_require_state (self, "read the balloon of", callback, user_data, tag, 2,
                                BANGER_VMM_STATE_RUNNING, BANGER_VMM_STATE_PAUSED))
    return;
  seq = banger_fc_seq_new ();
  banger_fc_seq_add (seq, "GET", "/balloon/statistics", NULL,
                     self->timeouts[BANGER_FC_TIMEOUT_API]);
  banger_fc_seq_run (self, seq, cancellable, callback, user_data, tag);
}

static gboolean
extra_finish (BangerVmmFirecracker *self, GAsyncResult *result, gpointer tag, GError **error)
{
  g_return_val_if_fail (BANGER_IS_VMM_FIRECRACKER (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_async_result_is_tagged (result, tag), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

gboolean
banger_vmm_firecracker_set_balloon_finish (BangerVmmFirecracker *self, GAsyncResult *result,
                                           GError **error)
{
  return extra_finish (self, result, banger_vmm_firecracker_set_balloon_async, error);
}

gboolean
banger_vmm_firecracker_flush_metrics_finish (BangerVmmFirecracker *self, GAsyncResult *result,
                                             GError **error)
{
  return extra_finish (self, result, banger_vmm_firecracker_flush_metrics_async, error);
}

gboolean
banger_vmm_firecracker_patch_mmds_finish (BangerVmmFirecracker *self, GAsyncResult *result,
                                          GError **error)
{
  return extra_finish (self, result, banger_vmm_firecracker_patch_mmds_async, error);
}

JsonObject *
banger_vmm_firecracker_get_balloon_stats_finish (BangerVmmFirecracker *self,
                                                 GAsyncResult *result, GError **error)
{
  Seq *seq;

  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (
      g_async_result_is_tagged (result, banger_vmm_firecracker_get_balloon_stats_async), NULL);
  if (!g_task_propagate_boolean (G_TASK (result), error))
    return NULL;
  seq = g_task_get_task_data (G_TASK (result));
  if (seq == NULL || seq->last_reply == NULL || !JSON_NODE_HOLDS_OBJECT (seq->last_reply))
    {
      g_set_error_literal (error, BANGER_ERROR, BANGER_ERROR_PROTOCOL,
                           "Firecracker's balloon statistics are not a JSON object");
      return NULL;
    }
  return json_object_ref (json_node_get_object (seq->last_reply));
}

/* ----------------------------------------------------------- refresh state */

static void
on_state_reply (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  BangerVmm *vmm = g_task_get_source_object (task);
  g_autoptr (JsonNode) reply = NULL;
  GError *error = NULL;
  const char *state;

  if (!banger_fc_client_call_finish (result, &reply, &error))
    {
      Step st = { (char *) "GET", (char *) "/", NULL, 0 };
      g_task_return_error (task,
                           banger_fc_explain_failure (BANGER_VMM_FIRECRACKER (vmm), &st, error));
      return;
    }
  state = (reply && JSON_NODE_HOLDS_OBJECT (reply))
              ? json_object_get_string_member_with_default (json_node_get_object (reply),
                                                            "state", NULL)
              : NULL;
  if (state == NULL)
    {
      g_task_return_new_error (task, BANGER_ERROR, BANGER_ERROR_PROTOCOL,
                               "Firecracker's GET / answer has no state");
      return;
    }
  if (g_str_equal (state, "Running"))
    banger_vmm_set_state (vmm, BANGER_VMM_STATE_RUNNING);
  else if (g_str_equal (state, "Paused"))
    banger_vmm_set_state (vmm, BANGER_VMM_STATE_PAUSED);
  else if (!g_str_equal (state, "Not started"))
    {
      g_autofree char *q = banger_quote (state);
      g_task_return_new_error (task, BANGER_ERROR, BANGER_ERROR_PROTOCOL,
                               "Firecracker reports an unknown state '%s'", q);
      return;
    }
  g_task_return_boolean (task, TRUE);
}

void
banger_vmm_firecracker_refresh_state (BangerVmm *vmm, GCancellable *cancellable,
                                      GAsyncReadyCallback callback, gpointer user_data)
{
  BangerVmmFirecracker *self = BANGER_VMM_FIRECRACKER (vmm);
  GTask *task = banger_fc_new_task (self, cancellable, callback, user_data,
                                    banger_vmm_firecracker_refresh_state);

  if (banger_vmm_has_exited (vmm) || self->client == NULL)
    {
      /* has_exited() already moved the state to EXITED */
      g_task_return_boolean (task, TRUE);
      g_object_unref (task);
      return;
    }
  banger_fc_client_call_async (self->client, "GET", "/", NULL,
                               self->timeouts[BANGER_FC_TIMEOUT_API], cancellable,
                               on_state_reply, task);
}
