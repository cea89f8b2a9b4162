/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * BangerVmmQemu: QEMU microvm over QMP (see banger-vmm-qemu.h).
 *
 * Every operation that talks to QEMU or waits on the process runs its
 * blocking part in a worker thread (QMP calls, pidfd polls) and applies its
 * effect on the object (process, state) back in the caller's main context,
 * so the object is only mutated from there. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "banger-error-private.h"
#include "banger-pidfd.h"
#include "banger-qmp.h"
#include "banger-quote.h"
#include "banger-vmm-proc-stats.h"
#include "banger-vmm-qemu.h"

#define DEFAULT_LAUNCH_TIMEOUT_MS 10000
#define KVM_PROBE_TIMEOUT_MS 5000
#define KILL_WAIT_MS 5000
#define BLOCKSTATS_TIMEOUT_MS 500
#define DEATH_GRACE_MS 250 /* after a QMP failure at launch: is QEMU dying? */
#define LOG_TAIL_BYTES 2048

struct _BangerVmmQemu
{
  BangerVmm parent_instance;

  char *binary;
  BangerQemuAccel accel;
  char *accel_used;
  guint launch_timeout_ms;
  GStrv argv;
  char *qmp_path;
  char *console_path;
  char *log_path;
  BangerQmp *qmp;
};

G_DEFINE_FINAL_TYPE (BangerVmmQemu, banger_vmm_qemu, BANGER_TYPE_VMM)

/* The KVM probe boots a kernel: do it once per binary and process. */
G_LOCK_DEFINE_STATIC (probe_cache);
static GHashTable *probe_cache; /* binary -> "kvm"/"tcg" */

/* ------------------------------------------------------------- utilities */

static int
pidfd_signal (int pidfd, int sig)
{
  return banger_pidfd_send_signal (pidfd, sig);
}

/* Wait up to @timeout_ms for the pidfd to become readable (the process
 * exited).  FALSE on timeout or cancellation. */
static gboolean
wait_pidfd (int pidfd, guint timeout_ms, GCancellable *cancellable)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;
  GPollFD fds[2] = { { pidfd, G_IO_IN, 0 }, { -1, G_IO_IN, 0 } };
  guint nfds = 1;

  if (g_cancellable_make_pollfd (cancellable, &fds[1]))
    nfds = 2;
  for (;;)
    {
      gint64 left = deadline - g_get_monotonic_time ();
      int r;

      if (left < 0)
        left = 0;
      r = g_poll (fds, nfds, (int) ((left + 999) / 1000));
      if (r < 0 && errno == EINTR)
        continue;
      if (r > 0 && (fds[0].revents & G_IO_IN))
        break;
      if (g_cancellable_is_cancelled (cancellable) || left == 0)
        {
          if (nfds == 2)
            g_cancellable_release_fd (cancellable);
          return FALSE;
        }
    }
  if (nfds == 2)
    g_cancellable_release_fd (cancellable);
  return TRUE;
}

/* The last lines of a log, for error messages ("" when empty). */
static char *
log_tail (const char *path)
{
  g_autofree char *contents = NULL;
  gsize len = 0;
  const char *start;
  GString *out;

  if (path == NULL || !g_file_get_contents (path, &contents, &len, NULL) || len == 0)
    return g_strdup ("");
  start = contents + (len > LOG_TAIL_BYTES ? len - LOG_TAIL_BYTES : 0);
  g_strstrip ((char *) start);
  out = g_string_new (NULL);
  for (const char *p = start; *p != '\0'; p++)
    g_string_append_c (out, (*p == '\n' || (guchar) *p >= 0x20) ? *p : '?');
  return g_string_free (out, FALSE);
}

static GError *
busy_error (BangerVmm *vmm, const char *what)
{
  return g_error_new (BANGER_ERROR, BANGER_ERROR_BUSY, "Cannot %s: the VM is %s", what,
                      banger_vmm_state_to_string (banger_vmm_get_state (vmm)));
}

/* ------------------------------------------------------------------- jobs */

