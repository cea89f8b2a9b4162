/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * exec over SSH (see banger-guest-exec.h).
 *
 * One session per command: open (banger-guest-ssh.c), a session channel,
 * `exec` of the quoted argv, EOF on the remote stdin at once.  Output is
 * taken through libssh's channel callbacks, driven by ssh_event_dopoll():
 * each chunk is written to its GOutputStream before more is read, so a slow
 * reader slows the guest down (the SSH window) instead of growing a buffer.
 * The command ends when the channel is closed, or at EOF once the exit
 * status is in.  No deadline applies to the command itself: the
 * GCancellable ends it (the socket is shut down, the remote side gets a
 * hang-up). */
#include "config.h"

#include <string.h>

#include <libssh/callbacks.h>
#include <libssh/libssh.h>

#include "banger-error.h"
#include "banger-guest-exec.h"

typedef struct
{
  GOutputStream *out;
  GOutputStream *err;
  GCancellable *cancellable;
  GError *write_error;
  gboolean eof;
  gboolean closed;
  gboolean have_status;
  int status;
  char *signal;
} ExecState;

static int
on_data (ssh_session session, ssh_channel channel, void *data, uint32_t len, int is_stderr,
         void *userdata)
{
  ExecState *st = userdata;
  GOutputStream *stream = is_stderr ? st->err : st->out;

  if (stream != NULL && st->write_error == NULL)
    g_output_stream_write_all (stream, data, len, NULL, st->cancellable, &st->write_error);
  return (int) len;
}

static void
on_eof (ssh_session session, ssh_channel channel, void *userdata)
{
  ((ExecState *) userdata)->eof = TRUE;
}

static void
on_close (ssh_session session, ssh_channel channel, void *userdata)
{
  ((ExecState *) userdata)->closed = TRUE;
}

static void
on_exit_status (ssh_session session, ssh_channel channel, int exit_status, void *userdata)
{
  ExecState *st = userdata;

  st->have_status = TRUE;
  st->status = exit_status;
}

static void
on_exit_signal (ssh_session session, ssh_channel channel, const char *signal, int core,
                const char *errmsg, const char *lang, void *userdata)
{
  ExecState *st = userdata;

  g_free (st->signal);
  st->signal = g_strdup (signal != NULL ? signal : "?");
}

/**
 * banger_guest_exec_command_line:
 * @argv: (array zero-terminated=1): the command and its arguments
 * @error: return location for a #GError
 *
 * Builds the command string sent to the guest: each element of @argv
 * single-quoted for the POSIX shell that the SSH server runs it with, so
 * each arrives as one word, whatever it holds.
 *
 * Returns: (transfer full): the command line, or %NULL with
 *   %BANGER_ERROR_INVALID_ARGUMENT (empty @argv) or
 *   %BANGER_ERROR_LIMIT_EXCEEDED (longer than
 *   %BANGER_GUEST_EXEC_MAX_COMMAND)
 */
char *
banger_guest_exec_command_line (const char *const *argv, GError **error)
{
  g_autoptr (GString) cmd = g_string_new (NULL);

  if (argv == NULL || argv[0] == NULL)
    {
      g_set_error_literal (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                           "The command to run in the guest is empty");
      return NULL;
    }
  for (guint i = 0; argv[i] != NULL; i++)
    {
      g_autofree char *q = g_shell_quote (argv[i]);
      if (i > 0)
        g_string_append_c (cmd, ' ');
      g_string_append (cmd, q);
      if (cmd->len > BANGER_GUEST_EXEC_MAX_COMMAND)
        {
          g_set_error (error, BANGER_ERROR, BANGER_ERROR_LIMIT_EXCEEDED,
                       "The command to run in the guest is longer than %d bytes",
                       BANGER_GUEST_EXEC_MAX_COMMAND);
          return NULL;
        }
    }
  return g_string_free (g_steal_pointer (&cmd), FALSE);
}

