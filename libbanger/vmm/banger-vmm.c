/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * BangerVmm: the driver-independent half — state, process, dispatch to the
 * driver's vfuncs, exit watching through the pidfd. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib-unix.h>

#include "banger-error-private.h"
#include "banger-vmm.h"

typedef struct
{
  BangerVmmConfig *config;
  BangerVmmState state;
  GPid pid;
  int pidfd;
  gboolean reaped;
  int wait_status;
  char *api_socket;
  BangerVmmLauncher *launcher;
  guint stop_timeout;
  const char *stop_method; /* static */
  /* the synchronous calls' context: one per object, so that state a driver
   * keeps per main context (Firecracker's kept-alive HTTP connection) lives
   * from one synchronous call to the next */
  GMainContext *sync_context;
} BangerVmmPrivate;

G_DEFINE_ABSTRACT_TYPE_WITH_PRIVATE (BangerVmm, banger_vmm, G_TYPE_OBJECT)

enum
{
  PROP_0,
  PROP_CONFIG,
  PROP_STATE,
  N_PROPS
};
static GParamSpec *props[N_PROPS];

enum
{
  SIGNAL_SNAPSHOT_PROGRESS,
  N_SIGNALS
};
static guint signals[N_SIGNALS];

static const char *const state_names[] = {
  [BANGER_VMM_STATE_NEW] = "new",
  [BANGER_VMM_STATE_PREPARED] = "prepared",
  [BANGER_VMM_STATE_LAUNCHED] = "launched",
  [BANGER_VMM_STATE_CONFIGURED] = "configured",
  [BANGER_VMM_STATE_RUNNING] = "running",
  [BANGER_VMM_STATE_PAUSED] = "paused",
  [BANGER_VMM_STATE_EXITED] = "exited",
};

const char *
banger_vmm_state_to_string (BangerVmmState state)
{
  if ((guint) state >= G_N_ELEMENTS (state_names))
    return "unknown";
  return state_names[state];
}

static void
banger_vmm_finalize (GObject *object)
{
  BangerVmmPrivate *priv = banger_vmm_get_instance_private (BANGER_VMM (object));

  if (priv->pidfd >= 0)
    close (priv->pidfd);
  g_clear_pointer (&priv->config, banger_vmm_config_free);
  g_clear_pointer (&priv->sync_context, g_main_context_unref);
  g_free (priv->api_socket);
  G_OBJECT_CLASS (banger_vmm_parent_class)->finalize (object);
}

static void
banger_vmm_set_property (GObject *object, guint id, const GValue *value, GParamSpec *pspec)
{
  BangerVmmPrivate *priv = banger_vmm_get_instance_private (BANGER_VMM (object));

  switch (id)
    {
    case PROP_CONFIG:
      /* construct-only; the object takes ownership */
      priv->config = g_value_get_pointer (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, id, pspec);
    }
}

static void
banger_vmm_get_property (GObject *object, guint id, GValue *value, GParamSpec *pspec)
{
  BangerVmmPrivate *priv = banger_vmm_get_instance_private (BANGER_VMM (object));

  switch (id)
    {
    case PROP_CONFIG:
      g_value_set_pointer (value, priv->config);
      break;
    case PROP_STATE:
      g_value_set_int (value, priv->state);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, id, pspec);
    }
}