typedef enum
{
  JOB_LAUNCH,
  JOB_START,
  JOB_PAUSE,
  JOB_RESUME,
  JOB_STOP,
  JOB_REFRESH,
} JobKind;

typedef struct
{
  JobKind kind;
  BangerVmmState state_at_call;
  int pidfd;         /* JOB_STOP: borrowed; JOB_LAUNCH: result, owned until applied */
  GPid pid;
  guint stop_timeout_s;
  char *accel;       /* JOB_LAUNCH result */
  GStrv argv;        /* JOB_LAUNCH result */
  char *status;      /* query-status result */
} Job;

static void
job_free (Job *job)
{
  if (job->kind == JOB_LAUNCH && job->pidfd >= 0)
    close (job->pidfd);
  g_free (job->accel);
  g_strfreev (job->argv);
  g_free (job->status);
  g_free (job);
}

static Job *
job_new (BangerVmm *vmm, JobKind kind)
{
  Job *job = g_new0 (Job, 1);

  job->kind = kind;
  job->state_at_call = banger_vmm_get_state (vmm);
  job->pidfd = kind == JOB_LAUNCH ? -1 : banger_vmm_get_pidfd (vmm);
  job->stop_timeout_s = banger_vmm_get_stop_timeout (vmm);
  return job;
}

static char *
query_status (BangerVmmQemu *self, GCancellable *cancellable, GError **error)
{
  g_autoptr (JsonNode) ret = banger_qmp_execute (self->qmp, "query-status", NULL, 0,
                                                 cancellable, error);
  const char *status;

  if (ret == NULL)
    return NULL;
  status = JSON_NODE_HOLDS_OBJECT (ret)
               ? json_object_get_string_member_with_default (json_node_get_object (ret),
                                                             "status", NULL)
               : NULL;
  if (status == NULL)
    {
      g_set_error_literal (error, BANGER_ERROR, BANGER_ERROR_PROTOCOL,
                           "QEMU's query-status reply has no status");
      return NULL;
    }
  return g_strdup (status);
}

static gboolean
qmp_simple (BangerVmmQemu *self, const char *command, GCancellable *cancellable, GError **error)
{
  g_autoptr (JsonNode) ret = banger_qmp_execute (self->qmp, command, NULL, 0, cancellable,
                                                 error);
  return ret != NULL;
}

/* Kill and reap a process that failed to launch properly. */
static void
discard_process (GPid pid, int pidfd)
{
  siginfo_t info = { 0 };

  pidfd_signal (pidfd, SIGKILL);
  if (waitid ((idtype_t) P_PIDFD, (id_t) pidfd, &info, WEXITED) < 0 && errno == ECHILD)
    wait_pidfd (pidfd, KILL_WAIT_MS, NULL);
  close (pidfd);
}

/* The process behind @pidfd has exited during launch: reap it (when it is
 * our child), close the pidfd, and say how it ended with its last output. */
static void
set_death_error (BangerVmmQemu *self, int pidfd, GError **error)
{
  siginfo_t info = { 0 };
  g_autofree char *tail = NULL;
  g_autofree char *how = NULL;

  if (waitid ((idtype_t) P_PIDFD, (id_t) pidfd, &info, WEXITED | WNOHANG) == 0
      && info.si_pid != 0)
    how = info.si_code == CLD_EXITED
              ? g_strdup_printf ("exited with status %d", info.si_status)
              : g_strdup_printf ("was killed by signal %d", info.si_status);
  else
    how = g_strdup ("exited");
  close (pidfd);
  tail = log_tail (self->log_path);
  g_set_error (error, BANGER_ERROR, BANGER_ERROR_FAILED,
               "QEMU %s before its QMP socket was ready%s%s", how,
               tail[0] ? ": " : " (its log is empty)", tail);
}

