/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The stop ladder (see banger-vmm-stop-ladder.h): one implementation for
 * both drivers, on timers and a watch on the pidfd. */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <glib-unix.h>

#include "banger-pidfd.h"
#include "banger-error-private.h"
#include "banger-vmm-stop-ladder.h"

typedef enum
{
  RUNG_POLITE,
  RUNG_TERM,
  RUNG_KILL,
} Rung;

typedef struct
{
  BangerVmmStopPlan plan;
  char *what;
  Rung rung;
  GSource *timer;
  GSource *watch;
} Ladder;

static int
pidfd_signal (int pidfd, int sig)
{
  return banger_pidfd_send_signal (pidfd, sig);
}

static void
drop_source (GSource **source)
{
  if (*source == NULL)
    return;
  g_source_destroy (*source);
  g_clear_pointer (source, g_source_unref);
}

static void
ladder_free (Ladder *l)
{
  drop_source (&l->timer);
  drop_source (&l->watch);
  g_free (l->what);
  g_free (l);
}

static void rung_enter (GTask *task);

/* The process is gone: the task completes (and drops the ref the ladder
 * held on it). */
static void
ladder_done (GTask *task, GError *error)
{
  Ladder *l = g_task_get_task_data (task);

  drop_source (&l->timer);
  drop_source (&l->watch);
  if (error != NULL)
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
  g_object_unref (task);
}

static gboolean
on_process_exit (int fd, GIOCondition cond, gpointer user_data)
{
  GTask *task = user_data;
  BangerVmm *vmm = g_task_get_source_object (task);
  Ladder *l = g_task_get_task_data (task);

  /* has_exited treats a readable pidfd of a non-child as exited; for a
   * child, waitid can lag a moment behind: the timer looks again */
  if (!banger_vmm_has_exited (vmm))
    return G_SOURCE_CONTINUE;
  g_clear_pointer (&l->watch, g_source_unref);
  ladder_done (task, NULL);
  return G_SOURCE_REMOVE;
}

static gboolean
on_timer (gpointer user_data)
{
  GTask *task = user_data;
  BangerVmm *vmm = g_task_get_source_object (task);
  Ladder *l = g_task_get_task_data (task);

  g_clear_pointer (&l->timer, g_source_unref);
  if (banger_vmm_has_exited (vmm))
    {
      ladder_done (task, NULL);
      return G_SOURCE_REMOVE;
    }
  if (l->rung == RUNG_KILL)
    {
      ladder_done (task, g_error_new (BANGER_ERROR, BANGER_ERROR_TIMED_OUT,
                                      "%s (pid %d) survived SIGKILL for %d ms", l->what,
                                      (int)banger_vmm_get_pid (vmm), BANGER_VMM_KILL_WAIT_MS));
      return G_SOURCE_REMOVE;
    }
  l->rung++;
  rung_enter (task);
  return G_SOURCE_REMOVE;
}

/* Wait for the exit, or @ms and then the next rung. */
static void
ladder_wait (GTask *task, guint ms)
{
  BangerVmm *vmm = g_task_get_source_object (task);
  Ladder *l = g_task_get_task_data (task);
  GMainContext *ctx = g_task_get_context (task);

  if (l->watch == NULL)
    {
      l->watch = g_unix_fd_source_new (banger_vmm_get_pidfd (vmm), G_IO_IN);
      g_source_set_callback (l->watch, (GSourceFunc)(void (*) (void))on_process_exit, task, NULL);
      g_source_attach (l->watch, ctx);
    }
  drop_source (&l->timer);
  l->timer = g_timeout_source_new (ms);
  g_source_set_callback (l->timer, on_timer, task, NULL);
  g_source_attach (l->timer, ctx);
}

static void
on_polite_answered (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  BangerVmm *vmm = g_task_get_source_object (task);
  Ladder *l = g_task_get_task_data (task);
  g_autoptr (GError) error = NULL;
  gboolean sent = l->plan.polite_finish (vmm, result, &error);

  if (banger_vmm_has_exited (vmm))
    {
      ladder_done (task, NULL);
      return;
    }
  /* a failed request (refused, or the process already on its way out)
   * only means we wait less */
  ladder_wait (task, sent ? banger_vmm_get_stop_timeout (vmm) * 1000
                          : MIN (BANGER_VMM_POLITE_FAILED_GRACE_MS,
                                 banger_vmm_get_stop_timeout (vmm) * 1000));
}

static void
rung_enter (GTask *task)
{
  BangerVmm *vmm = g_task_get_source_object (task);
  Ladder *l = g_task_get_task_data (task);
  int pidfd = banger_vmm_get_pidfd (vmm);

  switch (l->rung)
    {
    case RUNG_POLITE:
      if (l->plan.polite != NULL)
        {
          banger_vmm_set_stop_method (vmm, l->plan.polite_name);
          l->plan.polite (vmm, on_polite_answered, task);
          return;
        }
      l->rung = RUNG_TERM;
      G_GNUC_FALLTHROUGH;
    case RUNG_TERM:
      if (!l->plan.skip_term)
        {
          banger_vmm_set_stop_method (vmm, "term");
          if (pidfd_signal (pidfd, SIGTERM) == 0 || errno == ESRCH)
            {
              ladder_wait (task, banger_vmm_get_stop_timeout (vmm) * 1000);
              return;
            }
          /* TERM cannot be sent: KILL may still be */
        }
      l->rung = RUNG_KILL;
      G_GNUC_FALLTHROUGH;
    case RUNG_KILL:
      banger_vmm_set_stop_method (vmm, "kill");
      if (pidfd_signal (pidfd, SIGKILL) < 0 && errno != ESRCH)
        {
          int errsv = errno;
          ladder_done (task, g_error_new (BANGER_ERROR, banger_error_code_from_errno (errsv),
                                          "Cannot kill %s: %s", l->what, g_strerror (errsv)));
          return;
        }
      ladder_wait (task, BANGER_VMM_KILL_WAIT_MS);
      return;
    }
}

void
banger_vmm_stop_ladder_async (BangerVmm *vmm, const BangerVmmStopPlan *plan,
                              GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task;
  Ladder *l;

  g_return_if_fail (BANGER_IS_VMM (vmm));
  g_return_if_fail (plan != NULL && plan->what != NULL);
  g_return_if_fail (plan->polite == NULL || plan->polite_finish != NULL);

  task = g_task_new (vmm, NULL, callback, user_data);
  g_task_set_source_tag (task, banger_vmm_stop_ladder_async);
  l = g_new0 (Ladder, 1);
  l->plan = *plan;
  l->what = g_strdup (plan->what);
  l->plan.what = l->what;
  if (l->plan.polite_name == NULL)
    l->plan.polite_name = "polite";
  l->rung = RUNG_POLITE;
  g_task_set_task_data (task, l, (GDestroyNotify)ladder_free);
  if (banger_vmm_get_pidfd (vmm) < 0)
    {
      ladder_done (task, g_error_new (BANGER_ERROR, BANGER_ERROR_NOT_FOUND,
                                      "%s has not been launched", l->what));
      return;
    }
  if (banger_vmm_has_exited (vmm))
    {
      banger_vmm_set_stop_method (vmm, "already-exited");
      ladder_done (task, NULL);
      return;
    }
  /* the task holds itself until ladder_done */
  rung_enter (task);
}

gboolean
banger_vmm_stop_ladder_finish (BangerVmm *vmm, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, vmm), FALSE);
  g_return_val_if_fail (g_async_result_is_tagged (result, banger_vmm_stop_ladder_async), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}