static void
banger_vmm_class_init (BangerVmmClass *klass)
{
  GObjectClass *oc = G_OBJECT_CLASS (klass);

  oc->finalize = banger_vmm_finalize;
  oc->set_property = banger_vmm_set_property;
  oc->get_property = banger_vmm_get_property;

  /* Owned by the object from construction on (a BangerVmmConfig*). */
  props[PROP_CONFIG] = g_param_spec_pointer ("config", NULL, NULL,
                                             G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY
                                                 | G_PARAM_STATIC_STRINGS);
  props[PROP_STATE] = g_param_spec_int ("state", NULL, NULL, 0, BANGER_VMM_STATE_EXITED, 0,
                                        G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY
                                            | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (oc, N_PROPS, props);

  /* documented in banger-vmm-api.c (the GIR reads that file) */
  signals[SIGNAL_SNAPSHOT_PROGRESS]
      = g_signal_new ("snapshot-progress", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL,
                      NULL, NULL, G_TYPE_NONE, 2, G_TYPE_UINT64, G_TYPE_UINT64);
}

void
banger_vmm_report_snapshot_progress (BangerVmm *self, guint64 bytes_done, guint64 bytes_total)
{
  g_signal_emit (self, signals[SIGNAL_SNAPSHOT_PROGRESS], 0, MIN (bytes_done, bytes_total),
                 bytes_total);
}

static void
banger_vmm_init (BangerVmm *self)
{
  BangerVmmPrivate *priv = banger_vmm_get_instance_private (self);
  priv->pidfd = -1;
  priv->stop_timeout = 5;
  priv->launcher = banger_vmm_launcher_direct ();
}

const BangerVmmConfig *
banger_vmm_get_config (BangerVmm *self)
{
  BangerVmmPrivate *priv = banger_vmm_get_instance_private (self);
  return priv->config;
}

BangerVmmState
banger_vmm_get_state (BangerVmm *self)
{
  BangerVmmPrivate *priv = banger_vmm_get_instance_private (self);
  return priv->state;
}

void
banger_vmm_set_state (BangerVmm *self, BangerVmmState state)
{
  BangerVmmPrivate *priv = banger_vmm_get_instance_private (self);
  if (priv->state == state)
    return;
  priv->state = state;
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_STATE]);
}

GPid
banger_vmm_get_pid (BangerVmm *self)
{
  BangerVmmPrivate *priv = banger_vmm_get_instance_private (self);
  return priv->pid;
}

int
banger_vmm_get_pidfd (BangerVmm *self)
{
  BangerVmmPrivate *priv = banger_vmm_get_instance_private (self);
  return priv->pidfd;
}

void
banger_vmm_set_process (BangerVmm *self, GPid pid, int pidfd)
{
  BangerVmmPrivate *priv = banger_vmm_get_instance_private (self);
  if (priv->pidfd >= 0)
    close (priv->pidfd);
  priv->pid = pid;
  priv->pidfd = pidfd;
  priv->reaped = FALSE;
}

const char *
banger_vmm_get_api_socket (BangerVmm *self)
{
  BangerVmmPrivate *priv = banger_vmm_get_instance_private (self);
  return priv->api_socket;
}

void
banger_vmm_set_api_socket (BangerVmm *self, const char *path)
{
  BangerVmmPrivate *priv = banger_vmm_get_instance_private (self);
  g_free (priv->api_socket);
  priv->api_socket = g_strdup (path);
}

void
banger_vmm_set_launcher (BangerVmm *self, BangerVmmLauncher *launcher)
{
  BangerVmmPrivate *priv = banger_vmm_get_instance_private (self);
  priv->launcher = launcher ? launcher : banger_vmm_launcher_direct ();
}

BangerVmmLauncher *
banger_vmm_get_launcher (BangerVmm *self)
{
  BangerVmmPrivate *priv = banger_vmm_get_instance_private (self);
  return priv->launcher;
}

void
banger_vmm_set_stop_timeout (BangerVmm *self, guint seconds)
{
  BangerVmmPrivate *priv = banger_vmm_get_instance_private (self);
  priv->stop_timeout = seconds;
}

guint
banger_vmm_get_stop_timeout (BangerVmm *self)
{
  BangerVmmPrivate *priv = banger_vmm_get_instance_private (self);
  return priv->stop_timeout;
}

const char *
banger_vmm_get_stop_method (BangerVmm *self)
{
  BangerVmmPrivate *priv;

  g_return_val_if_fail (BANGER_IS_VMM (self), NULL);
  priv = banger_vmm_get_instance_private (self);
  return priv->stop_method;
}