static gboolean
launch_in_thread (BangerVmmQemu *self, Job *job, GCancellable *cancellable, GError **error)
{
  BangerVmm *vmm = BANGER_VMM (self);
  const BangerVmmConfig *config = banger_vmm_get_config (vmm);
  BangerVmmLauncher *launcher = banger_vmm_get_launcher (vmm);
  g_autofree char *accel = NULL;
  g_auto (GStrv) argv = NULL;
  gint64 deadline;
  GPid pid = 0;
  int pidfd = -1;

  if (self->accel == BANGER_QEMU_ACCEL_AUTO && g_getenv (BANGER_QEMU_ACCEL_ENV) == NULL)
    {
      G_LOCK (probe_cache);
      if (probe_cache != NULL)
        accel = g_strdup (g_hash_table_lookup (probe_cache, self->binary));
      G_UNLOCK (probe_cache);
    }
  if (accel == NULL)
    {
      accel = banger_qemu_choose_accel (self->accel, self->binary, "/dev/kvm",
                                        config->kernel_path, KVM_PROBE_TIMEOUT_MS, cancellable,
                                        error);
      if (accel == NULL)
        return FALSE;
      if (self->accel == BANGER_QEMU_ACCEL_AUTO && g_getenv (BANGER_QEMU_ACCEL_ENV) == NULL)
        {
          G_LOCK (probe_cache);
          if (probe_cache == NULL)
            probe_cache = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
          g_hash_table_replace (probe_cache, g_strdup (self->binary), g_strdup (accel));
          G_UNLOCK (probe_cache);
        }
    }
  argv = banger_qemu_build_argv (config, self->binary, accel, self->qmp_path,
                                 self->console_path, error);
  if (argv == NULL)
    return FALSE;

  /* A socket left by an earlier run must not be mistaken for this one. */
  if (g_unlink (self->qmp_path) < 0 && errno != ENOENT)
    return banger_set_error_from_errno (error, errno, "Cannot remove the stale QMP socket '%s'",
                                        self->qmp_path);

  if (!launcher->spawn (launcher, config->vm_id, (const char *const *) argv, self->log_path,
                        &pid, &pidfd, error))
    return FALSE;

  deadline = g_get_monotonic_time () + (gint64) self->launch_timeout_ms * 1000;
  for (;;)
    {
      g_autoptr (GError) local = NULL;
      struct stat st;

      if (wait_pidfd (pidfd, 0, NULL))
        {
          set_death_error (self, pidfd, error);
          return FALSE;
        }
      if (g_cancellable_set_error_if_cancelled (cancellable, &local))
        {
          discard_process (pid, pidfd);
          g_set_error_literal (error, BANGER_ERROR, BANGER_ERROR_CANCELLED,
                               "Launching QEMU was cancelled");
          return FALSE;
        }
      if (g_get_monotonic_time () > deadline)
        {
          discard_process (pid, pidfd);
          g_set_error (error, BANGER_ERROR, BANGER_ERROR_TIMED_OUT,
                       "QEMU's QMP socket '%s' did not answer within %u ms", self->qmp_path,
                       self->launch_timeout_ms);
          return FALSE;
        }
      if (stat (self->qmp_path, &st) == 0 && S_ISSOCK (st.st_mode))
        {
          if (banger_qmp_connect (self->qmp, self->qmp_path, self->launch_timeout_ms,
                                  cancellable, &local))
            break;
          /* refused: QEMU has bound but not yet listens; anything else is
           * final */
          if (!g_error_matches (local, BANGER_ERROR, BANGER_ERROR_NOT_FOUND)
              && !g_error_matches (local, BANGER_ERROR, BANGER_ERROR_FAILED)
              && !g_error_matches (local, BANGER_ERROR, BANGER_ERROR_BUSY))
            {
              /* a QEMU that dies mid-handshake is reported as a death */
              if (wait_pidfd (pidfd, DEATH_GRACE_MS, NULL))
                set_death_error (self, pidfd, error);
              else
                {
                  discard_process (pid, pidfd);
                  g_propagate_error (error, g_steal_pointer (&local));
                }
              return FALSE;
            }
        }
      g_usleep (10 * 1000);
    }

  {
    g_autoptr (GError) local = NULL;

    job->status = query_status (self, cancellable, &local);
    if (job->status == NULL)
      {
        banger_qmp_close (self->qmp);
        if (wait_pidfd (pidfd, DEATH_GRACE_MS, NULL))
          set_death_error (self, pidfd, error);
        else
          {
            discard_process (pid, pidfd);
            g_propagate_error (error, g_steal_pointer (&local));
          }
        return FALSE;
      }
  }
  job->pid = pid;
  job->pidfd = pidfd;
  job->accel = g_steal_pointer (&accel);
  job->argv = g_steal_pointer (&argv);
  return TRUE;
}

