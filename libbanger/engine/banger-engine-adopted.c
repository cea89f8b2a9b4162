/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The stop ladder of an adopted VMM (see banger-engine-adopted.h). */
#include "config.h"

#include <signal.h>
#include <unistd.h>

#include "banger-engine-adopted.h"
#include "banger-error.h"
#include "banger-fc-http.h"
#include "banger-pidfd.h"
#include "banger-proc-identity.h"
#include "banger-qmp.h"

#define POLITE_CONNECT_MS 2000
#define KILL_WAIT_MS 5000

const char *
banger_adopted_stop_to_string (BangerAdoptedStop how)
{
  switch (how)
    {
    case BANGER_ADOPTED_STOP_GONE:
      return "gone";
    case BANGER_ADOPTED_STOP_POWER_BUTTON:
      return "power-button";
    case BANGER_ADOPTED_STOP_TERM:
      return "term";
    case BANGER_ADOPTED_STOP_KILL:
      return "kill";
    default:
      return NULL;
    }
}

static void
on_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  *(GAsyncResult **) user_data = g_object_ref (result);
}

/* Run one async step to its end on @ctx. */
static GAsyncResult *
wait_result (GMainContext *ctx, GAsyncResult **slot)
{
  while (*slot == NULL)
    g_main_context_iteration (ctx, TRUE);
  return *slot;
}

/* The power button through the API socket; TRUE when the VMM took it. */
static gboolean
press_power_button (BangerStoreVmm vmm, const char *api_socket, GError **error)
{
  g_autoptr (GMainContext) ctx = g_main_context_new ();
  gboolean ok = FALSE;

  g_main_context_push_thread_default (ctx);
  if (vmm == BANGER_STORE_VMM_QEMU)
    {
      g_autoptr (BangerQmp) qmp = banger_qmp_new ();
      g_autoptr (GAsyncResult) res = NULL;

      banger_qmp_connect_async (qmp, api_socket, POLITE_CONNECT_MS, NULL, on_done, &res);
      if (banger_qmp_connect_finish (qmp, wait_result (ctx, &res), error))
        {
          g_autoptr (GAsyncResult) res2 = NULL;
          g_autoptr (JsonNode) reply = NULL;

          banger_qmp_execute_async (qmp, "system_powerdown", NULL, POLITE_CONNECT_MS, NULL,
                                    on_done, &res2);
          reply = banger_qmp_execute_finish (qmp, wait_result (ctx, &res2), error);
          ok = reply != NULL;
        }
    }
  else
    {
      g_autoptr (BangerFcClient) fc = banger_fc_client_new (api_socket);
      g_autoptr (GAsyncResult) res = NULL;
      g_autoptr (JsonNode) body = json_from_string ("{\"action_type\": \"SendCtrlAltDel\"}", NULL);

      banger_fc_client_call_async (fc, "PUT", "/actions", body, POLITE_CONNECT_MS, NULL, on_done,
                                   &res);
      ok = banger_fc_client_call_finish (wait_result (ctx, &res), NULL, error);
    }
  /* (let the clients' sources finish before the context goes) */
  while (g_main_context_pending (ctx))
    g_main_context_iteration (ctx, FALSE);
  g_main_context_pop_thread_default (ctx);
  return ok;
}

gboolean
banger_engine_stop_adopted (BangerStoreVmm vmm, const char *api_socket, GPid pid,
                            guint64 start_time, guint polite_ms, guint term_ms,
                            BangerAdoptedStop *out_how, GError **error)
{
  g_autoptr (GError) local = NULL;
  int pidfd = banger_pidfd_open_verified (pid, start_time, &local);
  BangerAdoptedStop how = BANGER_ADOPTED_STOP_GONE;

  if (pidfd < 0)
    {
      /* gone (or another process has the pid now): nothing to stop */
      *out_how = how;
      return TRUE;
    }
  if (polite_ms > 0 && api_socket != NULL)
    {
      if (press_power_button (vmm, api_socket, &local))
        {
          if (banger_pidfd_wait_exit (pidfd, (int) polite_ms))
            how = BANGER_ADOPTED_STOP_POWER_BUTTON;
        }
      else
        g_message ("adopted VMM pid %d: no power button (%s); SIGTERM", (int) pid,
                   local->message);
    }
  if (how == BANGER_ADOPTED_STOP_GONE && banger_pidfd_send_signal (pidfd, SIGTERM) == 0
      && banger_pidfd_wait_exit (pidfd, (int) term_ms))
    how = BANGER_ADOPTED_STOP_TERM;
  if (how == BANGER_ADOPTED_STOP_GONE)
    {
      banger_pidfd_send_signal (pidfd, SIGKILL);
      if (!banger_pidfd_wait_exit (pidfd, KILL_WAIT_MS))
        {
          close (pidfd);
          g_set_error (error, BANGER_ERROR, BANGER_ERROR_TIMED_OUT,
                       "The adopted VMM pid %d did not exit after SIGKILL", (int) pid);
          return FALSE;
        }
      how = BANGER_ADOPTED_STOP_KILL;
    }
  close (pidfd);
  *out_how = how;
  return TRUE;
}