void
banger_vmm_set_stop_method (BangerVmm *self, const char *method)
{
  BangerVmmPrivate *priv = banger_vmm_get_instance_private (self);
  priv->stop_method = method;
}

/* ---------------------------------------------------------------- dispatch */

static void
return_unsupported (GTask *task, const char *what)
{
  BangerVmm *self = g_task_get_source_object (task);

  g_task_return_new_error (task, BANGER_ERROR, BANGER_ERROR_UNSUPPORTED,
                           "The %s driver cannot %s", BANGER_VMM_GET_CLASS (self)->driver_name,
                           what);
  g_object_unref (task);
}

gboolean
banger_vmm_prepare (BangerVmm *self, GError **error)
{
  BangerVmmPrivate *priv = banger_vmm_get_instance_private (self);

  g_return_val_if_fail (BANGER_IS_VMM (self), FALSE);
  if (priv->config == NULL)
    {
      g_set_error_literal (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                           "The VMM has no configuration");
      return FALSE;
    }
  if (!banger_vmm_config_validate (priv->config, error))
    return FALSE;
  priv->stop_method = NULL;
  if (!BANGER_VMM_GET_CLASS (self)->prepare (self, error))
    return FALSE;
  banger_vmm_set_state (self, BANGER_VMM_STATE_PREPARED);
  return TRUE;
}

/* Each public _async call wraps the driver's task in one of its own, tagged
 * with the public function, so that its _finish can check it got the result
 * of that very call (GIO's rule) while drivers keep their own tags. */
static GTask *
op_task_new (BangerVmm *self, GCancellable *cancellable, GAsyncReadyCallback callback,
             gpointer user_data, gpointer tag)
{
  GTask *task = g_task_new (self, cancellable, callback, user_data);

  g_task_set_source_tag (task, tag);
  /* the driver decides what cancellation means (stop ignores it) */
  g_task_set_check_cancellable (task, FALSE);
  return task;
}