/* The graceful ladder: power button (or quit for a guest that never ran),
 * stop-timeout, TERM, stop-timeout, KILL. */
static gboolean
stop_in_thread (BangerVmmQemu *self, Job *job, GCancellable *cancellable, GError **error)
{
  guint grace_ms = job->stop_timeout_s * 1000;

  if (job->pidfd < 0)
    {
      g_set_error_literal (error, BANGER_ERROR, BANGER_ERROR_NOT_FOUND,
                           "The VMM has not been launched");
      return FALSE;
    }
  if (wait_pidfd (job->pidfd, 0, NULL))
    return TRUE;

  if (banger_qmp_is_connected (self->qmp))
    {
      /* failures here only skip a rung of the ladder */
      if (job->state_at_call == BANGER_VMM_STATE_RUNNING)
        qmp_simple (self, "system_powerdown", cancellable, NULL);
      else if (job->state_at_call == BANGER_VMM_STATE_PAUSED)
        {
          if (qmp_simple (self, "cont", cancellable, NULL))
            qmp_simple (self, "system_powerdown", cancellable, NULL);
        }
      else
        qmp_simple (self, "quit", cancellable, NULL);
      if (wait_pidfd (job->pidfd, grace_ms, cancellable))
        return TRUE;
    }
  if (g_cancellable_is_cancelled (cancellable))
    goto cancelled;

  if (pidfd_signal (job->pidfd, SIGTERM) < 0 && errno != ESRCH)
    return banger_set_error_from_errno (error, errno, "Cannot signal QEMU (pid %d)",
                                        (int) job->pid);
  if (wait_pidfd (job->pidfd, grace_ms, cancellable))
    return TRUE;
  if (g_cancellable_is_cancelled (cancellable))
    goto cancelled;

  if (pidfd_signal (job->pidfd, SIGKILL) < 0 && errno != ESRCH)
    return banger_set_error_from_errno (error, errno, "Cannot kill QEMU (pid %d)",
                                        (int) job->pid);
  if (wait_pidfd (job->pidfd, KILL_WAIT_MS, cancellable))
    return TRUE;
  g_set_error (error, BANGER_ERROR, BANGER_ERROR_TIMED_OUT,
               "QEMU (pid %d) is still there after SIGKILL", (int) job->pid);
  return FALSE;

cancelled:
  g_set_error_literal (error, BANGER_ERROR, BANGER_ERROR_CANCELLED, "Stopping QEMU was cancelled");
  return FALSE;
}

static void
job_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  BangerVmmQemu *self = source;
  Job *job = task_data;
  GError *error = NULL;
  gboolean ok = FALSE;

  switch (job->kind)
    {
    case JOB_LAUNCH:
      ok = launch_in_thread (self, job, cancellable, &error);
      break;
    case JOB_START:
    case JOB_RESUME:
      ok = qmp_simple (self, "cont", cancellable, &error);
      break;
    case JOB_PAUSE:
      ok = qmp_simple (self, "stop", cancellable, &error);
      break;
    case JOB_STOP:
      ok = stop_in_thread (self, job, cancellable, &error);
      break;
    case JOB_REFRESH:
      if (job->pidfd >= 0 && wait_pidfd (job->pidfd, 0, NULL))
        ok = TRUE; /* exited: applied in job_done */
      else
        ok = (job->status = query_status (self, cancellable, &error)) != NULL;
      break;
    }
  if (ok)
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

