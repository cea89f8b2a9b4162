/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * BangerClient's vm.exec: the command's output streamed as it arrives
 * (vm.exec with stream=true, doc/daemon.md), written to the caller's output
 * streams, or collected into bytes (doc/client.md). */
#include "config.h"

#include "banger-client-private.h"
#include "banger-error-private.h"

/* The bytes form collects at most this much stdout + stderr. */
#define EXEC_BYTES_MAX (16 * 1024 * 1024)

typedef struct
{
  BangerClientStreamCall *call;
  GOutputStream *out; /* nullable: discarded */
  GOutputStream *err;
  gboolean collect; /* the bytes form: out/err are memory streams, bounded */
  guint64 collected;
  GTask *task; /* weak: the task owns this state */
  GError *failure; /* writing the output failed: the exec's error */
  int exit_status;
} Exec;

static void
exec_free (Exec *x)
{
  if (x->call != NULL)
    {
      banger_client_stream_call_close (x->call);
      banger_client_stream_call_unref (x->call);
    }
  g_clear_object (&x->out);
  g_clear_object (&x->err);
  g_clear_error (&x->failure);
  g_free (x);
}

/* The output could not be written (or the bytes form is full): the exec
 * ends with that error; closing the call stops the command's output at the
 * daemon. */
static void
exec_fail (Exec *x, GError *error)
{
  if (error->domain != BANGER_ERROR)
    {
      GError *mapped = g_error_new_literal (BANGER_ERROR, banger_error_code_from_gerror (error),
                                            error->message);
      g_error_free (error);
      error = mapped;
    }
  if (x->failure == NULL)
    x->failure = error;
  else
    g_error_free (error);
  banger_client_stream_call_close (x->call);
}

static void
on_output_written (GObject *source, GAsyncResult *res, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  Exec *x = g_task_get_task_data (task);
  GError *error = NULL;

  if (!g_output_stream_write_all_finish (G_OUTPUT_STREAM (source), res, NULL, &error))
    {
      exec_fail (x, error);
      return;
    }
  banger_client_stream_call_resume (x->call);
}

static gboolean
on_exec_event (JsonObject *event, gpointer user_data)
{
  GTask *task = user_data;
  Exec *x = g_task_get_task_data (task);
  const char *type = json_object_get_string_member_with_default (event, "type", "");
  const char *data = json_object_get_string_member_with_default (event, "data", NULL);
  gint64 fd = json_object_get_int_member_with_default (event, "fd", 0);
  GOutputStream *to;
  g_autoptr (GBytes) bytes = NULL;
  gsize len = 0;
  guchar *raw;

  if (!g_str_equal (type, "output"))
    return TRUE;
  if (data == NULL || (fd != 1 && fd != 2))
    {
      exec_fail (x, g_error_new_literal (BANGER_ERROR, BANGER_ERROR_PROTOCOL,
                                         "An output event without fd 1 or 2 and data"));
      return FALSE;
    }
  to = fd == 1 ? x->out : x->err;
  if (to == NULL)
    return TRUE;
  raw = g_base64_decode (data, &len);
  bytes = g_bytes_new_take (raw, len);
  if (x->collect)
    {
      x->collected += len;
      if (x->collected > EXEC_BYTES_MAX)
        {
          exec_fail (x, g_error_new (BANGER_ERROR, BANGER_ERROR_LIMIT_EXCEEDED,
                                     "The command wrote more than %d bytes; use "
                                     "banger_client_vm_exec_stream_async() for more",
                                     EXEC_BYTES_MAX));
          return FALSE;
        }
    }
  if (len == 0)
    return TRUE;
  /* pause reading until it is written: the daemon's queue fills, and the
   * guest's output waits in the guest */
  g_output_stream_write_all_async (to, g_bytes_get_data (bytes, NULL), len, G_PRIORITY_DEFAULT,
                                   g_task_get_cancellable (task), on_output_written,
                                   g_object_ref (task));
  g_object_set_data_full (G_OBJECT (task), "banger-exec-chunk", g_steal_pointer (&bytes),
                          (GDestroyNotify)g_bytes_unref);
  return FALSE;
}

