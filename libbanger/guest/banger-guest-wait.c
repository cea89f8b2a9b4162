/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Wait for SSH (see banger-guest-wait.h): banger_guest_ssh_open_full() again
 * and again until one authenticates, bounded by the overall deadline, with a
 * cancellable pause so that attempts start at most every
 * BANGER_GUEST_WAIT_RETRY_MS.  What the guest may still be booting through
 * (connection refused, no route yet, a handshake cut short, an attempt
 * timing out) is retried; what waiting cannot fix (a changed host key, a
 * refused key, a bad known-hosts file) ends the wait at once.
 *
 * The TCP connect of an attempt: while the guest's network is not up, its
 * SYN is lost (the bridge's permanent neighbour entry, priv.neigh_set, makes
 * it leave at once instead of waiting for ARP), and the kernel would send
 * the next one only 1 s, then 3 s, 7 s… later.  So with the endpoint's
 * resend interval (default 250 ms) the attempt starts a fresh connect every
 * interval, keeping the earlier ones open (a slow SYN-ACK still completes
 * its own), until one is answered; the handshake then gets the endpoint's
 * connect timeout.  With a resend interval of 0 an attempt is one connect,
 * and connect + handshake are bounded by the connect timeout (as before). */
#include "config.h"

#include <poll.h>

#include "banger-error.h"
#include "banger-guest-wait.h"

static gboolean
retryable (const GError *error)
{
  return error->domain == BANGER_ERROR
         && (error->code == BANGER_ERROR_FAILED || error->code == BANGER_ERROR_TIMED_OUT
             || error->code == BANGER_ERROR_PROTOCOL);
}

/* Sleeps @ms unless cancelled first. */
static void
pause_cancellable (guint ms, GCancellable *cancellable)
{
  GPollFD pfd = { -1, G_IO_IN, 0 };

  if (cancellable != NULL && g_cancellable_make_pollfd (cancellable, &pfd))
    {
      g_poll (&pfd, 1, (int) ms);
      g_cancellable_release_fd (cancellable);
    }
  else
    g_usleep ((gulong) ms * 1000);
}

/**
 * banger_guest_wait_ssh:
 * @endpoint: the guest
 * @timeout_ms: the bound on the whole wait
 * @out_attempts: (out) (optional): how many login attempts were made
 * @cancellable: (nullable): ends the wait from any thread
 * @error: return location for a #GError
 *
 * Waits until the guest's SSH server answers and accepts the install key
 * (a full connect, host-key check and authentication; the session is then
 * closed).  The first contact records the guest's host key in the
 * endpoint's known-hosts file.  Blocks the calling thread.
 *
 * Retries while the guest cannot answer yet: see the top of this file and
 * banger_guest_endpoint_set_wait_resend().
 *
 * Errors: %BANGER_ERROR_TIMED_OUT after @timeout_ms, with the last
 * attempt's failure in the message; at once, without retrying,
 * %BANGER_ERROR_HOST_KEY_MISMATCH (changed host key),
 * %BANGER_ERROR_PERMISSION_DENIED (refused key, foreign known-hosts file), %BANGER_ERROR_NOT_FOUND (no known-hosts directory) and
 * %BANGER_ERROR_CANCELLED.
 *
 * Returns: %TRUE once the guest accepted the key
 */
gboolean
banger_guest_wait_ssh (BangerGuestEndpoint *endpoint, guint timeout_ms, guint *out_attempts,
                       GCancellable *cancellable, GError **error)
{
  return banger_guest_wait_ssh_counted (endpoint, timeout_ms, out_attempts, NULL, cancellable,
                                        error);
}

/**
 * banger_guest_wait_ssh_counted:
 * @endpoint: the guest
 * @timeout_ms: the bound on the whole wait
 * @out_attempts: (out) (optional): how many login attempts were made
 * @out_connects: (out) (optional): how many TCP connects they started
 * @cancellable: (nullable): ends the wait from any thread
 * @error: return location for a #GError
 *
 * banger_guest_wait_ssh(), also counting the TCP connects (with the
 * endpoint's resend interval, several per attempt).
 *
 * Returns: %TRUE once the guest accepted the key
 */