/**
 * banger_guest_exec:
 * @endpoint: the guest
 * @argv: (array zero-terminated=1): the command and its arguments (quoted
 *   for the remote shell by banger_guest_exec_command_line())
 * @stdout_stream: (nullable): receives the remote stdout as it arrives
 *   (%NULL discards it)
 * @stderr_stream: (nullable): receives the remote stderr as it arrives
 * @out_exit_status: (out) (optional): the remote exit status
 * @cancellable: (nullable): ends the command from any thread
 * @error: return location for a #GError
 *
 * Runs @argv in the guest over a new SSH session (connect, host-key check,
 * authentication as in banger_guest_ssh_open(), bounded by the endpoint's
 * connect timeout), with the remote stdin at EOF.  Blocks the calling
 * thread until the command ends; the streams are written from it.
 *
 * A remote status that is not 0 is not an error: it is returned in
 * @out_exit_status.  Errors: those of banger_guest_ssh_open(); a command
 * killed by a signal gives %BANGER_ERROR_FAILED naming the signal; a
 * channel closed without an exit status %BANGER_ERROR_PROTOCOL; a failed
 * write to a stream that error's message under %BANGER_ERROR_FAILED;
 * %BANGER_ERROR_CANCELLED.
 *
 * Returns: %TRUE when the command ran and exited
 */
gboolean
banger_guest_exec (BangerGuestEndpoint *endpoint, const char *const *argv,
                   GOutputStream *stdout_stream, GOutputStream *stderr_stream,
                   int *out_exit_status, GCancellable *cancellable, GError **error)
{
  g_autofree char *command = NULL;
  g_autoptr (BangerGuestSsh) ssh = NULL;
  ExecState st = { 0 };
  struct ssh_channel_callbacks_struct cb = { 0 };
  ssh_session session;
  ssh_channel channel = NULL;
  ssh_event event = NULL;
  gboolean ok = FALSE;

  g_return_val_if_fail (endpoint != NULL, FALSE);
  g_return_val_if_fail (stdout_stream == NULL || G_IS_OUTPUT_STREAM (stdout_stream), FALSE);
  g_return_val_if_fail (stderr_stream == NULL || G_IS_OUTPUT_STREAM (stderr_stream), FALSE);

  command = banger_guest_exec_command_line (argv, error);
  if (command == NULL)
    return FALSE;
  ssh = banger_guest_ssh_open (endpoint, 0, cancellable, error);
  if (ssh == NULL)
    return FALSE;
  session = banger_guest_ssh_get_session (ssh);

  st.out = stdout_stream;
  st.err = stderr_stream;
  st.cancellable = cancellable;
  cb.userdata = &st;
  cb.channel_data_function = on_data;
  cb.channel_eof_function = on_eof;
  cb.channel_close_function = on_close;
  cb.channel_exit_status_function = on_exit_status;
  cb.channel_exit_signal_function = on_exit_signal;
  ssh_callbacks_init (&cb);

  channel = ssh_channel_new (session);
  if (channel == NULL)
    return banger_guest_ssh_fail (ssh, "Opening an SSH channel", error);
  if (ssh_set_channel_callbacks (channel, &cb) != SSH_OK
      || ssh_channel_open_session (channel) != SSH_OK)
    {
      banger_guest_ssh_fail (ssh, "Opening an SSH channel", error);
      goto out;
    }
  if (ssh_channel_request_exec (channel, command) != SSH_OK)
    {
      banger_guest_ssh_fail (ssh, "Starting the command", error);
      goto out;
    }
  /* (a quick command may be over, channel closed, before our EOF goes out) */
  if (ssh_channel_send_eof (channel) != SSH_OK && !st.closed && !st.have_status)
    {
      banger_guest_ssh_fail (ssh, "Closing the command's stdin", error);
      goto out;
    }

  event = ssh_event_new ();
  if (event == NULL || ssh_event_add_session (event, session) != SSH_OK)
    {
      g_set_error_literal (error, BANGER_ERROR, BANGER_ERROR_FAILED, "ssh_event_new failed");
      goto out;
    }
  while (!st.closed && !(st.eof && (st.have_status || st.signal != NULL))
         && st.write_error == NULL)
    {
      if (g_cancellable_is_cancelled (cancellable))
        {
          banger_guest_ssh_fail (ssh, "Running the command", error);
          goto out;
        }
      if (ssh_event_dopoll (event, 1000) == SSH_ERROR)
        {
          if (st.closed)
            break;
          banger_guest_ssh_fail (ssh, "Running the command", error);
          goto out;
        }
    }

  if (st.write_error != NULL)
    {
      if (g_error_matches (st.write_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_set_error (error, BANGER_ERROR, BANGER_ERROR_CANCELLED,
                     "Running the command in %s was cancelled",
                     banger_guest_endpoint_get_address (endpoint));
      else
        g_set_error (error, BANGER_ERROR, BANGER_ERROR_FAILED,
                     "Writing the command's output failed: %s", st.write_error->message);
      goto out;
    }
  if (st.signal != NULL)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_FAILED,
                   "The command in %s was killed by signal SIG%s",
                   banger_guest_endpoint_get_address (endpoint), st.signal);
      goto out;
    }
  if (!st.have_status)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_PROTOCOL,
                   "The SSH server of %s closed the command's channel without an exit status",
                   banger_guest_endpoint_get_address (endpoint));
      goto out;
    }
  if (out_exit_status != NULL)
    *out_exit_status = st.status;
  ok = TRUE;