static void
on_exec_reply (GObject *source, GAsyncResult *res, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  Exec *x = g_task_get_task_data (task);
  GError *error = NULL;
  g_autoptr (JsonObject) result = banger_client_stream_call_finish (res, &error);
  JsonNode *st;

  if (x->failure != NULL)
    {
      g_clear_error (&error);
      g_task_return_error (task, g_steal_pointer (&x->failure));
      return;
    }
  if (result == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  st = json_object_get_member (result, "exit_status");
  if (st == NULL || !JSON_NODE_HOLDS_VALUE (st) || json_node_get_value_type (st) != G_TYPE_INT64)
    {
      g_task_return_new_error (task, BANGER_ERROR, BANGER_ERROR_PROTOCOL,
                               "The engine's exec reply has no exit status");
      return;
    }
  x->exit_status = (int)json_node_get_int (st);
  g_task_return_boolean (task, TRUE);
}

static void
exec_start (BangerClient *client, const char *name, const char *const *argv, GOutputStream *out,
            GOutputStream *err, gboolean collect, gpointer source_tag, GCancellable *cancellable,
            GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autoptr (JsonNode) root = NULL;
  g_autofree char *text = NULL;
  g_autofree char *op_id = banger_client_new_op_id (client);
  GTask *task = g_task_new (client, cancellable, callback, user_data);
  Exec *x = g_new0 (Exec, 1);
  JsonObject *p = json_object_new ();

  g_task_set_source_tag (task, source_tag);
  x->out = out ? g_object_ref (out) : NULL;
  x->err = err ? g_object_ref (err) : NULL;
  x->collect = collect;
  g_task_set_task_data (task, x, (GDestroyNotify)exec_free);

  json_builder_begin_array (b);
  for (guint i = 0; argv[i] != NULL; i++)
    json_builder_add_string_value (b, argv[i]);
  json_builder_end_array (b);
  root = json_builder_get_root (b);
  json_generator_set_root (gen, root);
  text = json_generator_to_data (gen, NULL);
  json_object_set_string_member (p, "name", name);
  json_object_set_string_member (p, "argv", text);
  json_object_set_boolean_member (p, "stream", TRUE);
  /* the task holds the call (through x); the call's callbacks hold the
   * task until the reply */
  x->call = banger_client_stream_call_start (client->engine ? NULL : client->socket_path,
                                             client->engine ? client->state : NULL, "vm.exec", p,
                                             op_id, on_exec_event, NULL, task, cancellable,
                                             on_exec_reply, task);
}

/**
 * banger_client_vm_exec_stream_async:
 * @client: a #BangerClient
 * @name: the VM's name
 * @argv: (array zero-terminated=1) (element-type utf8): the command and its
 *   arguments, run by the guest's shell with each word quoted
 * @stdout_stream: (nullable): where the command's stdout goes (%NULL:
 *   discarded)
 * @stderr_stream: (nullable): where its stderr goes (%NULL: discarded)
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the command has exited
 * @user_data: data for @callback
 *
 * Runs a command in a running VM over SSH (libssh, the install's key),
 * writing its output to @stdout_stream and @stderr_stream as it arrives,
 * in the thread-default main context of this call.  There is no limit on
 * the amount: while a write is pending nothing more is read, and the
 * command's output waits in the guest.  The streams are neither flushed
 * nor closed.  A write that fails ends the call with its error.
 *
 * Since: 0.2
 */
void
banger_client_vm_exec_stream_async (BangerClient *client, const char *name,
                                    const char *const *argv, GOutputStream *stdout_stream,
                                    GOutputStream *stderr_stream, GCancellable *cancellable,
                                    GAsyncReadyCallback callback, gpointer user_data)
{
  g_return_if_fail (BANGER_IS_CLIENT (client));
  g_return_if_fail (name != NULL);
  g_return_if_fail (argv != NULL && argv[0] != NULL);
  g_return_if_fail (stdout_stream == NULL || G_IS_OUTPUT_STREAM (stdout_stream));
  g_return_if_fail (stderr_stream == NULL || G_IS_OUTPUT_STREAM (stderr_stream));
  exec_start (client, name, argv, stdout_stream, stderr_stream, FALSE,
              banger_client_vm_exec_stream_async, cancellable, callback, user_data);
}

/**
 * banger_client_vm_exec_stream_finish:
 * @client: a #BangerClient
 * @result: the #GAsyncResult
 * @out_exit_status: (out) (optional): the command's exit status
 * @error: return location for a #GError
 *
 * Completes banger_client_vm_exec_stream_async().
 *
 * Returns: %TRUE when the command ran (whatever its exit status), or
 *   %FALSE with @error set
 *
 * Since: 0.2
 */
gboolean
banger_client_vm_exec_stream_finish (BangerClient *client, GAsyncResult *result,
                                     int *out_exit_status, GError **error)
{
  Exec *x;

  g_return_val_if_fail (BANGER_IS_CLIENT (client), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, client), FALSE);
  g_return_val_if_fail (
      g_task_get_source_tag (G_TASK (result)) == banger_client_vm_exec_stream_async, FALSE);
  if (!g_task_propagate_boolean (G_TASK (result), error))
    return FALSE;
  x = g_task_get_task_data (G_TASK (result));
  if (out_exit_status != NULL)
    *out_exit_status = x->exit_status;
  return TRUE;
}