gboolean
banger_guest_wait_ssh_counted (BangerGuestEndpoint *endpoint, guint timeout_ms,
                               guint *out_attempts, guint *out_connects,
                               GCancellable *cancellable, GError **error)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;
  gint64 per_attempt = (gint64) banger_guest_endpoint_get_connect_timeout (endpoint) * 1000;
  guint resend_ms = banger_guest_endpoint_get_wait_resend (endpoint);
  g_autoptr (GError) last = NULL;
  guint attempts = 0, connects = 0;

  g_return_val_if_fail (endpoint != NULL, FALSE);

  for (;;)
    {
      g_autoptr (BangerGuestSsh) ssh = NULL;
      gint64 now = g_get_monotonic_time ();

      if (g_cancellable_is_cancelled (cancellable))
        {
          g_set_error (error, BANGER_ERROR, BANGER_ERROR_CANCELLED,
                       "Waiting for SSH on %s:%u was cancelled",
                       banger_guest_endpoint_get_address (endpoint),
                       banger_guest_endpoint_get_port (endpoint));
          break;
        }
      if (now >= deadline)
        {
          g_set_error (error, BANGER_ERROR, BANGER_ERROR_TIMED_OUT,
                       "SSH on %s:%u did not accept banger's key within %u ms (%u attempts, "
                       "%u connects; last: %s)",
                       banger_guest_endpoint_get_address (endpoint),
                       banger_guest_endpoint_get_port (endpoint), timeout_ms, attempts, connects,
                       last != NULL ? last->message : "none");
          break;
        }
      attempts++;
      g_clear_error (&last);
      /* resending: the connect phase may take the whole wait; else one
       * connect + handshake per connect timeout */
      ssh = banger_guest_ssh_open_full (endpoint,
                                        resend_ms > 0 ? deadline : MIN (deadline, now + per_attempt),
                                        resend_ms, &connects, cancellable, &last);
      if (ssh != NULL)
        {
          if (out_attempts != NULL)
            *out_attempts = attempts;
          if (out_connects != NULL)
            *out_connects = connects;
          return TRUE;
        }
      if (!retryable (last))
        {
          g_propagate_error (error, g_steal_pointer (&last));
          break;
        }
      {
        /* the next attempt starts BANGER_GUEST_WAIT_RETRY_MS after this
         * one did, or at once when this one took longer */
        gint64 next = MIN (now + (gint64) BANGER_GUEST_WAIT_RETRY_MS * 1000, deadline);
        gint64 after = g_get_monotonic_time ();
        if (after < next)
          pause_cancellable ((guint) ((next - after + 999) / 1000), cancellable);
      }
    }
  if (out_attempts != NULL)
    *out_attempts = attempts;
  if (out_connects != NULL)
    *out_connects = connects;
  return FALSE;
}

static void
wait_thread (GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  BangerGuestEndpoint *endpoint = g_object_get_data (G_OBJECT (task), "banger-endpoint");
  GError *error = NULL;

  if (banger_guest_wait_ssh (endpoint, GPOINTER_TO_UINT (data), NULL, cancellable, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

/**
 * banger_guest_wait_ssh_async:
 * @endpoint: the guest
 * @timeout_ms: the bound on the whole wait
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called in the caller's thread-default main
 *   context when the wait is over
 * @user_data: data for @callback
 *
 * banger_guest_wait_ssh() on a GTask worker thread.
 */
void
banger_guest_wait_ssh_async (BangerGuestEndpoint *endpoint, guint timeout_ms,
                             GCancellable *cancellable, GAsyncReadyCallback callback,
                             gpointer user_data)
{
  g_autoptr (GTask) task = NULL;

  g_return_if_fail (endpoint != NULL);

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, banger_guest_wait_ssh_async);
  g_task_set_check_cancellable (task, FALSE);
  g_object_set_data_full (G_OBJECT (task), "banger-endpoint",
                          banger_guest_endpoint_ref (endpoint),
                          (GDestroyNotify) banger_guest_endpoint_unref);
  g_task_set_task_data (task, GUINT_TO_POINTER (timeout_ms), NULL);
  g_task_run_in_thread (task, wait_thread);
}

/**
 * banger_guest_wait_ssh_finish:
 * @endpoint: the endpoint given to banger_guest_wait_ssh_async()
 * @result: the #GAsyncResult
 * @error: return location for a #GError
 *
 * Finishes banger_guest_wait_ssh_async().
 *
 * Returns: %TRUE once the guest accepted the key (errors as
 *   banger_guest_wait_ssh())
 */
gboolean
banger_guest_wait_ssh_finish (BangerGuestEndpoint *endpoint, GAsyncResult *result,
                              GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == banger_guest_wait_ssh_async,
                        FALSE);
  g_return_val_if_fail (g_object_get_data (G_OBJECT (result), "banger-endpoint") == endpoint,
                        FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}
