/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * BangerClient's event stream: engine.subscribe on a connection of its own
 * (or, embedded, on the engine's stream), turned into the
 * vm-state-changed, progress, snapshot-created, snapshot-deleted and
 * subscription-ended signals
 * (doc/client.md). */
#include "config.h"

#include "banger-client-private.h"
#include "banger-error.h"

enum
{
  SIGNAL_PROGRESS,
  SIGNAL_SNAPSHOT_CREATED,
  SIGNAL_SNAPSHOT_DELETED,
  SIGNAL_SUBSCRIPTION_ENDED,
  N_SIGNALS,
};
static guint signals[N_SIGNALS];

void
banger_client_events_class_init (GObjectClass *klass)
{
  /**
   * BangerClient::progress:
   * @client: the #BangerClient
   * @op_id: the operation's id (one per call, `c` + 16 hex digits: a call
   *   of this client's is told apart by banger_client_get_last_op_id())
   * @kind: the operation: `vm.create`, `vm.start`, `vm.snapshot`,
   *   `vm.restore` or `pull` (an image or kernel pull)
   * @target: the name of what it works on (the VM; the snapshotted VM for
   *   `vm.snapshot`, the new one for `vm.restore`; a pull's reference)
   * @step: the step that has begun (`rootfs`, `tap`, `launch`, `ssh`, …;
   *   a snapshot's `pause`, `memory`, `disks`, `resume`, `record`; a
   *   restore's `disks`, `lease`, `tap`, `nat`, `launch`, `load`, `ssh`)
   * @index: its number, from 1
   * @count: how many steps the operation has (0 for a pull)
   * @bytes_done: bytes of the step done so far (0 when @bytes_total is 0)
   * @bytes_total: bytes the step handles, or 0 when it does not count bytes
   *
   * Emitted, after banger_client_subscribe_async() has completed, when a
   * step of any client's operation begins (bytes 0 of 0), and while a step
   * that counts bytes runs (a snapshot's memory and disks, a restore's
   * disks and load, a create's root disk copy, a pull's downloads): again
   * with the same @step and @index, @bytes_done never going down, at most
   * about ten times a second, the last one at @bytes_total.  In the main
   * context of the subscribe call.
   *
   * Since: 0.2
   */
  signals[SIGNAL_PROGRESS] = g_signal_new (
      "progress", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE,
      8, G_TYPE_STRING, G_TYPE_STRING, G_TYPE_STRING, G_TYPE_STRING, G_TYPE_UINT, G_TYPE_UINT,
      G_TYPE_UINT64, G_TYPE_UINT64);

  /**
   * BangerClient::snapshot-created:
   * @client: the #BangerClient
   * @name: the snapshot's name
   * @vm_name: the snapshotted VM's name
   *
   * Emitted, after banger_client_subscribe_async() has completed, when any
   * client's snapshot has been recorded (banger_client_snapshot_list_async()
   * has it from now on), in the main context of the subscribe call.
   *
   * Since: 0.2
   */
  signals[SIGNAL_SNAPSHOT_CREATED]
      = g_signal_new ("snapshot-created", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL,
                      NULL, NULL, G_TYPE_NONE, 2, G_TYPE_STRING, G_TYPE_STRING);

  /**
   * BangerClient::snapshot-deleted:
   * @client: the #BangerClient
   * @name: the snapshot's name
   * @vm_name: the snapshotted VM's name
   *
   * Emitted, after banger_client_subscribe_async() has completed, when any
   * client has deleted a snapshot, in the main context of the subscribe
   * call.
   *
   * Since: 0.2
   */
  signals[SIGNAL_SNAPSHOT_DELETED]
      = g_signal_new ("snapshot-deleted", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL,
                      NULL, NULL, G_TYPE_NONE, 2, G_TYPE_STRING, G_TYPE_STRING);

  /**
   * BangerClient::subscription-ended:
   * @client: the #BangerClient
   * @error: why: the daemon stopped or dropped the subscription (it was not
   *   read in time: %BANGER_ERROR_LIMIT_EXCEEDED), or the connection failed
   *
   * Emitted once when a subscription ends by itself (not after
   * banger_client_unsubscribe()).  Events may have been missed: subscribe
   * again, then re-read what matters (banger_client_vm_list_async()).
   *
   * Since: 0.2
   */
  signals[SIGNAL_SUBSCRIPTION_ENDED]
      = g_signal_new ("subscription-ended", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL,
                      NULL, NULL, G_TYPE_NONE, 1, G_TYPE_ERROR);
}

gboolean
banger_client_is_subscribed (BangerClient *self)
{
  return self->subscribed;
}

static void
drop_stream (BangerClient *self)
{
  if (self->events != NULL)
    {
      banger_client_stream_call_close (self->events);
      g_clear_pointer (&self->events, banger_client_stream_call_unref);
    }
  self->subscribed = FALSE;
}

static void
complete_waiters (BangerClient *self, const GError *error)
{
  g_autoptr (GPtrArray) waiters = g_steal_pointer (&self->subscribe_waiters);

  for (guint i = 0; waiters != NULL && i < waiters->len; i++)
    {
      GTask *t = waiters->pdata[i];
      if (error != NULL)
        g_task_return_error (t, g_error_copy (error));
      else
        g_task_return_boolean (t, TRUE);
    }
}

void
banger_client_events_finalize (BangerClient *self)
{
  g_autoptr (GError) error
      = g_error_new_literal (BANGER_ERROR, BANGER_ERROR_CANCELLED, "The client was finalized");

  drop_stream (self);
  complete_waiters (self, error);
}

static guint64
member_uint (JsonObject *o, const char *name)
{
  gint64 v = json_object_get_int_member_with_default (o, name, 0);
  return v < 0 ? 0 : (guint64)v;
}

static gboolean
on_event (JsonObject *event, gpointer user_data)
{
  BangerClient *self = user_data;
  const char *type = json_object_get_string_member_with_default (event, "type", "");

  if (g_str_equal (type, "vm-state-changed"))
    {
      const char *name = json_object_get_string_member_with_default (event, "name", NULL);
      BangerVmState state;

      if (name != NULL
          && banger_vm_state_from_string (
              json_object_get_string_member_with_default (event, "state", NULL), &state))
        banger_client_emit_vm_state_changed (self, name, state);
    }
  else if (g_str_equal (type, "progress"))
    g_signal_emit (self, signals[SIGNAL_PROGRESS], 0,
                   json_object_get_string_member_with_default (event, "op_id", NULL),
                   json_object_get_string_member_with_default (event, "kind", NULL),
                   json_object_get_string_member_with_default (event, "target", NULL),
                   json_object_get_string_member_with_default (event, "step", NULL),
                   (guint)MIN (member_uint (event, "index"), G_MAXUINT),
                   (guint)MIN (member_uint (event, "count"), G_MAXUINT),
                   member_uint (event, "bytes_done"), member_uint (event, "bytes_total"));
  else if (g_str_equal (type, "snapshot-created") || g_str_equal (type, "snapshot-deleted"))
    {
      const char *name = json_object_get_string_member_with_default (event, "name", NULL);

      if (name != NULL)
        g_signal_emit (self,
                       signals[g_str_equal (type, "snapshot-created") ? SIGNAL_SNAPSHOT_CREATED
                                                                      : SIGNAL_SNAPSHOT_DELETED],
                       0, name, json_object_get_string_member_with_default (event, "vm", NULL));
    }
  /* other types: from a newer daemon, ignored */
  return TRUE;
}

static void
on_end (const GError *error, gpointer user_data)
{
  g_autoptr (BangerClient) self = g_object_ref (user_data);

  g_clear_pointer (&self->events, banger_client_stream_call_unref);
  self->subscribed = FALSE;
  g_signal_emit (self, signals[SIGNAL_SUBSCRIPTION_ENDED], 0, error);
}

static void
on_subscribed (GObject *source, GAsyncResult *res, gpointer user_data)
{
  g_autoptr (BangerClient) self = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonObject) result = banger_client_stream_call_finish (res, &error);

  if (result == NULL)
    drop_stream (self);
  else
    self->subscribed = TRUE;
  complete_waiters (self, error);
}