static BangerVmmState
state_from_status (const char *status, BangerVmmState current)
{
  if (g_strcmp0 (status, "running") == 0)
    return BANGER_VMM_STATE_RUNNING;
  if (g_strcmp0 (status, "prelaunch") == 0)
    return current == BANGER_VMM_STATE_CONFIGURED ? current : BANGER_VMM_STATE_LAUNCHED;
  /* paused, suspended, shutdown (with -no-shutdown), io-error, ... */
  return BANGER_VMM_STATE_PAUSED;
}

/* Back in the caller's context: apply the job's effect, complete. */
static void
job_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  BangerVmmQemu *self = BANGER_VMM_QEMU (source);
  BangerVmm *vmm = BANGER_VMM (self);
  g_autoptr (GTask) outer = user_data;
  Job *job = g_task_get_task_data (outer);
  GError *error = NULL;

  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      if (job->kind == JOB_STOP)
        banger_vmm_has_exited (vmm);
      g_task_return_error (outer, error);
      return;
    }
  switch (job->kind)
    {
    case JOB_LAUNCH:
      banger_vmm_set_process (vmm, job->pid, job->pidfd);
      job->pidfd = -1;
      g_free (self->accel_used);
      self->accel_used = g_steal_pointer (&job->accel);
      g_strfreev (self->argv);
      self->argv = g_steal_pointer (&job->argv);
      banger_vmm_set_state (vmm, BANGER_VMM_STATE_LAUNCHED);
      break;
    case JOB_START:
    case JOB_RESUME:
      banger_vmm_set_state (vmm, BANGER_VMM_STATE_RUNNING);
      break;
    case JOB_PAUSE:
      banger_vmm_set_state (vmm, BANGER_VMM_STATE_PAUSED);
      break;
    case JOB_STOP:
      banger_qmp_close (self->qmp);
      banger_vmm_has_exited (vmm); /* reaps, sets EXITED */
      banger_vmm_set_state (vmm, BANGER_VMM_STATE_EXITED);
      g_unlink (self->qmp_path);
      break;
    case JOB_REFRESH:
      if (job->status == NULL)
        {
          banger_qmp_close (self->qmp);
          banger_vmm_has_exited (vmm);
          banger_vmm_set_state (vmm, BANGER_VMM_STATE_EXITED);
        }
      else
        banger_vmm_set_state (vmm, state_from_status (job->status, banger_vmm_get_state (vmm)));
      break;
    }
  g_task_return_boolean (outer, TRUE);
}

static void
run_job (BangerVmmQemu *self, Job *job, gpointer source_tag, GCancellable *cancellable,
         GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *outer = g_task_new (self, cancellable, callback, user_data);
  g_autoptr (GTask) inner = g_task_new (self, cancellable, job_done, outer);

  g_task_set_source_tag (outer, source_tag);
  g_task_set_check_cancellable (outer, FALSE);
  g_task_set_task_data (outer, job, (GDestroyNotify) job_free);
  g_task_set_check_cancellable (inner, FALSE);
  g_task_set_task_data (inner, job, NULL);
  g_task_run_in_thread (inner, job_thread);
}

static gboolean
in_state (BangerVmm *vmm, const char *what, GAsyncReadyCallback callback, gpointer user_data,
          BangerVmmState a, BangerVmmState b)
{
  BangerVmmState s = banger_vmm_get_state (vmm);

  if (s == a || s == b)
    return TRUE;
  g_task_report_error (vmm, callback, user_data, NULL, busy_error (vmm, what));
  return FALSE;
}

/* ---------------------------------------------------------------- vfuncs */

