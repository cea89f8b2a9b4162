/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The Firecracker driver: the request sequence every API operation runs
 * (steps in order, the first refusal ends it), the state checks, and the
 * JSON bodies shared by several operations. */
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

/* ------------------------------------------------------------------ steps */

static void
step_free (gpointer p)
{
  Step *s = p;
  g_free (s->method);
  g_free (s->path);
  if (s->body)
    json_node_unref (s->body);
  g_free (s);
}

static void
seq_free (Seq *s)
{
  g_ptr_array_unref (s->steps);
  if (s->last_reply)
    json_node_unref (s->last_reply);
  g_free (s->collect_state);
  g_free (s->collect_mem);
  g_free (s);
}

Seq *
banger_fc_seq_new (void)
{
  Seq *s = g_new0 (Seq, 1);
  s->steps = g_ptr_array_new_with_free_func (step_free);
  return s;
}

/* @body: (transfer full) (nullable) */
void
banger_fc_seq_add (Seq *s, const char *method, const char *path, JsonNode *body, guint timeout_ms)
{
  Step *st = g_new0 (Step, 1);
  st->method = g_strdup (method);
  st->path = g_strdup (path);
  st->body = body;
  st->timeout_ms = timeout_ms;
  g_ptr_array_add (s->steps, st);
}

static void seq_next (GTask *task);

/* Has the process exited, allowing it @ms to finish dying?  A dying
 * process closes its sockets (we see the reset) a moment before its pidfd
 * turns readable. */
static gboolean
exited_within (BangerVmmFirecracker *self, int ms)
{
  BangerVmm *vmm = BANGER_VMM (self);
  int pidfd = banger_vmm_get_pidfd (vmm);
  struct pollfd p = { pidfd, POLLIN, 0 };

  if (banger_vmm_has_exited (vmm))
    return TRUE;
  if (pidfd < 0)
    return FALSE;
  while (poll (&p, 1, ms) < 0 && errno == EINTR)
    ;
  return banger_vmm_has_exited (vmm);
}

/* Rewrite a transport error when the cause is the process having died. */
GError *
banger_fc_explain_failure (BangerVmmFirecracker *self, const Step *st, GError *error)
{
  if (error->domain == BANGER_ERROR && error->code == BANGER_ERROR_PROTOCOL
      && exited_within (self, 250))
    {
      g_autofree char *why = banger_fc_describe_exit (self);
      GError *e = g_error_new (BANGER_ERROR, BANGER_ERROR_FAILED,
                               "Firecracker for VM '%s' exited during %s %s (%s)",
                               banger_fc_vm_id (self), st->method, st->path, why);
      g_error_free (error);
      return e;
    }
  return error;
}

static void
on_step_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  BangerVmmFirecracker *self = g_task_get_source_object (task);
  Seq *seq = g_task_get_task_data (task);
  const Step *st = seq->steps->pdata[seq->next];
  GError *error = NULL;
  JsonNode *reply = NULL;

  if (!banger_fc_client_call_finish (result, &reply, &error))
    {
      g_task_return_error (task, banger_fc_explain_failure (self, st, error));
      return;
    }
  if (seq->last_reply)
    json_node_unref (seq->last_reply);
  seq->last_reply = reply;
  seq->next++;
  seq_next (g_steal_pointer (&task));
}

static void
seq_next (GTask *task)
{
  BangerVmmFirecracker *self = g_task_get_source_object (task);
  Seq *seq = g_task_get_task_data (task);
  Step *st;

  if (seq->next >= seq->steps->len)
    {
      GError *error = NULL;
      if (seq->collect_state != NULL
          && (!banger_fc_jail_collect (self->jail_root_fd, NAME_SNAP_STATE, seq->collect_state,
                                       &error)
              || !banger_fc_jail_collect (self->jail_root_fd, NAME_SNAP_MEM, seq->collect_mem,
                                          &error)))
        {
          g_task_return_error (task, error);
          g_object_unref (task);
          return;
        }
      if (seq->final_state != BANGER_VMM_STATE_NEW)
        banger_vmm_set_state (BANGER_VMM (self), seq->final_state);
      g_task_return_boolean (task, TRUE);
      g_object_unref (task);
      return;
    }
  if (self->client == NULL)
    {
      /* the process was stopped or killed under us */
      g_task_return_new_error (task, BANGER_ERROR, BANGER_ERROR_BUSY,
                               "Firecracker for VM '%s' has exited", banger_fc_vm_id (self));
      g_object_unref (task);
      return;
    }
  st = seq->steps->pdata[seq->next];
  banger_fc_client_call_async (self->client, st->method, st->path, st->body, st->timeout_ms,
                               g_task_get_cancellable (task), on_step_done, task);
}

GTask *
banger_fc_new_task (BangerVmmFirecracker *self, GCancellable *cancellable,
                    GAsyncReadyCallback callback, gpointer user_data, gpointer tag)
{
  GTask *task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, tag);
  g_task_set_check_cancellable (task, FALSE);
  return task;
}

/* Run @seq (taken); the task then completes with a boolean. */
void
banger_fc_seq_run (BangerVmmFirecracker *self, Seq *seq, GCancellable *cancellable,
                   GAsyncReadyCallback callback, gpointer user_data, gpointer tag)
{
  GTask *task = banger_fc_new_task (self, cancellable, callback, user_data, tag);

  g_task_set_task_data (task, seq, (GDestroyNotify) seq_free);
  if (self->client == NULL)
    {
      g_task_return_new_error (task, BANGER_ERROR, BANGER_ERROR_BUSY,
                               "Firecracker for VM '%s' has not been prepared",
                               banger_fc_vm_id (self));
      g_object_unref (task);
      return;
    }
  seq_next (task);
}

/* Refuse an operation in the wrong state, reporting through the callback. */
gboolean
banger_fc_require_state (BangerVmmFirecracker *self, const char *what, GAsyncReadyCallback callback,
                         gpointer user_data, gpointer tag, guint n, ...)
{
  BangerVmmState state = banger_vmm_get_state (BANGER_VMM (self));
  va_list ap;

  va_start (ap, n);
  for (guint i = 0; i < n; i++)
    if (va_arg (ap, int) == (int) state)
      {
        va_end (ap);
        return TRUE;
      }
  va_end (ap);
  g_task_report_new_error (self, callback, user_data, tag, BANGER_ERROR, BANGER_ERROR_BUSY,
                           "Cannot %s VM '%s' while it is %s", what, banger_fc_vm_id (self),
                           banger_vmm_state_to_string (state));
  return FALSE;
}

/* ------------------------------------------------------------- JSON build */

JsonNode *
banger_fc_obj_node (JsonBuilder *b)
{
  return json_builder_get_root (b);
}

JsonNode *
banger_fc_body_action (const char *action)
{
  B_BEGIN ();
  B_STR ("action_type", action);
  return B_END ();
}

JsonNode *
banger_fc_body_vm_state (const char *state)
{
  B_BEGIN ();
  B_STR ("state", state);
  return B_END ();
}