static void
op_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  GError *error = NULL;

  if (g_task_propagate_boolean (G_TASK (result), &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

static gboolean
op_finish (BangerVmm *self, GAsyncResult *result, gpointer tag, GError **error)
{
  g_return_val_if_fail (BANGER_IS_VMM (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_async_result_is_tagged (result, tag), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

/* One synchronous call: the _async call on the object's own context. */
typedef struct
{
  GMainContext *ctx;
  GAsyncResult *result;
} SyncCall;

static void
sync_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  SyncCall *call = user_data;
  call->result = g_object_ref (result);
}

static void
sync_begin (BangerVmm *self, SyncCall *call)
{
  BangerVmmPrivate *priv = banger_vmm_get_instance_private (self);

  if (priv->sync_context == NULL)
    priv->sync_context = g_main_context_new ();
  call->ctx = priv->sync_context;
  call->result = NULL;
  g_main_context_push_thread_default (call->ctx);
}

/* Iterate until the call has completed; the caller finishes it, then
 * calls sync_end. */
static GAsyncResult *
sync_wait (SyncCall *call)
{
  while (call->result == NULL)
    g_main_context_iteration (call->ctx, TRUE);
  return call->result;
}

static void
sync_end (SyncCall *call)
{
  g_clear_object (&call->result);
  g_main_context_pop_thread_default (call->ctx);
}

#define DEFINE_OP(vfunc, what)                                                                 \
  void banger_vmm_##vfunc##_async (BangerVmm *self, GCancellable *cancellable,                \
                                   GAsyncReadyCallback callback, gpointer user_data)          \
  {                                                                                            \
    GTask *task;                                                                               \
                                                                                               \
    g_return_if_fail (BANGER_IS_VMM (self));                                                   \
    task = op_task_new (self, cancellable, callback, user_data, banger_vmm_##vfunc##_async);   \
    if (BANGER_VMM_GET_CLASS (self)->vfunc == NULL)                                            \
      {                                                                                        \
        return_unsupported (task, what);                                                       \
        return;                                                                                \
      }                                                                                        \
    BANGER_VMM_GET_CLASS (self)->vfunc (self, cancellable, op_done, task);                     \
  }                                                                                            \
                                                                                               \
  gboolean banger_vmm_##vfunc##_finish (BangerVmm *self, GAsyncResult *result, GError **error) \
  {                                                                                            \
    return op_finish (self, result, banger_vmm_##vfunc##_async, error);                        \
  }                                                                                            \
                                                                                               \
  gboolean banger_vmm_##vfunc (BangerVmm *self, GCancellable *cancellable, GError **error)     \
  {                                                                                            \
    SyncCall call;                                                                             \
    gboolean ok;                                                                               \
                                                                                               \
    g_return_val_if_fail (BANGER_IS_VMM (self), FALSE);                                        \
    sync_begin (self, &call);                                                                  \
    banger_vmm_##vfunc##_async (self, cancellable, sync_done, &call);                          \
    ok = banger_vmm_##vfunc##_finish (self, sync_wait (&call), error);                         \
    sync_end (&call);                                                                          \
    return ok;                                                                                 \
  }

DEFINE_OP (launch, "launch a VM")
DEFINE_OP (configure, "configure a VM")
DEFINE_OP (start, "start a VM")
DEFINE_OP (pause, "pause a VM")
DEFINE_OP (resume, "resume a VM")
DEFINE_OP (stop, "stop a VM")
DEFINE_OP (refresh_state, "query a VM's state")

void
banger_vmm_snapshot_create_async (BangerVmm *self, const char *snapshot_path,
                                  const char *mem_path, gboolean diff, GCancellable *cancellable,
                                  GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task;

  g_return_if_fail (BANGER_IS_VMM (self));
  g_return_if_fail (snapshot_path != NULL && mem_path != NULL);
  task = op_task_new (self, cancellable, callback, user_data, banger_vmm_snapshot_create_async);
  if (BANGER_VMM_GET_CLASS (self)->snapshot_create == NULL)
    return return_unsupported (task, "create snapshots");
  BANGER_VMM_GET_CLASS (self)->snapshot_create (self, snapshot_path, mem_path, diff, cancellable,
                                                op_done, task);
}

gboolean
banger_vmm_snapshot_create_finish (BangerVmm *self, GAsyncResult *result, GError **error)
{
  return op_finish (self, result, banger_vmm_snapshot_create_async, error);
}

gboolean
banger_vmm_snapshot_create (BangerVmm *self, const char *snapshot_path, const char *mem_path,
                            gboolean diff, GCancellable *cancellable, GError **error)
{
  SyncCall call;
  gboolean ok;

  g_return_val_if_fail (BANGER_IS_VMM (self), FALSE);
  sync_begin (self, &call);
  banger_vmm_snapshot_create_async (self, snapshot_path, mem_path, diff, cancellable, sync_done,
                                    &call);
  ok = banger_vmm_snapshot_create_finish (self, sync_wait (&call), error);
  sync_end (&call);
  return ok;
}

void
banger_vmm_snapshot_load_async (BangerVmm *self, const char *snapshot_path, const char *mem_path,
                                gboolean resume, GCancellable *cancellable,
                                GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task;

  g_return_if_fail (BANGER_IS_VMM (self));
  g_return_if_fail (snapshot_path != NULL && mem_path != NULL);
  task = op_task_new (self, cancellable, callback, user_data, banger_vmm_snapshot_load_async);
  if (BANGER_VMM_GET_CLASS (self)->snapshot_load == NULL)
    return return_unsupported (task, "load snapshots");
  BANGER_VMM_GET_CLASS (self)->snapshot_load (self, snapshot_path, mem_path, resume, cancellable,
                                              op_done, task);
}

gboolean
banger_vmm_snapshot_load_finish (BangerVmm *self, GAsyncResult *result, GError **error)
{
  return op_finish (self, result, banger_vmm_snapshot_load_async, error);
}

gboolean
banger_vmm_snapshot_load (BangerVmm *self, const char *snapshot_path, const char *mem_path,
                          gboolean resume, GCancellable *cancellable, GError **error)
{
  SyncCall call;
  gboolean ok;

  g_return_val_if_fail (BANGER_IS_VMM (self), FALSE);
  sync_begin (self, &call);
  banger_vmm_snapshot_load_async (self, snapshot_path, mem_path, resume, cancellable, sync_done,
                                  &call);
  ok = banger_vmm_snapshot_load_finish (self, sync_wait (&call), error);
  sync_end (&call);
  return ok;
}

gboolean
banger_vmm_kill (BangerVmm *self, GError **error)
{
  BangerVmmPrivate *priv = banger_vmm_get_instance_private (self);

  g_return_val_if_fail (BANGER_IS_VMM (self), FALSE);
  /* the stop method says how this kill ended the process: the driver's
   * word when it gives one, else "kill" */
  priv->stop_method = NULL;
  if (!BANGER_VMM_GET_CLASS (self)->kill (self, error))
    return FALSE;
  if (priv->stop_method == NULL)
    priv->stop_method = "kill";
  return TRUE;
}

gboolean
banger_vmm_read_stats (BangerVmm *self, BangerVmmStats *out, GError **error)
{
  g_return_val_if_fail (BANGER_IS_VMM (self), FALSE);
  if (BANGER_VMM_GET_CLASS (self)->read_stats == NULL)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_UNSUPPORTED,
                   "The %s driver cannot read statistics",
                   BANGER_VMM_GET_CLASS (self)->driver_name);
      return FALSE;
    }
  return BANGER_VMM_GET_CLASS (self)->read_stats (self, out, error);
}

/* ------------------------------------------------------------- exit watch */

/* Reap the child if it has exited.  TRUE when it is gone (now or before). */
static gboolean
try_reap (BangerVmm *self)
{
  BangerVmmPrivate *priv = banger_vmm_get_instance_private (self);
  siginfo_t info = { 0 };

  if (priv->reaped)
    return TRUE;
  if (priv->pidfd < 0)
    return FALSE;
  if (waitid ((idtype_t) P_PIDFD, (id_t) priv->pidfd, &info, WEXITED | WNOHANG) < 0)
    {
      if (errno == ECHILD)
        {
          /* not our child (adopted, launched by the helper, or Firecracker
           * forked by the jailer into a new pid namespace): the pidfd turns
           * readable when it exits; we cannot learn its status */
          struct pollfd p = { priv->pidfd, POLLIN, 0 };
          if (poll (&p, 1, 0) <= 0 || !(p.revents & (POLLIN | POLLHUP)))
            return FALSE;
          priv->reaped = TRUE;
          priv->wait_status = 0;
          banger_vmm_set_state (self, BANGER_VMM_STATE_EXITED);
          return TRUE;
        }
      return FALSE;
    }
  if (info.si_pid == 0)
    return FALSE;
  priv->reaped = TRUE;
  if (info.si_code == CLD_EXITED)
    priv->wait_status = W_EXITCODE (info.si_status, 0);
  else
    priv->wait_status = info.si_status; /* the signal */
  banger_vmm_set_state (self, BANGER_VMM_STATE_EXITED);
  return TRUE;
}

gboolean
banger_vmm_has_exited (BangerVmm *self)
{
  return try_reap (self);
}

/* wait_exit: a watch on the pidfd and, with a cancellable, a cancellable
 * source; whichever fires first completes the task and destroys both. */
typedef struct
{
  GSource *exit_watch;
  GSource *cancel;
} ExitWait;

static void
exit_wait_free (ExitWait *w)
{
  if (w->exit_watch != NULL)
    g_source_destroy (w->exit_watch);
  g_clear_pointer (&w->exit_watch, g_source_unref);
  if (w->cancel != NULL)
    g_source_destroy (w->cancel);
  g_clear_pointer (&w->cancel, g_source_unref);
  g_free (w);
}

static gboolean
on_pidfd_readable (int fd, GIOCondition cond, gpointer user_data)
{
  GTask *task = user_data;
  BangerVmm *self = g_task_get_source_object (task);

  if (!try_reap (self))
    {
      /* readable but waitid says not yet: only possible for non-children;
       * treat readable as exited */
      BangerVmmPrivate *priv = banger_vmm_get_instance_private (self);
      priv->reaped = TRUE;
      banger_vmm_set_state (self, BANGER_VMM_STATE_EXITED);
    }
  g_task_return_boolean (task, TRUE);
  /* the task data (and with it both sources) goes with the task */
  g_task_set_task_data (task, NULL, NULL);
  return G_SOURCE_REMOVE;
}

static gboolean
on_wait_cancelled (GCancellable *cancellable, gpointer user_data)
{
  GTask *task = user_data;

  g_task_return_new_error (task, BANGER_ERROR, BANGER_ERROR_CANCELLED,
                           "Waiting for the VMM to exit was cancelled");
  g_task_set_task_data (task, NULL, NULL);
  return G_SOURCE_REMOVE;
}

void
banger_vmm_wait_exit_async (BangerVmm *self, GCancellable *cancellable,
                            GAsyncReadyCallback callback, gpointer user_data)
{
  BangerVmmPrivate *priv;
  GTask *task;
  ExitWait *w;

  g_return_if_fail (BANGER_IS_VMM (self));
  priv = banger_vmm_get_instance_private (self);
  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, banger_vmm_wait_exit_async);
  g_task_set_check_cancellable (task, FALSE);
  if (try_reap (self))
    {
      g_task_return_boolean (task, TRUE);
      g_object_unref (task);
      return;
    }
  if (priv->pidfd < 0)
    {
      g_task_return_new_error (task, BANGER_ERROR, BANGER_ERROR_NOT_FOUND,
                               "The VMM has not been launched");
      g_object_unref (task);
      return;
    }
  /* each source holds a ref on the task; the task data holds the sources */
  w = g_new0 (ExitWait, 1);
  w->exit_watch = g_unix_fd_source_new (priv->pidfd, G_IO_IN);
  g_source_set_callback (w->exit_watch, (GSourceFunc)(void (*) (void))on_pidfd_readable,
                         g_object_ref (task), g_object_unref);
  g_source_attach (w->exit_watch, g_task_get_context (task));
  if (cancellable != NULL)
    {
      w->cancel = g_cancellable_source_new (cancellable);
      g_source_set_callback (w->cancel, (GSourceFunc)(void (*) (void))on_wait_cancelled,
                             g_object_ref (task), g_object_unref);
      g_source_attach (w->cancel, g_task_get_context (task));
    }
  g_task_set_task_data (task, w, (GDestroyNotify)exit_wait_free);
  g_object_unref (task);
}

gboolean
banger_vmm_wait_exit_finish (BangerVmm *self, GAsyncResult *result, int *out_wait_status,
                             GError **error)
{
  BangerVmmPrivate *priv = banger_vmm_get_instance_private (self);

  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_async_result_is_tagged (result, banger_vmm_wait_exit_async), FALSE);
  if (!g_task_propagate_boolean (G_TASK (result), error))
    return FALSE;
  if (out_wait_status)
    *out_wait_status = priv->wait_status;
  return TRUE;
}

gboolean
banger_vmm_wait_exit (BangerVmm *self, GCancellable *cancellable, int *out_wait_status,
                      GError **error)
{
  SyncCall call;
  gboolean ok;

  g_return_val_if_fail (BANGER_IS_VMM (self), FALSE);
  sync_begin (self, &call);
  banger_vmm_wait_exit_async (self, cancellable, sync_done, &call);
  ok = banger_vmm_wait_exit_finish (self, sync_wait (&call), out_wait_status, error);
  sync_end (&call);
  return ok;
}