static gboolean
qemu_prepare (BangerVmm *vmm, GError **error)
{
  BangerVmmQemu *self = BANGER_VMM_QEMU (vmm);
  const BangerVmmConfig *config = banger_vmm_get_config (vmm);

  if (g_mkdir_with_parents (config->run_dir, 0700) < 0)
    return banger_set_error_from_errno (error, errno, "Cannot create the run directory '%s'",
                                        config->run_dir);
  if (self->binary == NULL)
    {
      const char *env = g_getenv (BANGER_QEMU_BINARY_ENV);
      self->binary = env && env[0] ? g_strdup (env) : g_find_program_in_path ("qemu-system-x86_64");
      if (self->binary == NULL)
        {
          g_set_error_literal (error, BANGER_ERROR, BANGER_ERROR_NOT_FOUND,
                               "qemu-system-x86_64 is not installed (Debian: qemu-system-x86)");
          return FALSE;
        }
    }
  g_free (self->qmp_path);
  self->qmp_path = g_build_filename (config->run_dir, "qmp.sock", NULL);
  g_free (self->console_path);
  self->console_path = g_build_filename (config->run_dir, "console.log", NULL);
  g_free (self->log_path);
  self->log_path = g_build_filename (config->run_dir, "qemu.log", NULL);
  banger_vmm_set_api_socket (vmm, self->qmp_path);

  /* Provisional until launch settles the accelerator; building it now
   * reports a bad configuration early. */
  g_strfreev (self->argv);
  self->argv = banger_qemu_build_argv (config, self->binary,
                                       self->accel == BANGER_QEMU_ACCEL_KVM ? "kvm" : "tcg",
                                       self->qmp_path, self->console_path, error);
  if (self->argv == NULL)
    return FALSE;
  if (strlen (self->qmp_path) >= 108)
    {
      g_autofree char *q = banger_quote (self->qmp_path);
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   "The QMP socket path '%s' is too long for a unix socket; use a shorter run "
                   "directory", q);
      return FALSE;
    }
  return TRUE;
}

static void
qemu_launch (BangerVmm *vmm, GCancellable *cancellable, GAsyncReadyCallback callback,
             gpointer user_data)
{
  if (!in_state (vmm, "launch", callback, user_data, BANGER_VMM_STATE_PREPARED,
                 BANGER_VMM_STATE_PREPARED))
    return;
  run_job (BANGER_VMM_QEMU (vmm), job_new (vmm, JOB_LAUNCH), qemu_launch, cancellable, callback,
           user_data);
}

static void
qemu_configure (BangerVmm *vmm, GCancellable *cancellable, GAsyncReadyCallback callback,
                gpointer user_data)
{
  g_autoptr (GTask) task = NULL;

  if (!in_state (vmm, "configure", callback, user_data, BANGER_VMM_STATE_LAUNCHED,
                 BANGER_VMM_STATE_LAUNCHED))
    return;
  /* Everything was on the command line. */
  task = g_task_new (vmm, cancellable, callback, user_data);
  g_task_set_source_tag (task, qemu_configure);
  banger_vmm_set_state (vmm, BANGER_VMM_STATE_CONFIGURED);
  g_task_return_boolean (task, TRUE);
}

static void
qemu_start (BangerVmm *vmm, GCancellable *cancellable, GAsyncReadyCallback callback,
            gpointer user_data)
{
  if (!in_state (vmm, "start", callback, user_data, BANGER_VMM_STATE_CONFIGURED,
                 BANGER_VMM_STATE_LAUNCHED))
    return;
  run_job (BANGER_VMM_QEMU (vmm), job_new (vmm, JOB_START), qemu_start, cancellable, callback,
           user_data);
}

static void
qemu_pause (BangerVmm *vmm, GCancellable *cancellable, GAsyncReadyCallback callback,
            gpointer user_data)
{
  if (!in_state (vmm, "pause", callback, user_data, BANGER_VMM_STATE_RUNNING,
                 BANGER_VMM_STATE_RUNNING))
    return;
  run_job (BANGER_VMM_QEMU (vmm), job_new (vmm, JOB_PAUSE), qemu_pause, cancellable, callback,
           user_data);
}

static void
qemu_resume (BangerVmm *vmm, GCancellable *cancellable, GAsyncReadyCallback callback,
             gpointer user_data)
{
  if (!in_state (vmm, "resume", callback, user_data, BANGER_VMM_STATE_PAUSED,
                 BANGER_VMM_STATE_PAUSED))
    return;
  run_job (BANGER_VMM_QEMU (vmm), job_new (vmm, JOB_RESUME), qemu_resume, cancellable, callback,
           user_data);
}