out:
  if (event != NULL)
    {
      ssh_event_remove_session (event, session);
      ssh_event_free (event);
    }
  if (channel != NULL)
    {
      if (!g_cancellable_is_cancelled (cancellable) && ssh_channel_is_open (channel))
        ssh_channel_close (channel);
      ssh_channel_free (channel);
    }
  g_clear_error (&st.write_error);
  g_free (st.signal);
  return ok;
}

typedef struct
{
  char **argv;
  GOutputStream *out;
  GOutputStream *err;
} ExecTaskData;

static void
exec_task_data_free (gpointer data)
{
  ExecTaskData *d = data;

  g_strfreev (d->argv);
  g_clear_object (&d->out);
  g_clear_object (&d->err);
  g_free (d);
}

static void
exec_thread (GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  ExecTaskData *d = data;
  BangerGuestEndpoint *endpoint = g_object_get_data (G_OBJECT (task), "banger-endpoint");
  GError *error = NULL;
  int status = -1;

  if (banger_guest_exec (endpoint, (const char *const *) d->argv, d->out, d->err, &status,
                         cancellable, &error))
    g_task_return_int (task, status);
  else
    g_task_return_error (task, error);
}

/**
 * banger_guest_exec_async:
 * @endpoint: the guest
 * @argv: (array zero-terminated=1): the command and its arguments
 * @stdout_stream: (nullable): receives the remote stdout
 * @stderr_stream: (nullable): receives the remote stderr
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called in the thread-default main context of
 *   the caller when the command has ended
 * @user_data: data for @callback
 *
 * banger_guest_exec() on a GTask worker thread.  The streams are written
 * from that thread while the command runs: give streams that tolerate it
 * (a #GMemoryOutputStream, a #GUnixOutputStream on a pipe or a terminal)
 * and do not use them from elsewhere until @callback runs.  A long command
 * holds one worker of GLib's pool for its whole run.
 */
void
banger_guest_exec_async (BangerGuestEndpoint *endpoint, const char *const *argv,
                         GOutputStream *stdout_stream, GOutputStream *stderr_stream,
                         GCancellable *cancellable, GAsyncReadyCallback callback,
                         gpointer user_data)
{
  g_autoptr (GTask) task = NULL;
  ExecTaskData *d;

  g_return_if_fail (endpoint != NULL);
  g_return_if_fail (argv != NULL);

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, banger_guest_exec_async);
  g_task_set_check_cancellable (task, FALSE);
  g_object_set_data_full (G_OBJECT (task), "banger-endpoint",
                          banger_guest_endpoint_ref (endpoint),
                          (GDestroyNotify) banger_guest_endpoint_unref);
  d = g_new0 (ExecTaskData, 1);
  d->argv = g_strdupv ((char **) argv);
  d->out = stdout_stream != NULL ? g_object_ref (stdout_stream) : NULL;
  d->err = stderr_stream != NULL ? g_object_ref (stderr_stream) : NULL;
  g_task_set_task_data (task, d, exec_task_data_free);
  g_task_run_in_thread (task, exec_thread);
}

/**
 * banger_guest_exec_finish:
 * @endpoint: the endpoint given to banger_guest_exec_async()
 * @result: the #GAsyncResult
 * @out_exit_status: (out) (optional): the remote exit status
 * @error: return location for a #GError
 *
 * Finishes banger_guest_exec_async().
 *
 * Returns: %TRUE when the command ran and exited (errors as
 *   banger_guest_exec())
 */
gboolean
banger_guest_exec_finish (BangerGuestEndpoint *endpoint, GAsyncResult *result,
                          int *out_exit_status, GError **error)
{
  gssize status;

  g_return_val_if_fail (g_task_is_valid (result, NULL), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == banger_guest_exec_async,
                        FALSE);
  g_return_val_if_fail (g_object_get_data (G_OBJECT (result), "banger-endpoint") == endpoint,
                        FALSE);

  status = g_task_propagate_int (G_TASK (result), error);
  if (status == -1 && g_task_had_error (G_TASK (result)))
    return FALSE;
  if (out_exit_status != NULL)
    *out_exit_status = (int) status;
  return TRUE;
}
