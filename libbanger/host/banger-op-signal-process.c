/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * priv.signal_process {pid, signal} and priv.kill_process {pid} (always
 * KILL) -> {pid, vm_id, signal}
 *
 * The signal name goes through banger_validate_signal_name (an allowlist:
 * "STOP", "9", "SIGKILL " and "RTMIN+1" are all refused); the pid through
 * banger_host_authorize_vmm_pid (banger-vmm-authorize.c), which hands back a
 * pidfd; the signal is sent with pidfd_send_signal on that pidfd. */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <unistd.h>

#include "banger-error-private.h"
#include "banger-pidfd.h"
#include "banger-priv-ops-private.h"
#include "banger-signal.h"
#include "banger-vmm-authorize.h"

#define PID_PARAM { "pid", BANGER_PARAM_INT, TRUE, 2, 4194304, NULL }

static gboolean
send_checked (BangerPrivState *state, const BangerPeerCred *caller, gint64 pid, int signo,
              const char *signame, JsonBuilder *result, GError **error)
{
  g_autofree char *vm_id = NULL;
  int pidfd = banger_host_authorize_vmm_pid (state, caller, pid, &vm_id, error);

  if (pidfd < 0)
    return FALSE;
  if (banger_pidfd_send_signal (pidfd, signo) < 0)
    {
      int errsv = errno;
      close (pidfd);
      if (errsv == ESRCH)
        {
          g_set_error (error, BANGER_ERROR, BANGER_ERROR_NOT_FOUND,
                       "Process %" G_GINT64_FORMAT " has exited", pid);
          return FALSE;
        }
      return banger_set_error_from_errno (error, errsv, "Cannot signal process %" G_GINT64_FORMAT,
                                          pid);
    }
  close (pidfd);
  banger_priv_result_int (result, "pid", pid);
  banger_priv_result_string (result, "vm_id", vm_id);
  banger_priv_result_string (result, "signal", signame);
  return TRUE;
}

const BangerParamSpec banger_op_signal_process_params[] = {
  PID_PARAM,
  { "signal", BANGER_PARAM_STRING, TRUE, 1, 16, banger_priv_validate_signal },
  { NULL },
};

gboolean
banger_op_signal_process (BangerPrivState *state, const BangerPeerCred *caller,
                          JsonObject *params, JsonBuilder *result, GCancellable *cancellable,
                          GError **error)
{
  const char *signame = banger_priv_param_string (params, "signal");
  gint64 pid = banger_priv_param_int (params, "pid", 0);
  int signo = 0;

  if (!banger_validate_signal_name (signame, &signo, error))
    return FALSE;
  return send_checked (state, caller, pid, signo, signame, result, error);
}

const BangerParamSpec banger_op_kill_process_params[] = {
  PID_PARAM,
  { NULL },
};

gboolean
banger_op_kill_process (BangerPrivState *state, const BangerPeerCred *caller, JsonObject *params,
                        JsonBuilder *result, GCancellable *cancellable, GError **error)
{
  return send_checked (state, caller, banger_priv_param_int (params, "pid", 0), SIGKILL, "KILL",
                       result, error);
}