static void
qemu_stop (BangerVmm *vmm, GCancellable *cancellable, GAsyncReadyCallback callback,
           gpointer user_data)
{
  if (banger_vmm_get_pidfd (vmm) < 0)
    {
      g_task_report_new_error (vmm, callback, user_data, qemu_stop, BANGER_ERROR,
                               BANGER_ERROR_NOT_FOUND, "The VMM has not been launched");
      return;
    }
  run_job (BANGER_VMM_QEMU (vmm), job_new (vmm, JOB_STOP), qemu_stop, cancellable, callback,
           user_data);
}

static void
qemu_refresh_state (BangerVmm *vmm, GCancellable *cancellable, GAsyncReadyCallback callback,
                    gpointer user_data)
{
  BangerVmmState s = banger_vmm_get_state (vmm);
  g_autoptr (GTask) task = NULL;

  if (s == BANGER_VMM_STATE_NEW || s == BANGER_VMM_STATE_PREPARED
      || s == BANGER_VMM_STATE_EXITED || banger_vmm_has_exited (vmm))
    {
      task = g_task_new (vmm, cancellable, callback, user_data);
      g_task_set_source_tag (task, qemu_refresh_state);
      g_task_return_boolean (task, TRUE);
      return;
    }
  run_job (BANGER_VMM_QEMU (vmm), job_new (vmm, JOB_REFRESH), qemu_refresh_state, cancellable,
           callback, user_data);
}

static gboolean
qemu_kill (BangerVmm *vmm, GError **error)
{
  int pidfd = banger_vmm_get_pidfd (vmm);

  if (pidfd < 0)
    {
      g_set_error_literal (error, BANGER_ERROR, BANGER_ERROR_NOT_FOUND,
                           "The VMM has not been launched");
      return FALSE;
    }
  if (banger_vmm_has_exited (vmm))
    return TRUE;
  if (pidfd_signal (pidfd, SIGKILL) < 0 && errno != ESRCH)
    return banger_set_error_from_errno (error, errno, "Cannot kill QEMU (pid %d)",
                                        (int) banger_vmm_get_pid (vmm));
  /* bounded: SIGKILL cannot be ignored, but the exit can take a moment */
  if (!wait_pidfd (pidfd, KILL_WAIT_MS, NULL))
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_TIMED_OUT,
                   "QEMU (pid %d) is still there %d ms after SIGKILL",
                   (int) banger_vmm_get_pid (vmm), KILL_WAIT_MS);
      return FALSE;
    }
  banger_qmp_close (BANGER_VMM_QEMU (vmm)->qmp);
  banger_vmm_has_exited (vmm);
  banger_vmm_set_state (vmm, BANGER_VMM_STATE_EXITED);
  g_unlink (BANGER_VMM_QEMU (vmm)->qmp_path);
  return TRUE;
}

/* Best effort, bounded: query-blockstats summed over the drives.  QEMU has
 * no cheap per-netdev byte counters for microvm NICs, so net stays 0. */
static void
add_block_stats (BangerVmmQemu *self, BangerVmmStats *stats)
{
  g_autoptr (JsonNode) ret = NULL;
  JsonArray *devices;

  if (!banger_qmp_is_connected (self->qmp))
    return;
  ret = banger_qmp_execute (self->qmp, "query-blockstats", NULL, BLOCKSTATS_TIMEOUT_MS, NULL,
                            NULL);
  if (ret == NULL || !JSON_NODE_HOLDS_ARRAY (ret))
    return;
  devices = json_node_get_array (ret);
  for (guint i = 0; i < json_array_get_length (devices); i++)
    {
      JsonNode *dev = json_array_get_element (devices, i);
      JsonNode *st;

      if (!JSON_NODE_HOLDS_OBJECT (dev))
        continue;
      st = json_object_get_member (json_node_get_object (dev), "stats");
      if (st == NULL || !JSON_NODE_HOLDS_OBJECT (st))
        continue;
      stats->block_read_bytes += (guint64) MAX (
          0, json_object_get_int_member_with_default (json_node_get_object (st), "rd_bytes", 0));
      stats->block_write_bytes += (guint64) MAX (
          0, json_object_get_int_member_with_default (json_node_get_object (st), "wr_bytes", 0));
    }
}