/**
 * banger_client_vm_exec_async:
 * @client: a #BangerClient
 * @name: the VM's name
 * @argv: (array zero-terminated=1) (element-type utf8): the command and its
 *   arguments, run by the guest's shell with each word quoted
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the command has exited
 * @user_data: data for @callback
 *
 * Runs a command in a running VM over SSH and collects its output: the
 * form for bindings and short outputs.  At most 16 MiB of stdout and
 * stderr together, else %BANGER_ERROR_LIMIT_EXCEEDED (the command's output
 * is then no longer read); banger_client_vm_exec_stream_async() has no
 * limit.
 *
 * Since: 0.2
 */
void
banger_client_vm_exec_async (BangerClient *client, const char *name, const char *const *argv,
                             GCancellable *cancellable, GAsyncReadyCallback callback,
                             gpointer user_data)
{
  g_autoptr (GOutputStream) out = NULL;
  g_autoptr (GOutputStream) err = NULL;

  g_return_if_fail (BANGER_IS_CLIENT (client));
  g_return_if_fail (name != NULL);
  g_return_if_fail (argv != NULL && argv[0] != NULL);
  out = g_memory_output_stream_new_resizable ();
  err = g_memory_output_stream_new_resizable ();
  exec_start (client, name, argv, out, err, TRUE, banger_client_vm_exec_async, cancellable,
              callback, user_data);
}

static GBytes *
collected (GOutputStream *stream)
{
  g_output_stream_close (stream, NULL, NULL);
  return g_memory_output_stream_steal_as_bytes (G_MEMORY_OUTPUT_STREAM (stream));
}

/**
 * banger_client_vm_exec_finish:
 * @client: a #BangerClient
 * @result: the #GAsyncResult
 * @out_exit_status: (out) (optional): the command's exit status
 * @out_stdout: (out) (optional) (transfer full): what it wrote to stdout
 * @out_stderr: (out) (optional) (transfer full): what it wrote to stderr
 * @error: return location for a #GError
 *
 * Returns: %TRUE when the command ran (whatever its exit status), or
 *   %FALSE with @error set
 *
 * Since: 0.2
 */
gboolean
banger_client_vm_exec_finish (BangerClient *client, GAsyncResult *result, int *out_exit_status,
                              GBytes **out_stdout, GBytes **out_stderr, GError **error)
{
  Exec *x;

  g_return_val_if_fail (BANGER_IS_CLIENT (client), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, client), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == banger_client_vm_exec_async,
                        FALSE);
  if (!g_task_propagate_boolean (G_TASK (result), error))
    return FALSE;
  x = g_task_get_task_data (G_TASK (result));
  if (out_exit_status != NULL)
    *out_exit_status = x->exit_status;
  if (out_stdout != NULL)
    *out_stdout = collected (x->out);
  if (out_stderr != NULL)
    *out_stderr = collected (x->err);
  return TRUE;
}