/**
 * banger_client_subscribe_async:
 * @client: a #BangerClient
 * @cancellable: (nullable): a #GCancellable; cancelling it later ends the
 *   subscription too
 * @callback: (scope async): called when the subscription is in place
 * @user_data: data for @callback
 *
 * Subscribes to the engine's event stream: from the completion on,
 * #BangerClient::vm-state-changed, #BangerClient::progress,
 * #BangerClient::snapshot-created and #BangerClient::snapshot-deleted are emitted
 * for the work of every client of the engine (over a socket: on a
 * connection of its own, kept open), in the thread-default main context of
 * this call.  Subscribing again while subscribed completes at once.  The
 * stream's order is the engine's; there is no order between events and the
 * replies of calls.
 *
 * Since: 0.2
 */
void
banger_client_subscribe_async (BangerClient *client, GCancellable *cancellable,
                               GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (GTask) task = NULL;
  g_autofree char *op_id = NULL;

  g_return_if_fail (BANGER_IS_CLIENT (client));
  task = g_task_new (client, cancellable, callback, user_data);
  g_task_set_source_tag (task, banger_client_subscribe_async);
  if (client->subscribed)
    {
      g_task_return_boolean (task, TRUE);
      return;
    }
  if (client->subscribe_waiters == NULL)
    client->subscribe_waiters = g_ptr_array_new_with_free_func (g_object_unref);
  g_ptr_array_add (client->subscribe_waiters, g_steal_pointer (&task));
  if (client->events != NULL)
    return; /* one is on its way */
  op_id = banger_client_new_op_id (client);
  client->events = banger_client_stream_call_start (
      client->engine ? NULL : client->socket_path, client->engine ? client->state : NULL,
      "engine.subscribe", json_object_new (), op_id, on_event, on_end, client, cancellable,
      on_subscribed, g_object_ref (client));
}

/**
 * banger_client_subscribe_finish:
 * @client: a #BangerClient
 * @result: the #GAsyncResult
 * @error: return location for a #GError
 *
 * Completes banger_client_subscribe_async().
 *
 * Returns: %TRUE when subscribed, or %FALSE with @error set
 *
 * Since: 0.2
 */
gboolean
banger_client_subscribe_finish (BangerClient *client, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (BANGER_IS_CLIENT (client), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, client), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == banger_client_subscribe_async,
                        FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

/**
 * banger_client_unsubscribe:
 * @client: a #BangerClient
 *
 * Ends the subscription (the connection closes; the engine forgets it).
 * No event signal is emitted after this returns; a subscribe still on its
 * way fails with %BANGER_ERROR_CANCELLED.
 *
 * Since: 0.2
 */
void
banger_client_unsubscribe (BangerClient *client)
{
  g_return_if_fail (BANGER_IS_CLIENT (client));
  drop_stream (client);
}