static gboolean
qemu_read_stats (BangerVmm *vmm, BangerVmmStats *out, GError **error)
{
  BangerVmmStats stats = { 0 };

  if (banger_vmm_get_pidfd (vmm) < 0 || banger_vmm_has_exited (vmm))
    {
      g_set_error_literal (error, BANGER_ERROR, BANGER_ERROR_NOT_FOUND,
                           "The VMM is not running");
      return FALSE;
    }
  if (!banger_vmm_proc_stats_read (banger_vmm_get_pid (vmm), &stats, error))
    return FALSE;
  add_block_stats (BANGER_VMM_QEMU (vmm), &stats);
  *out = stats;
  return TRUE;
}

/* ---------------------------------------------------------------- object */

static void
banger_vmm_qemu_finalize (GObject *object)
{
  BangerVmmQemu *self = BANGER_VMM_QEMU (object);

  banger_qmp_close (self->qmp);
  g_clear_object (&self->qmp);
  g_free (self->binary);
  g_free (self->accel_used);
  g_strfreev (self->argv);
  g_free (self->qmp_path);
  g_free (self->console_path);
  g_free (self->log_path);
  G_OBJECT_CLASS (banger_vmm_qemu_parent_class)->finalize (object);
}

static void
banger_vmm_qemu_class_init (BangerVmmQemuClass *klass)
{
  GObjectClass *oc = G_OBJECT_CLASS (klass);
  BangerVmmClass *vc = BANGER_VMM_CLASS (klass);

  oc->finalize = banger_vmm_qemu_finalize;
  vc->driver_name = "qemu";
  vc->prepare = qemu_prepare;
  vc->launch = qemu_launch;
  vc->configure = qemu_configure;
  vc->start = qemu_start;
  vc->pause = qemu_pause;
  vc->resume = qemu_resume;
  vc->stop = qemu_stop;
  vc->refresh_state = qemu_refresh_state;
  vc->kill = qemu_kill;
  vc->read_stats = qemu_read_stats;
}

static void
banger_vmm_qemu_init (BangerVmmQemu *self)
{
  self->qmp = banger_qmp_new ();
  self->launch_timeout_ms = DEFAULT_LAUNCH_TIMEOUT_MS;
}

BangerVmm *
banger_vmm_qemu_new (BangerVmmConfig *config)
{
  g_return_val_if_fail (config != NULL, NULL);
  return g_object_new (BANGER_TYPE_VMM_QEMU, "config", config, NULL);
}

void
banger_vmm_qemu_set_binary (BangerVmmQemu *self, const char *path)
{
  g_return_if_fail (BANGER_IS_VMM_QEMU (self));
  g_free (self->binary);
  self->binary = g_strdup (path);
}

void
banger_vmm_qemu_set_accel (BangerVmmQemu *self, BangerQemuAccel accel)
{
  g_return_if_fail (BANGER_IS_VMM_QEMU (self));
  self->accel = accel;
}

const char *
banger_vmm_qemu_get_accel_used (BangerVmmQemu *self)
{
  g_return_val_if_fail (BANGER_IS_VMM_QEMU (self), NULL);
  return self->accel_used;
}

void
banger_vmm_qemu_set_launch_timeout (BangerVmmQemu *self, guint timeout_ms)
{
  g_return_if_fail (BANGER_IS_VMM_QEMU (self));
  self->launch_timeout_ms = timeout_ms ? timeout_ms : DEFAULT_LAUNCH_TIMEOUT_MS;
}

const char *const *
banger_vmm_qemu_get_argv (BangerVmmQemu *self)
{
  g_return_val_if_fail (BANGER_IS_VMM_QEMU (self), NULL);
  return (const char *const *) self->argv;
}

const char *
banger_vmm_qemu_get_console_log (BangerVmmQemu *self)
{
  g_return_val_if_fail (BANGER_IS_VMM_QEMU (self), NULL);
  return self->console_path;
}
